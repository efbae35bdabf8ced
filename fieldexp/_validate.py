"""Validation at the API boundary: one message form, first offending rows shown.

Messages read: "The 'x' parameter of f must be ... Got ... instead." for arguments, and
"column 'c' (argument 'x') must ...; found ... in rows 3, 17 (and 9 more)" for data.
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from fieldexp.errors import (
    ColumnNotFoundError,
    DataError,
    RowsDroppedWarning,
    SpecificationError,
    did_you_mean,
    format_rows,
)

__all__ = [
    "ESTIMANDS",
    "as_column_list",
    "check_alpha",
    "check_binary",
    "check_columns",
    "check_frame",
    "check_positive",
    "check_probability",
    "drop_missing",
    "renamed_argument",
    "resolve_estimand",
]


def check_frame(data: object, *, function: str, argument: str = "data") -> pd.DataFrame:
    """``data`` must be a non-empty DataFrame."""
    if not isinstance(data, pd.DataFrame):
        raise SpecificationError(
            f"The {argument!r} parameter of {function} must be a pandas DataFrame. "
            f"Got {type(data).__name__} instead."
        )
    if data.shape[0] == 0:
        raise DataError(f"The {argument!r} parameter of {function} is empty (0 rows).")
    if data.columns.has_duplicates:
        dup = sorted({str(c) for c in data.columns[data.columns.duplicated()]})
        raise DataError(
            f"The {argument!r} parameter of {function} has duplicated column names: "
            f"{', '.join(map(repr, dup))}."
        )
    return data


def check_outcome_list(outcomes: object, *, function: str) -> list[str]:
    """A family's ``outcomes``: a non-empty list of distinct column names."""
    if (
        isinstance(outcomes, str)
        or not isinstance(outcomes, Sequence)
        or not outcomes
        or not all(isinstance(o, str) for o in outcomes)
        or len(set(outcomes)) != len(outcomes)
    ):
        raise SpecificationError(
            f"The 'outcomes' parameter of {function} must be a non-empty list of distinct column "
            f"names. Got {outcomes!r} instead."
        )
    return list(outcomes)


