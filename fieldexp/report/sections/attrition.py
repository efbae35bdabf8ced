"""Attrition: outcomes observed for some units only (issue 14 item 2).

Whenever an outcome of the spec has missing values among the assigned units (voters purged
from the file, survey answers, stations without registered voters), the report runs
:func:`fieldexp.attrition` per outcome and treatment arm: observation rates by arm and the
design-based test of their difference (:func:`fieldexp.itt` of assignment on the observed
indicator, HC2 / CR2 with the analysis clusters, block effects with the analysis blocks), plus
its randomisation p-value when ``[randomization_inference]`` is configured and the design's
arms are 0/1. When attrition differs by arm (the test rejects at ``[analysis] alpha``) the
comparison of observed outcomes is no longer experimental and the section adds
:func:`fieldexp.lee_bounds` (Lee 2009 trimming bounds on the always-observed, with the
Imbens–Manski interval from a bootstrap replaying the design).

Cost: the randomisation draws and bootstrap replications are ``[randomization_inference]
reps`` (seeded with its ``seed``), else ``[did] reps``/``seed`` when given; without a seed the
bounds are reported without an interval (no unseeded draw is ever made). Every number shown is
a field of the :class:`~fieldexp.experiment.attrition.AttritionResult` /
:class:`~fieldexp.experiment.bounds.LeeBoundsResult` (nothing is re-derived here).

Returns ``None`` (section left out) when no outcome has a missing value.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from fieldexp.errors import FieldexpError
from fieldexp.report.model import Cell, Section, Table
from fieldexp.report.prepare import arm_label, arm_subset, outcome_units
from fieldexp.report.sections.common import cell, share, suppress
from fieldexp.report.sections.context import ReportContext

__all__ = ["build", "draws"]

TITLE = "Attrition: outcomes missing for some units"
OBSERVED = "_fieldexp_observed"


@dataclass(frozen=True, slots=True)
class Draws:
    """Randomisation draws / bootstrap replications and their seed (``reps = 0``: none)."""

    reps: int
    seed: int | None
    source: str


def draws(ctx: ReportContext) -> Draws:
    """Draws from ``[randomization_inference]``, else ``[did]`` (with a seed), else none."""
    ri = ctx.spec.randomization_inference
    if ri is not None:
        return Draws(ri.reps, ri.seed, "[randomization_inference]")
    d = ctx.spec.did
    if d is not None and d.seed is not None:
        return Draws(d.reps, d.seed, "[did]")
    return Draws(0, None, "")


def _design_for_ri(ctx: ReportContext, data: pd.DataFrame, subset: bool) -> object | None:
    """The design when its RI can replay the 0/1 ``assigned`` column (two arms 0/1)."""
    ds = ctx.spec.design
    if ds is None or ctx.spec.randomization_inference is None or subset:
        return None
    design = ds.design
    labels = [arm_label(x) for x in design.arm_labels]
    if sorted(labels) != ["0", "1"] or design.unit not in data.columns:
        return None
    return design


def build(ctx: ReportContext) -> Section | None:
    """The attrition section, or ``None`` when every outcome is observed for every unit."""
    from fieldexp.experiment.attrition import attrition
    from fieldexp.experiment.bounds import lee_bounds

    run, spec = ctx.run, ctx.spec
    a = spec.analysis
    k = ctx.small_cell
    multi = len(run.arms) > 1
    control = run.control or "0"
    plan = draws(ctx)
    rate_rows: list[tuple[Cell, ...]] = []
    bound_rows: list[tuple[Cell, ...]] = []
    paras: list[str] = []
    for o in spec.outcomes:
        data = run.table if o.level == "voter" else run.precinct_table
        if data is None or o.column not in data.columns or "assigned" not in data.columns:
            continue
        units = outcome_units(data, o) if o.level == "voter" else data
        units = units.loc[units["assigned"].notna().to_numpy()]
        missing = units[o.column].isna().to_numpy()
        if not missing.any():
            continue
        arms = run.arms if o.level == "voter" else ("1",)
        for arm in arms:
            sub = arm_subset(units, control, arm, multi and o.level == "voter")
            sub = sub.assign(**{OBSERVED: sub[o.column].notna().astype("int8").to_numpy()})
            blocks = a.blocks if a.blocks is not None and a.blocks in sub.columns else None
            clusters = a.clusters if a.clusters is not None and a.clusters in sub.columns else None
            design = _design_for_ri(ctx, sub, bool(o.subset)) if plan.reps else None
            try:
                res = attrition(
                    sub,
                    "assigned",
                    OBSERVED,
                    blocks=blocks,
                    clusters=clusters,
                    design=design,  # type: ignore[arg-type]
                    reps=plan.reps,
                    seed=plan.seed,
                    alpha=a.alpha,
                )
            except FieldexpError as exc:
                paras.append(f"{o.label}, arm {arm}: attrition not tested: {exc}")
                continue
            arm_codes = res.rates["arm"].to_numpy(dtype="int64").tolist()
            counts = {
                (a_, col): int(v)
                for col in ("n", "observed")
                for a_, v in zip(
                    arm_codes, res.rates[col].to_numpy(dtype="int64").tolist(), strict=True
                )
            }

            def count(arm: int, col: str, counts: dict[tuple[int, str], int] = counts) -> int:
                return counts[(arm, col)]

            diff = res.difference
            rate_rows.append(
                (
                    o.label,
                    arm,
                    suppress(count(0, "n"), k),
                    share(count(0, "observed"), count(0, "n"), k),
                    suppress(count(1, "n"), k),
                    share(count(1, "observed"), count(1, "n"), k),
                    cell(diff.estimate) if diff is not None else 0.0,
                    cell(diff.std_error) if diff is not None else None,
                    cell(diff.p_value) if diff is not None else None,
                    cell(res.ri_p_value) if math.isfinite(res.ri_p_value) else None,
                )
            )
            if not res.differential:
                continue
            try:
                lb = lee_bounds(
                    sub,
                    o.column,
                    "assigned",
                    observed=OBSERVED,
                    blocks=blocks,
                    clusters=clusters,
                    reps=plan.reps,
                    seed=plan.seed,
                    alpha=a.alpha,
                )
            except FieldexpError as exc:
                paras.append(f"{o.label}, arm {arm}: Lee bounds not computed: {exc}")
                continue
            bound_rows.append(
                (
                    o.label,
                    arm,
                    cell(lb.lower),
                    cell(lb.upper),
                    cell(lb.trim_share),
                    lb.trimmed_arm,
                    cell(lb.ci_low) if lb.reps_used else None,
                    cell(lb.ci_high) if lb.reps_used else None,
                    lb.reps_used,
                )
            )
    if not rate_rows and not paras:
        return None
    test = (
        "HC2 standard errors"
        + (f", CR2 clustered by {a.clusters}" if a.clusters else "")
        + (f", {a.blocks} fixed effects" if a.blocks else "")
    )
    tables = [
        Table(
            "attrition",
            "Outcome observed, by arm",
            (
                "outcome",
                "arm",
                "control units",
                "control observed",
                "treated units",
                "treated observed",
                "difference",
                "std. error",
                "p-value",
                "RI p-value",
            ),
            ("text", "text", "int", "pct", "int", "pct", "est", "se", "p", "p"),
            tuple(rate_rows),
            note="fieldexp.attrition: difference in observation rates (treated - control) "
            f"from the regression of the observed indicator on assignment ({test}); it tests "
            "whether attrition differs by arm (why: a difference breaks the comparison of "
            "observed outcomes). RI p-value: the same difference with the design replayed "
            f"({plan.reps:,} draws, seed {plan.seed}) when {plan.source or 'configured'}. "
            f"Counts below {k} shown as <{k}.",
        )
    ]
    if bound_rows:
        ci = (
            f"Imbens-Manski {ctx.level}% interval from {plan.reps:,} bootstrap replications "
            f"replaying the design (seed {plan.seed}, {plan.source})"
            if plan.reps
            else "no interval: give [randomization_inference] seed (and reps) for the bootstrap"
        )
        tables.append(
            Table(
                "lee_bounds",
                "Lee bounds where attrition differs by arm",
                (
                    "outcome",
                    "arm",
                    "lower",
                    "upper",
                    "trimmed share",
                    "trimmed arm",
                    "CI low",
                    "CI high",
                    "bootstrap reps used",
                ),
                ("text", "text", "est", "est", "pct", "text", "est", "est", "int"),
                tuple(bound_rows),
                note="fieldexp.lee_bounds: Lee (2009) trimming bounds on the effect among units "
                "observed whatever their arm (monotonicity assumed), trimmed within blocks; "
                f"{ci}. Why: attrition differs by arm, so observed means are not comparable.",
            )
        )
    n_diff = len(bound_rows)
    lead = (
        f"{len(rate_rows)} outcome x arm comparison(s) have outcomes missing for some units; "
        + (
            f"attrition differs by arm in {n_diff}: read their effects through the Lee bounds."
            if n_diff
            else "observation rates do not differ significantly by arm (the effects compare "
            "like with like among the observed)."
        )
    )
    return Section("attrition", TITLE, (lead, *paras), tuple(tables))
