"""Inputs of :func:`fieldexp.analysis.station_panel.station_panel`: reading, station ids,
crosswalk, election dates, assignment and roll-out (validated, every row accounted for)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fieldexp.errors import (
    ColumnNotFoundError,
    DataError,
    SpecificationError,
    did_you_mean,
    format_rows,
)
from fieldexp.io.precinct import candidate_key
from fieldexp.io.voters import bureau_id, insee_commune

__all__ = [
    "Source",
    "apply_crosswalk",
    "assignment_arms",
    "election_dates",
    "normalise_ids",
    "normalise_station",
    "read_crosswalk",
    "read_sources",
    "rollout_cohorts",
    "station_counts",
]

_DATE = re.compile(r"(\d{4})[-_](\d{2})[-_](\d{2})")
COUNTS = ("registered", "voters", "expressed")
FUNCTION = "fieldexp.station_panel"


def normalise_station(value: object, commune: object = None, bureau: object = None) -> str | None:
    """Canonical station id ``<INSEE commune>_<bureau>`` or None when it cannot be placed.

    ``"1001_1"``, ``"01001_0001"`` -> ``"01001_0001"``; ``"2a004_2"`` -> ``"2A004_0002"``.
    With ``commune`` and ``bureau`` given, the id is built from them (``value`` ignored).
    """
    if commune is not None and bureau is not None:
        c, b = str(commune).strip(), str(bureau).strip()
    else:
        text = "" if value is None or (isinstance(value, float) and np.isnan(value)) else str(value)
        if "_" not in text:
            return None
        c, b = text.strip().rsplit("_", 1)
    insee = insee_commune("", c)
    if insee is None or not b:
        return None
    return bureau_id(insee, b)


# ----------------------------------------------------------------------------- inputs
@dataclass(frozen=True, slots=True)
class Source:
    label: str | None  # given by the caller (mapping input), else from election_id
    name: str  # file name or "table <i>"
    frame: pd.DataFrame


def read_sources(results: Any, mapping: Any) -> list[Source]:
    from fieldexp.io.precinct import read_precinct_results

    if isinstance(results, pd.DataFrame | str | Path):
        results = [results]
    if isinstance(results, Mapping):
        items: list[tuple[str | None, Any]] = [(str(k), v) for k, v in results.items()]
    elif isinstance(results, Sequence):
        items = [(None, v) for v in results]
    else:
        raise SpecificationError(
            f"{FUNCTION}: results must be a list of files/DataFrames or a mapping "
            f"{{election label: file or DataFrame}}; found {type(results).__name__}."
        )
    if not items:
        raise SpecificationError(f"{FUNCTION}: results is empty; give at least two elections.")
    out = []
    for i, (label, v) in enumerate(items):
        if isinstance(v, pd.DataFrame):
            out.append(Source(label, f"table {i + 1}", v))
        elif isinstance(v, str | Path):
            out.append(Source(label, Path(v).name, read_precinct_results(v, mapping=mapping)))
        else:
            raise SpecificationError(
                f"{FUNCTION}: results item {i + 1} must be a file path or a DataFrame; found "
                f"{type(v).__name__}."
            )
    return out


_INSEE_RE = r"\d{5}|2[AB]\d{3}"


def _ids_from_parts(dept: pd.Series | None, commune: pd.Series, bureau: pd.Series) -> pd.Series:
    """``bureau_id(insee_commune(dept, commune), bureau)`` for every row (None: not placed).

    Computed once per distinct (département, commune, bureau) — results files repeat them on
    every candidate row — and vectorised where the commune is already an INSEE code (what
    :func:`insee_commune` returns as is); the other spellings (``1001``, ``4`` + ``01``) go
    through :func:`insee_commune` once per distinct value.
    """
    frame = pd.DataFrame(
        {
            "d": dept.astype("string").fillna("").to_numpy(dtype=object)
            if dept is not None
            else "",
            "c": commune.astype("string").fillna("").to_numpy(dtype=object),
            "b": bureau.astype("string").fillna("").to_numpy(dtype=object),
        }
    )
    codes = frame.groupby(["d", "c", "b"], sort=False).ngroup().to_numpy()
    uniq = frame.drop_duplicates()
    c = uniq["c"].str.strip().str.upper()
    b = uniq["b"].str.strip().str.upper()
    b = b.where(~b.str.fullmatch(r"\d+").astype(bool), b.str.zfill(4))
    ok = c.str.fullmatch(_INSEE_RE).astype(bool).to_numpy(dtype=bool)
    ok = ok & (b != "").to_numpy(dtype=bool)
    values = np.array((c + "_" + b).to_numpy(dtype=object), dtype=object)  # writable
    values[~ok] = None
    rest = ~ok
    if rest.any():
        d = uniq["d"].to_numpy(dtype=object)[rest]
        keys = list(
            zip(d, c.to_numpy(dtype=object)[rest], b.to_numpy(dtype=object)[rest], strict=True)
        )
        values[rest] = [
            None
            if (insee := insee_commune(k[0], k[1])) is None or not k[2]
            else bureau_id(insee, k[2])
            for k in keys
        ]
    return pd.Series(values[codes], index=commune.index, dtype="object")


def normalise_ids(raw: pd.Series) -> pd.Series:
    """:func:`normalise_station` of every value (vectorised; None where not a station)."""
    text = raw.astype("string").fillna("")
    parts = text.str.rsplit("_", n=1, expand=True)
    if parts.shape[1] < 2:
        parts[1] = ""
    ids = _ids_from_parts(None, parts[0], parts[1].fillna(""))
    ids[~text.str.contains("_", regex=False).to_numpy(dtype=bool)] = None
    return ids


def _station_ids(df: pd.DataFrame, name: str) -> pd.Series:
    """Normalised station ids of a results table (rows that cannot be placed: DataError)."""
    if "commune_code" in df.columns and "bureau_code" in df.columns:
        dept = df["department_code"] if "department_code" in df.columns else None
        ids = _ids_from_parts(dept, df["commune_code"], df["bureau_code"])
        what = "commune_code/bureau_code"
    elif "precinct_id" in df.columns:
        codes, uniq = pd.factorize(df["precinct_id"].astype("string").fillna(""))
        ids = pd.Series(
            normalise_ids(pd.Series(uniq)).to_numpy(dtype=object)[codes],
            index=df.index,
            dtype="object",
        )
        what = "precinct_id"
    else:
        raise ColumnNotFoundError(
            f"{FUNCTION}: results {name}: needs 'precinct_id' or 'commune_code' and "
            f"'bureau_code'; found {', '.join(map(repr, list(df.columns)[:15]))}."
        )
    bad = ids.isna().to_numpy()
    if bad.any():
        raise DataError(
            f"{FUNCTION}: results {name}: {int(bad.sum()):,} rows have a {what} that is not a "
            "polling station (<INSEE commune>_<bureau>, the commune placed in a département), "
            f"in {format_rows(df.index[bad], total=int(bad.sum()))}."
        )
    return ids


def station_counts(
    src: Source, share_by: str | None
) -> tuple[pd.DataFrame, pd.DataFrame | None, dict[str, int]]:
    """Per (station, election): counts (one row each) and votes per share key (long)."""
    df, name = src.frame, src.name
    need = ["registered", "voters"]
    if share_by is not None:
        need += ["expressed", "votes", share_by]
    missing = [c for c in need if c not in df.columns]
    if missing:
        raise ColumnNotFoundError(
            f"{FUNCTION}: results {name}: column {missing[0]!r} not found."
            + did_you_mean(missing[0], [str(c) for c in df.columns])
        )
    if "election_id" not in df.columns and src.label is None:
        raise ColumnNotFoundError(
            f"{FUNCTION}: results {name}: no 'election_id' column; pass results as "
            "{label: table} to name its election."
        )
    ids = _station_ids(df, name)
    elections = (
        df["election_id"].astype("string").fillna("").to_numpy()
        if "election_id" in df.columns
        else np.full(len(df), src.label, dtype=object)
    )
    if src.label is not None:
        distinct = pd.unique(elections)
        if len(distinct) > 1:
            raise DataError(
                f"{FUNCTION}: results {name} (label {src.label!r}) holds several elections "
                f"{list(distinct)[:6]} (both rounds?); give one table per election, e.g. "
                "table[table['election_id'] == '<id>']."
            )
        elections = np.full(len(df), src.label, dtype=object)
    cols = [c for c in (*COUNTS, "candidate") if c in df.columns]
    work = pd.DataFrame(
        {"precinct_id": ids.to_numpy(), "election": elections, "_row": df.index.to_numpy()}
    )
    for c in cols:
        work[c] = df[c].to_numpy()
    for c in COUNTS:
        if c in work.columns:
            num = pd.to_numeric(work[c], errors="coerce")
            bad = (num.isna() | (num < 0)).to_numpy()
            if bad.any():
                raise DataError(
                    f"{FUNCTION}: results {name}: column {c!r} must be a count >= 0; found "
                    f"other values in {format_rows(work['_row'][bad], total=int(bad.sum()))}."
                )
            work[c] = num.astype("int64")
    keys = ["precinct_id", "election"]
    if "candidate" in work.columns:
        dup = work.duplicated([*keys, "candidate"], keep=False).to_numpy()
        if dup.any():
            raise DataError(
                f"{FUNCTION}: results {name}: a station lists the same candidate more than once "
                f"(duplicated station rows: two exports concatenated, or two spellings of one "
                f"commune code such as 1001 and 01001): {int(dup.sum()):,} rows, e.g. station "
                f"{work.loc[dup, 'precinct_id'].iloc[0]!r} in "
                f"{format_rows(work['_row'][dup], total=int(dup.sum()))}."
            )
    else:
        dup = work.duplicated(keys, keep=False).to_numpy()
        if dup.any():
            raise DataError(
                f"{FUNCTION}: results {name}: station {work.loc[dup, 'precinct_id'].iloc[0]!r} "
                f"appears on several rows (duplicated station rows; their counts are never "
                f"added silently): {format_rows(work['_row'][dup], total=int(dup.sum()))}."
            )
    present = [c for c in COUNTS if c in work.columns]
    g = work.groupby(keys, sort=False)[present]
    lo, hi = g.min(), g.max()
    incons = (lo.to_numpy() != hi.to_numpy()).any(axis=1)
    if incons.any():
        bad_keys = lo.index[incons]
        raise DataError(
            f"{FUNCTION}: results {name}: {', '.join(present)} must agree across the candidate "
            f"rows of a station; {len(bad_keys):,} stations disagree, e.g. "
            f"{', '.join(f'{p} ({e})' for p, e in bad_keys[:5])} (duplicated station rows?)."
        )
    stations = lo.reset_index()
    if "expressed" not in stations.columns:
        stations["expressed"] = np.nan
    counts = {"rows": len(df), "stations": len(stations)}
    votes = None
    if share_by is not None:
        key = df[share_by].map(lambda v: None if pd.isna(v) else candidate_key(v))
        nokey = key.isna().to_numpy()
        if nokey.any():
            raise DataError(
                f"{FUNCTION}: results {name}: column {share_by!r} (shares) is missing on "
                f"{format_rows(pd.unique(df.index[nokey]), total=len(pd.unique(df.index[nokey])))}"
                f" ({int(nokey.sum()):,} candidate rows); this file may not have it (lists and "
                "presidential files have no nuance): shares by 'candidate_label' instead."
            )
        v = pd.to_numeric(df["votes"], errors="coerce")
        badv = (v.isna() | (v < 0)).to_numpy()
        if badv.any():
            raise DataError(
                f"{FUNCTION}: results {name}: column 'votes' must be a count >= 0; found other "
                f"values in {format_rows(df.index[badv], total=int(badv.sum()))}."
            )
        votes = (
            pd.DataFrame(
                {
                    "precinct_id": ids.to_numpy(),
                    "election": elections,
                    "key": key.to_numpy(),
                    "votes": v.astype("int64").to_numpy(),
                }
            )
            .groupby([*keys, "key"], sort=False)["votes"]
            .sum()
            .reset_index()
        )
    return stations, votes, counts


def read_crosswalk(crosswalk: Any) -> pd.DataFrame | None:
    if crosswalk is None:
        return None
    cw = pd.read_csv(crosswalk, dtype=str) if isinstance(crosswalk, str | Path) else crosswalk
    if not isinstance(cw, pd.DataFrame):
        raise SpecificationError(
            f"{FUNCTION}: crosswalk must be a DataFrame or a CSV path with columns "
            f"'precinct_id' and 'station' (optional 'election'); found {type(cw).__name__}."
        )
    for c in ("precinct_id", "station"):
        if c not in cw.columns:
            raise ColumnNotFoundError(
                f"{FUNCTION}: crosswalk: column {c!r} not found (columns 'precinct_id' = the "
                "station of a results file, 'station' = the panel station, optional "
                "'election')." + did_you_mean(c, [str(x) for x in cw.columns])
            )
    out = pd.DataFrame(
        {
            "precinct_id": normalise_ids(cw["precinct_id"]),
            "station": normalise_ids(cw["station"]),
            "election": cw["election"].astype("string").fillna("").to_numpy()
            if "election" in cw.columns
            else "",
        },
        index=cw.index,
    )
    bad = (out["precinct_id"].isna() | out["station"].isna()).to_numpy()
    if bad.any():
        raise DataError(
            f"{FUNCTION}: crosswalk: {int(bad.sum())} rows hold a station id that is not "
            "<INSEE commune>_<bureau>, in " + format_rows(cw.index[bad], total=int(bad.sum()))
        )
    out = out.drop_duplicates()
    split = out.duplicated(["election", "precinct_id"], keep=False).to_numpy()
    if split.any():
        first = out.loc[split].iloc[0]
        targets = out.loc[
            split
            & (out["precinct_id"] == first["precinct_id"]).to_numpy()
            & (out["election"] == first["election"]).to_numpy(),
            "station",
        ].tolist()
        raise DataError(
            f"{FUNCTION}: crosswalk: station {first['precinct_id']!r}"
            + (f" (election {first['election']!r})" if first["election"] else "")
            + f" maps to {len(targets)} panel stations {targets[:4]}: a station's counts cannot "
            "be split between stations. Map the station and all its parts to one panel station "
            "(their counts are added up)."
        )
    return out


def apply_crosswalk(
    st: pd.DataFrame, votes: pd.DataFrame | None, cw: pd.DataFrame | None
) -> tuple[pd.DataFrame, pd.DataFrame | None, int]:
    """Stations renamed/merged by the crosswalk (counts added); returns the rows remapped."""
    if cw is None:
        return st, votes, 0
    general = cw.loc[cw["election"] == ""].set_index("precinct_id")["station"]
    specific = cw.loc[cw["election"] != ""].set_index(["election", "precinct_id"])["station"]

    def target(frame: pd.DataFrame) -> pd.Series:
        out = frame["precinct_id"].map(general)
        if len(specific):
            idx = pd.MultiIndex.from_arrays([frame["election"], frame["precinct_id"]])
            spec = pd.Series(specific.reindex(idx).to_numpy(), index=frame.index)
            out = spec.where(spec.notna(), out)
        return out.where(out.notna(), frame["precinct_id"])

    new = target(st)
    n_mapped = int((new != st["precinct_id"]).sum())
    st = st.assign(precinct_id=new.to_numpy())
    st = (
        st.groupby(["precinct_id", "election"], sort=False)[list(COUNTS)]
        .sum(min_count=1)
        .reset_index()
    )
    if votes is not None:
        votes = (
            votes.assign(precinct_id=target(votes).to_numpy())
            .groupby(["precinct_id", "election", "key"], sort=False)["votes"]
            .sum()
            .reset_index()
        )
    return st, votes, n_mapped


def election_dates(labels: list[str], dates: Mapping[str, Any] | None) -> pd.Series:
    out = {}
    given = {str(k): v for k, v in (dates or {}).items()}
    unknown = [k for k in given if k not in labels]
    if unknown:
        raise SpecificationError(
            f"{FUNCTION}: dates names election {unknown[0]!r}, which is not in the results "
            f"({', '.join(labels)})." + did_you_mean(unknown[0], labels)
        )
    for e in labels:
        if e in given:
            try:
                out[e] = pd.Timestamp(given[e])
            except (ValueError, TypeError):
                raise SpecificationError(
                    f"{FUNCTION}: dates[{e!r}] = {given[e]!r} is not a date (YYYY-MM-DD)."
                ) from None
            continue
        m = _DATE.search(e)
        if m is None:
            raise DataError(
                f"{FUNCTION}: cannot tell when election {e!r} was held: pass dates="
                "{label: 'YYYY-MM-DD'} (labels like legislatives_2024_06_30 carry their date)."
            )
        out[e] = pd.Timestamp(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    s = pd.Series(out, dtype="datetime64[ns]")
    same = s[s.duplicated(keep=False)]
    if len(same):
        raise DataError(
            f"{FUNCTION}: elections {', '.join(map(repr, same.index[:4]))} share the date "
            f"{same.iloc[0].date()}: a panel period is one election; keep one of them."
        )
    return s.sort_values(kind="stable")


def assignment_arms(
    assignment: pd.DataFrame, control: Any, function: str
) -> tuple[pd.Series, pd.Series]:
    """Per normalised station: assigned 0/1 (and the input row labels)."""
    if "precinct_id" not in assignment.columns:
        raise ColumnNotFoundError(
            f"{function}: assignment: column 'precinct_id' not found."
            + did_you_mean("precinct_id", [str(c) for c in assignment.columns])
        )
    ids = normalise_ids(assignment["precinct_id"])
    bad = ids.isna().to_numpy()
    if bad.any():
        raise DataError(
            f"{function}: assignment: {int(bad.sum())} precinct_id values are not stations, in "
            + format_rows(assignment.index[bad], total=int(bad.sum()))
        )
    if "assigned" in assignment.columns:
        z = pd.to_numeric(assignment["assigned"], errors="coerce")
        badz = ~z.isin([0, 1]).to_numpy()
        if badz.any():
            raise DataError(
                f"{function}: assignment column 'assigned' must be 0/1; found other values in "
                + format_rows(assignment.index[badz], total=int(badz.sum()))
            )
    elif "arm" in assignment.columns:
        arms = assignment["arm"].astype("string").str.strip()
        ctrl = {str(control)} if control is not None else {"0", "control"}
        arm_set = set(arms.dropna().unique())
        if not (arm_set & ctrl) or len(arm_set) > 2:
            raise DataError(
                f"{function}: assignment arms {sorted(arm_set)[:6]}: name the control arm "
                "with control= (two arms: control and treatment)."
            )
        z = (~arms.isin(list(ctrl))).astype("int64")
    else:
        raise ColumnNotFoundError(
            f"{function}: assignment needs 'assigned' (0/1) or 'arm'; found "
            f"{', '.join(map(repr, list(assignment.columns)[:10]))}."
        )
    dup = ids.duplicated(keep=False).to_numpy()
    if dup.any():
        raise DataError(
            f"{function}: assignment lists station {ids[dup].iloc[0]!r} more than once (in "
            f"{format_rows(assignment.index[dup], total=int(dup.sum()))}); one row per station."
        )
    return pd.Series(z.astype("int64").to_numpy(), index=ids.to_numpy()), pd.Series(
        assignment.index.to_numpy(), index=ids.to_numpy()
    )


def rollout_cohorts(
    rollout: pd.DataFrame, column: str, el: pd.DataFrame
) -> tuple[pd.Series, pd.Series, int]:
    """First treated period per station from election labels or dates; count after the panel."""
    for c in ("precinct_id", column):
        if c not in rollout.columns:
            raise ColumnNotFoundError(
                f"{FUNCTION}: rollout: column {c!r} not found."
                + did_you_mean(c, [str(x) for x in rollout.columns])
            )
    ids = normalise_ids(rollout["precinct_id"])
    bad = ids.isna().to_numpy()
    if bad.any():
        raise DataError(
            f"{FUNCTION}: rollout: {int(bad.sum())} precinct_id values are not stations, in "
            + format_rows(rollout.index[bad], total=int(bad.sum()))
        )
    labels = el["election"].astype(str).tolist()
    days = el["election_date"].to_numpy(dtype="datetime64[ns]")
    period = np.zeros(len(rollout), dtype=np.int64)
    after = 0
    for i, v in enumerate(rollout[column].to_numpy()):
        text = "" if pd.isna(v) else str(v).strip()
        if text == "":
            continue  # never treated
        if text in labels:
            period[i] = labels.index(text) + 1
            continue
        try:
            day = pd.Timestamp(text).normalize()
        except (ValueError, TypeError):
            raise DataError(
                f"{FUNCTION}: rollout column {column!r}: {text!r} (row "
                f"{rollout.index[i]!r}) is neither an election of the panel "
                f"({', '.join(labels)}) nor a date." + did_you_mean(text, labels)
            ) from None
        k = int(np.searchsorted(days, np.datetime64(day, "ns"), side="left"))
        if k >= len(days):
            after += 1
        else:
            period[i] = k + 1
    out = pd.Series(period, index=ids.to_numpy())
    dup = out.index.duplicated(keep=False)
    if dup.any():
        raise DataError(
            f"{FUNCTION}: rollout lists station {out.index[dup][0]!r} more than once (in "
            f"{format_rows(rollout.index[dup], total=int(dup.sum()))}); one row per station."
        )
    return out, pd.Series(rollout.index.to_numpy(), index=ids.to_numpy()), after
