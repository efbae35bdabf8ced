"""Output safety: file names, paths under ``--out``, CSV and Markdown escaping, the leak check.

Every file the report and ``fieldexp assign`` write goes through this module:

* :func:`safe_name` turns any text (an outcome name, a column name, a table key) into one
  plain file-name component; :func:`safe_path` joins such components under the output
  folder, resolves symbolic links (``Path.resolve``) and refuses a path that is not
  inside it (``is_relative_to``); :func:`write_text` writes without following a link
  planted in the way.
* :func:`csv_cell` neutralises spreadsheet formulas (OWASP "CSV injection"): a text
  cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a
  leading ``'``; numbers (``-3``, ``-0.25``) stay numbers.
* :func:`md_escape` escapes Markdown and inline HTML in the text report.md shows.
* :class:`Forbidden` / :func:`forbidden_values` / :func:`find_leaks`: the voter ids and
  personal values (names, addresses, birth dates, phone numbers, e-mail addresses) of the
  inputs, and where they must not appear in the outputs.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import unicodedata
import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence, Set
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from fieldexp.errors import SpecificationError
from fieldexp.spec.guards import WINDOWS_RESERVED, identifier_kind, personal_kind

if TYPE_CHECKING:
    from fieldexp.report.model import Report

__all__ = [
    "ID_COLUMNS",
    "Forbidden",
    "IdValues",
    "csv_cell",
    "csv_frame",
    "find_leaks",
    "forbidden_values",
    "md_escape",
    "refuse_secrets_inside",
    "safe_name",
    "safe_path",
    "write_csv",
    "write_text",
]

#: Columns of the canonical tables that hold per-person identifiers.
ID_COLUMNS = ("voter_id", "household_id", "unit_id", "cluster", "canvasser")
#: Longest file-name component written (bytes of UTF-8); longer names are shortened
#: with a hash of the full name so they stay distinct.
MAX_COMPONENT_BYTES = 120


# =========================================================================== paths
def safe_name(name: object) -> str:
    """One plain file-name component made from ``name`` (deterministic).

    Letters, digits, ``_``, ``-`` and ``.`` are kept (accented letters too); every other
    character (path separators, NUL and control characters, ``:``, spaces...) becomes
    ``_``. Leading dots and dashes are dropped (no hidden files, nothing read as an
    option), Windows device names (``CON``, ``NUL``, ``COM1``...) get a leading ``_`` and
    names over 120 bytes are cut and suffixed with a hash of the full name.
    """
    text = unicodedata.normalize("NFC", str(name))
    text = "".join(ch if (ch.isalnum() or ch in "_-.") and ch.isprintable() else "_" for ch in text)
    text = text.lstrip(".-").rstrip(". ")
    text = re.sub(r"\.{2,}", ".", text)
    if not text:
        text = "_"
    if text.split(".")[0].upper() in WINDOWS_RESERVED:
        text = "_" + text
    if len(text.encode("utf-8")) > MAX_COMPONENT_BYTES:
        digest = hashlib.sha256(str(name).encode("utf-8", "surrogatepass")).hexdigest()[:12]
        cut = text.encode("utf-8")[: MAX_COMPONENT_BYTES - 13].decode("utf-8", "ignore")
        text = f"{cut}-{digest}"
    return text


def safe_path(out_dir: str | os.PathLike[str], *parts: str) -> Path:
    """``out_dir / part / ...`` with every part through :func:`safe_name`, checked to stay
    under ``out_dir`` once symbolic links are resolved.

    Raises
    ------
    SpecificationError
        When the path would leave ``out_dir`` (e.g. a link inside it points elsewhere).
    """
    if "\x00" in os.fspath(out_dir) or any("\x00" in str(p) for p in parts):
        raise SpecificationError("output folder and file names must not contain NUL characters")
    root = Path(out_dir).resolve()
    if not parts:
        raise SpecificationError("safe_path: give at least one file name under the output folder")
    relative = Path(*(safe_name(p) for p in parts))
    target = (root / relative).resolve()
    if not target.is_relative_to(root) or target == root:
        raise SpecificationError(
            f"output file {relative.as_posix()!r} would be written outside the output folder "
            f"{str(out_dir)!r} (it resolves to {str(target)!r}: a symbolic link inside the "
            "folder points elsewhere); nothing was written. Remove the link or choose "
            "another --out."
        )
    return target


def refuse_secrets_inside(
    out_dir: str | os.PathLike[str], secrets: Iterable[tuple[str, Path]]
) -> None:
    """Refuse to write into ``out_dir`` when a secret file (a salt) lies inside it.

    A salt kept beside the report would be handed on with it, and anyone holding both could
    re-identify the pseudonymised ids.

    Raises
    ------
    SpecificationError
        Naming the key and the file, and what to do instead.
    """
    root = Path(out_dir).expanduser().resolve()
    for where, path in secrets:
        if path.expanduser().resolve().is_relative_to(root):
            raise SpecificationError(
                f"{where}: the salt file {path.name!r} lies inside the output folder "
                f"{str(out_dir)!r}, so it would be handed on with the outputs; keep it outside "
                "every output folder (or choose another --out). Nothing was written."
            )


def write_text(
    out_dir: str | os.PathLike[str], parts: Sequence[str], text: str, *, mode: int = 0o644
) -> Path:
    """Write ``text`` (UTF-8, ``\\n`` line ends) at :func:`safe_path` ``(out_dir, *parts)``.

    Folders are created under ``out_dir`` only. The text goes to a new temporary file in
    the same folder (created exclusively, never through a link) that then replaces the
    target name: an existing file is replaced, never written through, so neither a
    symbolic link created after the check nor a hard link to a file outside ``out_dir``
    can redirect the write. ``mode``: the file's permissions (``0o600`` for files that
    hold voter ids, e.g. ``assignment.csv``).
    """
    path = safe_path(out_dir, *parts)
    root = Path(out_dir).resolve()
    folder = path.parent
    folder.mkdir(parents=True, exist_ok=True)
    if not folder.resolve().is_relative_to(root):  # pragma: no cover - race with a new link
        raise SpecificationError(f"output folder {str(folder)!r} left {str(out_dir)!r}")
    fd, name = tempfile.mkstemp(prefix=f".{path.name[:60]}.", suffix=".tmp", dir=folder)
    tmp = Path(name)
    try:
        if os.chmod in os.supports_fd:
            os.chmod(fd, mode)
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


# =========================================================================== CSV
#: First characters that make a spreadsheet read a cell as a formula (OWASP), with their
#: full-width forms.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")
_NUMBER = re.compile(r"[+-]?(?:\d[\d_]*(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def csv_cell(value: object) -> object:
    """``value`` safe for a spreadsheet: text that would start a formula gets a ``'``.

    Only text is changed: numbers (including text that is a plain number, ``"-3"``,
    ``"+0.5"``) are returned as they are.
    """
    if not isinstance(value, str):
        return value
    head = value.lstrip(" ")
    if head.startswith(FORMULA_START) and not _NUMBER.fullmatch(value.strip()):
        return "'" + value
    return value


def csv_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` with :func:`csv_cell` applied to its text cells and headers."""
    out = frame.copy()
    for col in out.columns:
        s = out[col]
        if s.dtype == object or isinstance(s.dtype, pd.StringDtype | pd.CategoricalDtype):
            out[col] = s.astype(object).map(csv_cell, na_action="ignore")
    out.columns = [csv_cell(str(c)) for c in out.columns]
    return out


