"""Replay a blocked, clustered complete randomisation many times, on cluster totals.

Pure numpy kernels behind randomisation inference, the balance omnibus test and
heterogeneity tests. A statistic is described by cluster-level columns ``V`` (one row per
cluster: totals such as :math:`\\sum y`, :math:`\\sum 1`, ...) and a *reducer* that maps
the per-block sums over the treated clusters, ``S1`` (draws x columns), to additive
per-block contributions (draws x accumulators). Accumulators are summed over blocks and a
finaliser turns them into the statistic. Nothing is refitted per draw.

Three engines draw the treated sets; all replay the same distribution (the count of treated
clusters in a block is drawn from its exact distribution, then a uniformly random subset of
that size):

``"dense"``
    a (draws x clusters) treatment matrix per block, in chunks, drawn by sequential
    selection (one uniform per cluster and draw); ``S1 = Z @ V``. The draws depend only on the seed,
    the block labels and the cluster order, not on the outcome, so two analyses with the
    same design and seed see the *same* assignments (needed by Westfall-Young).
``"grouped"``
    clusters with identical rows of ``V`` within a block are exchangeable for the statistic,
    so the number of treated clusters of each distinct row is drawn from the multivariate
    hypergeometric distribution (a sequence of hypergeometric draws). Exact, and much
    faster for binary outcomes with small household clusters, but the draws depend on ``V``.
``"exact"``
    every assignment is enumerated with its probability (used when their number is at most
    the requested draws).
"""

from __future__ import annotations

import math
import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from fractions import Fraction
from itertools import combinations, pairwise
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess

import numpy as np

from fieldexp.design.kernels import block_rng

__all__ = [
    "FullPlan",
    "Reducer",
    "ReplayPlan",
    "block_totals",
    "block_types",
    "count_assignments",
    "count_assignments_full",
    "enumerate_draws",
    "enumerate_draws_full",
    "prefetch_dense",
    "replay_draws",
    "replay_draws_full",
    "shared_draws",
]

#: reducer(block index, S1 (draws x k), block totals (k,) or, replaying a whole multi-arm
#: design, the per-draw totals of the two compared arms (draws x k)) -> contributions
Reducer = Callable[[int, np.ndarray, np.ndarray], np.ndarray]

_STREAM_RI = 1  # stream 0 of a block's generator is the assignment itself
_DENSE_CHUNK = 1 << 22  # keys per chunk (32 MB of float64)


@dataclass(frozen=True, slots=True)
class ReplayPlan:
    """Blocks of a two-group (treated vs control) complete randomisation of clusters.

    Attributes
    ----------
    block_starts : ndarray
        Clusters of block ``b`` are rows ``block_starts[b]:block_starts[b+1]`` of ``V``
        (sorted by cluster id within the block).
    block_keys : tuple of str
        Seeding text of each block (:func:`fieldexp.design.assign.block_key`).
    support : tuple of tuple of (int, Fraction)
        Per block, the exact distribution of the number of treated clusters.
    """

    block_starts: np.ndarray
    block_keys: tuple[str, ...]
    support: tuple[tuple[tuple[int, Fraction], ...], ...]
    #: simple randomisation: per block, each cluster's probability of being treated. The
    #: support is then Binomial(n, q) and the engines draw each cluster (dense) or each group
    #: of identical clusters (grouped, Binomial(count, q)) directly: the same distribution.
    coin: tuple[Fraction, ...] | None = None

    @property
    def n_blocks(self) -> int:
        return len(self.block_keys)

    def block_size(self, b: int) -> int:
        return int(self.block_starts[b + 1] - self.block_starts[b])


def block_totals(plan: ReplayPlan, V: np.ndarray) -> np.ndarray:
    """Column sums of ``V`` per block (blocks x k)."""
    out = np.zeros((plan.n_blocks, V.shape[1]))
    for b in range(plan.n_blocks):
        out[b] = V[plan.block_starts[b] : plan.block_starts[b + 1]].sum(axis=0)
    return out


def count_assignments(plan: ReplayPlan, limit: int) -> int | None:
    """Number of possible assignments, or ``None`` when it exceeds ``limit``."""
    total = 1
    for b in range(plan.n_blocks):
        n = plan.block_size(b)
        if plan.coin is not None:
            total *= 2**n  # every subset has positive probability
        else:
            total *= sum(math.comb(n, m) for m, p in plan.support[b] if p > 0)
        if total > limit:
            return None
    return total


