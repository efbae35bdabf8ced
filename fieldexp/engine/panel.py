r"""``fx.did`` (two-way fixed effects) on engine tables: double demeaning, or an exact T x T solve.

On a **balanced** panel (every unit observed exactly once in every period, after listwise
deletion) the unit and period effects of
:math:`Y_{it} = \alpha_i + \lambda_t + \tau D_{it} + X_{it}'\beta + \varepsilon_{it}`
are absorbed exactly by

.. math::

    \tilde v_{it} = v_{it} - \bar v_{i\cdot} - \bar v_{\cdot t} + \bar v_{\cdot\cdot}

for every column :math:`v = (y, d, x_1, \dots, x_p)`. Passes of GROUP BY (only aggregates
leave the engine, :func:`fieldexp.engine.tables.pull`):

1. **checks** (one row): rows, complete rows, missing values by column, non-binary
   treatment; then the unit x period cells (one row: units *U*, periods *T*, cells, the
   largest cell), and for ordered periods the absorbing-treatment check (one row);
2. unit means (``GROUP BY unit``), period means (``GROUP BY time``) and grand means are
   joined back **in the engine**; the **cross-products** :math:`C=\sum\tilde v\tilde v^\top`
   are pulled (one row); :math:`\hat\beta = C_{XX}^{-1}C_{Xy}`;
3. **scores** with :math:`\hat\beta` as literals and :math:`e = \tilde y - \tilde x'\hat\beta`:
   HC0/HC1 :math:`\sum e^2\tilde x\tilde x^\top`; HC2/HC3 the same divided by
   :math:`(1-h)` or :math:`(1-h)^2`, with the two-way leverage of a balanced panel
   :math:`h_{it} = 1/U + 1/T - 1/(UT) + \tilde x_{it}'C_{XX}^{-1}\tilde x_{it}`;
   CR0/``stata`` :math:`\sum_g u_g u_g^\top`, :math:`u_g=\sum_{i\in g} e\,\tilde x`, summed
   in the engine (one row).

:math:`\hat V = C_{XX}^{-1}(\text{meat})C_{XX}^{-1}` with rank :math:`r = k + U + T - 1`:
HC1 :math:`\times n/(n-r)`, CR1 :math:`\times\frac{G(n-1)}{(G-1)(n-K)}` (*K* = *r*, or with
``small_sample="fixest"`` the fixed effects nested in the clusters left out,
:func:`fieldexp.stats.covariance.fixest_fe_count`), df :math:`n-r` or :math:`G-1`: the
numbers of :func:`fieldexp.diffindiff.did` on the same rows.

**Unbalanced panels** (:func:`unbalanced_within`): the units are absorbed (unit means
joined back) and the period effects solved *exactly* from the :math:`T\times T` system
:math:`A\lambda = b` with :math:`A = D'M_UD` built from the units' observation patterns (sets
of observed periods, one int64 bit mask per unit, pulled grouped: *P* rows) and
:math:`b = D'M_Uv` (*T* rows); the per-(pattern, period) corrections go back to the engine
as a small table. No iteration and no convergence tolerance: the residuals are those
:func:`fieldexp.did` reaches on a DataFrame by alternating projections (tested at 1e-9, seen
at ~1e-15), including singleton units (their rows are fitted exactly: leverage one) and
disconnected periods. HC2/HC3 use the two-way leverage
:math:`h^{FE}_{it} = 1/n_i + d_{it}'A^{-}d_{it}` (:math:`d_{it} = e_t - o_i/n_i`), refused
with leverage-one rows (as on a DataFrame) or disconnected periods. Refused, with the memory
a DataFrame fit would need: more than :data:`MAX_UNBALANCED_PERIODS` periods or
:data:`MAX_PATTERNS` patterns. CR2 (leverage blocks of every cluster) and ``weights`` are
refused on every panel.
"""

from __future__ import annotations

import warnings
from collections.abc import Hashable, Sequence
from typing import TYPE_CHECKING

import numpy as np

