"""Run the analysis a spec describes and assemble the typed :class:`~fieldexp.report.model.Report`.

This module orchestrates: it reads the inputs (:mod:`fieldexp.io`), builds the analysis
table (:func:`fieldexp.build_analysis_table`), calls the estimators (:func:`fieldexp.itt`,
:func:`fieldexp.cace`, :func:`fieldexp.randomization_inference`,
:func:`fieldexp.adjust_pvalues`, :func:`fieldexp.event_study`...) and turns their results
into sections of aggregates. Sections whose estimator is not in this build of fieldexp
are listed as *not included* with the reason; no number is ever made up for them.

Privacy: only counts, means and estimates leave this module; counts below
``[privacy] small_cell`` are replaced by ``"<k"`` (and shares computed from them by
``None``); canvassers are shown under salted pseudonyms.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import math
import platform
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from fieldexp._version import __version__
from fieldexp.errors import ColumnNotFoundError, DataError, FieldexpError, did_you_mean
from fieldexp.report import figures
from fieldexp.report.inputs import Inputs, read_inputs
from fieldexp.report.model import (
    Cell,
    Estimate,
    Figure,
    Headline,
    Interval,
    Provenance,
    Report,
    Section,
    Table,
)
from fieldexp.results import EffectResult
from fieldexp.spec.load import redacted_text
from fieldexp.spec.model import AnalysisSpec, OutcomeSpec

__all__ = ["AnalysisRun", "build_report", "prepare_analysis"]

Step = Callable[[str], None]
#: Reason prefix of sections the spec does not ask for (left out of the report).
NOT_CONFIGURED = "not configured: "
#: Display order of vote-propensity bands.
BAND_ORDER = {"never": 0, "rare": 0, "intermittent": 1, "regular": 2}


def _noop(_: str) -> None:
    return None


def available(module: str) -> bool:
    """True when ``module`` can be imported in this build."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


# =========================================================================== data
@dataclass(frozen=True, slots=True, eq=False)
class AnalysisRun:
    """The data a report is computed from (kept in memory only; never written)."""

    spec: AnalysisSpec
    inputs: Inputs
    table: pd.DataFrame | None
    reconciliation: Any
    precinct_table: pd.DataFrame | None
    precinct_reconciliation: Any
    control: str | None
    arms: tuple[str, ...]


