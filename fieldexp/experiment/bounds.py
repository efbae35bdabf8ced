r"""Lee (2009) trimming bounds for outcomes observed for some units only.

When the outcome is observed for some units only (voters purged from the file, a survey
answered by some), the difference in observed means compares different subpopulations.
:func:`fieldexp.attrition` tests whether observation rates differ by arm; :func:`lee_bounds` bounds
the effect on the *always-observed* (units observed whatever their arm) under monotonicity
(assignment moves observation in one direction only).

Lee bounds, in one stratum. Let :math:`q_1, q_0` be the observation rates of the treated
and control arms and suppose :math:`q_1 \ge q_0`. The observed treated include a share

.. math:: p = (q_1 - q_0) / q_1

of units observed only because they were treated. Trimming that share from the top
(bottom) of the observed treated outcome distribution gives the lower (upper) bound

.. math::

    \Delta^{L} = E[Y \mid Z=1, S=1, Y \le y_{1-p}] - E[Y \mid Z=0, S=1],\qquad
    \Delta^{U} = E[Y \mid Z=1, S=1, Y \ge y_{p}] - E[Y \mid Z=0, S=1],

with :math:`y_u` the :math:`u`-quantile of observed treated outcomes (symmetrically, the
control arm is trimmed when :math:`q_0 > q_1`). The trimmed means are exact for discrete
outcomes: the unit at the cut keeps the fraction of its mass that makes the kept mass
exactly :math:`(1 - p)` of the observed (ties are interchangeable).

Blocks and tightening cells (Lee 2009, section 4): trimming is done within each stratum
:math:`s` (block × covariate cell), each in the direction of its own rates, and the bounds
are averaged with weights :math:`\omega_s \propto N_s \min(q_{1s}, q_{0s})`, the estimated
number of always-observed units in the stratum, so the target is the effect on the
always-observed population.

Confidence interval (Imbens & Manski 2004): with bootstrap standard errors
:math:`\sigma_L, \sigma_U` of the two bounds,

.. math::

    [\Delta^L - c\,\sigma_L,\; \Delta^U + c\,\sigma_U],\qquad
    \Phi\!\left(c + \frac{\Delta^U - \Delta^L}{\max(\sigma_L, \sigma_U)}\right) - \Phi(-c)
    = 1 - \alpha,

which covers the true effect (not the whole identified set) with probability
:math:`1 - \alpha`. The bootstrap replays the design: clusters (units, when unclustered) are
resampled with replacement within each block × arm, keeping every block's arm sizes; the
draws are keyed to the sorted cluster ids, so row order never matters.
"""

from __future__ import annotations

import math
import numbers
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from fieldexp._validate import as_column_list, check_binary, check_columns, check_frame, numeric
from fieldexp.errors import (
    DataError,
    DesignError,
    FieldexpWarning,
    SpecificationError,
    format_rows,
)
from fieldexp.results import Result

__all__ = ["LeeBoundsResult", "imbens_manski", "lee_bounds"]


