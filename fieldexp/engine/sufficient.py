r"""Difference in means from totals pulled out of the engine.

One GROUP BY pass returns, per cluster (clustered designs; *G* rows) or per block x arm
cell (unclustered; at most *2B* rows), the size :math:`n`, total :math:`\sum y` and sum of
squares :math:`\sum y^2`. They become a :class:`fieldexp.stats.sufficient.ClusterTotals`
(a cell acts as one "cluster" for the Welch and blocked variances, which only use sums by
block x arm) and are finished by the same formulas as :mod:`fieldexp.experiment.dim`:
Welch (standard), CR2 with Bell–McCaffrey df from cluster totals (:func:`cr2_two_arm`),
blocked :math:`\hat\tau = \sum_b \frac{N_b}{N}\hat\tau_b`,
:math:`\widehat{se}^2 = \sum_b (N_b/N)^2 \widehat{se}_b^2` and the matched-pair variances.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from fieldexp.engine.prepare import BLOCK, CLUSTER, EngineData, Y, Z
from fieldexp.engine.tables import pull
from fieldexp.errors import DesignError
from fieldexp.stats.covariance import EIGEN_TOL
from fieldexp.stats.groups import factorize
from fieldexp.stats.sufficient import ClusterTotals, TwoArmCR2, cr2_two_arm, matched_pair_rule

__all__ = [
    "MAX_PULLED_CLUSTERS",
    "EngineCR2",
    "EngineDim",
    "cells_and_cr2",
    "dim_from_totals",
    "engine_totals",
]

#: above this many clusters the CR2 sums of the difference in means are computed in the
#: engine (one row per block) instead of pulling cluster totals
MAX_PULLED_CLUSTERS = 2_000_000


def engine_totals(data: EngineData, *, function: str) -> ClusterTotals:
    """Pull cluster (or block x arm cell) totals and check the design rules on them."""
    t = data.table
    y, z = t[Y], t[Z]
    if data.clustered:
        expr = t.group_by(CLUSTER).aggregate(
            n=t.count(),
            total=y.sum(),
            total_sq=(y * y).sum(),
            z_min=z.min(),
            z_max=z.max(),
            b_min=t[BLOCK].min(),
            b_max=t[BLOCK].max(),
        )
        rows = pull(expr.order_by(CLUSTER), "cluster totals")
        z_min = rows["z_min"].to_numpy()
        if np.any(z_min != rows["z_max"].to_numpy()):
            bad = int(np.sum(z_min != rows["z_max"].to_numpy()))
            raise DesignError(
                f"the assignment must be constant within each cluster (clusters are assigned "
                f"whole); {bad:,} clusters mix arms ({function})."
            )
        b_min, b_max = rows["b_min"].to_pylist(), rows["b_max"].to_pylist()
        spans = sum(a != b for a, b in zip(b_min, b_max, strict=True))
        if spans:
            raise DesignError(
                f"clusters are not nested in blocks: {spans:,} clusters span several blocks "
                f"({function})."
            )
        if len(z_min) < 2:
            raise DesignError(f"only one cluster ({function}); need at least two.")
        block_labels = np.asarray(b_min, dtype=object)
        arm = z_min.astype(np.int64)
    else:
        expr = t.group_by([BLOCK, Z]).aggregate(n=t.count(), total=y.sum(), total_sq=(y * y).sum())
        rows = pull(expr.order_by([BLOCK, Z]), "block x arm totals")
        block_labels = np.asarray(rows[BLOCK].to_pylist(), dtype=object)
        arm = rows[Z].to_numpy().astype(np.int64)
    blocks = factorize(block_labels)
    size = rows["n"].to_numpy().astype(np.float64)
    ct = ClusterTotals(
        blocks.codes,
        arm,
        size,
        rows["total"].to_numpy().astype(np.float64),
        rows["total_sq"].to_numpy().astype(np.float64),
        blocks.n_groups,
    )
    treated = ct.by_block_arm(size)
    one_arm = np.sum((treated[:, 0] == 0) | (treated[:, 1] == 0))
    if one_arm:
        raise DesignError(
            f"{int(one_arm):,} block(s) have units in one arm only; every block needs assigned "
            f"and not-assigned units ({function})."
        )
    return ct


@dataclass(frozen=True, slots=True)
class EngineDim:
    """Estimate, standard error, df, design and variance labels (as ``DimEstimate``)."""

    estimate: float
    std_error: float
    df: float
    nclusters: int | None
    design: str
    variance: str


def _check_arm_sizes(units: np.ndarray, *, pair_matched: bool) -> None:
    if np.any(units == 0):
        raise DesignError("every block needs units in both arms for a difference in means")
    if not pair_matched and np.any(units == 1):
        raise DesignError(
            "without matched pairs, every block needs at least two assigned and two "
            f"not-assigned units for a difference in means; {int(np.any(units == 1, axis=1).sum())} "
            "block(s) have a single unit in an arm"
        )


def _welch(ct: ClusterTotals) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    N = ct.by_block_arm(ct.size)
    S = ct.by_block_arm(ct.total)
    Q = ct.by_block_arm(ct.total_sq)
    mean = S / N
    v = (Q - S * mean) / (N - 1) / N
    se2 = v.sum(axis=1)
    df = se2**2 / (v[:, 1] ** 2 / (N[:, 1] - 1) + v[:, 0] ** 2 / (N[:, 0] - 1))
    return mean[:, 1] - mean[:, 0], se2, df


def dim_from_totals(
    ct: ClusterTotals,
    *,
    blocked: bool,
    clustered: bool,
    engine_cr2: EngineCR2 | None = None,
) -> EngineDim:
    """Difference in means of estimatr's ``difference_in_means`` from engine totals.

    ``ct`` holds cluster totals (then CR2 comes from :func:`cr2_two_arm`), or block x arm
    cell totals with ``engine_cr2`` the CR2 sums computed in the engine (many clusters).
    """
    units = ct.by_block_arm(ct.size)
    n_b = units.sum(axis=1)
    nobs = float(n_b.sum())
    if engine_cr2 is not None:
        G: int | None = engine_cr2.n_clusters
    else:
        G = len(ct.size) if clustered else None
    if not blocked:
        _check_arm_sizes(units, pair_matched=False)
        if clustered:
            cr2 = engine_cr2.cr2 if engine_cr2 is not None else cr2_two_arm(ct, with_df=True)
            est, se, df = float(cr2.estimate[0]), math.sqrt(float(cr2.variance[0])), cr2.df
            return EngineDim(est, se, df, G, "clustered", "CR2")
        e, se2, dfs = _welch(ct)
        return EngineDim(
            float(e[0]), math.sqrt(float(se2[0])), float(dfs[0]), None, "standard", "welch"
        )

    if engine_cr2 is not None:
        per_block = engine_cr2.per_block
    else:
        per_block = np.bincount(ct.block, minlength=ct.n_blocks) if clustered else n_b
    pair_matched = matched_pair_rule(per_block, stacklevel=4)
    _check_arm_sizes(units, pair_matched=pair_matched)
    S = ct.by_block_arm(ct.total)
    if pair_matched:
        est_b = S[:, 1] / units[:, 1] - S[:, 0] / units[:, 0]
        se_b = np.full(len(n_b), np.nan)
    elif clustered:
        cr2 = engine_cr2.cr2 if engine_cr2 is not None else cr2_two_arm(ct, with_df=False)
        est_b, se_b = cr2.estimate, np.sqrt(cr2.variance)
    else:
        est_b, se2_b, _ = _welch(ct)
        se_b = np.sqrt(se2_b)
    tau = float(np.sum(est_b * n_b / nobs))
    nb = ct.n_blocks
    if pair_matched:
        if not clustered:
            se = math.sqrt(np.sum((est_b - tau) ** 2) / (nb * (nb - 1)))
            return EngineDim(tau, se, float(nb - 1), None, "matched-pair", "matched-pair")
        se = math.sqrt(nb / ((nb - 1) * nobs**2) * np.sum((n_b * est_b - nobs * tau / nb) ** 2))
        return EngineDim(tau, se, float(nb - 1), G, "matched-pair-clustered", "matched-pair")
    se = math.sqrt(float(np.sum(se_b**2 * (n_b / nobs) ** 2)))
    if not clustered:
        return EngineDim(tau, se, nobs - 2 * nb, None, "blocked", "blocked")
    return EngineDim(tau, se, float(G or 0) - 2 * nb, G, "blocked-clustered", "blocked")


@dataclass(frozen=True, slots=True, eq=False)
class EngineCR2:
    """CR2 of the two-arm difference in means summed in the engine, per block."""

    cr2: TwoArmCR2
    per_block: np.ndarray  # clusters per block
    n_clusters: int


def cells_and_cr2(data: EngineData, *, function: str) -> tuple[ClusterTotals, EngineCR2]:
    r"""Block x arm totals and the CR2 sums of :func:`cr2_two_arm`, without pulling clusters.

    With :math:`N_a, \bar y_a` of the cluster's block x arm cell (joined in the engine),
    :math:`v_g = 1 - n_g/N_a`, :math:`E_g = Y_g - n_g\bar y_a`, per block
    :math:`\widehat V_b = \sum_g E_g^2 / (N_a^2 v_g)` (terms with :math:`v_g \le` EIGEN_TOL
    dropped) and, unblocked, the Bell–McCaffrey sums of :func:`cr2_two_arm`:
    :math:`q_g = c_g^2 n_g / v_g`, :math:`s_g = c_g n_g / \sqrt{v_g}`,
    :math:`c_g = 1/N_1` or :math:`-1/N_0`, and :math:`\sum q`, :math:`\sum q^2`,
    :math:`\sum s^2 (1, z)`, :math:`\sum q s^2 (1, z)`.
    """
    t = data.table
    y, z = t[Y], t[Z]
    cells = t.group_by([BLOCK, Z]).aggregate(
        _fx_cell_n=t.count(), _fx_cell_s=y.sum(), _fx_cell_q=(y * y).sum()
    )
    crow = pull(cells.order_by([BLOCK, Z]), "block x arm totals")
    blocks = factorize(np.asarray(crow[BLOCK].to_pylist(), dtype=object))
    ct = ClusterTotals(
        blocks.codes,
        crow[Z].to_numpy().astype(np.int64),
        crow["_fx_cell_n"].to_numpy().astype(np.float64),
        crow["_fx_cell_s"].to_numpy().astype(np.float64),
        crow["_fx_cell_q"].to_numpy().astype(np.float64),
        blocks.n_groups,
    )
    cl = t.group_by(CLUSTER).aggregate(
        _fx_cl_n=t.count(),
        _fx_cl_y=y.sum(),
        _zmin=z.min(),
        _zmax=z.max(),
        _bmin=t[BLOCK].min(),
        _bmax=t[BLOCK].max(),
    )
    j = cl.join(cells, [cl["_bmin"] == cells[BLOCK], cl["_zmin"] == cells[Z]])
    n_g = j["_fx_cl_n"].cast("float64")
    Na = j["_fx_cell_n"].cast("float64")
    ev = 1.0 - n_g / Na
    keep = ev > EIGEN_TOL
    inv_ev = keep.ifelse(1.0 / keep.ifelse(ev, 1.0), 0.0)
    E = j["_fx_cl_y"] - n_g * j["_fx_cell_s"] / Na
    contrib = E * E * inv_ev / (Na * Na)
    zz = j["_zmin"]
    # N_1 and N_0 of the (single) block for the df sums; only used unblocked
    c = (zz == 1.0).ifelse(1.0 / Na, -1.0 / Na)
    q = c * c * n_g * inv_ev
    s2 = c * c * n_g * n_g * inv_ev
    per = j.mutate(_contrib=contrib, _q=q, _s2=s2)
    byb = per.group_by(per[BLOCK]).aggregate(
        _fx_var=per["_contrib"].sum(),
        _fx_ncl=per.count(),
        _mixed=(per["_zmin"] != per["_zmax"]).cast("int64").sum(),
        _spans=(per["_bmin"] != per["_bmax"]).cast("int64").sum(),
        _sq=per["_q"].sum(),
        _sq2=(per["_q"] * per["_q"]).sum(),
        _ss2=per["_s2"].sum(),
        _ss2z=(per["_s2"] * per["_zmin"]).sum(),
        _sqs2=(per["_q"] * per["_s2"]).sum(),
        _sqs2z=(per["_q"] * per["_s2"] * per["_zmin"]).sum(),
    )
    rows = pull(byb.order_by(BLOCK), "CR2 sums by block")
    mixed = int(sum(rows["_mixed"].to_pylist()))
    if mixed:
        raise DesignError(
            f"the assignment must be constant within each cluster (clusters are assigned "
            f"whole); {mixed:,} clusters mix arms ({function})."
        )
    spans = int(sum(rows["_spans"].to_pylist()))
    if spans:
        raise DesignError(
            f"clusters are not nested in blocks: {spans:,} clusters span several blocks "
            f"({function})."
        )
    # rows are in block-label order, as the cells: map them to the cell block codes
    labels = rows[BLOCK].to_pylist()
    code_of = {lab: int(code) for lab, code in zip(crow[BLOCK].to_pylist(), ct.block, strict=True)}
    order = np.array([code_of[lab] for lab in labels], dtype=np.int64)
    variance = np.zeros(ct.n_blocks)
    per_block = np.zeros(ct.n_blocks, dtype=np.int64)
    variance[order] = rows["_fx_var"].to_numpy()
    per_block[order] = rows["_fx_ncl"].to_numpy()
    G = int(per_block.sum())
    N = ct.by_block_arm(ct.size)
    S = ct.by_block_arm(ct.total)
    estimate = S[:, 1] / N[:, 1] - S[:, 0] / N[:, 0]
    df = np.nan
    if ct.n_blocks == 1 and G >= 2:
        r0 = rows.to_pylist()[0]
        n1, n0 = N[0, 1], N[0, 0]
        M = np.linalg.inv(np.array([[n1 + n0, n1], [n1, n1]]))
        FtF = np.array([[r0["_ss2"], r0["_ss2z"]], [r0["_ss2z"], r0["_ss2z"]]])
        qFF = np.array([[r0["_sqs2"], r0["_sqs2z"]], [r0["_sqs2z"], r0["_sqs2z"]]])
        KS = -M @ FtF
        tr_p = r0["_sq"] - float(np.sum(M * FtF))
        tr_p2 = r0["_sq2"] - 2.0 * float(np.sum(M * qFF)) + float(np.einsum("ij,ji->", KS, KS))
        df = float(tr_p**2 / tr_p2)
    return ct, EngineCR2(TwoArmCR2(estimate, variance, df), per_block, G)
