"""Randomisation inference: p-values from re-drawing the assignment as the design drew it.

:func:`randomize` runs :func:`fieldexp.randomization_inference` once per outcome, arm and
estimand (before the sections: Westfall-Young adjustment needs the draws);
:func:`build` formats them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from fieldexp.experiment.ri import RandomizationResult
from fieldexp.report.model import Section, Table
from fieldexp.report.prepare import AnalysisRun, arm_label, outcome_units
from fieldexp.report.sections.context import RandomizationRun, ReportContext
from fieldexp.spec.model import OutcomeSpec

__all__ = ["build", "randomize"]

TITLE = "Randomisation inference"


def randomize(run: AnalysisRun) -> RandomizationRun | None:
    """The randomisation-inference results the spec asks for (``None``: not asked / no design)."""
    ri = run.spec.randomization_inference
    if ri is None or run.spec.design is None:
        return None
    from fieldexp.experiment.ri import randomization_inference
    from fieldexp.report.plan import station_randomization

    design = run.spec.design.design
    names = ri.outcomes or tuple(o.name for o in run.spec.outcomes)
    engine = "dense" if run.spec.analysis.multiplicity == "westfall-young" else "auto"
    results: list[RandomizationResult] = []
    rows: list[tuple[str, str, str]] = []
    skipped: list[str] = []
    stations = False
    labels = [arm_label(x) for x in design.arm_labels]
    for name in names:
        o = run.spec.outcome(name)
        data = run.table if o.level == "voter" else run.precinct_table
        if data is None or design.unit not in data.columns:
            skipped.append(o.label)
            continue
        # a subset outcome: the whole design is re-drawn, the statistic taken on the subset
        subset = _subset_rows(data, o) if o.subset else None
        estimands = ri.estimands if o.level == "voter" else ("ITT",)
        stations = stations or o.level == "precinct"
        if o.level == "precinct":  # the headline's weights and estimator (report/plan.py)
            results.append(station_randomization(run, o, reps=ri.reps, seed=ri.seed, engine=engine))
            rows.append((o.label, "1", "ITT"))
            continue
        arms = run.arms if o.level == "voter" else ("1",)
        for est in estimands:
            for arm in arms:
                r = randomization_inference(
                    data,
                    o.column,
                    "arm",
                    design,
                    estimand=est,
                    treatment=run.spec.analysis.treatment if est == "CACE" else None,
                    reps=ri.reps,
                    seed=ri.seed,
                    arm=design.arm_labels[labels.index(arm)] if len(labels) > 2 else None,
                    engine=engine,
                    subset=subset,
                )
                results.append(r)
                rows.append((o.label, arm, est))
    return RandomizationRun(tuple(results), tuple(rows), tuple(skipped), stations)


def _subset_rows(data: pd.DataFrame, o: OutcomeSpec) -> np.ndarray:
    """Boolean per row of ``data``: the units ``[outcomes.x] subset`` defines the outcome on."""
    rows = outcome_units(data.reset_index(drop=True), o).index.to_numpy()
    mask = np.zeros(len(data), dtype=bool)
    mask[rows] = True
    return mask


def build(ctx: ReportContext) -> Section | None:
    """Left out without ``[randomization_inference]``; not available without a ``[design]``."""
    ri = ctx.spec.randomization_inference
    if ri is None:
        return None
    r_run = ctx.randomization
    if r_run is None:
        return Section("ri", TITLE, available=False, reason="needs a [design]")
    table_rows = []
    for (label, arm, est), r in zip(r_run.rows, r_run.results, strict=True):
        table_rows.append(
            (
                label,
                arm,
                est,
                r.estimate,
                r.p_value,
                None if r.exact else r.p_value_se,
                int(r.reps),
                "exact" if r.exact else "Monte Carlo",
            )
        )
    table = Table(
        "randomization_inference",
        "Randomisation-inference p-values (sharp null of no effect)",
        ("outcome", "arm", "estimand", "estimate", "p-value", "MC s.e.", "draws", "kind"),
        ("text", "text", "text", "est", "p", "se", "int", "text"),
        tuple(table_rows),
        note=(
            "Statistic: the estimator of the effects table (polling stations: weighted by "
            "registered voters, same blocks and covariates); "
            if r_run.stations and all(o.level == "precinct" for o in ctx.spec.outcomes)
            else "Statistic: the design's difference in means (ITT; block-weighted when blocked) "
            "or the Wald ratio (CACE), unadjusted for covariates, so an estimate here can differ "
            "from the covariate-adjusted one of the effects table; "
        )
        + "the p-value tests the sharp null that canvassing changed nobody's outcome.",
    )
    paras = [
        f"The assignment was re-drawn {ri.reps:,} times exactly as the design drew it "
        f"(same blocks, whole clusters, same counts; seed {ri.seed}). The p-value is the "
        "share of re-draws giving an effect at least as large as the one observed, if "
        "canvassing had changed nobody's behaviour."
    ]
    if any(not r.exact and r.p_value == 0 for r in r_run.results):
        paras.append(
            f"A p-value of 0 means that none of the {ri.reps:,} re-draws was as extreme as the "
            f"observed effect: p < {1 / ri.reps:.4f}."
        )
    if r_run.stations:
        paras.append(
            "Polling stations: the statistic is the estimator of the effects table itself "
            "(weighted by registered voters, same blocks and covariates), so its estimate "
            "equals the ITT shown there."
        )
    if any(r.notes and "statistic on the subset" in " ".join(r.notes) for r in r_run.results):
        paras.append(
            "Outcomes defined on a subset of units (e.g. registration among the unregistered): "
            "the whole assignment is re-drawn, every block and household included, and the "
            "statistic is recomputed on the subset for each re-draw."
        )
    if r_run.skipped:
        paras.append(
            f"Not tested here (without the design's unit column): {', '.join(r_run.skipped)}."
        )
    return Section("ri", TITLE, tuple(paras), (table,))