# ----------------------------------------------------------------- results
@dataclass(frozen=True, slots=True, eq=False)
class LeeBoundsResult(Result):
    """Lee (2009) bounds on the effect on the always-observed, with the Imbens–Manski CI.

    Attributes
    ----------
    lower, upper : float
        Trimming bounds :math:`\\Delta^L \\le \\Delta^U`.
    trim_share : float
        Share of the observed units of the more-observed arm trimmed away,
        :math:`(q_{hi} - q_{lo}) / q_{hi}` (averaged over strata with their unit counts).
    trimmed_arm : str
        ``"treated"``, ``"control"``, ``"none"`` (equal rates) or ``"mixed"`` (differs by stratum).
    ci_low, ci_high : float
        Imbens–Manski interval at level ``1 - alpha`` (NaN when ``reps=0``).
    se_lower, se_upper : float
        Bootstrap standard errors of the bounds (NaN when ``reps=0``).
    alpha : float
    reps, reps_used : int
        Bootstrap draws asked for and used (draws where a stratum had no observed unit in an
        arm are left out and counted in ``notes``).
    observed_rate_treated, observed_rate_control : float
        Pooled observation rates by arm.
    nobs, nobs_observed : int
        Units, and units with an observed outcome.
    nclusters : int or None
    nstrata : int
        Block × tightening-cell strata trimmed separately.
    outcome : str
    strata : DataFrame
        Per stratum: block, cell, n, q_treated, q_control, trim_share, lower, upper, weight.
    notes : tuple of str
    """

    lower: float
    upper: float
    trim_share: float
    trimmed_arm: str
    ci_low: float
    ci_high: float
    se_lower: float
    se_upper: float
    alpha: float
    reps: int
    reps_used: int
    observed_rate_treated: float
    observed_rate_control: float
    nobs: int
    nobs_observed: int
    nclusters: int | None
    nstrata: int
    outcome: str
    strata: pd.DataFrame
    notes: tuple[str, ...] = field(default_factory=tuple)

    def conf_int(self, alpha: float | None = None) -> tuple[float, float]:
        """Imbens–Manski interval at level ``1 - alpha`` (default: the estimation's) from the
        same bootstrap SEs (not a t interval around one estimate, hence its own method)."""
        alpha = _check_alpha(self.alpha if alpha is None else alpha, "LeeBoundsResult.conf_int")
        return imbens_manski(self.lower, self.upper, self.se_lower, self.se_upper, alpha)

    def to_frame(self) -> pd.DataFrame:
        """One row: outcome, lower, upper, trim_share, trimmed_arm, ci_low, ci_high, ..."""
        cols = (
            "outcome",
            "lower",
            "upper",
            "trim_share",
            "trimmed_arm",
            "ci_low",
            "ci_high",
            "se_lower",
            "se_upper",
            "alpha",
            "observed_rate_treated",
            "observed_rate_control",
            "nobs",
            "nobs_observed",
            "nclusters",
            "nstrata",
            "reps_used",
        )
        return pd.DataFrame([{c: getattr(self, c) for c in cols}], columns=list(cols))

    # Result hooks: text, HTML and summary come from the shared base
    _table_in_text = False

    def _title(self) -> str:
        return f"Lee (2009) bounds on the effect on the always-observed, outcome {self.outcome!r}"

    def _lines(self) -> list[str]:
        level = round(100 * (1 - self.alpha))
        lines = [
            f"bounds [{self.lower: .6f}, {self.upper: .6f}]   trimmed {self.trim_share:.4f} "
            f"of the {self.trimmed_arm} arm's observed",
            f"{level}% Imbens-Manski CI [{self.ci_low: .6f}, {self.ci_high: .6f}]   "
            f"(bootstrap reps {self.reps_used:,})",
            f"observed: treated {self.observed_rate_treated:.4f}, control "
            f"{self.observed_rate_control:.4f}; nobs {self.nobs:,} ({self.nobs_observed:,} "
            f"observed), strata {self.nstrata:,}",
        ]
        lines.extend(f"note: {n}" for n in self.notes)
        return lines


# ----------------------------------------------------------------- helpers
def _check_alpha(alpha: object, function: str) -> float:
    if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real) or not 0 < float(alpha) < 1:
        raise SpecificationError(
            f"The 'alpha' parameter of {function} must be a number strictly between 0 and 1. "
            f"Got {alpha!r} instead."
        )
    return float(alpha)


def imbens_manski(
    lower: float, upper: float, se_lower: float, se_upper: float, alpha: float
) -> tuple[float, float]:
    r"""Imbens & Manski (2004) interval for a partially identified parameter.

    :math:`[L - c\sigma_L, U + c\sigma_U]` with :math:`c` solving
    :math:`\Phi(c + (U - L)/\max(\sigma_L, \sigma_U)) - \Phi(-c) = 1 - \alpha`;
    :math:`c` lies between :math:`z_{1-\alpha}` (wide set) and :math:`z_{1-\alpha/2}` (point).
    """
    from scipy import optimize, stats

    if not (math.isfinite(se_lower) and math.isfinite(se_upper)):
        return (math.nan, math.nan)
    sigma = max(se_lower, se_upper)
    lo_c, hi_c = float(stats.norm.ppf(1 - alpha)), float(stats.norm.ppf(1 - alpha / 2))
    if sigma <= 0:
        return (lower, upper)
    r = max(upper - lower, 0.0) / sigma

    def f(c: float) -> float:
        return float(stats.norm.cdf(c + r) - stats.norm.cdf(-c) - (1 - alpha))

    if f(lo_c) >= 0:
        c = lo_c
    elif f(hi_c) <= 0:
        c = hi_c
    else:
        c = float(optimize.brentq(f, lo_c, hi_c, xtol=1e-14))
    return (lower - c * se_lower, upper + c * se_upper)


