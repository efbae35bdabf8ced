"""What every section builder receives: :class:`ReportContext` (the section contract).

A section is a module under :mod:`fieldexp.report.sections` exposing::

    def build(ctx: ReportContext) -> Section | None

- ``None``: the spec does not ask for this section; it is left out of the report.
- ``Section(available=False, reason=...)``: asked for but cannot be computed; the report
  keeps it with *Not included: <reason>* (nothing is ever filled in).
- otherwise the section: paragraphs, :class:`~fieldexp.report.model.Table` and
  :class:`~fieldexp.report.model.Figure`; aggregates only (counts below
  ``ctx.small_cell`` replaced by ``"<k"`` with :func:`~fieldexp.report.sections.common.suppress`).
- every sentence, title, column header and axis label from ``ctx.lang`` (the message
  catalogue of :mod:`fieldexp.report.language`; numbers through ``ctx.lang.int``,
  ``ctx.lang.pp``, ``ctx.lang.pct``...), so ``[report] language = "fr"`` reaches it.

``build`` must not mutate ``ctx`` or the tables it holds; every estimator a section needs is
called inside ``build`` (or, when other sections need the result too, computed once by
:func:`fieldexp.report.build_report` and put in the context).
"""

from __future__ import annotations

from dataclasses import dataclass

from fieldexp.experiment.ri import RandomizationResult
from fieldexp.report.language import Language, get_language
from fieldexp.report.plan import Effects
from fieldexp.report.prepare import AnalysisRun
from fieldexp.spec.model import AnalysisSpec

__all__ = ["RandomizationRun", "ReportContext"]


@dataclass(frozen=True, slots=True, eq=False)
class RandomizationRun:
    """Randomisation-inference results, computed once (the RI section and Westfall-Young)."""

    results: tuple[RandomizationResult, ...]
    rows: tuple[tuple[str, str, str], ...]  # outcome label, arm, estimand per result
    skipped: tuple[str, ...]
    stations: bool


@dataclass(frozen=True, slots=True, eq=False)
class ReportContext:
    """The inputs of every section builder.

    ``run``: the prepared data (:func:`fieldexp.report.prepare_analysis`); ``effects``: the
    estimated and multiplicity-adjusted effects of the plan; ``randomization``: the
    randomisation-inference results (``None`` when not configured).
    """

    run: AnalysisRun
    effects: Effects
    randomization: RandomizationRun | None = None

    @property
    def spec(self) -> AnalysisSpec:
        return self.run.spec

    @property
    def small_cell(self) -> int:
        return self.run.spec.privacy.small_cell

    @property
    def level(self) -> int:
        """Confidence level in percent."""
        return round(100 * (1 - self.run.spec.analysis.alpha))

    @property
    def figures(self) -> bool:
        return self.run.spec.report.figures

    @property
    def lang(self) -> Language:
        """The report's language: every text through ``ctx.lang("key", ...)`` (its catalogue)."""
        return get_language(self.run.spec.report.language)

    @property
    def stations(self) -> bool:
        """True when the units are polling stations (words: stations, registered voters)."""
        return self.run.station_level
