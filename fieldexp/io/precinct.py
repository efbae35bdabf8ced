"""French Ministry of the Interior results by polling station (bureau de vote).

Every published vintage since 2012 is read into the long ``precinct_results`` table
(one row per bureau and candidate/list). The layouts (``docs/data.md`` lists which were
checked against published headers):

* **wide, one labelled block** (présidentielles/législatives 2017 and 2022, européennes
  2019, municipales 2020): ``;``- or tab-separated, Latin-1, one row per bureau; the
  header names the bureau fields and the *first* candidate block (``N°Panneau; Sexe;
  Nom; Prénom; [Nuance;] Voix; % Voix/Ins; % Voix/Exp``); later blocks follow on the
  same row without header names.
* **wide, repeated block header**: the same, but the block names are written once per
  block (``...; Voix; ...; N°Panneau; ...; Voix``) or were mangled by pandas on a
  round trip (``Voix.1``, ``Voix.2``, ``Unnamed: 30``).
* **wide, numbered blocks** (2024): ``Numéro de panneau 1 ... Voix 1 ... Numéro de
  panneau 2``; ``Votants`` beside ``% Votants``; quoted fields in the European file
  (``Nuance liste 1``, ``Libellé de liste 1``, ``Sièges 1``).
* **headerless, one row per candidate** (2012 and 2014): Latin-1, 13 or 15 fields
  whose order comes from the ``fr_headerless`` mapping table (override with
  ``mapping={'options': {'names': [...]}}``); lines starting with ``--`` are comments.

Columns starting with ``%`` are derived percentages and are never read. Conservation:
per bureau the candidate votes must sum to ``expressed`` (a mismatch is a
:class:`~fieldexp.errors.FileFormatError` naming the bureau and the file line), a line
with fewer fields than the header is refused with its line number, and
``attrs["fieldexp_import"]`` records lines read, bureaux and candidate rows.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from fieldexp.errors import (
    FieldexpWarning,
    FileFormatError,
    RowsDroppedWarning,
    SpecificationError,
    did_you_mean,
)
from fieldexp.errors import format_rows as _format_rows
from fieldexp.io._common import IMPORT_ATTR, as_int, note_import
from fieldexp.io._text import sniff
from fieldexp.io.mappings import (
    MappingSpec,
    column_aliases,
    mapping_table,
    normalize_name,
    parse_mapping,
)
from fieldexp.io.schema import PRECINCT_RESULTS, validate_precinct_results
from fieldexp.io.voters import bureau_id, department_code, insee_commune

__all__ = ["candidate_key", "insee_commune", "read_precinct_results"]

PRECINCT_FORMATS = ("fr-interieur",)
BLOCK_FIELDS = frozenset(
    {
        "candidate",
        "nuance",
        "sex",
        "last_name",
        "first_name",
        "list_label",
        "list_short",
        "list_head",
        "votes",
    }
)
FIXED_REQUIRED = ("commune_code", "bureau_code", "registered", "voters", "expressed")
_SUFFIX = re.compile(r"^(?P<base>.*?)\s*(?P<n>\d+)$")
_MANGLED = re.compile(r"^(?P<base>.+)\.(?P<n>\d+)$")
_UNNAMED = re.compile(r"^Unnamed: \d+(_level_\d+)?$")


def format_lines(lines: Any, *, total: int | None = None) -> str:
    """``format_rows`` worded for file lines: ``line 3`` / ``lines 3, 7``."""
    return _format_rows(lines, total=total).replace("rows", "lines").replace("row ", "line ")


def candidate_key(label: object) -> str:
    """A readable ASCII key for a candidate or list label.

    ``"MÉLENCHON Jean-Luc"`` -> ``"MELENCHON_Jean_Luc"``; ``"Liste d'union à gauche"``
    -> ``"Liste_d_union_a_gauche"``. Accents are folded (NFKD), ``œ``/``æ`` spelled out,
    every run of other characters becomes one ``_``.
    """
    text = str(label).replace("œ", "oe").replace("Œ", "OE").replace("æ", "ae").replace("Æ", "AE")
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return re.sub(r"[^0-9A-Za-z]+", "_", text).strip("_") or "x"


@dataclass(frozen=True)
class _Col:
    canon: str | None  # canonical name, or None (ignored column)
    number: int | None  # numbered block (``Voix 3`` -> 3)
    repeat: int | None  # pandas repetition (``Voix.2`` -> 2)


def _canonical(name: str, aliases: dict[str, str], user: dict[str, str]) -> str | None:
    if name in user:
        return user[name]
    return aliases.get(normalize_name(name))


def _classify(name: str, aliases: dict[str, str], user: dict[str, str]) -> _Col:
    """What a header name means: ``Voix 3``, ``Voix.2``, ``% Votants``, ``Unnamed: 30``."""
    h = name.strip().lstrip("\ufeff")
    if name in user:
        return _Col(user[name], None, None)
    if not h or _UNNAMED.match(h) or h.startswith("%"):
        return _Col(None, None, None)
    canon = _canonical(h, aliases, user)
    if canon is not None:
        return _Col(canon, None, None)
    m = _MANGLED.match(h)
    if m:
        inner = _classify(m.group("base"), aliases, user)
        if inner.canon is not None:
            return _Col(inner.canon, inner.number, int(m.group("n")))
        return _Col(None, None, None)
    m = _SUFFIX.match(h)
    if m:
        base = _canonical(m.group("base"), aliases, user)
        if base is not None:
            return _Col(base, int(m.group("n")), None)
    return _Col(None, None, None)


def read_precinct_results(
    path: str | Path,
    *,
    format: str = "fr-interieur",
    mapping: Any = None,
) -> pd.DataFrame:
    """Read official results per polling station into the ``precinct_results`` table.

    Parameters
    ----------
    path
        A Ministry of the Interior results file (UTF-8, Windows-1252 or Latin-1;
        ``;``- or tab-separated; quoted or not).
    format
        ``"fr-interieur"`` (every vintage above).
    mapping
        Column names (``{file column: canonical}``) and ``options``: ``election_id``
        (default: the file name without extension; ``_t<round>`` is appended when the
        file has a round column), ``encoding``, ``delimiter``, ``header`` (force
        True/False), ``names`` (column order of headerless files), ``plurinominal``
        (each ballot may name several candidates, as in municipales of communes under
        1,000 inhabitants: per bureau the votes must then cover ``expressed`` instead of
        summing to it).

    Returns
    -------
    DataFrame
        Validated ``precinct_results``: one row per bureau and candidate, with the
        bureau's ``registered, voters, abstentions, blank, null, expressed`` repeated,
        ``candidate_label`` (list label, else ``NOM Prénom``) and ``candidate_key``
        (its ASCII form, see :func:`candidate_key`). Files before 2014 count blank and
        null ballots together: ``blank`` is missing and ``null`` holds *blancs et nuls*.

    Raises
    ------
    FileFormatError
        Unreadable layout, truncated line, a bureau whose candidate votes do not sum
        to ``expressed`` (:math:`\\sum_c \\text{votes}_{b,c} = \\text{expressed}_b`),
        a commune code that cannot be placed in a département.
    """
    if format not in PRECINCT_FORMATS:
        raise SpecificationError(
            f"read_precinct_results: format must be one of {list(PRECINCT_FORMATS)}, got "
            f"{format!r}." + did_you_mean(str(format), list(PRECINCT_FORMATS))
        )
    spec = parse_mapping(mapping)
    p = Path(path)
    _refuse_workbook(p)
    info = sniff(
        p,
        table="precinct_results",
        encoding=spec.option("encoding"),
        fallback_encoding="cp1252",
        delimiter=spec.option("delimiter", None),
    )
    text = _decode(p, info.encoding)
    delim = info.delimiter
    if spec.option("delimiter") is None and info.first_line.lstrip().startswith("--"):
        # comment lines ('-- ...') before the data: sniff the delimiter on the first data line
        first = next(
            (ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("--")),
            "",
        )
        delim = max((";", "\t", ",", "|"), key=first.count)
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delim))
    except csv.Error as exc:
        raise FileFormatError(
            f"precinct_results: file {p.name!r} cannot be parsed: {exc}"
        ) from None
    numbered = [(i + 1, r) for i, r in enumerate(rows) if any(f.strip() for f in r)]
    comments = [ln for ln, r in numbered if r[0].lstrip().startswith("--")]
    numbered = [(ln, r) for ln, r in numbered if not r[0].lstrip().startswith("--")]
    if not numbered:
        raise FileFormatError(f"precinct_results: file {p.name!r} is empty (no header, no rows)")
    header_opt = spec.option("header")
    first_names = [normalize_name(f) for f in numbered[0][1]]
    has_header = header_opt if header_opt is not None else ("inscrits" in first_names)
    base_id = str(spec.option("election_id", p.stem))
    if has_header:
        df, n_read = _wide(numbered, p, spec)
    else:
        df, n_read = _headerless(numbered, p, spec)
    layout = df.attrs.pop("fr_layout", "wide" if has_header else "headerless")
    no_candidates = int(df.attrs.pop("fr_empty", 0))
    if "round" in df.columns:
        df["election_id"] = base_id + "_t" + df["round"].astype("str").str.strip()
    else:
        df["election_id"] = base_id
    plurinominal = spec.option("plurinominal", False)
    if not isinstance(plurinominal, bool):
        raise SpecificationError(
            f"read_precinct_results: option plurinominal must be true or false, got {plurinominal!r}"
        )
    out = _finish(df, p, plurinominal=plurinominal)
    noted = note_import(
        out,
        path=p,
        fmt=format,
        rows_read=n_read,
        set_aside={"bureau line without candidates or expressed ballots": no_candidates},
    )
    noted.attrs[IMPORT_ATTR].update(
        {
            "layout": layout,
            "comment_lines": len(comments),
            "bureaux": int(out[["precinct_id", "election_id"]].drop_duplicates().shape[0]),
            "candidate_rows": len(out),
            "votes": int(out["votes"].sum()),
        }
    )
    return noted


def _refuse_workbook(p: Path) -> None:
    """Excel workbooks (the Interior also publishes .xlsx) are not text: say so up front."""
    if not p.is_file():
        return
    with p.open("rb") as fh:
        head = fh.read(8)
    if head.startswith(b"PK\x03\x04") or head.startswith(b"\xd0\xcf\x11\xe0"):
        raise FileFormatError(
            f"precinct_results: file {p.name!r} is an Excel workbook (or another archive), not "
            "a text file: download the .txt/.csv version of the results, or save the sheet as "
            "CSV (UTF-8, ';'-separated)"
        )


def _decode(p: Path, encoding: str) -> str:
    data = p.read_bytes()
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError:
        if encoding.lower().replace("-", "") not in ("cp1252", "windows1252"):
            raise FileFormatError(
                f"precinct_results: file {p.name!r} does not decode as {encoding}"
            ) from None
        text = data.decode("latin-1")  # ISO-8859-1 decodes every byte
    return text[1:] if text.startswith("\ufeff") else text


def _wide(
    numbered: list[tuple[int, list[str]]], p: Path, spec: MappingSpec
) -> tuple[pd.DataFrame, int]:
    aliases = column_aliases("precinct_results", "fr-interieur")
    header = [h.strip().lstrip("\ufeff") for h in numbered[0][1]]
    cols = [_classify(h, aliases, spec.columns) for h in header]
    starts = [i for i, c in enumerate(cols) if c.canon in BLOCK_FIELDS]
    if not starts:
        raise FileFormatError(
            f"precinct_results: file {p.name!r} has no candidate block (no column like "
            f"'N°Panneau', 'Numéro de panneau 1', 'Voix'); header: {header[:25]}"
        )
    start = starts[0]
    fixed: dict[str, int] = {}
    for i, c in enumerate(cols[:start]):
        if c.canon is None:
            continue
        if c.canon in fixed:
            raise FileFormatError(
                f"precinct_results: file {p.name!r} has two columns for {c.canon!r} "
                f"({header[fixed[c.canon]]!r} and {header[i]!r}); map one of them to "
                "another name with mapping={'<file column>': '<name>'}"
            )
        fixed[c.canon] = i
    for need in FIXED_REQUIRED:
        if need not in fixed:
            hint = did_you_mean(need, list(fixed))
            raise FileFormatError(
                f"precinct_results: file {p.name!r} has no column for {need!r}; header: "
                f"{header[:start]}. Name it with mapping={{'<file column>': '{need}'}}.{hint}"
            )
    numbered_blocks = any(c.number is not None for c in cols[start:] if c.canon in BLOCK_FIELDS)
    if numbered_blocks:
        blocks, width = _numbered_blocks(cols, header, start, p), 0
    else:
        blocks, width = _repeated_blocks(cols, header, start, p)
    records: list[dict[str, Any]] = []
    empty: list[tuple[int, str]] = []  # bureau lines without any candidate block
    for line, raw in numbered[1:]:
        row = [f.strip() for f in raw]
        if len(row) < len(header) and (numbered_blocks or len(row) < start + width):
            raise FileFormatError(
                f"precinct_results: file {p.name!r}: line {line} has {len(row)} fields but "
                f"the header has {len(header)} (truncated line?)"
            )
        base: dict[str, Any] = {canon: row[i] for canon, i in fixed.items()}
        base["_line"] = line
        if numbered_blocks:
            row_blocks = [
                {**{c: row[i] for c, i in b.items() if c != "_n"}, "_n": str(b["_n"])}
                for b in blocks
            ]
        else:
            tail = row[start:]
            extra = len(tail) % width
            if extra and any(tail[len(tail) - extra :]):
                raise FileFormatError(
                    f"precinct_results: file {p.name!r}: line {line} has {len(tail)} candidate "
                    f"fields, not a multiple of the block width {width} (truncated line, a "
                    "delimiter inside a name, or extra columns?)"
                )
            row_blocks = [
                {**{c: tail[k * width + off] for c, off in blocks[0].items()}, "_n": str(k + 1)}
                for k in range(len(tail) // width)
            ]
        kept = [b for b in row_blocks if any(v for c, v in b.items() if c != "_n")]
        if not kept:
            empty.append((line, base.get("expressed", "")))
        records.extend({**base, **b} for b in kept)
    n_read = len(numbered) - 1
    if n_read == 0 or not records:
        raise FileFormatError(f"precinct_results: file {p.name!r} has a header but no rows")
    df = pd.DataFrame.from_records(records)
    if "candidate" not in df.columns:
        df["candidate"] = df["_n"]
    else:
        df["candidate"] = df["candidate"].where(df["candidate"] != "", df["_n"])
    out = df.drop(columns="_n")
    if empty:
        _no_candidates(empty, p)
        out.attrs["fr_empty"] = len(empty)
    repeated = any(c.canon is not None for c in cols[start + max(width, 1) :])
    out.attrs["fr_layout"] = (
        "wide, numbered blocks"
        if numbered_blocks
        else ("wide, repeated block header" if repeated else "wide, one labelled block")
    )
    return out, n_read


def _no_candidates(empty: list[tuple[int, str]], p: Path) -> None:
    """Bureau lines with no candidate: an error if ballots were expressed, else set aside."""
    expressed = as_int(
        pd.Series([e for _, e in empty], index=[ln for ln, _ in empty]),
        column="expressed",
        table="precinct_results",
        path=p,
    )
    lost = expressed.fillna(0) > 0
    if lost.any():
        raise FileFormatError(
            f"precinct_results: file {p.name!r}: bureau {format_lines(expressed.index[lost])} "
            f"list(s) no candidate votes but {int(expressed[lost].iloc[0])} expressed ballots "
            "(blocks cut off the line?)"
        )
    warnings.warn(
        f"precinct_results: file {p.name!r}: {len(empty)} bureau line(s) without candidates "
        f"and no expressed ballot set aside ({format_lines([ln for ln, _ in empty])})",
        RowsDroppedWarning,
        stacklevel=4,
    )


def _numbered_blocks(
    cols: list[_Col], header: list[str], start: int, p: Path
) -> list[dict[str, Any]]:
    by_n: dict[int, dict[str, Any]] = {}
    for i in range(start, len(cols)):
        c = cols[i]
        if c.canon is None:
            continue
        if c.number is None or c.canon not in BLOCK_FIELDS:
            raise FileFormatError(
                f"precinct_results: file {p.name!r} mixes numbered candidate blocks with the "
                f"unnumbered column {header[i]!r}; rename it with mapping= or remove it"
            )
        block = by_n.setdefault(c.number, {"_n": c.number})
        if c.canon in block:
            raise FileFormatError(
                f"precinct_results: file {p.name!r}: candidate block {c.number} has two columns "
                f"for {c.canon!r} ({header[block[c.canon]]!r} and {header[i]!r})"
            )
        block[c.canon] = i
    missing = [n for n, b in by_n.items() if "votes" not in b]
    if missing:
        raise FileFormatError(
            f"precinct_results: file {p.name!r}: candidate block(s) {missing[:5]} have no "
            "votes column ('Voix <n>')"
        )
    return [by_n[k] for k in sorted(by_n)]


def _repeated_blocks(
    cols: list[_Col], header: list[str], start: int, p: Path
) -> tuple[list[dict[str, int]], int]:
    """Block offsets from the first block; checks that repeated header blocks match it."""
    first_canon = cols[start].canon
    end = len(cols)
    for j in range(start + 1, len(cols)):
        if cols[j].canon == first_canon or not header[j] or _UNNAMED.match(header[j]):
            end = j
            break
    width = end - start
    block: dict[str, int] = {}
    for i in range(start, end):
        c = cols[i]
        if c.canon is None:
            continue
        if c.canon in block:
            raise FileFormatError(
                f"precinct_results: file {p.name!r}: the candidate block has two columns for "
                f"{c.canon!r} ({header[start + block[c.canon]]!r} and {header[i]!r})"
            )
        block[c.canon] = i - start
    if "votes" not in block:
        raise FileFormatError(
            f"precinct_results: file {p.name!r}: the candidate block {header[start:end]} has "
            "no votes column ('Voix')"
        )
    # later header blocks (repeated names, pandas 'Voix.1', or 'Unnamed: n') must line up
    for j in range(end, len(cols)):
        c = cols[j]
        off = (j - start) % width
        expected = cols[start + off].canon
        if c.canon is not None and c.canon != expected:
            raise FileFormatError(
                f"precinct_results: file {p.name!r}: header column {j + 1} {header[j]!r} does "
                f"not repeat the candidate block {header[start:end]} (expected a column for "
                f"{expected!r} there)"
            )
    return [block], width


def _headerless(
    numbered: list[tuple[int, list[str]]], p: Path, spec: MappingSpec
) -> tuple[pd.DataFrame, int]:
    names = spec.option("names")
    width = len(numbered[0][1])
    if names is None:
        t = mapping_table("fr_headerless")
        known = {int(str(w)): g for w, g in t.groupby("width")}
        if width not in known:
            raise FileFormatError(
                f"precinct_results: headerless file {p.name!r} must have "
                f"{' or '.join(str(w) for w in sorted(known))} fields per line (the 2014 or 2012 "
                f"layout); line {numbered[0][0]} has {width}. If this file has a header whose "
                "names are not recognised, or another column order, pass "
                "mapping={'options': {'names': [...]}}"
            )
        g = known[width]
        names = list(g.sort_values("position", key=lambda s: s.astype(int))["canonical"])
    bad = [ln for ln, r in numbered if len(r) != len(names)]
    if bad:
        raise FileFormatError(
            f"precinct_results: headerless file {p.name!r} must have {len(names)} fields per "
            f"line ({', '.join(names)}); {format_lines(bad)} differ (truncated or extra fields)"
        )
    recs = [
        {**dict(zip(names, (f.strip() for f in r), strict=True)), "_line": ln} for ln, r in numbered
    ]
    out = pd.DataFrame.from_records(recs)
    out.attrs["fr_layout"] = f"headerless, {len(names)} fields"
    return out, len(numbered)


def _per_unique(func: Any, *columns: pd.Series) -> list[Any]:
    """``func`` applied once per distinct tuple of values (files repeat them per candidate)."""
    arrays = [c.to_numpy(dtype=object) for c in columns]  # arrow strings iterate slowly
    keys = list(zip(*arrays, strict=True))
    cache = {k: func(*k) for k in dict.fromkeys(keys)}
    return [cache[k] for k in keys]


def _communes(df: pd.DataFrame, p: Path) -> pd.DataFrame:
    dept = df["department_code"] if "department_code" in df.columns else None
    no_dept = pd.Series([""] * len(df), index=df.index)
    communes = _per_unique(insee_commune, dept if dept is not None else no_dept, df["commune_code"])
    bad = [i for i, c in enumerate(communes) if c is None]
    if bad:
        labels = df.index[bad]
        example = df["commune_code"].iloc[bad[0]]
        raise FileFormatError(
            f"precinct_results: file {p.name!r}: commune code {example!r} cannot be placed in a "
            f"département (a code of 1-3 digits needs the département column; found in "
            f"{format_lines(pd.unique(labels), total=len(pd.unique(labels)))}). Map the "
            "département column with mapping={'<file column>': 'department_code'}"
        )
    placed = pd.Series([c for c in communes if c is not None], index=df.index)
    out = df.assign(commune_code=placed)

    def dept_of(d: object, c: str) -> str:
        given = str(d).strip()
        return department_code(given) if given else (c[:3] if c.startswith("97") else c[:2])

    out["department_code"] = _per_unique(dept_of, dept if dept is not None else no_dept, placed)
    return out


def _labels(df: pd.DataFrame) -> pd.Series:
    label = pd.Series("", index=df.index, dtype="object")
    if "last_name" in df.columns:
        first = df["first_name"].fillna("") if "first_name" in df.columns else ""
        label = (df["last_name"].fillna("") + " " + first).str.strip()
    for col in ("list_short", "list_label"):
        if col in df.columns:
            value = df[col].fillna("").astype("str").str.strip()
            label = value.where(value != "", label)
    return label.where(label != "", None)


def _finish(df: pd.DataFrame, p: Path, *, plurinominal: bool = False) -> pd.DataFrame:
    df.index = pd.Index(df.pop("_line"), name="line")
    df = _communes(df, p)
    df["bureau_code"] = df["bureau_code"].astype("str").str.strip()
    df["precinct_id"] = _per_unique(bureau_id, df["commune_code"], df["bureau_code"])
    for col in ("registered", "voters", "abstentions", "blank", "null", "expressed", "votes"):
        if col in df.columns:
            df[col] = as_int(df[col], column=col, table="precinct_results", path=p)
    abstentions_given = "abstentions" in df.columns
    if not abstentions_given:
        df["abstentions"] = df["registered"] - df["voters"]
    split = "null" in df.columns and "blank" in df.columns
    if "null" not in df.columns:
        df["null"] = df["voters"] - df["expressed"] - df.get("blank", 0)
    if "candidate_label" not in df.columns:
        df["candidate_label"] = _labels(df)
    df["candidate_key"] = _per_unique(
        lambda v: None if v is None or pd.isna(v) else candidate_key(v), df["candidate_label"]
    )
    df["candidate"] = df["candidate"].astype("str").str.strip()
    keys = ["precinct_id", "election_id"]
    lines = pd.Series(df.index, index=df.index)
    dup = df.duplicated([*keys, "candidate"], keep=False)
    if dup.any():
        first = df[dup].iloc[0]
        at = lines[dup & (df["precinct_id"] == first["precinct_id"])].unique().tolist()
        raise FileFormatError(
            f"precinct_results: file {p.name!r}: bureau {first['precinct_id']!r} "
            f"({first['election_id']}) lists candidate {first['candidate']!r} more than once, on "
            f"{format_lines(at)} (concatenated exports or a repeated line?); "
            f"{int(dup.sum())} rows involved"
        )
    # a bureau's totals must agree across its candidate rows (headerless layout)
    for col in ("registered", "voters", "expressed"):
        n = df.groupby(keys)[col].nunique(dropna=False)
        if (n > 1).any():
            bad = n[n > 1].index[0]
            at = lines[(df["precinct_id"] == bad[0]) & (df["election_id"] == bad[1])]
            raise FileFormatError(
                f"precinct_results: file {p.name!r}: bureau {bad[0]!r} ({bad[1]}) has different "
                f"{col!r} totals on its candidate rows ({format_lines(at.tolist())})"
            )
    _conservation(
        df,
        p,
        keys,
        lines,
        abstentions_given=abstentions_given,
        split=split,
        plurinominal=bool(plurinominal),
    )
    canon = [c.name for c in PRECINCT_RESULTS.columns]
    extras = ("candidate_key", "round", "commune_label", "constituency_code", "sex", "list_short")
    keep = [c for c in canon if c in df.columns] + [c for c in extras if c in df.columns]
    return validate_precinct_results(df[keep])


def _conservation(
    df: pd.DataFrame,
    p: Path,
    keys: list[str],
    lines: pd.Series,
    *,
    abstentions_given: bool,
    split: bool,
    plurinominal: bool,
) -> None:
    """Per bureau: sum of candidate votes == expressed (error); other identities (warning).

    With ``plurinominal`` (each ballot may name several candidates: municipales in
    communes under 1,000 inhabitants) the rule is ``expressed <= sum`` and every
    candidate ``<= expressed``.
    """
    g = df.groupby(keys, sort=False)
    total = g["votes"].sum(min_count=1)
    present = [c for c in ("registered", "voters", "expressed", "abstentions", "blank", "null")]
    bureau = g[[c for c in present if c in df.columns]].first()
    first_line = lines.groupby([df[k] for k in keys], sort=False).min()
    exp = bureau["expressed"]
    if plurinominal:
        top = g["votes"].max()
        bad = total.notna() & exp.notna() & ((total < exp) | (top > exp))
    else:
        bad = total.notna() & exp.notna() & (total != exp)
    if bad.any():
        shown = [
            f"bureau {k[0]!r} (line {first_line[k]}): votes sum to {int(total[k])}, expressed "
            f"is {int(bureau['expressed'][k])}"
            for k in bad[bad].index[:5]
        ]
        more = f" (and {int(bad.sum()) - 5} more bureaux)" if bad.sum() > 5 else ""
        raise FileFormatError(
            f"precinct_results: file {p.name!r}: per bureau the candidate votes must "
            f"{'cover' if plurinominal else 'sum to'} 'expressed' (Exprimés); {'; '.join(shown)}{more}. A candidate block is missing or "
            "truncated, or a count was edited."
            + (
                " If each ballot may name several candidates (municipales in communes under "
                "1,000 inhabitants), pass mapping={'options': {'plurinominal': True}}."
                if not plurinominal and bool((total[bad] > exp[bad]).any())
                else ""
            )
        )
    checks = []
    if abstentions_given:
        checks.append(
            (
                "registered = voters + abstentions",
                bureau["voters"] + bureau["abstentions"],
                bureau["registered"],
            )
        )
    if split:
        checks.append(
            (
                "voters = blank + null + expressed",
                bureau["blank"] + bureau["null"] + bureau["expressed"],
                bureau["voters"],
            )
        )
    for rule, lhs, rhs in checks:
        off = lhs.notna() & rhs.notna() & (lhs != rhs)
        if off.any():
            where = ", ".join(f"{k[0]!r} (line {first_line[k]})" for k in off[off].index[:5])
            warnings.warn(
                f"precinct_results: file {p.name!r}: {int(off.sum())} bureau(x) break "
                f"{rule}: {where}",
                FieldexpWarning,
                stacklevel=4,
            )
