r"""Event study (dynamic TWFE, Sun & Abraham) on an engine panel, from aggregates only.

The regression of :func:`fieldexp.event_study` on a voter x election panel,

.. math:: Y_{it} = \alpha_i + \lambda_t + \sum_k \beta_k D_{k,it} + \varepsilon_{it},

where every regressor :math:`D_k` is an indicator of (cohort, period) cells (one event time
for ``twfe``; one cohort x event time for ``sun_abraham``), is solved **exactly on an
unbalanced panel** (missing turnout before registration) without alternating projections:
the unit effects are absorbed by demeaning within unit (one GROUP BY), the period effects
enter as the :math:`T-1` unit-demeaned period indicators :math:`\tilde P`, and by
Frisch–Waugh–Lovell

.. math::

    C = [\tilde D\ \tilde P]^\top[\tilde D\ \tilde P],\quad
    M = (C_{DD} - C_{DP}C_{PP}^{-1}C_{PD})^{-1},\quad
    \hat\beta = M(c_D - C_{DP}C_{PP}^{-1}c_P),\quad \Pi = C_{PP}^{-1}C_{PD},

the two-way-demeaned regressors being :math:`\ddot D = \tilde D - \tilde P\Pi`. The scores
:math:`\ddot D^\top e` of a cluster are :math:`A\,s_g` with :math:`A = [I, -\Pi^\top]` and
:math:`s_g = \sum_{i\in g}[\tilde D\ \tilde P]^\top e`, so the engine sums
:math:`\sum_g s_g s_g^\top` (HC0/HC1: :math:`\sum e^2 z z^\top` over rows) and the driver
forms :math:`V = M A (\sum_g s_g s_g^\top) A^\top M` with the small-sample factor of
:mod:`fieldexp.stats.covariance` (``stata``: :math:`G(n-1)/((G-1)(n-r))`, HC1
:math:`n/(n-r)`, :math:`r = K + U + T - 1`). Passes, each pulling one row (or one row per
(cohort, period) cell): cells, cross-products, score cross-products.

HC2, HC3 and CR2 need every observation's two-way leverage and are refused (the message says
so); so are weights.
"""

from __future__ import annotations

import math
import uuid
import warnings
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from fieldexp.diffindiff.events import EventStudy, _inference_table, _pretest
from fieldexp.engine.table import materialise
from fieldexp.engine.tables import pull
from fieldexp.errors import DataError, EstimationError, RowsDroppedWarning, SpecificationError
from fieldexp.stats.covariance import resolve_se_type
from fieldexp.stats.linear import gram_inverse

if TYPE_CHECKING:  # pragma: no cover
    import ibis.expr.types as ir

__all__ = ["ENGINE_SE_TYPES", "engine_event_study"]

_FN = "fieldexp.event_study"
#: the variance estimators available on an engine panel (no leverage needed)
ENGINE_SE_TYPES = ("HC0", "HC1", "CR0", "stata")
CLUSTER = "_fx_cluster"


@dataclass(frozen=True, slots=True)
class _Cells:
    """Counts of the rows used, by (cohort, period)."""

    frame: pd.DataFrame  # cohort, period, n (rows with an outcome and a cluster)
    n_total: int


def _cells(panel: ir.Table, clustered: bool) -> _Cells:
    ok = panel["voted"].notnull()  # noqa: PD004
    if clustered:
        ok = ok & panel[CLUSTER].notnull()  # noqa: PD004
    g = panel.mutate(_fx_ok=ok.cast("int64"))
    agg = g.group_by(["cohort", "period"]).aggregate(n=g["_fx_ok"].sum(), n_all=g.count())
    f = pull(agg, "event-study cells (cohort x period)").to_pandas()
    total = int(f["n_all"].sum())
    f = f.loc[f["n"] > 0, ["cohort", "period", "n"]].astype("int64")
    return _Cells(f.sort_values(["cohort", "period"], ignore_index=True), total)


