r"""Cost-effectiveness of a canvass: net votes gained, field cost, cost per net vote.

Usable on its own (e.g. in Jupyter) with the estimates of :func:`fieldexp.cace` or
:func:`fieldexp.itt`::

    from fieldexp.experiment.costs import cost_per_net_vote, field_cost, net_votes

    r = fx.cace(table, "voted", "contacted", "assigned", blocks="precinct_id")
    votes = net_votes(r.estimate, r.ci_low, r.ci_high, units=3_120)   # contacted voters
    cost = field_cost(fixed=2500, per_attempt=1.5, attempts=9_800, per_contact=3, contacts=3_120)
    cost_per_net_vote(cost, votes)

Net votes scale an effect *per unit* by the number of units it applies to: the CACE (per
contacted voter) by the contacted voters, or the polling-station ITT (a change in the
share of registered voters who vote) by the registered voters of the canvassed stations.
The interval scales the effect's confidence interval by the same (fixed) count; it ignores
any uncertainty in the count itself.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from fieldexp.errors import SpecificationError

__all__ = ["CostPerVote", "NetVotes", "cost_per_net_vote", "field_cost", "net_votes"]


@dataclass(frozen=True, slots=True)
class NetVotes:
    """Net votes gained with its confidence interval (``units`` = the multiplier)."""

    estimate: float
    ci_low: float
    ci_high: float
    units: float


@dataclass(frozen=True, slots=True)
class CostPerVote:
    """Cost per net vote with its interval; bounds are ``inf`` where net votes are <= 0."""

    estimate: float
    ci_low: float
    ci_high: float
    total_cost: float


def _finite(value: float, name: str, function: str, *, nonnegative: bool = False) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise SpecificationError(
            f"The {name!r} parameter of {function} must be a number. Got {value!r} instead."
        ) from None
    if math.isnan(v) or (nonnegative and (v < 0 or math.isinf(v))):
        rule = "a finite number >= 0" if nonnegative else "a number (not NaN)"
        raise SpecificationError(
            f"The {name!r} parameter of {function} must be {rule}. Got {value!r} instead."
        )
    return v


def net_votes(effect: float, ci_low: float, ci_high: float, units: float) -> NetVotes:
    r"""Net votes gained: an effect per unit times the number of units.

    .. math::

        \hat V = \hat\tau \, n, \qquad [V_{lo}, V_{hi}] = [\tau_{lo} \, n, \; \tau_{hi} \, n]

    Parameters
    ----------
    effect, ci_low, ci_high : float
        The effect per unit (a proportion: 0.03 = 3 points) and its confidence interval,
        e.g. ``EffectResult.estimate``, ``.ci_low``, ``.ci_high`` of :func:`fieldexp.cace`.
    units : float
        Units the effect applies to (contacted voters for a CACE; registered voters of the
        canvassed stations for a polling-station turnout ITT). Must be >= 0.

    Returns
    -------
    NetVotes
    """
    fn = "net_votes"
    n = _finite(units, "units", fn, nonnegative=True)
    est = _finite(effect, "effect", fn)
    lo = _finite(ci_low, "ci_low", fn)
    hi = _finite(ci_high, "ci_high", fn)
    if lo > hi:
        raise SpecificationError(
            f"The 'ci_low' parameter of {fn} must not exceed 'ci_high'. Got {lo!r} > {hi!r}."
        )
    return NetVotes(est * n, lo * n, hi * n, n)


def field_cost(
    *,
    fixed: float = 0.0,
    per_attempt: float = 0.0,
    attempts: float = 0,
    per_contact: float = 0.0,
    contacts: float = 0,
) -> float:
    r"""Total field cost of a canvass.

    .. math:: C = c_0 + c_a \, A + c_c \, K

    with :math:`c_0` the fixed cost, :math:`c_a` the cost per door knock, :math:`A` the
    attempts, :math:`c_c` the cost per conversation and :math:`K` the contacts. Every
    argument must be a finite number >= 0.
    """
    fn = "field_cost"
    return (
        _finite(fixed, "fixed", fn, nonnegative=True)
        + _finite(per_attempt, "per_attempt", fn, nonnegative=True)
        * _finite(attempts, "attempts", fn, nonnegative=True)
        + _finite(per_contact, "per_contact", fn, nonnegative=True)
        * _finite(contacts, "contacts", fn, nonnegative=True)
    )


def cost_per_net_vote(total_cost: float, votes: NetVotes) -> CostPerVote:
    r"""Cost per net vote and its interval.

    .. math::

        \widehat{CPV} = C / \hat V, \qquad
        [CPV_{lo}, CPV_{hi}] = [C / V_{hi}, \; C / V_{lo}],

    where a bound whose net votes are not positive is :math:`+\infty` (the interval
    includes no effect, so the cost of a vote has no upper bound), and the estimate is
    :math:`+\infty` when :math:`\hat V \le 0`. The interval is the image of the net-vote
    interval under the decreasing map :math:`V \mapsto C / V` on :math:`V > 0`.
    """
    c = _finite(total_cost, "total_cost", "cost_per_net_vote", nonnegative=True)

    def per(v: float) -> float:
        return c / v if v > 0 else math.inf

    return CostPerVote(per(votes.estimate), per(votes.ci_high), per(votes.ci_low), c)
