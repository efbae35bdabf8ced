"""The DiD section on an ``[engine]`` spec: the voter panel and the event study in the engine.

Called from :func:`fieldexp.report.sections.did.build` when the run holds engine tables
(``AnalysisRun.engine``) and the panel is a voter panel. Same definitions and the same text,
tables and figure as the DataFrame section: the panel is
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

from dataclasses import replace

import pandas as pd

from fieldexp.errors import SpecificationError
from fieldexp.report import figures
from fieldexp.report.model import Cell, DidSummary, Figure, Section, Table
from fieldexp.report.sections.common import cell
from fieldexp.report.sections.context import ReportContext
from fieldexp.report.sections.did_panel import PanelRun

__all__ = ["build"]


def build(ctx: ReportContext) -> Section:
    """The voter-panel DiD section of an engine run (``ctx.run.engine`` is set)."""
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
    p = PanelRun(
        data=pd.DataFrame(),
        unit="voter_id",
        outcome="voted",
        weights=None,
        clusters=clusters,
        periods=tuple(keep),
        target=target,
        lines=tuple(lang.notes(line.strip() for line in built.report.lines())),
        intro=lang(
            "did.voters_intro",
            exposure=lang.term("did.exposure", d.exposure),
            n=len(keep),
            elections=", ".join(keep),
        ),
        exposure_note=lang("did.voters_exposure", exposure=lang.term("did.exposure", d.exposure)),
        outcome_label=lang("did.turnout"),
    )
    return _render(ctx, p, es)


def _render(ctx: ReportContext, p: PanelRun, es: object) -> Section:
    """The event-study branch of :func:`fieldexp.report.sections.did.estimate`, on a result."""
    from fieldexp.diffindiff.events import EventStudy

    assert isinstance(es, EventStudy)
    spec, lang = ctx.spec, ctx.lang
    d = spec.did
    assert d is not None
    ci = lang.ci(ctx.level)
    summary = DidSummary(target=p.target, periods=tuple(p.periods), estimator=d.estimator)
    c = es.coefficients
    rows: tuple[tuple[Cell, ...], ...] = tuple(
        (
            int(float(r.event_time)),  # type: ignore[arg-type]
            cell(r.estimate),
            cell(r.std_error),
            cell(r.ci_low),
            cell(r.ci_high),
            cell(r.p_value),
        )
        for r in c.itertuples(index=False)
    )
    columns = (
        lang("col.event_time"),
        lang("col.estimate"),
        lang("col.std_error"),
        lang("col.ci_low", ci=ci),
        lang("col.ci_high", ci=ci),
        lang("col.p_value"),
    )
    pretest: tuple[tuple[str, float], ...] = ()
    if es.pretest is not None:
        pt = es.pretest
        pretest = (
            ("statistic", pt.statistic),
            ("df", float(pt.df[0]) if isinstance(pt.df, tuple) else float(pt.df)),
            ("p_value", pt.p_value),
            ("f_statistic", es.pretest_f.statistic if es.pretest_f else float("nan")),
            ("f_p_value", es.pretest_f.p_value if es.pretest_f else float("nan")),
        )
    method_text = lang(
        "did.fe_method", unit=lang.term("did.unit", p.units_word), estimator=d.estimator
    )
    table = Table(
        "event_study",
        lang("did.table", outcome=p.outcome_label, units=lang.term("did.units", p.units_word)),
        columns,
        ("int", "est", "se", "est", "est", "p"),
        rows,
        note=lang(
            "did.table_note",
            estimator=d.estimator,
            why=lang(f"did.why.{d.estimator}"),  # twfe or sun_abraham here
            target=p.target,
            reference=d.reference,
        ),
    )
    paras = [lang("did.intro", intro=p.intro, method=method_text, exposure=p.exposure_note).strip()]
    if p.lines:
        paras.append(lang("did.panel", lines="; ".join(line.strip() for line in p.lines)))
    if pretest:
        pre_d = dict(pretest)
        pval = pre_d["p_value"]
        paras.append(
            lang(
                "did.pretest",
                df=lang.g(pre_d["df"], 6),
                stat=lang.fixed(pre_d["statistic"], 2),
                p=lang.fixed(pval, 3),
            )
            + " "
            + lang("did.no_pretrend" if pval >= 0.05 else "did.pretrend")
        )
    summary = replace(summary, pretest=pretest)
    figs: tuple[Figure, ...] = ()
    if ctx.figures:
        figs = (
            Figure(
                "event_study",
                lang("did.figure"),
                figures.event_study_figure(
                    c["event_time"].astype(float).tolist(),
                    c["estimate"].astype(float).tolist(),
                    c["ci_low"].astype(float).tolist(),
                    c["ci_high"].astype(float).tolist(),
                    reference=d.reference,
                    outcome_label=p.outcome_label,
                    language=lang.code,
                ),
                lang("did.figure_alt"),
            ),
        )
    return Section("did", lang("did.title"), tuple(paras), (table,), figs, summary=summary)
