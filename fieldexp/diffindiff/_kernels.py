r"""Numerical kernels for Callaway & Sant'Anna (2021) group-time ATTs (arrays in, dataclasses out).

Notation: :math:`n` units, periods :math:`t_1<\dots<t_T`, cohorts :math:`g` (first treated
period, 0 = never treated), unit weights :math:`w_i` normalised to mean one.

For each group-time cell :math:`(g,t)` with base period :math:`b` (``varying``: :math:`b=t-1` before
treatment, :math:`b=g-1-\delta` after; ``universal``: always :math:`g-1-\delta`), with
:math:`\Delta_i = Y_{it}-Y_{ib}`, treated set :math:`G_i=1\{g_i=g\}` and control set
:math:`C_i` (never treated, or not yet treated by :math:`\max(t,b)+\delta`),

.. math::

    \widehat{ATT}(g,t) = \frac{\sum_i w_i G_i \Delta_i}{\sum_i w_i G_i}
        - \frac{\sum_i w_i C_i \Delta_i}{\sum_i w_i C_i}

without covariates (Callaway & Sant'Anna 2021, eq. 2.5 with :math:`X=1`), and its influence
function (scaled as R ``did``: :math:`\widehat{se}=\sqrt{\sum_i \psi_i^2}/n`)

.. math::

    \psi_i(g,t) = n\,w_i\Big[\frac{G_i(\Delta_i-\bar\Delta_G)}{\sum_j w_jG_j}
        - \frac{C_i(\Delta_i-\bar\Delta_C)}{\sum_j w_jC_j}\Big].

With covariates each cell is one 2x2 problem on :math:`G\cup C`, solved by Sant'Anna & Zhao
(2020, J. Econometrics 219(1)) estimators as in R ``DRDID``: ``dr`` = ``drdid_panel`` (eq. 3.1,
logit propensity score by maximum likelihood, OLS outcome regression on controls), ``reg`` =
``reg_did_panel`` (Heckman, Ichimura & Todd 1997), ``ipw`` = ``std_ipw_did_panel`` (Abadie 2005,
normalised weights); each influence function is rescaled by :math:`n/n_1` (units in the cell's
subsample) as R ``did``'s ``compute.att_gt`` does.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
from scipy import stats

from fieldexp.errors import EstimationError, FieldexpWarning, SpecificationError

__all__ = [
    "AttGt",
    "Bootstrap",
    "GtDesign",
    "TwoByTwo",
    "att_gt_covariates",
    "att_gt_no_covariates",
    "att_gt_pairwise",
    "cluster_sums",
    "combine_columns",
    "drdid_panel",
    "gram",
    "gt_design",
    "influence_se",
    "multiplier_bootstrap",
    "reg_did_panel",
    "std_ipw_did_panel",
]

_TINY_SE = math.sqrt(np.finfo(float).eps) * 10


@dataclass(frozen=True, slots=True, eq=False)
class GtDesign:
    """The group-time cells to estimate, in R ``did``'s order (cohort, then period).

    ``group``/``time``/``base`` are period values; ``t_idx``/``b_idx`` column indices of the
    wide outcome matrix; ``g_code`` the cohort code (1..G, 0 = never treated);
    ``control_after`` the threshold: cohorts later than it (and never-treated units) are controls
    (``inf`` for never-treated controls); ``is_base`` marks the universal base period cell
    (estimate fixed at 0).
    """

    group: np.ndarray
    time: np.ndarray
    base: np.ndarray
    t_idx: np.ndarray
    b_idx: np.ndarray
    g_code: np.ndarray
    control_after: np.ndarray
    is_base: np.ndarray
    cohorts: np.ndarray


@dataclass(frozen=True, slots=True, eq=False)
class AttGt:
    """ATT(g,t) estimates, analytic standard errors and the ``n x K`` influence matrix."""

    att: np.ndarray
    se: np.ndarray
    influence: np.ndarray
    n_treated: np.ndarray
    n_control: np.ndarray


@dataclass(frozen=True, slots=True)
class TwoByTwo:
    """One 2x2 DiD on a subsample: the ATT and its influence function (one entry per unit)."""

    att: float
    influence: np.ndarray


@dataclass(frozen=True, slots=True, eq=False)
class Bootstrap:
    """Multiplier bootstrap: per-column SE (IQR-based, as R ``did``) and sup-t critical value."""

    se: np.ndarray
    crit_val: float
    reps: int
    draws: np.ndarray


def gt_design(
    periods: np.ndarray,
    cohorts: np.ndarray,
    *,
    control: str,
    base_period: str,
    anticipation: float,
) -> GtDesign:
    """Enumerate the (g,t) cells and their base periods as R ``did``'s ``compute.att_gt``."""
    T = len(periods)
    rows: list[tuple[float, float, float, int, int, int, float, bool]] = []
    for gi, g in enumerate(cohorts, start=1):
        pre = np.flatnonzero(periods + anticipation < g)
        if len(pre) == 0:
            continue
        last_pre = int(pre[-1])
        t_range = range(T) if base_period == "universal" else range(1, T)
        for ti in t_range:
            post = g <= periods[ti]
            bi = last_pre if base_period == "universal" or post else ti - 1
            thr = (
                math.inf
                if control == "never_treated"
                else float(periods[max(ti, bi)] + anticipation)
            )
            rows.append(
                (float(g), float(periods[ti]), float(periods[bi]), ti, bi, gi, thr, bi == ti)
            )
    arr: list[tuple[object, ...]] = list(zip(*rows, strict=True)) if rows else [()] * 8
    return GtDesign(
        group=np.asarray(arr[0], dtype=float),
        time=np.asarray(arr[1], dtype=float),
        base=np.asarray(arr[2], dtype=float),
        t_idx=np.asarray(arr[3], dtype=np.int64),
        b_idx=np.asarray(arr[4], dtype=np.int64),
        g_code=np.asarray(arr[5], dtype=np.int64),
        control_after=np.asarray(arr[6], dtype=float),
        is_base=np.asarray(arr[7], dtype=bool),
        cohorts=np.asarray(cohorts, dtype=float),
    )


