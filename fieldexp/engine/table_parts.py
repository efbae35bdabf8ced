"""Parts of :mod:`fieldexp.engine.table`: pull helpers, the election choice and the contacts stage."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from fieldexp.analysis.reconciliation import SET_ASIDE, USED, ReconciliationEntry
from fieldexp.analysis.stages.history import MAX_PAST_ELECTIONS
from fieldexp.engine.tables import pull
from fieldexp.errors import ColumnNotFoundError, SpecificationError, did_you_mean

if TYPE_CHECKING:  # pragma: no cover
    import ibis.expr.types as ir

__all__ = [
    "Entries",
    "choose_elections",
    "contacts_stage",
    "count_where",
    "one_row",
    "require",
    "to_int",
]


# --------------------------------------------------------------------------- helpers
def count_where(cond: ir.BooleanValue) -> ir.IntegerScalar:
    import ibis

    return ibis.ifelse(cond, 1, 0).sum()


def to_int(x: Any) -> int:
    return 0 if x is None or (isinstance(x, float) and x != x) else int(x)


def require(name: str, t: ir.Table, cols: Sequence[str]) -> None:
    have = list(t.columns)
    for c in cols:
        if c not in have:
            raise ColumnNotFoundError(
                f"{name}: column {c!r} not found (columns: {have[:12]}).{did_you_mean(c, have)}"
            )


def one_row(expr: ir.Table, what: str) -> dict[str, Any]:
    rows = pull(expr, what).to_pylist()
    return rows[0] if rows else {}


class Entries:
    def __init__(self) -> None:
        self.items: list[ReconciliationEntry] = []

    def add(self, table: str, reason: str, n: Any) -> None:
        n = to_int(n)
        if n:
            status = USED if reason.startswith("used") else SET_ASIDE
            self.items.append(ReconciliationEntry(table, status, reason, n, ()))


def contacts_stage(
    c_raw: ir.Table,
    va: ir.Table,
    hh: ir.Table,
    *,
    campaign_window: Any,
    start: pd.Timestamp | None,
    end_excl: pd.Timestamp,
    control_contacts: str,
    keep: Callable[[ir.Table, str], ir.Table],
    entries: Entries,
) -> tuple[ir.Table, int]:
    """Every contact row classified (``CR``) and the used ones summed per voter (``CV``).

    The rules of :mod:`fieldexp.analysis.stages.contacts`: exact duplicates collapse, then
    the first reason that applies. Returns ``CV`` (``c_voter_id, c_attempted, c_contacted,
    c_n``) and the contact rows read.
    """
    import ibis

    c_cols = list(c_raw.columns)
    extra = [c for c in ("channel", "result", "canvasser") if c in c_cols]
    keys = {
        "unit_id": c_raw["unit_id"].cast("string"),
        "unit_level": (
            c_raw["unit_level"].cast("string").lower()
            if "unit_level" in c_cols
            else ibis.literal("voter")
        ),
        "ts": (
            c_raw["timestamp"].cast("timestamp")
            if "timestamp" in c_cols
            else ibis.null("timestamp")
        ),
        **{f"_k_{c}": c_raw[c].cast("string") for c in extra},
    }
    cg = c_raw.select(
        **keys,
        attempted=c_raw["attempted"].cast("int8"),
        contacted=c_raw["contacted"].cast("int8"),
    )
    cg = cg.group_by(list(keys)).aggregate(
        attempted=cg.attempted.max(), contacted=cg.contacted.max(), n=cg.count()
    )
    vs = va.select(v_id=va.voter_id, v_in=va.in_voters, v_status=va.status, v_assigned=va.assigned)
    hs = hh.select(h_id=hh.household_id, h_n=hh.n_assigned, h_any=hh.any_treated)
    cj = cg.left_join(vs, (cg.unit_level == "voter") & (cg.unit_id == vs.v_id))
    cj = cj.left_join(hs, (cj.unit_level == "household") & (cj.unit_id == hs.h_id))
    is_voter, is_hh = cj.unit_level == "voter", cj.unit_level == "household"
    control_reason = (
        "used; contact logged for a held-out (control) unit"
        if control_contacts == "keep"
        else "contact logged for a held-out (control) unit"
    )
    cases: list[tuple[Any, Any]] = [
        (cj.unit_id.isnull(), "missing unit id"),  # noqa: PD003
        (~cj.unit_level.isin(["voter", "household"]), "unknown unit level"),
        (is_voter & (cj.v_id.isnull() | ~cj.v_in), "voter id not in the voter file"),  # noqa: PD003
        (is_hh & cj.h_id.isnull(), "household id not in the voter file"),  # noqa: PD003
        (is_voter & (cj.v_status == "excluded"), "voter excluded by the design"),
        (is_voter & (cj.v_status != "assigned"), "voter not in the experiment (not assigned)"),
        (is_hh & (cj.h_n == 0), "household not in the experiment (not assigned)"),
    ]
    if campaign_window is not None:
        cases.append((cj.ts.isnull(), "no timestamp (cannot be placed in the campaign window)"))  # noqa: PD003
    if start is not None:
        cases.append(
            (
                cj.ts.notnull() & (cj.ts < ibis.timestamp(start.to_pydatetime())),  # noqa: PD004
                "before the campaign window",
            )
        )
    cases.append(
        (
            cj.ts.notnull() & (cj.ts >= ibis.timestamp(end_excl.to_pydatetime())),  # noqa: PD004
            "after election day" if campaign_window is None else "after the campaign window",
        )
    )
    cases.append(((is_voter & (cj.v_assigned == 0)) | (is_hh & (cj.h_any == 0)), control_reason))
    cr = cj.select(
        unit_id=cj.unit_id,
        unit_level=cj.unit_level,
        attempted=cj.attempted,
        contacted=cj.contacted,
        n=cj.n,
        reason=ibis.cases(*cases, else_="used"),
    )
    cr = keep(cr, "_fx_CR")
    # one pass: per reason the distinct contacts, the rows read and the duplicates
    by_reason = pull(
        cr.group_by("reason").aggregate(n=cr.count(), rows=cr.n.sum(), dups=(cr.n - 1).sum()),
        "contacts by reason",
    ).to_pylist()
    n_contacts = sum(to_int(r["rows"]) for r in by_reason)
    entries.add("contacts", "duplicate contact row", sum(to_int(r["dups"]) for r in by_reason))
    for r in sorted(by_reason, key=lambda r: (-to_int(r["n"]), str(r["reason"]))):
        entries.add("contacts", r["reason"], r["n"])
    used = cr.filter(cr.reason.startswith("used"))
    uv = used.filter(used.unit_level == "voter")
    uv = uv.select(voter_id=uv.unit_id, attempted=uv.attempted, contacted=uv.contacted)
    uh = used.filter(used.unit_level == "household")
    va_a = va.filter(va.status == "assigned").select(hv=va.voter_id, hh_id=va.household_id)
    uhj = uh.inner_join(va_a, uh.unit_id == va_a.hh_id)
    uh2 = uhj.select(voter_id=uhj.hv, attempted=uhj.attempted, contacted=uhj.contacted)
    allc = uv.union(uh2, distinct=False)
    cv = allc.group_by("voter_id").aggregate(
        c_attempted=allc.attempted.max(),
        c_contacted=allc.contacted.max(),
        c_n=allc.attempted.cast("int64").sum(),
    )
    return cv.rename(c_voter_id="voter_id"), n_contacts


def choose_elections(
    elections: list[tuple[str, pd.Timestamp]],
    election: str,
    past_elections: int | Sequence[str] | None,
) -> tuple[str, pd.Timestamp, list[str], str | None]:
    """Target election, its date, the past-covariate elections and the cap note.

    The rules of :func:`fieldexp.analysis.stages.history.fold_history`.
    """
    ids = [e[0] for e in elections]
    target = election
    if target not in ids:
        same_day = [e for e, d in elections if d.date().isoformat() == election]
        if len(same_day) == 1:
            target = same_day[0]
        elif len(same_day) > 1:
            raise SpecificationError(
                f"election: {election!r} is the date of several elections {same_day}; name one"
            )
        else:
            raise SpecificationError(
                f"election: {election!r} is not in the vote history (elections: {ids[-8:]})."
                + did_you_mean(election, ids)
            )
    e_date = dict(elections)[target]
    earlier = [e for e, d in elections if d < e_date]
    if past_elections is None:
        past = earlier
    elif isinstance(past_elections, int):
        past = earlier[-past_elections:] if past_elections > 0 else []
    else:
        unknown = [e for e in past_elections if e not in earlier]
        if unknown:
            raise SpecificationError(
                f"past_elections: {unknown[0]!r} is not an election before {target!r}."
                + did_you_mean(unknown[0], earlier)
            )
        past = [e for e in earlier if e in set(past_elections)]
    cap_note = None
    if len(past) > MAX_PAST_ELECTIONS:
        if past_elections is not None:
            raise SpecificationError(
                f"past_elections: at most {MAX_PAST_ELECTIONS} earlier elections can become "
                f"covariates; {len(past)} requested"
            )
        cap_note = (
            f"only the {MAX_PAST_ELECTIONS} most recent of {len(past)} earlier elections are "
            "past-vote covariates (the others are set aside)"
        )
        past = past[-MAX_PAST_ELECTIONS:]
    return target, e_date, past, cap_note
