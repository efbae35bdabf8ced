r"""Aggregations of ATT(g,t) and their influence functions (R ``did``'s ``compute.aggte``).

Every aggregate is a weighted sum :math:`\theta=\sum_k v_k\,ATT(g_k,t_k)` with weights built from
cohort shares :math:`\hat p_g = n^{-1}\sum_i w_i 1\{G_i=g\}`. Its influence function is

.. math::

    \psi_i^\theta = \sum_k v_k\,\psi_i(g_k,t_k) + \sum_k ATT(g_k,t_k)\,\xi_{ik},

where :math:`\xi` ("wif", Callaway & Sant'Anna 2021, Appendix) is the influence function of the
estimated weights :math:`v_k=\hat p_{g_k}/\sum_{j\in J}\hat p_{g_j}`:

.. math::

    \xi_{ik} = \frac{w_i1\{G_i=g_k\}-\hat p_{g_k}}{\sum_{j\in J}\hat p_{g_j}}
      - \frac{\hat p_{g_k}}{(\sum_{j\in J}\hat p_{g_j})^2}
        \sum_{j\in J}(w_i1\{G_i=g_j\}-\hat p_{g_j}).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fieldexp.diffindiff._kernels import combine_columns

__all__ = ["Aggregation", "aggregate_gt"]


@dataclass(frozen=True, slots=True, eq=False)
class Aggregation:
    """Components (``labels``, ``att``, ``influence`` n x m), the overall effect and influence."""

    kind: str
    labels: np.ndarray
    att: np.ndarray
    influence: np.ndarray
    overall_att: float
    overall_influence: np.ndarray


def _wif_dot(
    keep_gidx: np.ndarray,
    pg_keep: np.ndarray,
    a: np.ndarray,
    unit_gidx: np.ndarray,
    w: np.ndarray,
    n_groups: int,
) -> np.ndarray:
    """``wif(keepers) @ a`` without forming the ``n x |J|`` matrix."""
    S = pg_keep.sum()
    A = np.bincount(keep_gidx, weights=a, minlength=n_groups)
    N = np.bincount(keep_gidx, minlength=n_groups).astype(float)
    has = unit_gidx >= 0
    ua = np.where(has, A[np.where(has, unit_gidx, 0)], 0.0)
    un = np.where(has, N[np.where(has, unit_gidx, 0)], 0.0)
    pa = float(pg_keep @ a)
    term1 = (w * ua - pa) / S
    term2 = (w * un - pg_keep.sum()) * (pa / S**2)
    return term1 - term2


def aggregate_gt(
    kind: str,
    *,
    att: np.ndarray,
    psi: np.ndarray,
    group: np.ndarray,
    time: np.ndarray,
    cohorts: np.ndarray,
    unit_cohort: np.ndarray,
    unit_weights: np.ndarray,
    min_e: float = -np.inf,
    max_e: float = np.inf,
) -> Aggregation:
    """Aggregate ATT(g,t) into ``simple``, ``group``, ``dynamic`` or ``calendar`` effects.

    ``simple``: :math:`\\sum_{t\\ge g}\\hat p_g ATT(g,t)/\\sum_{t\\ge g}\\hat p_g`;
    ``group``: per cohort the mean of its post-period ATT(g,t), overall weighted by
    :math:`\\hat p_g`;
    ``dynamic``: per event time :math:`e=t-g` the :math:`\\hat p_g`-weighted mean, overall the mean
    over :math:`e\\ge0`; ``calendar``: per period the :math:`\\hat p_g`-weighted mean over cohorts
    treated by then, overall the mean over periods (Callaway & Sant'Anna 2021, Section 3).
    """
    n = psi.shape[0]
    G = len(cohorts)
    gidx_of = {float(g): i for i, g in enumerate(cohorts)}
    entry_gidx = np.array([gidx_of[float(g)] for g in group], dtype=np.int64)
    unit_gidx = np.full(n, -1, dtype=np.int64)
    for g, i in gidx_of.items():
        unit_gidx[unit_cohort == g] = i
    pgg = np.array([np.mean(unit_weights * (unit_cohort == g)) for g in cohorts])
    pg = pgg[entry_gidx]
    e = time - group
    post = (group <= time) & (e <= max_e)

    def weighted(which: np.ndarray) -> tuple[float, np.ndarray]:
        v = pg[which] / pg[which].sum()
        a = att[which]
        inf = combine_columns(psi, which, v) + _wif_dot(
            entry_gidx[which], pg[which], a, unit_gidx, unit_weights, G
        )
        return float(a @ v), inf

    if kind == "simple":
        which = np.flatnonzero(post)
        est, inf = weighted(which)
        return Aggregation(kind, np.array([]), np.array([]), np.zeros((n, 0)), est, inf)

    if kind == "group":
        atts = np.full(G, np.nan)
        infs = np.zeros((n, G), order="F")
        for i, g in enumerate(cohorts):
            which = np.flatnonzero((group == g) & post)
            if len(which) == 0:
                continue
            atts[i] = att[which].mean()
            infs[:, i] = combine_columns(psi, which, np.full(len(which), 1.0 / len(which)))
        ok = np.isfinite(atts)
        v = pgg[ok] / pgg[ok].sum()
        overall = float(atts[ok] @ v)
        inf = combine_columns(infs, np.flatnonzero(ok), v) + _wif_dot(
            np.flatnonzero(ok), pgg[ok], atts[ok], unit_gidx, unit_weights, G
        )
        return Aggregation(kind, np.asarray(cohorts, dtype=float), atts, infs, overall, inf)

    if kind == "dynamic":
        eseq = np.unique(e)
        eseq = eseq[(eseq >= min_e) & (eseq <= max_e)]
        atts = np.empty(len(eseq))
        infs = np.empty((n, len(eseq)), order="F")
        for j, ev in enumerate(eseq):
            atts[j], infs[:, j] = weighted(np.flatnonzero(e == ev))
        epos = eseq >= 0
        overall = float(atts[epos].mean()) if epos.any() else np.nan
        inf = infs[:, epos].mean(axis=1) if epos.any() else np.full(n, np.nan)
        return Aggregation(kind, eseq.astype(float), atts, infs, overall, inf)

    if kind == "calendar":
        periods = np.unique(time)
        periods = periods[periods >= group.min()]
        atts = np.empty(len(periods))
        infs = np.empty((n, len(periods)), order="F")
        for j, t1 in enumerate(periods):
            atts[j], infs[:, j] = weighted(np.flatnonzero((time == t1) & post))
        return Aggregation(
            kind, periods.astype(float), atts, infs, float(atts.mean()), infs.mean(axis=1)
        )
    raise ValueError(kind)  # validated by the caller
