r"""Event-study regressions from unit-pattern cell sums (exact; balanced or not).

The event-study regressors of :mod:`fieldexp.diffindiff.events` are indicators whose value
in row :math:`(i, t)` depends only on the unit's cohort and the period: row :math:`(i,t)`
sets at most column :math:`c_{it}` of :math:`X`. Call the *pattern* :math:`p(i)` of a unit
its columns over the periods, with the periods it is not observed in marked (units
registered later than the first election are observed from then on). Absorb the unit
effects exactly (one within pass) and keep the period effects as explicit dummies
:math:`D` (one period left out): with :math:`Z = [X, D]`,

.. math::

    \tilde z_{p}(t) = z_p(t) - \frac{1}{|S_p|}\sum_{s \in S_p} z_p(s), \qquad
    \tilde Z^\top \tilde Z = \sum_p n_p \sum_{t\in S_p} \tilde z_p(t)\tilde z_p(t)^\top, \qquad
    \tilde Z^\top y = \sum_p \sum_{t\in S_p} \tilde z_p(t)\, Y_p(t),

with :math:`S_p` the observed periods of pattern :math:`p`, :math:`n_p` its units and
:math:`Y_p(t)=\sum_{i \in p} y_{it}`. By Frisch–Waugh–Lovell the coefficients of :math:`X`
are those of the two-way fixed-effects regression: with
:math:`\ddot x_p(t) = \tilde x_p(t) - \Gamma^\top \tilde d_p(t)`,
:math:`\Gamma = (\tilde D^\top\tilde D)^{-1}\tilde D^\top \tilde X`,

.. math::

    M = (\ddot X^\top \ddot X)^{-1}
      = \bigl(\tilde X^\top\tilde X - \tilde X^\top\tilde D\,\Gamma\bigr)^{-1},\qquad
    \hat\beta = M \ddot X^\top y,

and :math:`\ddot X` is exactly the two-way within transformation of :math:`X` that the
alternating projections of :func:`fieldexp.stats.absorb.demean` converge to. The
cluster-robust variance needs per-cluster scores :math:`s_c = \sum_{i\in c}\sum_t
\ddot x_{it} e_{it}`; since :math:`\sum_{t\in S_p}\ddot x_p(t) = 0` the unit means drop out
and, per unit,

.. math::

    u_i = \sum_{t\in S_i} \ddot x_{p(i)}(t)\, y_{it} - B_{p(i)}\,\hat\theta, \qquad
    B_p = \sum_{t\in S_p} \ddot x_p(t)\,\tilde z_p(t)^\top,

with :math:`\hat\theta` the coefficients of :math:`Z` (:math:`\hat\beta` and the period
effects). :math:`V = c\, M \bigl(\sum_c s_c s_c^\top\bigr) M` with CR0's :math:`c = 1` or
CR1's :math:`c = \frac{G}{G-1}\frac{n-1}{n-r}` (the same *r* as
:func:`fieldexp.stats.linear.fit_ols`). Nothing of size rows x regressors is built.

Used for unweighted fits with clusters that hold whole units (CR0 and CR1 only) on at
least :data:`MIN_ROWS` rows; anything else, and any doubt (collinearity, a very large number of patterns), returns ``None`` and
the caller runs the general :func:`fieldexp.stats.linear.fit_ols`, which also raises the
errors with their messages.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import linalg

from fieldexp.errors import EstimationError
from fieldexp.stats.absorb import fe_rank
from fieldexp.stats.covariance import fixest_fe_count
from fieldexp.stats.groups import GroupIndex
from fieldexp.stats.linear import LinearFit, gram_inverse

__all__ = ["fit_indicator_cells"]

#: patterns (cohort x observed periods) above which the per-pattern loop is not worth it
MAX_PATTERNS = 4096
#: rows below which the general fit runs: it is fast there, and small panels (the demo
#: report, the reference tests) keep their results bit for bit (the two paths agree to
#: about 1e-12 relative, the alternating projections' tolerance)
MIN_ROWS = 100_000


def fit_indicator_cells(
    y: np.ndarray,
    col: np.ndarray,
    k: int,
    names: Sequence[str],
    *,
    units: GroupIndex,
    periods: GroupIndex,
    clusters: GroupIndex | None,
    se_type: str,
    weights: np.ndarray | None,
    small_sample: str = "estimatr",
) -> LinearFit | None:
    """OLS of ``y`` on indicator columns with unit and period effects, from cell sums.

    Parameters
    ----------
    y : ndarray (n,)
    col : ndarray (n,) of int
        The column row ``i`` sets to one (``-1``: none); a function of the unit's cohort and
        the period.
    k : int
        Number of indicator columns.
    names : sequence of str
    units, periods : GroupIndex
        Unit and period of each row (one row per unit and period, checked by the caller).
    clusters : GroupIndex, optional
    se_type : str
        Resolved variance name.
    weights : ndarray, optional
    small_sample : {"estimatr", "fixest"}

    Returns
    -------
    LinearFit, or None when this path does not apply (see the module docstring).
    """
    if weights is not None or clusters is None or se_type not in ("stata", "CR0") or k == 0:
        return None
    if clusters.n_groups < 2 or y.shape[0] < MIN_ROWS:
        return None
    n = int(y.shape[0])
    n_u, n_t = units.n_groups, periods.n_groups
    # clusters must hold whole units: one cluster per unit
    cu = np.full(n_u, -1, dtype=np.int64)
    cu[units.codes] = clusters.codes
    if not np.array_equal(cu[units.codes], clusters.codes):
        return None
    base = k + 2
    if n_t * np.log2(base) > 62:
        return None
    wide = np.full((n_u, n_t), -2, dtype=np.int64)  # -2: not observed, -1: no column
    wide[units.codes, periods.codes] = col
    key = np.zeros(n_u, dtype=np.int64)
    for t in range(n_t):
        key = key * base + (wide[:, t] + 2)
    span = base**n_t
    if span <= 4 * n_u + 1024:  # direct addressing (few periods and columns)
        present = np.bincount(key, minlength=span) > 0
        remap = np.cumsum(present) - 1
        inv = remap[key]
        n_p = int(present.sum())
        first = np.empty(n_p, dtype=np.int64)
        first[inv[::-1]] = np.arange(n_u - 1, -1, -1)
    else:
        _, first, inv = np.unique(key, return_index=True, return_inverse=True)
        n_p = len(first)
    if n_p > MAX_PATTERNS:
        return None
    pat = wide[first]  # (P, T)
    obs = pat != -2
    n_k = k + n_t - 1
    Z = np.zeros((n_p, n_t, n_k))
    pp, tt = np.nonzero(pat >= 0)
    Z[pp, tt, pat[pp, tt]] = 1.0
    for t in range(1, n_t):
        Z[:, t, k + t - 1] = 1.0
    Z *= obs[:, :, None]
    m = obs.sum(axis=1)
    Zt = (Z - (Z.sum(axis=1) / m[:, None])[:, None, :]) * obs[:, :, None]  # z~_p(t)
    size = np.bincount(inv, minlength=n_p).astype(np.float64)
    yw = np.zeros((n_u, n_t))
    yw[units.codes, periods.codes] = y
    ysum = np.empty((n_p, n_t))
    for t in range(n_t):
        ysum[:, t] = np.bincount(inv, weights=yw[:, t], minlength=n_p)

    G = np.einsum("p,ptk,ptl->kl", size, Zt, Zt)
    b = np.einsum("ptk,pt->k", Zt, ysum)
    xs, ds = slice(0, k), slice(k, n_k)
    try:
        dd = linalg.cho_factor(G[ds, ds]) if n_k > k else None
    except linalg.LinAlgError:
        return None
    gamma = linalg.cho_solve(dd, G[ds, xs]) if dd is not None else np.zeros((0, k))
    schur = G[xs, xs] - G[xs, ds] @ gamma  # X''X'' (two-way within)
    schur = (schur + schur.T) / 2.0
    lam, vec = np.linalg.eigh(schur)
    root = (vec * np.sqrt(np.clip(lam, 0.0, None))).T  # root' root = schur
    try:
        M = gram_inverse(root, list(names), absorbed=True)
    except EstimationError:
        return None  # the general path raises it with its message
    Xdd = Zt[:, :, xs] - Zt[:, :, ds] @ gamma  # x''_p(t), (P, T, k)
    xy = np.einsum("ptk,pt->k", Xdd, ysum)
    beta = M @ xy
    beta = beta + M @ (xy - schur @ beta)
    delta = linalg.cho_solve(dd, b[ds] - G[ds, xs] @ beta) if dd is not None else np.zeros(0)
    theta = np.concatenate([beta, delta])

    rank = k + fe_rank((units, periods))
    if rank >= n:
        return None
    rank_cr1 = k + fixest_fe_count((units, periods), clusters) if small_sample == "fixest" else rank
    # per-unit scores, pattern by pattern
    B = np.einsum("ptk,ptl->pkl", Xdd, Zt) @ theta  # (P, k)
    order = np.argsort(inv, kind="stable")
    bounds = np.concatenate([[0], np.cumsum(np.bincount(inv, minlength=n_p))])
    u = np.empty((n_u, k))
    for p in range(n_p):
        rows = order[bounds[p] : bounds[p + 1]]
        u[rows] = yw[rows] @ Xdd[p] - B[p]
    n_c = clusters.n_groups
    s = np.empty((n_c, k))
    for j in range(k):
        s[:, j] = np.bincount(cu, weights=u[:, j], minlength=n_c)
    v = M @ (s.T @ s) @ M
    v = (v + v.T) / 2.0
    if se_type == "stata":
        v = v * (n_c * (n - 1) / ((n_c - 1) * (n - rank_cr1)))
    return LinearFit(
        names=tuple(names),
        coef=beta,
        vcov=v,
        df=np.full(k, float(n_c - 1)),
        se_type=se_type,
        nobs=n,
        nclusters=n_c,
        rank=rank,
    )
