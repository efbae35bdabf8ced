"""Canonical tables -> the unit-level analysis table, plus a reconciliation report."""

from fieldexp.analysis.precinct import build_precinct_table
from fieldexp.analysis.reconciliation import FlowRow, Reconciliation, ReconciliationEntry
from fieldexp.analysis.table import build_analysis_table, ids_sha256, propensity_band

__all__ = [
    "FlowRow",
    "Reconciliation",
    "ReconciliationEntry",
    "build_analysis_table",
    "build_precinct_table",
    "ids_sha256",
    "propensity_band",
]
