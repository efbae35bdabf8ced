"""Saturation (two-stage) designs: assignment, brute-force enumeration, RI, spillover estimates."""

from __future__ import annotations

import itertools
import math
from collections import Counter

import numpy as np
import pandas as pd
import pytest

import fieldexp as fx
from fieldexp.design.saturation import SaturationDesign
from fieldexp.errors import DesignError, SpecificationError
from fieldexp.experiment.saturation_ri import saturation_ri

SIZES = (2, 2, 4, 4)  # households per neighbourhood: unequal, so assignments are not equally likely


def _voters(sizes: tuple[int, ...] = SIZES, seed: int = 0) -> pd.DataFrame:
    """Two voters per household (targeted + housemate); household ids deliberately unsorted."""
    rng = np.random.default_rng(seed)
    rows = []
    hh = 0
    for c, size in enumerate(sizes):
        for _ in range(size):
            for tgt in (1, 0):
                rows.append({"nbhd": f"N{c}", "hh": f"H{97 - hh:02d}", "targeted": tgt})
            hh += 1
    d = pd.DataFrame(rows)
    d["y"] = rng.normal(0, 1, len(d)).round(3)
    return d


def _with_assignment(d: pd.DataFrame, design: SaturationDesign, seed: int) -> pd.DataFrame:
    a = design.assign(d, seed=seed)
    return d.merge(a[["hh", "saturation", "arm"]], on="hh")


