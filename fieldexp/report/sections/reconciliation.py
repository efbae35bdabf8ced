"""Data reconciliation: rows read / used / set aside per input table and by reason."""

from __future__ import annotations

from fieldexp.report.model import Section, Table
from fieldexp.report.sections.common import suppress
from fieldexp.report.sections.context import ReportContext

__all__ = ["build"]


def build(ctx: ReportContext) -> Section | None:
    """Left out (``None``) when the spec gives a ready analysis table (nothing joined)."""
    run = ctx.run
    lang = ctx.lang
    rec = run.reconciliation if run.reconciliation is not None else run.precinct_reconciliation
    k = ctx.small_cell
    if rec is None:
        return None
    rows = tuple((t, int(n), int(rec.used(t)), int(rec.set_aside(t))) for t, n in rec.rows_read)
    summary = Table(
        "reconciliation",
        lang("reconciliation.table"),
        (lang("col.table"), lang("col.rows_read"), lang("col.used"), lang("col.set_aside")),
        ("text", "int", "int", "int"),
        rows,
        note=lang("reconciliation.stations_note") if ctx.stations else "",
    )
    reasons = tuple(
        (
            e.table,
            lang.term("status", e.status),
            lang.term("reason", e.reason),
            e.arm if e.arm is not None else "",
            suppress(e.rows, k),
        )
        for e in rec.entries
    )
    detail = Table(
        "reconciliation_reasons",
        lang("reconciliation.reasons_table"),
        (
            lang("col.table"),
            lang("col.status"),
            lang("col.reason"),
            lang("col.arm"),
            lang("col.rows"),
        ),
        ("text", "text", "text", "text", "int"),
        reasons,
    )
    # rows per code of each imported file (unknown codes pooled below k rows)
    code_rows = tuple(
        (
            c.table,
            c.kind,
            c.code,
            lang("common.yes") if c.known else lang("reconciliation.unknown_code"),
            suppress(c.rows, k),
        )
        for c in rec.code_counts(min_rows=k)
    )
    by_code = Table(
        "reconciliation_codes",
        lang("reconciliation.codes_table"),
        (
            lang("col.table"),
            lang("col.code_of"),
            lang("col.code"),
            lang("col.known"),
            lang("col.rows"),
        ),
        ("text", "text", "text", "text", "int"),
        code_rows,
    )
    lo, hi = rec.campaign_window
    paras = [lang("reconciliation.election", election=rec.election)]
    if ctx.stations:
        paras.append(lang("reconciliation.stations"))
    if run.inputs.contacts is not None:
        paras.append(
            lang(
                "reconciliation.window",
                start=lang.date(lo) if lo else lang("reconciliation.log_start"),
                end=lang.date(hi) if hi else lang("reconciliation.election_day"),
            )
        )
    for imp in rec.imports:
        aside = dict(imp.get("set_aside") or {})  # type: ignore[call-overload]
        if aside:  # rows the reader set aside (channel filter, crosswalk, duplicates...)
            parts = "; ".join(f"{r}: {suppress(int(n), k)}" for r, n in aside.items())
            paras.append(
                lang(
                    "reconciliation.import_aside",
                    table=imp.get("table"),
                    file=imp.get("file"),
                    parts=parts,
                )
            )
    paras.extend(lang.notes(rec.notes))
    tables = (summary, detail, by_code) if code_rows else (summary, detail)
    return Section("reconciliation", lang("reconciliation.title"), tuple(paras), tables)
