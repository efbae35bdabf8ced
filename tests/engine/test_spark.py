"""Ibis on Spark local mode (``local[2]``): same results as the DataFrame path, few and small.

Skipped only when Java or pyspark (extra ``fieldexp[spark]``) is missing.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

import fieldexp as fx
from fieldexp.engine import record_pulls

from .conftest import assert_same

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"

if shutil.which("java") is None:
    pytest.skip(
        "Spark local mode needs Java (17): `java` is not on PATH (.ci/run installs "
        "openjdk-17-jre-headless)",
        allow_module_level=True,
    )
pyspark_sql = pytest.importorskip(
    "pyspark.sql", reason="pyspark is not installed (pip install 'fieldexp[spark]')"
)


@pytest.fixture(scope="module")
def spark_table() -> Iterator[object]:
    import ibis

    spark = (
        pyspark_sql.SparkSession.builder.master("local[2]")
        .appName("fieldexp-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    df = pd.read_csv(FIXTURES / "experiment_small.csv")
    spark.createDataFrame(df).createOrReplaceTempView("voters")
    con = ibis.pyspark.connect(spark)
    yield df, con.table("voters")
    spark.stop()


CASES = {
    "dim blocked-clustered": ("itt", {"blocks": "precinct_id", "clusters": "household_id"}),
    "cace stata blocks clusters": (
        "cace",
        {
            "se_type": "stata",
            "blocks": "precinct_id",
            "clusters": "household_id",
            "covariates": ["age"],
        },
    ),
}


@pytest.mark.slow
@pytest.mark.parametrize("case", list(CASES))
def test_spark_equal(spark_table: tuple[pd.DataFrame, object], case: str) -> None:
    df, t = spark_table
    kind, kw = CASES[case]
    with record_pulls() as pulls:
        if kind == "itt":
            b = fx.itt(t, "voted", "assigned", **kw)
        else:
            b = fx.cace(t, "voted", "contacted", "assigned", **kw)
    if kind == "itt":
        a = fx.itt(df, "voted", "assigned", **kw)
    else:
        a = fx.cace(df, "voted", "contacted", "assigned", **kw)
    assert_same(a, b)
    assert max(p.rows for p in pulls) <= df["household_id"].nunique() < len(df)
