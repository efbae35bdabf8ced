"""Work once per distinct value of a text column, then spread the results to the rows.

A file column of a million rows holds a few codes, a few thousand dates, two digits: the
readers parse, look up and check each **distinct** value once. :func:`distinct` encodes an
Arrow-backed text column (what the readers hold) with Arrow's hash kernel, without a Python
object per row; :func:`spread` takes a result computed on the distinct values back to the
rows. For an elementwise computation the rows get exactly the values (and the dtype) that
computing on the rows gives: the distinct values are the same set, in order of first
appearance, missing values included as one entry of their own.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

__all__ = ["Distinct", "arrow_text", "distinct", "spread", "text_column"]

#: below this many rows the plain pandas code is as fast
MIN_ROWS = 4096


def arrow_text(values: pd.Series) -> pa.ChunkedArray | None:
    """The Arrow array of a pandas text column backed by Arrow (``str`` dtype), else None."""
    dtype = values.dtype
    if not isinstance(dtype, pd.StringDtype) or dtype.storage != "pyarrow":
        return None
    arr = values.array.__arrow_array__()
    if isinstance(arr, pa.Array):
        arr = pa.chunked_array([arr])
    if not (pa.types.is_large_string(arr.type) or pa.types.is_string(arr.type)):
        return None
    return arr


@dataclass(frozen=True, slots=True)
class Distinct:
    """The distinct values of a column (``uniques``: a ``str`` Series, missing values one
    entry) in order of first appearance, and per row the position of its value (``codes``)."""

    codes: np.ndarray
    uniques: pd.Series

    @property
    def has_missing(self) -> bool:
        return bool(self.uniques.isna().any())


def distinct(values: pd.Series, *, min_rows: int | None = None) -> Distinct | None:
    """:class:`Distinct` of an Arrow-backed text column of at least ``min_rows`` rows
    (default :data:`MIN_ROWS`), else None (the caller then works on the rows)."""
    if len(values) < (MIN_ROWS if min_rows is None else min_rows):
        return None
    arr = arrow_text(values)
    if arr is None:
        return None
    encoded = arr.dictionary_encode(null_encoding="encode").combine_chunks()
    codes = encoded.indices.to_numpy(zero_copy_only=False).astype(np.intp, copy=False)
    uniques = pd.Series(pd.array(encoded.dictionary, dtype=values.dtype), dtype=values.dtype)
    return Distinct(codes, uniques)


def spread(result: pd.Series, d: Distinct, index: pd.Index, name: object = None) -> pd.Series:
    """``result`` (one value per distinct value) taken to the rows, with the rows' index."""
    out = result.take(d.codes)
    out.index = index
    out.name = name
    return out


def text_column(values: np.ndarray, positions: np.ndarray, index: pd.Index) -> pd.Series:
    """``pd.Series(values[positions], index=index).astype("str")`` for an object array of a
    few values: each value converted to text once (missing stays missing), then taken."""
    u = pd.Series(values, dtype=object)
    isna = u.isna().to_numpy()
    texts = u.astype("str")
    if isna.any():
        texts = texts.where(~isna, None)
    texts = texts.astype("str")
    arr = arrow_text(texts)
    if arr is None:  # pragma: no cover - the str dtype is Arrow-backed
        return pd.Series(values[positions], index=index, dtype=object).astype("str")
    taken = arr.combine_chunks().take(pa.array(positions))
    return pd.Series(pd.array(taken, dtype=texts.dtype), index=index, dtype=texts.dtype)


def unique_rows(*columns: pd.Series) -> bool | None:
    """True when no two rows hold the same values in all ``columns`` (missing equals
    missing, as in ``DataFrame.duplicated``); None when a column is not Arrow text or is
    short (the caller then asks pandas)."""
    key: np.ndarray | None = None
    size = 1
    for col in columns:
        d = distinct(col)
        if d is None:
            return None
        n = len(d.uniques)
        if key is None:
            key = d.codes.astype(np.int64)
        else:
            if size * n >= 2**62:  # pragma: no cover - more distinct pairs than int64 holds
                return None
            key = key * n + d.codes
        size *= n
    if key is None:
        return None
    if size <= 4 * len(key) + 1024:
        return bool(np.bincount(key, minlength=1).max(initial=0) <= 1)
    return bool(len(pd.unique(key)) == len(key))
