"""Simulated canvassing experiments with a known truth: :func:`simulate`.

``fieldexp.simulate(n_voters, seed=...)`` returns a :class:`SimulatedExperiment` holding the
canonical tables (voters, vote history, assignment, contact log), the unit-level analysis
table, the potential outcomes and the true effects. The data-generating process is written
out in :mod:`fieldexp.simulate.experiment`. ``python -m fieldexp.simulate --help`` writes the
shipped fixtures.
"""

from __future__ import annotations

import sys
import types
from typing import Any

from fieldexp.simulate.experiment import (
    BANDS,
    RESULT_CODES,
    EffectTruth,
    SimulatedExperiment,
    SimulationParams,
    Truth,
    simulate,
)
from fieldexp.simulate.pairs import matched_pairs
from fieldexp.simulate.rollout import RolloutPanel, simulate_rollout

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


class _CallableModule(types.ModuleType):
    """Importing ``fieldexp.simulate`` binds the package attribute to this module, which would
    shadow the lazily exported function; making the module callable keeps
    ``fieldexp.simulate(...)`` working whichever way it was first imported."""

    def __call__(self, *args: Any, **kwargs: Any) -> SimulatedExperiment:
        return simulate(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
