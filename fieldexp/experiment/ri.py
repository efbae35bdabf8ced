"""Randomisation inference that replays the real design: :func:`randomization_inference`.

The assignment is re-drawn exactly as :meth:`Design.assign` draws it (blocks, whole
clusters, the exact distribution of the per-block counts), the test statistic is recomputed
from cluster totals for every draw, and the p-value is the share of draws at least as
extreme as the observed statistic (Fisher 1935; Rosenbaum 2002; Gerber & Green 2012, ch. 3).

Statistic (ITT): the block-stratified difference in means of the adjusted outcome
:math:`y_i(\\tau_0) = y_i - \\tau_0 Z_i` under the sharp null of a constant effect
:math:`\\tau_0`,

.. math::

    \\hat\\tau(Z) = \\sum_b \\frac{N_b}{N}
        \\left(\\frac{\\sum_{c \\in b, Z_c=1} Y_c}{\\sum_{c \\in b, Z_c=1} n_c}
        - \\frac{\\sum_{c \\in b, Z_c=0} Y_c}{\\sum_{c \\in b, Z_c=0} n_c}\\right)

with :math:`Y_c, n_c` the cluster totals of the outcome and of units. Weighting each
block's difference by its share :math:`N_b/N` is the inverse-probability (Hajek, within
block) estimator, so blocks with different assignment probabilities are handled exactly.
CACE: the adjusted outcome is :math:`y_i - \\tau_0 d_i` (Imbens & Rosenbaum 2005), which the
sharp null fixes whatever the assignment; the statistic is its ITT divided by the observed
first stage :math:`\\widehat{ITT}_D` (the Wald estimator at :math:`\\tau_0 = 0`).
"""

from __future__ import annotations

import hashlib
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np
import pandas as pd

from fieldexp._validate import (
    check_alpha,
    check_binary,
    check_choice,
    check_frame,
    check_positive,
    numeric,
    resolve_estimand,
)
from fieldexp.design.assign import Structure, block_count_support, block_key, ids_sha256, prepare
from fieldexp.design.replay import (
    Reducer,
    ReplayPlan,
    count_assignments,
    enumerate_draws,
    replay_draws,
)
from fieldexp.design.spec import ArmLabel, Design
from fieldexp.errors import (
    ColumnNotFoundError,
    DataError,
    DesignError,
    RowsDroppedWarning,
    SpecificationError,
    did_you_mean,
    format_rows,
)
from fieldexp.results import Result

__all__ = ["RandomizationResult", "randomization_inference"]

_FUNCTION = "randomization_inference"
ALTERNATIVES = ("two-sided", "greater", "less")
ENGINES = ("auto", "dense", "grouped", "exact")
_MAX_ENUMERATION = 200_000


# ===================================================================== shared preparation
@dataclass(frozen=True, slots=True)
class ReplaySetup:
    """The randomisation set (clusters in the two compared arms) and how to replay it.

    ``row_cluster`` maps every row of ``data`` to its cluster in the set (``-1`` for rows
    outside the set: excluded units or other arms).
    """

    plan: ReplayPlan
    row_cluster: np.ndarray
    z_cluster: np.ndarray  # observed 0/1 per set cluster
    cluster_block: np.ndarray  # block index (in plan) per set cluster
    block_labels: tuple[object, ...]
    arm: ArmLabel
    control: ArmLabel
    conditional: bool  # multi-arm design: counts held at their observed values
    ids_hash: str
    notes: tuple[str, ...]


def resolve_assignment(
    data: pd.DataFrame, assignment: str | pd.DataFrame, design: Design, *, function: str
) -> tuple[pd.DataFrame, str]:
    """``assignment`` as a column of ``data``: a column name, or the frame of Design.assign."""
    if isinstance(assignment, str):
        if assignment not in data.columns:
            raise ColumnNotFoundError(
                f"column {assignment!r} (argument 'assignment' of {function}) is not in the data."
                f"{did_you_mean(assignment, [str(c) for c in data.columns])}"
            )
        return data, assignment
    if isinstance(assignment, pd.DataFrame):
        if design.unit not in assignment.columns or "arm" not in assignment.columns:
            raise SpecificationError(
                f"The 'assignment' parameter of {function} must be a column name or the frame "
                f"returned by Design.assign (with columns {design.unit!r} and 'arm')."
            )
        if design.unit not in data.columns:
            raise DataError(f"data: column {design.unit!r} (the design's unit) is missing")
        col = "__fieldexp_arm__"
        arms = assignment.set_index(design.unit)["arm"]
        if not arms.index.is_unique:
            raise DataError(f"assignment: column {design.unit!r} is not unique")
        merged = data.assign(**{col: data[design.unit].map(arms)})
        return merged, col
    raise SpecificationError(
        f"The 'assignment' parameter of {function} must be a column name or the frame returned "
        f"by Design.assign. Got {type(assignment).__name__} instead."
    )


