"""``fx.staggered_did`` on engine tables, and ATT(g,t) with their covariance from cohort sums."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import fieldexp as fx
from fieldexp.engine import att_gt_moments, record_pulls
from fieldexp.errors import DataError, SpecificationError

from .conftest import ENGINES, RTOL, to_engine

CASES = {
    "never": {},
    "not-yet": {"comparison": "not_yet_treated"},
    "universal": {"base_period": "universal"},
    "anticipation": {"anticipation": 1},
    "clusters": {"clusters": "state"},
}


def panel(units: int = 150, seed: int = 8) -> pd.DataFrame:
    """Staggered adoption over 2010-2015 with never-treated units, some treated in the first
    period (dropped), some missing outcomes and a few absent rows (unbalanced)."""
    rng = np.random.default_rng(seed)
    periods = np.arange(2010, 2016)
    u = np.repeat(np.arange(units), len(periods))
    t = np.tile(periods, units)
    first = rng.choice([0, 2010, 2012, 2013, 2015], size=units, p=[0.3, 0.05, 0.25, 0.2, 0.2])
    g = first[u]
    y = 1000 + rng.normal(size=units)[u] + 0.1 * (t - 2010) + 0.4 * ((g > 0) & (t >= g))
    y = y + rng.normal(scale=0.5, size=len(u))
    df = pd.DataFrame({"unit": u, "year": t, "y": y, "first": g, "state": u % 11})
    df.loc[rng.choice(len(df), 12, replace=False), "y"] = np.nan
    return df.drop(index=rng.choice(len(df), 9, replace=False)).sample(frac=1, random_state=1)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("case", list(CASES))
def test_staggered_did_same_result(engine: str, case: str) -> None:
    df = panel()
    kw = CASES[case]
    with pytest.warns(fx.errors.FieldexpWarning):
        a = fx.staggered_did(df, "y", "unit", "year", "first", **kw)  # type: ignore[arg-type]
    with pytest.warns(fx.errors.FieldexpWarning), record_pulls() as pulls:
        b = fx.staggered_did(to_engine(df, engine), "y", "unit", "year", "first", **kw)  # type: ignore[arg-type]
    pd.testing.assert_frame_equal(a.att_gt, b.att_gt, rtol=RTOL)
    np.testing.assert_allclose(b.influence, a.influence, rtol=RTOL, atol=1e-12)
    assert a.sample == b.sample
    for kind in ("simple", "dynamic"):
        x, y = a.aggregate(kind, seed=3), b.aggregate(kind, seed=3)
        pd.testing.assert_frame_equal(x.to_frame(), y.to_frame(), rtol=RTOL)
    # the largest pull is one row per unit (never one per unit-period row)
    assert max(p.rows for p in pulls) == df["unit"].nunique() < len(df)


@pytest.mark.parametrize("engine", ["ibis-duckdb", "polars"])
@pytest.mark.parametrize("case", ["never", "not-yet", "universal", "anticipation"])
def test_moments_equal_unit_influence(engine: str, case: str) -> None:
    """ATT(g,t), SEs and Psi'Psi/n^2 from cohort x period sums only (C+1 rows pulled)."""
    df = panel()
    kw = CASES[case]
    with pytest.warns(fx.errors.FieldexpWarning):
        a = fx.staggered_did(df, "y", "unit", "year", "first", **kw)  # type: ignore[arg-type]
    with record_pulls() as pulls:
        mo = att_gt_moments(to_engine(df, engine), "y", "unit", "year", "first", **kw)  # type: ignore[arg-type]
    np.testing.assert_allclose(mo.estimate, a.att_gt["estimate"], rtol=RTOL, atol=1e-12)
    np.testing.assert_allclose(mo.std_error, a.att_gt["std_error"], rtol=RTOL)
    n = a.influence.shape[0]
    V = a.influence.T @ a.influence / n**2
    np.testing.assert_allclose(mo.vcov, V, rtol=RTOL, atol=1e-12 * np.abs(V).max())
    np.testing.assert_array_equal(mo.cohort, a.att_gt["cohort"])
    np.testing.assert_array_equal(mo.n_treated, a.att_gt["n_treated"])
    np.testing.assert_array_equal(mo.n_control, a.att_gt["n_control"])
    assert mo.n_units == n
    cohorts = df.loc[df["first"] > 0, "first"].nunique()
    assert max(p.rows for p in pulls) <= max(cohorts + 1, df["year"].nunique())


def test_mpdta_against_r_did(shared_data: Path) -> None:
    """R did 2.5.0 att_gt on mpdta (README of ../shared/data): ATT(2004,2004), ATT(2006,2007)."""
    m = pd.read_csv(shared_data / "mpdta.csv")
    mo = att_gt_moments(to_engine(m, "ibis-duckdb"), "lemp", "countyreal", "year", "first.treat")
    cell = {(g, t): i for i, (g, t) in enumerate(zip(mo.cohort, mo.time, strict=True))}
    i, j = cell[(2004.0, 2004.0)], cell[(2006.0, 2007.0)]
    assert mo.estimate[i] == pytest.approx(-0.010503, abs=5e-7)
    assert mo.std_error[i] == pytest.approx(0.023251, abs=5e-7)
    assert mo.estimate[j] == pytest.approx(-0.041224, abs=5e-7)
    assert mo.std_error[j] == pytest.approx(0.020229, abs=5e-7)
    a = fx.staggered_did(m, "lemp", "countyreal", "year", "first.treat")
    b = fx.staggered_did(to_engine(m, "pyarrow"), "lemp", "countyreal", "year", "first.treat")
    pd.testing.assert_frame_equal(a.att_gt, b.att_gt, rtol=RTOL)


