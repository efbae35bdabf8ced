"""Difference-in-differences: two-way FE, event studies, Callaway-Sant'Anna, Sun-Abraham, panels.

``fieldexp.did`` is both this package and its main function. ``import fieldexp as fx; fx.did(...)``
must call the function whichever was imported first: when ``fieldexp.did`` is imported as a module
(``import fieldexp.did`` or ``from fieldexp.did import ...``), Python binds the *module* as the
attribute ``did`` of ``fieldexp``, so the module itself is made callable and forwards to
:func:`fieldexp.did.twfe.did`.
"""

from __future__ import annotations

import sys
import types
from typing import Any

from fieldexp.did.events import EventStudy, PreTrendTest, event_study
from fieldexp.did.matching import ComparisonGroup, comparison_group
from fieldexp.did.panels import DiDPanel, PanelReport, precinct_panel, voter_panel
from fieldexp.did.staggered import AggregatedEffects, PreTest, StaggeredDiD, staggered_did
from fieldexp.did.twfe import cohort_from_treatment, did

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


class _CallableModule(types.ModuleType):
    """``fieldexp.did`` the module, callable as ``fieldexp.did`` the function."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return did(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
