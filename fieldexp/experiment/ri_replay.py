"""The observed assignment checked against its :class:`Design`, and the design replayed.

Shared by :func:`fieldexp.randomization_inference`, :func:`fieldexp.balance` and
:func:`fieldexp.heterogeneity`: :func:`prepare_replay` validates the observed assignment
(whole clusters, counts the design can produce) and builds the :class:`ReplaySetup` (the
clusters of the two compared arms, in id order within blocks, and the exact distribution of
the number treated in each block); :func:`run_replay` draws (or enumerates) re-randomisations
of it through :mod:`fieldexp.design.replay`; :func:`observed_acc` evaluates a reducer at the
observed assignment.
"""

from __future__ import annotations

import hashlib
import math
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import pandas as pd

from fieldexp.design.assign import (
    Structure,
    block_arm_fractions,
    block_count_support,
    block_key,
    ids_sha256,
    pair_support,
    prepare,
)
from fieldexp.design.replay import (
    FullPlan,
    Reducer,
    ReplayPlan,
    block_types,
    count_assignments,
    count_assignments_full,
    enumerate_draws,
    enumerate_draws_full,
    replay_draws,
    replay_draws_full,
    shared_draws,
)
from fieldexp.design.spec import ArmLabel, Design
from fieldexp.errors import (
    ColumnNotFoundError,
    DataError,
    DesignError,
    FieldexpError,
    SpecificationError,
    did_you_mean,
    format_rows,
)
from fieldexp.results import TestResult

__all__ = [
    "ENGINES",
    "ReplaySetup",
    "check_reps_memory",
    "cluster_sums",
    "f_reducer",
    "memory_budget",
    "observed_acc",
    "omnibus_f_test",
    "prepare_replay",
    "replay_key",
    "residualize",
    "resolve_assignment",
    "run_replay",
    "shared_replays",
]

ENGINES = ("auto", "dense", "grouped", "exact", "shared")
_MAX_ENUMERATION = 200_000
_ENUMERABLE_COIN_BLOCK = 64
#: float64 numbers held per draw besides the accumulators: the draw's statistic, its weight,
#: the accumulators of a block being added and the reducer's temporaries (counted 3 times)
_PER_DRAW_FIXED = 8
_FALLBACK_BUDGET = 4 << 30


