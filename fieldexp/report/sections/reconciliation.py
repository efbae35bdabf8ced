"""Data reconciliation: rows read / used / set aside per input table and by reason."""

from __future__ import annotations

from fieldexp.report.model import Section, Table
from fieldexp.report.sections.common import suppress
from fieldexp.report.sections.context import ReportContext

__all__ = ["build"]


def build(ctx: ReportContext) -> Section | None:
    """Left out (``None``) when the spec gives a ready analysis table (nothing joined)."""
    run = ctx.run
    rec = run.reconciliation if run.reconciliation is not None else run.precinct_reconciliation
    k = ctx.small_cell
    if rec is None:
        return None
    rows = tuple((t, int(n), int(rec.used(t)), int(rec.set_aside(t))) for t, n in rec.rows_read)
    summary = Table(
        "reconciliation",
        "Rows read, used and set aside per input table",
        ("table", "rows read", "used", "set aside"),
        ("text", "int", "int", "int"),
        rows,
    )
    reasons = tuple(
        (e.table, e.status, e.reason, e.arm if e.arm is not None else "", suppress(e.rows, k))
        for e in rec.entries
    )
    detail = Table(
        "reconciliation_reasons",
        "Why rows were used or set aside",
        ("table", "status", "reason", "arm", "rows"),
        ("text", "text", "text", "text", "int"),
        reasons,
    )
    lo, hi = rec.campaign_window
    paras = [
        f"Target election: {rec.election}. Every row read is either used or set aside with a reason."
    ]
    if run.inputs.contacts is not None:
        paras.append(
            f"Contacts counted from {lo or 'the start of the log'} to {hi or 'election day'}."
        )
    for note in rec.notes:
        paras.append(str(note))
    return Section("reconciliation", "Data reconciliation", tuple(paras), (summary, detail))
