"""Westfall-Young on engine tables: one pass of G rows for every outcome, aligned draws.

The adjusted p-values equal the DataFrame route's exactly (same seed, same draws) and a
brute-force enumeration of a small design written here from the definitions.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import fieldexp as fx
from fieldexp import Design
from fieldexp.engine import record_pulls
from fieldexp.engine.ri import RI_WEIGHT, ri_family_inputs, ri_weight
from fieldexp.errors import RowsDroppedWarning, SpecificationError
from fieldexp.experiment.multiplicity import engine_ri_family
from fieldexp.experiment.ri import randomization_inference_family

from .conftest import ENGINES, to_engine, to_spark

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
OUTCOMES = ["voted", "registered_after", "voted_2020"]


def _fixture() -> pd.DataFrame:
    df = pd.read_csv(FIXTURES / "experiment_small.csv")
    df.loc[df.index[::7], "registered_after"] = np.nan  # per-outcome missingness
    return df.sample(frac=1.0, random_state=3)  # row order must not matter


def _bytes_bound(g: int, m: int) -> int:
    """Two label columns (<= 16 bytes a value) and 3 + 2m numbers per cluster, plus slack."""
    return g * (2 * 16 + 8 * (3 + 2 * m)) + 4096


@pytest.mark.parametrize("engine", ENGINES)
def test_equals_dataframe_route(engine: str) -> None:
    df = _fixture()
    design = Design("voter_id", blocks="precinct_id", clusters="household_id")
    with pytest.warns(RowsDroppedWarning):
        family = randomization_inference_family(
            df, OUTCOMES, "assigned", design, reps=400, seed=11, engine="dense"
        )
        single = [
            fx.randomization_inference(df, o, "assigned", design, reps=400, seed=11, engine="dense")
            for o in OUTCOMES
        ]
    g = df["household_id"].nunique()
    with record_pulls() as pulls, pytest.warns(RowsDroppedWarning, match="343 of 2,400 rows"):
        res = engine_ri_family(
            to_engine(df, engine), OUTCOMES, "assigned", design, reps=400, seed=11
        )
    # one scalar check pass and ONE pass of G rows for all the outcomes
    assert [p.rows for p in pulls] == [1, g]
    assert sum(p.nbytes for p in pulls) <= _bytes_bound(g, len(OUTCOMES))
    assert len({r.draw_key for r in res}) == 1
    for a, b, c in zip(family, single, res, strict=True):
        np.testing.assert_allclose(c.draws, a.draws, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(c.draws, b.draws, rtol=1e-12, atol=1e-15)
        assert c.p_value == a.p_value == b.p_value
        assert c.nobs == a.nobs == b.nobs
        assert c.engine == "dense" and c.reps == 400
    wy_df = fx.adjust_pvalues(list(family), method="westfall-young")
    wy_single = fx.adjust_pvalues(single, method="westfall-young")
    wy_engine = fx.adjust_pvalues(list(res), method="westfall-young")
    np.testing.assert_array_equal(wy_engine.adjusted, wy_df.adjusted)
    np.testing.assert_array_equal(wy_engine.adjusted, wy_single.adjusted)
    assert wy_engine.names == wy_df.names


def _small_design() -> pd.DataFrame:
    """3 blocks x 4 clusters (2 treated per block): 6^3 = 216 assignments."""
    rng = np.random.default_rng(5)
    rows = []
    for b in range(3):
        treated = rng.permutation([1, 1, 0, 0])
        for c in range(4):
            for i in range(int(rng.integers(1, 4))):
                rows.append(
                    {
                        "unit": f"u{b}{c}{i}",
                        "block": f"b{b}",
                        "cluster": f"c{b}{c}",
                        "z": int(treated[c]),
                        "y1": float(rng.normal() + 0.8 * treated[c]),
                        "y2": float(rng.integers(0, 2)),
                        "y3": float(rng.normal()),
                    }
                )
    df = pd.DataFrame(rows)
    df.loc[[1, 5, 9], "y3"] = np.nan
    return df


def _brute_force_wy(df: pd.DataFrame, outcomes: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Every assignment listed; blocked difference in means; free step-down min-p."""
    clusters = sorted(df["cluster"].unique())
    block_of = df.groupby("cluster")["block"].first()
    blocks = sorted(block_of.unique())
    per_block = [list(itertools.combinations([c for c in clusters if block_of[c] == b], 2))
                 for b in blocks]  # fmt: skip

    def stat(treated: set[str], y: str) -> float:
        sub = df[df[y].notna()]
        total = 0.0
        for b in blocks:
            sb = sub[sub["block"] == b]
            t = sb["cluster"].isin(treated)
            total += len(sb) / len(sub) * (sb.loc[t, y].mean() - sb.loc[~t, y].mean())
        return total

    observed = set(df.loc[df["z"] == 1, "cluster"])
    assignments = [set().union(*choice) for choice in itertools.product(*per_block)]
    draws = np.array([[stat(a, y) for y in outcomes] for a in assignments])  # (A, m)
    obs = np.array([stat(observed, y) for y in outcomes])
    a = np.abs(draws)
    tol = 1e-9
    p_obs = np.array([np.mean(a[:, j] >= abs(obs[j]) - tol) for j in range(len(outcomes))])
    # p-value each assignment would have had, outcome by outcome
    p_star = np.array(
        [[np.mean(a[:, j] >= a[k, j] - tol) for j in range(len(outcomes))] for k in range(len(a))]
    )
    order = np.argsort(p_obs, kind="stable")
    adjusted = np.empty(len(outcomes))
    running = 0.0
    for r, j in enumerate(order):
        rest = order[r:]
        share = float(np.mean(p_star[:, rest].min(axis=1) <= p_obs[j] + 1e-12))
        running = max(running, share)
        adjusted[j] = min(running, 1.0)
    return p_obs, adjusted


