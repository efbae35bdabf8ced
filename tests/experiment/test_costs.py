"""Cost-effectiveness maths: net votes, field cost, cost per net vote (hand-computed oracles)."""

from __future__ import annotations

import math

import pytest

from fieldexp.errors import SpecificationError
from fieldexp.experiment.costs import (
    CostPerVote,
    NetVotes,
    cost_per_net_vote,
    field_cost,
    net_votes,
)


def test_net_votes_scales_effect_and_interval() -> None:
    v = net_votes(0.05, 0.01, 0.09, units=1_000)
    assert v == NetVotes(50.0, 10.0, 90.0, 1_000.0)


def test_net_votes_keeps_a_negative_lower_bound() -> None:
    v = net_votes(0.02, -0.03, 0.07, units=200)
    assert (v.estimate, v.ci_low, v.ci_high) == pytest.approx((4.0, -6.0, 14.0), rel=1e-15)


def test_field_cost_formula() -> None:
    assert field_cost(fixed=2500, per_attempt=1.5, attempts=1000, per_contact=3, contacts=400) == (
        2500 + 1.5 * 1000 + 3 * 400
    )
    assert field_cost() == 0.0


def test_cost_per_net_vote_interval_is_the_image_of_the_net_vote_interval() -> None:
    c = cost_per_net_vote(5200.0, NetVotes(50.0, 10.0, 90.0, 1000.0))
    assert c == CostPerVote(5200 / 50, 5200 / 90, 5200 / 10, 5200.0)


def test_cost_per_net_vote_unbounded_when_interval_includes_no_effect() -> None:
    c = cost_per_net_vote(1000.0, NetVotes(4.0, -6.0, 14.0, 200.0))
    assert c.estimate == 250.0 and c.ci_low == pytest.approx(1000 / 14)
    assert math.isinf(c.ci_high)
    neg = cost_per_net_vote(1000.0, NetVotes(-2.0, -5.0, 1.0, 200.0))
    assert math.isinf(neg.estimate)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"fixed": -1}, "'fixed' parameter of field_cost must be a finite number >= 0"),
        ({"attempts": float("nan")}, "'attempts'"),
        ({"per_contact": "three"}, "must be a number"),
        ({"per_attempt": math.inf}, "finite"),
    ],
)
def test_field_cost_refuses_bad_inputs(kwargs, match) -> None:
    with pytest.raises(SpecificationError, match=match):
        field_cost(**kwargs)


def test_net_votes_refuses_bad_inputs() -> None:
    with pytest.raises(SpecificationError, match="'units' parameter of net_votes"):
        net_votes(0.1, 0.0, 0.2, units=-5)
    with pytest.raises(SpecificationError, match="must not exceed 'ci_high'"):
        net_votes(0.1, 0.3, 0.2, units=5)
    with pytest.raises(SpecificationError, match="'effect'"):
        net_votes(float("nan"), 0.0, 0.2, units=5)
