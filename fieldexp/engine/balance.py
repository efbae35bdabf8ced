r"""``fx.balance`` on engine tables: arm moments, design-based tests and the omnibus test.

Same table, tests and :class:`~fieldexp.experiment.balance.BalanceResult` fields as the
DataFrame path (:mod:`fieldexp.experiment.balance`), from aggregates only:

* **means by arm** and the standardised difference
  :math:`(\bar x_t - \bar x_c)/\sqrt{(s_t^2+s_c^2)/2}`: ``GROUP BY arm`` of the count, mean
  and sample variance of every covariate column (text covariates become one indicator per
  level; their levels are pulled first, one row each);
* **per-covariate p-values**: the design-based difference in means of
  :func:`fieldexp.engine.api.itt_engine` (``method="dim"``; block x arm or cluster totals);
* **omnibus randomisation F test** (clustered designs): per treated arm, block means of the
  complete rows of the two compared arms joined back in the engine, the within-block
  cross-products :math:`\tilde X^\top\tilde X` summed in the engine (one row) and, per
  cluster, :math:`(n_g, \sum_{i\in g}\tilde x_i)` pulled once (*G* rows). The draws replay
  whole clusters (keyed by cluster ids, as on a DataFrame), so they, the F statistics and the
  p-value are those of the DataFrame path. Unclustered designs re-draw every unit: the
  omnibus test is refused there (``reps=0`` gives the table; or pass a DataFrame).
"""

from __future__ import annotations

import copy
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from fieldexp._validate import as_column_list
from fieldexp.design.spec import ArmLabel, Design, design_roles
from fieldexp.engine.api import itt_engine
from fieldexp.engine.tables import as_ibis, pull
from fieldexp.errors import (
    ColumnNotFoundError,
    DataError,
    DesignError,
    FieldexpError,
    RowsDroppedWarning,
    SpecificationError,
)
from fieldexp.experiment.ri_replay import (
    check_reps_memory,
    omnibus_f_test,
    prepare_replay,
)
from fieldexp.results import TestResult

__all__ = ["EngineBalance", "balance_engine"]

_FUNCTION = "balance"
_ARM, _CL, _BL = "_fx_arm", "_fx_cluster", "_fx_block"


@dataclass(frozen=True, slots=True, eq=False)
class EngineBalance:
    """The fields of a :class:`~fieldexp.experiment.balance.BalanceResult` (built there)."""

    table: pd.DataFrame
    omnibus: tuple[TestResult, ...]
    arms: tuple[ArmLabel, ...]
    control: ArmLabel
    nobs: int
    notes: tuple[str, ...]


def _norm(v: Any) -> Any:
    if isinstance(v, float | np.integer) and float(v).is_integer():
        return int(v)
    return v


def _block_label(b: object) -> int | str:
    if isinstance(b, np.integer | int) or (isinstance(b, float) and b.is_integer()):
        return int(b)
    return str(b)


def _covariate_exprs(t: Any, covs: list[str]) -> dict[str, Any]:
    """Numeric covariates as float64 (NaN as null); text ones as 0/1 indicators per level."""
    import ibis

    out: dict[str, Any] = {}
    schema = t.schema()
    for c in covs:
        col = t[c]
        dtype = schema[c]
        if dtype.is_numeric() or dtype.is_boolean():
            x = col.cast("float64")
            if dtype.is_floating():
                x = col.isnan().ifelse(ibis.null("float64"), x)
            out[c] = x
            continue
        lv = pull(t.select(_lv=col).distinct().filter(lambda s: s._lv.notnull()), "levels")  # noqa: PD004
        levels = sorted(lv["_lv"].to_pylist(), key=lambda v: (str(type(v)), v))
        for level in levels:
            ind = (col == level).ifelse(1.0, 0.0)
            out[f"{c}={level}"] = col.isnull().ifelse(ibis.null("float64"), ind)  # noqa: PD003
    return out


