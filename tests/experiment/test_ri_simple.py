"""Randomisation inference under simple (coin-flip) randomisation equals brute force.

The brute force below is independent of the library: it enumerates every one of the 2^J
assignments of the J clusters, gives each its probability prod_j p_b(j)^z_j (1 - p_b(j))^(1 - z_j),
and computes the blocked difference in means with pandas-free loops. Assignments that leave an
arm empty in a block have no statistic; the p-value is over the others (conditional on both
arms present in every block), as the library documents.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest

import fieldexp as fx
from fieldexp.design import Design
from fieldexp.errors import DesignError

PROBS = {"A": 1 / 3, "B": 0.5}


def data(seed: int = 0, clustered: bool = False) -> tuple[pd.DataFrame, Design]:
    rng = np.random.default_rng(seed)
    rows = []
    sizes = [1, 2, 1, 2, 1] if clustered else [1] * 7
    blocks = ["A", "A", "A", "B", "B", "A", "B"][: len(sizes)] if not clustered else list("AABBB")
    vid = 0
    for h, (m, b) in enumerate(zip(sizes, blocks, strict=True)):
        for _ in range(m):
            rows.append((vid, 10 * h + 1, b, rng.normal()))
            vid += 1
    df = pd.DataFrame(rows, columns=["v", "h", "b", "y"])
    design = Design(
        "v",
        blocks="b",
        clusters="h" if clustered else None,
        arms=[0, 1],
        block_probabilities={b: {0: 1 - p, 1: p} for b, p in PROBS.items()},
        scheme="simple",
    )
    # the first assignment seed that leaves both arms in every block (else no statistic)
    for k in range(100):
        z = design.assign(df, seed=100 * seed + k)
        if (z.groupby("b")["arm"].agg(["min", "max"]).to_numpy() == [0, 1]).all():
            break
    df = df.merge(z[["v", "arm"]], on="v")
    df["y"] = df["y"] + 0.8 * df["arm"]
    return df, design


def blocked_dim(df: pd.DataFrame, y: np.ndarray, z: np.ndarray) -> float:
    total = 0.0
    for b in sorted(df["b"].unique()):
        idx = np.flatnonzero(df["b"].to_numpy() == b)
        yy, zz = y[idx], z[idx]
        if zz.all() or not zz.any():
            return math.nan
        total += len(idx) / len(df) * (yy[zz == 1].mean() - yy[zz == 0].mean())
    return total


def brute_force(df: pd.DataFrame, tau0: float = 0.0) -> tuple[float, np.ndarray, np.ndarray]:
    clusters = sorted(df["h"].unique())
    block_of = df.groupby("h")["b"].first()
    p = np.array([PROBS[block_of[c]] for c in clusters])
    z_obs = df["arm"].to_numpy(float)
    y0 = df["y"].to_numpy() - tau0 * z_obs
    stats_, weights = [], []
    for bits in itertools.product([0, 1], repeat=len(clusters)):
        zc = np.array(bits)
        weights.append(float(np.prod(np.where(zc == 1, p, 1 - p))))
        z = zc[np.searchsorted(clusters, df["h"].to_numpy())].astype(float)
        stats_.append(blocked_dim(df, y0 + tau0 * z, z) - tau0)
    observed = blocked_dim(df, df["y"].to_numpy(), z_obs) - tau0
    return observed, np.array(stats_), np.array(weights)


def tail(observed: float, draws: np.ndarray, w: np.ndarray) -> float:
    ok = np.isfinite(draws)
    hit = np.abs(draws) >= abs(observed) - 1e-9 * (1 + abs(observed))
    return float(w[ok & hit].sum() / w[ok].sum())


@pytest.mark.parametrize("clustered", [False, True])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_exact_enumeration_equals_brute_force(clustered, seed):
    df, design = data(seed, clustered)
    df_h = df if clustered else df.assign(h=df["v"])
    observed, draws, w = brute_force(df_h)
    assert w.sum() == pytest.approx(1.0, abs=1e-15)
    res = fx.randomization_inference(df, "y", "arm", design, reps=10_000, seed=1)
    assert res.exact and res.reps == 2 ** df_h["h"].nunique()
    assert res.statistic == pytest.approx(observed, rel=1e-12)
    assert res.p_value == pytest.approx(tail(observed, draws, w), rel=1e-12)
    # the enumerated draws carry exactly the brute-force distribution
    ours = np.sort(res.draws[np.isfinite(res.draws)])
    np.testing.assert_allclose(ours, np.sort(draws[np.isfinite(draws)]), rtol=1e-10, atol=1e-12)
    assert np.sum(res.draw_weights) == pytest.approx(1.0, abs=1e-12)
    assert any("coin flip" in n for n in res.notes)


def test_monte_carlo_engines_agree_with_exact():
    df, design = data(3)
    exact = fx.randomization_inference(df, "y", "arm", design, reps=10_000, seed=1)
    for engine in ("dense", "grouped"):
        mc = fx.randomization_inference(df, "y", "arm", design, reps=20_000, seed=5, engine=engine)
        assert not mc.exact
        assert abs(mc.p_value - exact.p_value) < 4 * mc.p_value_se + 1e-3


def test_sharp_null_and_ci_under_simple():
    df, design = data(4)
    observed, draws, w = brute_force(df.assign(h=df["v"]), tau0=0.3)
    res = fx.randomization_inference(df, "y", "arm", design, reps=10_000, seed=1, sharp_null=0.3)
    assert res.p_value == pytest.approx(tail(observed, draws, w), rel=1e-12)
    ci = fx.randomization_inference(df, "y", "arm", design, reps=10_000, seed=1, ci=True)
    assert ci.ci_low < ci.estimate < ci.ci_high


def test_complete_design_refuses_a_coin_flip_assignment():
    df = pd.DataFrame({"v": range(10), "y": np.arange(10.0), "arm": [1] * 7 + [0] * 3})
    with pytest.raises(DesignError, match=r"needs Design\(\.\.\., scheme='simple'\)"):
        fx.randomization_inference(df, "y", "arm", Design("v"), reps=100, seed=1)
    res = fx.randomization_inference(
        df, "y", "arm", Design("v", scheme="simple"), reps=2000, seed=1
    )
    assert res.exact and res.reps == 2**10


def test_multi_arm_simple_replays_coin_flips_between_the_two_arms():
    rng = np.random.default_rng(8)
    df = pd.DataFrame({"v": range(9), "y": rng.normal(size=9)})
    df["arm"] = ["c", "t", "o", "t", "c", "o", "c", "t", "c"]
    design = Design("v", arms={"c": 0.5, "t": 0.2, "o": 0.3}, control="c", scheme="simple")
    res = fx.randomization_inference(df, "y", "arm", design, arm="t", reps=10_000, seed=1)
    pair = df[df["arm"] != "o"].reset_index(drop=True)
    q = 0.2 / 0.7  # probability of "t" given "t" or "c"
    y, z_obs = pair["y"].to_numpy(), (pair["arm"] == "t").to_numpy(float)
    observed = y[z_obs == 1].mean() - y[z_obs == 0].mean()
    draws, w = [], []
    for bits in itertools.product([0, 1], repeat=len(pair)):
        z = np.array(bits, dtype=float)
        w.append(q ** z.sum() * (1 - q) ** (len(z) - z.sum()))
        draws.append(y[z == 1].mean() - y[z == 0].mean() if 0 < z.sum() < len(z) else math.nan)
    assert res.exact and res.reps == 2 ** len(pair)
    assert res.p_value == pytest.approx(tail(observed, np.array(draws), np.array(w)), rel=1e-12)


def test_balance_replays_the_simple_design():
    df, design = data(5)
    df["x"] = np.arange(len(df)) % 3 + 0.5 * np.arange(len(df))
    bal = fx.balance(df, "arm", ["x"], design=design, reps=10_000, seed=1)
    assert bal.omnibus[0].exact and bal.omnibus[0].reps == 2**7
    # brute force F for one covariate with block indicators: regress z on x within blocks
    clusters = np.arange(len(df))
    p = df["b"].map(PROBS).to_numpy()

    def f_stat(z):
        xt = df["x"] - df.groupby("b")["x"].transform("mean")
        zt = z - pd.Series(z).groupby(df["b"]).transform("mean").to_numpy()
        ess = (xt @ zt) ** 2 / (xt @ xt)
        tss = zt @ zt
        df2 = len(df) - 2 - 1
        return (ess / 1) / ((tss - ess) / df2)

    obs = f_stat(df["arm"].to_numpy(float))
    num = den = 0.0
    for bits in itertools.product([0, 1], repeat=len(clusters)):
        z = np.array(bits, dtype=float)
        wt = float(np.prod(np.where(z == 1, p, 1 - p)))
        with np.errstate(divide="ignore", invalid="ignore"):
            f = f_stat(z)
        if np.isfinite(f):
            den += wt
            num += wt * (f >= obs - 1e-9 * (1 + obs))
    assert bal.omnibus[0].p_value == pytest.approx(num / den, rel=1e-10)


# ---------------------------------------------------------------- reps bounded by memory
def _small():
    df, design = data(6)
    df["x"] = np.arange(len(df), dtype=float)
    df["g"] = np.arange(len(df)) % 2
    return df, design


@pytest.mark.parametrize(
    "call",
    [
        lambda df, d: fx.randomization_inference(df, "y", "arm", d, reps=10**9, seed=1),
        lambda df, d: fx.balance(df, "arm", ["x"], design=d, reps=10**9, seed=1),
        lambda df, d: fx.heterogeneity(df, "y", "arm", "g", design=d, reps=10**9, seed=1),
    ],
    ids=["ri", "balance", "heterogeneity"],
)
def test_huge_reps_refused_before_any_allocation(call, monkeypatch):
    import tracemalloc

    from fieldexp.errors import SpecificationError

    df, design = _small()
    monkeypatch.delenv("FIELDEXP_MAX_MEMORY_GB", raising=False)
    tracemalloc.start()
    try:
        with pytest.raises(
            SpecificationError, match=r"1,000,000,000 draws; they would need about [\d,.]+ GB"
        ):
            call(df, design)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 50 * 2**20  # nothing near the draws' size was allocated


def test_memory_limit_is_configurable_and_states_what_fits(monkeypatch):
    from fieldexp.errors import SpecificationError

    df, design = _small()
    monkeypatch.setenv("FIELDEXP_MAX_MEMORY_GB", "0.001")  # about 1 MB
    with pytest.raises(
        SpecificationError,
        match=r"about 17\.5 MB of memory .* more than the 1\.0 MB allowed .* reps <= 5,835",
    ):
        fx.randomization_inference(df, "y", "arm", design, reps=100_000, seed=1)
    # below the limit it runs; enumeration (engine="exact") is bounded by the assignments
    assert fx.randomization_inference(df, "y", "arm", design, reps=5_000, seed=1).exact
    res = fx.randomization_inference(df, "y", "arm", design, reps=10**9, seed=1, engine="exact")
    assert res.exact and res.reps == 2**7
    monkeypatch.setenv("FIELDEXP_MAX_MEMORY_GB", "lots")
    with pytest.raises(SpecificationError, match="FIELDEXP_MAX_MEMORY_GB must be a positive"):
        fx.randomization_inference(df, "y", "arm", design, reps=100, seed=1)


def test_grouped_engine_refused_when_its_draws_do_not_fit(monkeypatch):
    from fieldexp.errors import SpecificationError

    rng = np.random.default_rng(1)
    df = pd.DataFrame({"v": range(400), "y": rng.integers(0, 50, 400).astype(float)})
    design = Design("v")
    df["arm"] = design.assign(df, seed=1)["arm"].to_numpy()
    monkeypatch.setenv("FIELDEXP_MAX_MEMORY_GB", "0.001")  # fits 2,000 draws, not 50 values each
    with pytest.raises(SpecificationError, match="engine='grouped': 2,000 draws"):
        fx.randomization_inference(df, "y", "arm", design, reps=2_000, seed=1, engine="grouped")
    # auto falls back to the dense engine, whose chunks keep memory flat
    res = fx.randomization_inference(df, "y", "arm", design, reps=2_000, seed=1)
    assert res.engine == "dense"
