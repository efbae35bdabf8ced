"""Reading delimited text files defensively: every failure becomes a FileFormatError.

``read_delimited`` returns a frame of strings (missing = NA) whose index is the
**line number in the file** (1-based; the header is line 1), so error messages point
at lines a person can open. Handled: UTF-8 and UTF-16 byte-order marks, a stated or
fallback encoding, delimiter sniffing (``,`` ``;`` tab ``|``), blank lines (skipped),
fully empty rows (dropped with a :class:`RowsDroppedWarning`). Refused with a clear
message: missing file, empty file, undecodable bytes, a header with repeated names,
a header repeated inside the data, rows with more fields than the header.
"""

from __future__ import annotations

import codecs
import csv
import re
import sys
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from fieldexp.errors import FileFormatError, RowsDroppedWarning, format_rows

__all__ = ["TextInfo", "parse_dates", "read_delimited", "sniff"]

DELIMITERS = (",", ";", "\t", "|")
_DELIM_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}


@dataclass(frozen=True, slots=True)
class TextInfo:
    """What :func:`sniff` found about a file."""

    path: Path
    encoding: str
    delimiter: str
    first_line: str


def _bom_encoding(head: bytes) -> str | None:
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith(codecs.BOM_UTF16_LE) or head.startswith(codecs.BOM_UTF16_BE):
        return "utf-16"
    return None


def _check_decodes(path: Path, encoding: str) -> int | None:
    """Return the byte offset of the first undecodable byte, or None if the file decodes.

    UTF-8 is first validated by Arrow, block by block without a Python string (its validator
    refuses what Python's codec refuses: overlong forms, surrogates, code points beyond
    U+10FFFF, cut sequences); a file it refuses is decoded by Python for the exact offset.
    """
    if encoding.lower().replace("_", "-") in ("utf-8", "utf8", "utf-8-sig") and _valid_utf8(path):
        return None
    decoder = codecs.getincrementaldecoder(encoding)()
    offset = 0
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                return offset + exc.start
            offset += len(chunk)
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return offset
    return None


def _valid_utf8(path: Path) -> bool:
    """True when Arrow finds the whole file valid UTF-8 (blocks cut after a line break, which
    is never inside a multi-byte sequence)."""
    import pyarrow as pa

    carry = b""
    with path.open("rb") as fh:
        while True:
            block = fh.read(_UTF8_BLOCK)
            data = carry + block
            if block:
                cut = data.rfind(b"\n") + 1
                data, carry = data[:cut], data[cut:]
            if data:
                try:
                    pa.array([data], type=pa.binary()).cast(pa.string())
                except pa.ArrowInvalid:
                    return False
            if not block:
                return True


#: bytes validated at a time
_UTF8_BLOCK = 1 << 24


def _line_of(path: Path, offset: int) -> int:
    with path.open("rb") as fh:
        return fh.read(offset).count(b"\n") + 1


