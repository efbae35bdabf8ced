"""Randomisation inference from cluster totals pulled once: same p-value, estimate and CI."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import fieldexp as fx
from fieldexp import Design
from fieldexp.engine import RI_WEIGHT, record_pulls, ri_inputs
from fieldexp.errors import DesignError, SpecificationError

from .conftest import ENGINES, to_engine

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


@pytest.mark.parametrize("engine", ENGINES)
def test_fixture_blocked_clustered(engine: str) -> None:
    df = pd.read_csv(FIXTURES / "experiment_small.csv")
    design = Design("voter_id", blocks="precinct_id", clusters="household_id")
    full = fx.randomization_inference(df, "voted", "assigned", design, reps=500, seed=7, ci=True)
    with record_pulls() as pulls:
        frame = ri_inputs(
            to_engine(df, engine),
            "voted",
            "assigned",
            clusters="household_id",
            blocks="precinct_id",
        )
    assert [p.rows for p in pulls] == [1, df["household_id"].nunique()]
    cl_design = Design("household_id", blocks="precinct_id", clusters="household_id")
    small = fx.randomization_inference(
        frame, "voted", "assigned", cl_design, weights=RI_WEIGHT, reps=500, seed=7, ci=True
    )
    assert small.p_value == full.p_value
    np.testing.assert_allclose(small.estimate, full.estimate, rtol=1e-12)
    np.testing.assert_allclose(
        [small.ci_low, small.ci_high], [full.ci_low, full.ci_high], rtol=1e-9
    )


def test_kansas_city_precincts(shared_data: Path) -> None:
    kc = pd.read_csv(shared_data / "arceneaux_2005.csv")
    kc["v"] = np.arange(len(kc))
    full = fx.randomization_inference(
        kc, "Y_voted_2003", "Z", Design("v", clusters="precinct"), reps=2000, seed=3
    )
    frame = ri_inputs(to_engine(kc, "ibis-duckdb"), "Y_voted_2003", "Z", clusters="precinct")
    assert len(frame) == 28
    small = fx.randomization_inference(
        frame, "Y_voted_2003", "Z", Design("precinct", clusters="precinct"),
        weights=RI_WEIGHT, reps=2000, seed=3,
    )  # fmt: skip
    assert small.p_value == full.p_value
    np.testing.assert_allclose(small.estimate, full.estimate, rtol=1e-12)


def test_refusals() -> None:
    df = pd.read_csv(FIXTURES / "experiment_small.csv")
    with pytest.raises(SpecificationError, match="unclustered design re-draws every unit"):
        ri_inputs(to_engine(df, "polars"), "voted", "assigned", clusters="")
    bad = df.copy()
    h = bad["household_id"].value_counts().index[0]
    bad.loc[bad.index[bad["household_id"] == h][0], "assigned"] ^= 1
    with pytest.raises(DesignError, match="mix arms"):
        ri_inputs(to_engine(bad, "polars"), "voted", "assigned", clusters="household_id")
