"""Stage 2: one row per voter id (``U``, ``VAGG``), merged with a voter-level assignment.

One aggregation per id over voters (and, for voter-level designs, the assignment) finds
duplicates, household conflicts and the voter/assignment match at once. Duplicate rows of
one voter are merged: first row position, smallest non-missing value per column
(deterministic). A voter id with two households or a missing voter id stops the build.
"""

from __future__ import annotations

from dataclasses import dataclass

from fieldexp.analysis.stages.context import Build, ident
from fieldexp.analysis.stages.inputs import Plan
from fieldexp.errors import ReconciliationError, format_rows

__all__ = ["VoterCounts", "merge_voters"]


@dataclass(frozen=True, slots=True)
class VoterCounts:
    rows: int  # voter-file rows read
    duplicates: int  # rows beyond the first of a voter id


def merge_voters(b: Build, plan: Plan) -> VoterCounts:
    """Create ``U`` (ids of voters and voter-level units) and the view ``VAGG`` (voters)."""
    q, inputs = b.q, b.inputs
    covariates, level = plan.covariates, plan.level
    # One aggregation per id over voters (src 0) and, for voter-level designs, the
    # assignment (src 1): duplicates, conflicts and the voter/assignment match at once.
    # Duplicate rows of one voter are merged: first row position, smallest non-missing
    # value per column (deterministic).
    cov_min = "".join(f", min({ident(c)}) AS {ident(c)}" for c in covariates)
    cov_null = "".join(f", NULL AS {ident(c)}" for c in covariates)
    cov_pass = "".join(f", {ident(c)}" for c in covariates)
    voter_part = (
        "SELECT voter_id AS id, CAST(0 AS UTINYINT) AS src, household_id, precinct_id, registration_status"
        f"{cov_pass}, CAST(NULL AS VARCHAR) AS arm, CAST(NULL AS DOUBLE) AS probability, "
        "CAST(NULL AS VARCHAR) AS block, CAST(NULL AS VARCHAR) AS cluster, CAST(NULL AS VARCHAR) AS excluded_reason, "
        "_row FROM VR"
    )
    assign_part = (
        "SELECT unit_id, CAST(1 AS UTINYINT), NULL, NULL, NULL"
        f"{cov_null}, arm, probability, block, cluster, excluded_reason, _row FROM AR"
    )
    union = voter_part + (" UNION ALL " + assign_part if level == "voter" else "")
    # Fast path (the usual case): try a plain full join; if an id is repeated or missing
    # on either side, the join repeats or leaves out ids, which one distinct count sees,
    # and the aggregation below takes over.
    v_sel = "".join(f", v.{ident(c)}" for c in covariates)
    if level == "voter":
        q(
            "CREATE TEMP TABLE U AS SELECT coalesce(v.voter_id, a.unit_id) AS id, "
            "CAST(v._row IS NOT NULL AS BIGINT) AS nv, v._row AS vrow, "
            "CAST(a._row IS NOT NULL AS BIGINT) AS na, a._row AS arow, FALSE AS hh_conflict, "
            f"v.household_id, v.precinct_id, v.registration_status{v_sel}, FALSE AS arm_conflict, a.arm, "
            "a.probability, a.block, a.cluster, a.excluded_reason "
            "FROM VR v FULL OUTER JOIN AR a ON v.voter_id = a.unit_id"
        )
    else:
        q(
            "CREATE TEMP TABLE U AS SELECT v.voter_id AS id, CAST(1 AS BIGINT) AS nv, v._row AS vrow, "
            "CAST(0 AS BIGINT) AS na, CAST(NULL AS BIGINT) AS arow, FALSE AS hh_conflict, v.household_id, "
            f"v.precinct_id, v.registration_status{v_sel}, FALSE AS arm_conflict, CAST(NULL AS VARCHAR) AS arm, "
            "CAST(NULL AS DOUBLE) AS probability, CAST(NULL AS VARCHAR) AS block, "
            "CAST(NULL AS VARCHAR) AS cluster, CAST(NULL AS VARCHAR) AS excluded_reason FROM VR v"
        )
    u_rows, u_ids, u_distinct = q(
        "SELECT count(*), count(id), count(DISTINCT id) FROM U"
    ).fetchone() or (0, 0, 0)
    clean = u_rows == u_ids == u_distinct
    if not clean:
        q("DROP TABLE U")
        q(
            "CREATE TEMP TABLE U AS SELECT id, count(*) FILTER (WHERE src = 0) AS nv, "
            "min(_row) FILTER (WHERE src = 0) AS vrow, count(*) FILTER (WHERE src = 1) AS na, "
            "min(_row) FILTER (WHERE src = 1) AS arow, min(household_id) <> max(household_id) AS hh_conflict, "
            "min(household_id) AS household_id, min(precinct_id) AS precinct_id, "
            f"min(registration_status) AS registration_status{cov_min}, "
            "(min(arm) <> max(arm)) OR (count(arm) > 0 AND count(arm) < count(*) FILTER (WHERE src = 1)) "
            "AS arm_conflict, min(arm) AS arm, min(probability) AS probability, min(block) AS block, "
            f"min(cluster) AS cluster, min(excluded_reason) AS excluded_reason FROM ({union}) GROUP BY id"
        )
    q(
        "CREATE TEMP VIEW VAGG AS SELECT id AS voter_id, nv, vrow, hh_conflict, household_id, precinct_id, "
        f"registration_status{cov_pass} FROM U WHERE nv > 0"
    )
    n_voters, n_conflict, n_vdup, n_missing_id = q(
        "SELECT sum(nv), count(*) FILTER (WHERE hh_conflict), sum(nv - 1), "
        "coalesce(sum(nv) FILTER (WHERE voter_id IS NULL), 0) FROM VAGG"
    ).fetchone() or (0, 0, 0, 0)
    n_voters = int(n_voters or 0)
    if n_missing_id:
        first = [
            r[0]
            for r in q(
                "SELECT _row FROM VR WHERE voter_id IS NULL ORDER BY _row LIMIT 5"
            ).fetchall()
        ]
        raise ReconciliationError(
            "voters: voter_id must not be missing; missing in "
            f"{format_rows(inputs.rows('voters', first), total=int(n_missing_id))}"
        )
    if n_conflict:
        first = [
            r[0]
            for r in q(
                "SELECT _row FROM VR SEMI JOIN (SELECT voter_id FROM VAGG WHERE hh_conflict) d USING (voter_id) "
                "ORDER BY _row LIMIT 5"
            ).fetchall()
        ]
        raise ReconciliationError(
            f"voters: the same voter id must belong to one household; {n_conflict} voter id(s) "
            f"appear with different household_id values, in {format_rows(inputs.rows('voters', first))}"
            " (and their other rows). Fix the voter file: fieldexp cannot tell which household is right."
        )

    return VoterCounts(rows=n_voters, duplicates=int(n_vdup or 0))
