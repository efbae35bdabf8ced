"""learner="forest": EconML's causal forest, out of fold (runs where the optional extra is installed).

EconML is the optional extra ``fieldexp[forest]`` (also in the ``test`` extra, so CI runs these);
without it the module is skipped by ``importorskip``, never because fieldexp refuses.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("econml", reason="learner='forest' needs the optional extra fieldexp[forest]")

from fieldexp.targeting import uplift
from fieldexp.targeting.pipeline import evaluate_targeting


def _sim(n: int = 800, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    hh = np.arange(n) // 2
    z = (rng.random(n // 2) < 0.5)[hh].astype(float)
    x1, x2 = rng.random(n), rng.random(n)
    y = 0.3 + 0.2 * x2 + (0.02 + 0.6 * x1) * z + rng.normal(0, 0.2, n)
    return pd.DataFrame({"y": y, "z": z, "x1": x1, "x2": x2, "hh": hh})


def _forest(d: pd.DataFrame, seed: int = 3):  # type: ignore[no-untyped-def]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # EconML's own deprecation chatter
        return uplift(
            d, "y", "z", ["x1", "x2"], clusters="hh", folds=2, learner="forest", seed=seed
        )


def test_forest_scores_are_out_of_fold() -> None:
    d = _sim()
    a = _forest(d)
    assert a.learner == "econml CausalForestDML"
    assert a.scores.notna().all() and np.isfinite(a.scores).all()
    i = 11
    d2 = d.copy()
    d2.loc[i, "y"] += 50.0
    b = _forest(d2)
    same = a.folds == a.folds.loc[i]
    pd.testing.assert_series_equal(a.scores[same], b.scores[same])  # its own fold never saw it


def test_forest_is_deterministic_and_finds_the_heterogeneity() -> None:
    d = _sim(1200, 1)
    a = _forest(d, seed=5)
    b = _forest(d, seed=5)
    pd.testing.assert_series_equal(a.scores, b.scores)
    # the true effect grows with x1 (0.02 + 0.6 x1): the scores must follow it
    assert np.corrcoef(a.scores, d["x1"])[0, 1] > 0.5


def test_forest_through_the_targeting_pipeline() -> None:
    d = _sim(600, 2).assign(voter_id=lambda f: [f"V{i}" for i in range(len(f))])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = evaluate_targeting(
            d,
            "y",
            assignment="z",
            treatment=None,
            clusters="hh",
            covariates=["x1", "x2"],
            learner="forest",
            folds=2,
            seed=4,
            reps=20,
            rankings=["uplift", "random"],
        )
    assert res.uplift.learner == "econml CausalForestDML"
    assert [r.name for r in res.rates] == ["uplift", "random"]
