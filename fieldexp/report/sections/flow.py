"""Sample flow: units by arm from assignment to the outcome (voters, or polling stations)."""

from __future__ import annotations

import pandas as pd

from fieldexp.report.model import Cell, Section, Table
from fieldexp.report.prepare import arm_label
from fieldexp.report.sections.common import suppress
from fieldexp.report.sections.context import ReportContext

__all__ = ["build"]


def _stations(ctx: ReportContext) -> Section:
    pt = ctx.run.precinct_table
    if pt is None or "assigned" not in pt.columns:
        return Section("flow", "Sample flow", available=False, reason="no assignment")
    rows = []
    for z, name in ((0, "control (held out)"), (1, "canvass")):
        m = pt["assigned"] == z
        reg = int(pt.loc[m, "registered"].sum())
        vot = int(pt.loc[m, "voters"].sum())
        rows.append((name, int(m.sum()), reg, vot, vot / reg if reg else None))
    table = Table(
        "sample_flow",
        "Polling stations by arm: stations, registered voters, ballots cast",
        ("arm", "stations", "registered", "voters", "turnout"),
        ("text", "int", "int", "int", "pct"),
        tuple(rows),
        note="The unit of assignment and analysis is the polling station; turnout is voters "
        "over registered voters.",
    )
    return Section(
        "flow",
        "Sample flow",
        ("Polling stations assigned to each arm, with their registered voters and ballots cast.",),
        (table,),
    )


def build(ctx: ReportContext) -> Section | None:
    """Voters by arm: assigned, attempted, contacted, outcome observed."""
    run = ctx.run
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
    names = {run.control: "control (held out)"}
    rows = [
        ((f"{r[0]} – " + names[str(r[0])]) if r[0] in names else f"{r[0]} – canvass", *r[1:])
        for r in rows
    ]
    table = Table(
        "sample_flow",
        "Voters by arm: assigned, attempted, contacted, outcome observed",
        ("arm", "assigned", "attempted", "contacted", "outcome observed"),
        ("text", "int", "int", "int", "int"),
        tuple(rows),
        note=f"Counts of voters. Counts between 1 and {k - 1} are shown as <{k}.",
    )
    text = (
        "Every assigned voter is followed from assignment to the ballot box: how many "
        "doors were knocked, how many people answered, and for how many the outcome is known."
    )
    return Section("flow", "Sample flow", (text,), (table,))
