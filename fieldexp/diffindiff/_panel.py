"""Validate a long unit x period panel and turn it into arrays (:mod:`fieldexp.diffindiff`'s boundary).

Every row of the caller's data is accounted for: used, dropped with a counted
:class:`~fieldexp.errors.RowsDroppedWarning` (missing values, units not observed in
every period, units already treated in the first period), or rejected with a
:class:`~fieldexp.errors.FieldexpError` (duplicate unit-period rows, a unit in several
cohorts, cohorts after the last period...). The caller's DataFrame is never modified.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

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

__all__ = ["SampleReport", "WidePanel", "check_columns", "prepare_wide_panel"]


@dataclass(frozen=True, slots=True)
class SampleReport:
    """Which rows, units and periods an estimate used, and why the others were not.

    Attributes
    ----------
    n_rows_input : int
        Rows in the caller's data.
    n_rows_used : int
        Rows in the balanced panel the estimator used (``n_units * n_periods``).
    n_rows_missing : int
        Rows dropped because the outcome, time, unit, a covariate, weight or cluster was missing.
    n_units_unbalanced : int
        Units dropped because they were not observed (with complete data) in every period.
    n_units_treated_first_period : int
        Units dropped because they were already treated in the first period
        (plus ``anticipation``): no pre-period exists for them.
    n_periods_dropped : int
        Periods dropped (``comparison="not_yet_treated"`` without never-treated units: periods from
        the last cohort's adoption on, as R ``did`` does).
    n_units : int
        Units used.
    periods : tuple of float
        Periods used.
    """

    n_rows_input: int
    n_rows_used: int
    n_rows_missing: int
    n_units_unbalanced: int
    n_units_treated_first_period: int
    n_periods_dropped: int
    n_units: int
    periods: tuple[float, ...]
    pairwise: bool = False

    def lines(self) -> list[str]:
        out = [
            f"{self.n_units:,} units x {len(self.periods)} periods "
            f"({self.n_rows_used:,} of {self.n_rows_input:,} rows used)"
        ]
        if self.n_rows_missing:
            out.append(f"{self.n_rows_missing:,} rows dropped for missing values")
        if self.n_units_unbalanced and self.pairwise:
            out.append(
                f"{self.n_units_unbalanced:,} units not observed in every period: each ATT(g,t) "
                "uses the units observed in both periods it compares (unbalanced='pairwise')"
            )
        elif self.n_units_unbalanced:
            out.append(
                f"{self.n_units_unbalanced:,} units dropped: not observed in every period "
                "(balanced panel; unbalanced='pairwise' keeps them)"
            )
        if self.n_units_treated_first_period:
            out.append(
                f"{self.n_units_treated_first_period:,} units dropped: already treated in the "
                "first period (no pre-period)"
            )
        if self.n_periods_dropped:
            out.append(
                f"{self.n_periods_dropped} periods dropped: no never-treated units, so the last "
                "cohort is the comparison group and periods from its adoption on are not used"
            )
        return out


@dataclass(frozen=True, slots=True, eq=False)
class WidePanel:
    """A balanced panel as arrays: one row per unit, one column per period.

    ``cohort`` holds the first treated period (``0`` = never treated within the panel).
    ``x`` has shape ``(n, T, k)`` (covariates per period) or is ``None``; ``weights`` are
    per unit, normalised to mean one, or ``None``; ``clusters`` are integer codes per unit.
    """

    y: np.ndarray
    periods: np.ndarray
    cohort: np.ndarray
    unit_ids: np.ndarray
    x: np.ndarray | None
    covariate_names: tuple[str, ...]
    weights: np.ndarray | None
    clusters: np.ndarray | None
    report: SampleReport


def check_columns(data: pd.DataFrame, columns: Sequence[str | None], *, what: str = "data") -> None:
    """Raise :class:`ColumnNotFoundError` for the first named column not in ``data``."""
    if not isinstance(data, pd.DataFrame):
        raise SpecificationError(f"{what} must be a pandas DataFrame; found {type(data).__name__}.")
    for col in columns:
        if col is None:
            continue
        if col not in data.columns:
            raise ColumnNotFoundError(
                f"column {col!r} is not in {what} (columns: "
                f"{', '.join(map(str, data.columns[:12]))}"
                f"{', ...' if len(data.columns) > 12 else ''})."
                f"{did_you_mean(str(col), [str(c) for c in data.columns])}"
            )


def _numeric(series: pd.Series, name: str, role: str, *, finite: bool = True) -> np.ndarray:
    """Float values of a numeric column; missing values are NaN (dropped later, counted).

    ``finite``: infinite values are a :class:`DataError` naming the column and rows (an ``inf``
    outcome would otherwise turn every ATT(g,t) it touches into ``inf``/``nan``).
    """
    if pd.api.types.is_bool_dtype(series):
        return series.to_numpy(dtype=float, na_value=np.nan)
    if not pd.api.types.is_numeric_dtype(series):
        bad = series.index[pd.to_numeric(series, errors="coerce").isna() & series.notna()]
        raise DataError(
            f"{role} column {name!r} must be numeric; found dtype {series.dtype} "
            f"(non-numeric values in {format_rows(bad[:5], total=len(bad))})."
        )
    values = series.to_numpy(dtype=float, na_value=np.nan)
    if finite and np.isinf(values).any():
        bad = series.index[np.isinf(values)]
        raise DataError(
            f"{role} column {name!r} must be finite; found infinite values in "
            f"{format_rows(bad[:5], total=len(bad))}. Recode or drop those rows (missing values "
            "are dropped with a warning; infinities are not missing values)."
        )
    return values


def _sorted_factorize(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Codes and uniques with the uniques sorted, so the unit order never depends on row order.

    Ids pandas cannot sort (unorderable types) are ordered by type name, then text.
    """
    try:
        codes, uniques = pd.factorize(values, sort=True)
        return codes, np.asarray(uniques)
    except TypeError:
        codes, uniques = pd.factorize(values)
        keys = [(type(u).__name__, str(u)) for u in uniques]
        order = np.array(sorted(range(len(keys)), key=keys.__getitem__), dtype=np.int64)
        rank = np.empty(len(order), dtype=np.int64)
        rank[order] = np.arange(len(order))
        return rank[codes], np.asarray(uniques, dtype=object)[order]


def _constant_within(codes: np.ndarray, values: np.ndarray, n_groups: int) -> np.ndarray:
    """Boolean mask of rows whose value differs from the first value seen for their group."""
    first = np.full(n_groups, np.nan)
    order = np.arange(len(codes))[::-1]
    first[codes[order]] = values[order]  # last write wins -> first occurrence
    return ~((values == first[codes]) | (np.isnan(values) & np.isnan(first[codes])))


def prepare_wide_panel(
    data: pd.DataFrame,
    *,
    outcome: str,
    unit: str,
    time: str,
    cohort: str,
    covariates: Sequence[str] | None = None,
    weights: str | None = None,
    clusters: str | None = None,
    anticipation: int = 0,
    comparison: str = "never_treated",
    unbalanced: str = "drop",
) -> WidePanel:
    """Validate a long panel and return it balanced and wide.

    Rules (each a clear error or a counted warning):

    * ``unit, time`` identify rows: duplicates are a :class:`DataError`.
    * ``cohort`` (first treated period; 0 or missing = never treated) is constant within unit,
      non-negative and not after the last period.
    * ``weights`` and ``clusters`` are constant within unit; weights are positive.
    * rows with a missing outcome/covariate/weight/cluster are dropped (warning), then units not
      observed in every period are dropped (warning; R ``did``'s ``panel=TRUE`` balancing),
      then units already treated in the first period (warning, as R ``did``).
    """
    covariates = list(covariates or [])
    check_columns(data, [outcome, unit, time, cohort, weights, clusters, *covariates])
    n_input = len(data)
    if n_input == 0:
        raise DataError("data is empty: the panel needs at least one row.")

    y = _numeric(data[outcome], outcome, "outcome")
    t = _numeric(data[time], time, "time")
    g = _numeric(data[cohort], cohort, "cohort", finite=False)  # inf cohorts: refused below
    x = (
        np.column_stack([_numeric(data[c], c, "covariate") for c in covariates])
        if covariates
        else None
    )
    w = _numeric(data[weights], weights, "weights") if weights else None
    unit_values = data[unit]

    g = np.where(np.isnan(g), 0.0, g)
    if np.any(g < 0):
        neg = data.index[g < 0]
        raise DataError(
            f"cohort column {cohort!r} must be the first treated period, or 0/missing for never "
            f"treated; found negative values in {format_rows(neg[:5], total=len(neg))}."
        )
    if w is not None and np.any(w <= 0):
        nonpos = data.index[w <= 0]
        raise DataError(
            f"weights column {weights!r} must be positive; found values <= 0 in "
            f"{format_rows(nonpos[:5], total=len(nonpos))}."
        )

    keep = ~np.isnan(y) & ~np.isnan(t) & unit_values.notna().to_numpy()
    if x is not None:
        keep &= ~np.isnan(x).any(axis=1)
    if w is not None:
        keep &= ~np.isnan(w)
    if clusters is not None:
        keep &= data[clusters].notna().to_numpy()
    n_missing = int(n_input - keep.sum())

    idx = np.flatnonzero(keep)
    # units in sorted id order: the influence matrix, cluster codes and bootstrap draws are
    # then keyed to unit ids, and shuffling the caller's rows changes nothing
    ucodes, uniques = _sorted_factorize(unit_values.to_numpy()[idx])
    n_units_all = len(uniques)
    tcodes_raw, tvals = pd.factorize(t[idx])  # hashing, then relabel in time order
    order = np.argsort(np.asarray(tvals), kind="stable")
    periods_all = np.asarray(tvals)[order]
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    tcodes = rank[tcodes_raw]
    n_periods = len(periods_all)
    labels = data.index

    # duplicates
    cell = ucodes.astype(np.int64) * n_periods + tcodes
    counts = np.bincount(cell, minlength=n_units_all * n_periods)
    if counts.max(initial=0) > 1:
        dup = np.flatnonzero(counts[cell] > 1)
        raise DataError(
            f"{unit!r} x {time!r} must identify rows (one row per unit and period); found "
            f"{len(dup):,} rows in duplicated unit-period cells: "
            f"{format_rows(labels[idx[dup[:5]]], total=len(dup))}."
        )

    # constant within unit
    gk = g[idx]
    bad = _constant_within(ucodes, gk, n_units_all)
    if bad.any():
        rows = np.flatnonzero(bad)
        raise DataError(
            f"cohort column {cohort!r} must be constant within unit {unit!r} (a unit is in one "
            f"cohort: its first treated period; treatment cannot switch off); found units in "
            f"several cohorts at {format_rows(labels[idx[rows[:5]]], total=len(rows))}."
        )
    if w is not None:
        bad = _constant_within(ucodes, w[idx], n_units_all)
        if bad.any():
            rows = np.flatnonzero(bad)
            raise DataError(
                f"weights column {weights!r} must be constant within unit {unit!r}; found "
                f"varying weights at {format_rows(labels[idx[rows[:5]]], total=len(rows))}."
            )
    ccodes_all: np.ndarray | None = None
    if clusters is not None:
        ccodes_all = _sorted_factorize(data[clusters].to_numpy()[idx])[0].astype(float)
        bad = _constant_within(ucodes, ccodes_all, n_units_all)
        if bad.any():
            rows = np.flatnonzero(bad)
            raise DataError(
                f"clusters column {clusters!r} must be constant within unit {unit!r} (clusters "
                f"are coarser than units); found units in several clusters at "
                f"{format_rows(labels[idx[rows[:5]]], total=len(rows))}."
            )

    # cohorts outside the panel
    last = periods_all[-1] if n_periods else np.nan
    late = gk > last
    if late.any():
        rows = np.flatnonzero(late)
        raise DataError(
            f"cohort column {cohort!r} has cohorts after the panel's last period ({last:g}): "
            f"{', '.join(f'{v:g}' for v in np.unique(gk[late])[:5])} at "
            f"{format_rows(labels[idx[rows[:5]]], total=len(rows))}. Units first treated after "
            "the panel ends are untreated throughout: code their cohort as 0 to use them as never "
            "treated, or extend the panel."
        )

    # balance
    per_unit = np.bincount(ucodes, minlength=n_units_all)
    full = per_unit == n_periods
    n_unbalanced = int((~full).sum())

    unit_cohort = np.zeros(n_units_all)
    unit_cohort[ucodes] = gk
    first = periods_all[0] if n_periods else np.nan
    pairwise = unbalanced == "pairwise"
    observed = np.ones_like(full) if pairwise else full
    early = (unit_cohort > 0) & (unit_cohort <= first + anticipation) & observed
    n_early = int(early.sum())

    used_units = observed & ~early
    n_periods_dropped = 0
    period_keep = np.ones(n_periods, dtype=bool)
    if comparison == "not_yet_treated" and not np.any(unit_cohort[used_units] == 0):
        gmax = unit_cohort[used_units].max(initial=0.0)
        period_keep = periods_all < gmax - anticipation
        n_periods_dropped = int((~period_keep).sum())
        unit_cohort = np.where(unit_cohort == gmax, 0.0, unit_cohort)

    unit_map = np.full(n_units_all, -1, dtype=np.int64)
    unit_map[used_units] = np.arange(int(used_units.sum()))
    period_map = np.full(n_periods, -1, dtype=np.int64)
    period_map[period_keep] = np.arange(int(period_keep.sum()))
    n_used = int(used_units.sum())
    t_used = int(period_keep.sum())

    rows_new_u = unit_map[ucodes]
    rows_new_t = period_map[tcodes]
    sel = (rows_new_u >= 0) & (rows_new_t >= 0)
    ru, rt = rows_new_u[sel], rows_new_t[sel]
    Y = np.full((n_used, t_used), np.nan) if pairwise else np.empty((n_used, t_used))
    Y[ru, rt] = y[idx][sel]
    X = None
    if x is not None:
        X = np.full((n_used, t_used, x.shape[1]), np.nan)
        X[ru, rt, :] = x[idx][sel]
    W = None
    if w is not None:
        W = np.empty(n_used)
        W[ru] = w[idx][sel]
        W = W / W.mean()
    C = None
    if ccodes_all is not None:
        cu = np.empty(n_used)
        cu[ru] = ccodes_all[sel]
        C = pd.factorize(cu)[0]

    if n_missing:
        warnings.warn(
            f"{n_missing:,} rows dropped: missing {outcome!r}, {time!r}, {unit!r}"
            f"{', covariates' if covariates else ''}{', weights' if weights else ''}"
            f"{', clusters' if clusters else ''}.",
            RowsDroppedWarning,
            stacklevel=3,
        )
    if n_unbalanced and not pairwise:
        warnings.warn(
            f"{n_unbalanced:,} units ({int(per_unit[~full].sum()):,} rows) dropped: not observed "
            f"with complete data in all {n_periods} periods; the estimator uses the balanced "
            f"panel of {int(full.sum()):,} units.",
            RowsDroppedWarning,
            stacklevel=3,
        )
    if n_early:
        warnings.warn(
            f"{n_early:,} units dropped: already treated in the first period ({first:g}"
            f"{f' + anticipation {anticipation}' if anticipation else ''}); "
            "they have no pre-period.",
            RowsDroppedWarning,
            stacklevel=3,
        )
    if n_periods_dropped:
        warnings.warn(
            f"no never-treated units: the last cohort is the comparison group and the "
            f"{n_periods_dropped} periods from its adoption on are dropped (as R did does).",
            RowsDroppedWarning,
            stacklevel=3,
        )

    report = SampleReport(
        n_rows_input=n_input,
        n_rows_used=int(sel.sum()),
        n_rows_missing=n_missing,
        n_units_unbalanced=n_unbalanced,
        n_units_treated_first_period=n_early,
        n_periods_dropped=n_periods_dropped,
        n_units=n_used,
        periods=tuple(float(p) for p in periods_all[period_keep]),
        pairwise=pairwise,
    )
    return WidePanel(
        y=Y,
        periods=periods_all[period_keep],
        cohort=unit_cohort[used_units],
        unit_ids=np.asarray(uniques)[used_units],
        x=X,
        covariate_names=tuple(covariates),
        weights=W,
        clusters=C,
        report=report,
    )
