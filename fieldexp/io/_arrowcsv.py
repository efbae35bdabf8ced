"""The fast path of :func:`fieldexp.io._text.read_delimited`: plain files parsed by Arrow.

Most real exports are *plain*: no quote character anywhere, ``\\n`` or ``\\r\\n`` line
breaks, a header on line 1 and every record on one line. For those, ``pyarrow.csv``
(multi-threaded, no Python object per value) gives exactly the frame of strings that
``pd.read_csv(dtype=str, keep_default_na=False, na_values=[""], skip_blank_lines=False)``
gives: a record is a line, its fields are the text between delimiters (nothing stripped),
an empty field is missing, a blank line is a row of missing values.

Anything else -- a quote (quoted delimiters or line breaks), a lone carriage return, a
NUL byte, a record with more or fewer fields than the header, an encoding whose
delimiter or line break is not one byte, an empty header name, a headerless file -- returns
``None`` and the caller reads the file with pandas and the ``csv`` module, whose errors
and line numbers are the contract. The file is scanned in blocks (memory stays flat).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

__all__ = ["read_plain_csv"]

#: encodings whose delimiter, quote and line break are single ASCII bytes that never occur
#: inside another character (Arrow transcodes the others to UTF-8 itself)
_ENCODINGS = {
    "utf-8": None,
    "utf8": None,
    "utf_8": None,
    "utf-8-sig": None,
    "utf_8_sig": None,
    "ascii": None,
    "latin-1": "latin-1",
    "latin_1": "latin-1",
    "iso-8859-1": "latin-1",
    "iso8859-1": "latin-1",
    "cp1252": "cp1252",
    "windows-1252": "cp1252",
}

#: bytes scanned at a time
_BLOCK = 1 << 24

#: Arrow's parse block (each is parsed by one thread)
_ARROW_BLOCK = 1 << 23


def _plain_bytes(path: Path) -> bool:
    """True when the file has no quote, no NUL byte and only ``\\n``/``\\r\\n`` line breaks."""
    prev_cr = False
    with path.open("rb") as fh:
        while block := fh.read(_BLOCK):
            if b'"' in block or b"\x00" in block:
                return False
            if prev_cr and not block.startswith(b"\n"):
                return False
            n_cr = block.count(b"\r")
            if n_cr:
                pairs = block.count(b"\r\n")
                prev_cr = block.endswith(b"\r")
                if pairs + int(prev_cr) != n_cr:
                    return False
            else:
                prev_cr = False
    return not prev_cr


def _first_line(path: Path, encoding: str) -> str | None:
    """Line 1 of the file as text (BOM removed), or None when it cannot be decoded."""
    with path.open("rb") as fh:
        head = fh.read(1 << 16)
    cut = head.find(b"\n")
    if cut < 0:
        return None  # a header longer than the probe (or no data row): the general path
    try:
        text = head[:cut].decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return None
    return text.removesuffix("\r").removeprefix("\ufeff")


def read_plain_csv(
    path: Path, *, encoding: str, delimiter: str, first_line: str, columns: Sequence[str]
) -> pd.DataFrame | None:
    """The frame of strings of a plain file (see the module docstring), or ``None``.

    ``first_line`` is the header line :func:`~fieldexp.io._text.sniff` found and
    ``columns`` its fields; the file's line 1 must be that line. Columns are named as
    pandas names them (the header's fields as written).
    """
    enc = encoding.lower()
    if enc not in _ENCODINGS or len(delimiter) != 1 or ord(delimiter) > 127:
        return None
    if delimiter in '\r\n"' or len(columns) < 2:
        return None
    names = list(columns)
    if any(not c.strip() for c in names) or len(set(names)) != len(names):
        return None
    transcode = _ENCODINGS[enc]
    line1 = _first_line(path, "utf-8-sig" if transcode is None else transcode)
    if line1 is None or line1 != first_line or line1.split(delimiter) != names:
        return None
    if not _plain_bytes(path):
        return None
    read = pacsv.ReadOptions(
        column_names=names,
        skip_rows=1,
        block_size=_ARROW_BLOCK,
        encoding=transcode or "utf8",
    )
    parse = pacsv.ParseOptions(
        delimiter=delimiter,
        quote_char=False,
        escape_char=False,
        newlines_in_values=False,
        ignore_empty_lines=False,
    )
    convert = pacsv.ConvertOptions(
        column_types={c: pa.large_string() for c in names},
        null_values=[""],
        strings_can_be_null=True,
        quoted_strings_can_be_null=True,
    )
    try:
        table = pacsv.read_csv(
            str(path), read_options=read, parse_options=parse, convert_options=convert
        )
    except (pa.ArrowInvalid, pa.ArrowException, UnicodeDecodeError, OSError):
        return None  # a record with another number of fields, bad bytes: the general path
    if table.num_rows == 0:
        return None
    return table.to_pandas()
