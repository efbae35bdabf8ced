"""adjust_pvalues: Holm and BH against statsmodels; Westfall-Young from aligned RI draws."""

from __future__ import annotations

import itertools

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


# ---------------------------------------------------------------- one replay for a family
def coin_flip_experiment(seed=0):
    """8 voters in two blocks, coin flips with probabilities 1/3 and 1/2 (256 assignments)."""
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"v": range(8), "b": list("AAAABBBB")})
    design = Design(
        "v",
        blocks="b",
        arms=[0, 1],
        block_probabilities={"A": {0: 2 / 3, 1: 1 / 3}, "B": {0: 0.5, 1: 0.5}},
        scheme="simple",
    )
    for k in range(100):
        z = design.assign(df, seed=seed * 100 + k)
        if (z.groupby("b")["arm"].agg(["min", "max"]).to_numpy() == [0, 1]).all():
            break
    df = df.merge(z[["v", "arm"]], on="v")
    df["y1"] = rng.normal(size=8) + 1.0 * df["arm"]
    df["y2"] = rng.normal(size=8)
    df["y3"] = df["y1"] + 0.3 * rng.normal(size=8)
    return df, design


def brute_force_wy(df, outcomes):
    """Independent: every assignment, its probability, blocked DiM per outcome, then the
    free step-down min-p (Westfall & Young 1993, algorithm 2.8) with loops."""
    prob_of = {"A": 1 / 3, "B": 0.5}
    p = df["b"].map(prob_of).to_numpy()
    b = df["b"].to_numpy()

    def dim(y, z):
        tot = 0.0
        for blk in ("A", "B"):
            m = b == blk
            if z[m].all() or not z[m].any():
                return np.nan
            tot += m.mean() * (y[m][z[m] == 1].mean() - y[m][z[m] == 0].mean())
        return tot

    rows, w = [], []
    for bits in itertools.product([0, 1], repeat=len(df)):
        z = np.array(bits)
        w.append(float(np.prod(np.where(z == 1, p, 1 - p))))
        rows.append([dim(df[o].to_numpy(), z) for o in outcomes])
    T, w = np.abs(np.array(rows)), np.array(w)
    ok = np.isfinite(T).all(axis=1)
    T, w = T[ok], w[ok] / w[ok].sum()
    obs = np.abs([dim(df[o].to_numpy(), df["arm"].to_numpy()) for o in outcomes])
    raw = np.array([w[T[:, j] >= obs[j] - 1e-9].sum() for j in range(len(outcomes))])
    pstar = np.array(
        [[w[T[:, j] >= T[r, j] - 1e-9].sum() for j in range(len(outcomes))] for r in range(len(T))]
    )
    order = np.argsort(raw)
    adj = np.zeros(len(outcomes))
    for k in range(len(outcomes)):
        rest = order[k:]
        q = pstar[:, rest].min(axis=1)
        adj[order[k]] = w[q <= raw[order[k]] + 1e-12].sum()
    running = 0.0
    for j in order:
        running = max(running, adj[j])
        adj[j] = min(running, 1.0)
    return raw, adj


def test_family_exact_westfall_young_equals_brute_force():
    from fieldexp.experiment.ri import randomization_inference_family

    df, design = coin_flip_experiment(3)
    outcomes = ["y1", "y2", "y3"]
    fam = randomization_inference_family(df, outcomes, "arm", design, reps=10_000, seed=1)
    assert all(r.exact and r.engine == "exact" for r in fam)
    assert len({r.draw_key for r in fam}) == 1
    raw, adj = brute_force_wy(df, outcomes)
    np.testing.assert_allclose([r.p_value for r in fam], raw, rtol=1e-12)
    for r in fam:  # each equals the single-outcome analysis
        single = fx.randomization_inference(df, r.outcome, "arm", design, reps=10_000, seed=1)
        assert single.p_value == pytest.approx(r.p_value, rel=1e-12)
    wy = fx.adjust_pvalues(list(fam), method="westfall-young")
    np.testing.assert_allclose(wy.adjusted, adj, rtol=1e-12)


def test_family_grouped_engine_gives_aligned_draws():
    from fieldexp.experiment.ri import randomization_inference_family

    rng = np.random.default_rng(4)
    n = 2000
    df = pd.DataFrame({"v": range(n), "h": np.arange(n) // 2, "b": np.arange(n) // 500})
    design = Design("v", blocks="b", clusters="h")
    df = df.merge(design.assign(df, seed=3)[["v", "arm"]], on="v")
    df["voted"] = (rng.random(n) < 0.4 + 0.05 * df["arm"]).astype(float)
    df["voted_copy"] = df["voted"]
    df["registered"] = (rng.random(n) < 0.7).astype(float)
    fam = randomization_inference_family(
        df, ["voted", "voted_copy", "registered"], "arm", design, reps=3000, seed=2
    )
    assert {r.engine for r in fam} == {"grouped"} and len({r.draw_key for r in fam}) == 1
    np.testing.assert_array_equal(fam[0].draws, fam[1].draws)
    wy = fx.adjust_pvalues(list(fam), method="westfall-young")
    # identical tests carry no penalty between them; the adjusted p never drops below the raw
    assert wy.adjusted[0] == pytest.approx(wy.adjusted[1])
    assert np.all(wy.adjusted >= np.array([r.p_value for r in fam]) - 1e-12)
    # and each p-value is a sample of the same distribution as the single-outcome dense test
    for r in fam:
        dense = fx.randomization_inference(
            df, r.outcome, "arm", design, reps=3000, seed=9, engine="dense"
        )
        assert abs(dense.p_value - r.p_value) < 4 * np.hypot(dense.p_value_se, r.p_value_se) + 2e-3
    with pytest.raises(SpecificationError, match="non-empty list of distinct column names"):
        randomization_inference_family(df, ["voted", "voted"], "arm", design, seed=1)
