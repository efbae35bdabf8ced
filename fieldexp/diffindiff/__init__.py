"""Difference-in-differences: two-way FE, event studies, Callaway-Sant'Anna, Sun-Abraham, panels.

The package is :mod:`fieldexp.diffindiff`; its main function is ``fx.did``
(:func:`fieldexp.diffindiff.twfe.did`).
"""

from __future__ import annotations

import warnings
from typing import Any

from fieldexp.diffindiff.events import EventStudy, event_study
from fieldexp.diffindiff.matching import ComparisonGroup, comparison_group
from fieldexp.diffindiff.panels import DiDPanel, PanelReport, precinct_panel, voter_panel
from fieldexp.diffindiff.staggered import AggregatedEffects, StaggeredDiD, staggered_did
from fieldexp.diffindiff.twfe import cohort_from_treatment, did
from fieldexp.results import TestResult

__all__ = [
    "AggregatedEffects",
    "ComparisonGroup",
    "DiDPanel",
    "EventStudy",
    "PanelReport",
    "StaggeredDiD",
    "TestResult",
    "cohort_from_treatment",
    "comparison_group",
    "did",
    "event_study",
    "precinct_panel",
    "staggered_did",
    "voter_panel",
]

#: test types replaced by :class:`fieldexp.results.TestResult` (deprecated names)
_REPLACED = {"PreTest": "TestResult", "PreTrendTest": "TestResult"}


def __getattr__(name: str) -> Any:
    if name in _REPLACED:
        warnings.warn(
            f"fieldexp.diffindiff.{name} is replaced by fieldexp.results.TestResult.",
            FutureWarning,
            stacklevel=2,
        )
        return TestResult
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
