"""The voter panel's Arrow lookups (run heads of a history sorted by voter, ids equal row
for row, a small election dictionary) give the panel the general lookups give: sorted,
unsorted and shuffled histories, missing ids, duplicated voter-election rows."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from fieldexp.diffindiff import voter_panel
from fieldexp.diffindiff.panels import _duplicated_pairs, _unique_in_order, positions
from fieldexp.errors import DataError

ELECTIONS = ["general_2016_11_08", "general_2018_11_06", "general_2020_11_03"]


def _inputs(n: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    vids = [f"V{i:05d}" for i in range(n)]
    rows = [
        (v, e, e.split("_", 1)[1].replace("_", "-"), "general", int(rng.random() < 0.5))
        for v in vids
        for e in ELECTIONS
        if rng.random() < 0.9
    ]
    hist = pd.DataFrame(
        rows, columns=["voter_id", "election_id", "election_date", "election_type", "voted"]
    ).astype({"voter_id": "str", "election_id": "str"})
    hist["election_date"] = pd.to_datetime(hist["election_date"])
    voters = pd.DataFrame(
        {"voter_id": [*vids, "V99999"], "household_id": [f"H{i // 2}" for i in range(n + 1)]}
    ).astype("str")
    picked = rng.choice(n, n // 3)
    contacts = pd.DataFrame(
        {
            "unit_id": [vids[i] for i in picked],
            "unit_level": "voter",
            "timestamp": pd.to_datetime("2018-10-01")
            + pd.to_timedelta(rng.integers(0, 900, len(picked)), unit="D"),
            "attempted": 1,
            "contacted": 1,
        }
    ).astype({"unit_id": "str", "unit_level": "str"})
    return hist, voters, contacts


def _canonical(df: pd.DataFrame) -> pd.DataFrame:
    return df.sort_values(["voter_id", "period"]).reset_index(drop=True)


@pytest.mark.parametrize("seed", [0, 1])
def test_sorted_shuffled_and_object_histories_give_the_same_panel(seed: int) -> None:
    hist, voters, contacts = _inputs(400, seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        base = voter_panel(hist, contacts, voters=voters)
        shuffled = voter_panel(
            hist.sample(frac=1.0, random_state=seed), contacts.iloc[::-1], voters=voters
        )
        as_object = voter_panel(
            hist.astype({"voter_id": object, "election_id": object}),
            contacts.astype({"unit_id": object}),
            voters=voters.astype(object),
        )
    a, b = _canonical(base.data), _canonical(shuffled.data)
    c = _canonical(as_object.data)
    for col in ("voted", "cohort", "treated", "period"):
        np.testing.assert_array_equal(a[col].to_numpy(), b[col].to_numpy())
        np.testing.assert_array_equal(a[col].to_numpy(), c[col].to_numpy())
    assert a["voter_id"].tolist() == b["voter_id"].tolist() == c["voter_id"].tolist()
    assert base.report == shuffled.report == as_object.report


def test_duplicated_voter_election_rows_are_found_in_any_order() -> None:
    hist, voters, contacts = _inputs(50, 3)
    twice = pd.concat([hist, hist.iloc[[7, 20]]], ignore_index=True)
    for frame in (twice, twice.sample(frac=1.0, random_state=2)):
        expected = frame.duplicated(["voter_id", "election_id"], keep=False).to_numpy()
        np.testing.assert_array_equal(_duplicated_pairs(frame), expected)
        with pytest.raises(DataError, match="4 duplicated voter-election rows"):
            voter_panel(frame, contacts, voters=voters)
    # a voter in two runs (not sorted) with different elections is no duplicate
    split = pd.concat([hist.iloc[:3], hist.iloc[10:], hist.iloc[3:10]], ignore_index=True)
    np.testing.assert_array_equal(
        _duplicated_pairs(split), split.duplicated(["voter_id", "election_id"], keep=False)
    )


def test_lookups_with_missing_and_unknown_ids() -> None:
    keys = pd.Index(pd.array(["a", "b", "c", "d"], dtype="str"))
    values = pd.Series(["b", "b", None, None, "z", "a", "a", "d"], dtype="str")
    expected = keys.get_indexer(pd.Index(values.to_numpy(dtype=object)))
    np.testing.assert_array_equal(positions(keys, values), expected)
    np.testing.assert_array_equal(positions(keys, pd.Series(keys)), np.arange(4))
    assert list(_unique_in_order(values)) == list(pd.unique(values))
    sorted_values = pd.Series(["a", "a", "b", "c", "c"], dtype="str")
    assert list(_unique_in_order(sorted_values)) == ["a", "b", "c"]
