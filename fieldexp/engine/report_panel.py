r"""The voter x election DiD panel built in the engine (what the report's DiD section estimates on).

The definitions are those of :func:`fieldexp.diffindiff.voter_panel` (module docstring there),
rendered as Ibis expressions so that no vote-history or contact row leaves the engine:

* elections: the ones kept (up to the target election), period :math:`1..T` in date order;
* units: every voter with a history row in a kept election, plus every voter of the voter
  file;
* :math:`\text{voted}_{it}` = the history value; a (voter, election) without a history row
  is an abstention (0); an election before the voter's ``registration_date`` is missing
  (not eligible), whatever the history says;
* exposure: contact rows with ``attempted > 0`` and a date; household-level rows apply to
  every voter of the household; an attempt counts for the first election held on or after
  its day (:math:`1 + \#\{t: \text{day}_t < \text{day of the attempt}\}`), attempts after the
  last election are set aside; ``cohort`` = the first exposed period (0 = never).

Every count of the panel report (:class:`fieldexp.diffindiff.panels.PanelReport`) is
computed by the engine and pulled as one row (:func:`fieldexp.engine.tables.pull`).
The checks of the DataFrame builder (one history row per voter and election, ``voted`` 0/1,
numeric ``attempted``) run as aggregates and raise the same errors, with counts instead of
row positions (an engine table has no row order).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from fieldexp.diffindiff.panels import PanelReport, warn_set_aside
from fieldexp.engine.table import materialise
from fieldexp.engine.tables import pull
from fieldexp.errors import ColumnNotFoundError, DataError

if TYPE_CHECKING:  # pragma: no cover
    import ibis.expr.types as ir

__all__ = ["EngineVoterPanel", "engine_elections", "engine_voter_panel", "exposure_contacts"]

_FN = "voter_panel (engine)"


@dataclass(frozen=True, slots=True, eq=False)
class EngineVoterPanel:
    """The panel as an Ibis table and its counts.

    ``data`` columns: ``voter_id``, ``period`` (int64, 1..T), ``voted`` (float64, NULL when
    missing), ``cohort`` (int64, 0 = never exposed) and ``_fx_cluster`` (the cluster column,
    when one is asked for). ``elections`` are the election ids in period order.
    """

    data: ir.Table
    elections: tuple[str, ...]
    report: PanelReport


def engine_elections(history: ir.Table) -> pd.DataFrame:
    """``election_id, election_date`` of the vote history (one row per election, date order).

    One pull of one row per election; an election with several dates takes the earliest.
    """
    _need(history, ("voter_id", "election_id", "election_date", "voted"), "vote_history")
    h = history.mutate(_fx_d=_as_timestamp(history["election_date"]))
    el = h.group_by("election_id").aggregate(election_date=h["_fx_d"].min())
    out = pull(el, "elections (one row per election)").to_pandas()
    out["election_id"] = out["election_id"].astype(str)
    out["election_date"] = pd.to_datetime(out["election_date"])
    return out.sort_values(["election_date", "election_id"], kind="stable", ignore_index=True)


def _need(t: ir.Table, cols: Sequence[str], what: str) -> None:
    missing = [c for c in cols if c not in t.columns]
    if missing:
        raise ColumnNotFoundError(
            f"{what} must have columns {', '.join(map(repr, cols))}; missing "
            f"{', '.join(map(repr, missing))} (found {', '.join(map(repr, t.columns[:15]))})."
        )


def _as_timestamp(col: ir.Value) -> ir.Value:
    """A date/timestamp column as a timestamp; text through TRY_CAST (NULL when not a date)."""
    if col.type().is_timestamp():
        return col
    if col.type().is_date():
        return col.cast("timestamp")
    return col.cast("string").try_cast("timestamp")


def _as_number(col: ir.Value) -> ir.Value:
    if col.type().is_numeric():
        return col.cast("float64")
    if col.type().is_boolean():
        return col.cast("int8").cast("float64")
    return col.cast("string").try_cast("float64")


def exposure_contacts(
    exposure: str,
    contacts: ir.Table | None,
    table: ir.Table,
    target_date: pd.Timestamp,
) -> ir.Table:
    """The engine rendering of :func:`fieldexp.report.sections.did.exposure_contacts`.

    ``"attempted"``: the contact log; ``"contacted"``: its rows with ``contacted = 1``;
    otherwise the voters of the analysis ``table`` whose 0/1 column ``exposure`` is 1, as
    voter-level attempts dated the day before the target election.
    """
    import ibis

    if exposure in ("attempted", "contacted") and contacts is not None:
        if exposure == "contacted":
            _need(contacts, ("contacted",), "contacts")
            c = contacts.filter(_as_number(contacts["contacted"]) == 1)
            return c.mutate(attempted=ibis.literal(1, "int64"))
        return contacts
    if exposure not in table.columns:
        from fieldexp.errors import did_you_mean

        raise ColumnNotFoundError(
            f"[did] exposure: column {exposure!r} is not in the analysis table."
            + did_you_mean(exposure, [str(c) for c in table.columns])
        )
    day = (target_date - pd.Timedelta(days=1)).to_pydatetime()
    exposed = table.filter(_as_number(table[exposure]).fill_null(0) == 1)
    return exposed.select(
        unit_id=exposed["voter_id"],
        unit_level=ibis.literal("voter"),
        timestamp=ibis.timestamp(day),
        attempted=ibis.literal(1, "int64"),
        contacted=ibis.literal(1, "int64"),
    )


def engine_voter_panel(
    history: ir.Table,
    contacts: ir.Table,
    *,
    voters: ir.Table | None,
    elections: pd.DataFrame,
    clusters: str | None = None,
) -> EngineVoterPanel:
    """Voter x election panel of ``elections`` (``election_id, election_date`` in period order).

    ``clusters``: a column of ``voters`` (or ``voter_id``) carried as ``_fx_cluster``.
    Raises :class:`DataError` as :func:`fieldexp.diffindiff.voter_panel` does (duplicated
    voter-election rows, ``voted`` not 0/1, non-numeric ``attempted``, household contacts
    without a voters table holding ``household_id``).
    """
    import ibis

    _need(history, ("voter_id", "election_id", "election_date", "voted"), "vote_history")
    _need(contacts, ("unit_id", "attempted", "timestamp"), "contacts")
    vtype = history["voter_id"].type()

    # checks on the whole history (as the DataFrame builder, before keeping elections)
    voted_num = _as_number(history["voted"])
    dup_cells = history.group_by(["voter_id", "election_id"]).aggregate(_fx_n=ibis._.count())
    dups = dup_cells.filter(dup_cells["_fx_n"] > 1)
    checks = pull(
        history.aggregate(
            bad_voted=(~voted_num.isin([0.0, 1.0])).fill_null(True).cast("int64").sum(),
        ).cross_join(dups.aggregate(dup_rows=dups["_fx_n"].sum())),
        "vote history checks",
    ).to_pylist()[0]
    if int(checks["dup_rows"] or 0):
        raise DataError(
            "vote_history must have one row per voter and election; found "
            f"{int(checks['dup_rows']):,} duplicated voter-election rows (in the engine table)."
        )
    if int(checks["bad_voted"] or 0):
        raise DataError(
            "vote_history column 'voted' must be 0/1; found other values in "
            f"{int(checks['bad_voted']):,} rows (in the engine table)."
        )

    ids = [str(x) for x in elections["election_id"]]
    days = [pd.Timestamp(x) for x in elections["election_date"]]
    n_e = len(ids)
    hist = history.filter(history["election_id"].cast("string").isin(ids)).select(
        _fx_vid=history["voter_id"],
        _fx_eid=history["election_id"].cast("string"),
        _fx_voted=voted_num,
    )
    units = hist.select(voter_id=hist["_fx_vid"])
    if voters is not None:
        _need(voters, ("voter_id",), "voters")
        units = units.union(voters.select(voter_id=voters["voter_id"].cast(vtype)))
    units = units.distinct()

    # one row per voter of the voter file: registration date and the cluster column
    per_voter: dict[str, ir.Value] = {}
    has_reg = voters is not None and "registration_date" in voters.columns
    if voters is not None and has_reg:
        per_voter["_fx_reg"] = _as_timestamp(voters["registration_date"]).min()
    cluster_from_voters = clusters is not None and clusters != "voter_id"
    if cluster_from_voters:
        if voters is None or clusters not in voters.columns:
            raise ColumnNotFoundError(f"[did] clusters: column {clusters!r} not found")
        per_voter["_fx_cluster"] = voters[clusters].min()

    # the elections as literals on the history's own ids (no memtable: a Spark cache of
    # the panel could not see one)
    eids = hist.select("_fx_eid").distinct()
    el = eids.mutate(
        period=ibis.cases(*[(eids["_fx_eid"] == e, j + 1) for j, e in enumerate(ids)]).cast(
            "int64"
        ),
        _fx_eday=ibis.cases(
            *[
                (eids["_fx_eid"] == e, ibis.timestamp(d.to_pydatetime()))
                for e, d in zip(ids, days, strict=True)
            ]
        ),
    )
    grid = units.cross_join(el)
    grid = grid.left_join(
        hist, [grid["voter_id"] == hist["_fx_vid"], grid["_fx_eid"] == hist["_fx_eid"]]
    ).select(grid["voter_id"], grid["_fx_eid"], grid["period"], grid["_fx_eday"], "_fx_voted")
    if per_voter:
        assert voters is not None
        vv = voters.group_by(_fx_vid2=voters["voter_id"].cast(vtype)).aggregate(**per_voter)
        grid = grid.left_join(vv, grid["voter_id"] == vv["_fx_vid2"]).drop("_fx_vid2")
    before = (
        (grid["_fx_reg"] > grid["_fx_eday"]).fill_null(False) if has_reg else ibis.literal(False)
    )
    absent = grid["_fx_voted"].isnull() & ~before  # noqa: PD003
    voted = ibis.cases((before, ibis.null("float64")), else_=grid["_fx_voted"].fill_null(0.0))

    # exposure: attempts -> first exposed period per voter
    att_num = _as_number(contacts["attempted"])
    ts = _as_timestamp(contacts["timestamp"]).truncate("D")
    level = (
        contacts["unit_level"].cast("string")
        if "unit_level" in contacts.columns
        else ibis.literal("voter")
    )
    c = contacts.select(
        _fx_uid=contacts["unit_id"],
        _fx_att=att_num,
        _fx_day=ts,
        _fx_hh=(level == "household").fill_null(False),
    )
    ccount = pull(
        c.aggregate(
            n=ibis._.count(),
            bad_att=c["_fx_att"].isnull().cast("int64").sum(),  # noqa: PD003
            n_not=(c["_fx_att"] <= 0).fill_null(False).cast("int64").sum(),
            n_undated=((c["_fx_att"] > 0) & c["_fx_day"].isnull())  # noqa: PD003
            .fill_null(False)
            .cast("int64")
            .sum(),
            n_used=((c["_fx_att"] > 0) & c["_fx_day"].notnull())  # noqa: PD004
            .fill_null(False)
            .cast("int64")
            .sum(),
            n_hh=((c["_fx_att"] > 0) & c["_fx_day"].notnull() & c["_fx_hh"])  # noqa: PD004
            .fill_null(False)
            .cast("int64")
            .sum(),
        ),
        "contact log counts",
    ).to_pylist()[0]
    if int(ccount["bad_att"] or 0):
        raise DataError(
            "contacts column 'attempted' must be 0/1 (or a count); found non-numeric values in "
            f"{int(ccount['bad_att']):,} rows (in the engine table)."
        )
    used = c.filter((c["_fx_att"] > 0) & c["_fx_day"].notnull())  # noqa: PD004
    voter_rows = used.filter(~used["_fx_hh"])
    vatt = voter_rows.select(
        voter_id=voter_rows["_fx_uid"].cast(vtype), _fx_day=voter_rows["_fx_day"]
    )
    pieces = [vatt]
    hh_unmatched: ir.Table | None = None
    if int(ccount["n_hh"] or 0):
        if voters is None or "household_id" not in voters.columns:
            raise DataError(
                f"{int(ccount['n_hh']):,} contacts are logged at household level: pass voters= "
                "with 'voter_id' and 'household_id' to map them to voters."
            )
        hrows = used.filter(used["_fx_hh"])
        hmap = voters.select(
            _fx_hid=voters["household_id"].cast("string"), voter_id=voters["voter_id"].cast(vtype)
        )
        hj = hrows.join(hmap, hrows["_fx_uid"].cast("string") == hmap["_fx_hid"])
        pieces.append(hj.select("voter_id", "_fx_day"))
        known = hmap.select("_fx_hid").distinct()
        hh_unmatched = hrows.aggregate(
            h_unmatched=(~hrows["_fx_uid"].cast("string").isin(known["_fx_hid"]))
            .cast("int64")
            .sum()
        )
    att = pieces[0] if len(pieces) == 1 else pieces[0].union(pieces[1], distinct=False)
    in_panel = att.filter(att["voter_id"].isin(units["voter_id"]))
    period = ibis.cases(
        *[
            (in_panel["_fx_day"] <= ibis.timestamp(d.to_pydatetime()), j + 1)
            for j, d in enumerate(days)
        ],
        else_=ibis.null("int64"),
    )
    placed = in_panel.mutate(_fx_p=period)
    first = (
        placed.filter(placed["_fx_p"].notnull())  # noqa: PD004
        .group_by("voter_id")
        .aggregate(_fx_first=placed["_fx_p"].min())
    )
    first = first.select(_fx_vid3=first["voter_id"], _fx_first=first["_fx_first"])
    counts = placed.aggregate(n_after=placed["_fx_p"].isnull().cast("int64").sum()).cross_join(  # noqa: PD003
        voter_rows.aggregate(
            v_unmatched=(~voter_rows["_fx_uid"].cast(vtype).isin(units["voter_id"]))
            .cast("int64")
            .sum()
        )
    )
    if hh_unmatched is not None:
        counts = counts.cross_join(hh_unmatched)
    acount = pull(counts, "exposure counts").to_pylist()[0]

    grid = grid.left_join(first, grid["voter_id"] == first["_fx_vid3"]).drop("_fx_vid3")
    cols: dict[str, ir.Value] = {
        "voter_id": grid["voter_id"],
        "period": grid["period"].cast("int64"),
        "voted": voted,
        "cohort": grid["_fx_first"].fill_null(0).cast("int64"),
        "_fx_absent": absent.cast("int64"),
        "_fx_before": before.cast("int64"),
    }
    if cluster_from_voters:
        cols["_fx_cluster"] = grid["_fx_cluster"]
    elif clusters == "voter_id":
        cols["_fx_cluster"] = grid["voter_id"]
    # stored once (DuckDB temp table, Spark cache): the counts and every pass of the
    # event study read it instead of recomputing the joins behind it
    panel = materialise(grid.select(**cols), f"_fx_did_panel_{uuid.uuid4().hex[:12]}")
    pcount = pull(
        panel.aggregate(
            n_rows=ibis._.count(),
            n_filled=panel["_fx_absent"].sum(),
            n_before=panel["_fx_before"].sum(),
            n_treated=(panel["cohort"] > 0).cast("int64").sum(),
        ),
        "panel counts",
    ).to_pylist()[0]
    n_rows = int(pcount["n_rows"])
    n_v = n_rows // n_e
    n_not, n_undated = int(ccount["n_not"] or 0), int(ccount["n_undated"] or 0)
    n_unmatched = int(acount["v_unmatched"] or 0) + int(acount.get("h_unmatched") or 0)
    n_after = int(acount["n_after"] or 0)
    warn_set_aside(n_not, n_unmatched, n_undated, n_after, stacklevel=3)
    report = PanelReport(
        n_units=n_v,
        n_elections=n_e,
        n_rows=n_rows,
        n_treated_units=int(pcount["n_treated"] or 0) // n_e,
        n_contacts=int(ccount["n"]),
        n_contacts_used=int(ccount["n_used"] or 0) - n_unmatched - n_after,
        n_contacts_not_attempted=n_not,
        n_contacts_unmatched=n_unmatched,
        n_contacts_undated=n_undated,
        n_contacts_after_last_election=n_after,
        n_rows_filled_not_voted=int(pcount["n_filled"] or 0),
        n_rows_before_registration=int(pcount["n_before"] or 0),
    )
    return EngineVoterPanel(panel.drop("_fx_absent", "_fx_before"), tuple(ids), report)