@pytest.mark.parametrize("engine", ["ibis-duckdb", "polars"])
def test_brute_force_enumeration(engine: str) -> None:
    df = _small_design()
    outcomes = ["y1", "y2", "y3"]
    design = Design("unit", blocks="block", clusters="cluster")
    p_obs, expected = _brute_force_wy(df, outcomes)
    with pytest.warns(RowsDroppedWarning):
        res = engine_ri_family(to_engine(df, engine), outcomes, "z", design, reps=1000, seed=2)
        fam = randomization_inference_family(df, outcomes, "z", design, reps=1000, seed=2)
    assert all(r.exact and r.reps == 216 and r.engine == "exact" for r in res)
    np.testing.assert_allclose([r.p_value for r in res], p_obs, rtol=1e-12)
    wy = fx.adjust_pvalues(list(res), method="westfall-young")
    np.testing.assert_allclose(wy.adjusted, expected, rtol=1e-12)
    np.testing.assert_array_equal(
        wy.adjusted, fx.adjust_pvalues(list(fam), method="westfall-young").adjusted
    )
    assert wy.adjusted.min() < 1.0  # the check can fail: not all adjusted to one


def test_one_pass_frame_columns() -> None:
    df = _small_design()
    frame = ri_family_inputs(to_engine(df, "pyarrow"), ["y1", "y3"], "z", clusters="cluster",
                             blocks="block")  # fmt: skip
    assert list(frame.columns) == ["cluster", "block", "z", RI_WEIGHT, "y1", ri_weight("y1"),
                                   "y3", ri_weight("y3")]  # fmt: skip
    sizes = df.groupby("cluster").size()
    present = df.groupby("cluster")["y3"].count()
    means = df.groupby("cluster")["y3"].mean()
    f = frame.set_index("cluster")
    assert (f[RI_WEIGHT] == sizes).all() and (f[ri_weight("y3")] == present).all()
    np.testing.assert_allclose(f["y3"], means, rtol=1e-15)  # NaN where no y3 in the cluster