def sniff(
    path: str | Path,
    *,
    table: str,
    encoding: str | None = None,
    fallback_encoding: str | None = None,
    delimiter: str | None = None,
) -> TextInfo:
    """Check a file exists, is not empty, decodes, and find its delimiter."""
    p = Path(path)
    if not p.exists():
        raise FileFormatError(f"{table}: file {str(p)!r} not found")
    if p.is_dir():
        raise FileFormatError(f"{table}: {str(p)!r} is a folder, not a file")
    with p.open("rb") as fh:
        head = fh.read(1 << 16)
    bom = _bom_encoding(head)
    stripped = head
    for mark in (codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        if stripped.startswith(mark):
            stripped = stripped[len(mark) :]
    if not stripped.strip(b" \t\r\n\x00"):
        raise FileFormatError(f"{table}: file {p.name!r} is empty (no header, no rows)")
    if encoding is None:
        encoding = bom or "utf-8"
        bad = _check_decodes(p, encoding)
        if bad is not None:
            if fallback_encoding is not None:
                encoding = fallback_encoding
            else:
                with p.open("rb") as fh:
                    fh.seek(bad)
                    byte = fh.read(1)
                raise FileFormatError(
                    f"{table}: file {p.name!r} is not valid UTF-8: byte 0x{byte.hex()} at line "
                    f"{_line_of(p, bad)}. If it is Latin-1/Windows-1252, pass "
                    "mapping={'options': {'encoding': 'cp1252'}}"
                )
    else:
        if encoding.lower().replace("_", "-") in ("utf-8", "utf8") and bom == "utf-8-sig":
            encoding = "utf-8-sig"
        bad = _check_decodes(p, encoding)
        if bad is not None:
            raise FileFormatError(
                f"{table}: file {p.name!r} does not decode as {encoding}: bad byte at line "
                f"{_line_of(p, bad)}"
            )
    text = head.decode(encoding, errors="replace")
    if text.startswith("\ufeff"):
        text = text[1:]
    first = next((ln for ln in text.splitlines() if ln.strip()), "")
    if delimiter is None:
        counts = {d: first.count(d) for d in DELIMITERS}
        delimiter = max(DELIMITERS, key=lambda d: counts[d])
        if counts[delimiter] == 0:
            delimiter = ","
    return TextInfo(path=p, encoding=encoding, delimiter=delimiter, first_line=first)


def _split(line: str, delimiter: str) -> list[str]:
    return next(csv.reader([line], delimiter=delimiter))


def read_delimited(
    path: str | Path,
    *,
    table: str,
    encoding: str | None = None,
    fallback_encoding: str | None = None,
    delimiter: str | None = None,
    header: bool = True,
    names: Sequence[str] | None = None,
    expect: Iterable[str] = (),
    check_short: bool = False,
) -> pd.DataFrame:
    """Read a delimited text file into a frame of strings indexed by file line number.

    Parameters
    ----------
    table
        Name used in error messages (``"voters"``, ``"contacts"``...).
    encoding, fallback_encoding
        Stated encoding; else UTF-8 (BOM honoured), and ``fallback_encoding`` when the
        bytes are not UTF-8 (e.g. Latin-1 for older French files).
    delimiter
        Stated delimiter; else sniffed from the first line.
    header, names
        Whether line 1 is a header; ``names`` for headerless files.
    expect
        Column names that some header alias should match; used only to explain a
        wrong delimiter (a one-column header holding another delimiter).
    check_short
        Refuse rows with fewer fields than the header (truncated lines) instead of
        padding them with missing values (see :mod:`fieldexp.io._fields`).
    """
    info = sniff(
        path,
        table=table,
        encoding=encoding,
        fallback_encoding=fallback_encoding,
        delimiter=delimiter,
    )
    p = info.path
    delim = info.delimiter
    if header:
        cols = [c.strip().lstrip("\ufeff") for c in _split(info.first_line, delim)]
        if len(cols) == 1:
            others = [d for d in DELIMITERS if d != delim and d in info.first_line]
            if others:
                raise FileFormatError(
                    f"{table}: file {p.name!r} has a one-column header {info.first_line[:60]!r} "
                    f"when split on {_DELIM_NAMES[delim]}s; it looks {_DELIM_NAMES[others[0]]}-"
                    f"delimited. Pass mapping={{'options': {{'delimiter': {others[0]!r}}}}}"
                )
        seen: dict[str, int] = {}
        for c in cols:
            seen[c] = seen.get(c, 0) + 1
        dups = [c for c, n in seen.items() if n > 1 and c]
        if dups:
            raise FileFormatError(
                f"{table}: file {p.name!r} has a duplicated header: column(s) {dups} appear "
                "more than once on line 1"
            )
    quoting = csv.QUOTE_MINIMAL
    kwargs: dict[str, object] = {
        "sep": delim,
        "dtype": str,
        "keep_default_na": False,
        "na_values": [""],
        "skip_blank_lines": False,
        "encoding": info.encoding,
        "index_col": False,
        "quoting": quoting,
        "engine": "c",
        "on_bad_lines": "error",
    }
    if header:
        kwargs["header"] = 0
    else:
        kwargs["header"] = None
        if names is not None:
            kwargs["names"] = list(names)
    plain = None
    if header:  # a plain file (no quotes, one record per line): Arrow reads it
        from fieldexp.io._arrowcsv import read_plain_csv

        plain = read_plain_csv(
            p,
            encoding=info.encoding,
            delimiter=delim,
            first_line=info.first_line,
            columns=_split(info.first_line, delim),
        )
    try:
        if plain is not None:
            df = plain
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("error", pd.errors.ParserWarning)
                df = _read_csv(p, kwargs, table)
    except pd.errors.ParserWarning as exc:
        raise FileFormatError(
            f"{table}: file {p.name!r}: a row has more fields than the header (extra columns "
            f"or a wrong delimiter?): {exc}"
        ) from None
    except pd.errors.ParserError as exc:
        msg = str(exc)
        m = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", msg)
        if m:
            raise FileFormatError(
                f"{table}: file {p.name!r}: line {m.group(2)} has {m.group(3)} fields but the "
                f"header has {m.group(1)} (extra columns, an unquoted delimiter inside a value, "
                "or a wrong delimiter?)"
            ) from None
        raise FileFormatError(f"{table}: file {p.name!r} cannot be parsed: {msg}") from None
    except pd.errors.EmptyDataError:
        raise FileFormatError(f"{table}: file {p.name!r} is empty (no header, no rows)") from None
    except UnicodeDecodeError as exc:  # pragma: no cover - sniff checks the bytes first
        raise FileFormatError(
            f"{table}: file {p.name!r} does not decode as {info.encoding}: {exc.reason}"
        ) from None
    df.columns = [str(c).strip().lstrip("\ufeff") for c in df.columns]
    if check_short and plain is None:  # Arrow refused any record with fewer fields
        from fieldexp.io._fields import refuse_short_rows

        refuse_short_rows(p, info.encoding, delim, len(df.columns), header=header, table=table)
    if header and names is not None:
        df.columns = list(names)[: len(df.columns)]
    start = 2 if header else 1
    df.index = pd.RangeIndex(start, start + len(df), name="line")
    empty = df.isna().all(axis=1)
    n_blank_lines = int(empty.sum())
    if n_blank_lines:
        df = df.loc[~empty]
    if header and len(df):
        first_col = df.columns[0]
        repeated = df[first_col].astype("str").str.strip() == first_col
        if len(df.columns) > 1:
            repeated &= df[df.columns[1]].astype("str").str.strip() == df.columns[1]
        if repeated.any():
            raise FileFormatError(
                f"{table}: file {p.name!r} repeats its header inside the data (concatenated "
                f"exports?) at {format_rows(df.index[repeated.to_numpy()], total=int(repeated.sum()))}".replace(
                    "rows", "lines"
                ).replace("row ", "line ")
            )
    return df


#: Files larger than this show a progress bar (on a terminal) while they load.
PROGRESS_BYTES = 64 * 1024 * 1024


def _read_csv(p: Path, kwargs: dict[str, object], table: str) -> pd.DataFrame:
    """``pd.read_csv``, in chunks with a tqdm progress bar for large files on a terminal."""
    size = p.stat().st_size
    if size < PROGRESS_BYTES or not sys.stderr.isatty():
        return pd.read_csv(p, **kwargs)  # type: ignore[call-overload]
    from tqdm import tqdm

    parts = []
    with (
        p.open("rb") as fh,
        tqdm(total=size, unit="B", unit_scale=True, desc=f"reading {table} {p.name}") as bar,
    ):
        done = 0
        for chunk in pd.read_csv(fh, chunksize=500_000, **kwargs):  # type: ignore[call-overload]
            parts.append(chunk)
            pos = fh.tell()
            bar.update(max(pos - done, 0))
            done = max(done, pos)
        bar.update(max(size - done, 0))
    if not parts:
        return pd.read_csv(p, **kwargs)  # type: ignore[call-overload]
    return pd.concat(parts, ignore_index=True)


def warn_dropped(table: str, n: int, reason: str) -> None:
    if n:
        warnings.warn(f"{table}: {n} row(s) set aside: {reason}", RowsDroppedWarning, stacklevel=3)


# ------------------------------------------------------------------------ dates
#: Date formats tried, in order, when a layout does not fix one.
DATE_FORMATS: tuple[str, ...] = (
    "%Y-%m-%d",
    "%m/%d/%Y",
    "%Y%m%d",
    "%d/%m/%Y",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %I:%M:%S %p",
    "%m/%d/%Y %H:%M",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M:%SZ",
    "%Y-%m-%dT%H:%M:%S%z",
    "%Y-%m-%d %H:%M:%S%z",
    "%m/%d/%y",
)


#: values each candidate date format is first tried on
_SCREEN_ROWS = 64


def parse_dates(
    values: pd.Series,
    *,
    column: str,
    table: str,
    formats: Sequence[str] | None = None,
) -> pd.Series:
    """Parse a column of date strings that must all share **one** format.

    Each candidate format is tried on every non-missing value; the first format that
    parses them all wins. If no single format does, the error says which formats the
    values are in (mixed formats) or shows the values that parse under none, with
    their lines.
    """
    if len(values) > 4 * _SCREEN_ROWS and values.iloc[:1000].nunique() * 2 <= min(
        len(values), 1000
    ):
        # few distinct values (election dates): parse each once, then spread to the rows.
        # The same format wins (it must parse every distinct value) and every row gets its
        # value's date; when no single format parses them all, the full path below names
        # the offending rows.
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
        if 2 * len(uniques) <= len(values):
            try:
                parsed_u = parse_dates(
                    pd.Series(uniques, dtype=object),
                    column=column,
                    table=table,
                    formats=formats,
                )
            except FileFormatError:
                pass
            else:
                at = parsed_u.to_numpy()
                spread = np.where(codes >= 0, at[np.maximum(codes, 0)], np.datetime64("NaT"))
                return pd.Series(spread, index=values.index, dtype="datetime64[us]")
    text = values.astype("str").str.strip()
    text = text.where(values.notna() & (text != ""), None)
    present = text.notna()
    if not present.any():
        return pd.Series(pd.NaT, index=values.index, dtype="datetime64[us]")
    fmts = tuple(formats) if formats is not None else DATE_FORMATS
    sample = text[present]
    # a format that fails on one of the first values cannot parse them all: screen each
    # format on a few values before parsing the whole column (the error path below still
    # parses every value under every format)
    head = sample.iloc[:_SCREEN_ROWS]
    parsed_by: dict[str, pd.Series] = {}
    for fmt in fmts:
        # offsets (%z) differ across a daylight-saving change: convert to UTC
        utc = "%z" in fmt or fmt == "ISO8601"
        if len(sample) > _SCREEN_ROWS and not bool(
            pd.to_datetime(head, format=fmt, errors="coerce", utc=utc).notna().all()
        ):
            continue
        parsed = pd.to_datetime(sample, format=fmt, errors="coerce", utc=utc)
        if parsed.notna().all():
            out = pd.Series(pd.NaT, index=values.index, dtype="datetime64[us]")
            if getattr(parsed.dt, "tz", None) is not None:
                parsed = parsed.dt.tz_convert("UTC").dt.tz_localize(None)
            out[present] = parsed.astype("datetime64[us]")
            return out
        parsed_by[fmt] = parsed.notna()
    for fmt in fmts:  # the formats screened out above, for the error message
        if fmt not in parsed_by:
            utc = "%z" in fmt or fmt == "ISO8601"
            parsed_by[fmt] = pd.to_datetime(sample, format=fmt, errors="coerce", utc=utc).notna()
    parsed_by = {fmt: parsed_by[fmt] for fmt in fmts}
    covered = pd.Series(False, index=sample.index)
    parts: list[str] = []
    for fmt, ok in sorted(parsed_by.items(), key=lambda kv: -int(kv[1].sum())):
        new = ok & ~covered
        if new.any():
            ex = sample[new].iloc[0]
            parts.append(f"{int(new.sum())} like {ex!r} ({fmt})")
            covered |= ok
    unparsed = ~covered
    if unparsed.any() and not parts:
        raise FileFormatError(
            f"{table}: column {column!r} must hold dates; found values such as "
            f"{sample[unparsed].iloc[0]!r} in "
            f"{format_rows(sample.index[unparsed.to_numpy()], total=int(unparsed.sum()))}"
        )
    if unparsed.any():
        parts.append(
            f"{int(unparsed.sum())} unreadable such as {sample[unparsed].iloc[0]!r} in "
            f"{format_rows(sample.index[unparsed.to_numpy()], total=int(unparsed.sum()))}"
        )
    raise FileFormatError(
        f"{table}: column {column!r} must use one date format; found mixed formats: "
        + "; ".join(parts)
    )
