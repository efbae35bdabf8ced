"""Blocked stage 1 of saturation designs (issue 14 item 1): assign, enumeration and
randomisation inference honour the blocks, checked against brute-force enumeration."""

from __future__ import annotations

import itertools
import math
from collections import Counter

import numpy as np
import pandas as pd
import pytest

from fieldexp.design.saturation import SaturationDesign
from fieldexp.errors import DesignError
from fieldexp.experiment.saturation_ri import saturation_ri

TOL = 1e-12
LEVELS = (0.0, 0.5, 1.0)


def _data(seed: int = 1) -> pd.DataFrame:
    """Two blocks x three neighbourhoods x two households x one or two voters."""
    rng = np.random.default_rng(seed)
    rows = []
    for b in ("north", "south"):
        for c in range(3):
            for h in range(2):
                n = int(rng.integers(1, 3))
                for k in range(n):
                    rows.append(
                        {
                            "block": b,
                            "nbhd": f"{b[0]}{c}",
                            "hh": f"{b[0]}{c}h{h}",
                            "targeted": int(k == 0),
                            "voted": float(rng.random() < 0.5),
                        }
                    )
    return pd.DataFrame(rows)


def _design() -> SaturationDesign:
    return SaturationDesign("hh", "nbhd", {0: 1, 0.5: 1, 1: 1}, blocks="block")


def _brute_force(df: pd.DataFrame) -> list[tuple[dict[str, float], frozenset[str], float]]:
    """Every (saturation per nbhd, treated households, probability), by hand."""
    blocks = {b: sorted(g["nbhd"].unique()) for b, g in df.groupby("block")}
    hh_of = {c: sorted(g["hh"].unique()) for c, g in df.groupby("nbhd")}
    per_block = [
        [dict(zip(nb, perm, strict=True)) for perm in itertools.permutations(LEVELS)]
        for nb in blocks.values()
    ]
    out = []
    for combo in itertools.product(*per_block):
        sat = {k: v for part in combo for k, v in part.items()}
        choices = []
        for c, s in sorted(sat.items()):
            k = round(s * len(hh_of[c]))
            choices.append(list(itertools.combinations(hh_of[c], k)))
        n2 = math.prod(len(x) for x in choices)
        for picks in itertools.product(*choices):
            treated = frozenset(h for p in picks for h in p)
            out.append((sat, treated, 1.0 / (len(list(itertools.product(*per_block))) * n2)))
    return out


def test_enumeration_equals_brute_force_and_honours_blocks() -> None:
    df = _data()
    d = _design()
    units = d.units(df)
    assert d.n_allocations(units) == 6 * 6  # unblocked: 6! / (2! 2! 2!) = 90
    assert SaturationDesign("hh", "nbhd", {0: 2, 0.5: 2, 1: 2}).n_allocations(units) == 90
    sats, treats, probs = d.enumerate(df)
    brute = _brute_force(df)
    assert len(probs) == len(brute) == d.n_assignments(units) == 36 * 4
    got = Counter()
    for s, t, p in zip(sats, treats, probs, strict=True):
        key = (
            tuple(s),
            frozenset(units.unit_ids[t]),
        )
        got[key] += p
    want = Counter()
    for sat, treated, p in brute:
        want[(tuple(sat[c] for c in units.cluster_ids), treated)] += p
    assert set(got) == set(want)
    for k in want:
        assert got[k] == pytest.approx(want[k], abs=TOL)
    assert probs.sum() == pytest.approx(1.0, abs=TOL)


def test_draws_keep_one_neighbourhood_per_level_in_each_block() -> None:
    df = _data()
    d = _design()
    units = d.units(df)
    sat, treated = d.draw(units, 3600, np.random.default_rng(0))
    blocks = units.block_members()
    for members in blocks:
        assert (np.sort(sat[:, members], axis=1) == np.array(LEVELS)).all()
    # the 36 stage-1 allocations are equally likely (chi-square, 35 df, 0.1% level)
    keys = Counter(map(tuple, sat))
    assert len(keys) == 36
    counts = np.array(list(keys.values()))
    chi2 = float(((counts - 100) ** 2 / 100).sum())
    assert chi2 < 66.6
    # stage 2: exactly one household of two treated at saturation 0.5
    half = sat[:, units.cluster] == 0.5
    per = np.zeros((3600, len(units.cluster_ids)))
    np.add.at(per.T, units.cluster, treated.T)
    assert (per == sat * units.sizes).all()
    assert (treated[half].mean() - 0.5) < 0.05