def _draw_m(
    rng: np.random.Generator, support: Sequence[tuple[int, Fraction]], reps: int
) -> np.ndarray:
    ms = np.array([m for m, _ in support], dtype=np.int64)
    if len(ms) == 1:
        return np.full(reps, ms[0], dtype=np.int64)
    cum = np.cumsum([float(p) for _, p in support])
    cum[-1] = 1.0
    u = rng.random(reps)
    return ms[np.searchsorted(cum, u, side="right")]


def _dense_block(
    V: np.ndarray,
    support: Sequence[tuple[int, Fraction]],
    reps: int,
    rng: np.random.Generator,
    coin: Fraction | None = None,
    key: tuple[object, ...] | None = None,
) -> Iterator[np.ndarray]:
    """Treated sums of ``reps`` uniformly random subsets, by sequential selection.

    Cluster ``i`` (in sorted order) is treated with probability ``remaining / left``
    (selection sampling, Fan, Muller & Rezucha 1962; Knuth's Algorithm S), vectorised over
    the draws: one uniform per cluster and draw, whatever ``V`` holds. The uniforms of a chunk
    are drawn in one call (row ``i`` of the ``n x r`` matrix is what the ``i``-th call of
    ``rng.random(r)`` would give) and scaled by :math:`n - i` at once; only the running
    count of treated clusters is sequential.

    The treated sets depend only on the block's generator, its size and count distribution
    and ``reps`` (``key``): inside :func:`shared_draws` they are kept (as bits) and the next
    statistic replayed on the same block takes them instead of drawing them again.
    """
    global _DRAWS_BYTES
    cache = _DRAWS if key is not None else None
    if cache is not None and key not in cache and _PENDING is not None:
        _collect_prefetch()  # drawn ahead in a forked process (prefetch_dense)
    kept = cache.get(key) if cache is not None else None  # type: ignore[arg-type]
    if kept is not None:
        for packed, r in kept:
            chosen = np.unpackbits(packed, axis=1, count=r).view(bool)
            yield chosen.T.astype(V.dtype) @ V
        return
    store: list[tuple[np.ndarray, int]] | None = [] if cache is not None else None
    for chosen in _treated_sets(V.shape[0], support, reps, rng, coin):
        if store is not None:
            store.append((np.packbits(chosen, axis=1), chosen.shape[1]))
        yield chosen.T.astype(V.dtype) @ V
    if cache is not None and store is not None:
        size = sum(p.nbytes for p, _ in store)
        if _DRAWS_BYTES + size <= _DRAWS_MAX_BYTES:
            cache[key] = tuple(store)  # type: ignore[index]
            _DRAWS_BYTES += size


