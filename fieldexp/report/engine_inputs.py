"""The engine tables of an ``[engine]`` spec, kept for the sections that aggregate in the engine.

:func:`build_engine_run` is what :func:`fieldexp.report.prepare_analysis` runs for a spec
with ``[engine]``: the analysis table is built in the engine
(:func:`fieldexp.engine.table.build_engine_table`, every reconciliation count computed
there), then pulled sorted by ``voter_id`` (the report's estimators work on a DataFrame). The
Ibis handles stay in
:class:`EngineInputs` (``AnalysisRun.engine``) so that the DiD and coverage sections build
their panels and counts with GROUP BY in the engine
(:mod:`fieldexp.report.sections.engine_did`, :mod:`fieldexp.report.sections.coverage`)
instead of reading raw vote history or contact rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from fieldexp.analysis.reconciliation import Reconciliation
from fieldexp.errors import SpecificationError

if TYPE_CHECKING:  # pragma: no cover
    import ibis.expr.types as ir

    from fieldexp.spec.model import AnalysisSpec

__all__ = ["EngineInputs", "build_engine_run"]


@dataclass(frozen=True, slots=True, eq=False)
class EngineInputs:
    """Ibis tables of an ``[engine]`` spec (one backend connection; nothing pulled).

    ``table`` is the analysis table as the engine built it (materialised: a temporary table
    on DuckDB, cached on Spark); ``voters``, ``contacts`` and ``vote_history`` the canonical
    engine tables the spec names (``contacts`` may be None).
    """

    backend: str
    table: ir.Table
    voters: ir.Table
    assignment: ir.Table
    contacts: ir.Table | None
    vote_history: ir.Table


def build_engine_run(spec: AnalysisSpec) -> tuple[pd.DataFrame, Reconciliation, EngineInputs]:
    """The analysis table built in the engine and pulled, its reconciliation and the handles."""
    from fieldexp.analysis.stages.join import to_pandas
    from fieldexp.engine.connect import connect_engine, engine_table
    from fieldexp.engine.table import build_engine_table
    from fieldexp.engine.tables import pull

    e = spec.engine
    assert e is not None
    a = spec.analysis
    con: Any = connect_engine(e.backend, database=e.database, url=e.url, url_env=e.url_env)
    tables = dict(e.tables)
    got = {
        name: engine_table(con, tables[name]) if name in tables else None
        for name in ("voters", "assignment", "contacts", "vote_history")
    }
    missing = [n for n in ("voters", "assignment", "vote_history") if got[n] is None]
    if missing:
        raise SpecificationError(
            f"[engine]: the analysis table needs engine tables for {', '.join(missing)} "
            "([data.<name>] table = ...)"
        )
    voters, assignment, history = got["voters"], got["assignment"], got["vote_history"]
    assert voters is not None and assignment is not None and history is not None
    table, rec, info = build_engine_table(
        voters, assignment, got["contacts"], history,
        election=a.election, campaign_window=a.campaign_window,
        control=spec.design.design.control if spec.design is not None else None,
        control_contacts=a.control_contacts, past_elections=a.past_elections,
    )  # fmt: skip
    frame = to_pandas(pull(table.order_by("voter_id"), "analysis table (one row per voter)"))
    frame.attrs = {
        "fieldexp_election": info.election,
        "fieldexp_control": info.control,
        "fieldexp_unit_level": info.unit_level,
        "fieldexp_past_elections": list(info.past_elections),
    }
    handles = EngineInputs(e.backend, table, voters, assignment, got["contacts"], history)
    return frame, rec, handles
