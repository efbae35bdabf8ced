"""Run the analysis a spec describes and assemble the typed :class:`~fieldexp.report.model.Report`.

Stages (one module each):

1. :func:`fieldexp.report.prepare.prepare_analysis`: inputs -> :class:`AnalysisRun`;
2. :func:`fieldexp.report.plan.plan_effects`: the typed :class:`EffectPlan`, run by
   :func:`~fieldexp.report.plan.estimate_effects`; randomisation inference
   (:func:`fieldexp.report.sections.ri.randomize`); multiplicity adjustment over the
   outcome x arm families (:func:`~fieldexp.report.plan.adjust_effects`);
3. every section builder of :data:`fieldexp.report.sections.SECTIONS` on one
   :class:`~fieldexp.report.sections.ReportContext`.

Privacy: only counts, means and estimates leave the sections; counts below
``[privacy] small_cell`` are replaced by ``"<k"``; canvassers appear under salted pseudonyms.
"""

from __future__ import annotations

import warnings
from dataclasses import replace

from fieldexp.errors import FieldexpError
from fieldexp.experiment.ri_replay import shared_replays
from fieldexp.report.language import get_language
from fieldexp.report.model import DidSummary, Headline, Provenance, Report, Section
from fieldexp.report.plan import adjust_effects, estimate_effects, plan_effects
from fieldexp.report.prepare import AnalysisRun, Step, no_progress, prepare_analysis
from fieldexp.report.sections import SECTIONS, ReportContext
from fieldexp.report.sections.ri import prefetch, randomize
from fieldexp.spec.model import AnalysisSpec
from fieldexp.stats.blas import single_thread_blas

__all__ = ["build_report", "check_error"]

_STEPS = {
    "balance": "balance and subgroups",
    "did": "difference-in-differences",
    "coverage": "field coverage",
}


def build_report(
    spec: AnalysisSpec, *, step: Step = no_progress, run: AnalysisRun | None = None
) -> Report:
    """Run the analysis ``spec`` describes and return the :class:`Report`.

    BLAS runs on one thread throughout: every product here is tall and thin (rows x a few
    columns), where a second thread only waits on a busy machine (:mod:`fieldexp.stats.blas`).
    Each design replay is prepared once for all its consumers (:func:`shared_replays`).
    """
    with warnings.catch_warnings(), single_thread_blas(), shared_replays():
        warnings.simplefilter("ignore", category=FutureWarning)
        if run is None:
            run = prepare_analysis(spec, step)
        elif run.spec is not spec:
            run = replace(run, spec=spec)
        prefetch(run)  # the re-randomisations, drawn in a forked process meanwhile
        step("estimating effects")
        plan = plan_effects(run)
        effects = estimate_effects(run, plan)
        step("randomisation inference")
        randomization = randomize(run)
        effects = adjust_effects(
            effects,
            spec.analysis.multiplicity,
            randomization.results if randomization is not None else (),
            lang=get_language(spec.report.language),
        )
        ctx = ReportContext(run, effects, randomization)
        sections: list[Section] = []
        for key, build in SECTIONS:
            if key in _STEPS:
                step(_STEPS[key])
            section = build(ctx)
            if section is not None:
                sections.append(section)
    headline = next((s.summary for s in sections if isinstance(s.summary, Headline)), None)
    did = next((s.summary for s in sections if isinstance(s.summary, DidSummary)), None)
    prov = next(s.summary for s in sections if isinstance(s.summary, Provenance))
    return Report(
        title=spec.report.title,
        subtitle=spec.report.organisation or "",
        headline=headline,
        sections=tuple(sections),
        estimates=effects.estimates,
        provenance=prov,
        alpha=spec.analysis.alpha,
        small_cell=spec.privacy.small_cell,
        pseudonymised=spec.privacy.salt is not None,
        did=did,
        language=spec.report.language,
    )


def check_error(exc: BaseException) -> bool:
    """True for errors that are the user's to fix (printed as one line by the CLI)."""
    return isinstance(exc, FieldexpError)