def _arm_codes(series: pd.Series, design: Design, *, function: str) -> np.ndarray:
    """Index of each row's arm in ``design.arm_labels`` (``-1`` when missing)."""
    labels = design.arm_labels
    codes = np.full(len(series), -1, dtype=np.int64)
    present = series.notna().to_numpy()
    values = series[present]
    idx = np.full(len(values), -2, dtype=np.int64)
    if isinstance(labels[0], int):
        num = pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64)
        for i, lab in enumerate(labels):
            idx[num == float(lab)] = i
    else:
        text = values.astype(str).to_numpy()
        for i, lab in enumerate(labels):
            idx[text == str(lab)] = i
    bad = idx == -2
    if bad.any():
        found = sorted({str(v) for v in values[bad]})[:5]
        raise DataError(
            f"column {series.name!r} (argument 'assignment' of {function}) holds values that are "
            f"not arms of the design {list(labels)!r}: {', '.join(found)} in "
            f"{format_rows(values.index[bad][:5], total=int(bad.sum()))}."
        )
    codes[present] = idx
    return codes


def prepare_replay(
    data: pd.DataFrame,
    arm_column: str,
    design: Design,
    *,
    arm: ArmLabel | None,
    function: str,
) -> tuple[ReplaySetup, Structure]:
    """Validate the observed assignment against ``design`` and build the replay plan."""
    if not isinstance(design, Design):
        raise SpecificationError(
            f"The 'design' parameter of {function} must be a fieldexp.Design. "
            f"Got {type(design).__name__} instead."
        )
    st = prepare(design, data)
    codes = _arm_codes(data[arm_column], design, function=function)
    ci = design.arm_labels.index(design.control)
    if arm is None:
        if len(design.arm_labels) != 2:
            raise SpecificationError(
                f"The 'arm' parameter of {function} is required for a design with "
                f"{len(design.arm_labels)} arms: name the arm compared with the control "
                f"({list(design.treatment_arms)!r})."
            )
        arm = design.treatment_arms[0]
    if arm not in design.arm_labels or arm == design.control:
        raise SpecificationError(
            f"The 'arm' parameter of {function} must be one of {list(design.treatment_arms)!r}. "
            f"Got {arm!r} instead."
        )
    ti = design.arm_labels.index(arm)
    # one arm per cluster
    ncl = st.n_clusters
    cmin = np.full(ncl, np.iinfo(np.int64).max)
    cmax = np.full(ncl, np.iinfo(np.int64).min)
    np.minimum.at(cmin, st.row_cluster, codes)
    np.maximum.at(cmax, st.row_cluster, codes)
    varying = cmin != cmax
    if varying.any():
        rows = data.index[varying[st.row_cluster]]
        raise DesignError(
            f"column {arm_column!r} (argument 'assignment' of {function}) varies within "
            f"clusters of {design.clusters!r}, but clusters are assigned whole: "
            f"{format_rows(rows[:5], total=len(rows))}."
        )
    cluster_code = cmin
    multi = len(design.arm_labels) > 2
    in_set = (cluster_code == ci) | (cluster_code == ti)
    starts: list[int] = [0]
    support: list[tuple[tuple[int, Fraction], ...]] = []
    keys: list[str] = []
    labels: list[object] = []
    order: list[np.ndarray] = []
    for b, label in enumerate(st.block_labels):
        lo, hi = int(st.block_starts[b]), int(st.block_starts[b + 1])
        codes_b = cluster_code[lo:hi]
        assigned = codes_b[codes_b >= 0]
        if len(assigned) == 0:
            continue
        n = len(assigned)
        observed = tuple(int((assigned == k).sum()) for k in range(len(design.arm_labels)))
        full = block_count_support(design, label, n)
        if not any(counts == observed and p > 0 for counts, p in full):
            allowed = sorted({c for c, p in full if p > 0})
            where = f"block {label!r}" if label is not None else "the sample"
            raise DesignError(
                f"the assignment in {where} does not match the design: {n} assigned clusters "
                f"with counts {dict(zip(design.arm_labels, observed, strict=True))!r}, but the "
                f"design allows only {[dict(zip(design.arm_labels, c, strict=True)) for c in allowed][:4]!r}"
                " (were assigned units dropped, or the assignment made another way?)"
            )
        sel = np.arange(lo, hi)[in_set[lo:hi]]
        sup: tuple[tuple[int, Fraction], ...]
        if multi:
            sup = ((observed[ti], Fraction(1)),)
        else:
            agg: dict[int, Fraction] = {}
            for counts, p in full:
                agg[counts[ti]] = agg.get(counts[ti], Fraction(0)) + p
            sup = tuple(sorted((m, p) for m, p in agg.items() if p > 0))
        order.append(sel)
        starts.append(starts[-1] + len(sel))
        support.append(sup)
        keys.append(block_key(label))
        labels.append(label)
    set_clusters = np.concatenate(order) if order else np.zeros(0, dtype=np.int64)
    position = np.full(ncl, -1, dtype=np.int64)
    position[set_clusters] = np.arange(len(set_clusters))
    row_cluster = position[st.row_cluster]
    cluster_block = np.repeat(np.arange(len(support)), np.diff(starts))
    notes: list[str] = []
    n_out = int((codes < 0).sum())
    if n_out:
        notes.append(f"{n_out:,} rows with no arm (excluded from the randomisation) set aside")
    if multi:
        notes.append(
            f"{len(design.arm_labels)}-arm design: arm {arm!r} vs control {design.control!r} is "
            "tested by re-randomising the units of these two arms within blocks, holding the "
            "observed counts fixed (the other arms stay as assigned)"
        )
    plan = ReplayPlan(
        block_starts=np.asarray(starts, dtype=np.int64),
        block_keys=tuple(keys),
        support=tuple(support),
    )
    setup = ReplaySetup(
        plan=plan,
        row_cluster=row_cluster,
        z_cluster=(cluster_code[set_clusters] == ti).astype(np.float64),
        cluster_block=cluster_block,
        block_labels=tuple(labels),
        arm=arm,
        control=design.control,
        conditional=multi,
        ids_hash=ids_sha256(st.cluster_ids[set_clusters]) if len(set_clusters) else "",
        notes=tuple(notes),
    )
    return setup, st


