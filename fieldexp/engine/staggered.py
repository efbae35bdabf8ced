r"""``fx.staggered_did`` (Callaway & Sant'Anna) on engine tables.

Two pieces, both without covariates or weights:

* :func:`att_gt_moments` — ATT(g,t), their analytic standard errors and the full covariance
  :math:`\hat V = \Psi^\top\Psi/n^2` of the influence functions from **cohort x period
  aggregates** only. Without covariates the influence function of unit *i* in cohort *c* is
  affine in its outcomes, :math:`\psi_{ik} = A_{ck}(y_{it_k} - y_{ib_k}) - S_{ck}`
  (:func:`fieldexp.diffindiff._kernels.att_gt_no_covariates`), so
  :math:`\sum_i\psi_{ik}\psi_{il}` needs per cohort only :math:`n_c`, :math:`\sum_i y_{it}` and
  :math:`\sum_i y_{it}y_{is}`: one pull of :math:`(C+1)\times(1+T+T(T+1)/2)` numbers
  (units with all *T* outcomes; the panel is balanced first, as R ``did``). Scale-free: the
  largest object on the driver is the K x K covariance.
* the :class:`~fieldexp.diffindiff.StaggeredDiD` result of ``fx.staggered_did(table, ...)``
  holds the unit-level influence matrix (``n x K``), which its ``aggregate()`` (the weight
  influence functions and the multiplier bootstrap) needs. The engine pivots the panel to
  **one row per unit** (cohort, cluster, one outcome per period; *n* rows, the unit count)
  and :func:`panel_frame` pulls that, bounded by :data:`MAX_PANEL_UNITS` units (refused above
  it, with the memory it would need and :func:`att_gt_moments` as the way out). The fit itself
  is then the DataFrame path's, so every number is the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from fieldexp.engine.tables import as_ibis, pull
from fieldexp.errors import ColumnNotFoundError, DataError, SpecificationError

__all__ = ["MAX_PANEL_UNITS", "AggregatedMoments", "AttGtMoments", "att_gt_moments", "panel_frame"]

#: at most this many units are pulled (one row each) to build a StaggeredDiD
MAX_PANEL_UNITS = 5_000_000
_FN = "fieldexp.staggered_did"
_U, _T, _Y, _G, _CL = "_fx_unit", "_fx_time", "_fx_y", "_fx_cohort", "_fx_cluster"


def _check(table: Any, roles: dict[str, str | None]) -> None:
    for role, col in roles.items():
        if col is not None and col not in table.columns:
            raise ColumnNotFoundError(
                f"column {col!r} (argument {role!r} of {_FN}) is not in the table; its columns "
                f"are {', '.join(map(repr, sorted(table.columns)[:20]))}."
            )


def _periods(t: Any) -> list[Any]:
    rows = pull(t.select(_p=t[_T]).filter(lambda s: s._p.notnull()).distinct(), "periods")  # noqa: PD004
    return sorted(rows["_p"].to_pylist())


def _per_unit(t: Any, periods: list[Any], with_cluster: bool) -> Any:
    """One row per unit: cohort (min, max), cluster (min, max), rows and outcome per period."""
    aggs: dict[str, Any] = {
        "_gmin": t[_G].min(),
        "_gmax": t[_G].max(),
        "_gnull": t[_G].isnull().cast("int64").sum(),  # noqa: PD003
    }
    if with_cluster:
        aggs["_clmin"] = t[_CL].min()
        aggs["_clmax"] = t[_CL].max()
    for j, p in enumerate(periods):
        at = t[_T] == p
        aggs[f"_n{j}"] = at.cast("int64").sum()
        aggs[f"_y{j}"] = t[_Y].max(where=at)
    return t.group_by(_U).aggregate(**aggs)


def _refuse(what: str) -> SpecificationError:
    return SpecificationError(
        f"{_FN} on an engine table: {what} are not pushed down (the engine path is the "
        "no-covariate, unweighted estimator); pass a pandas DataFrame."
    )


def panel_frame(
    data: object,
    outcome: str,
    unit: str,
    time: str,
    cohort: str,
    *,
    clusters: str | None = None,
    covariates: object = None,
    weights: str | None = None,
) -> pd.DataFrame:
    """The long panel rebuilt from one pulled row per unit (see the module docstring).

    Rows missing the outcome come back with a missing outcome, so the DataFrame path drops
    and counts them (and balances the panel) exactly as for the caller's own rows.

    Raises
    ------
    SpecificationError
        Covariates or weights; more than :data:`MAX_PANEL_UNITS` units (with the memory).
    DataError
        A unit-period cell with several rows; a cohort or cluster that varies within a unit.
    """
    if covariates:
        raise _refuse("covariates")
    if weights is not None:
        raise _refuse("weights")
    table = as_ibis(data, function=_FN)
    _check(
        table,
        {"outcome": outcome, "unit": unit, "time": time, "cohort": cohort, "clusters": clusters},
    )
    schema = table.schema()
    y = table[outcome]
    yexpr = y.cast("float64")
    if schema[outcome].is_floating():
        yexpr = y.isnan().ifelse(None, yexpr)
    cols: dict[str, Any] = {_U: table[unit], _T: table[time], _Y: yexpr, _G: table[cohort]}
    if clusters is not None:
        cols[_CL] = table[clusters]
    t = table.select(**cols)
    n_units = int(pull(t.aggregate(n=t[_U].nunique()), "units")["n"].to_pylist()[0])
    periods = _periods(t)
    if n_units > MAX_PANEL_UNITS:
        mb = n_units * (len(periods) + 3) * 8 / 1e6
        raise SpecificationError(
            f"{_FN} on an engine table pulls one row per unit for the influence matrix of its "
            f"result; {n_units:,} units exceed the bound of {MAX_PANEL_UNITS:,} (about "
            f"{mb:,.0f} MB). Use fieldexp.engine.att_gt_moments (ATT(g,t), standard errors and "
            "their covariance from cohort x period aggregates) or a sample of units."
        )
    wide = pull(_per_unit(t, periods, clusters is not None), "one row per unit").to_pandas()
    dup = sum(int((wide[f"_n{j}"] > 1).sum()) for j in range(len(periods)))
    if dup:
        raise DataError(
            f"{unit!r} x {time!r} must identify rows (one row per unit and period); "
            f"{dup:,} unit-period cells hold several rows ({_FN})."
        )
    g_varies = (wide["_gmin"] != wide["_gmax"]) | ((wide["_gnull"] > 0) & wide["_gmin"].notna())
    if bool(g_varies.any()):
        raise DataError(
            f"cohort column {cohort!r} must be constant within unit; {int(g_varies.sum()):,} "
            f"units of {unit!r} have several values ({_FN})."
        )
    if clusters is not None and bool((wide["_clmin"] != wide["_clmax"]).any()):
        bad = int((wide["_clmin"] != wide["_clmax"]).sum())
        raise DataError(
            f"clusters column {clusters!r} must be constant within unit; {bad:,} units of "
            f"{unit!r} have several values ({_FN})."
        )
    parts = []
    for j, p in enumerate(periods):
        present = wide[f"_n{j}"].to_numpy() > 0
        sub = wide.loc[present]
        part = {
            unit: sub[_U].to_numpy(),
            time: np.repeat(np.asarray([p], dtype=object), len(sub)),
            outcome: sub[f"_y{j}"].to_numpy(dtype=np.float64, na_value=np.nan),
            cohort: sub["_gmin"].to_numpy(),
        }
        if clusters is not None:
            part[clusters] = sub["_clmin"].to_numpy()
        parts.append(pd.DataFrame(part))
    out = pd.concat(parts, ignore_index=True)
    out[time] = pd.Series(out[time].tolist(), dtype=pd.Series(periods).dtype)
    return out


@dataclass(frozen=True, slots=True, eq=False)
class AttGtMoments:
    """ATT(g,t) from cohort x period aggregates: the cells, estimates and covariance.

    ``cohort``, ``time``, ``base_period`` as in ``StaggeredDiD.att_gt``; ``vcov`` is
    :math:`\\Psi^\\top\\Psi/n^2` (its diagonal the squared analytic standard errors).
    """

    cohort: np.ndarray
    time: np.ndarray
    base_period: np.ndarray
    estimate: np.ndarray
    std_error: np.ndarray
    vcov: np.ndarray
    n_treated: np.ndarray
    n_control: np.ndarray
    n_units: int
    _parts: _Parts | None = None

    def aggregate(self, kind: str = "simple") -> AggregatedMoments:
        """``simple``, ``group``, ``dynamic`` or ``calendar`` effects with analytic SEs.

        The weights and the influence functions of the estimated weights are those of
        :func:`fieldexp.diffindiff._aggregate.aggregate_gt` (unweighted units); every
        aggregate's influence function is, per cohort, affine in the unit's outcomes, so its
        variance comes from the same cohort sums (no event-time window, no bootstrap band).
        """
        if kind not in ("simple", "group", "dynamic", "calendar"):
            raise SpecificationError(
                "The 'kind' parameter of AttGtMoments.aggregate must be one of 'simple', "
                f"'group', 'dynamic', 'calendar'. Got {kind!r} instead."
            )
        assert self._parts is not None
        return _aggregate(self, self._parts, kind)


@dataclass(frozen=True, slots=True, eq=False)
class _Parts:
    """What the aggregations need: A, S (cohorts x cells, base cells zeroed), the period
    differences Dm (T x K), cohort sums n, m, Q and, with clusters, cluster x cohort sums."""

    A: np.ndarray
    S: np.ndarray
    Dm: np.ndarray
    counts: np.ndarray
    m: np.ndarray
    Q: np.ndarray
    cohorts: np.ndarray
    g_code: np.ndarray
    cl_codes: np.ndarray | None = None
    cl_cohort: np.ndarray | None = None
    cl_n: np.ndarray | None = None
    cl_m: np.ndarray | None = None


@dataclass(frozen=True, slots=True, eq=False)
class AggregatedMoments:
    """An aggregation of ATT(g,t) from cohort sums: components and the overall effect."""

    kind: str
    labels: np.ndarray
    estimate: np.ndarray
    std_error: np.ndarray
    overall_estimate: float
    overall_std_error: float


def _cov(parts: _Parts, n: float, L: np.ndarray, omega: np.ndarray) -> np.ndarray:
    """:math:`\\sum_i\\phi_i\\phi_i^\top/n^2` for :math:`\\phi_{ij}=\\sum_k L_{kj}\\psi_{ik}+\\omega_{c_ij}`."""
    B = np.einsum("tk,ck,kj->ctj", parts.Dm, parts.A, L)  # per cohort: coefficients on y
    kappa = omega - parts.S @ L  # per cohort constants
    if parts.cl_codes is not None:
        assert parts.cl_cohort is not None and parts.cl_n is not None and parts.cl_m is not None
        cc = parts.cl_cohort
        rows = np.einsum("rt,rtj->rj", parts.cl_m, B[cc]) + parts.cl_n[:, None] * kappa[cc]
        U = np.zeros((int(parts.cl_codes.max()) + 1, L.shape[1]))
        np.add.at(U, parts.cl_codes, rows)
        return U.T @ U / n**2
    gram = np.zeros((L.shape[1], L.shape[1]))
    for c in range(len(parts.counts)):
        if parts.counts[c] == 0:
            continue
        Bc, kc, mc = B[c], kappa[c], parts.m[c]
        cross = np.outer(Bc.T @ mc, kc)
        gram += Bc.T @ parts.Q[c] @ Bc + cross + cross.T + parts.counts[c] * np.outer(kc, kc)
    return gram / n**2


def _aggregate(mo: AttGtMoments, parts: _Parts, kind: str) -> AggregatedMoments:
    K = len(mo.estimate)
    Cn = len(parts.counts)
    n = float(mo.n_units)
    G = len(parts.cohorts)
    pgg = parts.counts[1:] / n
    entry = parts.g_code - 1
    pg = pgg[entry]
    att, group, time = mo.estimate, mo.cohort, mo.time
    post = group <= time
    unit_g = np.arange(Cn) - 1  # cohort code -> index among treated cohorts (-1 never)

    def wif(keep: np.ndarray, pk: np.ndarray, a: np.ndarray) -> np.ndarray:
        tot = pk.sum()
        Acoh = np.bincount(keep, weights=a, minlength=G)
        Ncoh = np.bincount(keep, minlength=G).astype(float)
        ua = np.where(unit_g >= 0, Acoh[np.maximum(unit_g, 0)], 0.0)
        un = np.where(unit_g >= 0, Ncoh[np.maximum(unit_g, 0)], 0.0)
        pa = float(pk @ a)
        return (ua - pa) / tot - (un - tot) * (pa / tot**2)

    def weighted(which: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        v = pg[which] / pg[which].sum()
        col = np.zeros(K)
        col[which] = v
        return float(att[which] @ v), col, wif(entry[which], pg[which], att[which])

    cols: list[np.ndarray] = []
    oms: list[np.ndarray] = []
    ests: list[float] = []
    labels: np.ndarray = np.array([])
    if kind == "simple":
        est, Lo, wo = weighted(np.flatnonzero(post))
    elif kind == "group":
        labels = parts.cohorts.astype(float)
        ok = []
        for g in parts.cohorts:
            which = np.flatnonzero((group == g) & post)
            col = np.zeros(K)
            if len(which):
                col[which] = 1.0 / len(which)
            ests.append(float(att[which].mean()) if len(which) else np.nan)
            cols.append(col)
            oms.append(np.zeros(Cn))
            ok.append(len(which) > 0)
        okb = np.asarray(ok)
        a = np.asarray(ests)[okb]
        v = pgg[okb] / pgg[okb].sum()
        est = float(a @ v)
        Lo = np.column_stack(cols)[:, okb] @ v
        wo = wif(np.flatnonzero(okb), pgg[okb], a)
    else:
        if kind == "dynamic":
            e = time - group
            labels = np.unique(e)
            sets = [np.flatnonzero(e == ev) for ev in labels]
            use = labels >= 0
        else:
            labels = np.unique(time)
            labels = labels[labels >= group.min()]
            sets = [np.flatnonzero((time == t1) & post) for t1 in labels]
            use = np.ones(len(labels), dtype=bool)
        for which in sets:
            est_j, col, om = weighted(which)
            ests.append(est_j)
            cols.append(col)
            oms.append(om)
        est = float(np.mean(np.asarray(ests)[use])) if use.any() else np.nan
        Lo = np.column_stack(cols)[:, use].mean(axis=1)
        wo = np.column_stack(oms)[:, use].mean(axis=1)
    L = np.column_stack([Lo, *cols]) if cols else Lo[:, None]
    om_all = np.column_stack([wo, *oms]) if oms else wo[:, None]
    V = _cov(parts, n, L, om_all)
    se = np.sqrt(np.clip(np.diag(V), 0.0, None))
    se[~(se > np.sqrt(np.finfo(float).eps) * 10)] = np.nan
    return AggregatedMoments(
        kind=kind,
        labels=labels,
        estimate=np.asarray(ests, dtype=float),
        std_error=se[1:],
        overall_estimate=est,
        overall_std_error=float(se[0]),
    )


def att_gt_moments(
    data: object,
    outcome: str,
    unit: str,
    time: str,
    cohort: str,
    *,
    comparison: str = "never_treated",
    base_period: str = "varying",
    anticipation: int = 0,
    clusters: str | None = None,
) -> AttGtMoments:
    r"""ATT(g,t) and their influence-function covariance from cohort x period aggregates.

    Numeric periods and cohorts (0 or missing = never treated). Units without an outcome in
    every period are dropped (R ``did``'s balancing), and so are units treated in the first
    period (+ anticipation), as :func:`fieldexp.staggered_did`. With :math:`A, S` of
    :func:`~fieldexp.diffindiff._kernels.att_gt_no_covariates` and per cohort *c* the sums
    :math:`n_c`, :math:`m_c=\sum_i Y_i` (T), :math:`Q_c=\sum_i Y_iY_i^\top` (T x T), the
    differences :math:`\Delta_k = e_{t_k}-e_{b_k}` give

    .. math::

        \sum_i\psi_{ik}\psi_{il} = \sum_c A_{ck}A_{cl}\Delta_k^\top Q_c\Delta_l
          - A_{ck}S_{cl}\Delta_k^\top m_c - S_{ck}A_{cl}\Delta_l^\top m_c
          + n_c S_{ck}S_{cl}.

    With ``clusters`` (constant within unit) the influence functions are summed within
    clusters first, as :func:`fieldexp.staggered_did`:
    :math:`u_{gk} = \sum_c A_{ck}\Delta_k^\top m_{gc} - n_{gc}S_{ck}` from the sums per
    cluster x cohort (pulled: at most *G (C+1)* rows, fewer than the units), and
    :math:`\hat V = U^\top U/n^2`.
    """
    # imported here: fieldexp.diffindiff (its package) dispatches to this module
    from fieldexp.diffindiff._kernels import _control_table, gt_design

    table = as_ibis(data, function=_FN)
    _check(
        table,
        {"outcome": outcome, "unit": unit, "time": time, "cohort": cohort, "clusters": clusters},
    )
    for col in (time, cohort):
        if not table.schema()[col].is_numeric():
            raise SpecificationError(
                f"{_FN} (att_gt_moments): column {col!r} must be numeric periods in the engine."
            )
    yexpr = table[outcome].cast("float64")
    if table.schema()[outcome].is_floating():
        yexpr = table[outcome].isnan().ifelse(None, yexpr)
    t = table.select(
        **{
            _U: table[unit],
            _T: table[time].cast("float64"),
            _Y: yexpr,
            _G: table[cohort].cast("float64").fill_null(0.0),
            **({_CL: table[clusters]} if clusters is not None else {}),
        }
    )
    periods = np.asarray(_periods(t), dtype=float)
    T = len(periods)
    first = periods[0]
    wide = _per_unit(t, list(periods), clusters is not None)
    complete = None
    for j in range(T):
        c = (wide[f"_n{j}"] == 1) & wide[f"_y{j}"].notnull()  # noqa: PD004
        complete = c if complete is None else complete & c
    if clusters is not None:
        complete = complete & wide["_clmin"].notnull() & (wide["_clmin"] == wide["_clmax"])  # noqa: PD004
    keep = wide.filter(complete & (wide["_gmin"] == wide["_gmax"]))
    # units treated in the first period (+ anticipation) have no pre-period
    keep = keep.filter((keep["_gmin"] == 0.0) | (keep["_gmin"] > first + anticipation))
    # outcomes centred at their period means (the influence functions and ATTs are
    # invariant to a constant per period; centring avoids cancellation in Q - m m'/n)
    mu = pull(
        keep.aggregate(**{f"mu{j}": keep[f"_y{j}"].mean() for j in range(T)}), "period means"
    ).to_pylist()[0]
    yc = [keep[f"_y{j}"] - float(mu[f"mu{j}"] or 0.0) for j in range(T)]
    aggs: dict[str, Any] = {"_nc": keep.count()}
    for j in range(T):
        aggs[f"m{j}"] = yc[j].sum()
        for s in range(j, T):
            aggs[f"q{j}_{s}"] = (yc[j] * yc[s]).sum()
    rows = pull(keep.group_by("_gmin").aggregate(**aggs).order_by("_gmin"), "cohort moments")
    g_val = np.asarray(rows["_gmin"].to_pylist(), dtype=float)
    cohorts = g_val[g_val > 0]
    if len(cohorts) == 0:
        raise DataError(f"cohort column {cohort!r} has no treated units: nothing to estimate.")
    code = np.where(g_val > 0, np.searchsorted(cohorts, g_val) + 1, 0)
    Cn = len(cohorts) + 1
    counts = np.zeros(Cn)
    m = np.zeros((Cn, T))
    Q = np.zeros((Cn, T, T))
    for r, c in zip(rows.to_pylist(), code, strict=True):
        counts[c] = r["_nc"]
        for j in range(T):
            m[c, j] = r[f"m{j}"]
            for s in range(j, T):
                Q[c, j, s] = Q[c, s, j] = r[f"q{j}_{s}"]
    if comparison == "never_treated" and counts[0] == 0:
        raise DataError(
            "comparison='never_treated' needs never-treated units (cohort 0 or missing); "
            "found none. Use comparison='not_yet_treated'."
        )
    design = gt_design(
        periods, cohorts, control=comparison, base_period=base_period,
        anticipation=float(anticipation),
    )  # fmt: skip
    n = float(counts.sum())
    K = len(design.group)
    ctrl = _control_table(design)
    k = np.arange(K)
    dS = m[:, design.t_idx] - m[:, design.b_idx]
    Wg = counts[design.g_code]
    WC = ctrl.T.astype(float) @ counts
    if np.any(WC <= 0):
        bad = int(np.flatnonzero(WC <= 0)[0])
        raise DataError(
            f"no control units for cohort {design.group[bad]:g} in period {design.time[bad]:g}."
        )
    mean_g = dS[design.g_code, k] / Wg
    mean_c = (dS * ctrl).sum(axis=0) / WC
    att = mean_g - mean_c
    att[design.is_base] = 0.0
    A = np.where(ctrl, -n / WC[None, :], 0.0)
    S = np.where(ctrl, A * mean_c[None, :], 0.0)
    A[design.g_code, k] = n / Wg
    S[design.g_code, k] = n / Wg * mean_g
    Dm = np.zeros((T, K))
    Dm[design.t_idx, k] += 1.0
    Dm[design.b_idx, k] -= 1.0
    A[:, design.is_base] = 0.0
    S[:, design.is_base] = 0.0
    parts = _Parts(A, S, Dm, counts, m, Q, cohorts, design.g_code)
    gram = np.zeros((K, K))
    for c in range(Cn):
        if counts[c] == 0:
            continue
        dQd = Dm.T @ Q[c] @ Dm
        dm = Dm.T @ m[c]
        a, s = A[c], S[c]
        gram += np.outer(a, a) * dQd - np.outer(a * dm, s) - np.outer(s, a * dm)
        gram += counts[c] * np.outer(s, s)
    if clusters is not None:
        sums = {"_ngc": keep.count(), **{f"m{j}": yc[j].sum() for j in range(T)}}
        per = pull(
            keep.group_by(["_clmin", "_gmin"]).aggregate(**sums), "cluster x cohort sums"
        ).to_pandas()
        cl_codes = pd.factorize(per["_clmin"], sort=True)[0]
        gv = per["_gmin"].to_numpy(dtype=float)
        cc = np.where(gv > 0, np.searchsorted(cohorts, gv) + 1, 0)
        mg = per[[f"m{j}" for j in range(T)]].to_numpy(dtype=float) @ Dm  # rows x K
        rows_u = A[cc] * mg - per["_ngc"].to_numpy(dtype=float)[:, None] * S[cc]
        U = np.zeros((int(cl_codes.max()) + 1, K))
        np.add.at(U, cl_codes, rows_u)
        gram = U.T @ U
        cl_m = per[[f"m{j}" for j in range(T)]].to_numpy(dtype=float)
        parts = _Parts(A, S, Dm, counts, m, Q, cohorts, design.g_code, cl_codes, cc,
                       per["_ngc"].to_numpy(dtype=float), cl_m)  # fmt: skip
    gram[design.is_base, :] = 0.0
    gram[:, design.is_base] = 0.0
    vcov = gram / n**2
    se = np.sqrt(np.clip(np.diag(vcov), 0.0, None))
    se[se <= np.sqrt(np.finfo(float).eps) * 10] = np.nan
    return AttGtMoments(
        cohort=design.group,
        time=design.time,
        base_period=design.base,
        estimate=att,
        std_error=se,
        vcov=vcov,
        n_treated=counts[design.g_code].astype(np.int64),
        n_control=(ctrl.T.astype(float) @ counts).astype(np.int64),
        n_units=int(n),
        _parts=parts,
    )
