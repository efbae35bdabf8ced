r"""Panels for difference-in-differences from field data: voters x elections, precincts x elections.

Exposure is defined on **attempted** contacts, never on completed ones. Whether a door opens is
chosen by the household (who is home, who answers, who agrees to talk) and is strongly related
to the propensity to vote: voters reached at the door would have turned out more even without the
visit. A panel keyed on *contacted* compares self-selected answerers with everyone else and
breaks parallel trends by construction. Attempts are decided by the campaign (which cities,
which precincts, which walk lists), so the attempted panel estimates the effect of *being
canvassed* (an intention-to-treat-like ATT on the targeted units); divide by the contact rate
only with an explicit instrumental-variable argument.

An attempt counts for the first election held on or after its date (canvassing on election day
counts for that election), and exposure is absorbing: a unit stays treated from its first exposed
election on. The cohort of a unit is the period index (1 = first election in the panel) of that
first exposed election; 0 = never canvassed in the window.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from fieldexp._validate import check_frame
from fieldexp.errors import (
    ColumnNotFoundError,
    DataError,
    RowsDroppedWarning,
    SpecificationError,
    format_rows,
)
from fieldexp.results import Result
from fieldexp.stats.groups import arrow_positions, arrow_text_of, run_heads, strictly_increasing

__all__ = ["DiDPanel", "PanelReport", "positions", "precinct_panel", "voter_panel"]

_ID_DATE = re.compile(r"(\d{4})[_-](\d{2})[_-](\d{2})")


@dataclass(frozen=True, slots=True)
class PanelReport:
    """Counts of what went into a panel and what was set aside (and why)."""

    n_units: int
    n_elections: int
    n_rows: int
    n_treated_units: int
    n_contacts: int
    n_contacts_used: int
    n_contacts_not_attempted: int
    n_contacts_unmatched: int
    n_contacts_undated: int
    n_contacts_after_last_election: int
    n_rows_filled_not_voted: int = 0
    n_rows_before_registration: int = 0

    def lines(self) -> list[str]:
        out = [
            f"{self.n_units:,} units x {self.n_elections} elections = {self.n_rows:,} rows; "
            f"{self.n_treated_units:,} units canvassed (attempted) within the window",
            f"contact log: {self.n_contacts:,} rows, {self.n_contacts_used:,} attempts used",
        ]
        for n, why in (
            (self.n_contacts_not_attempted, "not attempts (e.g. no door knocked)"),
            (self.n_contacts_unmatched, "ids not in the panel"),
            (self.n_contacts_undated, "undated: cannot be placed between elections"),
            (self.n_contacts_after_last_election, "after the last election of the panel"),
        ):
            if n:
                out.append(f"  {n:,} contact rows set aside: {why}")
        if self.n_rows_filled_not_voted:
            out.append(
                f"{self.n_rows_filled_not_voted:,} voter-election rows absent from the history "
                "filled as not voted"
            )
        if self.n_rows_before_registration:
            out.append(
                f"{self.n_rows_before_registration:,} voter-election rows before the voter's "
                "registration left missing (not eligible)"
            )
        return out


@dataclass(frozen=True, slots=True, eq=False)
class DiDPanel(Result):
    """A long unit x election panel ready for :func:`fieldexp.staggered_did` and friends.

    ``data`` columns: the unit id, ``election_id, election_date, period`` (1..T in date order),
    the outcome (``voted`` or ``turnout``), ``cohort`` (first exposed period, 0 = never) and
    ``treated`` (1 from the cohort period on); precinct panels add ``registered, voters``.
    Use ``unit``, ``outcome`` and ``weights`` as the column arguments of the estimators.
    """

    data: pd.DataFrame
    unit: str
    outcome: str
    weights: str | None
    elections: pd.DataFrame
    report: PanelReport

    def to_frame(self) -> pd.DataFrame:
        return self.data.copy()

    def _title(self) -> str:
        return "DiD panel"

    def _lines(self) -> list[str]:
        return self.report.lines()

    def _table(self) -> pd.DataFrame:
        return self.elections


def positions(keys: pd.Index, values: pd.Series | pd.Index) -> np.ndarray:
    """Position of each of ``values`` in the unique index ``keys`` (-1 when absent).

    ``keys.get_indexer(values)``; for Arrow strings (pandas' ``str`` dtype) the same lookup
    without converting millions of ids to Python strings
    (:func:`fieldexp.stats.groups.arrow_positions`).
    """
    found = arrow_positions(keys, values)
    if found is not None:
        return found
    return np.asarray(keys.get_indexer(pd.Index(values)), dtype=np.int64)


def _duplicated_pairs(long: pd.DataFrame) -> np.ndarray:
    """``long.duplicated(["voter_id", "election_id"], keep=False)``: for Arrow text ids from
    integer codes (voters by their runs, elections by a small dictionary; a missing id is a
    value of its own, as in pandas)."""
    va, ea = arrow_text_of(long["voter_id"]), arrow_text_of(long["election_id"])
    if va is not None and ea is not None:
        import pyarrow as pa

        n = len(va)
        heads = run_heads(va)
        hv = va.take(pa.array(heads))
        e_enc = ea.dictionary_encode(null_encoding="encode")
        n_e = len(e_enc.dictionary)
        if strictly_increasing(hv):  # a file sorted by voter: one run per voter
            n_v = len(heads)
            v_idx = np.arange(n_v, dtype=np.int64)
        else:
            v_enc = hv.dictionary_encode(null_encoding="encode")
            n_v = len(v_enc.dictionary)
            v_idx = np.asarray(v_enc.indices, dtype=np.int64)
        if n_v * n_e <= 8 * n + 1024:
            v = np.repeat(v_idx, np.diff(np.append(heads, n)))
            key = v * n_e + np.asarray(e_enc.indices, dtype=np.int64)
            return np.bincount(key, minlength=n_v * n_e)[key] > 1
    return long.duplicated(["voter_id", "election_id"], keep=False).to_numpy()


def _unique_in_order(values: pd.Series) -> Any:
    """``pd.unique(values)``; for Arrow text, of the run heads only (the same values in the
    same order of first appearance)."""
    va = arrow_text_of(values)
    if va is not None:
        import pyarrow as pa

        heads = run_heads(va)
        if strictly_increasing(va.take(pa.array(heads))):  # sorted: the heads are unique
            return values.iloc[heads].array
        if len(heads) < len(va):
            return pd.unique(values.iloc[heads])
    return pd.unique(values)


def _codes_in(keys: pd.Index, values: pd.Series) -> np.ndarray:
    """``keys.get_indexer(values)`` for few ``keys`` (elections): an Arrow text column is
    dictionary-encoded and only its dictionary looked up."""
    va = arrow_text_of(values)
    if va is not None:
        enc = va.dictionary_encode()
        at = np.append(keys.get_indexer(pd.Index(enc.dictionary.to_pylist())), -1)
        idx = np.asarray(enc.indices.fill_null(-1), dtype=np.int64)
        return at[idx]
    return np.asarray(keys.get_indexer(pd.Index(values)), dtype=np.int64)


def _need(df: pd.DataFrame, cols: Sequence[str], what: str) -> None:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise ColumnNotFoundError(
            f"{what} must have columns {', '.join(map(repr, cols))}; missing "
            f"{', '.join(map(repr, missing))} (found {', '.join(map(repr, df.columns[:15]))})."
        )


def _election_dates(ids: Sequence[str], given: Mapping[str, Any] | None, what: str) -> pd.Series:
    out = {}
    for e in ids:
        if given is not None and e in given:
            out[e] = pd.Timestamp(given[e])
            continue
        m = _ID_DATE.search(str(e))
        if m is None:
            raise DataError(
                f"cannot tell when election {e!r} of {what} was held: pass "
                "election_dates={election_id: date} (canonical ids such as general_2016_11_08 "
                "carry their date)."
            )
        out[e] = pd.Timestamp(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    return pd.Series(out, dtype="datetime64[ns]")


def _cohorts_from_attempts(
    unit_pos: np.ndarray,
    dates: pd.Series,
    election_days: np.ndarray,
    n_units: int,
) -> tuple[np.ndarray, int]:
    """First exposed period per unit (1-based; 0 = never) from attempt dates; ``unit_pos``
    are the units' positions (0..n_units-1). Attempts after the last election are returned
    as a count."""
    idx = np.searchsorted(election_days, dates.to_numpy(dtype="datetime64[ns]"), side="left")
    after = idx >= len(election_days)
    first = np.full(n_units, len(election_days) + 1, dtype=np.int64)
    np.minimum.at(first, unit_pos[~after], idx[~after] + 1)
    first[first > len(election_days)] = 0
    return first, int(after.sum())


def _split_contacts(
    contacts: pd.DataFrame, id_col: str, date_col: str | None
) -> tuple[pd.DataFrame, int, int]:
    att = pd.to_numeric(contacts["attempted"], errors="coerce")
    if att.isna().any():
        bad = contacts.index[att.isna()]
        raise DataError(
            f"contacts column 'attempted' must be 0/1 (or a count); found non-numeric values in "
            f"{format_rows(bad[:5], total=len(bad))}."
        )
    used = contacts.loc[att.to_numpy() > 0]
    n_not = int((att <= 0).sum())
    n_undated = 0
    if date_col is not None:
        # an attempt on election day counts for that election, whatever the hour
        dates = pd.to_datetime(used[date_col], errors="coerce", format="mixed").dt.normalize()
        undated = dates.isna().to_numpy()
        n_undated = int(undated.sum())
        used = used.loc[~undated].assign(**{date_col: dates[~undated]})
    return used, n_not, n_undated


def voter_panel(
    vote_history: pd.DataFrame,
    contacts: pd.DataFrame,
    *,
    voters: pd.DataFrame | None = None,
    layout: str = "long",
    election_dates: Mapping[str, Any] | None = None,
    elections: Sequence[str] | None = None,
    absent: str = "not_voted",
) -> DiDPanel:
    """Voter x election panel of binary turnout with canvassing exposure from the contact log.

    Parameters
    ----------
    vote_history : DataFrame
        ``layout="long"``: the canonical ``vote_history`` table (``voter_id, election_id,
        election_date, election_type, voted[, method]``), one row per voter and election.
        ``layout="wide"``: ``voter_id`` plus one 0/1 column per election (column name = election
        id; dates from ``election_dates`` or from canonical ids like ``general_2016_11_08``).
    contacts : DataFrame
        Canonical contact log (``unit_id, unit_level, timestamp, attempted, contacted``...).
        Household-level rows apply to every voter of the household (needs ``voters``).
    voters : DataFrame, optional
        Canonical voters table (``voter_id, household_id[, registration_date]``): maps household
        contacts to voters; with ``registration_date``, elections before registration are
        missing (not eligible), not abstentions.
    elections : list of str, optional
        Elections to keep (default: all in the history).
    absent : {"not_voted", "missing"}
        Voter-election rows absent from the history: abstention (most files list ballots cast
        only) or unknown.

    Returns
    -------
    DiDPanel
        ``unit="voter_id"``, ``outcome="voted"``; pass ``cohort="cohort"``, ``time="period"``.
        Exposure is on **attempted** contacts (see the module docstring: who opens the door is
        self-selected).
    """
    check_frame(vote_history, function="fieldexp.diffindiff.voter_panel", argument="vote_history")
    check_frame(contacts, function="fieldexp.diffindiff.voter_panel", argument="contacts")
    if layout not in ("long", "wide"):
        raise SpecificationError(f"layout must be 'long' or 'wide'; found {layout!r}.")
    if absent not in ("not_voted", "missing"):
        raise SpecificationError(f"absent must be 'not_voted' or 'missing'; found {absent!r}.")
    if layout == "wide":
        _need(vote_history, ["voter_id"], "vote_history (wide)")
        cols = [c for c in vote_history.columns if c != "voter_id"]
        long = vote_history.melt(
            id_vars="voter_id", value_vars=cols, var_name="election_id", value_name="voted"
        )
        long = long.loc[long["voted"].notna()]
        dates = _election_dates(cols, election_dates, "vote_history")
        long["election_date"] = dates.reindex(long["election_id"]).to_numpy()
        long["election_type"] = long["election_id"].astype(str).str.split("_").str[0]
    else:
        _need(vote_history, ["voter_id", "election_id", "election_date", "voted"], "vote_history")
        long = vote_history.loc[
            :,
            [
                c
                for c in ("voter_id", "election_id", "election_date", "election_type", "voted")
                if c in vote_history
            ],
        ]
        long = long.assign(election_date=pd.to_datetime(long["election_date"]))
        if election_dates:
            given = _election_dates(list(election_dates), election_dates, "election_dates")
            long["election_date"] = long["election_id"].map(given).fillna(long["election_date"])
    dup = _duplicated_pairs(long)
    if dup.any():
        raise DataError(
            "vote_history must have one row per voter and election; found "
            f"{int(dup.sum()):,} duplicated voter-election rows: "
            f"{format_rows(long.index[dup][:5], total=int(dup.sum()))}."
        )
    voted = pd.to_numeric(long["voted"], errors="coerce")
    if not voted.isin([0, 1]).all():
        bad = long.index[~voted.isin([0, 1]).to_numpy()]
        raise DataError(
            f"vote_history column 'voted' must be 0/1; found other values in "
            f"{format_rows(bad[:5], total=len(bad))}."
        )
    long = long.assign(voted=voted.astype(np.int8))
    if elections is not None:
        long = long.loc[long["election_id"].isin(list(elections))]
    el = long.groupby("election_id", sort=False)["election_date"].first().sort_values(kind="stable")
    if el.empty:
        raise DataError("vote_history has no elections left to build a panel from.")
    el_frame = pd.DataFrame(
        {
            "election_id": el.index,
            "election_date": el.to_numpy(),
            "period": np.arange(1, len(el) + 1),
        }
    )
    if "election_type" in long:
        el_frame["election_type"] = el_frame["election_id"].map(
            long.groupby("election_id")["election_type"].first()
        )

    vids = pd.Index(_unique_in_order(long["voter_id"]))
    if voters is not None:
        _need(voters, ["voter_id"], "voters")
        vids = vids.union(pd.Index(voters["voter_id"]))
    n_v, n_e = len(vids), len(el_frame)
    v_of_row = np.repeat(np.arange(n_v), n_e)
    e_of_row = np.tile(np.arange(n_e), n_v)
    # columns taken by position (Arrow takes for text ids), never rebuilt from Python objects
    grid = pd.DataFrame(
        {
            "voter_id": vids.take(v_of_row),
            "election_id": el_frame["election_id"].take(e_of_row).to_numpy()
            if el_frame["election_id"].dtype == object
            else el_frame["election_id"].array.take(e_of_row),
        }
    )
    # the grid is voter-major: history row (voter v, election e) lands at v * n_e + e (one
    # row per voter and election, checked above); positions instead of a merge on text keys
    v_code = positions(vids, long["voter_id"])
    e_code = _codes_in(pd.Index(el_frame["election_id"]), long["election_id"])
    found = (v_code >= 0) & (e_code >= 0)
    pos = v_code[found].astype(np.int64) * n_e + e_code[found]
    hist_voted = long["voted"].to_numpy()[found]
    if pos.size == n_v * n_e:  # every cell filled (no duplicates): the merge kept int8
        voted_col = np.empty(n_v * n_e, dtype=np.int8)
    else:
        voted_col = np.full(n_v * n_e, np.nan)
    voted_col[pos] = hist_voted
    grid["voted"] = voted_col
    absent_rows = grid["voted"].isna().to_numpy()
    n_filled = 0
    for col in el_frame.columns[1:]:
        column = el_frame[col]
        if isinstance(column.dtype, np.dtype):  # the grid is voter-major: elections repeat
            grid[col] = np.tile(column.to_numpy(), n_v)
        else:
            grid[col] = column.iloc[e_of_row].reset_index(drop=True)
    n_before_reg = 0
    if voters is not None and "registration_date" in voters.columns:
        reg = pd.to_datetime(voters.set_index("voter_id")["registration_date"], errors="coerce")
        if reg.index.is_unique:
            at = positions(reg.index, pd.Series(vids))
            reg_v = reg.to_numpy()[np.maximum(at, 0)]
            reg_v[at < 0] = np.datetime64("NaT")
            regd = pd.Series(reg_v[v_of_row])
        else:
            regd = grid["voter_id"].map(reg)
        before = (regd > grid["election_date"]).to_numpy()
        n_before_reg = int(before.sum())
        grid.loc[before, "voted"] = np.nan
        absent_rows = absent_rows & ~before
    if absent == "not_voted":
        n_filled = int(absent_rows.sum())
        grid.loc[absent_rows, "voted"] = 0

    # exposure from attempted contacts
    _need(contacts, ["unit_id", "attempted", "timestamp"], "contacts")
    used, n_not, n_undated = _split_contacts(contacts, "unit_id", "timestamp")
    level = used["unit_level"] if "unit_level" in used else pd.Series("voter", index=used.index)
    hh = (level == "household").to_numpy()
    pieces = [used.loc[~hh, ["unit_id", "timestamp"]].rename(columns={"unit_id": "voter_id"})]
    if hh.any():
        if voters is None or "household_id" not in voters:
            raise DataError(
                f"{int(hh.sum()):,} contacts are logged at household level: pass voters= with "
                "'voter_id' and 'household_id' to map them to voters."
            )
        hmap = voters[["voter_id", "household_id"]]
        pieces.append(
            used.loc[hh, ["unit_id", "timestamp"]].merge(
                hmap, left_on="unit_id", right_on="household_id", how="inner"
            )[["voter_id", "timestamp"]]
        )
        matched_hh = used.loc[hh, "unit_id"].isin(hmap["household_id"]).to_numpy()
    else:
        matched_hh = np.zeros(0, dtype=bool)
    # voters of the panel by position in vids (one hash lookup per contact row)
    att_pos = np.concatenate([positions(vids, piece["voter_id"]) for piece in pieces])
    att_dates = pd.concat([piece["timestamp"] for piece in pieces], ignore_index=True)
    n_unmatched = int((att_pos[: len(pieces[0])] < 0).sum()) + int((~matched_hh).sum())
    in_panel = att_pos >= 0
    first, n_after = _cohorts_from_attempts(
        att_pos[in_panel],
        att_dates[in_panel],
        el_frame["election_date"].to_numpy(dtype="datetime64[ns]"),
        n_v,
    )
    # first is one value per voter of vids (0: never), repeated over the elections
    cohort = np.repeat(first, n_e)
    grid["cohort"] = cohort
    period = np.tile(el_frame["period"].to_numpy(), n_v)
    grid["treated"] = ((cohort > 0) & (period >= cohort)).astype(np.int8)
    warn_set_aside(n_not, n_unmatched, n_undated, n_after, stacklevel=3)
    report = PanelReport(
        n_units=n_v,
        n_elections=n_e,
        n_rows=len(grid),
        n_treated_units=int((first > 0).sum()),
        n_contacts=len(contacts),
        n_contacts_used=len(used) - n_unmatched - n_after,
        n_contacts_not_attempted=n_not,
        n_contacts_unmatched=n_unmatched,
        n_contacts_undated=n_undated,
        n_contacts_after_last_election=n_after,
        n_rows_filled_not_voted=n_filled,
        n_rows_before_registration=n_before_reg,
    )
    return DiDPanel(
        data=grid,
        unit="voter_id",
        outcome="voted",
        weights=None,
        elections=el_frame,
        report=report,
    )


def precinct_panel(
    precinct_results: pd.DataFrame,
    contacts_by_precinct: pd.DataFrame,
    *,
    election_dates: Mapping[str, Any] | None = None,
    elections: Sequence[str] | None = None,
    min_attempts: int = 1,
) -> DiDPanel:
    """Precinct x election panel of turnout (voters / registered), weighted by registered voters.

    Parameters
    ----------
    precinct_results : DataFrame
        Canonical ``precinct_results`` (``precinct_id, election_id, registered, voters``; one row
        per station and candidate is fine: turnout columns must agree within a station).
    contacts_by_precinct : DataFrame
        ``precinct_id, attempted`` (0/1 per attempt, or a count of attempts) and ``timestamp``
        (date of the attempts). Exposure is on **attempted** contacts (see the module docstring).
    election_dates : mapping, optional
        ``{election_id: date}`` when ids do not carry their date.
    elections : list of str, optional
        Elections to keep.
    min_attempts : int
        Attempts needed before an election for the precinct to count as canvassed for it.

    Returns
    -------
    DiDPanel
        ``unit="precinct_id"``, ``outcome="turnout"``, ``weights="registered"``.
    """
    check_frame(
        precinct_results, function="fieldexp.diffindiff.precinct_panel", argument="precinct_results"
    )
    if not isinstance(contacts_by_precinct, pd.DataFrame):
        raise SpecificationError(
            "contacts_by_precinct must be a pandas DataFrame (it may have 0 rows); found "
            f"{type(contacts_by_precinct).__name__}."
        )
    _need(
        precinct_results, ["precinct_id", "election_id", "registered", "voters"], "precinct_results"
    )
    res = precinct_results.loc[:, ["precinct_id", "election_id", "registered", "voters"]]
    if elections is not None:
        res = res.loc[res["election_id"].isin(list(elections))]
    grouped = res.groupby(["precinct_id", "election_id"])[["registered", "voters"]]
    lo, hi = grouped.min(), grouped.max()
    incons = (lo.to_numpy() != hi.to_numpy()).any(axis=1)
    if incons.any():
        bad = lo.index[incons]
        raise DataError(
            "precinct_results: 'registered' and 'voters' must agree across the candidate rows of "
            f"a station; {len(bad):,} station-elections disagree, e.g. "
            f"{', '.join(f'{p}/{e}' for p, e in bad[:5])}."
        )
    res = res.drop_duplicates(["precinct_id", "election_id"])
    bad_reg = (res["registered"] <= 0) | (res["voters"] > res["registered"]) | (res["voters"] < 0)
    if bad_reg.any():
        raise DataError(
            "precinct_results: need 0 <= voters <= registered and registered > 0; found "
            f"{format_rows(res.index[bad_reg.to_numpy()][:5], total=int(bad_reg.sum()))}."
        )
    ids = list(pd.unique(res["election_id"]))
    dates = _election_dates(ids, election_dates, "precinct_results").sort_values(kind="stable")
    el_frame = pd.DataFrame(
        {
            "election_id": dates.index,
            "election_date": dates.to_numpy(),
            "period": np.arange(1, len(dates) + 1),
        }
    )
    data = res.merge(el_frame, on="election_id", how="left")
    data["turnout"] = data["voters"] / data["registered"]

    _need(contacts_by_precinct, ["precinct_id", "attempted", "timestamp"], "contacts_by_precinct")
    used, n_not, n_undated = _split_contacts(contacts_by_precinct, "precinct_id", "timestamp")
    pids = pd.Index(pd.unique(data["precinct_id"]))
    inp = used["precinct_id"].isin(pids).to_numpy()
    n_unmatched = int((~inp).sum())
    used = used.loc[inp]
    days = el_frame["election_date"].to_numpy(dtype="datetime64[ns]")
    idx = np.searchsorted(days, used["timestamp"].to_numpy(dtype="datetime64[ns]"), side="left")
    after = idx >= len(days)
    n_after = int(after.sum())
    cnt = pd.DataFrame(
        {
            "precinct_id": used["precinct_id"].to_numpy()[~after],
            "period": idx[~after] + 1,
            "n": pd.to_numeric(used["attempted"]).to_numpy()[~after],
        }
    )
    tot = cnt.groupby(["precinct_id", "period"])["n"].sum().groupby(level=0).cumsum()
    reached = tot[tot >= min_attempts].reset_index()
    first = reached.groupby("precinct_id")["period"].min()
    data["cohort"] = data["precinct_id"].map(first).fillna(0).astype(np.int64)
    data["treated"] = ((data["cohort"] > 0) & (data["period"] >= data["cohort"])).astype(np.int8)
    data = data.sort_values(["precinct_id", "period"], kind="stable").reset_index(drop=True)
    n_set_aside = n_not + n_undated + n_unmatched + n_after
    if n_set_aside:
        warnings.warn(
            f"precinct_panel: {n_set_aside:,} contact rows not used for exposure ({n_not:,} not "
            f"attempts, {n_unmatched:,} precincts not in the results, {n_undated:,} undated, "
            f"{n_after:,} after the last election); see the panel report.",
            RowsDroppedWarning,
            stacklevel=2,
        )
    report = PanelReport(
        n_units=len(pids),
        n_elections=len(el_frame),
        n_rows=len(data),
        n_treated_units=int((first > 0).sum()),
        n_contacts=len(contacts_by_precinct),
        n_contacts_used=len(used) - n_after,
        n_contacts_not_attempted=n_not,
        n_contacts_unmatched=n_unmatched,
        n_contacts_undated=n_undated,
        n_contacts_after_last_election=n_after,
    )
    return DiDPanel(
        data=data,
        unit="precinct_id",
        outcome="turnout",
        weights="registered",
        elections=el_frame,
        report=report,
    )


def warn_set_aside(
    n_not: int, n_unmatched: int, n_undated: int, n_after: int, *, stacklevel: int = 3
) -> int:
    """Warn once about contact rows left out of the exposure; returns how many."""
    n_set_aside = n_not + n_undated + n_unmatched + n_after
    if n_set_aside:
        warnings.warn(
            f"voter_panel: {n_set_aside:,} contact rows not used for exposure ({n_not:,} not "
            f"attempts, {n_unmatched:,} ids not in the panel, {n_undated:,} undated, {n_after:,} "
            "after the last election); see the panel report.",
            RowsDroppedWarning,
            stacklevel=stacklevel,
        )
    return n_set_aside
