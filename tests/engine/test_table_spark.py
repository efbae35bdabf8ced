"""fx.build_analysis_table on Spark local[2]: the same table and reconciliation as pandas (one small case).

Skipped only when Java or pyspark (extra ``fieldexp[spark]``) is missing.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pandas as pd
import pytest

from fieldexp.analysis import build_analysis_table as build_frame
from fieldexp.engine.table import build_engine_table

from .test_table import ELECTION, assert_same_build, messy

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
def spark_con() -> Iterator[object]:
    import ibis

    spark = (
        pyspark_sql.SparkSession.builder.master("local[2]")
        .appName("fieldexp-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    yield spark, ibis.pyspark.connect(spark)
    spark.stop()


def test_messy_tables_on_spark_equal_dataframe_build(spark_con):
    """Duplicated voter ids, a unit assigned twice, contacts for unknown voters and
    households, history for voters not in the voter file and a later election."""
    spark, con = spark_con
    v, a, c, h = messy()
    window = ("2020-10-02", "2020-10-31")
    frame, rec0 = build_frame(v, a, c, h, election=ELECTION, campaign_window=window)
    tables = []
    for name, df in zip(("sv", "sa", "sc", "sh"), (v, a, c, h), strict=True):
        spark.createDataFrame(pd.DataFrame(df)).createOrReplaceTempView(name)
        tables.append(con.table(name))
    table, rec1, _ = build_engine_table(*tables, election=ELECTION, campaign_window=window)
    # Spark hands the 0/1 int8 columns back as int32: same values, wider integers
    assert_same_build(frame, rec0, table, rec1, exact_dtypes=False)
    got = table.to_pyarrow().to_pandas()
    assert set(got["assigned"].dropna()) == {0, 1}