def test_refusals() -> None:
    df = panel()
    t = to_engine(df, "pyarrow")
    with pytest.raises(SpecificationError, match="covariates"):
        fx.staggered_did(t, "y", "unit", "year", "first", covariates=["state"])  # type: ignore[arg-type]
    with pytest.raises(SpecificationError, match="weights"):
        fx.staggered_did(t, "y", "unit", "year", "first", weights="state")  # type: ignore[arg-type]
    dup = pd.concat([df, df.iloc[[0]]])
    with pytest.raises(DataError, match="identify rows"):
        fx.staggered_did(to_engine(dup, "polars"), "y", "unit", "year", "first")  # type: ignore[arg-type]


def test_unit_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    from fieldexp.engine import staggered

    monkeypatch.setattr(staggered, "MAX_PANEL_UNITS", 100)
    with pytest.raises(SpecificationError, match=r"150 units exceed the bound of 100.*MB"):
        fx.staggered_did(to_engine(panel(), "ibis-duckdb"), "y", "unit", "year", "first")  # type: ignore[arg-type]


@pytest.mark.parametrize("engine", ["ibis-duckdb", "pyarrow"])
def test_moments_clustered(engine: str) -> None:
    """Influence functions summed within clusters (state): same SEs as the DataFrame path."""
    df = panel()
    with pytest.warns(fx.errors.FieldexpWarning):
        a = fx.staggered_did(df, "y", "unit", "year", "first", clusters="state")
    with record_pulls() as pulls:
        mo = att_gt_moments(to_engine(df, engine), "y", "unit", "year", "first", clusters="state")
    np.testing.assert_allclose(mo.estimate, a.att_gt["estimate"], rtol=RTOL, atol=1e-12)
    np.testing.assert_allclose(mo.std_error, a.att_gt["std_error"], rtol=RTOL)
    cl = np.asarray(a.clusters)
    U = np.zeros((cl.max() + 1, a.influence.shape[1]))
    np.add.at(U, cl, a.influence)
    n = a.influence.shape[0]
    np.testing.assert_allclose(
        mo.vcov, U.T @ U / n**2, rtol=RTOL, atol=1e-12 * np.abs(mo.vcov).max()
    )
    states, cohorts = df["state"].nunique(), df["first"].nunique()
    assert max(p.rows for p in pulls) <= states * cohorts < df["unit"].nunique()


@pytest.mark.parametrize("case", ["never", "not-yet", "universal", "clusters"])
@pytest.mark.parametrize("kind", ["simple", "group", "dynamic", "calendar"])
def test_moments_aggregate_equal(case: str, kind: str) -> None:
    """Aggregations and their analytic SEs from cohort sums = StaggeredDiD.aggregate."""
    df = panel()
    kw = CASES[case]
    with pytest.warns(fx.errors.FieldexpWarning):
        a = fx.staggered_did(df, "y", "unit", "year", "first", **kw)  # type: ignore[arg-type]
    mo = att_gt_moments(to_engine(df, "ibis-duckdb"), "y", "unit", "year", "first", **kw)  # type: ignore[arg-type]
    x, y = a.aggregate(kind, seed=1), mo.aggregate(kind)
    assert y.overall_estimate == pytest.approx(x.estimate, rel=RTOL)
    assert y.overall_std_error == pytest.approx(x.std_error, rel=RTOL)
    if kind != "simple":
        comp = x.components
        np.testing.assert_allclose(y.labels, comp[comp.columns[0]].to_numpy(dtype=float))
        np.testing.assert_allclose(y.estimate, comp["estimate"], rtol=RTOL, atol=1e-12)
        np.testing.assert_allclose(y.std_error, comp["std_error"], rtol=RTOL)


def test_mpdta_aggte_against_r(shared_data: Path) -> None:
    """R did 2.5.0 aggte on mpdta (README of ../shared/data), 6 published digits."""
    m = pd.read_csv(shared_data / "mpdta.csv")
    mo = att_gt_moments(to_engine(m, "polars"), "lemp", "countyreal", "year", "first.treat")
    published = {
        "simple": (-0.039951, 0.012034),
        "group": (-0.031018, 0.012446),
        "dynamic": (-0.077240, 0.019965),
        "calendar": (-0.041700, 0.015972),
    }
    for kind, (est, se) in published.items():
        agg = mo.aggregate(kind)
        assert agg.overall_estimate == pytest.approx(est, abs=5e-7), kind
        assert agg.overall_std_error == pytest.approx(se, abs=5e-7), kind
    with pytest.raises(SpecificationError, match="kind"):
        mo.aggregate("cumulative")
