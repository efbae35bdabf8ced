"""One error hierarchy for fieldexp.

Every user-facing failure is a :class:`FieldexpError`. Messages follow one form:
they name the argument or column, state the rule, say what was found, and where
rows are at fault, show the first few offending rows (by their index label).

Hierarchy::

    FieldexpError
    ├── SpecificationError   an argument is of the wrong kind or value (unknown se_type, ...)
    ├── DataError            the data break a rule (missing column, non-binary assignment, ...)
    │   ├── ColumnNotFoundError
    │   └── FileFormatError  a file cannot be parsed in the stated layout
    ├── DesignError          the randomisation design is impossible or inconsistent
    ├── ReconciliationError  joined tables contradict each other (hard conflicts)
    └── EstimationError      the estimator cannot be computed (collinearity, no variation)

Warnings derive from :class:`FieldexpWarning`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

__all__ = [
    "CollinearWarning",
    "ColumnNotFoundError",
    "DataError",
    "DesignError",
    "EstimationError",
    "FieldexpError",
    "FieldexpWarning",
    "FileFormatError",
    "ReconciliationError",
    "RowsDroppedWarning",
    "SpecificationError",
    "WeakInstrumentWarning",
    "format_rows",
]


class FieldexpError(Exception):
    """Base class of every error raised by fieldexp on bad input."""


class SpecificationError(FieldexpError, ValueError):
    """An argument has the wrong type or an unsupported value."""


class DataError(FieldexpError, ValueError):
    """The data break a rule the estimator or importer relies on."""


class ColumnNotFoundError(DataError):
    """A named column is not in the data."""


class FileFormatError(DataError):
    """A file cannot be read in the stated layout."""


class DesignError(FieldexpError, ValueError):
    """A randomisation design is impossible or inconsistent with the data."""


class ReconciliationError(DataError):
    """Tables that must agree contradict each other."""


class EstimationError(FieldexpError, ArithmeticError):
    """The estimator cannot be computed on these data."""


class FieldexpWarning(UserWarning):
    """Base class of fieldexp warnings."""


class RowsDroppedWarning(FieldexpWarning):
    """Rows were set aside (for example, listwise deletion of missing values)."""


class WeakInstrumentWarning(FieldexpWarning):
    """The first stage of an IV/CACE estimate is weak."""


class CollinearWarning(FieldexpWarning):
    """Collinear regressors were dropped (estimatr's NA coefficients); the rest is estimated."""


def format_rows(labels: Iterable[Any], *, total: int | None = None, limit: int = 5) -> str:
    """Render the first few offending row labels, e.g. ``rows 3, 17, 42 (and 9 more)``."""
    shown: list[str] = []
    count = 0
    for label in labels:
        if len(shown) < limit:
            shown.append(repr(label) if isinstance(label, str) else str(label))
        count += 1
    n = total if total is not None else count
    if not shown:
        return "no rows"
    more = f" (and {n - len(shown)} more)" if n > len(shown) else ""
    word = "row" if n == 1 else "rows"
    return f"{word} {', '.join(shown)}{more}"


def did_you_mean(name: str, choices: Sequence[str]) -> str:
    """Suggest the closest choice, as ``" Did you mean 'x'?"`` or an empty string."""
    import difflib

    by_lower = {c.lower(): c for c in choices}
    close = difflib.get_close_matches(name.lower(), list(by_lower), n=1, cutoff=0.6)
    return f" Did you mean {by_lower[close[0]]!r}?" if close else ""
