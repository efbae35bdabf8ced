"""Balance between arms (:func:`fieldexp.balance`), with the randomisation omnibus test."""

from __future__ import annotations

from fieldexp.report.model import Section
from fieldexp.report.prepare import arm_label
from fieldexp.report.sections.common import frame_table
from fieldexp.report.sections.context import ReportContext

__all__ = ["build"]


def _column(name: str) -> str:
    for prefix, text in (
        ("std_diff_", "std. difference, arm "),
        ("diff_", "difference, arm "),
        ("mean_", "mean, arm "),
        ("p_value_", "p-value, arm "),
    ):
        if name.startswith(prefix):
            return text + name[len(prefix) :]
    return name


def build(ctx: ReportContext) -> Section | None:
    """Left out without ``[analysis] covariates`` or a voter-level table."""
    run = ctx.run
    t = run.table
    covs = list(ctx.spec.analysis.covariates)
    title = "Balance between arms"
    if t is None or not covs:
        return None
    from fieldexp.experiment.balance import balance

    ri = ctx.spec.randomization_inference
    design = ctx.spec.design.design if ctx.spec.design is not None else None
    if design is not None:
        res = balance(
            t, "arm", covs, design=design, reps=ri.reps if ri else 0, seed=ri.seed if ri else None
        )
    else:
        res = balance(
            t,
            "arm",
            covs,
            blocks=ctx.spec.analysis.blocks,
            clusters=ctx.spec.analysis.clusters,
            reps=ri.reps if ri else 0,
            seed=ri.seed if ri else None,
            control=run.control,
        )
    paras = [
        "If the randomisation worked, canvassed and held-out voters look alike before the "
        "campaign: means by arm, their difference, the standardised difference (in standard "
        "deviations; above 0.1 deserves a look) and a design-based p-value per covariate."
    ]
    for arm, o in zip(res.treated_arms, res.omnibus, strict=False):
        how = "exact" if o.exact else f"{o.reps:,} re-randomisations"
        df1, df2 = o.df if isinstance(o.df, tuple) else (o.df, float("nan"))
        paras.append(
            f"Omnibus test, arm {arm_label(arm)} vs {arm_label(res.control)}: F = "
            f"{o.statistic:.3f} on {df1:g} and {df2:g} df, randomisation p = {o.p_value:.3f} "
            f"({how})."
        )
    paras.extend(res.notes)
    frame = res.to_frame().rename(columns=lambda c: _column(str(c)))
    note = (
        "Differences in means between arms (no covariate adjustment: balance is checked on "
        "the covariates themselves); p-values from the design's variance"
        + (" and the randomisation test replaying the design." if design is not None else ".")
    )
    return Section("balance", title, tuple(paras), (frame_table("balance", title, frame, note),))
