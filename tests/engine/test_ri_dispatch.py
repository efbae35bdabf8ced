"""``fx.randomization_inference`` on engine tables: cluster totals pulled once, replayed locally."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import fieldexp as fx
from fieldexp import Design
from fieldexp.engine import record_pulls
from fieldexp.errors import SpecificationError

from .conftest import ENGINES, to_engine

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"

FIELDS = ("p_value", "p_value_se", "statistic", "estimate", "ci_low", "ci_high")
EXACT = ("reps", "exact", "nobs", "nclusters", "nblocks", "engine", "arm", "control", "estimand")


def _same(a: fx.experiment.ri.RandomizationResult, b: object) -> None:
    for f in EXACT:
        assert getattr(a, f) == getattr(b, f), f
    for f in FIELDS:
        x, y = getattr(a, f), getattr(b, f)
        if np.isnan(x):
            assert np.isnan(y), f
        else:
            assert y == pytest.approx(x, rel=1e-9, abs=1e-15), f
    np.testing.assert_allclose(b.draws, a.draws, rtol=1e-9, atol=1e-15)  # type: ignore[attr-defined]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("studentize", [False, True])
def test_blocked_clustered_with_missing_outcomes(engine: str, studentize: bool) -> None:
    """Rows missing the outcome stay in the randomisation (their clusters too), as on pandas."""
    df = pd.read_csv(FIXTURES / "experiment_small.csv")
    df.loc[df.index[::7], "voted"] = np.nan
    design = Design("voter_id", blocks="precinct_id", clusters="household_id")
    kw = dict(reps=300, seed=7, ci=True, studentize=studentize)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = fx.randomization_inference(df, "voted", "assigned", design, **kw)  # type: ignore[arg-type]
        with record_pulls() as pulls:
            b = fx.randomization_inference(to_engine(df, engine), "voted", "assigned", design, **kw)  # type: ignore[arg-type]
    _same(a, b)
    G = df["household_id"].nunique()
    assert [p.rows for p in pulls] == [1, G]  # checks, then one row per cluster
    assert sum(p.nbytes for p in pulls) < 100 * G


def test_unblocked_clustered_sharp_null_greater() -> None:
    df = pd.read_csv(FIXTURES / "experiment_small.csv")
    design = Design("voter_id", clusters="household_id")
    kw = dict(reps=200, seed=11, sharp_null=0.01, alternative="greater")
    a = fx.randomization_inference(df, "voted", "assigned", design, **kw)  # type: ignore[arg-type]
    b = fx.randomization_inference(to_engine(df, "polars"), "voted", "assigned", design, **kw)  # type: ignore[arg-type]
    _same(a, b)


def test_kansas_city_precincts(shared_data: Path) -> None:
    kc = pd.read_csv(shared_data / "arceneaux_2005.csv")
    kc["v"] = np.arange(len(kc))
    design = Design("v", clusters="precinct")
    a = fx.randomization_inference(kc, "Y_voted_2003", "Z", design, reps=2000, seed=3, ci=True)
    with record_pulls() as pulls:
        b = fx.randomization_inference(
            to_engine(kc, "ibis-duckdb"), "Y_voted_2003", "Z", design, reps=2000, seed=3, ci=True
        )
    _same(a, b)
    assert max(p.rows for p in pulls) == 28 < len(kc)


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"design": Design("voter_id", blocks="precinct_id")}, "not clustered"),
        ({"estimand": "CACE", "treatment": "contacted"}, "CACE"),
        ({"covariates": ["age"]}, "covariance adjustment"),
        ({"weights": "weight"}, "weights"),
    ],
)
def test_refusals_say_why(kw: dict[str, object], match: str) -> None:
    df = pd.read_csv(FIXTURES / "experiment_small.csv")
    kw = dict(kw)
    design = kw.pop("design", Design("voter_id", blocks="precinct_id", clusters="household_id"))
    with pytest.raises(SpecificationError, match=match):
        fx.randomization_inference(
            to_engine(df, "pyarrow"),
            "voted",
            "assigned",
            design,
            reps=10,
            seed=1,
            **kw,  # type: ignore[arg-type]
        )


@pytest.mark.parametrize("engine", ["ibis-duckdb", "polars"])
def test_subset_outcome(engine: str) -> None:
    """Registration among the unregistered: the whole design replayed, the statistic on the
    subset (a boolean column): same draws, p-value and interval as on pandas."""
    df = pd.read_csv(FIXTURES / "experiment_small.csv")
    df["unregistered"] = df["registered"] == 0
    design = Design("voter_id", blocks="precinct_id", clusters="household_id")
    kw = dict(reps=200, seed=4, subset="unregistered", ci=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = fx.randomization_inference(df, "registered_after", "assigned", design, **kw)  # type: ignore[arg-type]
        b = fx.randomization_inference(
            to_engine(df, engine),
            "registered_after",
            "assigned",
            design,
            **kw,  # type: ignore[arg-type]
        )
    _same(a, b)
    assert b.nobs == int(df["unregistered"].sum())
    with pytest.raises(SpecificationError, match="boolean column"):
        fx.randomization_inference(
            to_engine(df, engine), "registered_after", "assigned", design, reps=10, seed=1,
            subset="registered",
        )  # fmt: skip
