"""Assignment kernels: the exact law of the per-block counts, by enumeration."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

from fieldexp.design.kernels import count_distribution, counts_from_uniform


@pytest.mark.parametrize(
    "n, probs",
    [
        (5, [Fraction(1, 3)] * 3),
        (7, [Fraction(1, 2)] * 2),
        (9, [Fraction(1, 2), Fraction(3, 10), Fraction(1, 5)]),
        (11, [Fraction(1, 7), Fraction(2, 7), Fraction(4, 7)]),
        (4, [Fraction(1, 4)] * 4),
        (3, [Fraction(1, 10), Fraction(9, 10)]),
    ],
)
def test_count_distribution_by_enumerating_the_uniform(n, probs):
    # all breakpoints are multiples of 1/M: the midpoints of the M cells enumerate u exactly
    m_den = math.lcm(*[p.denominator for p in probs])
    grid = {}
    for j in range(m_den):
        u = (j + 0.5) / m_den
        key = tuple(int(x) for x in counts_from_uniform(n, probs, u))
        grid[key] = grid.get(key, Fraction(0)) + Fraction(1, m_den)
    assert dict(count_distribution(n, probs)) == grid
    for counts, _ in grid.items():
        for k, p in enumerate(probs):
            assert counts[k] in (math.floor(n * p), math.ceil(n * p))  # floor or ceiling
    # exact marginal: P(unit in arm k) = E[m_k] / n = p_k
    for k, p in enumerate(probs):
        assert sum(pr * c[k] for c, pr in grid.items()) / n == p


def test_marginal_probabilities_by_enumeration_of_assignments():
    # 5 clusters, 3 arms at 1/3: enumerate count vectors x permutations -> exact marginals
    from itertools import permutations

    n = 5
    probs = [Fraction(1, 3)] * 3
    marg = np.zeros((n, 3), dtype=object)
    marg[:] = Fraction(0)
    for counts, pr in count_distribution(n, probs):
        layout = np.repeat(np.arange(3), counts)
        perms = list(permutations(range(n)))
        for perm in perms:
            arm = np.empty(n, dtype=int)
            arm[list(perm)] = layout
            for i in range(n):
                marg[i, arm[i]] += pr / len(perms)
    assert (marg == Fraction(1, 3)).all()