def _as_label(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _numeric_columns(table: pd.DataFrame, columns: Sequence[str], what: str) -> pd.DataFrame:
    """Coerce ``columns`` to numbers (voter files are read as text); refuse non-numbers."""
    out = table
    for c in columns:
        if c not in out.columns:
            raise ColumnNotFoundError(
                f"{what}: column {c!r} is not in the analysis table."
                + did_you_mean(c, [str(x) for x in out.columns])
                + f" Columns: {', '.join(map(str, out.columns))}"
            )
        if pd.api.types.is_numeric_dtype(out[c]) and not pd.api.types.is_bool_dtype(out[c]):
            continue
        converted = pd.to_numeric(out[c], errors="coerce")
        bad = converted.isna() & out[c].notna()
        if bad.any():
            raise DataError(
                f"{what}: column {c!r} must be numeric; {int(bad.sum())} values are not "
                f"(e.g. {out.loc[bad, c].iloc[0]!r})"
            )
        if out is table:
            out = table.copy()
        out[c] = converted.astype("Float64")
    return out


def prepare_analysis(spec: AnalysisSpec, step: Step = _noop) -> AnalysisRun:
    """Read the inputs and build the analysis (and polling-station) tables."""
    from fieldexp.spec.load import check_inputs_for_report

    check_inputs_for_report(spec)
    inputs = read_inputs(spec, step)
    a = spec.analysis
    table = None
    rec = None
    if inputs.analysis_table is not None:
        table = inputs.analysis_table
    elif inputs.voters is not None:
        from fieldexp.analysis import build_analysis_table

        step("joining voters, assignment, contacts and vote history")
        control = spec.design.design.control if spec.design is not None else None
        table, rec = build_analysis_table(
            inputs.voters,
            inputs.assignment,  # type: ignore[arg-type]
            inputs.contacts,
            inputs.vote_history,  # type: ignore[arg-type]
            election=a.election,
            campaign_window=a.campaign_window,
            control=control,
            control_contacts=a.control_contacts,
            past_elections=a.past_elections,
            progress=False,
        )
    control_label: str | None = None
    arms: tuple[str, ...] = ()
    if table is not None:
        for col in ("assigned",):
            if col not in table.columns:
                raise ColumnNotFoundError(
                    f"analysis table: column {col!r} (0/1 assignment) is required"
                )
        needed = [o.column for o in spec.outcomes if o.level == "voter"]
        if any("CACE" in o.estimands for o in spec.outcomes if o.level == "voter"):
            needed.append(a.treatment)
        needed += list(a.covariates)
        for o in spec.outcomes:
            if o.level == "voter" and o.covariates:
                needed += list(o.covariates)
        table = _numeric_columns(table, list(dict.fromkeys(needed)), "analysis")
        if "arm" in table.columns:
            labels = table["arm"].map(_as_label, na_action="ignore")
            table = table.assign(arm=labels)
            if spec.design is not None:
                control_label = _as_label(spec.design.design.control)
            else:
                ctrl = labels[table["assigned"] == 0].dropna().unique()
                control_label = str(ctrl[0]) if len(ctrl) else "0"
            arms = tuple(sorted(x for x in labels.dropna().unique() if x != control_label))
        else:
            table = table.assign(arm=table["assigned"].map(_as_label, na_action="ignore"))
            control_label, arms = "0", ("1",)
    ptable = None
    prec = None
    if inputs.precinct_results is not None:
        from fieldexp.analysis import build_precinct_table

        step("building the polling-station table")
        ptable, prec = build_precinct_table(
            inputs.precinct_results,
            election=a.election,
            assignment=inputs.precinct_assignment,
        )
    return AnalysisRun(spec, inputs, table, rec, ptable, prec, control_label, arms)


# =========================================================================== helpers
def _suppress(n: int | None, k: int) -> Cell:
    if n is None:
        return None
    return f"<{k}" if 0 < n < k else int(n)


def _share(num: int, den: int, k: int) -> float | None:
    """``num / den``, or None when the denominator or a non-zero numerator is a small cell."""
    if den < k or den == 0 or 0 < num < k:
        return None
    return num / den


def _pp(x: float) -> str:
    return f"{100 * x:+.1f}"


def _ci_pp(lo: float, hi: float) -> str:
    return f"{100 * lo:+.1f} to {100 * hi:+.1f} points"


def _money(x: float, currency: str) -> str:
    if not math.isfinite(x):
        return "unbounded"
    return f"{currency} {x:,.2f}"


def _subset(table: pd.DataFrame, control: str, arm: str, multi: bool) -> pd.DataFrame:
    if not multi:
        return table
    sub = table[table["arm"].isin([control, arm])]
    return sub.assign(assigned=(sub["arm"] == arm).astype("int8"))


def _restrict(table: pd.DataFrame, o: OutcomeSpec) -> pd.DataFrame:
    """The units an outcome is defined on (``[outcomes.x] subset``)."""
    if not o.subset:
        return table
    mask = pd.Series(True, index=table.index)
    for col, val in o.subset:
        if col not in table.columns:
            raise ColumnNotFoundError(
                f"[outcomes.{o.name}] subset: column {col!r} is not in the analysis table."
                + did_you_mean(col, [str(c) for c in table.columns])
            )
        column = table[col]
        if isinstance(val, bool | int) and not pd.api.types.is_numeric_dtype(column):
            column = pd.to_numeric(column, errors="coerce")
        mask &= (column == val).fillna(False).astype(bool)
    return table[mask.to_numpy()]


def _subset_text(o: OutcomeSpec) -> str:
    return ", ".join(f"{c} = {v}" for c, v in o.subset)


def _estimate(
    r: EffectResult, o: OutcomeSpec, arm: str, covariates: Sequence[str], label: str | None = None
) -> Estimate:
    return Estimate(
        outcome=o.name if label is None else label,
        outcome_label=o.label if label is None else label,
        level=o.level,
        arm=arm,
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
        covariates=tuple(covariates),
        first_stage_f=r.first_stage.f_statistic if r.first_stage is not None else None,
    )


# =========================================================================== estimation
@dataclass(frozen=True, slots=True, eq=False)
class _Effects:
    estimates: tuple[Estimate, ...]
    results: tuple[tuple[OutcomeSpec, str, EffectResult], ...]
    first_stage: tuple[tuple[str, EffectResult], ...]
    notes: tuple[str, ...]


def _effects(run: AnalysisRun) -> _Effects:
    from fieldexp.experiment.api import cace, itt

    spec = run.spec
    a = spec.analysis
    estimates: list[Estimate] = []
    results: list[tuple[OutcomeSpec, str, EffectResult]] = []
    first: list[tuple[str, EffectResult]] = []
    notes: list[str] = []
    covs = list(a.covariates) or None
    multi = len(run.arms) > 1
    if run.table is not None:
        for arm in run.arms:
            sub = _subset(run.table, run.control or "0", arm, multi)
            fs = itt(
                sub,
                a.treatment,
                "assigned",
                blocks=a.blocks,
                clusters=a.clusters,
                weights=a.weights,
                alpha=a.alpha,
            )
            first.append((arm, fs))
        for o in spec.outcomes:
            if o.level != "voter":
                continue
            if o.subset:
                notes.append(f"{o.label}: among voters with {_subset_text(o)}.")
            o_covs = list(o.covariates) if o.covariates is not None else list(a.covariates)
            covs = o_covs or None
            for arm in run.arms:
                sub = _subset(_restrict(run.table, o), run.control or "0", arm, multi)
                if "ITT" in o.estimands:
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
                    results.append((o, arm, r))
                    estimates.append(_estimate(r, o, arm, o_covs))
                if "CACE" in o.estimands:
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
                    results.append((o, arm, r))
                    estimates.append(_estimate(r, o, arm, o_covs))
    if run.precinct_table is not None:
        pt = run.precinct_table
        for o in spec.outcomes:
            if o.level != "precinct":
                continue
            if o.column not in pt.columns:
                raise ColumnNotFoundError(
                    f"[outcomes.{o.name}] column {o.column!r} is not in the polling-station "
                    "table."
                    + did_you_mean(o.column, [str(c) for c in pt.columns])
                    + f" Columns: {', '.join(map(str, pt.columns))}"
                )
            blocks = a.blocks if a.blocks is not None and a.blocks in pt.columns else None
            r = itt(pt, o.column, "assigned", blocks=blocks, weights="weight", alpha=a.alpha)
            results.append((o, "1", r))
            estimates.append(_estimate(r, o, "1", ()))
            if "CACE" in o.estimands:
                notes.append(
                    f"{o.label}: a polling-station CACE needs the share of voters contacted per "
                    "station, which this spec does not provide; only the ITT is reported."
                )
    return _Effects(tuple(estimates), tuple(results), tuple(first), tuple(notes))


def _adjust(
    effects: _Effects, method: str, ri_results: Sequence[Any], columns: dict[str, str]
) -> tuple[_Effects, str]:
    """Multiplicity-adjusted p-values over the family of ITT and CACE tests."""
    if method == "none" or not effects.estimates:
        return effects, "No multiplicity adjustment was requested."
    from fieldexp.experiment.multiplicity import adjust_pvalues

    if method == "westfall-young":
        family = [r for r in ri_results]
        if len(family) < 2:
            return effects, (
                "Westfall-Young needs randomisation-inference results for at least two tests; "
                "p-values are not adjusted."
            )
        adj = adjust_pvalues(family, method=method)
        by_key = {
            (r.outcome, r.estimand, _as_label(r.arm)): q
            for r, q in zip(family, adj.adjusted, strict=True)
        }
        new = []
        for e in effects.estimates:
            q = by_key.get((columns.get(e.outcome, e.outcome), e.estimand, e.arm))
            new.append(_with_adjusted(e, q, method))
    else:
        keyed = {f"{e.outcome} {e.estimand} arm {e.arm}": e.p_value for e in effects.estimates}
        adj = adjust_pvalues(keyed, method=method)
        new = [
            _with_adjusted(e, float(q), method)
            for e, q in zip(effects.estimates, adj.adjusted, strict=True)
        ]
    text = {
        "holm": "Holm (family-wise error rate)",
        "bh": "Benjamini-Hochberg (false discovery rate)",
        "westfall-young": "Westfall-Young step-down on the randomisation-inference p-values "
        "(joint randomisation distribution)",
    }[method]
    return (
        _Effects(tuple(new), effects.results, effects.first_stage, effects.notes),
        f"Adjusted p-values: {text}, across the {len(new)} tests in this table.",
    )


def _with_adjusted(e: Estimate, q: float | None, method: str) -> Estimate:
    from dataclasses import replace

    return replace(e, p_value_adjusted=q, adjustment=method if q is not None else None)


# =========================================================================== sections
def _headline(run: AnalysisRun, effects: _Effects) -> tuple[Headline | None, Section]:
    spec = run.spec
    o = spec.headline_outcome
    arm = run.arms[0] if run.arms else "1"
    itt_r = next(
        (
            r
            for oo, a, r in effects.results
            if oo.name == o.name and a == arm and r.estimand == "ITT"
        ),
        None,
    )
    cace_r = next(
        (
            r
            for oo, a, r in effects.results
            if oo.name == o.name and a == arm and r.estimand == "CACE"
        ),
        None,
    )
    level = round(100 * (1 - spec.analysis.alpha))
    sentences: list[str] = []
    contacts = None
    net = None
    total = None
    cpv = None
    currency = spec.costs.currency if spec.costs else None
    t = _restrict(run.table, o) if run.table is not None and o.level == "voter" else run.table
    if itt_r is not None:
        who = "voters assigned to canvassing"
        n_t = n_c = None
        if t is not None and o.level == "voter":
            n_t = int((t["arm"] == arm).sum())
            n_c = int((t["arm"] == run.control).sum())
            who = f"the {n_t:,} voters assigned to canvassing (against {n_c:,} held out)"
        elif o.level == "precinct":
            who = "polling stations assigned to canvassing"
        sentences.append(
            f"{o.label}: among {who}, the effect of being assigned was {_pp(itt_r.estimate)} "
            f"percentage points ({level}% CI {_ci_pp(itt_r.ci_low, itt_r.ci_high)})."
        )
    pt = run.precinct_table
    if itt_r is not None and o.level == "precinct" and pt is not None and o.column == "turnout":
        registered = float(pt.loc[pt["assigned"] == 1, "registered"].sum())
        net = Interval(
            itt_r.estimate * registered, itt_r.ci_low * registered, itt_r.ci_high * registered
        )
        sentences.append(
            f"Extra voters in the {int((pt['assigned'] == 1).sum()):,} canvassed polling "
            f"stations ({registered:,.0f} registered): about {net.estimate:,.0f} "
            f"({level}% CI {net.ci_low:,.0f} to {net.ci_high:,.0f})."
        )
        if spec.costs is not None and net.estimate > 0:
            c = spec.costs
            total = c.fixed
            lo = total / net.ci_high if net.ci_high > 0 else math.inf
            hi = total / net.ci_low if net.ci_low > 0 else math.inf
            cpv = Interval(total / net.estimate, lo, hi)
            upper = _money(hi, c.currency) if math.isfinite(hi) else "no upper bound"
            sentences.append(
                f"Field cost {_money(total, c.currency)}: {_money(cpv.estimate, c.currency)} per "
                f"extra voter ({level}% CI {_money(lo, c.currency)} to {upper})."
            )
    if cace_r is not None and t is not None:
        contacts = int(((t["arm"] == arm) & (t[spec.analysis.treatment] == 1)).sum())
        sentences.append(
            f"Among the {contacts:,} voters actually reached at the door, the effect was "
            f"{_pp(cace_r.estimate)} percentage points ({level}% CI "
            f"{_ci_pp(cace_r.ci_low, cace_r.ci_high)})."
        )
        net = Interval(
            cace_r.estimate * contacts, cace_r.ci_low * contacts, cace_r.ci_high * contacts
        )
        sentences.append(
            f"Net votes gained (effect per contacted voter x {contacts:,} contacts): about "
            f"{net.estimate:,.0f} ({level}% CI {net.ci_low:,.0f} to {net.ci_high:,.0f})."
        )
        if spec.costs is not None:
            c = spec.costs
            attempts = (
                int(t.loc[t["arm"] == arm, "n_attempts"].sum())
                if "n_attempts" in t.columns
                else int(((t["arm"] == arm) & (t.get("attempted", 0) == 1)).sum())
            )
            total = c.fixed + c.per_attempt * attempts + c.per_contact * contacts
            est = total / net.estimate if net.estimate > 0 else math.inf
            lo = total / net.ci_high if net.ci_high > 0 else math.inf
            hi = total / net.ci_low if net.ci_low > 0 else math.inf
            cpv = Interval(est, lo, hi)
            if net.estimate > 0:
                upper = (
                    f"{_money(hi, c.currency)}"
                    if math.isfinite(hi)
                    else "no upper bound, because the interval includes no effect at all"
                )
                sentences.append(
                    f"Field cost {_money(total, c.currency)} ({attempts:,} door knocks, "
                    f"{contacts:,} conversations, {_money(c.fixed, c.currency)} fixed): "
                    f"{_money(est, c.currency)} per net vote ({level}% CI "
                    f"{_money(lo, c.currency)} to {upper})."
                )
            else:
                sentences.append(
                    f"Field cost {_money(total, c.currency)}: no cost per net vote, because the "
                    "estimated number of net votes is not positive."
                )
    if itt_r is not None:
        if itt_r.ci_low <= 0 <= itt_r.ci_high:
            sentences.append(
                "Caution: the confidence interval includes zero; these data cannot rule out "
                "that canvassing had no effect."
            )
        else:
            sentences.append(
                f"The interval excludes zero (p = {itt_r.p_value:.3g}): canvassing very likely "
                f"changed {o.label.lower()}."
            )
    if not sentences:
        return None, Section(
            "headline", "Headline", available=False, reason="no estimate for the headline outcome"
        )
    h = Headline(
        net_label="extra voters" if o.level == "precinct" else "net votes gained",
        outcome=o.name,
        outcome_label=o.label,
        sentences=tuple(sentences),
        itt=Interval(itt_r.estimate, itt_r.ci_low, itt_r.ci_high) if itt_r else None,
        cace=Interval(cace_r.estimate, cace_r.ci_low, cace_r.ci_high) if cace_r else None,
        contacts=contacts,
        net_votes=net,
        total_cost=total,
        cost_per_net_vote=cpv,
        currency=currency,
    )
    figs: list[Figure] = []
    if spec.report.figures and effects.results:
        labels: list[str] = []
        ests: list[float] = []
        lows: list[float] = []
        highs: list[float] = []
        several = len({oo.name for oo, _, _ in effects.results}) > 1
        for oo, a_, r in effects.results:
            who = "per assigned voter" if r.estimand == "ITT" else "per contacted voter"
            label = f"{r.estimand}, {who}"
            if len(run.arms) > 1:
                label += f", arm {a_}"
            if several:
                label = f"{oo.label[:30]}: {label}"
            labels.append(label)
            ests.append(r.estimate)
            lows.append(r.ci_low)
            highs.append(r.ci_high)
        figs.append(
            Figure(
                "effects",
                f"{'Estimated effects' if several else o.label}: estimates with {level}% "
                "confidence intervals (percentage points)",
                figures.forest_figure(
                    labels, ests, lows, highs, xlabel="effect (percentage points)"
                ),
                "Point estimates and confidence intervals of each effect",
            )
        )
    return h, Section("headline", "Headline", tuple(sentences), figures=tuple(figs))


def _station_flow(run: AnalysisRun) -> Section:
    pt = run.precinct_table
    if pt is None or "assigned" not in pt.columns:
        return Section("flow", "Sample flow", available=False, reason="no assignment")
    rows = []
    for z, name in ((0, "control (held out)"), (1, "canvass")):
        m = pt["assigned"] == z
        reg = int(pt.loc[m, "registered"].sum())
        vot = int(pt.loc[m, "voters"].sum())
        rows.append((name, int(m.sum()), reg, vot, vot / reg if reg else None))
    table = Table(
        "sample_flow",
        "Polling stations by arm",
        ("arm", "stations", "registered", "voters", "turnout"),
        ("text", "int", "int", "int", "pct"),
        tuple(rows),
    )
    return Section(
        "flow",
        "Sample flow",
        ("Polling stations assigned to each arm, with their registered voters and ballots cast.",),
        (table,),
    )


def _flow(run: AnalysisRun) -> Section:
    k = run.spec.privacy.small_cell
    rec = run.reconciliation
    if rec is None or not rec.flow:
        t = run.table
        if t is None:
            return _station_flow(run)
        rows = []
        for arm in (run.control, *run.arms):
            m = t["arm"] == arm
            rows.append(
                (
                    str(arm),
                    _suppress(int(m.sum()), k),
                    _suppress(
                        int((m & (t.get("attempted", pd.Series(0, index=t.index)) == 1)).sum()), k
                    )
                    if "attempted" in t.columns
                    else None,
                    _suppress(int((m & (t[run.spec.analysis.treatment] == 1)).sum()), k),
                    _suppress(int((m & t[run.spec.outcomes[0].column].notna()).sum()), k),
                )
            )
    else:
        rows = [
            (
                _as_label(f.arm),
                _suppress(f.assigned, k),
                _suppress(f.attempted, k),
                _suppress(f.contacted, k),
                _suppress(f.outcome_observed, k),
            )
            for f in rec.flow
        ]
    names = {run.control: "control (held out)"}
    rows = [
        ((f"{r[0]} – " + names[r[0]]) if r[0] in names else f"{r[0]} – canvass", *r[1:])
        for r in rows
    ]
    table = Table(
        "sample_flow",
        "Voters by arm: assigned, attempted, contacted, outcome observed",
        ("arm", "assigned", "attempted", "contacted", "outcome observed"),
        ("text", "int", "int", "int", "int"),
        tuple(rows),
        note=f"Counts of voters. Counts between 1 and {k - 1} are shown as <{k}.",
    )
    text = (
        "Every assigned voter is followed from assignment to the ballot box: how many "
        "doors were knocked, how many people answered, and for how many the outcome is known."
    )
    return Section("flow", "Sample flow", (text,), (table,))


def _reconciliation(run: AnalysisRun) -> Section:
    rec = run.reconciliation if run.reconciliation is not None else run.precinct_reconciliation
    k = run.spec.privacy.small_cell
    if rec is None:
        return Section(
            "reconciliation",
            "Data reconciliation",
            available=False,
            reason=NOT_CONFIGURED
            + "the spec gives a ready analysis table, so there is no join to reconcile",
        )
    rows = tuple((t, int(n), int(rec.used(t)), int(rec.set_aside(t))) for t, n in rec.rows_read)
    summary = Table(
        "reconciliation",
        "Rows read, used and set aside per input table",
        ("table", "rows read", "used", "set aside"),
        ("text", "int", "int", "int"),
        rows,
    )
    reasons = tuple(
        (e.table, e.status, e.reason, e.arm if e.arm is not None else "", _suppress(e.rows, k))
        for e in rec.entries
    )
    detail = Table(
        "reconciliation_reasons",
        "Why rows were used or set aside",
        ("table", "status", "reason", "arm", "rows"),
        ("text", "text", "text", "text", "int"),
        reasons,
    )
    code_rows = tuple(
        (
            c.table,
            c.kind,
            c.code,
            "yes" if c.known else "no (default meaning)",
            _suppress(c.rows, k),
        )
        for c in (rec.code_counts(min_rows=k) if hasattr(rec, "code_counts") else ())
    )
    by_code = Table(
        "reconciliation_codes",
        "Rows of each imported file by code (unknown codes included)",
        ("table", "code of", "code", "known", "rows"),
        ("text", "text", "text", "text", "int"),
        code_rows,
    )
    lo, hi = rec.campaign_window
    paras = [
        f"Target election: {rec.election}. Every row read is either used or set aside with a reason."
    ]
    if run.inputs.contacts is not None:
        paras.append(
            f"Contacts counted from {lo or 'the start of the log'} to {hi or 'election day'}."
        )
    for imp in getattr(rec, "imports", ()):
        aside = dict(imp.get("set_aside") or {})
        if aside:  # rows the reader set aside (channel filter, crosswalk, duplicates...)
            parts = "; ".join(f"{r}: {_suppress(int(n), k)}" for r, n in aside.items())
            paras.append(
                f"Set aside when reading {imp.get('table')} file {imp.get('file')}: {parts}."
            )
    for note in rec.notes:
        paras.append(str(note))
    tables = (summary, detail, by_code) if code_rows else (summary, detail)
    return Section("reconciliation", "Data reconciliation", tuple(paras), tables)


def _effects_section(run: AnalysisRun, effects: _Effects, adj_note: str) -> Section:
    rows = []
    for e in effects.estimates:
        rows.append(
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
                e.nobs,
                e.nclusters,
            )
        )
    level = round(100 * (1 - run.spec.analysis.alpha))
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
            "N",
            "clusters",
        ),
        ("text", "text", "text", "text", "est", "se", "est", "est", "p", "p", "int", "int"),
        tuple(rows),
        note=adj_note,
    )
    fs_rows = tuple(
        (arm, r.estimate, r.std_error, r.ci_low, r.ci_high, r.nobs)
        for arm, r in effects.first_stage
    )
    tables = [table]
    if fs_rows:
        tables.append(
            Table(
                "contact_rate",
                "Contact rate: effect of assignment on being contacted (first stage)",
                ("arm", "estimate", "std. error", f"{level}% CI low", f"{level}% CI high", "N"),
                ("text", "est", "se", "est", "est", "int"),
                fs_rows,
            )
        )
    a = run.spec.analysis
    paras = [
        "ITT: effect per voter assigned to canvassing, whether or not anyone answered. "
        "CACE: effect per voter actually contacted (assignment as the instrument for contact). "
        "Estimates are proportions: 0.030 means 3.0 percentage points.",
        f"Blocks: {a.blocks or 'none'}; clusters: {a.clusters or 'none'}; covariates: "
        f"{', '.join(a.covariates) or 'none'}; standard errors: {', '.join(sorted({e.se_type for e in effects.estimates})) or '-'}.",
        *effects.notes,
    ]
    return Section("effects", "Effects", tuple(paras), tuple(tables))