def _require_complete(frame: pd.DataFrame, columns: dict[str, str], function: str) -> None:
    for argument, column in columns.items():
        missing = frame[column].isna().to_numpy()
        if missing.any():
            raise DataError(
                f"column {column!r} (argument {argument!r} of {function}) cannot be missing; "
                f"found {int(missing.sum()):,} missing values in "
                f"{format_rows(frame.index[missing][:5], total=int(missing.sum()))}."
            )


def _constant_within(
    frame: pd.DataFrame, inner: str, outer: str, *, rule: str, function: str
) -> None:
    n_values = frame.groupby(inner, sort=False, observed=True)[outer].nunique(dropna=False)
    bad = n_values.index[n_values.to_numpy() > 1]
    if len(bad):
        rows = frame.index[frame[inner].isin(bad).to_numpy()]
        raise DesignError(
            f"{rule}: column {outer!r} must be constant within each cluster of {inner!r}; "
            f"{len(bad):,} clusters have several values, in "
            f"{format_rows(rows[:5], total=len(rows))} ({function})."
        )


@dataclass(frozen=True, slots=True)
class _Layout:
    """Observed rows sorted by (stratum, arm, outcome), and the segment bookkeeping."""

    n_strata: int
    # per row (all units)
    seg_all: np.ndarray  # stratum * 2 + arm, for every unit
    cluster: np.ndarray  # cluster code per unit (into the sorted cluster ids)
    # observed rows, sorted
    obs_rows: np.ndarray  # indices of observed units, in sorted order
    obs_seg: np.ndarray  # segment of each sorted observed row
    obs_y: np.ndarray
    seg_start: np.ndarray  # first position of each segment in obs_rows (len 2 * n_strata)


def _layout(y: np.ndarray, s: np.ndarray, z: np.ndarray, cl: np.ndarray, n_strata: int) -> _Layout:
    seg = s * 2 + z.astype(np.int64)
    obs = np.flatnonzero(~np.isnan(y))
    order = np.lexsort((y[obs], seg[obs]))
    obs_rows = obs[order]
    obs_seg = seg[obs_rows]
    seg_start = np.searchsorted(obs_seg, np.arange(2 * n_strata))
    return _Layout(n_strata, seg, cl, obs_rows, obs_seg, y[obs_rows], seg_start)