def engine_event_study(
    panel: ir.Table,
    *,
    leads: int | None,
    lags: int | None,
    reference: int,
    estimator: str,
    clustered: bool,
    se_type: str,
    alpha: float,
    outcome: str = "voted",
) -> EventStudy:
    """:func:`fieldexp.event_study` on an engine voter panel (``voter_id, period, voted,
    cohort[, _fx_cluster]``, periods 1..T), the same numbers from aggregates.

    Raises
    ------
    SpecificationError
        ``se_type`` HC2, HC3 or CR2 (leverage of every row), an unknown estimator.
    DataError, EstimationError
        As :func:`fieldexp.event_study` (no never-treated unit for ``twfe``, no treated unit
        at the reference, collinear regressors, no residual degrees of freedom).
    """
    if estimator not in ("twfe", "sun_abraham"):
        raise SpecificationError(f"estimator must be 'twfe' or 'sun_abraham'; found {estimator!r}")
    resolved = resolve_se_type(se_type, clustered)
    if resolved not in ENGINE_SE_TYPES:
        raise SpecificationError(
            f"se_type={resolved!r} needs the two-way leverage of every voter-election row, "
            "which an engine panel does not give without pulling the rows; use 'stata' "
            "(CR1), 'CR0', 'HC1' or 'HC0'"
        )
    cells = _cells(panel, clustered)
    f = cells.frame
    if f.empty:
        raise DataError(f"no voter-election row with an outcome ({_FN}).")
    n_ok = int(f["n"].sum())
    n_dropped = cells.n_total - n_ok
    if n_dropped:
        warnings.warn(
            f"{_FN}: dropped {n_dropped:,} of {cells.n_total:,} rows with a missing value "
            "(listwise; in the engine).",
            RowsDroppedWarning,
            stacklevel=2,
        )
    tmin, tmax = int(f["period"].min()), int(f["period"].max())
    if (f["cohort"] > tmax).any():
        raise DataError(
            f"cohort column 'cohort' has cohorts after the panel's last period ({tmax:g}); "
            "code units untreated throughout the panel as 0."
        )
    early = (f["cohort"] > 0) & (f["cohort"] <= tmin)
    notes: list[str] = []
    keep_expr = panel["voted"].notnull()  # noqa: PD004
    if clustered:
        keep_expr = keep_expr & panel[CLUSTER].notnull()  # noqa: PD004
    if early.any():
        ok = panel.filter(keep_expr)
        flag = (ok["cohort"] > 0) & (ok["cohort"] <= tmin)
        n_early = int(
            pull(
                ok.filter(flag).aggregate(n=ok.filter(flag)["voter_id"].nunique()),
                "always-treated units",
            ).to_pylist()[0]["n"]
        )
        warnings.warn(
            f"{_FN}: {n_early:,} units dropped: treated from the first period on (always "
            "treated; no pre-period to compare).",
            RowsDroppedWarning,
            stacklevel=2,
        )
        notes.append(f"{n_early:,} always-treated units dropped")
        keep_expr = keep_expr & ~((panel["cohort"] > 0) & (panel["cohort"] <= tmin))
        f = f.loc[~early]
    control_label = "never treated"
    g_eff = f["cohort"].to_numpy()
    if not (g_eff == 0).any():
        if estimator == "twfe":
            raise DataError(
                "no never-treated units (cohort 0/missing in 'cohort'): the dynamic TWFE "
                "event study is not identified with one omitted period. Use "
                "estimator='sun_abraham' (the last-treated cohort becomes the control)."
            )
        glast = int(f["cohort"].max())
        keep_expr = keep_expr & (panel["period"] < glast)
        f = f.loc[f["period"] < glast]
        control_label = f"last-treated cohort {glast:g}"
        notes.append(
            f"no never-treated units: cohort {glast:g} is the control; periods >= {glast:g} dropped"
        )
        g_eff = np.where(f["cohort"].to_numpy() == glast, 0, f["cohort"].to_numpy())
    f = f.assign(g=g_eff)
    lo = -math.inf if leads is None else -leads
    hi = math.inf if lags is None else lags
    treated = f.loc[f["g"] > 0]
    ev = np.clip((treated["period"] - treated["g"]).to_numpy(dtype=float), lo, hi)
    treated = treated.assign(e=ev)
    if not (treated["e"] == reference).any():
        raise DataError(
            f"no treated unit is observed at the reference event time {reference}: choose another "
            "reference."
        )
    reg = treated.loc[treated["e"] != reference]
    if estimator == "twfe":
        etimes = np.array(sorted(set(reg["e"].tolist())))
        groups = [reg.loc[reg["e"] == x] for x in etimes]
        names = [f"e{x:g}" for x in etimes]
    else:
        keys = reg[["g", "e"]].drop_duplicates().sort_values(["e", "g"])
        groups = [reg.loc[(reg["g"] == a) & (reg["e"] == b)] for a, b in keys.to_numpy()]
        names = [f"g{a:g}:e{b:g}" for a, b in keys.to_numpy()]
    periods = sorted(set(f["period"].tolist()))
    fit = _fit(
        panel.filter(keep_expr),
        groups,
        names,
        periods,
        clustered=clustered,
        resolved=resolved,
    )
    beta, vcov, df = fit.beta, fit.vcov, fit.df
    shares = None
    if estimator == "twfe":
        table = _inference_table(etimes, beta, vcov, df, reference, alpha)
        pre = _pretest(etimes, beta, vcov, df)
        est_v = vcov
    else:
        cell_g = keys["g"].to_numpy(dtype=float)
        cell_e = keys["e"].to_numpy(dtype=float)
        mass = np.array([float(grp["n"].sum()) for grp in groups])
        etimes = np.unique(cell_e)
        Wm = np.zeros((len(etimes), len(groups)))
        share_rows: list[tuple[float, float, float]] = []
        for i, x in enumerate(etimes):
            js = np.flatnonzero(cell_e == x)
            s = mass[js] / mass[js].sum()
            Wm[i, js] = s
            share_rows.extend(
                (float(x), float(cell_g[j]), float(sj)) for j, sj in zip(js, s, strict=True)
            )
        est = Wm @ beta
        est_v = Wm @ vcov @ Wm.T
        table = _inference_table(etimes, est, est_v, df, reference, alpha)
        pre = _pretest(etimes, est, est_v, df)
        shares = pd.DataFrame(share_rows, columns=["event_time", "cohort", "share"])
        coefs = pd.DataFrame(
            {
                "cohort": cell_g,
                "event_time": cell_e,
                "estimate": beta,
                "std_error": np.sqrt(np.diag(vcov)),
            }
        )
        shares = shares.merge(coefs, on=["cohort", "event_time"], how="left")
    dropped = (f"{n_dropped:,} rows dropped for missing values",) if n_dropped else ()
    return EventStudy(
        coefficients=table,
        vcov=est_v,
        pretest=pre[0],
        pretest_f=pre[1],
        estimator=estimator,
        reference=int(reference),
        outcome=outcome,
        se_type=resolved,
        alpha=alpha,
        nobs=fit.n,
        nclusters=fit.G if clustered else None,
        comparison=control_label,
        cohort_shares=shares,
        notes=tuple(notes) + dropped,
    )


