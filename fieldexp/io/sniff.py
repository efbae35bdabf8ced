"""``fieldexp inspect FILE``: what a file is, how it maps, and what is still needed.

:func:`inspect_file` detects the layout from the header and first rows
(:func:`fieldexp.io.detect.detect_layout`), maps the columns, then reads the file with
the matching reader (warnings captured, errors reported rather than raised) to count
rows and codes. The typed :class:`Inspection` it returns prints as a short report: the
layout and why, the column mapping (personal columns marked as dropped), each code
found with its count and meaning (unknown codes flagged with the default they got), the
date order, rows read/kept/set aside, and the mapping snippet still needed.

No value of a personal column is ever read into the report: only column names, codes
(vocabulary values) and counts.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from fieldexp.errors import FieldexpError
from fieldexp.io._text import read_delimited
from fieldexp.io.accounting import import_record
from fieldexp.io.dates import date_order
from fieldexp.io.detect import Detection, detect_layout
from fieldexp.io.mappings import MappingSpec, code_table, resolve_columns
from fieldexp.io.personal import looks_personal
from fieldexp.io.schema import PII_COLUMNS
from fieldexp.io.vocab import UnknownCodeWarning, code_key

__all__ = ["CodeCount", "ColumnMap", "Inspection", "inspect_file"]

_DATE_COLUMNS = ("election_date", "timestamp", "registration_date", "birth_date")
#: Which code table and column give the meaning of each counted code kind.
_CODE_TABLES = {
    "voting_method": "history_codes",
    "history code": "history_codes",
    "voted": "history_codes",
    "election columns": "history_codes",
    "result": "contact_results",
    "status": "contact_results",
    "contact type": "contact_channels",
    "registration status": "registration_status",
}


_ORDER_TEXT = {
    "day_first": "day-first (DD/MM/YYYY)",
    "month_first": "month-first (MM/DD/YYYY)",
    "ambiguous": "ambiguous day/month (the layout's convention applies)",
    "none": "not NN/NN/YYYY (ISO or another fixed format)",
}


@dataclass(frozen=True, slots=True)
class ColumnMap:
    """One file column: the canonical column it becomes, and whether it is dropped."""

    source: str
    canonical: str
    personal: bool


@dataclass(frozen=True, slots=True)
class CodeCount:
    """Rows per code of one coded column, with the code's meaning."""

    kind: str
    code: str
    rows: int
    meaning: str
    known: bool


@dataclass(frozen=True, slots=True)
class Inspection:
    """What :func:`inspect_file` found (see the module docstring)."""

    file: str
    detection: Detection
    columns: tuple[ColumnMap, ...]
    rows_read: int | None
    rows_kept: int | None
    set_aside: dict[str, int] = field(default_factory=dict)
    codes: tuple[CodeCount, ...] = ()
    date_orders: dict[str, str] = field(default_factory=dict)
    snippets: tuple[str, ...] = ()
    error: str | None = None
    notes: tuple[str, ...] = ()

    @property
    def table(self) -> str | None:
        return self.detection.table

    @property
    def format(self) -> str:
        return self.detection.format

    @property
    def unknown_codes(self) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        for c in self.codes:
            if not c.known:
                out.setdefault(c.kind, {})[c.code] = c.rows
        return out

    def __str__(self) -> str:
        d = self.detection
        lines = [f"file: {self.file}"]
        if d.table is None:
            lines.append(f"layout: none recognised ({d.reason})")
        else:
            lines.append(f"layout: {d.table} / format={d.format!r}  ({d.reason})")
        if d.alternatives:
            alts = ", ".join(f"{t} / {f}" for t, f in d.alternatives)
            lines.append(f"  also readable as: {alts}")
        delim = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}.get(
            d.delimiter, d.delimiter
        )
        lines.append(
            f"encoding: {d.encoding}; delimiter: {delim}; header: {'yes' if d.has_header else 'no'}"
        )
        if self.columns:
            lines.append("columns:")
            for c in self.columns:
                tag = "  (personal: dropped at import)" if c.personal else ""
                arrow = c.canonical
                lines.append(f"  {c.source!s:<32} -> {arrow}{tag}")
        if self.date_orders:
            lines.append(
                "dates: " + ", ".join(f"{k}: {_ORDER_TEXT[v]}" for k, v in self.date_orders.items())
            )
        if self.rows_read is not None:
            aside = "; ".join(f"{k}: {v}" for k, v in self.set_aside.items())
            lines.append(
                f"rows: {self.rows_read:,} read, {self.rows_kept or 0:,} kept"
                + (f", set aside: {aside}" if aside else "")
            )
        if self.codes:
            lines.append("codes (rows, meaning):")
            kind = None
            for cc in self.codes:
                if cc.kind != kind:
                    lines.append(f"  {cc.kind}:")
                    kind = cc.kind
                flag = "" if cc.known else "  UNKNOWN -> "
                lines.append(f"    {cc.code or '(blank)'!s:<28} {cc.rows:>9,}  {flag}{cc.meaning}")
        if self.error:
            lines.append(f"reading failed: {self.error}")
        if self.snippets:
            lines.append("mapping still needed:")
            lines.extend("  " + s.replace("\n", "\n  ") for s in self.snippets)
        elif self.error is None and d.table is not None:
            lines.append("mapping still needed: none")
        lines.extend(f"note: {n}" for n in self.notes)
        return "\n".join(lines)


