"""Sample flow: units by arm from assignment to the outcome (voters, or polling stations)."""

from __future__ import annotations

import pandas as pd

from fieldexp.report.model import Cell, Section, Table
from fieldexp.report.prepare import arm_label
from fieldexp.report.sections.common import suppress
from fieldexp.report.sections.context import ReportContext

__all__ = ["build"]


def _stations(ctx: ReportContext) -> Section:
    lang = ctx.lang
    pt = ctx.run.precinct_table
    if pt is None or "assigned" not in pt.columns:
        return Section(
            "flow", lang("flow.title"), available=False, reason=lang("flow.no_assignment")
        )
    rows = []
    expressed = "expressed" in pt.columns
    for z, name in ((0, lang("flow.control")), (1, lang("flow.canvass"))):
        m = pt["assigned"] == z
        reg = int(pt.loc[m, "registered"].sum())
        vot = int(pt.loc[m, "voters"].sum())
        row: tuple[Cell, ...] = (name, int(m.sum()), reg, vot)
        if expressed:
            row += (int(pt.loc[m, "expressed"].sum()),)
        rows.append((*row, vot / reg if reg else None))
    columns: tuple[str, ...] = (
        lang("col.arm"),
        lang("col.n_stations"),
        lang("col.registered"),
        lang("col.voters"),
    )
    formats: tuple[str, ...] = ("text", "int", "int", "int")
    if expressed:
        columns += (lang("col.expressed"),)
        formats += ("int",)
    table = Table(
        "sample_flow",
        lang("flow.stations_table"),
        (*columns, lang("col.turnout")),
        (*formats, "pct"),
        tuple(rows),
        note=lang("flow.stations_note"),
    )
    return Section("flow", lang("flow.title"), (lang("flow.stations_text"),), (table,))


def build(ctx: ReportContext) -> Section | None:
    """Voters by arm: assigned, attempted, contacted, outcome observed."""
    run = ctx.run
    lang = ctx.lang
    k = ctx.small_cell
    rec = run.reconciliation
    rows: list[tuple[Cell, ...]]
    if rec is None or not rec.flow:
        t = run.table
        if t is None:
            return _stations(ctx)
        rows = []
        for arm in (run.control, *run.arms):
            m = t["arm"] == arm
            attempted = t["attempted"] if "attempted" in t.columns else pd.Series(0, index=t.index)
            rows.append(
                (
                    str(arm),
                    suppress(int(m.sum()), k),
                    suppress(int((m & (attempted == 1)).sum()), k)
                    if "attempted" in t.columns
                    else None,
                    suppress(int((m & (t[run.spec.analysis.treatment] == 1)).sum()), k),
                    suppress(int((m & t[run.spec.outcomes[0].column].notna()).sum()), k),
                )
            )
    else:
        rows = [
            (
                arm_label(f.arm),
                suppress(f.assigned, k),
                suppress(f.attempted, k),
                suppress(f.contacted, k),
                suppress(f.outcome_observed, k),
            )
            for f in rec.flow
        ]
    names = {run.control: lang("flow.control")}
    rows = [
        (
            f"{r[0]} – " + (names[str(r[0])] if r[0] in names else lang("flow.canvass")),
            *r[1:],
        )
        for r in rows
    ]
    table = Table(
        "sample_flow",
        lang("flow.voters_table"),
        (
            lang("col.arm"),
            lang("col.assigned"),
            lang("col.attempted"),
            lang("col.contacted"),
            lang("col.outcome_observed"),
        ),
        ("text", "int", "int", "int", "int"),
        tuple(rows),
        note=lang("flow.voters_note", k1=k - 1, k=k),
    )
    return Section("flow", lang("flow.title"), (lang("flow.voters_text"),), (table,))
