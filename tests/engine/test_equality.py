"""DataFrame vs Ibis-DuckDB vs Polars vs PyArrow: the same EffectResult at rtol 1e-9."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import fieldexp as fx
from fieldexp.engine import record_pulls

from .conftest import assert_same

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"

DIM_DESIGNS = {
    "standard": {},
    "blocked": {"blocks": "precinct_id"},
    "clustered": {"clusters": "household_id"},
    "blocked-clustered": {"blocks": "precinct_id", "clusters": "household_id"},
}

OLS_CASES = {
    "HC0": {"se_type": "HC0"},
    "HC1-blocks": {"se_type": "HC1", "blocks": "precinct_id"},
    "HC2-blocks-covs": {
        "se_type": "HC2",
        "blocks": "precinct_id",
        "covariates": ["age", "voted_2018"],
    },
    "HC2-default": {},
    "HC3-covs": {"se_type": "HC3", "covariates": ["age", "female", "voted_2020"]},
    "stata-unclustered": {"se_type": "stata", "blocks": "precinct_id"},
    "CR0": {"se_type": "CR0", "clusters": "household_id"},
    "CR0-blocks-covs": {
        "se_type": "CR0",
        "clusters": "household_id",
        "blocks": "precinct_id",
        "covariates": ["age"],
    },
    "stata": {"se_type": "stata", "clusters": "household_id"},
    "stata-blocks-covs": {
        "se_type": "stata",
        "clusters": "household_id",
        "blocks": "precinct_id",
        "covariates": ["age", "voted_2016"],
    },
}


@pytest.fixture(scope="module")
def small() -> pd.DataFrame:
    return pd.read_csv(FIXTURES / "experiment_small.csv")


@pytest.mark.parametrize("design", list(DIM_DESIGNS))
def test_dim_equal(
    small: pd.DataFrame, engine: Callable[[pd.DataFrame], object], design: str
) -> None:
    kw = DIM_DESIGNS[design]
    a = fx.itt(small, "voted", "assigned", **kw)
    b = fx.itt(engine(small), "voted", "assigned", **kw)
    assert b.design == design
    assert_same(a, b)


@pytest.mark.parametrize("name", ["experiment_pairs.csv", "experiment_pairs_clustered.csv"])
def test_dim_matched_pairs_equal(engine: Callable[[pd.DataFrame], object], name: str) -> None:
    df = pd.read_csv(FIXTURES / name)
    kw = {"blocks": "pair_id"}
    if "clustered" in name:
        kw["clusters"] = "household_id"
    a = fx.itt(df, "voted", "assigned", **kw)
    b = fx.itt(engine(df), "voted", "assigned", **kw)
    assert b.design.startswith("matched-pair")
    assert_same(a, b)


@pytest.mark.parametrize("case", list(OLS_CASES))
def test_ols_equal(
    small: pd.DataFrame, engine: Callable[[pd.DataFrame], object], case: str
) -> None:
    kw = OLS_CASES[case]
    a = fx.itt(small, "voted", "assigned", method="ols", **kw)
    b = fx.itt(engine(small), "voted", "assigned", method="ols", **kw)
    assert_same(a, b)


@pytest.mark.parametrize("case", list(OLS_CASES))
def test_cace_equal(
    small: pd.DataFrame, engine: Callable[[pd.DataFrame], object], case: str
) -> None:
    kw = OLS_CASES[case]
    a = fx.cace(small, "voted", "contacted", "assigned", **kw)
    b = fx.cace(engine(small), "voted", "contacted", "assigned", **kw)
    assert_same(a, b)


def test_rows_pulled_bounded_by_groups(small: pd.DataFrame) -> None:
    """No pass returns unit rows: each pull is at most the number of groups it is grouped by."""
    from .conftest import to_engine

    t = to_engine(small, "ibis-duckdb")
    G = small["household_id"].nunique()
    B = small["precinct_id"].nunique()
    with record_pulls() as pulls:
        fx.itt(t, "voted", "assigned", blocks="precinct_id")
    assert [p.rows for p in pulls] == [1, 2 * B]
    with record_pulls() as pulls:
        fx.cace(
            t,
            "voted",
            "contacted",
            "assigned",
            blocks="precinct_id",
            clusters="household_id",
            covariates=["age"],
            se_type="stata",
        )
    # the cluster-robust meat is summed over clusters in the engine: one row, not G
    bounds = {"checks": 1, "block means": B, "cross-products": 1,
              "cluster score cross-products": 1, "contact rates": 2}  # fmt: skip
    assert [p.what for p in pulls] == list(bounds)
    for p in pulls:
        assert p.rows <= bounds[p.what], p
    assert sum(p.rows for p in pulls) == 1 + B + 1 + 1 + 2 < G
    with record_pulls() as pulls:
        fx.itt(t, "voted", "assigned", method="ols", se_type="HC2", covariates=["age"])
    assert max(p.rows for p in pulls) == 1  # one block (the intercept): every pass is one row


def test_missing_rows_dropped_the_same(
    small: pd.DataFrame, engine: Callable[[pd.DataFrame], object]
) -> None:
    df = small.copy()
    df.loc[[3, 50, 51], "voted"] = np.nan
    df.loc[[7], "age"] = np.nan
    kw = {
        "blocks": "precinct_id",
        "clusters": "household_id",
        "covariates": ["age"],
        "se_type": "CR0",
    }
    with pytest.warns(fx.errors.RowsDroppedWarning):
        a = fx.itt(df, "voted", "assigned", method="ols", **kw)
    with pytest.warns(fx.errors.RowsDroppedWarning, match="dropped 4 of 2,400"):
        b = fx.itt(engine(df), "voted", "assigned", method="ols", **kw)
    assert b.n_dropped == 4
    assert_same(a, b)


def test_row_order_does_not_matter(small: pd.DataFrame) -> None:
    from .conftest import to_engine

    shuffled = small.sample(frac=1.0, random_state=3).reset_index(drop=True)
    kw = {"blocks": "precinct_id", "clusters": "household_id", "se_type": "stata"}
    a = fx.cace(to_engine(small, "ibis-duckdb"), "voted", "contacted", "assigned", **kw)
    b = fx.cace(to_engine(shuffled, "polars"), "voted", "contacted", "assigned", **kw)
    assert_same(a, b)


def test_two_sided_noncompliance_note(
    small: pd.DataFrame, engine: Callable[[pd.DataFrame], object]
) -> None:
    df = small.copy()
    ctrl = df.index[df["assigned"] == 0][:5]
    df.loc[ctrl, "contacted"] = 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = fx.cace(df, "voted", "contacted", "assigned", se_type="HC1")
    with pytest.warns(fx.errors.FieldexpWarning, match="two-sided"):
        b = fx.cace(engine(df), "voted", "contacted", "assigned", se_type="HC1")
    assert len(b.notes) == 1
    assert_same(a, b)


@pytest.mark.parametrize("design", ["clustered", "blocked-clustered"])
def test_dim_cr2_summed_in_engine(
    small: pd.DataFrame,
    engine: Callable[[pd.DataFrame], object],
    design: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Many clusters: CR2 sums (and Bell–McCaffrey df) computed in the engine, B rows pulled."""
    from fieldexp.engine import sufficient

    monkeypatch.setattr(sufficient, "MAX_PULLED_CLUSTERS", 0)
    kw = DIM_DESIGNS[design]
    a = fx.itt(small, "voted", "assigned", **kw)
    with record_pulls() as pulls:
        b = fx.itt(engine(small), "voted", "assigned", **kw)
    assert_same(a, b)
    B = small["precinct_id"].nunique() if "blocks" in kw else 1
    assert [p.what for p in pulls] == ["checks", "block x arm totals", "CR2 sums by block"]
    assert [p.rows for p in pulls] == [1, 2 * B, B]


def test_dim_cr2_in_engine_matched_pairs(monkeypatch: pytest.MonkeyPatch) -> None:
    from fieldexp.engine import sufficient

    from .conftest import to_engine

    monkeypatch.setattr(sufficient, "MAX_PULLED_CLUSTERS", 0)
    df = pd.read_csv(FIXTURES / "experiment_pairs_clustered.csv")
    kw = {"blocks": "pair_id", "clusters": "household_id"}
    a = fx.itt(df, "voted", "assigned", **kw)
    b = fx.itt(to_engine(df, "ibis-duckdb"), "voted", "assigned", **kw)
    assert b.design == "matched-pair-clustered"
    assert_same(a, b)