def balance_engine(
    data: object,
    assignment: object,
    covariates: str | Sequence[str],
    *,
    blocks: str | None = None,
    clusters: str | None = None,
    design: Design | None = None,
    reps: int = 1000,
    seed: int | None = None,
    control: ArmLabel | None = None,
    engine: str = "auto",
) -> EngineBalance:
    """:func:`fieldexp.balance` on an engine table (arguments as there)."""
    import ibis

    table = as_ibis(data, function=_FUNCTION)
    covs = as_column_list(covariates, function=_FUNCTION, argument="covariates")
    if not covs:
        raise SpecificationError("The 'covariates' parameter of balance names no column.")
    blocks, clusters = design_roles(design, blocks, clusters, function="balance")
    if not isinstance(assignment, str):
        raise SpecificationError(
            "The 'assignment' parameter of balance must be a column name for an engine table "
            "(join the assignment in the engine first)."
        )
    for arg, col in [("assignment", assignment), ("blocks", blocks), ("clusters", clusters)] + [
        ("covariates", c) for c in covs
    ]:
        if col is not None and col not in table.columns:
            raise ColumnNotFoundError(
                f"column {col!r} (argument {arg!r} of balance) is not in the table."
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
    if reps > 0 and clusters is None:
        raise SpecificationError(
            "balance on an engine table: the omnibus randomisation test of an unclustered "
            "design re-draws every unit, so it needs the unit rows; pass reps=0 (means, "
            "standardised differences and design-based p-values are computed in the engine), "
            "or a pandas DataFrame."
        )

    X = _covariate_exprs(table, covs)
    xnames = list(X)
    arm = table[assignment]
    present = pull(table.select(_a=arm).filter(lambda s: s._a.notnull()).distinct(), "arm labels")[  # noqa: PD004
        "_a"
    ].to_pylist()
    labels: list[Any] = [_norm(v) for v in sorted(present, key=lambda v: (str(type(v)), v))]
    if design is None:
        if control is not None:
            if control not in labels:
                raise SpecificationError(
                    f"The 'control' parameter of balance: {control!r} is not an arm found in the data ({labels!r})."
                )
            labels = [control] + [v for v in labels if v != control]
        if len(labels) < 2:
            raise DataError(
                f"column {assignment!r} (argument 'assignment' of balance) has a single arm {labels!r}"
            )
        ctrl = labels[0]
    else:
        labels = list(design.arm_labels)
        ctrl = design.control
    numeric_arm = table.schema()[assignment].is_numeric()

    def is_arm(lab: Any) -> Any:
        return arm.cast("float64") == float(lab) if numeric_arm else arm.cast("string") == str(lab)

    if reps > 0 and engine != "exact":
        check_reps_memory(reps, len(xnames) + 1, function=_FUNCTION)

    # means and variances by arm (one row per arm)
    code: Any = ibis.null("int64")
    for i, lab in enumerate(labels):
        code = is_arm(lab).ifelse(i, code)
    t = table.mutate(_fx_arm=code, **X)
    ta = t.filter(t[_ARM].notnull())  # noqa: PD004
    aggs: dict[str, object] = {"_fx_n": ta.count()}
    for j, c in enumerate(xnames):
        aggs[f"n{j}"] = ta[c].count()
        aggs[f"m{j}"] = ta[c].mean()
        aggs[f"v{j}"] = ta[c].var(how="sample")
    mom = pull(ta.group_by(_ARM).aggregate(**aggs), "moments by arm")
    by_arm = {int(r[_ARM]): r for r in mom.to_pylist()}
    tn = t.filter(t[_ARM].isnull())  # noqa: PD003
    n_noarm = pull(tn.aggregate(n=tn.count()), "rows without an arm")
    notes: list[str] = []
    n_na = int(n_noarm["n"].to_pylist()[0])
    if n_na:
        notes.append(f"{n_na:,} rows with no arm (excluded units) are not compared")

    treated = [lab for lab in labels if lab != ctrl]
    pvals: dict[tuple[str, object], float] = {}
    for i, lab in enumerate(labels):
        if lab == ctrl:
            continue
        ci = labels.index(ctrl)
        sub = t.filter(t[_ARM].isin([i, ci]))
        for c in xnames:
            cols = {"__x__": sub[c], "__z__": (sub[_ARM] == i).ifelse(1.0, 0.0)}
            if blocks:
                cols[blocks] = sub[blocks]
            if clusters:
                cols[clusters] = sub[clusters]
            tmp = sub.select(**cols)
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", RowsDroppedWarning)
                    res = itt_engine(
                        tmp, "__x__", "__z__", blocks=blocks, clusters=clusters, method="dim"
                    )
                pvals[(c, lab)] = res.p_value
            except FieldexpError as exc:
                pvals[(c, lab)] = math.nan
                notes.append(f"no test for {c!r} (arm {lab!r}): {exc}")
    rows = []
    for j, c in enumerate(xnames):
        row: dict[str, object] = {"covariate": c}
        stats: dict[object, tuple[float, float]] = {}
        for i, lab in enumerate(labels):
            r: Any = by_arm.get(i)
            n = int(r[f"n{j}"]) if r else 0
            mean = float(r[f"m{j}"]) if n else math.nan
            var = float(r[f"v{j}"]) if n > 1 else math.nan
            stats[lab] = (mean, var)
            row[f"mean_{lab}"] = mean
        for lab in treated:
            diff = stats[lab][0] - stats[ctrl][0]
            pooled = math.sqrt((stats[lab][1] + stats[ctrl][1]) / 2)
            row[f"diff_{lab}"] = diff
            row[f"std_diff_{lab}"] = diff / pooled if pooled > 0 else math.nan
            row[f"p_value_{lab}"] = pvals[(c, lab)]
        rows.append(row)
    nobs = sum(int(r["_fx_n"]) for r in by_arm.values())

    omnibus: list[TestResult] = []
    if reps > 0:
        assert seed is not None and clusters is not None
        cl_frame, cl_design = _cluster_design(t, labels, ctrl, assignment, blocks, clusters, design)
        for lab in treated:
            omnibus.append(
                _omnibus_engine(
                    t,
                    cl_frame,
                    cl_design,
                    assignment,
                    labels,
                    lab,
                    xnames,
                    blocks=blocks,
                    clusters=clusters,
                    reps=reps,
                    seed=seed,
                    engine=engine,
                )
            )
    return EngineBalance(
        table=pd.DataFrame(rows),
        omnibus=tuple(omnibus),
        arms=tuple(labels),
        control=ctrl,
        nobs=nobs,
        notes=tuple(notes),
    )


def _cluster_design(
    t: Any,
    labels: list[object],
    ctrl: object,
    assignment: str,
    blocks: str | None,
    clusters: str,
    design: Design | None,
) -> tuple[pd.DataFrame, Design]:
    """One row per cluster (id, block, arm; G rows) and the design replayed on it.

    Without a design: complete randomisation with the observed clusters per arm in each
    block held fixed (as :func:`fieldexp.experiment.balance.balance`).
    """
    aggs = {"_amin": t[_ARM].min(), "_amax": t[_ARM].max()}
    if blocks:
        aggs["_b"] = t[blocks].min()
        aggs["_bmax"] = t[blocks].max()
    sel = t.filter(t[_ARM].notnull())  # noqa: PD004
    per = pull(sel.group_by(clusters).aggregate(**aggs).order_by(clusters), "clusters")
    f = per.to_pandas()
    if (f["_amin"] != f["_amax"]).any():
        raise DesignError(
            f"column {assignment!r} must be constant within each cluster of {clusters!r}; "
            f"{int((f['_amin'] != f['_amax']).sum()):,} clusters mix arms (balance)."
        )
    if blocks and (f["_b"] != f["_bmax"]).any():
        raise DesignError(f"clusters {clusters!r} are not nested in blocks {blocks!r} (balance).")
    arm_of = np.asarray(labels, dtype=object)[f["_amin"].to_numpy(dtype=np.int64)]
    frame = pd.DataFrame({clusters: f[clusters].to_numpy(), assignment: arm_of})
    if blocks:
        frame[blocks] = f["_b"].to_numpy()
    if design is not None:
        cl_design = copy.copy(design)
        object.__setattr__(cl_design, "unit", clusters)
        return frame, cl_design
    if blocks is None:
        vc = frame[assignment].value_counts()
        flat = {lab: int(vc.get(lab, 0)) for lab in labels}
        return frame, Design(clusters, clusters=clusters, arms=labels, counts=flat)  # type: ignore[arg-type]
    counts: dict[object, dict[object, int]] = {}
    for b, g in frame.groupby(blocks, sort=True):
        vc = g[assignment].value_counts()
        counts[_block_label(b)] = {lab: int(vc.get(lab, 0)) for lab in labels}
    return frame, Design(
        clusters,
        blocks=blocks,
        clusters=clusters,
        arms=labels,  # type: ignore[arg-type]
        counts=counts,
    )


def _omnibus_engine(
    t: Any,
    cl_frame: pd.DataFrame,
    design: Design,
    assignment: str,
    labels: list[object],
    lab: Any,
    xnames: list[str],
    *,
    blocks: str | None,
    clusters: str,
    reps: int,
    seed: int,
    engine: str,
) -> TestResult:
    """The omnibus F test of arm ``lab`` from engine aggregates (see the module docstring)."""
    import ibis

    setup, _ = prepare_replay(cl_frame, assignment, design, arm=lab, function=_FUNCTION)
    ci, ti = labels.index(setup.control), labels.index(lab)
    sub = t.filter(t[_ARM].isin([ci, ti]))
    complete = ibis.literal(True)
    for c in xnames:
        complete = complete & sub[c].notnull()  # noqa: PD004
    bcol = sub[blocks] if blocks else ibis.literal(0)
    s = sub.mutate(_fx_ok=complete, _fx_block=bcol)
    k = len(xnames)
    ok = s.filter(s["_fx_ok"])
    means = ok.group_by(_BL).aggregate(
        _fx_nb=ok.count(), **{f"_mb{j}": ok[c].mean() for j, c in enumerate(xnames)}
    )
    j = ok.join(means, _BL)
    xt = {f"_xt{a}": j[c] - j[f"_mb{a}"] for a, c in enumerate(xnames)}
    w = j.select(clusters, _BL, **xt)
    cross = {
        f"cp_{a}_{b}": (w[f"_xt{a}"] * w[f"_xt{b}"]).sum() for a in range(k) for b in range(a, k)
    }
    cr = pull(w.aggregate(_fx_n=w.count(), **cross), "within-block cross-products")
    r0 = cr.to_pylist()[0]
    M = np.empty((k, k))
    for a in range(k):
        for b in range(a, k):
            M[a, b] = M[b, a] = float(r0[f"cp_{a}_{b}"] or 0.0)
    per = pull(
        w.group_by(clusters).aggregate(
            _fx_ng=w.count(), **{f"_s{a}": w[f"_xt{a}"].sum() for a in range(k)}
        ),
        "cluster sums of the within-block covariates",
    ).to_pandas()
    bad = pull(s.aggregate(n=(~s["_fx_ok"]).cast("int64").sum()), "rows missing a covariate")
    n_missing = int(bad["n"].to_pylist()[0] or 0)
    if n_missing:
        warnings.warn(
            f"balance: {n_missing:,} rows with a missing covariate are left out of the omnibus "
            "test (rows of an engine table have no labels to list).",
            RowsDroppedWarning,
            stacklevel=4,
        )
    ncl = len(setup.z_cluster)
    V = np.zeros((ncl, k + 1))
    # rows of cl_frame are clusters in order; setup.row_cluster maps them to replay codes
    pos = pd.Index(cl_frame[clusters]).get_indexer(per[clusters])
    rc = setup.row_cluster[pos]
    V[rc, 0] = per["_fx_ng"].to_numpy(dtype=np.float64)
    for a in range(k):
        V[rc, 1 + a] = per[f"_s{a}"].to_numpy(dtype=np.float64)
    Minv = np.linalg.pinv(M, rtol=1e-10, hermitian=True)
    q = int(np.linalg.matrix_rank(M, tol=1e-10 * max(1.0, float(np.trace(M)))))
    if q == 0:
        raise DataError("balance: the covariates have no variation within blocks; no omnibus test")
    n_blocks = int(pull(means.aggregate(n=means.count()), "blocks")["n"].to_pylist()[0])
    return omnibus_f_test(
        setup,
        V,
        Minv,
        q=q,
        n_units=int(r0["_fx_n"]),
        n_blocks=n_blocks,
        arm=lab,
        reps=reps,
        seed=seed,
        engine=engine,
        design=design,
    )
