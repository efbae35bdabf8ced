"""Callaway & Sant'Anna ATT(g,t) against R ``did`` 2.5.0 on mpdta, and brute force.

Tolerances. The reference values in ``../shared/data/README.md`` are printed with 6 decimals, so
each carries a rounding error of at most 5e-7 in absolute terms. A pure rtol of 1e-6 cannot be
checked against such numbers (e.g. ATT(2007,2005) = -0.002726 is only known to 1.8e-4 relative),
so every comparison is ``|ours - ref| <= 5e-7 + rtol * |ref|``: half a unit in the last printed
digit plus rtol = 1e-6 for estimates and 1e-4 for standard errors. The Wald statistic is printed
with 4 decimals (atol 5e-5) and its p-value with 5 (R rounds it; atol 5e-6).
Exact agreement (1e-12) is checked against brute-force cell means on the same data.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest

import fieldexp as fx
from fieldexp.diffindiff import staggered_did
from fieldexp.diffindiff._kernels import drdid_panel, reg_did_panel, std_ipw_did_panel
from fieldexp.errors import DataError, EstimationError, RowsDroppedWarning, SpecificationError

HALF_ULP = 5e-7

# R did 2.5.0: att_gt(yname="lemp", tname="year", idname="countyreal", gname="first.treat",
#   xformla=~1, control_group="nevertreated", est_method="dr", bstrap=FALSE)
ATT_GT = {
    (2004, 2004): (-0.010503, 0.023251),
    (2004, 2005): (-0.070423, 0.030985),
    (2004, 2006): (-0.137259, 0.036436),
    (2004, 2007): (-0.100811, 0.034359),
    (2006, 2004): (0.006520, 0.023327),
    (2006, 2005): (-0.002751, 0.019559),
    (2006, 2006): (-0.004595, 0.017755),
    (2006, 2007): (-0.041224, 0.020229),
    (2007, 2004): (0.030507, 0.015034),
    (2007, 2005): (-0.002726, 0.016396),
    (2007, 2006): (-0.031087, 0.017878),
    (2007, 2007): (-0.026054, 0.016655),
}


def close(ours: float, ref: float, rtol: float, atol: float = HALF_ULP) -> bool:
    return abs(ours - ref) <= atol + rtol * abs(ref)


@pytest.fixture(scope="module")
def mpdta(shared_data) -> pd.DataFrame:
    return pd.read_csv(shared_data / "mpdta.csv")


@pytest.fixture(scope="module")
def cs(mpdta):
    return staggered_did(mpdta, "lemp", "countyreal", "year", "first.treat")


@pytest.mark.shared
@pytest.mark.parametrize(("g", "t"), sorted(ATT_GT))
def test_att_gt_matches_r_did(cs, g, t):
    row = cs.att_gt[(cs.att_gt["cohort"] == g) & (cs.att_gt["time"] == t)]
    assert len(row) == 1
    est, se = ATT_GT[(g, t)]
    assert close(row["estimate"].item(), est, 1e-6)
    assert close(row["std_error"].item(), se, 1e-4)


@pytest.mark.shared
def test_att_gt_table_layout(cs):
    assert list(cs.att_gt.columns[:7]) == [
        "cohort",
        "time",
        "base_period",
        "estimate",
        "std_error",
        "ci_low",
        "ci_high",
    ]
    assert len(cs.att_gt) == 12
    assert cs.influence.shape == (500, 12)
    row = cs.att_gt.iloc[0]
    assert row["ci_low"] == pytest.approx(row["estimate"] - 1.959963984540054 * row["std_error"])


@pytest.mark.shared
@pytest.mark.parametrize(
    ("kind", "est", "se"),
    [
        ("simple", -0.039951, 0.012034),
        ("group", -0.031018, 0.012446),
        ("dynamic", -0.077240, 0.019965),
        ("calendar", -0.041700, 0.015972),
    ],
)
def test_aggregations_match_r_did(cs, kind, est, se):
    agg = cs.aggregate(kind, seed=20260101)
    assert close(agg.estimate, est, 1e-6)
    assert close(agg.std_error, se, 1e-4)


@pytest.mark.shared
def test_group_and_dynamic_components(cs):
    grp = cs.aggregate("group", seed=1).components
    for g, ref in [(2004, -0.079749), (2006, -0.022910), (2007, -0.026054)]:
        assert close(grp.loc[grp["cohort"] == g, "estimate"].item(), ref, 1e-6)
    dyn = cs.aggregate("dynamic", seed=1).components
    for e, ref in [(0, -0.019932), (1, -0.050957), (2, -0.137259), (3, -0.100811)]:
        assert close(dyn.loc[dyn["event_time"] == e, "estimate"].item(), ref, 1e-6)


@pytest.mark.shared
def test_not_yet_treated_simple(mpdta):
    res = staggered_did(
        mpdta, "lemp", "countyreal", "year", "first.treat", comparison="not_yet_treated"
    )
    agg = res.aggregate("simple")
    assert close(agg.estimate, -0.039764, 1e-6)
    assert close(agg.std_error, 0.012052, 1e-4)


@pytest.mark.shared
def test_pretest(cs):
    assert cs.pretest is not None
    assert cs.pretest.df == 5
    assert close(cs.pretest.statistic, 7.7912, 0, atol=5e-5)
    assert close(cs.pretest.p_value, 0.16812, 0, atol=5e-6)


@pytest.mark.shared
def test_bootstrap_bands_seeded_and_wider(cs):
    a = cs.aggregate("dynamic", seed=7, reps=500)
    b = cs.aggregate("dynamic", seed=7, reps=500)
    c = cs.aggregate("dynamic", seed=8, reps=500, bootstrap_weights="mammen")
    assert a.crit_val == b.crit_val
    assert 1.96 < a.crit_val < 4 and 1.96 < c.crit_val < 4
    comp = a.components
    assert np.all(comp["cband_high"] - comp["cband_low"] >= comp["ci_high"] - comp["ci_low"])
    pd.testing.assert_frame_equal(a.to_frame(), b.to_frame())
    g = cs.aggregate("dynamic", seed=9, reps=4000, bootstrap_weights="gaussian")
    r = cs.aggregate("dynamic", seed=9, reps=4000)
    assert g.crit_val == pytest.approx(r.crit_val, abs=0.12)
    with pytest.raises(SpecificationError, match="bootstrap_weights"):
        cs.aggregate("dynamic", bootstrap_weights="normal")


@pytest.mark.shared
def test_public_api_and_rendering(mpdta, cs):
    res = fx.staggered_did(mpdta, "lemp", "countyreal", "year", "first.treat")
    pd.testing.assert_frame_equal(res.att_gt, cs.att_gt)
    text = str(cs)
    assert "pre-test" in text and "500 units x 5 periods" in text
    assert "<table" in cs._repr_html_()
    agg = cs.aggregate("dynamic", seed=3)
    assert "dynamic" in str(agg) and "<table" in agg._repr_html_()
    assert agg.overall.method == "cs" and agg.overall.estimator == "cs"
    with pytest.raises(SpecificationError, match=r"'kind' parameter .* must be one of"):
        cs.aggregate("weird")


@pytest.mark.shared
def test_plots(cs):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ax = cs.plot()
    assert len(ax.get_legend().get_texts()) == 3  # one series per cohort
    ax = cs.aggregate("dynamic", seed=1).plot()
    assert ax.get_xlabel() == "event time"
    plt.close("all")


# ----------------------------------------------------------------- brute force (no R needed)
def _panel(seed: int = 3, n: int = 300, periods=(1, 2, 3, 4, 5)) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    cohort = rng.choice([0, 2, 3, 5], size=n, p=[0.4, 0.2, 0.2, 0.2])
    alpha = rng.normal(size=n)
    w = rng.uniform(0.5, 2.0, size=n)
    rows = []
    for i in range(n):
        for t in periods:
            eff = 0.3 * (t - cohort[i] + 1) if cohort[i] and t >= cohort[i] else 0.0
            rows.append((i, t, cohort[i], alpha[i] + 0.1 * t + eff + rng.normal(), w[i]))
    return pd.DataFrame(rows, columns=["id", "t", "g", "y", "w"])


def _brute(df, g, t, base, controls, weighted):
    wide = df.pivot_table(index="id", columns="t", values="y")
    coh = df.groupby("id")["g"].first()
    w = df.groupby("id")["w"].first() if weighted else pd.Series(1.0, index=coh.index)
    d = wide[t] - wide[base]
    tr = coh == g
    co = controls(coh)
    mt = np.average(d[tr], weights=w[tr])
    mc = np.average(d[co], weights=w[co])
    n = len(coh)
    psi = np.zeros(n)
    psi[tr.to_numpy()] = n * w[tr] * (d[tr] - mt) / w[tr].sum()
    psi[co.to_numpy()] = -n * w[co] * (d[co] - mc) / w[co].sum()
    return mt - mc, math.sqrt((psi**2).sum()) / n


@pytest.mark.parametrize("comparison", ["never_treated", "not_yet_treated"])
@pytest.mark.parametrize("base_period", ["varying", "universal"])
@pytest.mark.parametrize("weighted", [False, True])
def test_each_att_gt_equals_cell_means(comparison, base_period, weighted):
    df = _panel()
    res = staggered_did(
        df,
        "y",
        "id",
        "t",
        "g",
        comparison=comparison,
        base_period=base_period,
        weights="w" if weighted else None,
    )
    periods = [1, 2, 3, 4, 5]
    for row in res.att_gt.itertuples():
        g, t = int(row.cohort), int(row.time)
        post_or_universal = t >= g or base_period == "universal"
        base = g - 1 if post_or_universal else periods[periods.index(t) - 1]
        assert row.base_period == base
        if base == t:
            assert row.estimate == 0 and np.isnan(row.std_error)
            continue
        later = max(t, base)
        if comparison == "never_treated":

            def controls(c):
                return c == 0
        else:

            def controls(c, g=g, later=later):
                return (c == 0) | ((c > later) & (c != g))

        est, se = _brute(df, g, t, base, controls, weighted)
        assert row.estimate == pytest.approx(est, rel=1e-12, abs=1e-14)
        assert row.std_error == pytest.approx(se, rel=1e-10)


def test_dynamic_aggregate_by_hand():
    df = _panel(seed=11)
    res = staggered_did(df, "y", "id", "t", "g")
    dyn = res.aggregate("dynamic", seed=1).components
    tab = res.att_gt
    share = df.groupby("id")["g"].first().value_counts()
    for e in [0, 1, 2]:
        sub = tab[tab["time"] - tab["cohort"] == e]
        wts = share[sub["cohort"].astype(int)].to_numpy(dtype=float)
        ref = float(np.average(sub["estimate"], weights=wts))
        assert dyn.loc[dyn["event_time"] == e, "estimate"].item() == pytest.approx(ref, rel=1e-12)


def test_clustered_se_sums_influence_within_clusters():
    df = _panel(seed=5)
    df["cl"] = df["id"] // 3
    res = staggered_did(df, "y", "id", "t", "g", clusters="cl")
    plain = staggered_did(df, "y", "id", "t", "g")
    psi = plain.influence[:, 4]
    ids = np.sort(df["id"].unique())
    sums = pd.Series(psi).groupby(ids // 3).sum().to_numpy()
    assert res.att_gt["std_error"].iloc[4] == pytest.approx(math.sqrt((sums**2).sum()) / len(ids))
    assert res.nclusters == 100
    assert res.aggregate("simple").overall.nclusters == 100


def test_unbalanced_panel_is_balanced_and_reported():
    df = _panel(seed=2)
    df = df.drop(index=df.index[(df["id"] < 7) & (df["t"] == 3)])
    df.loc[df.index[:2], "y"] = np.nan  # unit 0, already incomplete: 2 rows missing, 2 left
    with pytest.warns(RowsDroppedWarning) as record:
        res = staggered_did(df, "y", "id", "t", "g")
    messages = [str(r.message) for r in record]
    assert any("2 rows dropped: missing 'y'" in m for m in messages)
    assert any("7 units (26 rows) dropped" in m for m in messages)
    assert res.sample.n_units == 293
    assert res.sample.n_units_unbalanced == 7
    assert "not observed in every period" in str(res)
    balanced = _panel(seed=2)
    balanced = balanced[balanced["id"] >= 7]
    ref = staggered_did(balanced, "y", "id", "t", "g")
    np.testing.assert_allclose(res.att_gt["estimate"], ref.att_gt["estimate"], rtol=1e-13)


def test_units_treated_in_first_period_are_dropped():
    df = _panel(seed=4)
    df.loc[df["id"] < 5, "g"] = 1
    with pytest.warns(RowsDroppedWarning, match="5 units dropped: already treated"):
        res = staggered_did(df, "y", "id", "t", "g")
    assert res.sample.n_units_treated_first_period == 5
    assert 1 not in set(res.att_gt["cohort"])


def test_missing_cohort_means_never_treated():
    df = _panel(seed=6)
    df2 = df.assign(g=df["g"].replace(0, np.nan))
    a = staggered_did(df, "y", "id", "t", "g")
    b = staggered_did(df2, "y", "id", "t", "g")
    pd.testing.assert_frame_equal(a.att_gt, b.att_gt)


def test_caller_data_not_modified():
    df = _panel(seed=8)
    before = df.copy()
    staggered_did(df, "y", "id", "t", "g", weights="w").aggregate("group", seed=1)
    pd.testing.assert_frame_equal(df, before)


# ----------------------------------------------------------------- covariates: 2x2 kernels
def _cross_section(seed=0, n=400):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    D = (rng.random(n) < 1 / (1 + np.exp(-0.5 * x))).astype(float)
    y0 = x + rng.normal(size=n)
    y1 = y0 + 0.5 * x + 1.0 * D + rng.normal(size=n)
    w = rng.uniform(0.5, 1.5, size=n)
    return y1, y0, D, np.column_stack([np.ones(n), x]), w


@pytest.mark.parametrize("estimator", [drdid_panel, reg_did_panel, std_ipw_did_panel])
def test_two_by_two_influence_matches_jackknife(estimator):
    y1, y0, D, X, w = _cross_section()
    n = len(D)
    res = estimator(y1, y0, D, X, w)
    assert abs(res.influence.mean()) < 1e-10
    se_if = math.sqrt((res.influence**2).sum()) / n
    keep = np.ones(n, dtype=bool)
    loo = np.empty(n)
    for i in range(n):
        keep[i] = False
        loo[i] = estimator(y1[keep], y0[keep], D[keep], X[keep], w[keep]).att
        keep[i] = True
    se_jack = math.sqrt((n - 1) / n * ((loo - loo.mean()) ** 2).sum())
    assert se_if == pytest.approx(se_jack, rel=0.03)
    assert res.att == pytest.approx(1.0, abs=4 * se_if)


def test_reg_did_equals_regression_imputation():
    y1, y0, D, X, w = _cross_section(seed=1)
    dy = y1 - y0
    c = D == 0
    sw = np.sqrt(w[c])
    beta = np.linalg.lstsq(X[c] * sw[:, None], dy[c] * sw, rcond=None)[0]
    t = D == 1
    ref = np.average(dy[t] - X[t] @ beta, weights=w[t])
    assert reg_did_panel(y1, y0, D, X, w).att == pytest.approx(ref, rel=1e-12)


def test_methods_coincide_without_covariates_and_differ_with():
    df = _panel(seed=9)
    rng = np.random.default_rng(0)
    xs = pd.Series(rng.normal(size=df["id"].nunique()))
    df["x"] = xs[df["id"]].to_numpy()
    base = staggered_did(df, "y", "id", "t", "g")
    est = {
        m: staggered_did(df, "y", "id", "t", "g", covariates=["x"], est_method=m)
        for m in ("dr", "reg", "ipw")
    }
    for m, r in est.items():
        np.testing.assert_allclose(r.att_gt["estimate"], base.att_gt["estimate"], atol=0.1), m
        assert r.aggregate("simple").std_error > 0
    assert not np.allclose(est["dr"].att_gt["estimate"], base.att_gt["estimate"], atol=1e-10)


# ----------------------------------------------------------------- bad input
def test_duplicate_unit_time_rows():
    df = _panel()
    df = pd.concat([df, df.iloc[[3]]])
    with pytest.raises(DataError, match="must identify rows"):
        staggered_did(df, "y", "id", "t", "g")


def test_unit_in_several_cohorts():
    df = _panel()
    df.loc[df.index[1], "g"] = 3 if df["g"].iloc[1] != 3 else 2
    with pytest.raises(DataError, match="constant within unit 'id'"):
        staggered_did(df, "y", "id", "t", "g")


def test_cohort_after_last_period():
    df = _panel()
    df.loc[df["id"] == 4, "g"] = 9
    with pytest.raises(DataError, match="after the panel's last period"):
        staggered_did(df, "y", "id", "t", "g")


def test_no_never_treated_units():
    df = _panel()
    df = df[df["g"] > 0]
    with pytest.raises(DataError, match="needs never-treated units"):
        staggered_did(df, "y", "id", "t", "g")
    with pytest.warns(RowsDroppedWarning, match="last cohort is the comparison group"):
        res = staggered_did(df, "y", "id", "t", "g", comparison="not_yet_treated")
    assert set(res.att_gt["cohort"]) == {2, 3}
    assert res.sample.periods == (1.0, 2.0, 3.0, 4.0)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"comparison": "never"}, "'comparison' parameter of fieldexp.staggered_did must be"),
        ({"base_period": "fixed"}, "'base_period' parameter .* must be one of"),
        ({"est_method": "ols"}, "'est_method' parameter .* must be one of"),
        ({"anticipation": -1}, "anticipation must be"),
        ({"alpha": 1.5}, "'alpha' parameter of fieldexp.staggered_did must be a number"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(SpecificationError, match=match):
        staggered_did(_panel(), "y", "id", "t", "g", **kwargs)


def test_unknown_column_suggests():
    with pytest.raises(DataError, match="Did you mean 'y'"):
        staggered_did(_panel(), "yy", "id", "t", "g")


def test_weights_and_clusters_constant_within_unit():
    df = _panel()
    df.loc[df.index[0], "w"] = 99.0
    with pytest.raises(DataError, match="weights column 'w' must be constant"):
        staggered_did(df, "y", "id", "t", "g", weights="w")
    df = _panel()
    df["cl"] = np.arange(len(df)) % 7
    with pytest.raises(DataError, match="clusters column 'cl' must be constant"):
        staggered_did(df, "y", "id", "t", "g", clusters="cl")


def test_nan_att_blocks_aggregation():
    df = _panel(seed=12, n=60)
    rng = np.random.default_rng(1)
    df["x"] = rng.normal(size=len(df))
    # a covariate that perfectly separates cohort 5 from controls in some cells
    df.loc[df["g"] == 5, "x"] += 100
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = staggered_did(df, "y", "id", "t", "g", covariates=["x"])
    assert res.att_gt["estimate"].isna().any()
    with pytest.raises(EstimationError, match="cannot aggregate"):
        res.aggregate("simple")


@pytest.mark.parametrize("comparison", ["never_treated", "not_yet_treated"])
def test_anticipation_moves_the_base_period_and_the_controls(comparison):
    df = _panel(seed=13, periods=(1, 2, 3, 4, 5, 6))
    df.loc[df["g"] == 2, "g"] = 4  # cohorts 3, 4, 5 so that g - 2 exists
    res = staggered_did(df, "y", "id", "t", "g", comparison=comparison, anticipation=1)
    assert set(res.att_gt["cohort"]) == {3, 4, 5}
    for row in res.att_gt.itertuples():
        g, t = int(row.cohort), int(row.time)
        base = g - 2 if t >= g else t - 1
        assert row.base_period == base
        later = max(t, base)

        def controls(c, g=g, later=later):
            if comparison == "never_treated":
                return c == 0
            return (c == 0) | ((c > later + 1) & (c != g))

        est, se = _brute(df, g, t, base, controls, False)
        assert row.estimate == pytest.approx(est, rel=1e-12, abs=1e-14)
        assert row.std_error == pytest.approx(se, rel=1e-10)


def test_event_window_limits_dynamic_aggregation():
    res = staggered_did(_panel(seed=14), "y", "id", "t", "g")
    full = res.aggregate("dynamic", seed=1)
    cut = res.aggregate("dynamic", seed=1, min_e=-1, max_e=1)
    assert cut.components["event_time"].tolist() == [-1, 0, 1]
    pd.testing.assert_series_equal(
        cut.components.set_index("event_time")["estimate"],
        full.components.set_index("event_time").loc[[-1, 0, 1], "estimate"],
    )
    assert cut.estimate == pytest.approx(
        full.components.set_index("event_time").loc[[0, 1], "estimate"].mean()
    )


@pytest.mark.shared
@pytest.mark.parametrize("method", ["dr", "reg", "ipw"])
def test_covariates_match_csdid_port_of_r_did(mpdta, method):
    """mpdta with xformla = ~lpop: every ATT(g,t) and SE equal csdid (make_reference_cs_covariates.py)."""
    from pathlib import Path

    ref = pd.read_csv(Path(__file__).parent / "reference_cs_covariates.csv")
    ref = ref[ref["est_method"] == method].sort_values(["cohort", "time"])
    res = staggered_did(
        mpdta, "lemp", "countyreal", "year", "first.treat", covariates=["lpop"], est_method=method
    )
    tab = res.att_gt.sort_values(["cohort", "time"])
    np.testing.assert_allclose(tab["estimate"], ref["estimate"], rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(tab["std_error"], ref["std_error"], rtol=1e-8)


def _brute_pairwise(df, g, t, base, controls):
    wide = df.pivot_table(index="id", columns="t", values="y")
    coh = df.groupby("id")["g"].first()
    n = len(coh)
    d = (wide[t] - wide[base]).reindex(coh.index)
    obs = d.notna()
    tr, co = (coh == g) & obs, controls(coh) & obs
    mt, mc = d[tr].mean(), d[co].mean()
    psi = np.zeros(n)
    psi[tr.to_numpy()] = n * (d[tr] - mt) / tr.sum()
    psi[co.to_numpy()] = -n * (d[co] - mc) / co.sum()
    return mt - mc, math.sqrt((psi**2).sum()) / n


@pytest.mark.parametrize("comparison", ["never_treated", "not_yet_treated"])
def test_unbalanced_pairwise_equals_cell_means_on_observed_pairs(comparison):
    df = _panel(seed=21)
    rng = np.random.default_rng(0)
    df = df.loc[rng.random(len(df)) > 0.15]  # registrations and purges: 15% of rows missing
    res = staggered_did(df, "y", "id", "t", "g", comparison=comparison, unbalanced="pairwise")
    assert res.sample.pairwise and res.sample.n_units_unbalanced > 0
    assert res.sample.n_units == df["id"].nunique()
    assert "unbalanced='pairwise'" in str(res)
    for row in res.att_gt.itertuples():
        g, t, b = int(row.cohort), int(row.time), int(row.base_period)
        later = max(t, b)

        def controls(c, g=g, later=later):
            if comparison == "never_treated":
                return c == 0
            return (c == 0) | ((c > later) & (c != g))

        est, se = _brute_pairwise(df, g, t, b, controls)
        assert row.estimate == pytest.approx(est, rel=1e-12, abs=1e-14)
        assert row.std_error == pytest.approx(se, rel=1e-10)
    assert np.isfinite(res.aggregate("dynamic", seed=1).std_error)


def test_pairwise_on_a_balanced_panel_is_the_balanced_estimator():
    df = _panel(seed=22)
    a = staggered_did(df, "y", "id", "t", "g", unbalanced="pairwise", weights="w")
    b = staggered_did(df, "y", "id", "t", "g", weights="w")
    pd.testing.assert_frame_equal(a.att_gt, b.att_gt)
    with pytest.raises(SpecificationError, match=r"'unbalanced' parameter .* must be one of"):
        staggered_did(df, "y", "id", "t", "g", unbalanced="keep")


def test_pairwise_with_covariates_uses_observed_pairs():
    df = _panel(seed=23)
    rng = np.random.default_rng(1)
    df["x"] = df["id"].map(pd.Series(rng.normal(size=df["id"].nunique())))
    df = df.loc[rng.random(len(df)) > 0.1]
    res = staggered_did(df, "y", "id", "t", "g", covariates=["x"], unbalanced="pairwise")
    assert res.att_gt["estimate"].notna().all()
    assert np.isfinite(res.aggregate("simple").std_error)
