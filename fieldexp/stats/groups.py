"""Integer-coded groupings (blocks, clusters, fixed effects) and group sums.

Everything downstream works on dense codes ``0..G-1``; sums over groups use
``np.bincount``, the cheapest scatter-add numpy offers, so cluster totals of a
5M-row table take milliseconds.
"""

from __future__ import annotations

import weakref
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["GroupIndex", "factorize", "group_sums", "group_totals", "segment_starts"]


@dataclass(frozen=True, slots=True, eq=False)
class GroupIndex:
    """Dense integer codes for a grouping of ``n`` rows into ``n_groups`` groups.

    Attributes
    ----------
    codes : ndarray of int64, shape (n,)
        Group of each row, ``0 .. n_groups - 1`` (in order of first appearance).
    n_groups : int
    counts : ndarray of int64, shape (n_groups,)
        Rows per group.
    """

    codes: np.ndarray
    n_groups: int
    counts: np.ndarray

    @property
    def n(self) -> int:
        return int(self.codes.shape[0])

    def sums(self, values: np.ndarray) -> np.ndarray:
        """Group sums of a vector ``(n,)`` or of each column of a matrix ``(n, k)``."""
        return group_sums(self.codes, values, self.n_groups)

    def subset(self, mask: np.ndarray) -> GroupIndex:
        """The grouping restricted to ``mask`` rows, re-coded densely."""
        return from_codes(self.codes[mask])


def from_codes(codes: np.ndarray) -> GroupIndex:
    """Re-code arbitrary non-negative integer codes densely (order preserved)."""
    uniq, dense = np.unique(codes, return_inverse=True)
    dense = dense.astype(np.int64, copy=False)
    counts = np.bincount(dense, minlength=uniq.shape[0]).astype(np.int64)
    return GroupIndex(codes=dense, n_groups=int(uniq.shape[0]), counts=counts)


#: Arrow columns factorized lately: id of the (immutable) ``pyarrow.ChunkedArray`` -> a weak
#: reference to it and its codes (see :func:`factorize`)
_ARROW_CODES: OrderedDict[int, tuple[weakref.ref, GroupIndex]] = OrderedDict()
#: how many Arrow columns :data:`_ARROW_CODES` remembers
ARROW_CACHE_SIZE = 16


def arrow_text(values: object) -> object | None:
    """The ``pyarrow.ChunkedArray`` behind a pandas text column (``str`` / ``string[pyarrow]``
    Series, Index or array) without missing values, else ``None``."""
    arr = getattr(values, "array", values)
    chunked = getattr(arr, "_pa_array", None)
    if chunked is None:
        return None
    import pyarrow as pa

    if chunked.type not in (pa.string(), pa.large_string()) or chunked.null_count:
        return None
    return chunked


def run_heads(arr: Any) -> np.ndarray:
    """Positions where an Arrow array's value differs from the previous row's (the first row
    always; a missing value always starts a run): a table sorted by voter lists each voter's
    rows in one run, so work on the run heads stands for the whole column."""
    import pyarrow.compute as pc

    n = len(arr)
    if n < 2:
        return np.arange(n, dtype=np.int64)
    change = pc.not_equal(arr.slice(1), arr.slice(0, n - 1)).fill_null(True)
    mask = np.empty(n, dtype=bool)
    mask[0] = True
    mask[1:] = np.asarray(change)
    return np.flatnonzero(mask)


def arrow_text_of(obj: object) -> Any:
    """The Arrow array behind a pandas text column / index (one chunk, ``large_string``), or
    ``None``."""
    chunked = getattr(getattr(obj, "array", None), "_pa_array", None)
    if chunked is None:
        return None
    import pyarrow as pa

    if chunked.type not in (pa.string(), pa.large_string()):
        return None
    if chunked.type != pa.large_string():
        chunked = chunked.cast(pa.large_string())
    return chunked.chunk(0) if chunked.num_chunks == 1 else chunked.combine_chunks()


