"""Canonical tables -> the unit-level analysis table, joined in DuckDB.

The joins run in an in-process DuckDB database, so inputs can be pandas DataFrames or
Parquet/CSV files larger than memory (DuckDB streams and spills to a temporary folder).
Every input row ends up in exactly one reconciliation category.

Outcome rule (``voted`` for the target election), in order:

1. the voter has a history row for the election: ``voted`` from it (duplicated
   voter-election rows: a counted ballot wins);
2. no row, the voter is in the voter file and not ``removed``: ``voted = 0`` (vote
   histories list ballots; a registered voter without one did not vote);
3. otherwise ``voted`` is missing, with ``outcome_status`` saying why
   (``not_in_voter_file`` or ``removed``), counted by arm in the reconciliation.

Past-vote covariates ``voted_<election_id>`` use the same rule for each earlier
election (missing only for voters absent from the voter file).
"""

from __future__ import annotations

import json
import re
import sys
import tempfile
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from fieldexp.analysis.reconciliation import (
    OUTCOME_MISSING,
    SET_ASIDE,
    USED,
    FlowRow,
    Reconciliation,
    ReconciliationEntry,
)
from fieldexp.errors import (
    ColumnNotFoundError,
    ReconciliationError,
    SpecificationError,
    did_you_mean,
    format_rows,
)
from fieldexp.io.schema import PII_COLUMNS

__all__ = ["build_analysis_table", "ids_sha256", "propensity_band"]

Source = pd.DataFrame | str | Path

CORE_VOTER_COLUMNS = ("voter_id", "household_id", "precinct_id", "registration_status")
REMOVED = "removed"
#: Vote-propensity bands from the share of earlier elections voted in.
PROPENSITY_BANDS = ("never", "intermittent", "regular")


def propensity_band(past_votes: np.ndarray, past_elections: int) -> np.ndarray:
    """``never`` (0 earlier votes), ``intermittent`` (< half), ``regular`` (>= half).

    .. math:: \\text{band} = \\begin{cases} \\text{never} & v = 0 \\\\
              \\text{intermittent} & 0 < v/k < 1/2 \\\\ \\text{regular} & v/k \\ge 1/2 \\end{cases}

    with :math:`v` the earlier elections voted in out of :math:`k`.
    """
    v = np.asarray(past_votes, dtype=float)
    out = np.where(v == 0, "never", np.where(v / max(past_elections, 1) < 0.5, "intermittent", "regular"))
    return np.where(np.isnan(v), None, out)


def ids_sha256(ids: Sequence[Any] | np.ndarray | pd.Series) -> str:
    """SHA-256 of the sorted unit ids, as ``Design.assign`` records it.

    Delegates to :func:`fieldexp.design.assign.ids_sha256` (integer ids are hashed as
    int64, others as text).
    """
    from fieldexp.design.assign import ids_sha256 as design_hash

    return design_hash(pd.Series(ids) if not isinstance(ids, pd.Series) else ids)