@dataclass(frozen=True, slots=True)
class _Fit:
    beta: np.ndarray
    vcov: np.ndarray
    df: float
    n: int
    G: int


def _exact_gram(
    base: ir.Table, us: ir.Table, zcols: list[str]
) -> tuple[list[list[Fraction]], list[Fraction], int, int]:
    r"""The unit-demeaned Gram :math:`\sum\tilde z_a\tilde z_b`, :math:`\sum\tilde z_a\tilde y` exactly.

    With 0/1 columns a unit's demeaned cross-product is
    :math:`\sum_t z_a z_b - S_a S_b / n_i` (:math:`S` the unit's sums, :math:`n_i` its rows),
    so the engine sums integers by unit size (one row per size :math:`n_i \le T`) and the
    driver combines them as fractions: no rounding and no cancellation, whatever the rows.
    """
    y = "_fx_y"
    pairs = [(a, b) for i, a in enumerate(zcols) for b in [*zcols[i:], y]]
    j = base.join(us, base["voter_id"] == us["_fx_uid"])
    raw: dict[str, ir.Value] = {f"R_{a}_{b}": (j[a] * j[b]).sum() for a, b in pairs}
    by_size: dict[str, ir.Value] = {"_fx_units": us.count()}
    for a, b in pairs:
        by_size[f"Q_{a}_{b}"] = (us[f"S_{a}"] * us[f"S_{b}"]).sum()
    q = us.group_by("_fx_ni").aggregate(**by_size)
    r = j.group_by(_fx_n2=j["_fx_ni"]).aggregate(**raw)
    rows = pull(
        q.join(r, q["_fx_ni"] == r["_fx_n2"]), "event-study cross-products (per unit size)"
    ).to_pylist()
    n = sum(int(r["_fx_ni"]) * int(r["_fx_units"]) for r in rows)
    U = sum(int(r["_fx_units"]) for r in rows)
    exact: dict[tuple[str, str], Fraction] = {}
    for a, b in pairs:
        exact[(a, b)] = sum(
            (
                Fraction(int(r[f"R_{a}_{b}"])) - Fraction(int(r[f"Q_{a}_{b}"]), int(r["_fx_ni"]))
                for r in rows
            ),
            Fraction(0),
        )
    m = len(zcols)
    C = [[Fraction(0)] * m for _ in range(m)]
    for i in range(m):
        for k in range(i, m):
            C[i][k] = C[k][i] = exact[(zcols[i], zcols[k])]
    return C, [exact[(a, y)] for a in zcols], n, U


