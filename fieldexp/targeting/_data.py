"""Shared preparation for targeting: validated arrays, design propensities, id-keyed folds.

Everything random here is keyed to the *sorted unique* cluster (or unit) labels, never to row
positions, so shuffling the input rows changes no score, fold or standard error.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from fieldexp._validate import check_binary, check_columns, check_frame, drop_missing, numeric
from fieldexp.errors import (
    ColumnNotFoundError,
    DataError,
    SpecificationError,
    did_you_mean,
    format_rows,
)

__all__ = ["TargetingData", "block_halves", "id_folds", "prepare_targeting"]

# purpose tags mixed into every seed, so the streams of folds, half-samples and nuisance splits
# never coincide with each other or with a stream the caller drew from the same integer seed
_FOLDS, _HALVES, _NUISANCE = 0x5F01D, 0x4A1F, 0x0C5F17


@dataclass(frozen=True, slots=True)
class TargetingData:
    """Arrays for one targeting fit, aligned to ``index`` (the rows kept, in input order).

    ``cluster`` and ``block`` are integer codes of the sorted unique labels, so every draw keyed
    to them is independent of row order. ``propensity`` is the design probability of assignment:
    the share assigned in the unit's block (complete randomisation within blocks).
    """

    index: pd.Index
    y: np.ndarray
    z: np.ndarray
    d: np.ndarray | None
    block: np.ndarray
    cluster: np.ndarray
    propensity: np.ndarray
    n_blocks: int
    n_clusters: int


def _codes(values: pd.Series) -> tuple[np.ndarray, int]:
    codes, uniques = pd.factorize(values, sort=True)
    return codes.astype(np.int64), len(uniques)


def prepare_targeting(
    data: pd.DataFrame,
    *,
    outcome: str,
    assignment: str,
    treatment: str | None,
    blocks: str | None,
    clusters: str | None,
    extra: Sequence[str] = (),
    function: str,
) -> TargetingData:
    """Validate the columns, drop rows with missing values (warned and counted), build codes."""
    frame = check_frame(data, function=function)
    roles: dict[str, str | None] = {
        "outcome": outcome,
        "assignment": assignment,
        "treatment": treatment,
        "blocks": blocks,
        "clusters": clusters,
    }
    check_columns(frame, roles, function=function)
    for column in extra:
        if column not in frame.columns:
            raise ColumnNotFoundError(
                f"column {column!r} (of {function}) is not in the data."
                f"{did_you_mean(column, [str(c) for c in frame.columns])}"
            )
    used = [c for c in [outcome, assignment, treatment, blocks, clusters, *extra] if c is not None]
    frame, _ = drop_missing(frame, list(dict.fromkeys(used)), function=function)
    y = numeric(frame[outcome], argument="outcome", function=function)
    z = check_binary(frame[assignment], argument="assignment", function=function)
    d = (
        check_binary(frame[treatment], argument="treatment", function=function)
        if treatment is not None
        else None
    )
    if blocks is not None:
        block, n_blocks = _codes(frame[blocks])
    else:
        block, n_blocks = np.zeros(len(frame), dtype=np.int64), 1
    if clusters is not None:
        cluster, n_clusters = _codes(frame[clusters])
        # assignment must be constant within a cluster (clusters are units of assignment)
        zc = pd.Series(z).groupby(cluster).agg(["min", "max"])
        varying = zc.index[zc["min"] != zc["max"]]
        if len(varying):
            rows = frame.index[np.isin(cluster, varying)]
            raise DataError(
                f"column {assignment!r} (argument 'assignment') of {function} must be constant "
                f"within each cluster of {clusters!r} (folds and half-samples keep clusters "
                f"whole); it varies in rows {format_rows(rows)}."
            )
    else:
        # each row its own cluster, keyed to its index label (not its position) when labels
        # are unique, so draws follow the voter whatever the row order
        if frame.index.is_unique:
            cluster, n_clusters = _codes(pd.Series(frame.index))
        else:
            cluster, n_clusters = np.arange(len(frame), dtype=np.int64), len(frame)
    n_b = np.bincount(block, minlength=n_blocks).astype(float)
    t_b = np.bincount(block, weights=z, minlength=n_blocks)
    share = t_b / n_b
    bad_blocks = np.flatnonzero((share <= 0) | (share >= 1))
    if len(bad_blocks):
        rows = frame.index[np.isin(block, bad_blocks)]
        raise DataError(
            f"every block must hold assigned and unassigned units for {function} (the design "
            f"propensity must lie strictly between 0 and 1); {len(bad_blocks)} block(s) do not, "
            f"rows {format_rows(rows)}. Drop those blocks or merge them with a neighbour."
        )
    return TargetingData(
        index=frame.index,
        y=y.astype(float),
        z=z.astype(float),
        d=None if d is None else d.astype(float),
        block=block,
        cluster=cluster,
        propensity=share[block],
        n_blocks=n_blocks,
        n_clusters=n_clusters,
    )


def _cluster_blocks(t: TargetingData) -> np.ndarray:
    """Block code of every cluster (clusters are nested in blocks, else the first block seen)."""
    out = np.zeros(t.n_clusters, dtype=np.int64)
    out[t.cluster] = t.block
    return out


def id_folds(t: TargetingData, folds: int, seed: int) -> np.ndarray:
    """Fold of every row: whole clusters, dealt round-robin within each block in a seeded order.

    Clusters are ordered by a seeded permutation of their sorted labels, then dealt to folds
    ``0, 1, ..., folds-1, 0, ...`` within each block, so each fold holds about ``1/folds`` of
    every block and the folds do not depend on row order.
    """
    if not isinstance(folds, (int, np.integer)) or isinstance(folds, bool) or folds < 2:
        raise SpecificationError(
            f"The 'folds' parameter must be an integer >= 2. Got {folds!r} instead."
        )
    if t.n_clusters < folds:
        raise DataError(
            f"cross-fitting needs at least as many clusters as folds; found {t.n_clusters} "
            f"cluster(s) for folds={folds}."
        )
    rng = np.random.default_rng([int(seed), _FOLDS])
    key = rng.random(t.n_clusters)
    cb = _cluster_blocks(t)
    order = np.lexsort((key, cb))
    rank_in_block = np.empty(t.n_clusters, dtype=np.int64)
    starts = np.r_[0, np.flatnonzero(np.diff(cb[order])) + 1]
    counts = np.diff(np.r_[starts, t.n_clusters])
    rank_in_block[order] = np.arange(t.n_clusters) - np.repeat(starts, counts)
    # offset each block's deal by a seeded amount so small blocks do not all start at fold 0
    offset = rng.integers(0, folds, size=t.n_blocks)
    fold_of_cluster = (rank_in_block + offset[cb]) % folds
    return fold_of_cluster[t.cluster]


def block_halves(t: TargetingData, reps: int, seed: int) -> list[np.ndarray]:
    """Half-samples of whole clusters within blocks (grf's clustered half-sampling).

    Each draw keeps ``floor(G_b / 2)`` or ``ceil(G_b / 2)`` (seeded) of the ``G_b`` clusters of
    every block, without replacement; returns one boolean row mask per draw.
    """
    rng = np.random.default_rng([int(seed), _HALVES])
    cb = _cluster_blocks(t)
    g_b = np.bincount(cb, minlength=t.n_blocks)
    masks = []
    for _ in range(reps):
        key = rng.random(t.n_clusters)
        extra = rng.random(t.n_blocks) < 0.5
        keep_n = g_b // 2 + ((g_b % 2 == 1) & extra)
        order = np.lexsort((key, cb))
        starts = np.r_[0, np.cumsum(g_b)[:-1]]
        rank = np.empty(t.n_clusters, dtype=np.int64)
        rank[order] = np.arange(t.n_clusters) - np.repeat(starts, g_b)
        keep_cluster = rank < keep_n[cb]
        masks.append(keep_cluster[t.cluster])
    return masks
