"""Ibis on Spark local mode (``local[2]``): same results as the DataFrame path, few and small.

Skipped only when Java or pyspark (extra ``fieldexp[spark]``) is missing.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import fieldexp as fx
from fieldexp.engine import record_pulls

from .conftest import assert_same, to_spark

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


@pytest.fixture(scope="module")
def spark_table(spark_session: object) -> tuple[pd.DataFrame, object]:
    df = pd.read_csv(FIXTURES / "experiment_small.csv")
    return df, to_spark(spark_session, df, "voters")


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


@pytest.mark.slow
def test_spark_did_and_staggered(spark_session: object) -> None:
    """TWFE (CR1, clustered by unit) and Callaway-Sant'Anna on a small panel in Spark."""
    from .test_did import panel as did_panel
    from .test_staggered import panel as cs_panel

    df = did_panel(units=40, periods=4)
    t = to_spark(spark_session, df, "did_panel")
    assert_same(fx.did(df, "y", "unit", "year", "d", clusters="unit"),
                fx.did(t, "y", "unit", "year", "d", clusters="unit"))  # fmt: skip
    cs = cs_panel(units=60)
    ct = to_spark(spark_session, cs, "cs_panel")
    with pytest.warns(fx.errors.FieldexpWarning):
        a = fx.staggered_did(cs, "y", "unit", "year", "first")
    mo = fx.engine.att_gt_moments(ct, "y", "unit", "year", "first")
    np.testing.assert_allclose(mo.estimate, a.att_gt["estimate"], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(mo.std_error, a.att_gt["std_error"], rtol=1e-9)


@pytest.mark.slow
def test_spark_balance_and_ri(spark_table: tuple[pd.DataFrame, object]) -> None:
    df, t = spark_table
    kw = dict(blocks="precinct_id", clusters="household_id", reps=50, seed=2)
    a = fx.balance(df, "assigned", ["age", "female"], **kw)  # type: ignore[arg-type]
    b = fx.balance(t, "assigned", ["age", "female"], **kw)  # type: ignore[arg-type]
    pd.testing.assert_frame_equal(a.table, b.table, rtol=1e-9, check_dtype=False)
    assert a.omnibus[0].p_value == b.omnibus[0].p_value
    assert b.omnibus[0].statistic == pytest.approx(a.omnibus[0].statistic, rel=1e-9)
    design = fx.Design("voter_id", blocks="precinct_id", clusters="household_id")
    x = fx.randomization_inference(df, "voted", "assigned", design, reps=100, seed=5)
    y = fx.randomization_inference(t, "voted", "assigned", design, reps=100, seed=5)  # type: ignore[arg-type]
    assert (x.p_value, x.nobs, x.nclusters) == (y.p_value, y.nobs, y.nclusters)
    assert y.statistic == pytest.approx(x.statistic, rel=1e-9)
