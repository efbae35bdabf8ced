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
from contextlib import suppress
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
    FileFormatError,
    ReconciliationError,
    SpecificationError,
    did_you_mean,
    format_rows,
)
from fieldexp.io.personal import looks_personal
from fieldexp.io.schema import PII_COLUMNS

__all__ = ["build_analysis_table", "ids_sha256", "propensity_band"]

Source = pd.DataFrame | str | Path

CORE_VOTER_COLUMNS = ("voter_id", "household_id", "precinct_id", "registration_status")
REMOVED = "removed"
#: Earlier elections that can become ``voted_<election_id>`` covariates (bits of a 64-bit mask).
MAX_PAST_ELECTIONS = 61
#: Vote-propensity bands from the share of earlier elections voted in.
PROPENSITY_BANDS = ("never", "intermittent", "regular")


def propensity_band(past_votes: np.ndarray, past_elections: int) -> np.ndarray:
    """``never`` (0 earlier votes), ``intermittent`` (< half), ``regular`` (>= half).

    .. math:: \\text{band} = \\begin{cases} \\text{never} & v = 0 \\\\
              \\text{intermittent} & 0 < v/k < 1/2 \\\\ \\text{regular} & v/k \\ge 1/2 \\end{cases}

    with :math:`v` the earlier elections voted in out of :math:`k`.
    """
    v = np.asarray(past_votes, dtype=float)
    out = np.where(
        v == 0, "never", np.where(v / max(past_elections, 1) < 0.5, "intermittent", "regular")
    )
    result = out.astype(object)
    result[np.isnan(v)] = None
    return result


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
                # number rows in file order: materialise once with insertion order kept
                self.con.execute("SET preserve_insertion_order = true")
                try:
                    self.con.execute(
                        f"CREATE TEMP TABLE {view} AS SELECT *, row_number() OVER () - 1 AS _row "
                        f"FROM read_csv({_quote(str(p))}, header = true)"
                    )
                except duckdb.Error as exc:
                    raise FileFormatError(
                        f"{name}: {p.name!r} cannot be read as CSV: {exc}"
                    ) from None
                finally:
                    self.con.execute("SET preserve_insertion_order = false")
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
                SpinnerColumn(),
                TextColumn("{task.description}"),
                TimeElapsedColumn(),
                transient=True,
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
        One row per assigned voter, in voter-file order (then assigned units missing
        from the voter file, in assignment order): ``voter_id,
        household_id, precinct_id, arm, assigned, probability, block, cluster,
        attempted, contacted, n_attempts, voted, outcome_status, registered,
        registration_status``,
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

    def firsts(table: str, positions: Sequence[Any] | None) -> tuple[object, ...]:
        return inputs.rows(table, sorted(int(p) for p in (positions or []))[:5])

    def entry(table: str, reason: str, n: int, first: Sequence[Any] | None = None) -> None:
        if n:
            status = USED if reason.startswith("used") else SET_ASIDE
            rows = firsts(table, first) if status == SET_ASIDE else ()
            entries.append(ReconciliationEntry(table, status, reason, int(n), rows))

    # ------------------------------------------------------------------ inputs
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
    inputs.require("vote_history", ["voter_id", "election_id", "election_date", "voted"])
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
            return f"CAST({_ident(name)} AS {kind})"
        if fallback in a_cols:
            return f"CAST({_ident(fallback)} AS {kind})"
        return f"CAST(NULL AS {kind})"

    q(
        f"CREATE TEMP VIEW AR AS SELECT CAST({_ident(unit_col)} AS VARCHAR) AS unit_id, {arm_expr} AS arm, "
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
        f"{status_expr} AS registration_status{''.join(f', {_ident(c)}' for c in covariates)}, _row FROM raw_voters"
    )

    # ------------------------------------------------------------------ voters
    step("voters")
    # One aggregation per id over voters (src 0) and, for voter-level designs, the
    # assignment (src 1): duplicates, conflicts and the voter/assignment match at once.
    # Duplicate rows of one voter are merged: first row position, smallest non-missing
    # value per column (deterministic).
    cov_min = "".join(f", min({_ident(c)}) AS {_ident(c)}" for c in covariates)
    cov_null = "".join(f", NULL AS {_ident(c)}" for c in covariates)
    cov_pass = "".join(f", {_ident(c)}" for c in covariates)
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
    v_sel = "".join(f", v.{_ident(c)}" for c in covariates)
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

    # -------------------------------------------------------------- assignment
    step("assignment")
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
        _verify_hash(con, recorded_hash, level)
    arms = [
        r[0]
        for r in q("SELECT DISTINCT arm FROM AAGG WHERE arm IS NOT NULL ORDER BY arm").fetchall()
    ]
    control_label = _control_label(control, design, arms)
    assigned_sql = (
        "CAST(NULL AS TINYINT)"
        if control_label is None
        else f"CAST(CASE WHEN a.arm IS NULL THEN NULL WHEN a.arm = {_quote(control_label)} THEN 0 ELSE 1 END AS TINYINT)"
    )
    v_covs = "".join(f", v.{_ident(c)}" for c in covariates)
    status_sql = "CASE WHEN a.unit_id IS NULL THEN 'unassigned' WHEN a.arm IS NULL THEN 'excluded' ELSE 'assigned' END"
    if level == "voter":
        status_u = "CASE WHEN a.na = 0 THEN 'unassigned' WHEN a.arm IS NULL THEN 'excluded' ELSE 'assigned' END"
        q(
            "CREATE TEMP VIEW VA AS SELECT a.id AS voter_id, a.household_id, a.precinct_id, "
            f"a.registration_status{''.join(f', a.{_ident(c)}' for c in covariates)}, a.nv > 0 AS in_voters, a.vrow, a.nv, "
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

    # ---------------------------------------------------------------- history
    step("vote history")
    q(
        "CREATE TEMP TABLE E AS SELECT CAST(election_id AS VARCHAR) AS election_id, "
        "min(CAST(election_date AS DATE)) AS election_date FROM raw_vote_history GROUP BY 1"
    )
    elections = q(
        "SELECT election_id, election_date FROM E ORDER BY election_date, election_id"
    ).fetchall()
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
    cap_note = None
    if len(past) > MAX_PAST_ELECTIONS:
        if past_elections is not None:
            raise SpecificationError(
                f"past_elections: at most {MAX_PAST_ELECTIONS} earlier elections can become "
                f"covariates; {len(past)} requested"
            )
        cap_note = (
            f"only the {MAX_PAST_ELECTIONS} most recent of {len(past)} earlier elections are "
            "past-vote covariates (the others are set aside)"
        )
        past = past[-MAX_PAST_ELECTIONS:]
    # election index: 0 = target, 1..k = past covariates, 100 = later, 101 = not used
    cases = [f"WHEN {_quote(target)} THEN 0"] + [
        f"WHEN {_quote(e)} THEN {i + 1}" for i, e in enumerate(past)
    ]
    q(
        "CREATE TEMP TABLE EX AS SELECT election_id, CAST(CASE election_id "
        + " ".join(cases)
        + f" ELSE CASE WHEN election_date > DATE {_quote(e_date.date().isoformat())} THEN 100 ELSE 101 END END "
        "AS UTINYINT) AS ex FROM E"
    )
    k = len(past)
    ex_codes = dict(q("SELECT election_id, ex FROM EX").fetchall())
    # Per voter, bit i of pmask says "a row for election i" (0 = target, 1..k = past,
    # 62 = later, 63 = other) and bit i of vmask "a counted ballot in election i".
    codes_sql = " ".join(
        f"WHEN {_quote(e)} THEN {62 if x == 100 else 63 if x == 101 else x}"
        for e, x in ex_codes.items()
    )
    q(
        "CREATE TEMP TABLE PV AS SELECT voter_id, count(*) AS n_all, "
        f"count(*) FILTER (WHERE ex <= {k}) AS n_rel, count(*) FILTER (WHERE ex = 62) AS n_later, "
        "bit_or(CAST(1 AS UBIGINT) << ex) AS pmask, "
        "bit_or(CASE WHEN voted = 1 THEN CAST(1 AS UBIGINT) << ex ELSE CAST(0 AS UBIGINT) END) AS vmask, "
        "min(_row) AS min_row, min(_row) FILTER (WHERE ex = 62) AS min_later, "
        "min(_row) FILTER (WHERE ex = 63) AS min_other FROM "
        f"(SELECT CAST(voter_id AS VARCHAR) AS voter_id, CAST(CASE CAST(election_id AS VARCHAR) {codes_sql} END "
        "AS UTINYINT) AS ex, CAST(voted AS TINYINT) AS voted, _row FROM raw_vote_history) GROUP BY voter_id"
    )
    rel_mask = (1 << (k + 1)) - 1
    past_mask = rel_mask - 1
    rows = q(
        f"""
        SELECT coalesce(s.status, 'missing') AS status, sum(p.n_all), min(p.min_row, 5),
               sum(p.n_later), min(p.min_later, 5), sum(p.n_all - p.n_rel - p.n_later), min(p.min_other, 5),
               sum(p.pmask & 1), sum(bit_count(p.pmask & CAST({past_mask} AS UBIGINT))),
               sum(p.n_rel - bit_count(p.pmask & CAST({rel_mask} AS UBIGINT)))
        FROM PV p LEFT JOIN (SELECT voter_id, status FROM VA WHERE voter_id IS NOT NULL) s
          ON p.voter_id = s.voter_id
        GROUP BY 1
        """
    ).fetchall()
    n_hist = 0
    later_n = other_n = used0 = usedp = dup_n = 0
    later_first: list[int] = []
    other_first: list[int] = []
    for status, n_all, first, n_later, f_later, n_other, f_other, u0, up, dups in rows:
        n_hist += int(n_all or 0)
        if status == "missing":
            entry("vote_history", "voter id not in the voter file", int(n_all), first)
        elif status == "unassigned":
            entry("vote_history", "voter not in the experiment (not assigned)", int(n_all), first)
        elif status == "excluded":
            entry("vote_history", "voter excluded by the design", int(n_all), first)
        else:
            later_n += int(n_later or 0)
            later_first += [int(x) for x in (f_later or [])]
            other_n += int(n_other or 0)
            other_first += [int(x) for x in (f_other or [])]
            used0 += int(u0 or 0)
            usedp += int(up or 0)
            dup_n += int(dups or 0)
    entry("vote_history", "election after the target election", later_n, later_first)
    entry(
        "vote_history",
        "earlier election not used as a covariate, or another election on the target day",
        other_n,
        other_first,
    )
    if dup_n:
        first = [
            r[0]
            for r in q(
                "SELECT _row FROM (SELECT h._row, row_number() OVER (PARTITION BY h.voter_id, h.election_id "
                "ORDER BY h.voted DESC, h._row) AS rn FROM (SELECT CAST(voter_id AS VARCHAR) AS voter_id, "
                "CAST(election_id AS VARCHAR) AS election_id, voted, _row FROM raw_vote_history) h "
                "SEMI JOIN (SELECT voter_id FROM PV WHERE n_rel > bit_count(pmask & "
                f"CAST({rel_mask} AS UBIGINT))) d ON h.voter_id = d.voter_id JOIN EX x ON h.election_id = x.election_id "
                "JOIN VA s ON h.voter_id = s.voter_id WHERE x.ex <= 99 AND s.status = 'assigned') "
                "WHERE rn > 1 ORDER BY _row LIMIT 5"
            ).fetchall()
        ]
        entry("vote_history", "duplicate voter-election row (a counted ballot kept)", dup_n, first)
    entry("vote_history", "used; outcome (target election)", used0)
    entry("vote_history", "used; past-vote covariate", usedp)

    # ---------------------------------------------------------------- contacts
    step("contacts")
    n_contacts = 0
    start, end_excl, start_label, end_label = _parse_window(campaign_window, e_date)
    if contacts is not None:
        c_cols = inputs.columns["contacts"]
        level_expr = "lower(CAST(unit_level AS VARCHAR))" if "unit_level" in c_cols else "'voter'"
        ts_expr = (
            "CAST(timestamp AS TIMESTAMP)" if "timestamp" in c_cols else "CAST(NULL AS TIMESTAMP)"
        )
        extra_keys = [c for c in ("channel", "result", "canvasser") if c in c_cols]
        key_sql = "".join(f", CAST({_ident(c)} AS VARCHAR)" for c in extra_keys)
        # exact duplicate rows collapse into one group (n > 1)
        q(
            f"CREATE TEMP TABLE CG AS SELECT CAST(unit_id AS VARCHAR) AS unit_id, {level_expr} AS unit_level, "
            f"{ts_expr} AS ts{key_sql}, max(CAST(attempted AS TINYINT)) AS attempted, "
            "max(CAST(contacted AS TINYINT)) AS contacted, count(*) AS n, min(_row) AS crow, "
            f"max(_row) AS last_row FROM raw_contacts GROUP BY ALL"
        )
        n_contacts = int(one("SELECT coalesce(sum(n), 0) FROM CG") or 0)
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
                _ident(c)
                for c in ("unit_id", "unit_level", "timestamp", *extra_keys)
                if c in c_cols
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
    else:
        q(
            "CREATE TEMP TABLE CV (voter_id VARCHAR, attempted TINYINT, contacted TINYINT, n_attempts BIGINT)"
        )

    # ------------------------------------------------------------ final table
    step("joining")
    for name in ("CR", "CG", "HH"):
        q(f"DROP TABLE IF EXISTS {name}")
    safe_names = _covariate_names(past, covariates)
    status_ok = f"(t.in_voters AND coalesce(t.registration_status, '') <> '{REMOVED}')"

    def present(i: int) -> str:
        return f"((p.pmask >> {i}) & 1) = 1"

    def voted(i: int) -> str:
        return f"CAST((p.vmask >> {i}) & 1 AS TINYINT)"

    past_cols = "".join(
        f", CAST(CASE WHEN {present(i + 1)} THEN {voted(i + 1)} WHEN t.in_voters THEN 0 ELSE NULL END AS TINYINT) "
        f"AS {_ident(name)}"
        for i, name in enumerate(safe_names)
    )
    past_sum = f"coalesce(bit_count(p.vmask & CAST({past_mask} AS UBIGINT)), 0)"
    band = (
        "CAST(NULL AS VARCHAR)"
        if k == 0
        else f"CASE WHEN NOT t.in_voters AND p.voter_id IS NULL THEN NULL WHEN ({past_sum}) = 0 THEN 'never' "
        f"WHEN 2 * ({past_sum}) < {k} THEN 'intermittent' ELSE 'regular' END"
    )
    cov_out = "".join(f", t.{_ident(c)}" for c in covariates)
    relation = con.sql(
        f"""
        SELECT t.ord AS _ord, t.voter_id, t.household_id, t.precinct_id, t.arm, t.assigned, t.probability, t.block, t.cluster,
          CAST(coalesce(c.attempted, 0) AS TINYINT) AS attempted,
          CAST(coalesce(c.contacted, 0) AS TINYINT) AS contacted,
          CAST(coalesce(c.n_attempts, 0) AS INTEGER) AS n_attempts,
          CAST(CASE WHEN {present(0)} THEN {voted(0)} WHEN {status_ok} THEN 0 ELSE NULL END AS TINYINT) AS voted,
          CASE WHEN {present(0)} THEN 'history' WHEN {status_ok} THEN 'no_history_row'
               WHEN NOT t.in_voters THEN 'not_in_voter_file' ELSE 'removed' END AS outcome_status,
          CAST(CASE WHEN {status_ok} THEN 1 ELSE 0 END AS TINYINT) AS registered,
          t.registration_status{cov_out}{past_cols},
          CAST(CASE WHEN NOT t.in_voters AND p.voter_id IS NULL THEN NULL ELSE {past_sum} END AS SMALLINT) AS past_votes,
          CAST({k} AS SMALLINT) AS past_elections, {band} AS propensity_band
        FROM VA t LEFT JOIN CV c ON t.voter_id = c.voter_id LEFT JOIN PV p ON t.voter_id = p.voter_id
        WHERE t.status = 'assigned' AND t.voter_id IS NOT NULL
        """
    ).to_arrow_table()
    # free DuckDB's working tables before the Arrow result is reordered and converted
    for kind, name in (("VIEW", "VA"), ("VIEW", "VAGG"), ("VIEW", "AAGG"), ("TABLE", "AAGG")):
        with suppress(duckdb.Error):
            q(f"DROP {kind} IF EXISTS {name}")
    for name in ("U", "PV", "CV", "E", "EX"):
        q(f"DROP TABLE IF EXISTS {name}")
    step("to pandas")
    # sample flow and missing outcomes, from the Arrow result (multi-threaded, order-free)
    flow_rows = (
        relation.group_by("arm")
        .aggregate(
            [
                ("voter_id", "count"),
                ("attempted", "sum"),
                ("contacted", "sum"),
                ("voted", "count"),
            ]
        )
        .to_pylist()
    )
    import pyarrow.compute as pc

    missing_rows = (
        relation.filter(pc.is_null(relation["voted"]))
        .group_by(["arm", "outcome_status"])
        .aggregate([("voter_id", "count")])
        .to_pylist()
    )
    table = _to_pandas(relation)
    del relation
    for m in sorted(missing_rows, key=lambda r: (str(r["arm"]), str(r["outcome_status"]))):
        entries.append(
            ReconciliationEntry(
                "analysis",
                OUTCOME_MISSING,
                str(m["outcome_status"]),
                int(m["voter_id_count"]),
                (),
                str(m["arm"]),
            )
        )
    table.attrs = {
        "fieldexp_election": target,
        "fieldexp_control": control_label,
        "fieldexp_unit_level": level,
        "fieldexp_past_elections": list(past),
    }
    notes = [cap_note] if cap_note else []
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
        flow=tuple(
            FlowRow(
                str(r["arm"]),
                int(r["voter_id_count"]),
                int(r["attempted_sum"] or 0),
                int(r["contacted_sum"] or 0),
                int(r["voted_count"]),
            )
            for r in sorted(flow_rows, key=lambda r: str(r["arm"]))
        ),
        imports=tuple(inputs.imports),
        election=target,
        campaign_window=(start_label, end_label),
        notes=tuple(notes),
    )
    rec.check()
    step("done")
    return table, rec


