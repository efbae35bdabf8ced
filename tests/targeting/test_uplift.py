"""fx.uplift: no leakage across folds, folds keep clusters whole, row order, learners, errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fieldexp.errors import DataError, SpecificationError
from fieldexp.targeting import uplift


def _sim(n: int = 1200, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    hh = np.arange(n) // 2
    block = hh % 3
    zh = rng.random(n // 2) < 0.5
    z = zh[hh].astype(float)
    x1, x2 = rng.random(n), rng.random(n)
    y = 0.3 + 0.2 * x2 + (0.02 + 0.3 * x1) * z + rng.normal(0, 0.3, n)
    return pd.DataFrame({"y": y, "z": z, "x1": x1, "x2": x2, "hh": hh, "block": block})


def _linear() -> object:
    from sklearn.linear_model import LinearRegression

    return LinearRegression()


def test_changing_one_outcome_leaves_its_fold_unchanged() -> None:
    d = _sim()
    a = uplift(d, "y", "z", ["x1", "x2"], clusters="hh", blocks="block", learner=_linear(), seed=1)
    d2 = d.copy()
    i = 17
    d2.loc[i, "y"] = d2.loc[i, "y"] + 25.0
    b = uplift(d2, "y", "z", ["x1", "x2"], clusters="hh", blocks="block", learner=_linear(), seed=1)
    k = a.folds.loc[i]
    same = a.folds == k
    pd.testing.assert_series_equal(a.scores[same], b.scores[same])
    assert not np.allclose(a.scores[~same], b.scores[~same])  # other folds did learn from it


def test_folds_keep_clusters_whole_and_balance_blocks() -> None:
    d = _sim()
    u = uplift(d, "y", "z", ["x1"], clusters="hh", blocks="block", learner=_linear(), seed=2)
    per_hh = d.assign(f=u.folds).groupby("hh")["f"].agg(["min", "max"])
    assert (per_hh["min"] == per_hh["max"]).all()
    counts = pd.crosstab(d["block"], u.folds)
    assert counts.max().max() - counts.min().min() <= 2  # 200 households per block, 5 folds


def test_row_order_does_not_change_scores() -> None:
    d = _sim(600, 3)
    a = uplift(d, "y", "z", ["x1", "x2"], clusters="hh", learner=_linear(), seed=4)
    shuffled = d.sample(frac=1.0, random_state=1)
    b = uplift(shuffled, "y", "z", ["x1", "x2"], clusters="hh", learner=_linear(), seed=4)
    pd.testing.assert_series_equal(a.scores, b.scores.loc[a.scores.index], rtol=1e-10)


def test_scores_find_the_heterogeneity_with_the_default_learner() -> None:
    d = _sim(3000, 5)
    u = uplift(d, "y", "z", ["x1", "x2"], clusters="hh", seed=5)
    assert u.scores.index.equals(d.index)
    assert np.corrcoef(u.scores, d["x1"])[0, 1] > 0.3
    assert "HistGradientBoosting" in u.learner


def test_per_contact_scores_divide_by_first_stage() -> None:
    d = _sim(800, 6)
    rng = np.random.default_rng(0)
    d["contact"] = ((d.z == 1) & (rng.random(len(d)) < 0.5)).astype(int)
    itt = uplift(d, "y", "z", ["x1"], clusters="hh", learner=_linear(), seed=1)
    cace = uplift(
        d, "y", "z", ["x1"], treatment="contact", clusters="hh", learner=_linear(), seed=1
    )
    assert cace.estimand == "CACE"
    np.testing.assert_allclose(cace.scores, itt.scores / cace.first_stage, rtol=1e-12)


def test_missing_rows_get_nan_scores_and_aggregates_only_in_to_frame() -> None:
    d = _sim(600, 7)
    d.loc[[5, 9], "x1"] = np.nan
    with pytest.warns(Warning, match="dropped 2"):
        u = uplift(d, "y", "z", ["x1"], clusters="hh", learner=_linear(), seed=1)
    assert u.scores.loc[[5, 9]].isna().all()
    assert u.scores.notna().sum() == len(d) - 2
    frame = u.to_frame()
    assert len(frame) == 5 and "hh" not in frame.columns


def test_errors() -> None:
    d = _sim(200, 8)
    with pytest.raises(SpecificationError, match="'learner'"):
        uplift(d, "y", "z", ["x1"], learner="magic", seed=1)
    with pytest.raises(SpecificationError, match="'folds'"):
        uplift(d, "y", "z", ["x1"], folds=1, seed=1)
    with pytest.raises(SpecificationError, match="'seed'"):
        uplift(d, "y", "z", ["x1"], seed=None)  # type: ignore[arg-type]
    d["txt"] = "a"
    with pytest.raises(DataError, match="numeric"):
        uplift(d, "y", "z", ["txt"], seed=1)
    with pytest.raises(DataError, match="constant"):
        uplift(d, "y", "z", ["x1"], clusters="block", seed=1)
