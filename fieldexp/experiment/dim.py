r"""Difference in means with the design-based variance of the actual design.

Reproduces R estimatr's ``difference_in_means`` (Gerber & Green 2012, ch. 3–4;
estimatr *mathematical notes*, "difference_in_means"):

* **standard**: :math:`\hat\tau = \bar y_1 - \bar y_0`,
  :math:`\widehat{se}^2 = s_1^2/N_1 + s_0^2/N_0`, Welch–Satterthwaite df
  :math:`\widehat{se}^4 / \big(\frac{(s_1^2/N_1)^2}{N_1-1} + \frac{(s_0^2/N_0)^2}{N_0-1}\big)`;
  with weights, the weighted regression of *y* on assignment with HC2, df :math:`N-2`;
* **clustered**: the regression of *y* on assignment with CR2 and Bell–McCaffrey df;
* **blocked** (every block with at least two units/clusters per arm):
  :math:`\hat\tau = \sum_b \frac{N_b}{N}\hat\tau_b`,
  :math:`\widehat{se}^2 = \sum_b (N_b/N)^2 \widehat{se}_b^2`, df :math:`N - 2B`
  (clustered: :math:`G - 2B`);
* **matched pairs** (every block two units/clusters):
  :math:`\widehat{se}^2 = \frac{1}{B(B-1)} \sum_b (\hat\tau_b - \hat\tau)^2`
  (clustered: :math:`\frac{B}{(B-1)N^2}\sum_b (N_b\hat\tau_b - N\hat\tau/B)^2`, Imai, King &
  Nall 2009), df :math:`B - 1`.

:math:`N_b` is the block's sum of weights normalised to mean one over the whole sample
(its row count without weights).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from fieldexp.errors import DesignError, SpecificationError
from fieldexp.stats.groups import GroupIndex, from_codes
from fieldexp.stats.linear import fit_ols
from fieldexp.stats.sufficient import (
    ClusterTotals,
    cluster_totals,
    cr2_two_arm,
    matched_pair_rule,
)

__all__ = ["DimEstimate", "difference_in_means"]


@dataclass(frozen=True, slots=True)
class DimEstimate:
    """Estimate, standard error, df and the design the variance reflects."""

    estimate: float
    std_error: float
    df: float
    nobs: float
    nclusters: int | None
    design: str
    variance: str


@dataclass(frozen=True, slots=True)
class _Piece:
    estimate: float
    std_error: float
    df: float
    nobs: float
    nclusters: int | None


def _unblocked(
    y: np.ndarray,
    z: np.ndarray,
    clusters: GroupIndex | None,
    w: np.ndarray | None,
    *,
    pair_matched: bool,
) -> _Piece:
    treated = z == 1
    n1, n0 = int(treated.sum()), int((~treated).sum())
    if n1 == 0 or n0 == 0:
        raise DesignError("every block needs units in both arms for a difference in means")
    if not pair_matched and (n1 == 1 or n0 == 1):
        raise DesignError(
            "without matched pairs, every block needs at least two assigned and two "
            "not-assigned units (or clusters) for a difference in means"
        )
    nobs = float(w.sum()) if w is not None else float(len(y))
    if clusters is not None and not pair_matched:
        X = np.column_stack([np.ones_like(z), z])
        fit = fit_ols(
            X,
            y,
            names=("(Intercept)", "z"),
            se_type="CR2",
            weights=w,
            clusters=clusters,
            df_terms=("z",),
        )
        return _Piece(
            float(fit.coef[1]), float(fit.std_error[1]), float(fit.df[1]), nobs, clusters.n_groups
        )
    if w is None:
        diff = float(y[treated].mean() - y[~treated].mean())
        if pair_matched:
            return _Piece(diff, math.nan, math.nan, nobs, 2 if clusters is not None else None)
        v1 = float(np.var(y[treated], ddof=1)) / n1
        v0 = float(np.var(y[~treated], ddof=1)) / n0
        se = math.sqrt(v1 + v0)
        df = se**4 / (v1**2 / (n1 - 1) + v0**2 / (n0 - 1))
        return _Piece(diff, se, df, nobs, None)
    if pair_matched:
        raise SpecificationError(
            "weights cannot be used with a matched-pair difference in means (as in estimatr); "
            "use method='ols' with blocks, or drop the weights"
        )
    X = np.column_stack([np.ones_like(z), z])
    fit = fit_ols(X, y, names=("(Intercept)", "z"), se_type="HC2", weights=w)
    return _Piece(float(fit.coef[1]), float(fit.std_error[1]), float(fit.df[1]), nobs, None)


def difference_in_means(
    y: np.ndarray,
    z: np.ndarray,
    *,
    blocks: GroupIndex | None = None,
    clusters: GroupIndex | None = None,
    weights: np.ndarray | None = None,
) -> DimEstimate:
    """Difference in means of ``y`` between ``z == 1`` and ``z == 0`` for the given design.

    Unweighted designs are computed from cluster totals (:mod:`fieldexp.stats.sufficient`),
    all blocks at once; weighted ones block by block with the regression kernels.

    Parameters
    ----------
    y : ndarray (n,)
    z : ndarray (n,) of 0/1
    blocks, clusters : GroupIndex, optional
        Clusters must be nested in blocks and constant in ``z`` (checked by the caller).
    weights : ndarray (n,), optional
        Positive weights; normalised here to mean one.
    """
    w = None if weights is None else weights / weights.mean()
    weighted = " (weighted)" if w is not None else ""
    shift = np.zeros(1 if blocks is None else blocks.n_groups)
    if w is None:
        # centre y within block x arm cells: sums of squares of the centred values do not
        # cancel (y + 1e11); the cell means' differences are added back to the estimates
        y, shift = _cell_centred(y, z, blocks)
    if blocks is None:
        if w is None:
            piece = _unblocked_totals(
                cluster_totals(y, z, blocks=None, clusters=clusters), clustered=clusters is not None
            )
            piece = _Piece(
                piece.estimate + float(shift[0]),
                piece.std_error,
                piece.df,
                piece.nobs,
                piece.nclusters,
            )
        else:
            piece = _unblocked(y, z, clusters, w, pair_matched=False)
        design = "clustered" if clusters is not None else "standard"
        variance = "CR2" if clusters is not None else ("HC2" if w is not None else "welch")
        return DimEstimate(
            piece.estimate,
            piece.std_error,
            piece.df,
            piece.nobs,
            piece.nclusters,
            design + weighted,
            variance,
        )

    if clusters is not None:
        first = np.zeros(clusters.n_groups, dtype=np.int64)
        first[clusters.codes] = blocks.codes
        per_block = np.bincount(first, minlength=blocks.n_groups)
    else:
        per_block = blocks.counts
    pair_matched = matched_pair_rule(per_block, stacklevel=3)

    if w is None:
        est_b, se_b, n_b = _blocked_totals(
            cluster_totals(y, z, blocks=blocks, clusters=clusters),
            clustered=clusters is not None,
            pair_matched=pair_matched,
        )
        est_b = est_b + shift
    else:
        est_b, se_b, n_b = _blocked_loop(y, z, blocks, clusters, w, pair_matched=pair_matched)
    n_total = float(n_b.sum())
    tau = float(np.sum(est_b * n_b / n_total))
    nb = blocks.n_groups
    nclusters = clusters.n_groups if clusters is not None else None
    if pair_matched:
        if clusters is None:
            se = math.sqrt(np.sum((est_b - tau) ** 2) / (nb * (nb - 1)))
            design = "matched-pair"
        else:
            se = math.sqrt(
                nb / ((nb - 1) * n_total**2) * np.sum((n_b * est_b - n_total * tau / nb) ** 2)
            )
            design = "matched-pair-clustered"
        return DimEstimate(
            tau, se, float(nb - 1), n_total, nclusters, design + weighted, "matched-pair"
        )
    se = math.sqrt(float(np.sum(se_b**2 * (n_b / n_total) ** 2)))
    if clusters is None:
        return DimEstimate(
            tau, se, float(len(y) - 2 * nb), n_total, None, "blocked" + weighted, "blocked"
        )
    return DimEstimate(
        tau,
        se,
        float(clusters.n_groups - 2 * nb),
        n_total,
        nclusters,
        "blocked-clustered" + weighted,
        "blocked",
    )


def _cell_centred(
    y: np.ndarray, z: np.ndarray, blocks: GroupIndex | None
) -> tuple[np.ndarray, np.ndarray]:
    """``y`` minus its block x arm mean, and the per-block difference of those means."""
    nb = 1 if blocks is None else blocks.n_groups
    cell = 2 * (0 if blocks is None else blocks.codes) + z.astype(np.int64)
    count = np.bincount(cell, minlength=2 * nb)
    mean = np.bincount(cell, weights=y, minlength=2 * nb) / np.maximum(count, 1)
    return y - mean[cell], mean[1::2] - mean[0::2]


def _check_arm_sizes(units: np.ndarray, *, pair_matched: bool) -> None:
    """estimatr's rule: without matched pairs every block needs >= 2 units per arm."""
    if np.any(units == 0):
        raise DesignError("every block needs units in both arms for a difference in means")
    if not pair_matched and np.any(units == 1):
        raise DesignError(
            "without matched pairs, every block needs at least two assigned and two "
            f"not-assigned units for a difference in means; {int(np.any(units == 1, axis=1).sum())} "
            "block(s) have a single unit in an arm"
        )