def write_csv(
    frame: pd.DataFrame, out_dir: str | os.PathLike[str], *parts: str, mode: int = 0o644
) -> Path:
    """Write ``frame`` as CSV (no index) at ``safe_path(out_dir, *parts)``, cells neutralised."""
    text = csv_frame(frame).to_csv(index=False, lineterminator="\n")
    return write_text(out_dir, parts, text, mode=mode)


# =========================================================================== Markdown
_MD_INLINE = re.compile(r"([\\`*_\[\]|~$^])")
_MD_TAG = re.compile(r"<(?=[A-Za-z/!?])")
_MD_ENTITY = re.compile(r"&(?=#?[A-Za-z0-9]+;?)")
_MD_BLOCK_START = re.compile(
    r"^(#{1,6}(?=\s|$)|>|[-+*](?=\s|$)|\d{1,9}[.)](?=\s|$)|[=-](?=[=-]*\s*$))"
)


def md_escape(text: object, *, cell: bool = False) -> str:
    """``text`` as literal Markdown: no markup, links, images, HTML or math survive.

    Line breaks become spaces (a value cannot start a new block); ``\\ ` * _ [ ] | ~ $ ^``
    are backslash-escaped, as are ``<`` before a tag or autolink and ``&`` before an entity;
    outside table cells, a leading heading, quote or list marker (``# ``, ``>``, ``- ``,
    ``+ ``, ``1. ``) or a line of ``=``/``-`` is escaped so that the value cannot start a
    block of its own.
    """
    s = re.sub(r"[\r\n\u2028\u2029\x0b\x0c]+", " ", str(text))
    s = s.replace("\x00", "")
    s = _MD_INLINE.sub(r"\\\1", s)
    s = _MD_TAG.sub(r"\\<", s)
    s = _MD_ENTITY.sub(r"\\&", s)
    if not cell:
        s = s.lstrip(" \t")
        m = _MD_BLOCK_START.match(s)
        if m:
            s = s[: m.end() - 1] + "\\" + s[m.end() - 1 :]
    return s