def memory_budget() -> int:
    """Bytes the draws of one call may use: half the machine's physical memory (4 GiB when it
    cannot be read), or ``FIELDEXP_MAX_MEMORY_GB`` when set."""
    env = os.environ.get("FIELDEXP_MAX_MEMORY_GB")
    if env:
        try:
            value = float(env)
        except ValueError:
            value = math.nan
        if not (math.isfinite(value) and value > 0):
            raise SpecificationError(
                f"FIELDEXP_MAX_MEMORY_GB must be a positive number of gigabytes; found {env!r}"
            )
        return int(value * (1 << 30))
    try:
        return int(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")) // 2
    except (AttributeError, ValueError, OSError):  # pragma: no cover - non-POSIX
        return _FALLBACK_BUDGET


def _gb(n_bytes: float) -> str:
    if n_bytes >= 1 << 30:
        return f"{n_bytes / (1 << 30):,.1f} GB"
    return f"{n_bytes / (1 << 20):,.1f} MB"


def check_reps_memory(reps: int, n_acc: int, *, function: str, what: str = "draws") -> None:
    """Refuse, before any work, a ``reps`` whose draws cannot fit in memory.

    The draws hold about :math:`8 \\times (3 a + 8)` bytes each (:math:`a` accumulators per
    draw: 5 per estimate, or one per covariate plus one for the balance F test).
    """
    need = 8 * reps * (3 * n_acc + _PER_DRAW_FIXED)
    budget = memory_budget()
    if need > budget:
        fits = max(1, budget // (8 * (3 * n_acc + _PER_DRAW_FIXED)))
        raise SpecificationError(
            f"The 'reps' parameter of {function} asks for {reps:,} {what}; they would need about "
            f"{_gb(need)} of memory ({8 * (3 * n_acc + _PER_DRAW_FIXED)} bytes per draw), more "
            f"than the {_gb(budget)} allowed (half the machine's memory, or "
            f"FIELDEXP_MAX_MEMORY_GB). Use reps <= {fits:,}: 10,000 draws already give a "
            "p-value with Monte Carlo standard error below 0.005."
        )


@dataclass(frozen=True, slots=True)
class ReplaySetup:
    """The randomisation set (clusters in the two compared arms) and how to replay it.

    ``row_cluster`` maps every row of ``data`` to its cluster in the set (``-1`` for rows
    outside the set: excluded units or other arms).
    """

    plan: ReplayPlan | FullPlan
    row_cluster: np.ndarray
    z_cluster: np.ndarray  # observed 0/1 per set cluster (1: the tested arm)
    cluster_block: np.ndarray  # block index (in plan) per set cluster
    block_labels: tuple[object, ...]
    arm: ArmLabel
    control: ArmLabel
    conditional: bool  # multi-arm design: counts held at their observed values
    ids_hash: str
    notes: tuple[str, ...]
    #: replaying the whole multi-arm design: per set cluster, 1 when in the control arm (the
    #: set then holds the clusters of every arm); ``None`` for two-group replays
    control_cluster: np.ndarray | None = None

    def pair_cluster(self) -> np.ndarray:
        """Per set cluster: in the tested arm or the control (all, for two-group replays)."""
        if self.control_cluster is None:
            return np.ones(len(self.z_cluster), dtype=bool)
        return (self.z_cluster + self.control_cluster) > 0


def resolve_assignment(
    data: pd.DataFrame, assignment: str | pd.DataFrame, design: Design, *, function: str
) -> tuple[pd.DataFrame, str]:
    """``assignment`` as a column of ``data``: a column name, or the frame of Design.assign."""
    if isinstance(assignment, str):
        if assignment not in data.columns:
            raise ColumnNotFoundError(
                f"column {assignment!r} (argument 'assignment' of {function}) is not in the data."
                f"{did_you_mean(assignment, [str(c) for c in data.columns])}"
            )
        return data, assignment
    if isinstance(assignment, pd.DataFrame):
        if design.unit not in assignment.columns or "arm" not in assignment.columns:
            raise SpecificationError(
                f"The 'assignment' parameter of {function} must be a column name or the frame "
                f"returned by Design.assign (with columns {design.unit!r} and 'arm')."
            )
        if design.unit not in data.columns:
            raise DataError(f"data: column {design.unit!r} (the design's unit) is missing")
        col = "__fieldexp_arm__"
        arms = assignment.set_index(design.unit)["arm"]
        if not arms.index.is_unique:
            raise DataError(f"assignment: column {design.unit!r} is not unique")
        merged = data.assign(**{col: data[design.unit].map(arms)})
        return merged, col
    raise SpecificationError(
        f"The 'assignment' parameter of {function} must be a column name or the frame returned "
        f"by Design.assign. Got {type(assignment).__name__} instead."
    )


def _arm_codes(series: pd.Series, design: Design, *, function: str) -> np.ndarray:
    """Index of each row's arm in ``design.arm_labels`` (``-1`` when missing)."""
    labels = design.arm_labels
    codes = np.full(len(series), -1, dtype=np.int64)
    present = series.notna().to_numpy()
    values = series[present]
    idx = np.full(len(values), -2, dtype=np.int64)
    if isinstance(labels[0], int):
        # each distinct value converted once (an arm column holds a handful)
        inv, uniq = pd.factorize(values)
        num_u = pd.to_numeric(pd.Series(np.asarray(uniq, dtype=object)), errors="coerce")
        num = num_u.to_numpy(dtype=np.float64)[inv]
        for i, lab in enumerate(labels):
            idx[num == float(lab)] = i
    else:
        text = values.astype(str).to_numpy()
        for i, lab in enumerate(labels):
            idx[text == str(lab)] = i
    bad = idx == -2
    if bad.any():
        found = sorted({str(v) for v in values[bad]})[:5]
        raise DataError(
            f"column {series.name!r} (argument 'assignment' of {function}) holds values that are "
            f"not arms of the design {list(labels)!r}: {', '.join(found)} in "
            f"{format_rows(values.index[bad][:5], total=int(bad.sum()))}."
        )
    codes[present] = idx
    return codes


#: prepared replays shared by the consumers inside :func:`shared_replays` (``None``: off)
_SHARED: dict[str, tuple[ReplaySetup, Structure]] | None = None


@contextmanager
def shared_replays() -> Iterator[None]:
    """Within this block, :func:`prepare_replay` of one design on the same units is done once.

    A report runs randomisation inference, the heterogeneity test and the balance omnibus
    test on the same units under the same design; each replay is then prepared (ids
    canonicalised, clusters numbered, assignment checked against the design) once and
    handed to every consumer. The memo is keyed on the content of what the preparation reads
    (:func:`replay_key`), so it cannot go stale, and it is dropped when the block ends.
    """
    global _SHARED
    outer = _SHARED
    if outer is None:
        _SHARED = {}
    try:
        with shared_draws():  # and the dense engine's treated sets, drawn once per block
            yield
    finally:
        if outer is None:
            _SHARED = None


def replay_key(
    data: pd.DataFrame, codes: np.ndarray, design: Design, *, arm: ArmLabel | None, full: bool
) -> str:
    """SHA-256 of everything :func:`prepare_replay` reads: the design, the tested arm, each
    row's arm (``codes``, the index in ``design.arm_labels``) and the values (in row order)
    and dtypes of the unit, block and cluster columns."""
    if arm is None and len(design.arm_labels) == 2:
        arm = design.treatment_arms[0]  # what prepare_replay resolves it to
    h = hashlib.sha256()
    h.update("|".join([design.to_json(), repr(arm), str(full), str(len(data))]).encode())
    h.update(np.ascontiguousarray(codes, dtype="<i8").tobytes())
    for col in (design.unit, design.blocks, design.clusters):
        if col is None:
            h.update(b"|none")
            continue
        series = data[col]
        h.update(f"|{col}:{series.dtype}:".encode())
        _update_digest(h, series)
    return h.hexdigest()


def _update_digest(h: hashlib._Hash, series: pd.Series) -> None:
    """Feed the values of ``series`` (in row order) to ``h``: the raw bytes of numpy and
    Arrow string columns without missing values (offsets rebased to 0), else pandas' row
    hashes."""
    dtype = series.dtype
    if isinstance(dtype, np.dtype) and dtype.kind in "biuf":
        h.update(b"numpy:")
        h.update(np.ascontiguousarray(series.to_numpy()).tobytes())
        return
    to_arrow = getattr(series.array, "__arrow_array__", None)
    if to_arrow is not None:
        import pyarrow as pa

        arr = to_arrow()
        if isinstance(arr, pa.ChunkedArray):
            arr = arr.combine_chunks()
        if arr.null_count == 0 and (
            pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)
        ):
            kind = np.int64 if pa.types.is_large_string(arr.type) else np.int32
            _, offsets_buf, data_buf = arr.buffers()
            offsets = np.frombuffer(offsets_buf, dtype=kind)[arr.offset : arr.offset + len(arr) + 1]
            first, last = int(offsets[0]), int(offsets[-1])
            h.update(b"arrow-string:")
            h.update((offsets - first).astype("<i8").tobytes())
            h.update(memoryview(data_buf)[first:last] if data_buf is not None else b"")
            return
    h.update(b"pandas:")
    h.update(pd.util.hash_pandas_object(series, index=False).to_numpy().tobytes())


def prepare_replay(
    data: pd.DataFrame,
    arm_column: str,
    design: Design,
    *,
    arm: ArmLabel | None,
    function: str,
    full: bool = False,
) -> tuple[ReplaySetup, Structure]:
    """Validate the observed assignment against ``design`` and build the replay plan.

    With ``full`` (multi-arm designs), the whole design is replayed: every assigned cluster
    can be re-drawn into any arm (:class:`~fieldexp.design.replay.FullPlan`), which is valid
    under the sharp null that no arm other than ``arm`` has an effect. Inside
    :func:`shared_replays`, a replay already prepared on the same content is reused.
    """
    if not isinstance(design, Design):
        raise SpecificationError(
            f"The 'design' parameter of {function} must be a fieldexp.Design. "
            f"Got {type(design).__name__} instead."
        )
    shared = _SHARED
    if shared is None or not all(
        c is None or c in data.columns for c in (design.unit, design.blocks, design.clusters)
    ):
        return _prepare_replay(data, arm_column, design, arm=arm, function=function, full=full)
    try:
        codes = _arm_codes(data[arm_column], design, function=function)
    except FieldexpError:  # raised in the order of the unshared preparation
        return _prepare_replay(data, arm_column, design, arm=arm, function=function, full=full)
    key = replay_key(data, codes, design, arm=arm, full=full)
    hit = shared.get(key)
    if hit is None:
        hit = _prepare_replay(
            data, arm_column, design, arm=arm, function=function, full=full, codes=codes
        )
        for obj in (*hit, hit[0].plan):
            for name in obj.__slots__:
                value = getattr(obj, name)
                if isinstance(value, np.ndarray):
                    value.flags.writeable = False  # shared: no consumer may change it
        shared[key] = hit
    return hit


def _prepare_replay(
    data: pd.DataFrame,
    arm_column: str,
    design: Design,
    *,
    arm: ArmLabel | None,
    function: str,
    full: bool,
    codes: np.ndarray | None = None,
) -> tuple[ReplaySetup, Structure]:
    st = prepare(design, data)
    if codes is None:
        codes = _arm_codes(data[arm_column], design, function=function)
    ci = design.arm_labels.index(design.control)
    if arm is None:
        if len(design.arm_labels) != 2:
            raise SpecificationError(
                f"The 'arm' parameter of {function} is required for a design with "
                f"{len(design.arm_labels)} arms: name the arm compared with the control "
                f"({list(design.treatment_arms)!r})."
            )
        arm = design.treatment_arms[0]
    if arm not in design.arm_labels or arm == design.control:
        raise SpecificationError(
            f"The 'arm' parameter of {function} must be one of {list(design.treatment_arms)!r}. "
            f"Got {arm!r} instead."
        )
    ti = design.arm_labels.index(arm)
    # one arm per cluster
    ncl = st.n_clusters
    cmin = np.full(ncl, np.iinfo(np.int64).max)
    cmax = np.full(ncl, np.iinfo(np.int64).min)
    np.minimum.at(cmin, st.row_cluster, codes)
    np.maximum.at(cmax, st.row_cluster, codes)
    varying = cmin != cmax
    if varying.any():
        rows = data.index[varying[st.row_cluster]]
        raise DesignError(
            f"column {arm_column!r} (argument 'assignment' of {function}) varies within "
            f"clusters of {design.clusters!r}, but clusters are assigned whole: "
            f"{format_rows(rows[:5], total=len(rows))}."
        )
    cluster_code = cmin
    multi = len(design.arm_labels) > 2
    simple = design.scheme == "simple"
    full = full and multi
    in_set = (cluster_code >= 0) if full else (cluster_code == ci) | (cluster_code == ti)
    starts: list[int] = [0]
    support: list[tuple[tuple[int, Fraction], ...]] = []
    full_support: list[tuple[tuple[tuple[int, int], Fraction], ...] | None] = []
    full_probs: list[tuple[Fraction, Fraction] | None] = []
    coins: list[Fraction] = []
    keys: list[str] = []
    labels: list[object] = []
    order: list[np.ndarray] = []
    for b, label in enumerate(st.block_labels):
        lo, hi = int(st.block_starts[b]), int(st.block_starts[b + 1])
        codes_b = cluster_code[lo:hi]
        assigned = codes_b[codes_b >= 0]
        if len(assigned) == 0:
            continue
        n = len(assigned)
        observed = tuple(int((assigned == k).sum()) for k in range(len(design.arm_labels)))
        sel = np.arange(lo, hi)[in_set[lo:hi]]
        sup: tuple[tuple[int, Fraction], ...] = ()
        if full and simple:
            probs, _ = block_arm_fractions(design, label, n)
            assert probs is not None
            full_support.append(None)
            full_probs.append((probs[ti], probs[ci]))
        elif simple:
            # every count is possible; the clusters of the two arms are coin flips between them.
            # The engines flip each cluster directly; the binomial law of the count is only
            # needed to enumerate, which blocks of more than 64 clusters never allow (2^65).
            if len(sel) <= _ENUMERABLE_COIN_BLOCK:
                sup = tuple(
                    (m, p) for m, p in pair_support(design, label, len(sel), ti, ci) if p > 0
                )
            probs, _ = block_arm_fractions(design, label, n)
            assert probs is not None
            coins.append(probs[ti] / (probs[ti] + probs[ci]))
        else:
            full_dist = block_count_support(design, label, n)
            if not any(counts == observed and p > 0 for counts, p in full_dist):
                allowed = sorted({c for c, p in full_dist if p > 0})
                where = f"block {label!r}" if label is not None else "the sample"
                shown = [dict(zip(design.arm_labels, c, strict=True)) for c in allowed][:4]
                raise DesignError(
                    f"the assignment in {where} does not match the design: {n} assigned "
                    f"clusters with counts {dict(zip(design.arm_labels, observed, strict=True))!r}"
                    f", but the complete design allows only {shown!r}. Were assigned units "
                    "dropped, or was the assignment made another way? A coin-flip assignment "
                    "(each unit drawn independently, numbers per arm not fixed) needs "
                    "Design(..., scheme='simple')."
                )
            if full:
                pairs: dict[tuple[int, int], Fraction] = {}
                for counts, p in full_dist:
                    key = (counts[ti], counts[ci])
                    pairs[key] = pairs.get(key, Fraction(0)) + p
                full_support.append(tuple(sorted((k, p) for k, p in pairs.items() if p > 0)))
                full_probs.append(None)
            elif multi:
                sup = ((observed[ti], Fraction(1)),)
            else:
                agg: dict[int, Fraction] = {}
                for counts, p in full_dist:
                    agg[counts[ti]] = agg.get(counts[ti], Fraction(0)) + p
                sup = tuple(sorted((m, p) for m, p in agg.items() if p > 0))
        order.append(sel)
        starts.append(starts[-1] + len(sel))
        support.append(sup)
        keys.append(block_key(label))
        labels.append(label)
    set_clusters = np.concatenate(order) if order else np.zeros(0, dtype=np.int64)
    position = np.full(ncl, -1, dtype=np.int64)
    position[set_clusters] = np.arange(len(set_clusters))
    row_cluster = position[st.row_cluster]
    cluster_block = np.repeat(np.arange(len(support)), np.diff(starts))
    notes: list[str] = []
    n_out = int((codes < 0).sum())
    if n_out:
        notes.append(f"{n_out:,} rows with no arm (excluded from the randomisation) set aside")
    if full:
        notes.append(
            f"{len(design.arm_labels)}-arm design replayed whole: every cluster re-drawn into "
            f"any arm ({design.scheme} randomisation), under the sharp null that the arms other "
            f"than {arm!r} have no effect"
        )
    elif simple:
        notes.append(
            "simple randomisation: every cluster's arm is re-drawn by an independent coin flip "
            "with its block's probabilities"
            + (
                f" (between arm {arm!r} and control {design.control!r}; the other arms stay as "
                "assigned)"
                if multi
                else ""
            )
        )
    elif multi:
        notes.append(
            f"{len(design.arm_labels)}-arm design: arm {arm!r} vs control {design.control!r} is "
            "tested by re-randomising the units of these two arms within blocks, holding the "
            "observed counts fixed (the other arms stay as assigned)"
        )
    plan: ReplayPlan | FullPlan
    if full:
        plan = FullPlan(
            block_starts=np.asarray(starts, dtype=np.int64),
            block_keys=tuple(keys),
            support=tuple(full_support),
            probs=tuple(full_probs),
        )
    else:
        plan = ReplayPlan(
            block_starts=np.asarray(starts, dtype=np.int64),
            block_keys=tuple(keys),
            support=tuple(support),
            coin=tuple(coins) if simple else None,
        )
    set_codes = cluster_code[set_clusters]
    setup = ReplaySetup(
        plan=plan,
        row_cluster=row_cluster,
        z_cluster=(set_codes == ti).astype(np.float64),
        cluster_block=cluster_block,
        block_labels=tuple(labels),
        arm=arm,
        control=design.control,
        conditional=multi and not simple,
        ids_hash=ids_sha256(st.cluster_ids[set_clusters]) if len(set_clusters) else "",
        notes=tuple(notes),
        control_cluster=(set_codes == ci).astype(np.float64) if full else None,
    )
    return setup, st


def cluster_sums(row_cluster: np.ndarray, values: np.ndarray, n_clusters: int) -> np.ndarray:
    """Sum the columns of ``values`` (rows x k) by cluster (rows with cluster -1 ignored)."""
    keep = row_cluster >= 0
    out = np.zeros((n_clusters, values.shape[1]))
    for j in range(values.shape[1]):
        out[:, j] = np.bincount(row_cluster[keep], weights=values[keep, j], minlength=n_clusters)
    return out


def residualize(
    y: np.ndarray,
    X: np.ndarray,
    groups: np.ndarray,
    n_groups: int,
    w: np.ndarray | None = None,
) -> np.ndarray:
    """Residuals of ``y`` (n x k) on ``X`` and group (block) indicators (Frisch-Waugh),
    by weighted least squares when ``w`` is given."""
    wt = np.ones(len(groups)) if w is None else w

    def demean(a: np.ndarray) -> np.ndarray:
        cnt = np.bincount(groups, weights=wt, minlength=n_groups)
        cnt[cnt == 0] = 1.0
        out = np.empty_like(a)
        for j in range(a.shape[1]):
            means = np.bincount(groups, weights=wt * a[:, j], minlength=n_groups) / cnt
            out[:, j] = a[:, j] - means[groups]
        return out

    yd = demean(y)
    if X.shape[1] == 0:
        return yd
    Xd = demean(X)
    root = np.sqrt(wt)[:, None]
    beta, *_ = np.linalg.lstsq(Xd * root, yd * root, rcond=None)
    return yd - Xd @ beta


def observed_acc(setup: ReplaySetup, V: np.ndarray, reducer: Reducer, n_acc: int) -> np.ndarray:
    plan = setup.plan
    acc = np.zeros(n_acc)
    z = setup.z_cluster
    pair = setup.pair_cluster().astype(np.float64)
    for b in range(plan.n_blocks):
        lo, hi = int(plan.block_starts[b]), int(plan.block_starts[b + 1])
        Vb = V[lo:hi]
        s1 = (z[lo:hi] @ Vb)[None, :]
        acc += reducer(b, s1, pair[lo:hi] @ Vb)[0]
    return acc


def _grouped_bytes(types: tuple[tuple[np.ndarray, np.ndarray], ...], reps: int) -> int:
    """Memory of the grouped engine: (draws x distinct values) twice for the largest block."""
    return 16 * reps * _largest_colours(types)


def _largest_colours(types: tuple[tuple[np.ndarray, np.ndarray], ...]) -> int:
    return max((len(colors) for _, colors in types), default=0)


def _run_full(
    setup: ReplaySetup,
    plan: FullPlan,
    V: np.ndarray,
    reducer: Reducer,
    n_acc: int,
    *,
    reps: int,
    seed: int,
    engine: str,
    design: Design,
) -> tuple[np.ndarray, np.ndarray, bool, str, str | None]:
    n_assign = count_assignments_full(plan, min(max(reps, 1), _MAX_ENUMERATION))
    if engine == "exact" and n_assign is None:
        raise SpecificationError(
            f"engine='exact': there are more than {min(reps, _MAX_ENUMERATION):,} possible "
            "assignments of the whole design; raise reps or use engine='auto'"
        )
    if engine == "grouped":
        raise SpecificationError(
            "engine='grouped' cannot replay a whole multi-arm design; use 'dense' or 'auto'"
        )
    if n_assign is not None and engine in ("auto", "exact"):
        acc, prob = enumerate_draws_full(plan, V, reducer, n_acc)
        used = "exact"
    else:
        acc = replay_draws_full(plan, V, reducer, n_acc, reps=reps, seed=seed)
        prob = np.full(len(acc), 1.0 / len(acc))
        used = "dense"
    text = "|".join(
        [design.to_json(), str(seed), setup.ids_hash, repr(setup.arm), str(reps), used, "full"]
    )
    return acc, prob, used == "exact", used, hashlib.sha256(text.encode("utf-8")).hexdigest()


def run_replay(
    setup: ReplaySetup,
    V: np.ndarray,
    reducer: Reducer,
    n_acc: int,
    *,
    reps: int,
    seed: int,
    engine: str,
    design: Design,
) -> tuple[np.ndarray, np.ndarray, bool, str, str | None]:
    """Draws of the accumulators: ``(acc, weights, exact, engine, draw_key)``.

    ``engine="shared"``: every assignment enumerated when there are at most ``reps`` (as
    ``"auto"``), else the ``"dense"`` draws, which depend only on the design, the seed and
    the units, so statistics replayed on the same design share them (a report's randomisation
    inference, balance and heterogeneity tests; drawn once inside :func:`shared_replays`).
    """
    plan = setup.plan
    if engine == "shared" and isinstance(plan, FullPlan):
        engine = "auto"  # a whole multi-arm design: enumerated, else dense draws
    if isinstance(plan, FullPlan):
        return _run_full(
            setup, plan, V, reducer, n_acc, reps=reps, seed=seed, engine=engine, design=design
        )
    n_assign = count_assignments(plan, min(max(reps, 1), _MAX_ENUMERATION))
    if engine == "exact" and n_assign is None:
        raise SpecificationError(
            f"engine='exact': there are more than {min(reps, _MAX_ENUMERATION):,} possible "
            "assignments; raise reps or use engine='auto'"
        )
    if engine == "shared":
        engine = "auto" if n_assign is not None else "dense"
    if n_assign is not None and engine in ("auto", "exact"):
        acc, prob = enumerate_draws(plan, V, reducer, n_acc)
        used = "exact"
        exact = True
    else:
        # the distinct cluster rows of each block, found once (engine choice, memory, draws)
        types = block_types(plan, V) if engine in ("auto", "grouped") else None
        if engine == "auto":
            assert types is not None
            distinct = sum(len(colors) for _, colors in types)
            engine = "grouped" if distinct <= 0.25 * V.shape[0] else "dense"
            if engine == "grouped" and _grouped_bytes(types, reps) > memory_budget():
                engine = "dense"  # its chunks keep memory flat
        elif engine == "grouped":
            assert types is not None
            if _grouped_bytes(types, reps) > memory_budget():
                raise SpecificationError(
                    f"engine='grouped': {reps:,} draws of the largest block's "
                    f"{_largest_colours(types):,} distinct cluster values would need about "
                    f"{_gb(_grouped_bytes(types, reps))} of memory; use engine='dense' (memory "
                    "stays flat) or fewer reps"
                )
        acc = replay_draws(
            plan, V, reducer, n_acc, reps=reps, seed=seed, engine=engine, types=types
        )
        prob = np.full(len(acc), 1.0 / len(acc))
        used = engine
        exact = False
    key = None
    if used in ("dense", "exact"):
        text = "|".join(
            [design.to_json(), str(seed), setup.ids_hash, repr(setup.arm), str(reps), used]
        )
        key = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return acc, prob, exact, used, key


def f_reducer(q: int) -> Reducer:
    """Per-block accumulators of the randomisation F statistic: the arm's sums of the
    within-block covariates and :math:`n_1 - n_1^2/n_b` (balance's omnibus test)."""

    def reduce(b: int, S1: np.ndarray, T: np.ndarray) -> np.ndarray:
        n1 = S1[:, 0]
        nb = T[0]
        tss = n1 - n1 * n1 / nb if nb > 0 else np.zeros_like(n1)
        return np.column_stack([S1[:, 1 : q + 1], tss])

    return reduce


def omnibus_f_test(
    setup: ReplaySetup,
    V: np.ndarray,
    Minv: np.ndarray,
    *,
    q: int,
    n_units: int,
    n_blocks: int,
    arm: object,
    reps: int,
    seed: int,
    engine: str,
    design: Design,
) -> TestResult:
    """Randomisation F test that covariates are jointly unrelated to assignment to ``arm``.

    ``V`` holds per-cluster sums ``[1, x̃]`` of the within-block covariates ``x̃`` and
    ``Minv`` the pseudo-inverse of ``X̃'X̃`` (rank ``q``). With ``s`` the arm's sums of
    ``x̃`` and ``TSS = Σ_b (n_1b - n_1b²/n_b)``,

    .. math:: F = \\frac{s' M^{+} s / q}{(TSS - s' M^{+} s) / (N - B - q)},

    replayed over the design's assignments; the p-value is the (probability-weighted) share of
    draws with ``F ≥ F_obs``. Shared by the DataFrame and the engine balance.
    """
    k = Minv.shape[0]
    reducer = f_reducer(k)
    n_acc = k + 1
    obs = observed_acc(setup, V, reducer, n_acc)
    acc, prob, exact, used_engine, _key = run_replay(
        setup, V, reducer, n_acc, reps=reps, seed=seed, engine=engine, design=design
    )
    df2 = n_units - n_blocks - q

    def f_stat(a: np.ndarray) -> np.ndarray:
        s = a[..., :k]
        tss = a[..., k]
        ess = np.einsum("...i,ij,...j->...", s, Minv, s)
        with np.errstate(divide="ignore", invalid="ignore"):
            return (ess / q) / ((tss - ess) / df2)

    f_obs = float(f_stat(obs))
    f_draws = f_stat(acc)
    ok = np.isfinite(f_draws)
    hit = f_draws >= f_obs - 1e-9 * (1 + abs(f_obs))
    p = float(prob[ok & hit].sum() / prob[ok].sum())
    return TestResult(
        statistic=f_obs,
        df=(float(q), float(df2)),
        p_value=p,
        distribution="randomization",
        hypothesis=f"covariates jointly unrelated to assignment to arm {arm!r}",
        method=f"randomisation F test ({used_engine})",
        p_value_se=0.0 if exact else math.sqrt(p * (1 - p) / len(f_draws)),
        reps=len(f_draws),
        exact=exact,
        legacy=(
            ("arm", arm),
            ("f_statistic", f_obs),
            ("df1", q),
            ("df2", df2),
            ("engine", used_engine),
        ),
    )
