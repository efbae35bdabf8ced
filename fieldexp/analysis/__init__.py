"""Canonical tables -> the unit-level analysis table, plus a reconciliation report."""

from fieldexp.analysis.bands import PROPENSITY_BANDS, propensity_band
from fieldexp.analysis.precinct import build_precinct_table
from fieldexp.analysis.reconciliation import FlowRow, Reconciliation, ReconciliationEntry
from fieldexp.analysis.table import build_analysis_table, ids_sha256

__all__ = [
    "PROPENSITY_BANDS",
    "FlowRow",
    "Reconciliation",
    "ReconciliationEntry",
    "build_analysis_table",
    "build_precinct_table",
    "ids_sha256",
    "propensity_band",
]
