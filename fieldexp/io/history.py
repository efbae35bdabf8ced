"""Vote histories: long files (generic, North Carolina ncvhis, Florida) and wide files
(generic, Ohio statewide, L2-style), all returned as the long ``vote_history`` table.

``voted`` is 1 for a **counted** ballot: Florida's ``B`` (absentee ballot not counted)
and ``P`` (provisional not counted) give ``voted=0`` with their ``method`` kept, by
default; edit the ``history_codes`` mapping table to change it.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fieldexp.errors import FileFormatError, SpecificationError, did_you_mean, format_rows
from fieldexp.io._common import election_id, require
from fieldexp.io._distinct import distinct, unique_rows
from fieldexp.io._text import read_delimited, warn_dropped
from fieldexp.io.accounting import record_import
from fieldexp.io.dates import parse_layout_dates
from fieldexp.io.detect import resolve_format
from fieldexp.io.mappings import (
    MappingSpec,
    code_table,
    parse_mapping,
    resolve_columns,
)
from fieldexp.io.schema import validate_vote_history
from fieldexp.io.vocab import map_codes

__all__ = ["election_columns", "read_vote_history"]

HISTORY_FORMATS = ("long", "wide", "ncvhis", "ohio", "l2", "florida")

# Wide-file election columns: Ohio `GENERAL-11/08/2016`, L2 `General_2020_11_03`,
# and ISO-dated `general_2020-11-03`.
_OHIO = re.compile(r"^(?P<type>[A-Za-z][A-Za-z _]*?)-(?P<m>\d{1,2})/(?P<d>\d{1,2})/(?P<y>\d{4})$")
_L2 = re.compile(r"^(?P<type>[A-Za-z][A-Za-z]*?)_(?P<y>\d{4})_(?P<m>\d{2})_(?P<d>\d{2})$")
_ISO = re.compile(r"^(?P<type>[A-Za-z][A-Za-z _]*?)[_-](?P<y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})$")


def _election_type(
    raw: pd.Series, spec: MappingSpec, path: Path, counts: dict[str, dict[str, int]] | None = None
) -> pd.Series:
    """Map election type words (GEN, PRIMARY, PresidentialPrimary...) to canonical types.

    Unknown words become ``other`` (with one warning; refused when strict).
    """
    d = distinct(raw)
    if d is not None:  # Arrow text: hashed without a Python object per row
        codes_idx, uniques = d.codes, list(d.uniques)
    else:
        codes_idx, index = pd.factorize(raw.astype("str"), use_na_sentinel=False)
        uniques = list(index)
    u_words = [
        re.sub(r"(?<=[a-z])(?=[A-Z])", " ", str(s)).strip().lower().replace("_", " ")
        for s in uniques
    ]
    codes = mapping_types(spec)
    known = set(codes["code"].str.lower())

    def canon(w: str) -> str:
        if w in known:
            return w
        for token in (
            "presidential primary",
            "second primary",
            "municipal",
            "special",
            "runoff",
            "primary",
            "general",
            "other",
        ):
            if token in w:
                return token
        return w

    folded_u = np.array([canon(w) for w in u_words], dtype=object)
    # the folded words as a categorical column: map_codes works on its few distinct values
    f_codes, f_words = pd.factorize(folded_u)
    folded = pd.Series(
        pd.Categorical.from_codes(f_codes[codes_idx], categories=pd.Index(f_words)),
        index=raw.index,
    )
    looked = map_codes(
        folded,
        codes,
        what="election type",
        table_name="vote_history",
        path=path,
        default={"election_type": "other"},
        meaning="an election type not in the table is 'other'",
        strict=bool(spec.option("strict", False)),
        option="election_type",
    )
    if counts is not None and looked.unknown:
        counts["election_type (unknown)"] = looked.unknown
    return looked.values["election_type"]


def mapping_types(spec: MappingSpec) -> pd.DataFrame:
    t = code_table("election_types", "", MappingSpec())
    extra = spec.option("election_type")
    if isinstance(extra, dict):
        user = pd.DataFrame({"code": list(extra), "election_type": list(extra.values())})
        t = pd.concat([t[~t["code"].isin(user["code"])], user], ignore_index=True)
    return t


def election_columns(columns: list[str]) -> dict[str, tuple[str, str]]:
    """Which wide-file columns are elections: ``{column: (type word, YYYY-MM-DD)}``."""
    out: dict[str, tuple[str, str]] = {}
    for col in columns:
        for pat in (_OHIO, _L2, _ISO):
            m = pat.match(str(col).strip())
            if m:
                date = f"{m.group('y')}-{int(m.group('m')):02d}-{int(m.group('d')):02d}"
                out[col] = (m.group("type"), date)
                break
    return out


#: What a row means when its code is unknown, per layout (docs/data.md).
ROW_DEFAULTS: dict[str, tuple[dict[str, object], str]] = {
    "ncvhis": ({"voted": 1, "method": ""}, "an ncvhis row is a ballot cast"),
    "florida": ({"voted": 1, "method": ""}, "a Florida history row records a vote"),
    "long": ({"voted": 1, "method": ""}, "a history row is a ballot cast"),
    "wide": ({"voted": 1, "method": ""}, "a mark in an election column is a vote"),
    "ohio": ({"voted": 1, "method": ""}, "a mark in an Ohio election column is a vote"),
    "l2": ({"voted": 1, "method": ""}, "a mark in an L2 election column is a vote"),
}


def read_vote_history(
    path: str | Path,
    *,
    format: str = "long",
    mapping: Any = None,
    strict: bool | None = None,
) -> pd.DataFrame:
    """Read a vote history into the canonical long ``vote_history`` table.

    Parameters
    ----------
    path
        Delimited text file.
    format
        ``"long"``: one row per voter and election (``voter_id, election_date,
        election_type`` and ``voted``; ``election_id``/``method`` optional).
        ``"ncvhis"``: North Carolina's tab-separated history (``ncid``,
        ``election_lbl`` MM/DD/YYYY, ``election_desc``, ``voting_method`` with the older
        and newer value sets); duplicate voter-election rows are set aside with a
        warning. ``"florida"``: Florida's headerless tab-separated history (county,
        voter id, date, type, code A/B/E/N/P/Y). ``"wide"``, ``"ohio"``, ``"l2"``: one
        row per voter and one column per election (``GENERAL-11/08/2016`` = ``X`` or
        a party letter or blank; ``General_2020_11_03`` = ``Y``). ``"auto"``: detected
        from the header and first rows (:func:`fieldexp.io.inspect_file`).
    mapping
        Column names, ``codes`` (history codes: ``code, voted, method``) and
        ``options`` (``encoding``, ``delimiter``, ``date_format``, ``election_type``,
        ``strict``).
    strict
        Refuse codes missing from the mapping tables instead of giving them the
        layout's default meaning (a row is a ballot cast) with a warning. Default: the
        ``strict`` option, else False.

    Returns
    -------
    DataFrame
        Validated long ``vote_history``; wide files give one row per voter and
        election column (blank = ``voted=0``). ``attrs["fieldexp_import"]`` records
        rows read, kept and set aside (read = kept + duplicates + set aside) and the
        rows per code (unknown codes included).
    """
    p = Path(path)
    spec = parse_mapping(mapping)
    format = resolve_format(p, "vote_history", format, HISTORY_FORMATS, spec)
    if format not in HISTORY_FORMATS:
        raise SpecificationError(
            f"read_vote_history: format must be one of {[*HISTORY_FORMATS, 'auto']}, got "
            f"{format!r}." + did_you_mean(str(format), list(HISTORY_FORMATS))
        )
    if strict is None:
        strict = bool(spec.option("strict", False))
    spec = MappingSpec(spec.columns, spec.codes, {**spec.options, "strict": bool(strict)})
    date_format = spec.option("date_format")
    fmts = [date_format] if date_format else None
    header = bool(spec.option("header", format != "florida"))
    names = spec.option("names")
    if format == "florida" and not header and names is None:
        names = ["County Code", "Voter ID", "Election Date", "Election Type", "History Code"]
    raw = read_delimited(
        p,
        table="vote_history",
        encoding=spec.option("encoding"),
        delimiter=spec.option("delimiter"),
        header=header,
        names=names,
        check_short=True,
    )
    rows_read = len(raw)
    rename = resolve_columns(list(raw.columns), table="vote_history", fmt=format, spec=spec)
    df = raw.rename(columns=rename)
    df.attrs["_raw_columns"] = list(raw.columns)
    set_aside: dict[str, int] = {}
    counts: dict[str, dict[str, int]] = {}
    unknown: dict[str, dict[str, int]] = {}
    default, meaning = ROW_DEFAULTS[format]

    if format in ("wide", "ohio", "l2"):
        out = _wide(df, raw, rename, p, format, spec, counts, unknown)
        rows_read = len(out)  # each voter x election cell is a row of the long table
    else:
        if format == "ncvhis":
            require(
                df,
                ["voter_id", "election_date", "method"],
                table="vote_history",
                path=p,
                fmt=format,
            )
            desc = (
                df["election_desc"]
                if "election_desc" in df.columns
                else pd.Series("general", index=df.index)
            )
            idx, uniq = pd.factorize(desc.astype("str"), use_na_sentinel=False)
            words = pd.Series(uniq, dtype="object").str.replace(r"^[\d/]+\s*", "", regex=True)
            df["election_type"] = words.to_numpy()[idx]
            code_col, what = "method", "voting_method"
        elif format == "florida":
            require(
                df,
                ["voter_id", "election_date", "election_type", "code"],
                table="vote_history",
                path=p,
                fmt=format,
            )
            code_col, what = "code", "history code"
        else:
            require(
                df,
                ["voter_id", "election_date", "election_type", "voted"],
                table="vote_history",
                path=p,
                fmt=format,
            )
            code_col, what = "voted", "voted"
        looked = map_codes(
            df[code_col],
            code_table("history_codes", format, spec),
            what=what,
            table_name="vote_history",
            path=p,
            default=default,
            meaning=meaning,
            strict=bool(strict),
            case_insensitive=format != "florida",
        )
        codes = looked.values
        counts[what] = looked.counts
        if looked.unknown:
            unknown[what] = looked.unknown
        if format == "long" and "method" in df.columns:
            codes["method"] = df["method"].where(df["method"].notna(), codes["method"])
        if looked.distinct is not None and looked.index is not None:
            # once per distinct code, then spread to the rows (the same numbers and dtype:
            # the rows hold exactly the distinct values)
            voted_u = pd.to_numeric(looked.distinct["voted"]).to_numpy()
            df["voted"] = pd.Series(voted_u[looked.index], index=df.index).astype("Int8")
        else:  # pragma: no cover - map_codes always returns the distinct values
            df["voted"] = pd.to_numeric(codes["voted"]).astype("Int8")
        df["method"] = codes["method"].where(codes["method"].astype("str") != "", None)
        df["election_date"] = parse_layout_dates(
            df["election_date"],
            column="election_date",
            table="vote_history",
            formats=fmts,
            documented=format in ("ncvhis", "florida"),
        )
        df["election_type"] = _election_type(df["election_type"], spec, p, unknown)
        if "election_id" not in df.columns:
            df["election_id"] = election_id(df["election_type"], df["election_date"])
        # one pass over the key (Arrow text) first: the repeated rows are looked for only
        # when some pair repeats
        repeats = not unique_rows(df["voter_id"], df["election_id"])
        if repeats and df.duplicated(["voter_id", "election_id"], keep=False).any():
            # keep one row per voter and election, whatever the row order: a counted ballot
            # wins, then a known method, then the smallest method name, then the first row
            method = df["method"].astype("object")
            order = df.assign(
                _v=df["voted"].fillna(0),
                _known=method.notna().astype(int),
                _m=method.fillna("").astype("str"),
                _line=np.arange(len(df)),
            ).sort_values(
                ["_v", "_known", "_m", "_line"],
                ascending=[False, False, True, True],
                kind="stable",
            )
            keep = ~order.duplicated(["voter_id", "election_id"], keep="first")
            dropped = order.index[~keep.to_numpy()]
            set_aside["duplicate voter-election row"] = len(dropped)
            warn_dropped(
                "vote_history",
                len(dropped),
                "duplicate voter-election rows (one kept per pair) at "
                + format_rows(sorted(dropped), total=len(dropped)).replace("row", "line", 1),
            )
            df = df.drop(index=dropped)
        out = df
    cols = ["voter_id", "election_id", "election_date", "election_type", "voted", "method"]
    extra = [c for c in ("ballot_party", "party", "county_id", "county_code") if c in out.columns]
    # the key (voter_id, election_id; text from the file) is unique by now: duplicated pairs
    # were set aside above (long layouts) or refused (wide layouts)
    text_key = all(isinstance(out[c].dtype, pd.StringDtype) for c in ("voter_id", "election_id"))
    result = validate_vote_history(out[cols + extra], key_checked=text_key)
    return record_import(
        result,
        path=p,
        fmt=format,
        rows_read=rows_read,
        set_aside=set_aside,
        codes=counts,
        unknown=unknown,
        table="vote_history",
    )


def _wide(
    df: pd.DataFrame,
    raw: pd.DataFrame,
    rename: dict[str, str],
    p: Path,
    fmt: str,
    spec: MappingSpec,
    counts: dict[str, dict[str, int]],
    unknown: dict[str, dict[str, int]],
) -> pd.DataFrame:
    require(df, ["voter_id"], table="vote_history", path=p, fmt=fmt)
    elections = election_columns(list(raw.columns))
    if not elections:
        raise FileFormatError(
            f"vote_history: file {p.name!r} ({fmt} layout) has no election columns; expected "
            "names like 'GENERAL-11/08/2016' (Ohio), 'General_2020_11_03' (L2) or "
            f"'general_2020-11-03'; header: {list(raw.columns)[:12]}"
        )
    dup_ids = df["voter_id"].duplicated(keep=False)
    if dup_ids.any():
        raise FileFormatError(
            f"vote_history: file {p.name!r} ({fmt} layout) must have one row per voter; voter ids "
            f"repeat in {format_rows(df.index[dup_ids.to_numpy()], total=int(dup_ids.sum()))}".replace(
                "rows ", "lines ", 1
            )
        )
    default, meaning = ROW_DEFAULTS[fmt]
    cols = list(elections)
    # one long column of marks (voter-major within each election), mapped once: one warning
    marks = pd.concat([raw[c] for c in cols], ignore_index=True)
    marks.index = np.tile(raw.index.to_numpy(), len(cols))
    looked = map_codes(
        marks,
        code_table("history_codes", fmt, spec),
        what="history mark (election columns)",
        table_name="vote_history",
        path=p,
        default=default,
        meaning=meaning,
        strict=bool(spec.option("strict", False)),
        case_insensitive=fmt != "ohio",
    )
    counts["election columns"] = looked.counts
    if looked.unknown:
        unknown["election columns"] = looked.unknown
    n = len(raw)
    kinds = np.repeat([elections[c][0] for c in cols], n)
    dates = np.repeat([elections[c][1] for c in cols], n)
    long = pd.DataFrame(
        {
            "voter_id": np.tile(df["voter_id"].to_numpy(), len(cols)),
            "election_type_raw": kinds,
            "election_date": pd.to_datetime(pd.Series(dates)),
            "voted": pd.to_numeric(looked.values["voted"]).to_numpy(),
            "method": looked.values["method"].where(looked.values["method"] != "", None).to_numpy(),
        }
    )
    if fmt == "ohio":
        v = marks.astype("str").str.strip().str.upper()
        party = v.where(marks.notna() & (v != "X") & (v != ""), None)
        long["ballot_party"] = party.to_numpy()
    long["election_type"] = _election_type(long["election_type_raw"], spec, p, unknown).to_numpy()
    long["election_date"] = long["election_date"].astype("datetime64[us]")
    long["election_id"] = election_id(long["election_type"], long["election_date"])
    dup = long.duplicated(["voter_id", "election_id"])
    if dup.any():
        names = sorted({n for n in long.loc[dup, "election_id"]})
        raise FileFormatError(
            f"vote_history: file {p.name!r} has two columns for the same election {names[:3]}"
        )
    long["voted"] = long["voted"].astype("Int8")
    return long
