"""The analysis table built inside the engine: Ibis tables in, an Ibis table and the reconciliation out.

:func:`build_analysis_table` is the engine rendering of
:func:`fieldexp.analysis.build_analysis_table` (same rules, stage by stage, see
:mod:`fieldexp.analysis.stages`): the voters, assignment, contacts and vote history are
Ibis tables on one backend (DuckDB, Spark, a warehouse; Polars/Arrow through
:func:`ibis.memtable`), the joins and every reconciliation count run in the engine, and
only aggregates are pulled (each through :func:`fieldexp.engine.tables.pull`): the list of
elections, the arms, and one row of counts per stage and reason. The analysis table itself
stays in the engine as an :class:`ibis.Table`; ``fx.itt``/``fx.cace`` accept it as it is.

Differences from the DataFrame build, all because a warehouse table has no row order and
no ``attrs``:

* ``first_rows`` of the reconciliation entries are empty (there are no row labels to
  show; voter ids are never pulled);
* an ids hash recorded by ``Design.assign`` cannot travel with an engine table, so it is
  not verified (pass the design's control arm as ``control=`` when it is not ``0`` or
  ``control``);
* the table has no row order (sort by ``voter_id`` when one is needed).

The past-vote bits of the DataFrame build (``pmask``/``vmask``, one 64-bit mask per voter)
become one 0/1 column pair per used election here: ``_p{i}`` (a history row for election
``i``) and ``_v{i}`` (a counted ballot in election ``i``), with ``i = 0`` the target and
``1..k`` the past-vote covariates, so every dialect can run them (no bit aggregates).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from fieldexp.analysis.bands import INTERMITTENT, NEVER, REGULAR
from fieldexp.analysis.reconciliation import (
    OUTCOME_MISSING,
    FlowRow,
    Reconciliation,
    ReconciliationEntry,
)
from fieldexp.analysis.stages.assignment import control_label
from fieldexp.analysis.stages.contacts import parse_window
from fieldexp.analysis.stages.inputs import CORE_VOTER_COLUMNS
from fieldexp.analysis.stages.join import REMOVED, covariate_names
from fieldexp.engine.table_parts import (
    Entries,
    choose_elections,
    contacts_stage,
    count_where,
    one_row,
    require,
    to_int,
)
from fieldexp.engine.tables import as_ibis, is_engine_table, pull
from fieldexp.errors import (
    ColumnNotFoundError,
    ReconciliationError,
    SpecificationError,
    did_you_mean,
)
from fieldexp.io.personal import looks_personal
from fieldexp.io.schema import PII_COLUMNS

if TYPE_CHECKING:  # pragma: no cover
    import ibis.expr.types as ir

__all__ = ["EngineTableInfo", "build_analysis_table", "build_engine_table", "materialise"]

# the voter-file reasons, shared with the DataFrame build (fieldexp.analysis.stages.*)
_SPLIT = "used; household split across precincts"
#: how a Spark stage is stored: ``cache`` (columnar, filled by its first reader) or
#: ``checkpoint`` (``localCheckpoint``: computed at once, lineage cut)
SPARK_STORE = "cache"
#: the FlowRow counts, in its field order
_FLOW = ("assigned", "attempted", "contacted", "observed")


@dataclass(frozen=True, slots=True)
class EngineTableInfo:
    """What ``table.attrs`` carries on the DataFrame build (an Ibis table has no attrs)."""

    election: str
    control: str | None
    unit_level: str
    past_elections: tuple[str, ...]


# --------------------------------------------------------------------------- dispatch
def build_analysis_table(
    voters: Any,
    assignment: Any,
    contacts: Any,
    vote_history: Any,
    *,
    election: str,
    campaign_window: tuple[Any, Any] | None = None,
    control: Any = None,
    control_contacts: str = "keep",
    past_elections: int | Sequence[str] | None = None,
    verify_ids_hash: bool = True,
    memory_limit: str | None = None,
    threads: int | None = None,
    progress: bool | None = None,
    unit: str | None = None,
    blocks: str | None = None,
    clusters: str | None = None,
) -> tuple[Any, Reconciliation]:
    """:func:`fieldexp.analysis.build_analysis_table`, or its engine rendering for engine tables.

    When every input is an engine table (:class:`ibis.Table`, Polars, PyArrow) the build
    runs in the engine (:func:`build_engine_table`, which takes ``unit``, ``blocks`` and
    ``clusters``; ``verify_ids_hash``, ``memory_limit``, ``threads`` and ``progress`` do not
    apply there) and returns an :class:`ibis.Table`; otherwise the DataFrame/Parquet/CSV
    build (every other parameter documented there) returns a DataFrame. Mixing both kinds
    is refused (load the DataFrames into the engine first, e.g. ``con.create_table``).
    """
    common: dict[str, Any] = {
        "election": election,
        "campaign_window": campaign_window,
        "control": control,
        "control_contacts": control_contacts,
        "past_elections": past_elections,
    }
    inputs = [x for x in (voters, assignment, contacts, vote_history) if x is not None]
    engine = [is_engine_table(x) for x in inputs]
    if any(engine):
        if not all(engine):
            raise SpecificationError(
                "build_analysis_table: either every input is an engine table (ibis Table, "
                "Polars, PyArrow) or none is; got a mix. Load the DataFrames/files into the "
                "same engine (e.g. con.create_table or con.read_parquet) and pass Ibis tables."
            )
        table, rec, _ = build_engine_table(
            voters, assignment, contacts, vote_history,
            unit=unit, blocks=blocks, clusters=clusters, **common,
        )  # fmt: skip
        return table, rec
    if (unit, blocks, clusters) != (None, None, None):
        raise SpecificationError(
            "build_analysis_table: unit, blocks and clusters are for engine tables; a "
            "DataFrame assignment carries them in the attrs Design.assign records"
        )
    from fieldexp.analysis.table import build_analysis_table as build_frame

    return build_frame(
        voters, assignment, contacts, vote_history, verify_ids_hash=verify_ids_hash,
        memory_limit=memory_limit, threads=threads, progress=progress, **common,
    )  # fmt: skip


def materialise(expr: ir.Table, name: str) -> ir.Table:
    """``expr`` computed once into a temporary table of its backend (DuckDB, Spark), else as is.

    Later stages read the stored table instead of recomputing the joins behind it.
    """
    import ibis

    try:
        backend = ibis.get_backend(expr)
    except Exception:
        return expr
    kind = getattr(backend, "name", "")
    if kind == "duckdb":
        hooks = getattr(backend, "_run_pre_execute_hooks", None)
        if hooks is None:  # a later ibis without it: memtables would be unregistered
            return expr
        hooks(expr)  # registers memtables (Polars/Arrow inputs) the raw SQL reads
        sql = ibis.to_sql(expr, dialect="duckdb")
        backend.con.execute(f'CREATE OR REPLACE TEMP TABLE "{name}" AS {sql}')
        stored = backend.table(name)
        schema = expr.schema()
        return stored if stored.schema() == schema else stored.cast(schema)
    if kind == "pyspark" and SPARK_STORE == "checkpoint":
        # computed now (one job) and its lineage cut: later plans read the stored rows
        # instead of carrying (and re-planning) every stage behind them
        backend._run_pre_execute_hooks(expr)
        frame = backend._session.sql(backend.compile(expr)).localCheckpoint(eager=True)
        frame.createOrReplaceTempView(name)
        stored = backend.table(name)
        schema = expr.schema()
        return stored if stored.schema() == schema else stored.cast(schema)
    if kind == "pyspark":
        return expr.cache()
    return expr


# --------------------------------------------------------------------------- build
def build_engine_table(
    voters: Any,
    assignment: Any,
    contacts: Any,
    vote_history: Any,
    *,
    election: str,
    campaign_window: tuple[Any, Any] | None = None,
    control: Any = None,
    control_contacts: str = "keep",
    past_elections: int | Sequence[str] | None = None,
    unit: str | None = None,
    blocks: str | None = None,
    clusters: str | None = None,
    materialize: bool = True,
) -> tuple[ir.Table, Reconciliation, EngineTableInfo]:
    """Join Ibis voters, assignment, contacts and vote history into the analysis table.

    Same rules and reasons as :func:`fieldexp.analysis.build_analysis_table` (see its
    docstring and :mod:`fieldexp.analysis.stages`); the outcome is

    .. math:: \\text{voted}_i = \\begin{cases} h_{i,e} & \\text{a history row for } (i, e) \\\\
              0 & i \\text{ in the voter file and not removed} \\\\
              \\text{missing} & \\text{otherwise} \\end{cases}

    with :math:`h_{i,e} = \\max` of the counted ballots of voter :math:`i` in election
    :math:`e`, and ``past_votes`` :math:`= \\sum_{e \\in \\text{past}} \\text{voted}_{i,e}`.

    Parameters
    ----------
    voters, assignment, contacts, vote_history
        Ibis tables on one backend (or Polars/PyArrow tables, run by DuckDB); ``contacts``
        may be None. Columns as for the DataFrame build.
    election, campaign_window, control, control_contacts, past_elections
        As for :func:`fieldexp.analysis.build_analysis_table`.
    unit, blocks, clusters
        What ``Design.assign`` records in the assignment's ``attrs`` (which an engine table
        cannot carry): the unit column when it is not ``unit_id``/``voter_id``/
        ``household_id`` (``household_id`` means a household-level assignment), and the
        assignment columns holding blocks and clusters (default ``block``/``cluster``).
    materialize
        Store each stage's result in a temporary table of the backend (DuckDB temp
        tables ``_fx_<stage>_<token>``, kept until the connection closes; Spark cache) so
        later stages do not recompute it.

    Returns
    -------
    table : ibis.Table
        The analysis table (same columns as the DataFrame build; no row order).
    reconciliation : Reconciliation
        The same counts as the DataFrame build, computed by the engine (``first_rows`` empty).
    info : EngineTableInfo
        Election, control arm, unit level and past elections (the DataFrame's ``attrs``).
    """
    import ibis

    if control_contacts not in ("keep", "drop"):
        raise SpecificationError(
            f"control_contacts must be 'keep' or 'drop', got {control_contacts!r}"
        )
    if not isinstance(election, str) or not election:
        raise SpecificationError(f"election must be an election id or date (str); got {election!r}")
    fn = "build_analysis_table"
    v_raw = as_ibis(voters, function=fn)
    a_raw = as_ibis(assignment, function=fn)
    h_raw = as_ibis(vote_history, function=fn)
    c_raw = None if contacts is None else as_ibis(contacts, function=fn)
    token = uuid.uuid4().hex[:12]  # stored stages of concurrent builds never collide

    def keep(expr: ir.Table, name: str) -> ir.Table:
        return materialise(expr, f"{name}_{token}") if materialize else expr

    require("voters", v_raw, ["voter_id", "household_id"])
    require("vote_history", h_raw, ["voter_id", "election_id", "election_date", "voted"])
    if c_raw is not None:
        require("contacts", c_raw, ["unit_id", "attempted", "contacted"])

    entries = Entries()

    # ---- stage 1: normalised inputs (AR, VR) ------------------------------------
    a_cols = list(a_raw.columns)
    v_cols = list(v_raw.columns)
    unit_col = unit if unit in a_cols else None
    if unit is not None and unit_col is None:
        raise ColumnNotFoundError(
            f"assignment: unit column {unit!r} not found (columns: {a_cols[:12]})."
            + did_you_mean(unit, a_cols)
        )
    if unit_col is None:
        unit_col = next((c for c in ("unit_id", "voter_id", "household_id") if c in a_cols), None)
    if unit_col is None:
        raise ColumnNotFoundError(
            "assignment: needs a unit id column (voter_id, household_id or unit_id, or unit=); "
            f"columns: {a_cols[:12]}"
        )
    if "arm" in a_cols:
        arm = a_raw["arm"].cast("string")
    elif "assigned" in a_cols:
        arm = a_raw["assigned"].cast("int64").cast("string")
    else:
        raise ColumnNotFoundError(
            f"assignment: needs an 'arm' or 'assigned' column; columns: {a_cols[:12]}"
            + did_you_mean("arm", a_cols)
        )
    level = "household" if unit_col == "household_id" or unit == "household_id" else "voter"
    if unit_col == "unit_id":
        sample = a_raw.select(u=a_raw["unit_id"].cast("string")).limit(1000)
        found = sample.aggregate(
            nv=count_where(sample.u.isin(v_raw["voter_id"].cast("string"))),
            nh=count_where(sample.u.isin(v_raw["household_id"].cast("string"))),
        )
        lv = one_row(found, "assignment level")
        nv, nh = to_int(lv.get("nv")), to_int(lv.get("nh"))
        if not nv and nh:
            level = "household"

    def col_or(name: str | None, fallback: str, kind: str = "string") -> ir.Value:
        if name is not None and name in a_cols:
            return a_raw[name].cast(kind)
        if fallback in a_cols:
            return a_raw[fallback].cast(kind)
        return ibis.null(kind)

    ar = a_raw.select(
        unit_id=a_raw[unit_col].cast("string"),
        arm=arm,
        probability=col_or(None, "probability", "float64"),
        block=col_or(blocks, "block"),
        cluster=col_or(clusters, "cluster"),
        excluded_reason=col_or(None, "excluded_reason"),
    )
    covariates = [
        c
        for c in v_cols
        if c not in CORE_VOTER_COLUMNS
        and c not in PII_COLUMNS
        and not looks_personal(c)
        and not c.startswith("_")
    ]
    vr = v_raw.select(
        voter_id=v_raw["voter_id"].cast("string"),
        household_id=v_raw["household_id"].cast("string"),
        precinct_id=(
            v_raw["precinct_id"].cast("string") if "precinct_id" in v_cols else ibis.null("string")
        ),
        registration_status=(
            v_raw["registration_status"].cast("string").lower()
            if "registration_status" in v_cols
            else ibis.null("string")
        ),
        **{c: v_raw[c] for c in covariates},
    )
    cov_types = {c: vr.schema()[c] for c in covariates}

    # ---- stage 2: one row per voter id (U), merged with a voter-level assignment ----
    voter_part = vr.select(
        id=vr.voter_id,
        src=ibis.literal(0, "int8"),
        household_id=vr.household_id,
        precinct_id=vr.precinct_id,
        registration_status=vr.registration_status,
        **{c: vr[c] for c in covariates},
        arm=ibis.null("string"),
        probability=ibis.null("float64"),
        block=ibis.null("string"),
        cluster=ibis.null("string"),
        excluded_reason=ibis.null("string"),
    )
    parts = voter_part
    if level == "voter":
        assign_part = ar.select(
            id=ar.unit_id,
            src=ibis.literal(1, "int8"),
            household_id=ibis.null("string"),
            precinct_id=ibis.null("string"),
            registration_status=ibis.null("string"),
            **{c: ibis.null(cov_types[c]) for c in covariates},
            arm=ar.arm,
            probability=ar.probability,
            block=ar.block,
            cluster=ar.cluster,
            excluded_reason=ar.excluded_reason,
        )
        parts = voter_part.union(assign_part, distinct=False)
    is_v, is_a = parts.src == 0, parts.src == 1
    u = parts.group_by("id").aggregate(
        nv=count_where(is_v),
        na=count_where(is_a),
        hh_conflict=parts.household_id.min() != parts.household_id.max(),
        household_id=parts.household_id.min(),
        precinct_id=parts.precinct_id.min(),
        registration_status=parts.registration_status.min(),
        **{c: parts[c].min() for c in covariates},
        arm_conflict=(parts.arm.min() != parts.arm.max())
        | ((parts.arm.count() > 0) & (parts.arm.count() < count_where(is_a))),
        arm=parts.arm.min(),
        probability=parts.probability.min(),
        block=parts.block.min(),
        cluster=parts.cluster.min(),
        excluded_reason=parts.excluded_reason.min(),
    )
    u = keep(u, "_fx_U")
    vagg = u.filter(u.nv > 0).rename(voter_id="id")
    vc = one_row(
        vagg.aggregate(
            n=vagg.nv.sum(),
            conflict=count_where(vagg.hh_conflict.fill_null(False)),
            dup=(vagg.nv - 1).sum(),
            missing=ibis.ifelse(vagg.voter_id.isnull(), vagg.nv, 0).sum(),  # noqa: PD003
        ),
        "voters: counts",
    )
    n_voters, n_vdup = to_int(vc.get("n")), to_int(vc.get("dup"))
    if to_int(vc.get("missing")):
        raise ReconciliationError(
            f"voters: voter_id must not be missing; missing in {to_int(vc.get('missing'))} row(s) "
            "(engine tables have no row labels to show)"
        )
    if to_int(vc.get("conflict")):
        raise ReconciliationError(
            f"voters: the same voter id must belong to one household; {to_int(vc.get('conflict'))} "
            "voter id(s) appear with different household_id values. Fix the voter file: "
            "fieldexp cannot tell which household is right."
        )

    # ---- stage 3: the assignment checked and joined (AAGG, VA, HH) -----------------
    if level == "voter":
        aagg = u.filter(u.na > 0).rename(unit_id="id")
    else:
        aagg = ar.group_by("unit_id").aggregate(
            na=ar.count(),
            arm_conflict=(ar.arm.min() != ar.arm.max())
            | ((ar.arm.count() > 0) & (ar.arm.count() < ar.count())),
            arm=ar.arm.min(),
            probability=ar.probability.min(),
            block=ar.block.min(),
            cluster=ar.cluster.min(),
            excluded_reason=ar.excluded_reason.min(),
        )
        aagg = keep(aagg, "_fx_AAGG")
    # one pass: the counts and the arms, per arm (NULL = excluded units)
    by_arm = pull(
        aagg.group_by("arm").aggregate(
            n=aagg.na.sum(),
            conflict=count_where(aagg.arm_conflict.fill_null(False)),
            dup=(aagg.na - 1).sum(),
            missing=ibis.ifelse(aagg.unit_id.isnull(), aagg.na, 0).sum(),  # noqa: PD003
        ),
        "assignment: counts and arms",
    ).to_pylist()
    ac = {key: sum(to_int(r[key]) for r in by_arm) for key in ("n", "conflict", "dup", "missing")}
    n_assign, n_adup = ac["n"], ac["dup"]
    if ac["missing"]:
        raise ReconciliationError(
            f"assignment: the unit id must not be missing; missing in {ac['missing']} row(s)"
        )
    if ac["conflict"]:
        raise ReconciliationError(
            f"assignment: each unit must be assigned to one arm; {ac['conflict']} unit "
            "id(s) appear in different arms (or both assigned and excluded)"
        )
    arms = sorted(str(r["arm"]) for r in by_arm if r["arm"] is not None)
    label = control_label(control, {}, arms)

    def assigned_of(a: ir.StringValue) -> ir.Value:
        if label is None:
            return ibis.null("int8")
        return ibis.cases((a.isnull(), ibis.null("int8")), (a == label, 0), else_=1).cast("int8")  # noqa: PD003

    if level == "voter":
        va = u.select(
            voter_id=u.id,
            household_id=u.household_id,
            precinct_id=u.precinct_id,
            registration_status=u.registration_status,
            **{c: u[c] for c in covariates},
            in_voters=u.nv > 0,
            status=ibis.cases(
                (u.na == 0, "unassigned"),
                (u.arm.isnull(), "excluded"),  # noqa: PD003
                else_="assigned",
            ),
            arm=u.arm,
            assigned=assigned_of(u.arm),
            probability=u.probability,
            block=u.block,
            cluster=u.cluster,
        )
    else:
        vsel = vagg.select(
            "voter_id", "household_id", "precinct_id", "registration_status", *covariates
        )
        j = vsel.left_join(aagg, vsel.household_id == aagg.unit_id)
        va = j.select(
            voter_id=j.voter_id,
            household_id=j.household_id,
            precinct_id=j.precinct_id,
            registration_status=j.registration_status,
            **{c: j[c] for c in covariates},
            in_voters=ibis.literal(True),
            status=ibis.cases(
                (j.unit_id.isnull(), "unassigned"),  # noqa: PD003
                (j.arm.isnull(), "excluded"),  # noqa: PD003
                else_="assigned",
            ),
            arm=j.arm,
            assigned=assigned_of(j.arm),
            probability=j.probability,
            block=j.block,
            cluster=j.cluster.coalesce(j.unit_id),
        )
    va = keep(va, "_fx_VA")
    in_v = va.filter(va.in_voters)
    is_assigned = in_v.status == "assigned"
    hh = in_v.group_by("household_id").aggregate(
        split=in_v.precinct_id.min() != in_v.precinct_id.max(),
        any_treated=ibis.ifelse(is_assigned, in_v.assigned, ibis.null("int8")).max(),
        n_assigned=count_where(is_assigned),
    )
    hh = keep(hh, "_fx_HH")
    if n_vdup:
        entries.add("voters", "duplicate voter id (same household; first row kept)", n_vdup)
    n_split = to_int(
        one_row(
            hh.aggregate(n=ibis.ifelse(hh.split.fill_null(False), hh.n_assigned, 0).sum()),
            "households split across precincts",
        ).get("n")
    )
    by_status = pull(
        in_v.group_by("status").aggregate(n=in_v.count()).order_by("status"), "voters by status"
    ).to_pylist()
    for r in by_status:
        if r["status"] == "assigned":
            entries.add("voters", "used", to_int(r["n"]) - n_split)
            entries.add("voters", _SPLIT, n_split)
        elif r["status"] == "excluded":
            entries.add("voters", "excluded by the design", r["n"])
        else:
            entries.add("voters", "not in the assignment (outside the experiment)", r["n"])
    if n_adup:
        entries.add("assignment", "duplicate unit row (same arm; first row kept)", n_adup)
    key = vagg.select(k=vagg.voter_id if level == "voter" else vagg.household_id).distinct()
    aj = aagg.left_join(key, aagg.unit_id == key.k)
    not_found = (
        "used; unit not in the voter file (outcome missing)"
        if level == "voter"
        else "household not in the voter file (no voters to analyse)"
    )
    excluded = ibis.literal("excluded by the design").concat(
        (ibis.literal(": ").concat(aj.excluded_reason)).fill_null("")
    )
    reason = ibis.cases((aj.arm.isnull(), excluded), (aj.k.isnull(), not_found), else_="used")  # noqa: PD003
    aj = aj.select(reason=reason, na=aj.na)
    for r in pull(
        aj.group_by("reason").aggregate(n=aj.count()).order_by("reason"), "assignment by reason"
    ).to_pylist():
        entries.add("assignment", r["reason"], r["n"])

    # ---- stage 4: elections and the vote history folded per voter (PV) -------------
    hist = h_raw.select(
        voter_id=h_raw["voter_id"].cast("string"),
        election_id=h_raw["election_id"].cast("string"),
        election_date=h_raw["election_date"].cast("date"),
        voted=h_raw["voted"].cast("int8"),
    )
    e_rows = pull(
        hist.group_by("election_id").aggregate(election_date=hist.election_date.min()),
        "elections",
    ).to_pylist()
    elections = sorted(
        ((str(r["election_id"]), pd.Timestamp(r["election_date"])) for r in e_rows),
        key=lambda e: (e[1], e[0]),
    )
    target, e_date, past, cap_note = choose_elections(elections, election, past_elections)
    k = len(past)
    codes = {target: 0, **{e: i + 1 for i, e in enumerate(past)}}
    for e, d in elections:
        if e not in codes:
            codes[e] = 62 if d > e_date else 63
    ex = hist.election_id.cases(*codes.items(), else_=63).cast("int16")
    hist = hist.mutate(ex=ex)
    pv_aggs: dict[str, Any] = {
        "n_all": hist.count(),
        "n_rel": count_where(hist.ex <= k),
        "n_later": count_where(hist.ex == 62),
    }
    for i in range(k + 1):
        pv_aggs[f"_p{i}"] = ibis.ifelse(hist.ex == i, 1, 0).max().cast("int8")
        pv_aggs[f"_v{i}"] = ibis.ifelse((hist.ex == i) & (hist.voted == 1), 1, 0).max().cast("int8")
    pv = keep(hist.group_by("voter_id").aggregate(**pv_aggs), "_fx_PV")
    st = va.filter(va.voter_id.notnull()).select(sid=va.voter_id, status=va.status)  # noqa: PD004
    pj = pv.left_join(st, pv.voter_id == st.sid)
    present_rel = sum((pj[f"_p{i}"].cast("int64") for i in range(k + 1)), ibis.literal(0, "int64"))
    present_past = sum(
        (pj[f"_p{i}"].cast("int64") for i in range(1, k + 1)), ibis.literal(0, "int64")
    )
    pj = pj.select(
        status=pj.status.fill_null("missing"),
        n_all=pj.n_all,
        n_later=pj.n_later,
        n_other=pj.n_all - pj.n_rel - pj.n_later,
        u0=pj._p0.cast("int64"),
        up=present_past,
        dups=pj.n_rel - present_rel,
    )
    hist_rows = pull(
        pj.group_by("status").aggregate(
            n_all=pj.n_all.sum(),
            n_later=pj.n_later.sum(),
            n_other=pj.n_other.sum(),
            u0=pj.u0.sum(),
            up=pj.up.sum(),
            dups=pj.dups.sum(),
        ),
        "vote history by voter status",
    ).to_pylist()
    n_hist = later_n = other_n = used0 = usedp = dup_n = 0
    for r in sorted(
        hist_rows,
        key=lambda r: (
            ["missing", "unassigned", "excluded"].index(r["status"])
            if r["status"] in ("missing", "unassigned", "excluded")
            else 3
        ),
    ):
        n_hist += to_int(r["n_all"])
        if r["status"] == "missing":
            entries.add("vote_history", "voter id not in the voter file", r["n_all"])
        elif r["status"] == "unassigned":
            entries.add("vote_history", "voter not in the experiment (not assigned)", r["n_all"])
        elif r["status"] == "excluded":
            entries.add("vote_history", "voter excluded by the design", r["n_all"])
        else:
            later_n += to_int(r["n_later"])
            other_n += to_int(r["n_other"])
            used0 += to_int(r["u0"])
            usedp += to_int(r["up"])
            dup_n += to_int(r["dups"])
    entries.add("vote_history", "election after the target election", later_n)
    entries.add(
        "vote_history",
        "earlier election not used as a covariate, or another election on the target day",
        other_n,
    )
    entries.add("vote_history", "duplicate voter-election row (a counted ballot kept)", dup_n)
    entries.add("vote_history", "used; outcome (target election)", used0)
    entries.add("vote_history", "used; past-vote covariate", usedp)

    # ---- stage 5: contacts classified (CR) and summed per voter (CV) ---------------
    start, end_excl, start_label, end_label = parse_window(campaign_window, e_date)
    n_contacts = 0
    cv = None
    if c_raw is not None:
        cv, n_contacts = contacts_stage(
            c_raw,
            va,
            hh,
            campaign_window=campaign_window,
            start=start,
            end_excl=end_excl,
            control_contacts=control_contacts,
            keep=keep,
            entries=entries,
        )

    # ---- stage 6: the analysis table -------------------------------------------------
    t = va.filter((va.status == "assigned") & va.voter_id.notnull())  # noqa: PD004
    if cv is not None:
        t = t.left_join(cv, t.voter_id == cv.c_voter_id)
    pvr = pv.rename(p_voter_id="voter_id")
    t = t.left_join(pvr, t.voter_id == pvr.p_voter_id)
    status_ok = t.in_voters & (t.registration_status.fill_null("") != REMOVED)

    def present(i: int) -> ir.BooleanValue:
        return t[f"_p{i}"].fill_null(0) == 1

    past_names = covariate_names(past, covariates)
    no_row = ~t.in_voters & t.p_voter_id.isnull()  # noqa: PD003
    past_sum = sum((t[f"_v{i}"].cast("int64") for i in range(1, k + 1)), ibis.literal(0, "int64"))
    past_sum = past_sum.fill_null(0)
    past_votes = ibis.ifelse(no_row, ibis.null("int16"), past_sum.cast("int16"))
    if k <= 0:
        band = ibis.null("string")
    else:
        band = ibis.cases(
            (past_votes.isnull(), ibis.null("string")),  # noqa: PD003
            (past_votes == 0, NEVER),
            (2 * past_votes < k, INTERMITTENT),
            else_=REGULAR,
        )
    if cv is not None:
        attempted = t.c_attempted.fill_null(0).cast("int8")
        contacted = t.c_contacted.fill_null(0).cast("int8")
        n_attempts = t.c_n.fill_null(0).cast("int32")
    else:
        attempted = contacted = ibis.literal(0, "int8")
        n_attempts = ibis.literal(0, "int32")
    cols: dict[str, Any] = {
        "voter_id": t.voter_id,
        "household_id": t.household_id,
        "precinct_id": t.precinct_id,
        "arm": t.arm,
        "assigned": t.assigned,
        "probability": t.probability,
        "block": t.block,
        "cluster": t.cluster,
        "attempted": attempted,
        "contacted": contacted,
        "n_attempts": n_attempts,
        "voted": ibis.cases(
            (present(0), t._v0), (status_ok, ibis.literal(0, "int8")), else_=ibis.null("int8")
        ).cast("int8"),
        "outcome_status": ibis.cases(
            (present(0), "history"),
            (status_ok, "no_history_row"),
            (~t.in_voters, "not_in_voter_file"),
            else_="removed",
        ),
        "registered": ibis.ifelse(status_ok, 1, 0).cast("int8"),
        "registration_status": t.registration_status,
        **{c: t[c] for c in covariates},
    }
    for i, name in enumerate(past_names):
        cols[name] = ibis.cases(
            (present(i + 1), t[f"_v{i + 1}"]),
            (t.in_voters, ibis.literal(0, "int8")),
            else_=ibis.null("int8"),
        ).cast("int8")
    cols["past_votes"] = past_votes
    cols["past_elections"] = ibis.literal(k, "int16")
    cols["propensity_band"] = band
    table = keep(t.select(**cols), "_fx_analysis")

    # ---- the reconciliation closed: flow and missing outcomes from the engine ---------
    # one pass: per arm and outcome status the voters, contacts, outcomes and missing ones
    cells = pull(
        table.group_by(["arm", "outcome_status"]).aggregate(
            assigned=table.count(),
            attempted=table.attempted.cast("int64").sum(),
            contacted=table.contacted.cast("int64").sum(),
            observed=table.voted.count(),
            missing=count_where(table.voted.isnull()),  # noqa: PD003
        ),
        "sample flow and missing outcomes",
    ).to_pylist()
    flow: dict[str, dict[str, int]] = {}
    for c in cells:
        row = flow.setdefault(str(c["arm"]), dict.fromkeys(_FLOW, 0))
        for key in _FLOW:
            row[key] += to_int(c[key])
    missing_rows = [c for c in cells if to_int(c["missing"])]
    items = list(entries.items)
    for m in sorted(missing_rows, key=lambda r: (str(r["arm"]), str(r["outcome_status"]))):
        items.append(
            ReconciliationEntry(
                "analysis",
                OUTCOME_MISSING,
                str(m["outcome_status"]),
                to_int(m["missing"]),
                (),
                str(m["arm"]),
            )
        )
    notes = [cap_note] if cap_note else []
    if n_split:
        notes.append(f"{n_split} analysed voters live in households split across precincts")
    if label is None:
        notes.append(
            f"no control arm identified among {arms}; 'assigned' is missing (pass control=)"
        )
    rows_read = [("voters", n_voters), ("assignment", n_assign)]
    if c_raw is not None:
        rows_read.append(("contacts", n_contacts))
    rows_read.append(("vote_history", n_hist))
    rec = Reconciliation(
        rows_read=tuple(rows_read),
        entries=tuple(items),
        flow=tuple(FlowRow(arm, *(flow[arm][key] for key in _FLOW)) for arm in sorted(flow)),
        imports=(),
        election=target,
        campaign_window=(start_label, end_label),
        notes=tuple(notes),
    )
    rec.check()
    info = EngineTableInfo(target, label, level, tuple(past))
    return table, rec, info
