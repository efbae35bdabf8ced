"""Contact logs: NGP VAN contact exports, NationBuilder contacts, and a generic CSV.

Each result code maps to ``result`` (canonical name), ``attempted`` and ``contacted``
(someone answered the door or phone) through the ``contact_results`` mapping table,
which the caller can override per code. VAN's numeric ``ResultID`` differs between
accounts, so VAN results are mapped **by name**, through the account's Results lookup
table (``results=``) when the export carries only ids.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from fieldexp.errors import FileFormatError, SpecificationError, did_you_mean
from fieldexp.io._common import first_present, lookup_codes, note_import, require
from fieldexp.io._text import parse_dates, read_delimited
from fieldexp.io.mappings import (
    MappingSpec,
    code_table,
    normalize_name,
    parse_mapping,
    resolve_columns,
)
from fieldexp.io.schema import validate_contacts

__all__ = ["read_contacts", "read_van_results"]

CONTACT_FORMATS = ("van", "nationbuilder", "csv")


def read_van_results(results: str | Path | pd.DataFrame) -> pd.DataFrame:
    """Read a VAN Results lookup table into ``ResultID -> ResultName`` (both text).

    Accepts the ``Results`` table of a VAN export (``ResultID, ResultShortName`` or
    ``ResultName``...), as a path or a DataFrame.
    """
    if isinstance(results, (str, Path)):
        table = read_delimited(results, table="contacts (VAN Results lookup)")
    elif isinstance(results, pd.DataFrame):
        table = results.astype("str")
    else:
        raise SpecificationError(
            "read_contacts: results must be a path or a DataFrame (the VAN Results lookup), "
            f"got {type(results).__name__}"
        )
    norm = {normalize_name(c): c for c in table.columns}
    id_col = norm.get("resultid") or norm.get("result id")
    name_col = next(
        (
            norm[k]
            for k in ("resultname", "resultshortname", "result name", "result short name", "name")
            if k in norm
        ),
        None,
    )
    if id_col is None or name_col is None:
        raise FileFormatError(
            "contacts: the VAN Results lookup needs a ResultID and a ResultName (or "
            f"ResultShortName) column; found {list(table.columns)}"
        )
    out = pd.DataFrame(
        {
            "result_id": table[id_col].astype("str").str.strip(),
            "result_name": table[name_col].astype("str").str.strip(),
        }
    )
    dup = out["result_id"].duplicated(keep=False) & ~out.duplicated(keep=False)
    if dup.any():
        raise FileFormatError(
            "contacts: the VAN Results lookup gives one ResultID several names: "
            f"{sorted(set(out.loc[dup, 'result_id']))[:5]}"
        )
    return out.drop_duplicates("result_id")


def read_contacts(
    path: str | Path,
    *,
    format: str = "csv",
    results: str | Path | pd.DataFrame | None = None,
    mapping: Any = None,
) -> pd.DataFrame:
    """Read a contact log into the canonical ``contacts`` table.

    Parameters
    ----------
    path
        Delimited text export.
    format
        ``"van"``: NGP VAN ContactsContacts export (``VanID, DateCanvassed,
        ContactTypeID/ContactTypeName, ResultID`` [+ ``ResultName``]).
        ``"nationbuilder"``: NationBuilder contacts export (``person_id`` or
        ``signup_id``, ``created_at``, ``method`` such as ``door_knock``, ``status``
        such as ``answered``/``no_answer``). ``"csv"``: ``unit_id`` (or ``voter_id`` /
        ``household_id``), ``timestamp``, ``channel``, ``result`` [+ ``unit_level``,
        ``attempted``, ``contacted``, ``canvasser``].
    results
        VAN only: the account's Results lookup (``ResultID`` -> name), a path or a
        DataFrame. Needed when the export has ``ResultID`` without ``ResultName``.
    mapping
        Column names, ``codes`` (result codes: ``code, result, attempted, contacted``)
        and ``options`` (``encoding``, ``delimiter``, ``date_format``, ``unit_level``).

    Returns
    -------
    DataFrame
        Validated ``contacts`` table; unknown result codes raise
        :class:`~fieldexp.errors.FileFormatError` listing each with its count.
    """
    if format not in CONTACT_FORMATS:
        raise SpecificationError(
            f"read_contacts: format must be one of {list(CONTACT_FORMATS)}, got {format!r}."
            + did_you_mean(str(format), list(CONTACT_FORMATS))
        )
    spec = parse_mapping(mapping)
    p = Path(path)
    raw = read_delimited(
        p, table="contacts", encoding=spec.option("encoding"), delimiter=spec.option("delimiter")
    )
    rows_read = len(raw)
    rename = resolve_columns(list(raw.columns), table="contacts", fmt=format, spec=spec)
    df = raw.rename(columns=rename)
    df.attrs["_raw_columns"] = list(raw.columns)
    date_format = spec.option("date_format")
    fmts = [date_format] if date_format else None
    level = spec.option("unit_level")

    if format == "van":
        require(df, ["unit_id"], table="contacts", path=p, fmt=format)
        if "result_name" not in df.columns:
            if "result_id" not in df.columns:
                require(df, ["result_id"], table="contacts", path=p, fmt=format)
            if results is None:
                raise SpecificationError(
                    f"read_contacts: {p.name!r} identifies results by numeric ResultID, whose "
                    "meaning differs between VAN accounts; pass results= (the Results lookup "
                    "table with ResultID and ResultName)"
                )
            lookup = read_van_results(results)
            ids = df["result_id"].astype("str").str.strip()
            names = ids.map(dict(zip(lookup["result_id"], lookup["result_name"], strict=True)))
            unknown = names.isna() & df["result_id"].notna()
            if unknown.any():
                counts = ids[unknown].value_counts()
                raise FileFormatError(
                    f"contacts: file {p.name!r} has ResultID(s) missing from the Results lookup: "
                    + ", ".join(f"{k!r} ({v})" for k, v in counts.head(12).items())
                )
            df["result_name"] = names
        codes = lookup_codes(
            df["result_name"],
            code_table("contact_results", format, spec),
            what="result",
            table_name="contacts",
            path=p,
        )
        channel_src = first_present(df, ["contact_type"])
        df["unit_level"] = level or "voter"
    elif format == "nationbuilder":
        require(df, ["unit_id", "status"], table="contacts", path=p, fmt=format)
        codes = lookup_codes(
            df["status"],
            code_table("contact_results", format, spec),
            what="status",
            table_name="contacts",
            path=p,
        )
        channel_src = first_present(df, ["method"])
        df["unit_level"] = level or "voter"
    else:
        if "unit_id" not in df.columns and "household_unit_id" in df.columns:
            df = df.rename(columns={"household_unit_id": "unit_id"})
            df["unit_level"] = level or "household"
        require(df, ["unit_id", "code"], table="contacts", path=p, fmt=format)
        if "unit_level" not in df.columns:
            df["unit_level"] = level or "voter"
        df["unit_level"] = df["unit_level"].astype("str").str.strip().str.lower()
        codes = lookup_codes(
            df["code"],
            code_table("contact_results", format, spec),
            what="result",
            table_name="contacts",
            path=p,
        )
        for col in ("attempted", "contacted"):
            if col in df.columns:  # explicit flags in the file win over the code table
                codes[col] = df[col].where(df[col].notna(), codes[col])
        channel_src = first_present(df, ["channel"])
    df["result"] = codes["result"]
    df["attempted"] = codes["attempted"]
    df["contacted"] = codes["contacted"]
    df["channel"] = _channels(df, channel_src, format, spec)
    if "timestamp" in df.columns:
        df["timestamp"] = parse_dates(
            df["timestamp"], column="timestamp", table="contacts", formats=fmts
        )
    else:
        df["timestamp"] = pd.Series(pd.NaT, index=df.index, dtype="datetime64[us]")
    cols = ["unit_id", "unit_level", "timestamp", "channel", "result", "attempted", "contacted"]
    if "canvasser" in df.columns:
        cols.append("canvasser")
    out = validate_contacts(df[cols])
    return note_import(out, path=p, fmt=format, rows_read=rows_read, set_aside={})


def _channels(df: pd.DataFrame, src: str | None, fmt: str, spec: MappingSpec) -> pd.Series:
    """Channel from the contact type/method; unknown types become ``other``."""
    if src is None:
        return pd.Series("door", index=df.index, dtype="str")
    table = code_table("contact_channels", fmt, MappingSpec())
    lookup = {normalize_name(c): ch for c, ch in zip(table["code"], table["channel"], strict=True)}
    values = df[src].astype("str").map(normalize_name)
    return values.map(lambda v: lookup.get(v, "other")).where(df[src].notna(), None).astype("str")