from fieldexp._validate import as_column_list, check_alpha, check_choice
from fieldexp.engine.linear import residual_norms
from fieldexp.engine.tables import as_ibis, pull
from fieldexp.errors import (
    ColumnNotFoundError,
    DataError,
    EstimationError,
    RowsDroppedWarning,
    SpecificationError,
)
from fieldexp.results import EffectResult
from fieldexp.stats.collinear import check_required, gram_ranked, warn_dropped
from fieldexp.stats.covariance import (
    LEVERAGE_TOL,
    SE_TYPES,
    LeverageError,
    check_small_sample,
    resolve_se_type,
)

if TYPE_CHECKING:  # pragma: no cover
    import ibis.expr.types as ir

__all__ = ["did_engine"]

_FN = "fieldexp.diffindiff"
Y, D, UNIT, TIME, CLUSTER = "_fx_y", "_fx_d", "_fx_unit", "_fx_time", "_fx_cluster"
#: bytes per value of a DataFrame TWFE fit (the panel's columns plus the within copies)
_BYTES_PER_VALUE = 3 * 8
#: unbalanced panels: most periods (a unit's observed periods are one int64 bit mask)
MAX_UNBALANCED_PERIODS = 62
#: unbalanced panels: most distinct observation patterns (sets of periods) pulled
MAX_PATTERNS = 100_000
#: period index, pattern bit mask and two-way fixed-effect leverage columns
TIDX, MASK, HFE = "_fx_tidx", "_fx_mask", "_fx_hfe"


def _x(j: int) -> str:
    return f"_fx_x{j}"


def _c(col: str) -> str:
    return f"{col}_c"


def _refuse(why: str) -> SpecificationError:
    return SpecificationError(f"{_FN}.did on an engine table: {why}")


