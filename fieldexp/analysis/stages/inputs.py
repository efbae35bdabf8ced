"""Stage 1: register the inputs and normalise them into the views ``AR`` and ``VR``.

``AR`` (assignment): ``unit_id, arm, probability, block, cluster, excluded_reason, _row`` with
every value as text (numbers as their decimal text); ``VR`` (voters): ``voter_id,
household_id, precinct_id, registration_status`` (lower case), the voter covariates and
``_row``. The assignment's level (voter or household) is read from the design recorded by
``Design.assign``, its unit column, or which voter-file ids its units match.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pandas as pd

from fieldexp.analysis.stages.context import Build, Source, ident
from fieldexp.errors import ColumnNotFoundError, did_you_mean
from fieldexp.io.personal import looks_personal
from fieldexp.io.schema import PII_COLUMNS

__all__ = ["CORE_VOTER_COLUMNS", "HISTORY_COLUMNS", "Plan", "design_info", "load_inputs"]

#: the vote-history columns the build reads
HISTORY_COLUMNS = ("voter_id", "election_id", "election_date", "voted")

CORE_VOTER_COLUMNS = ("voter_id", "household_id", "precinct_id", "registration_status")


@dataclass(frozen=True, slots=True)
class Plan:
    """What the later stages need to know about the inputs."""

    design: dict[str, Any]
    recorded_hash: str | None
    level: str  # "voter" or "household": what the assignment assigns
    covariates: list[str]  # voter columns carried to the analysis table
    has_contacts: bool


def design_info(assignment: Source) -> tuple[dict[str, Any], str | None]:
    """Design dict (parsed from attrs JSON) and the recorded ids hash, if any."""
    if not isinstance(assignment, pd.DataFrame):
        return {}, None
    attrs = assignment.attrs
    design = attrs.get("fieldexp_design")
    if isinstance(design, str):
        try:
            design = json.loads(design)
        except ValueError:
            design = {}
    recorded = attrs.get("fieldexp_ids_sha256") or attrs.get("fieldexp_ids_hash")
    return (design if isinstance(design, dict) else {}), recorded


def load_inputs(
    b: Build, voters: Source, assignment: Source, contacts: Source | None, vote_history: Source
) -> Plan:
    """Register the four inputs, check their key columns and create the views AR and VR."""
    q, one, inputs = b.q, b.one, b.inputs
    design, recorded_hash = design_info(assignment)
    unit_col: str | None = None
    if isinstance(assignment, pd.DataFrame):
        unit_col = assignment.attrs.get("fieldexp_unit") or design.get("unit")
    inputs.add("voters", voters)
    inputs.add("assignment", assignment)
    # the contact log and the history are read (CSV) when their stage starts, so that one
    # large file at a time is held; only these history columns are stored
    if contacts is not None:
        inputs.add("contacts", contacts, lazy=True)
    inputs.add("vote_history", vote_history, keep=HISTORY_COLUMNS, lazy=True)
    inputs.require("voters", ["voter_id", "household_id"])
    inputs.require("vote_history", list(HISTORY_COLUMNS))
    if contacts is not None:
        inputs.require("contacts", ["unit_id", "attempted", "contacted"])
    a_cols = inputs.columns["assignment"]
    v_cols = inputs.columns["voters"]
    if unit_col is None or unit_col not in a_cols:
        unit_col = next((c for c in ("unit_id", "voter_id", "household_id") if c in a_cols), None)
    if unit_col is None:
        raise ColumnNotFoundError(
            "assignment: needs a unit id column (voter_id, household_id or unit_id, or the "
            f"design's unit); columns: {a_cols[:12]}"
        )
    if "arm" in a_cols:
        arm_expr = "CAST(arm AS VARCHAR)"
    elif "assigned" in a_cols:
        arm_expr = "CAST(CAST(assigned AS BIGINT) AS VARCHAR)"
    else:
        raise ColumnNotFoundError(
            f"assignment: needs an 'arm' or 'assigned' column; columns: {a_cols[:12]}"
            + did_you_mean("arm", a_cols)
        )
    level = (
        "household"
        if unit_col == "household_id" or design.get("unit") == "household_id"
        else "voter"
    )
    if unit_col == "unit_id":
        sample = "(SELECT CAST(unit_id AS VARCHAR) AS u FROM raw_assignment LIMIT 1000)"
        by_voter = one(
            f"SELECT count(*) FROM {sample} a SEMI JOIN raw_voters v ON a.u = CAST(v.voter_id AS VARCHAR)"
        )
        by_household = one(
            f"SELECT count(*) FROM {sample} a SEMI JOIN raw_voters v ON a.u = CAST(v.household_id AS VARCHAR)"
        )
        if not by_voter and by_household:
            level = "household"
    blocks, clusters = design.get("blocks"), design.get("clusters")

    def col_or(name: Any, fallback: str, kind: str = "VARCHAR") -> str:
        if isinstance(name, str) and name in a_cols:
            return f"CAST({ident(name)} AS {kind})"
        if fallback in a_cols:
            return f"CAST({ident(fallback)} AS {kind})"
        return f"CAST(NULL AS {kind})"

    q(
        f"CREATE TEMP VIEW AR AS SELECT CAST({ident(unit_col)} AS VARCHAR) AS unit_id, {arm_expr} AS arm, "
        f"{col_or(None, 'probability', 'DOUBLE')} AS probability, {col_or(blocks, 'block')} AS block, "
        f"{col_or(clusters, 'cluster')} AS cluster, {col_or(None, 'excluded_reason')} AS excluded_reason, "
        "_row FROM raw_assignment"
    )
    status_expr = (
        "lower(CAST(registration_status AS VARCHAR))"
        if "registration_status" in v_cols
        else "CAST(NULL AS VARCHAR)"
    )
    precinct_expr = (
        "CAST(precinct_id AS VARCHAR)" if "precinct_id" in v_cols else "CAST(NULL AS VARCHAR)"
    )
    covariates = [
        c
        for c in v_cols
        if c not in CORE_VOTER_COLUMNS
        and c not in PII_COLUMNS
        and not looks_personal(c)  # any spelling: GivenName, HomePhone, Mail_Addr1...
        and not c.startswith("_")
    ]
    q(
        "CREATE TEMP VIEW VR AS SELECT CAST(voter_id AS VARCHAR) AS voter_id, "
        f"CAST(household_id AS VARCHAR) AS household_id, {precinct_expr} AS precinct_id, "
        f"{status_expr} AS registration_status{''.join(f', {ident(c)}' for c in covariates)}, _row FROM raw_voters"
    )

    return Plan(
        design=design,
        recorded_hash=recorded_hash,
        level=level,
        covariates=covariates,
        has_contacts=contacts is not None,
    )
