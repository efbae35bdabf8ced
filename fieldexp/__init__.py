"""fieldexp: did knocking on doors raise turnout and registration, and by how much?

The pipeline, one sub-package per stage::

    raw files ─► fieldexp.io          validated canonical tables (voters, vote_history, contacts, ...)
              ─► fieldexp.analysis    the unit-level analysis table + a reconciliation report
              ─► fieldexp.stats       sufficient statistics and shared numerics (pure functions)
              ─► fieldexp.experiment  ITT / CACE / balance / randomisation inference
                 fieldexp.diffindiff         two-way FE, event studies, staggered DiD
              ─► fieldexp.results     typed, frozen results (one schema)
              ─► fieldexp.report      HTML / Markdown / JSON reports

``import fieldexp as fx`` is cheap: public names are imported on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from fieldexp._version import __version__
from fieldexp.errors import (
    DataError,
    DesignError,
    EstimationError,
    FieldexpError,
    FieldexpWarning,
    SpecificationError,
)
from fieldexp.results import EffectResult, FirstStage, Result, TestResult

# public name -> module that defines it (imported lazily)
_LAZY: dict[str, str] = {
    "itt": "fieldexp.experiment.api",
    "cace": "fieldexp.experiment.api",
    "simulate": "fieldexp.simulation",
    "SimulatedExperiment": "fieldexp.simulation",
    "Design": "fieldexp.design",
    "walk_list": "fieldexp.design",
    "balance": "fieldexp.experiment.balance",
    "power": "fieldexp.design.power",
    "diagnose": "fieldexp.diagnosis",
    "randomization_inference": "fieldexp.experiment.ri",
    "heterogeneity": "fieldexp.experiment.heterogeneity",
    "spillover": "fieldexp.experiment.spillover",
    "dose_cace": "fieldexp.experiment.stations",
    "ols_randomization_inference": "fieldexp.experiment.stations",
    "lee_bounds": "fieldexp.experiment.bounds",
    "attrition": "fieldexp.experiment.attrition",
    "SaturationDesign": "fieldexp.design.saturation",
    "saturation_ri": "fieldexp.experiment.saturation_ri",
    "adjust_pvalues": "fieldexp.experiment.multiplicity",
    "build_analysis_table": "fieldexp.engine.table",  # DataFrames -> fieldexp.analysis
    "station_panel": "fieldexp.analysis.station_panel",
    "did": "fieldexp.diffindiff",
    "event_study": "fieldexp.diffindiff",
    "staggered_did": "fieldexp.diffindiff",
    "simulate_rollout": "fieldexp.simulation",
    "uplift": "fieldexp.targeting",
    "rate": "fieldexp.targeting",
    "precinct_priorities": "fieldexp.targeting",
    "choropleth": "fieldexp.targeting",
    "voter_plan": "fieldexp.targeting",
}

__all__ = [
    "DataError",
    "DesignError",
    "EffectResult",
    "EstimationError",
    "FieldexpError",
    "FieldexpWarning",
    "FirstStage",
    "Result",
    "SpecificationError",
    "TestResult",
    "__version__",
    *sorted(_LAZY),
]


#: Subpackages reachable as attributes (``fx.io.read_voters``) without importing them first.
_SUBPACKAGES = frozenset(
    {"analysis", "design", "diffindiff", "engine", "experiment", "io", "report", "results"}
    | {"simulation", "spec", "stats", "targeting"}
)


def __getattr__(name: str) -> Any:
    if name in _SUBPACKAGES:
        qualified = "fieldexp." + name  # name is one of the fixed subpackage names above
        module = importlib.import_module(qualified)
        globals()[name] = module
        return module
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'fieldexp' has no attribute {name!r}")
    value = getattr(importlib.import_module(module_name), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


if TYPE_CHECKING:  # pragma: no cover
    from fieldexp.analysis.station_panel import station_panel as station_panel
    from fieldexp.diffindiff import did as did
    from fieldexp.diffindiff import event_study as event_study
    from fieldexp.diffindiff import staggered_did as staggered_did
    from fieldexp.experiment.api import cace as cace
    from fieldexp.experiment.api import itt as itt
    from fieldexp.simulation import SimulatedExperiment as SimulatedExperiment
    from fieldexp.simulation import simulate as simulate
    from fieldexp.targeting import rate as rate
    from fieldexp.targeting import uplift as uplift
