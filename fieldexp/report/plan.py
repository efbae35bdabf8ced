"""The typed estimation plan of a report: which effects, by which estimator, and why.

:func:`plan_effects` turns the spec into an :class:`EffectPlan`: one :class:`PlannedEffect`
per outcome x arm x estimand (``"ITT"``/``"CACE"``), each with its estimator
(``dim``/``ols``/``lin`` for the ITT, ``2sls`` for the CACE), its covariates and a sentence
saying why that estimator. :func:`estimate_effects` runs the plan with
:func:`fieldexp.itt` / :func:`fieldexp.cace`; :func:`adjust_effects` adjusts the p-values
for multiplicity.

Multiplicity families are **outcomes x arms**: the ITT and the CACE of one outcome and arm
test the same null hypothesis (assignment changed nobody's outcome; the CACE is zero exactly
when the ITT is), so they are ONE hypothesis. Its p-value is the ITT's (the reduced form),
or the CACE's when only the CACE is requested; the adjusted p-value is shown on both rows.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

from fieldexp.errors import DataError, EstimationError, SpecificationError
from fieldexp.experiment.ri import RandomizationResult
from fieldexp.report.model import Estimate
from fieldexp.report.prepare import (
    AnalysisRun,
    arm_label,
    arm_subset,
    outcome_units,
    station_blocks,
    station_covariates,
    subset_text,
)
from fieldexp.results import EffectResult
from fieldexp.spec.model import AnalysisSpec, OutcomeSpec

__all__ = [
    "ADJUSTMENT_TEXT",
    "DOSE_UNIT",
    "WEAK_F",
    "WIDE_CACE",
    "EffectPlan",
    "Effects",
    "EstimatedEffect",
    "Family",
    "PlannedEffect",
    "adjust_effects",
    "estimate_effects",
    "itt_estimator",
    "plan_effects",
    "station_effect",
    "station_estimator",
    "weak_instrument_caution",
]

#: The unit of a station dose ([stations] dose), per registered voter.
DOSE_UNIT = {
    "conversations": "conversation",
    "doors_opened": "door opened",
    "doors_knocked": "door knocked",
}
#: First-stage F below which the instrument is weak (Staiger & Stock 1997).
WEAK_F = 10.0
#: A CACE whose interval reaches further than this from its estimate (100 percentage
#: points) says nothing about the effect on a 0/1 outcome.
WIDE_CACE = 1.0

ADJUSTMENT_TEXT = {
    "holm": "Holm (family-wise error rate)",
    "bh": "Benjamini-Hochberg (false discovery rate)",
    "westfall-young": "Westfall-Young step-down on the randomisation-inference p-values "
    "(joint randomisation distribution)",
}

#: A multiplicity family: (outcome name, arm label).
Family = tuple[str, str]


@dataclass(frozen=True, slots=True)
class PlannedEffect:
    """One effect to estimate.

    ``estimand`` is ``"ITT"`` (per assigned unit) or ``"CACE"`` (per contacted voter);
    ``estimator`` is ``"dim"``, ``"ols"``, ``"lin"`` (ITT) or ``"2sls"`` (CACE) and
    ``reason`` says why; ``family`` is the multiplicity family (outcome, arm).
    """

    outcome: OutcomeSpec
    arm: str
    estimand: str
    estimator: str
    covariates: tuple[str, ...]
    reason: str

    @property
    def family(self) -> Family:
        return (self.outcome.name, self.arm)


@dataclass(frozen=True, slots=True)
class EffectPlan:
    """Every effect of a report, in table order, and the arms whose contact rate is shown."""

    effects: tuple[PlannedEffect, ...]
    first_stage_arms: tuple[str, ...]
    notes: tuple[str, ...]

    @property
    def families(self) -> tuple[Family, ...]:
        """The multiplicity families (outcome x arm), in order."""
        return tuple(dict.fromkeys(p.family for p in self.effects))

    def estimator_notes(self) -> tuple[str, ...]:
        """One sentence per distinct (estimand, estimator, reason): what a table shows."""
        seen = dict.fromkeys(f"{p.estimand}: {p.estimator} ({p.reason})." for p in self.effects)
        return tuple(seen)


@dataclass(frozen=True, slots=True)
class EstimatedEffect:
    """A planned effect with its result and the row written to the report."""

    planned: PlannedEffect
    result: EffectResult
    row: Estimate


@dataclass(frozen=True, slots=True)
class Effects:
    """What :func:`estimate_effects` returns (and :func:`adjust_effects` updates).

    ``not_estimated`` says which planned CACE / contact rates are undefined on these data
    (e.g. nobody contacted) and why; they are left out, never filled in.
    """

    plan: EffectPlan
    effects: tuple[EstimatedEffect, ...]
    first_stage: tuple[tuple[str, EffectResult], ...]
    adjustment: str
    adjustment_note: str
    not_estimated: tuple[str, ...] = ()

    @property
    def estimates(self) -> tuple[Estimate, ...]:
        return tuple(e.row for e in self.effects)

    def find(self, outcome: str, arm: str, estimand: str) -> EstimatedEffect | None:
        return next(
            (
                e
                for e in self.effects
                if e.planned.outcome.name == outcome
                and e.planned.arm == arm
                and e.planned.estimand == estimand
            ),
            None,
        )


def itt_estimator(spec: AnalysisSpec, covariates: Sequence[str]) -> tuple[str, str]:
    """(estimator, why) of the ITT the spec asks for: ``[analysis] method`` resolved."""
    method = spec.analysis.method
    if method == "auto":
        if covariates:
            return "lin", (
                "Lin (2013) regression with covariates centred and interacted with assignment: "
                "covariates are listed and [analysis] method = 'auto'"
            )
        return "dim", (
            "difference in means (block-weighted when blocked): no covariates and "
            "[analysis] method = 'auto'"
        )
    why = {
        "dim": "difference in means: [analysis] method = 'dim'",
        "ols": "OLS with additive covariates: [analysis] method = 'ols'",
        "lin": "Lin (2013) interacted covariate adjustment: [analysis] method = 'lin'",
    }
    return method, why.get(method, f"[analysis] method = {method!r}")


def station_estimator(spec: AnalysisSpec, covariates: Sequence[str]) -> tuple[str, str]:
    """(estimator, why) of a polling-station ITT, weighted by registered voters.

    ``[analysis] method = "auto"``: the difference in means (block-weighted when blocked)
    without covariates, OLS with the covariates and block fixed effects with them (the
    estimator the randomisation inference replays exactly).
    """
    method = spec.analysis.method
    weighted = "weighted by registered voters (inscrits)"
    if method == "auto":
        method = "ols" if covariates else "dim"
    if method == "dim":
        if covariates:
            raise SpecificationError(
                f"{spec.path.name}: [analysis] method = 'dim' takes no covariates, but the "
                f"station outcomes list {list(covariates)}; use method = 'auto' or 'ols'"
            )
        return "dim", (
            "difference in mean outcome between canvassed and held-out polling stations, "
            f"{weighted} (block-weighted when blocked)"
        )
    if method == "ols":
        return "ols", (
            f"OLS on assignment and the station covariates {', '.join(covariates)}, "
            f"{weighted}, block fixed effects when blocked"
            if covariates
            else f"OLS on assignment, {weighted}, block fixed effects when blocked"
        )
    return "lin", (
        f"Lin (2013) regression with the station covariates centred and interacted, {weighted}"
    )


def station_effect(run: AnalysisRun, p: PlannedEffect) -> EffectResult:
    """One planned polling-station effect: weighted ITT, or the CACE per unit of dose."""
    from fieldexp.experiment.api import itt
    from fieldexp.experiment.stations import dose_cace

    a = run.spec.analysis
    pt = run.precinct_table
    assert pt is not None
    blocks = station_blocks(run.spec)
    covs = list(p.covariates) or None
    clusters = run.spec.design.design.clusters if run.spec.design is not None else None
    if p.estimand == "CACE":
        return dose_cace(
            pt,
            p.outcome.column,
            "dose",
            "assigned",
            blocks=blocks,
            clusters=clusters,
            covariates=covs,
            weights="weight",
            se_type=a.se_type,
            alpha=a.alpha,
        )
    return itt(
        pt,
        p.outcome.column,
        "assigned",
        blocks=blocks,
        clusters=clusters,
        covariates=covs,
        method=p.estimator,
        se_type=a.se_type,
        weights="weight",
        alpha=a.alpha,
    )


def station_randomization(
    run: AnalysisRun, o: OutcomeSpec, *, reps: int, seed: int, engine: str = "auto"
) -> RandomizationResult:
    """Randomisation inference of a station ITT with the headline's weights and estimator.

    ``dim``: :func:`fieldexp.randomization_inference` with ``weights`` (each block's
    difference in registered-weighted means, blocks weighted by their registered voters:
    the block-weighted difference in means of :func:`fieldexp.itt` with ``weights``).
    ``ols``: :func:`fieldexp.experiment.stations.ols_randomization_inference` (the weighted
    OLS coefficient with the covariates and block fixed effects). ``lin`` has no replayed
    statistic: refused with the alternative.
    """
    from fieldexp.experiment.ri import randomization_inference
    from fieldexp.experiment.stations import ols_randomization_inference

    spec = run.spec
    assert spec.design is not None and run.precinct_table is not None
    design = spec.design.design
    covs = station_covariates(spec, o)
    est, _ = station_estimator(spec, covs)
    if est == "dim":
        return randomization_inference(
            run.precinct_table,
            o.column,
            "arm",
            design,
            reps=reps,
            seed=seed,
            weights="weight",
            engine=engine,
        )
    if est == "ols":
        return ols_randomization_inference(
            run.precinct_table,
            o.column,
            "arm",
            design,
            covariates=covs,
            fixed_effects=station_blocks(spec),
            weights="weight",
            reps=reps,
            seed=seed,
            engine=engine,
        )
    raise SpecificationError(
        f"{spec.path.name}: [randomization_inference] for the station outcome {o.name!r} "
        "replays the headline estimator, and [analysis] method = 'lin' has no replayed "
        "statistic; use method = 'ols' (weighted OLS with covariates and block fixed effects) "
        "or 'auto'"
    )


def plan_effects(run: AnalysisRun) -> EffectPlan:
    """The effects a spec asks for, with their estimators (nothing is estimated here)."""
    spec = run.spec
    planned: list[PlannedEffect] = []
    notes: list[str] = []
    if run.table is not None:
        for o in spec.outcomes:
            if o.level != "voter":
                continue
            if o.subset:
                notes.append(f"{o.label}: among voters with {subset_text(o)}.")
            covs = tuple(o.covariates if o.covariates is not None else spec.analysis.covariates)
            for arm in run.arms:
                if "ITT" in o.estimands:
                    est, why = itt_estimator(spec, covs)
                    planned.append(PlannedEffect(o, arm, "ITT", est, covs, why))
                if "CACE" in o.estimands:
                    why = "two-stage least squares, assignment instrumenting contact" + (
                        ", with the same covariates" if covs else ""
                    )
                    planned.append(PlannedEffect(o, arm, "CACE", "2sls", covs, why))
    if run.precinct_table is not None:
        logs = spec.stations is not None and spec.stations.door_logs is not None
        dose = spec.stations.dose if spec.stations is not None else "conversations"
        for o in spec.outcomes:
            if o.level != "precinct":
                continue
            covs = station_covariates(spec, o)
            est, why = station_estimator(spec, covs)
            planned.append(PlannedEffect(o, "1", "ITT", est, covs, why))
            if "CACE" in o.estimands and logs:
                planned.append(
                    PlannedEffect(
                        o,
                        "1",
                        "CACE",
                        "2sls",
                        covs,
                        f"two-stage least squares per {DOSE_UNIT[dose]} per registered "
                        "voter (the dose, from the door log), assignment instrumenting it, "
                        "weighted by registered voters"
                        + (", with the same covariates" if covs else ""),
                    )
                )
            elif "CACE" in o.estimands:
                notes.append(
                    f"{o.label}: a polling-station CACE needs the conversations per station "
                    "([stations] door_logs), which this spec does not provide; only the ITT "
                    "is reported."
                )
    arms = run.arms if run.table is not None else ()
    return EffectPlan(tuple(planned), arms, tuple(notes))


def _row(r: EffectResult, p: PlannedEffect) -> Estimate:
    o = p.outcome
    return Estimate(
        outcome=o.name,
        outcome_label=o.label,
        level=o.level,
        arm=p.arm,
        estimand=r.estimand,
        estimator=r.method,
        se_type=r.se_type,
        design=r.design,
        term=r.term,
        estimate=r.estimate,
        std_error=r.std_error,
        df=r.df,
        p_value=r.p_value,
        ci_low=r.ci_low,
        ci_high=r.ci_high,
        alpha=r.alpha,
        nobs=r.nobs,
        nclusters=r.nclusters,
        covariates=p.covariates,
        first_stage_f=r.first_stage.f_statistic if r.first_stage is not None else None,
        caution=weak_instrument_caution(r),
    )


def weak_instrument_caution(r: EffectResult) -> str | None:
    """The caution a CACE needs, or None: weak first stage (F < 10) or a useless interval.

    A CACE is flagged when its first-stage F statistic is below :data:`WEAK_F` (10), or
    when its confidence interval reaches more than :data:`WIDE_CACE` (100 percentage
    points) from the estimate. Net votes and cost per net vote are then withheld.
    """
    if r.estimand != "CACE":
        return None
    reasons = []
    f = r.first_stage.f_statistic if r.first_stage is not None else None
    if f is not None and math.isfinite(f) and f < WEAK_F:
        reasons.append(f"weak first stage (F = {f:.1f} < {WEAK_F:g})")
    half = max(r.estimate - r.ci_low, r.ci_high - r.estimate)
    if not math.isfinite(half) or half > WIDE_CACE:
        reasons.append(
            "confidence interval wider than ±100 percentage points"
            if math.isfinite(half)
            else "unbounded confidence interval"
        )
    if not reasons:
        return None
    return "Unreliable: " + " and ".join(reasons)


def estimate_effects(run: AnalysisRun, plan: EffectPlan) -> Effects:
    """Run every planned effect (:func:`fieldexp.itt` / :func:`fieldexp.cace`)."""
    from fieldexp.experiment.api import cace, itt

    a = run.spec.analysis
    multi = len(run.arms) > 1
    control = run.control or "0"
    first: list[tuple[str, EffectResult]] = []
    missing: list[str] = []
    if run.table is not None:
        for arm in plan.first_stage_arms:
            sub = arm_subset(run.table, control, arm, multi)
            try:
                fs = itt(
                    sub,
                    a.treatment,
                    "assigned",
                    blocks=a.blocks,
                    clusters=a.clusters,
                    weights=a.weights,
                    alpha=a.alpha,
                )
            except (DataError, EstimationError) as exc:
                missing.append(f"Contact rate, arm {arm}: not estimated: {exc}")
                continue
            first.append((arm, fs))
    done: list[EstimatedEffect] = []
    for p in plan.effects:
        o = p.outcome
        covs = list(p.covariates) or None
        if o.level == "voter" and run.table is not None:
            sub = arm_subset(outcome_units(run.table, o), control, p.arm, multi)
            if p.estimand == "ITT":
                r = itt(
                    sub,
                    o.column,
                    "assigned",
                    blocks=a.blocks,
                    clusters=a.clusters,
                    covariates=covs,
                    method=a.method,
                    se_type=a.se_type,
                    weights=a.weights,
                    alpha=a.alpha,
                )
            else:
                try:
                    r = cace(
                        sub,
                        o.column,
                        a.treatment,
                        "assigned",
                        blocks=a.blocks,
                        clusters=a.clusters,
                        covariates=covs,
                        se_type=a.se_type,
                        weights=a.weights,
                        alpha=a.alpha,
                    )
                except (DataError, EstimationError) as exc:
                    # the CACE is undefined (e.g. nobody contacted); the ITT still stands
                    missing.append(f"{o.label}, CACE, arm {p.arm}: not estimated: {exc}")
                    continue
        elif run.precinct_table is not None:
            try:
                r = station_effect(run, p)
            except (DataError, EstimationError) as exc:
                if p.estimand == "ITT":
                    raise
                missing.append(f"{o.label}, CACE per conversation: not estimated: {exc}")
                continue
        else:  # pragma: no cover - plan_effects plans an outcome only with its table
            continue
        done.append(EstimatedEffect(p, r, _row(r, p)))
    return Effects(plan, tuple(done), tuple(first), "none", "", tuple(missing))


def _family_pvalues(effects: Effects) -> dict[Family, float]:
    """One p-value per family: the ITT's (reduced form), else the CACE's."""
    out: dict[Family, float] = {}
    for e in effects.effects:
        fam = e.planned.family
        if fam not in out or e.planned.estimand == "ITT":
            out[fam] = e.result.p_value
    return out


def adjust_effects(
    effects: Effects, method: str, ri_results: Sequence[RandomizationResult] = ()
) -> Effects:
    """Multiplicity-adjusted p-values over the outcome x arm families.

    ``ri_results`` (:class:`~fieldexp.experiment.ri.RandomizationResult`) are needed for
    ``method="westfall-young"``: one per family (the ITT's when both were re-drawn).
    """
    if method == "none" or not effects.effects:
        return replace(
            effects, adjustment="none", adjustment_note="No multiplicity adjustment was requested."
        )
    from fieldexp.experiment.multiplicity import adjust_pvalues

    columns = {e.planned.outcome.column: e.planned.outcome.name for e in effects.effects}
    adjusted: dict[Family, float] = {}
    if method == "westfall-young":
        fam_ri: dict[Family, RandomizationResult] = {}
        for r in ri_results:
            fam = (columns.get(r.outcome, r.outcome), arm_label(r.arm))
            if fam not in fam_ri or r.estimand == "ITT":
                fam_ri[fam] = r
        missing = [f for f in _family_pvalues(effects) if f not in fam_ri]
        if not fam_ri or missing:
            return replace(
                effects,
                adjustment="none",
                adjustment_note=(
                    "Westfall-Young needs a randomisation-inference result for every "
                    "hypothesis (outcome x arm); missing for "
                    + ", ".join(f"{o} arm {a}" for o, a in missing or _family_pvalues(effects))
                    + ": p-values are not adjusted."
                ),
            )
        adj = adjust_pvalues(list(fam_ri.values()), method=method)
        adjusted = {f: float(q) for f, q in zip(fam_ri, adj.adjusted, strict=True)}
    else:
        fam_p = _family_pvalues(effects)
        adj = adjust_pvalues({f"{o} arm {a}": p for (o, a), p in fam_p.items()}, method=method)
        adjusted = {f: float(q) for f, q in zip(fam_p, adj.adjusted, strict=True)}
    new = []
    for e in effects.effects:
        q = adjusted.get(e.planned.family)
        row = replace(e.row, p_value_adjusted=q, adjustment=method if q is not None else None)
        new.append(replace(e, row=row))
    n = len(adjusted)
    note = (
        f"Adjusted p-values: {ADJUSTMENT_TEXT[method]}, across {n} "
        f"hypothes{'is' if n == 1 else 'es'} (one per outcome and arm: the ITT and the CACE of "
        "an outcome test the same null, so they share one adjusted p-value, that of the ITT)."
    )
    return replace(effects, effects=tuple(new), adjustment=method, adjustment_note=note)
