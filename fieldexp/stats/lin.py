r"""Lin's (2013) interacted estimator with block indicators, without the dense design.

estimatr's ``lm_lin(y ~ z, covariates = ~ X + factor(block))`` regresses *y* on an
intercept, *z*, the centred covariates and block indicators, and their interactions with
*z*. Those columns span exactly the same space as

* one indicator per **block × arm cell** (:math:`\{1, D\}` spans the blocks,
  :math:`\{z, zD\}` the treated cells), and
* the covariates *X* and their interactions *zX*,

so fitted values, residuals and the hat matrix are those of the regression of *y* on
:math:`R = [X, zX]` with the :math:`2B` cells absorbed (rank :math:`2B + 2p`, as
``lm_lin``'s). Lin's :math:`\hat\tau` is the (weighted) average over units of the fitted
effect :math:`\hat\mu_1(x_i, b_i) - \hat\mu_0(x_i, b_i)`, a linear functional of that fit:

.. math::
    \hat\tau = \sum_b \pi_b (\bar y_{b1} - \bar y_{b0}) + (c_R - d)^\top \hat\beta,
    \qquad \pi_b = W_b / W,\quad d = \sum_b \pi_b (\bar R_{b1} - \bar R_{b0}),\quad
    c_R = (0_p, \bar x),

with :math:`\hat\beta = (\tilde R^\top W \tilde R)^{-1}\tilde R^\top W\tilde y` on the
cell-demeaned :math:`\tilde R, \tilde y`. Written :math:`\hat\tau = \sum_i \psi_i y_i`,

.. math::
    \psi_i = w_i\Big(\frac{c_{cell(i)}}{W_{cell(i)}} + \tilde R_i^\top S^{-1}(c_R - d)\Big),
    \qquad c_{(b,1)} = \pi_b,\ c_{(b,0)} = -\pi_b,\ S = \tilde R^\top W \tilde R,

and every sandwich variance is that of a linear functional
(:func:`fieldexp.stats.covariance.contrast_covariance`): :math:`O(n p^2)` time and
:math:`O(n p)` memory whatever the number of blocks, instead of an
:math:`n \times 2(p + B)` design.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from fieldexp.errors import EstimationError
from fieldexp.stats.absorb import demean
from fieldexp.stats.blas import with_single_thread_blas
from fieldexp.stats.collinear import gram_inverse_ranked, warn_dropped
from fieldexp.stats.covariance import SandwichInputs, contrast_covariance
from fieldexp.stats.groups import GroupIndex
from fieldexp.stats.linear import LinearFit, is_nested, solve_normal

__all__ = ["block_arm_cells", "fit_lin_blocked", "lin_blocked_supported"]


def block_arm_cells(blocks: GroupIndex, z: np.ndarray) -> GroupIndex:
    """Cell ``2 b + z`` of every row (every block must hold both arms)."""
    codes = blocks.codes.astype(np.int64) * 2 + z.astype(np.int64)
    counts = np.bincount(codes, minlength=2 * blocks.n_groups).astype(np.int64)
    if np.any(counts == 0):
        raise EstimationError("every block needs units in both arms for Lin's estimator")
    return GroupIndex(codes=codes, n_groups=2 * blocks.n_groups, counts=counts)


def lin_blocked_supported(
    se_type: str, *, weighted: bool, clusters: GroupIndex | None, cells: GroupIndex
) -> bool:
    """Whether :func:`fit_lin_blocked` computes this variance.

    Everything but CR2 with weights, or CR2 with clusters that are not nested in the
    block × arm cells (clusters coarser than the assignment): those need the dense design.
    """
    if se_type != "CR2":
        return True
    return not weighted and clusters is not None and is_nested(clusters, cells)


@with_single_thread_blas
def fit_lin_blocked(
    y: np.ndarray,
    z: np.ndarray,
    X: np.ndarray,
    *,
    z_name: str,
    covariate_names: Sequence[str],
    blocks: GroupIndex,
    se_type: str,
    weights: np.ndarray | None = None,
    clusters: GroupIndex | None = None,
) -> LinearFit:
    """Lin's :math:`\\hat\\tau` with block indicators and its sandwich variance.

    Equals ``lm_lin(y ~ z, covariates = ~ X + factor(block), se_type=, clusters=,
    weights=)`` (estimate, SE, df). See the module docstring for the formulas.

    Returns
    -------
    LinearFit
        One coefficient, ``z_name``.
    """
    n, p = X.shape
    w = None if weights is None else np.asarray(weights, dtype=np.float64) / np.mean(weights)
    cells = block_arm_cells(blocks, z)
    ww = np.ones(n) if w is None else w
    W_cell = np.bincount(cells.codes, weights=ww, minlength=cells.n_groups)
    W_block = W_cell[0::2] + W_cell[1::2]
    pi = W_block / W_block.sum()
    c_cell = np.empty(cells.n_groups)
    c_cell[1::2] = pi
    c_cell[0::2] = -pi

    k = 2 * p
    cols = np.empty((n, 1 + k), order="F")
    cols[:, 0] = y
    cols[:, 1 : 1 + p] = X
    cols[:, 1 + p :] = X * z[:, None]
    means = np.empty((cells.n_groups, 1 + k))
    for j in range(1 + k):
        means[:, j] = np.bincount(cells.codes, weights=cols[:, j] * ww, minlength=cells.n_groups)
    means /= W_cell[:, None]
    xbar = np.average(X, axis=0, weights=w) if p else np.empty(0)
    raw = np.sqrt(np.einsum("ij,ij->j", cols[:, 1:], cols[:, 1:]))
    demeaned = demean(cols, [cells], w, overwrite=True)
    yt = demeaned[:, 0]
    Rt = demeaned[:, 1:]

    names = (*covariate_names, *(f"{z_name}:{c}" for c in covariate_names))
    sw = None if w is None else np.sqrt(w)
    dropped: tuple[int, ...] = ()
    if k:
        Rw = Rt if sw is None else Rt * sw[:, None]
        # collinear covariates (one constant within blocks, a duplicate) are dropped as
        # estimatr's lm_lin drops them; the estimate of z does not depend on which one
        ranked = gram_inverse_ranked(
            Rw.T @ Rw, names, lambda: Rw, raw_norms=raw, fe_label="the block indicators"
        )
        M, dropped = ranked.inverse, ranked.dropped
        if dropped:
            warn_dropped(names, dropped, ranked.reasons)
    rank = cells.n_groups + k - len(dropped)
    if rank >= n:
        raise EstimationError(
            f"Lin's estimator has {rank:,} parameters (2 per block and 2 per covariate) for "
            f"{n:,} rows: no residual degrees of freedom are left for a standard error"
        )
    if k:
        beta = solve_normal(Rw, yt if sw is None else yt * sw, M)
        resid = yt - Rt @ beta
    else:
        M = np.empty((0, 0))
        beta = np.empty(0)
        resid = yt.copy()
    diff = means[1::2, :] - means[0::2, :]  # (B, 1 + k): treated minus control cell means
    d = pi @ diff[:, 1:]
    c_R = np.concatenate([np.zeros(p), xbar])
    u = M @ (c_R - d)
    tau = float(pi @ diff[:, 0] + (c_R - d) @ beta)
    psi = ww * (c_cell[cells.codes] / W_cell[cells.codes] + (Rt @ u if k else 0.0))

    inputs = SandwichInputs(
        X=Rt,
        resid=resid,
        bread=M,
        weights=w,
        clusters=clusters,
        fe=cells,
        rank=rank,
        df_terms=(),
    )
    cov = contrast_covariance(inputs, psi, se_type)
    return LinearFit(
        names=(z_name,),
        coef=np.array([tau]),
        vcov=cov.vcov,
        df=cov.df,
        se_type=se_type,
        nobs=n,
        nclusters=None if clusters is None else clusters.n_groups,
        rank=rank,
    )
