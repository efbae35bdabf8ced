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

from fieldexp.errors import FileFormatError

__all__ = ["refuse_short_rows"]


def refuse_short_rows(
    path: Path, encoding: str, delimiter: str, n_fields: int, *, header: bool, table: str
) -> None:
    """Raise when a non-blank record has fewer than ``n_fields`` fields.

    Line numbers are those of the file (the header is line 1); a record that spans
    several lines (a quoted line break) is named by its first line.
    """
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
    if n_short:
        first_line, got = short[0]
        lines = ", ".join(str(ln) for ln, _ in short)
        more = f" (and {n_short - len(short)} more)" if n_short > len(short) else ""
        raise FileFormatError(
            f"{table}: file {path.name!r}: line {first_line} has {got} field(s) but the header "
            f"has {n_fields}: truncated line(s) {lines}{more} (a cut download or a broken "
            "export?). Rows are never padded with blanks; repair or remove those lines."
        )
