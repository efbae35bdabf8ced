"""Truncated lines: rows with fewer fields than the header are refused, never padded.

pandas pads a short row with missing values, which silently turns a line cut in the
middle (a failed download, a concatenation at a buffer boundary) into a row whose last
columns look blank -- a ballot without its method, a contact without its result. The
readers of US layouts therefore scan the field counts once (the ``csv`` module honours
quoted fields) and raise :class:`~fieldexp.errors.FileFormatError` naming the lines.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from fieldexp.errors import FileFormatError

__all__ = ["refuse_short_rows"]


def refuse_short_rows(
    path: Path, encoding: str, delimiter: str, n_fields: int, *, header: bool, table: str
) -> None:
    """Raise when a non-blank record has fewer than ``n_fields`` fields.

    Line numbers are those of the file (the header is line 1); a record that spans
    several lines (a quoted line break) is named by its first line.
    """
    counted = _field_counts_unquoted(path, encoding, delimiter)
    if counted is not None:
        lines_no, fields = counted
        first = 1 if header and lines_no.size and lines_no[0] == 1 else 0  # line 1: the header
        bad = np.flatnonzero(fields[first:] < n_fields) + first
        n_short = int(bad.size)
        short = [(int(lines_no[i]), int(fields[i])) for i in bad[:5]]
    else:
        short, n_short = _short_rows_csv(path, encoding, delimiter, n_fields, header=header)
    if n_short:
        first_line, got = short[0]
        lines = ", ".join(str(ln) for ln, _ in short)
        more = f" (and {n_short - len(short)} more)" if n_short > len(short) else ""
        raise FileFormatError(
            f"{table}: file {path.name!r}: line {first_line} has {got} field(s) but the header "
            f"has {n_fields}: truncated line(s) {lines}{more} (a cut download or a broken "
            "export?). Rows are never padded with blanks; repair or remove those lines."
        )


#: encodings in which the delimiter, the quote and the line break are single ASCII bytes that
#: never occur inside another character
_ASCII_SAFE = ("utf-8", "utf_8", "utf8", "utf-8-sig", "utf_8_sig", "ascii", "latin-1", "latin_1",
               "iso-8859-1", "iso8859-1", "cp1252", "windows-1252")  # fmt: skip


def _field_counts_unquoted(
    path: Path, encoding: str, delimiter: str
) -> tuple[np.ndarray, np.ndarray] | None:
    """Line numbers and field counts of the non-blank lines, counted on the bytes.

    Only for files without any quote character and with ``\n`` or ``\r\n`` line breaks
    (then a record is a line and its fields are the delimiters plus one, exactly what the
    ``csv`` module reads); ``None`` otherwise (the caller falls back to the ``csv`` module).
    """
    if encoding.lower() not in _ASCII_SAFE or len(delimiter) != 1 or ord(delimiter) > 127:
        return None
    if delimiter in '\r\n"':
        return None
    data = np.fromfile(path, dtype=np.uint8)
    if data.size == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    if np.any(data == ord('"')):
        return None
    cr = np.flatnonzero(data == 13)
    if cr.size and (
        np.any(cr + 1 >= data.size) or np.any(data[np.minimum(cr + 1, data.size - 1)] != 10)
    ):
        return None  # a lone carriage return is a line break to the csv module
    nl = np.flatnonzero(data == 10)
    starts = np.concatenate([[0], nl + 1])
    ends = np.concatenate([nl, [data.size]])
    if starts[-1] >= data.size:  # the file ends with a line break: no last, empty line
        starts, ends = starts[:-1], ends[:-1]
    delim_cum = np.concatenate([[0], np.cumsum(data == ord(delimiter), dtype=np.int64)])
    fields = delim_cum[ends] - delim_cum[starts] + 1
    # blank lines (empty or whitespace only) are skipped, as the csv reader path does; only
    # one-field lines can be blank, and they are few: decode those
    blank = np.zeros(starts.size, dtype=bool)
    for i in np.flatnonzero(fields == 1):
        text = data[starts[i] : ends[i]].tobytes().decode(encoding, errors="replace")
        blank[i] = not text.strip()
    lines_no = np.arange(1, starts.size + 1, dtype=np.int64)
    return lines_no[~blank], fields[~blank]


def _short_rows_csv(
    path: Path, encoding: str, delimiter: str, n_fields: int, *, header: bool
) -> tuple[list[tuple[int, int]], int]:
    short: list[tuple[int, int]] = []
    n_short = 0
    with path.open("r", encoding=encoding, newline="") as fh:
        reader = csv.reader(fh, delimiter=delimiter)
        start = 1
        for i, row in enumerate(reader):
            line = start
            start = reader.line_num + 1
            if header and i == 0:
                continue
            if not row or (len(row) == 1 and not row[0].strip()):
                continue  # blank line
            if len(row) < n_fields:
                n_short += 1
                if len(short) < 5:
                    short.append((line, len(row)))
    return short, n_short
