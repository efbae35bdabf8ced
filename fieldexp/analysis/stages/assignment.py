"""Stage 3: the assignment (``AAGG``) checked and joined to the voters (``VA``, ``HH``).

A unit in two arms or with a missing id stops the build, as does an ids hash recorded by
``Design.assign`` that matches neither the voter file nor the assignment's own units. The
control arm is the one passed, the design's, or ``0``/``control``. ``VA`` has one row per voter
(or per voter-level unit missing from the voter file) with its ``status`` (assigned, excluded,
unassigned), arm and 0/1 ``assigned``; ``HH`` flags households split across precincts.
Voter and assignment rows are entered in the reconciliation here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import duckdb
import pandas as pd

from fieldexp.analysis.stages.context import Build, ident, quote
from fieldexp.analysis.stages.inputs import Plan
from fieldexp.analysis.stages.voters import VoterCounts
from fieldexp.errors import ReconciliationError, SpecificationError, did_you_mean, format_rows

__all__ = ["Assigned", "control_label", "merge_assignment"]


@dataclass(frozen=True, slots=True)
class Assigned:
    rows: int  # assignment rows read
    arms: list[str]
    control_label: str | None
    n_split: int  # analysed voters in households split across precincts


def merge_assignment(
    b: Build, plan: Plan, voters: VoterCounts, *, control: Any, verify_ids_hash: bool
) -> Assigned:
    """Create ``AAGG``, ``VA`` and ``HH``; enter the voter and assignment rows."""
    q, one, entry, inputs, con = b.q, b.one, b.entry, b.inputs, b.con
    level, covariates, design = plan.level, plan.covariates, plan.design
    recorded_hash, n_vdup = plan.recorded_hash, voters.duplicates
    if level == "voter":
        q(
            "CREATE TEMP VIEW AAGG AS SELECT id AS unit_id, na, arow, arm_conflict, arm, probability, block, "
            "cluster, excluded_reason FROM U WHERE na > 0"
        )
    else:
        q(
            "CREATE TEMP TABLE AAGG AS SELECT unit_id, count(*) AS na, min(_row) AS arow, "
            "(min(arm) <> max(arm)) OR (count(arm) > 0 AND count(arm) < count(*)) AS arm_conflict, "
            "min(arm) AS arm, min(probability) AS probability, min(block) AS block, "
            "min(cluster) AS cluster, min(excluded_reason) AS excluded_reason FROM AR GROUP BY unit_id"
        )
    n_assign, n_conflict, n_adup, n_missing_unit = q(
        "SELECT sum(na), count(*) FILTER (WHERE arm_conflict), sum(na - 1), "
        "coalesce(sum(na) FILTER (WHERE unit_id IS NULL), 0) FROM AAGG"
    ).fetchone() or (0, 0, 0, 0)
    n_assign = int(n_assign or 0)
    if n_missing_unit:
        first = [
            r[0]
            for r in q("SELECT _row FROM AR WHERE unit_id IS NULL ORDER BY _row LIMIT 5").fetchall()
        ]
        raise ReconciliationError(
            "assignment: the unit id must not be missing; missing in "
            f"{format_rows(inputs.rows('assignment', first), total=int(n_missing_unit))}"
        )
    if n_conflict:
        first = [
            r[0]
            for r in q(
                "SELECT _row FROM AR SEMI JOIN (SELECT unit_id FROM AAGG WHERE arm_conflict) d USING (unit_id) "
                "ORDER BY _row LIMIT 5"
            ).fetchall()
        ]
        raise ReconciliationError(
            f"assignment: each unit must be assigned to one arm; {n_conflict} unit id(s) appear "
            f"in different arms (or both assigned and excluded), in {format_rows(inputs.rows('assignment', first))}"
        )
    if recorded_hash and verify_ids_hash:
        verify_hash(con, recorded_hash, level)
    arms = [
        r[0]
        for r in q("SELECT DISTINCT arm FROM AAGG WHERE arm IS NOT NULL ORDER BY arm").fetchall()
    ]
    label = control_label(control, design, arms)
    assigned_sql = (
        "CAST(NULL AS TINYINT)"
        if label is None
        else f"CAST(CASE WHEN a.arm IS NULL THEN NULL WHEN a.arm = {quote(label)} THEN 0 ELSE 1 END AS TINYINT)"
    )
    v_covs = "".join(f", v.{ident(c)}" for c in covariates)
    status_sql = "CASE WHEN a.unit_id IS NULL THEN 'unassigned' WHEN a.arm IS NULL THEN 'excluded' ELSE 'assigned' END"
    if level == "voter":
        status_u = "CASE WHEN a.na = 0 THEN 'unassigned' WHEN a.arm IS NULL THEN 'excluded' ELSE 'assigned' END"
        q(
            "CREATE TEMP VIEW VA AS SELECT a.id AS voter_id, a.household_id, a.precinct_id, "
            f"a.registration_status{''.join(f', a.{ident(c)}' for c in covariates)}, a.nv > 0 AS in_voters, a.vrow, a.nv, "
            "coalesce(a.vrow, (CAST(1 AS BIGINT) << 48) + a.arow) AS ord, "
            f"{status_u} AS status, a.arm, {assigned_sql} AS assigned, a.probability, a.block, a.cluster "
            "FROM U a"
        )
    else:
        q(
            "CREATE TEMP TABLE VA AS SELECT v.voter_id, v.household_id, v.precinct_id, v.registration_status"
            f"{v_covs}, TRUE AS in_voters, v.vrow, v.nv, v.vrow AS ord, {status_sql} AS status, a.arm, {assigned_sql} AS assigned, "
            "a.probability, a.block, coalesce(a.cluster, a.unit_id) AS cluster "
            "FROM VAGG v LEFT JOIN AAGG a ON v.household_id = a.unit_id"
        )
    q(
        "CREATE TEMP TABLE HH AS SELECT household_id, min(precinct_id) <> max(precinct_id) AS split, "
        "max(assigned) FILTER (WHERE status = 'assigned') AS any_treated, "
        "count(*) FILTER (WHERE status = 'assigned') AS n_assigned FROM VA WHERE in_voters GROUP BY household_id"
    )
    # voters: every row is a duplicate, or the first row of a voter with a status
    if n_vdup:
        first = [
            r[0]
            for r in q(
                "SELECT r._row FROM VR r SEMI JOIN (SELECT voter_id FROM VAGG WHERE nv > 1) d USING (voter_id) "
                "ANTI JOIN VAGG f ON r._row = f.vrow ORDER BY r._row LIMIT 5"
            ).fetchall()
        ]
        entry("voters", "duplicate voter id (same household; first row kept)", int(n_vdup), first)
    n_split = int(one("SELECT coalesce(sum(n_assigned), 0) FROM HH WHERE split") or 0)
    for status, n, first in q(
        "SELECT status, count(*), min(vrow, 5) FROM VA WHERE in_voters GROUP BY status ORDER BY status"
    ).fetchall():
        if status == "assigned":
            entry("voters", "used", int(n) - n_split)
            entry("voters", "used; household split across precincts", n_split)
        elif status == "excluded":
            entry("voters", "excluded by the design", int(n), first)
        else:
            entry("voters", "not in the assignment (outside the experiment)", int(n), first)
    # assignment
    if n_adup:
        first = [
            r[0]
            for r in q(
                "SELECT r._row FROM AR r SEMI JOIN (SELECT unit_id FROM AAGG WHERE na > 1) d USING (unit_id) "
                "ANTI JOIN AAGG f ON r._row = f.arow ORDER BY r._row LIMIT 5"
            ).fetchall()
        ]
        entry("assignment", "duplicate unit row (same arm; first row kept)", int(n_adup), first)
    found_key = "voter_id" if level == "voter" else "household_id"
    for reason, n, first in q(
        f"""
        SELECT CASE WHEN a.arm IS NULL THEN 'excluded by the design' || coalesce(': ' || a.excluded_reason, '')
                    WHEN f.k IS NULL THEN {
            "'used; unit not in the voter file (outcome missing)'"
            if level == "voter"
            else "'household not in the voter file (no voters to analyse)'"
        }
                    ELSE 'used' END AS reason, count(*), min(a.arow, 5)
        FROM AAGG a LEFT JOIN (SELECT {found_key} AS k FROM VAGG {
            "" if level == "voter" else "GROUP BY 1"
        }) f
          ON a.unit_id = f.k
        GROUP BY 1 ORDER BY 1
        """
    ).fetchall():
        entry("assignment", reason, int(n), first)
    # the raw voter and assignment rows are not read again (U, VA, AAGG hold what is needed)
    inputs.release("voters")
    inputs.release("assignment")
    return Assigned(rows=n_assign, arms=arms, control_label=label, n_split=n_split)


def control_label(control: Any, design: dict[str, Any], arms: list[str]) -> str | None:
    """The control arm: ``control`` if given, else the design's, else ``0``/``control``."""
    if control is not None:
        label = str(control)
        if label not in arms:
            raise SpecificationError(
                f"control: {control!r} is not one of the arms {arms}." + did_you_mean(label, arms)
            )
        return label
    if "control" in design and str(design["control"]) in arms:
        return str(design["control"])
    for cand in ("0", "control", "Control", "False", "false"):
        if cand in arms:
            return cand
    return None


