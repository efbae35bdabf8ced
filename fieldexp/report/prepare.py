"""Inputs -> :class:`AnalysisRun`: read the spec's files and build the analysis tables.

:func:`prepare_analysis` is the first stage of a report (``fieldexp validate`` stops here):
it reads every input with its :mod:`fieldexp.io` importer (:mod:`fieldexp.report.inputs`),
joins voters, assignment, contacts and vote history with
:func:`fieldexp.build_analysis_table` (every row used or set aside with a reason, in the
:class:`~fieldexp.analysis.Reconciliation`), builds the polling-station table when the spec
has precinct results, and settles the arm labels. Nothing is estimated here.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from fieldexp.analysis.reconciliation import Reconciliation
from fieldexp.errors import (
    ColumnNotFoundError,
    DataError,
    FieldexpWarning,
    SpecificationError,
    did_you_mean,
)
from fieldexp.io._distinct import distinct, spread
from fieldexp.report.inputs import Inputs, read_inputs
from fieldexp.spec.model import AnalysisSpec, OutcomeSpec
from fieldexp.spec.stations import StationsSpec

if TYPE_CHECKING:
    from fieldexp.experiment.balance import BalanceResult
    from fieldexp.report.engine_inputs import EngineInputs

__all__ = [
    "AnalysisRun",
    "Step",
    "arm_label",
    "arm_subset",
    "assignment_balance",
    "no_progress",
    "numeric_columns",
    "outcome_units",
    "prepare_analysis",
    "station_blocks",
    "station_covariates",
    "station_table",
    "subset_text",
]

#: A progress callback: receives a short description of the step starting.
Step = Callable[[str], None]


def no_progress(_: str) -> None:
    """The silent :data:`Step`."""
    return None


@dataclass(frozen=True, slots=True, eq=False)
class AnalysisRun:
    """The data a report is computed from (kept in memory only; never written).

    ``table`` is the voter-level analysis table (``None`` for station-only specs) with
    ``arm`` as text labels; ``control`` the control arm label and ``arms`` the treatment arm
    labels in order; ``precinct_table`` the polling-station table when the spec has
    precinct results.
    """

    spec: AnalysisSpec
    inputs: Inputs
    table: pd.DataFrame | None
    reconciliation: Reconciliation | None
    precinct_table: pd.DataFrame | None
    precinct_reconciliation: Reconciliation | None
    control: str | None
    arms: tuple[str, ...]
    engine: EngineInputs | None = None  # [engine]: the Ibis tables (sections aggregate there)

    @property
    def station_level(self) -> bool:
        """True when the units are polling stations (no voter-level table)."""
        return self.table is None and self.precinct_table is not None


def arm_label(value: object) -> str:
    """An arm value as text (``1.0`` -> ``"1"``) so labels compare across files."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def numeric_columns(table: pd.DataFrame, columns: Sequence[str], what: str) -> pd.DataFrame:
    """Coerce ``columns`` to numbers (voter files are read as text); refuse non-numbers.

    Returns a copy when a column changes (the caller's frame is never mutated). Raises
    :class:`ColumnNotFoundError` for a missing column and :class:`DataError` for a value
    that is not a number.
    """
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


def arm_subset(table: pd.DataFrame, control: str, arm: str, multi: bool) -> pd.DataFrame:
    """Units of ``arm`` and the control, ``assigned`` recoded 0/1 (several arms only)."""
    if not multi:
        return table
    sub = table[table["arm"].isin([control, arm])]
    return sub.assign(assigned=(sub["arm"] == arm).astype("int8"))


def outcome_units(table: pd.DataFrame, o: OutcomeSpec) -> pd.DataFrame:
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


def subset_text(o: OutcomeSpec) -> str:
    """``[outcomes.x] subset`` in words (``"col = value, ..."``)."""
    return ", ".join(f"{c} = {v}" for c, v in o.subset)


