"""Field coverage counts from GROUP BY in the engine (the report's coverage section).

The engine renderings of :func:`fieldexp.analysis.coverage.household_coverage`,
:func:`~fieldexp.analysis.coverage.contacts_in_analysis` and
:func:`~fieldexp.analysis.coverage.canvasser_coverage`, with the same definitions:

* a treatment household is attempted (contacted) when any of its voters is (``max``); its
  group is the ``by`` value of its first voter in ``voter_id`` order (text order, the order
  of the report's analysis table) among those with a value; households without one are not
  counted (pandas drops missing group keys);
* the contacts the analysis used: contact-log rows of treatment units (voter rows mapped to
  their household, household rows whose id is a treatment household), inside the campaign
  window (end date inclusive), with a canvasser; per canvasser the households knocked
  (attempted) and contacted.

Pulled: one row per group (per ``by`` value), one row per canvasser, and one row of counts.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import pandas as pd

from fieldexp.analysis.coverage import _window, check_coverage_columns
from fieldexp.engine.report_panel import _as_number, _as_timestamp
from fieldexp.engine.tables import pull
from fieldexp.errors import ColumnNotFoundError, did_you_mean

if TYPE_CHECKING:  # pragma: no cover
    import ibis.expr.types as ir

__all__ = ["arm_values", "engine_canvasser_coverage", "engine_household_coverage"]


def arm_values(table: ir.Table) -> list[object]:
    """The distinct ``arm`` values of the analysis table (one row per arm)."""
    got = pull(table.select("arm").distinct(), "arms").to_pandas()["arm"]
    return [x for x in got.tolist() if x is not None and x == x]


def _treatment(table: ir.Table, arms: Sequence[object]) -> ir.Table:
    return table.filter(table["arm"].isin(list(arms)))


def engine_household_coverage(
    table: ir.Table,
    *,
    arms: Sequence[object],
    household: str,
    by: str,
    contacted: str = "contacted",
) -> pd.DataFrame:
    """``group, households, attempted, contacted`` per ``by`` value (one pull, one row each)."""
    for col in (household, by, "attempted", contacted, "arm"):
        if col not in table.columns:
            raise ColumnNotFoundError(
                f"coverage: column {col!r} is not in the analysis table."
                + did_you_mean(col, [str(c) for c in table.columns])
            )
    t = _treatment(table, arms)
    t = t.filter(t[household].notnull())  # noqa: PD004
    flags = t.group_by(_fx_h=t[household]).aggregate(
        _fx_a=_as_number(t["attempted"]).max(), _fx_c=_as_number(t[contacted]).max()
    )
    named = t.filter(t[by].notnull())  # noqa: PD004
    grp = named.group_by(_fx_h2=named[household]).aggregate(
        group=named[by].argmin(named["voter_id"].cast("string"))
    )
    hh = flags.join(grp, flags["_fx_h"] == grp["_fx_h2"])
    g = hh.group_by("group").aggregate(
        households=hh.count(), attempted=hh["_fx_a"].sum(), contacted=hh["_fx_c"].sum()
    )
    out = pull(g, f"coverage by {by} (one row per group)").to_pandas()
    out = out.sort_values("group", kind="stable", ignore_index=True)
    return out.fillna({"attempted": 0, "contacted": 0}).astype(
        {"households": int, "attempted": int, "contacted": int}
    )


def engine_canvasser_coverage(
    contacts: ir.Table,
    table: ir.Table,
    *,
    arms: Sequence[object],
    household: str,
    window: tuple[str | None, str | None] | None = None,
) -> tuple[pd.DataFrame, int, int]:
    """``canvasser, households, contacted`` (one row per canvasser), rows read, rows set aside."""
    import ibis

    check_coverage_columns(contacts.columns, table.columns, household)
    treat = _treatment(table, arms)
    vmap = treat.select(_fx_vid=treat["voter_id"].cast("string"), _fx_vh=treat[household])
    uid = contacts["unit_id"].cast("string")
    level = (
        contacts["unit_level"].cast("string").lower()
        if "unit_level" in contacts.columns
        else ibis.literal("voter")
    )
    keep = ibis.literal(True)
    start, end = _window(window)
    if "timestamp" in contacts.columns and (start is not None or end is not None):
        ts = _as_timestamp(contacts["timestamp"])
        keep = keep & ts.notnull()  # noqa: PD004
        if start is not None:
            keep = keep & (ts >= ibis.timestamp(start.to_pydatetime())).fill_null(False)
        if end is not None:
            keep = keep & (ts < ibis.timestamp(end.to_pydatetime())).fill_null(False)
    has_canvasser = "canvasser" in contacts.columns
    c = contacts.select(
        _fx_uid=uid,
        _fx_lvl=level,
        _fx_keep=keep,
        _fx_cv=contacts["canvasser"].cast("string") if has_canvasser else ibis.null("string"),
        _fx_att=_as_number(contacts["attempted"]).fill_null(0).cast("int64"),
        _fx_con=_as_number(contacts["contacted"]).fill_null(0).cast("int64"),
    )
    j = c.left_join(vmap, (c["_fx_uid"] == vmap["_fx_vid"]) & (c["_fx_lvl"] == "voter"))
    hh_of = ibis.cases(
        ((j["_fx_lvl"] == "voter").fill_null(False), j["_fx_vh"].cast("string")),
        else_=ibis.null("string"),
    )
    if household != "voter_id":
        known = treat.filter(treat[household].notnull()).select(  # noqa: PD004
            _fx_k=treat[household].cast("string")
        )
        hh_of = ibis.cases(
            (
                (j["_fx_lvl"] == "household").fill_null(False) & j["_fx_uid"].isin(known["_fx_k"]),
                j["_fx_uid"],
            ),
            else_=hh_of,
        )
    kept = j["_fx_keep"] & hh_of.notnull() & j["_fx_cv"].notnull()  # noqa: PD004
    rows = j.select(
        _fx_hh=hh_of, _fx_cv=j["_fx_cv"], _fx_att=j["_fx_att"], _fx_con=j["_fx_con"], _fx_k=kept
    )
    counts = pull(
        rows.aggregate(n=rows.count(), aside=(~rows["_fx_k"]).cast("int64").sum()),
        "contact log rows read and set aside",
    ).to_pylist()[0]
    used = rows.filter(rows["_fx_k"])
    per = used.group_by(["_fx_cv", "_fx_hh"]).aggregate(
        a=used["_fx_att"].max(), c=used["_fx_con"].max()
    )
    per = per.filter(per["a"] > 0)
    g = per.group_by(canvasser=per["_fx_cv"]).aggregate(
        households=per.count(), contacted=per["c"].sum()
    )
    out = pull(g, "coverage by canvasser (one row per canvasser)").to_pandas()
    out = out.sort_values("canvasser", kind="stable", ignore_index=True)
    out = out.astype({"households": int, "contacted": int})
    return out, int(counts["n"]), int(counts["aside"] or 0)