def _welch(ct: ClusterTotals) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per-block Welch estimate, variance, df and size from unit totals."""
    N = ct.by_block_arm(ct.size)
    S = ct.by_block_arm(ct.total)
    Q = ct.by_block_arm(ct.total_sq)
    mean = S / N
    var = (Q - S * mean) / (N - 1)  # sample variance per block x arm
    v = var / N
    se2 = v.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):  # zero variance: refused upstream
        df = se2**2 / (v[:, 1] ** 2 / (N[:, 1] - 1) + v[:, 0] ** 2 / (N[:, 0] - 1))
    return mean[:, 1] - mean[:, 0], se2, df, N.sum(axis=1)


def _unblocked_totals(ct: ClusterTotals, *, clustered: bool) -> _Piece:
    units = ct.by_block_arm(ct.size)
    _check_arm_sizes(units, pair_matched=False)
    nobs = float(units.sum())
    if not clustered:
        est, se2, df, _ = _welch(ct)
        return _Piece(float(est[0]), math.sqrt(float(se2[0])), float(df[0]), nobs, None)
    cr2 = cr2_two_arm(ct, with_df=True)
    return _Piece(
        float(cr2.estimate[0]), math.sqrt(float(cr2.variance[0])), cr2.df, nobs, len(ct.size)
    )


def _blocked_totals(
    ct: ClusterTotals, *, clustered: bool, pair_matched: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    units = ct.by_block_arm(ct.size)
    _check_arm_sizes(units, pair_matched=pair_matched)
    S = ct.by_block_arm(ct.total)
    n_b = units.sum(axis=1)
    if pair_matched:
        return S[:, 1] / units[:, 1] - S[:, 0] / units[:, 0], np.full(len(n_b), np.nan), n_b
    if not clustered:
        est, se2, _, _ = _welch(ct)
        return est, np.sqrt(se2), n_b
    cr2 = cr2_two_arm(ct, with_df=False)
    return cr2.estimate, np.sqrt(cr2.variance), n_b


def _blocked_loop(
    y: np.ndarray,
    z: np.ndarray,
    blocks: GroupIndex,
    clusters: GroupIndex | None,
    w: np.ndarray,
    *,
    pair_matched: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    order = np.argsort(blocks.codes, kind="stable")
    bounds = np.concatenate([[0], np.cumsum(blocks.counts)])
    pieces: list[_Piece] = []
    for b in range(blocks.n_groups):
        rows = order[bounds[b] : bounds[b + 1]]
        cl = from_codes(clusters.codes[rows]) if clusters is not None else None
        pieces.append(_unblocked(y[rows], z[rows], cl, w[rows], pair_matched=pair_matched))
    return (
        np.array([p.estimate for p in pieces]),
        np.array([p.std_error for p in pieces]),
        np.array([p.nobs for p in pieces]),
    )
