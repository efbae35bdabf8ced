"""Contact logs: NGP VAN contact exports, NationBuilder contacts, and a generic CSV.

Each result code maps to ``result`` (canonical name), ``attempted`` and ``contacted``
(someone answered the door or phone) through the ``contact_results`` mapping table,
which the caller can override per code. VAN's numeric ``ResultID`` differs between
accounts, so VAN results are mapped **by name**, through the account's Results lookup
table (``results=``) when the export carries only ids.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fieldexp.errors import SpecificationError, did_you_mean
from fieldexp.io._common import first_present, require
from fieldexp.io._text import read_delimited
from fieldexp.io.accounting import record_import
from fieldexp.io.dates import parse_layout_dates
from fieldexp.io.detect import resolve_format
from fieldexp.io.mappings import (
    MappingSpec,
    code_table,
    parse_mapping,
    resolve_columns,
)
from fieldexp.io.schema import validate_contacts
from fieldexp.io.van import (
    apply_crosswalk,
    choose_result_kind,
    contact_type_names,
    read_van_results,
)
from fieldexp.io.vocab import map_codes

__all__ = ["read_contacts", "read_van_results"]

CONTACT_FORMATS = ("van", "nationbuilder", "csv")
CHANNELS = ("door", "phone", "sms", "mail", "lit_drop", "email", "other")

#: What a contact row means when its result code is unknown: an attempt, nobody reached.
RESULT_DEFAULT: dict[str, object] = {"result": "unknown", "attempted": 1, "contacted": 0}
RESULT_MEANING = "a contact row is an attempt that reached nobody"


def read_contacts(
    path: str | Path,
    *,
    format: str = "csv",
    results: str | Path | pd.DataFrame | None = None,
    mapping: Any = None,
    crosswalk: str | Path | pd.DataFrame | None = None,
    contact_types: str | Path | pd.DataFrame | None = None,
    channels: Sequence[str] | None = None,
    strict: bool | None = None,
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
        ``attempted``, ``contacted``, ``canvasser``]. ``"auto"``: detected from the
        header.
    results
        VAN only: the account's Results lookup (``ResultID`` with any of
        ``ResultShortName`` (``NH``), ``ResultMediumName``, ``ResultName`` /
        description), a path or a DataFrame. The column the mapping tables know best
        is used, or the one named by the ``results_by`` option (``short``,
        ``medium``, ``name``).
    mapping
        Column names, ``codes`` (result codes: ``code, result, attempted, contacted``)
        and ``options`` (``encoding``, ``delimiter``, ``date_format``, ``unit_level``,
        ``strict``, ``results_by``, ``channels``, ``crosswalk``, ``contact_types``).
    crosswalk
        Table of ``VanID`` (or, naming its columns, another vendor id) -> state voter id (``voter_id``, ``StateFileID``,
        ``ncid``, ``SOS_VOTERID``...), path or DataFrame. ``unit_id`` becomes the
        state id; contacts whose VanID is missing from it are set aside and counted.
    contact_types
        VAN only: ``ContactTypeID -> ContactTypeName`` lookup, for exports that carry
        the id only. Names map to ``channel`` through the ``contact_channels`` table.
    channels
        Keep only contacts on these channels (e.g. ``["door"]``: a canvass study
        never counts phone-bank rows as canvass contacts, costs or CACE); the others
        are set aside and counted. Default: the ``channels`` option, else all.
    strict
        Refuse result codes and contact types missing from the mapping tables instead
        of giving them the default meaning (an attempt that reached nobody; channel
        ``other``) with one warning.

    Returns
    -------
    DataFrame
        Validated ``contacts`` table. ``attrs["fieldexp_import"]`` records rows read,
        kept and set aside by reason (read = kept + filtered by channel, crosswalk and
        ``window``) and the rows per result code and channel, unknown codes included.
    """
    p = Path(path)
    spec = parse_mapping(mapping)
    format = resolve_format(p, "contacts", format, CONTACT_FORMATS, spec)
    if format not in CONTACT_FORMATS:
        raise SpecificationError(
            f"read_contacts: format must be one of {[*CONTACT_FORMATS, 'auto']}, got "
            f"{format!r}." + did_you_mean(str(format), list(CONTACT_FORMATS))
        )
    if strict is None:
        strict = bool(spec.option("strict", False))
    if channels is None:
        channels = spec.option("channels")
    if isinstance(channels, str):
        channels = [channels]
    if channels is not None:
        bad = [c for c in channels if c not in CHANNELS]
        if bad or not channels:
            raise SpecificationError(
                f"read_contacts: channels must be a non-empty list from {list(CHANNELS)}; got "
                f"{list(channels)!r}." + (did_you_mean(str(bad[0]), list(CHANNELS)) if bad else "")
            )
    if crosswalk is None:
        crosswalk = spec.option("crosswalk")
    if contact_types is None:
        contact_types = spec.option("contact_types")
    if contact_types is not None and format != "van":
        raise SpecificationError(
            f"read_contacts: contact_types= is VAN's ContactTypes lookup; format is {format!r}"
        )
    raw = read_delimited(
        p,
        table="contacts",
        encoding=spec.option("encoding"),
        delimiter=spec.option("delimiter"),
        check_short=True,
    )
    rows_read = len(raw)
    rename = resolve_columns(list(raw.columns), table="contacts", fmt=format, spec=spec)
    df = raw.rename(columns=rename)
    df.attrs["_raw_columns"] = list(raw.columns)
    date_format = spec.option("date_format")
    fmts = [date_format] if date_format else None
    level = spec.option("unit_level")
    counts: dict[str, dict[str, int]] = {}
    unknown: dict[str, dict[str, int]] = {}
    set_aside: dict[str, int] = {}

    def lookup(values: pd.Series, what: str) -> pd.DataFrame:
        looked = map_codes(
            values,
            code_table("contact_results", format, spec),
            what=what,
            table_name="contacts",
            path=p,
            default=RESULT_DEFAULT,
            meaning=RESULT_MEANING,
            strict=bool(strict),
        )
        counts[what] = looked.counts
        if looked.unknown:
            unknown[what] = looked.unknown
        return looked.values

    if format == "van":
        require(df, ["unit_id"], table="contacts", path=p, fmt=format)
        if "result_name" not in df.columns:
            if "result_id" not in df.columns:
                require(df, ["result_id"], table="contacts", path=p, fmt=format)
            if results is None:
                raise SpecificationError(
                    f"read_contacts: {p.name!r} identifies results by numeric ResultID, whose "
                    "meaning differs between VAN accounts; pass results= (the Results lookup "
                    "table with ResultID and ResultShortName, ResultMediumName or ResultName)"
                )
            table = read_van_results(results)
            kind = choose_result_kind(
                table, code_table("contact_results", format, spec), spec.option("results_by")
            )
            ids = df["result_id"].astype("str").str.strip()
            names = ids.map(dict(zip(table["result_id"], table[kind], strict=True)))
            # an id missing from the lookup stays visible as 'ResultID <id>' (unknown code)
            df["result_name"] = names.where(
                names.notna() | df["result_id"].isna(), "ResultID " + ids
            )
        codes = lookup(df["result_name"], "result")
        if "contact_type" not in df.columns and "contact_type_id" in df.columns:
            if contact_types is not None:
                names_of = contact_type_names(contact_types)
                tid = df["contact_type_id"].astype("str").str.strip()
                df["contact_type"] = tid.map(names_of).where(
                    tid.isin(set(names_of)), "ContactTypeID " + tid
                )
            elif channels is not None:
                raise SpecificationError(
                    f"read_contacts: {p.name!r} has ContactTypeID without ContactTypeName; to "
                    "keep only some channels pass contact_types= (the ContactTypes lookup: "
                    "ContactTypeID, ContactTypeName)"
                )
        channel_src = first_present(df, ["contact_type"])
        df["unit_level"] = level or "voter"
    elif format == "nationbuilder":
        require(df, ["unit_id", "status"], table="contacts", path=p, fmt=format)
        codes = lookup(df["status"], "status")
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
        codes = lookup(df["code"], "result")
        for col in ("attempted", "contacted"):
            if col in df.columns:  # explicit flags in the file win over the code table
                codes[col] = df[col].where(df[col].notna(), codes[col])
        channel_src = first_present(df, ["channel"])
    df["result"] = codes["result"]
    df["attempted"] = codes["attempted"]
    df["contacted"] = codes["contacted"]
    df["channel"] = _channels(df, channel_src, format, spec, p, bool(strict), counts, unknown)
    if "timestamp" in df.columns:
        df["timestamp"] = parse_layout_dates(
            df["timestamp"],
            column="timestamp",
            table="contacts",
            formats=fmts,
            documented=format == "van",  # VAN writes MM/DD/YYYY
        )
    else:
        df["timestamp"] = pd.Series(pd.NaT, index=df.index, dtype="datetime64[us]")
    if crosswalk is not None:  # VanID (or another vendor id) -> state voter id
        df, n_unmatched = apply_crosswalk(df, crosswalk, path=p)
        set_aside["VanID not in the crosswalk"] = n_unmatched
    if channels is not None:
        keep = df["channel"].isin(list(channels)).to_numpy()
        dropped = df.loc[~keep, "channel"].astype("object").fillna("unknown")
        for ch, n in dropped.value_counts().items():
            set_aside[f"channel {ch} not kept (channels: {', '.join(channels)})"] = int(n)
        df = df.loc[keep]
    window = spec.option("window")
    if window is not None:
        df, n_before, n_after = _window(df, window)
        set_aside["before the date window"] = n_before
        set_aside["after the date window"] = n_after
    cols = ["unit_id", "unit_level", "timestamp", "channel", "result", "attempted", "contacted"]
    if "canvasser" in df.columns:
        cols.append("canvasser")
    out = validate_contacts(df[cols])
    return record_import(
        out,
        path=p,
        fmt=format,
        rows_read=rows_read,
        set_aside=set_aside,
        codes=counts,
        unknown=unknown,
        table="contacts",
    )