def arrow_positions(keys: object, values: object) -> np.ndarray | None:
    """Position of each of ``values`` in the unique labels ``keys`` (-1 when absent) when both
    are Arrow text (pandas' ``str`` dtype), else ``None``.

    ``pyarrow.compute.index_in``, without converting ids to Python strings (missing values
    match missing values): ``values`` equal to ``keys`` row for row are their positions
    ``0..n-1`` outright, and runs of equal values (a vote history sorted by voter) are
    looked up once per run.
    """
    ka, va = arrow_text_of(keys), arrow_text_of(values)
    if ka is None or va is None:
        return None
    import pyarrow as pa
    import pyarrow.compute as pc

    n = len(va)
    if len(ka) == n and ka.null_count == 0 and ka.equals(va):
        return np.arange(n, dtype=np.int64)
    heads = run_heads(va)
    if len(heads) < n:
        hv = va.take(pa.array(heads))
        if len(hv) == len(ka) and ka.null_count == 0 and ka.equals(hv):
            at = np.arange(len(hv), dtype=np.int64)
        else:
            found = pc.index_in(hv, value_set=ka)
            at = np.asarray(found.fill_null(-1).to_numpy(), dtype=np.int64)
        return np.repeat(at, np.diff(np.append(heads, n)))
    found = pc.index_in(va, value_set=ka)
    return np.asarray(found.fill_null(-1).to_numpy(), dtype=np.int64)


def strictly_increasing(arr: Any) -> bool:
    """Whether an Arrow array has no missing value and each value sorts after the previous
    (then its values are distinct)."""
    import pyarrow.compute as pc

    n = len(arr)
    if arr.null_count:
        return False
    return n < 2 or bool(pc.all(pc.greater(arr.slice(1), arr.slice(0, n - 1))).as_py())


def _forget(key: int, ref: weakref.ref) -> None:
    hit = _ARROW_CODES.get(key)
    if hit is not None and hit[0] is ref:
        _ARROW_CODES.pop(key, None)


def _factorize_arrow(chunked: object) -> GroupIndex:
    """Codes of an Arrow text column by ``dictionary_encode`` (hashing in Arrow, no Python
    strings) of its runs of equal labels (:func:`run_heads`; none when the labels are sorted),
    in order of first appearance as ``pandas.factorize``; remembered for the
    column's lifetime. Arrow arrays are immutable (pandas replaces the array when a column
    is edited), so the same array object always has the same codes; the returned arrays are
    read-only since later calls share them."""
    key = id(chunked)
    hit = _ARROW_CODES.get(key)
    if hit is not None and hit[0]() is chunked:
        _ARROW_CODES.move_to_end(key)
        return hit[1]
    import pyarrow as pa

    assert isinstance(chunked, pa.ChunkedArray)
    arr = chunked.chunk(0) if chunked.num_chunks == 1 else chunked.combine_chunks()
    n = len(arr)
    heads = run_heads(arr)
    lengths = np.diff(np.append(heads, n))
    head_values = arr.take(pa.array(heads)) if len(heads) < n else arr
    if strictly_increasing(head_values):  # sorted labels: one run per label, no hashing
        n_groups = len(heads)
        codes = np.repeat(np.arange(n_groups, dtype=np.int64), lengths)
        counts = lengths.astype(np.int64)
    else:  # runs of a label (a voter-major panel) are encoded once
        encoded = head_values.dictionary_encode()
        n_groups = len(encoded.dictionary)
        codes = np.repeat(np.asarray(encoded.indices).astype(np.int64), lengths)
        counts = np.bincount(codes, minlength=n_groups).astype(np.int64)
    codes.flags.writeable = False
    counts.flags.writeable = False
    out = GroupIndex(codes=codes, n_groups=n_groups, counts=counts)
    # forgotten as soon as the column is (no codes kept for a dead column)
    _ARROW_CODES[key] = (weakref.ref(chunked, lambda _ref: _forget(key, _ref)), out)
    while len(_ARROW_CODES) > ARROW_CACHE_SIZE:
        _ARROW_CODES.popitem(last=False)
    return out


