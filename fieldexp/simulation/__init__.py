"""Simulated canvassing experiments with a known truth: :func:`simulate`.

``fieldexp.simulate(n_voters, seed=...)`` returns a :class:`SimulatedExperiment` holding the
canonical tables (voters, vote history, assignment, contact log), the unit-level analysis
table, the potential outcomes and the true effects. The data-generating process is written
out in :mod:`fieldexp.simulation.experiment`. ``python -m fieldexp.simulation --help`` writes the
shipped fixtures.
"""

from __future__ import annotations

from fieldexp.simulation.experiment import (
    BANDS,
    RESULT_CODES,
    EffectTruth,
    SimulatedExperiment,
    SimulationParams,
    Truth,
    simulate,
)
from fieldexp.simulation.pairs import matched_pairs
from fieldexp.simulation.rollout import RolloutPanel, simulate_rollout

__all__ = [
    "BANDS",
    "RESULT_CODES",
    "EffectTruth",
    "RolloutPanel",
    "SimulatedExperiment",
    "SimulationParams",
    "Truth",
    "matched_pairs",
    "simulate",
    "simulate_rollout",
]
