"""Replay kernels: uniform subsets of the right size, exact count law, worker-independence."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from fieldexp.design.replay import ReplayPlan, count_assignments, enumerate_draws, replay_draws


def identity_reducer(b, S1, T):
    return S1


def plan_one_block(n, support):
    return ReplayPlan(np.array([0, n]), ("b",), (tuple(support),))


@pytest.mark.parametrize("engine", ["dense", "grouped"])
def test_subsets_are_uniform_with_the_exact_count_law(engine):
    n = 7
    support = [(3, Fraction(1, 2)), (4, Fraction(1, 2))]  # n p = 3.5
    plan = plan_one_block(n, support)
    # distinct rows (identity) make grouped = one colour per cluster
    Z = replay_draws(plan, np.eye(n), identity_reducer, n, reps=40_000, seed=3, engine=engine)
    sizes = Z.sum(axis=1)
    assert set(np.unique(sizes)) == {3.0, 4.0}
    assert abs(np.mean(sizes == 4) - 0.5) < 4 * np.sqrt(0.25 / 40_000)
    freq = Z.mean(axis=0)
    assert np.all(np.abs(freq - 0.5) < 4 * np.sqrt(0.25 / 40_000))
    # pairwise inclusion: E[m(m-1)] / (n(n-1)) = (0.5*6 + 0.5*12) / 42
    pair = (Z[:, 0] * Z[:, 1]).mean()
    assert abs(pair - 9 / 42) < 4 * np.sqrt((9 / 42) * (1 - 9 / 42) / 40_000)


def test_grouped_sums_match_the_exact_distribution():
    # 12 clusters, 3 types: sums over 5 treated follow the multivariate hypergeometric law
    V = np.repeat(np.array([[1.0, 0.0], [1.0, 1.0], [2.0, 1.0]]), [5, 4, 3], axis=0)
    plan = plan_one_block(12, [(5, Fraction(1))])
    exact, prob = enumerate_draws(plan, V, identity_reducer, 2)
    assert len(exact) == count_assignments(plan, 10**6) == 792
    draws = replay_draws(plan, V, identity_reducer, 2, reps=50_000, seed=1, engine="grouped")
    for j in range(2):
        mean = float(np.sum(prob * exact[:, j]))
        var = float(np.sum(prob * (exact[:, j] - mean) ** 2))
        assert abs(draws[:, j].mean() - mean) < 4 * np.sqrt(var / 50_000)
        assert draws[:, j].var() == pytest.approx(var, rel=0.05)


@pytest.mark.parametrize("engine", ["dense", "grouped"])
def test_results_do_not_depend_on_the_number_of_processes(engine):
    rng = np.random.default_rng(0)
    sizes = rng.integers(3, 30, 70)
    starts = np.r_[0, np.cumsum(sizes)]
    V = rng.integers(0, 3, (starts[-1], 3)).astype(float)
    plan = ReplayPlan(
        starts,
        tuple(f"b{i}" for i in range(70)),
        tuple(((int(s) // 2, Fraction(1)),) for s in sizes),
    )
    one = replay_draws(plan, V, lambda b, S1, T: S1, 3, reps=300, seed=2, engine=engine, workers=1)
    two = replay_draws(plan, V, lambda b, S1, T: S1, 3, reps=300, seed=2, engine=engine, workers=2)
    np.testing.assert_array_equal(one, two)


# ---------------------------------------------------------------- coin flips and whole designs
@pytest.mark.parametrize("engine", ["dense", "grouped"])
def test_coin_plans_flip_each_cluster_independently(engine):
    from fieldexp.design.kernels import binomial_distribution

    n, q = 6, Fraction(1, 3)
    plan = ReplayPlan(np.array([0, n]), ("b",), (tuple(binomial_distribution(n, q)),), coin=(q,))
    Z = replay_draws(plan, np.eye(n), identity_reducer, n, reps=60_000, seed=4, engine=engine)
    se = np.sqrt(2 / 9 / 60_000)
    assert np.all(np.abs(Z.mean(axis=0) - 1 / 3) < 4.5 * se)  # each cluster: probability q
    # independence: the pairwise joint frequency is q^2
    assert abs(np.mean(Z[:, 0] * Z[:, 1]) - 1 / 9) < 4.5 * np.sqrt((1 / 9) * (8 / 9) / 60_000)
    assert count_assignments(plan, 10**6) == 2**n
    acc, prob = enumerate_draws(plan, np.eye(n), identity_reducer, n)
    assert len(acc) == 2**n and prob.sum() == pytest.approx(1.0, abs=1e-15)
    np.testing.assert_allclose(prob @ acc, np.full(n, 1 / 3), rtol=1e-12)


def _full_identity(b, St, T):
    return np.column_stack([St, T - St])  # indicators of t, then of c


@pytest.mark.parametrize(
    "support, probs",
    [
        # complete, 5 clusters, p = (t 0.3, c 0.4, o 0.3): n p = 1.5, 2, 1.5
        ((((1, 2), Fraction(1, 2)), ((2, 2), Fraction(1, 2))), None),
        (None, (Fraction(3, 10), Fraction(2, 5))),  # simple
    ],
)
def test_whole_design_replay_has_the_design_marginals(support, probs):
    from fieldexp.design.replay import (
        FullPlan,
        count_assignments_full,
        enumerate_draws_full,
        replay_draws_full,
    )

    n = 5
    plan = FullPlan(np.array([0, n]), ("b",), (support,), (probs,))
    acc, prob = enumerate_draws_full(plan, np.eye(n), _full_identity, 2 * n)
    assert len(acc) == count_assignments_full(plan, 10**6)
    assert prob.sum() == pytest.approx(1.0, abs=1e-12)
    marg = prob @ acc
    np.testing.assert_allclose(marg[:n], 0.3, rtol=1e-12)  # every cluster: P(t) = 0.3
    np.testing.assert_allclose(marg[n:], 0.4, rtol=1e-12)  # P(c) = 0.4
    assert np.all(acc[:, :n] + acc[:, n:] <= 1)  # never in both arms
    draws = replay_draws_full(plan, np.eye(n), _full_identity, 2 * n, reps=40_000, seed=2)
    se = np.sqrt(0.3 * 0.7 / 40_000)
    assert np.all(np.abs(draws.mean(axis=0)[:n] - 0.3) < 4.5 * se)
    assert np.all(np.abs(draws.mean(axis=0)[n:] - 0.4) < 4.5 * np.sqrt(0.24 / 40_000))