def _control_table(design: GtDesign) -> np.ndarray:
    """Boolean ``(G+1) x K`` table: is cohort code ``c`` in the control group of cell ``k``."""
    G = len(design.cohorts)
    codes = np.arange(G + 1)
    values = np.concatenate([[0.0], design.cohorts])
    ctrl = (values[:, None] > design.control_after[None, :]) & (
        codes[:, None] != design.g_code[None, :]
    )
    ctrl[0, :] = True
    return ctrl


def att_gt_no_covariates(
    y: np.ndarray,
    cohort_code: np.ndarray,
    weights: np.ndarray | None,
    design: GtDesign,
    *,
    chunk: int = 65_536,
) -> AttGt:
    r"""All ATT(g,t) and their influence functions from cohort x period sums (no covariates).

    The estimates need only :math:`\sum_{i\in c} w_i` and :math:`\sum_{i\in c} w_iY_{it}` per cohort
    :math:`c`; the influence matrix is filled in row blocks (``chunk`` units at a time) so memory
    stays at the ``n x K`` result.
    """
    n, _T = y.shape
    G = len(design.cohorts)
    K = len(design.group)
    w = np.ones(n) if weights is None else weights
    Wc = np.bincount(cohort_code, weights=w, minlength=G + 1)
    SY = np.zeros((G + 1, y.shape[1]))
    _cohort_sums(SY, y, w, cohort_code)
    counts = np.bincount(cohort_code, minlength=G + 1)
    ctrl = _control_table(design)
    dS = SY[:, design.t_idx] - SY[:, design.b_idx]  # (G+1) x K
    k = np.arange(K)
    Wg = Wc[design.g_code]
    WC = ctrl.T.astype(float) @ Wc
    mean_g = dS[design.g_code, k] / Wg
    mean_c = (dS * ctrl).sum(axis=0) / WC
    if np.any(WC <= 0):
        bad = np.flatnonzero(WC <= 0)[0]
        raise EstimationError(
            f"no control units for cohort {design.group[bad]:g} in period {design.time[bad]:g}: "
            "nobody is untreated in both periods compared (use control='never_treated' or add "
            "never-treated units)."
        )
    att = mean_g - mean_c
    att[design.is_base] = 0.0
    A = np.where(ctrl, -n / WC[None, :], 0.0)
    S = np.where(ctrl, A * mean_c[None, :], 0.0)
    A[design.g_code, k] = n / Wg
    S[design.g_code, k] = n / Wg * mean_g

    psi = np.empty((n, K), order="F")  # column-major: aggregations read whole columns
    for start in range(0, n, chunk):
        sl = slice(start, min(n, start + chunk))
        c = cohort_code[sl]
        yy = y[sl]
        d = yy[:, design.t_idx] - yy[:, design.b_idx]
        blk = A[c] * d
        blk -= S[c]
        if weights is not None:
            blk *= w[sl, None]
        psi[sl] = blk
    psi[:, design.is_base] = 0.0
    se = np.sqrt(np.einsum("ij,ij->j", psi, psi)) / n
    se[se <= _TINY_SE] = np.nan
    n_treated = counts[design.g_code]
    n_control = ctrl.T.astype(np.int64) @ counts
    return AttGt(att=att, se=se, influence=psi, n_treated=n_treated, n_control=n_control)


