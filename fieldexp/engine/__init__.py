"""Estimators on tables that live in an engine (DuckDB, warehouses through Ibis, Polars, Arrow).

Only aggregates leave the engine: GROUP BY passes return block x arm, block or cluster
totals, and the statistics are finished locally with the kernels of :mod:`fieldexp.stats`.
"""

from fieldexp.engine.ri import RI_WEIGHT, ri_inputs
from fieldexp.engine.staggered import AttGtMoments, att_gt_moments
from fieldexp.engine.tables import PullRecord, as_ibis, is_engine_table, record_pulls

__all__ = [
    "RI_WEIGHT",
    "AttGtMoments",
    "PullRecord",
    "as_ibis",
    "att_gt_moments",
    "is_engine_table",
    "record_pulls",
    "ri_inputs",
]
