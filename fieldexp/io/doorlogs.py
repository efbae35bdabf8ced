"""Canvassing tallies per polling station ("portes frappées / ouvertes / conversations").

Campaigns export one line per bureau de vote (or per bureau and day, or per team) with
the doors knocked, the doors opened and the conversations held. :func:`read_door_logs`
reads such a sheet into one row per station::

    precinct_id, commune_code, bureau_code, doors_knocked, doors_opened, conversations, log_lines

(the counts the file has, at least one; ``log_lines``: how many file lines the row sums). Header spellings in French or English are
recognised (``Portes frappées``, ``Portes toquées``, ``Doors knocked``, ``Portes ouvertes``,
``Discussions``, ``Conversations``, ``Code INSEE``, ``Code commune``, ``N° bureau``,
``BV`` ...; override with ``mapping={'<file column>': '<canonical>'}``). Commune codes
become 5-character INSEE codes (``2A004``; a 1-3 digit code needs a département column;
a 4-digit code that lost its leading zero is padded), bureau codes are zero-padded to 4
digits (``1`` and ``0001`` are the same bureau), so ``precinct_id`` matches
:func:`fieldexp.read_precinct_results`.

Every line is accounted for (``attrs["fieldexp_import"]``): lines for the same station
are summed with a :class:`~fieldexp.errors.FieldexpWarning` naming them; a negative,
fractional or non-numeric count is a :class:`~fieldexp.errors.FileFormatError` naming the
lines, and so is an empty count (a missing tally is not a zero). Funnel checks
(``doors_opened <= doors_knocked``, ``conversations <= doors_opened``) warn.
"""

from __future__ import annotations

import csv
import io
import itertools
import re
import warnings
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fieldexp.errors import FieldexpWarning, FileFormatError, SpecificationError, did_you_mean
from fieldexp.errors import format_rows as _format_rows
from fieldexp.io._common import IMPORT_ATTR, note_import
from fieldexp.io.mappings import normalize_name
from fieldexp.io.voters import bureau_id, department_code, insee_commune

__all__ = ["COUNTS", "read_door_logs"]

#: The tallies a door log may hold, in the order of the canvassing funnel.
COUNTS = ("doors_knocked", "doors_opened", "conversations")
CANONICAL = ("precinct_id", "commune_code", "department_code", "bureau_code", *COUNTS)

_ALIASES: dict[str, tuple[str, ...]] = {
    "precinct_id": ("precinct id", "precinct_id", "id bureau", "bureau id", "station id"),
    "commune_code": (
        "commune code",
        "code commune",
        "code de la commune",
        "commune",
        "code insee",
        "insee",
        "code insee commune",
        "insee commune",
        "commune insee",
        "cog",
        "municipality code",
    ),
    "department_code": (
        "departement",
        "code departement",
        "code du departement",
        "dept",
        "dep",
        "dpt",
        "department",
        "department code",
    ),
    "bureau_code": (
        "bureau",
        "code bureau",
        "bureau de vote",
        "n bureau",
        "no bureau",
        "num bureau",
        "numero bureau",
        "numero de bureau",
        "bv",
        "code bv",
        "code b vote",
        "code du b vote",
        "polling station",
        "precinct",
        "bureau code",
    ),
    "doors_knocked": (
        "portes frappees",
        "portes toquees",
        "portes",
        "nb portes",
        "nombre de portes",
        "portes visitees",
        "doors knocked",
        "doors",
        "knocked",
        "doors attempted",
        "attempts",
    ),
    "doors_opened": (
        "portes ouvertes",
        "ouvertures",
        "portes ouvertes total",
        "doors opened",
        "opened",
        "doors answered",
        "answered",
    ),
    "conversations": (
        "conversations",
        "discussions",
        "echanges",
        "contacts",
        "conversations held",
        "nb conversations",
        "nombre de conversations",
        "nombre de discussions",
    ),
}
_LOOKUP = {alias: canon for canon, names in _ALIASES.items() for alias in names}
_WHOLE = re.compile(r"^[0-9]+$")


def _lines(rows: Iterable[Any], total: int | None = None) -> str:
    return _format_rows(rows, total=total).replace("rows", "lines").replace("row ", "line ")


