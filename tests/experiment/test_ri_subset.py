"""Randomisation inference for outcomes defined on a subset (issue 14 item 4).

Oracle: brute-force enumeration of every assignment of the FULL design (all blocks, whole
households, also those without a subset member), the statistic recomputed on the subset.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest

import fieldexp as fx
from fieldexp.errors import DataError, SpecificationError
from fieldexp.experiment.ri import randomization_inference

TOL = 1e-12  # enumeration: both sides are exact sums of the same numbers


def _data(seed: int = 3, blocks: tuple[str, ...] = ("a", "b", "c"), size: int = 4) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    hh = 0
    for block in blocks:
        for _ in range(size):  # `size` households per block, half treated
            for _ in range(int(rng.integers(1, 4))):
                rows.append({"block": block, "household": f"h{hh}"})
            hh += 1
    df = pd.DataFrame(rows)
    df["voter"] = [f"v{i:03d}" for i in range(len(df))]
    df["unregistered"] = (rng.random(len(df)) < 0.5).astype(int)
    df.loc[df.groupby("block").head(1).index, "unregistered"] = 1  # every block has some
    df["registered_after"] = (rng.random(len(df)) < 0.4).astype(float)
    df["contacted"] = 0
    return df


def _design() -> fx.Design:
    return fx.Design("voter", blocks="block", clusters="household")


def _statistic(df: pd.DataFrame, z_hh: dict[str, int], y: str, subset: np.ndarray) -> float:
    """Block-weighted difference in means on the subset rows; NaN when an arm is empty."""
    sub = df[subset].assign(z=df.loc[subset, "household"].map(z_hh))
    total = len(sub)
    est = 0.0
    for _, g in sub.groupby("block"):
        t, c = g.loc[g["z"] == 1, y], g.loc[g["z"] == 0, y]
        if len(t) == 0 or len(c) == 0:
            return math.nan
        est += len(g) / total * (t.mean() - c.mean())
    return est


def _brute_force(df: pd.DataFrame, y: str, subset: np.ndarray) -> list[float]:
    """The statistic under every assignment of the full design (2 of 4 households per block)."""
    per_block = []
    for _, g in df.groupby("block"):
        hhs = sorted(g["household"].unique())
        per_block.append([set(c) for c in itertools.combinations(hhs, len(hhs) // 2)])
    out = []
    for combo in itertools.product(*per_block):
        treated = set().union(*combo)
        z = {h: int(h in treated) for h in df["household"].unique()}
        out.append(_statistic(df, z, y, subset))
    return out


def _p_two_sided(draws: list[float], observed: float) -> float:
    d = np.array(draws)
    d = d[np.isfinite(d)]
    tol = 1e-9 * (1 + abs(observed))
    return float(np.mean(np.abs(d) >= abs(observed) - tol))


def test_subset_ri_equals_enumeration_of_the_full_design() -> None:
    df = _data()
    design = _design()
    assigned = design.assign(df, seed=5)
    df = df.merge(assigned[["voter", "arm"]], on="voter")
    subset = (df["unregistered"] == 1).to_numpy()
    r = randomization_inference(
        df, "registered_after", "arm", design, reps=10_000, seed=1, subset="unregistered"
    )
    assert r.exact
    z_obs = df.groupby("household")["arm"].first().astype(int).to_dict()
    observed = _statistic(df, z_obs, "registered_after", subset)
    draws = _brute_force(df, "registered_after", subset)
    assert r.estimate == pytest.approx(observed, abs=TOL)
    assert r.reps == len(draws) == 6**3  # every assignment of ALL households
    finite = np.sort(np.array([d for d in draws if math.isfinite(d)]))
    got = np.sort(np.asarray(r.draws)[np.isfinite(r.draws)])
    np.testing.assert_allclose(got, finite, rtol=0, atol=TOL)
    assert r.p_value == pytest.approx(_p_two_sided(draws, observed), abs=TOL)
    assert r.nobs == int(subset.sum())
    assert any("subset" in n for n in r.notes)
    # a Series, an array and a 0/1 column give the same result
    for s in (pd.Series(subset, index=df.index), subset, list(subset)):
        r2 = randomization_inference(
            df, "registered_after", "arm", design, reps=10_000, seed=1, subset=s
        )
        assert r2.p_value == r.p_value and r2.estimate == r.estimate


def test_subset_ri_with_empty_arms_in_some_draws() -> None:
    """Blocks whose subset sits in few households: some draws have no statistic."""
    df = _data(seed=11)
    # block c: only one household holds subset members
    c = df["block"] == "c"
    first = df.loc[c, "household"].iloc[0]
    df.loc[c, "unregistered"] = (df.loc[c, "household"] == first).astype(int)
    df.loc[(df["household"] == first), "unregistered"] = 1
    design = _design()
    df = df.merge(design.assign(df, seed=2)[["voter", "arm"]], on="voter")
    subset = (df["unregistered"] == 1).to_numpy()
    z_obs = df.groupby("household")["arm"].first().astype(int).to_dict()
    observed = _statistic(df, z_obs, "registered_after", subset)
    if math.isfinite(observed):  # block c has one subset household: always an empty arm
        pytest.fail("the fixture should leave block c's subset in one arm")
    with pytest.raises(DataError, match="observed statistic is undefined"):
        randomization_inference(
            df, "registered_after", "arm", design, reps=10_000, seed=1, subset=subset
        )


def test_subset_ri_differs_from_replaying_the_subset_alone() -> None:
    """Replaying only the subset's households is another design (what the fix replaces).

    Blocks of six households, three treated; the subset sits in two households of block a.
    The full design puts both of them in one arm with probability 2 x 4/20 (those draws have
    no statistic); a design re-drawn on the subset alone splits them one and one always.
    """
    df = _data(seed=7, blocks=("a", "b"), size=6)
    hh_a = sorted(df.loc[df["block"] == "a", "household"].unique())
    df["unregistered"] = np.where(df["block"] == "a", df["household"].isin(hh_a[:2]).astype(int), 1)
    design = _design()
    for seed in range(50):  # an observed assignment that splits block a's subset
        arm = design.assign(df, seed=seed)[["voter", "arm"]]
        m = df.merge(arm, on="voter")
        if m.loc[m["household"].isin(hh_a[:2])].groupby("household")["arm"].first().nunique() == 2:
            df = m
            break
    else:  # pragma: no cover - 50 seeds always give one
        pytest.fail("no assignment splits block a's subset")
    subset = (df["unregistered"] == 1).to_numpy()
    full = randomization_inference(
        df, "registered_after", "arm", design, reps=10_000, seed=1, subset=subset
    )
    draws = _brute_force(df, "registered_after", subset)
    assert full.reps == len(draws) == 20 * 20
    assert int(np.isnan(draws).sum()) == int((~np.isfinite(full.draws)).sum()) == 8 * 20
    assert full.p_value == pytest.approx(_p_two_sided(draws, full.estimate), abs=TOL)
    got = np.sort(np.asarray(full.draws)[np.isfinite(full.draws)])
    want = np.sort(np.array(draws)[np.isfinite(draws)])
    np.testing.assert_allclose(got, want, rtol=0, atol=TOL)
    alone = randomization_inference(
        df[subset], "registered_after", "arm", design, reps=10_000, seed=1
    )
    assert alone.reps != full.reps


def test_subset_cace_equals_enumeration() -> None:
    df = _data(seed=5)
    design = _design()
    df = df.merge(design.assign(df, seed=4)[["voter", "arm"]], on="voter")
    rng = np.random.default_rng(1)
    df["contacted"] = ((df["arm"] == 1) & (rng.random(len(df)) < 0.7)).astype(int)
    subset = (df["unregistered"] == 1).to_numpy()
    r = randomization_inference(
        df,
        "registered_after",
        "arm",
        design,
        estimand="CACE",
        treatment="contacted",
        reps=10_000,
        seed=1,
        subset=subset,
    )
    z_obs = df.groupby("household")["arm"].first().astype(int).to_dict()
    scale = _statistic(df, z_obs, "contacted", subset)
    observed = _statistic(df, z_obs, "registered_after", subset) / scale
    draws = [d / scale for d in _brute_force(df, "registered_after", subset)]
    assert r.estimate == pytest.approx(observed, abs=TOL)
    assert r.p_value == pytest.approx(_p_two_sided(draws, observed), abs=TOL)


@pytest.mark.parametrize(
    ("subset", "error", "match"),
    [
        ("nope", SpecificationError, "names column 'nope'"),
        ([True, False], SpecificationError, "one value per row"),
        (3.5, SpecificationError, "column name or a boolean array"),
        ("household", DataError, "boolean"),
        ("none_set", DataError, "subset is empty"),
        ("with_na", DataError, "missing values"),
    ],
)
def test_bad_subsets_are_refused(subset, error, match) -> None:
    df = _data()
    design = _design()
    df = df.merge(design.assign(df, seed=5)[["voter", "arm"]], on="voter")
    df["none_set"] = 0
    df["with_na"] = pd.array([1] * (len(df) - 1) + [None], dtype="Int64")
    with pytest.raises(error, match=match):
        randomization_inference(df, "registered_after", "arm", design, seed=1, subset=subset)


def test_subset_ri_is_row_order_independent() -> None:
    df = _data(seed=8)
    design = _design()
    df = df.merge(design.assign(df, seed=3)[["voter", "arm"]], on="voter")
    a = randomization_inference(
        df, "registered_after", "arm", design, reps=10_000, seed=1, subset="unregistered"
    )
    shuffled = df.sample(frac=1, random_state=4)
    b = randomization_inference(
        shuffled, "registered_after", "arm", design, reps=10_000, seed=1, subset="unregistered"
    )
    assert a.p_value == b.p_value and a.estimate == pytest.approx(b.estimate, abs=TOL)


@pytest.mark.parametrize("engine", ["dense", "grouped"])
def test_subset_ri_monte_carlo_agrees_with_an_independent_simulation(engine) -> None:
    """Too many assignments to enumerate: the draws of each engine against a plain numpy replay
    of the full design (4,000 draws each; within 4.5 Monte Carlo standard errors)."""
    df = _data(seed=21, blocks=tuple("abcdef"), size=10)
    design = _design()
    df = df.merge(design.assign(df, seed=6)[["voter", "arm"]], on="voter")
    subset = (df["unregistered"] == 1).to_numpy()
    reps = 4000
    r = randomization_inference(
        df, "registered_after", "arm", design, reps=reps, seed=3, subset=subset, engine=engine
    )
    assert not r.exact
    # independent replay: half of each block's households, statistic on the subset
    hh_codes, hh_ids = pd.factorize(df["household"], sort=True)
    hh_block = df.groupby("household")["block"].first().loc[hh_ids].to_numpy()
    y = df["registered_after"].to_numpy()
    blk = df["block"].to_numpy()
    rng = np.random.default_rng(99)
    blocks = sorted(set(hh_block))
    sub_blocks = {b: subset & (blk == b) for b in blocks}
    n_sub = subset.sum()
    draws = np.empty(reps)
    for k in range(reps):
        z_hh = np.zeros(len(hh_ids), dtype=bool)
        for b in blocks:
            idx = np.flatnonzero(hh_block == b)
            z_hh[rng.choice(idx, size=len(idx) // 2, replace=False)] = True
        z = z_hh[hh_codes]
        est = 0.0
        for b in blocks:
            m = sub_blocks[b]
            t, c = m & z, m & ~z
            if not t.any() or not c.any():
                est = math.nan
                break
            est += m.sum() / n_sub * (y[t].mean() - y[c].mean())
        draws[k] = est
    p_hand = _p_two_sided(list(draws), r.estimate)
    se = math.sqrt(2 * max(p_hand * (1 - p_hand), 0.01) / reps)
    assert abs(r.p_value - p_hand) < 4.5 * se
    # the randomisation distributions agree too (their spread)
    ok = np.isfinite(draws)
    assert np.std(r.draws[np.isfinite(r.draws)]) == pytest.approx(np.std(draws[ok]), rel=0.08)
