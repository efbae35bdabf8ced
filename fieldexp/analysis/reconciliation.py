"""The reconciliation report: every input row is used or set aside, with a reason.

Rows are identified by their **row label** (the input DataFrame's index label, which
is the file line number for tables read by :mod:`fieldexp.io`, or the 0-based row
position for Parquet/CSV paths), never by a voter id, name or address, so the report
can be shared.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import pandas as pd

from fieldexp.errors import ReconciliationError, format_rows
from fieldexp.results import Result

__all__ = ["CodeCountRow", "FlowRow", "Reconciliation", "ReconciliationEntry"]

USED = "used"
SET_ASIDE = "set aside"
OUTCOME_MISSING = "outcome missing"
INPUT_TABLES = ("voters", "assignment", "contacts", "vote_history")


@dataclass(frozen=True, slots=True)
class ReconciliationEntry:
    """``rows`` rows of ``table`` were ``status`` (used / set aside) for ``reason``."""

    table: str
    status: str
    reason: str
    rows: int
    first_rows: tuple[object, ...] = ()
    arm: str | None = None


@dataclass(frozen=True, slots=True)
class FlowRow:
    """Sample flow of one arm: assigned -> attempted -> contacted -> outcome observed."""

    arm: str
    assigned: int
    attempted: int
    contacted: int
    outcome_observed: int


@dataclass(frozen=True, slots=True)
class CodeCountRow:
    """Rows of one imported file per code (result, voting method, status...).

    ``known`` is False for codes the mapping tables lacked (they got the layout's
    default meaning). Unknown codes seen on fewer than ``min_rows`` rows are pooled in
    one row labelled ``(other unknown codes)``: a mis-mapped column must not put
    personal values into a report.
    """

    table: str
    file: str
    kind: str
    code: str
    rows: int
    known: bool


@dataclass(frozen=True, slots=True)
class Reconciliation(Result):
    """Counts of rows read, used and set aside by reason, for every input table.

    Attributes
    ----------
    rows_read : tuple of (table, rows)
        Rows read per input table (``voters``, ``assignment``, ``contacts``,
        ``vote_history``; ``precinct_results`` for the precinct table).
    entries : tuple of ReconciliationEntry
        For each input table, the rows used and set aside by reason; they add up to
        the rows read (:meth:`check`). Entries of table ``"analysis"`` describe the
        output (assigned units whose outcome is missing, by arm and reason).
    flow : tuple of FlowRow
        Assigned, attempted, contacted and outcome-observed units per arm.
    imports : tuple of dict
        What the importers recorded (file name, layout, rows read, set aside at import).
    election, campaign_window
        The target election and the contact window applied (ISO dates, open ends None).
    """

    rows_read: tuple[tuple[str, int], ...]
    entries: tuple[ReconciliationEntry, ...]
    flow: tuple[FlowRow, ...] = ()
    imports: tuple[dict[str, object], ...] = ()
    election: str = ""
    campaign_window: tuple[str | None, str | None] = (None, None)
    notes: tuple[str, ...] = field(default_factory=tuple)

    _table_in_text: ClassVar[bool] = False  # the lines list every count

    # ----------------------------------------------------------------- queries
    def read(self, table: str) -> int:
        """Rows read from ``table``."""
        return dict(self.rows_read).get(table, 0)

    def _sum(self, table: str, status: str) -> int:
        return sum(e.rows for e in self.entries if e.table == table and e.status == status)

    def used(self, table: str) -> int:
        """Rows of ``table`` used."""
        return self._sum(table, USED)

    def set_aside(self, table: str, reason: str | None = None) -> int:
        """Rows of ``table`` set aside (for ``reason``, or for any reason)."""
        return sum(
            e.rows
            for e in self.entries
            if e.table == table and e.status == SET_ASIDE and (reason is None or e.reason == reason)
        )

    def count(self, table: str, reason: str) -> int:
        """Rows of ``table`` counted under ``reason`` (used or set aside)."""
        return sum(e.rows for e in self.entries if e.table == table and e.reason == reason)

    def check(self) -> None:
        """Raise :class:`ReconciliationError` unless used + set aside = read, per table."""
        for table, n in self.rows_read:
            accounted = self.used(table) + self.set_aside(table)
            if accounted != n:
                raise ReconciliationError(
                    f"reconciliation: {table}: {n} rows read but {accounted} accounted for "
                    f"({self.used(table)} used, {self.set_aside(table)} set aside)"
                )

    def code_counts(self, min_rows: int = 1) -> tuple[CodeCountRow, ...]:
        """Rows per code of every imported file, unknown codes included (issue 10).

        Unknown codes on fewer than ``min_rows`` rows are pooled as ``(other unknown
        codes)``.
        """
        out: list[CodeCountRow] = []
        for imp in self.imports:
            codes = imp.get("codes") or {}
            unknown = imp.get("unknown_codes") or {}
            if not isinstance(codes, dict):
                continue
            table, file = str(imp.get("table", "")), str(imp.get("file", ""))
            for kind, counts in codes.items():
                unk = dict(unknown.get(kind) or {}) if isinstance(unknown, dict) else {}
                pooled = 0
                for code, n in dict(counts).items():
                    known = code not in unk
                    if not known and int(n) < min_rows:
                        pooled += int(n)
                        continue
                    out.append(CodeCountRow(table, file, str(kind), str(code), int(n), known))
                if pooled:
                    out.append(
                        CodeCountRow(table, file, str(kind), "(other unknown codes)", pooled, False)
                    )
        return tuple(out)

    def codes_frame(self, min_rows: int = 1) -> pd.DataFrame:
        """:meth:`code_counts` as a DataFrame."""
        cols = ["table", "file", "kind", "code", "rows", "known"]
        return pd.DataFrame(
            [{c: getattr(r, c) for c in cols} for r in self.code_counts(min_rows)], columns=cols
        )

    # ------------------------------------------------------------------- views
    def to_frame(self) -> pd.DataFrame:
        """One row per (table, status, reason[, arm]) with counts and first row labels."""
        rows = [
            {
                "table": e.table,
                "status": e.status,
                "reason": e.reason,
                "arm": e.arm,
                "rows": e.rows,
                "first_rows": ", ".join(map(str, e.first_rows)),
            }
            for e in self.entries
        ]
        return pd.DataFrame(
            rows, columns=["table", "status", "reason", "arm", "rows", "first_rows"]
        )

    def flow_frame(self) -> pd.DataFrame:
        """The sample flow by arm as a DataFrame."""
        return pd.DataFrame(
            [
                {
                    "arm": f.arm,
                    "assigned": f.assigned,
                    "attempted": f.attempted,
                    "contacted": f.contacted,
                    "outcome_observed": f.outcome_observed,
                }
                for f in self.flow
            ],
            columns=["arm", "assigned", "attempted", "contacted", "outcome_observed"],
        )

    def _title(self) -> str:
        return f"Reconciliation for election {self.election!r}"

    def _lines(self) -> list[str]:
        lo, hi = self.campaign_window
        lines = []
        lines.append(f"campaign window: {lo or '-inf'} .. {hi or '+inf'}")
        for table, n in self.rows_read:
            lines.append(
                f"{table}: {n:,} rows read, {self.used(table):,} used, "
                f"{self.set_aside(table):,} set aside"
            )
            for e in self.entries:
                if e.table != table:
                    continue
                where = (
                    f"  [{format_rows(e.first_rows, total=e.rows)}]"
                    if e.first_rows and e.status == SET_ASIDE
                    else ""
                )
                lines.append(f"  {e.status:<9} {e.rows:>10,}  {e.reason}{where}")
        missing = [e for e in self.entries if e.table == "analysis"]
        if missing:
            lines.append("analysis table:")
            for e in missing:
                lines.append(f"  arm {e.arm}: {e.rows:,} {e.status} ({e.reason})")
        if self.flow:
            lines.append("sample flow (arm: assigned / attempted / contacted / outcome observed):")
            for f in self.flow:
                lines.append(
                    f"  {f.arm}: {f.assigned:,} / {f.attempted:,} / {f.contacted:,} / "
                    f"{f.outcome_observed:,}"
                )
        for imp in self.imports:
            aside = imp.get("set_aside") or {}
            extra = "; ".join(f"{k}: {v}" for k, v in dict(aside).items())  # type: ignore[call-overload]
            lines.append(
                f"imported {imp.get('table')} from {imp.get('file')!r} ({imp.get('format')}): "
                f"{imp.get('rows_read')} rows"
                + (f", set aside at import: {extra}" if extra else "")
            )
        codes = self.code_counts()
        if codes:
            lines.append("rows by code (imported files; * = unknown code, default meaning):")
            for c in codes:
                star = "" if c.known else " *"
                lines.append(f"  {c.table} {c.kind}: {c.code!r}{star} {c.rows:,}")
        lines.extend(f"note: {n}" for n in self.notes)
        return lines

    def __repr__(self) -> str:
        totals = ", ".join(f"{t}={n}" for t, n in self.rows_read)
        return f"Reconciliation(election={self.election!r}, rows_read: {totals})"
