"""Privacy helpers: drop personal columns at import; replace ids with salted hashes.

.. math::  \\text{pseudo}(x) = \\text{prefix} \\Vert \\operatorname{hex}\\big(
           \\text{HMAC-SHA256}(\\text{salt}, x)\\big)_{1..16}

A keyed hash (HMAC) with a secret salt cannot be reversed by hashing a list of known
ids, unlike a plain hash. The same salt maps the same id to the same pseudonym in
every table, so pseudonymised tables still join.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence

import pandas as pd

from fieldexp.errors import ColumnNotFoundError, SpecificationError, did_you_mean
from fieldexp.io.schema import PII_COLUMNS

__all__ = ["PII_COLUMNS", "drop_pii", "pseudonymise"]


def drop_pii(df: pd.DataFrame, columns: Sequence[str] = PII_COLUMNS) -> pd.DataFrame:
    """Return ``df`` without the personal columns (names, addresses, birth dates...)."""
    present = [c for c in df.columns if c in set(columns)]
    return df.drop(columns=present)


def pseudonymise(
    df: pd.DataFrame,
    columns: Sequence[str],
    salt: str | bytes,
    *,
    length: int = 16,
) -> pd.DataFrame:
    """Replace the values of id ``columns`` with salted HMAC-SHA256 pseudonyms.

    Parameters
    ----------
    df
        Any table (not modified; a new frame is returned).
    columns
        Id columns to replace (e.g. ``["voter_id", "household_id"]``). Missing values
        stay missing.
    salt
        Secret key, at least 8 characters; keep it out of the exported files. Use the
        same salt for every table of one export so ids still join.
    length
        Hex characters kept (16 = 64 bits; collisions are negligible below ~10^8 ids).
    """
    if isinstance(columns, str):
        columns = [columns]
    key = salt.encode("utf-8") if isinstance(salt, str) else bytes(salt)
    if len(key) < 8:
        raise SpecificationError(
            "pseudonymise: salt must be at least 8 characters (a secret kept out of the export)"
        )
    if not 8 <= length <= 64:
        raise SpecificationError(f"pseudonymise: length must be in 8..64, got {length}")
    out = df.copy(deep=False)
    for col in columns:
        if col not in df.columns:
            raise ColumnNotFoundError(
                f"pseudonymise: column {col!r} not found{did_you_mean(col, list(df.columns))}"
            )
        values = df[col]
        uniques = pd.unique(values.dropna().astype("str"))
        table = {
            u: hmac.new(key, u.encode("utf-8"), hashlib.sha256).hexdigest()[:length]
            for u in uniques
        }
        mapped = values.astype("str").map(table)
        out[col] = mapped.where(values.notna(), None).astype("str")
    out.attrs = {k: v for k, v in df.attrs.items() if k != "fieldexp_ids_hash"}
    return out