# --------------------------------------------------------------------------- inputs
class _Inputs:
    """Registers each input as a DuckDB relation with a ``_row`` position column."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con
        self.labels: dict[str, pd.Index | None] = {}
        self.columns: dict[str, list[str]] = {}
        self.imports: list[dict[str, object]] = []
        self._frames: list[pd.DataFrame] = []

    def add(self, name: str, obj: Source) -> None:
        view = f"raw_{name}"
        if isinstance(obj, pd.DataFrame):
            imp = obj.attrs.get("fieldexp_import")
            if isinstance(imp, dict):
                self.imports.append({"table": name, **imp})
            frame = obj.reset_index(drop=True)
            frame = frame.assign(_row=np.arange(len(frame), dtype=np.int64))
            self._frames.append(frame)
            self.con.register(view, frame)
            idx = obj.index
            trivial = isinstance(idx, pd.RangeIndex) and idx.start == 0 and idx.step == 1
            self.labels[name] = None if trivial else idx
        elif isinstance(obj, (str, Path)):
            p = Path(obj)
            if not p.exists():
                raise SpecificationError(f"{name}: file {str(p)!r} not found")
            suffix = p.suffix.lower()
            if suffix in (".parquet", ".pq") or p.is_dir():
                pattern = str(p / "*.parquet") if p.is_dir() else str(p)
                sql = (
                    f"CREATE VIEW {view} AS SELECT * EXCLUDE (file_row_number), "
                    f"file_row_number AS _row FROM read_parquet(?, file_row_number = true)"
                )
                self.con.execute(sql.replace("?", _quote(pattern)))
            elif suffix in (".csv", ".txt", ".tsv", ".gz"):
                self.con.execute(
                    f"CREATE VIEW {view} AS SELECT *, row_number() OVER () - 1 AS _row "
                    f"FROM read_csv({_quote(str(p))}, header = true)"
                )
            else:
                raise SpecificationError(
                    f"{name}: {p.name!r} must be a DataFrame, a Parquet file/folder or a CSV file"
                )
            self.labels[name] = None
        else:
            raise SpecificationError(
                f"{name}: expected a DataFrame or the path of a Parquet/CSV file; got "
                f"{type(obj).__name__}"
            )
        self.columns[name] = [
            r[0] for r in self.con.execute(f"DESCRIBE {view}").fetchall() if r[0] != "_row"
        ]

    def require(self, name: str, cols: Sequence[str]) -> None:
        have = self.columns[name]
        for c in cols:
            if c not in have:
                raise ColumnNotFoundError(
                    f"{name}: column {c!r} not found (columns: {have[:12]}).{did_you_mean(c, have)}"
                )

    def rows(self, name: str, positions: Sequence[int]) -> tuple[object, ...]:
        labels = self.labels.get(name)
        pos = [int(p) for p in positions]
        if labels is None:
            return tuple(pos)
        return tuple(labels[p].item() if hasattr(labels[p], "item") else labels[p] for p in pos)


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _parse_window(
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
    parsed: list[pd.Timestamp | None] = []
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
    start_label = None if start is None else (
        start.date().isoformat() if start == start.normalize() else start.isoformat()
    )
    return start, end_excl, start_label, end_label


def _design_info(assignment: Source) -> tuple[dict[str, Any], str | None]:
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


class _Progress:
    def __init__(self, enabled: bool, total: int) -> None:
        self.enabled = enabled
        self._bar: Any = None
        if enabled:
            from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

            self._bar = Progress(
                SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), transient=True
            )
            self._bar.start()
            self._task = self._bar.add_task("analysis table", total=total)

    def step(self, text: str) -> None:
        if self._bar is not None:
            self._bar.update(self._task, description=f"analysis table: {text}", advance=1)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()


# --------------------------------------------------------------------------- main
def build_analysis_table(
    voters: Source,
    assignment: Source,
    contacts: Source | None,
    vote_history: Source,
    *,
    election: str,
    campaign_window: tuple[Any, Any] | None = None,
    control: Any = None,
    control_contacts: str = "keep",
    past_elections: int | Sequence[str] | None = None,
    verify_ids_hash: bool = True,
    memory_limit: str | None = None,
    threads: int | None = None,
    progress: bool | None = None,
) -> tuple[pd.DataFrame, Reconciliation]:
    """Join assignment, voters, contacts and vote history into the unit-level table.

    Parameters
    ----------
    voters, assignment, contacts, vote_history
        Canonical tables (see ``docs/data.md``) as DataFrames, or paths of Parquet
        files (or folders of them) / CSV files with the canonical columns. The
        assignment is the output of ``Design.assign`` (unit column, ``arm``,
        ``probability``, block/cluster columns, ``attrs`` with the design and the ids
        hash) or a plain table with a unit id column (``voter_id``, ``household_id``
        or ``unit_id``), ``arm`` or ``assigned`` and optionally ``probability``.
        Household-level assignments are expanded to the household's voters.
        ``contacts`` may be None (no contact log: nobody attempted).
    election
        Target election id (e.g. ``"general_2020_11_03"``) or its date
        (``"2020-11-03"``) when one election has that date.
    campaign_window
        ``(start, end)`` dates, inclusive (a date-only end covers the whole day);
        either may be None. Default: everything up to the end of election day.
        Contacts outside are set aside.
    control
        The control arm label; default the design's control, else ``0``/``"0"`` or
        ``"control"`` when present.
    control_contacts
        ``"keep"`` (default: contacts logged for control units count toward their
        ``contacted``, i.e. two-sided noncompliance, and are reported) or ``"drop"``
        (set aside).
    past_elections
        Earlier elections turned into ``voted_<election_id>`` covariates: all (None),
        the most recent ``n``, or a list of election ids.
    verify_ids_hash
        Check the ids hash recorded by ``Design.assign`` against the voter file.
    memory_limit, threads
        DuckDB settings (e.g. ``"4GB"``); default DuckDB's own.
    progress
        Show a progress display (default: when stderr is a terminal).

    Returns
    -------
    table : DataFrame
        One row per assigned voter, sorted by ``voter_id``: ``voter_id,
        household_id, precinct_id, arm, assigned, probability, block, cluster,
        attempted, contacted, n_attempts, voted, outcome_status, registration_status``,
        voter covariates, ``voted_<election_id>`` for earlier elections, ``past_votes``,
        ``past_elections`` and ``propensity_band``.
    reconciliation : Reconciliation
        Rows read / used / set aside by reason for every input table.

    Raises
    ------
    ReconciliationError
        The same voter id with different households; the same unit assigned to two
        arms; an assignment whose recorded ids hash matches neither the voter file nor
        its own units.
    """
    if control_contacts not in ("keep", "drop"):
        raise SpecificationError(
            f"control_contacts must be 'keep' or 'drop', got {control_contacts!r}"
        )
    if not isinstance(election, str) or not election:
        raise SpecificationError(f"election must be an election id or date (str); got {election!r}")
    show = sys.stderr.isatty() if progress is None else bool(progress)
    bar = _Progress(show, total=7)
    tmp = tempfile.TemporaryDirectory(prefix="fieldexp-duckdb-")
    con = duckdb.connect(config={"temp_directory": tmp.name})
    try:
        if memory_limit is not None:
            con.execute(f"SET memory_limit = {_quote(memory_limit)}")
        if threads is not None:
            con.execute(f"SET threads = {int(threads)}")
        con.execute("SET preserve_insertion_order = false")
        return _build(
            con,
            voters,
            assignment,
            contacts,
            vote_history,
            election=election,
            campaign_window=campaign_window,
            control=control,
            control_contacts=control_contacts,
            past_elections=past_elections,
            verify_ids_hash=verify_ids_hash,
            step=bar.step,
        )
    finally:
        bar.close()
        con.close()
        tmp.cleanup()


def _build(
    con: duckdb.DuckDBPyConnection,
    voters: Source,
    assignment: Source,
    contacts: Source | None,
    vote_history: Source,
    *,
    election: str,
    campaign_window: Any,
    control: Any,
    control_contacts: str,
    past_elections: int | Sequence[str] | None,
    verify_ids_hash: bool,
    step: Callable[[str], None],
) -> tuple[pd.DataFrame, Reconciliation]:
    q = con.execute
    entries: list[ReconciliationEntry] = []
    inputs = _Inputs(con)

    def one(sql: str) -> Any:
        row = q(sql).fetchone()
        return None if row is None else row[0]

    def add_entries(table: str, sql: str) -> None:
        """``sql`` returns (status, reason, rows, first positions list)."""
        for status, reason, n, first in q(sql).fetchall():
            if n:
                firsts = inputs.rows(table, sorted(first or [])[:5]) if status == SET_ASIDE else ()
                entries.append(ReconciliationEntry(table, status, reason, int(n), firsts))

    # ------------------------------------------------------------ assignment (prepare)
    step("reading inputs")
    design, recorded_hash = _design_info(assignment)
    unit_col: str | None = None
    if isinstance(assignment, pd.DataFrame):
        unit_col = assignment.attrs.get("fieldexp_unit") or design.get("unit")
    inputs.add("voters", voters)
    inputs.add("assignment", assignment)
    if contacts is not None:
        inputs.add("contacts", contacts)
    inputs.add("vote_history", vote_history)
    inputs.require("voters", ["voter_id", "household_id"])
    a_cols = inputs.columns["assignment"]
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
    # unit level: voters, or households expanded to their voters
    v_cols = inputs.columns["voters"]
    level = "household" if unit_col == "household_id" or design.get("unit") == "household_id" else "voter"
    if unit_col == "unit_id":
        n_match = one(
            "SELECT count(*) FROM (SELECT CAST(unit_id AS VARCHAR) u FROM raw_assignment LIMIT 1000) a "
            "SEMI JOIN raw_voters v ON a.u = CAST(v.voter_id AS VARCHAR)"
        )
        if n_match == 0:
            n_hh = one(
                "SELECT count(*) FROM (SELECT CAST(unit_id AS VARCHAR) u FROM raw_assignment LIMIT 1000) a "
                "SEMI JOIN raw_voters v ON a.u = CAST(v.household_id AS VARCHAR)"
            )
            if n_hh:
                level = "household"
    blocks = design.get("blocks")
    clusters = design.get("clusters")
    block_expr = (
        f"CAST({_ident(blocks)} AS VARCHAR)" if isinstance(blocks, str) and blocks in a_cols
        else ("CAST(block AS VARCHAR)" if "block" in a_cols else "CAST(NULL AS VARCHAR)")
    )
    cluster_expr = (
        f"CAST({_ident(clusters)} AS VARCHAR)" if isinstance(clusters, str) and clusters in a_cols
        else ("CAST(cluster AS VARCHAR)" if "cluster" in a_cols else "CAST(NULL AS VARCHAR)")
    )
    prob_expr = "CAST(probability AS DOUBLE)" if "probability" in a_cols else "CAST(NULL AS DOUBLE)"
    excl_expr = (
        "CAST(excluded_reason AS VARCHAR)" if "excluded_reason" in a_cols else "CAST(NULL AS VARCHAR)"
    )
    q(
        f"CREATE TEMP VIEW A AS SELECT CAST({_ident(unit_col)} AS VARCHAR) AS unit_id, "
        f"{arm_expr} AS arm, {prob_expr} AS probability, {block_expr} AS block, "
        f"{cluster_expr} AS cluster, {excl_expr} AS excluded_reason, _row FROM raw_assignment"
    )

    # ------------------------------------------------------------------ voters
    step("voters")
    status_expr = (
        "lower(CAST(registration_status AS VARCHAR))"
        if "registration_status" in v_cols
        else "CAST(NULL AS VARCHAR)"
    )
    precinct_expr = "CAST(precinct_id AS VARCHAR)" if "precinct_id" in v_cols else "CAST(NULL AS VARCHAR)"
    covariates = [
        c for c in v_cols if c not in CORE_VOTER_COLUMNS and c not in PII_COLUMNS and not c.startswith("_")
    ]
    cov_sql = "".join(f", {_ident(c)}" for c in covariates)
    q(
        "CREATE TEMP VIEW V AS SELECT CAST(voter_id AS VARCHAR) AS voter_id, "
        f"CAST(household_id AS VARCHAR) AS household_id, {precinct_expr} AS precinct_id, "
        f"{status_expr} AS registration_status{cov_sql}, _row FROM raw_voters"
    )
    n_voters = int(one("SELECT count(*) FROM V"))
    n_missing_id = int(one("SELECT count(*) FROM V WHERE voter_id IS NULL"))
    if n_missing_id:
        first = [r[0] for r in q("SELECT _row FROM V WHERE voter_id IS NULL ORDER BY _row LIMIT 5").fetchall()]
        raise ReconciliationError(
            f"voters: voter_id must not be missing; missing in "
            f"{format_rows(inputs.rows('voters', first), total=n_missing_id)}"
        )
    q(
        "CREATE TEMP TABLE VDUP AS SELECT voter_id, count(*) AS n, "
        "count(DISTINCT household_id) AS nh FROM V GROUP BY voter_id HAVING count(*) > 1"
    )
    n_conflict = int(one("SELECT count(*) FROM VDUP WHERE nh > 1"))
    if n_conflict:
        first = [
            r[0]
            for r in q(
                "SELECT _row FROM V SEMI JOIN (SELECT voter_id FROM VDUP WHERE nh > 1) d USING (voter_id) "
                "ORDER BY _row LIMIT 5"
            ).fetchall()
        ]
        raise ReconciliationError(
            f"voters: the same voter id must belong to one household; {n_conflict} voter id(s) "
            f"appear with different household_id values, in {format_rows(inputs.rows('voters', first))}"
            " (and their other rows). Fix the voter file: fieldexp cannot tell which household is right."
        )
    has_vdup = int(one("SELECT count(*) FROM VDUP")) > 0
    if has_vdup:
        q(
            "CREATE TEMP TABLE VU AS SELECT * FROM V "
            "QUALIFY row_number() OVER (PARTITION BY voter_id ORDER BY _row) = 1"
        )
    else:
        q("CREATE TEMP TABLE VU AS SELECT * FROM V")

    # -------------------------------------------------------------- assignment
    step("assignment")
    n_assign = int(one("SELECT count(*) FROM A"))
    n_missing_unit = int(one("SELECT count(*) FROM A WHERE unit_id IS NULL"))
    if n_missing_unit:
        first = [r[0] for r in q("SELECT _row FROM A WHERE unit_id IS NULL ORDER BY _row LIMIT 5").fetchall()]
        raise ReconciliationError(
            f"assignment: the unit id must not be missing; missing in "
            f"{format_rows(inputs.rows('assignment', first), total=n_missing_unit)}"
        )
    q(
        "CREATE TEMP TABLE ADUP AS SELECT unit_id, count(*) AS n, count(DISTINCT arm) AS na "
        "FROM A GROUP BY unit_id HAVING count(*) > 1"
    )
    n_conflict = int(one("SELECT count(*) FROM ADUP WHERE na > 1"))
    if n_conflict:
        first = [
            r[0]
            for r in q(
                "SELECT _row FROM A SEMI JOIN (SELECT unit_id FROM ADUP WHERE na > 1) d USING (unit_id) "
                "ORDER BY _row LIMIT 5"
            ).fetchall()
        ]
        raise ReconciliationError(
            f"assignment: each unit must be assigned to one arm; {n_conflict} unit id(s) appear "
            f"in different arms, in {format_rows(inputs.rows('assignment', first))}"
        )
    q(
        "CREATE TEMP TABLE AU AS SELECT * FROM A "
        "QUALIFY row_number() OVER (PARTITION BY unit_id ORDER BY _row) = 1"
        if int(one("SELECT count(*) FROM ADUP"))
        else "CREATE TEMP TABLE AU AS SELECT * FROM A"
    )
    if recorded_hash and verify_ids_hash:
        _verify_hash(con, recorded_hash, level)

    arms = [r[0] for r in q("SELECT DISTINCT arm FROM AU WHERE arm IS NOT NULL ORDER BY arm").fetchall()]
    control_label = _control_label(control, design, arms)
    treated_expr = (
        "NULL" if control_label is None else f"CASE WHEN arm IS NULL THEN NULL WHEN arm = {_quote(control_label)} THEN 0 ELSE 1 END"
    )
    # T0: one row per assigned voter
    if level == "voter":
        q(
            "CREATE TEMP TABLE T0 AS SELECT a.unit_id AS voter_id, v.household_id, v.precinct_id, "
            f"a.arm, ({treated_expr.replace('arm', 'a.arm')}) AS assigned, a.probability, a.block, a.cluster, "
            f"v.registration_status, v.voter_id IS NOT NULL AS in_voter_file{''.join(f', v.{_ident(c)}' for c in covariates)} "
            "FROM AU a LEFT JOIN VU v ON a.unit_id = v.voter_id WHERE a.arm IS NOT NULL"
        )
    else:
        q(
            "CREATE TEMP TABLE T0 AS SELECT v.voter_id, a.unit_id AS household_id, v.precinct_id, "
            f"a.arm, ({treated_expr.replace('arm', 'a.arm')}) AS assigned, a.probability, a.block, "
            "coalesce(a.cluster, a.unit_id) AS cluster, "
            f"v.registration_status, TRUE AS in_voter_file{''.join(f', v.{_ident(c)}' for c in covariates)} "
            "FROM AU a JOIN VU v ON a.unit_id = v.household_id WHERE a.arm IS NOT NULL"
        )
    # voter status: assigned / excluded by design / not in the experiment
    if level == "voter":
        q(
            "CREATE TEMP TABLE VS AS SELECT voter_id, 'assigned' AS status FROM T0 UNION ALL "
            "SELECT v.voter_id, CASE WHEN a.unit_id IS NULL THEN 'unassigned' ELSE 'excluded' END "
            "FROM VU v LEFT JOIN AU a ON v.voter_id = a.unit_id "
            "WHERE a.unit_id IS NULL OR a.arm IS NULL"
        )
    else:
        q(
            "CREATE TEMP TABLE VS AS SELECT v.voter_id, CASE WHEN a.unit_id IS NULL THEN 'unassigned' "
            "WHEN a.arm IS NULL THEN 'excluded' ELSE 'assigned' END AS status "
            "FROM VU v LEFT JOIN AU a ON v.household_id = a.unit_id"
        )
    q(
        "CREATE TEMP TABLE SPLIT AS SELECT household_id FROM VU GROUP BY household_id "
        "HAVING count(DISTINCT precinct_id) > 1"
    )
    # voters reconciliation
    add_entries(
        "voters",
        f"""
        SELECT CASE WHEN r.reason LIKE 'used%' THEN '{USED}' ELSE '{SET_ASIDE}' END, r.reason,
               count(*), min(r._row, 5)
        FROM (
          SELECT v._row, CASE
            WHEN u._row IS NULL THEN 'duplicate voter id (same household; first row kept)'
            WHEN s.status = 'unassigned' THEN 'not in the assignment (outside the experiment)'
            WHEN s.status = 'excluded' THEN 'excluded by the design'
            WHEN sp.household_id IS NOT NULL THEN 'used; household split across precincts'
            ELSE 'used' END AS reason
          FROM V v LEFT JOIN (SELECT _row FROM VU) u ON v._row = u._row
          LEFT JOIN VS s ON v.voter_id = s.voter_id
          LEFT JOIN SPLIT sp ON v.household_id = sp.household_id
        ) r GROUP BY r.reason ORDER BY 1 DESC, 3 DESC
        """,
    )
    # assignment reconciliation
    if level == "voter":
        not_found = "'used; unit not in the voter file (outcome missing)'"
    else:
        not_found = "'household not in the voter file (no voters to analyse)'"
    add_entries(
        "assignment",
        f"""
        SELECT CASE WHEN r.reason LIKE 'used%' THEN '{USED}' ELSE '{SET_ASIDE}' END, r.reason,
               count(*), min(r._row, 5)
        FROM (
          SELECT a._row, CASE
            WHEN u._row IS NULL THEN 'duplicate unit row (same arm; first row kept)'
            WHEN a.arm IS NULL THEN 'excluded by the design' ||
                 coalesce(': ' || a.excluded_reason, '')
            WHEN f.hit IS NULL THEN {not_found}
            ELSE 'used' END AS reason
          FROM A a LEFT JOIN (SELECT _row FROM AU) u ON a._row = u._row
          LEFT JOIN (SELECT DISTINCT {'voter_id' if level == 'voter' else 'household_id'} AS k, TRUE AS hit FROM VU) f
            ON a.unit_id = f.k
        ) r GROUP BY r.reason ORDER BY 1 DESC, 3 DESC
        """,
    )
    if level == "voter":
        # split-household flag and assigned-unit counts need the voter-file rows only
        pass

    # ---------------------------------------------------------------- history
    step("vote history")
    inputs.require("vote_history", ["voter_id", "election_id", "election_date", "voted"])
    q(
        "CREATE TEMP TABLE E AS SELECT CAST(election_id AS VARCHAR) AS election_id, "
        "min(CAST(election_date AS DATE)) AS election_date, count(*) AS n FROM raw_vote_history "
        "GROUP BY 1 ORDER BY 2, 1"
    )
    elections = q("SELECT election_id, election_date FROM E ORDER BY election_date, election_id").fetchall()
    ids = [e[0] for e in elections]
    target = election
    if target not in ids:
        same_day = [e[0] for e in elections if str(e[1]) == election]
        if len(same_day) == 1:
            target = same_day[0]
        elif len(same_day) > 1:
            raise SpecificationError(
                f"election: {election!r} is the date of several elections {same_day}; name one"
            )
        else:
            raise SpecificationError(
                f"election: {election!r} is not in the vote history (elections: {ids[-8:]})."
                + did_you_mean(election, ids)
            )
    e_date = pd.Timestamp(dict(elections)[target])
    earlier = [e for e, d in elections if pd.Timestamp(d) < e_date]
    if past_elections is None:
        past = earlier
    elif isinstance(past_elections, int):
        past = earlier[-past_elections:] if past_elections > 0 else []
    else:
        unknown = [e for e in past_elections if e not in earlier]
        if unknown:
            raise SpecificationError(
                f"past_elections: {unknown[0]!r} is not an election before {target!r}."
                + did_you_mean(unknown[0], earlier)
            )
        past = [e for e in earlier if e in set(past_elections)]
    # election index: 0 = target, 1..k = past, -1 = later, -2 = unused earlier/same day
    cases = [f"WHEN {_quote(target)} THEN 0"] + [
        f"WHEN {_quote(e)} THEN {i + 1}" for i, e in enumerate(past)
    ]
    q(
        "CREATE TEMP TABLE EX AS SELECT election_id, CASE election_id "
        + " ".join(cases)
        + f" ELSE CASE WHEN election_date > DATE {_quote(e_date.date().isoformat())} THEN -1 ELSE -2 END END AS ex "
        "FROM E"
    )
    k = len(past)
    aggs = ["count(*) AS n_all", "min(h._row) AS min_row"]
    aggs += ["count(*) FILTER (WHERE x.ex = -1) AS n_later", "min(h._row) FILTER (WHERE x.ex = -1) AS min_later"]
    aggs += ["count(*) FILTER (WHERE x.ex = -2) AS n_other", "min(h._row) FILTER (WHERE x.ex = -2) AS min_other"]
    for i in range(k + 1):
        aggs.append(f"max(h.voted) FILTER (WHERE x.ex = {i}) AS v{i}")
        aggs.append(f"count(*) FILTER (WHERE x.ex = {i}) AS n{i}")
    q(
        "CREATE TEMP TABLE PV AS SELECT h.voter_id, " + ", ".join(aggs) + " FROM "
        "(SELECT CAST(voter_id AS VARCHAR) AS voter_id, CAST(election_id AS VARCHAR) AS election_id, "
        "CAST(voted AS TINYINT) AS voted, _row FROM raw_vote_history) h "
        "JOIN EX x ON h.election_id = x.election_id GROUP BY h.voter_id"
    )
    n_hist = int(one("SELECT coalesce(sum(n_all), 0) FROM PV"))
    dup_expr = " + ".join(f"greatest(p.n{i} - 1, 0)" for i in range(k + 1))
    used_past = " + ".join(f"least(p.n{i}, 1)" for i in range(1, k + 1)) or "0"
    rows = q(
        f"""
        SELECT coalesce(s.status, 'missing') AS status,
               sum(p.n_all), min(p.min_row, 5),
               sum(p.n_later), min(p.min_later, 5),
               sum(p.n_other), min(p.min_other, 5),
               sum(least(p.n0, 1)), sum({used_past}), sum({dup_expr})
        FROM PV p LEFT JOIN VS s ON p.voter_id = s.voter_id
        GROUP BY 1
        """
    ).fetchall()
    later_n = 0
    later_first: list[int] = []
    other_n = 0
    other_first: list[int] = []
    used0 = usedp = dup_n = 0
    for status, n_all, first, n_later, f_later, n_other, f_other, u0, up, dups in rows:
        if status == "missing":
            entries.append(ReconciliationEntry(
                "vote_history", SET_ASIDE, "voter id not in the voter file", int(n_all),
                inputs.rows("vote_history", sorted(first)[:5]),
            ))
        elif status in ("unassigned", "excluded"):
            reason = (
                "voter not in the experiment (not assigned)" if status == "unassigned"
                else "voter excluded by the design"
            )
            entries.append(ReconciliationEntry(
                "vote_history", SET_ASIDE, reason, int(n_all),
                inputs.rows("vote_history", sorted(first)[:5]),
            ))
        else:
            later_n += int(n_later or 0)
            later_first += [int(x) for x in (f_later or [])]
            other_n += int(n_other or 0)
            other_first += [int(x) for x in (f_other or [])]
            used0 += int(u0 or 0)
            usedp += int(up or 0)
            dup_n += int(dups or 0)
    if later_n:
        entries.append(ReconciliationEntry(
            "vote_history", SET_ASIDE, "election after the target election", later_n,
            inputs.rows("vote_history", sorted(later_first)[:5]),
        ))
    if other_n:
        entries.append(ReconciliationEntry(
            "vote_history", SET_ASIDE,
            "earlier election not used as a covariate, or another election on the target day",
            other_n, inputs.rows("vote_history", sorted(other_first)[:5]),
        ))
    if dup_n:
        first = [
            r[0]
            for r in q(
                "SELECT _row FROM (SELECT h._row, row_number() OVER (PARTITION BY h.voter_id, h.election_id "
                "ORDER BY h.voted DESC, h._row) AS rn FROM (SELECT CAST(voter_id AS VARCHAR) AS voter_id, "
                "CAST(election_id AS VARCHAR) AS election_id, voted, _row FROM raw_vote_history) h "
                "SEMI JOIN (SELECT voter_id FROM PV WHERE " + " OR ".join(f"n{i} > 1" for i in range(k + 1))
                + ") d ON h.voter_id = d.voter_id JOIN EX x ON h.election_id = x.election_id "
                "JOIN VS s ON h.voter_id = s.voter_id WHERE x.ex >= 0 AND s.status = 'assigned') "
                "WHERE rn > 1 ORDER BY _row LIMIT 5"
            ).fetchall()
        ]
        entries.append(ReconciliationEntry(
            "vote_history", SET_ASIDE, "duplicate voter-election row (a counted ballot kept)",
            dup_n, inputs.rows("vote_history", first),
        ))
    if used0:
        entries.append(ReconciliationEntry("vote_history", USED, "used; outcome (target election)", used0))
    if usedp:
        entries.append(ReconciliationEntry("vote_history", USED, "used; past-vote covariate", usedp))

    # ---------------------------------------------------------------- contacts
    step("contacts")
    n_contacts = 0
    start, end_excl, start_label, end_label = _parse_window(campaign_window, e_date)
    if contacts is not None:
        c_cols = inputs.columns["contacts"]
        inputs.require("contacts", ["unit_id", "attempted", "contacted"])
        level_expr = "lower(CAST(unit_level AS VARCHAR))" if "unit_level" in c_cols else "'voter'"
        ts_expr = "CAST(timestamp AS TIMESTAMP)" if "timestamp" in c_cols else "CAST(NULL AS TIMESTAMP)"
        dkeys = [c for c in ("unit_id", "unit_level", "timestamp", "channel", "result", "canvasser") if c in c_cols]
        dpart = ", ".join(_ident(c) for c in dkeys)
        q(
            f"CREATE TEMP TABLE C AS SELECT CAST(unit_id AS VARCHAR) AS unit_id, {level_expr} AS unit_level, "
            f"{ts_expr} AS ts, CAST(attempted AS TINYINT) AS attempted, CAST(contacted AS TINYINT) AS contacted, "
            f"_row, row_number() OVER (PARTITION BY {dpart} ORDER BY _row) AS rn FROM raw_contacts"
        )
        n_contacts = int(one("SELECT count(*) FROM C"))
        q(
            "CREATE TEMP TABLE HH AS SELECT household_id, max(assigned) AS any_treated, count(*) AS n "
            "FROM T0 GROUP BY household_id"
        )
        start_sql = "NULL" if start is None else f"TIMESTAMP {_quote(start.isoformat())}"
        end_sql = f"TIMESTAMP {_quote(end_excl.isoformat())}"
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
        q(
            f"""
            CREATE TEMP TABLE CR AS SELECT c.*, CASE
              WHEN c.rn > 1 THEN 'duplicate contact row'
              WHEN c.unit_id IS NULL THEN 'missing unit id'
              WHEN c.unit_level NOT IN ('voter', 'household') THEN 'unknown unit level'
              WHEN c.unit_level = 'voter' AND vs.voter_id IS NULL THEN 'voter id not in the voter file'
              WHEN c.unit_level = 'household' AND hf.household_id IS NULL THEN 'household id not in the voter file'
              WHEN c.unit_level = 'voter' AND vs.status = 'excluded' THEN 'voter excluded by the design'
              WHEN c.unit_level = 'voter' AND vs.status <> 'assigned' THEN 'voter not in the experiment (not assigned)'
              WHEN c.unit_level = 'household' AND hh.household_id IS NULL THEN 'household not in the experiment (not assigned)'
              WHEN c.ts IS NULL AND {no_ts} IS NOT NULL THEN {no_ts}
              WHEN c.ts IS NOT NULL AND {start_sql} IS NOT NULL AND c.ts < {start_sql} THEN 'before the campaign window'
              WHEN c.ts IS NOT NULL AND c.ts >= {end_sql} THEN
                   {"'after election day'" if campaign_window is None else "'after the campaign window'"}
              WHEN (c.unit_level = 'voter' AND t.assigned = 0) OR (c.unit_level = 'household' AND hh.any_treated = 0)
                   THEN {control_reason}
              ELSE 'used' END AS reason
            FROM C c
            LEFT JOIN VS vs ON c.unit_level = 'voter' AND c.unit_id = vs.voter_id
            LEFT JOIN T0 t ON c.unit_level = 'voter' AND c.unit_id = t.voter_id
            LEFT JOIN (SELECT DISTINCT household_id FROM VU) hf ON c.unit_level = 'household' AND c.unit_id = hf.household_id
            LEFT JOIN HH hh ON c.unit_level = 'household' AND c.unit_id = hh.household_id
            """
        )
        add_entries(
            "contacts",
            f"SELECT CASE WHEN reason LIKE 'used%' THEN '{USED}' ELSE '{SET_ASIDE}' END, reason, "
            "count(*), min(_row, 5) FROM CR GROUP BY reason ORDER BY 1 DESC, 3 DESC",
        )
        q(
            "CREATE TEMP TABLE CV AS SELECT voter_id, max(attempted) AS attempted, max(contacted) AS contacted, "
            "sum(attempted) AS n_attempts FROM ("
            "SELECT unit_id AS voter_id, attempted, contacted FROM CR WHERE reason LIKE 'used%' AND unit_level = 'voter' "
            "UNION ALL SELECT t.voter_id, c.attempted, c.contacted FROM CR c JOIN T0 t ON c.unit_id = t.household_id "
            "WHERE c.reason LIKE 'used%' AND c.unit_level = 'household') GROUP BY voter_id"
        )
    else:
        q("CREATE TEMP TABLE CV (voter_id VARCHAR, attempted TINYINT, contacted TINYINT, n_attempts BIGINT)")

    # ------------------------------------------------------------ final table
    step("joining")
    safe_names = _covariate_names(past, covariates)
    status_ok = f"(t.in_voter_file AND coalesce(t.registration_status, '') <> '{REMOVED}')"
    past_cols = "".join(
        f", CASE WHEN p.n{i + 1} > 0 THEN p.v{i + 1} WHEN t.in_voter_file THEN 0 ELSE NULL END::TINYINT "
        f"AS {_ident(name)}"
        for i, name in enumerate(safe_names)
    )
    past_sum = " + ".join(f"coalesce({_ident(n)}, 0)" for n in safe_names) or "0"
    cov_out = "".join(f", t.{_ident(c)}" for c in covariates)
    q(
        f"""
        CREATE TEMP TABLE OUT AS SELECT t.voter_id, t.household_id, t.precinct_id, t.arm,
          CAST(t.assigned AS TINYINT) AS assigned, t.probability, t.block, t.cluster,
          CAST(coalesce(c.attempted, 0) AS TINYINT) AS attempted,
          CAST(coalesce(c.contacted, 0) AS TINYINT) AS contacted,
          CAST(coalesce(c.n_attempts, 0) AS INTEGER) AS n_attempts,
          CAST(CASE WHEN p.n0 > 0 THEN p.v0 WHEN {status_ok} THEN 0 ELSE NULL END AS TINYINT) AS voted,
          CASE WHEN p.n0 > 0 THEN 'history' WHEN {status_ok} THEN 'no_history_row'
               WHEN NOT t.in_voter_file THEN 'not_in_voter_file' ELSE 'removed' END AS outcome_status,
          t.registration_status{cov_out}{past_cols}
        FROM T0 t LEFT JOIN CV c ON t.voter_id = c.voter_id LEFT JOIN PV p ON t.voter_id = p.voter_id
        """
    )
    flow = q(
        "SELECT arm, count(*), sum(attempted), sum(contacted), count(voted) FROM OUT GROUP BY arm ORDER BY arm"
    ).fetchall()
    for arm, reason, n in q(
        "SELECT arm, outcome_status, count(*) FROM OUT WHERE voted IS NULL GROUP BY ALL ORDER BY 1, 2"
    ).fetchall():
        entries.append(ReconciliationEntry("analysis", OUTCOME_MISSING, reason, int(n), (), str(arm)))
    n_split = int(one("SELECT count(*) FROM OUT o SEMI JOIN SPLIT s ON o.household_id = s.household_id"))
    step("to pandas")
    extra = (
        f", CAST({past_sum} AS SMALLINT) AS past_votes, CAST({k} AS SMALLINT) AS past_elections"
    )
    table = q(f"SELECT *{extra} FROM OUT ORDER BY voter_id").df()
    if k:
        table["propensity_band"] = pd.Series(
            propensity_band(table["past_votes"].to_numpy(), k), index=table.index, dtype="str"
        )
    else:
        table["propensity_band"] = pd.Series(None, index=table.index, dtype="str")
    for col in ("assigned", "voted", *safe_names):
        table[col] = table[col].astype("Int8")
    table.attrs = {
        "fieldexp_election": target,
        "fieldexp_control": control_label,
        "fieldexp_unit_level": level,
        "fieldexp_past_elections": list(past),
    }
    notes = []
    if n_split:
        notes.append(f"{n_split} analysed voters live in households split across precincts")
    if control_label is None:
        notes.append(
            f"no control arm identified among {arms}; 'assigned' is missing (pass control=)"
        )
    rows_read = [("voters", n_voters), ("assignment", n_assign)]
    if contacts is not None:
        rows_read.append(("contacts", n_contacts))
    rows_read.append(("vote_history", n_hist))
    rec = Reconciliation(
        rows_read=tuple(rows_read),
        entries=tuple(entries),
        flow=tuple(FlowRow(str(a), int(n), int(at or 0), int(co or 0), int(ob)) for a, n, at, co, ob in flow),
        imports=tuple(inputs.imports),
        election=target,
        campaign_window=(start_label, end_label),
        notes=tuple(notes),
    )
    rec.check()
    step("done")
    return table, rec


def _covariate_names(past: Sequence[str], covariates: Sequence[str]) -> list[str]:
    names = []
    for e in past:
        name = "voted_" + re.sub(r"[^0-9A-Za-z_]+", "_", e)
        while name in covariates or name in names:
            name += "_"
        names.append(name)
    return names


def _control_label(control: Any, design: dict[str, Any], arms: list[str]) -> str | None:
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


def _verify_hash(con: duckdb.DuckDBPyConnection, recorded: str, level: str) -> None:
    col = "voter_id" if level == "voter" else "household_id"
    voter_ids = pd.Series(
        [r[0] for r in con.execute(f"SELECT DISTINCT {col} FROM VU").fetchall()], dtype="object"
    )
    unit_ids = pd.Series(
        [r[0] for r in con.execute("SELECT DISTINCT unit_id FROM AU").fetchall()], dtype="object"
    )
    for ids in (voter_ids, unit_ids):
        for variant in _hash_variants(ids):
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


def _hash_variants(ids: pd.Series) -> list[str]:
    from fieldexp.design.assign import ids_sha256 as design_hash

    out = [design_hash(ids.astype("str"))]
    as_int = pd.to_numeric(ids, errors="coerce")
    if as_int.notna().all() and len(ids) and (as_int.astype("int64").astype("str") == ids.astype("str")).all():
        out.append(design_hash(as_int.astype("int64")))
    return out


_ = nullcontext  # keep import for typing contexts