def att_gt_pairwise(
    y: np.ndarray,
    cohort_code: np.ndarray,
    weights: np.ndarray | None,
    design: GtDesign,
) -> AttGt:
    r"""ATT(g,t) on an unbalanced panel (``NaN`` = unit not observed), no covariates.

    Each cell uses the units observed in both periods it compares,
    :math:`O_i = 1\{Y_{it}, Y_{ib} \text{ observed}\}`: the formulas of
    :func:`att_gt_no_covariates` with :math:`G_iO_i` and :math:`C_iO_i` in place of :math:`G_i`
    and :math:`C_i`, and :math:`n` all units (so cohort shares and the influence-function scale
    are those of the whole sample). Valid when being observed in a pair of periods is unrelated
    to the outcome trend (e.g. registration and purges unrelated to turnout changes).
    """
    n = y.shape[0]
    G = len(design.cohorts)
    K = len(design.group)
    w = np.ones(n) if weights is None else weights
    ctrl = _control_table(design)
    att = np.zeros(K)
    psi = np.zeros((n, K), order="F")
    n_treated = np.zeros(K, dtype=np.int64)
    n_control = np.zeros(K, dtype=np.int64)
    for k in range(K):
        if design.is_base[k]:
            continue
        d = y[:, design.t_idx[k]] - y[:, design.b_idx[k]]
        obs = ~np.isnan(d)
        code = cohort_code[obs]
        dk = d[obs]
        wk = w[obs]
        Wc = np.bincount(code, weights=wk, minlength=G + 1)
        Sc = np.bincount(code, weights=wk * dk, minlength=G + 1)
        cnt = np.bincount(code, minlength=G + 1)
        g = design.g_code[k]
        cmask = ctrl[:, k]
        Wg, WC = Wc[g], Wc[cmask].sum()
        if Wg <= 0 or WC <= 0:
            raise EstimationError(
                f"ATT({design.group[k]:g}, {design.time[k]:g}): no "
                f"{'treated' if Wg <= 0 else 'control'} unit is observed in both periods "
                f"{design.base[k]:g} and {design.time[k]:g}."
            )
        mg, mc = Sc[g] / Wg, Sc[cmask].sum() / WC
        att[k] = mg - mc
        is_t = code == g
        is_c = cmask[code]
        col = np.zeros(len(dk))
        col[is_t] = n * wk[is_t] * (dk[is_t] - mg) / Wg
        col[is_c] = -n * wk[is_c] * (dk[is_c] - mc) / WC
        psi[obs, k] = col
        n_treated[k] = cnt[g]
        n_control[k] = cnt[cmask].sum()
    se = np.sqrt(np.einsum("ij,ij->j", psi, psi)) / n
    se[~(se > _TINY_SE)] = np.nan
    return AttGt(att=att, se=se, influence=psi, n_treated=n_treated, n_control=n_control)


def _cohort_sums(out: np.ndarray, y: np.ndarray, w: np.ndarray, code: np.ndarray) -> None:
    for j in range(y.shape[1]):
        out[:, j] = np.bincount(code, weights=y[:, j] * w, minlength=out.shape[0])