def _balance(run: AnalysisRun) -> Section:
    t = run.table
    covs = list(run.spec.analysis.covariates)
    title = "Balance between arms"
    if t is None or not covs:
        return Section(
            "balance",
            title,
            available=False,
            reason=NOT_CONFIGURED + "no covariates are listed in [analysis] covariates",
        )
    if not available("fieldexp.experiment.balance"):
        return Section(
            "balance",
            title,
            available=False,
            reason="fieldexp.balance is not in this build of fieldexp",
        )
    from fieldexp.experiment.balance import balance

    ri = run.spec.randomization_inference
    design = run.spec.design.design if run.spec.design is not None else None
    if design is not None:
        res = balance(
            t, "arm", covs, design=design, reps=ri.reps if ri else 0, seed=ri.seed if ri else None
        )
    else:
        res = balance(
            t,
            "arm",
            covs,
            blocks=run.spec.analysis.blocks,
            clusters=run.spec.analysis.clusters,
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
        df1, df2 = o.df if isinstance(o.df, tuple) else (o.df, math.nan)
        paras.append(
            f"Omnibus test, arm {_as_label(arm)} vs {_as_label(res.control)}: F = "
            f"{o.statistic:.3f} on {df1:g} and {df2:g} df, randomisation p = {o.p_value:.3f} "
            f"({how})."
        )
    paras.extend(res.notes)
    frame = res.to_frame()
    frame = frame.rename(columns=lambda c: _balance_column(str(c)))
    return Section("balance", title, tuple(paras), (_frame_table("balance", title, frame),))


def _balance_column(name: str) -> str:
    for prefix, text in (
        ("std_diff_", "std. difference, arm "),
        ("diff_", "difference, arm "),
        ("mean_", "mean, arm "),
        ("p_value_", "p-value, arm "),
    ):
        if name.startswith(prefix):
            return text + name[len(prefix) :]
    return name


def _frame_table(key: str, title: str, frame: pd.DataFrame, note: str = "") -> Table:
    fmts = []
    for c in frame.columns:
        s = frame[c]
        if pd.api.types.is_integer_dtype(s):
            fmts.append("int")
        elif pd.api.types.is_float_dtype(s):
            name = str(c)
            is_p = "p_value" in name or name.startswith(("p_", "p-value"))
            fmts.append("p" if is_p else "est")
        else:
            fmts.append("text")
    rows = tuple(tuple(_cell(v) for v in r) for r in frame.itertuples(index=False, name=None))
    return Table(key, title, tuple(map(str, frame.columns)), tuple(fmts), rows, note)


def _num(v: Cell) -> float:
    return float(v) if isinstance(v, int | float) else math.nan


def _cell(v: object) -> Cell:
    if v is None or v is pd.NA:
        return None
    if isinstance(v, bool | np.bool_):
        return str(bool(v))
    if isinstance(v, int | np.integer):
        return int(v)
    if isinstance(v, float | np.floating):
        return float(v)
    return str(v)


def _heterogeneity(run: AnalysisRun) -> Section:
    sg = run.spec.subgroups
    title = (
        "Effects by vote propensity"
        if sg is None or sg.by == "propensity_band"
        else f"Effects by {sg.label}"
    )
    if sg is None:
        return Section(
            "heterogeneity",
            title,
            available=False,
            reason=NOT_CONFIGURED + "no [subgroups] in the spec",
        )
    t = run.table
    if t is None or sg.by not in t.columns:
        return Section(
            "heterogeneity",
            title,
            available=False,
            reason=f"column {sg.by!r} is not in the analysis table",
        )
    if not available("fieldexp.experiment.heterogeneity"):
        return Section(
            "heterogeneity",
            title,
            available=False,
            reason="fieldexp.heterogeneity (subgroup effects with the test that they are equal) "
            "is not in this build of fieldexp",
        )
    from fieldexp.experiment.heterogeneity import heterogeneity

    a = run.spec.analysis
    k = run.spec.privacy.small_cell
    ri = run.spec.randomization_inference
    design = run.spec.design.design if run.spec.design is not None else None
    level = round(100 * (1 - a.alpha))
    tables = []
    figs = []
    paras = [
        f"Effects estimated separately within each {sg.label} group, with a test that they "
        "are all equal. Groups with fewer than "
        f"{k} voters are not shown."
    ]
    # no covariate adjustment within subgroups: vote-propensity bands are built from the
    # past-vote covariates, which are then constant (collinear) inside a band
    names = sg.outcomes or tuple(o.name for o in run.spec.outcomes if o.level == "voter")
    for name in names:
        o = run.spec.outcome(name)
        for est in o.estimands:
            kw: dict[str, Any] = {}
            if est == "ITT" and design is not None and ri is not None and not o.subset:
                kw = {"design": design, "reps": ri.reps, "seed": ri.seed}
            res = heterogeneity(
                _restrict(t, o),
                o.column,
                "assigned",
                sg.by,
                estimand=est,
                treatment=a.treatment if est == "CACE" else None,
                blocks=a.blocks,
                clusters=a.clusters,
                alpha=a.alpha,
                **kw,
            )
            rows = []
            pairs = sorted(
                zip(res.levels, res.effects, strict=True),
                key=lambda z: (BAND_ORDER.get(str(z[0]), len(BAND_ORDER)), str(z[0])),
            )
            for lev, r in pairs:
                small = r.nobs < k
                rows.append(
                    (
                        str(lev),
                        _suppress(r.nobs, k),
                        None if small else r.estimate,
                        None if small else r.std_error,
                        None if small else r.ci_low,
                        None if small else r.ci_high,
                        None if small else r.p_value,
                    )
                )
            tables.append(
                Table(
                    f"heterogeneity_{o.name}_{est.lower()}",
                    f"{o.label}: {est} by {sg.label}",
                    (
                        "group",
                        "N",
                        "estimate",
                        "std. error",
                        f"{level}% CI low",
                        f"{level}% CI high",
                        "p-value",
                    ),
                    ("text", "int", "est", "se", "est", "est", "p"),
                    tuple(rows),
                )
            )
            text = (
                f"{o.label}, {est}: test that the effect is the same in every group: "
                f"Wald chi2({res.wald.df}) = {res.wald.statistic:.2f}, p = {res.wald.p_value:.3f}"
            )
            if res.ri_reps and math.isfinite(res.ri_p_value):
                how = "exact" if res.ri_exact else f"{res.ri_reps:,} re-randomisations"
                text += f"; randomisation test p = {res.ri_p_value:.3f} ({how})"
            paras.append(text + ".")
            shown = [r for r in rows if r[2] is not None]
            if run.spec.report.figures and shown and est == o.estimands[0]:
                figs.append(
                    Figure(
                        f"heterogeneity_{o.name}",
                        f"{o.label}: {est} by {sg.label} ({level}% CI)",
                        figures.forest_figure(
                            [
                                f"{r[0]} (N={r[1]})" if not isinstance(r[1], str) else r[0]
                                for r in shown
                            ],
                            [float(r[2]) for r in shown],  # type: ignore[arg-type]
                            [float(r[4]) for r in shown],  # type: ignore[arg-type]
                            [float(r[5]) for r in shown],  # type: ignore[arg-type]
                            xlabel="effect (percentage points)",
                        ),
                        f"Effect by {sg.label}",
                    )
                )
            paras.extend(n for n in res.notes if n not in paras)
    return Section("heterogeneity", title, tuple(paras), tuple(tables), tuple(figs))


def _ri(run: AnalysisRun) -> tuple[Section, list[Any]]:
    ri = run.spec.randomization_inference
    title = "Randomisation inference"
    if ri is None:
        return Section(
            "ri",
            title,
            available=False,
            reason=NOT_CONFIGURED + "no [randomization_inference] in the spec",
        ), []
    if run.spec.design is None:
        return Section("ri", title, available=False, reason="needs a [design]"), []
    if not available("fieldexp.experiment.ri"):
        return Section(
            "ri",
            title,
            available=False,
            reason="fieldexp.randomization_inference is not in this build",
        ), []
    from fieldexp.experiment.ri import randomization_inference

    design = run.spec.design.design
    names = ri.outcomes or tuple(o.name for o in run.spec.outcomes)
    engine = "dense" if run.spec.analysis.multiplicity == "westfall-young" else "auto"
    results = []
    rows = []
    skipped = []
    stations = False
    for name in names:
        o = run.spec.outcome(name)
        data = run.table if o.level == "voter" else run.precinct_table
        if o.subset or data is None or design.unit not in data.columns:
            skipped.append(o.label)
            continue
        estimands = ri.estimands if o.level == "voter" else ("ITT",)
        stations = stations or o.level == "precinct"
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
                    arm=design.arm_labels[[_as_label(x) for x in design.arm_labels].index(arm)]
                    if len(design.arm_labels) > 2
                    else None,
                    engine=engine,
                )
                results.append(r)
                rows.append(
                    (
                        o.label,
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
        tuple(rows),
    )
    text = (
        f"The assignment was re-drawn {ri.reps:,} times exactly as the design drew it "
        f"(same blocks, whole clusters, same counts; seed {ri.seed}). The p-value is the "
        "share of re-draws giving an effect at least as large as the one observed, if "
        "canvassing had changed nobody's behaviour."
    )
    paras = [text]
    if any(not r.exact and r.p_value == 0 for r in results):
        paras.append(
            f"A p-value of 0 means that none of the {ri.reps:,} re-draws was as extreme as the "
            f"observed effect: p < {1 / ri.reps:.4f}."
        )
    if stations:
        paras.append(
            "Polling stations: the statistic is the block-stratified difference in mean "
            "station turnout (stations unweighted), so its estimate can differ from the "
            "registered-weighted ITT of the effects table."
        )
    if skipped:
        paras.append(
            "Not tested here (defined on a subset of units the design does not randomise as "
            f"such, or without the design's unit column): {', '.join(skipped)}."
        )
    return Section("ri", title, tuple(paras), (table,)), results


def _did(run: AnalysisRun) -> tuple[Section, dict[str, Any] | None]:
    d = run.spec.did
    title = "Difference-in-differences and event study"
    if d is None:
        return Section(
            "did", title, available=False, reason=NOT_CONFIGURED + "no [did] in the spec"
        ), None
    hist = run.inputs.vote_history
    t = run.table
    if hist is None or t is None:
        return Section(
            "did", title, available=False, reason="needs vote history and voter-level data"
        ), None
    from fieldexp.diffindiff import event_study

    elections = (
        hist[["election_id", "election_date"]]
        .drop_duplicates("election_id")
        .sort_values(["election_date", "election_id"], kind="stable")
    )
    target = run.spec.analysis.election
    ids = elections["election_id"].astype(str).tolist()
    if target not in ids:
        dates = elections["election_date"].astype(str).str[:10].tolist()
        if target in dates:
            target = ids[dates.index(target)]
    if target not in ids:
        return Section(
            "did", title, available=False, reason=f"election {target!r} is not in the vote history"
        ), None
    keep = ids[: ids.index(target) + 1]
    clusters = d.clusters or run.spec.analysis.clusters
    contacts = run.inputs.contacts
    panel_lines: list[str] = []
    if (
        d.exposure == "attempted"
        and contacts is not None
        and available("fieldexp.diffindiff.panels")
    ):
        # the voter x election panel of the DiD package: exposure from the contact log's
        # attempts (first election on or after each attempt), every voter of the history
        from fieldexp.diffindiff.panels import voter_panel

        built = voter_panel(hist, contacts, voters=run.inputs.voters, elections=keep)
        panel = built.data
        panel_lines = built.report.lines()
        if clusters and clusters not in panel.columns:
            source = run.inputs.voters if run.inputs.voters is not None else t
            if clusters not in source.columns:
                raise ColumnNotFoundError(f"[did] clusters: column {clusters!r} not found")
            panel = panel.merge(
                source[["voter_id", clusters]].drop_duplicates("voter_id"),
                on="voter_id",
                how="left",
                validate="many_to_one",
            )
        panel = panel.assign(voted=pd.to_numeric(panel["voted"]).astype("float64"))
    else:
        if d.exposure not in t.columns:
            raise ColumnNotFoundError(
                f"[did] exposure: column {d.exposure!r} is not in the analysis table."
                + did_you_mean(d.exposure, [str(c) for c in t.columns])
            )
        period = {e: i + 1 for i, e in enumerate(keep)}
        cols = ["voter_id", d.exposure] + (
            [clusters] if clusters and clusters != "voter_id" else []
        )
        h = hist.loc[hist["election_id"].isin(keep), ["voter_id", "election_id", "voted"]]
        panel = h.merge(t[cols], on="voter_id", how="inner", validate="many_to_one")
        panel = panel.assign(
            period=panel["election_id"].map(period).astype("int64"),
            cohort=np.where(
                pd.to_numeric(panel[d.exposure]).fillna(0).to_numpy() == 1, period[target], 0
            ),
            voted=pd.to_numeric(panel["voted"]).astype("float64"),
        )
    cs_extra: dict[str, Any] = {}
    rows: tuple[tuple[Cell, ...], ...]
    if d.estimator == "callaway_santanna":
        from fieldexp.diffindiff import staggered_did

        cs = staggered_did(
            panel,
            "voted",
            "voter_id",
            "period",
            "cohort",
            comparison=d.control,
            clusters=clusters,
            alpha=run.spec.analysis.alpha,
        )
        agg = cs.aggregate("dynamic", reps=d.reps, seed=d.seed)
        c = agg.components
        rows = tuple(
            (
                int(float(r.event_time)),  # type: ignore[arg-type]
                _cell(r.estimate),
                _cell(r.std_error),
                _cell(r.ci_low),
                _cell(r.ci_high),
                _cell(r.cband_low),
                _cell(r.cband_high),
            )
            for r in c.itertuples(index=False)
        )
        columns: tuple[str, ...] = (
            "event time",
            "estimate",
            "std. error",
            "CI low",
            "CI high",
            "band low",
            "band high",
        )
        formats: tuple[str, ...] = ("int", "est", "se", "est", "est", "est", "est")
        pre = cs.pretest
        pre_text = None if pre is None else (pre.statistic, pre.df, pre.p_value)
        o = agg.overall
        cs_extra = {
            "overall": {
                "estimate": o.estimate,
                "std_error": o.std_error,
                "ci_low": o.ci_low,
                "ci_high": o.ci_high,
                "p_value": o.p_value,
            },
            "control": d.control,
            "bootstrap_reps": d.reps,
            "bootstrap_seed": d.seed,
            "critical_value": agg.crit_val,
        }
        method_text = (
            "Callaway & Sant'Anna group-time effects aggregated by event time "
            f"({d.control.replace('_', ' ')} comparison units; simultaneous bands from "
            f"{d.reps:,} multiplier-bootstrap draws, seed {d.seed}), valid when "
            "canvassing starts at different elections"
        )
    else:
        es = event_study(
            panel,
            "voted",
            "voter_id",
            "period",
            "cohort",
            leads=d.leads,
            lags=d.lags,
            reference=d.reference,
            estimator=d.estimator,
            clusters=clusters,
            se_type=d.se_type,
            alpha=run.spec.analysis.alpha,
        )
        c = es.coefficients
        rows = tuple(
            (
                int(float(r.event_time)),  # type: ignore[arg-type]
                _cell(r.estimate),
                _cell(r.std_error),
                _cell(r.ci_low),
                _cell(r.ci_high),
                _cell(r.p_value),
            )
            for r in c.itertuples(index=False)
        )
        columns = ("event time", "estimate", "std. error", "CI low", "CI high", "p-value")
        formats = ("int", "est", "se", "est", "est", "p")
        pre_text = (
            None
            if es.pretest is None
            else (es.pretest.statistic, es.pretest.df, es.pretest.p_value)
        )
        method_text = f"voter and election fixed effects ({d.estimator})"
    table = Table(
        "event_study",
        "Event study: turnout gap between canvassed and other voters, by election",
        columns,
        formats,
        rows,
        note=f"Event time 0 is {target}; {d.reference} is the reference election.",
    )
    paras = [
        f"Voters whose door was {d.exposure} are compared with all other voters over "
        f"{len(keep)} elections ({', '.join(keep)}): {method_text}. Exposure is on attempts, "
        "not on who answered: who opens the door is self-selected.",
    ]
    if panel_lines:
        paras.append("Panel: " + "; ".join(line.strip() for line in panel_lines) + ".")
    extra: dict[str, Any] = {"target": target, "periods": keep, "estimator": d.estimator}
    if pre_text is not None:
        stat, df_, pval = pre_text
        paras.append(
            f"Pre-trend test (all pre-election effects are zero): chi2({df_}) = "
            f"{stat:.2f}, p = {pval:.3f}. "
            + (
                "No evidence that the groups were already diverging before the campaign."
                if pval >= 0.05
                else "The groups were already diverging before the campaign: read the DiD with care."
            )
        )
        extra["pretest"] = {"statistic": stat, "df": df_, "p_value": pval}
        if d.estimator != "callaway_santanna" and es.pretest is not None:
            f_test = es.pretest_f
            extra["pretest"]["f_statistic"] = f_test.statistic if f_test else math.nan
            extra["pretest"]["f_p_value"] = f_test.p_value if f_test else math.nan
    extra.update(cs_extra)
    figs: tuple[Figure, ...] = ()
    if run.spec.report.figures:
        figs = (
            Figure(
                "event_study",
                "Event study (percentage points, with confidence intervals)",
                figures.event_study_figure(
                    c["event_time"].astype(float).tolist(),
                    c["estimate"].astype(float).tolist(),
                    c["ci_low"].astype(float).tolist(),
                    c["ci_high"].astype(float).tolist(),
                    reference=d.reference,
                    outcome_label="turnout",
                ),
                "Event-study coefficients by election relative to the canvassed one",
            ),
        )
    return Section("did", title, tuple(paras), (table,), figs), extra


def _pseudonym(value: str, salt: str | None, index: int) -> str:
    if salt is None:
        return f"canvasser {index + 1}"
    return "C-" + hashlib.sha256(f"{salt}\x00{value}".encode()).hexdigest()[:8]


def _coverage(run: AnalysisRun) -> Section:
    cov = run.spec.coverage
    title = "Field coverage"
    if cov is None:
        return Section(
            "coverage", title, available=False, reason=NOT_CONFIGURED + "disabled in [coverage]"
        )
    t = run.table
    if t is None or "attempted" not in t.columns:
        return Section(
            "coverage", title, available=False, reason=NOT_CONFIGURED + "needs the contact log"
        )
    k = run.spec.privacy.small_cell
    hh = run.spec.analysis.clusters or (
        "household_id" if "household_id" in t.columns else "voter_id"
    )
    treat = t[t["arm"].isin(run.arms)]
    tables = []
    figs = []
    households = treat.groupby(hh, sort=True).agg(
        attempted=("attempted", "max"),
        contacted=(run.spec.analysis.treatment, "max"),
        **{c: (c, "first") for c in cov.by if c in treat.columns},
    )
    for by in cov.by:
        if by not in treat.columns:
            raise ColumnNotFoundError(
                f"[coverage] by: column {by!r} is not in the analysis table."
                + did_you_mean(by, [str(c) for c in t.columns])
            )
        g = households.groupby(by, sort=True).agg(
            n=("attempted", "size"), att=("attempted", "sum"), con=("contacted", "sum")
        )
        rows: list[tuple[Cell, ...]] = []
        for key, r in g.iterrows():
            n, att, con = int(r.n), int(r.att), int(r.con)
            rows.append((str(key), _suppress(n, k), _share(att, n, k), _share(con, n, k)))
        tables.append(
            Table(
                f"coverage_{by}",
                f"Treatment households attempted and contacted, by {by}",
                (by, "households", "share attempted", "share contacted"),
                ("text", "int", "pct", "pct"),
                tuple(rows),
            )
        )
        if run.spec.report.figures and rows:
            shown = [r for r in rows if r[2] is not None]
            if shown:
                figs.append(
                    Figure(
                        f"coverage_{by}",
                        f"Share of treatment households reached, by {by}",
                        figures.bar_figure(
                            [str(r[0]) for r in shown],
                            [
                                ("attempted", [_num(r[2]) for r in shown]),
                                ("contacted", [_num(r[3]) for r in shown]),
                            ],
                            ylabel="share of households (%)",
                        ),
                        f"Bars of attempted and contacted shares by {by}",
                    )
                )
    contacts = run.inputs.contacts
    paras = [
        "Shares are among households assigned to canvassing. Areas with fewer than "
        f"{k} households, and shares resting on fewer than {k} households, are not shown."
    ]
    if (
        cov.canvasser
        and contacts is not None
        and "canvasser" in contacts.columns
        and contacts["canvasser"].notna().any()
    ):
        c = contacts.loc[
            contacts["canvasser"].notna(), ["unit_id", "canvasser", "attempted", "contacted"]
        ]
        unit_map = (
            t[["voter_id", hh]].rename(columns={"voter_id": "unit_id"})
            if hh != "voter_id"
            else t[["voter_id"]].assign(**{"unit_id": t["voter_id"]})
        )
        c = c.merge(unit_map, on="unit_id", how="inner")
        per = c.groupby(["canvasser", hh], sort=True).agg(
            att=("attempted", "max"), con=("contacted", "max")
        )
        g = per.groupby(level=0, sort=True).agg(n=("att", "size"), con=("con", "sum"))
        labels = [_pseudonym(str(x), run.spec.privacy.salt, i) for i, x in enumerate(g.index)]
        canvassers: list[tuple[Cell, ...]] = []
        for lab, (_, r) in sorted(zip(labels, g.iterrows(), strict=True), key=lambda z: z[0]):
            n, con = int(r.n), int(r.con)
            canvassers.append((lab, _suppress(n, k), _share(con, n, k)))
        tables.append(
            Table(
                "coverage_canvasser",
                "Households knocked and share with a conversation, by canvasser",
                ("canvasser", "households knocked", "share contacted"),
                ("text", "int", "pct"),
                tuple(canvassers),
                note="Canvassers are shown under salted pseudonyms (the key stays with the campaign)."
                if run.spec.privacy.salt
                else "Canvassers are numbered; set [privacy] salt for stable pseudonyms.",
            )
        )
    return Section("coverage", title, tuple(paras), tuple(tables), tuple(figs))


def _versions() -> tuple[tuple[str, str], ...]:
    out = [("fieldexp", __version__), ("python", platform.python_version())]
    for name in ("numpy", "pandas", "scipy", "duckdb", "matplotlib", "jinja2"):
        try:
            mod = importlib.import_module(name)
            out.append((name, str(getattr(mod, "__version__", "unknown"))))
        except ImportError:
            out.append((name, "not installed"))
    return tuple(out)


def _provenance(run: AnalysisRun) -> tuple[Provenance, Section]:
    spec = run.spec
    seeds = []
    if spec.design is not None and spec.design.seed is not None:
        seeds.append(("design", spec.design.seed))
    if spec.randomization_inference is not None:
        seeds.append(("randomization_inference", spec.randomization_inference.seed))
    generated = None
    if spec.report.timestamp:
        import datetime as dt

        generated = dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()
    prov = Provenance(
        spec_file=spec.path.name,
        spec_sha256=spec.sha256,
        spec_text=redacted_text(spec),
        inputs=tuple((f.table, f.name, f.format, f.sha256, f.size) for f in run.inputs.files),
        seeds=tuple(seeds),
        versions=_versions(),
        generated_at=generated,
    )
    tables = (
        Table(
            "inputs",
            "Input files",
            ("table", "file", "format", "SHA-256", "bytes"),
            ("text", "text", "text", "text", "int"),
            prov.inputs,
        ),
        Table("versions", "Software", ("package", "version"), ("text", "text"), prov.versions),
    )
    paras = [f"Spec {prov.spec_file} (SHA-256 {prov.spec_sha256})."]
    if seeds:
        paras.append("Seeds: " + ", ".join(f"{k} {v}" for k, v in seeds) + ".")
    if generated:
        paras.append(f"Generated at {generated}.")
    return prov, Section("provenance", "Provenance", tuple(paras), tables)


# =========================================================================== main
def build_report(
    spec: AnalysisSpec, *, step: Step = _noop, run: AnalysisRun | None = None
) -> Report:
    """Run the analysis ``spec`` describes and return the :class:`Report`."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=FutureWarning)
        if run is None:
            run = prepare_analysis(spec, step)
        elif run.spec is not spec:
            from dataclasses import replace

            run = replace(run, spec=spec)
        step("estimating effects")
        effects = _effects(run)
        step("randomisation inference")
        ri_section, ri_results = _ri(run)
        effects, adj_note = _adjust(
            effects,
            spec.analysis.multiplicity,
            ri_results,
            {o.name: o.column for o in spec.outcomes},
        )
        step("balance and subgroups")
        headline, head_section = _headline(run, effects)
        sections = [
            head_section,
            _flow(run),
            _reconciliation(run),
            _balance(run),
            _effects_section(run, effects, adj_note),
            _heterogeneity(run),
            ri_section,
        ]
        step("difference-in-differences")
        did_section, did_extra = _did(run)
        sections.append(did_section)
        step("field coverage")
        sections.append(_coverage(run))
        prov, prov_section = _provenance(run)
        sections.append(prov_section)
        sections = [s for s in sections if not s.reason.startswith(NOT_CONFIGURED)]
    subtitle = spec.report.organisation or ""
    extras: list[tuple[str, Any]] = []
    if did_extra is not None:
        extras.append(("did", did_extra))
    return Report(
        title=spec.report.title,
        subtitle=subtitle,
        headline=headline,
        sections=tuple(sections),
        estimates=effects.estimates,
        provenance=prov,
        extras=tuple(extras),
    )


def check_error(exc: BaseException) -> bool:
    """True for errors that are the user's to fix (printed as one line by the CLI)."""
    return isinstance(exc, FieldexpError)