def _stratum_bounds(
    lay: _Layout, w: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per-stratum (lower, upper, weight, q1, q0, trim share) for unit frequency weights ``w``."""
    n_seg = 2 * lay.n_strata
    total = np.bincount(lay.seg_all, weights=w, minlength=n_seg)
    wo = w[lay.obs_rows]
    observed = np.bincount(lay.obs_seg, weights=wo, minlength=n_seg)
    with np.errstate(divide="ignore", invalid="ignore"):
        q = observed / total
        q0, q1 = q[0::2], q[1::2]
        qlo = np.minimum(q0, q1)
        keep = np.empty(n_seg)
        keep[0::2] = qlo / q0
        keep[1::2] = qlo / q1
        k_mass = observed * keep  # mass kept in each segment
        cw = np.cumsum(wo)
        before = np.r_[0.0, cw][lay.seg_start][lay.obs_seg]  # mass of earlier segments
        cw_in = cw - before  # cumulative mass within the segment, including the row
        k_row = k_mass[lay.obs_seg]
        low_kept = np.clip(k_row - (cw_in - wo), 0.0, wo)
        high_kept = np.clip(k_row - (observed[lay.obs_seg] - cw_in), 0.0, wo)
        low = np.bincount(lay.obs_seg, weights=low_kept * lay.obs_y, minlength=n_seg) / k_mass
        high = np.bincount(lay.obs_seg, weights=high_kept * lay.obs_y, minlength=n_seg) / k_mass
        lower = low[1::2] - high[0::2]
        upper = high[1::2] - low[0::2]
        weight = (total[0::2] + total[1::2]) * qlo
        trim = 1.0 - qlo / np.maximum(q0, q1)
    return lower, upper, weight, q1, q0, trim


def _aggregate(lower: np.ndarray, upper: np.ndarray, weight: np.ndarray) -> tuple[float, float]:
    if not (np.all(np.isfinite(lower)) and np.all(np.isfinite(upper))) or weight.sum() <= 0:
        return (math.nan, math.nan)
    share = weight / weight.sum()
    return (float(share @ lower), float(share @ upper))


# ----------------------------------------------------------------- lee_bounds
def lee_bounds(
    data: pd.DataFrame,
    outcome: str,
    assignment: str,
    *,
    observed: str,
    blocks: str | None = None,
    clusters: str | None = None,
    covariates_for_tightening: str | list[str] | None = None,
    reps: int = 1000,
    seed: int | None = None,
    alpha: float = 0.05,
) -> LeeBoundsResult:
    r"""Lee (2009) trimming bounds with the Imbens–Manski (2004) confidence interval.

    Parameters
    ----------
    data : DataFrame
        One row per unit (voter), observed or not. Not modified.
    outcome : str
        Outcome; only read where ``observed`` is 1 (it may be missing elsewhere).
    assignment : str
        0/1 assignment; constant within clusters.
    observed : str
        0/1: the outcome was observed for this unit (not purged, answered the survey...).
    blocks : str, optional
        Randomisation blocks: bounds are computed within each block and averaged (module
        docstring), and the bootstrap resamples within blocks.
    clusters : str, optional
        Units assigned together (households); the bootstrap resamples whole clusters.
    covariates_for_tightening : str or list of str, optional
        Discrete pre-treatment covariates: bounds within each cell, averaged with the cells'
        estimated always-observed counts (Lee 2009, tighter when the covariates predict the
        outcome). Each cell needs observed units in both arms.
    reps : int
        Bootstrap draws for the confidence interval (0: no interval).
    seed : int
        Required when ``reps > 0``.
    alpha : float
        The interval has level ``1 - alpha``.

    Returns
    -------
    LeeBoundsResult

    Notes
    -----
    In each stratum with observation rates :math:`q_1 \ge q_0` the observed treated are
    trimmed by :math:`p = (q_1 - q_0)/q_1`; :math:`\Delta^L` is the mean of the lowest
    :math:`1 - p` of their outcome mass minus the observed control mean, :math:`\Delta^U` the
    mean of the highest :math:`1 - p` minus the control mean (the control arm is trimmed
    when :math:`q_0 > q_1`). See the module docstring for strata weights and the interval.
    Monotonicity is assumed within each stratum.
    """
    function = "fieldexp.lee_bounds"
    frame = check_frame(data, function=function)
    cells = as_column_list(
        covariates_for_tightening, function=function, argument="covariates_for_tightening"
    )
    roles = {
        "outcome": outcome,
        "assignment": assignment,
        "observed": observed,
        "blocks": blocks,
        "clusters": clusters,
    }
    check_columns(frame, roles, function=function)
    for c in cells:
        check_columns(frame, {"covariates_for_tightening": c}, function=function)
        if c in roles.values():
            raise SpecificationError(
                f"column {c!r} is given both in 'covariates_for_tightening' and as another role "
                f"in {function}."
            )
    alpha = _check_alpha(alpha, function)
    if isinstance(reps, bool) or not isinstance(reps, numbers.Integral) or reps < 0:
        raise SpecificationError(
            f"The 'reps' parameter of {function} must be a non-negative integer. Got {reps!r}."
        )
    reps = int(reps)
    if 0 < reps < 20:
        raise SpecificationError(
            f"The 'reps' parameter of {function} must be 0 (no interval) or at least 20 bootstrap "
            f"draws to estimate the bounds' standard errors. Got {reps}."
        )
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral)):
        raise SpecificationError(
            f"The 'seed' parameter of {function} must be an integer. Got {seed!r} instead."
        )
    if reps and seed is None:
        raise SpecificationError(
            f"{function} needs a 'seed' when reps > 0: the bootstrap interval must be "
            "reproducible. Pass seed=<int>, or reps=0 for the bounds alone."
        )
    design_cols = {
        k: v
        for k, v in roles.items()
        if v is not None and k in ("assignment", "observed", "blocks", "clusters")
    }
    design_cols.update({f"covariates_for_tightening ({c})": c for c in cells})
    _require_complete(frame, design_cols, function)
    z = check_binary(frame[assignment], argument="assignment", function=function)
    obs = check_binary(frame[observed], argument="observed", function=function) == 1
    if not obs.any():
        raise DataError(f"no unit has {observed!r} = 1 ({function}): nothing is observed.")
    y_obs = frame.loc[obs, outcome]
    if y_obs.isna().any():
        bad = y_obs.index[y_obs.isna().to_numpy()]
        raise DataError(
            f"column {outcome!r} (argument 'outcome' of {function}) is missing for "
            f"{len(bad):,} units with {observed!r} = 1, in {format_rows(bad[:5], total=len(bad))}; "
            f"set {observed!r} to 0 for them, or fix the outcome."
        )
    y = np.full(len(frame), np.nan)
    y[obs] = numeric(y_obs, argument="outcome", function=function)
    if np.all(z == z[0]):
        raise DataError(
            f"column {assignment!r} (argument 'assignment' of {function}) has no variation; "
            "bounds need both arms."
        )
    if clusters is not None:
        _constant_within(
            frame, clusters, assignment, rule="clusters are assigned whole", function=function
        )
        if blocks is not None:
            _constant_within(
                frame, clusters, blocks, rule="clusters nest in blocks", function=function
            )

    # strata: block x cell (sorted labels, so codes never depend on row order)
    strat_cols = ([blocks] if blocks is not None else []) + cells
    if strat_cols:
        s_codes, s_uniques = pd.MultiIndex.from_frame(frame[strat_cols].astype(str)).factorize(
            sort=True
        )
        s_labels = [u if isinstance(u, tuple) else (u,) for u in s_uniques]
    else:
        s_codes, s_labels = np.zeros(len(frame), dtype=np.int64), [()]
    s_codes = np.asarray(s_codes, dtype=np.int64)
    n_strata = len(s_labels)
    n_arm = np.bincount(s_codes * 2 + z.astype(np.int64), minlength=2 * n_strata)
    n_obs_arm = np.bincount(s_codes * 2 + z.astype(np.int64), weights=obs, minlength=2 * n_strata)
    empty = np.flatnonzero(n_obs_arm == 0)
    if len(empty):
        what = "; ".join(
            f"{'/'.join(map(str, s_labels[e // 2])) or 'all units'} arm {e % 2}"
            f"{' (no unit)' if n_arm[e] == 0 else ' (none observed)'}"
            for e in empty[:5]
        )
        raise DataError(
            f"{len(empty):,} stratum-arm(s) of {function} have no observed outcome ({what}"
            f"{' ...' if len(empty) > 5 else ''}): Lee bounds need observed units in both arms "
            "of every block and tightening cell; merge small cells or blocks."
        )
    if clusters is not None:
        cl_codes, cl_uniques = pd.factorize(frame[clusters], sort=True)
        n_clusters: int | None = len(cl_uniques)
    else:
        cl_codes, n_clusters = np.arange(len(frame)), None
    lay = _layout(y, s_codes, z, np.asarray(cl_codes), n_strata)

    ones = np.ones(len(frame))
    lo_s, up_s, wt_s, q1_s, q0_s, tr_s = _stratum_bounds(lay, ones)
    lower, upper = _aggregate(lo_s, up_s, wt_s)
    if not (math.isfinite(lower) and math.isfinite(upper)):  # pragma: no cover - guarded above
        raise DataError(f"the bounds are undefined for these data ({function}).")
    n_s = np.bincount(s_codes, minlength=n_strata)
    trim_share = float(n_s @ tr_s / n_s.sum())
    direction = np.where(q1_s > q0_s, 1, np.where(q0_s > q1_s, -1, 0))
    nonzero = set(direction[direction != 0].tolist())
    trimmed_arm = (
        "none"
        if not nonzero
        else "mixed"
        if len(nonzero) > 1
        else ("treated" if 1 in nonzero else "control")
    )

    notes: list[str] = []
    se_lower = se_upper = ci_low = ci_high = math.nan
    reps_used = 0
    if reps:
        lower_b, upper_b = _bootstrap(frame, lay, z, s_codes, blocks, clusters, reps, int(seed))
        ok = np.isfinite(lower_b) & np.isfinite(upper_b)
        reps_used = int(ok.sum())
        if reps_used < reps:
            msg = (
                f"{reps - reps_used:,} of {reps:,} bootstrap draws left a stratum-arm with no "
                "observed unit and were not used."
            )
            notes.append(msg)
            if reps_used < 0.95 * reps:
                warnings.warn(f"{function}: {msg}", FieldexpWarning, stacklevel=2)
        if reps_used >= 2:
            se_lower = float(np.std(lower_b[ok], ddof=1))
            se_upper = float(np.std(upper_b[ok], ddof=1))
            ci_low, ci_high = imbens_manski(lower, upper, se_lower, se_upper, alpha)
    strata = pd.DataFrame(
        {
            "stratum": ["/".join(map(str, lab)) or "all" for lab in s_labels],
            "n": n_s,
            "q_treated": q1_s,
            "q_control": q0_s,
            "trim_share": tr_s,
            "lower": lo_s,
            "upper": up_s,
            "weight": wt_s / wt_s.sum(),
        }
    )
    t = z == 1
    return LeeBoundsResult(
        lower=lower,
        upper=upper,
        trim_share=trim_share,
        trimmed_arm=trimmed_arm,
        ci_low=ci_low,
        ci_high=ci_high,
        se_lower=se_lower,
        se_upper=se_upper,
        alpha=alpha,
        reps=reps,
        reps_used=reps_used,
        observed_rate_treated=float(obs[t].mean()),
        observed_rate_control=float(obs[~t].mean()),
        nobs=len(frame),
        nobs_observed=int(obs.sum()),
        nclusters=n_clusters,
        nstrata=n_strata,
        outcome=outcome,
        strata=strata,
        notes=tuple(notes),
    )


def _bootstrap(
    frame: pd.DataFrame,
    lay: _Layout,
    z: np.ndarray,
    s_codes: np.ndarray,
    blocks: str | None,
    clusters: str | None,
    reps: int,
    seed: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Bounds on ``reps`` design-replaying bootstrap samples.

    Resampling units are clusters (rows without clusters), grouped by block × arm. Units are
    ordered by (block, arm, sorted id) so that the draws, keyed to that order, do not depend
    on row order.
    """
    n = len(frame)
    if blocks is not None:
        b_codes = pd.factorize(frame[blocks].astype(str), sort=True)[0]
    else:
        b_codes = np.zeros(n, dtype=np.int64)
    if clusters is not None:
        unit = lay.cluster  # cluster codes follow the sorted cluster ids
        n_units = int(unit.max()) + 1
        first = np.full(n_units, -1)
        first[unit] = np.arange(n)  # any row of the cluster: block and arm are constant in it
        group = b_codes[first] * 2 + z[first].astype(np.int64)
        order = np.lexsort((np.arange(n_units), group))
    else:
        # rows carry no id: order them by content (stratum, outcome); units with equal
        # content are interchangeable, so the bounds' draws do not depend on row order
        unit = np.arange(n)
        n_units = n
        group = b_codes * 2 + z.astype(np.int64)
        y_key = np.nan_to_num(_y_of(lay, n), nan=np.inf)
        order = np.lexsort((y_key, s_codes, group))
    g_sorted = group[order]
    n_groups = int(group.max()) + 1
    g_start = np.searchsorted(g_sorted, np.arange(n_groups))
    g_size = np.bincount(group, minlength=n_groups)
    start_u, size_u = g_start[g_sorted], g_size[g_sorted]
    rng = np.random.default_rng(seed)
    lower_b = np.empty(reps)
    upper_b = np.empty(reps)
    for r in range(reps):
        pick = start_u + np.floor(rng.random(n_units) * size_u).astype(np.int64)
        counts = np.bincount(order[pick], minlength=n_units).astype(np.float64)
        w = counts[unit]
        lo_s, up_s, wt_s, *_ = _stratum_bounds(lay, w)
        lower_b[r], upper_b[r] = _aggregate(lo_s, up_s, wt_s)
    return lower_b, upper_b


def _y_of(lay: _Layout, n: int) -> np.ndarray:
    y = np.full(n, np.nan)
    y[lay.obs_rows] = lay.obs_y
    return y