# --------------------------------------------------------------------------- 2x2 estimators
def _logit(D: np.ndarray, X: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Weighted logit by Newton-Raphson (R ``glm(binomial)``); fitted probabilities and ``vcov``."""
    k = X.shape[1]
    beta = np.zeros(k)
    p = np.full(len(D), 0.5)
    for _ in range(100):
        eta = X @ beta
        p = 1.0 / (1.0 + np.exp(-eta))
        W = w * p * (1 - p)
        H = (X * W[:, None]).T @ X
        grad = X.T @ (w * (D - p))
        try:
            step = np.linalg.solve(H, grad)
        except np.linalg.LinAlgError as exc:
            raise EstimationError(
                "the propensity-score logit is singular: covariates are collinear within a "
                "group-time cell."
            ) from exc
        beta = beta + step
        if np.max(np.abs(step)) < 1e-12 * (1 + np.max(np.abs(beta))):
            break
    eta = X @ beta
    p = 1.0 / (1.0 + np.exp(-eta))
    H = (X * (w * p * (1 - p))[:, None]).T @ X
    return p, np.linalg.inv(H)


def _wols(dy: np.ndarray, X: np.ndarray, w: np.ndarray, mask: np.ndarray) -> np.ndarray:
    Xc = X[mask] * np.sqrt(w[mask])[:, None]
    yc = dy[mask] * np.sqrt(w[mask])
    beta, *_ = np.linalg.lstsq(Xc, yc, rcond=None)
    return beta


def drdid_panel(
    y1: np.ndarray, y0: np.ndarray, D: np.ndarray, X: np.ndarray, w: np.ndarray
) -> TwoByTwo:
    r"""Locally efficient doubly robust DiD for panel data (Sant'Anna & Zhao 2020, eq. 3.1).

    .. math::

        \hat\tau^{dr} = \frac{\sum w_iD_i(\Delta Y_i-\hat\mu_0(X_i))}{\sum w_iD_i}
        - \frac{\sum w_i\frac{\hat p(X_i)(1-D_i)}{1-\hat p(X_i)}(\Delta Y_i-\hat\mu_0(X_i))}
               {\sum w_i\frac{\hat p(X_i)(1-D_i)}{1-\hat p(X_i)}}

    with a logit :math:`\hat p` and an OLS :math:`\hat\mu_0` fitted on controls; the influence
    function includes both estimation effects (R ``DRDID::drdid_panel``).
    """
    n = len(D)
    w = w / w.mean()
    dy = y1 - y0
    ps, vcov = _logit(D, X, w)
    ps = np.minimum(ps, 1 - 1e-6)
    trim = np.ones(n, dtype=bool)
    trim[D == 0] = ps[D == 0] < 0.995
    beta = _wols(dy, X, w, D == 0)
    out = X @ beta
    w_treat = trim * w * D
    w_cont = trim * w * ps * (1 - D) / (1 - ps)
    att_treat = w_treat * (dy - out)
    att_cont = w_cont * (dy - out)
    eta_treat = att_treat.mean() / w_treat.mean()
    eta_cont = att_cont.mean() / w_cont.mean()
    wols_w = w * (1 - D)
    xpx_inv = np.linalg.inv((X * wols_w[:, None]).T @ X / n)
    asy_ols = (wols_w * (dy - out))[:, None] * X @ xpx_inv
    asy_ps = (w * (D - ps))[:, None] * X @ (vcov * n)
    inf_treat_1 = att_treat - w_treat * eta_treat
    M1 = (w_treat[:, None] * X).mean(axis=0)
    inf_treat = (inf_treat_1 - asy_ols @ M1) / w_treat.mean()
    inf_cont_1 = att_cont - w_cont * eta_cont
    M2 = ((w_cont * (dy - out - eta_cont))[:, None] * X).mean(axis=0)
    M3 = (w_cont[:, None] * X).mean(axis=0)
    inf_control = (inf_cont_1 + asy_ps @ M2 - asy_ols @ M3) / w_cont.mean()
    return TwoByTwo(att=float(eta_treat - eta_cont), influence=inf_treat - inf_control)


def reg_did_panel(
    y1: np.ndarray, y0: np.ndarray, D: np.ndarray, X: np.ndarray, w: np.ndarray
) -> TwoByTwo:
    r"""Outcome-regression DiD (Heckman, Ichimura & Todd 1997; R ``DRDID::reg_did_panel``).

    .. math::

        \hat\tau^{reg} = \frac{\sum w_iD_i(\Delta Y_i - X_i'\hat\beta_0)}{\sum w_iD_i},
        \quad \hat\beta_0 \text{ from weighted OLS of } \Delta Y \text{ on } X
        \text{ among controls.}
    """
    n = len(D)
    w = w / w.mean()
    dy = y1 - y0
    beta = _wols(dy, X, w, D == 0)
    out = X @ beta
    w_treat = w * D
    w_cont = w * D
    reg_treat = w_treat * dy
    reg_cont = w_cont * out
    eta_treat = reg_treat.mean() / w_treat.mean()
    eta_cont = reg_cont.mean() / w_cont.mean()
    wols_w = w * (1 - D)
    xpx_inv = np.linalg.inv((X * wols_w[:, None]).T @ X / n)
    asy_ols = (wols_w * (dy - out))[:, None] * X @ xpx_inv
    inf_treat = (reg_treat - w_treat * eta_treat) / w_treat.mean()
    M1 = (w_cont[:, None] * X).mean(axis=0)
    inf_control = (reg_cont - w_cont * eta_cont + asy_ols @ M1) / w_cont.mean()
    return TwoByTwo(att=float(eta_treat - eta_cont), influence=inf_treat - inf_control)


def std_ipw_did_panel(
    y1: np.ndarray, y0: np.ndarray, D: np.ndarray, X: np.ndarray, w: np.ndarray
) -> TwoByTwo:
    r"""Normalised inverse-probability-weighted DiD (Abadie 2005; R ``DRDID::std_ipw_did_panel``).

    .. math::

        \hat\tau^{ipw} = \frac{\sum w_iD_i\Delta Y_i}{\sum w_iD_i}
        - \frac{\sum w_i\frac{\hat p(1-D_i)}{1-\hat p}\Delta Y_i}
               {\sum w_i\frac{\hat p(1-D_i)}{1-\hat p}}
    """
    n = len(D)
    w = w / w.mean()
    dy = y1 - y0
    ps, vcov = _logit(D, X, w)
    ps = np.minimum(ps, 1 - 1e-6)
    trim = np.ones(n, dtype=bool)
    trim[D == 0] = ps[D == 0] < 0.995
    w_treat = trim * w * D
    w_cont = trim * w * ps * (1 - D) / (1 - ps)
    att_treat = w_treat * dy
    att_cont = w_cont * dy
    eta_treat = att_treat.mean() / w_treat.mean()
    eta_cont = att_cont.mean() / w_cont.mean()
    asy_ps = (w * (D - ps))[:, None] * X @ (vcov * n)
    inf_treat = (att_treat - w_treat * eta_treat) / w_treat.mean()
    M2 = ((w_cont * (dy - eta_cont))[:, None] * X).mean(axis=0)
    inf_control = (att_cont - w_cont * eta_cont + asy_ps @ M2) / w_cont.mean()
    return TwoByTwo(att=float(eta_treat - eta_cont), influence=inf_treat - inf_control)


_TWO_BY_TWO = {"dr": drdid_panel, "reg": reg_did_panel, "ipw": std_ipw_did_panel}


def att_gt_covariates(
    y: np.ndarray,
    x: np.ndarray,
    cohort_code: np.ndarray,
    weights: np.ndarray | None,
    design: GtDesign,
    est_method: str,
) -> AttGt:
    """All ATT(g,t) with covariates: one 2x2 estimator per cell on its treated + control units.

    Covariates are taken in the earlier of the two periods compared (R ``did``'s ``panel2cs2``
    keeps that row); an intercept is added. As R ``did``, a cell whose unweighted propensity
    score reaches 0.999 (``dr``/``ipw``) or whose control design is singular (``dr``/``reg``) is
    reported as missing with a warning.
    """
    n = y.shape[0]
    K = len(design.group)
    w_all = np.ones(n) if weights is None else weights
    ctrl = _control_table(design)
    estimator = _TWO_BY_TWO[est_method]
    att = np.full(K, np.nan)
    psi = np.zeros((n, K))
    n_treated = np.zeros(K, dtype=np.int64)
    n_control = np.zeros(K, dtype=np.int64)
    eps = np.finfo(float).eps
    for k in range(K):
        treat = cohort_code == design.g_code[k]
        cont = ctrl[cohort_code, k]
        ti, bi = design.t_idx[k], design.b_idx[k]
        seen = ~(np.isnan(y[:, ti]) | np.isnan(y[:, bi]))  # unbalanced='pairwise'
        treat = treat & seen
        cont = cont & seen
        sub = np.flatnonzero(treat | cont)
        n_treated[k] = int(treat.sum())
        n_control[k] = int(cont.sum())
        if design.is_base[k]:
            att[k] = 0.0
            continue
        D = treat[sub].astype(float)
        X = np.column_stack([np.ones(len(sub)), x[sub, min(ti, bi), :]])
        problem = None
        if est_method in ("dr", "ipw"):
            try:
                p0, _ = _logit(D, X, np.ones(len(sub)))
            except EstimationError:
                p0 = None
                problem = (
                    "the propensity-score logit is singular (collinear covariates, or a "
                    "covariate without variation, in this cell)"
                )
            if p0 is not None and p0.max() >= 0.999:
                problem = "overlap fails (a propensity score reaches 0.999)"
        if problem is None and est_method in ("dr", "reg"):
            Xc = X[D == 0]
            if 1.0 / np.linalg.cond(Xc.T @ Xc, 1) < eps:
                # R did's check (rcond of the control design) and its NA cell; say both causes
                problem = (
                    "too few control units for the covariate regression, or collinear "
                    "covariates (the control units' design is singular)"
                )
        if problem is not None:
            warnings.warn(
                f"ATT({design.group[k]:g}, {design.time[k]:g}) not estimated: {problem}.",
                FieldexpWarning,
                stacklevel=3,
            )
            psi[:, k] = np.nan
            continue
        res = estimator(y[sub, ti], y[sub, bi], D, X, w_all[sub])
        att[k] = res.att
        psi[sub, k] = (n / len(sub)) * res.influence
    se = np.sqrt(np.einsum("ij,ij->j", psi, psi)) / n
    se[~(se > _TINY_SE)] = np.nan
    return AttGt(att=att, se=se, influence=psi, n_treated=n_treated, n_control=n_control)


# --------------------------------------------------------------------------- inference helpers
def gram(s: np.ndarray) -> np.ndarray:
    """:math:`S^\top S` for a tall, skinny matrix.

    ``np.einsum`` runs single-threaded; multithreaded BLAS on a busy shared machine was measured
    10x slower than it on 1M x 21 influence matrices (threads spin waiting for cores).
    """
    return np.einsum("ij,ik->jk", s, s)


def combine_columns(psi: np.ndarray, which: np.ndarray, coef: np.ndarray) -> np.ndarray:
    """``psi[:, which] @ coef`` without copying the selected columns."""
    out = np.zeros(psi.shape[0])
    for j, c in zip(which, coef, strict=True):
        out += c * psi[:, j]
    return out


def cluster_sums(psi: np.ndarray, clusters: np.ndarray | None) -> np.ndarray:
    """Sum influence-function rows within clusters (identity when ``clusters`` is None)."""
    if clusters is None:
        return psi
    ncl = int(clusters.max()) + 1
    if psi.ndim == 1:
        return np.bincount(clusters, weights=psi, minlength=ncl)
    out = np.empty((ncl, psi.shape[1]))
    for j in range(psi.shape[1]):
        out[:, j] = np.bincount(clusters, weights=psi[:, j], minlength=ncl)
    return out


def influence_se(psi: np.ndarray, n: int, clusters: np.ndarray | None = None) -> np.ndarray | float:
    r"""Standard error from an influence function: :math:`\sqrt{\sum_c(\sum_{i\in c}\psi_i)^2}/n`.

    Without clusters every unit is its own cluster (R ``did``'s analytic SE,
    :math:`\sqrt{\overline{\psi^2}/n}`).
    """
    s = cluster_sums(psi, clusters)
    if s.ndim == 1:
        val = float(np.sqrt(s @ s) / n)
        return val if val > _TINY_SE else math.nan
    se = np.sqrt(np.einsum("ij,ij->j", s, s)) / n
    se[~(se > _TINY_SE)] = np.nan
    return se


def _quantile_type1(x: np.ndarray, p: float, axis: int = 0) -> np.ndarray:
    xs = np.sort(x, axis=axis)
    N = xs.shape[axis]
    j = max(1, math.ceil(N * p - 1e-12))
    return np.take(xs, j - 1, axis=axis)


#: share of physical memory a bootstrap may take (the rest belongs to the data and the OS)
_MEMORY_SHARE = 0.5


def _physical_memory() -> int:
    """Bytes of physical memory (8 GiB when the platform does not say)."""
    import os

    try:
        return int(os.sysconf("SC_PHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, OSError, ValueError):  # pragma: no cover - non-POSIX
        return 8 * 2**30


def bootstrap_bytes(reps: int, n_columns: int) -> int:
    """Peak bytes of :func:`multiplier_bootstrap`: the ``reps x k`` draws, the scaled copy and
    sort buffers of the quantiles (about 4 float arrays of that size) and the ``reps`` maxima."""
    return 8 * reps * (4 * max(n_columns, 1) + 2)


def check_bootstrap_memory(reps: int, n_columns: int, *, function: str) -> None:
    """Refuse at once a bootstrap whose draws cannot fit in memory (before allocating them)."""
    need = bootstrap_bytes(reps, n_columns)
    budget = int(_MEMORY_SHARE * _physical_memory())
    if need > budget:
        max_reps = max(budget // (8 * (4 * max(n_columns, 1) + 2)), 0)
        raise SpecificationError(
            f"The 'reps' parameter of {function} asks for {reps:,} multiplier-bootstrap draws of "
            f"{n_columns} effects: about {need / 2**30:,.1f} GiB of memory, more than the "
            f"{budget / 2**30:,.1f} GiB allowed (half of this machine's memory). Use at most "
            f"{max_reps:,} draws (1,000 is R did's default; the standard errors do not depend "
            "on reps, only the simultaneous band does)."
        )


def multiplier_bootstrap(
    psi: np.ndarray,
    n: int,
    *,
    reps: int,
    rng: np.random.Generator,
    alpha: float,
    clusters: np.ndarray | None = None,
    weights_kind: str = "rademacher",
) -> Bootstrap:
    r"""Multiplier bootstrap of influence functions (Callaway & Sant'Anna 2021, Algorithm 1).

    Draw :math:`V_{bc}` i.i.d. (Rademacher :math:`\pm1`, Mammen's two-point weights, or standard
    normal -- then the sum is exactly :math:`N(0,\Psi'\Psi)` and is drawn from the Gram matrix in
    :math:`O(m^2)` per draw instead of :math:`O(n)`) per unit or
    cluster :math:`c`, form
    :math:`\hat\theta^*_b-\hat\theta = n^{-1}\sum_c V_{bc}\sum_{i\in c}\psi_i`,
    estimate each column's scale robustly, :math:`\hat\sigma = (q_{.75}-q_{.25})/(z_{.75}-z_{.25})`
    (R ``did``'s ``mboot``), and take the :math:`1-\alpha` quantile of
    :math:`\max_k |\hat\theta^*_{bk}-\hat\theta_k|/\hat\sigma_k` as the simultaneous critical value.
    """
    s = cluster_sums(psi if psi.ndim == 2 else psi[:, None], clusters)
    m = s.shape[0]
    draws = np.zeros((reps, s.shape[1]))
    block = max(1, min(m, 4_000_000 // max(reps, 1)))
    for start in range(0, m, block):
        stop = min(m, start + block)
        if weights_kind == "gaussian":
            break
        if weights_kind == "mammen":
            kappa = (math.sqrt(5) + 1) / 2
            u = rng.random((reps, stop - start))
            V = np.where(u < kappa / math.sqrt(5), 1 - kappa, kappa)
        else:
            V = rng.integers(0, 2, size=(reps, stop - start), dtype=np.int8).astype(float) * 2 - 1
        draws += V @ s[start:stop]
    if weights_kind == "gaussian":
        # sum_i V_i psi_i with V_i ~ N(0, 1) is exactly N(0, Psi'Psi): draw it from the Gram matrix
        evals, evecs = np.linalg.eigh(gram(s))
        root = evecs * np.sqrt(np.clip(evals, 0.0, None))
        draws = rng.standard_normal((reps, s.shape[1])) @ root.T
    draws /= n
    q75 = _quantile_type1(draws, 0.75)
    q25 = _quantile_type1(draws, 0.25)
    sigma = (q75 - q25) / (stats.norm.ppf(0.75) - stats.norm.ppf(0.25))
    sigma = np.where(sigma > _TINY_SE, sigma, np.nan)
    ok = np.isfinite(sigma)
    if not ok.any():
        return Bootstrap(se=sigma, crit_val=math.nan, reps=reps, draws=draws)
    tmax = np.max(np.abs(draws[:, ok] / sigma[ok]), axis=1)
    crit = float(_quantile_type1(tmax, 1 - alpha))
    return Bootstrap(se=sigma, crit_val=crit, reps=reps, draws=draws)
