"""Randomisation inference: equals brute-force enumeration on small designs; replays the design."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fieldexp as fx
from fieldexp.design import Design
from fieldexp.errors import ColumnNotFoundError, DataError, DesignError, SpecificationError


def small_experiment(seed=0, sizes=(4, 5), probs=None, effect=0.7):
    """Households of 1-2 voters in blocks; outcome continuous, contact one-sided."""
    rng = np.random.default_rng(seed)
    rows = []
    vid = 0
    for b, n_hh in enumerate(sizes):
        for h in range(n_hh):
            for _ in range(1 + (h % 2)):
                rows.append((vid, b * 100 + h, f"B{b}", rng.normal(), rng.normal()))
                vid += 1
    df = pd.DataFrame(rows, columns=["v", "h", "b", "y0", "x"])
    design = Design("v", blocks="b", clusters="h", arms=probs or {0: 0.5, 1: 0.5})
    out = design.assign(df, seed=seed + 1)
    df = df.merge(out[["v", "arm"]], on="v")
    df["d"] = ((df["arm"] == 1) & (rng.random(len(df)) < 0.7)).astype(int)
    df["y"] = df["y0"] + effect * df["d"] + 0.3 * df["x"]
    return df, design


def brute_force(df, design, *, stat):
    """Every assignment of households within blocks with its probability (independent code)."""
    hh = df.groupby("h").agg(b=("b", "first"), arm=("arm", "first")).reset_index()
    p1 = design.arms[1]
    per_block = []
    for _, g in hh.groupby("b"):
        n = len(g)
        lo = math.floor(n * p1)
        frac = n * p1 - lo
        options = []
        for m, pm in ((lo, 1 - frac), (lo + 1, frac)):
            if pm <= 1e-15 or m > n:
                continue
            k = math.comb(n, m)
            for treated in itertools.combinations(list(g["h"]), m):
                options.append((set(treated), pm / k))
        per_block.append(options)
    values, weights = [], []
    for combo in itertools.product(*per_block):
        treated = set().union(*[c[0] for c in combo])
        weights.append(math.prod(c[1] for c in combo))
        z = df["h"].isin(treated).astype(int).to_numpy()
        values.append(stat(z))
    return np.array(values), np.array(weights)


def blocked_dim(df, y, z):
    tot = 0.0
    for _, idx in df.groupby("b").groups.items():
        pos = df.index.get_indexer(idx)
        yy, zz = y[pos], z[pos]
        tot += len(pos) / len(df) * (yy[zz == 1].mean() - yy[zz == 0].mean())
    return tot


def blocked_t(df, y, z):
    """DiM / sqrt(sum_b w_b^2 (V1 + V0)), V = c/(c-1) sum_c (Y_c - mean n_c)^2 / n^2 (loops)."""
    est = blocked_dim(df, y, z)
    var = 0.0
    for _, idx in df.groupby("b").groups.items():
        pos = df.index.get_indexer(idx)
        w = len(pos) / len(df)
        for arm in (0, 1):
            sel = pos[z[pos] == arm]
            mean = y[sel].mean()
            clusters = df["h"].to_numpy()[sel]
            ss = 0.0
            uniq = sorted(set(clusters))
            for c in uniq:
                members = sel[clusters == c]
                ss += (y[members].sum() - mean * len(members)) ** 2
            var += w * w * len(uniq) / (len(uniq) - 1) * ss / len(sel) ** 2
    return est / math.sqrt(var)


def p_two_sided(values, weights, obs):
    hit = np.abs(values) >= abs(obs) - 1e-9 * (1 + abs(obs))
    return float(weights[hit].sum() / weights.sum())


@pytest.mark.parametrize("studentize", [False, True])
def test_itt_p_value_equals_enumeration(studentize):
    df, design = small_experiment(seed=3)
    y = df["y"].to_numpy()
    stat = (lambda z: blocked_t(df, y, z)) if studentize else (lambda z: blocked_dim(df, y, z))
    values, weights = brute_force(df, design, stat=stat)
    obs = stat(df["arm"].to_numpy())
    res = fx.randomization_inference(
        df, "y", "arm", design, reps=10_000, seed=1, studentize=studentize
    )
    assert res.exact
    assert res.reps == len(values)
    assert res.statistic == pytest.approx(obs, rel=1e-10)
    assert res.p_value == pytest.approx(p_two_sided(values, weights, obs), abs=1e-12)
    assert res.p_value_se == 0
    assert np.sort(res.draws) == pytest.approx(np.sort(values), rel=1e-9, abs=1e-12)
    one_sided = float(weights[values >= obs - 1e-9].sum())
    res_g = fx.randomization_inference(
        df, "y", "arm", design, reps=10_000, seed=1, studentize=studentize, alternative="greater"
    )
    assert res_g.p_value == pytest.approx(one_sided, abs=1e-12)


def test_unequal_probabilities_with_remainders_equal_enumeration():
    # p = 1/3 with 4 and 5 households: counts 1 or 2 drawn with the exact remainder law
    df, design = small_experiment(seed=5, sizes=(4, 5), probs={0: 2 / 3, 1: 1 / 3})
    y = df["y"].to_numpy()
    values, weights = brute_force(df, design, stat=lambda z: blocked_dim(df, y, z))
    assert weights.sum() == pytest.approx(1.0)
    obs = blocked_dim(df, y, df["arm"].to_numpy())
    res = fx.randomization_inference(df, "y", "arm", design, reps=100_000, seed=2)
    assert res.exact
    assert res.p_value == pytest.approx(p_two_sided(values, weights, obs), abs=1e-12)


def test_cace_wald_equals_enumeration():
    df, design = small_experiment(seed=7)
    y, d, z_obs = df["y"].to_numpy(), df["d"].to_numpy(), df["arm"].to_numpy()
    first_stage = blocked_dim(df, d.astype(float), z_obs)
    tau0 = 0.25
    y_adj = y - tau0 * d
    values, weights = brute_force(
        df, design, stat=lambda z: blocked_dim(df, y_adj, z) / first_stage
    )
    obs = blocked_dim(df, y_adj, z_obs) / first_stage
    res = fx.randomization_inference(
        df, "y", "arm", design, estimator="cace", treatment="d", sharp_null=tau0, reps=5000, seed=1
    )
    assert res.exact
    assert res.statistic == pytest.approx(obs, rel=1e-10)
    assert res.estimate == pytest.approx(blocked_dim(df, y, z_obs) / first_stage, rel=1e-10)
    assert res.p_value == pytest.approx(p_two_sided(values, weights, obs), abs=1e-12)


def test_covariate_adjusted_equals_enumeration():
    df, design = small_experiment(seed=8)
    # residualise y on x and block indicators (the statistic's definition)
    X = np.column_stack([df["x"], pd.get_dummies(df["b"]).to_numpy(float)])
    beta, *_ = np.linalg.lstsq(X, df["y"].to_numpy(), rcond=None)
    r = df["y"].to_numpy() - X @ beta
    values, weights = brute_force(df, design, stat=lambda z: blocked_dim(df, r, z))
    obs = blocked_dim(df, r, df["arm"].to_numpy())
    res = fx.randomization_inference(df, "y", "arm", design, covariates=["x"], reps=5000, seed=1)
    assert res.statistic == pytest.approx(obs, rel=1e-8)
    assert res.p_value == pytest.approx(p_two_sided(values, weights, obs), abs=1e-12)


def medium_experiment(seed=0, n_blocks=3, hh_per_block=14):
    rng = np.random.default_rng(seed)
    rows = []
    vid = 0
    for b in range(n_blocks):
        for h in range(hh_per_block):
            for _ in range(int(rng.integers(1, 4))):
                rows.append((vid, b * 1000 + h, b, int(rng.random() < 0.5)))
                vid += 1
    df = pd.DataFrame(rows, columns=["v", "h", "b", "base"])
    design = Design("v", blocks="b", clusters="h")
    df = df.merge(design.assign(df, seed=seed)[["v", "arm"]], on="v")
    df["voted"] = ((df["base"] + 0.3 * df["arm"] * rng.random(len(df))) > 0.5).astype(int)
    return df, design


def test_monte_carlo_engines_agree_with_exact():
    df, design = medium_experiment(seed=4, n_blocks=2, hh_per_block=8)  # 70**2 = 4,900 assignments
    exact = fx.randomization_inference(df, "voted", "arm", design, reps=5000, seed=1)
    assert exact.exact and exact.reps == 4900
    for engine in ("dense", "grouped"):
        mc = fx.randomization_inference(
            df, "voted", "arm", design, reps=20_000, seed=3, engine=engine
        )
        assert not mc.exact and mc.engine == engine and mc.reps == 20_000
        assert abs(mc.p_value - exact.p_value) < 4.5 * max(mc.p_value_se, 1e-3)
        assert mc.statistic == pytest.approx(exact.statistic)


def test_reproducible_row_order_free_and_aligned():
    df, design = medium_experiment(seed=1)
    a = fx.randomization_inference(df, "voted", "arm", design, reps=500, seed=9, engine="dense")
    b = fx.randomization_inference(
        df.sample(frac=1, random_state=3), "voted", "arm", design, reps=500, seed=9, engine="dense"
    )
    np.testing.assert_array_equal(a.draws, b.draws)
    assert a.p_value == b.p_value
    other = fx.randomization_inference(df, "base", "arm", design, reps=500, seed=9, engine="dense")
    assert other.draw_key == a.draw_key is not None
    c = fx.randomization_inference(df, "voted", "arm", design, reps=500, seed=10, engine="dense")
    assert c.draw_key != a.draw_key
    g = fx.randomization_inference(df, "voted", "arm", design, reps=500, seed=9, engine="grouped")
    assert g.draw_key is None


def test_assignment_frame_is_accepted_and_data_untouched():
    df, design = medium_experiment(seed=2)
    assignment = design.assign(df.drop(columns="arm"), seed=2)
    before = df.copy()
    a = fx.randomization_inference(
        df.drop(columns="arm"), "voted", assignment, design, reps=200, seed=1
    )
    b = fx.randomization_inference(df, "voted", "arm", design, reps=200, seed=1)
    pd.testing.assert_frame_equal(df, before)
    assert a.p_value == b.p_value and a.statistic == b.statistic


def test_ci_by_test_inversion():
    df, design = medium_experiment(seed=3, n_blocks=4, hh_per_block=20)
    res = fx.randomization_inference(df, "voted", "arm", design, reps=2000, seed=5, ci=True)
    assert res.ci_low < res.estimate < res.ci_high
    inside = fx.randomization_inference(
        df, "voted", "arm", design, reps=2000, seed=5, sharp_null=res.ci_high - 1e-6
    )
    outside = fx.randomization_inference(
        df, "voted", "arm", design, reps=2000, seed=5, sharp_null=res.ci_high + 1e-3
    )
    assert inside.p_value > 0.05 >= outside.p_value
    assert "test inversion" in str(res)
    assert "<div" in res._repr_html_()
    assert list(res.to_frame().columns)[:3] == ["outcome", "estimand", "arm"]


def test_multi_arm_conditional():
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"v": range(60), "b": np.repeat([0, 1], 30)})
    design = Design("v", blocks="b", arms={"c": 0.5, "door": 0.25, "mail": 0.25})
    df = df.merge(design.assign(df, seed=1)[["v", "arm"]], on="v")
    df["y"] = rng.normal(size=60) + (df["arm"] == "door")
    with pytest.raises(SpecificationError, match=r"'arm' parameter .* is required"):
        fx.randomization_inference(df, "y", "arm", design, seed=1)
    res = fx.randomization_inference(df, "y", "arm", design, arm="door", reps=300, seed=1)
    assert any("holding the observed counts fixed" in n for n in res.notes)
    assert res.nclusters == int(df["arm"].isin(["c", "door"]).sum())


def test_bad_inputs():
    df, design = medium_experiment(seed=1)
    with pytest.raises(SpecificationError, match="'treatment' parameter"):
        fx.randomization_inference(df, "voted", "arm", design, estimator="cace", seed=1)
    with pytest.raises(TypeError):
        fx.randomization_inference(df, "voted", "arm", design)  # seed is required
    broken = df.copy()
    first_treated = broken.index[broken["arm"] == 1][0]
    hh = broken.loc[first_treated, "h"]
    broken.loc[broken["h"] == hh, "arm"] = 0
    with pytest.raises(DesignError, match="does not match the design"):
        fx.randomization_inference(broken, "voted", "arm", design, seed=1)
    split = df.copy()
    multi = split.groupby("h")["v"].transform("size") > 1
    split.loc[split.index[multi][0], "arm"] = 1 - split.loc[split.index[multi][0], "arm"]
    with pytest.raises(DesignError, match="varies within clusters"):
        fx.randomization_inference(split, "voted", "arm", design, seed=1)
    odd = df.assign(arm=df["arm"].replace({1: 7}))
    with pytest.raises(DataError, match="not arms of the design"):
        fx.randomization_inference(odd, "voted", "arm", design, seed=1)
    with pytest.raises(SpecificationError, match="'alternative' parameter"):
        fx.randomization_inference(df, "voted", "arm", design, seed=1, alternative="both")


def test_per_block_counts_with_unequal_probabilities_equal_enumeration():
    # block B0: 2 of 6 households treated (p = 1/3); block B1: 4 of 5 (p = 0.8)
    rng = np.random.default_rng(11)
    rows = []
    for b, n_hh in (("B0", 6), ("B1", 5)):
        for h in range(n_hh):
            rows.append((len(rows), f"{b}-{h}", b, rng.normal() + (2.0 if b == "B1" else 0.0)))
    df = pd.DataFrame(rows, columns=["v", "h", "b", "y"])
    design = Design("v", blocks="b", clusters="h", counts={"B0": {1: 2}, "B1": {1: 4}})
    df = df.merge(design.assign(df, seed=3)[["v", "arm", "probability"]], on="v")
    assert set(df.loc[df["arm"] == 1, "probability"].round(6)) == {round(1 / 3, 6), 0.8}
    y = df["y"].to_numpy()
    values = []
    hs = {b: list(g["h"]) for b, g in df.groupby("b")}
    for t0 in itertools.combinations(hs["B0"], 2):
        for t1 in itertools.combinations(hs["B1"], 4):
            z = df["h"].isin(set(t0) | set(t1)).astype(int).to_numpy()
            values.append(blocked_dim(df, y, z))
    values = np.array(values)
    obs = blocked_dim(df, y, df["arm"].to_numpy())
    res = fx.randomization_inference(df, "y", "arm", design, reps=1000, seed=1)
    assert res.exact and res.reps == len(values) == 15 * 5
    assert res.statistic == pytest.approx(obs)
    assert res.p_value == pytest.approx(np.mean(np.abs(values) >= abs(obs) - 1e-9))
    # a pooled (unweighted) difference in means would be biased by the block difference
    pooled = y[df["arm"] == 1].mean() - y[df["arm"] == 0].mean()
    assert abs(pooled - obs) > 0.1


def test_excluded_units_are_set_aside():
    df, _ = medium_experiment(seed=6)
    d2 = Design("v", blocks="b", clusters="h", exclude={"do_not_contact": [0, 1, 2]})
    out = d2.assign(df.drop(columns="arm"), seed=4)
    data = df.drop(columns="arm").merge(out[["v", "arm"]], on="v")
    res = fx.randomization_inference(data, "voted", "arm", d2, reps=300, seed=1)
    assert any("set aside" in n for n in res.notes)
    assert res.nobs == int(out["arm"].notna().sum())


def test_observed_estimate_is_the_blocked_clustered_difference_in_means():
    df, design = medium_experiment(seed=12, n_blocks=4, hh_per_block=25)
    res = fx.randomization_inference(df, "voted", "arm", design, reps=100, seed=1)
    dim = fx.itt(df, "voted", "arm", blocks="b", clusters="h", method="dim")
    assert res.estimate == pytest.approx(dim.estimate, rel=1e-10)


def test_unknown_columns_are_named():
    df, design = medium_experiment(seed=1)
    with pytest.raises(
        ColumnNotFoundError, match=r"column 'votd' \(argument 'outcome'.*Did you mean 'voted'"
    ):
        fx.randomization_inference(df, "votd", "arm", design, seed=1)
    with pytest.raises(ColumnNotFoundError, match=r"argument 'covariates'"):
        fx.randomization_inference(df, "voted", "arm", design, covariates=["nope"], seed=1)
    with pytest.raises(ColumnNotFoundError, match=r"argument 'assignment'"):
        fx.randomization_inference(df, "voted", "armm", design, seed=1)


@pytest.mark.filterwarnings("ignore:Mean of empty slice:RuntimeWarning")
@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
@settings(max_examples=25, deadline=None)
@given(
    sizes=st.lists(st.integers(2, 5), min_size=1, max_size=2),
    p=st.sampled_from([0.5, 1 / 3, 0.4]),
    seed=st.integers(0, 10_000),
    alternative=st.sampled_from(["two-sided", "greater", "less"]),
)
def test_property_exact_p_value_equals_brute_force(sizes, p, seed, alternative):
    rng = np.random.default_rng(seed)
    rows = []
    for b, n_hh in enumerate(sizes):
        for h in range(n_hh):
            for _ in range(1 + (h % 2)):
                rows.append((len(rows), b * 10 + h, f"B{b}", float(rng.integers(0, 3))))
    df = pd.DataFrame(rows, columns=["v", "h", "b", "y"])
    design = Design("v", blocks="b", clusters="h", arms={0: 1 - p, 1: p})
    df = df.merge(design.assign(df, seed=seed)[["v", "arm"]], on="v")
    y = df["y"].to_numpy()
    values, weights = brute_force(df, design, stat=lambda z: blocked_dim(df, y, z))
    ok = np.isfinite(values)
    obs = blocked_dim(df, y, df["arm"].to_numpy())
    tol = 1e-9 * (1 + abs(obs))
    if alternative == "two-sided":
        hit = np.abs(values) >= abs(obs) - tol
    elif alternative == "greater":
        hit = values >= obs - tol
    else:
        hit = values <= obs + tol
    expected = weights[ok & hit].sum() / weights[ok].sum()
    if not np.isfinite(obs):  # a block left with one arm: no statistic
        with pytest.raises(DataError, match="observed statistic is undefined"):
            fx.randomization_inference(df, "y", "arm", design, reps=10_000, seed=1)
        return
    res = fx.randomization_inference(
        df, "y", "arm", design, reps=10_000, seed=1, alternative=alternative
    )
    assert res.exact
    assert res.p_value == pytest.approx(expected, abs=1e-12)


def test_weights_match_the_weighted_difference_in_means_and_enumeration():
    df, design = small_experiment(seed=13)
    df["w"] = np.random.default_rng(2).uniform(0.5, 3.0, len(df))
    res = fx.randomization_inference(df, "y", "arm", design, weights="w", reps=5000, seed=1)
    dim = fx.itt(df, "y", "arm", blocks="b", clusters="h", weights="w", method="dim")
    assert res.estimate == pytest.approx(dim.estimate, rel=1e-10)
    y, w = df["y"].to_numpy(), df["w"].to_numpy()

    def weighted(z):
        tot = 0.0
        for _, idx in df.groupby("b").groups.items():
            pos = df.index.get_indexer(idx)
            t, c = pos[z[pos] == 1], pos[z[pos] == 0]
            share = w[pos].sum() / w.sum()
            tot += share * (np.average(y[t], weights=w[t]) - np.average(y[c], weights=w[c]))
        return tot

    values, weights = brute_force(df, design, stat=weighted)
    obs = weighted(df["arm"].to_numpy())
    assert res.exact and res.p_value == pytest.approx(p_two_sided(values, weights, obs), abs=1e-12)
