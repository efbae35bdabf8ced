"""Canonical tables -> the unit-level analysis table, joined in DuckDB.

The joins run in an in-process DuckDB database, so inputs can be pandas DataFrames or
Parquet/CSV files larger than memory (DuckDB streams and spills to a temporary folder).
Every input row ends up in exactly one reconciliation category.

Outcome rule (``voted`` for the target election), in order:

1. the voter has a history row for the election: ``voted`` from it (duplicated
   voter-election rows: a counted ballot wins);
2. no row, the voter is in the voter file and not ``removed``: ``voted = 0`` (vote
   histories list ballots; a registered voter without one did not vote);
3. otherwise ``voted`` is missing, with ``outcome_status`` saying why
   (``not_in_voter_file`` or ``removed``), counted by arm in the reconciliation.

Past-vote covariates ``voted_<election_id>`` use the same rule for each earlier
election (missing only for voters absent from the voter file).

The build runs in stages, one module each under :mod:`fieldexp.analysis.stages`: inputs →
voters → assignment → vote history → contacts → join (see that package's docstring).
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Callable, Sequence
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from fieldexp.analysis.bands import PROPENSITY_BANDS, propensity_band
from fieldexp.analysis.reconciliation import Reconciliation
from fieldexp.analysis.stages.assignment import merge_assignment
from fieldexp.analysis.stages.contacts import classify_contacts
from fieldexp.analysis.stages.context import Build, Source, quote
from fieldexp.analysis.stages.history import MAX_PAST_ELECTIONS, fold_history
from fieldexp.analysis.stages.inputs import CORE_VOTER_COLUMNS, load_inputs
from fieldexp.analysis.stages.join import REMOVED, analysis_table
from fieldexp.analysis.stages.voters import merge_voters
from fieldexp.errors import SpecificationError

__all__ = ["build_analysis_table", "ids_sha256", "propensity_band"]

# names this module has always exported (kept for callers that import them from here)
__all__ += ["CORE_VOTER_COLUMNS", "MAX_PAST_ELECTIONS", "PROPENSITY_BANDS", "REMOVED"]


def ids_sha256(ids: Sequence[Any] | np.ndarray | pd.Series) -> str:
    """SHA-256 of the sorted unit ids, as ``Design.assign`` records it.

    Delegates to :func:`fieldexp.design.assign.ids_sha256` (integer ids are hashed as
    int64, others as text).
    """
    from fieldexp.design.assign import ids_sha256 as design_hash

    return design_hash(pd.Series(ids) if not isinstance(ids, pd.Series) else ids)


class _Progress:
    def __init__(self, enabled: bool, total: int) -> None:
        self.enabled = enabled
        self._bar: Any = None
        if enabled:
            from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

            self._bar = Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                TimeElapsedColumn(),
                transient=True,
            )
            self._bar.start()
            self._task = self._bar.add_task("analysis table", total=total)

    def step(self, text: str) -> None:
        if self._bar is not None:
            self._bar.update(self._task, description=f"analysis table: {text}", advance=1)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()


# --------------------------------------------------------------------------- main
# --------------------------------------------------------------------------- main
def build_analysis_table(
    voters: Source,
    assignment: Source,
    contacts: Source | None,
    vote_history: Source,
    *,
    election: str,
    campaign_window: tuple[Any, Any] | None = None,
    control: Any = None,
    control_contacts: str = "keep",
    past_elections: int | Sequence[str] | None = None,
    verify_ids_hash: bool = True,
    memory_limit: str | None = None,
    threads: int | None = None,
    progress: bool | None = None,
) -> tuple[pd.DataFrame, Reconciliation]:
    """Join assignment, voters, contacts and vote history into the unit-level table.

    Parameters
    ----------
    voters, assignment, contacts, vote_history
        Canonical tables (see ``docs/data.md``) as DataFrames, or paths of Parquet
        files (or folders of them) / CSV files with the canonical columns. The
        assignment is the output of ``Design.assign`` (unit column, ``arm``,
        ``probability``, block/cluster columns, ``attrs`` with the design and the ids
        hash) or a plain table with a unit id column (``voter_id``, ``household_id``
        or ``unit_id``), ``arm`` or ``assigned`` and optionally ``probability``.
        Household-level assignments are expanded to the household's voters.
        ``contacts`` may be None (no contact log: nobody attempted).
    election
        Target election id (e.g. ``"general_2020_11_03"``) or its date
        (``"2020-11-03"``) when one election has that date.
    campaign_window
        ``(start, end)`` dates, inclusive (a date-only end covers the whole day);
        either may be None. Default: everything up to the end of election day.
        Contacts outside are set aside.
    control
        The control arm label; default the design's control, else ``0``/``"0"`` or
        ``"control"`` when present.
    control_contacts
        ``"keep"`` (default: contacts logged for control units count toward their
        ``contacted``, i.e. two-sided noncompliance, and are reported) or ``"drop"``
        (set aside).
    past_elections
        Earlier elections turned into ``voted_<election_id>`` covariates: all (None),
        the most recent ``n``, or a list of election ids.
    verify_ids_hash
        Check the ids hash recorded by ``Design.assign`` against the voter file.
    memory_limit, threads
        DuckDB settings (e.g. ``"4GB"``); default DuckDB's own.
    progress
        Show a progress display (default: when stderr is a terminal).

    Returns
    -------
    table : DataFrame
        One row per assigned voter, in voter-file order (then assigned units missing
        from the voter file, in assignment order): ``voter_id,
        household_id, precinct_id, arm, assigned, probability, block, cluster,
        attempted, contacted, n_attempts, voted, outcome_status, registered,
        registration_status``,
        voter covariates, ``voted_<election_id>`` for earlier elections, ``past_votes``,
        ``past_elections`` and ``propensity_band``.
    reconciliation : Reconciliation
        Rows read / used / set aside by reason for every input table.

    Raises
    ------
    ReconciliationError
        The same voter id with different households; the same unit assigned to two
        arms; an assignment whose recorded ids hash matches neither the voter file nor
        its own units.
    """
    if control_contacts not in ("keep", "drop"):
        raise SpecificationError(
            f"control_contacts must be 'keep' or 'drop', got {control_contacts!r}"
        )
    for obj in (voters, assignment, contacts, vote_history):  # engine tables: fieldexp.engine
        if type(obj).__module__.split(".")[0] in ("ibis", "polars", "pyarrow"):
            raise SpecificationError(
                "build_analysis_table: engine tables (Ibis, Polars, PyArrow) are built in the "
                "engine by fx.build_analysis_table (fieldexp.engine.table); this function takes "
                f"DataFrames or Parquet/CSV paths, got {type(obj).__name__}"
            )
    if not isinstance(election, str) or not election:
        raise SpecificationError(f"election must be an election id or date (str); got {election!r}")
    show = sys.stderr.isatty() if progress is None else bool(progress)
    bar = _Progress(show, total=7)
    tmp = tempfile.TemporaryDirectory(prefix="fieldexp-duckdb-")
    con = duckdb.connect(config={"temp_directory": tmp.name})
    try:
        if memory_limit is not None:
            con.execute(f"SET memory_limit = {quote(memory_limit)}")
        if threads is not None:
            con.execute(f"SET threads = {int(threads)}")
        con.execute("SET preserve_insertion_order = false")
        return _build(
            con,
            voters,
            assignment,
            contacts,
            vote_history,
            election=election,
            campaign_window=campaign_window,
            control=control,
            control_contacts=control_contacts,
            past_elections=past_elections,
            verify_ids_hash=verify_ids_hash,
            step=bar.step,
        )
    finally:
        bar.close()
        con.close()
        tmp.cleanup()


def _build(
    con: duckdb.DuckDBPyConnection,
    voters: Source,
    assignment: Source,
    contacts: Source | None,
    vote_history: Source,
    *,
    election: str,
    campaign_window: Any,
    control: Any,
    control_contacts: str,
    past_elections: int | Sequence[str] | None,
    verify_ids_hash: bool,
    step: Callable[[str], None],
) -> tuple[pd.DataFrame, Reconciliation]:
    b = Build(con)
    step("reading inputs")
    plan = load_inputs(b, voters, assignment, contacts, vote_history)
    step("voters")
    voter_counts = merge_voters(b, plan)
    step("assignment")
    assigned = merge_assignment(
        b, plan, voter_counts, control=control, verify_ids_hash=verify_ids_hash
    )
    step("vote history")
    history = fold_history(b, election=election, past_elections=past_elections)
    step("contacts")
    contact_counts = classify_contacts(
        b,
        has_contacts=plan.has_contacts,
        campaign_window=campaign_window,
        election_date=history.date,
        control_contacts=control_contacts,
    )
    step("joining")
    return analysis_table(b, plan, voter_counts, assigned, history, contact_counts, step)
