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
    # rows per code of each imported file (unknown codes pooled below k rows)
    code_rows = tuple(
        (
            c.table,
            c.kind,
            c.code,
            "yes" if c.known else "no (default meaning)",
            suppress(c.rows, k),
        )
        for c in rec.code_counts(min_rows=k)
    )
    by_code = Table(
        "reconciliation_codes",
        "Rows of each imported file by code (unknown codes included)",
        ("table", "code of", "code", "known", "rows"),
        ("text", "text", "text", "text", "int"),
        code_rows,
    )
    lo, hi = rec.campaign_window
    paras = [
        f"Target election: {rec.election}. Every row read is either used or set aside with a reason."
    ]
    if run.inputs.contacts is not None:
        paras.append(
            f"Contacts counted from {lo or 'the start of the log'} to {hi or 'election day'}."
        )
    for imp in rec.imports:
        aside = dict(imp.get("set_aside") or {})  # type: ignore[call-overload]
        if aside:  # rows the reader set aside (channel filter, crosswalk, duplicates...)
            parts = "; ".join(f"{r}: {suppress(int(n), k)}" for r, n in aside.items())
            paras.append(
                f"Set aside when reading {imp.get('table')} file {imp.get('file')}: {parts}."
            )
    for note in rec.notes:
        paras.append(str(note))
    tables = (summary, detail, by_code) if code_rows else (summary, detail)
    return Section("reconciliation", "Data reconciliation", tuple(paras), tables)
