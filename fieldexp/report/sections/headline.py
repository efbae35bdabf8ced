"""Headline: the plain-language answer, with the evidence the effects table shows.

The conclusion is worded from the p-value of the effects table: the multiplicity-adjusted
one when ``[analysis] multiplicity`` adjusts, else the unadjusted one. A CACE with a weak
first stage (F < 10) or an interval wider than ±100 points is flagged here and beside the
estimate, and net votes / cost per net vote (which multiply the CACE) are then withheld.
"""

from __future__ import annotations

from fieldexp.experiment.costs import cost_per_net_vote, field_cost, net_votes
from fieldexp.report import figures
from fieldexp.report.language import shorten
from fieldexp.report.model import Figure, Headline, Interval, Section
from fieldexp.report.plan import EstimatedEffect, adjustment_text
from fieldexp.report.prepare import outcome_units
from fieldexp.report.sections.context import ReportContext

__all__ = ["build", "summarise"]


def _interval(e: EstimatedEffect | None) -> Interval | None:
    if e is None:
        return None
    return Interval(e.result.estimate, e.result.ci_low, e.result.ci_high)


def _evidence(ctx: ReportContext, e: EstimatedEffect) -> tuple[float, str | None, str]:
    """(p, adjustment, words): the p-value the effects table shows for this hypothesis."""
    lang = ctx.lang
    row = e.row
    if row.p_value_adjusted is not None and row.adjustment:
        n = len(ctx.effects.plan.families)
        what = adjustment_text(row.adjustment, lang).split(" (")[0]
        p = lang.g(row.p_value_adjusted)
        if n == 1:
            words = lang("headline.p_one_hypothesis", p=p)
        else:
            words = lang("headline.p_adjusted", p=p, what=what, n=lang.count(n))
        return row.p_value_adjusted, row.adjustment, words
    return row.p_value, None, lang("headline.p", p=lang.g(row.p_value))


def _denominator(column: str) -> str:
    """What a station outcome is a share of: votes cast (vote shares) or registered voters."""
    return "expressed" if column.startswith("share") else "registered"


