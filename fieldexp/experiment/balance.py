"""Covariate balance with a randomisation omnibus test: :func:`balance`.

Per covariate: means by arm, the standardised difference
:math:`(\\bar x_t - \\bar x_c) / \\sqrt{(s_t^2 + s_c^2)/2}` (Imbens & Rubin 2015, eq. 14.1)
and the design-based difference-in-means test (:func:`fieldexp.itt` with the design's
blocks and clusters). Omnibus: regress the assignment indicator on all covariates (with
block indicators); its F statistic

.. math::

    F = \\frac{ESS / q}{(TSS - ESS)/(N - B - q)},\\qquad
    ESS = Z^\\top \\tilde X (\\tilde X^\\top \\tilde X)^{-1} \\tilde X^\\top Z

(:math:`\\tilde X` the covariates demeaned within blocks) is referred to its distribution
over re-randomisations of the same design (Hansen & Bowers 2008; Gerber & Green 2012,
sec. 4.6), computed from cluster totals of :math:`\\tilde X` for every draw.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from fieldexp._validate import as_column_list, check_frame
from fieldexp.design.spec import ArmLabel, Design, design_roles
from fieldexp.engine import is_engine_table
from fieldexp.engine.balance import balance_engine
from fieldexp.errors import (
    ColumnNotFoundError,
    DataError,
    FieldexpError,
    RowsDroppedWarning,
    SpecificationError,
    did_you_mean,
    format_rows,
)
from fieldexp.experiment.heterogeneity import GroupLabels
from fieldexp.experiment.ri_replay import (
    check_reps_memory,
    cluster_sums,
    omnibus_f_test,
    prepare_replay,
    resolve_assignment,
)
from fieldexp.results import Result, TestResult

__all__ = ["BalanceResult", "balance"]

_FUNCTION = "balance"


def __getattr__(name: str) -> object:
    if name == "OmnibusTest":
        warnings.warn(
            "OmnibusTest is replaced by fieldexp.results.TestResult.", FutureWarning, stacklevel=2
        )
        return TestResult
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@dataclass(frozen=True, slots=True, eq=False)
class BalanceResult(Result):
    """Balance table (one row per covariate) and omnibus randomisation tests (one per arm).

    ``omnibus[i]`` is the :class:`~fieldexp.results.TestResult` (F statistic on ``(q, N - B - q)``
    df, randomisation p-value) of treated arm ``treated_arms[i]`` against ``control``.
    """

    table: pd.DataFrame
    omnibus: tuple[TestResult, ...]
    arms: tuple[ArmLabel, ...]
    control: ArmLabel
    nobs: int
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def treated_arms(self) -> tuple[ArmLabel, ...]:
        return tuple(a for a in self.arms if a != self.control)

    def to_frame(self) -> pd.DataFrame:
        """The balance table: means by arm, differences, standardised differences, p-values."""
        return self.table.copy()

    def omnibus_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            [_as_row(a, o) for a, o in zip(self.treated_arms, self.omnibus, strict=False)]
        )

    def _title(self) -> str:
        return f"Covariate balance ({len(self.table)} covariates, {self.nobs:,} units)"

    def _lines(self) -> list[str]:
        lines = []
        for arm, o in zip(self.treated_arms, self.omnibus, strict=False):
            q, df2 = o.df if isinstance(o.df, tuple) else (o.df, math.nan)
            how = (
                "exact" if o.exact else f"{o.reps:,} re-randomisations, MC s.e. {o.p_value_se:.4f}"
            )
            lines.append(
                f"Omnibus (arm {arm!r} vs {self.control!r}): F = {o.statistic:.3f} on "
                f"{q:g} and {df2:g} df, randomisation p = {o.p_value:.4f} ({how})"
            )
        lines.extend(f"note: {n}" for n in self.notes)
        return lines

    def _plot(self, ax: Any) -> None:
        """Standardised differences by covariate, one marker per treated arm (a Love plot)."""
        y = np.arange(len(self.table))
        for i, arm in enumerate(self.treated_arms):
            col = f"std_diff_{arm}"
            if col in self.table.columns:
                ax.scatter(self.table[col], y, color=f"C{i % 10}", label=f"arm {arm}")
        ax.axvline(0.0, color="black", linewidth=0.8)
        for x in (-0.1, 0.1):
            ax.axvline(x, color="gray", linestyle=":", linewidth=0.8)
        ax.set_yticks(y, [str(v) for v in self.table.iloc[:, 0]])
        ax.set_xlabel("standardised difference")
        ax.set_title("Covariate balance")
        ax.legend(fontsize=8)


def _as_row(arm: ArmLabel, o: TestResult) -> dict[str, object]:
    df1, df2 = o.df if isinstance(o.df, tuple) else (o.df, math.nan)
    return {
        "arm": arm,
        "f_statistic": o.statistic,
        "df1": df1,
        "df2": df2,
        "p_value": o.p_value,
        "p_value_se": o.p_value_se,
        "reps": o.reps,
        "exact": o.exact,
    }


def _covariate_matrix(data: pd.DataFrame, covariates: list[str]) -> pd.DataFrame:
    """Numeric covariates as floats; categorical/text ones as one indicator per level."""
    parts: list[pd.Series | pd.DataFrame] = []
    for c in covariates:
        s = data[c]
        if pd.api.types.is_bool_dtype(s.dtype) or pd.api.types.is_numeric_dtype(s.dtype):
            parts.append(s.astype("float64").rename(c))
        else:
            dummies = pd.get_dummies(s, prefix=c, prefix_sep="=", dtype="float64")
            dummies[s.isna().to_numpy()] = np.nan
            parts.append(dummies)
    return pd.concat(parts, axis=1)


def _content_keys(X: pd.DataFrame) -> np.ndarray:
    """A unit key for rows without ids: each row's rank in the order of its covariate values.

    The replay numbers units by this key, so the draws do not depend on the row order of the
    input: rows that tie have the same covariates and are exchangeable for the F statistic,
    so which of them gets which key does not change any draw's statistic.
    """
    values = X.to_numpy(dtype=np.float64)
    order = np.lexsort(values.T[::-1]) if values.shape[1] else np.arange(len(X))
    keys = np.empty(len(X), dtype=np.int64)
    keys[order] = np.arange(len(X))
    return keys


def _implicit_design(
    data: pd.DataFrame,
    arm_col: str,
    blocks: str | None,
    clusters: str | None,
    control: object,
    keys: np.ndarray,
) -> tuple[pd.DataFrame, Design]:
    """Complete randomisation with the observed counts per block (conditional test).

    ``keys`` identify the rows (see :func:`_content_keys`); units are replayed in their order.
    """
    unit = "__fieldexp_row__"
    frame = data.assign(**{unit: keys})
    present = frame[arm_col].dropna()
    labels = sorted(present.unique().tolist(), key=lambda v: (str(type(v)), v))
    labels = [
        int(v) if isinstance(v, float | np.integer) and float(v).is_integer() else v for v in labels
    ]
    if control is not None:
        if control not in labels:
            raise SpecificationError(
                f"The 'control' parameter of balance: {control!r} is not an arm found in the data ({labels!r})."
            )
        labels = [control] + [v for v in labels if v != control]
    if len(labels) < 2:
        raise DataError(
            f"column {arm_col!r} (argument 'assignment' of balance) has a single arm {labels!r}"
        )
    key = clusters or unit
    first = frame.loc[frame[arm_col].notna()].drop_duplicates(key)
    counts: dict[object, dict[object, int]] = {}
    if blocks is None:
        vc = first[arm_col].value_counts()
        flat = {lab: int(vc.get(lab, 0)) for lab in labels}
        design = Design(unit, clusters=clusters, arms=labels, counts=flat)  # type: ignore[arg-type]
        return frame, design
    for b, g in first.groupby(blocks, sort=True):
        vc = g[arm_col].value_counts()
        if isinstance(b, np.integer | int) or (isinstance(b, float) and b.is_integer()):
            bl: int | str = int(b)
        else:
            bl = str(b)
        counts[bl] = {lab: int(vc.get(lab, 0)) for lab in labels}
    design = Design(unit, blocks=blocks, clusters=clusters, arms=labels, counts=counts)  # type: ignore[arg-type]
    return frame, design


def balance(
    data: pd.DataFrame,
    assignment: str | pd.DataFrame,
    covariates: str | Sequence[str],
    *,
    blocks: str | None = None,
    clusters: str | None = None,
    design: Design | None = None,
    reps: int = 1000,
    seed: int | None = None,
    control: ArmLabel | None = None,
    engine: str = "auto",
) -> BalanceResult:
    """Balance of ``covariates`` across arms, with a randomisation omnibus F test.

    Parameters
    ----------
    data : DataFrame
    assignment : str or DataFrame
        Column holding each unit's arm, or the frame returned by :meth:`Design.assign`.
    covariates : str or list of str
        Pre-treatment covariates; text/categorical columns become one indicator per level.
    blocks, clusters : str, optional
        Default to the design's. Per-covariate tests use them.
    design : Design, optional
        Replayed for the omnibus test (draws keyed to the design's unit and cluster ids).
        Without it, the test re-randomises with the observed number of units (clusters) per
        arm in each block held fixed; units are then keyed by their covariate values (and
        clusters by their ids), so the p-value does not depend on the order of the rows.
    reps : int
        Re-randomisations for the omnibus test (all assignments are enumerated when there
        are at most ``reps``); 0 skips the test. Refused at once, stating the memory needed,
        when the draws could not fit in memory.
    seed : int
        Required unless ``reps=0``.
    control : label, optional
        Control arm when no design is given (default: the smallest label).
    engine : {"auto", "dense", "grouped", "exact", "shared"}
        How the omnibus test's draws are made (as in :func:`fieldexp.randomization_inference`).

    Returns
    -------
    BalanceResult
        ``to_frame()``: ``covariate, mean_<arm>..., diff_<arm>, std_diff_<arm>, p_value_<arm>``.
    """
    from fieldexp.experiment.api import itt

    if is_engine_table(data):  # Ibis/Polars/Arrow: aggregates only (fieldexp.engine.balance)
        e = balance_engine(data, assignment, covariates, blocks=blocks, clusters=clusters, design=design, reps=reps, seed=seed, control=control, engine=engine)  # fmt: skip
        return BalanceResult(table=e.table, omnibus=e.omnibus, arms=e.arms, control=e.control, nobs=e.nobs, notes=e.notes)  # fmt: skip
    data = check_frame(data, function=_FUNCTION)
    covs = as_column_list(covariates, function=_FUNCTION, argument="covariates")
    if not covs:
        raise SpecificationError("The 'covariates' parameter of balance names no column.")
    blocks, clusters = design_roles(design, blocks, clusters, function="balance")
    for arg, col in [("blocks", blocks), ("clusters", clusters)] + [
        ("covariates", c) for c in covs
    ]:
        if col is not None and col not in data.columns:
            raise ColumnNotFoundError(
                f"column {col!r} (argument {arg!r} of balance) is not in the data."
                f"{did_you_mean(col, [str(c) for c in data.columns])}"
            )
    if isinstance(reps, bool) or not isinstance(reps, int) or reps < 0:
        raise SpecificationError(
            f"The 'reps' parameter of balance must be an integer >= 0. Got {reps!r}."
        )
    if reps > 0 and (isinstance(seed, bool) or not isinstance(seed, int) or seed < 0):
        raise SpecificationError(
            "The 'seed' parameter of balance is required for the randomisation omnibus test "
            f"(a non-negative integer; or pass reps=0 to skip the test). Got {seed!r}."
        )
    if design is None:
        if not isinstance(assignment, str):
            raise SpecificationError(
                "The 'assignment' parameter of balance must be a column name when no design is given."
            )
        if assignment not in data.columns:
            raise ColumnNotFoundError(
                f"column {assignment!r} (argument 'assignment' of balance) is not in the data."
                f"{did_you_mean(assignment, [str(c) for c in data.columns])}"
            )
        keys = _content_keys(_covariate_matrix(data, covs))
        frame, design = _implicit_design(data, assignment, blocks, clusters, control, keys)
        arm_col = assignment
    else:
        frame, arm_col = resolve_assignment(data, assignment, design, function=_FUNCTION)

    X = _covariate_matrix(frame, covs)
    if reps > 0 and engine != "exact":
        check_reps_memory(reps, X.shape[1] + 1, function=_FUNCTION)
    arm_values = frame[arm_col]
    labels = list(design.arm_labels)
    ctrl = design.control
    notes: list[str] = []
    n_noarm = int(arm_values.isna().sum())
    if n_noarm:
        notes.append(f"{n_noarm:,} rows with no arm (excluded units) are not compared")
    rows = []
    if pd.api.types.is_float_dtype(arm_values) and bool((arm_values.dropna() % 1 == 0).all()):
        # 0.0/1.0 (a 0/1 column with missing values read as floats): the labels are 0 and 1
        arm_str = arm_values.astype("Int64").astype(str)
    else:
        arm_str = arm_values.astype(str)
    masks = {
        lab: (arm_str == str(lab)).to_numpy() & arm_values.notna().to_numpy() for lab in labels
    }
    treated = [lab for lab in labels if lab != ctrl]
    pvals: dict[tuple[str, object], float] = {}
    roles = list(dict.fromkeys(c for c in (blocks, clusters) if c))
    group_labels = GroupLabels(frame, roles)  # hashed once for every covariate and arm
    for lab in treated:
        keep = masks[lab] | masks[ctrl]
        # the block and cluster labels as stored (no conversion of text labels to Python
        # objects and back); the compared rows are taken by the fit
        base = pd.DataFrame({"__z__": masks[lab].astype(float)}, index=frame.index)
        for role in roles:
            base[role] = frame[role].array
        for col in X.columns:
            full = base.assign(__x__=X[col].to_numpy())
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", RowsDroppedWarning)
                    res = group_labels.fit(
                        itt,
                        full,
                        keep,
                        ("__x__", "__z__", *roles),
                        "__x__",
                        "__z__",
                        blocks=blocks,
                        clusters=clusters,
                        method="dim",
                    )
                pvals[(col, lab)] = res.p_value
            except FieldexpError as exc:
                pvals[(col, lab)] = math.nan
                notes.append(f"no test for {col!r} (arm {lab!r}): {exc}")
    for col in X.columns:
        x = X[col].to_numpy()
        row: dict[str, object] = {"covariate": col}
        stats_by_arm = {}
        for lab in labels:
            v = x[masks[lab]]
            v = v[np.isfinite(v)]
            stats_by_arm[lab] = (
                v.mean() if len(v) else math.nan,
                v.var(ddof=1) if len(v) > 1 else math.nan,
            )
            row[f"mean_{lab}"] = stats_by_arm[lab][0]
        for lab in treated:
            diff = stats_by_arm[lab][0] - stats_by_arm[ctrl][0]
            pooled = math.sqrt((stats_by_arm[lab][1] + stats_by_arm[ctrl][1]) / 2)
            row[f"diff_{lab}"] = diff
            row[f"std_diff_{lab}"] = diff / pooled if pooled > 0 else math.nan
            row[f"p_value_{lab}"] = pvals[(col, lab)]
        rows.append(row)
    table = pd.DataFrame(rows)

    omnibus: list[TestResult] = []
    if reps > 0:
        assert seed is not None
        for lab in treated:
            omnibus.append(
                _omnibus(frame, arm_col, design, X, lab, reps=reps, seed=seed, engine=engine)
            )
    nobs = int(sum(int(m.sum()) for m in masks.values()))
    return BalanceResult(
        table=table,
        omnibus=tuple(omnibus),
        arms=tuple(labels),
        control=ctrl,
        nobs=nobs,
        notes=tuple(notes),
    )


def _omnibus(
    frame: pd.DataFrame,
    arm_col: str,
    design: Design,
    X: pd.DataFrame,
    arm: ArmLabel,
    *,
    reps: int,
    seed: int,
    engine: str,
) -> TestResult:
    setup, _ = prepare_replay(frame, arm_col, design, arm=arm, function=_FUNCTION)
    in_set = setup.row_cluster >= 0
    Xv = X.to_numpy(dtype=float)
    complete = np.isfinite(Xv).all(axis=1)
    used = in_set & complete
    n_missing = int((in_set & ~complete).sum())
    if n_missing:
        warnings.warn(
            f"balance: {n_missing:,} rows with a missing covariate are left out of the omnibus "
            f"test; first {format_rows(frame.index[in_set & ~complete][:5], total=n_missing)}.",
            RowsDroppedWarning,
            stacklevel=3,
        )
    rc = setup.row_cluster[used]
    blk = setup.cluster_block[rc]
    nb = setup.plan.n_blocks
    Xu = Xv[used]
    cnt = np.bincount(blk, minlength=nb).astype(float)
    means = np.column_stack(
        [
            np.bincount(blk, weights=Xu[:, j], minlength=nb) / np.maximum(cnt, 1)
            for j in range(Xu.shape[1])
        ]
    )
    Xt = Xu - means[blk]
    # drop columns with no within-block variation and collinear ones (pseudo-inverse rank)
    M = Xt.T @ Xt
    Minv = np.linalg.pinv(M, rtol=1e-10, hermitian=True)
    q = int(np.linalg.matrix_rank(M, tol=1e-10 * max(1.0, float(np.trace(M)))))
    if q == 0:
        raise DataError("balance: the covariates have no variation within blocks; no omnibus test")
    ncl = len(setup.z_cluster)
    V = cluster_sums(rc, np.column_stack([np.ones(len(rc)), Xt]), ncl)
    return omnibus_f_test(
        setup,
        V,
        Minv,
        q=q,
        n_units=int(used.sum()),
        n_blocks=int((cnt > 0).sum()),
        arm=arm,
        reps=reps,
        seed=seed,
        engine=engine,
        design=design,
    )