# =========================================================================== leaks
_NUMERIC = re.compile(r"-?(?:[1-9]\d*|0)")
_EMPTY_CELLS = {"", "–", "-", "nan", "none"}


def _norm(value: object) -> str:
    return " ".join(str(value).split()).casefold()


class IdValues(Set[str]):
    """The ids of the input id columns, as printed, without a Python string per id.

    Holds each id column once as an Arrow text array (values as :func:`_texts` prints
    them: stripped; whole floats without ``.0``) and looks up many candidates at a time
    (:meth:`hits`: one vectorised pass over each column with the candidates hashed), so a
    report on millions of voters does not build a set of millions of strings. Behaves as a
    read-only set of strings (``in``, ``&``, ``==``, iteration), the empty string excluded.
    """

    __slots__ = ("_arrays", "_set", "_small")

    def __init__(self, small: Iterable[str] = (), arrays: Iterable[pa.Array] = ()) -> None:
        self._small = frozenset(v for v in small if v)
        self._arrays = tuple(arrays)
        self._set: frozenset[str] | None = None

    def hits(self, candidates: Iterable[object]) -> set[str]:
        """The candidates that are ids (exact text match)."""
        cands = {c for c in candidates if isinstance(c, str) and c}
        found = cands & self._small
        rest = cands - found
        if rest and self._arrays:
            value_set = pa.array(sorted(rest), type=pa.string())
            for arr in self._arrays:
                mask = pc.is_in(arr, value_set=value_set)
                if pc.any(mask).as_py():
                    found.update(
                        v for v in pc.unique(pc.filter(arr, mask)).to_pylist() if v is not None
                    )
        return found

    def _all(self) -> frozenset[str]:
        if self._set is None:
            values = set(self._small)
            for arr in self._arrays:
                values.update(v for v in pc.unique(arr).to_pylist() if v)
            self._set = frozenset(values)
        return self._set

    def __contains__(self, value: object) -> bool:
        return bool(self.hits([value]))

    def __iter__(self) -> Iterator[str]:
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._all())

    def __and__(self, other: object) -> set[str]:
        if not isinstance(other, Iterable):
            return NotImplemented
        return self.hits(other)

    __rand__ = __and__


def id_hits(ids: Set[str], candidates: Iterable[str]) -> set[str]:
    """The ``candidates`` in ``ids`` (one batched look-up for :class:`IdValues`)."""
    if isinstance(ids, IdValues):
        return ids.hits(candidates)
    return {c for c in candidates if c in ids}


