"""``fx.balance`` on engine tables vs the DataFrame path: table at rtol 1e-9, same omnibus test."""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import fieldexp as fx
from fieldexp import Design
from fieldexp.engine import record_pulls
from fieldexp.errors import SpecificationError

from .conftest import ENGINES, RTOL, to_engine

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
COVS = ["age", "female", "voted_2016", "propensity_band"]


def assert_same_balance(a: fx.BalanceResult, b: fx.BalanceResult) -> None:
    pd.testing.assert_frame_equal(a.table, b.table, rtol=RTOL, check_dtype=False)
    assert (a.arms, a.control, a.nobs) == (b.arms, b.control, b.nobs)
    assert len(a.omnibus) == len(b.omnibus)
    for x, y in zip(a.omnibus, b.omnibus, strict=True):
        assert y.statistic == pytest.approx(x.statistic, rel=RTOL)
        assert (x.p_value, x.df, x.reps, x.exact, x.method) == (
            y.p_value,
            y.df,
            y.reps,
            y.exact,
            y.method,
        )
        assert y.p_value_se == pytest.approx(x.p_value_se, rel=1e-12)


def _run(df: pd.DataFrame, engine: str, **kw: object) -> tuple[fx.BalanceResult, ...]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", fx.errors.RowsDroppedWarning)
        a = fx.balance(df, **kw)  # type: ignore[arg-type]
        with record_pulls() as pulls:
            b = fx.balance(to_engine(df, engine), **kw)  # type: ignore[arg-type]
    clusters = kw.get("clusters") or getattr(kw.get("design"), "clusters", None)
    bound = df[clusters].nunique() if clusters else 2 * df.get("precinct_id", df.index).nunique()
    assert max(p.rows for p in pulls) <= max(bound, 10) < len(df)
    # bytes: a few numbers per cluster (or cell) and pass, never the unit rows
    assert max(p.nbytes for p in pulls) < 120 * max(bound, 10)
    return a, b


@pytest.fixture(scope="module")
def small() -> pd.DataFrame:
    df = pd.read_csv(FIXTURES / "experiment_small.csv")
    df.loc[df.index[::11], "age"] = np.nan  # missing covariates: per-covariate deletion
    return df


@pytest.mark.parametrize("engine", ENGINES)
def test_blocked_clustered_omnibus(small: pd.DataFrame, engine: str) -> None:
    kw = dict(assignment="assigned", covariates=COVS, blocks="precinct_id",
              clusters="household_id", reps=200, seed=3)  # fmt: skip
    a, b = _run(small, engine, **kw)
    assert_same_balance(a, b)
    assert a.notes == b.notes


@pytest.mark.parametrize("engine", ["ibis-duckdb", "pyarrow"])
def test_with_design_unblocked_and_table_only(small: pd.DataFrame, engine: str) -> None:
    design = Design("voter_id", blocks="precinct_id", clusters="household_id")
    a, b = _run(small, engine, assignment="assigned", covariates=COVS, design=design,
                reps=100, seed=1)  # fmt: skip
    assert_same_balance(a, b)
    a, b = _run(small, engine, assignment="assigned", covariates=COVS,
                clusters="household_id", reps=150, seed=2)  # fmt: skip
    assert_same_balance(a, b)
    a, b = _run(small, engine, assignment="assigned", covariates=COVS,
                blocks="precinct_id", reps=0)  # fmt: skip
    assert_same_balance(a, b)
    assert not b.omnibus


def test_three_text_arms_and_control(small: pd.DataFrame) -> None:
    """Three arms with text labels, constant within households; a chosen control arm."""
    df = small.copy()
    h = df["household_id"].str[1:].astype(int)
    df["arm"] = np.where(h % 3 == 0, "door", np.where(h % 3 == 1, "mail", "none"))
    kw = dict(assignment="arm", covariates=COVS, clusters="household_id", reps=100,
              seed=4, control="none")  # fmt: skip
    a, b = _run(df, "polars", **kw)
    assert_same_balance(a, b)
    assert b.treated_arms == ("door", "mail")


def test_no_arm_rows_noted(small: pd.DataFrame) -> None:
    df = small.copy()
    # nullable integers: the DataFrame path compares str(arm) with "0"/"1", so a float arm
    # column ("0.0") finds no rows there (noticed, left to the owner of experiment/balance.py)
    df["assigned"] = df["assigned"].astype("Int64")
    df.loc[df["household_id"].isin(df["household_id"].iloc[:40]), "assigned"] = np.nan
    a, b = _run(df, "ibis-duckdb", assignment="assigned", covariates=["age", "female"],
                clusters="household_id", reps=50, seed=9)  # fmt: skip
    assert_same_balance(a, b)
    assert a.notes == b.notes and "no arm" in b.notes[0]


def test_unclustered_omnibus_refused(small: pd.DataFrame) -> None:
    with pytest.raises(SpecificationError, match="reps=0"):
        fx.balance(to_engine(small, "pyarrow"), "assigned", COVS, reps=100, seed=1)  # type: ignore[arg-type]


def test_new_haven_households(shared_data: Path) -> None:
    nh = pd.read_csv(shared_data / "new_haven_1998_individual.csv")
    kw = dict(assignment="persngrp", covariates=["age", "v96_1", "majorpty", "persons"],
              clusters="id1", reps=100, seed=12)  # fmt: skip
    a, b = _run(nh, "ibis-duckdb", **kw)
    assert_same_balance(a, b)
    assert not math.isnan(b.omnibus[0].statistic)
