"""block_types (hashed, all blocks at once) gives exactly np.unique(axis=0) per block."""

from __future__ import annotations

import numpy as np
import pytest

from fieldexp.design.replay import ReplayPlan, block_types


def _unique_per_block(plan: ReplayPlan, V: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    return [
        np.unique(V[plan.block_starts[b] : plan.block_starts[b + 1]], axis=0, return_counts=True)
        for b in range(plan.n_blocks)
    ]


def _plan(sizes: np.ndarray) -> ReplayPlan:
    starts = np.r_[0, np.cumsum(sizes)].astype(np.int64)
    n = len(sizes)
    return ReplayPlan(block_starts=starts, block_keys=tuple(map(str, range(n))), support=((),) * n)


def _same(a, b) -> None:
    assert len(a) == len(b)
    for (t1, c1), (t2, c2) in zip(a, b, strict=True):
        assert t1.shape == t2.shape and t1.dtype == t2.dtype and c1.dtype == c2.dtype
        assert np.array_equal(t1, t2, equal_nan=True) and np.array_equal(c1, c2)


@pytest.mark.parametrize("seed", range(6))
def test_block_types_equal_numpy_unique_with_many_ties(seed: int) -> None:
    rng = np.random.default_rng(seed)
    for _ in range(40):
        nb = int(rng.integers(1, 7))
        sizes = rng.integers(0, 50, nb)
        k = int(rng.integers(1, 6))
        V = rng.integers(-2, 3, (int(sizes.sum()), k)).astype(float)
        V *= rng.choice([1.0, 0.1, 1e300, 3.7e-5], k)
        plan = _plan(sizes)
        _same(block_types(plan, V), _unique_per_block(plan, V))


def test_block_types_nan_and_negative_zero_take_the_numpy_path() -> None:
    plan = _plan(np.array([3, 2]))
    V = np.array([[0.0, 1.0], [-0.0, 1.0], [np.nan, 2.0], [1.0, 1.0], [1.0, 1.0]])
    _same(block_types(plan, V), _unique_per_block(plan, V))


def test_block_types_do_not_depend_on_row_order_within_blocks() -> None:
    rng = np.random.default_rng(3)
    plan = _plan(np.array([30, 40, 25]))
    V = rng.integers(0, 3, (95, 4)).astype(float)
    perm = np.concatenate([rng.permutation(30), 30 + rng.permutation(40), 70 + rng.permutation(25)])
    _same(block_types(plan, V), block_types(plan, V[perm]))
