"""The Spark session settings of ``connect_engine`` (what the engine-scale benchmark measures)."""

from __future__ import annotations

import os

import pytest

from fieldexp.engine.connect import spark_conf


@pytest.mark.parametrize(
    ("master", "partitions"),
    [
        (None, "4"),
        ("local[2]", "4"),
        ("local", "2"),
        ("local[8]", "16"),
        ("local[4,3]", "8"),
        ("local[*]", str(2 * (os.cpu_count() or 2))),
        ("local[oops]", "4"),
    ],
)
def test_local_masters_get_two_shuffle_partitions_per_core(master, partitions):
    conf = spark_conf(master)
    assert conf["spark.sql.shuffle.partitions"] == partitions
    assert conf["spark.sql.execution.arrow.pyspark.enabled"] == "true"
    assert conf["spark.ui.enabled"] == "false"
    assert conf["spark.sql.session.timeZone"] == "UTC"


def test_cluster_masters_keep_their_shuffle_setting():
    conf = spark_conf("spark://driver.example:7077")
    assert "spark.sql.shuffle.partitions" not in conf
    assert conf["spark.sql.execution.arrow.pyspark.enabled"] == "true"


@pytest.fixture
def fieldexp_spark(spark_session: object):
    """The tests' Spark session with the SQL settings of :func:`spark_conf` (restored after)."""
    import ibis

    conf = spark_session.conf  # type: ignore[attr-defined]
    keys = ("spark.sql.shuffle.partitions", "spark.sql.execution.arrow.pyspark.enabled")
    old = {k: conf.get(k) for k in keys}
    wanted = spark_conf("local[2]")
    for k in keys:
        conf.set(k, wanted[k])
    yield spark_session, ibis.pyspark.connect(spark_session)
    for k, v in old.items():
        conf.set(k, v)


@pytest.mark.slow
@pytest.mark.parametrize("store", ["cache", "checkpoint"])
def test_build_and_itt_with_fieldexp_spark_settings_equal_dataframe(fieldexp_spark, store):
    """Arrow pulls, 4 shuffle partitions and either way of storing a stage (Spark cache or
    localCheckpoint) change no count and no statistic: messy inputs (duplicated voter ids,
    a unit assigned twice, contacts for unknown units, a later election)."""
    import pandas as pd

    from fieldexp.analysis import build_analysis_table as build_frame
    from fieldexp.engine import table as engine_table

    from .test_table import ELECTION, assert_same_build, messy

    spark, con = fieldexp_spark
    v, a, c, h = messy()
    window = ("2020-10-02", "2020-10-31")
    frame, rec0 = build_frame(v, a, c, h, election=ELECTION, campaign_window=window)
    tables = []
    for name, df in zip(("es_v", "es_a", "es_c", "es_h"), (v, a, c, h), strict=True):
        spark.createDataFrame(pd.DataFrame(df)).createOrReplaceTempView(name)
        tables.append(con.table(name))
    old = engine_table.SPARK_STORE
    engine_table.SPARK_STORE = store
    try:
        table, rec1, _ = engine_table.build_engine_table(
            *tables, election=ELECTION, campaign_window=window
        )
        assert_same_build(frame, rec0, table, rec1, exact_dtypes=False)
    finally:
        engine_table.SPARK_STORE = old


@pytest.mark.slow
def test_estimators_with_fieldexp_spark_settings_equal_dataframe(fieldexp_spark):
    """ITT and CACE (blocked, clustered) pulled as Arrow batches: the same numbers."""
    from pathlib import Path

    import pandas as pd

    import fieldexp as fx

    from .conftest import assert_same, to_spark

    spark, _ = fieldexp_spark
    df = pd.read_csv(Path(__file__).resolve().parents[2] / "fixtures" / "experiment_small.csv")
    t = to_spark(spark, df, "es_voters")
    kw = {"blocks": "precinct_id", "clusters": "household_id"}
    assert_same(fx.itt(df, "voted", "assigned", **kw), fx.itt(t, "voted", "assigned", **kw))
    kw = {**kw, "se_type": "stata", "covariates": ["age"]}
    assert_same(
        fx.cace(df, "voted", "contacted", "assigned", **kw),
        fx.cace(t, "voted", "contacted", "assigned", **kw),
    )
