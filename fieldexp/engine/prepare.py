"""Validation of an engine table in one scalar aggregate pass (the engine's ``prepare_experiment``).

The rules are those of :func:`fieldexp.experiment.data.prepare_experiment`: listwise
deletion of rows missing a used column (warned, counted), numeric outcome/covariates, 0/1
assignment and treatment, variation in both. The design rules that need groups (clusters
constant in assignment and nested in blocks, both arms in every block) are checked by the
GROUP BY passes that pull those groups anyway (:mod:`fieldexp.engine.sufficient`).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING

from fieldexp._validate import as_column_list
from fieldexp.engine.tables import pull
from fieldexp.errors import (
    ColumnNotFoundError,
    DataError,
    FieldexpWarning,
    RowsDroppedWarning,
    SpecificationError,
)

if TYPE_CHECKING:  # pragma: no cover
    import ibis.expr.types as ir

__all__ = ["EngineData", "prepare_engine"]

#: internal column names of the prepared table (also what the SQL snapshots show)
Y, Z, D, BLOCK, CLUSTER = "_fx_y", "_fx_z", "_fx_d", "_fx_block", "_fx_cluster"


def xname(j: int) -> str:
    return f"_fx_x{j}"


@dataclass(frozen=True, slots=True, eq=False)
class EngineData:
    """A validated engine table with fieldexp's internal column names.

    ``table`` has ``_fx_y``, ``_fx_z`` (float64 0/1), ``_fx_d`` for CACE, covariates
    ``_fx_x0..``, ``_fx_block`` (a constant when unblocked) and ``_fx_cluster`` when clustered;
    only complete rows.
    """

    table: ir.Table
    nobs: int
    n_dropped: int
    covariate_names: tuple[str, ...]
    blocked: bool
    clustered: bool
    has_d: bool
    notes: tuple[str, ...]
    n_clusters: int = 0
    #: the caller's block column (messages name it as the DataFrame route does)
    blocks_name: str | None = None


def _numeric_expr(t: ir.Table, col: str, argument: str, function: str) -> ir.Column:
    dtype = t.schema()[col]
    if not (dtype.is_numeric() or dtype.is_boolean()):
        raise DataError(
            f"column {col!r} (argument {argument!r} of {function}) must be numeric; it has "
            f"engine type {dtype}. Cast it in the engine (or encode it) before calling {function}."
        )
    return t[col].cast("float64")


def prepare_engine(
    table: ir.Table,
    *,
    function: str,
    outcome: str,
    assignment: str,
    treatment: str | None = None,
    blocks: str | None = None,
    clusters: str | None = None,
    covariates: object = None,
    weights: str | None = None,
    keep: tuple[str, ...] = (),
) -> EngineData:
    """Check columns and values in the engine; return the table of complete rows.

    ``keep`` names columns of ``table`` passed through unchanged (internal helpers).
    """
    import ibis

    if weights is not None:
        raise SpecificationError(
            f"weights are not pushed down to the engine yet ({function} on an engine table); "
            "call it with a pandas DataFrame, or drop `weights`."
        )
    covs = as_column_list(covariates, function=function, argument="covariates")
    roles = {
        "outcome": outcome,
        "assignment": assignment,
        "treatment": treatment,
        "blocks": blocks,
        "clusters": clusters,
    }
    names = set(table.columns)
    for role, col in [*roles.items(), *(("covariates", c) for c in covs)]:
        if col is not None and col not in names:
            raise ColumnNotFoundError(
                f"column {col!r} (argument {role!r} of {function}) is not in the table; "
                f"its columns are {', '.join(map(repr, sorted(names)[:20]))}."
            )
    for c in covs:
        if c in roles.values():
            raise DataError(
                f"column {c!r} is given both in 'covariates' and as another role in {function}."
            )
    exprs = {
        Y: _numeric_expr(table, outcome, "outcome", function),
        Z: _numeric_expr(table, assignment, "assignment", function),
    }
    if treatment is not None:
        exprs[D] = _numeric_expr(table, treatment, "treatment", function)
    for j, c in enumerate(covs):
        dtype = table.schema()[c]
        if not (dtype.is_numeric() or dtype.is_boolean()):
            raise DataError(
                f"column {c!r} (argument 'covariates' of {function}) is not numeric (engine type "
                f"{dtype}); categorical covariates are not pushed down yet: encode indicators "
                "in the engine, or call with a pandas DataFrame."
            )
        exprs[xname(j)] = _numeric_expr(table, c, "covariates", function)
    exprs[BLOCK] = table[blocks] if blocks is not None else ibis.literal(0)
    if clusters is not None:
        exprs[CLUSTER] = table[clusters]

    used = [c for c in roles.values() if c is not None] + covs
    missing = {}
    for c in dict.fromkeys(used):
        col = table[c]
        m = col.isnull()
        if table.schema()[c].is_floating():
            m = m | col.isnan()
        missing[c] = m
    complete = ibis.literal(True)
    for m in missing.values():
        complete = complete & ~m
    y, z = exprs[Y], exprs[Z]
    checks: dict[str, ir.Value] = {
        "n_total": table.count(),
        "n_complete": complete.cast("int64").sum(),
        "y_min": y.min(where=complete),
        "y_max": y.max(where=complete),
        "z_min": z.min(where=complete),
        "z_max": z.max(where=complete),
        "z_bad": (~z.isin([0.0, 1.0])).cast("int64").sum(where=complete),
    }
    if clusters is not None:
        checks["n_clusters"] = table[clusters].nunique(where=complete)
    for i, m in enumerate(missing.values()):
        checks[f"miss{i}"] = m.cast("int64").sum()
    if treatment is not None:
        d = exprs[D]
        checks["d_bad"] = (~d.isin([0.0, 1.0])).cast("int64").sum(where=complete)
        checks["d_min"] = d.min(where=complete)
        checks["d_max"] = d.max(where=complete)
        checks["control_contacts"] = ((z == 0.0) & (d == 1.0)).cast("int64").sum(where=complete)
    row = pull(table.aggregate(**checks), "checks").to_pylist()[0]

    n_total, n = int(row["n_total"]), int(row["n_complete"] or 0)
    n_dropped = n_total - n
    if n == 0:
        raise DataError(
            f"every row of the data has a missing value in {', '.join(map(repr, missing))} "
            f"({function}); nothing is left to analyse."
        )
    if n_dropped:
        detail = ", ".join(
            f"{c!r}: {int(row[f'miss{i}']):,}" for i, c in enumerate(missing) if row[f"miss{i}"]
        )
        warnings.warn(
            f"{function}: dropped {n_dropped:,} of {n_total:,} rows with a missing value "
            f"(listwise; by column {detail}); rows of an engine table have no labels to list.",
            RowsDroppedWarning,
            stacklevel=4,
        )
    for key, col, arg in (("z_bad", assignment, "assignment"), ("d_bad", treatment, "treatment")):
        if row.get(key):
            raise DataError(
                f"column {col!r} (argument {arg!r} of {function}) must be 0/1 (or boolean); "
                f"{int(row[key]):,} rows have another value."
            )
    if row["z_min"] == row["z_max"]:
        raise DataError(
            f"column {assignment!r} (argument 'assignment' of {function}) has no variation: every "
            f"one of the {n:,} rows used is {row['z_min']:g}; an effect needs both arms."
        )
    if row["y_min"] == row["y_max"]:
        raise DataError(
            f"column {outcome!r} (argument 'outcome' of {function}) has no variation: every one of "
            f"the {n:,} rows used is {row['y_min']:g}."
        )
    notes: list[str] = []
    if treatment is not None:
        if row["d_min"] == row["d_max"]:
            raise DataError(
                f"column {treatment!r} (argument 'treatment' of {function}) has no variation "
                f"(every row is {row['d_min']:g}); the CACE is not identified."
            )
        control_contacts = int(row["control_contacts"])
        if control_contacts:
            msg = (
                f"{control_contacts:,} units not assigned to treatment were recorded as treated "
                f"({treatment!r} = 1 with {assignment!r} = 0): estimating with two-sided "
                "noncompliance (still a valid IV estimate of the complier effect under monotonicity)."
            )
            notes.append(msg)
            warnings.warn(msg, FieldexpWarning, stacklevel=4)
    exprs.update({c: table[c] for c in keep})
    prepared = table.filter(complete).select(**exprs)
    return EngineData(
        table=prepared,
        nobs=n,
        n_dropped=n_dropped,
        covariate_names=tuple(covs),
        blocked=blocks is not None,
        clustered=clusters is not None,
        has_d=treatment is not None,
        notes=tuple(notes),
        n_clusters=int(row.get("n_clusters") or 0),
        blocks_name=blocks,
    )
