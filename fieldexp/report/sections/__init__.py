"""One module per report section, each exposing ``build(ctx: ReportContext) -> Section | None``.

The contract is :mod:`fieldexp.report.sections.context` (also in ``docs/architecture.md``).
:data:`SECTIONS` is the report's order; a new section (e.g. targeting, spillovers) is a new
module with ``build`` added here.
"""

from __future__ import annotations

from collections.abc import Callable

from fieldexp.report.model import Section
from fieldexp.report.sections import (
    attrition,
    balance,
    coverage,
    did,
    effects,
    flow,
    headline,
    heterogeneity,
    provenance,
    reconciliation,
    ri,
    targeting,
)
from fieldexp.report.sections.context import RandomizationRun, ReportContext

__all__ = ["SECTIONS", "RandomizationRun", "ReportContext", "SectionBuilder"]

SectionBuilder = Callable[[ReportContext], Section | None]

#: (key, builder) in report order.
SECTIONS: tuple[tuple[str, SectionBuilder], ...] = (
    ("headline", headline.build),
    ("flow", flow.build),
    ("reconciliation", reconciliation.build),
    ("balance", balance.build),
    ("effects", effects.build),
    ("attrition", attrition.build),
    ("heterogeneity", heterogeneity.build),
    ("ri", ri.build),
    ("did", did.build),
    ("coverage", coverage.build),
    ("targeting", targeting.build),
    ("provenance", provenance.build),
)
