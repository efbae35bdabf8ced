"""Effects by outcome and arm: ITT and CACE, adjusted p-values, cautions, the contact rate."""

from __future__ import annotations

from fieldexp.report.model import Section, Table
from fieldexp.report.sections.context import ReportContext

__all__ = ["build"]


def build(ctx: ReportContext) -> Section | None:
    """The effects table (one row per planned effect) and the first stage."""
    effects = ctx.effects
    lang = ctx.lang
    ci = lang.ci(ctx.level)
    stations = any(e.planned.outcome.level == "precinct" for e in effects.effects)
    voters = any(e.planned.outcome.level == "voter" for e in effects.effects)
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
    why = " ".join(lang("effects.estimator", note=n) for n in effects.plan.estimator_notes(lang))
    table = Table(
        "effects",
        lang("effects.table"),
        (
            lang("col.outcome"),
            lang("col.arm"),
            lang("col.estimand"),
            lang("col.estimator"),
            lang("col.estimate"),
            lang("col.std_error"),
            lang("col.ci_low", ci=ci),
            lang("col.ci_high", ci=ci),
            lang("col.p_value"),
            lang("col.adjusted_p"),
            lang("col.first_stage_f"),
            lang("col.caution"),
            lang("col.n_stations") if stations and not voters else "N",
            lang("col.clusters"),
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
                lang("effects.contact_table"),
                (
                    lang("col.arm"),
                    lang("col.estimate"),
                    lang("col.std_error"),
                    lang("col.ci_low", ci=ci),
                    lang("col.ci_high", ci=ci),
                    "N",
                ),
                ("text", "est", "se", "est", "est", "int"),
                tuple(
                    (arm, r.estimate, r.std_error, r.ci_low, r.ci_high, r.nobs)
                    for arm, r in effects.first_stage
                ),
                note=lang("effects.contact_note", method=effects.first_stage[0][1].method),
            )
        )
    a = ctx.spec.analysis
    if stations:
        unit_text = lang("effects.unit_stations")
        if any(e.planned.outcome.column.startswith("share") for e in effects.effects):
            unit_text += " " + lang("effects.unit_shares")
        if ctx.spec.stations is not None and any(e.estimand == "CACE" for e in effects.estimates):
            unit_text += " " + lang(
                "effects.unit_station_cace", dose=lang(f"dose.{ctx.spec.stations.dose}")
            )
    else:
        unit_text = lang("effects.unit_voters")
    if stations and voters:
        unit_text = lang("effects.unit_voters") + " " + unit_text
    se_types = ", ".join(sorted({e.se_type for e in effects.estimates})) or "-"
    none = lang("common.none")
    blocks, covariates = a.blocks, ", ".join(a.covariates)
    if stations:  # what the station estimates used (report/plan.py), outcome by outcome
        from fieldexp.report.prepare import station_blocks

        blocks = station_blocks(ctx.spec)
        per = {e.outcome_label: ", ".join(e.covariates) or none for e in effects.estimates}
        covariates = "; ".join(
            lang("effects.outcome_covariates", outcome=k, covariates=v) for k, v in per.items()
        )
    paras = [
        unit_text
        + " "
        + lang("effects.proportions", example=lang.fixed(0.03, 3), pp=lang.fixed(3, 1)),
        lang(
            "effects.design",
            blocks=blocks or none,
            clusters=a.clusters or none,
            covariates=covariates or none,
            se=se_types,
        ),
    ]
    if any(e.caution for e in effects.estimates):
        paras.append(lang("effects.unreliable"))
    paras.extend(effects.plan.notes)
    paras.extend(effects.not_estimated)
    return Section("effects", lang("effects.title"), tuple(paras), tuple(tables))
