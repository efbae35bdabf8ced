"""Randomisation inference: p-values from re-drawing the assignment as the design drew it.

:func:`randomize` runs :func:`fieldexp.randomization_inference` once per outcome, arm and
estimand (before the sections: Westfall-Young adjustment needs the draws);
:func:`build` formats them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from fieldexp.experiment.ri import RandomizationResult
from fieldexp.report.language import ENGLISH
from fieldexp.report.model import Section, Table
from fieldexp.report.prepare import AnalysisRun, arm_label, outcome_units
from fieldexp.report.sections.context import RandomizationRun, ReportContext
from fieldexp.spec.model import OutcomeSpec

__all__ = ["build", "prefetch", "randomize"]

TITLE = ENGLISH("ri.title")


def randomize(run: AnalysisRun) -> RandomizationRun | None:
    """The randomisation-inference results the spec asks for (``None``: not asked / no design)."""
    ri = run.spec.randomization_inference
    if ri is None or run.spec.design is None:
        return None
    from fieldexp.experiment.ri import randomization_inference
    from fieldexp.report.plan import station_randomization

    design = run.spec.design.design
    names = ri.outcomes or tuple(o.name for o in run.spec.outcomes)
    # Westfall-Young needs draws aligned across outcomes; otherwise "shared": exact when the
    # assignments can be enumerated, else the dense draws, drawn once per block and shared
    # with the balance and heterogeneity tests of the same design and seed
    engine = "dense" if run.spec.analysis.multiplicity == "westfall-young" else "shared"
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


def prefetch(run: AnalysisRun) -> None:
    """Start drawing the re-randomisations :func:`randomize` will use, in a forked process,
    so that they are drawn while the effects are estimated (inside
    :func:`~fieldexp.experiment.ri_replay.shared_replays`; two-arm designs replayed by the
    dense draws only: whatever is not drawn ahead is drawn when needed, the same sets)."""
    ri = run.spec.randomization_inference
    if ri is None or run.spec.design is None or run.table is None:
        return
    design = run.spec.design.design
    if len(design.arm_labels) != 2 or design.unit not in run.table.columns:
        return
    if not any(o.level == "voter" for o in run.spec.outcomes):
        return
    from fieldexp.design.replay import ReplayPlan, count_assignments, prefetch_dense
    from fieldexp.errors import FieldexpError
    from fieldexp.experiment.ri_replay import prepare_replay

    try:  # the preparation randomize will make (kept by shared_replays)
        setup, _ = prepare_replay(
            run.table, "arm", design, arm=None, function="randomization_inference"
        )
    except FieldexpError:
        return  # randomize raises it, in its place
    plan = setup.plan
    if isinstance(plan, ReplayPlan) and count_assignments(plan, ri.reps) is None:
        prefetch_dense(plan, reps=ri.reps, seed=ri.seed)


def _subset_rows(data: pd.DataFrame, o: OutcomeSpec) -> np.ndarray:
    """Boolean per row of ``data``: the units ``[outcomes.x] subset`` defines the outcome on."""
    rows = outcome_units(data.reset_index(drop=True), o).index.to_numpy()
    mask = np.zeros(len(data), dtype=bool)
    mask[rows] = True
    return mask


def build(ctx: ReportContext) -> Section | None:
    """Left out without ``[randomization_inference]``; not available without a ``[design]``."""
    lang = ctx.lang
    ri = ctx.spec.randomization_inference
    if ri is None:
        return None
    r_run = ctx.randomization
    if r_run is None:
        return Section("ri", lang("ri.title"), available=False, reason=lang("ri.needs_design"))
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
                lang("ri.exact") if r.exact else lang("ri.monte_carlo"),
            )
        )
    table = Table(
        "randomization_inference",
        lang("ri.table"),
        (
            lang("col.outcome"),
            lang("col.arm"),
            lang("col.estimand"),
            lang("col.estimate"),
            lang("col.p_value"),
            lang("col.mc_se"),
            lang("col.draws"),
            lang("col.kind"),
        ),
        ("text", "text", "text", "est", "p", "se", "int", "text"),
        tuple(table_rows),
        note=lang(
            "ri.note_stations"
            if r_run.stations and all(o.level == "precinct" for o in ctx.spec.outcomes)
            else "ri.note"
        ),
    )
    paras = [lang("ri.redrawn", reps=lang.count(ri.reps), seed=ri.seed)]
    if any(not r.exact and r.p_value == 0 for r in r_run.results):
        paras.append(lang("ri.zero", reps=lang.count(ri.reps), bound=lang.fixed(1 / ri.reps, 4)))
    if r_run.stations:
        paras.append(lang("ri.stations"))
    if any(r.notes and "statistic on the subset" in " ".join(r.notes) for r in r_run.results):
        paras.append(lang("ri.subset"))
    if r_run.skipped:
        paras.append(lang("ri.skipped", outcomes=", ".join(r_run.skipped)))
    return Section("ri", lang("ri.title"), tuple(paras), (table,))