def _decode(p: Path, encoding: str | None) -> str:
    data = p.read_bytes()
    if encoding is not None:
        try:
            return data.decode(encoding)
        except (UnicodeDecodeError, LookupError) as exc:
            raise FileFormatError(f"door_logs: file {p.name!r}: {exc}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
    return text[1:] if text.startswith("\ufeff") else text


def read_door_logs(
    path: str | Path,
    *,
    mapping: Mapping[str, str] | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
) -> pd.DataFrame:
    """Read a canvassing log of doors knocked / opened / conversations per polling station.

    Parameters
    ----------
    path
        CSV/TXT (``;``, ``,``, tab or ``|``; UTF-8 or Windows-1252).
    mapping
        ``{file column: canonical}`` with canonical among ``precinct_id, commune_code,
        department_code, bureau_code, doors_knocked, doors_opened, conversations``.
    encoding, delimiter
        Forced instead of detected.

    Returns
    -------
    DataFrame
        One row per ``precinct_id`` (sorted), the counts as ``int64`` and ``log_lines``
        (file lines summed into the row); ``attrs`` records lines read, stations and lines
        merged into another line's station.

    Raises
    ------
    FileFormatError
        No station columns or no count column, a commune that cannot be placed, a negative,
        fractional, empty or non-numeric count (lines named).
    """
    p = Path(path)
    if not p.is_file():
        raise FileFormatError(f"door_logs: file {str(path)!r} not found")
    user = dict(mapping or {})
    bad = [v for v in user.values() if v not in CANONICAL]
    if bad:
        raise SpecificationError(
            f"door_logs mapping: {bad[0]!r} is not a door-log column; use one of "
            f"{list(CANONICAL)}." + did_you_mean(bad[0], CANONICAL)
        )
    with p.open("rb") as fh:
        head = fh.read(8)
    if head.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):
        raise FileFormatError(
            f"door_logs: file {p.name!r} is an Excel workbook (or another archive), not a text "
            "file: save the sheet as CSV (UTF-8, ';'-separated)"
        )
    text = _decode(p, encoding)
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if not lines:
        raise FileFormatError(f"door_logs: file {p.name!r} is empty")
    delim = delimiter or max((";", ",", "\t", "|"), key=lines[0].count)
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delim))
    numbered = [(i + 1, r) for i, r in enumerate(rows) if any(f.strip() for f in r)]
    header = [h.strip().lstrip("\ufeff") for h in numbered[0][1]]
    cols: dict[str, int] = {}
    for i, h in enumerate(header):
        canon = user.get(h) or _LOOKUP.get(normalize_name(h))
        if canon is None:
            continue
        if canon in cols:
            raise FileFormatError(
                f"door_logs: file {p.name!r} has two columns for {canon!r} "
                f"({header[cols[canon]]!r} and {h!r}); map one with mapping={{...}}"
            )
        cols[canon] = i
    counts = [c for c in COUNTS if c in cols]
    if not counts:
        raise FileFormatError(
            f"door_logs: file {p.name!r} has no count column (doors knocked / doors opened / "
            f"conversations; e.g. 'Portes frappées', 'Portes ouvertes', 'Conversations'); "
            f"header: {header[:20]}. Name them with mapping={{'<file column>': 'doors_knocked'}}"
        )
    if "precinct_id" not in cols and not {"commune_code", "bureau_code"} <= set(cols):
        raise FileFormatError(
            f"door_logs: file {p.name!r} must name the station: a 'precinct_id' column, or a "
            f"commune code ('Code commune', 'Code INSEE') and a bureau ('Bureau', 'N° bureau'); "
            f"header: {header[:20]}"
        )
    data = numbered[1:]
    if not data:
        raise FileFormatError(f"door_logs: file {p.name!r} has a header but no rows")
    short = [ln for ln, r in data if len(r) <= max(cols.values())]
    if short:
        raise FileFormatError(
            f"door_logs: file {p.name!r}: {_lines(short)} have fewer fields than the header "
            "(truncated lines?)"
        )
    line_no = [ln for ln, _ in data]
    frame = pd.DataFrame(
        {c: [r[i].strip() for _, r in data] for c, i in cols.items()},
        index=pd.Index(line_no, name="line"),
    )
    frame["precinct_id"] = _stations(frame, p)
    for c in counts:
        frame[c] = _counts(frame[c], c, p)
    merged = frame["precinct_id"].duplicated(keep="first")
    if merged.any():
        dups = frame.index[frame["precinct_id"].duplicated(keep=False)]
        warnings.warn(
            f"door_logs: file {p.name!r}: {int(merged.sum())} line(s) repeat a station already "
            f"listed ({_lines(dups, total=len(dups))}); their counts are summed per station "
            "(one line per day or team?)",
            FieldexpWarning,
            stacklevel=2,
        )
    keys = ["commune_code", "bureau_code"]
    first = frame.groupby("precinct_id", sort=True)[[k for k in keys if k in frame]].first()
    sums = frame.groupby("precinct_id", sort=True)[counts].sum()
    n_lines = frame.groupby("precinct_id", sort=True).size().rename("log_lines")
    out = pd.concat([first, sums, n_lines], axis=1).reset_index()
    for c in [*counts, "log_lines"]:
        out[c] = out[c].astype("int64")
    _funnel(out, counts, p)
    noted = note_import(out, path=p, fmt="door-log", rows_read=len(data), set_aside={})
    noted.attrs[IMPORT_ATTR].update(
        {"stations": len(out), "lines_summed_into_a_station": int(merged.sum())}
    )
    return noted


