"""adjust_pvalues: Holm and BH against statsmodels; Westfall-Young from aligned RI draws."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.multitest import multipletests

import fieldexp as fx
from fieldexp.design import Design
from fieldexp.errors import SpecificationError


@pytest.mark.parametrize("method, sm", [("holm", "holm"), ("bh", "fdr_bh")])
def test_against_statsmodels(method, sm):
    rng = np.random.default_rng(1)
    for _ in range(20):
        p = rng.random(int(rng.integers(1, 12))) ** 2
        got = fx.adjust_pvalues(list(p), method=method)
        np.testing.assert_allclose(got.adjusted, multipletests(p, method=sm)[1], rtol=1e-12)


def experiment(seed=0):
    rng = np.random.default_rng(seed)
    n = 400
    df = pd.DataFrame({"v": range(n), "h": np.arange(n) // 2, "b": np.arange(n) // 100})
    design = Design("v", blocks="b", clusters="h")
    df = df.merge(design.assign(df, seed=seed)[["v", "arm"]], on="v")
    base = rng.normal(size=n)
    df["turnout"] = base + 0.25 * df["arm"]
    df["turnout_copy"] = df["turnout"] * 2.0 + 1.0  # same test statistic ranks
    df["registered"] = rng.normal(size=n) + 0.1 * df["arm"]
    df["noise"] = rng.normal(size=n)
    return df, design


def test_westfall_young_uses_the_joint_distribution():
    df, design = experiment()
    res = [
        fx.randomization_inference(df, y, "arm", design, reps=2000, seed=11, engine="dense")
        for y in ("turnout", "turnout_copy")
    ]
    assert res[0].draw_key == res[1].draw_key
    wy = fx.adjust_pvalues(res, method="westfall-young")
    # perfectly dependent tests: no penalty, unlike Holm
    np.testing.assert_allclose(wy.adjusted, [res[0].p_value, res[1].p_value], atol=1e-12)
    assert fx.adjust_pvalues(res, method="holm").adjusted[0] == pytest.approx(
        min(1.0, 2 * min(r.p_value for r in res))
    )


def test_westfall_young_brute_force_and_bounds():
    df, design = experiment(seed=2)
    res = {
        y: fx.randomization_inference(df, y, "arm", design, reps=1500, seed=5, engine="dense")
        for y in ("turnout", "registered", "noise")
    }
    wy = fx.adjust_pvalues(res, method="westfall-young")
    raw = np.array([r.p_value for r in res.values()])
    bonferroni = np.minimum(1, 3 * raw)
    assert np.all(wy.adjusted >= raw - 1e-12)
    assert np.all(wy.adjusted <= bonferroni + 0.02)
    # brute force single-step min-p bound for the smallest p: share of draws whose min p* <= p_min
    draws = np.column_stack([r.draws for r in res.values()])
    pstar = np.column_stack(
        [
            (np.abs(d)[None, :] >= np.abs(d)[:, None] - 1e-9 * (1 + np.abs(d)[:, None])).mean(
                axis=1
            )
            for d in draws.T
        ]
    )
    k = int(np.argmin(raw))
    expected = float(np.mean(pstar.min(axis=1) <= raw[k] + 1e-12))
    assert wy.adjusted[k] == pytest.approx(expected, abs=1e-12)
    assert list(wy.to_frame().columns) == ["test", "p_value", "p_adjusted", "method"]
    assert "westfall-young" in str(wy)


def test_westfall_young_needs_aligned_draws():
    df, design = experiment()
    a = fx.randomization_inference(df, "turnout", "arm", design, reps=300, seed=1, engine="dense")
    b = fx.randomization_inference(
        df, "registered", "arm", design, reps=300, seed=2, engine="dense"
    )
    with pytest.raises(SpecificationError, match="aligned draws"):
        fx.adjust_pvalues([a, b], method="westfall-young")
    with pytest.raises(SpecificationError, match="aligned draws"):
        fx.adjust_pvalues([0.1, 0.2], method="westfall-young")
    with pytest.raises(SpecificationError, match="'method' parameter"):
        fx.adjust_pvalues([0.1], method="bonf")
    with pytest.raises(SpecificationError, match="no p-value"):
        fx.adjust_pvalues([1.5])