def did_engine(
    data: object,
    outcome: str,
    unit: str,
    time: str,
    treatment: str,
    *,
    covariates: Sequence[str] | str | None = None,
    clusters: str | None = None,
    weights: str | None = None,
    se_type: str = "stata",
    alpha: float = 0.05,
    small_sample: str = "estimatr",
    time_order: Sequence[Hashable] | None = None,
) -> EffectResult:
    """:func:`fieldexp.did` on an engine table (balanced or not; see the module docstring)."""
    covs = as_column_list(covariates, function=_FN, argument="covariates")
    check_choice(se_type, SE_TYPES, argument="se_type", function=_FN)
    alpha = check_alpha(alpha, function=_FN)
    resolved = resolve_se_type(se_type, clusters is not None)
    check_small_sample(small_sample, resolved, function=_FN)
    if weights is not None:
        raise _refuse("weights are not pushed down yet; drop `weights` or pass a DataFrame.")
    if time_order is not None:
        raise _refuse(
            "time_order is not pushed down; give the periods as numbers or dates in the "
            "engine (they are then ordered there), or pass a DataFrame."
        )
    table = as_ibis(data, function=_FN)
    roles = {"outcome": outcome, "unit": unit, "time": time, "treatment": treatment}
    roles.update({f"covariates[{i}]": c for i, c in enumerate(covs)})
    if clusters is not None:
        roles["clusters"] = clusters
    for role, col in roles.items():
        if col not in table.columns:
            raise ColumnNotFoundError(
                f"column {col!r} (argument {role!r} of {_FN}) is not in the table; its columns "
                f"are {', '.join(map(repr, sorted(table.columns)[:20]))}."
            )
    schema = table.schema()
    for role, col in [("outcome", outcome), ("treatment", treatment)] + [
        ("covariates", c) for c in covs
    ]:
        if not (schema[col].is_numeric() or schema[col].is_boolean()):
            raise DataError(
                f"column {col!r} (argument {role!r} of {_FN}) must be numeric; it has engine "
                f"type {schema[col]}. Cast it in the engine before calling fx.did."
            )
    k = 1 + len(covs)
    if resolved == "CR2":
        raise _refuse(
            "se_type='CR2' needs, for every cluster, its block of the two-way leverage matrix "
            "(cluster-level compressed statistics this version does not compute); use "
            "se_type='stata' or 'CR0' (the fx.did default is 'stata'), or pass a DataFrame."
        )
    exprs: dict[str, ir.Value] = {
        Y: table[outcome].cast("float64"),
        D: table[treatment].cast("float64"),
        UNIT: table[unit],
        TIME: table[time],
    }
    for j, c in enumerate(covs):
        exprs[_x(j)] = table[c].cast("float64")
    if clusters is not None:
        exprs[CLUSTER] = table[clusters]
    used = list(dict.fromkeys(roles.values()))
    missing = {}
    for c in used:
        m = table[c].isnull()
        if schema[c].is_floating():
            m = m | table[c].isnan()
        missing[c] = m
    import ibis

    complete = ibis.literal(True)
    for m in missing.values():
        complete = complete & ~m
    checks: dict[str, ir.Value] = {
        "n_total": table.count(),
        "n_complete": complete.cast("int64").sum(),
        "d_bad": (~exprs[D].isin([0.0, 1.0])).cast("int64").sum(where=complete),
    }
    for i, m in enumerate(missing.values()):
        checks[f"miss{i}"] = m.cast("int64").sum()
    row = pull(table.aggregate(**checks), "checks").to_pylist()[0]
    n_total, n = int(row["n_total"]), int(row["n_complete"] or 0)
    n_dropped = n_total - n
    if n == 0:
        raise DataError(
            f"every row of the data has a missing value in {', '.join(map(repr, used))} "
            f"({_FN}); nothing is left to analyse."
        )
    if n_dropped:
        detail = ", ".join(
            f"{c!r}: {int(row[f'miss{i}']):,}" for i, c in enumerate(missing) if row[f"miss{i}"]
        )
        warnings.warn(
            f"{_FN}: dropped {n_dropped:,} of {n_total:,} rows with a missing value (listwise; "
            f"by column {detail}); rows of an engine table have no labels to list.",
            RowsDroppedWarning,
            stacklevel=3,
        )
    if row["d_bad"]:
        raise DataError(
            f"column {treatment!r} (argument 'treatment' of {_FN}) must be 0/1 (or boolean); "
            f"{int(row['d_bad']):,} rows have another value."
        )
    t = table.filter(complete).select(**exprs)

    # unit x period cells: balanced, no duplicates
    cells = t.group_by([UNIT, TIME]).aggregate(_fx_c=t.count())
    crow = pull(
        cells.aggregate(
            n_cells=cells.count(),
            max_c=cells["_fx_c"].max(),
            n_units=cells[UNIT].nunique(),
            n_periods=cells[TIME].nunique(),
        ),
        "panel cells",
    ).to_pylist()[0]
    U, T = int(crow["n_units"]), int(crow["n_periods"])
    if int(crow["max_c"]) > 1:
        dup = n - int(crow["n_cells"])
        raise DataError(
            f"{unit!r} x {time!r} must identify rows (one row per unit and period); found "
            f"{dup:,} rows more than unit-period cells (duplicated cells; {_FN})."
        )
    ttype = t.schema()[TIME]
    notes: tuple[str, ...] = (f"two-way fixed effects: {U:,} units x {T:,} periods",)
    if ttype.is_numeric() or ttype.is_temporal():
        _check_absorbing(t, treatment=treatment, unit=unit)
    else:
        notes += (
            f"periods of {time!r} are text labels without an order: the estimate needs none, "
            "but the check that treatment never switches off was skipped (pass time_order=[...] "
            "to run it)",
        )

    cols = [Y, D, *(_x(j) for j in range(len(covs)))]
    keep = [UNIT, TIME] + ([CLUSTER] if clusters is not None else [])
    hfe: ir.Value | None = None  # leverage of the fixed effects (HC2/HC3)
    if n == U * T:  # balanced: closed-form double demeaning
        um = t.group_by(UNIT).aggregate(**{f"{c}_u": t[c].mean() for c in cols})
        tm = t.group_by(TIME).aggregate(**{f"{c}_t": t[c].mean() for c in cols})
        gm = t.aggregate(**{f"{c}_g": t[c].mean() for c in cols})
        j = t.join(um, UNIT).join(tm, TIME).cross_join(gm)
        within = {_c(c): j[c] - j[f"{c}_u"] - j[f"{c}_t"] + j[f"{c}_g"] for c in cols}
        w = j.select(*keep, **within)
        hfe = ibis.literal(1.0 / U + 1.0 / T - 1.0 / (U * T))
    else:  # unbalanced: units absorbed, period effects solved exactly (T x T)
        mb = n * (3 + k + (clusters is not None)) * _BYTES_PER_VALUE / 1e6
        w = unbalanced_within(
            t, cols, keep, U=U, T=T, n=n, leverage=resolved in ("HC2", "HC3"), mb=mb
        )
        hfe = w[HFE] if resolved in ("HC2", "HC3") else None
    aggs = {}
    for a in range(len(cols)):
        for b in range(a, len(cols)):
            aggs[f"cp_{a}_{b}"] = (w[_c(cols[a])] * w[_c(cols[b])]).sum()
    cp = pull(w.aggregate(**aggs), "cross-products").to_pylist()[0]
    m = len(cols)
    C = np.empty((m, m))
    for a in range(m):
        for b in range(a, m):
            C[a, b] = C[b, a] = float(cp[f"cp_{a}_{b}"])
    names = [treatment, *covs]
    XX = C[1:, 1:]
    # collinear regressors are dropped as on a DataFrame (estimatr's NA), decided from the
    # cross-products, the raw norms (one row) and, when those cannot decide, one residual pass
    raw_row = pull(
        t.aggregate(**{f"ss_{a}": (t[c] * t[c]).sum() for a, c in enumerate(cols[1:])}),
        "raw norms",
    ).to_pylist()[0]
    raw = np.sqrt([max(float(raw_row[f"ss_{a}"] or 0.0), 0.0) for a in range(k)])
    ranked = gram_ranked(
        XX, names, residual_norms(w, [_c(c) for c in cols[1:]], np.eye(k), XX), n=n,
        raw_norms=raw, fe_label=f"the fixed effects of {unit!r} and {time!r}",
    )  # fmt: skip
    check_required(tuple(names), ranked, names[:1])
    if ranked.dropped:
        warn_dropped(names, ranked.dropped, ranked.reasons)
    M = ranked.inverse
    beta = M @ C[1:, 0]
    rank = k - len(ranked.dropped) + U + T - 1
    if rank >= n:
        raise EstimationError(
            f"the model has {rank:,} parameters (regressors and fixed effects) for {n:,} rows: "
            "no residual degrees of freedom are left for a standard error"
        )
    xs = [w[_c(c)] for c in cols[1:]]
    e = w[_c(Y)]
    for a in range(k):
        e = e - xs[a] * float(beta[a])
    G = 0
    if clusters is not None:
        r = w.mutate(_fx_e=e)
        xr = [r[_c(c)] for c in cols[1:]]
        per = r.group_by(CLUSTER).aggregate(
            **{f"u{a}": (r["_fx_e"] * xr[a]).sum() for a in range(k)}
        )
        outer: dict[str, ir.Value] = {"_fx_ncl": per.count()}
        for a in range(k):
            for b in range(a, k):
                outer[f"m_{a}_{b}"] = (per[f"u{a}"] * per[f"u{b}"]).sum()
        mrow = pull(per.aggregate(**outer), "cluster score cross-products").to_pylist()[0]
        G = int(mrow["_fx_ncl"])
        if G < 2:
            raise DataError(f"only one cluster in {clusters!r} ({_FN}); need at least two.")
    else:
        wt = e * e
        power = {"HC2": 1, "HC3": 2}.get(resolved, 0)
        mo: dict[str, ir.Value] = {}
        if power:
            assert hfe is not None
            h = hfe
            for a in range(k):
                for b in range(k):
                    h = h + xs[a] * xs[b] * float(M[a, b])
            # as fieldexp.stats.covariance.checked_leverage: 1 - h <= LEVERAGE_TOL is leverage one
            mo["_fx_lev1"] = (1.0 - h <= LEVERAGE_TOL).cast("int64").sum()
            wt = wt / (1.0 - h) if power == 1 else wt / ((1.0 - h) * (1.0 - h))
        r = w.mutate(_fx_w=wt)
        xr = [r[_c(c)] for c in cols[1:]]
        mo.update(
            {
                f"m_{a}_{b}": (r["_fx_w"] * xr[a] * xr[b]).sum()
                for a in range(k)
                for b in range(a, k)
            }
        )
        mrow = pull(r.aggregate(**mo), "score cross-products").to_pylist()[0]
        if int(mrow.get("_fx_lev1") or 0):
            bad = int(mrow["_fx_lev1"])
            raise LeverageError(
                f"se_type={resolved!r} divides each residual by "
                f"{'sqrt(1 - h_ii)' if resolved == 'HC2' else '(1 - h_ii)'}, and {bad:,} "
                "observation(s) have leverage h_ii = 1 (the model fits them exactly, so their "
                "residual carries no information about the variance; in a panel: units observed "
                "once, or periods with one unit); use se_type='HC1' or 'stata'",
                np.empty(0, dtype=np.int64),
            )
    meat = np.empty((k, k))
    for a in range(k):
        for b in range(a, k):
            meat[a, b] = meat[b, a] = float(mrow[f"m_{a}_{b}"])
    if not np.all(np.isfinite(meat)):
        raise EstimationError(
            f"se_type={resolved!r} is undefined here: some observation has leverage one "
            f"({_FN}); use se_type='HC1' or 'stata'."
        )
    v = M @ meat @ M
    v = (v + v.T) / 2.0
    if resolved == "HC1" or (resolved == "stata" and clusters is None):
        v = v * (n / (n - rank))
    elif resolved == "stata":
        rank_cr1 = rank
        if small_sample == "fixest":
            rank_cr1 = k - len(ranked.dropped) + _fixest_fe(t, U, T)
        v = v * (G * (n - 1) / ((G - 1) * (n - rank_cr1)))
    df = float(G - 1) if clusters is not None else float(n - rank)
    return EffectResult.from_estimate(
        estimate=float(beta[0]),
        std_error=float(np.sqrt(v[0, 0])),
        df=df,
        alpha=alpha,
        nobs=n,
        nclusters=G if clusters is not None else None,
        se_type=resolved,
        method="twfe",
        design="panel" if clusters is None else "clustered panel",
        outcome=outcome,
        term=treatment,
        estimand="ATT",
        n_dropped=n_dropped,
        notes=notes,
    )


