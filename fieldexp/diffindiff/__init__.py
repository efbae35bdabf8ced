"""Difference-in-differences: two-way FE, event studies, Callaway-Sant'Anna, Sun-Abraham, panels.

The package is :mod:`fieldexp.diffindiff`; its main function is ``fx.did`` (:func:`fieldexp.diffindiff.twfe.did`).
"""

from __future__ import annotations

from fieldexp.diffindiff.events import EventStudy, PreTrendTest, event_study
from fieldexp.diffindiff.matching import ComparisonGroup, comparison_group
from fieldexp.diffindiff.panels import DiDPanel, PanelReport, precinct_panel, voter_panel
from fieldexp.diffindiff.staggered import AggregatedEffects, PreTest, StaggeredDiD, staggered_did
from fieldexp.diffindiff.twfe import cohort_from_treatment, did

__all__ = [
    "AggregatedEffects",
    "ComparisonGroup",
    "DiDPanel",
    "EventStudy",
    "PanelReport",
    "PreTest",
    "PreTrendTest",
    "StaggeredDiD",
    "cohort_from_treatment",
    "comparison_group",
    "did",
    "event_study",
    "precinct_panel",
    "staggered_did",
    "voter_panel",
]
