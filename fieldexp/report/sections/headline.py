"""Headline: the plain-language answer, with the evidence the effects table shows.

The conclusion is worded from the p-value of the effects table: the multiplicity-adjusted
one when ``[analysis] multiplicity`` adjusts, else the unadjusted one. A CACE with a weak
first stage (F < 10) or an interval wider than ±100 points is flagged here and beside the
estimate, and net votes / cost per net vote (which multiply the CACE) are then withheld.
"""

from __future__ import annotations

from fieldexp.experiment.costs import cost_per_net_vote, field_cost, net_votes
from fieldexp.report import figures
from fieldexp.report.model import Figure, Headline, Interval, Section
from fieldexp.report.plan import ADJUSTMENT_TEXT, EstimatedEffect
from fieldexp.report.prepare import outcome_units
from fieldexp.report.sections.common import ci_pp, money, pp
from fieldexp.report.sections.context import ReportContext

__all__ = ["build", "summarise"]


def _interval(e: EstimatedEffect | None) -> Interval | None:
    if e is None:
        return None
    return Interval(e.result.estimate, e.result.ci_low, e.result.ci_high)


def _evidence(ctx: ReportContext, e: EstimatedEffect) -> tuple[float, str | None, str]:
    """(p, adjustment, words): the p-value the effects table shows for this hypothesis."""
    row = e.row
    if row.p_value_adjusted is not None and row.adjustment:
        n = len(ctx.effects.plan.families)
        what = ADJUSTMENT_TEXT.get(row.adjustment, row.adjustment).split(" (")[0]
        if n == 1:
            words = f"p = {row.p_value_adjusted:.3g} (one hypothesis: nothing to adjust)"
        else:
            words = f"p = {row.p_value_adjusted:.3g} (adjusted ({what}) for {n} hypotheses)"
        return row.p_value_adjusted, row.adjustment, words
    return row.p_value, None, f"p = {row.p_value:.3g}"


