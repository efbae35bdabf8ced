"""Test statistics of randomisation inference computed from cluster totals.

The block-stratified difference in means (ITT, or the Wald ratio for the CACE) and its
linearised cluster-robust variance are accumulated per block by a *reducer*
(:func:`itt_reducer`) from the per-block sums over treated clusters, so every
re-randomisation costs O(blocks) once the sums are drawn (see :mod:`fieldexp.design.replay`).
:func:`prepare_statistic` builds the cluster-level columns from data; :func:`statistic_at`,
:func:`tail_share` and :func:`invert_test` turn accumulators into statistics, p-values and
test-inversion intervals. Shared by :func:`fieldexp.randomization_inference` and
:func:`fieldexp.heterogeneity`.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from fieldexp._validate import check_binary, check_positive, numeric
from fieldexp.design.replay import Reducer
from fieldexp.design.spec import ArmLabel, Design
from fieldexp.errors import (
    ColumnNotFoundError,
    DataError,
    RowsDroppedWarning,
    did_you_mean,
    format_rows,
)
from fieldexp.experiment.ri_replay import (
    ReplaySetup,
    cluster_sums,
    observed_acc,
    prepare_replay,
    residualize,
)

__all__ = [
    "N_ACC",
    "PreparedStatistic",
    "invert_test",
    "itt_columns",
    "itt_reducer",
    "prepare_statistic",
    "statistic_at",
    "tail_share",
]

#: accumulators per group: est = e0 - tau e1, var = v0 + v1 tau + v2 tau^2
N_ACC = 5


def itt_columns(n: np.ndarray, y: np.ndarray, a: np.ndarray, studentize: bool) -> np.ndarray:
    """Cluster-level columns from cluster totals ``n, Y, A`` (and their squares)."""
    ones = (n > 0).astype(np.float64)
    cols = [ones, n, y, a]
    if studentize:
        cols += [y * y, y * a, a * a, y * n, a * n, n * n]
    return np.column_stack(cols)


def itt_reducer(weights: np.ndarray, studentize: bool) -> tuple[Reducer, int]:
    """Reducer for block-stratified differences in means of ``G`` groups of columns.

    ``weights`` (blocks x G) are :math:`N_{bg}/N_g`. For each arm the mean of the adjusted
    outcome is :math:`(Y - \\tau A)/n`, and the linearised variance of that ratio is
    :math:`\\frac{c}{c-1}\\sum_c (X_c - \\bar x n_c)^2 / n^2` (c clusters), a quadratic in
    :math:`\\tau`; both are accumulated over blocks.
    """
    G = weights.shape[1]
    kc = 10 if studentize else 4

    def reduce(b: int, S1: np.ndarray, T: np.ndarray) -> np.ndarray:
        R = S1.shape[0]
        out = np.zeros((R, G, N_ACC))
        for g in range(G):
            w = weights[b, g]
            if w == 0:
                continue
            s1 = S1[:, g * kc : (g + 1) * kc]
            tg = T[..., g * kc : (g + 1) * kc]  # block totals, or per-draw pair totals
            s0 = (tg[None, :] if tg.ndim == 1 else tg) - s1
            for s, sign in ((s1, 1.0), (s0, -1.0)):
                c, n, Y, A = s[:, 0], s[:, 1], s[:, 2], s[:, 3]
                with np.errstate(divide="ignore", invalid="ignore"):
                    mY = Y / n
                    mA = A / n
                    out[:, g, 0] += sign * w * mY
                    out[:, g, 1] += sign * w * mA
                    if studentize:
                        YY, YA, AA, Yn, An, nn = (s[:, j] for j in range(4, 10))
                        c0 = YY - 2 * mY * Yn + mY * mY * nn
                        c1 = -2 * YA + 2 * mY * An + 2 * mA * Yn - 2 * mY * mA * nn
                        c2 = AA - 2 * mA * An + mA * mA * nn
                        f = w * w * c / (c - 1) / (n * n)
                        out[:, g, 2] += f * c0
                        out[:, g, 3] += f * c1
                        out[:, g, 4] += f * c2
        return out.reshape(R, G * N_ACC)

    return reduce, G * N_ACC


def statistic_at(acc: np.ndarray, tau: float, studentize: bool, scale: float) -> np.ndarray:
    """The statistic of every row of accumulators (n x 5) at the hypothesised effect."""
    est = (acc[..., 0] - tau * acc[..., 1]) / scale
    if not studentize:
        return est
    var = acc[..., 2] + tau * acc[..., 3] + tau * tau * acc[..., 4]
    with np.errstate(divide="ignore", invalid="ignore"):
        return est * abs(scale) / np.sqrt(var)


def tail_share(draws: np.ndarray, observed: float, weights: np.ndarray, alternative: str) -> float:
    """Weighted share of draws at least as extreme as ``observed`` (ties count)."""
    tol = 1e-9 * (1.0 + abs(observed))
    ok = np.isfinite(draws)
    if alternative == "two-sided":
        hit = np.abs(draws) >= abs(observed) - tol
    elif alternative == "greater":
        hit = draws >= observed - tol
    else:
        hit = draws <= observed + tol
    return float(np.sum(weights[ok & hit]) / np.sum(weights[ok]))


@dataclass(frozen=True, slots=True)
class PreparedStatistic:
    setup: ReplaySetup
    V: np.ndarray
    weights: np.ndarray
    scale: float
    nobs: int
    n_dropped: int


def prepare_statistic(
    data: pd.DataFrame,
    outcome: str,
    arm_column: str,
    design: Design,
    *,
    estimator: str,
    treatment: str | None,
    covariates: Sequence[str],
    arm: ArmLabel | None,
    studentize: bool,
    groups: np.ndarray | None = None,
    n_groups: int = 1,
    function: str = "randomization_inference",
    need_a: bool = True,
    weights: str | None = None,
    full: bool = False,
    subset: np.ndarray | None = None,
) -> PreparedStatistic:
    """Cluster-level statistic columns of ``data`` under the replay of ``design``.

    ``subset`` (a boolean per row): only these rows enter the statistic (outcome, block
    weights, CACE scale); the other rows' clusters stay in the randomisation, so the full
    design is replayed and the statistic is recomputed on the subset for every draw.
    """
    roles = [
        ("outcome", outcome),
        ("treatment", treatment),
        ("weights", weights),
        *(("covariates", c) for c in covariates),
    ]
    for role, c in roles:
        if c is not None and c not in data.columns:
            raise ColumnNotFoundError(
                f"column {c!r} (argument {role!r} of {function}) is not in the data."
                f"{did_you_mean(c, [str(x) for x in data.columns])}"
            )
    setup, _ = prepare_replay(data, arm_column, design, arm=arm, function=function, full=full)
    cols = [
        outcome,
        *([treatment] if treatment else []),
        *([weights] if weights else []),
        *covariates,
    ]
    in_set = setup.row_cluster >= 0
    if subset is not None:
        in_set = in_set & subset
    missing = data[cols].isna().any(axis=1).to_numpy() & in_set
    used = in_set & ~missing
    n_drop = int(missing.sum())
    if n_drop:
        warnings.warn(
            f"{function}: {n_drop:,} rows with a missing value in {cols!r} do not enter the "
            f"statistic (their clusters stay in the randomisation); first "
            f"{format_rows(data.index[missing][:5], total=n_drop)}.",
            RowsDroppedWarning,
            stacklevel=3,
        )
    if not used.any():
        raise DataError(f"{function}: no rows with an outcome in the compared arms")
    sub = data.loc[used]
    y = numeric(sub[outcome], argument="outcome", function=function)
    w = (
        check_positive(sub[weights], argument="weights", function=function)
        if weights
        else np.ones(len(sub))
    )
    rc = setup.row_cluster[used]
    z_row = setup.z_cluster[rc]
    if estimator == "cace":
        a = check_binary(sub[treatment], argument="treatment", function=function)
    else:
        a = z_row
    ncl = len(setup.z_cluster)
    blk = setup.cluster_block[rc]
    if covariates:
        X = np.column_stack(
            [numeric(sub[c], argument="covariates", function=function) for c in covariates]
        )
        ya = residualize(np.column_stack([y, a]), X, blk, setup.plan.n_blocks, w)
        y_adj, a_adj = ya[:, 0], ya[:, 1]
    else:
        y_adj, a_adj = y, a
    if not need_a:
        # the statistic at tau = 0 does not involve A: fewer distinct cluster rows
        a_adj = np.zeros_like(a_adj)
    g = np.zeros(len(y), dtype=np.int64) if groups is None else groups[used]
    pair_row = setup.pair_cluster()[rc].astype(np.float64)
    blocks_cols = []
    block_share = np.zeros((setup.plan.n_blocks, n_groups))
    for gi in range(n_groups):
        mask = (g == gi).astype(np.float64) * w
        sums = cluster_sums(rc, np.column_stack([mask, mask * y_adj, mask * a_adj]), ncl)
        blocks_cols.append(itt_columns(sums[:, 0], sums[:, 1], sums[:, 2], studentize))
        # block weights from the observed units of the two compared arms (fixed over draws)
        nb = np.bincount(blk, weights=mask * pair_row, minlength=setup.plan.n_blocks)
        block_share[:, gi] = nb / nb.sum() if nb.sum() > 0 else 0.0
    V = np.column_stack(blocks_cols)
    scale = 1.0
    if estimator == "cace":
        # observed first stage ITT_D, with the same block weights (no covariates in the scale)
        d_sums = cluster_sums(rc, np.column_stack([w, w * a, w * a]), ncl)
        Vd = itt_columns(d_sums[:, 0], d_sums[:, 1], d_sums[:, 2], False)
        red, _ = itt_reducer(block_share[:, :1], False)
        acc = observed_acc(setup, Vd, red, N_ACC)
        scale = float(acc[0])
        if not math.isfinite(scale) or abs(scale) < 1e-12:
            raise DataError(
                f"{function}: the first stage (effect of assignment on {treatment!r}) is zero; "
                "the CACE Wald statistic is undefined"
            )
    # nobs: units of the two compared arms with an outcome
    return PreparedStatistic(setup, V, block_share, scale, int(pair_row.sum()), n_drop)


def invert_test(
    draws_acc: np.ndarray,
    obs_acc: np.ndarray,
    weights: np.ndarray,
    *,
    studentize: bool,
    scale: float,
    alpha: float,
) -> tuple[float, float]:
    """Test-inversion interval :math:`\\{\\tau: p(\\tau) > \\alpha\\}` (two-sided).

    The same draws are used at every :math:`\\tau`; the statistic is linear (or, studentized,
    a ratio of a linear and a quadratic) in :math:`\\tau`, so each evaluation is O(draws).
    Each end is bracketed by doubling steps from the point estimate and bisected.
    """

    def p_at(tau: float) -> float:
        obs = float(statistic_at(obs_acc, tau, studentize, scale))
        return tail_share(
            statistic_at(draws_acc, tau, studentize, scale), obs, weights, "two-sided"
        )

    center = float(obs_acc[0] / obs_acc[1]) if obs_acc[1] != 0 else 0.0
    spread = float(
        np.sqrt(np.average((draws_acc[:, 0] - center * draws_acc[:, 1]) ** 2, weights=weights))
    )
    step = spread / abs(scale) if spread > 0 else 1.0
    ends = []
    for direction in (-1.0, 1.0):
        inside = center
        outside = None
        width = step
        for _ in range(60):
            trial = center + direction * width
            if p_at(trial) <= alpha:
                outside = trial
                break
            inside = trial
            width *= 2
        if outside is None:
            ends.append(direction * math.inf)
            continue
        for _ in range(60):
            mid = 0.5 * (inside + outside)
            if p_at(mid) > alpha:
                inside = mid
            else:
                outside = mid
            if abs(outside - inside) <= 1e-10 * (1 + abs(mid)):
                break
        ends.append(inside)
    return ends[0], ends[1]
