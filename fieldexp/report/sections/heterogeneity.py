"""Effects by subgroup (vote propensity by default): :func:`fieldexp.heterogeneity`."""

from __future__ import annotations

import math

from fieldexp.errors import DataError, EstimationError
from fieldexp.report import figures
from fieldexp.report.model import Cell, Figure, Section, Table
from fieldexp.report.prepare import arm_subset, outcome_units
from fieldexp.report.sections.common import BAND_ORDER, suppress
from fieldexp.report.sections.context import ReportContext

__all__ = ["build"]


def build(ctx: ReportContext) -> Section | None:
    """Left out without ``[subgroups]``."""
    run, spec = ctx.run, ctx.spec
    sg = spec.subgroups
    if sg is None:
        return None
    lang = ctx.lang
    title = (
        lang("heterogeneity.title_propensity")
        if sg.by == "propensity_band"
        else lang("heterogeneity.title", label=sg.label)
    )
    t = run.table
    if t is None or sg.by not in t.columns:
        return Section(
            "heterogeneity",
            title,
            available=False,
            reason=lang("heterogeneity.missing_column", column=repr(sg.by)),
        )
    from fieldexp.experiment.heterogeneity import heterogeneity

    a = spec.analysis
    k = ctx.small_cell
    ri = spec.randomization_inference
    design = spec.design.design if spec.design is not None else None
    ci = lang.ci(ctx.level)
    tables = []
    figs = []
    paras = [
        lang("heterogeneity.text", label=sg.label, k=k),
        lang("heterogeneity.estimators"),
    ]
    names = sg.outcomes or tuple(o.name for o in spec.outcomes if o.level == "voter")
    multi = len(run.arms) > 1
    if multi and design is not None and ri is not None:
        paras.append(lang("heterogeneity.multi_arm"))
    jobs = [
        (spec.outcome(name), est, arm)
        for name in names
        for est in spec.outcome(name).estimands
        for arm in run.arms
    ]
    for o, est, arm in jobs:
        use_design = (
            est == "ITT" and design is not None and ri is not None and not o.subset and not multi
        )
        try:
            res = heterogeneity(
                arm_subset(outcome_units(t, o), run.control or "0", arm, multi),
                o.column,
                "assigned",
                sg.by,
                estimand=est,
                treatment=a.treatment if est == "CACE" else None,
                blocks=a.blocks,
                clusters=a.clusters,
                alpha=a.alpha,
                design=design if use_design else None,
                reps=ri.reps if use_design and ri is not None else 0,
                seed=ri.seed if use_design and ri is not None else None,
                engine="shared",  # the draws of randomisation inference (sections/ri.py)
            )
        except (DataError, EstimationError) as exc:
            if est == "ITT":
                raise
            paras.append(lang("heterogeneity.not_estimated", outcome=o.label, est=est, error=exc))
            continue
        rows: list[tuple[Cell, ...]] = []
        pairs = sorted(
            zip(res.levels, res.effects, strict=True),
            key=lambda z: (BAND_ORDER.get(str(z[0]), len(BAND_ORDER)), str(z[0])),
        )
        hidden = 0
        for lev, r in pairs:
            small = r.nobs < k
            hidden += small
            rows.append(
                (
                    lang.term("band", lev) if sg.by == "propensity_band" else str(lev),
                    suppress(r.nobs, k),
                    None if small else r.estimate,
                    None if small else r.std_error,
                    None if small else r.ci_low,
                    None if small else r.ci_high,
                    None if small else r.p_value,
                )
            )
        tables.append(
            Table(
                f"heterogeneity_{o.name}_{est.lower()}" + (f"_arm_{arm}" if multi else ""),
                lang("heterogeneity.table", outcome=o.label, est=est, label=sg.label)
                + (lang("figure.arm", arm=arm) if multi else ""),
                (
                    lang("col.group"),
                    "N",
                    lang("col.estimate"),
                    lang("col.std_error"),
                    lang("col.ci_low", ci=ci),
                    lang("col.ci_high", ci=ci),
                    lang("col.p_value"),
                ),
                ("text", "int", "est", "se", "est", "est", "p"),
                tuple(rows),
                note=lang("heterogeneity.note", estimator="dim" if est == "ITT" else "2sls")
                + (" " + lang("heterogeneity.hidden", n=hidden, k=k) if hidden else ""),
            )
        )
        wald = {
            "outcome": o.label,
            "est": est,
            "which": " " + lang("headline.which_arm", arm=arm) if multi else "",
            "df": res.wald.df,
            "stat": lang.fixed(res.wald.statistic, 2),
            "p": lang.fixed(res.wald.p_value, 3),
        }
        if res.ri_reps and math.isfinite(res.ri_p_value):
            how = (
                lang("ri.exact")
                if res.ri_exact
                else lang("balance.rerandomisations", reps=lang.count(res.ri_reps))
            )
            text = lang(
                "heterogeneity.wald_ri", **wald, ri_p=lang.fixed(res.ri_p_value, 3), how=how
            )
        else:
            text = lang("heterogeneity.wald", **wald)
        paras.append(text)
        shown = [r for r in rows if r[2] is not None]
        if ctx.figures and shown and est == o.estimands[0]:
            figs.append(
                Figure(
                    f"heterogeneity_{o.name}" + (f"_arm_{arm}" if multi else ""),
                    lang("heterogeneity.figure", outcome=o.label, est=est, label=sg.label, ci=ci),
                    figures.forest_figure(
                        [
                            f"{r[0]} (N={r[1]})" if not isinstance(r[1], str) else str(r[0])
                            for r in shown
                        ],
                        [float(r[2]) for r in shown],  # type: ignore[arg-type]
                        [float(r[4]) for r in shown],  # type: ignore[arg-type]
                        [float(r[5]) for r in shown],  # type: ignore[arg-type]
                        xlabel=lang("figure.effect_axis"),
                        language=lang.code,
                    ),
                    lang("heterogeneity.figure_alt", label=sg.label),
                )
            )
        paras.extend(n for n in lang.notes(res.notes) if n not in paras)
    return Section("heterogeneity", title, tuple(paras), tuple(tables), tuple(figs))
