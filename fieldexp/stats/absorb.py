"""Absorbing fixed effects: the within transformation.

For one factor the within transformation is exact,

.. math:: \\tilde x_i = x_i - \\frac{\\sum_{j \\in b(i)} w_j x_j}{\\sum_{j \\in b(i)} w_j},

and by Frisch–Waugh–Lovell the OLS coefficients of the demeaned regression equal those
of the regression with one dummy per level. For several factors (unit and time in a
panel) we use the method of alternating projections (Gaure 2013, *lfe*; Guimarães &
Portugal 2010): demean by each factor in turn until the largest change is below ``tol``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from fieldexp.errors import EstimationError
from fieldexp.stats.groups import GroupIndex

__all__ = ["demean", "fe_rank"]


def _demean_once(x: np.ndarray, g: GroupIndex, w: np.ndarray | None) -> np.ndarray:
    """One within transformation; column by column, as contiguous columns scatter fastest."""
    denom: np.ndarray = (
        g.counts.astype(np.float64)
        if w is None
        else np.bincount(g.codes, weights=w, minlength=g.n_groups)
    )
    if x.ndim == 1:
        wx = x if w is None else x * w
        return x - (np.bincount(g.codes, weights=wx, minlength=g.n_groups) / denom)[g.codes]
    out = np.empty_like(x, order="F")
    for j in range(x.shape[1]):
        col = x[:, j]
        wx = col if w is None else col * w
        means = np.bincount(g.codes, weights=wx, minlength=g.n_groups) / denom
        np.subtract(col, means[g.codes], out=out[:, j])
    return out


def demean(
    x: np.ndarray,
    factors: Sequence[GroupIndex],
    weights: np.ndarray | None = None,
    *,
    tol: float = 1e-12,
    maxiter: int = 10_000,
) -> np.ndarray:
    """Within-transform ``x`` (vector or matrix) by one or more factors.

    Parameters
    ----------
    x : ndarray (n,) or (n, k)
    factors : sequence of GroupIndex
        Fixed-effect factors to absorb.
    weights : ndarray (n,), optional
        Positive weights (weighted group means).
    tol : float
        Convergence tolerance of alternating projections (several factors only), on the
        largest absolute change relative to the scale of ``x``.

    Returns
    -------
    ndarray, same shape as ``x``: the residual of projecting ``x`` on the factor dummies.
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 2:
        x = np.asfortranarray(x)
    if not factors:
        return x.copy()
    out = _demean_once(x, factors[0], weights)
    if len(factors) == 1:
        return out
    scale = max(float(np.max(np.abs(x))) if x.size else 1.0, 1.0)
    for _ in range(maxiter):
        prev = out
        for g in factors:
            out = _demean_once(out, g, weights)
        if float(np.max(np.abs(out - prev))) <= tol * scale:
            return out
    raise EstimationError(
        f"absorbing {len(factors)} fixed-effect factors did not converge in {maxiter} "
        "alternating-projection sweeps; check for a very unbalanced or disconnected panel"
    )


def fe_rank(factors: Sequence[GroupIndex]) -> int:
    """Rank of the fixed-effect dummy matrix, counted as estimatr counts it.

    estimatr uses ``sum(levels - 1) + 1`` (one reference level per extra factor, which is
    exact for a connected panel).
    """
    if not factors:
        return 0
    return int(sum(g.n_groups - 1 for g in factors) + 1)
