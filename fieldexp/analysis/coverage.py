"""Field coverage: how many treatment households were attempted and contacted, by group.

Counts only (no suppression, no pseudonyms: those belong to the report). The contacts are
the ones the analysis used: :func:`contacts_in_analysis` keeps the contact-log rows that
:func:`fieldexp.build_analysis_table` counts for treatment units (known unit, inside the
campaign window) and reports how many it set aside.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from fieldexp.errors import ColumnNotFoundError, did_you_mean
from fieldexp.stats.groups import arrow_positions, arrow_text_of, factorize

__all__ = [
    "UsedContacts",
    "canvasser_coverage",
    "check_coverage_columns",
    "contacts_in_analysis",
    "household_coverage",
]


@dataclass(frozen=True, slots=True, eq=False)
class UsedContacts:
    """Contact-log rows of treatment households that the analysis used, per household.

    ``data`` columns: ``household``, ``canvasser``, ``attempted``, ``contacted``;
    ``set_aside`` counts the log rows left out (other units, control units, outside the
    campaign window, no canvasser).
    """

    data: pd.DataFrame
    rows_read: int
    set_aside: int


def _window(
    window: tuple[str | None, str | None] | None,
) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
    if window is None:
        return None, None
    lo, hi = window
    start = pd.Timestamp(lo) if lo else None
    end = None
    if hi:
        end = pd.Timestamp(hi)
        if end == end.normalize():
            end = end + pd.Timedelta(days=1)
    return start, end


def check_coverage_columns(
    contact_columns: Iterable[object], table_columns: Iterable[object], household: str
) -> None:
    """The contact-log columns coverage counts and the household column of the analysis table
    (the same rule for a DataFrame and for an engine table)."""
    names = [str(c) for c in contact_columns]
    for col in ("unit_id", "attempted", "contacted"):
        if col not in names:
            raise ColumnNotFoundError(
                f"contacts: column {col!r} is required for coverage." + did_you_mean(col, names)
            )
    if household not in [str(c) for c in table_columns]:
        raise ColumnNotFoundError(f"coverage: column {household!r} is not in the analysis table.")


def contacts_in_analysis(
    contacts: pd.DataFrame,
    table: pd.DataFrame,
    *,
    arms: Sequence[str],
    household: str,
    window: tuple[str | None, str | None] | None = None,
) -> UsedContacts:
    """The contact-log rows the analysis counted for units of ``arms``, keyed by household.

    Parameters
    ----------
    contacts : DataFrame
        Canonical contact log (``unit_id``, optional ``unit_level``, ``timestamp``,
        ``attempted``, ``contacted``, ``canvasser``).
    table : DataFrame
        The analysis table (``voter_id``, ``arm``, the ``household`` column).
    arms : sequence of str
        Treatment arm labels (contacts of control units are left out).
    household : str
        Household (cluster) column of ``table``; ``"voter_id"`` for voter-level coverage.
    window : (start, end), optional
        The campaign window as the reconciliation reports it (inclusive dates); rows
        outside it, or without a timestamp when a window is given, are left out.
    """
    check_coverage_columns(contacts.columns, table.columns, household)
    cols = list(dict.fromkeys(["voter_id", household]))  # household may be voter_id itself
    treat = table.loc[table["arm"].isin(list(arms)), cols].astype({"voter_id": str})
    c = contacts  # read only: the columns below are new arrays
    unit_id = c["unit_id"].astype("string")
    level = (
        c["unit_level"].astype("string").str.lower()
        if "unit_level" in c.columns
        else pd.Series("voter", index=c.index, dtype="string")
    )
    keep = np.ones(len(c), dtype=bool)
    start, end = _window(window)
    if "timestamp" in c.columns and (start is not None or end is not None):
        ts = pd.to_datetime(c["timestamp"], errors="coerce")
        keep &= ts.notna().to_numpy()
        if start is not None:
            keep &= (ts >= start).fillna(False).to_numpy(dtype=bool)
        if end is not None:
            keep &= (ts < end).fillna(False).to_numpy(dtype=bool)
    is_voter = (level == "voter").fillna(False).to_numpy(dtype=bool)
    ids = unit_id[is_voter]
    fast = _household_codes(c, treat, ids, is_voter, unit_id, level, household)
    if fast is not None:  # Arrow text ids: integer codes, no Python strings
        hh_code, hh_labels = fast
        keep &= hh_code >= 0
        if "canvasser" in c.columns:
            keep &= c["canvasser"].notna().to_numpy()
        else:
            keep &= False
        return UsedContacts(
            _used_frame(c, keep, hh_labels.take(hh_code[keep]).to_numpy()),
            len(c),
            int((~keep).sum()),
        )
    hh_of = np.full(len(c), None, dtype=object)
    voters_index = pd.Index(treat["voter_id"])
    voter_hh = treat[household].to_numpy(dtype=object)
    if voters_index.is_unique:
        # one hash lookup per contact row (Series.map/isin on Arrow strings is much slower)
        pos = voters_index.get_indexer(pd.Index(ids))
        vals = voter_hh[pos]
        vals[pos < 0] = None
        hh_of[np.flatnonzero(is_voter)] = vals
    else:
        hh_of[is_voter] = ids.map(treat.set_index("voter_id")[household]).to_numpy()
    if household != "voter_id":
        is_hh = (level == "household").fillna(False).to_numpy(dtype=bool)
        known = pd.Index(pd.unique(treat[household].astype(str)))
        hids = unit_id[is_hh]
        hvals = hids.to_numpy(dtype=object)
        hvals[known.get_indexer(pd.Index(hids)) < 0] = None
        hh_of[np.flatnonzero(is_hh)] = hvals
    keep &= pd.notna(hh_of)
    if "canvasser" in c.columns:
        keep &= c["canvasser"].notna().to_numpy()
    else:
        keep &= False
    used = _used_frame(c, keep, pd.Series(hh_of[keep], dtype=object).astype(str).to_numpy())
    return UsedContacts(used, len(c), int((~keep).sum()))


def _used_frame(c: pd.DataFrame, keep: np.ndarray, households: object) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "household": households,
            "canvasser": c.loc[keep, "canvasser"].astype(str).to_numpy()
            if "canvasser" in c.columns
            else [],
            "attempted": pd.to_numeric(c.loc[keep, "attempted"]).fillna(0).astype(int).to_numpy(),
            "contacted": pd.to_numeric(c.loc[keep, "contacted"]).fillna(0).astype(int).to_numpy(),
        }
    )


def _household_codes(
    c: pd.DataFrame,
    treat: pd.DataFrame,
    ids: pd.Series,
    is_voter: np.ndarray,
    unit_id: pd.Series,
    level: pd.Series,
    household: str,
) -> tuple[np.ndarray, pd.Series] | None:
    """For Arrow text ids: the household of each contact row as a code into the treatment
    households' labels (-1: none), by the lookups of the general path (a voter row by its
    voter, a household row when the household is a treatment one); ``None`` otherwise or when
    the treatment voter ids repeat."""
    hh_col = treat[household]
    if arrow_text_of(treat["voter_id"]) is None or arrow_text_of(hh_col) is None:
        return None
    if arrow_text_of(ids) is None or bool(hh_col.isna().any() or treat["voter_id"].isna().any()):
        return None
    voters = factorize(treat["voter_id"])
    if voters.n_groups != len(treat):
        return None
    households = factorize(hh_col)
    first = np.full(households.n_groups, len(treat), dtype=np.int64)
    np.minimum.at(first, households.codes, np.arange(len(treat)))
    labels = hh_col.iloc[first].reset_index(drop=True)  # one label per household code
    code = np.full(len(c), -1, dtype=np.int64)
    pos = arrow_positions(treat["voter_id"], ids)
    assert pos is not None
    code[np.flatnonzero(is_voter)] = np.where(pos >= 0, households.codes[np.maximum(pos, 0)], -1)
    if household != "voter_id":
        is_hh = (level == "household").fillna(False).to_numpy(dtype=bool)
        hids = unit_id[is_hh]
        at = arrow_positions(labels, hids)
        if at is None:
            return None
        code[np.flatnonzero(is_hh)] = at
    return code, labels


def household_coverage(
    table: pd.DataFrame,
    *,
    arms: Sequence[str],
    household: str,
    by: str,
    contacted: str = "contacted",
) -> pd.DataFrame:
    """Treatment households by ``by``: ``households``, ``attempted``, ``contacted`` counts.

    A household counts as attempted (contacted) when any of its voters was; ``by`` is taken
    from the household's first voter. Rows are in ``by`` order.
    """
    for col in (household, by, "attempted", contacted, "arm"):
        if col not in table.columns:
            raise ColumnNotFoundError(
                f"coverage: column {col!r} is not in the analysis table."
                + did_you_mean(col, [str(c) for c in table.columns])
            )
    treat = table[table["arm"].isin(list(arms))]
    hh = treat.groupby(household, sort=True).agg(
        attempted=("attempted", "max"), contacted=(contacted, "max"), group=(by, "first")
    )
    g = hh.groupby("group", sort=True).agg(
        households=("attempted", "size"),
        attempted=("attempted", "sum"),
        contacted=("contacted", "sum"),
    )
    return g.reset_index().astype({"households": int, "attempted": int, "contacted": int})


def canvasser_coverage(used: UsedContacts) -> pd.DataFrame:
    """Per canvasser: ``households`` knocked (attempted) and ``contacted`` households."""
    d = used.data
    if d.empty:
        return pd.DataFrame({"canvasser": [], "households": [], "contacted": []})
    # integer codes for canvassers and households; one sort of the (canvasser, household)
    # keys gives each pair's maxima (the groupby of two text columns, without it)
    cv, hh = factorize(d["canvasser"]), factorize(d["household"])
    key = cv.codes * hh.n_groups + hh.codes
    order = np.argsort(key, kind="stable")
    k = key[order]
    starts = np.flatnonzero(np.r_[True, k[1:] != k[:-1]])
    att = np.maximum.reduceat(d["attempted"].to_numpy()[order], starts)
    con = np.maximum.reduceat(d["contacted"].to_numpy()[order], starts)
    pair_cv = k[starts] // hh.n_groups
    knocked = att > 0
    households = np.bincount(pair_cv[knocked], minlength=cv.n_groups)
    contacted = np.bincount(pair_cv[knocked], weights=con[knocked], minlength=cv.n_groups)
    # canvasser labels of each code (its first row), in the groupby's sorted order
    first = np.full(cv.n_groups, len(d), dtype=np.int64)
    np.minimum.at(first, cv.codes, np.arange(len(d)))
    labels = d["canvasser"].iloc[first].reset_index(drop=True)
    present = np.flatnonzero(households > 0)
    out = pd.DataFrame(
        {
            "canvasser": labels.iloc[present].to_numpy(),
            "households": households[present].astype(int),
            "contacted": np.round(contacted[present]).astype(int),
        }
    )
    return out.sort_values("canvasser", kind="stable").reset_index(drop=True)
