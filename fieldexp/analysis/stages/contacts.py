"""Stage 5: every contact row classified (``CR``), the used ones summed per voter (``CV``).

Exact duplicate rows collapse into one; then each row is used or set aside for the first
reason that applies (missing or unknown unit, unit not in the voter file, excluded or not
assigned, no timestamp when a campaign window is given, before or after the window, logged
for a held-out unit when ``control_contacts="drop"``). Household-level contacts count for
every assigned voter of the household.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from fieldexp.analysis.stages.context import Build, ident, quote
from fieldexp.errors import SpecificationError

__all__ = ["Contacts", "classify_contacts", "parse_window"]


@dataclass(frozen=True, slots=True)
class Contacts:
    rows: int  # contact rows read (0 without a contact log)
    window: tuple[str | None, str]  # campaign window labels (start, end), inclusive


def parse_window(
    window: Any, election_date: pd.Timestamp
) -> tuple[pd.Timestamp | None, pd.Timestamp, str | None, str]:
    """(start, end exclusive, start label, end label); default: up to election day."""
    if window is None:
        end = election_date.normalize() + pd.Timedelta(days=1)
        return None, end, None, election_date.date().isoformat()
    if not isinstance(window, (tuple, list)) or len(window) != 2:
        raise SpecificationError(
            "campaign_window must be a (start, end) pair of dates (either may be None); "
            f"got {window!r}"
        )
    parsed: list[Any] = []
    for w in window:
        if w is None:
            parsed.append(None)
            continue
        try:
            parsed.append(pd.Timestamp(w))
        except (ValueError, TypeError):
            raise SpecificationError(f"campaign_window: {w!r} is not a date") from None
    start, end = parsed
    if end is None:
        end_excl = election_date.normalize() + pd.Timedelta(days=1)
        end_label = election_date.date().isoformat()
    else:
        is_day = end == end.normalize()
        end_excl = end + pd.Timedelta(days=1) if is_day else end
        end_label = end.isoformat() if not is_day else end.date().isoformat()
    if start is not None and start >= end_excl:
        raise SpecificationError(f"campaign_window: start {window[0]!r} is after end {window[1]!r}")
    start_label = (
        None
        if start is None
        else (start.date().isoformat() if start == start.normalize() else start.isoformat())
    )
    return start, end_excl, start_label, end_label


def classify_contacts(
    b: Build,
    *,
    has_contacts: bool,
    campaign_window: Any,
    election_date: pd.Timestamp,
    control_contacts: str,
) -> Contacts:
    """Create ``CR`` and ``CV`` (an empty ``CV`` without a contact log); enter every row."""
    q, one, entry, inputs = b.q, b.one, b.entry, b.inputs
    e_date = election_date
    n_contacts = 0
    start, end_excl, start_label, end_label = parse_window(campaign_window, e_date)
    if has_contacts:
        inputs.ensure("contacts")
        c_cols = inputs.columns["contacts"]
        level_expr = "lower(CAST(unit_level AS VARCHAR))" if "unit_level" in c_cols else "'voter'"
        ts_expr = (
            "CAST(timestamp AS TIMESTAMP)" if "timestamp" in c_cols else "CAST(NULL AS TIMESTAMP)"
        )
        extra_keys = [c for c in ("channel", "result", "canvasser") if c in c_cols]
        key_sql = "".join(f", CAST({ident(c)} AS VARCHAR)" for c in extra_keys)
        # exact duplicate rows collapse into one group (n > 1)
        q(
            f"CREATE TEMP TABLE CG AS SELECT CAST(unit_id AS VARCHAR) AS unit_id, {level_expr} AS unit_level, "
            f"{ts_expr} AS ts{key_sql}, max(CAST(attempted AS TINYINT)) AS attempted, "
            "max(CAST(contacted AS TINYINT)) AS contacted, count(*) AS n, min(_row) AS crow, "
            f"max(_row) AS last_row FROM raw_contacts GROUP BY ALL"
        )
        n_contacts = int(one("SELECT coalesce(sum(n), 0) FROM CG") or 0)
        start_sql = "NULL" if start is None else f"TIMESTAMP {quote(start.isoformat())}"
        end_sql = f"TIMESTAMP {quote(end_excl.isoformat())}"
        no_ts = (
            "'no timestamp (cannot be placed in the campaign window)'"
            if campaign_window is not None
            else "NULL"
        )
        control_reason = (
            "'used; contact logged for a held-out (control) unit'"
            if control_contacts == "keep"
            else "'contact logged for a held-out (control) unit'"
        )
        after = "'after election day'" if campaign_window is None else "'after the campaign window'"
        q(
            f"""
            CREATE TEMP TABLE CR AS SELECT c.unit_id, c.unit_level, c.attempted, c.contacted, c.n, c.crow,
              c.last_row, CASE
              WHEN c.unit_id IS NULL THEN 'missing unit id'
              WHEN c.unit_level NOT IN ('voter', 'household') THEN 'unknown unit level'
              WHEN c.unit_level = 'voter' AND (v.voter_id IS NULL OR NOT v.in_voters) THEN 'voter id not in the voter file'
              WHEN c.unit_level = 'household' AND h.household_id IS NULL THEN 'household id not in the voter file'
              WHEN c.unit_level = 'voter' AND v.status = 'excluded' THEN 'voter excluded by the design'
              WHEN c.unit_level = 'voter' AND v.status <> 'assigned' THEN 'voter not in the experiment (not assigned)'
              WHEN c.unit_level = 'household' AND h.n_assigned = 0 THEN 'household not in the experiment (not assigned)'
              WHEN c.ts IS NULL AND {no_ts} IS NOT NULL THEN {no_ts}
              WHEN c.ts IS NOT NULL AND {start_sql} IS NOT NULL AND c.ts < {start_sql} THEN 'before the campaign window'
              WHEN c.ts IS NOT NULL AND c.ts >= {end_sql} THEN {after}
              WHEN (c.unit_level = 'voter' AND v.assigned = 0) OR (c.unit_level = 'household' AND h.any_treated = 0)
                   THEN {control_reason}
              ELSE 'used' END AS reason
            FROM CG c
            LEFT JOIN VA v ON c.unit_level = 'voter' AND c.unit_id = v.voter_id
            LEFT JOIN HH h ON c.unit_level = 'household' AND c.unit_id = h.household_id
            """
        )
        dups = int(one("SELECT coalesce(sum(n - 1), 0) FROM CR") or 0)
        if dups:
            part = ", ".join(
                ident(c) for c in ("unit_id", "unit_level", "timestamp", *extra_keys) if c in c_cols
            )
            first = [
                r[0]
                for r in q(
                    f"SELECT _row FROM (SELECT _row, row_number() OVER (PARTITION BY {part} "
                    "ORDER BY _row) AS rn FROM raw_contacts) WHERE rn > 1 ORDER BY _row LIMIT 5"
                ).fetchall()
            ]
            entry("contacts", "duplicate contact row", dups, first)
        for reason, n, first in q(
            "SELECT reason, count(*), min(crow, 5) FROM CR GROUP BY reason ORDER BY 2 DESC, 1"
        ).fetchall():
            entry("contacts", reason, int(n), first)
        q(
            "CREATE TEMP TABLE CV AS SELECT voter_id, max(attempted) AS attempted, max(contacted) AS contacted, "
            "sum(attempted * n_attempt) AS n_attempts FROM ("
            "SELECT unit_id AS voter_id, attempted, contacted, 1 AS n_attempt FROM CR "
            "WHERE reason LIKE 'used%' AND unit_level = 'voter' "
            "UNION ALL SELECT v.voter_id, c.attempted, c.contacted, 1 FROM CR c JOIN VA v "
            "ON c.unit_id = v.household_id WHERE c.reason LIKE 'used%' AND c.unit_level = 'household' "
            "AND v.status = 'assigned') GROUP BY voter_id"
        )
        inputs.release("contacts")  # CR and CV hold what the later stages need
    else:
        q(
            "CREATE TEMP TABLE CV (voter_id VARCHAR, attempted TINYINT, contacted TINYINT, n_attempts BIGINT)"
        )

    return Contacts(rows=n_contacts, window=(start_label, end_label))
