"""Period labels and their order: what the DiD estimators need to know about ``time``.

Two-way fixed effects need no order: periods are only absorbed, so any label works ("2011Q1",
"2022 general", dates as text). Event studies and Callaway-Sant'Anna need an order, to count
periods since treatment and to tell pre- from post-periods. They accept

* numbers (years, election numbers): used as they are, event time is ``time - cohort``;
* dates (``datetime64``) or an ordered categorical: periods are ranked 1..K;
* any labels with ``time_order=[...]`` listing the periods first to last: ranked 1..K.

Text without an order is refused with a message saying which of these to use.
Ranked periods count elections (or quarters...), not calendar time: event time ``-1`` is the
period before the cohort's first treated period.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from fieldexp.errors import DataError, SpecificationError, format_rows

__all__ = ["PeriodOrder", "order_periods", "period_kind"]


@dataclass(frozen=True, slots=True)
class PeriodOrder:
    """How ``time`` was ordered: ``kind`` is ``"numeric"`` (values used as they are) or
    ``"ranked"`` (``labels[k - 1]`` is period ``k``)."""

    kind: str
    labels: tuple[object, ...] = ()
    source: str = ""

    def note(self, time: str) -> tuple[str, ...]:
        if self.kind == "numeric":
            return ()
        shown = ", ".join(f"{k}={_show(v)}" for k, v in enumerate(self.labels[:6], start=1))
        more = f", ... ({len(self.labels)} periods)" if len(self.labels) > 6 else ""
        return (f"periods of {time!r} ranked by {self.source}: {shown}{more}",)


def _show(value: object) -> str:
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat() if value == value.normalize() else value.isoformat()
    return repr(value) if isinstance(value, str) else str(value)


def period_kind(series: pd.Series, time_order: Sequence[Hashable] | None) -> str:
    """``"numeric"``, ``"dates"``, ``"ordered"`` (categorical or ``time_order``) or ``"text"``."""
    if time_order is not None:
        return "ordered"
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return "ordered" if dtype.ordered else "text"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "dates"
    if pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_numeric_dtype(dtype):
        return "numeric"
    return "text"


def _check_order(time_order: object, function: str) -> list[Hashable]:
    if isinstance(time_order, str | bytes) or not isinstance(time_order, Sequence | pd.Index):
        raise SpecificationError(
            f"The 'time_order' parameter of {function} must be a list of the period labels, "
            f"first to last. Got {time_order!r} instead."
        )
    order = list(time_order)
    if not order:
        raise SpecificationError(f"The 'time_order' parameter of {function} is empty.")
    seen: set[object] = set()
    dup = [v for v in order if v in seen or seen.add(v)]  # type: ignore[func-returns-value]
    if dup:
        raise SpecificationError(
            f"The 'time_order' parameter of {function} lists {dup[0]!r} twice; each period "
            "appears once."
        )
    return order


def order_periods(
    data: pd.DataFrame,
    time: str,
    cohort: str | None,
    *,
    time_order: Sequence[Hashable] | None,
    function: str,
) -> tuple[pd.DataFrame, PeriodOrder]:
    """Return ``data`` with ``time`` (and ``cohort``) as numbers the estimators can order.

    Numeric ``time`` without ``time_order`` is returned unchanged (the caller's frame itself).
    Otherwise a new frame (the caller's is never modified) holds the rank of every period
    (1..K, missing stays missing) and the rank of every cohort (0 = never treated: missing or 0).

    Raises
    ------
    DataError
        Text labels without an order; a time value missing from ``time_order``; a cohort value
        that is not one of the periods.
    """
    series = data[time]
    kind = period_kind(series, time_order)
    if kind == "numeric":
        return data, PeriodOrder("numeric")
    if kind == "text":
        values = pd.unique(series.dropna())[:4]
        shown = ", ".join(repr(v) for v in values)
        what = (
            "an unordered categorical"
            if isinstance(series.dtype, pd.CategoricalDtype)
            else f"text labels ({shown}{', ...' if series.nunique() > 4 else ''})"
        )
        raise DataError(
            f"time column {time!r} ({function}) holds {what} whose order fieldexp cannot tell, "
            "and this estimator needs the order of periods. Pass time_order=[...] listing the "
            "periods first to last, make the column an ordered categorical, or use sortable "
            "values: numbers (years, election numbers) or dates (pandas.to_datetime)."
        )
    if kind == "dates":
        labels: list[Hashable] = sorted(pd.unique(series.dropna()))
        source = "date"
    elif time_order is not None:
        labels = _check_order(time_order, function)
        source = "time_order"
    else:
        labels = list(series.cat.categories)
        source = "the ordered categories"
    rank = {label: float(k) for k, label in enumerate(labels, start=1)}
    plain = series.astype(object) if isinstance(series.dtype, pd.CategoricalDtype) else series
    missing = plain.isna().to_numpy()
    t = plain.map(rank).to_numpy(dtype=float, na_value=np.nan)
    unknown = np.isnan(t) & ~missing
    if unknown.any():
        bad = data.index[unknown]
        found = ", ".join(repr(v) for v in pd.unique(plain[unknown])[:5])
        raise DataError(
            f"time column {time!r} ({function}) has values not listed in time_order: {found} "
            f"in {format_rows(bad[:5], total=len(bad))}. List every period in time_order."
        )
    out = data.assign(**{time: t})
    if cohort is not None and cohort in data.columns:
        out[cohort] = _cohort_ranks(data[cohort], rank, kind, cohort=cohort, function=function)
    return out, PeriodOrder("ranked", tuple(labels), source)


def _cohort_ranks(
    series: pd.Series, rank: dict[Hashable, float], kind: str, *, cohort: str, function: str
) -> np.ndarray:
    plain = series.astype(object) if isinstance(series.dtype, pd.CategoricalDtype) else series
    never = plain.isna().to_numpy() | np.array([_is_zero(v) for v in plain], dtype=bool)
    if kind == "dates" and not pd.api.types.is_datetime64_any_dtype(plain.dtype):
        converted = pd.to_datetime(plain.where(~never), errors="coerce")
        if pd.api.types.is_datetime64_any_dtype(converted.dtype):
            plain = converted.where(~never)
    g = plain.map(rank).to_numpy(dtype=float, na_value=np.nan)
    unknown = np.isnan(g) & ~never
    if unknown.any():
        bad = series.index[unknown]
        found = ", ".join(_show(v) for v in pd.unique(plain[unknown])[:5])
        raise DataError(
            f"cohort column {cohort!r} ({function}) must hold the first treated period, one of "
            f"the periods of the time column (or 0/missing for never treated); found {found} "
            f"in {format_rows(bad[:5], total=len(bad))}."
        )
    return np.where(never, 0.0, g)


def _is_zero(value: object) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        return False
    return float(value) == 0.0
