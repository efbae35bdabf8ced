"""Judge a ranking honestly: the rank-weighted average treatment effect (RATE) and its TOC curve.

Given a *priority* ``S`` (uplift scores, a past-turnout propensity, a 50+1-style precinct
score, anything) the Targeting Operator Characteristic is, for the top ``q`` share by priority,

.. math::

    \\mathrm{TOC}(q) = E[\\tau(X) \\mid F_S(S) \\ge 1 - q] - E[\\tau(X)],

the extra effect of treating the top ``q`` instead of a random ``q`` (Yadlowsky, Fleming, Shah,
Brunskill & Wager 2021/2024, "Evaluating treatment prioritization rules via rank-weighted
average treatment effects"). Two summaries (grf's ``rank_average_treatment_effect``):

.. math::

    \\mathrm{AUTOC} = \\int_0^1 \\mathrm{TOC}(q)\\,dq, \\qquad
    \\mathrm{QINI} = \\int_0^1 q\\,\\mathrm{TOC}(q)\\,dq.

Estimation, as grf: with doubly robust scores :math:`\\Gamma_i` whose mean is the ATE, units
sorted by decreasing priority (ties averaged: every ordering of tied units counts equally) and
:math:`\\widehat{\\mathrm{TOC}}(j/n) = j^{-1}\\sum_{i \\le j} \\Gamma_{(i)} - \\bar\\Gamma`,

.. math::

    \\widehat{\\mathrm{AUTOC}} = \\frac1n \\sum_{j=1}^n \\widehat{\\mathrm{TOC}}(j/n)
        = \\sum_i \\Gamma_{(i)} \\Big[\\frac{H_n - H_{i-1}}{n} - \\frac1n\\Big], \\qquad
    \\widehat{\\mathrm{QINI}} = \\frac1n \\sum_{j=1}^n \\frac jn \\widehat{\\mathrm{TOC}}(j/n)
        = \\sum_i \\Gamma_{(i)} \\Big[\\frac{n-i+1}{n^2} - \\frac{n+1}{2n^2}\\Big],

with :math:`H_k` the harmonic numbers. In a randomised experiment the scores use the design's
known propensity :math:`p_b` (share assigned in block :math:`b`) and block-arm means
:math:`m_{1b}, m_{0b}`:

.. math::

    \\Gamma_i = m_{1b} - m_{0b} + \\frac{Z_i (Y_i - m_{1b})}{p_b}
        - \\frac{(1 - Z_i)(Y_i - m_{0b})}{1 - p_b}.

Per contacted voter (``treatment=``) every score is divided by the first stage (the
block-adjusted effect of assignment on contact), re-estimated in every half-sample.

Standard errors replay the design as grf does: half-samples of whole clusters drawn within
blocks without replacement (``floor`` or ``ceil`` of half of each block's clusters); the standard
error is the standard deviation of the half-sample estimates (half-sampling without replacement
has the full-sample variance). Intervals and p-values are normal. Two priorities compare with a
paired standard error (the same half-samples for both).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from fieldexp._validate import check_choice, check_probability
from fieldexp.errors import DataError, SpecificationError, format_rows
from fieldexp.results import Estimates, Result
from fieldexp.stats.inference import t_inference
from fieldexp.targeting._data import TargetingData, block_halves, prepare_targeting

__all__ = ["RateResult", "dr_scores", "rate", "rate_weights"]

TARGETS: tuple[str, ...] = ("AUTOC", "QINI")

#: Hard ceiling on half-sample replications (each one re-sorts nothing but re-weights n rows).
MAX_REPS = 100_000


def dr_scores(t: TargetingData, mask: np.ndarray | None = None) -> np.ndarray:
    """Doubly robust scores :math:`\\Gamma_i` with block-arm means and design propensities.

    With ``mask``, the block-arm means come from the masked rows only (a half-sample).
    Returns scores for every row (the caller keeps the masked ones).
    """
    m = np.ones(len(t.y), dtype=bool) if mask is None else mask
    nb = t.n_blocks
    n1 = np.bincount(t.block[m], weights=t.z[m], minlength=nb)
    n0 = np.bincount(t.block[m], weights=1.0 - t.z[m], minlength=nb)
    s1 = np.bincount(t.block[m], weights=(t.z * t.y)[m], minlength=nb)
    s0 = np.bincount(t.block[m], weights=((1.0 - t.z) * t.y)[m], minlength=nb)
    with np.errstate(invalid="ignore", divide="ignore"):
        m1 = np.where(n1 > 0, s1 / np.where(n1 > 0, n1, 1.0), 0.0)[t.block]
        m0 = np.where(n0 > 0, s0 / np.where(n0 > 0, n0, 1.0), 0.0)[t.block]
    p = t.propensity
    return m1 - m0 + t.z * (t.y - m1) / p - (1.0 - t.z) * (t.y - m0) / (1.0 - p)


def _first_stage(t: TargetingData, mask: np.ndarray | None = None) -> float:
    if t.d is None:
        return 1.0
    m = np.ones(len(t.y), dtype=bool) if mask is None else mask
    nb = t.n_blocks
    n = np.bincount(t.block[m], minlength=nb).astype(float)
    n1 = np.bincount(t.block[m], weights=t.z[m], minlength=nb)
    n0 = n - n1
    s1 = np.bincount(t.block[m], weights=(t.z * t.d)[m], minlength=nb)
    s0 = np.bincount(t.block[m], weights=((1.0 - t.z) * t.d)[m], minlength=nb)
    ok = (n1 > 0) & (n0 > 0)
    diff = np.where(ok, s1 / np.where(ok, n1, 1) - s0 / np.where(ok, n0, 1), 0.0)
    return float(np.sum(diff * n * ok) / np.sum(n * ok))


def first_stage_or_raise(t: TargetingData) -> float:
    """The divisor of per-contact scores (1 without a treatment); refuses a zero first stage."""
    fs = _first_stage(t)
    if t.d is not None and not abs(fs) > 1e-12:
        raise DataError(
            "the first stage (effect of assignment on contact) is zero: nothing is estimable "
            "per contacted voter; drop 'treatment' to work per assigned voter."
        )
    return fs


def half_sample_scores(
    t: TargetingData, orders: Sequence[tuple[np.ndarray, np.ndarray]], reps: int, seed: int
) -> Iterator[list[tuple[np.ndarray, np.ndarray]]]:
    """For each clustered half-sample: per ordering, the kept DR scores in priority order and
    their tie groups (renumbered consecutively within the half-sample)."""
    for m in block_halves(t, reps, seed):
        gamma = dr_scores(t, m) / _first_stage(t, m)
        out = []
        for order, ties in orders:
            keep = m[order]
            sub_ties = np.r_[0, np.cumsum(np.diff(ties[keep]) != 0)]
            out.append((gamma[order][keep], sub_ties))
        yield out


@functools.lru_cache(maxsize=8)
def _rate_weights(n: int, target: str) -> np.ndarray:
    out = _rate_weights_uncached(n, target)
    out.setflags(write=False)  # shared between calls: never modified
    return out


def rate_weights(n: int, target: str) -> np.ndarray:
    """Weight of the unit at sorted position ``i = 1..n`` in AUTOC or QINI (they sum to 0).

    The estimators use a cached read-only copy per ``(n, target)`` (half-samples keep nearly
    the same number of units, so the harmonic sums are computed once per size, not once per
    replication); this public function returns a fresh array.
    """
    return _rate_weights(int(n), target).copy()


def _rate_weights_uncached(n: int, target: str) -> np.ndarray:
    i = np.arange(1, n + 1, dtype=float)
    if target == "AUTOC":
        harmonic = np.cumsum(1.0 / i)  # H_1..H_n
        h_prev = np.r_[0.0, harmonic[:-1]]  # H_{i-1}
        return (harmonic[-1] - h_prev) / n - 1.0 / n
    return (n - i + 1.0) / n**2 - (n + 1.0) / (2.0 * n**2)


def _tie_mean(values: np.ndarray, tie_group: np.ndarray) -> np.ndarray:
    """Replace each value by the mean over its tie group (groups are runs in sorted order)."""
    if len(tie_group) == 0 or tie_group[-1] == len(tie_group) - 1:
        return values  # no ties: every group is one value (its mean is itself, exactly)
    sums = np.bincount(tie_group, weights=values)
    counts = np.bincount(tie_group)
    return (sums / counts)[tie_group]


def _estimate(gamma_sorted: np.ndarray, tie_group: np.ndarray, target: str) -> float:
    n = len(gamma_sorted)
    w = _tie_mean(_rate_weights(n, target), tie_group)
    return float(np.dot(w, gamma_sorted))


def _toc(gamma_sorted: np.ndarray, tie_group: np.ndarray, grid: np.ndarray) -> np.ndarray:
    g = _tie_mean(gamma_sorted, tie_group)
    n = len(g)
    cum = np.cumsum(g)
    j = np.maximum(1, np.ceil(grid * n).astype(np.int64))
    return cum[j - 1] / j - cum[-1] / n


@dataclass(frozen=True)
class RateResult(Result):
    """RATE of one priority (or the difference of two), its TOC curve and half-sample inference.

    Attributes
    ----------
    estimate, std_error, statistic, p_value, ci_low, ci_high : float
        The RATE (AUTOC or QINI), its half-sample standard error, normal z, two-sided p-value
        and interval at ``1 - alpha``.
    target : str
        ``"AUTOC"`` or ``"QINI"``.
    priority : str
        Name of the priority (``"a - b"`` for a paired comparison).
    estimand : str
        ``"ITT"`` (per assigned voter) or ``"CACE"`` (per contacted voter).
    ate : float
        Mean of the scores: the average effect that every TOC is measured against.
    toc : pandas.DataFrame
        Columns ``q``, ``toc``, ``std_error``, ``ci_low``, ``ci_high`` (pointwise).
    nobs, nclusters, reps : int
    alpha : float
    """

    estimate: float
    std_error: float
    statistic: float
    p_value: float
    ci_low: float
    ci_high: float
    target: str
    priority: str
    estimand: str
    ate: float
    toc: pd.DataFrame
    nobs: int
    nclusters: int
    reps: int
    alpha: float
    _replicates: np.ndarray

    def _estimates(self) -> Estimates:
        # normal interval from the stored half-sample standard error
        return Estimates.one(self.priority, self.estimate, self.std_error, math.inf)

    def to_frame(self) -> pd.DataFrame:
        """One row in the common result schema."""
        return pd.DataFrame(
            [
                {
                    "outcome": None,
                    "term": self.priority,
                    "estimand": f"RATE ({self.target}, {self.estimand})",
                    "method": "dr_half_sample",
                    "estimate": self.estimate,
                    "std_error": self.std_error,
                    "statistic": self.statistic,
                    "p_value": self.p_value,
                    "ci_low": self.ci_low,
                    "ci_high": self.ci_high,
                    "alpha": self.alpha,
                    "nobs": self.nobs,
                    "nclusters": self.nclusters,
                }
            ]
        )

    def _title(self) -> str:
        return f"RATE ({self.target}) of priority {self.priority!r} [{self.estimand}]"

    def _lines(self) -> list[str]:
        lvl = round(100 * (1 - self.alpha))
        return [
            f"estimate {self.estimate:.4f}  (SE {self.std_error:.4f}, {self.reps} half-samples)",
            f"{lvl}% CI [{self.ci_low:.4f}, {self.ci_high:.4f}]  p = {self.p_value:.3g}",
            f"average effect {self.ate:.4f}; n = {self.nobs:,}, clusters = {self.nclusters:,}",
        ]

    def _table(self) -> pd.DataFrame | None:
        return None  # the lines state every number

    def _plot(self, ax: Any) -> None:
        """The TOC curve with its pointwise interval."""
        toc = self.toc
        ax.fill_between(toc["q"], toc["ci_low"], toc["ci_high"], alpha=0.25, linewidth=0)
        ax.plot(toc["q"], toc["toc"], linewidth=1.5)
        ax.axhline(0.0, color="0.4", linewidth=0.8)
        ax.set_xlabel("share treated, by decreasing priority (q)", usetex=False)
        ax.set_ylabel("TOC(q)", usetex=False)
        ax.set_title(f"TOC of {self.priority}".replace("$", r"\$"), usetex=False)


def _priority_array(
    data: pd.DataFrame, t: TargetingData, priority: object, *, name: str
) -> np.ndarray:
    if isinstance(priority, str):
        if priority not in data.columns:
            raise DataError(
                f"priority column {priority!r} (argument 'priority' of rate) is not in the data."
            )
        series = data.loc[t.index, priority]
    elif isinstance(priority, pd.Series):
        if not priority.index.is_unique or not t.index.isin(priority.index).all():
            raise DataError(
                "a priority Series (argument 'priority' of rate) must be indexed like the data "
                "(unique labels covering every row used)."
            )
        series = priority.reindex(t.index)
    else:
        raise SpecificationError(
            "The 'priority' parameter of rate must be a column name, a pandas Series aligned to "
            f"the data, or a list of two of them. Got {type(priority).__name__} instead."
        )
    values = pd.to_numeric(series, errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(values)
    if bad.any():
        raise DataError(
            f"priority {name!r} must be a finite number for every row used; found missing or "
            f"non-numeric values in {format_rows(t.index[bad][:5], total=int(bad.sum()))}."
        )
    return values


def _sorted_order(s: np.ndarray, t: TargetingData) -> tuple[np.ndarray, np.ndarray]:
    """Order by decreasing priority and tie-group ids (ties: equal priority values)."""
    order = np.argsort(-s, kind="stable")
    ss = s[order]
    tie_group = np.r_[0, np.cumsum(ss[1:] != ss[:-1])]
    return order, tie_group


def rate(
    data: pd.DataFrame,
    outcome: str,
    assignment: str,
    priority: str | pd.Series | Sequence[str | pd.Series],
    *,
    blocks: str | None = None,
    clusters: str | None = None,
    target: str = "AUTOC",
    treatment: str | None = None,
    reps: int = 200,
    seed: int = 0,
    alpha: float = 0.05,
    grid: int = 50,
) -> RateResult:
    """Rank-weighted average treatment effect of a priority, with design-replaying inference.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per voter (not modified).
    outcome, assignment : str
        Outcome column and the 0/1 randomised assignment.
    priority : str, Series, or a list of two of them
        Higher values are treated first. With two, the result is RATE(a) - RATE(b) with a paired
        standard error.
    blocks, clusters : str, optional
        Randomisation blocks (propensities are per block) and clusters (units of assignment:
        half-samples keep them whole).
    target : {"AUTOC", "QINI"}
        The RATE weighting (see the module docstring for the formulas).
    treatment : str, optional
        0/1 contact: scores per contacted voter (divided by the first stage).
    reps : int
        Half-sample replications for the standard error.
    seed : int
        Seed of the half-sample draws (keyed to the sorted cluster labels: row order never
        matters).
    alpha : float
        Interval level ``1 - alpha``.
    grid : int
        Number of points of the TOC curve.

    Returns
    -------
    RateResult

    Notes
    -----
    Honest evaluation needs a priority that did not see these outcomes: a past-turnout score,
    an external ranking, or uplift scores from :func:`fieldexp.uplift`, which are out of fold
    (a voter's score never uses that voter's outcome; Yadlowsky et al. recommend a separate
    evaluation sample where one is available).
    """
    fn = "rate"
    target = check_choice(str(target).upper(), TARGETS, argument="target", function=fn)
    alpha = check_probability(alpha, argument="alpha", function=fn)
    if (
        not isinstance(reps, (int, np.integer))
        or isinstance(reps, bool)
        or not 2 <= reps <= MAX_REPS
    ):
        raise SpecificationError(
            f"The 'reps' parameter of rate must be an integer between 2 and {MAX_REPS:,}. "
            f"Got {reps!r} instead."
        )
    if not isinstance(grid, (int, np.integer)) or grid < 2:
        raise SpecificationError(
            f"The 'grid' parameter of rate must be an integer >= 2. Got {grid!r} instead."
        )
    priorities: list[str | pd.Series] = (
        list(priority) if isinstance(priority, (list, tuple)) else [priority]  # type: ignore[list-item]
    )
    if len(priorities) not in (1, 2):
        raise SpecificationError(
            f"The 'priority' parameter of rate takes one priority or a list of two (a paired "
            f"comparison). Got {len(priorities)} instead."
        )
    extra = [p for p in priorities if isinstance(p, str)]
    t = prepare_targeting(
        data,
        outcome=outcome,
        assignment=assignment,
        treatment=treatment,
        blocks=blocks,
        clusters=clusters,
        extra=extra,
        function=fn,
    )
    names = [
        p if isinstance(p, str) else str(getattr(p, "name", None) or f"priority_{k}")
        for k, p in enumerate(priorities)
    ]
    scores = [_priority_array(data, t, p, name=nm) for p, nm in zip(priorities, names, strict=True)]
    orders = [_sorted_order(s, t) for s in scores]

    fs = first_stage_or_raise(t)
    gamma_full = dr_scores(t) / fs
    full = [_estimate(gamma_full[order], ties, target) for order, ties in orders]
    ate = float(np.mean(gamma_full))
    est = full[0] - full[1] if len(full) == 2 else full[0]
    grid_q = np.linspace(1.0 / grid, 1.0, grid)
    reps_est = np.empty(int(reps))
    toc_reps = np.empty((int(reps), grid))
    for r, sorted_scores in enumerate(half_sample_scores(t, orders, int(reps), seed)):
        vals = [_estimate(g, ties, target) for g, ties in sorted_scores]
        reps_est[r] = vals[0] - vals[1] if len(vals) == 2 else vals[0]
        toc_reps[r] = _toc(*sorted_scores[0], grid_q)
    order0, ties0 = orders[0]
    se = float(np.std(reps_est, ddof=1))
    inf = t_inference(est, se, math.inf, alpha)
    toc_est = _toc(gamma_full[order0], ties0, grid_q)
    toc_se = np.std(toc_reps, axis=0, ddof=1)
    from scipy import stats

    crit = float(stats.norm.isf(alpha / 2))
    toc = pd.DataFrame(
        {
            "q": grid_q,
            "toc": toc_est,
            "std_error": toc_se,
            "ci_low": toc_est - crit * toc_se,
            "ci_high": toc_est + crit * toc_se,
        }
    )
    return RateResult(
        estimate=float(est),
        std_error=se,
        statistic=inf.statistic,
        p_value=inf.p_value,
        ci_low=inf.ci_low,
        ci_high=inf.ci_high,
        target=target,
        priority=" - ".join(names),
        estimand="CACE" if t.d is not None else "ITT",
        ate=ate,
        toc=toc,
        nobs=len(t.y),
        nclusters=t.n_clusters,
        reps=int(reps),
        alpha=alpha,
        _replicates=reps_est,
    )
