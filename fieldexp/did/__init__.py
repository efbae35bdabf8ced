"""Difference-in-differences: two-way FE, event studies, Callaway-Sant'Anna, Sun-Abraham, panels."""

from __future__ import annotations

from fieldexp.did.staggered import AggregatedEffects, StaggeredDiD, staggered_did

__all__ = ["AggregatedEffects", "StaggeredDiD", "staggered_did"]