def _solve_exact(C: list[list[Fraction]], c: list[Fraction]) -> list[Fraction]:
    """:math:`C^{-1}c` in exact arithmetic (Gauss–Jordan on fractions; C is small)."""
    m = len(c)
    A = [[*row, rhs] for row, rhs in zip(C, c, strict=True)]
    for col in range(m):
        piv = next((r for r in range(col, m) if A[r][col] != 0), None)
        if piv is None:  # pragma: no cover - gram_inverse refuses collinear regressors first
            raise EstimationError("the event-study regressors are collinear")
        A[col], A[piv] = A[piv], A[col]
        pv = A[col][col]
        A[col] = [x / pv for x in A[col]]
        for r in range(m):
            if r != col and A[r][col] != 0:
                f = A[r][col]
                A[r] = [x - f * y for x, y in zip(A[r], A[col], strict=True)]
    return [A[r][m] for r in range(m)]


def _indicator(t: ir.Table, cells: pd.DataFrame) -> ir.Value:
    """1.0 on the rows whose (cohort, period) is one of ``cells``, else 0.0."""
    import ibis

    cond = ibis.literal(False)
    for c, p in cells[["cohort", "period"]].drop_duplicates().to_numpy():
        cond = cond | ((t["cohort"] == int(c)) & (t["period"] == int(p)))
    return cond.cast("float64")