def _brute_force(d: pd.DataFrame) -> list[tuple[dict[str, float], set[str], float]]:
    """All (saturation per neighbourhood, treated households, probability), written out."""
    nbhds = sorted(d["nbhd"].unique())
    hh_of = {n: sorted(d.loc[d["nbhd"] == n, "hh"].unique()) for n in nbhds}
    out = []
    allocations = list(itertools.combinations(nbhds, 2))  # which two get saturation 0.5
    for saturated in allocations:
        choices = [list(itertools.combinations(hh_of[n], len(hh_of[n]) // 2)) for n in saturated]
        n_stage2 = math.prod(len(c) for c in choices)
        for picks in itertools.product(*choices):
            sat = {n: (0.5 if n in saturated else 0.0) for n in nbhds}
            treated = {h for pick in picks for h in pick}
            out.append((sat, treated, 1 / len(allocations) / n_stage2))
    return out


def _contrast(d: pd.DataFrame, sat: dict[str, float], treated: set[str], effect: str) -> float:
    s = d["nbhd"].map(sat)
    t = d["hh"].isin(treated)
    if effect == "between":
        group, pure = (s > 0) & ~t, s == 0
    else:
        member = d["targeted"] == (1 if effect == "direct" else 0)
        group, pure = (s > 0) & t & member, (s == 0) & member
    return float(d.loc[group, "y"].mean() - d.loc[pure, "y"].mean())


DESIGN = SaturationDesign("hh", "nbhd", {0: 2, 0.5: 2})


def test_enumeration_equals_brute_force() -> None:
    d = _voters()
    sats, treats, probs = DESIGN.enumerate(d)
    units = DESIGN.units(d)
    brute = _brute_force(d)
    assert len(probs) == len(brute) == DESIGN.n_assignments(units)
    assert probs.sum() == pytest.approx(1.0, rel=1e-14)
    ours = {}
    for s, t, p in zip(sats, treats, probs, strict=True):
        key = (tuple(s), frozenset(units.unit_ids[t]))
        ours[key] = ours.get(key, 0.0) + p
    for sat, treated, p in brute:
        key = (tuple(sat[n] for n in sorted(sat)), frozenset(treated))
        assert ours[key] == pytest.approx(p, rel=1e-12)
    # every household canvassed with probability E[s] = 0.25, exactly
    np.testing.assert_allclose(probs @ treats, 0.25, rtol=1e-12)


def test_draws_follow_the_enumerated_distribution() -> None:
    d = _voters()
    units = DESIGN.units(d)
    sats, treats, probs = DESIGN.enumerate(d)
    exact = {(tuple(s), tuple(t)): p for s, t, p in zip(sats, treats, probs, strict=True)}
    n = 20_000
    ds, dt = DESIGN.draw(units, n, np.random.default_rng(1))
    freq = Counter((tuple(s), tuple(t)) for s, t in zip(ds, dt, strict=True))
    assert set(freq) <= set(exact)
    for key, p in exact.items():
        assert abs(freq[key] / n - p) <= 5 * math.sqrt(p * (1 - p) / n), key


def test_assign_is_row_order_free_and_seeded() -> None:
    d = _voters()
    a = DESIGN.assign(d, seed=5)
    b = DESIGN.assign(d.sample(frac=1, random_state=2).reset_index(drop=True), seed=5)
    pd.testing.assert_frame_equal(a, b)
    per = a.groupby("nbhd").agg(s=("saturation", "first"), t=("arm", "sum"), n=("arm", "size"))
    assert sorted(per["s"]) == [0, 0, 0.5, 0.5]
    assert (per["t"] == per["s"] * per["n"]).all()


@pytest.mark.parametrize("effect", ["direct", "within", "between"])
def test_ri_exact_equals_brute_force_and_draws_agree(effect: str) -> None:
    d = _with_assignment(_voters(seed=3), DESIGN, seed=11)
    observed = _contrast(
        d,
        dict(zip(d["nbhd"], d["saturation"], strict=True)),
        set(d.loc[d["arm"] == 1, "hh"]),
        effect,
    )
    brute = _brute_force(d)
    p_brute = sum(
        p
        for sat, treated, p in brute
        if abs(_contrast(d, sat, treated, effect)) >= abs(observed) - 1e-12
    )
    kw = dict(saturation="saturation", targeted="targeted", effect=effect, seed=4)
    exact = saturation_ri(d, "y", "arm", DESIGN, reps=1000, **kw)  # type: ignore[arg-type]
    assert exact.exact and exact.reps == len(brute)
    assert exact.statistic == pytest.approx(observed, rel=1e-12)
    assert exact.p_value == pytest.approx(p_brute, rel=1e-12)
    drawn = saturation_ri(d, "y", "arm", DESIGN, reps=4000, exact=False, **kw)  # type: ignore[arg-type]
    assert not drawn.exact
    assert abs(drawn.p_value - p_brute) <= 4 * math.sqrt(p_brute * (1 - p_brute) / 4000) + 1e-9


def test_spillover_saturation_estimates_match_ri_statistics() -> None:
    d = _with_assignment(
        _voters(sizes=(3, 4, 4, 2, 4, 3), seed=8),
        _six := SaturationDesign("hh", "nbhd", {0: 2, 0.5: 2, 1: 2}),
        seed=3,
    )
    res = fx.spillover(
        d, "y", "arm", targeted="targeted", household="hh", clusters="nbhd", saturation="saturation"
    )
    assert res.between is not None and res.direct is not None and res.spillover is not None
    names = [n for n, _ in res.saturation_effects]
    assert "direct@0.5" in names and "within@1" in names and "between@0.5" in names
    assert "between@1" not in names  # nobody is left out at full saturation
    for effect, est in (
        ("direct", res.direct),
        ("within", res.spillover),
        ("between", res.between),
    ):
        ri = saturation_ri(
            d,
            "y",
            "arm",
            _six,
            saturation="saturation",
            targeted="targeted",
            effect=effect,
            reps=50,
            seed=1,
            exact=False,
        )
        assert ri.statistic == pytest.approx(est.estimate, rel=1e-10, abs=1e-12)
        assert est.nclusters is not None
    at = dict(res.saturation_effects)["between@0.5"]
    ri = saturation_ri(
        d,
        "y",
        "arm",
        _six,
        saturation="saturation",
        effect="between",
        level=0.5,
        reps=50,
        seed=1,
        exact=False,
    )
    assert ri.statistic == pytest.approx(at.estimate, rel=1e-10, abs=1e-12)


def test_saturation_hostile_inputs() -> None:
    d = _with_assignment(_voters(), DESIGN, seed=1)
    kw = dict(targeted="targeted", household="hh")
    with pytest.raises(SpecificationError, match="needs 'clusters'"):
        fx.spillover(d, "y", "arm", saturation="saturation", **kw)  # type: ignore[arg-type]
    bad = d.copy()
    bad.loc[bad["saturation"] == 0, "arm"] = 1
    with pytest.raises(DesignError, match="pure-control"):
        fx.spillover(bad, "y", "arm", clusters="nbhd", saturation="saturation", **kw)  # type: ignore[arg-type]
    bad = d.copy()
    bad.loc[0, "saturation"] = 0.7
    with pytest.raises(DesignError, match="constant within each cluster"):
        fx.spillover(bad, "y", "arm", clusters="nbhd", saturation="saturation", **kw)  # type: ignore[arg-type]
    bad = d.copy()
    bad["saturation"] = bad["saturation"].where(bad["nbhd"] != "N0", 0.5)  # 3 saturated clusters
    bad.loc[bad["nbhd"] == "N0", "arm"] = (bad.loc[bad["nbhd"] == "N0", "hh"] == "H97").astype(int)
    with pytest.raises(DesignError, match="design puts"):
        saturation_ri(bad, "y", "arm", DESIGN, saturation="saturation", reps=10, seed=1)
    with pytest.raises(DesignError, match="whole numbers of clusters"):
        SaturationDesign("hh", "nbhd", {0: 0.3, 1: 0.7}).cluster_counts(4)
    with pytest.raises(SpecificationError, match=r"\[0, 1\]"):
        SaturationDesign("hh", "nbhd", {0: 2, 1.5: 2})
    with pytest.raises(DesignError, match="several"):
        DESIGN.units(d.assign(nbhd=np.where(d["targeted"] == 1, d["nbhd"], "N0")))


@pytest.mark.slow
def test_saturation_simulation_coverage() -> None:
    """Known direct 0.30, within-household 0.18, between-household 0.10 (Sinclair et al. 2012
    style). 100 seeded replications of 40 neighbourhoods x 6 two-voter households, saturations
    0 / 0.5 / 1: 95% CIs (CR2 by neighbourhood) must cover each truth in [0.88, 0.995]."""
    design = SaturationDesign("hh", "nbhd", {0: 14, 0.5: 13, 1: 13})
    base = _voters(sizes=(6,) * 40)
    rng = np.random.default_rng(2012)
    cover = Counter()
    sims = 100
    for i in range(sims):
        d = _with_assignment(base, design, seed=i)
        t = d["arm"] == 1
        exposed = d["saturation"] > 0
        nb = rng.normal(0, 0.3, 40)[d["nbhd"].str[1:].astype(int).to_numpy()]
        effect = np.where(t, np.where(d["targeted"] == 1, 0.30, 0.18), np.where(exposed, 0.10, 0.0))
        d["y"] = nb + rng.normal(0, 1, len(d)) + effect
        res = fx.spillover(
            d,
            "y",
            "arm",
            targeted="targeted",
            household="hh",
            clusters="nbhd",
            saturation="saturation",
        )
        for name, truth in (("direct", 0.30), ("spillover", 0.18), ("between", 0.10)):
            r = getattr(res, name)
            cover[name] += r.ci_low <= truth <= r.ci_high
    for name in ("direct", "spillover", "between"):
        assert 0.88 <= cover[name] / sims <= 0.995, (name, cover[name] / sims)
