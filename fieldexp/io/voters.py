"""Voter files: a generic CSV (US state/vendor exports) and the French REU list extract."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from fieldexp.errors import SpecificationError, did_you_mean
from fieldexp.io._common import require, stable_hash
from fieldexp.io._text import read_delimited
from fieldexp.io.accounting import record_import
from fieldexp.io.dates import parse_layout_dates
from fieldexp.io.detect import resolve_format
from fieldexp.io.mappings import code_table, parse_mapping, resolve_columns
from fieldexp.io.personal import personal_columns
from fieldexp.io.privacy import drop_pii
from fieldexp.io.schema import validate_voters
from fieldexp.io.vocab import CodeLookup, map_codes

__all__ = ["bureau_id", "commune_code", "read_voters"]

VOTER_FORMATS = ("csv", "reu")
ADDRESS_PARTS = ("house_number", "street", "address", "address_line2", "zip", "city")

#: Overseas departments written as letters in older files.
_DEPT_LETTERS = {"ZA": "971", "ZB": "972", "ZC": "973", "ZD": "974", "ZM": "976"}


def department_code(dept: str) -> str:
    """Normalise a département code: ``1`` -> ``01``, ``ZA`` -> ``971``, ``2A`` stays."""
    d = str(dept).strip().upper()
    d = _DEPT_LETTERS.get(d, d)
    if d.isdigit() and len(d) < 2:
        d = d.zfill(2)
    return d


def commune_code(dept: str, commune: str) -> str:
    """INSEE commune code = département + commune number.

    ``("1", "4")`` -> ``"01004"``; ``("2A", "4")`` -> ``"2A004"``; overseas
    ``("971", "101")`` or ``("ZA", "1")`` -> ``"97101"``. A commune already given as a
    five-character INSEE code is returned as is.
    """
    c = str(commune).strip().upper()
    if len(c) == 5 and not (c.isdigit() and str(dept).strip() == ""):
        return c
    d = department_code(dept)
    if len(d) == 3:  # overseas: 97x + 2-digit commune (files write 101 or 01 for 97101)
        c = c.zfill(3)[-2:] if c.isdigit() else c
        return d + c
    return d + (c.zfill(3) if c.isdigit() else c)


def bureau_id(commune: str, bureau: str) -> str:
    """Polling-station id used across tables: ``<INSEE commune>_<bureau, 4 digits>``."""
    b = str(bureau).strip().upper()
    if b.isdigit():
        b = b.zfill(4)
    return f"{commune}_{b}"


def _status(df: pd.DataFrame, spec: Any, path: Path, strict: bool) -> CodeLookup:
    """Registration status codes; unknown codes become ``unknown`` (one warning)."""
    s = df["registration_status"]
    codes = code_table("registration_status", "", spec)
    looked = map_codes(
        s.where(s.notna(), "unknown"),
        codes,
        what="registration status",
        table_name="voters",
        path=path,
        default={"status": "unknown"},
        meaning="an unknown registration status is 'unknown'",
        strict=strict,
    )
    looked.values["status"] = looked.values["status"].where(s.notna(), None)
    return looked


def read_voters(
    path: str | Path,
    *,
    format: str = "csv",
    mapping: Any = None,
    keep_pii: bool = False,
    strict: bool | None = None,
) -> pd.DataFrame:
    """Read a voter file into the canonical ``voters`` table.

    Parameters
    ----------
    path
        Delimited text file (delimiter sniffed; UTF-8, or stated in the mapping options).
    format
        ``"csv"``: a US-style voter file with one row per voter; column names are
        matched through the ``columns`` mapping table (``VoterID``, ``ncid``,
        ``SOS_VOTERID``, ``LALVOTERID``... -> ``voter_id``). ``"reu"``: a French
        *Répertoire électoral unique* list extract (``;``-separated, UTF-8 or Latin-1);
        each elector's ``precinct_id`` becomes ``<INSEE commune>_<bureau>``, the id
        that :func:`~fieldexp.io.read_precinct_results` gives polling stations, so
        voters map onto bureaux.
    mapping
        Overrides (see :mod:`fieldexp.io.mappings`); options ``encoding``,
        ``delimiter``, ``date_format``, and for REU ``commune`` (the INSEE code when
        the extract has no commune column) and ``id_salt``.
    keep_pii
        Names, addresses, birth dates, phones and emails are dropped unless True
        (the birth year is kept as a covariate; households are derived from the
        address before it is dropped).

    Returns
    -------
    DataFrame
        Validated ``voters`` table; ``attrs["fieldexp_import"]`` records rows read and
        set aside.

    Notes
    -----
    ``strict``: refuse registration status codes missing from the mapping table
    instead of reading them as ``unknown`` with one warning (default: the ``strict``
    option). Personal columns are recognised whatever their spelling (``FirstName``,
    ``Mail_Addr1``, ``DATE_OF_BIRTH``, ``Cell Phone``:
    :func:`fieldexp.io.personal.looks_personal`) and dropped unless ``keep_pii``.
    """
    p = Path(path)
    spec = parse_mapping(mapping)
    format = resolve_format(p, "voters", format, VOTER_FORMATS, spec)
    if format not in VOTER_FORMATS:
        raise SpecificationError(
            f"read_voters: format must be one of {[*VOTER_FORMATS, 'auto']}, got "
            f"{format!r}." + did_you_mean(str(format), list(VOTER_FORMATS))
        )
    if strict is None:
        strict = bool(spec.option("strict", False))
    raw = read_delimited(
        p,
        table="voters",
        encoding=spec.option("encoding"),
        fallback_encoding="cp1252" if format == "reu" else None,
        delimiter=spec.option("delimiter"),
        check_short=format != "reu",
    )
    rows_read = len(raw)
    rename = resolve_columns(list(raw.columns), table="voters", fmt=format, spec=spec)
    df = raw.rename(columns=rename)
    df.attrs["_raw_columns"] = list(raw.columns)
    date_format = spec.option("date_format")
    fmts = [date_format] if date_format else None

    if format == "reu":
        df = _reu(df, p, spec, fmts)
    require(df, ["voter_id"], table="voters", path=p, fmt=format)

    if "household_id" not in df.columns:
        parts = [c for c in ADDRESS_PARTS if c in df.columns]
        if parts:
            df["household_id"] = stable_hash(df[parts], prefix="hh_", length=12)
        else:
            df["household_id"] = df["voter_id"]
    if "precinct_id" not in df.columns:
        df["precinct_id"] = None
    counts: dict[str, dict[str, int]] = {}
    unknown: dict[str, dict[str, int]] = {}
    if "registration_status" in df.columns:
        looked = _status(df, spec, p, bool(strict))
        df["registration_status"] = looked.values["status"]
        counts["registration status"] = looked.counts
        if looked.unknown:
            unknown["registration status"] = looked.unknown
    else:
        df["registration_status"] = None
    if "registration_date" in df.columns:
        df["registration_date"] = parse_layout_dates(
            df["registration_date"],
            column="registration_date",
            table="voters",
            formats=fmts,
            convention="day_first" if format == "reu" else "month_first",
            documented=format == "reu",  # REU extracts write DD/MM/YYYY
        )
    if "birth_date" in df.columns:
        born = parse_layout_dates(
            df["birth_date"],
            column="birth_date",
            table="voters",
            formats=fmts,
            convention="day_first" if format == "reu" else "month_first",
            documented=format == "reu",
        )
        if "birth_year" not in df.columns:
            df["birth_year"] = born.dt.year.astype("Int64")
        if keep_pii:
            df["birth_date"] = born
    if not keep_pii:
        df = drop_pii(df)
    df = df.drop(columns=[c for c in ("commune_code", "precinct_code") if c in df.columns])
    if not keep_pii and format != "reu":
        # personal columns under any other spelling (canonical ids are never dropped)
        keep = {"voter_id", "household_id", "precinct_id", "birth_year"}
        df = df.drop(columns=[c for c in personal_columns(df.columns) if c not in keep])
    out = validate_voters(df)
    return record_import(
        out,
        path=p,
        fmt=format,
        rows_read=rows_read,
        set_aside={},
        codes=counts,
        unknown=unknown,
        table="voters",
    )


def _reu(df: pd.DataFrame, p: Path, spec: Any, fmts: list[str] | None) -> pd.DataFrame:
    require(df, ["precinct_code"], table="voters", path=p, fmt="reu")
    commune = spec.option("commune")
    if "commune_code" in df.columns:
        communes = df["commune_code"].astype("str").str.strip()
    elif commune is not None:
        communes = pd.Series(str(commune), index=df.index)
    else:
        raise SpecificationError(
            f"read_voters: REU file {p.name!r} has no commune code column; pass the INSEE code "
            "with mapping={'options': {'commune': '75056'}}"
        )
    df["precinct_id"] = [
        bureau_id(commune_code("", c) if len(c) == 5 else c, b)
        for c, b in zip(communes, df["precinct_code"].astype("str"), strict=True)
    ]
    if "voter_id" not in df.columns:
        ident = [c for c in ("birth_name", "first_name", "birth_date", "birth_place") if c in df]
        if not ident:
            require(df, ["voter_id"], table="voters", path=p, fmt="reu")
        salt = str(spec.option("id_salt", ""))
        keyed = df[ident].assign(_salt=salt)
        df["voter_id"] = stable_hash(keyed, prefix="reu_", length=16)
    if "gender" in df.columns:
        df["gender"] = df["gender"].astype("str").str.strip().str.upper()
    return df
