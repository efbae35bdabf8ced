"""Engine fixtures: the same data as a pandas DataFrame, an Ibis-DuckDB table, Polars and Arrow."""

from __future__ import annotations

import math
import shutil
from collections.abc import Callable, Iterator

import ibis
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

from fieldexp.results import EffectResult

ENGINES = ("ibis-duckdb", "polars", "polars-lazy", "pyarrow")

#: equality tolerance of engine results vs the DataFrame path (issue 12)
RTOL = 1e-9


def to_engine(df: pd.DataFrame, engine: str, name: str = "voters") -> object:
    """``df`` as the given engine table (DuckDB table registered under ``name``)."""
    if engine == "ibis-duckdb":
        # a real DuckDB table (not a memtable); created through DuckDB itself because
        # ibis 12's create_table from an in-memory object fails on duckdb 2.0 (DROP VIEW)
        con = ibis.duckdb.connect()
        arrow = pa.Table.from_pandas(df, preserve_index=False)
        con.con.register("_fx_source", arrow)
        con.con.execute(f'CREATE TABLE "{name}" AS SELECT * FROM _fx_source')
        con.con.unregister("_fx_source")
        return con.table(name)
    if engine == "polars":
        return pl.from_pandas(df)
    if engine == "polars-lazy":
        return pl.from_pandas(df).lazy()
    if engine == "pyarrow":
        return pa.Table.from_pandas(df, preserve_index=False)
    raise ValueError(engine)


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> Callable[[pd.DataFrame], object]:
    return lambda df: to_engine(df, request.param)


NUMERIC = ("estimate", "std_error", "statistic", "df", "p_value", "ci_low", "ci_high")
EXACT = ("nobs", "nclusters", "se_type", "method", "design", "outcome", "term", "estimand")
FIRST = (
    "estimate",
    "std_error",
    "f_statistic",
    "df",
    "control_contact_rate",
    "treated_contact_rate",
)


def assert_same(a: EffectResult, b: EffectResult, rtol: float = RTOL) -> float:
    """Every field equal (numbers at ``rtol``); returns the largest relative difference seen."""
    worst = 0.0
    for f in (*EXACT, "n_dropped", "alpha", "notes"):
        assert getattr(a, f) == getattr(b, f), f
    pairs = [(f, getattr(a, f), getattr(b, f)) for f in NUMERIC]
    if a.first_stage is not None or b.first_stage is not None:
        assert a.first_stage is not None and b.first_stage is not None
        pairs += [
            (f"first_stage.{f}", getattr(a.first_stage, f), getattr(b.first_stage, f))
            for f in FIRST
        ]
    for name, x, y in pairs:
        if math.isnan(x) or math.isinf(x):
            assert (math.isnan(x) and math.isnan(y)) or x == y, name
            continue
        assert y == pytest.approx(x, rel=rtol, abs=1e-15), name
        if x != 0:
            worst = max(worst, abs(y / x - 1))
    return worst


@pytest.fixture(scope="session")
def spark_session() -> Iterator[object]:
    """One Spark ``local[2]`` session for every Spark test (starting one takes ~10-20 s).

    Skips only when Java or pyspark (extra ``fieldexp[spark]``) is missing.
    """
    if shutil.which("java") is None:
        pytest.skip(
            "Spark local mode needs Java (17): `java` is not on PATH (.ci/run installs "
            "openjdk-17-jre-headless)"
        )
    pyspark_sql = pytest.importorskip(
        "pyspark.sql", reason="pyspark is not installed (pip install 'fieldexp[spark]')"
    )
    spark = (
        pyspark_sql.SparkSession.builder.master("local[2]")
        .appName("fieldexp-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    yield spark
    spark.stop()


def to_spark(spark: object, df: pd.DataFrame, name: str) -> object:
    """``df`` as an Ibis table on the Spark session (a temporary view ``name``)."""
    spark.createDataFrame(df).createOrReplaceTempView(name)  # type: ignore[attr-defined]
    return ibis.pyspark.connect(spark).table(name)
