"""Pure assignment kernels: exact per-block counts, complete and simple randomisation.

Arrays and fractions in, arrays out; no pandas. Used by :meth:`Design.assign`, by
randomisation inference (to replay the design) and by the enumeration tests.

Counts per block (randomizr's ``complete_ra`` with ``prob_each``; Coppock 2023): for
:math:`n` units and arm probabilities :math:`p_k`,

.. math::

    m_k = \\lfloor n p_k \\rfloor + \\delta_k,\\qquad
    \\delta_k \\in \\{0, 1\\},\\quad \\Pr(\\delta_k = 1) = n p_k - \\lfloor n p_k \\rfloor,

where the arms receiving the :math:`n - \\sum_k \\lfloor n p_k \\rfloor` leftover units are
drawn by systematic sampling (Madow 1949) on the fractional parts. Then
:math:`E[m_k] = n p_k`, and with a uniformly random permutation of the units every unit is
in arm :math:`k` with probability exactly :math:`p_k`. (randomizr draws the leftover arms
with a multinomial, which can give one arm two extra units; systematic sampling keeps each
count at the floor or ceiling of :math:`n p_k` with the same marginal probabilities.)
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from fractions import Fraction
from itertools import accumulate, pairwise

import numpy as np

__all__ = [
    "assign_block",
    "binomial_distribution",
    "block_rng",
    "count_distribution",
    "counts_from_uniform",
    "simple_block",
    "stable_words",
]


def stable_words(text: str) -> list[int]:
    """Four 32-bit words from the SHA-256 of ``text`` (machine-independent seeding material)."""
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return [int.from_bytes(digest[i : i + 4], "little") for i in range(0, 16, 4)]


def block_rng(seed: int, block_key: str, stream: int = 0) -> np.random.Generator:
    """The generator of one block: PCG64 seeded by ``(seed, sha256(block_key), stream)``.

    Seeding per block (not one stream across blocks) makes a block's assignment depend only
    on the seed and its own label and units, whatever the input order or the other blocks.
    """
    return np.random.Generator(
        np.random.PCG64(np.random.SeedSequence([seed, stream, *stable_words(block_key)]))
    )


def _floors(n: int, probs: Sequence[Fraction]) -> tuple[list[int], list[Fraction]]:
    exact = [n * p for p in probs]
    floors = [math.floor(x) for x in exact]
    return floors, [x - f for x, f in zip(exact, floors, strict=True)]


def counts_from_uniform(n: int, probs: Sequence[Fraction], u: float) -> np.ndarray:
    """Arm counts for ``n`` units given the systematic-sampling uniform ``u`` in [0, 1).

    Arm :math:`k` gets an extra unit when an integer :math:`j` satisfies
    :math:`C_{k-1} \\le u + j < C_k`, with :math:`C_k` the cumulative fractional parts.
    """
    floors, rems = _floors(n, probs)
    counts = np.array(floors, dtype=np.int64)
    if sum(rems) == 0:
        return counts
    uf = Fraction(u)
    cum = Fraction(0)
    prev = 0  # ceil(C_0 - u) with C_0 = 0 and 0 <= u < 1
    for k, r in enumerate(rems):
        cum += r
        cur = math.ceil(cum - uf)
        counts[k] += cur - prev
        prev = cur
    return counts


def count_distribution(n: int, probs: Sequence[Fraction]) -> list[tuple[tuple[int, ...], Fraction]]:
    """The exact distribution of the count vector: ``[(counts, probability), ...]``.

    The systematic-sampling uniform :math:`u` is piecewise constant in its effect between
    the fractional parts of the cumulative remainders; each piece contributes its length.
    """
    floors, rems = _floors(n, probs)
    if sum(rems) == 0:
        return [(tuple(floors), Fraction(1))]
    cuts = {Fraction(0), Fraction(1)}
    cum = Fraction(0)
    for r in rems:
        cum += r
        cuts.add(cum - math.floor(cum))
    edges = sorted(cuts)
    dist: dict[tuple[int, ...], Fraction] = {}
    for a, b in pairwise(edges):
        if b <= a:
            continue
        mid = (a + b) / 2
        counts = list(floors)
        cum = Fraction(0)
        prev = 0
        for k, r in enumerate(rems):
            cum += r
            cur = math.ceil(cum - mid)
            counts[k] += cur - prev
            prev = cur
        key = tuple(counts)
        dist[key] = dist.get(key, Fraction(0)) + (b - a)
    return sorted(dist.items())


def assign_block(
    n: int,
    rng: np.random.Generator,
    *,
    probs: Sequence[Fraction] | None = None,
    counts: Sequence[int] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Complete randomisation of ``n`` units (in a fixed, sorted order) to arms.

    Returns ``(arm_index, counts)``: the arm index (0..K-1) of each unit and the count
    vector used. With ``probs``, counts are drawn as in :func:`counts_from_uniform`;
    with ``counts``, they are used as given. Only ``rng.random`` is called (one uniform for
    the leftover units, then one per unit), so results are identical on any machine.
    """
    u = float(rng.random())
    if counts is None:
        if probs is None:
            raise ValueError("assign_block needs probs or counts")
        m = counts_from_uniform(n, probs, u)
    else:
        m = np.asarray(counts, dtype=np.int64)
    keys = rng.random(n)
    order = np.argsort(keys, kind="stable")
    arm = np.empty(n, dtype=np.int64)
    arm[order] = np.repeat(np.arange(len(m), dtype=np.int64), m)
    return arm, m


def simple_block(
    n: int, rng: np.random.Generator, probs: Sequence[Fraction]
) -> tuple[np.ndarray, np.ndarray]:
    """Simple (Bernoulli / multinomial) randomisation of ``n`` units in a fixed, sorted order.

    Unit :math:`i` is in arm :math:`k` when :math:`C_{k-1} \\le u_i < C_k`, with one uniform
    :math:`u_i` per unit and :math:`C_k = \\sum_{j \\le k} p_j`: independently of the other
    units, with probability exactly :math:`p_k` (randomizr's ``simple_ra`` with
    ``prob_each``). Returns ``(arm_index, counts)``; counts may be zero.
    """
    bounds = np.array([float(c) for c in accumulate(probs)])
    bounds[-1] = np.inf  # the last arm takes every u >= C_{K-1} (float rounding included)
    u = rng.random(n)
    arm = np.searchsorted(bounds, u, side="right").astype(np.int64)
    return arm, np.bincount(arm, minlength=len(probs)).astype(np.int64)


#: blocks up to this size get the binomial distribution in exact fractions
_EXACT_BINOMIAL = 64


def binomial_distribution(n: int, p: Fraction) -> list[tuple[int, Fraction]]:
    """Distribution of the number treated among ``n`` independent coin flips of probability ``p``.

    :math:`\\Pr(m) = \\binom{n}{m} p^m (1 - p)^{n - m}`: exact fractions for small ``n``
    (enumeration), otherwise double precision with the negligible tails (below 1e-300)
    left out. Replaying simple randomisation as "draw :math:`m` from this, then a uniformly
    random subset of size :math:`m`" gives every subset its probability
    :math:`p^m (1-p)^{n-m}`.
    """
    if n <= _EXACT_BINOMIAL:
        q = 1 - p
        return [(m, math.comb(n, m) * p**m * q ** (n - m)) for m in range(n + 1)]
    from scipy import stats

    ms = np.arange(n + 1)
    pmf = stats.binom.pmf(ms, n, float(p))
    keep = pmf > 1e-300
    return [(int(m), Fraction(float(v))) for m, v in zip(ms[keep], pmf[keep], strict=True)]