def _to_pandas(table: Any) -> pd.DataFrame:
    """Arrow -> pandas without Python string objects (pandas' default ``str`` dtype)."""
    import pyarrow as pa

    text = pd.StringDtype("pyarrow", na_value=np.nan)
    mapping = {pa.string(): text, pa.large_string(): text, pa.string_view(): text}
    if "_ord" in table.column_names:
        # deterministic row order (voter-file order) without a sort of the wide rows;
        # column by column (two at a time), so few columns are ever held twice
        from concurrent.futures import ThreadPoolExecutor

        import pyarrow.compute as pc

        order = pc.sort_indices(table["_ord"])
        names = [n for n in table.column_names if n != "_ord"]
        columns = [table[n] for n in names]
        del table
        with ThreadPoolExecutor(max_workers=2) as pool:  # Arrow releases the GIL
            columns = list(pool.map(lambda col: col.take(order), columns))
        table = pa.table(columns, names=names)
        del columns
    df = table.to_pandas(types_mapper=mapping.get)
    for col in df.columns:
        if (
            str(df[col].dtype) in ("int8", "float64") and col in ("assigned", "voted")
        ) or col.startswith("voted_"):
            df[col] = df[col].astype("Int8")
    return df


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
        [r[0] for r in con.execute(f"SELECT DISTINCT {col} FROM VAGG").fetchall()], dtype="object"
    )
    unit_ids = pd.Series(
        [r[0] for r in con.execute("SELECT DISTINCT unit_id FROM AAGG").fetchall()], dtype="object"
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
    if (
        as_int.notna().all()
        and len(ids)
        and (as_int.astype("int64").astype("str") == ids.astype("str")).all()
    ):
        out.append(design_hash(as_int.astype("int64")))
    return out
