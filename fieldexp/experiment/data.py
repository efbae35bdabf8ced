"""From the caller's DataFrame to validated arrays for the experiment estimators.

:func:`prepare_experiment` is the boundary: it checks every column and design rule,
drops incomplete rows listwise (warning with counts), and returns an
:class:`ExperimentData` of plain arrays. The caller's DataFrame is never modified.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from pandas.api.extensions import ExtensionArray

from fieldexp._validate import (
    as_column_list,
    check_binary,
    check_columns,
    check_frame,
    check_positive,
    drop_missing,
    numeric,
)
from fieldexp.errors import DataError, DesignError, FieldexpWarning, format_rows
from fieldexp.stats.groups import GroupIndex, factorize, group_totals
from fieldexp.stats.linear import is_nested

__all__ = ["ExperimentData", "prepare_experiment"]


@dataclass(frozen=True, slots=True, eq=False)
class ExperimentData:
    """Validated arrays for one estimation.

    Attributes
    ----------
    y, z : ndarray (n,)
        Outcome and 0/1 assignment.
    d : ndarray (n,) or None
        0/1 treatment actually received (contact), for CACE.
    X : ndarray (n, p)
        Covariates (categorical ones expanded to indicator columns).
    covariate_names : tuple of str
    blocks, clusters : GroupIndex or None
    weights : ndarray (n,) or None
    nobs, n_dropped : int
    outcome, assignment, treatment : str
    notes : tuple of str
    clusters_coarse : bool
        The assignment varies within some clusters: the clusters are not the units of
        assignment but coarser groups (villages, precincts) used for the standard errors
        only. The difference in means refuses them; the regressions accept them.
    clusters_cross_blocks : bool
        Some clusters span several blocks (allowed for the regressions only).
    cluster_issue : str
        When either flag is set: what was found, with the first offending rows (for the
        difference in means' error).
    row_labels : Index or None
        Labels of the rows used (to name offending rows in later errors).
    block_values : array or None
        The ``blocks`` label of each row used (the column's array, not converted).
    blocks_name, clusters_name : str or None
        The column names.
    cluster_treated : ndarray or None
        Units assigned to treatment in each cluster (the cluster sums of ``z``).
    """

    y: np.ndarray
    z: np.ndarray
    d: np.ndarray | None
    X: np.ndarray
    covariate_names: tuple[str, ...]
    blocks: GroupIndex | None
    clusters: GroupIndex | None
    weights: np.ndarray | None
    nobs: int
    n_dropped: int
    outcome: str
    assignment: str
    treatment: str | None
    notes: tuple[str, ...]
    clusters_coarse: bool = False
    clusters_cross_blocks: bool = False
    cluster_issue: str = ""
    row_labels: pd.Index | None = None
    block_values: np.ndarray | ExtensionArray | None = None
    blocks_name: str | None = None
    clusters_name: str | None = None
    cluster_treated: np.ndarray | None = None


def _covariate_matrix(
    frame: pd.DataFrame, covariates: list[str], *, function: str
) -> tuple[np.ndarray, tuple[str, ...]]:
    cols: list[np.ndarray] = []
    names: list[str] = []
    for c in covariates:
        s = frame[c]
        if isinstance(s.dtype, np.dtype) and s.dtype.kind in "iu":
            # numpy integers: no missing, infinite or non-numeric value to refuse
            cols.append(s.to_numpy())
            names.append(c)
        elif pd.api.types.is_numeric_dtype(s.dtype) or pd.api.types.is_bool_dtype(s.dtype):
            cols.append(numeric(s, argument="covariates", function=function))
            names.append(c)
        else:
            levels = sorted(pd.unique(s.astype(str)))
            if len(levels) > 200:
                raise DataError(
                    f"column {c!r} (argument 'covariates' of {function}) is not numeric and has "
                    f"{len(levels):,} distinct values; encode it numerically or use it as `blocks`."
                )
            if len(levels) < 2:
                raise DataError(
                    f"column {c!r} (argument 'covariates' of {function}) is categorical with a "
                    f"single level ({levels[0]!r} in every row used): it cannot adjust for anything; "
                    "drop it from `covariates`."
                )
            for lev in levels[1:]:
                cols.append((s.astype(str) == lev).to_numpy(dtype=np.float64))
                names.append(f"{c}[{lev}]")
    out = np.empty((len(frame), len(cols)), order="F")
    for j, col in enumerate(cols):
        out[:, j] = col
    return out, tuple(names)


def mixed_clusters(
    values: np.ndarray, clusters: GroupIndex, total: np.ndarray | None = None
) -> np.ndarray:
    """Clusters in which a 0/1 column varies (its cluster sum is neither 0 nor the size).

    ``total``: the cluster sums of ``values`` when the caller has them."""
    if total is None:
        total = group_totals(clusters, values)
    return (total != 0) & (total != clusters.counts)


def prepare_experiment(
    data: object,
    *,
    function: str,
    outcome: str,
    assignment: str,
    treatment: str | None = None,
    blocks: str | None = None,
    clusters: str | None = None,
    covariates: object = None,
    weights: str | None = None,
) -> ExperimentData:
    """Validate the inputs of an experiment estimator and return arrays.

    Raises
    ------
    SpecificationError, ColumnNotFoundError, DataError, DesignError
        With the argument/column, the rule, and the first offending rows.
    """
    frame = check_frame(data, function=function)
    covs = as_column_list(covariates, function=function, argument="covariates")
    roles: dict[str, str | None] = {
        "outcome": outcome,
        "assignment": assignment,
        "treatment": treatment,
        "blocks": blocks,
        "clusters": clusters,
        "weights": weights,
    }
    # the same column may be both the fixed effect and the cluster (blocks="village",
    # clusters="village"), as in lm_robust(fixed_effects = ~village, clusters = village)
    same_fe_cluster = blocks is not None and blocks == clusters
    check_columns(
        frame,
        {k: v for k, v in roles.items() if not (same_fe_cluster and k == "clusters")},
        function=function,
    )
    # a weight may also be a covariate (lm_robust(y ~ z + registered, weights = registered))
    other_roles = {k: v for k, v in roles.items() if k != "weights"}
    for c in covs:
        check_columns(frame, {"covariates": c}, function=function)
        if c in other_roles.values():
            raise DataError(
                f"column {c!r} is given both in 'covariates' and as another role in {function}."
            )
    used = list(dict.fromkeys(c for c in roles.values() if c is not None)) + covs
    sub, n_dropped = drop_missing(frame, used, function=function)

    y = numeric(sub[outcome], argument="outcome", function=function)
    z = check_binary(sub[assignment], argument="assignment", function=function)
    d = (
        check_binary(sub[treatment], argument="treatment", function=function)
        if treatment is not None
        else None
    )
    w = check_positive(sub[weights], argument="weights", function=function) if weights else None
    X, cov_names = _covariate_matrix(sub, covs, function=function)

    if np.all(z == z[0]):
        raise DataError(
            f"column {assignment!r} (argument 'assignment' of {function}) has no variation: every "
            f"one of the {len(z):,} rows used is {z[0]:g}; an effect needs both arms."
        )
    if np.all(y == y[0]):
        raise DataError(
            f"column {outcome!r} (argument 'outcome' of {function}) has no variation: every one of "
            f"the {len(y):,} rows used is {y[0]:g}."
        )
    block_idx = factorize(sub[blocks]) if blocks else None
    cluster_idx = block_idx if same_fe_cluster else (factorize(sub[clusters]) if clusters else None)
    coarse = cross = False
    cluster_treated: np.ndarray | None = None
    issues: list[str] = []
    if cluster_idx is not None:
        if cluster_idx.n_groups < 2:
            raise DesignError(f"only one cluster in {clusters!r} ({function}); need at least two.")
        cluster_treated = group_totals(cluster_idx, z)
        mixed = mixed_clusters(z, cluster_idx, cluster_treated)
        coarse = bool(mixed.any())
        if coarse:
            rows = sub.index[mixed[cluster_idx.codes]]
            issues.append(
                f"column {assignment!r} varies within {int(mixed.sum()):,} clusters of "
                f"{clusters!r}, in {format_rows(rows[:5], total=len(rows))}"
            )
        if block_idx is not None and not is_nested(cluster_idx, block_idx):
            cross = True
            first = np.full(cluster_idx.n_groups, -1)
            first[cluster_idx.codes] = block_idx.codes
            bad = first[cluster_idx.codes] != block_idx.codes
            issues.append(
                f"clusters {clusters!r} are not nested in blocks {blocks!r} (some span several "
                f"blocks), in {format_rows(sub.index[bad][:5], total=int(bad.sum()))}"
            )
    if block_idx is not None:
        treated = group_totals(block_idx, z)
        one_arm = (treated == 0) | (treated == block_idx.counts)
        if one_arm.any():
            labels = pd.unique(sub[blocks].to_numpy()[one_arm[block_idx.codes]])
            raise DesignError(
                f"{int(one_arm.sum()):,} block(s) of {blocks!r} have units in one arm only "
                f"(blocks {format_rows(labels[:5], total=len(labels)).removeprefix('rows ').removeprefix('row ')}); "
                f"every block needs assigned and not-assigned units ({function})."
            )
    notes: list[str] = []
    if d is not None:
        control_contacts = int(((z == 0) & (d == 1)).sum())
        if control_contacts:
            msg = (
                f"{control_contacts:,} units not assigned to treatment were recorded as treated "
                f"({treatment!r} = 1 with {assignment!r} = 0): estimating with two-sided "
                "noncompliance (still a valid IV estimate of the complier effect under monotonicity)."
            )
            notes.append(msg)
            warnings.warn(msg, FieldexpWarning, stacklevel=3)
    return ExperimentData(
        y=y,
        z=z,
        d=d,
        X=X,
        covariate_names=cov_names,
        blocks=block_idx,
        clusters=cluster_idx,
        weights=w,
        nobs=len(y),
        n_dropped=n_dropped,
        outcome=outcome,
        assignment=assignment,
        treatment=treatment,
        notes=tuple(notes),
        clusters_coarse=coarse,
        clusters_cross_blocks=cross,
        cluster_issue="; ".join(issues),
        row_labels=sub.index,
        block_values=sub[blocks].array if blocks else None,
        blocks_name=blocks,
        clusters_name=clusters,
        cluster_treated=cluster_treated,
    )