def _check_absorbing(t: ir.Table, *, treatment: str, unit: str) -> None:
    """Treatment never switches off: no untreated row after a unit's first treated period."""
    first = t.filter(t[D] == 1.0).group_by(UNIT).aggregate(_fx_first=t[TIME].min())
    j = t.join(first, UNIT)
    off = (j[D] == 0.0) & (j[TIME] > j["_fx_first"])
    bad = j.filter(off)
    row = pull(
        bad.aggregate(rows=bad.count(), units=bad[UNIT].nunique()), "absorbing check"
    ).to_pylist()[0]
    if int(row["rows"] or 0):
        raise DataError(
            f"treatment column {treatment!r} switches off: {int(row['units']):,} units of "
            f"{unit!r} are treated and then untreated in a later period (canvassing exposure "
            "is absorbing: code a unit as treated from its first canvassed election on); "
            f"{int(row['rows']):,} untreated rows after treatment."
        )


def _fixest_fe(t: ir.Table, U: int, T: int) -> int:
    """fixest's count of unit and period effects: those nested in the clusters left out."""
    total = U + T - 1
    for col, levels in ((UNIT, U), (TIME, T)):
        per = t.group_by(col).aggregate(_fx_ncl=t[CLUSTER].nunique())
        row = pull(
            per.aggregate(spanning=(per["_fx_ncl"] > 1).cast("int64").sum()), "fixest nesting"
        ).to_pylist()[0]
        if int(row["spanning"]) == 0:
            total -= levels - 1
    return total


