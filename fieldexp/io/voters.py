"""Voter files: a generic CSV (US state/vendor exports) and the French REU list extract."""

from __future__ import annotations

import re
import warnings
from pathlib import Path
from typing import Any

import pandas as pd

from fieldexp.errors import (
    FieldexpWarning,
    FileFormatError,
    SpecificationError,
    did_you_mean,
    format_rows,
)
from fieldexp.io._common import require, stable_hash
from fieldexp.io._text import read_delimited
from fieldexp.io.accounting import record_import
from fieldexp.io.dates import parse_layout_dates
from fieldexp.io.detect import resolve_format
from fieldexp.io.mappings import code_table, normalize_name, parse_mapping, resolve_columns
from fieldexp.io.personal import personal_columns
from fieldexp.io.privacy import REU_PERSONAL, drop_pii, keyed_hash, project_salt
from fieldexp.io.schema import PII_COLUMNS, VOTERS, validate_voters
from fieldexp.io.vocab import CodeLookup, map_codes

__all__ = ["bureau_id", "commune_code", "insee_commune", "read_voters"]

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


_INSEE = re.compile(r"^(\d{5}|2[AB]\d{3})$")
_DEPT = re.compile(r"^(\d{2}|2[AB]|97\d)$")


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and value != value) or value is pd.NA


def insee_commune(dept: object, commune: object) -> str | None:
    """INSEE commune code from a département and a commune code, or None if impossible.

    ``("1", "4")`` -> ``"01004"``; ``("75", "56")`` -> ``"75056"``; ``("2A", "4")`` ->
    ``"2A004"``; overseas ``("ZA", "101")``/``("971", "1")`` -> ``"97101"``; a valid
    five-character code is kept; ``("01", "1004")`` or ``("", "1004")`` (a code that lost
    its leading zero in a spreadsheet) -> ``"01004"``. A code of one to three digits
    without a département, a 4-digit code outside the département, or text: None
    (never an id that matches nothing).
    """
    c = "" if _missing(commune) else str(commune).strip().upper()
    raw_d = "" if _missing(dept) else str(dept).strip()
    d = department_code(raw_d) if raw_d else ""
    if _INSEE.match(c):
        return c
    if c.isdigit() and len(c) == 4:
        padded = "0" + c
        return padded if (not d or padded.startswith(d)) else None
    if not d or not c or not (c.isdigit() and len(c) <= 3):
        return None
    if len(d) == 3:  # overseas: 97x + 2-digit commune (files write 101 or 01 for 97101)
        return d + c.zfill(3)[-2:]
    return d + c.zfill(3)


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
        ``delimiter``, ``date_format``, and for REU: ``id_salt`` (secret, >= 16
        characters) or ``salt_file`` (read, or created outside every output folder) —
        one is required, since ids made from names and birth data or INE numbers
        without a secret can be recomputed by anyone holding the list; ``commune`` (the
        INSEE code; wins over the column), ``department`` (places 3-digit commune
        codes), ``keep_columns`` (extra columns to keep; REU keeps only canonical ones).
    keep_pii
        Names, addresses, birth dates, phones and emails are dropped unless True
        (the birth year is kept as a covariate; households are derived from the
        address before it is dropped). REU origin columns (nationality, country of
        birth) and other personal columns are kept only if also listed in
        ``keep_columns``.

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
    if format == "reu" and fmts is None:  # French extracts write days first
        fmts = ["%d/%m/%Y", "%Y-%m-%d", "%d/%m/%y", "%Y%m%d"]

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
    if format == "reu":
        df = _reu_columns(df, spec, keep_pii, rename)
    elif not keep_pii:
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
    communes = _reu_communes(df, p, spec)
    df["precinct_id"] = [
        bureau_id(c, b)
        for c, b in zip(communes, df["precinct_code"].astype("str").str.strip(), strict=True)
    ]
    salt = project_salt(
        id_salt=spec.option("id_salt"),
        salt_file=spec.option("salt_file"),
        who=f"read_voters: REU file {p.name!r}",
    )
    ident = [c for c in ("birth_name", "first_name", "birth_date", "birth_place") if c in df]
    national = df["voter_id"] if "voter_id" in df.columns else None
    if national is not None:
        national = national.astype("str").str.strip().where(national.notna(), None)
        national = national.where(national != "", None)
    if national is None or national.isna().any():
        if not ident:
            require(df, ["voter_id"], table="voters", path=p, fmt="reu")
        text = df[ident].astype("str").where(df[ident].notna(), "")
        joined = text.apply(lambda col: col.map(normalize_name)).agg("|".join, axis=1)
        by_name = "reu_" + keyed_hash(joined, salt)
    # national ids (INE) get the same keyed hash as pseudonymise(): never out in clear
    if national is None:
        df["voter_id"] = by_name
    else:
        hashed = keyed_hash(national, salt)
        df["voter_id"] = hashed.where(national.notna(), by_name if national.isna().any() else None)
    parts = [
        c for c in ("house_number", "street", "address", "address_line2", "zip", "city") if c in df
    ]
    if parts and "household_id" not in df.columns:
        text = df[parts].astype("str").where(df[parts].notna(), "")
        joined = text.apply(lambda col: col.map(normalize_name)).agg("|".join, axis=1)
        df["household_id"] = "hh_" + keyed_hash(joined, salt, length=12)
    if "gender" in df.columns:
        df["gender"] = df["gender"].astype("str").str.strip().str.upper()
    return df


