"""Stage 6: the unit-level analysis table, and the reconciliation closed.

Outcome rule (``voted`` for the target election), in order: a history row for the election
gives ``voted``; no row and the voter is in the voter file and not ``removed`` gives
``voted = 0``; otherwise ``voted`` is missing with ``outcome_status`` saying why. Past-vote
covariates use the same rule for each earlier election (missing only for voters absent from
the voter file); ``propensity_band`` follows :mod:`fieldexp.analysis.bands`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from contextlib import suppress
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from fieldexp.analysis.bands import propensity_band_sql
from fieldexp.analysis.reconciliation import (
    OUTCOME_MISSING,
    FlowRow,
    Reconciliation,
    ReconciliationEntry,
)
from fieldexp.analysis.stages.assignment import Assigned
from fieldexp.analysis.stages.contacts import Contacts
from fieldexp.analysis.stages.context import Build, ident
from fieldexp.analysis.stages.history import History
from fieldexp.analysis.stages.inputs import Plan
from fieldexp.analysis.stages.voters import VoterCounts

__all__ = ["REMOVED", "analysis_table"]

#: ``registration_status`` of voters who left the roll: no outcome is imputed for them.
REMOVED = "removed"


def analysis_table(
    b: Build,
    plan: Plan,
    voters: VoterCounts,
    assigned: Assigned,
    history: History,
    contacts: Contacts,
    step: Callable[[str], None],
) -> tuple[pd.DataFrame, Reconciliation]:
    """Join ``VA``, ``CV`` and ``PV`` into the analysis table; build the reconciliation."""
    q, con, entries, inputs = b.q, b.con, b.entries, b.inputs
    covariates, level = plan.covariates, plan.level
    past, k, past_mask, target = history.past, history.k, history.past_mask, history.target
    cap_note, control_label, arms = history.cap_note, assigned.control_label, assigned.arms
    n_split = assigned.n_split
    n_voters, n_assign, n_contacts, n_hist = voters.rows, assigned.rows, contacts.rows, history.rows
    start_label, end_label = contacts.window
    for name in ("CR", "CG", "HH"):
        q(f"DROP TABLE IF EXISTS {name}")
    safe_names = covariate_names(past, covariates)
    status_ok = f"(t.in_voters AND coalesce(t.registration_status, '') <> '{REMOVED}')"

    def present(i: int) -> str:
        return f"((p.pmask >> {i}) & 1) = 1"

    def voted(i: int) -> str:
        return f"CAST((p.vmask >> {i}) & 1 AS TINYINT)"

    past_cols = "".join(
        f", CAST(CASE WHEN {present(i + 1)} THEN {voted(i + 1)} WHEN t.in_voters THEN 0 ELSE NULL END AS TINYINT) "
        f"AS {ident(name)}"
        for i, name in enumerate(safe_names)
    )
    past_sum = f"coalesce(bit_count(p.vmask & CAST({past_mask} AS UBIGINT)), 0)"
    band = (
        "CASE WHEN NOT t.in_voters AND p.voter_id IS NULL THEN NULL "
        f"ELSE {propensity_band_sql(past_sum, k)} END"
    )
    cov_out = "".join(f", t.{ident(c)}" for c in covariates)
    relation = con.sql(
        f"""
        SELECT t.ord AS _ord, t.voter_id, t.household_id, t.precinct_id, t.arm, t.assigned, t.probability, t.block, t.cluster,
          CAST(coalesce(c.attempted, 0) AS TINYINT) AS attempted,
          CAST(coalesce(c.contacted, 0) AS TINYINT) AS contacted,
          CAST(coalesce(c.n_attempts, 0) AS INTEGER) AS n_attempts,
          CAST(CASE WHEN {present(0)} THEN {voted(0)} WHEN {status_ok} THEN 0 ELSE NULL END AS TINYINT) AS voted,
          CASE WHEN {present(0)} THEN 'history' WHEN {status_ok} THEN 'no_history_row'
               WHEN NOT t.in_voters THEN 'not_in_voter_file' ELSE 'removed' END AS outcome_status,
          CAST(CASE WHEN {status_ok} THEN 1 ELSE 0 END AS TINYINT) AS registered,
          t.registration_status{cov_out}{past_cols},
          CAST(CASE WHEN NOT t.in_voters AND p.voter_id IS NULL THEN NULL ELSE {past_sum} END AS SMALLINT) AS past_votes,
          CAST({k} AS SMALLINT) AS past_elections, {band} AS propensity_band
        FROM VA t LEFT JOIN CV c ON t.voter_id = c.voter_id LEFT JOIN PV p ON t.voter_id = p.voter_id
        WHERE t.status = 'assigned' AND t.voter_id IS NOT NULL
        """
    ).to_arrow_table()
    # free DuckDB's working tables before the Arrow result is reordered and converted
    for kind, name in (("VIEW", "VA"), ("VIEW", "VAGG"), ("VIEW", "AAGG"), ("TABLE", "AAGG")):
        with suppress(duckdb.Error):
            q(f"DROP {kind} IF EXISTS {name}")
    for name in ("U", "PV", "CV", "E", "EX"):
        q(f"DROP TABLE IF EXISTS {name}")
    step("to pandas")
    # sample flow and missing outcomes, from the Arrow result (multi-threaded, order-free)
    flow_rows = (
        relation.group_by("arm")
        .aggregate(
            [
                ("voter_id", "count"),
                ("attempted", "sum"),
                ("contacted", "sum"),
                ("voted", "count"),
            ]
        )
        .to_pylist()
    )
    import pyarrow.compute as pc

    missing_rows = (
        relation.filter(pc.is_null(relation["voted"]))
        .group_by(["arm", "outcome_status"])
        .aggregate([("voter_id", "count")])
        .to_pylist()
    )
    held = [relation]
    del relation  # to_pandas frees the unsorted columns as it reorders them
    table = to_pandas(held.pop())
    for m in sorted(missing_rows, key=lambda r: (str(r["arm"]), str(r["outcome_status"]))):
        entries.append(
            ReconciliationEntry(
                "analysis",
                OUTCOME_MISSING,
                str(m["outcome_status"]),
                int(m["voter_id_count"]),
                (),
                str(m["arm"]),
            )
        )
    table.attrs = {
        "fieldexp_election": target,
        "fieldexp_control": control_label,
        "fieldexp_unit_level": level,
        "fieldexp_past_elections": list(past),
    }
    notes = [cap_note] if cap_note else []
    if n_split:
        notes.append(f"{n_split} analysed voters live in households split across precincts")
    if control_label is None:
        notes.append(
            f"no control arm identified among {arms}; 'assigned' is missing (pass control=)"
        )
    rows_read = [("voters", n_voters), ("assignment", n_assign)]
    if plan.has_contacts:
        rows_read.append(("contacts", n_contacts))
    rows_read.append(("vote_history", n_hist))
    rec = Reconciliation(
        rows_read=tuple(rows_read),
        entries=tuple(entries),
        flow=tuple(
            FlowRow(
                str(r["arm"]),
                int(r["voter_id_count"]),
                int(r["attempted_sum"] or 0),
                int(r["contacted_sum"] or 0),
                int(r["voted_count"]),
            )
            for r in sorted(flow_rows, key=lambda r: str(r["arm"]))
        ),
        imports=tuple(inputs.imports),
        election=target,
        campaign_window=(start_label, end_label),
        notes=tuple(notes),
    )
    rec.check()
    step("done")
    return table, rec


def to_pandas(table: Any) -> pd.DataFrame:
    """Arrow -> pandas without Python string objects (pandas' default ``str`` dtype)."""
    import pyarrow as pa

    text = pd.StringDtype("pyarrow", na_value=np.nan)
    mapping = {pa.string(): text, pa.large_string(): text, pa.string_view(): text}
    if "_ord" in table.column_names:
        # deterministic row order (voter-file order) without a sort of the wide rows;
        # column by column (two at a time), so few columns are ever held twice
        from concurrent.futures import ThreadPoolExecutor

        import pyarrow.compute as pc

        order = pc.sort_indices(table["_ord"])
        names = [n for n in table.column_names if n != "_ord"]
        columns = [table[n] for n in names]
        del table

        def reorder(i: int) -> None:
            columns[i] = columns[i].take(order)  # the unsorted column is freed here

        with ThreadPoolExecutor(max_workers=2) as pool:  # Arrow releases the GIL
            list(pool.map(reorder, range(len(columns))))
        table = pa.table(columns, names=names)
        del columns
    # column by column, each Arrow column released once converted (never two whole copies)
    df = table.to_pandas(types_mapper=mapping.get, self_destruct=True, split_blocks=True)
    del table
    for col in df.columns:
        if (
            str(df[col].dtype) in ("int8", "float64") and col in ("assigned", "voted")
        ) or col.startswith("voted_"):
            df[col] = df[col].astype("Int8")
    return df


def covariate_names(past: Sequence[str], covariates: Sequence[str]) -> list[str]:
    names = []
    for e in past:
        name = "voted_" + re.sub(r"[^0-9A-Za-z_]+", "_", e)
        while name in covariates or name in names:
            name += "_"
        names.append(name)
    return names