@dataclass(frozen=True, slots=True)
class Forbidden:
    """What must not appear in any output.

    ``ids``: per-person identifiers (voter, household, unit, canvasser ids). Ids that look
    like integers (``17``) are only looked for where an id could be shown (table columns
    named like an identifier, or holding a near-unique input column), because the same
    digits are everyday counts; other ids are looked for everywhere.
    ``personal``: personal values (names, addresses, birth dates, phone numbers, e-mail
    addresses), normalised (case and spacing). ``unique_columns``: input columns with a
    different value for (nearly) every row: a table grouped by one lists people.
    """

    ids: Set[str] = frozenset()
    personal: frozenset[str] = frozenset()
    unique_columns: frozenset[str] = frozenset()
    personal_columns: tuple[str, ...] = field(default=())

    @classmethod
    def of(cls, value: Forbidden | Iterable[object] | None) -> Forbidden:
        if value is None:
            return cls()
        if isinstance(value, Forbidden):
            return value
        return cls(ids=frozenset(str(x) for x in value))


def _texts(s: pd.Series) -> list[str]:
    """The distinct values of ``s`` as printed (``17.0`` read from a CSV is ``17``)."""
    values = pd.Series(pd.unique(s.dropna()))
    if pd.api.types.is_float_dtype(values):
        whole = values.notna() & (values == values.round())
        return [
            str(int(v)) if w else str(v) for v, w in zip(values, whole, strict=True)
        ]  # few distinct floats in practice
    return values.astype(str).str.strip().tolist()


#: values certainly left unchanged by ``str.strip``: first and last characters ASCII letters,
#: digits or ``_-.@+:/#`` (never whitespace in any definition)
_UNSTRIPPED = r"^[A-Za-z0-9_\-.@+:/#]([\s\S]*[A-Za-z0-9_\-.@+:/#])?$"