def _reu_communes(df: pd.DataFrame, p: Path, spec: Any) -> list[str]:
    """INSEE commune per row: repaired from options (which win over the column) or refused."""
    opt_commune = spec.option("commune")
    opt_dept = spec.option("department")
    if opt_commune is not None:
        opt_commune = str(opt_commune).strip().upper()
        if not _INSEE.match(opt_commune):
            raise SpecificationError(
                f"read_voters: option commune must be a 5-character INSEE code such as '01004' "
                f"or '2A004' (quoted, so the leading zero stays); got {opt_commune!r}"
            )
    if opt_dept is not None:
        opt_dept = department_code(str(opt_dept))
        if not _DEPT.match(opt_dept):
            raise SpecificationError(
                f"read_voters: option department must be a département code such as '01', "
                f"'2A' or '971'; got {opt_dept!r}"
            )
    if "commune_code" not in df.columns:
        if opt_commune is None:
            raise SpecificationError(
                f"read_voters: REU file {p.name!r} has no commune code column; pass the INSEE "
                "code with mapping={'options': {'commune': '75056'}}"
            )
        return [opt_commune] * len(df)
    raw = df["commune_code"]
    repaired = [insee_commune(opt_dept or "", c) for c in raw]
    lines = df.index
    if opt_commune is not None:
        differ = [i for i, c in enumerate(repaired) if c != opt_commune]
        if differ:
            warnings.warn(
                f"read_voters: REU file {p.name!r}: option commune={opt_commune!r} wins over the "
                f"commune column, which differs in {format_rows(lines[differ], total=len(differ))}",
                FieldexpWarning,
                stacklevel=4,
            )
        return [opt_commune] * len(df)
    bad = [i for i, c in enumerate(repaired) if c is None]
    if bad:
        example = raw.iloc[bad[0]]
        raise FileFormatError(
            f"voters: REU file {p.name!r}: commune code {example!r} cannot be turned into an INSEE "
            f"code (a 3-digit code has lost its département, a 4-digit one its leading zero "
            f"outside the département given, or it is not a code) in "
            f"{format_rows(lines[bad], total=len(bad))}. Pass mapping={{'options': "
            "{'department': '75'}} (3-digit codes) or {'commune': '75056'} (one commune)"
        )
    padded = [i for i, c in enumerate(raw) if str(c).strip().isdigit() and len(str(c).strip()) == 4]
    if padded and opt_dept is None:
        warnings.warn(
            f"read_voters: REU file {p.name!r}: {len(padded)} commune code(s) had lost their "
            f"leading zero (e.g. {str(raw.iloc[padded[0]]).strip()!r} -> "
            f"{repaired[padded[0]]!r}) in {format_rows(lines[padded], total=len(padded))}; "
            "pass mapping={'options': {'department': '..'}} to confirm",
            FieldexpWarning,
            stacklevel=4,
        )
    return [c for c in repaired if c is not None]


def _reu_columns(
    df: pd.DataFrame, spec: Any, keep_pii: bool, rename: dict[str, str]
) -> pd.DataFrame:
    """Only canonical voter columns, plus ``options.keep_columns``; personal ones need keep_pii."""
    asked = spec.option("keep_columns") or []
    if isinstance(asked, str):
        asked = [asked]
    keep: list[str] = []
    for name in asked:
        col = rename.get(name, name)
        if col not in df.columns:
            raise SpecificationError(
                f"read_voters: keep_columns names {name!r}, which is not a column of the file; "
                f"columns: {list(rename)[:20]}{did_you_mean(str(name), list(rename))}"
            )
        if col in REU_PERSONAL and not keep_pii:
            raise SpecificationError(
                f"read_voters: keep_columns asks for {name!r}, personal data (telephone, e-mail, "
                "lieu-dit, numéro d'ordre, names, addresses, birth data; nationality and birth "
                "country reveal origin, which is sensitive); it is kept only with keep_pii=True"
            )
        keep.append(col)
    pii = set(PII_COLUMNS) if keep_pii else set()
    cols = [c for c in df.columns if c in VOTERS.names or c in keep or c in pii]
    return df[cols]
