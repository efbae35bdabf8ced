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

from typing import Any

import numpy as np
import pandas as pd

from fieldexp.analysis.reconciliation import SET_ASIDE, USED, Reconciliation, ReconciliationEntry
from fieldexp.errors import ReconciliationError, SpecificationError, did_you_mean, format_rows
from fieldexp.io.precinct import candidate_key
from fieldexp.io.schema import PRECINCT_RESULTS, canonical_assignment

__all__ = ["build_precinct_table"]

BUREAU_COLUMNS = ("registered", "voters", "abstentions", "blank", "null", "expressed")


def _key(value: object) -> str:
    """Readable ASCII column key of a label (accents folded: ``MÉLENCHON`` -> ``MELENCHON``)."""
    return candidate_key(value)


def build_precinct_table(
    precinct_results: pd.DataFrame,
    *,
    election: str | None = None,
    assignment: pd.DataFrame | None = None,
    by: str = "candidate",
    control: Any = None,
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
        What a vote-share column is per: ``"candidate"`` (panel number),
        ``"nuance"`` or ``"candidate_label"``; columns ``votes_<key>`` and
        ``share_<key>``.
    control
        Control arm label (default ``"0"``/``"control"`` or the design's).

    Returns
    -------
    table : DataFrame
        ``precinct_id, election_id, commune_code, registered, voters, expressed, blank,
        null, turnout, weight, votes_<key>..., share_<key>...`` [+ ``arm, assigned,
        probability``].
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
    if by not in ("candidate", "nuance", "candidate_label"):
        raise SpecificationError(
            f"by must be 'candidate', 'nuance' or 'candidate_label', got {by!r}"
        )
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
    if (~keep).any():
        entries.append(
            ReconciliationEntry(
                "precinct_results",
                SET_ASIDE,
                "other election",
                int((~keep).sum()),
                tuple(labels[~keep][:5]),
            )
        )
    d = df[keep]
    bureau_cols = [
        c for c in ("precinct_id", "election_id", "commune_code", *BUREAU_COLUMNS) if c in d.columns
    ]
    bureaux = d[bureau_cols].drop_duplicates(["precinct_id", "election_id"])
    if by not in d.columns:
        raise SpecificationError(f"by: column {by!r} not in precinct_results")
    keys = d[by].map(_key)
    labels_per_key = d[by].astype(str).groupby(keys.to_numpy()).unique()
    clashing = {k: sorted(v) for k, v in labels_per_key.items() if len(v) > 1}
    if clashing:
        k, v = next(iter(clashing.items()))
        raise SpecificationError(
            f"by={by!r}: distinct labels {', '.join(map(repr, v))} give the same column key "
            f"{k!r} ({len(clashing)} such key(s)); their votes would be added together. Rename "
            "them in the results file or choose another 'by'."
        )
    votes = d.assign(_k=keys.to_numpy()).pivot_table(
        index="precinct_id", columns="_k", values="votes", aggfunc="sum", fill_value=0
    )
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
        m = a1[found].set_index(a1[found]["unit_id"].astype("str"))
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
    table.attrs = {"fieldexp_election": election, "fieldexp_by": by}
    rec = Reconciliation(
        rows_read=tuple(rows_read), entries=tuple(entries), election=election, notes=tuple(notes)
    )
    rec.check()
    _ = PRECINCT_RESULTS
    return table, rec