def _text_array(s: pd.Series) -> pa.Array | None:
    """The column's values as :func:`_texts` prints them, as an Arrow text array
    (duplicates kept, missing values dropped); None for columns that are not text."""
    if not (
        pd.api.types.is_string_dtype(s.dtype) or isinstance(s.dtype, pd.StringDtype)
    ) or isinstance(s.dtype, pd.CategoricalDtype):
        return None
    try:
        arr = pa.array(s.dropna(), type=pa.string(), from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return None  # an object column mixing numbers and text: printed one by one
    if isinstance(arr, pa.ChunkedArray):  # pragma: no cover - pa.array gives one chunk
        arr = arr.combine_chunks()
    plain = _plain_ends(arr)
    if not plain.all():
        # values with surrounding blanks (or unusual ends): strip them as Python does
        keep, odd = pa.array(plain), pa.array(~plain)
        stripped = pa.array([v.strip() for v in pc.filter(arr, odd).to_pylist()], type=pa.string())
        arr = pa.concat_arrays([pc.filter(arr, keep), stripped])
    return arr


#: the bytes :data:`_UNSTRIPPED` accepts first and last (ASCII: a UTF-8 text starts with one
#: exactly when its first character is it, and ends with one when its last character is)
_PLAIN_BYTES = np.zeros(256, dtype=bool)
_PLAIN_BYTES[list(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-.@+:/#")] = True


def _plain_ends(arr: pa.Array) -> np.ndarray:
    """Per value, whether it matches :data:`_UNSTRIPPED` (so ``str.strip`` leaves it as it
    is), read from the Arrow buffers: its first and last bytes, no regular expression."""
    large = pa.types.is_large_string(arr.type)
    if not (large or pa.types.is_string(arr.type)) or arr.null_count:
        return np.asarray(pc.match_substring_regex(arr, _UNSTRIPPED).to_numpy(zero_copy_only=False))
    _, off_buf, data_buf = arr.buffers()
    raw = np.frombuffer(off_buf, dtype=np.int64 if large else np.int32)
    offsets = raw[arr.offset : arr.offset + len(arr) + 1].astype(np.int64)
    if data_buf is None or not len(offsets) or offsets[-1] == offsets[0]:
        return np.zeros(len(arr), dtype=bool)  # empty texts only
    data = np.frombuffer(data_buf, dtype=np.uint8)
    starts, ends = offsets[:-1], offsets[1:]
    filled = ends > starts
    if filled.all():  # no empty text (ids): one gather of the first and of the last bytes
        return np.asarray(_PLAIN_BYTES[data[starts]] & _PLAIN_BYTES[data[ends - 1]])
    at = np.flatnonzero(filled)
    out = np.zeros(len(arr), dtype=bool)
    out[at] = _PLAIN_BYTES[data[starts[at]]] & _PLAIN_BYTES[data[ends[at] - 1]]
    return out


def _unique_column(s: pd.Series) -> bool:
    """A different value for (nearly) every row: an identifier, whatever its name."""
    if pd.api.types.is_float_dtype(s) or pd.api.types.is_bool_dtype(s):
        return False
    values = s.dropna()
    n = len(values)
    if n < 20:
        return False
    head = values.iloc[:2000]  # cheap first look: most columns repeat early
    if head.nunique() < 0.9 * len(head):
        return False
    return bool(values.nunique() >= 0.9 * n)


def forbidden_values(
    frames: Iterable[pd.DataFrame | None], *, id_columns: Sequence[str] = ID_COLUMNS
) -> Forbidden:
    """Collect the ids and personal values of ``frames`` (the inputs and analysis table).

    Id columns: ``id_columns`` and every column named like a per-person identifier
    (:func:`fieldexp.spec.guards.identifier_kind`); personal columns: every column named
    like personal data (:func:`fieldexp.spec.guards.personal_kind`), whatever the spelling.
    The columns are read two at a time (their work is in Arrow and pandas' hash tables, which
    release the GIL); what is collected does not depend on it.
    """
    columns = [
        (str(col), frame[col])
        for frame in frames
        if isinstance(frame, pd.DataFrame)
        for col in frame.columns
    ]
    with warnings.catch_warnings(), ThreadPoolExecutor(max_workers=2) as pool:
        # (catch_warnings: any filter a worker's library code sets is dropped at the end)
        facts = list(pool.map(lambda c: _column_facts(c[0], c[1], id_columns), columns))
    ids: set[str] = set()
    arrays: list[pa.Array] = []
    personal: set[str] = set()
    unique: set[str] = set()
    pcols: list[str] = []
    for (name, _), fact in zip(columns, facts, strict=True):
        arrays.extend(fact.arrays)
        ids.update(fact.ids)
        personal.update(fact.personal)
        if fact.personal_column:
            pcols.append(name)
        if fact.unique:
            unique.add(name)
    return Forbidden(IdValues(ids, arrays), frozenset(personal), frozenset(unique), tuple(pcols))


@dataclass(frozen=True, slots=True)
class _ColumnFacts:
    arrays: tuple[pa.Array, ...]
    ids: tuple[str, ...]
    personal: tuple[str, ...]
    personal_column: bool
    unique: bool


def _column_facts(name: str, s: pd.Series, id_columns: Sequence[str]) -> _ColumnFacts:
    """What one input column adds to :class:`Forbidden` (see :func:`forbidden_values`)."""
    arrays: list[pa.Array] = []
    ids: list[str] = []
    personal: list[str] = []
    if name in id_columns or identifier_kind(name) is not None:
        arr = _text_array(s)
        if arr is not None:
            arrays.append(arr)
            values = (
                [v for v in pc.unique(arr).to_pylist() if v is not None]
                if "canvasser" in name.lower()
                else []
            )
        else:
            values = _texts(s)
            ids.extend(v for v in values if v)
        if "canvasser" in name.lower():
            personal.extend(_norm(v) for v in values if len(v) >= 2)
    is_personal = personal_kind(name) is not None
    unique = False
    if is_personal:
        personal.extend(n for n in (_norm(v) for v in _texts(s)) if len(n) >= 2)
    else:
        unique = _unique_column(s)
    return _ColumnFacts(tuple(arrays), tuple(ids), tuple(personal), is_personal, unique)


def _distinctive_personal(value: str) -> bool:
    """A personal value that cannot be a coincidence (an e-mail, an address, a date...)."""
    return len(value) >= 6 and ("@" in value or any(ch.isdigit() for ch in value) or " " in value)


def _distinctive_id(value: str) -> bool:
    """An id that cannot be a coincidence in text: digits *and* other characters (``V0012``).

    All-digit ids (``17``, ``00123``) read like counts or codes; ids without digits read
    like words: both are looked for only where ids could be shown (see :func:`find_leaks`).
    """
    return (
        len(value) >= 3
        and any(ch.isdigit() for ch in value)
        and not value.isdigit()
        and not _NUMERIC.fullmatch(value)
    )


_TOKEN = re.compile(r"[\w\-.@+]+")
_PIECE = re.compile(r"([._\-+@])")


def _token_candidates(token: str) -> Iterable[str]:
    """The token and every run of its pieces between separators (``a_V001.csv`` -> ``V001``)."""
    parts = _PIECE.split(token)
    pieces = parts[0::2]
    if len(pieces) > 16:
        yield token
        return
    for i in range(len(pieces)):
        for j in range(i, len(pieces)):
            yield "".join(parts[2 * i : 2 * j + 1])


def _text_leaks(texts: Iterable[str], ids: Set[str], emails: set[str]) -> list[str]:
    """Distinctive ids (:func:`_distinctive_id`) and e-mail addresses in the text.

    Every candidate of every text is collected first, then looked up in ``ids`` at once.
    """
    candidates: set[str] = set()
    mails: set[str] = set()
    for text in texts:
        for m in _TOKEN.finditer(text):
            token = m.group(0)
            for cand in _token_candidates(token):
                if _distinctive_id(cand):
                    candidates.add(cand)
                if "@" in cand and cand.casefold() in emails:
                    mails.add(cand)
    found: dict[str, set[str]] = {}
    hits = id_hits(ids, candidates)
    if hits:
        found["input id(s)"] = hits
    # a candidate counted as an id is not also counted as an e-mail (as before)
    mails -= hits
    if mails:
        found["e-mail address(es)"] = mails
    return [f"{len(v)} {k} in the text" for k, v in sorted(found.items())]


def _cell_text(value: object) -> str | None:
    """A table cell as the label it shows (text and whole numbers; not estimates)."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, int | np.integer) and not isinstance(value, bool):
        return str(int(value))
    return None


def find_leaks(
    report: Report | None,
    texts: Mapping[str, str] | Iterable[str],
    forbidden: Forbidden | Iterable[object] | None,
) -> list[str]:
    """Where ``forbidden`` values appear in the outputs; one description per problem.

    The descriptions say which table and column, never the values themselves. Checks:

    * ids mixing digits and other characters (``V0000123``, ``NC-88``) anywhere in
      ``texts`` (whole tokens or parts of file-name-like tokens);
    * other ids (all digits, or no digit) only in table columns named like an identifier
      or holding a near-unique input column (never counts or estimates);
    * table columns holding a near-unique input column, or named like personal data;
    * personal values in text cells of tables: any e-mail, address, full name or date;
      single words (first or last names) when they make up half or more of a column's
      distinct cells (so a precinct that shares its name with a voter is not a leak).
    """
    fb = Forbidden.of(forbidden)
    bodies = list(texts.values()) if isinstance(texts, Mapping) else list(texts)
    emails = {p for p in fb.personal if "@" in p}
    problems = _text_leaks(bodies, fb.ids, emails)
    if report is None:
        return problems
    for table in report.tables():
        for j, (column, fmt) in enumerate(zip(table.columns, table.formats, strict=True)):
            cells = {
                c
                for c in (_cell_text(r[j]) for r in table.rows)
                if c is not None and _norm(c) not in _EMPTY_CELLS and not c.startswith("<")
            }
            if fmt != "text" or not cells:
                continue
            where = f"table {table.key!r}, column {column!r}"
            if column in fb.unique_columns:
                problems.append(
                    f"{where}: the input column {column!r} has a different value for "
                    "(nearly) every row (an identifier)"
                )
                continue
            kind = personal_kind(column)
            if kind is not None:
                problems.append(f"{where}: the column is named like personal data ({kind})")
                continue
            if identifier_kind(column) is not None:
                hits = id_hits(fb.ids, cells)
                if hits:
                    problems.append(f"{where}: {len(hits)} input id(s)")
                    continue
            normed = {_norm(c) for c in cells}
            hits = normed & fb.personal
            strong = {h for h in hits if _distinctive_personal(h)}
            if strong or (len(hits) >= 2 and 2 * len(hits) >= len(normed)):
                problems.append(
                    f"{where}: {len(hits)} value(s) of personal columns of the inputs"
                    + (f" ({', '.join(fb.personal_columns[:4])})" if fb.personal_columns else "")
                )
    return problems
