"""fieldexp.event_study: dynamic TWFE against estimatr, Sun & Abraham against Callaway & Sant'Anna."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import fieldexp as fx
from fieldexp.diffindiff import event_study, staggered_did
from fieldexp.errors import DataError, RowsDroppedWarning, SpecificationError

HERE = Path(__file__).parent
REF = pd.read_csv(HERE / "reference_twfe.csv").set_index("case")


@pytest.fixture(scope="module")
def mpdta(shared_data):
    return pd.read_csv(shared_data / "mpdta.csv")


def _staggered(seed=0, n=400, T=6, never=True):
    rng = np.random.default_rng(seed)
    cohorts = [0, 3, 4, 5] if never else [3, 4, 5, 6]
    g = rng.choice(cohorts, size=n)
    a = rng.normal(size=n)
    rows = []
    for i in range(n):
        for t in range(1, T + 1):
            eff = (0.2 + 0.1 * (t - g[i]) + 0.05 * g[i]) if g[i] and t >= g[i] else 0.0
            rows.append((i, t, g[i], a[i] + 0.2 * t + eff + rng.normal()))
    return pd.DataFrame(rows, columns=["id", "t", "g", "y"])


@pytest.mark.shared
def test_dynamic_twfe_matches_estimatr(mpdta):
    res = event_study(mpdta, "lemp", "countyreal", "year", "first.treat", clusters="countyreal")
    tab = res.coefficients.set_index("event_time")
    for e in [-4, -3, -2, 0, 1, 2, 3]:
        ref = REF.loc[f"mpdta_es_{'em' + str(-e) if e < 0 else 'e' + str(e)}"]
        for col in ["estimate", "std_error", "statistic", "df", "p_value", "ci_low", "ci_high"]:
            assert tab.loc[e, col] == pytest.approx(ref[col], rel=1e-8), (e, col)
    assert tab.loc[-1, "estimate"] == 0 and np.isnan(tab.loc[-1, "std_error"])
    assert res.nclusters == 500 and res.pretest is not None and res.pretest.df == 3


@pytest.mark.shared
def test_sun_abraham_equals_cs_dynamic_on_mpdta(mpdta):
    sa = event_study(mpdta, "lemp", "countyreal", "year", "first.treat", estimator="sun_abraham")
    for base in ["universal", "varying"]:
        cs = staggered_did(mpdta, "lemp", "countyreal", "year", "first.treat", base_period=base)
        comp = cs.aggregate("dynamic", seed=1).components.set_index("event_time")
        tab = sa.coefficients.set_index("event_time")
        events = tab.index if base == "universal" else tab.index[tab.index >= 0]
        for e in events:
            assert tab.loc[e, "estimate"] == pytest.approx(comp.loc[e, "estimate"], abs=1e-12)
    # and the post-period ones are R did's dynamic event-time estimates (README, 6 decimals)
    for e, ref in [(0, -0.019932), (1, -0.050957), (2, -0.137259), (3, -0.100811)]:
        assert abs(tab.loc[e, "estimate"] - ref) <= 5e-7


@pytest.mark.parametrize("seed", [1, 2])
def test_sun_abraham_identity_on_simulated_panel(seed):
    df = _staggered(seed)
    sa = event_study(df, "y", "id", "t", "g", estimator="sun_abraham", clusters="id")
    cs = staggered_did(df, "y", "id", "t", "g", base_period="universal").aggregate(
        "dynamic", seed=1
    )
    a = sa.coefficients.set_index("event_time")["estimate"]
    b = cs.components.set_index("event_time")["estimate"]
    pd.testing.assert_series_equal(a, b, check_names=False, rtol=1e-10, atol=1e-12)
    varying = staggered_did(df, "y", "id", "t", "g").aggregate("dynamic", seed=1).components
    v = varying.set_index("event_time")["estimate"]
    pre = [e for e in a.index if e < -1 and e in v.index]
    assert not np.allclose(a[pre], v[pre])  # pre-periods differ by design
    np.testing.assert_allclose(a[a.index >= 0], v[v.index >= 0], rtol=1e-10)
    shares = sa.cohort_shares
    assert np.allclose(shares.groupby("event_time")["share"].sum(), 1.0)


def test_sun_abraham_last_treated_control():
    df = _staggered(3, never=False)
    with pytest.raises(DataError, match="no never-treated units"):
        event_study(df, "y", "id", "t", "g")
    sa = event_study(df, "y", "id", "t", "g", estimator="sun_abraham")
    assert sa.comparison == "last-treated cohort 6"
    with pytest.warns(FutureWarning, match="renamed EventStudy.comparison"):
        assert sa.control_cohort == sa.comparison
    assert sa.coefficients["event_time"].max() == 2  # cohort 3 seen up to period 5


def test_window_bins_endpoints_and_reference():
    df = _staggered(4)
    res = event_study(df, "y", "id", "t", "g", leads=2, lags=1, clusters="id")
    assert res.coefficients["event_time"].tolist() == [-2, -1, 0, 1]
    res2 = event_study(df, "y", "id", "t", "g", reference=-2, clusters="id")
    tab = res2.coefficients.set_index("event_time")
    assert tab.loc[-2, "estimate"] == 0 and np.isfinite(tab.loc[-1, "std_error"])
    with pytest.raises(SpecificationError, match="outside the window"):
        event_study(df, "y", "id", "t", "g", leads=2, reference=-3)
    with pytest.raises(SpecificationError, match="'leads'"):
        event_study(df, "y", "id", "t", "g", leads=-1)


def test_pretest_detects_pre_trend():
    df = _staggered(5)
    df.loc[df["g"] > 0, "y"] += 0.3 * df.loc[df["g"] > 0, "t"]  # diverging trends
    res = event_study(df, "y", "id", "t", "g", estimator="sun_abraham", clusters="id")
    assert res.pretest.p_value < 0.01
    clean = event_study(_staggered(5), "y", "id", "t", "g", estimator="sun_abraham", clusters="id")
    assert clean.pretest.p_value > 1e-3


def test_rendering_and_plot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    res = fx.event_study(_staggered(6), "y", "id", "t", "g", clusters="id")
    assert "pre-trend test" in str(res) and "<table" in res._repr_html_()
    ax = res.plot()
    assert "event time" in ax.get_xlabel()
    plt.close("all")


def test_bad_input():
    df = _staggered(7)
    with pytest.raises(SpecificationError, match="'estimator'"):
        event_study(df, "y", "id", "t", "g", estimator="bjs")
    with pytest.raises(SpecificationError, match="CR2"):
        event_study(df, "y", "id", "t", "g", estimator="sun_abraham", clusters="id", se_type="CR2")
    bad = df.copy()
    bad.loc[bad.index[0], "g"] = 5 if bad["g"].iloc[0] != 5 else 4
    with pytest.raises(DataError, match="constant within unit"):
        event_study(bad, "y", "id", "t", "g")
    late = df.copy()
    late.loc[late["id"] == 1, "g"] = 10
    with pytest.raises(DataError, match="after the panel's last period"):
        event_study(late, "y", "id", "t", "g")
    early = df.copy()
    early.loc[early["id"] < 3, "g"] = 1
    with pytest.warns(RowsDroppedWarning, match="always treated"):
        event_study(early, "y", "id", "t", "g")


def test_weights_and_clusters_pass_through():
    df = _staggered(8)
    df["w"] = 1.0 + (df["id"] % 3)
    df["cl"] = df["id"] // 10
    a = event_study(df, "y", "id", "t", "g", estimator="sun_abraham", weights="w", clusters="cl")
    b = event_study(df, "y", "id", "t", "g", estimator="sun_abraham")
    assert a.nclusters == 40 and b.nclusters is None
    assert not np.allclose(a.coefficients["estimate"], b.coefficients["estimate"])
    tw = event_study(df, "y", "id", "t", "g", clusters="cl", se_type="CR2")
    dfs = tw.coefficients["df"].dropna()
    assert dfs.min() < dfs.max()  # Bell-McCaffrey df per coefficient