def factorize(values: object) -> GroupIndex:
    """Dense codes for the labels in ``values`` (any 1-d array-like without missing values).

    Integer labels in a compact range (household or precinct numbers) are coded by direct
    addressing, without hashing; Arrow-backed text columns (pandas' ``str`` dtype) by
    Arrow's ``dictionary_encode``, once per column (:func:`_factorize_arrow`); other labels
    by ``pandas.factorize``. Codes follow the order of first appearance in every case but
    the integer one.
    """
    chunked = arrow_text(values)
    if chunked is not None:
        return _factorize_arrow(chunked)
    arr = values.to_numpy() if isinstance(values, pd.Series) else np.asarray(values)
    if arr.dtype.kind in "iu" and arr.size:
        lo, hi = int(arr.min()), int(arr.max())
        span = hi - lo + 1
        if span <= 2 * arr.size + 1024:
            # subtract in int64: small integer dtypes (int8, int16) would overflow
            offset = (arr.astype(np.int64, copy=False) - lo).astype(np.intp, copy=False)
            counts_all = np.bincount(offset, minlength=span)
            present = counts_all > 0
            if bool(present.all()):  # every label in lo..hi occurs: the offsets are the codes
                codes = offset.astype(np.int64, copy=False)
                counts = counts_all.astype(np.int64, copy=False)
                return GroupIndex(codes=codes, n_groups=span, counts=counts)
            remap = np.cumsum(present) - 1
            codes = remap[offset].astype(np.int64, copy=False)
            counts = counts_all[present].astype(np.int64, copy=False)
            return GroupIndex(codes=codes, n_groups=int(counts.shape[0]), counts=counts)
    # order of first appearance: hashing only, no sort (codes need not follow label order)
    codes, uniques = pd.factorize(arr, sort=False)
    codes = np.asarray(codes, dtype=np.int64)
    n_groups = len(uniques)
    counts = np.bincount(codes, minlength=n_groups).astype(np.int64)
    return GroupIndex(codes=codes, n_groups=n_groups, counts=counts)


#: groups must average this many rows for :func:`segment_starts` to use contiguous segments
MIN_SEGMENT = 32


def segment_starts(g: GroupIndex) -> np.ndarray | None:
    """First row of each group when the rows are sorted by group (codes non-decreasing, no
    empty group), else ``None``.

    Voter files usually come sorted by precinct and household. On sorted codes
    ``np.bincount`` adds long runs into the same bin, one dependent addition after another
    (4 ms per 1M-row column for 1,000 precincts); ``np.add.reduceat`` over the contiguous
    segments sums the same rows in the same groups, several columns at once, in a fraction of
    that. The sums are the same up to rounding (each is a sum of the same numbers). Small
    groups (households of two) stay with ``np.bincount``, which is then the faster: ``None``
    unless groups average at least :data:`MIN_SEGMENT` rows.
    """
    codes = g.codes
    n = codes.shape[0]
    if n < MIN_SEGMENT * max(g.n_groups, 1) or int(codes[0]) != 0:
        return None
    if int(codes[-1]) != g.n_groups - 1:
        return None
    if not bool(np.all(g.counts > 0)):
        return None
    if n > 1 and not bool(np.all(codes[1:] >= codes[:-1])):
        return None
    starts = np.zeros(g.n_groups, dtype=np.intp)
    np.cumsum(g.counts[:-1], out=starts[1:])
    return starts


def group_totals(g: GroupIndex, values: np.ndarray) -> np.ndarray:
    """Sums of a vector ``values`` (n,) by the groups of ``g``: ``np.bincount``, or
    ``np.add.reduceat`` over contiguous segments when the rows are sorted into large groups
    (:func:`segment_starts`)."""
    starts = segment_starts(g)
    if starts is None:
        return np.bincount(g.codes, weights=values, minlength=g.n_groups)
    return np.add.reduceat(np.asarray(values, dtype=np.float64), starts)


def group_sums(codes: np.ndarray, values: np.ndarray, n_groups: int) -> np.ndarray:
    """Sums of ``values`` by group.

    Parameters
    ----------
    codes : ndarray (n,)
        Dense group codes.
    values : ndarray (n,) or (n, k)
    n_groups : int

    Returns
    -------
    ndarray (n_groups,) or (n_groups, k)
    """
    if values.ndim == 1:
        return np.bincount(codes, weights=values, minlength=n_groups)
    out = np.empty((n_groups, values.shape[1]), dtype=np.float64, order="F")
    for j in range(values.shape[1]):
        out[:, j] = np.bincount(codes, weights=values[:, j], minlength=n_groups)
    return out
