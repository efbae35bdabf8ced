"""Reports: run the analysis a spec describes and write it as HTML, Markdown, JSON, CSV, LaTeX.

``fieldexp report SPEC --out DIR`` is :func:`run_report`; in Python::

    from fieldexp.report import run_report
    report = run_report("analyses/demo.toml", "demo-report")
    report            # renders as HTML in Jupyter

:func:`build_report` returns the typed :class:`Report` without writing anything;
:func:`write_report` writes it. ``docs/report.md`` documents ``results.json``.

Stages: :func:`prepare_analysis` (inputs -> :class:`AnalysisRun`), :func:`plan_effects` (the
typed :class:`EffectPlan`), one builder per section in :mod:`fieldexp.report.sections`
(contract in ``docs/architecture.md``), :mod:`fieldexp.report.html` for HTML and
:mod:`fieldexp.report.render` for the other formats.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from fieldexp.report.html import render_html
from fieldexp.report.model import (
    RESULTS_SCHEMA_VERSION,
    Estimate,
    Figure,
    Headline,
    Interval,
    Provenance,
    Report,
    Section,
    Table,
)
from fieldexp.report.plan import EffectPlan, PlannedEffect, plan_effects
from fieldexp.report.prepare import AnalysisRun, Step, prepare_analysis
from fieldexp.report.render import (
    render_json,
    render_markdown,
    write_report,
)
from fieldexp.report.run import build_report

__all__ = [
    "RESULTS_SCHEMA_VERSION",
    "AnalysisRun",
    "EffectPlan",
    "Estimate",
    "Figure",
    "Headline",
    "Interval",
    "PlannedEffect",
    "Provenance",
    "Report",
    "Section",
    "Table",
    "build_report",
    "identifier_tokens",
    "plan_effects",
    "prepare_analysis",
    "render_html",
    "render_json",
    "render_markdown",
    "run_report",
    "write_report",
]

ID_COLUMNS = ("voter_id", "household_id", "unit_id", "cluster")


def identifier_tokens(run: AnalysisRun) -> set[str]:
    """Every voter/household id of the inputs (what must never appear in outputs)."""
    tokens: set[str] = set()
    frames = [
        run.inputs.voters,
        run.inputs.assignment,
        run.inputs.contacts,
        run.inputs.analysis_table,
        run.table,
    ]
    for frame in frames:
        if not isinstance(frame, pd.DataFrame):
            continue
        for col in ID_COLUMNS:
            if col in frame.columns:
                tokens.update(frame[col].dropna().astype(str).unique().tolist())
    return tokens


def run_report(spec: str | Path, out: str | Path, *, step: Step | None = None) -> Report:
    """Load ``spec``, run the analysis, write every output into ``out``; return the report."""
    from fieldexp.spec import load_spec

    s = load_spec(spec)
    noop: Step = lambda _text: None  # noqa: E731
    run = prepare_analysis(s, step or noop)
    report = build_report(s, step=step or noop, run=run)
    write_report(report, out, forbidden=identifier_tokens(run))
    return report