def _stations(frame: pd.DataFrame, p: Path) -> pd.Series:
    if "precinct_id" in frame.columns:
        ids = frame["precinct_id"]
        empty = ids == ""
        if empty.any():
            raise FileFormatError(
                f"door_logs: file {p.name!r}: empty station id on {_lines(frame.index[empty])}"
            )
        return ids
    dept = frame["department_code"] if "department_code" in frame.columns else None
    communes = [
        insee_commune("" if dept is None else dept.loc[i], frame.loc[i, "commune_code"])
        for i in frame.index
    ]
    bad = [i for i, c in zip(frame.index, communes, strict=True) if c is None]
    if bad:
        example = frame.loc[bad[0], "commune_code"]
        raise FileFormatError(
            f"door_logs: file {p.name!r}: commune code {example!r} cannot be placed (an INSEE "
            "code has 5 characters, e.g. '75056' or '2A004'; a 1-3 digit code needs a "
            f"département column) on {_lines(bad, total=len(bad))}"
        )
    frame["commune_code"] = communes
    if dept is not None:
        frame["department_code"] = dept.map(department_code)
    empty = frame["bureau_code"] == ""
    if empty.any():
        raise FileFormatError(
            f"door_logs: file {p.name!r}: empty bureau code on {_lines(frame.index[empty])}"
        )
    ids = pd.Series(
        [bureau_id(c, b) for c, b in zip(frame["commune_code"], frame["bureau_code"], strict=True)],
        index=frame.index,
    )
    frame["bureau_code"] = ids.str.split("_", n=1).str[1]
    return ids


def _counts(values: pd.Series, column: str, p: Path) -> pd.Series:
    text = values.str.replace("\u00a0", "", regex=False).str.replace(" ", "", regex=False)
    ok = text.str.match(_WHOLE.pattern)
    if not ok.all():
        bad = values.index[~ok.to_numpy()]
        example = values.loc[bad[0]]
        what = (
            "empty (a missing tally is not a zero: write 0)"
            if example == ""
            else "negative"
            if example.lstrip().startswith("-")
            else f"not a whole number ({example!r})"
        )
        raise FileFormatError(
            f"door_logs: file {p.name!r}: column {column!r} must hold whole numbers >= 0; "
            f"{int((~ok).sum())} value(s) are not, e.g. {what}, on {_lines(bad, total=len(bad))}"
        )
    return text.astype("int64")


def _funnel(out: pd.DataFrame, counts: list[str], p: Path) -> None:
    pairs = [(a, b) for a, b in itertools.pairwise(COUNTS) if a in counts and b in counts]
    if "doors_knocked" in counts and "conversations" in counts and "doors_opened" not in counts:
        pairs.append(("doors_knocked", "conversations"))
    for big, small in pairs:
        off = np.asarray(out[small] > out[big])
        if off.any():
            where = ", ".join(out.loc[off, "precinct_id"].astype(str).head(5))
            warnings.warn(
                f"door_logs: file {p.name!r}: {int(off.sum())} station(s) have more {small} "
                f"than {big} (first: {where}); check the tallies",
                FieldexpWarning,
                stacklevel=3,
            )