def _fit(
    t: ir.Table,
    groups: list[pd.DataFrame],
    names: list[str],
    periods: list[int],
    *,
    clustered: bool,
    resolved: str,
) -> _Fit:
    """Unit-demeaned cross-products, FWL for the periods, then the score cross-products."""
    import ibis

    K = len(groups)
    # 0/1 columns as integers: every sum of the Gram below is exact in the engine
    cols: dict[str, ir.Value] = {"_fx_y": t["voted"].cast("int64")}
    for j, grp in enumerate(groups):
        cols[f"_fx_d{j}"] = _indicator(t, grp).cast("int64")
    for j, p in enumerate(periods[1:]):
        cols[f"_fx_p{j}"] = (t["period"] == int(p)).cast("int64")
    keep = ["voter_id"] + ([CLUSTER] if clustered else [])
    base = t.select(*keep, **cols)
    zcols = [c for c in cols if c != "_fx_y"]
    allc = ["_fx_y", *zcols]
    m = len(zcols)
    sums = {"_fx_ni": base.count(), **{f"S_{c}": base[c].sum() for c in allc}}
    us = base.group_by(_fx_uid=base["voter_id"]).aggregate(**sums)
    us = materialise(us, f"_fx_did_units_{uuid.uuid4().hex[:12]}")  # read by both passes
    C_exact, c_exact, n, U = _exact_gram(base, us, zcols)
    T = len(periods)
    C = np.array([[float(x) for x in row] for row in C_exact])
    j = base.join(us, base["voter_id"] == us["_fx_uid"])
    w = j.select(
        *keep, **{c: j[c].cast("float64") - j[f"S_{c}"] / j["_fx_ni"].cast("float64") for c in allc}
    )
    D, P = slice(0, K), slice(K, m)
    if m > K:
        Cpp_inv = np.linalg.pinv(C[P, P], hermitian=True)
        Pi = Cpp_inv @ C[P, D]
        XX = C[D, D] - C[D, P] @ Pi
    else:
        Pi = np.zeros((0, K))
        XX = C[D, D]
    lam, V = np.linalg.eigh((XX + XX.T) / 2.0)
    R = np.sqrt(np.clip(lam, 0.0, None))[:, None] * V.T
    try:
        M = gram_inverse(R, names, absorbed=True)
    except EstimationError as err:
        # the DataFrame route (fit_ols) drops collinear indicators with NaN rows; the engine
        # event study does not reproduce that yet: say so rather than differ
        raise EstimationError(
            f"{err}. On an engine table the event study does not drop collinear event-time "
            "indicators as fx.event_study on a pandas DataFrame does (estimatr's NA rows); "
            "pass the panel as a DataFrame, or bin the sparse event times with leads/lags"
        ) from None
    theta = np.array([float(x) for x in _solve_exact(C_exact, c_exact)])
    beta = theta[:K]
    rank = K + U + T - 1
    if rank >= n:
        raise EstimationError(
            f"the model has {rank:,} parameters (regressors and fixed effects) for {n:,} rows: "
            "no residual degrees of freedom are left for a standard error"
        )
    e = w["_fx_y"]
    for a in range(m):
        e = e - w[zcols[a]] * float(theta[a])
    r = w.mutate(_fx_e=e)
    G = 0
    if clustered:
        per = r.group_by(CLUSTER).aggregate(
            **{f"s{a}": (r["_fx_e"] * r[zcols[a]]).sum() for a in range(m)}
        )
        outer: dict[str, ir.Value] = {"_fx_ncl": per.count()}
        for a in range(m):
            for b in range(a, m):
                outer[f"m_{a}_{b}"] = (per[f"s{a}"] * per[f"s{b}"]).sum()
        mrow = pull(per.aggregate(**outer), "event-study cluster score cross-products")
        mr = mrow.to_pylist()[0]
        G = int(mr["_fx_ncl"])
        if G < 2:
            raise DataError(f"only one cluster ({_FN}); need at least two.")
    else:
        e2 = r["_fx_e"] * r["_fx_e"]
        mo = {
            f"m_{a}_{b}": (e2 * r[zcols[a]] * r[zcols[b]]).sum()
            for a in range(m)
            for b in range(a, m)
        }
        mr = pull(r.aggregate(**mo), "event-study score cross-products").to_pylist()[0]
    S = np.empty((m, m))
    for a in range(m):
        for b in range(a, m):
            S[a, b] = S[b, a] = float(mr[f"m_{a}_{b}"])
    A = np.hstack([np.eye(K), -Pi.T])
    meat = A @ S @ A.T
    v = M @ meat @ M
    v = (v + v.T) / 2.0
    if resolved == "HC1":
        v = v * (n / (n - rank))
    elif resolved == "stata":
        v = v * (G * (n - 1) / ((G - 1) * (n - rank)))
    df = float(G - 1) if clustered else float(n - rank)
    del ibis
    return _Fit(beta=beta, vcov=v, df=df, n=n, G=G)
