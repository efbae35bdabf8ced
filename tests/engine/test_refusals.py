"""What the engine path refuses, and how (each refusal names the rule and what to do)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import fieldexp as fx
from fieldexp.engine import is_engine_table
from fieldexp.errors import (
    CollinearWarning,
    ColumnNotFoundError,
    DataError,
    DesignError,
    SpecificationError,
)

from .conftest import to_engine

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


@pytest.fixture(scope="module")
def small() -> pd.DataFrame:
    return pd.read_csv(FIXTURES / "experiment_small.csv")


def test_detection(small: pd.DataFrame) -> None:
    for engine in ("ibis-duckdb", "polars", "polars-lazy", "pyarrow"):
        assert is_engine_table(to_engine(small, engine))
    assert not is_engine_table(small)
    assert not is_engine_table({"voted": [1, 0]})


def test_cr2_regression_refused_with_size(small: pd.DataFrame) -> None:
    t = to_engine(small, "ibis-duckdb")
    with pytest.raises(SpecificationError, match=r"CR2.*1,401 clusters.*MB.*'CR0' or 'stata'"):
        fx.itt(t, "voted", "assigned", clusters="household_id", method="ols")
    with pytest.raises(SpecificationError, match="CR2"):
        fx.cace(t, "voted", "contacted", "assigned", clusters="household_id")
    # the difference in means with clusters IS CR2, from cluster totals: not refused
    assert fx.itt(t, "voted", "assigned", clusters="household_id").se_type == "CR2"


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"method": "lin", "covariates": ["age"]}, "method='lin' is not pushed down"),
        ({"covariates": ["age"]}, "method='auto' with covariates means Lin"),
        ({"weights": "weight"}, "weights are not pushed down"),
        ({"method": "ols", "covariates": ["propensity_band"]}, "categorical covariates"),
        ({"method": "dim", "se_type": "HC2"}, "applies to method='ols'"),
        ({"alpha": 1.5}, "strictly between 0 and 1"),
    ],
)
def test_not_pushed_down(small: pd.DataFrame, kw: dict[str, object], match: str) -> None:
    t = to_engine(small, "polars")
    with pytest.raises((SpecificationError, DataError), match=match):
        fx.itt(t, "voted", "assigned", **kw)


def test_hostile_inputs(small: pd.DataFrame) -> None:
    df = small.copy()
    with pytest.raises(ColumnNotFoundError, match="'turnout'"):
        fx.itt(to_engine(df, "ibis-duckdb"), "turnout", "assigned")
    bad = df.copy()
    bad.loc[0, "assigned"] = 2
    with pytest.raises(DataError, match="must be 0/1"):
        fx.itt(to_engine(bad, "ibis-duckdb"), "voted", "assigned")
    mixed = df.copy()
    h = mixed["household_id"].value_counts().index[0]  # a household of several voters
    rows = mixed.index[mixed["household_id"] == h]
    mixed.loc[rows[0], "assigned"] = 1 - mixed.loc[rows[0], "assigned"]
    with pytest.raises(DesignError, match="mix arms"):
        fx.itt(to_engine(mixed, "pyarrow"), "voted", "assigned", clusters="household_id")
    with pytest.raises(DesignError, match="mix arms"):
        fx.itt(
            to_engine(mixed, "pyarrow"), "voted", "assigned", clusters="household_id",
            method="ols", se_type="CR0",
        )  # fmt: skip
    span = df.copy()
    span.loc[rows[0], "precinct_id"] = (
        "P9999" if span.loc[rows[0], "precinct_id"] != "P9999" else "P0001"
    )
    span.loc[rows[1:], "precinct_id"] = span.loc[rows[1], "precinct_id"]
    with pytest.raises(DesignError, match="not nested in blocks"):
        fx.itt(
            to_engine(span, "polars"),
            "voted",
            "assigned",
            clusters="household_id",
            blocks="precinct_id",
        )
    one_arm = df.copy()
    one_arm.loc[one_arm["precinct_id"] == "P0001", "assigned"] = 1
    for kw in ({}, {"method": "ols", "se_type": "HC1"}):
        with pytest.raises(DesignError, match="one arm only"):
            fx.itt(
                to_engine(one_arm, "ibis-duckdb"), "voted", "assigned", blocks="precinct_id", **kw
            )
    const = df.assign(voted=1)
    with pytest.raises(DataError, match="no variation"):
        fx.itt(to_engine(const, "ibis-duckdb"), "voted", "assigned")
    allnan = df.assign(voted=np.nan)
    with pytest.raises(DataError, match="nothing is left"):
        fx.itt(to_engine(allnan, "ibis-duckdb"), "voted", "assigned")
    text = df.assign(voted=df["voted"].astype(str))
    with pytest.raises(DataError, match="must be numeric"):
        fx.itt(to_engine(text, "ibis-duckdb"), "voted", "assigned")
    # collinear covariates are dropped as on a DataFrame (estimatr's NA), with the same warning
    # (tests/engine/test_engine_collinear.py)
    with pytest.warns(CollinearWarning, match="'age'"):
        fx.itt(
            to_engine(df.assign(age2=2 * df["age"]), "ibis-duckdb"), "voted", "assigned",
            method="ols", covariates=["age", "age2"], se_type="HC1",
        )  # fmt: skip


def test_caller_table_not_modified(small: pd.DataFrame) -> None:
    import polars as pl

    t = pl.from_pandas(small)
    before = t.clone()
    fx.cace(t, "voted", "contacted", "assigned", blocks="precinct_id", se_type="HC1")
    assert t.equals(before)