def summarise(ctx: ReportContext) -> Headline | None:
    """The :class:`Headline` of the headline outcome (``None`` without an estimate)."""
    run, spec, lang = ctx.run, ctx.spec, ctx.lang
    o = spec.headline_outcome
    arm = run.arms[0] if run.arms and o.level == "voter" else "1"
    itt_e = ctx.effects.find(o.name, arm, "ITT")
    cace_e = ctx.effects.find(o.name, arm, "CACE")
    if itt_e is None and cace_e is None:
        return None
    ci = lang.ci(ctx.level)
    stations = o.level == "precinct"
    sentences: list[str] = []
    contacts: int | None = None
    net = None
    total = None
    cpv = None
    caution = cace_e.row.caution if cace_e is not None else None
    withheld = None
    currency = spec.costs.currency if spec.costs else None
    t = outcome_units(run.table, o) if run.table is not None and not stations else None
    pt = run.precinct_table

    def money(x: float) -> str:
        return lang.money(x, currency)

    if itt_e is not None:
        r = itt_e.result
        how = lang("headline.how", estimator=itt_e.row.estimator, reason=itt_e.planned.reason)
        if stations and pt is not None:
            m = pt["assigned"] == 1
            registered = float(pt.loc[m, "registered"].sum())
            sentences.append(
                lang(
                    "headline.itt_stations",
                    outcome=o.label,
                    n=lang.count(int(m.sum())),
                    registered=lang.count(registered),
                    held=lang.count(int((~m).sum())),
                    pp=lang.pp(r.estimate),
                    of=lang(f"headline.of_{_denominator(o.column)}"),
                    ci=ci,
                    interval=lang.ci_pp(r.ci_low, r.ci_high),
                    how=how,
                )
            )
        elif t is not None:
            n_t = int((t["arm"] == arm).sum())
            n_c = int((t["arm"] == run.control).sum())
            which = " " + lang("headline.which_arm", arm=arm) if len(run.arms) > 1 else ""
            sentences.append(
                lang(
                    "headline.itt_voters",
                    outcome=o.label,
                    n=lang.count(n_t),
                    which=which,
                    held=lang.count(n_c),
                    pp=lang.pp(r.estimate),
                    ci=ci,
                    interval=lang.ci_pp(r.ci_low, r.ci_high),
                    how=how,
                )
            )
        if stations and pt is not None and o.column == "turnout":
            registered = float(pt.loc[pt["assigned"] == 1, "registered"].sum())
            v = net_votes(r.estimate, r.ci_low, r.ci_high, registered)
            net = Interval(v.estimate, v.ci_low, v.ci_high)
            sentences.append(
                lang(
                    "headline.extra_voters",
                    registered=lang.count(registered),
                    v=lang.count(v.estimate),
                    ci=ci,
                    low=lang.count(v.ci_low),
                    high=lang.count(v.ci_high),
                )
            )
            if spec.costs is not None and v.estimate > 0:
                c = spec.costs
                total = field_cost(fixed=c.fixed)
                cp = cost_per_net_vote(total, v)
                cpv = Interval(cp.estimate, cp.ci_low, cp.ci_high)
                sentences.append(
                    lang(
                        "headline.cost_stations",
                        total=money(total),
                        cpv=money(cp.estimate),
                        ci=ci,
                        low=money(cp.ci_low),
                        high=money(cp.ci_high)
                        if cp.ci_high != float("inf")
                        else lang("headline.no_upper"),
                    )
                )
    if cace_e is not None and t is not None:
        r = cace_e.result
        contacts = int(((t["arm"] == arm) & (t[spec.analysis.treatment] == 1)).sum())
        text = lang(
            "headline.cace",
            contacts=lang.count(contacts),
            pp=lang.pp(r.estimate),
            ci=ci,
            interval=lang.ci_pp(r.ci_low, r.ci_high),
        )
        if caution:
            withheld = lang("headline.withheld")
            text += " " + lang("headline.uninformative", caution=caution)
            sentences.append(text)
            sentences.append(withheld)
        else:
            sentences.append(text)
            v = net_votes(r.estimate, r.ci_low, r.ci_high, contacts)
            net = Interval(v.estimate, v.ci_low, v.ci_high)
            sentences.append(
                lang(
                    "headline.net_votes",
                    contacts=lang.count(contacts),
                    v=lang.count(v.estimate),
                    ci=ci,
                    low=lang.count(v.ci_low),
                    high=lang.count(v.ci_high),
                )
            )
            if spec.costs is not None:
                c = spec.costs
                treated = t["arm"] == arm
                attempts = (
                    int(t.loc[treated, "n_attempts"].sum())
                    if "n_attempts" in t.columns
                    else int((treated & (t["attempted"] == 1)).sum())
                    if "attempted" in t.columns
                    else 0
                )
                total = field_cost(
                    fixed=c.fixed,
                    per_attempt=c.per_attempt,
                    attempts=attempts,
                    per_contact=c.per_contact,
                    contacts=contacts,
                )
                cp = cost_per_net_vote(total, v)
                cpv = Interval(cp.estimate, cp.ci_low, cp.ci_high)
                if v.estimate > 0:
                    upper = (
                        money(cp.ci_high)
                        if cp.ci_high != float("inf")
                        else lang("headline.no_upper_no_effect")
                    )
                    sentences.append(
                        lang(
                            "headline.cost_voters",
                            total=money(total),
                            attempts=lang.count(attempts),
                            contacts=lang.count(contacts),
                            fixed=money(c.fixed),
                            cpv=money(cp.estimate),
                            ci=ci,
                            low=money(cp.ci_low),
                            high=upper,
                        )
                    )
                else:
                    sentences.append(lang("headline.cost_no_net", total=money(total)))
    main = itt_e if itt_e is not None else cace_e
    if main is None:  # pragma: no cover - returned above
        return None
    p, adjustment, words = _evidence(ctx, main)
    alpha = spec.analysis.alpha
    r = main.result
    excludes_zero = not (r.ci_low <= 0 <= r.ci_high)
    if p < alpha:
        key = "headline.strong"
    elif excludes_zero:
        key = "headline.caution_interval"
    else:
        key = "headline.caution_zero"
    sentences.append(
        lang(
            key,
            words=words,
            alpha=lang.g(alpha),
            level=lang.level(ctx.level),
            outcome=o.label[0].lower() + o.label[1:],
        )
    )
    return Headline(
        outcome=o.name,
        outcome_label=o.label,
        sentences=tuple(sentences),
        itt=_interval(itt_e),
        cace=_interval(cace_e),
        contacts=contacts,
        net_votes=net,
        total_cost=total,
        cost_per_net_vote=cpv,
        currency=currency,
        net_label=lang("headline.net_label_stations" if stations else "headline.net_label"),
        caution=caution,
        withheld=withheld,
        p_value=p,
        adjustment=adjustment,
        unit="polling station" if stations else "voter",
    )


def _effects_figure(ctx: ReportContext) -> Figure | None:
    effects = ctx.effects.effects
    lang = ctx.lang
    if not ctx.figures or not effects:
        return None
    several = len({e.planned.outcome.name for e in effects}) > 1
    labels, ests, lows, highs = [], [], [], []
    for e in effects:
        r = e.result
        if e.planned.outcome.level == "precinct":
            who = lang("figure.per_station")
        else:
            who = lang("figure.per_assigned" if r.estimand == "ITT" else "figure.per_contacted")
        label = f"{r.estimand}, {who}"
        if len(ctx.run.arms) > 1:
            label += lang("figure.arm", arm=e.planned.arm)
        if several:
            # the outcome label first, shortened at a word boundary (never mid-word)
            label = lang(
                "figure.outcome_row", outcome=shorten(e.planned.outcome.label, 40), row=label
            )
        if e.row.caution:
            label += " " + lang("figure.unreliable")
        labels.append(label)
        ests.append(r.estimate)
        lows.append(r.ci_low)
        highs.append(r.ci_high)
    o = ctx.spec.headline_outcome
    what = lang("figure.estimated_effects") if several else o.label
    return Figure(
        "effects",
        lang("figure.effects_title", what=what, level=lang.level(ctx.level)),
        figures.forest_figure(
            labels,
            ests,
            lows,
            highs,
            xlabel=lang("figure.effect_axis_stations" if ctx.stations else "figure.effect_axis"),
            language=lang.code,
        ),
        lang("figure.effects_alt"),
    )


def build(ctx: ReportContext) -> Section | None:
    """The headline section (its :class:`Headline` in ``Section.summary``)."""
    lang = ctx.lang
    h = summarise(ctx)
    if h is None:
        return Section(
            "headline",
            lang("headline.title"),
            available=False,
            reason=lang("headline.no_estimate"),
        )
    fig = _effects_figure(ctx)
    return Section(
        "headline",
        lang("headline.title"),
        h.sentences,
        figures=(fig,) if fig is not None else (),
        summary=h,
    )