def _window(df: pd.DataFrame, window: Any) -> tuple[pd.DataFrame, int, int]:
    """Keep contacts within ``[start, end]`` (inclusive dates; either may be None)."""
    if not isinstance(window, (list, tuple)) or len(window) != 2:
        raise SpecificationError(
            f"read_contacts: option window must be [start, end] (dates or null); got {window!r}"
        )
    try:
        lo = pd.Timestamp(window[0]) if window[0] not in (None, "") else None
        hi = pd.Timestamp(window[1]) if window[1] not in (None, "") else None
    except ValueError as exc:
        raise SpecificationError(f"read_contacts: option window: {exc}") from None
    ts = df["timestamp"]
    before = (ts < lo).fillna(False).to_numpy() if lo is not None else np.zeros(len(df), bool)
    after = (
        (ts >= hi + pd.Timedelta(days=1)).fillna(False).to_numpy()
        if hi is not None
        else np.zeros(len(df), bool)
    )
    return df.loc[~(before | after)], int(before.sum()), int(after.sum())


def _channels(
    df: pd.DataFrame,
    src: str | None,
    fmt: str,
    spec: MappingSpec,
    path: Path,
    strict: bool,
    counts: dict[str, dict[str, int]],
    unknown: dict[str, dict[str, int]],
) -> pd.Series:
    """Channel from the contact type/method; unknown types become ``other`` (warned)."""
    if src is None:
        return pd.Series("door", index=df.index, dtype="str")
    table = code_table("contact_channels", fmt, MappingSpec())
    extra = spec.option("channel")  # {contact type: channel} from the user
    if extra is not None:
        if not isinstance(extra, dict) or any(v not in CHANNELS for v in extra.values()):
            raise SpecificationError(
                f"read_contacts: option channel must map contact types to one of "
                f"{list(CHANNELS)}; got {extra!r}"
            )
        user = pd.DataFrame({"code": list(extra), "channel": list(extra.values())}, dtype="str")
        table = pd.concat([table, user], ignore_index=True)
    present = df[src].notna()
    looked = map_codes(
        df.loc[present, src],
        table,
        what="contact type",
        table_name="contacts",
        path=path,
        default={"channel": "other"},
        meaning="a contact type not in the table is channel 'other'",
        strict=strict,
        option="channel",
    )
    counts["contact type"] = looked.counts
    if looked.unknown:
        unknown["contact type"] = looked.unknown
    out = pd.Series(None, index=df.index, dtype="object")
    out[present] = looked.values["channel"].to_numpy()
    return out.astype("str")