def summarise(ctx: ReportContext) -> Headline | None:
    """The :class:`Headline` of the headline outcome (``None`` without an estimate)."""
    run, spec = ctx.run, ctx.spec
    o = spec.headline_outcome
    arm = run.arms[0] if run.arms and o.level == "voter" else "1"
    itt_e = ctx.effects.find(o.name, arm, "ITT")
    cace_e = ctx.effects.find(o.name, arm, "CACE")
    if itt_e is None and cace_e is None:
        return None
    level = ctx.level
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
    if itt_e is not None:
        r = itt_e.result
        how = f"{itt_e.row.estimator}: {itt_e.planned.reason}"
        if stations and pt is not None:
            m = pt["assigned"] == 1
            registered = float(pt.loc[m, "registered"].sum())
            sentences.append(
                f"{o.label}: among the {int(m.sum()):,} polling stations assigned to canvassing "
                f"({registered:,.0f} registered voters; {int((~m).sum()):,} stations held out), "
                f"the effect of assignment was {pp(r.estimate)} percentage points of registered "
                f"voters per station ({level}% CI {ci_pp(r.ci_low, r.ci_high)}; {how})."
            )
        elif t is not None:
            n_t = int((t["arm"] == arm).sum())
            n_c = int((t["arm"] == run.control).sum())
            which = f" (arm {arm})" if len(run.arms) > 1 else ""
            sentences.append(
                f"{o.label}: among the {n_t:,} voters assigned to canvassing{which} (against {n_c:,} "
                f"held out), the effect of being assigned was {pp(r.estimate)} percentage "
                f"points ({level}% CI {ci_pp(r.ci_low, r.ci_high)}; {how})."
            )
        if stations and pt is not None and o.column == "turnout":
            registered = float(pt.loc[pt["assigned"] == 1, "registered"].sum())
            v = net_votes(r.estimate, r.ci_low, r.ci_high, registered)
            net = Interval(v.estimate, v.ci_low, v.ci_high)
            sentences.append(
                f"Extra voters in the canvassed polling stations (effect x {registered:,.0f} "
                f"registered voters): about {v.estimate:,.0f} ({level}% CI {v.ci_low:,.0f} to "
                f"{v.ci_high:,.0f})."
            )
            if spec.costs is not None and v.estimate > 0:
                c = spec.costs
                total = field_cost(fixed=c.fixed)
                cp = cost_per_net_vote(total, v)
                cpv = Interval(cp.estimate, cp.ci_low, cp.ci_high)
                sentences.append(
                    f"Field cost {money(total, c.currency)}: {money(cp.estimate, c.currency)} per "
                    f"extra voter ({level}% CI {money(cp.ci_low, c.currency)} to "
                    f"{money(cp.ci_high, c.currency) if cp.ci_high != float('inf') else 'no upper bound'})."
                )
    if cace_e is not None and t is not None:
        r = cace_e.result
        contacts = int(((t["arm"] == arm) & (t[spec.analysis.treatment] == 1)).sum())
        text = (
            f"Among the {contacts:,} voters actually reached at the door, the effect was "
            f"{pp(r.estimate)} percentage points per contacted voter ({level}% CI "
            f"{ci_pp(r.ci_low, r.ci_high)}; 2sls)."
        )
        if caution:
            withheld = (
                "Net votes and cost per net vote are withheld: they would multiply this "
                "unreliable estimate."
            )
            text += f" {caution}: read this number as uninformative."
            sentences.append(text)
            sentences.append(withheld)
        else:
            sentences.append(text)
            v = net_votes(r.estimate, r.ci_low, r.ci_high, contacts)
            net = Interval(v.estimate, v.ci_low, v.ci_high)
            sentences.append(
                f"Net votes gained (effect per contacted voter x {contacts:,} contacts): about "
                f"{v.estimate:,.0f} ({level}% CI {v.ci_low:,.0f} to {v.ci_high:,.0f})."
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
                        money(cp.ci_high, c.currency)
                        if cp.ci_high != float("inf")
                        else "no upper bound, because the interval includes no effect at all"
                    )
                    sentences.append(
                        f"Field cost {money(total, c.currency)} ({attempts:,} door knocks, "
                        f"{contacts:,} conversations, {money(c.fixed, c.currency)} fixed): "
                        f"{money(cp.estimate, c.currency)} per net vote ({level}% CI "
                        f"{money(cp.ci_low, c.currency)} to {upper})."
                    )
                else:
                    sentences.append(
                        f"Field cost {money(total, c.currency)}: no cost per net vote, because "
                        "the estimated number of net votes is not positive."
                    )
    main = itt_e if itt_e is not None else cace_e
    if main is None:  # pragma: no cover - returned above
        return None
    p, adjustment, words = _evidence(ctx, main)
    alpha = spec.analysis.alpha
    r = main.result
    excludes_zero = not (r.ci_low <= 0 <= r.ci_high)
    if p < alpha:
        sentences.append(
            f"The evidence is strong: {words}, below {alpha:g}. Canvassing very likely changed "
            f"{o.label[0].lower() + o.label[1:]}."
        )
    elif excludes_zero:
        sentences.append(
            f"Caution: the {level}% interval alone excludes zero, but {words} is not below "
            f"{alpha:g}: these data cannot rule out that canvassing had no effect."
        )
    else:
        sentences.append(
            f"Caution: the confidence interval includes zero and {words} is not below "
            f"{alpha:g}: these data cannot rule out that canvassing had no effect."
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
        net_label="extra voters" if stations else "net votes gained",
        caution=caution,
        withheld=withheld,
        p_value=p,
        adjustment=adjustment,
        unit="polling station" if stations else "voter",
    )


def _effects_figure(ctx: ReportContext) -> Figure | None:
    effects = ctx.effects.effects
    if not ctx.figures or not effects:
        return None
    several = len({e.planned.outcome.name for e in effects}) > 1
    labels, ests, lows, highs = [], [], [], []
    for e in effects:
        r = e.result
        if e.planned.outcome.level == "precinct":
            who = "per assigned polling station"
        else:
            who = "per assigned voter" if r.estimand == "ITT" else "per contacted voter"
        label = f"{r.estimand}, {who}"
        if len(ctx.run.arms) > 1:
            label += f", arm {e.planned.arm}"
        if several:
            label = f"{e.planned.outcome.label[:30]}: {label}"
        if e.row.caution:
            label += " (unreliable)"
        labels.append(label)
        ests.append(r.estimate)
        lows.append(r.ci_low)
        highs.append(r.ci_high)
    o = ctx.spec.headline_outcome
    return Figure(
        "effects",
        f"{'Estimated effects' if several else o.label}: estimates with {ctx.level}% "
        "confidence intervals (percentage points)",
        figures.forest_figure(labels, ests, lows, highs, xlabel="effect (percentage points)"),
        "Point estimates and confidence intervals of each effect",
    )


def build(ctx: ReportContext) -> Section | None:
    """The headline section (its :class:`Headline` in ``Section.summary``)."""
    h = summarise(ctx)
    if h is None:
        return Section(
            "headline", "Headline", available=False, reason="no estimate for the headline outcome"
        )
    fig = _effects_figure(ctx)
    return Section(
        "headline",
        "Headline",
        h.sentences,
        figures=(fig,) if fig is not None else (),
        summary=h,
    )
