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
from fieldexp.stats.groups import GroupIndex, segment_starts

__all__ = ["demean", "fe_rank", "is_balanced_grid"]


def _demean_once(
    x: np.ndarray, g: GroupIndex, w: np.ndarray | None, out: np.ndarray | None = None
) -> np.ndarray:
    """One within transformation, column by column (contiguous columns scatter fastest).

    Rows sorted by group (a voter file sorted by precinct) take the group sums of all columns
    in one ``np.add.reduceat`` over contiguous segments instead of one ``np.bincount`` per
    column (:func:`fieldexp.stats.groups.segment_starts`). ``out`` may be ``x`` itself (in
    place).
    """
    starts = segment_starts(g)
    denom: np.ndarray = (
        g.counts.astype(np.float64)
        if w is None
        else (
            np.bincount(g.codes, weights=w, minlength=g.n_groups)
            if starts is None
            else np.add.reduceat(w, starts)
        )
    )
    if x.ndim == 1:
        wx = x if w is None else x * w
        total = (
            np.bincount(g.codes, weights=wx, minlength=g.n_groups)
            if starts is None
            else np.add.reduceat(wx, starts)
        )
        return np.subtract(x, (total / denom)[g.codes], out=out)
    if out is None:
        out = np.empty_like(x, order="F")
    if starts is not None:
        wx2 = x if w is None else x * w[:, None]
        means = np.add.reduceat(wx2, starts, axis=0) / denom[:, None]
        for j in range(x.shape[1]):
            np.subtract(x[:, j], np.repeat(means[:, j], g.counts), out=out[:, j])
        return out
    for j in range(x.shape[1]):
        col = x[:, j]
        wx = col if w is None else col * w
        m = np.bincount(g.codes, weights=wx, minlength=g.n_groups) / denom
        np.subtract(col, m[g.codes], out=out[:, j])
    return out


def is_balanced_grid(a: GroupIndex, b: GroupIndex) -> bool:
    """True when every (a, b) cell holds exactly one row: a balanced panel of units x periods."""
    if a.n != a.n_groups * b.n_groups or a.n != b.n:
        return False
    if np.any(a.counts != b.n_groups) or np.any(b.counts != a.n_groups):
        return False
    cell = a.codes.astype(np.int64) * b.n_groups + b.codes
    return bool(np.bincount(cell, minlength=a.n_groups * b.n_groups).max() == 1)


def demean(
    x: np.ndarray,
    factors: Sequence[GroupIndex],
    weights: np.ndarray | None = None,
    *,
    tol: float = 1e-12,
    maxiter: int = 10_000,
    overwrite: bool = False,
) -> np.ndarray:
    """Within-transform ``x`` (vector or matrix) by one or more factors.

    One factor is exact in one pass. Two factors forming a balanced grid without weights
    (a balanced unit x period panel) are exact in one pass of each (the result is
    x_it - mean_i(x) - mean_t(x) + mean(x)). Otherwise alternating
    projections run until the largest change is below ``tol``.

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
    overwrite : bool
        Write the result into ``x`` (when it is a float64, Fortran-ordered array the caller
        owns) instead of a new array: saves one copy of the data at voter-file scale.

    Returns
    -------
    ndarray, same shape as ``x``: the residual of projecting ``x`` on the factor dummies.
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 2:
        x = np.asfortranarray(x)
    if not factors:
        return x if overwrite else x.copy()
    target = x if overwrite and (x.ndim == 1 or x.flags.f_contiguous) else None
    if len(factors) == 2 and weights is None and is_balanced_grid(factors[0], factors[1]):
        out = _demean_once(x, factors[0], None, out=target)
        return _demean_once(out, factors[1], None, out=out)
    out = _demean_once(x, factors[0], weights, out=target)
    if len(factors) == 1:
        return out
    scale = max(float(np.max(np.abs(out))) if out.size else 1.0, 1.0)
    for _ in range(maxiter):
        prev = out.copy()
        for g in factors:
            out = _demean_once(out, g, weights, out=out)
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
