"""diagnose: DeclareDesign-style simulation agrees with analytic power; reproducible."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import fieldexp as fx
from fieldexp.design import Design


def clustered_population(seed, G=150, m=2, icc=0.2, tau=0.2):
    rng = np.random.default_rng(seed)
    u = rng.normal(0, math.sqrt(icc), G)
    y0 = np.repeat(u, m) + rng.normal(0, math.sqrt(1 - icc), G * m)
    return pd.DataFrame(
        {"v": np.arange(G * m), "h": np.arange(G * m) // m, "y0": y0, "y1": y0 + tau}
    )


def test_diagnose_power_agrees_with_analytic():
    sims = 200
    diag = fx.diagnose(clustered_population, Design("v", clusters="h"), sims=sims, seed=3)
    analytic = fx.power(n=300, effect=0.2, sd=1.0, cluster_size=2, icc=0.2).power
    assert abs(diag.power - analytic) < 4 * math.sqrt(analytic * (1 - analytic) / sims) + 0.02
    assert abs(diag.bias) < 4 * diag.bias_se
    assert diag.coverage > 0.85
    assert diag.simulations.shape[0] == sims
    assert "coverage" in str(diag) and "<div" in diag._repr_html_()


def test_diagnose_with_the_simulator_cace_is_reproducible():
    design = Design("voter_id", blocks="precinct_id", clusters="household_id")
    a = fx.diagnose(lambda s: fx.simulate(2000, seed=s), design, estimator="cace", sims=3, seed=9)
    b = fx.diagnose(lambda s: fx.simulate(2000, seed=s), design, estimator="cace", sims=3, seed=9)
    pd.testing.assert_frame_equal(a.simulations, b.simulations)
    assert a.estimand == "CACE"
    assert np.isfinite(a.rmse)


def test_diagnose_under_simple_randomisation_counts_vary_and_failures_are_counted():
    def population(seed, n=24):
        rng = np.random.default_rng(seed)
        y0 = rng.normal(size=n)
        return pd.DataFrame({"v": np.arange(n), "b": np.arange(n) % 3, "y0": y0, "y1": y0 + 0.5})

    simple = fx.diagnose(population, Design("v", blocks="b", scheme="simple"), sims=60, seed=1)
    complete = fx.diagnose(population, Design("v", blocks="b"), sims=20, seed=1)
    assert set(complete.simulations["n_assigned"]) == {12}  # 4 of 8 in each of 3 blocks
    assert complete.failed == 0 and complete.sims == 20
    counts = simple.simulations["n_assigned"]
    assert counts.nunique() > 4 and counts.min() < 12 < counts.max()
    # simulations whose estimator refused (an arm empty or single in a block) are counted
    failed = simple.simulations["failure"].notna()
    assert simple.failed == int(failed.sum()) > 0 and simple.sims == 60 - simple.failed
    assert simple.simulations.loc[failed, "estimate"].isna().all()
    assert "had no estimate" in str(simple)
    # a complete design never hides a refusal
    bad = population(0).assign(b=0).iloc[:3]
    with pytest.raises(fx.errors.FieldexpError):
        fx.diagnose(lambda s: bad, Design("v", blocks="b"), sims=2, seed=1)


def test_diagnose_huge_sims_refused_at_once():
    with pytest.raises(fx.errors.SpecificationError, match=r"1,000,000,000 simulations; .* GB"):
        fx.diagnose(clustered_population, Design("v", clusters="h"), sims=10**9, seed=1)