def cluster_sums(row_cluster: np.ndarray, values: np.ndarray, n_clusters: int) -> np.ndarray:
    """Sum the columns of ``values`` (rows x k) by cluster (rows with cluster -1 ignored)."""
    keep = row_cluster >= 0
    out = np.zeros((n_clusters, values.shape[1]))
    for j in range(values.shape[1]):
        out[:, j] = np.bincount(row_cluster[keep], weights=values[keep, j], minlength=n_clusters)
    return out


def residualize(
    y: np.ndarray,
    X: np.ndarray,
    groups: np.ndarray,
    n_groups: int,
    w: np.ndarray | None = None,
) -> np.ndarray:
    """Residuals of ``y`` (n x k) on ``X`` and group (block) indicators (Frisch-Waugh),
    by weighted least squares when ``w`` is given."""
    wt = np.ones(len(groups)) if w is None else w

    def demean(a: np.ndarray) -> np.ndarray:
        cnt = np.bincount(groups, weights=wt, minlength=n_groups)
        cnt[cnt == 0] = 1.0
        out = np.empty_like(a)
        for j in range(a.shape[1]):
            means = np.bincount(groups, weights=wt * a[:, j], minlength=n_groups) / cnt
            out[:, j] = a[:, j] - means[groups]
        return out

    yd = demean(y)
    if X.shape[1] == 0:
        return yd
    Xd = demean(X)
    root = np.sqrt(wt)[:, None]
    beta, *_ = np.linalg.lstsq(Xd * root, yd * root, rcond=None)
    return yd - Xd @ beta