def _treated_sets(
    n: int,
    support: Sequence[tuple[int, Fraction]],
    reps: int,
    rng: np.random.Generator,
    coin: Fraction | None,
) -> Iterator[np.ndarray]:
    """The dense engine's treated sets of one block, ``(n x r)`` booleans per chunk."""
    chunk = max(1, _DENSE_CHUNK // max(n, 1))
    done = 0
    while done < reps:
        r = min(chunk, reps - done)
        if coin is not None:  # independent coin flips, one uniform per cluster and draw
            chosen = rng.random((n, r)) < float(coin)
        else:
            rem = _draw_m(rng, support, r).astype(np.float64)
            u = rng.random((n, r))
            u *= np.arange(n, 0, -1, dtype=np.float64)[:, None]  # u_i (n - i)
            chosen = np.empty((n, r), dtype=bool)
            for i in range(n):
                np.less(u[i], rem, out=chosen[i])
                rem -= chosen[i]
        yield chosen
        done += r


def _block_key(plan: ReplayPlan, b: int, reps: int, seed: int) -> tuple[object, ...]:
    """What a block's dense treated sets depend on (the key they are kept under)."""
    coin = plan.coin[b] if plan.coin is not None else None
    return (seed, plan.block_keys[b], plan.block_size(b), reps, plan.support[b], coin)


def _prefetch_main(send: Connection, plan: ReplayPlan, reps: int, seed: int, blocks: range) -> None:
    out = {}
    for b in blocks:
        if plan.block_size(b) == 0:
            continue
        key = _block_key(plan, b, reps, seed)
        if _DRAWS is not None and key in _DRAWS:
            continue
        rng = block_rng(seed, plan.block_keys[b], _STREAM_RI)
        coin = plan.coin[b] if plan.coin is not None else None
        sets = _treated_sets(plan.block_size(b), plan.support[b], reps, rng, coin)
        out[key] = tuple((np.packbits(c, axis=1), c.shape[1]) for c in sets)
    send.send(out)
    send.close()


#: the forked processes drawing ahead (:func:`prefetch_dense`) and the ends of their pipes
_PENDING: list[tuple[BaseProcess, Connection]] | None = None
#: processes drawing ahead: two, so that both cores draw once the caller waits for them
_PREFETCH_PROCESSES = 2


def prefetch_dense(plan: ReplayPlan, *, reps: int, seed: int) -> bool:
    """Start drawing the dense treated sets of every block of ``plan`` in a forked process.

    Inside :func:`shared_draws` only (else nothing is started; returns whether a process
    was). The first statistic that needs a block's sets takes all of them from the process
    (waiting for it if it has not finished), so the draws overlap with other work of the
    calling process: the sets, and so every number, are those the consumer would draw.
    """
    global _PENDING
    if _DRAWS is None or _PENDING is not None or reps <= 0:
        return False
    if "fork" not in multiprocessing.get_all_start_methods():
        return False
    ctx = multiprocessing.get_context("fork")
    k = max(1, min(_PREFETCH_PROCESSES, plan.n_blocks))
    cuts = [plan.n_blocks * i // k for i in range(k + 1)]
    pending: list[tuple[BaseProcess, Connection]] = []
    for lo, hi in pairwise(cuts):
        recv, send = ctx.Pipe(duplex=False)
        args = (send, plan, reps, seed, range(lo, hi))
        proc = ctx.Process(target=_prefetch_main, args=args, daemon=True)
        proc.start()
        send.close()
        pending.append((proc, recv))
    _PENDING = pending
    return True


def _collect_prefetch() -> None:
    """Take the sets drawn by :func:`prefetch_dense` into the kept draws."""
    global _PENDING, _DRAWS_BYTES
    if _PENDING is None:
        return
    pending, _PENDING = _PENDING, None
    drawn: dict[tuple[object, ...], tuple[tuple[np.ndarray, int], ...]] = {}
    for proc, recv in pending:
        try:
            drawn.update(recv.recv())
        except (EOFError, OSError):  # a process died: the consumers draw those blocks
            pass
        finally:
            recv.close()
            proc.join()
    if _DRAWS is None:
        return
    for k, v in drawn.items():
        size = sum(p.nbytes for p, _ in v)
        if k not in _DRAWS and _DRAWS_BYTES + size <= _DRAWS_MAX_BYTES:
            _DRAWS[k] = v
            _DRAWS_BYTES += size


def _stop_prefetch() -> None:
    global _PENDING
    if _PENDING is None:
        return
    pending, _PENDING = _PENDING, None
    for proc, recv in pending:
        proc.terminate()
        proc.join()
        recv.close()


#: treated sets of the dense engine kept inside :func:`shared_draws` (``None``: off), keyed
#: by (seed, block key, clusters, reps, count distribution, coin)
_DRAWS: dict[tuple[object, ...], tuple[tuple[np.ndarray, int], ...]] | None = None
_DRAWS_BYTES = 0
_DRAWS_MAX_BYTES = 1 << 30  # 8 billion cluster-draws


@contextmanager
def shared_draws() -> Iterator[None]:
    """Within this block, the dense engine draws each block's treated sets once.

    Randomisation inference, the balance omnibus test and the heterogeneity test of one
    report replay the same design with the same seed: the dense engine's treated sets depend
    only on the seed, the block (its label, clusters in id order and count distribution) and
    the number of draws, not on the statistic, so they are drawn once and every statistic is
    summed over the same sets (bit for bit what drawing them again gives). Kept as bits; at
    most 1 GiB; dropped when the block ends.
    """
    global _DRAWS, _DRAWS_BYTES
    outer = _DRAWS
    if outer is None:
        _DRAWS = {}
        _DRAWS_BYTES = 0
    try:
        yield
    finally:
        if outer is None:
            _stop_prefetch()
            _DRAWS = None
            _DRAWS_BYTES = 0


def block_types(plan: ReplayPlan, V: np.ndarray) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
    """Per block, the distinct rows of ``V`` (in :func:`numpy.unique` order) and how many
    clusters hold each: what the grouped engine draws from (computed once per replay).

    The same arrays as ``np.unique(V[block], axis=0, return_counts=True)`` block by block,
    found for all blocks at once: rows are grouped by a hash of (block, row bytes), each
    group checked equal to its first row, and only the distinct rows are sorted
    (lexicographically within block, as :func:`numpy.unique` does). Rows with ``NaN`` or
    ``-0.0`` (where byte and value equality differ) take the :func:`numpy.unique` path.
    """
    fast = _block_types_hashed(plan, V)
    if fast is not None:
        return fast
    out = []
    for b in range(plan.n_blocks):
        Vb = V[plan.block_starts[b] : plan.block_starts[b + 1]]
        types, colors = np.unique(Vb, axis=0, return_counts=True)
        out.append((types, colors))
    return tuple(out)


_HASH_MULT = np.uint64(0x9E3779B97F4A7C15)


def _block_types_hashed(
    plan: ReplayPlan, V: np.ndarray
) -> tuple[tuple[np.ndarray, np.ndarray], ...] | None:
    import pandas as pd

    n, k = V.shape
    if V.dtype != np.float64 or n == 0 or k == 0:
        return None
    Vc = np.ascontiguousarray(V)
    if np.isnan(Vc).any() or (np.signbit(Vc) & (Vc == 0)).any():
        return None
    sizes: np.ndarray = np.diff(np.asarray(plan.block_starts, dtype=np.int64))
    if int(sizes.sum()) != n:
        return None
    block = np.repeat(np.arange(plan.n_blocks, dtype=np.int64), sizes)
    bits = Vc.view(np.uint64)
    h = block.astype(np.uint64)
    for j in range(k):  # polynomial hash, wrapping modulo 2**64
        h = h * _HASH_MULT
        h ^= bits[:, j]
        h ^= h >> np.uint64(29)
    codes, _ = pd.factorize(h)
    _, first, counts = np.unique(codes, return_index=True, return_counts=True)
    rep = first[codes]
    if not (np.array_equal(block[rep], block) and np.array_equal(Vc[rep], Vc)):
        return None  # a hash collision: the exact path
    D = Vc[first]
    db = block[first]
    order = np.lexsort([D[:, j] for j in range(k - 1, -1, -1)] + [db])
    D = D[order]
    counts = counts[order].astype(np.intp)
    bounds = np.searchsorted(db[order], np.arange(plan.n_blocks + 1))
    return tuple(
        (D[bounds[b] : bounds[b + 1]], counts[bounds[b] : bounds[b + 1]])
        for b in range(plan.n_blocks)
    )


def _grouped_block(
    V: np.ndarray,
    support: Sequence[tuple[int, Fraction]],
    reps: int,
    rng: np.random.Generator,
    coin: Fraction | None = None,
    grouped: tuple[np.ndarray, np.ndarray] | None = None,
) -> np.ndarray:
    if grouped is None:
        types, colors = np.unique(V, axis=0, return_counts=True)
    else:
        types, colors = grouped
    if coin is not None:  # identical clusters flip independently: Binomial(count, q) each
        return (
            rng.binomial(colors, float(coin), size=(reps, len(colors))).astype(np.float64) @ types
        )
    # largest colours first: numpy's marginal hypergeometric chain is fastest that way
    order = np.argsort(-colors, kind="stable")
    types, colors = types[order], colors[order]
    m = _draw_m(rng, support, reps)
    x = np.empty((reps, len(colors)), dtype=np.float64)
    for value in np.unique(m):
        rows = np.flatnonzero(m == value)
        x[rows] = rng.multivariate_hypergeometric(
            colors, int(value), size=len(rows), method="marginals"
        )
    return x @ types


#: blocks per unit of work; partial sums are added in this fixed grouping whatever the number
#: of processes, so the floating-point result does not depend on it
_BLOCKS_PER_CHUNK = 32
#: reps x clusters above which draws are spread over processes
_PARALLEL_WORK = 200_000_000


@dataclass(frozen=True, slots=True)
class _Job:
    plan: ReplayPlan
    V: np.ndarray
    totals: np.ndarray
    reducer: Reducer
    n_acc: int
    reps: int
    seed: int
    engine: str
    chunks: tuple[tuple[int, ...], ...]
    types: tuple[tuple[np.ndarray, np.ndarray], ...] | None = None


_JOB: _Job | None = None  # inherited by forked workers (closures cannot be pickled)


def _block_contribution(job: _Job, b: int) -> np.ndarray:
    lo, hi = int(job.plan.block_starts[b]), int(job.plan.block_starts[b + 1])
    rng = block_rng(job.seed, job.plan.block_keys[b], _STREAM_RI)
    Vb = job.V[lo:hi]
    support = job.plan.support[b]
    coin = job.plan.coin[b] if job.plan.coin is not None else None
    if job.engine == "grouped":
        grouped = job.types[b] if job.types is not None else None
        S1 = _grouped_block(Vb, support, job.reps, rng, coin, grouped)
        return job.reducer(b, S1, job.totals[b])
    key = _block_key(job.plan, b, job.reps, job.seed)
    parts = [
        job.reducer(b, s1, job.totals[b])
        for s1 in _dense_block(Vb, support, job.reps, rng, coin, key)
    ]
    return parts[0] if len(parts) == 1 else np.concatenate(parts, axis=0)


def _run_chunk(job: _Job, i: int) -> np.ndarray:
    acc = np.zeros((job.reps, job.n_acc))
    for b in job.chunks[i]:
        acc += _block_contribution(job, b)
    return acc


def _forked_chunk(
    i: int,
) -> tuple[np.ndarray, dict[tuple[object, ...], tuple[tuple[np.ndarray, int], ...]] | None]:
    """A chunk's accumulators in a forked worker, with the treated sets it drew (to keep)."""
    assert _JOB is not None
    before = set(_DRAWS) if _DRAWS is not None else None
    acc = _run_chunk(_JOB, i)
    if _DRAWS is None or before is None:
        return acc, None
    return acc, {k: v for k, v in _DRAWS.items() if k not in before}


def default_workers(work: int, n_chunks: int) -> int:
    """Processes to use: 1 for small jobs; else the CPUs (at most 4), if ``fork`` exists."""
    if work < _PARALLEL_WORK or n_chunks < 2:
        return 1
    if "fork" not in multiprocessing.get_all_start_methods():
        return 1
    env = os.environ.get("FIELDEXP_WORKERS")
    if env is not None and env.isdigit() and int(env) > 0:
        return int(env)
    return max(1, min(4, os.cpu_count() or 1, n_chunks))


def replay_draws(
    plan: ReplayPlan,
    V: np.ndarray,
    reducer: Reducer,
    n_acc: int,
    *,
    reps: int,
    seed: int,
    engine: str = "dense",
    workers: int | None = None,
    types: tuple[tuple[np.ndarray, np.ndarray], ...] | None = None,
) -> np.ndarray:
    """Accumulators of ``reps`` re-randomisations, summed over blocks: (reps x n_acc).

    Each block has its own generator (seed, block label, stream 1), and block contributions
    are summed in fixed groups of blocks, in order, so the result is identical whether the
    blocks are processed in one process or spread over several (large jobs are, by default,
    on Linux: ``workers`` or the ``FIELDEXP_WORKERS`` environment variable override).
    ``types``: the grouped engine's :func:`block_types` of ``V`` when already computed.
    """
    global _JOB, _DRAWS_BYTES
    blocks = [b for b in range(plan.n_blocks) if plan.block_size(b) > 0]
    chunks = tuple(
        tuple(blocks[i : i + _BLOCKS_PER_CHUNK]) for i in range(0, len(blocks), _BLOCKS_PER_CHUNK)
    )
    if engine != "grouped":
        types = None
    totals = block_totals(plan, V)
    job = _Job(plan, V, totals, reducer, n_acc, reps, seed, engine, chunks, types)
    n_workers = workers if workers is not None else default_workers(reps * V.shape[0], len(chunks))
    acc = np.zeros((reps, n_acc))
    if n_workers <= 1:
        for i in range(len(chunks)):
            acc += _run_chunk(job, i)
        return acc
    if engine == "dense" and _PENDING is not None:
        _collect_prefetch()  # before forking: the workers inherit the sets drawn ahead
    _JOB = job
    try:
        ctx = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(max_workers=n_workers, mp_context=ctx) as pool:
            for part, drawn in pool.map(_forked_chunk, range(len(chunks))):  # in order
                acc += part
                if drawn and _DRAWS is not None:
                    for k, v in drawn.items():
                        size = sum(p.nbytes for p, _ in v)
                        if _DRAWS_BYTES + size <= _DRAWS_MAX_BYTES:
                            _DRAWS[k] = v
                            _DRAWS_BYTES += size
    finally:
        _JOB = None
    return acc


def enumerate_draws(
    plan: ReplayPlan, V: np.ndarray, reducer: Reducer, n_acc: int
) -> tuple[np.ndarray, np.ndarray]:
    """Every assignment's accumulators and probability: ``(acc (N x n_acc), prob (N,))``."""
    totals = block_totals(plan, V)
    acc = np.zeros((1, n_acc))
    prob = np.ones(1)
    for b in range(plan.n_blocks):
        n = plan.block_size(b)
        if n == 0:
            continue
        lo = int(plan.block_starts[b])
        rows: list[np.ndarray] = []
        probs: list[float] = []
        for m, p in plan.support[b]:
            if p == 0:
                continue
            k = math.comb(n, m)
            for subset in combinations(range(n), m):
                z = np.zeros(n)
                z[list(subset)] = 1.0
                rows.append(z)
                probs.append(float(p / k))
        Z = np.array(rows)
        contrib = reducer(b, Z @ V[lo : lo + n], totals[b])
        acc = (acc[:, None, :] + contrib[None, :, :]).reshape(-1, n_acc)
        prob = (prob[:, None] * np.array(probs)[None, :]).reshape(-1)
    return acc, prob


# ===================================================================== whole multi-arm design
@dataclass(frozen=True, slots=True)
class FullPlan:
    """Blocks of a multi-arm design replayed whole: every assigned cluster is re-drawn into
    the tested arm (``t``), the control (``c``) or one of the other arms (``o``).

    Attributes
    ----------
    block_starts, block_keys
        As in :class:`ReplayPlan` (clusters of every arm, sorted by id within block).
    support : tuple
        Per block, for complete randomisation the exact distribution of ``(m_t, m_c)``
        (``((m_t, m_c), probability)`` pairs); ``None`` for simple randomisation.
    probs : tuple
        Per block, for simple randomisation ``(p_t, p_c)``; ``None`` for complete.
    """

    block_starts: np.ndarray
    block_keys: tuple[str, ...]
    support: tuple[tuple[tuple[tuple[int, int], Fraction], ...] | None, ...]
    probs: tuple[tuple[Fraction, Fraction] | None, ...]

    @property
    def n_blocks(self) -> int:
        return len(self.block_keys)

    def block_size(self, b: int) -> int:
        return int(self.block_starts[b + 1] - self.block_starts[b])


_STREAM_FULL = 2


def count_assignments_full(plan: FullPlan, limit: int) -> int | None:
    """Number of possible assignments (t / c / o per cluster), or ``None`` above ``limit``."""
    total = 1
    for b in range(plan.n_blocks):
        n = plan.block_size(b)
        sup = plan.support[b]
        if sup is None:
            total *= 3**n
        else:
            total *= sum(math.comb(n, mt) * math.comb(n - mt, mc) for (mt, mc), p in sup if p > 0)
        if total > limit:
            return None
    return total


def _full_dense_block(
    V: np.ndarray, plan: FullPlan, b: int, reps: int, rng: np.random.Generator
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """``(S_t, S_t + S_c)`` for ``reps`` draws of one block, in chunks.

    Complete: ``(m_t, m_c)`` from its exact distribution, then sequential selection into
    three groups (cluster ``i`` goes to ``t`` with probability ``rem_t / left``, else to
    ``c`` with ``rem_c / left``): a uniformly random ordered partition with those sizes.
    Simple: each cluster independently ``t`` with :math:`p_t`, ``c`` with :math:`p_c`.
    """
    n = V.shape[0]
    chunk = max(1, _DENSE_CHUNK // max(n, 1))
    sup = plan.support[b]
    probs = plan.probs[b]
    done = 0
    while done < reps:
        r = min(chunk, reps - done)
        zt = np.empty((n, r), dtype=V.dtype)
        zc = np.empty((n, r), dtype=V.dtype)
        if sup is None:
            assert probs is not None
            pt, pc = float(probs[0]), float(probs[0] + probs[1])
            for i in range(n):
                u = rng.random(r)
                zt[i] = u < pt
                zc[i] = (u >= pt) & (u < pc)
        else:
            pairs = np.array([m for m, _ in sup], dtype=np.float64)
            cum = np.cumsum([float(p) for _, p in sup])
            cum[-1] = 1.0
            pick = np.searchsorted(cum, rng.random(r), side="right")
            rem_t, rem_c = pairs[pick, 0].copy(), pairs[pick, 1].copy()
            for i in range(n):
                u = rng.random(r) * (n - i)
                t = u < rem_t
                c = ~t & (u < rem_t + rem_c)
                zt[i] = t
                zc[i] = c
                rem_t -= t
                rem_c -= c
        st = zt.T @ V
        yield st, st + zc.T @ V
        done += r


def replay_draws_full(
    plan: FullPlan, V: np.ndarray, reducer: Reducer, n_acc: int, *, reps: int, seed: int
) -> np.ndarray:
    """Accumulators of ``reps`` re-draws of the whole design, summed over blocks.

    The reducer is called as ``reducer(b, S_t, T)`` with ``T = S_t + S_c`` per draw
    (draws x columns): the sums over the clusters of the two compared arms.
    """
    acc = np.zeros((reps, n_acc))
    for b in range(plan.n_blocks):
        lo, hi = int(plan.block_starts[b]), int(plan.block_starts[b + 1])
        if hi == lo:
            continue
        rng = block_rng(seed, plan.block_keys[b], _STREAM_FULL)
        row = 0
        for st, tot in _full_dense_block(V[lo:hi], plan, b, reps, rng):
            acc[row : row + len(st)] += reducer(b, st, tot)
            row += len(st)
    return acc


def enumerate_draws_full(
    plan: FullPlan, V: np.ndarray, reducer: Reducer, n_acc: int
) -> tuple[np.ndarray, np.ndarray]:
    """Every assignment of the whole design with its probability: ``(acc, prob)``."""
    acc = np.zeros((1, n_acc))
    prob = np.ones(1)
    for b in range(plan.n_blocks):
        n = plan.block_size(b)
        if n == 0:
            continue
        lo = int(plan.block_starts[b])
        zt_rows: list[np.ndarray] = []
        zc_rows: list[np.ndarray] = []
        probs: list[float] = []
        sup = plan.support[b]
        if sup is None:
            pb = plan.probs[b]
            assert pb is not None
            pt, pc = pb
            po = 1 - pt - pc
            for labels in np.ndindex(*([3] * n)):
                lab = np.array(labels)
                zt_rows.append((lab == 0).astype(float))
                zc_rows.append((lab == 1).astype(float))
                k_t, k_c = int((lab == 0).sum()), int((lab == 1).sum())
                probs.append(float(pt**k_t * pc**k_c * po ** (n - k_t - k_c)))
        else:
            for (mt, mc), p in sup:
                if p == 0:
                    continue
                k = math.comb(n, mt) * math.comb(n - mt, mc)
                for tset in combinations(range(n), mt):
                    rest = [i for i in range(n) if i not in set(tset)]
                    for cset in combinations(rest, mc):
                        zt = np.zeros(n)
                        zc = np.zeros(n)
                        zt[list(tset)] = 1.0
                        zc[list(cset)] = 1.0
                        zt_rows.append(zt)
                        zc_rows.append(zc)
                        probs.append(float(p / k))
        Vb = V[lo : lo + n]
        st = np.array(zt_rows) @ Vb
        contrib = reducer(b, st, st + np.array(zc_rows) @ Vb)
        acc = (acc[:, None, :] + contrib[None, :, :]).reshape(-1, n_acc)
        prob = (prob[:, None] * np.array(probs)[None, :]).reshape(-1)
    return acc, prob
