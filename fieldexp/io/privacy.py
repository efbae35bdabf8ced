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
import os
import secrets
import warnings
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from fieldexp.errors import ColumnNotFoundError, FieldexpWarning, SpecificationError, did_you_mean
from fieldexp.io.schema import PII_COLUMNS

__all__ = [
    "MIN_SALT_LENGTH",
    "PII_COLUMNS",
    "REU_PERSONAL",
    "drop_pii",
    "keyed_hash",
    "project_salt",
    "pseudonymise",
]

#: Shortest accepted salt (characters): a short salt can be brute-forced.
MIN_SALT_LENGTH = 16

#: Personal columns of an REU extract, never kept by default: the PII columns plus
#: telephone, e-mail, lieu-dit, numéro d'ordre (the elector's number in the bureau
#: list), and nationality, country and département of birth (origin is sensitive data).
REU_PERSONAL: tuple[str, ...] = (
    *PII_COLUMNS,
    "lieu_dit",
    "order_number",
    "nationality",
    "birth_country",
    "birth_department",
    "zip",
    "city",
)


def _salt_bytes(salt: str | bytes, who: str) -> bytes:
    key = salt.encode("utf-8") if isinstance(salt, str) else bytes(salt)
    if len(key) < MIN_SALT_LENGTH:
        raise SpecificationError(
            f"{who}: salt must be at least {MIN_SALT_LENGTH} characters (a secret kept out of "
            f"every output); got {len(key)}. Generate one with "
            "python -c 'import secrets; print(secrets.token_urlsafe(32))'"
        )
    return key


def keyed_hash(values: pd.Series, salt: str | bytes, *, length: int = 16) -> pd.Series:
    """HMAC-SHA256 of each value under ``salt``, first ``length`` hex characters.

    .. math:: h(x) = \\operatorname{hex}(\\text{HMAC-SHA256}(\\text{salt}, x))_{1..\\text{length}}

    Missing values stay missing. This is the hash :func:`pseudonymise` applies, so ids
    hashed here join tables pseudonymised with the same salt.
    """
    key = _salt_bytes(salt, "keyed_hash")
    text = values.astype("str")
    uniques = pd.unique(text[values.notna()])
    table = {
        u: hmac.new(key, u.encode("utf-8"), hashlib.sha256).hexdigest()[:length] for u in uniques
    }
    return text.map(table).where(values.notna(), None)


def project_salt(
    *, id_salt: str | None = None, salt_file: str | Path | None = None, who: str
) -> bytes:
    """The secret salt for pseudonymous ids: given, or read from (or created in) a file.

    ``salt_file`` is read when it exists; otherwise a random 256-bit salt is created
    there (file mode 0600) with a :class:`~fieldexp.errors.FieldexpWarning`. Keep that
    file outside every output folder and out of version control: whoever holds it and
    the list can recompute the ids. Refused: no salt at all, both forms, a salt shorter
    than :data:`MIN_SALT_LENGTH` characters.
    """
    if id_salt is not None and salt_file is not None:
        raise SpecificationError(f"{who}: give id_salt or salt_file, not both")
    if id_salt is not None:
        return _salt_bytes(str(id_salt), who)
    if salt_file is None:
        raise SpecificationError(
            f"{who}: a secret salt is required. Ids made from names and birth data, or national "
            "ids (INE), without a secret can be recomputed by anyone who has the list. Pass "
            "mapping={'options': {'id_salt': '<secret, >= 16 characters>'}} or "
            "{'salt_file': '<path outside every output folder>'} (created on first use and "
            "reused, so ids stay stable across imports)"
        )
    path = Path(salt_file).expanduser()
    if path.is_dir():
        raise SpecificationError(f"{who}: salt_file {str(path)!r} is a folder")
    if path.exists():
        return _salt_bytes(path.read_text(encoding="utf-8").strip(), f"{who} (salt_file)")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(secrets.token_urlsafe(32) + "\n")
    warnings.warn(
        f"{who}: created a new secret salt in {str(path)!r} (mode 0600). Keep it outside every "
        "output folder and out of version control; reuse it so ids stay the same next time.",
        FieldexpWarning,
        stacklevel=3,
    )
    return _salt_bytes(path.read_text(encoding="utf-8").strip(), who)


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
        Secret key, at least 16 characters; keep it out of the exported files. Use the
        same salt for every table of one export so ids still join.
    length
        Hex characters kept (16 = 64 bits; collisions are negligible below ~10^8 ids).
    """
    if isinstance(columns, str):
        columns = [columns]
    _salt_bytes(salt, "pseudonymise")
    if not 8 <= length <= 64:
        raise SpecificationError(f"pseudonymise: length must be in 8..64, got {length}")
    out = df.copy(deep=False)
    for col in columns:
        if col not in df.columns:
            raise ColumnNotFoundError(
                f"pseudonymise: column {col!r} not found{did_you_mean(col, list(df.columns))}"
            )
        out[col] = keyed_hash(df[col], salt, length=length).astype("str")
    out.attrs = {k: v for k, v in df.attrs.items() if k != "fieldexp_ids_hash"}
    return out