# ===================================================================== ITT reducer
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
            s0 = T[g * kc : (g + 1) * kc][None, :] - s1
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


# ===================================================================== result
@dataclass(frozen=True, slots=True, eq=False)
class RandomizationResult(Result):
    """Randomisation-inference result.

    Attributes
    ----------
    statistic : float
        Observed statistic (estimate, or t when ``studentized``) at the sharp null.
    p_value : float
        Share of re-randomisations at least as extreme (weighted by their probability when
        ``exact``).
    p_value_se : float
        Monte Carlo standard error :math:`\\sqrt{p(1-p)/R}` (0 when exact).
    reps : int
        Number of draws used (all assignments when ``exact``).
    exact : bool
        True when every possible assignment was enumerated.
    draws : ndarray
        The statistic under each draw; ``draw_weights`` their probabilities when exact.
    ci_low, ci_high : float
        Test-inversion interval for a constant additive effect (``ci=True``), else NaN.
    draw_key : str or None
        Identifies the assignments drawn (design, seed, units, arm, draws, engine); two
        results with the same key saw the same assignments, draw by draw (Westfall-Young).
    """

    statistic: float
    p_value: float
    p_value_se: float
    reps: int
    exact: bool
    draws: np.ndarray
    draw_weights: np.ndarray | None
    estimate: float
    estimand: str
    studentized: bool
    alternative: str
    sharp_null: float
    ci_low: float
    ci_high: float
    alpha: float
    outcome: str
    arm: ArmLabel
    control: ArmLabel
    nobs: int
    nclusters: int
    nblocks: int
    engine: str
    seed: int
    draw_key: str | None
    notes: tuple[str, ...] = field(default_factory=tuple)

    def to_frame(self) -> pd.DataFrame:
        """One row: the observed statistic, p-value, its Monte Carlo error and the CI."""
        return pd.DataFrame(
            [
                {
                    "outcome": self.outcome,
                    "estimand": self.estimand,
                    "arm": self.arm,
                    "estimate": self.estimate,
                    "statistic": self.statistic,
                    "studentized": self.studentized,
                    "sharp_null": self.sharp_null,
                    "alternative": self.alternative,
                    "p_value": self.p_value,
                    "p_value_se": self.p_value_se,
                    "reps": self.reps,
                    "exact": self.exact,
                    "ci_low": self.ci_low,
                    "ci_high": self.ci_high,
                    "nobs": self.nobs,
                    "nclusters": self.nclusters,
                    "nblocks": self.nblocks,
                }
            ]
        )

    def _title(self) -> str:
        how = (
            f"exact: all {self.reps:,} assignments enumerated"
            if self.exact
            else f"{self.reps:,} re-randomisations, seed {self.seed}, engine {self.engine}"
        )
        return (
            f"Randomisation inference: {self.estimand} of arm {self.arm!r} vs "
            f"{self.control!r} on {self.outcome!r} ({how})"
        )

    def _lines(self) -> list[str]:
        kind = "t statistic" if self.studentized else "estimate"
        lines = [
            f"sharp null: constant effect {self.sharp_null:g}; alternative {self.alternative}",
            f"estimate {self.estimate:.6f}; observed {kind} {self.statistic:.6f}",
            f"p-value {self.p_value:.4f}"
            + ("" if self.exact else f" (Monte Carlo s.e. {self.p_value_se:.4f})"),
        ]
        if math.isfinite(self.ci_low) or math.isfinite(self.ci_high):
            level = round(100 * (1 - self.alpha))
            lines.append(f"{level}% CI by test inversion [{self.ci_low:.6f}, {self.ci_high:.6f}]")
        lines.append(f"nobs {self.nobs:,}, clusters {self.nclusters:,}, blocks {self.nblocks:,}")
        lines.extend(f"note: {n}" for n in self.notes)
        return lines

    @property
    def estimator(self) -> str:
        """Deprecated: ``"itt"``/``"cace"``, the lower-case :attr:`estimand`."""
        warnings.warn(
            "RandomizationResult.estimator is renamed RandomizationResult.estimand ('ITT'/'CACE').",
            FutureWarning,
            stacklevel=2,
        )
        return self.estimand.lower()

    def _table(self) -> pd.DataFrame | None:
        return None

    def _stored_interval(self) -> tuple[float, float, float] | None:
        return (self.alpha, self.ci_low, self.ci_high)

    def _plot(self, ax: Any) -> None:
        """The statistic's randomisation distribution with the observed value."""
        draws = np.asarray(self.draws, dtype=float)
        ok = np.isfinite(draws)
        w = None if self.draw_weights is None else np.asarray(self.draw_weights)[ok]
        ax.hist(draws[ok], bins=50, weights=w, color="tab:gray", alpha=0.7)
        ax.axvline(self.statistic, color="tab:red", linewidth=1.5, label="observed")
        ax.set_xlabel("t statistic" if self.studentized else "estimate")
        ax.set_ylabel("probability" if self.exact else "draws")
        ax.set_title(f"Randomisation distribution (p = {self.p_value:.4f})")
        ax.legend(fontsize=8)

    def __repr__(self) -> str:
        return (
            f"RandomizationResult(outcome={self.outcome!r}, statistic={self.statistic:.6g}, "
            f"p_value={self.p_value:.4g}, reps={self.reps}, exact={self.exact})"
        )


