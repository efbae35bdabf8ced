"""Effects by outcome and arm: ITT and CACE, adjusted p-values, cautions, the contact rate."""

from __future__ import annotations

from fieldexp.report.model import Section, Table
from fieldexp.report.sections.context import ReportContext

__all__ = ["build"]


def build(ctx: ReportContext) -> Section | None:
    """The effects table (one row per planned effect) and the first stage."""
    effects = ctx.effects
    level = ctx.level
    stations = any(e.planned.outcome.level == "precinct" for e in effects.effects)
    rows = tuple(
        (
            e.outcome_label,
            e.arm,
            e.estimand,
            e.estimator,
            e.estimate,
            e.std_error,
            e.ci_low,
            e.ci_high,
            e.p_value,
            e.p_value_adjusted,
            e.first_stage_f,
            e.caution or "",
            e.nobs,
            e.nclusters,
        )
        for e in effects.estimates
    )
    why = " ".join(f"Estimator, {n}" for n in effects.plan.estimator_notes())
    table = Table(
        "effects",
        "Effects by outcome and arm",
        (
            "outcome",
            "arm",
            "estimand",
            "estimator",
            "estimate",
            "std. error",
            f"{level}% CI low",
            f"{level}% CI high",
            "p-value",
            "adjusted p",
            "first-stage F",
            "caution",
            "N",
            "clusters",
        ),
        (
            "text",
            "text",
            "text",
            "text",
            "est",
            "se",
            "est",
            "est",
            "p",
            "p",
            "num",
            "text",
            "int",
            "int",
        ),
        rows,
        note=f"{effects.adjustment_note} {why}".strip(),
    )
    tables = [table]
    if effects.first_stage:
        tables.append(
            Table(
                "contact_rate",
                "Contact rate: effect of assignment on being contacted (first stage)",
                ("arm", "estimate", "std. error", f"{level}% CI low", f"{level}% CI high", "N"),
                ("text", "est", "se", "est", "est", "int"),
                tuple(
                    (arm, r.estimate, r.std_error, r.ci_low, r.ci_high, r.nobs)
                    for arm, r in effects.first_stage
                ),
                note=f"Estimator: {effects.first_stage[0][1].method} (difference in contact "
                "rates between arms, block-weighted when blocked): the share of assigned "
                "voters the canvass reached, the denominator of the CACE.",
            )
        )
    from fieldexp.report.plan import DOSE_UNIT

    a = ctx.spec.analysis
    if stations:
        unit_text = (
            "ITT: effect per polling station assigned to canvassing, on turnout as a share of "
            "its registered voters, or on a vote share of its valid votes (stations weighted "
            "by registered voters). "
            + (
                f"CACE: effect per {DOSE_UNIT[ctx.spec.stations.dose]} per registered voter "
                "(the dose, from the door log), assignment as the instrument for the dose. "
                if ctx.spec.stations is not None
                and any(e.estimand == "CACE" for e in effects.estimates)
                else ""
            )
        )
    else:
        unit_text = (
            "ITT: effect per voter assigned to canvassing, whether or not anyone answered. "
            "CACE: effect per voter actually contacted (assignment as the instrument for "
            "contact). "
        )
    se_types = ", ".join(sorted({e.se_type for e in effects.estimates})) or "-"
    blocks, covariates = a.blocks, ", ".join(a.covariates)
    if stations:  # what the station estimates used (report/plan.py), outcome by outcome
        from fieldexp.report.prepare import station_blocks

        blocks = station_blocks(ctx.spec)
        per = {e.outcome_label: ", ".join(e.covariates) or "none" for e in effects.estimates}
        covariates = "; ".join(f"{k}: {v}" for k, v in per.items())
    paras = [
        unit_text + "Estimates are proportions: 0.030 means 3.0 percentage points.",
        f"Blocks: {blocks or 'none'}; clusters: {a.clusters or 'none'}; covariates: "
        f"{covariates or 'none'}; standard errors: {se_types}.",
    ]
    if any(e.caution for e in effects.estimates):
        paras.append(
            "A CACE flagged 'Unreliable' has a weak first stage (F < 10: too few voters were "
            "contacted, or contact barely differs between arms) or an interval wider than ±100 "
            "points: it says nothing about the effect per contacted voter."
        )
    paras.extend(effects.plan.notes)
    paras.extend(effects.not_estimated)
    return Section("effects", "Effects", tuple(paras), tuple(tables))
