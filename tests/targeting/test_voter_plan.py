"""fx.voter_plan: the gain of knocking the top of a ranking, against a known truth."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fieldexp.errors import SpecificationError
from fieldexp.targeting import rate, voter_plan


def _sim(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.random(n)
    z = np.zeros(n)
    z[rng.permutation(n)[: n // 2]] = 1.0
    y = 0.3 + 0.2 * x + (0.05 + 0.4 * x) * z + rng.normal(0, 0.5, n)
    return pd.DataFrame({"y": y, "z": z, "x": x})


def test_gain_is_the_sum_of_top_scores_and_matches_rate() -> None:
    d = _sim(1000, 1)
    plan = voter_plan(d, "y", "z", "x", doors=250, reps=20)
    r = rate(d, "y", "z", "x", reps=20)
    # G(k) = k * (ATE + TOC(k/n)); TOC on the rate grid at q = 0.25 (grid of 50 includes 0.26, 0.24)
    toc = float(np.interp(0.25, r.toc["q"], r.toc["toc"]))
    assert plan.net_votes == pytest.approx(250 * (r.ate + toc), rel=0.05)
    assert plan.curve["doors"].iloc[0] == 0 and plan.curve["net_votes"].iloc[0] == 0
    assert plan.curve["doors"].iloc[-1] == 1000
    assert plan.curve["net_votes"].iloc[-1] == pytest.approx(1000 * r.ate, rel=1e-10)
    scaled = voter_plan(d, "y", "z", "x", doors=2500, population=10_000, reps=20)
    assert scaled.net_votes == pytest.approx(10 * plan.net_votes, rel=1e-10)


def test_interval_covers_the_known_gain() -> None:
    """Top quarter by x of 2,000 voters: true gain 2000 * 0.25 * (0.05 + 0.4 * 0.875) = 200."""
    covered = 0
    for seed in range(50):
        p = voter_plan(_sim(2000, 50 + seed), "y", "z", "x", doors=500, reps=60, seed=seed)
        covered += p.ci_low <= 200.0 <= p.ci_high
    assert covered >= 42  # 95% nominal: fewer than 42 of 50 has probability < 1%


def test_errors() -> None:
    d = _sim(100, 2)
    with pytest.raises(SpecificationError, match="'doors'"):
        voter_plan(d, "y", "z", "x", doors=101)
    with pytest.raises(SpecificationError, match="'population'"):
        voter_plan(d, "y", "z", "x", doors=5, population=0)
