"""``fx.did`` on UNBALANCED panels in the engine vs the DataFrame path, at rtol 1e-9.

The engine solves the period effects exactly (units absorbed, a T x T Laplacian system from
observation patterns); the DataFrame path absorbs both factors by alternating projections.
Hostile cases: singleton units, a period with one unit, missing outcomes, shuffled rows, a
slowly mixing chain panel, disconnected periods, text and date periods.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import fieldexp as fx
from fieldexp.engine import record_pulls
from fieldexp.errors import EstimationError, RowsDroppedWarning, SpecificationError
from fieldexp.stats.covariance import LeverageError

from .conftest import ENGINES, assert_same, to_engine, to_spark
from .test_did import CASES, panel


def unbalanced(seed: int = 1, drop: float = 0.25) -> pd.DataFrame:
    """The engine test panel with a share of rows dropped; every unit keeps >= 2 rows and
    every period >= 2 units (no leverage-one row, so HC2/HC3 are defined); rows shuffled."""
    df = panel()
    rng = np.random.default_rng(seed)
    df = df[rng.random(len(df)) > drop]
    df = df[df.groupby("unit")["year"].transform("size") >= 2]
    assert len(df) < df["unit"].nunique() * df["year"].nunique()
    return df.sample(frac=1.0, random_state=seed)


def patterns(df: pd.DataFrame) -> int:
    return df.groupby("unit")["year"].apply(lambda s: tuple(sorted(s))).nunique()


def _both(df: pd.DataFrame, engine: str = "ibis-duckdb", **kw: object) -> tuple[object, object]:
    a = fx.did(df, "y", "unit", "year", "d", **kw)  # type: ignore[arg-type]
    b = fx.did(to_engine(df, engine), "y", "unit", "year", "d", **kw)  # type: ignore[arg-type]
    return a, b


@pytest.mark.parametrize("case", list(CASES))
def test_unbalanced_equal_every_se_type(case: str) -> None:
    df = unbalanced()
    kw = CASES[case]
    a = fx.did(df, "y", "unit", "year", "d", **kw)  # type: ignore[arg-type]
    with record_pulls() as pulls:
        b = fx.did(to_engine(df, "ibis-duckdb"), "y", "unit", "year", "d", **kw)  # type: ignore[arg-type]
    assert_same(a, b)  # type: ignore[arg-type]
    # aggregates only: at most one row per observation pattern or period
    bound = max(patterns(df), df["year"].nunique())
    assert max(p.rows for p in pulls) <= bound < len(df)
    assert sum(p.nbytes for p in pulls) < 4_000 + 16 * bound
    assert "observation patterns" in [p.what for p in pulls]


@pytest.mark.parametrize("engine", ENGINES)
def test_unbalanced_engines(engine: str) -> None:
    df = unbalanced(seed=2)
    for kw in ({}, {"se_type": "HC2", "covariates": ["x"]}, {"clusters": "state"}):
        assert_same(*_both(df, engine, **kw))  # type: ignore[arg-type]


def test_shuffled_rows_same_numbers() -> None:
    df = unbalanced(seed=3)
    t1 = fx.did(to_engine(df, "ibis-duckdb"), "y", "unit", "year", "d", clusters="unit")  # type: ignore[arg-type]
    t2 = fx.did(to_engine(df.sample(frac=1.0, random_state=9), "polars"), "y", "unit", "year", "d", clusters="unit")  # type: ignore[arg-type]  # fmt: skip
    assert_same(t1, t2, rtol=1e-12)


def hostile() -> pd.DataFrame:
    """A unit observed once, a period with one (multi-period) unit, missing outcomes."""
    df = unbalanced(seed=4)
    extra = pd.DataFrame(
        {
            "unit": [999, 5],
            "year": [2012, 2030],
            "d": [0, 1],
            "x": [0.3, 0.1],
            "y": [1.0, 2.0],
            "state": [3, 5],
            "first": [0, 2012],
        }
    )
    df = pd.concat([df, extra], ignore_index=True)
    df.loc[df.index[::17], "y"] = np.nan
    return df.sample(frac=1.0, random_state=4)


@pytest.mark.parametrize(
    "kw",
    [{}, {"se_type": "HC0"}, {"se_type": "HC1", "covariates": ["x"]}, {"clusters": "unit"},
     {"clusters": "state", "se_type": "CR0"}, {"clusters": "state", "small_sample": "fixest"}],
)  # fmt: skip
def test_hostile_singleton_lonely_period_missing(kw: dict[str, object]) -> None:
    df = hostile()
    with pytest.warns(RowsDroppedWarning):
        a, b = _both(df, "pyarrow", **kw)
    assert_same(a, b)  # type: ignore[arg-type]
    assert b.n_dropped == int(df["y"].isna().sum()) > 0  # type: ignore[attr-defined]


@pytest.mark.parametrize("se_type", ["HC2", "HC3"])
def test_hostile_leverage_one_refused_as_pandas(se_type: str) -> None:
    df = hostile()
    with pytest.warns(RowsDroppedWarning), pytest.raises(LeverageError) as pandas_err:
        fx.did(df, "y", "unit", "year", "d", se_type=se_type)
    with pytest.warns(RowsDroppedWarning), pytest.raises(LeverageError) as engine_err:
        fx.did(to_engine(df, "ibis-duckdb"), "y", "unit", "year", "d", se_type=se_type)  # type: ignore[arg-type]
    n_pandas = str(pandas_err.value).split(" observation(s)")[0].split("and ")[-1]
    assert f"and {n_pandas} observation(s) have leverage h_ii = 1" in str(engine_err.value)
    assert int(n_pandas) >= 2  # the singleton and the lonely period's row


def chain(units: int = 300, periods: int = 30) -> pd.DataFrame:
    """Each unit seen in two consecutive periods: alternating projections mix slowly."""
    rng = np.random.default_rng(3)
    rows = [(i, 2000 + s + j) for i in range(units) for s in [i % (periods - 1)] for j in (0, 1)]
    df = pd.DataFrame(rows, columns=["unit", "year"])
    start = 2001 + df["unit"] % (periods - 1)
    df["d"] = ((df["unit"] % 3 == 0) & (df["year"] >= start)).astype(int)
    df["x"] = rng.normal(size=len(df))
    df["y"] = 0.5 * df["d"] + 0.1 * (df["year"] - 2000) + rng.normal(size=len(df))
    df["state"] = df["unit"] % 7
    return df


@pytest.mark.parametrize("kw", [{}, {"se_type": "HC2"}, {"clusters": "unit"}])
def test_slowly_mixing_chain(kw: dict[str, object]) -> None:
    assert_same(*_both(chain(), **kw))  # type: ignore[arg-type]


def test_disconnected_periods() -> None:
    df = panel()
    first = df["unit"] < 60
    df = df[(first & (df["year"] <= 2012)) | (~first & (df["year"] > 2012))]
    assert_same(*_both(df))  # type: ignore[arg-type]
    assert_same(*_both(df, clusters="unit"))  # type: ignore[arg-type]
    with pytest.raises(EstimationError):
        fx.did(df, "y", "unit", "year", "d", se_type="HC2")
    with pytest.raises(EstimationError, match="fall into 2 groups that no unit links"):
        fx.did(to_engine(df, "ibis-duckdb"), "y", "unit", "year", "d", se_type="HC2")  # type: ignore[arg-type]


def test_text_and_date_periods() -> None:
    df = unbalanced(seed=5)
    text = df.assign(year=df["year"].map(lambda y: f"Y{y}"))
    assert_same(*_both(text, "polars", clusters="unit"))  # type: ignore[arg-type]
    dates = df.assign(year=pd.to_datetime(df["year"].astype(str) + "-11-03"))
    assert_same(*_both(dates, "ibis-duckdb", se_type="HC3"))  # type: ignore[arg-type]


def test_too_many_periods_refused_with_route() -> None:
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"unit": np.repeat(np.arange(20), 70), "year": np.tile(np.arange(70), 20)})
    df["d"] = (df["year"] > 40).astype(int) * (df["unit"] % 2)
    df["y"] = rng.normal(size=len(df))
    df = df.drop(index=[3, 50])
    with pytest.raises(SpecificationError, match=r"more than 62 periods.*MB.*fx.did on the"):
        fx.did(to_engine(df, "ibis-duckdb"), "y", "unit", "year", "d")  # type: ignore[arg-type]


@pytest.mark.parametrize("dialect", ["bigquery", "snowflake", "trino", "postgres"])
def test_warehouse_sql_compiles(dialect: str) -> None:
    import ibis

    df = unbalanced(seed=6)
    with record_pulls() as pulls:
        fx.did(to_engine(df, "ibis-duckdb"), "y", "unit", "year", "d", se_type="HC2")  # type: ignore[arg-type]
    for p in pulls:
        assert "SELECT" in ibis.to_sql(p.expr, dialect=dialect)


@pytest.mark.slow
def test_spark_unbalanced(spark_session: object) -> None:
    df = hostile()  # singleton unit, lonely period, missing outcomes, shuffled
    t = to_spark(spark_session, df, "did_unbalanced")
    for kw in ({"clusters": "unit"}, {"se_type": "HC1", "covariates": ["x"]}):
        with pytest.warns(RowsDroppedWarning):
            a = fx.did(df, "y", "unit", "year", "d", **kw)  # type: ignore[arg-type]
            b = fx.did(t, "y", "unit", "year", "d", **kw)  # type: ignore[arg-type]
        assert_same(a, b)
    u = unbalanced(seed=7)
    tu = to_spark(spark_session, u, "did_unbalanced_hc2")
    assert_same(fx.did(u, "y", "unit", "year", "d", se_type="HC2"),
                fx.did(tu, "y", "unit", "year", "d", se_type="HC2"))  # type: ignore[arg-type]  # fmt: skip


def test_mpdta_unbalanced(shared_data: Path) -> None:
    """The published county panel with 15% of county-years removed (and rows shuffled)."""
    m = pd.read_csv(shared_data / "mpdta.csv")
    m["d"] = ((m["first.treat"] > 0) & (m["year"] >= m["first.treat"])).astype(int)
    m = m[np.random.default_rng(12).random(len(m)) > 0.15].sample(frac=1.0, random_state=1)
    for kw in (
        {"clusters": "countyreal"},
        {"se_type": "HC1"},
        {"clusters": "countyreal", "small_sample": "fixest"},
    ):
        a = fx.did(m, "lemp", "countyreal", "year", "d", **kw)  # type: ignore[arg-type]
        b = fx.did(to_engine(m, "ibis-duckdb"), "lemp", "countyreal", "year", "d", **kw)  # type: ignore[arg-type]
        assert_same(a, b)
