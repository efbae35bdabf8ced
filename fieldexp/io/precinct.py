"""French Ministry of the Interior results by polling station (bureau de vote).

Three layouts are read, all to the long ``precinct_results`` table (one row per bureau
and candidate/list):

* **wide, unsuffixed** (2017-2022 style): ``;``-separated, one row per bureau; the header
  names the bureau fields and the *first* candidate block (``N°Panneau; Sexe; Nom;
  Prénom; Voix; % Voix/Ins; % Voix/Exp``); later blocks repeat on the same row
  without header names.
* **wide, suffixed** (2024 style): every block is named, with numeric suffixes
  (``Numéro de panneau 1 ... Voix 1 ... Numéro de panneau 2``).
* **headerless, one row per candidate** (2014 and earlier): Latin-1, no header; the
  column order comes from the ``fr_headerless`` mapping table (override with
  ``mapping={'options': {'names': [...]}}``).

Header names drift between elections (``Code du b.vote`` / ``Code B.Vote`` /
``Code BV``; ``N°Panneau`` / ``N.Pan.`` / ``Numéro de panneau``; ``Nuance`` /
``Code Nuance``); the ``columns`` mapping table lists the known spellings and names are
matched without accents, case or punctuation. The commune code is département +
commune (``commune_code``); ``precinct_id`` = ``<INSEE commune>_<bureau>``.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any

import pandas as pd

from fieldexp.errors import FileFormatError, SpecificationError, did_you_mean
from fieldexp.io._common import as_int, note_import
from fieldexp.io._text import sniff
from fieldexp.io.mappings import (
    MappingSpec,
    column_aliases,
    mapping_table,
    normalize_name,
    parse_mapping,
)
from fieldexp.io.schema import PRECINCT_RESULTS, validate_precinct_results
from fieldexp.io.voters import bureau_id, commune_code, department_code

__all__ = ["read_precinct_results"]

PRECINCT_FORMATS = ("fr-interieur",)
BLOCK_FIELDS = frozenset(
    {"candidate", "nuance", "sex", "last_name", "first_name", "list_label", "votes"}
)
_SUFFIX = re.compile(r"^(?P<base>.*?)\s*(?P<n>\d+)$")


def _canonical(name: str, aliases: dict[str, str], user: dict[str, str]) -> str | None:
    if name in user:
        return user[name]
    key = normalize_name(name)
    return aliases.get(key)


def _block_name(
    name: str, aliases: dict[str, str], user: dict[str, str]
) -> tuple[str | None, int | None]:
    """``Voix 3`` -> ("votes", 3); ``Voix`` -> ("votes", None); ``% Voix/Ins 2`` -> (None, 2)."""
    canon = _canonical(name, aliases, user)
    if canon is not None:
        return canon, None
    m = _SUFFIX.match(name.strip())
    if m:
        return _canonical(m.group("base"), aliases, user), int(m.group("n"))
    return None, None


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
        A Ministry of the Interior results file (UTF-8 or Latin-1, ``;``-separated).
    format
        ``"fr-interieur"`` (the only layout so far; it covers the three vintages above).
    mapping
        Column names (``{file column: canonical}``) and ``options``: ``election_id``
        (default: the file name without extension; ``_t<round>`` is appended when the
        file has a round column), ``encoding``, ``delimiter``, ``header`` (force
        True/False), ``names`` (column order of headerless files).

    Returns
    -------
    DataFrame
        Validated ``precinct_results``: one row per bureau and candidate, with the
        bureau's ``registered, voters, abstentions, blank, null, expressed`` repeated.
        Files before 2014 count blank and null ballots together: ``blank`` is missing
        and ``null`` holds *blancs et nuls*.
    """
    if format not in PRECINCT_FORMATS:
        raise SpecificationError(
            f"read_precinct_results: format must be one of {list(PRECINCT_FORMATS)}, got "
            f"{format!r}." + did_you_mean(str(format), list(PRECINCT_FORMATS))
        )
    spec = parse_mapping(mapping)
    p = Path(path)
    info = sniff(
        p,
        table="precinct_results",
        encoding=spec.option("encoding"),
        fallback_encoding="cp1252",
        delimiter=spec.option("delimiter", None),
    )
    delim = info.delimiter
    text = p.read_text(encoding=info.encoding)
    if text.startswith("\ufeff"):
        text = text[1:]
    rows = list(csv.reader(io.StringIO(text), delimiter=delim))
    numbered = [(i + 1, r) for i, r in enumerate(rows) if any(f.strip() for f in r)]
    header_opt = spec.option("header")
    first = [normalize_name(f) for f in numbered[0][1]]
    has_header = header_opt if header_opt is not None else ("inscrits" in first)
    base_id = str(spec.option("election_id", p.stem))
    if has_header:
        df, n_read = _wide(numbered, p, spec)
    else:
        df, n_read = _headerless(numbered, p, spec)
    if "round" in df.columns:
        df["election_id"] = base_id + "_t" + df["round"].astype("str").str.strip()
    else:
        df["election_id"] = base_id
    out = _finish(df, p)
    return note_import(out, path=p, fmt=format, rows_read=n_read, set_aside={})