def prepare_analysis(spec: AnalysisSpec, step: Step = no_progress) -> AnalysisRun:
    """Read the inputs and build the analysis (and polling-station) tables."""
    from fieldexp.spec.load import check_inputs_for_report

    check_inputs_for_report(spec)
    inputs = read_inputs(spec, step)
    a = spec.analysis
    table = None
    rec = None
    engine = None
    if inputs.analysis_table is not None:
        table = inputs.analysis_table
    elif spec.engine is not None:  # [engine]: joins and counts run in the engine
        from fieldexp.report.engine_inputs import build_engine_run

        step("building the analysis table in the engine")
        table, rec, engine = build_engine_run(spec)  # the Ibis tables stay in run.engine
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
        table, control_label, arms = _voter_table(spec, table)
    ptable = None
    prec = None
    if inputs.precinct_results is not None:
        step("building the polling-station table")
        ptable, prec = station_table(spec, inputs)
    return AnalysisRun(spec, inputs, table, rec, ptable, prec, control_label, arms, engine)


def station_table(spec: AnalysisSpec, inputs: Inputs) -> tuple[pd.DataFrame, Reconciliation]:
    """The polling-station table of a spec, checked against what the spec names.

    Shares keyed by ``[stations] shares_by`` (nuance by default), past turnout from
    ``[stations] past_results``, the door-log tallies and the dose; then every station
    outcome, covariate and the blocks must be columns of the table, present in every station
    (:func:`fieldexp.analysis.stations.check_station_columns`), so that ``validate`` stops on a
    share named by panel number or absent from some stations.
    """
    from fieldexp.analysis import build_precinct_table
    from fieldexp.analysis.stations import check_station_columns, share_gaps

    assert inputs.precinct_results is not None
    st = spec.stations or StationsSpec()
    results = inputs.precinct_results
    past = None
    if st.past_results is not None:
        from fieldexp.io import read_precinct_results

        earlier = read_precinct_results(st.past_results)
        past = str(earlier["election_id"].iloc[0])
        if past in set(results["election_id"].astype(str)):
            past = None  # the same file twice: nothing earlier to take
        else:
            results = pd.concat([results, earlier], ignore_index=True)
    ptable, prec = build_precinct_table(
        results,
        election=spec.analysis.election,
        assignment=inputs.precinct_assignment,
        by=st.shares_by,
        blocs=st.blocs,
        past_election=past,
    )
    if st.door_logs is not None:
        from fieldexp.analysis.precinct import join_door_logs
        from fieldexp.io.doorlogs import read_door_logs

        logs = read_door_logs(st.door_logs, mapping=st.door_logs_mapping)
        ptable, prec = join_door_logs(ptable, prec, logs, dose=st.dose)
    outcomes = [o for o in spec.outcomes if o.level == "precinct"]
    # the experiment's stations: a national results file holds stations of other
    # circonscriptions, where a local party's share is rightly missing
    studied = ptable[ptable["assigned"].notna()] if "assigned" in ptable.columns else ptable
    for o in outcomes:
        if o.subset:
            raise SpecificationError(
                f"{spec.path.name}: [outcomes.{o.name}] subset is for voter-level outcomes; a "
                "polling-station outcome is estimated on the stations of the assignment (restrict "
                "the assignment file to the stations to compare)"
            )
        check_station_columns(studied, [o.column], f"[outcomes.{o.name}] column")
        covs = station_covariates(spec, o)
        what = f"[outcomes.{o.name}] station covariates"
        check_station_columns(studied, covs, what, allow_missing=True)
        for gap in share_gaps(studied, covs):
            warnings.warn(
                f"{what}: {gap.text()}; those stations are left out of this outcome's "
                "estimate and of the statistic of its randomisation inference (they stay in the "
                "re-randomisation)",
                FieldexpWarning,
                stacklevel=2,
            )
    blocks = station_blocks(spec)
    if blocks is not None and outcomes:
        check_station_columns(studied, [blocks], "station blocks")
    return ptable, prec


def station_covariates(spec: AnalysisSpec, o: OutcomeSpec) -> tuple[str, ...]:
    """Covariates of a station outcome: ``[outcomes.x] covariates``, else ``[stations]
    covariates``, else ``[analysis] covariates`` when the spec has no voter outcome."""
    if o.covariates is not None:
        return tuple(o.covariates)
    if spec.stations is not None and spec.stations.covariates:
        return tuple(spec.stations.covariates)
    if not any(x.level == "voter" for x in spec.outcomes):
        return tuple(spec.analysis.covariates)
    return ()


