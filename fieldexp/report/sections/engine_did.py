"""The DiD section on an ``[engine]`` spec: the voter panel and the event study in the engine.

Called from :func:`fieldexp.report.sections.did.build` when the run holds engine tables
(``AnalysisRun.engine``) and the panel is a voter panel; the section is then written by the
DataFrame section's own :func:`~fieldexp.report.sections.did.estimate` from the panel's
description and the event study computed here, so text, table and figure are one code: the panel is
:func:`fieldexp.engine.report_panel.engine_voter_panel` (the definitions of
:func:`fieldexp.diffindiff.voter_panel`), the estimates
:func:`fieldexp.engine.report_event.engine_event_study` (the numbers of
:func:`fieldexp.event_study`, from cross-products summed in the engine). Nothing but
aggregates leaves the engine: one row per election, per (cohort, period) cell, and a few
one-row passes.

Not computed on engine specs (the section says so and why): ``estimator = "cs"``
(its multiplier bootstrap needs every voter's outcomes) and ``se_type`` HC2/HC3/CR2 (the
two-way leverage of every row).
"""

from __future__ import annotations

import pandas as pd

from fieldexp.diffindiff.events import EventStudy
from fieldexp.errors import SpecificationError
from fieldexp.report.model import Section
from fieldexp.report.sections.context import ReportContext
from fieldexp.report.sections.did_panel import PanelRun, voter_panel_run

__all__ = ["engine_panel_run"]


def engine_panel_run(ctx: ReportContext) -> tuple[PanelRun, EventStudy] | Section:
    """The voter panel's description and its event study, computed in the engine.

    :func:`fieldexp.report.sections.did.estimate` writes the section from them, as it does
    for a DataFrame panel (one text, table and figure for both paths). A Section when the
    DiD cannot be computed here (it says why).
    """
    from fieldexp.engine.report_event import engine_event_study
    from fieldexp.engine.report_panel import (
        engine_elections,
        engine_voter_panel,
        exposure_contacts,
    )
    from fieldexp.engine.tables import pull

    run, spec, lang = ctx.run, ctx.spec, ctx.lang
    d = spec.did
    eng = run.engine
    assert d is not None and eng is not None
    title = lang("did.title")
    estimator = "cs" if d.estimator == "callaway_santanna" else d.estimator
    if estimator == "cs":
        why = lang("did.engine_cs")
        return Section(
            "did", title, available=False, reason=lang("did.engine_unavailable", why=why)
        )
    elections = engine_elections(eng.vote_history)
    target = spec.analysis.election
    ids = elections["election_id"].astype(str).tolist()
    dates = [str(x)[:10] for x in elections["election_date"]]
    if target not in ids and target in dates:
        target = ids[dates.index(target)]
    if target not in ids:
        return Section(
            "did",
            title,
            available=False,
            reason=lang("did.election_missing", election=repr(target)),
        )
    keep = ids[: ids.index(target) + 1]
    target_date = pd.Timestamp(elections["election_date"].iloc[ids.index(target)])
    clusters = d.clusters or spec.analysis.clusters
    contacts = exposure_contacts(d.exposure, eng.contacts, eng.table, target_date)
    n_exposed = pull(contacts.aggregate(n=contacts.count()), "exposure rows").to_pylist()[0]["n"]
    if not n_exposed:
        return Section(
            "did",
            title,
            available=False,
            reason=lang("did.nobody_exposed", exposure=repr(d.exposure)),
        )
    built = engine_voter_panel(
        eng.vote_history,
        contacts,
        voters=eng.voters,
        elections=elections.iloc[: len(keep)],
        clusters=clusters,
    )
    try:
        es = engine_event_study(
            built.data,
            leads=d.leads,
            lags=d.lags,
            reference=d.reference,
            estimator=d.estimator,
            clustered=clusters is not None,
            se_type=d.se_type,
            alpha=spec.analysis.alpha,
        )
    except SpecificationError as exc:  # a variance the engine cannot give
        return Section(
            "did", title, available=False, reason=lang("did.engine_unavailable", why=str(exc))
        )
    p = voter_panel_run(
        pd.DataFrame(),
        exposure=d.exposure,
        clusters=clusters,
        periods=list(keep),
        target=target,
        report_lines=list(built.report.lines()),
        lang=lang,
    )
    return p, es
