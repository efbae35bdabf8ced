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
    counted = _short_rows_bytes(path, encoding, delimiter, n_fields, header=header)
    if counted is not None:
        short, n_short = counted
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


def _short_rows_bytes(
    path: Path, encoding: str, delimiter: str, n_fields: int, *, header: bool
) -> tuple[list[tuple[int, int]], int] | None:
    """The first five short lines (line number, fields) and their count, on the bytes.

    Only for files without any quote character and with ``\\n`` or ``\\r\\n`` line breaks
    (then a record is a line and its fields are the delimiters plus one, exactly what the
    ``csv`` module reads); ``None`` otherwise (the caller falls back to the ``csv`` module).
    The file is read in blocks of ``_BLOCK`` bytes: memory stays flat whatever its size.
    """
    if encoding.lower() not in _ASCII_SAFE or len(delimiter) != 1 or ord(delimiter) > 127:
        return None
    if delimiter in '\r\n"':
        return None
    delim = ord(delimiter)
    short: list[tuple[int, int]] = []
    n_short = 0
    carry = np.zeros(0, dtype=np.uint8)
    base = 0  # lines before the current buffer
    with path.open("rb") as fh:
        while True:
            block = fh.read(_BLOCK)
            last = not block
            new = np.frombuffer(block, dtype=np.uint8)
            buf = np.concatenate([carry, new]) if carry.size else new
            if buf.size == 0:
                break
            if np.any(buf == ord('"')):
                return None
            nl = np.flatnonzero(buf == 10)
            if last:
                cut = buf.size  # every line, the last one with or without its line break
            elif nl.size:
                cut = int(nl[-1]) + 1  # complete lines only; the rest waits for the next block
            else:
                carry = buf
                continue
            part = buf[:cut]
            cr = np.flatnonzero(part == 13)
            if cr.size and (cr[-1] + 1 >= part.size or np.any(part[cr + 1] != 10)):
                return None  # a lone carriage return is a line break to the csv module
            ends = nl[nl < cut]
            starts = np.concatenate([[0], ends + 1])
            ends = np.concatenate([ends, [cut]])
            if starts[-1] >= cut:  # ends with a line break: no last, empty line
                starts, ends = starts[:-1], ends[:-1]
            # delimiters per line: one sum per line segment [start_i, start_i+1) (line starts
            # strictly increase, so no segment is empty)
            fields = np.ones(starts.size, dtype=np.int64)
            if starts.size:
                fields += np.add.reduceat(part[:cut] == delim, starts, dtype=np.int64)
            # blank lines (empty or whitespace only) are skipped, as the csv reader does; only
            # one-field lines can be blank, and they are few: decode those
            keep = np.ones(starts.size, dtype=bool)
            for i in np.flatnonzero(fields == 1):
                text = part[starts[i] : ends[i]].tobytes().decode(encoding, errors="replace")
                keep[i] = bool(text.strip())
            if header and base == 0 and keep.size:
                keep[0] = False  # line 1 is the header (blank or not, as the csv path reads it)
            bad = np.flatnonzero(keep & (fields < n_fields))
            n_short += int(bad.size)
            short.extend((int(base + 1 + i), int(fields[i])) for i in bad[: 5 - len(short)])
            base += starts.size
            carry = buf[cut:]
            if last:
                break
    return short, n_short


#: bytes read at a time by the byte-counting path
_BLOCK = 1 << 24


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