def station_blocks(spec: AnalysisSpec) -> str | None:
    """Blocks of the station estimates: the design's, else ``[stations] blocks``, else
    ``[analysis] blocks``. A ``[stations] blocks`` other than the design's is refused: the
    estimate and its randomisation inference must block as the assignment did."""
    design = spec.design.design.blocks if spec.design is not None else None
    given = spec.stations.blocks if spec.stations is not None else None
    if design is not None and given is not None and given != design:
        raise SpecificationError(
            f"{spec.path.name}: [stations] blocks = {given!r} but the [design] blocks by "
            f"{design!r}: the estimate and its randomisation inference must use the blocks "
            "the stations were randomised in. Remove [stations] blocks or make them equal."
        )
    return design or given or spec.analysis.blocks


def _voter_table(
    spec: AnalysisSpec, table: pd.DataFrame
) -> tuple[pd.DataFrame, str, tuple[str, ...]]:
    a = spec.analysis
    if "assigned" not in table.columns:
        raise ColumnNotFoundError("analysis table: column 'assigned' (0/1 assignment) is required")
    needed = [o.column for o in spec.outcomes if o.level == "voter"]
    if any("CACE" in o.estimands for o in spec.outcomes if o.level == "voter"):
        needed.append(a.treatment)
    needed += list(a.covariates)
    for o in spec.outcomes:
        if o.level == "voter" and o.covariates:
            needed += list(o.covariates)
    table = numeric_columns(table, list(dict.fromkeys(needed)), "analysis")
    if "voter_id" in table.columns:
        # one row order whatever the input files' order: sums in the estimators (and so
        # every digit of the report) do not depend on how the files were sorted
        table = table.sort_values(
            "voter_id", kind="stable", ignore_index=True, key=lambda s: s.astype(str)
        )
    if "arm" not in table.columns:
        table = table.assign(arm=table["assigned"].map(arm_label, na_action="ignore"))
        return table, "0", ("1",)
    labels = _arm_labels(table["arm"])
    table = table.assign(arm=labels)
    if spec.design is not None:
        control = arm_label(spec.design.design.control)
    else:
        ctrl = labels[table["assigned"] == 0].dropna().unique()
        control = str(ctrl[0]) if len(ctrl) else "0"
    arms = tuple(sorted(x for x in labels.dropna().unique() if x != control))
    return table, control, arms


def _arm_labels(arm: pd.Series) -> pd.Series:
    """``arm.map(arm_label)`` (missing stays missing), once per distinct label of Arrow text."""
    d = distinct(arm)
    if d is None:
        return arm.map(arm_label, na_action="ignore")
    return spread(d.uniques.map(arm_label, na_action="ignore"), d, arm.index, arm.name)


def assignment_balance(
    spec: AnalysisSpec, voters: pd.DataFrame, assignment: pd.DataFrame
) -> BalanceResult | None:
    """Balance of a fresh assignment (``fieldexp assign``) on the voter-file covariates.

    Covariates: ``[design] balance_covariates``, else the ``[analysis] covariates`` found in
    the voter file; ``None`` when there are none. Replays the design for the omnibus test
    (``[randomization_inference] reps``/``seed`` when given).
    """
    if spec.design is None:
        return None
    design = spec.design.design
    covs = list(spec.design.balance_covariates) or [
        c for c in spec.analysis.covariates if c in voters.columns
    ]
    if not covs:
        return None
    from fieldexp.experiment.balance import balance

    merged = voters.merge(assignment[[design.unit, "arm"]], on=design.unit, how="inner").dropna(
        subset=["arm"]
    )
    merged = numeric_columns(merged, covs, "balance")
    ri = spec.randomization_inference
    return balance(
        merged,
        "arm",
        covs,
        design=design,
        reps=ri.reps if ri else 0,
        seed=ri.seed if ri else None,
    )