# ===================================================================== public function
def _check_int(value: object, argument: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or int(value) < minimum:
        raise SpecificationError(
            f"The {argument!r} parameter of {_FUNCTION} must be an integer >= {minimum}. "
            f"Got {value!r} instead."
        )
    return int(value)


@dataclass(frozen=True, slots=True)
class _Prepared:
    setup: ReplaySetup
    V: np.ndarray
    weights: np.ndarray
    scale: float
    nobs: int
    n_dropped: int


def _prepare_statistic(
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
    function: str = _FUNCTION,
    need_a: bool = True,
    weights: str | None = None,
) -> _Prepared:
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
    setup, _ = prepare_replay(data, arm_column, design, arm=arm, function=function)
    cols = [
        outcome,
        *([treatment] if treatment else []),
        *([weights] if weights else []),
        *covariates,
    ]
    in_set = setup.row_cluster >= 0
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
    blocks_cols = []
    block_share = np.zeros((setup.plan.n_blocks, n_groups))
    for gi in range(n_groups):
        mask = (g == gi).astype(np.float64) * w
        sums = cluster_sums(rc, np.column_stack([mask, mask * y_adj, mask * a_adj]), ncl)
        blocks_cols.append(itt_columns(sums[:, 0], sums[:, 1], sums[:, 2], studentize))
        nb = np.bincount(blk, weights=mask, minlength=setup.plan.n_blocks)
        block_share[:, gi] = nb / nb.sum() if nb.sum() > 0 else 0.0
    V = np.column_stack(blocks_cols)
    scale = 1.0
    if estimator == "cace":
        # observed first stage ITT_D, with the same block weights (no covariates in the scale)
        d_sums = cluster_sums(rc, np.column_stack([w, w * a, w * a]), ncl)
        Vd = itt_columns(d_sums[:, 0], d_sums[:, 1], d_sums[:, 2], False)
        red, _ = itt_reducer(block_share[:, :1], False)
        acc = _observed(setup, Vd, red, N_ACC)
        scale = float(acc[0])
        if not math.isfinite(scale) or abs(scale) < 1e-12:
            raise DataError(
                f"{function}: the first stage (effect of assignment on {treatment!r}) is zero; "
                "the CACE Wald statistic is undefined"
            )
    return _Prepared(setup, V, block_share, scale, int(used.sum()), n_drop)


def _observed(setup: ReplaySetup, V: np.ndarray, reducer: Reducer, n_acc: int) -> np.ndarray:
    plan = setup.plan
    acc = np.zeros(n_acc)
    z = setup.z_cluster
    for b in range(plan.n_blocks):
        lo, hi = int(plan.block_starts[b]), int(plan.block_starts[b + 1])
        Vb = V[lo:hi]
        s1 = (z[lo:hi] @ Vb)[None, :]
        acc += reducer(b, s1, Vb.sum(axis=0))[0]
    return acc


def run_replay(
    setup: ReplaySetup,
    V: np.ndarray,
    reducer: Reducer,
    n_acc: int,
    *,
    reps: int,
    seed: int,
    engine: str,
    design: Design,
) -> tuple[np.ndarray, np.ndarray, bool, str, str | None]:
    """Draws of the accumulators: ``(acc, weights, exact, engine, draw_key)``."""
    plan = setup.plan
    n_assign = count_assignments(plan, min(max(reps, 1), _MAX_ENUMERATION))
    if engine == "exact" and n_assign is None:
        raise SpecificationError(
            f"engine='exact': there are more than {min(reps, _MAX_ENUMERATION):,} possible "
            "assignments; raise reps or use engine='auto'"
        )
    if n_assign is not None and engine in ("auto", "exact"):
        acc, prob = enumerate_draws(plan, V, reducer, n_acc)
        used = "exact"
        exact = True
    else:
        if engine == "auto":
            distinct = sum(
                len(np.unique(V[plan.block_starts[b] : plan.block_starts[b + 1]], axis=0))
                for b in range(plan.n_blocks)
            )
            engine = "grouped" if distinct <= 0.25 * V.shape[0] else "dense"
        acc = replay_draws(plan, V, reducer, n_acc, reps=reps, seed=seed, engine=engine)
        prob = np.full(len(acc), 1.0 / len(acc))
        used = engine
        exact = False
    key = None
    if used in ("dense", "exact"):
        text = "|".join(
            [design.to_json(), str(seed), setup.ids_hash, repr(setup.arm), str(reps), used]
        )
        key = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return acc, prob, exact, used, key


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


def randomization_inference(
    data: pd.DataFrame,
    outcome: str,
    assignment: str | pd.DataFrame,
    design: Design,
    *,
    estimand: str | None = None,
    treatment: str | None = None,
    covariates: str | Sequence[str] | None = None,
    statistic: str = "estimate",
    reps: int = 1000,
    seed: int,
    sharp_null: float = 0.0,
    alternative: str = "two-sided",
    ci: bool = False,
    studentize: bool = False,
    arm: ArmLabel | None = None,
    alpha: float = 0.05,
    engine: str = "auto",
    weights: str | None = None,
    estimator: str | None = None,
) -> RandomizationResult:
    """Fisher randomisation test that replays ``design`` exactly.

    Parameters
    ----------
    data : DataFrame
        One row per unit with the design's unit, block and cluster columns, the outcome and
        the assignment.
    outcome : str
        Outcome column.
    assignment : str or DataFrame
        Column of ``data`` holding each unit's arm, or the frame returned by
        :meth:`Design.assign` (joined on the unit column).
    design : Design
        The design that produced the assignment; it is replayed (blocks, whole clusters,
        exact per-block count distribution). The observed assignment must be one the design
        can produce, else :class:`DesignError`.
    estimand : {"ITT", "CACE"}
        ``"CACE"`` needs ``treatment`` (contact) and uses the Wald statistic under the sharp
        null (see the module docstring). ``estimator="itt"|"cace"`` is its deprecated name.
    covariates : column name(s), optional
        Covariance adjustment (Rosenbaum 2002): the adjusted outcome is residualised on the
        covariates and block indicators before the difference in means.
    statistic : {"estimate"}
        The estimator's point estimate (studentized with ``studentize=True``).
    reps : int
        Draws. When the number of possible assignments is at most ``reps``, every
        assignment is enumerated instead and ``exact`` is True.
    seed : int
        Required; the draws depend only on it, the design and the units.
    sharp_null : float
        Constant additive effect under the null (0: no effect for anyone).
    alternative : {"two-sided", "greater", "less"}
    ci : bool
        Also invert the test (two-sided, level ``1 - alpha``) for a constant additive effect.
    studentize : bool
        Use :math:`t = \\hat\\tau / \\widehat{se}` with the linearised cluster-robust
        variance of each block's difference in ratio means.
    arm : label, optional
        The arm compared with the control (required when the design has more than two arms).
    weights : str, optional
        Unit weights: cluster totals become :math:`\\sum w_i`, :math:`\\sum w_i y_i`, and
        each block's share is its share of the total weight.
    engine : {"auto", "dense", "grouped", "exact"}
        How draws are made (see :mod:`fieldexp.design.replay`); ``"dense"`` gives draws
        aligned across outcomes (for Westfall-Young); ``"auto"`` enumerates when possible,
        else uses ``"grouped"`` when clusters take few distinct values, else ``"dense"``.

    Returns
    -------
    RandomizationResult
    """
    data = check_frame(data, function=_FUNCTION)
    estimator = resolve_estimand(estimand, estimator, function=_FUNCTION).lower()
    check_choice(alternative, ALTERNATIVES, argument="alternative", function=_FUNCTION)
    check_choice(statistic, ("estimate",), argument="statistic", function=_FUNCTION)
    check_choice(engine, ENGINES, argument="engine", function=_FUNCTION)
    reps = _check_int(reps, "reps", 1)
    seed = _check_int(seed, "seed", 0)
    if (
        isinstance(sharp_null, bool)
        or not isinstance(sharp_null, int | float)
        or not math.isfinite(sharp_null)
    ):
        raise SpecificationError(
            f"The 'sharp_null' parameter of {_FUNCTION} must be a finite number. "
            f"Got {sharp_null!r} instead."
        )
    alpha = check_alpha(alpha, function=_FUNCTION)
    if estimator == "cace" and treatment is None:
        raise SpecificationError(
            f"The 'treatment' parameter of {_FUNCTION} is required with estimand='CACE' "
            "(the contact column)."
        )
    covs = [covariates] if isinstance(covariates, str) else list(covariates or [])
    frame, arm_col = resolve_assignment(data, assignment, design, function=_FUNCTION)
    prep = _prepare_statistic(
        frame,
        outcome,
        arm_col,
        design,
        estimator=estimator,
        treatment=treatment,
        covariates=covs,
        arm=arm,
        studentize=studentize,
        need_a=ci or sharp_null != 0,
        weights=weights,
    )
    reducer, n_acc = itt_reducer(prep.weights, studentize)
    obs_acc = _observed(prep.setup, prep.V, reducer, n_acc)
    acc, prob, exact, used_engine, key = run_replay(
        prep.setup, prep.V, reducer, n_acc, reps=reps, seed=seed, engine=engine, design=design
    )
    tau0 = float(sharp_null)
    observed = float(statistic_at(obs_acc, tau0, studentize, prep.scale))
    if not math.isfinite(observed):
        raise DataError(
            f"{_FUNCTION}: the observed statistic is undefined: some block has no units with an "
            "outcome in one of the compared arms"
            + (" (or a single cluster in an arm, with studentize=True)" if studentize else "")
            + "; merge small blocks or drop them from the design"
        )
    draws = statistic_at(acc, tau0, studentize, prep.scale)
    p = tail_share(draws, observed, prob, alternative)
    n_draws = len(draws)
    se = 0.0 if exact else math.sqrt(p * (1 - p) / n_draws)
    lo = hi = math.nan
    if ci:
        lo, hi = invert_test(
            acc, obs_acc, prob, studentize=studentize, scale=prep.scale, alpha=alpha
        )
    notes = list(prep.setup.notes)
    if not np.all(np.isfinite(draws)):
        bad = int((~np.isfinite(draws)).sum())
        notes.append(f"{bad:,} draws left an arm empty in some block and were not counted")
    return RandomizationResult(
        statistic=observed,
        p_value=p,
        p_value_se=se,
        reps=n_draws,
        exact=exact,
        draws=draws,
        draw_weights=prob if exact else None,
        estimate=float(statistic_at(obs_acc, 0.0, False, prep.scale)),
        estimand=estimator.upper(),
        studentized=studentize,
        alternative=alternative,
        sharp_null=tau0,
        ci_low=lo,
        ci_high=hi,
        alpha=alpha,
        outcome=outcome,
        arm=prep.setup.arm,
        control=prep.setup.control,
        nobs=prep.nobs,
        nclusters=len(prep.setup.z_cluster),
        nblocks=prep.setup.plan.n_blocks,
        engine=used_engine,
        seed=seed,
        draw_key=key,
        notes=tuple(notes),
    )
