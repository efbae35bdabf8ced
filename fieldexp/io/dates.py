"""Dates in US and French files: day-first or month-first, and time-zone offsets.

``03/04/2024`` is 4 March in a US export and 3 April in a French one. The readers decide
from the data when they can: a value whose first number exceeds 12 can only be
day-first, one whose second number does can only be month-first. When every value fits
both readings (no day above 12), the column is **ambiguous**: the reader warns
(:class:`AmbiguousDateWarning`) and takes the layout's documented convention
(``month_first`` for US layouts, ``day_first`` for French ones). A stated
``date_format`` option always wins.

Timestamps carrying UTC offsets (``2024-11-03T01:30:00-04:00`` then ``-05:00`` after
the daylight-saving change) are converted to UTC and stored naive.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from fieldexp.errors import FieldexpWarning
from fieldexp.io._text import DATE_FORMATS, parse_dates

__all__ = ["AmbiguousDateWarning", "date_order", "parse_layout_dates"]

Convention = Literal["month_first", "day_first"]

_SLASH = re.compile(r"^\s*(\d{1,2})[/.-](\d{1,2})[/.-](\d{2,4})\b")

#: Extra formats beyond the shared list: fractional seconds with offsets or Z.
_EXTRA = (
    "%Y-%m-%dT%H:%M:%S.%f%z",
    "%Y-%m-%dT%H:%M:%S.%fZ",
    "%Y-%m-%dT%H:%M:%S.%f",
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "ISO8601",  # last resort: any ISO 8601 mix (fractional seconds, Z and offsets)
)


class AmbiguousDateWarning(FieldexpWarning):
    """Every date fits both day-first and month-first; the layout's convention was used."""


def date_order(values: pd.Series) -> Literal["day_first", "month_first", "ambiguous", "none"]:
    """Which order ``NN/NN/YYYY`` dates are in, judged from the data.

    ``day_first`` when some first number exceeds 12 (and no second number does),
    ``month_first`` in the mirror case, ``ambiguous`` when all fit both (or the data
    contradict each other, which the parser then reports as mixed formats), ``none``
    when no value looks like ``NN/NN/YYYY``.
    """
    _, m = _slash_dates(values)
    if m.empty:
        return "none"
    a = m[0].astype(int)
    b = m[1].astype(int)
    first_big = bool((a > 12).any())
    second_big = bool((b > 12).any())
    if first_big and not second_big:
        return "day_first"
    if second_big and not first_big:
        return "month_first"
    return "ambiguous"


#: ``_SLASH`` for ASCII text, in Arrow's (RE2) syntax: Python's ``\\s`` on ASCII is these
#: characters, its ``\\d`` the ASCII digits and its ``\\b`` the ASCII word boundary
_SLASH_ASCII = (
    r"^[\t\n\x0b\x0c\r\x1c-\x1f ]*(?P<a>[0-9]{1,2})[/.-](?P<b>[0-9]{1,2})[/.-](?P<c>[0-9]{2,4})\b"
)


#: distinct values from which Arrow matches them (fewer: Python's ``re``)
ARROW_MIN = 256


def _slash_dates(values: pd.Series) -> tuple[pd.Series, pd.DataFrame]:
    """The distinct values (text, order of first appearance) and, for those that look like
    ``NN/NN/YYYY``, the three numbers as text (columns 0, 1, 2; one row per such value).

    Arrow's regular expressions match ASCII text without a Python object per value (the
    distinct timestamps of a contact log number in the hundreds of thousands); text with
    other characters goes through :data:`_SLASH` (whose ``\\s`` and ``\\d`` are Unicode).
    """
    text = pd.Series(pd.unique(values.dropna().astype("str")), dtype="object")
    arr = pa.array(text.to_numpy(), type=pa.large_string()) if len(text) >= ARROW_MIN else None
    if arr is not None and pc.all(pc.string_is_ascii(arr)).as_py() is not False:
        found = pc.extract_regex(arr, _SLASH_ASCII)
        hit = pc.is_valid(found).to_numpy(zero_copy_only=False)
        parts = {
            i: pc.struct_field(found, [i]).filter(pc.is_valid(found)).to_numpy(zero_copy_only=False)
            for i in range(3)
        }
        m = pd.DataFrame({i: pd.Series(parts[i], dtype=object) for i in range(3)})
        m.index = pd.Index(np.flatnonzero(hit))
        return text, m
    m = text.str.extract(_SLASH).dropna()
    return text, m


def _ordered(convention: Convention) -> tuple[str, ...]:
    base = tuple(DATE_FORMATS) + _EXTRA
    if convention == "month_first":
        return base
    day = tuple(f for f in base if f.startswith("%d/%m"))
    return day + tuple(f for f in base if not f.startswith("%d/%m"))


def parse_layout_dates(
    values: pd.Series,
    *,
    column: str,
    table: str,
    convention: Convention = "month_first",
    formats: Sequence[str] | None = None,
    documented: bool = False,
) -> pd.Series:
    """Parse a date column, choosing day-first vs month-first from the data.

    Parameters
    ----------
    convention
        The layout's documented order, used when the data cannot tell (with an
        :class:`AmbiguousDateWarning`).
    formats
        Stated formats (``options.date_format``): used as given, no guessing.
    documented
        The layout itself fixes the order (ncvhis and Florida write MM/DD/YYYY): an
        ambiguous column is read in that order without a warning.
    """
    if formats is not None:
        return parse_dates(values, column=column, table=table, formats=formats)
    order = date_order(values)
    if order == "ambiguous":
        sample, m = _slash_dates(values)
        if not documented and not m.empty and bool((m[0] != m[1]).any()):
            example = sample.iloc[0]
            reading = "month/day" if convention == "month_first" else "day/month"
            warnings.warn(
                f"{table}: column {column!r}: every date fits both day-first and month-first "
                f"(e.g. {example!r}); read as {reading}, the layout's convention. State it "
                "with mapping={'options': {'date_format': '%d/%m/%Y'}} (or '%m/%d/%Y').",
                AmbiguousDateWarning,
                stacklevel=3,
            )
        fmts = _ordered(convention)
    elif order == "day_first":
        fmts = _ordered("day_first")
    else:
        fmts = _ordered("month_first")
    return parse_dates(values, column=column, table=table, formats=fmts)