def unbalanced_within(
    t: ir.Table,
    cols: list[str],
    keep: list[str],
    *,
    U: int,
    T: int,
    n: int,
    leverage: bool,
    mb: float,
) -> ir.Table:
    r"""Two-way within transformation of an unbalanced panel, exact, in four passes.

    With :math:`M_U` the unit demeaning and :math:`D` the period dummies, the residual of
    :math:`v` on unit and period effects is :math:`\tilde v = M_U v - M_U D\lambda_v` with
    :math:`A\lambda_v = b_v`, :math:`A = D'M_UD`, :math:`b_v = D'M_Uv` (Frisch–Waugh). Per row,
    :math:`\tilde v_{it} = v_{it} - \bar v_{i} - (\lambda_t - \bar\lambda_{p(i)})` where
    :math:`\bar\lambda_{p} = \sum_{s \in p}\lambda_s / n_p` depends on the unit only through
    its *pattern* :math:`p(i)` (its set of observed periods, :math:`n_p` of them). And
    :math:`A = \sum_p c_p(\operatorname{diag}(o_p) - o_po_p'/n_p)` (:math:`c_p` units with
    pattern :math:`p`, :math:`o_p` its 0/1 period vector) is a graph Laplacian on the periods.

    Passes (only aggregates leave the engine): period index (``dense_rank``) and per unit its
    mean of every column and its pattern as an int64 bit mask, grouped by pattern (*P* rows,
    at most :data:`MAX_PATTERNS`); :math:`b_v(t) = \sum_{i} (v_{it} - \bar v_i)` (*T* rows).
    :math:`A` is solved locally, exactly, per connected component of the periods with one
    reference period set to zero (any solution gives the same :math:`\tilde v`); no
    iteration, so no convergence tolerance. The corrections
    :math:`\lambda_t - \bar\lambda_p` (and the fixed-effect leverage
    :math:`h^{FE}_{pt} = 1/n_p + G_{tt} - 2(Go_p)_t/n_p + o_p'Go_p/n_p^2`, :math:`G` the grounded
    inverse of :math:`A`) go back to the engine as a table of :math:`\sum_p n_p \le PT` rows
    joined on (pattern, period). A unit observed once has :math:`\tilde v = 0` and leverage
    one, as in :func:`fieldexp.did` on a DataFrame (which absorbs both factors by alternating
    projections to a 1e-12 tolerance: the same fixed point).
    """
    import ibis
    import pandas as pd

    if T > MAX_UNBALANCED_PERIODS:
        raise _refuse(
            f"the panel is unbalanced ({n:,} rows for {U:,} units x {T:,} periods = {U * T:,} "
            f"cells) and has more than {MAX_UNBALANCED_PERIODS} periods, the most whose "
            "observation patterns the engine encodes. Either keep the units observed in every "
            f"period (filter in the engine: units with {T} rows), or pull the rows used "
            f"({n:,} rows, about {mb:,.0f} MB for the DataFrame fit) and call fx.did on the "
            "DataFrame."
        )
    periods = t.select(TIME).distinct()
    periods = periods.mutate(**{TIDX: ibis.dense_rank().over(order_by=periods[TIME])})
    tb = t.join(periods, TIME)
    bit = ibis.literal(1, "int64") << tb[TIDX].cast("int64")
    um = tb.group_by(UNIT).aggregate(**{MASK: bit.sum()}, **{f"{c}_u": tb[c].mean() for c in cols})
    prow = pull(
        um.group_by(MASK).aggregate(_fx_units=um.count()).order_by(MASK).limit(MAX_PATTERNS + 1),
        "observation patterns",
    )
    if prow.num_rows > MAX_PATTERNS:
        raise _refuse(
            f"the unbalanced panel has more than {MAX_PATTERNS:,} distinct sets of observed "
            f"periods among its {U:,} units; the exact two-way projection pulls one row per "
            f"set. Pull the rows used ({n:,} rows, about {mb:,.0f} MB) and call fx.did on the "
            "DataFrame, or keep the units observed in every period (a balanced panel)."
        )
    masks = np.asarray(prow.column(MASK).to_pylist(), dtype=np.int64)
    counts = np.asarray(prow.column("_fx_units").to_pylist(), dtype=np.float64)
    obs = ((masks[:, None] >> np.arange(T)[None, :]) & 1).astype(np.float64)  # P x T
    n_p = obs.sum(axis=1)
    A = (obs * counts[:, None]).sum(axis=0)
    A = np.diag(A) - (obs * (counts / n_p)[:, None]).T @ obs
    j = tb.join(um, UNIT)
    brow = pull(
        j.group_by(TIDX)
        .aggregate(**{f"b{a}": (j[c] - j[f"{c}_u"]).sum() for a, c in enumerate(cols)})
        .order_by(TIDX),
        "period sums of unit-demeaned columns",
    )
    tidx = np.asarray(brow.column(TIDX).to_pylist(), dtype=np.int64)
    B = np.zeros((T, len(cols)))
    for a in range(len(cols)):
        B[tidx, a] = np.asarray(brow.column(f"b{a}").to_pylist(), dtype=np.float64)
    G, n_comp = _grounded_inverse(A, obs)
    if leverage and n_comp > 1:
        raise EstimationError(
            f"the periods of this unbalanced panel fall into {n_comp} groups that no unit links "
            "(a unit observed in periods of two groups would link them), so the period effects "
            "are collinear with the unit effects and HC2/HC3 leverages are not defined as "
            f"{_FN}.did computes them on a DataFrame; use se_type='HC1', 'stata' or clusters, "
            "or analyse each group of periods separately."
        )
    lam = G @ B  # T x m: period effects (one reference period per component at zero)
    lam_bar = (obs @ lam) / n_p[:, None]  # P x m
    pi, ti = np.nonzero(obs)
    adj: dict[str, object] = {MASK: masks[pi], TIDX: ti.astype(np.int64)}
    for a, c in enumerate(cols):
        adj[f"{c}_a"] = lam[ti, a] - lam_bar[pi, a]
    if leverage:
        Go = obs @ G  # P x T: (G o_p)' (G symmetric)
        quad = np.einsum("pt,pt->p", Go, obs)
        adj[HFE] = 1.0 / n_p[pi] + G[ti, ti] - 2.0 * Go[pi, ti] / n_p[pi] + quad[pi] / n_p[pi] ** 2
    corr = ibis.memtable(pd.DataFrame(adj))
    jj = j.join(corr, [MASK, TIDX])
    within = {_c(c): jj[c] - jj[f"{c}_u"] - jj[f"{c}_a"] for c in cols}
    extra = {HFE: jj[HFE]} if leverage else {}
    return jj.select(*keep, **within, **extra)


def _grounded_inverse(A: np.ndarray, obs: np.ndarray) -> tuple[np.ndarray, int]:
    """A generalised inverse of the period Laplacian ``A``: per connected component of the
    periods (linked when a pattern holds both), the inverse of ``A`` without the component's
    first period, zeros for that period, and the number of components. Exact (a dense
    solve), no tolerance."""
    T = A.shape[0]
    parent = list(range(T))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for row in obs:
        idx = np.flatnonzero(row)
        for s in idx[1:]:
            parent[find(int(s))] = find(int(idx[0]))
    comps: dict[int, list[int]] = {}
    for tt in range(T):
        comps.setdefault(find(tt), []).append(tt)
    G = np.zeros((T, T))
    for members in comps.values():
        free = members[1:]  # the first period of the component is the reference
        if free:
            sub = np.ix_(free, free)
            G[sub] = np.linalg.inv(A[sub])
    return (G + G.T) / 2.0, len(comps)
