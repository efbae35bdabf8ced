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
from dataclasses import dataclass
from typing import Literal

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from fieldexp.errors import FieldexpWarning
from fieldexp.io._distinct import arrow_text
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
    return slash_dates(values).order


@dataclass(frozen=True, slots=True)
class SlashDates:
    """What the ``NN/NN/YYYY`` values of a column say about their order.

    ``first``: the first non-missing value (text); ``found``: some value looks like
    ``NN/NN/YYYY``; ``first_big``/``second_big``: some first/second number exceeds 12;
    ``differ``: some value's first and second numbers differ (as written).
    """

    first: str | None
    found: bool
    first_big: bool
    second_big: bool
    differ: bool

    @property
    def order(self) -> Literal["day_first", "month_first", "ambiguous", "none"]:
        if not self.found:
            return "none"
        if self.first_big and not self.second_big:
            return "day_first"
        if self.second_big and not self.first_big:
            return "month_first"
        return "ambiguous"


#: ``_SLASH`` for ASCII text, in Arrow's (RE2) syntax: Python's ``\\s`` on ASCII is these
#: characters, its ``\\d`` the ASCII digits and its ``\\b`` the ASCII word boundary
_SLASH_ASCII = (
    r"^[\t\n\x0b\x0c\r\x1c-\x1f ]*(?P<a>[0-9]{1,2})[/.-](?P<b>[0-9]{1,2})[/.-](?P<c>[0-9]{2,4})\b"
)

#: rows from which Arrow matches the values (fewer: Python's ``re`` on the distinct values)
ARROW_MIN = 256


def slash_dates(values: pd.Series) -> SlashDates:
    """:class:`SlashDates` of a column.

    A column of ASCII text held by Arrow is matched by Arrow's regular expressions, every row
    (no Python object per value: a contact log's timestamps are nearly all distinct); other
    columns through :data:`_SLASH` on the distinct values (its ``\\s`` and ``\\d`` are
    Unicode). Both give the same answer: it depends on the set of values only.
    """
    arr = arrow_text(values) if len(values) >= ARROW_MIN else None
    if arr is not None and values.iloc[:1000].nunique() * 2 <= min(len(values), 1000):
        arr = None  # few distinct values (election dates): matched once each
    if arr is not None and pc.all(pc.string_is_ascii(arr)).as_py() is not False:
        valid = pc.is_valid(arr)
        at = pc.index(valid, True).as_py()
        first = arr[at].as_py() if at >= 0 else None
        parts = pc.extract_regex(arr, _SLASH_ASCII)
        parts = parts.filter(pc.is_valid(parts))
        if not len(parts):
            return SlashDates(first, False, False, False, False)
        a, b = pc.struct_field(parts, [0]), pc.struct_field(parts, [1])

        def big(x: pa.ChunkedArray) -> bool:
            return bool(pc.max(pc.cast(x, pa.int64())).as_py() > 12)

        return SlashDates(first, True, big(a), big(b), bool(pc.any(pc.not_equal(a, b)).as_py()))
    text = pd.Series(pd.unique(values.dropna().astype("str")), dtype="object")
    first = str(text.iloc[0]) if len(text) else None
    m = text.str.extract(_SLASH).dropna()
    if m.empty:
        return SlashDates(first, False, False, False, False)
    return SlashDates(
        first,
        True,
        bool((m[0].astype(int) > 12).any()),
        bool((m[1].astype(int) > 12).any()),
        bool((m[0] != m[1]).any()),
    )


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
    found = slash_dates(values)
    order = found.order
    if order == "ambiguous":
        if not documented and found.differ:
            example = found.first
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
