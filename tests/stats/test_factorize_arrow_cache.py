"""Arrow text columns are factorized by Arrow, once per column object: the codes equal
``pandas.factorize``'s, and an edited column (pandas gives it a new immutable array) is
factorized afresh, never served stale codes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fieldexp.stats.groups import arrow_text, factorize


def _ids(n: int, seed: int) -> pd.Series:
    rng = np.random.default_rng(seed)
    return pd.Series([f"H{i:05d}" for i in rng.integers(0, n // 3, n)], dtype="str")


def test_arrow_codes_equal_pandas_factorize_of_the_same_labels() -> None:
    s = _ids(5000, 1)
    g = factorize(s)
    codes, uniques = pd.factorize(s.to_numpy(dtype=object), sort=False)
    np.testing.assert_array_equal(g.codes, codes)
    assert g.n_groups == len(uniques)
    np.testing.assert_array_equal(g.counts, np.bincount(codes))
    # the same column again: the same (shared, read-only) codes
    again = factorize(s)
    assert again is g
    assert not again.codes.flags.writeable
    with pytest.raises(ValueError):
        again.codes[0] = 1


def test_a_column_edited_in_place_is_factorized_afresh() -> None:
    frame = pd.DataFrame({"h": _ids(3000, 2)})
    before = factorize(frame["h"])
    frame.loc[frame.index[:10], "h"] = "NEW"
    after = factorize(frame["h"])
    codes, _ = pd.factorize(frame["h"].to_numpy(dtype=object), sort=False)
    np.testing.assert_array_equal(after.codes, codes)
    assert after.n_groups != before.n_groups or not np.array_equal(after.codes, before.codes)


def test_subsets_copies_and_missing_values() -> None:
    s = _ids(2000, 3)
    sub = s.iloc[::2]
    np.testing.assert_array_equal(
        factorize(sub).codes, pd.factorize(sub.to_numpy(dtype=object), sort=False)[0]
    )
    assert factorize(s.copy()) is factorize(s)  # a copy shares the immutable Arrow array
    # a column with missing values keeps the general path (callers drop them first)
    assert arrow_text(pd.Series(["a", None, "b", "a"], dtype="str")) is None
    assert arrow_text(pd.Series(["a", "b"], dtype=object)) is None


def test_codes_of_a_dead_column_are_not_kept() -> None:
    import gc

    from fieldexp.stats import groups

    s = _ids(1000, 4)
    key = id(s.array._pa_array)
    factorize(s)
    assert key in groups._ARROW_CODES
    del s
    gc.collect()
    assert key not in groups._ARROW_CODES