def test_refusals() -> None:
    df = _small_design()
    t = to_engine(df, "polars")
    clustered = Design("unit", blocks="block", clusters="cluster")
    with pytest.raises(SpecificationError, match="not clustered"):
        engine_ri_family(t, ["y1"], "z", Design("unit", blocks="block"), seed=1)
    with pytest.raises(SpecificationError, match="CACE statistic"):
        engine_ri_family(t, ["y1"], "z", clustered, seed=1, estimand="CACE")
    with pytest.raises(SpecificationError, match="covariance adjustment"):
        engine_ri_family(t, ["y1"], "z", clustered, seed=1, covariates=["y2"])
    with pytest.raises(SpecificationError, match="'engine'"):
        engine_ri_family(t, ["y1"], "z", clustered, seed=1, engine="grouped")
    with pytest.raises(SpecificationError, match="distinct column names"):
        engine_ri_family(t, ["y1", "y1"], "z", clustered, seed=1)
    with pytest.raises(SpecificationError, match="distinct column names"):
        engine_ri_family(t, "y1", "z", clustered, seed=1)
    with pytest.raises(fx.errors.ColumnNotFoundError, match="'nope'"):
        engine_ri_family(t, ["y1", "nope"], "z", clustered, seed=1)


@pytest.mark.slow
def test_spark(spark_session: object) -> None:
    df = _small_design()
    outcomes = ["y1", "y2"]
    design = Design("unit", blocks="block", clusters="cluster")
    t = to_spark(spark_session, df, "wy_small")
    with record_pulls() as pulls:
        res = engine_ri_family(t, outcomes, "z", design, reps=100, seed=4)
    assert [p.rows for p in pulls] == [1, df["cluster"].nunique()]
    fam = randomization_inference_family(
        df, outcomes, "z", design, reps=100, seed=4, engine="dense"
    )
    for a, b in zip(fam, res, strict=True):
        assert b.engine == "dense"
        np.testing.assert_allclose(b.draws, a.draws, rtol=1e-12, atol=1e-15)
    np.testing.assert_array_equal(
        fx.adjust_pvalues(list(res), method="westfall-young").adjusted,
        fx.adjust_pvalues(list(fam), method="westfall-young").adjusted,
    )


@pytest.mark.parametrize("dialect", ["bigquery", "snowflake", "trino", "postgres"])
def test_warehouse_sql_compiles(dialect: str) -> None:
    """The one-pass family aggregate compiles for the warehouse dialects (internal aliases)."""
    import ibis

    df = _small_design().rename(columns={"y3": "y 3:odd"})
    with record_pulls() as pulls:
        frame = ri_family_inputs(to_engine(df, "ibis-duckdb"), ["y1", "y 3:odd"], "z",
                                 clusters="cluster", blocks="block")  # fmt: skip
    assert ri_weight("y 3:odd") in frame.columns
    sql = ibis.to_sql(pulls[-1].expr, dialect=dialect)
    assert "_fx_n1" in sql and "_fx_m1" in sql and "n_units:" not in sql


def test_family_entry_point_takes_engine_tables() -> None:
    """``randomization_inference_family`` on an engine table: the one-pass route, same draws."""
    df = _fixture()
    design = Design("voter_id", blocks="precinct_id", clusters="household_id")
    t = to_engine(df, "ibis-duckdb")
    with pytest.warns(RowsDroppedWarning):
        direct = engine_ri_family(t, OUTCOMES, "assigned", design, reps=200, seed=5)
    with record_pulls() as pulls, pytest.warns(RowsDroppedWarning):
        via = randomization_inference_family(t, OUTCOMES, "assigned", design, reps=200, seed=5)
    assert [p.rows for p in pulls] == [1, df["household_id"].nunique()]
    for a, b in zip(direct, via, strict=True):
        np.testing.assert_array_equal(a.draws, b.draws)
        assert a.p_value == b.p_value and a.draw_key == b.draw_key
    with pytest.raises(SpecificationError, match="not pushed down"):
        randomization_inference_family(
            t, OUTCOMES, "assigned", design, seed=5, estimand="CACE", treatment="contacted"
        )
