"""Balance between arms (:func:`fieldexp.balance`), with the randomisation omnibus test."""

from __future__ import annotations

from dataclasses import replace

from fieldexp.report.language import Language
from fieldexp.report.model import Section
from fieldexp.report.prepare import arm_label
from fieldexp.report.sections.common import frame_table
from fieldexp.report.sections.context import ReportContext

__all__ = ["build"]


def _column(name: str, lang: Language) -> str:
    for prefix, key in (
        ("std_diff_", "balance.col_std_diff"),
        ("diff_", "balance.col_diff"),
        ("mean_", "balance.col_mean"),
        ("p_value_", "balance.col_p"),
    ):
        if name.startswith(prefix):
            return lang(key, arm=name[len(prefix) :])
    return lang("balance.col_covariate") if name == "covariate" else name


def build(ctx: ReportContext) -> Section | None:
    """Left out without ``[analysis] covariates`` or a voter-level table."""
    run = ctx.run
    t = run.table
    covs = list(ctx.spec.analysis.covariates)
    lang = ctx.lang
    title = lang("balance.title")
    if t is None or not covs:
        return None
    from fieldexp.experiment.balance import balance

    ri = ctx.spec.randomization_inference
    design = ctx.spec.design.design if ctx.spec.design is not None else None
    if design is not None:
        res = balance(
            t,
            "arm",
            covs,
            design=design,
            reps=ri.reps if ri else 0,
            seed=ri.seed if ri else None,
            engine="shared",  # the draws of randomisation inference (sections/ri.py)
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
    paras = [lang("balance.text", threshold=lang.fixed(0.1, 1))]
    for arm, o in zip(res.treated_arms, res.omnibus, strict=False):
        how = (
            lang("ri.exact")
            if o.exact
            else lang("balance.rerandomisations", reps=lang.count(o.reps))
        )
        df1, df2 = o.df if isinstance(o.df, tuple) else (o.df, float("nan"))
        paras.append(
            lang(
                "balance.omnibus",
                arm=arm_label(arm),
                control=arm_label(res.control),
                f=lang.fixed(o.statistic, 3),
                df1=lang.g(df1, 6),
                df2=lang.g(df2, 6),
                p=lang.fixed(o.p_value, 3),
                how=how,
            )
        )
    paras.extend(lang.notes(res.notes))
    frame = res.to_frame()
    note = lang("balance.note_design" if design is not None else "balance.note")
    table = frame_table("balance", title, frame, note)  # formats from the machine names
    table = replace(table, columns=tuple(_column(c, lang) for c in table.columns))
    return Section("balance", title, tuple(paras), (table,))
