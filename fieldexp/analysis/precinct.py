"""Polling-station (precinct) analysis table from ``precinct_results``.

For each polling station and election:

.. math::
    \\text{turnout} = \\frac{\\text{voters}}{\\text{registered}}, \\qquad
    \\text{share}_c = \\frac{\\text{votes}_c}{\\text{expressed}}, \\qquad
    w = \\text{registered}

(vote shares over valid votes, *suffrages exprimés*; weights = registered voters, so
that weighted means of turnout are the overall turnout of the stations pooled).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from fieldexp.analysis.reconciliation import SET_ASIDE, USED, Reconciliation, ReconciliationEntry
from fieldexp.analysis.stations import has_values, share_keys
from fieldexp.errors import (
    FieldexpWarning,
    ReconciliationError,
    SpecificationError,
    did_you_mean,
    format_rows,
)
from fieldexp.io.schema import PRECINCT_RESULTS, canonical_assignment

__all__ = ["build_precinct_table"]

BUREAU_COLUMNS = ("registered", "voters", "abstentions", "blank", "null", "expressed")


def build_precinct_table(
    precinct_results: pd.DataFrame,
    *,
    election: str | None = None,
    assignment: pd.DataFrame | None = None,
    by: str | None = None,
    control: Any = None,
    blocs: Mapping[str, str] | None = None,
    past_election: str | None = None,
) -> tuple[pd.DataFrame, Reconciliation]:
    """One row per polling station: turnout, vote shares, weights (and the assignment).

    Parameters
    ----------
    precinct_results
        Canonical ``precinct_results`` (one row per station and candidate/list).
    election
        Election id to keep; required when the table holds several.
    assignment
        Optional precinct-level assignment (unit column ``precinct_id``, ``arm`` or
        ``assigned``, ``probability``); adds ``arm``, ``assigned``, ``probability``.
    by
        What a vote-share column is per (:mod:`fieldexp.analysis.stations`): ``"nuance"``
        (default when the file has nuances), ``"candidate_label"`` / ``"list"`` (default
        otherwise), ``"bloc"`` or ``"candidate"`` (panel number: refused when a number
        carries different candidates in different stations); columns ``votes_<key>`` and
        ``share_<key>``, missing (not 0) in stations whose ballot did not carry the key.
    control
        Control arm label (default ``"0"``/``"control"`` or the design's).
    blocs
        ``{nuance: bloc}`` replacing the shipped bloc table (``by="bloc"``).
    past_election
        Another election of ``precinct_results`` whose turnout and registered become the
        station covariates ``past_turnout`` and ``past_registered`` (missing for stations
        absent from it, e.g. renumbered).

    Returns
    -------
    table : DataFrame
        ``precinct_id, election_id, commune_code, department_code, [constituency_id,]
        registered, voters, expressed, blank, null, turnout, weight, votes_<key>...,
        share_<key>...`` [+ ``past_turnout, past_registered``] [+ ``arm, assigned,
        probability`` and the assignment file's other columns, e.g. covariates].
    reconciliation : Reconciliation
        Rows of ``precinct_results`` (and ``assignment``) used and set aside.
    """
    missing = [
        c
        for c in ("precinct_id", "election_id", "registered", "voters", "expressed", "votes")
        if c not in precinct_results.columns
    ]
    if missing:
        raise SpecificationError(
            f"precinct_results: column {missing[0]!r} not found."
            + did_you_mean(missing[0], [str(c) for c in precinct_results.columns])
        )
    if by is None:
        has_nuance = "nuance" in precinct_results.columns and has_values(
            precinct_results["nuance"], every=True
        )
        by = "nuance" if has_nuance else "candidate_label"
    df = precinct_results.reset_index(drop=True)
    labels = precinct_results.index
    entries: list[ReconciliationEntry] = []
    elections = sorted(df["election_id"].astype("str").unique())
    if election is None:
        if len(elections) > 1:
            raise SpecificationError(
                f"election: the results hold several elections {elections[:6]}; name one"
            )
        election = elections[0] if elections else ""
    elif election not in elections:
        raise SpecificationError(
            f"election: {election!r} not in the results (elections: {elections[:8]})."
            + did_you_mean(election, elections)
        )
    keep = (df["election_id"].astype("str") == election).to_numpy()
    past = (
        (df["election_id"].astype("str") == past_election).to_numpy()
        if past_election is not None and past_election != election
        else np.zeros(len(df), dtype=bool)
    )
    other = ~keep & ~past
    if past.any():
        entries.append(
            ReconciliationEntry(
                "precinct_results",
                USED,
                f"past election {past_election} (covariates)",
                int(past.sum()),
            )
        )
    if other.any():
        entries.append(
            ReconciliationEntry(
                "precinct_results",
                SET_ASIDE,
                "other election",
                int(other.sum()),
                tuple(labels[other][:5]),
            )
        )
    d = df[keep]
    if "constituency_code" in d.columns and "department_code" in d.columns:
        d = d.assign(
            constituency_id=d["department_code"].astype(str)
            + "-"
            + d["constituency_code"].astype(str).str.strip()
        )
    bureau_cols = [
        c
        for c in (
            "precinct_id",
            "election_id",
            "commune_code",
            "department_code",
            "constituency_id",
            *BUREAU_COLUMNS,
        )
        if c in d.columns
    ]
    bureaux = d[bureau_cols].drop_duplicates(["precinct_id", "election_id"])
    keys = share_keys(d, by, blocs=blocs)
    votes = d.assign(_k=keys.to_numpy()).pivot_table(
        index="precinct_id", columns="_k", values="votes", aggfunc="sum", dropna=False
    )
    votes = votes.astype("float64")  # missing: that key was not on this station's ballot
    votes.columns = [f"votes_{c}" for c in votes.columns]
    table = bureaux.set_index("precinct_id").join(votes)
    reg = table["registered"].astype("float64")
    exp = table["expressed"].astype("float64")
    table["turnout"] = np.where(
        reg > 0, table["voters"].astype("float64") / reg.where(reg > 0), np.nan
    )
    table["weight"] = reg
    for c in votes.columns:
        table["share_" + c[len("votes_") :]] = np.where(
            exp > 0, table[c] / exp.where(exp > 0), np.nan
        )
    if past_election is not None:
        table = _past(df, table, past_election, elections)
    table = table.reset_index()
    zero = (table["registered"] == 0).to_numpy()
    entries.append(ReconciliationEntry("precinct_results", USED, "used", int(keep.sum())))
    rows_read = [("precinct_results", len(df))]
    notes: list[str] = []
    if zero.any():
        notes.append(f"{int(zero.sum())} polling station(s) with 0 registered: turnout missing")
    if assignment is not None:
        a = canonical_assignment(
            assignment, unit="precinct_id" if "precinct_id" in assignment.columns else None
        )
        a = a.reset_index(drop=True)
        rows_read.append(("assignment", len(a)))
        dup = a["unit_id"].duplicated(keep=False)
        if dup.any() and a.loc[dup].groupby("unit_id")["arm"].nunique().gt(1).any():
            raise ReconciliationError(
                "assignment: each polling station must be assigned to one arm; conflicting rows "
                f"{format_rows(a.index[dup.to_numpy()])}"
            )
        first = ~a["unit_id"].duplicated(keep="first")
        if (~first).any():
            entries.append(
                ReconciliationEntry(
                    "assignment",
                    SET_ASIDE,
                    "duplicate unit row",
                    int((~first).sum()),
                    tuple(a.index[~first.to_numpy()][:5]),
                )
            )
        a1 = a[first]
        found = a1["unit_id"].astype("str").isin(table["precinct_id"].astype("str"))
        if (~found).any():
            entries.append(
                ReconciliationEntry(
                    "assignment",
                    SET_ASIDE,
                    "polling station not in the results",
                    int((~found).sum()),
                    tuple(a1.index[~found.to_numpy()][:5]),
                )
            )
        entries.append(ReconciliationEntry("assignment", USED, "used", int(found.sum())))
        arms = sorted(a1["arm"].dropna().astype("str").unique())
        design = a.attrs.get("fieldexp_design")
        ctrl = (
            str(control)
            if control is not None
            else next((c for c in ("0", "control") if c in arms), None)
        )
        if control is None and isinstance(design, dict) and str(design.get("control")) in arms:
            ctrl = str(design.get("control"))
        if ctrl is not None and len(arms) > 2:
            pooled = [x for x in arms if x != ctrl]
            text = (
                f"assignment: {len(arms)} arms ({', '.join(arms)}); 'assigned' pools every arm "
                f"other than the control {ctrl!r} ({', '.join(pooled)}) into one treatment, so "
                "polling-station estimates compare control with all of them together; to "
                "compare one arm with control, give an assignment file with that arm and control"
            )
            warnings.warn(text, FieldexpWarning, stacklevel=2)
            notes.append(text)
        m = a1[found].set_index(a1[found]["unit_id"].astype("str"))
        skip = {"unit_id", "arm", "assigned", "probability", "block", "cluster", "precinct_id"}
        for col in m.columns:
            if col not in skip and col not in table.columns:
                # the assignment file's other columns (station covariates, strata)
                table[col] = table["precinct_id"].astype("str").map(m[col])
        table["arm"] = table["precinct_id"].astype("str").map(m["arm"]).astype("str")
        table["probability"] = (
            table["precinct_id"].astype("str").map(m["probability"]).astype("float64")
        )
        assigned = np.where(table["arm"].isna(), np.nan, (table["arm"] != ctrl).astype(float))
        table["assigned"] = pd.array(
            [pd.NA if (np.isnan(x) or ctrl is None) else int(x) for x in assigned], dtype="Int8"
        )
        n_unassigned = int(table["arm"].isna().sum())
        if n_unassigned:
            notes.append(
                f"{n_unassigned} polling station(s) in the results are not in the assignment"
            )
    table = table.sort_values("precinct_id", kind="stable", ignore_index=True)
    table.attrs = {"fieldexp_election": election, "fieldexp_by": by}
    rec = Reconciliation(
        rows_read=tuple(rows_read), entries=tuple(entries), election=election, notes=tuple(notes)
    )
    rec.check()
    _ = PRECINCT_RESULTS
    return table, rec


def _past(df: pd.DataFrame, table: pd.DataFrame, past: str, elections: list[str]) -> pd.DataFrame:
    """``past_turnout`` and ``past_registered`` of each station in election ``past``."""
    if past not in elections:
        raise SpecificationError(
            f"past_election: {past!r} is not in the results (elections: {elections[:8]})."
            + did_you_mean(past, elections)
        )
    p = df[df["election_id"].astype("str") == past].drop_duplicates("precinct_id")
    p = p.set_index(p["precinct_id"].astype(str))
    reg = p["registered"].astype("float64")
    turnout = (p["voters"].astype("float64") / reg.where(reg > 0)).astype("float64")
    ids = pd.Index(table.index.astype(str))
    return table.assign(
        past_turnout=turnout.reindex(ids).to_numpy(),
        past_registered=reg.reindex(ids).to_numpy(),
    )


def join_door_logs(
    table: pd.DataFrame, rec: Reconciliation, logs: pd.DataFrame, *, dose: str = "conversations"
) -> tuple[pd.DataFrame, Reconciliation]:
    """Add the canvassing tallies of :func:`fieldexp.io.read_door_logs` and the dose.

    .. math:: \\text{dose}_s = \\frac{\\text{conversations}_s}{\\text{registered}_s}

    (or doors opened / knocked, ``dose=``). Stations of the table absent from the log
    had no canvassing recorded: their tallies are 0 (counted in the notes, by arm when
    assigned). Log stations absent from the table are set aside in the reconciliation.
    """
    from dataclasses import replace

    from fieldexp.errors import DataError

    counts = [c for c in ("doors_knocked", "doors_opened", "conversations") if c in logs.columns]
    if dose not in counts:
        raise DataError(
            f"door logs: the dose is {dose!r} per registered voter, but the log has no such "
            f"column (it has {counts}); set [stations] dose to one of them"
        )
    ids = table["precinct_id"].astype(str)
    log = logs.set_index(logs["precinct_id"].astype(str))
    found = log.index.isin(ids)
    out = table.copy()
    for c in counts:
        out[c] = ids.map(log[c]).fillna(0).astype("int64").to_numpy()
    reg = out["registered"].astype("float64")
    out["dose"] = np.where(reg > 0, out[dose] / reg.where(reg > 0), np.nan)
    absent = ~ids.isin(log.index)
    lines = log["log_lines"].to_numpy() if "log_lines" in log.columns else np.ones(len(log), int)
    entries = [ReconciliationEntry("door_logs", USED, "used", int(lines[found].sum()))]
    if (~found).any():
        entries.append(
            ReconciliationEntry(
                "door_logs",
                SET_ASIDE,
                "polling station not in the results",
                int(lines[~found].sum()),
                tuple(log.index[~found][:5]),
            )
        )
    notes = list(rec.notes)
    if absent.any():
        by_arm = ""
        if "arm" in out.columns:
            k = out.loc[absent.to_numpy(), "arm"].astype(str).value_counts().sort_index()
            by_arm = " (" + ", ".join(f"arm {a}: {n}" for a, n in k.items()) + ")"
        notes.append(
            f"{int(absent.sum())} polling station(s) are not in the door log: 0 doors, 0 "
            f"conversations{by_arm}"
        )
    over = (reg > 0) & (out[dose] > reg)
    if over.any():
        notes.append(
            f"{int(over.sum())} polling station(s) log more {dose.replace('_', ' ')} than "
            "registered voters"
        )
    new = replace(
        rec,
        rows_read=(*rec.rows_read, ("door_logs", int(lines.sum()))),
        entries=(*rec.entries, *entries),
        notes=tuple(notes),
    )
    new.check()
    out.attrs = dict(table.attrs)
    return out, new