def as_column_list(value: object, *, function: str, argument: str) -> list[str]:
    """``None`` → ``[]``, a string → ``[value]``, a sequence of strings → list."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, Iterable) and not isinstance(value, bytes | dict):
        out = list(value)
        if all(isinstance(v, str) for v in out):
            if len(set(out)) != len(out):
                raise SpecificationError(
                    f"The {argument!r} parameter of {function} lists a column twice: {out!r}."
                )
            return out
    raise SpecificationError(
        f"The {argument!r} parameter of {function} must be a column name or a list of column "
        f"names. Got {value!r} instead."
    )


def check_columns(data: pd.DataFrame, roles: dict[str, str | None], *, function: str) -> None:
    """Every named column exists; one column plays one role."""
    seen: dict[str, str] = {}
    for argument, column in roles.items():
        if column is None:
            continue
        if not isinstance(column, str):
            raise SpecificationError(
                f"The {argument!r} parameter of {function} must be a column name (str). "
                f"Got {column!r} instead."
            )
        if column not in data.columns:
            raise ColumnNotFoundError(
                f"column {column!r} (argument {argument!r} of {function}) is not in the data."
                f"{did_you_mean(column, [str(c) for c in data.columns])} "
                f"Available columns: {', '.join(map(repr, list(data.columns)[:20]))}"
                f"{' ...' if data.shape[1] > 20 else ''}."
            )
        if column in seen:
            raise SpecificationError(
                f"column {column!r} is given both as {seen[column]!r} and as {argument!r} "
                f"in {function}; each column can play one role."
            )
        seen[column] = argument


def _missing_mask(series: pd.Series) -> np.ndarray:
    dtype = series.dtype
    if isinstance(dtype, np.dtype):  # plain numpy dtypes: fast paths
        if dtype.kind in "iub":  # numpy integers and booleans cannot hold missing values
            return np.zeros(len(series), dtype=bool)
        if dtype.kind == "f":
            return np.isnan(series.to_numpy())
    # extension dtypes (Int64, boolean, string, pyarrow...) and objects
    return np.asarray(series.isna().to_numpy(), dtype=bool)


def drop_missing(
    data: pd.DataFrame, columns: Sequence[str], *, function: str
) -> tuple[pd.DataFrame, int]:
    """Listwise deletion of rows missing any of ``columns``; warns with counts per column.

    Returns the rows to use and the number dropped. When nothing is dropped the caller's frame
    itself is returned (read, never written); otherwise a new frame.
    """
    cols = list(dict.fromkeys(columns))
    masks = {c: _missing_mask(data[c]) for c in cols}
    row_missing = np.zeros(len(data), dtype=bool)
    for m in masks.values():
        row_missing |= m
    n_drop = int(row_missing.sum())
    if n_drop == 0:
        return data, 0
    if n_drop == len(data):
        raise DataError(
            f"every row of the data has a missing value in {', '.join(map(repr, cols))} "
            f"({function}); nothing is left to analyse."
        )
    detail = ", ".join(f"{c!r}: {int(m.sum()):,}" for c, m in masks.items() if m.any())
    warnings.warn(
        f"{function}: dropped {n_drop:,} of {len(data):,} rows with a missing value "
        f"(listwise; by column {detail}); first dropped "
        f"{format_rows(data.index[row_missing][:5], total=n_drop)}.",
        RowsDroppedWarning,
        stacklevel=4,  # drop_missing <- prepare_experiment <- itt/cace <- the caller
    )
    return data.loc[~row_missing, cols], n_drop


def _numeric(series: pd.Series, *, argument: str, function: str) -> np.ndarray:
    if pd.api.types.is_bool_dtype(series.dtype):
        return series.to_numpy(dtype=np.float64)
    if not pd.api.types.is_numeric_dtype(series.dtype):
        bad = series.index[pd.to_numeric(series, errors="coerce").isna()]
        if len(bad) == 0:
            raise DataError(
                f"column {series.name!r} (argument {argument!r} of {function}) must be numeric; "
                f"it has dtype {series.dtype}: its values are numbers stored as text. Convert it "
                "first, e.g. with pandas.to_numeric."
            )
        raise DataError(
            f"column {series.name!r} (argument {argument!r} of {function}) must be numeric; "
            f"it has dtype {series.dtype} with non-numeric values in "
            f"{format_rows(bad[:5], total=len(bad))}."
        )
    values = series.to_numpy(dtype=np.float64)
    if not np.all(np.isfinite(values)):
        bad = series.index[~np.isfinite(values)]
        raise DataError(
            f"column {series.name!r} (argument {argument!r} of {function}) has infinite values "
            f"in {format_rows(bad[:5], total=len(bad))}."
        )
    return values


def numeric(series: pd.Series, *, argument: str, function: str) -> np.ndarray:
    """Float array of a numeric (or boolean) column, with a clear error otherwise."""
    return _numeric(series, argument=argument, function=function)


def check_binary(series: pd.Series, *, argument: str, function: str) -> np.ndarray:
    """A 0/1 (or boolean) column as a float array."""
    values = _numeric(series, argument=argument, function=function)
    bad = ~((values == 0) | (values == 1))
    if bad.any():
        found = sorted({float(v) for v in values[bad]})[:5]
        raise DataError(
            f"column {series.name!r} (argument {argument!r} of {function}) must be binary "
            f"(0/1 or True/False); found {', '.join(f'{v:g}' for v in found)} in "
            f"{format_rows(series.index[bad][:5], total=int(bad.sum()))}."
        )
    return values


def check_positive(series: pd.Series, *, argument: str, function: str) -> np.ndarray:
    """Strictly positive, finite weights."""
    values = _numeric(series, argument=argument, function=function)
    bad = ~(values > 0)
    if bad.any():
        raise DataError(
            f"column {series.name!r} (argument {argument!r} of {function}) must be strictly "
            f"positive; found {int(bad.sum()):,} values <= 0 in "
            f"{format_rows(series.index[bad][:5], total=int(bad.sum()))}."
        )
    return values


def check_probability(value: Any, *, argument: str, function: str) -> float:
    """A number strictly between 0 and 1."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not (0 < value < 1):
        raise SpecificationError(
            f"The {argument!r} parameter of {function} must be a number strictly between 0 "
            f"and 1. Got {value!r} instead."
        )
    return float(value)


