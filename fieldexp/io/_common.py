"""Helpers shared by the readers: required columns, code lookups, ids, import notes."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from fieldexp.errors import FileFormatError, format_rows
from fieldexp.io.mappings import normalize_name

IMPORT_ATTR = "fieldexp_import"


def require(df: pd.DataFrame, columns: Sequence[str], *, table: str, path: Path, fmt: str) -> None:
    """Raise FileFormatError when a canonical column could not be found in the file."""
    missing = [c for c in columns if c not in df.columns]
    if not missing:
        return
    header = [str(c) for c in df.attrs.get("_raw_columns", df.columns)]
    looks_like_data = header and all(
        any(ch.isdigit() for ch in h) or h.startswith("unnamed") for h in header[:3]
    )
    hint = (
        " The first line looks like data: is the header row missing?"
        if looks_like_data
        else " Name the column with mapping={'<file column>': '" + missing[0] + "'}."
    )
    raise FileFormatError(
        f"{table}: file {path.name!r} ({fmt} layout) has no column for {missing[0]!r} "
        f"(missing: {missing}); header: {header[:15]}.{hint}"
    )


def lookup_codes(
    values: pd.Series,
    table: pd.DataFrame,
    *,
    what: str,
    table_name: str,
    path: Path,
    case_insensitive: bool = True,
) -> pd.DataFrame:
    """Map each value to its row of a code table; unknown codes are listed with counts.

    Codes match ignoring case and the separator between words (space, hyphen, underscore).

    Returns a frame aligned with ``values`` holding the code table's other columns.
    Missing values map to the code ``""`` when the table has one, else stay missing.
    """

    def key(s: pd.Series) -> pd.Series:
        s = s.astype("str").str.strip()
        if not case_insensitive:
            return s
        # 'Not Home', 'not-home' and 'not_home' are one code
        return s.str.lower().str.replace(r"[\s\-]+", "_", regex=True)

    filled = values.astype("str").where(values.notna(), "")
    k = key(filled)
    table = table.assign(_key=key(table["code"])).drop_duplicates("_key", keep="last")
    known = set(table["_key"])
    bad = ~k.isin(known)
    if bad.any():
        counts = filled[bad].str.strip().value_counts()
        listed = ", ".join(f"{c!r} ({n})" for c, n in counts.head(12).items())
        more = f" and {len(counts) - 12} more" if len(counts) > 12 else ""
        raise FileFormatError(
            f"{table_name}: file {path.name!r} has unknown {what} code(s): {listed}{more}, in "
            f"{format_rows(values.index[bad.to_numpy()], total=int(bad.sum()))}. Known codes: "
            f"{sorted(set(table['code']))[:20]}. Add them with mapping={{'codes': {{...}}}} "
            "(see docs/data.md)"
        )
    merged = pd.DataFrame({"_key": k.to_numpy()}).merge(
        table.drop(columns="code"), on="_key", how="left", validate="many_to_one"
    )
    merged.index = values.index
    return merged.drop(columns="_key")


def stable_hash(parts: pd.DataFrame, *, prefix: str, length: int = 16) -> pd.Series:
    """A deterministic id from normalized text columns (e.g. a household from its address)."""
    text = parts.astype("str").where(parts.notna(), "")
    joined = text.apply(lambda col: col.map(normalize_name)).agg("|".join, axis=1)
    return joined.map(
        lambda s: prefix + hashlib.sha1(s.encode("utf-8")).hexdigest()[:length]
    ).astype("str")


def note_import(
    df: pd.DataFrame, *, path: Path, fmt: str, rows_read: int, set_aside: dict[str, int]
) -> pd.DataFrame:
    """Record in ``attrs`` how many file rows were read and set aside (no personal data)."""
    out = df.copy(deep=False)
    out.attrs = dict(df.attrs)
    out.attrs.pop("_raw_columns", None)
    out.attrs[IMPORT_ATTR] = {
        "file": path.name,
        "format": fmt,
        "rows_read": int(rows_read),
        "set_aside": {k: int(v) for k, v in set_aside.items() if v},
    }
    return out


def as_int(values: pd.Series, *, column: str, table: str, path: Path) -> pd.Series:
    """Parse integer counts written with French or US thousands separators."""
    text = values.astype("str").str.replace("\u00a0", "", regex=False).str.replace(" ", "")
    text = text.where(values.notna() & (text != ""), None)
    num = pd.to_numeric(text, errors="coerce")
    bad = num.isna() & text.notna()
    if bad.any():
        raise FileFormatError(
            f"{table}: file {path.name!r}: column {column!r} must hold whole numbers; found "
            f"{text[bad].iloc[0]!r} in {format_rows(values.index[bad.to_numpy()], total=int(bad.sum()))}"
        )
    return num.astype("Int64")


def election_id(kind: pd.Series, date: pd.Series) -> pd.Series:
    """``general`` + 2016-11-08 -> ``general_2016_11_08``."""
    if len(kind) <= 1000:
        return _election_id(kind, date)
    # once per distinct (type, date) pair, then spread to the rows
    pair = pd.DataFrame({"k": kind.astype("str").to_numpy(), "d": date.to_numpy()})
    group = pair.groupby(["k", "d"], sort=False, dropna=False).ngroup().to_numpy()
    _, first = np.unique(group, return_index=True)
    ids = _election_id(kind.iloc[first], date.iloc[first]).to_numpy(dtype=object)
    return pd.Series(ids[group], index=kind.index).astype("str")


def _election_id(kind: pd.Series, date: pd.Series) -> pd.Series:
    return (kind.astype("str") + "_" + date.dt.strftime("%Y_%m_%d")).astype("str")


def first_present(df: pd.DataFrame, names: Sequence[str]) -> str | None:
    for n in names:
        if n in df.columns:
            return n
    return None


def to_binary(values: pd.Series) -> pd.Series:
    return pd.Series(np.asarray(values, dtype="int8"), index=values.index).astype("Int8")