def _wide(
    numbered: list[tuple[int, list[str]]], p: Path, spec: MappingSpec
) -> tuple[pd.DataFrame, int]:
    aliases = column_aliases("precinct_results", "fr-interieur")
    user = spec.columns
    header = [h.strip() for h in numbered[0][1]]
    names = [_block_name(h, aliases, user) for h in header]
    seen: dict[tuple[str | None, int | None], int] = {}
    for (canon, n), h in zip(names, header, strict=True):
        if canon is not None and canon not in BLOCK_FIELDS:
            if (canon, n) in seen:
                raise FileFormatError(
                    f"precinct_results: file {p.name!r} has two columns for {canon!r} "
                    f"(duplicated header {h!r})"
                )
            seen[(canon, n)] = 1
    starts = [i for i, (canon, _) in enumerate(names) if canon in BLOCK_FIELDS]
    if not starts:
        raise FileFormatError(
            f"precinct_results: file {p.name!r} has no candidate block (no column like "
            f"'N°Panneau', 'Numéro de panneau 1', 'Voix'); header: {header[:25]}"
        )
    start = starts[0]
    fixed = {canon: i for i, (canon, _) in enumerate(names[:start]) if canon is not None}
    for need in (
        "department_code",
        "commune_code",
        "bureau_code",
        "registered",
        "voters",
        "expressed",
    ):
        if need not in fixed:
            hint = did_you_mean(need, list(fixed))
            raise FileFormatError(
                f"precinct_results: file {p.name!r} has no column for {need!r}; header: "
                f"{header[:start]}. Name it with mapping={{'<file column>': '{need}'}}.{hint}"
            )
    suffixed = any(n is not None for _, n in names[start:])
    # block layout: list of {canonical field: column offset within the row}
    blocks: list[dict[str, int]] = []
    if suffixed:
        by_n: dict[int, dict[str, int]] = {}
        for i in range(start, len(names)):
            canon, n = names[i]
            if canon is not None and n is not None:
                by_n.setdefault(n, {})[canon] = i
        blocks = [by_n[k] for k in sorted(by_n)]
        width = 0
    else:
        first_block = {
            canon: i - start for i, (canon, _) in enumerate(names[start:], start) if canon
        }
        width = len(header) - start
    records: list[dict[str, Any]] = []
    for line, row in numbered[1:]:
        row = [f.strip() for f in row]
        if len(row) < start:
            raise FileFormatError(
                f"precinct_results: file {p.name!r}: line {line} has {len(row)} fields, fewer "
                f"than the {start} bureau fields of the header"
            )
        base: dict[str, Any] = {canon: row[i] for canon, i in fixed.items()}
        base["_line"] = line
        if suffixed:
            row_blocks = [
                {c: (row[i] if i < len(row) else "") for c, i in b.items()} for b in blocks
            ]
        else:
            tail = row[start:]
            extra = len(tail) % width
            if extra and any(tail[len(tail) - extra :]):
                raise FileFormatError(
                    f"precinct_results: file {p.name!r}: line {line} has {len(tail)} candidate "
                    f"fields, not a multiple of the block width {width} (extra columns?)"
                )
            row_blocks = [
                {c: tail[k * width + off] for c, off in first_block.items()}
                for k in range(len(tail) // width)
            ]
        for b in row_blocks:
            if not any(b.values()):
                continue
            records.append({**base, **b})
    n_read = len(numbered) - 1
    if not records:
        raise FileFormatError(f"precinct_results: file {p.name!r} has a header but no rows")
    return pd.DataFrame.from_records(records), n_read


def _headerless(
    numbered: list[tuple[int, list[str]]], p: Path, spec: MappingSpec
) -> tuple[pd.DataFrame, int]:
    names = spec.option("names")
    if names is None:
        t = mapping_table("fr_headerless")
        names = list(t.sort_values("position", key=lambda s: s.astype(int))["canonical"])
    widths = {len(r) for _, r in numbered}
    if len(widths) > 1 or widths.pop() != len(names):
        bad = next((ln for ln, r in numbered if len(r) != len(names)), numbered[0][0])
        raise FileFormatError(
            f"precinct_results: headerless file {p.name!r} must have {len(names)} fields per "
            f"line ({', '.join(names)}); line {bad} differs. If this file has a header whose "
            "names are not recognised, or another column order, pass "
            "mapping={'options': {'names': [...]}}"
        )
    recs = [
        {**dict(zip(names, (f.strip() for f in r), strict=True)), "_line": ln} for ln, r in numbered
    ]
    df = pd.DataFrame.from_records(recs)
    if (
        "null" not in df.columns
        and "blank" not in df.columns
        and {"voters", "expressed"} <= set(df)
    ):
        pass  # derived in _finish
    return df, len(numbered)


def _finish(df: pd.DataFrame, p: Path) -> pd.DataFrame:
    df.index = pd.Index(df.pop("_line"), name="line")
    depts = df["department_code"].map(department_code)
    communes = [commune_code(d, c) for d, c in zip(depts, df["commune_code"], strict=True)]
    df["department_code"] = depts
    df["commune_code"] = communes
    df["bureau_code"] = df["bureau_code"].astype("str").str.strip()
    df["precinct_id"] = [bureau_id(c, b) for c, b in zip(communes, df["bureau_code"], strict=True)]
    for col in ("registered", "voters", "abstentions", "blank", "null", "expressed", "votes"):
        if col in df.columns:
            df[col] = as_int(df[col], column=col, table="precinct_results", path=p)
    if "abstentions" not in df.columns:
        df["abstentions"] = df["registered"] - df["voters"]
    if "null" not in df.columns:
        df["null"] = df["voters"] - df["expressed"] - df.get("blank", 0)
    if "candidate_label" not in df.columns:
        if "list_label" in df.columns:
            df["candidate_label"] = df["list_label"]
        elif "last_name" in df.columns:
            first = df["first_name"].fillna("") if "first_name" in df.columns else ""
            df["candidate_label"] = (df["last_name"].fillna("") + " " + first).str.strip()
    df["candidate"] = df["candidate"].astype("str").str.strip()
    # a bureau's totals must agree across its candidate rows
    keys = ["precinct_id", "election_id"]
    for col in ("registered", "voters", "expressed"):
        n = df.groupby(keys)[col].nunique(dropna=False)
        if (n > 1).any():
            bad = n[n > 1].index[0]
            raise FileFormatError(
                f"precinct_results: file {p.name!r}: bureau {bad[0]!r} has different {col!r} "
                "totals on its candidate rows"
            )
    canon = [c.name for c in PRECINCT_RESULTS.columns]
    keep = [c for c in canon if c in df.columns] + [
        c for c in ("round", "commune_label", "sex") if c in df.columns
    ]
    return validate_precinct_results(df[keep])
