"""fieldexp.simulation.rollout (lives in tests/did because the simulate tests belong to another suite)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import fieldexp as fx
from fieldexp.errors import SpecificationError
from fieldexp.simulation.rollout import simulate_rollout


def test_seeded_and_shaped():
    a = simulate_rollout(500, seed=3)
    b = simulate_rollout(500, seed=3)
    pd.testing.assert_frame_equal(a.data, b.data)
    assert not a.data.equals(simulate_rollout(500, seed=4).data)
    assert len(a.data) == 500 * 6
    assert set(a.data["cohort"].unique()) <= {0, 3, 4, 5}
    # treated is absorbing and equals period >= cohort
    d = a.data
    assert (d["treated"] == ((d["cohort"] > 0) & (d["period"] >= d["cohort"]))).all()
    # cohort is a city-level choice
    spread = d.groupby("city")["cohort"].agg(["min", "max"])
    assert (spread["min"] == spread["max"]).all()


def test_cs_recovers_the_truth():
    sim = simulate_rollout(60_000, seed=11, effects=(0.03, 0.05))
    res = fx.staggered_did(sim.data, "y", "unit", "period", "cohort")
    tab = res.att_gt.merge(sim.true_att_gt, on=["cohort", "time"])
    z = (tab["estimate"] - tab["att"]) / tab["std_error"]
    assert np.all(np.abs(z) < 4.5)
    dyn = res.aggregate("dynamic", seed=1).components.merge(sim.true_dynamic, on="event_time")
    assert np.all(np.abs(dyn["estimate"] - dyn["att"]) < 4.5 * dyn["std_error"])


def test_pre_trend_violation_is_detected_and_precinct_level():
    sim = simulate_rollout(2_000, seed=5, level="precinct", pre_trend=0.01)
    d = sim.data
    assert {"registered", "voters"} <= set(d.columns)
    np.testing.assert_allclose(d["y"], d["voters"] / d["registered"])
    es = fx.event_study(
        d,
        "y",
        "unit",
        "period",
        "cohort",
        estimator="sun_abraham",
        weights="registered",
        clusters="unit",
    )
    assert es.pretest.p_value < 1e-6
    ok = simulate_rollout(2_000, seed=5, level="precinct")
    es0 = fx.event_study(
        ok.data,
        "y",
        "unit",
        "period",
        "cohort",
        estimator="sun_abraham",
        weights="registered",
        clusters="unit",
    )
    assert es0.pretest.p_value > 1e-4


def test_bad_arguments():
    with pytest.raises(SpecificationError, match="cohorts must be"):
        simulate_rollout(10, seed=1, cohorts=(1, 3))
    with pytest.raises(SpecificationError, match="level must be"):
        simulate_rollout(10, seed=1, level="city")