def verify_hash(con: duckdb.DuckDBPyConnection, recorded: str, level: str) -> None:
    col = "voter_id" if level == "voter" else "household_id"
    voter_ids = pd.Series(
        [r[0] for r in con.execute(f"SELECT DISTINCT {col} FROM VAGG").fetchall()], dtype="object"
    )
    unit_ids = pd.Series(
        [r[0] for r in con.execute("SELECT DISTINCT unit_id FROM AAGG").fetchall()], dtype="object"
    )
    for ids in (voter_ids, unit_ids):
        for variant in hash_variants(ids):
            if variant == recorded:
                if ids is voter_ids:
                    missing = len(set(voter_ids) - set(unit_ids))
                    extra = len(set(unit_ids) - set(voter_ids))
                    if missing or extra:
                        raise ReconciliationError(
                            "assignment: Design.assign drew it on exactly this voter file, but "
                            f"{missing} of its units are now missing and {extra} were added: "
                            "rows were removed from or added to the assignment after it was drawn. "
                            "Pass verify_ids_hash=False to override."
                        )
                if ids is unit_ids:
                    # the assignment is intact but was drawn on another voter file
                    raise ReconciliationError(
                        "assignment: its recorded ids hash matches its own units but not the "
                        f"{col}s of this voter file ({len(voter_ids)} ids vs {len(unit_ids)} "
                        "assigned): the assignment was drawn from a different voter file. Pass the "
                        "voter file it was drawn from, or verify_ids_hash=False to override."
                    )
                return
    raise ReconciliationError(
        "assignment: the ids hash recorded by Design.assign (attrs 'fieldexp_ids_sha256') matches "
        f"neither the {col}s of the voter file nor the assignment's own units: the assignment file "
        "was edited or belongs to another voter file. Pass verify_ids_hash=False to override."
    )


def hash_variants(ids: pd.Series) -> list[str]:
    from fieldexp.design.assign import ids_sha256 as design_hash

    out = [design_hash(ids.astype("str"))]
    as_int = pd.to_numeric(ids, errors="coerce")
    if (
        as_int.notna().all()
        and len(ids)
        and (as_int.astype("int64").astype("str") == ids.astype("str")).all()
    ):
        out.append(design_hash(as_int.astype("int64")))
    return out