def _meaning(kind: str, fmt: str, codes: dict[str, int]) -> dict[str, str]:
    name = _CODE_TABLES.get(kind)
    if name is None:
        return {}
    t = code_table(name, "" if name == "registration_status" else fmt, MappingSpec())
    keys = code_key(t["code"], case_insensitive=fmt not in ("florida", "ohio"))
    cols = [c for c in t.columns if c != "code"]
    by_key = {
        k: ", ".join(f"{c}={row[c]}" for c in cols if str(row[c]) != "")
        for k, (_, row) in zip(keys, t.iterrows(), strict=True)
    }
    out: dict[str, str] = {}
    for code in codes:
        k = code_key(pd.Series([code]), case_insensitive=fmt not in ("florida", "ohio")).iloc[0]
        if k in by_key:
            out[code] = by_key[k]
    return out


def _read(det: Detection, path: Path, results: object) -> pd.DataFrame:
    from fieldexp import io

    if det.table == "voters":
        return io.read_voters(path, format=det.format)
    if det.table == "vote_history":
        return io.read_vote_history(path, format=det.format)
    if det.table == "contacts":
        return io.read_contacts(path, format=det.format, results=results)  # type: ignore[arg-type]
    if det.table == "precinct_results":
        return io.read_precinct_results(path, format=det.format)
    raise FieldexpError("no reader for a generic CSV")


def inspect_file(
    path: str | Path,
    *,
    table: str | None = None,
    results: str | Path | pd.DataFrame | None = None,
) -> Inspection:
    """Detect a file's layout, map its columns, count its rows and codes.

    Parameters
    ----------
    path
        A delimited text file (voter file, vote history, contact log, French results).
    table
        Prefer readings as this canonical table (``voters``, ``vote_history``,
        ``contacts``, ``precinct_results``).
    results
        VAN Results lookup, for contact exports that carry ``ResultID`` only.

    Returns
    -------
    Inspection
        Printable; reading errors are reported in ``error``, not raised (a missing or
        undecodable file still raises :class:`~fieldexp.errors.FileFormatError`).
    """
    p = Path(path)
    from fieldexp.io import precinct

    # the French reader's own vintage detection, if it has one (w-io-fr)
    vintage_of = getattr(precinct, "detect_vintage", None)
    det = detect_layout(p, table=table, vintage_of=vintage_of if callable(vintage_of) else None)
    columns: list[ColumnMap] = []
    date_orders: dict[str, str] = {}
    if det.has_header and det.header:
        rename = resolve_columns(
            list(det.header), table=det.table or "voters", fmt=det.format, spec=MappingSpec()
        )
        for src in det.header:
            canon = rename.get(src, src)
            # candidate names in results files are public; personal data is a voter's
            personal = det.table in ("voters", None) and (
                canon in PII_COLUMNS or looks_personal(src) or looks_personal(canon)
            )
            if canon in ("voter_id", "household_id", "birth_year", "unit_id"):
                personal = False
            columns.append(ColumnMap(src, canon, personal))
        dated = [c.source for c in columns if c.canonical in _DATE_COLUMNS]
        if dated:
            try:
                raw = read_delimited(
                    p, table="inspect", encoding=det.encoding, delimiter=det.delimiter
                )
                for col in dated:
                    if col in raw.columns:
                        date_orders[col] = date_order(raw[col])
            except FieldexpError:
                pass
    error = None
    codes: list[CodeCount] = []
    snippets: list[str] = []
    notes: list[str] = []
    rows_read = rows_kept = None
    set_aside: dict[str, int] = {}
    if det.table is not None:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                frame = _read(det, p, results)
            except FieldexpError as exc:
                frame = None
                error = str(exc)
        for w in caught:
            msg = str(w.message)
            if isinstance(w.message, UnknownCodeWarning):
                snippets.append(f"Python: {w.message.python}\nspec TOML:\n{w.message.toml}")
            else:
                notes.append(msg.splitlines()[0])
        if frame is None and det.format == "van" and "ResultID" in det.header:
            # no Results lookup: still show which ids the export uses, and how often
            try:
                raw = read_delimited(
                    p, table="inspect", encoding=det.encoding, delimiter=det.delimiter
                )
                ids = raw["ResultID"].astype("str").str.strip().value_counts()
                rows_read = len(raw)
                codes.extend(
                    CodeCount("ResultID", str(i), int(n), "needs the Results lookup", False)
                    for i, n in ids.items()
                )
                snippets.append(
                    "pass the account's Results lookup: fieldexp inspect FILE --results "
                    'RESULTS.csv; in the spec, results = "RESULTS.csv" in [data.contacts]'
                )
            except FieldexpError:
                pass
        if frame is not None:
            rec = import_record(frame)
            layout = frame.attrs.get("fieldexp_import", {}).get("layout")
            if layout:  # the French reader records which published layout it read
                notes.append(f"reader layout: {layout}")
            if rec is not None:
                rows_read, rows_kept, set_aside = rec.rows_read, rec.rows_kept, rec.set_aside
                for kind, counts in rec.codes.items():
                    meaning = _meaning(kind, det.format, counts)
                    unknown = rec.unknown_codes.get(kind, {})
                    for code, n in counts.items():
                        known = code not in unknown
                        codes.append(
                            CodeCount(
                                kind,
                                code,
                                n,
                                meaning.get(code, "known")
                                if known
                                else "default meaning (see the snippet)",
                                known,
                            )
                        )
            else:
                rows_read = rows_kept = len(frame)
    else:
        notes.append(
            "read it as a plain table, or name its columns with mapping={'<file column>': "
            "'<canonical>'} and pass format= to the matching reader"
        )
    return Inspection(
        file=p.name,
        detection=det,
        columns=tuple(columns),
        rows_read=rows_read,
        rows_kept=rows_kept,
        set_aside=set_aside,
        codes=tuple(codes),
        date_orders=date_orders,
        snippets=tuple(snippets),
        error=error,
        notes=tuple(notes),
    )
