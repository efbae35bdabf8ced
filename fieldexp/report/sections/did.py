"""Difference-in-differences and event study: voters x elections, or stations x elections.

Voter panel: :func:`fieldexp.diffindiff.voter_panel` (one builder for the package and the
report). Exposure ``"attempted"`` / ``"contacted"`` comes from the contact log (first election
on or after the contact); any other ``[did] exposure`` is a 0/1 column of the analysis table,
exposed at the target election.

Station panel (``[did] results = [...]``, no voter vote history needed):
:func:`fieldexp.station_panel` on the spec's results files (the ``[data.precinct_results]``
file, already read, is one of them), treated from ``[analysis] election`` for the stations
of the treatment arm of ``[data.precinct_assignment]``, or from the ``rollout`` file's first
canvassed election; weighted by registered voters, clustered by station unless
``[did] clusters`` says otherwise (:mod:`fieldexp.report.sections.did_stations`).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from fieldexp.diffindiff.events import EventStudy
from fieldexp.errors import ColumnNotFoundError, did_you_mean
from fieldexp.report import figures
from fieldexp.report.language import ENGLISH, Language
from fieldexp.report.model import Cell, DidSummary, Figure, Interval, Section, Table
from fieldexp.report.sections.common import cell
from fieldexp.report.sections.context import ReportContext
from fieldexp.report.sections.did_panel import PanelRun, voter_panel_run
from fieldexp.report.sections.did_stations import station_panel_for
from fieldexp.stats.groups import arrow_text, factorize

__all__ = ["build", "exposure_contacts"]


#: Why each ``[did] estimator`` (said in the event-study table note; the report's language
#: has them as ``did.why.<estimator>`` in :mod:`fieldexp.report.language`).
WHY = {k: ENGLISH(f"did.why.{k}") for k in ("twfe", "sun_abraham", "cs")}
#: the deprecated spec spelling (the parser warns and writes "cs")
WHY["callaway_santanna"] = WHY["cs"]


def exposure_contacts(
    exposure: str,
    contacts: pd.DataFrame | None,
    table: pd.DataFrame,
    target_date: pd.Timestamp,
) -> pd.DataFrame:
    """The contact rows :func:`voter_panel` turns into exposure.

    ``"attempted"``: the contact log as it is. ``"contacted"``: its rows with a conversation.
    Otherwise ``exposure`` is a 0/1 column of the analysis ``table``: one voter-level row per
    exposed voter, dated the day before the target election (so the target election is the
    first exposed one).
    """
    if exposure in ("attempted", "contacted") and contacts is not None:
        if exposure == "contacted":
            c = contacts.loc[pd.to_numeric(contacts["contacted"], errors="coerce") == 1]
            return c.assign(attempted=1)
        return contacts
    if exposure not in table.columns:
        raise ColumnNotFoundError(
            f"[did] exposure: column {exposure!r} is not in the analysis table."
            + did_you_mean(exposure, [str(c) for c in table.columns])
        )
    exposed = pd.to_numeric(table[exposure], errors="coerce").fillna(0).to_numpy() == 1
    ids = table.loc[exposed, "voter_id"]
    return pd.DataFrame(
        {
            "unit_id": ids.to_numpy(),
            "unit_level": "voter",
            "timestamp": target_date - pd.Timedelta(days=1),
            "attempted": 1,
            "contacted": 1,
        }
    )


def _first_rows(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    """``frame.drop_duplicates(column)`` (the first row of each value, in row order): for a
    text column from its integer codes (:func:`fieldexp.stats.groups.factorize`, whose codes
    follow the order of first appearance), the frame itself when no value repeats."""
    values = frame[column]
    if arrow_text(values) is None:
        return frame.drop_duplicates(column)
    g = factorize(values)
    if g.n_groups == len(frame):
        return frame
    # a row is a first occurrence when its code exceeds every earlier code
    seen = np.maximum.accumulate(g.codes)
    first = np.flatnonzero(np.r_[True, seen[1:] > seen[:-1]])
    return frame.iloc[first]


def build(ctx: ReportContext) -> Section | None:
    """Left out without ``[did]``; its :class:`DidSummary` is ``Section.summary``."""
    spec = ctx.spec
    d = spec.did
    if d is None:
        return None
    if ctx.run.engine is not None and not d.stations:  # [engine]: panel and sums in the engine
        from fieldexp.report.sections.engine_did import engine_panel_run

        in_engine = engine_panel_run(ctx)
        if isinstance(in_engine, Section):
            return in_engine
        return estimate(ctx, *in_engine)
    if d.stations:
        built = station_panel_for(ctx)
        if isinstance(built, Section):
            return built
        return estimate(ctx, built)
    voters = _voter_panel(ctx)
    if isinstance(voters, Section):
        return voters
    return estimate(ctx, voters)


def _voter_panel(ctx: ReportContext) -> PanelRun | Section:
    run, spec, lang = ctx.run, ctx.spec, ctx.lang
    d = spec.did
    assert d is not None
    hist = run.inputs.vote_history
    t = run.table
    if hist is None or t is None:
        return Section("did", lang("did.title"), available=False, reason=lang("did.needs_history"))
    from fieldexp.diffindiff.panels import positions, voter_panel

    elections = (
        _first_rows(hist, "election_id")
        .loc[:, ["election_id", "election_date"]]
        .sort_values(["election_date", "election_id"], kind="stable")
    )
    target = spec.analysis.election
    ids = elections["election_id"].astype(str).tolist()
    dates = elections["election_date"].astype(str).str[:10].tolist()
    if target not in ids and target in dates:
        target = ids[dates.index(target)]
    if target not in ids:
        return Section(
            "did",
            lang("did.title"),
            available=False,
            reason=lang("did.election_missing", election=repr(target)),
        )
    keep = ids[: ids.index(target) + 1]
    target_date = pd.Timestamp(elections["election_date"].iloc[ids.index(target)])
    clusters = d.clusters or spec.analysis.clusters
    contacts = exposure_contacts(d.exposure, run.inputs.contacts, t, target_date)
    if contacts.empty:
        return Section(
            "did",
            lang("did.title"),
            available=False,
            reason=lang("did.nobody_exposed", exposure=repr(d.exposure)),
        )
    voters = run.inputs.voters if run.inputs.voters is not None else t[["voter_id"]]
    built = voter_panel(hist, contacts, voters=voters, elections=keep)
    panel = built.data
    if clusters and clusters not in panel.columns:
        source = run.inputs.voters if run.inputs.voters is not None else t
        if clusters not in source.columns:
            raise ColumnNotFoundError(f"[did] clusters: column {clusters!r} not found")
        # the panel is voter-major over built.elections: each voter's cluster by position
        # (a left join on voter_id, without a merge on 4M text keys)
        once = _first_rows(source.loc[:, ["voter_id", clusters]], "voter_id")
        n_e = len(built.elections)
        vids = pd.Index(panel["voter_id"].iloc[::n_e])
        at = positions(pd.Index(once["voter_id"]), pd.Series(vids))
        values = once[clusters].array.take(np.repeat(at, n_e), allow_fill=True)
        panel = panel.assign(**{clusters: values})
    panel = panel.assign(voted=pd.to_numeric(panel["voted"]).astype("float64"))
    return voter_panel_run(
        panel,
        exposure=d.exposure,
        clusters=clusters,
        periods=list(keep),
        target=target,
        report_lines=list(built.report.lines()),
        lang=lang,
    )


def estimate(ctx: ReportContext, p: PanelRun, es: EventStudy | None = None) -> Section:
    """Event study (or Callaway & Sant'Anna) with its pre-trend test on a built panel.

    ``es``: the event study already computed (in the engine, for ``[engine]`` specs); else
    it is fitted on ``p.data`` here.
    """
    spec, lang = ctx.spec, ctx.lang
    d = spec.did
    assert d is not None
    from fieldexp.diffindiff import event_study

    ci = lang.ci(ctx.level)

    panel, clusters, target, keep = p.data, p.clusters, p.target, p.periods
    panel_lines = list(p.lines)
    alpha = spec.analysis.alpha
    rows: tuple[tuple[Cell, ...], ...]
    pretest: tuple[tuple[str, float], ...] = ()
    estimator = "cs" if d.estimator == "callaway_santanna" else d.estimator
    summary = DidSummary(target=target, periods=tuple(keep), estimator=estimator)
    if estimator == "cs":
        from fieldexp.diffindiff import staggered_did

        cs = staggered_did(
            panel,
            p.outcome,
            p.unit,
            "period",
            "cohort",
            comparison=d.comparison,
            clusters=clusters,
            weights=p.cs_weights,
            alpha=alpha,
        )
        agg = cs.aggregate("dynamic", reps=d.reps, seed=d.seed)
        c = agg.components
        rows = tuple(
            (
                int(float(r.event_time)),  # type: ignore[arg-type]
                cell(r.estimate),
                cell(r.std_error),
                cell(r.ci_low),
                cell(r.ci_high),
                cell(r.cband_low),
                cell(r.cband_high),
            )
            for r in c.itertuples(index=False)
        )
        columns: tuple[str, ...] = (
            lang("col.event_time"),
            lang("col.estimate"),
            lang("col.std_error"),
            lang("col.ci_low", ci=ci),
            lang("col.ci_high", ci=ci),
            lang("col.band_low"),
            lang("col.band_high"),
        )
        formats: tuple[str, ...] = ("int", "est", "se", "est", "est", "est", "est")
        pre = cs.pretest
        if pre is not None:
            pretest = (("statistic", pre.statistic), ("df", _df(pre.df)), ("p_value", pre.p_value))
        o = agg.overall
        summary = replace(
            summary,
            overall=Interval(o.estimate, o.ci_low, o.ci_high),
            overall_std_error=o.std_error,
            overall_p_value=o.p_value,
            comparison=d.comparison,
            bootstrap_reps=d.reps,
            bootstrap_seed=d.seed,
            critical_value=agg.crit_val,
        )
        method_text = lang(
            "did.cs_method_weighted" if p.cs_weights == "base_registered" else "did.cs_method",
            comparison=lang.term("did.comparison", d.comparison),
            reps=lang.count(d.reps),
            seed=d.seed,
        )
    else:
        es = (
            es
            if es is not None
            else event_study(
                panel,
                p.outcome,
                p.unit,
                "period",
                "cohort",
                leads=d.leads,
                lags=d.lags,
                reference=d.reference,
                estimator=d.estimator,
                clusters=clusters,
                weights=p.weights,
                se_type=d.se_type,
                alpha=alpha,
            )
        )
        c = es.coefficients
        rows = tuple(
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
        formats = ("int", "est", "se", "est", "est", "p")
        if es.pretest is not None:
            pt = es.pretest
            pretest = (
                ("statistic", pt.statistic),
                ("df", _df(pt.df)),
                ("p_value", pt.p_value),
                ("f_statistic", es.pretest_f.statistic if es.pretest_f else float("nan")),
                ("f_p_value", es.pretest_f.p_value if es.pretest_f else float("nan")),
            )
        method_text = lang(
            "did.fe_method", unit=lang.term("did.unit", p.units_word), estimator=d.estimator
        )
    table = Table(
        "event_study",
        lang(
            "did.table",
            outcome=p.outcome_label,
            units=lang.term("did.units", p.units_word),
        ),
        columns,
        formats,
        rows,
        note=lang(
            "did.table_note",
            estimator=d.estimator,
            why=lang(f"did.why.{estimator}") if estimator in WHY else "[did] estimator",
            target=target,
            reference=d.reference,
        ),
    )
    paras = [lang("did.intro", intro=p.intro, method=method_text, exposure=p.exposure_note).strip()]
    if p.static:
        from fieldexp.diffindiff import did as fx_did

        att = fx_did(
            panel,
            p.outcome,
            p.unit,
            "period",
            "treated",
            clusters=clusters,
            weights=p.weights,
            se_type=d.se_type,
            alpha=alpha,
        )
        paras.append(
            lang(
                "did.static",
                unit=lang.term("did.unit", p.units_word),
                weighted=", " + lang("did.weighted_by", weights=_weights_word(p.weights, lang))
                if p.weights
                else "",
                clustered=", " + lang("did.clustered_by", clusters=clusters) if clusters else "",
                est=lang.number(100 * att.estimate, 2, sign=True),
                ci=ci,
                low=lang.number(100 * att.ci_low, 2, sign=True),
                high=lang.number(100 * att.ci_high, 2, sign=True),
                p=lang.fixed(att.p_value, 3),
            )
        )
        if estimator != "cs":
            summary = replace(
                summary,
                overall=Interval(att.estimate, att.ci_low, att.ci_high),
                overall_std_error=att.std_error,
                overall_p_value=att.p_value,
            )
    if panel_lines:
        paras.append(lang("did.panel", lines="; ".join(line.strip() for line in panel_lines)))
    pre_d = dict(pretest)
    if pretest:
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


def _weights_word(weights: str, lang: Language = ENGLISH) -> str:
    return lang("did.registered") if weights == "registered" else weights


def _df(df: float | tuple[float, float]) -> float:
    """Degrees of freedom of a chi-squared TestResult as one number."""
    return float(df[0]) if isinstance(df, tuple) else float(df)
