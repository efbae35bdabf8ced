r"""Sufficient statistics: cluster totals for design-based estimators.

An unweighted difference in means, its blocked, clustered and matched-pair variances
and the CR2 variance with Bell–McCaffrey df of the two-arm regression all depend on the
data only through, per cluster *g* (a unit is its own cluster when there are none):
block, arm, size :math:`n_g`, total :math:`Y_g = \sum_{i\in g} y_i` and sum of squares
:math:`Q_g = \sum_{i\in g} y_i^2`. These are what a database would return from
``GROUP BY cluster``; :func:`cluster_totals` computes them with ``np.bincount``.

For the two-arm regression :math:`y = \alpha + \tau z` within a block, with arm sizes
:math:`N_1, N_0`, the leverage block of cluster *g* in arm *a* is
:math:`H_{gg} = \mathbf{1}\mathbf{1}^\top / N_a`, so
:math:`A_g = (I - H_{gg})^{-1/2}` acts on :math:`\mathbf 1` as :math:`1/\sqrt{1 - n_g/N_a}`
and the CR2 variance of :math:`\hat\tau` is

.. math::
    \widehat V = \sum_{g \in 1} \frac{E_g^2}{N_1^2 (1 - n_g/N_1)} +
                 \sum_{g \in 0} \frac{E_g^2}{N_0^2 (1 - n_g/N_0)}, \qquad
    E_g = Y_g - n_g \bar y_{a(g)}.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from fieldexp.errors import DesignError, FieldexpWarning
from fieldexp.stats.covariance import EIGEN_TOL
from fieldexp.stats.groups import GroupIndex

__all__ = ["ClusterTotals", "cluster_totals", "cr2_two_arm", "matched_pair_rule"]


@dataclass(frozen=True, slots=True, eq=False)
class ClusterTotals:
    """Per-cluster sufficient statistics of a two-arm design.

    Attributes
    ----------
    block, arm : ndarray (G,) of int
        Block code (0 when unblocked) and arm (0/1) of each cluster.
    size, total, total_sq : ndarray (G,)
        :math:`n_g`, :math:`\\sum y`, :math:`\\sum y^2`.
    n_blocks : int
    """

    block: np.ndarray
    arm: np.ndarray
    size: np.ndarray
    total: np.ndarray
    total_sq: np.ndarray
    n_blocks: int

    def by_block_arm(self, values: np.ndarray) -> np.ndarray:
        """Sums of a per-cluster quantity by (block, arm): shape (n_blocks, 2)."""
        cell = self.block * 2 + self.arm
        return np.bincount(cell, weights=values, minlength=2 * self.n_blocks).reshape(-1, 2)


def cluster_totals(
    y: np.ndarray, z: np.ndarray, *, blocks: GroupIndex | None, clusters: GroupIndex | None
) -> ClusterTotals:
    """Collapse unit-level data to cluster totals (clusters nested in blocks, constant ``z``)."""
    n = len(y)
    if clusters is None:
        codes = np.arange(n)
        n_clusters = n
    else:
        codes, n_clusters = clusters.codes, clusters.n_groups
    size = np.bincount(codes, minlength=n_clusters).astype(np.float64)
    total = np.bincount(codes, weights=y, minlength=n_clusters)
    total_sq = np.bincount(codes, weights=y * y, minlength=n_clusters)
    first = np.empty(n_clusters, dtype=np.int64)
    first[codes[::-1]] = np.arange(n)[::-1]
    arm = z[first].astype(np.int64)
    if blocks is None:
        block = np.zeros(n_clusters, dtype=np.int64)
        n_blocks = 1
    else:
        block = blocks.codes[first]
        n_blocks = blocks.n_groups
    return ClusterTotals(block, arm, size, total, total_sq, n_blocks)


@dataclass(frozen=True, slots=True)
class TwoArmCR2:
    """Per-block difference in means with its CR2 variance; df for a single block."""

    estimate: np.ndarray
    variance: np.ndarray
    df: float


def cr2_two_arm(ct: ClusterTotals, *, with_df: bool) -> TwoArmCR2:
    r"""CR2 variance of :math:`\hat\tau_b` for every block at once, from cluster totals.

    With ``with_df`` (one block only) also the Bell–McCaffrey df, from
    :math:`P = \operatorname{diag}(q) - F^\top M F` with
    :math:`a_g = c_a \mathbf 1 / \sqrt{1 - n_g/N_a}`, :math:`c_1 = 1/N_1`, :math:`c_0 = -1/N_0`,
    :math:`q_g = \lVert a_g\rVert^2`, :math:`f_g = (1, z_g)^\top \mathbf 1^\top a_g`.
    """
    N = ct.by_block_arm(ct.size)
    S = ct.by_block_arm(ct.total)
    mean = S / N
    estimate = mean[:, 1] - mean[:, 0]
    Na = N[ct.block, ct.arm]
    resid_total = ct.total - ct.size * mean[ct.block, ct.arm]
    ev = 1.0 - ct.size / Na
    keep = ev > EIGEN_TOL
    inv_ev = np.where(keep, 1.0 / np.where(keep, ev, 1.0), 0.0)
    contrib = resid_total**2 * inv_ev / Na**2
    variance = ct.by_block_arm(contrib).sum(axis=1)
    df = np.nan
    if with_df:
        n1, n0 = N[0, 1], N[0, 0]
        c = np.where(ct.arm == 1, 1.0 / n1, -1.0 / n0)
        amp = np.sqrt(inv_ev)  # A_g acting on the ones vector
        q = c**2 * ct.size * amp**2
        s = c * ct.size * amp  # 1' a_g
        F = np.column_stack([s, s * ct.arm])  # (G, 2): (1, z_g) * 1'a_g
        M = np.linalg.inv(np.array([[n1 + n0, n1], [n1, n1]]))
        fKf = -np.einsum("gp,pq,gq->g", F, M, F)
        KS = -M @ (F.T @ F)
        tr_p = q.sum() + fKf.sum()
        tr_p2 = (q**2).sum() + 2.0 * (q * fKf).sum() + np.einsum("ij,ji->", KS, KS)
        df = float(tr_p**2 / tr_p2)
    return TwoArmCR2(estimate=estimate, variance=variance, df=df)


def matched_pair_rule(per_block: np.ndarray, *, stacklevel: int) -> bool:
    """estimatr's rule for a blocked difference in means: is it a matched-pair design?

    Every block needs two units (clusters) or more; when every block has exactly two, or some
    do (their within-block variance is undefined), the matched-pairs variance is used for all,
    with a warning in the mixed case. ``per_block`` counts units (clusters) per block.
    """
    if np.any(per_block == 1):
        raise DesignError(
            "every block needs at least two units (or clusters) for a difference in means; "
            f"{int((per_block == 1).sum())} block(s) have one"
        )
    if np.all(per_block == 2):
        return True
    if np.any(per_block == 2):
        warnings.warn(
            "some blocks have two units/clusters while others have more; as the standard "
            "variance cannot be computed within a block of two, the matched-pairs variance "
            "is used (as estimatr does)",
            FieldexpWarning,
            stacklevel=stacklevel + 1,
        )
        return True
    return False
