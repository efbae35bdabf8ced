"""A budget of doors spent on voters: who to knock, and what the experiment says it yields.

Knocking the ``k`` voters ranked highest by a priority yields, in expectation,

.. math::

    G(k) = \\sum_{i \\le k} \\tau(X_{(i)}) \\approx k \\,\\big(\\mathrm{ATE} + \\mathrm{TOC}(k/n)\\big),

estimated without any model of the effect by the sum of the doubly robust scores of those
voters, :math:`\\hat G(k) = \\sum_{i \\le k} \\Gamma_{(i)}` (each :math:`\\Gamma_i` is unbiased for the
voter's effect given the design), scaled to the voter file it is applied to. The interval comes
from the same clustered half-samples as :func:`fieldexp.rate`, so it is design-based: it does
not trust the uplift model that produced the ranking, only the randomisation. The curve of
:math:`\\hat G` against ``k`` shows the returns diminish as the list goes down the ranking.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from fieldexp._validate import check_probability
from fieldexp.errors import SpecificationError
from fieldexp.targeting._data import prepare_targeting
from fieldexp.targeting.priorities import KnockPlan, _z
from fieldexp.targeting.rate import (
    _priority_array,
    _sorted_order,
    _tie_mean,
    dr_scores,
    first_stage_or_raise,
    half_sample_scores,
)

__all__ = ["voter_plan"]


def _gain_curve(
    gamma_sorted: np.ndarray, ties: np.ndarray, shares: np.ndarray, scale: float
) -> np.ndarray:
    """``scale * q * mean(top q)`` at each share ``q`` (ties averaged)."""
    g = _tie_mean(gamma_sorted, ties)
    n = len(g)
    cum = np.cumsum(g)
    j = np.clip(np.round(shares * n).astype(np.int64), 0, n)
    top_mean = np.where(j > 0, cum[np.maximum(j, 1) - 1] / np.maximum(j, 1), 0.0)
    return scale * shares * top_mean


def voter_plan(
    data: pd.DataFrame,
    outcome: str,
    assignment: str,
    priority: str | pd.Series,
    doors: int,
    *,
    population: int | None = None,
    blocks: str | None = None,
    clusters: str | None = None,
    treatment: str | None = None,
    reps: int = 200,
    seed: int = 0,
    alpha: float = 0.05,
    points: int = 20,
) -> KnockPlan:
    """Knock the ``doors`` highest-priority voters: expected extra votes with a design-based CI.

    Parameters
    ----------
    data, outcome, assignment, blocks, clusters, treatment
        The experiment, as for :func:`fieldexp.rate`.
    priority : str or Series
        The ranking (higher first), e.g. out-of-fold scores from :func:`fieldexp.uplift`.
    doors : int
        Voters to knock in the next campaign.
    population : int, optional
        Voters the plan will be applied to (default: the experiment's size). The experiment's
        shares carry over: knocking ``doors`` of ``population`` is the top
        ``doors / population`` of the ranking.
    reps, seed, alpha
        Half-samples, their seed, the interval level.
    points : int
        Points of the curve of votes against doors.

    Returns
    -------
    KnockPlan
        ``allocation`` is empty (voter-level plans stay with the analyst: aggregates only);
        ``net_votes`` is the expected extra turnout (per contacted voter with ``treatment``).
    """
    fn = "voter_plan"
    alpha = check_probability(alpha, argument="alpha", function=fn)
    t = prepare_targeting(
        data,
        outcome=outcome,
        assignment=assignment,
        treatment=treatment,
        blocks=blocks,
        clusters=clusters,
        extra=[priority] if isinstance(priority, str) else [],
        function=fn,
    )
    n = len(t.y)
    pop = n if population is None else population
    if isinstance(pop, bool) or not isinstance(pop, (int, np.integer)) or pop < 1:
        raise SpecificationError(
            f"The 'population' parameter of {fn} must be a positive integer. Got {population!r} instead."
        )
    if isinstance(doors, bool) or not isinstance(doors, (int, np.integer)) or not 0 <= doors <= pop:
        raise SpecificationError(
            f"The 'doors' parameter of {fn} must be an integer between 0 and the population "
            f"({pop:,}). Got {doors!r} instead."
        )
    name = priority if isinstance(priority, str) else str(priority.name or "priority")
    s = _priority_array(data, t, priority, name=name)
    order, ties = _sorted_order(s, t)
    share = doors / pop
    shares = np.unique(np.r_[np.linspace(0.0, 1.0, points + 1), share])
    full = _gain_curve((dr_scores(t) / first_stage_or_raise(t))[order], ties, shares, float(pop))
    reps_curves = np.empty((int(reps), len(shares)))
    for r, [(g, sub_ties)] in enumerate(half_sample_scores(t, [(order, ties)], int(reps), seed)):
        reps_curves[r] = _gain_curve(g, sub_ties, shares, float(pop))
    se = np.std(reps_curves, axis=0, ddof=1)
    z = _z(alpha)
    k = int(np.flatnonzero(np.isclose(shares, share))[0])
    curve = pd.DataFrame(
        {
            "doors": np.round(shares * pop).astype(np.int64),
            "net_votes": full,
            "ci_low": full - z * se,
            "ci_high": full + z * se,
        }
    )
    return KnockPlan(
        allocation=pd.DataFrame(columns=["precinct_id", "doors", "net_votes"]),
        doors=int(doors),
        net_votes=float(full[k]),
        std_error=float(se[k]) if math.isfinite(se[k]) else math.nan,
        ci_low=float(full[k] - z * se[k]),
        ci_high=float(full[k] + z * se[k]),
        curve=curve,
        alpha=alpha,
    )