def test_assign_is_blocked_seeded_and_row_order_free() -> None:
    df = _data()
    d = _design()
    a = d.assign(df, seed=3)
    assert list(a.columns) == ["hh", "nbhd", "block", "saturation", "arm", "probability"]
    for _, g in a.drop_duplicates("nbhd").groupby("block"):
        assert sorted(g["saturation"]) == list(LEVELS)
    b = d.assign(df.sample(frac=1, random_state=5), seed=3)
    pd.testing.assert_frame_equal(a, b)


def _statistic(df: pd.DataFrame, sat: dict, treated: frozenset, effect: str, level) -> float:
    s = df["nbhd"].map(sat)
    z = df["hh"].isin(treated)
    exposed = (s > 0) if level is None else np.isclose(s, level)
    pure = s == 0
    if effect == "between":
        group, ctrl = exposed & ~z, pure
    else:
        member = df["targeted"] == (1 if effect == "direct" else 0)
        group, ctrl = exposed & z & member, pure & member
    if group.sum() == 0 or ctrl.sum() == 0:
        return math.nan
    return df.loc[group, "voted"].mean() - df.loc[ctrl, "voted"].mean()


@pytest.mark.parametrize(
    ("effect", "level"), [("between", None), ("direct", None), ("direct", 0.5), ("within", 1.0)]
)
def test_saturation_ri_equals_brute_force_with_blocks(effect, level) -> None:
    df = _data(seed=4)
    d = _design()
    a = d.assign(df, seed=8)
    data = df.merge(a[["hh", "saturation", "arm"]], on="hh")
    r = saturation_ri(
        data,
        "voted",
        "arm",
        d,
        saturation="saturation",
        targeted="targeted",
        effect=effect,
        level=level,
        reps=1000,
        seed=1,
    )
    assert r.exact and r.reps == 144
    sat_obs = dict(zip(a["nbhd"], a["saturation"], strict=True))
    t_obs = frozenset(a.loc[a["arm"] == 1, "hh"])
    observed = _statistic(data, sat_obs, t_obs, effect, level)
    assert r.statistic == pytest.approx(observed, abs=TOL)
    draws = [(p, _statistic(data, s, t, effect, level)) for s, t, p in _brute_force(df)]
    ok = [(p, x) for p, x in draws if math.isfinite(x)]
    tol = 1e-12 * max(1.0, abs(observed))
    p_bf = sum(p for p, x in ok if abs(x) >= abs(observed) - tol) / sum(p for p, _ in ok)
    assert r.p_value == pytest.approx(p_bf, abs=TOL)
    got = np.sort(r.draws[np.isfinite(r.draws)])
    np.testing.assert_allclose(got, np.sort([x for _, x in ok]), rtol=0, atol=TOL)


def test_an_assignment_the_blocks_cannot_produce_is_refused() -> None:
    df = _data(seed=4)
    unblocked = SaturationDesign("hh", "nbhd", {0: 2, 0.5: 2, 1: 2})
    for seed in range(100):  # an unblocked draw with both pure controls in one block
        a = unblocked.assign(df, seed=seed)
        per = a.drop_duplicates("nbhd").assign(b=lambda x: x["nbhd"].str[0])
        pure = per.loc[per["saturation"] == 0, "b"]
        if (pure == pure.iloc[0]).all():
            break
    data = df.merge(a[["hh", "saturation", "arm"]], on="hh")
    with pytest.raises(DesignError, match=r"in block (.north.|.south.)"):
        saturation_ri(
            data, "voted", "arm", _design(), saturation="saturation", effect="between", seed=1
        )


def test_blocks_must_nest_clusters_and_take_whole_counts() -> None:
    df = _data()
    bad = df.copy()
    bad.loc[bad.index[0], "block"] = "south"  # nbhd n0 now spans both blocks
    with pytest.raises(DesignError, match="nest in blocks"):
        _design().units(bad)
    odd = df[df["nbhd"] != "s2"]  # block south has two neighbourhoods for three levels
    with pytest.raises(DesignError, match="block 'south'"):
        _design().assign(odd, seed=1)


def test_saturation_ri_draws_agree_with_enumeration_under_blocks() -> None:
    df = _data(seed=4)
    d = _design()
    data = df.merge(d.assign(df, seed=8)[["hh", "saturation", "arm"]], on="hh")
    kw = dict(saturation="saturation", targeted="targeted", effect="between", seed=2)
    exact = saturation_ri(data, "voted", "arm", d, reps=1000, **kw)
    drawn = saturation_ri(data, "voted", "arm", d, reps=4000, exact=False, **kw)
    assert exact.exact and not drawn.exact
    se = math.sqrt(max(exact.p_value * (1 - exact.p_value), 0.01) / 4000)
    assert abs(drawn.p_value - exact.p_value) < 4 * se