def check_alpha(value: Any, *, function: str, argument: str = "alpha") -> float:
    """The one significance-level check: a real number strictly between 0 and 1.

    Every public function taking ``alpha`` calls it, so every refusal reads the same.
    """
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or not math.isfinite(float(value))
        or not 0 < float(value) < 1
    ):
        raise SpecificationError(
            f"The {argument!r} parameter of {function} must be a number strictly between 0 "
            f"and 1. Got {value!r} instead."
        )
    return float(value)


def renamed_argument(
    new_value: Any,
    old_value: Any,
    *,
    new: str,
    old: str,
    function: str,
    default: Any,
) -> Any:
    """Resolve a renamed argument: the old name still works with a :class:`FutureWarning`.

    ``new_value``/``old_value`` are what the caller passed (``None`` = not passed); both given
    and different is a :class:`SpecificationError`.
    """
    if old_value is None:
        return default if new_value is None else new_value
    warnings.warn(
        f"The {old!r} parameter of {function} is renamed {new!r}; {old!r} will be removed. "
        f"Pass {new}={old_value!r}.",
        FutureWarning,
        stacklevel=3,
    )
    if new_value is not None and new_value != old_value:
        raise SpecificationError(
            f"{function} got both {new}={new_value!r} and its deprecated name "
            f"{old}={old_value!r}; pass {new!r} only."
        )
    return old_value


#: the estimands of the shared vocabulary (experiments: ITT, CACE; difference in differences: ATT)
ESTIMANDS: tuple[str, ...] = ("ITT", "CACE", "ATT")


def resolve_estimand(
    estimand: Any,
    estimator: Any,
    *,
    function: str,
    choices: Sequence[str] = ("ITT", "CACE"),
    default: str = "ITT",
) -> str:
    """The ``estimand`` argument (``"ITT"``, ``"CACE"``; case-insensitive), upper-cased.

    ``estimator="itt"|"cace"`` is the deprecated spelling (a :class:`FutureWarning`): in the shared
    vocabulary ``estimator`` names how an effect is computed (dim, ols, lin, 2sls, twfe,
    sun_abraham, cs) and ``estimand`` what is estimated.
    """
    if estimator is not None:
        old = estimator.upper() if isinstance(estimator, str) else estimator
        warnings.warn(
            f"The 'estimator' parameter of {function} is renamed 'estimand' "
            f"(estimand={old!r}); 'estimator' now names how an effect is computed "
            "(dim, ols, lin, 2sls, ...).",
            FutureWarning,
            stacklevel=3,
        )
        if (
            estimand is not None
            and (estimand.upper() if isinstance(estimand, str) else estimand) != old
        ):
            raise SpecificationError(
                f"{function} got both estimand={estimand!r} and its deprecated name "
                f"estimator={estimator!r}; pass 'estimand' only."
            )
        estimand = old
    if estimand is None:
        return default
    value = estimand.upper() if isinstance(estimand, str) else estimand
    check_choice(value, tuple(choices), argument="estimand", function=function)
    return str(value)


def check_choice(value: Any, choices: Sequence[Any], *, argument: str, function: str) -> Any:
    """``value`` must be one of ``choices``."""
    if value not in choices:
        hint = did_you_mean(value, [str(c) for c in choices]) if isinstance(value, str) else ""
        raise SpecificationError(
            f"The {argument!r} parameter of {function} must be one of "
            f"{', '.join(map(repr, choices))}. Got {value!r} instead.{hint}"
        )
    return value
