"""``fx.did`` (two-way fixed effects) on engine tables vs the DataFrame path, at rtol 1e-9."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import fieldexp as fx
from fieldexp.engine import record_pulls
from fieldexp.errors import DataError, SpecificationError

from .conftest import ENGINES, assert_same, to_engine

CASES = {
    "stata-unclustered": {},
    "stata-clustered-unit": {"clusters": "unit"},
    "fixest-clustered-unit": {"clusters": "unit", "small_sample": "fixest"},
    "CR0-state": {"se_type": "CR0", "clusters": "state"},
    "fixest-state": {"clusters": "state", "small_sample": "fixest"},
    "HC0": {"se_type": "HC0"},
    "HC1-covs": {"se_type": "HC1", "covariates": ["x"]},
    "HC2": {"se_type": "HC2"},
    "HC2-covs": {"se_type": "HC2", "covariates": ["x"]},
    "HC3": {"se_type": "HC3"},
    "stata-clustered-covs": {"clusters": "unit", "covariates": ["x"]},
}


def panel(units: int = 120, periods: int = 6, seed: int = 5) -> pd.DataFrame:
    """A balanced panel with staggered absorbing treatment, a covariate and state clusters."""
    rng = np.random.default_rng(seed)
    u = np.repeat(np.arange(units), periods)
    t = np.tile(np.arange(2010, 2010 + periods), units)
    first = rng.choice([0, 2012, 2013, 2014], size=units)[u]
    d = ((first > 0) & (t >= first)).astype(int)
    x = rng.normal(size=len(u))
    y = 0.3 * d + 0.2 * x + rng.normal(size=units)[u] + 0.05 * (t - 2010) + rng.normal(size=len(u))
    return pd.DataFrame(
        {"unit": u, "year": t, "d": d, "x": x, "y": y, "state": u % 9, "first": first}
    )


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("case", list(CASES))
def test_twfe_equal(engine: str, case: str) -> None:
    df = panel()
    kw = CASES[case]
    a = fx.did(df, "y", "unit", "year", "d", **kw)  # type: ignore[arg-type]
    with record_pulls() as pulls:
        b = fx.did(to_engine(df, engine), "y", "unit", "year", "d", **kw)  # type: ignore[arg-type]
    assert_same(a, b)
    # only aggregates: every pull is one row (checks, cells, absorbing, cross-products, scores)
    assert max(p.rows for p in pulls) == 1
    assert sum(p.nbytes for p in pulls) < 2_000


def test_fixest_differs_from_estimatr_with_unit_clusters() -> None:
    t = to_engine(panel(), "ibis-duckdb")
    a = fx.did(t, "y", "unit", "year", "d", clusters="unit")  # type: ignore[arg-type]
    b = fx.did(t, "y", "unit", "year", "d", clusters="unit", small_sample="fixest")  # type: ignore[arg-type]
    assert b.std_error < a.std_error  # unit effects nested in clusters are not counted


def test_two_by_two() -> None:
    """Two periods, two groups: the canonical 2x2 difference in differences."""
    df = panel(units=80, periods=2)
    df["d"] = ((df["unit"] % 2 == 1) & (df["year"] == 2011)).astype(int)
    a = fx.did(df, "y", "unit", "year", "d", clusters="unit")
    b = fx.did(to_engine(df, "pyarrow"), "y", "unit", "year", "d", clusters="unit")  # type: ignore[arg-type]
    assert_same(a, b)
    g = df.assign(treated=df["unit"] % 2).groupby(["treated", "year"])["y"].mean()
    by_hand = (g[1, 2011] - g[1, 2010]) - (g[0, 2011] - g[0, 2010])
    assert b.estimate == pytest.approx(by_hand, rel=1e-12)


def test_missing_rows_dropped_and_counted() -> None:
    """Dropping every row of some units keeps the panel balanced; counts as on pandas."""
    df = panel()
    df.loc[df["unit"].isin([3, 7]), "y"] = np.nan
    with pytest.warns(fx.errors.RowsDroppedWarning):
        a = fx.did(df, "y", "unit", "year", "d", clusters="unit")
    with pytest.warns(fx.errors.RowsDroppedWarning):
        b = fx.did(to_engine(df, "polars"), "y", "unit", "year", "d", clusters="unit")  # type: ignore[arg-type]
    assert_same(a, b)
    assert b.n_dropped == 12


def test_mpdta(shared_data: Path) -> None:
    m = pd.read_csv(shared_data / "mpdta.csv")
    m["d"] = ((m["first.treat"] > 0) & (m["year"] >= m["first.treat"])).astype(int)
    for kw in ({"clusters": "countyreal"}, {"se_type": "HC2"}):
        a = fx.did(m, "lemp", "countyreal", "year", "d", **kw)  # type: ignore[arg-type]
        b = fx.did(to_engine(m, "ibis-duckdb"), "lemp", "countyreal", "year", "d", **kw)  # type: ignore[arg-type]
        assert_same(a, b)


def test_text_periods_note_as_pandas() -> None:
    df = panel(units=40, periods=3)
    df["year"] = df["year"].map({2010: "first", 2011: "second", 2012: "third"})
    a = fx.did(df, "y", "unit", "year", "d")
    b = fx.did(to_engine(df, "ibis-duckdb"), "y", "unit", "year", "d")  # type: ignore[arg-type]
    assert_same(a, b)


def test_duplicates_and_switching_off_refused() -> None:
    df = panel()
    dup = pd.concat([df, df.iloc[[0]]], ignore_index=True)
    with pytest.raises(DataError, match="must identify rows"):
        fx.did(to_engine(dup, "ibis-duckdb"), "y", "unit", "year", "d")  # type: ignore[arg-type]
    off = df.copy()
    treated = off.index[(off["first"] == 2012) & (off["year"] == 2015)]
    off.loc[treated, "d"] = 0
    with pytest.raises(DataError, match="switches off"):
        fx.did(off, "y", "unit", "year", "d")
    with pytest.raises(DataError, match="switches off"):
        fx.did(to_engine(off, "polars"), "y", "unit", "year", "d")  # type: ignore[arg-type]


def test_cr2_and_weights_refused() -> None:
    t = to_engine(panel(), "pyarrow")
    with pytest.raises(SpecificationError, match="CR2"):
        fx.did(t, "y", "unit", "year", "d", clusters="unit", se_type="CR2")  # type: ignore[arg-type]
    with pytest.raises(SpecificationError, match="weights"):
        fx.did(t, "y", "unit", "year", "d", weights="x")  # type: ignore[arg-type]


def test_pulls_logged_at_debug(caplog: pytest.LogCaptureFixture) -> None:
    t = to_engine(panel(), "ibis-duckdb")
    with caplog.at_level("DEBUG", logger="fieldexp.engine"):
        fx.did(t, "y", "unit", "year", "d", clusters="unit")  # type: ignore[arg-type]
    lines = [r.getMessage() for r in caplog.records if r.name == "fieldexp.engine"]
    assert any("cross-products: 1 rows" in m and "bytes" in m for m in lines), lines
