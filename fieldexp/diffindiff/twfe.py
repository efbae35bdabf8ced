r"""Two-way fixed-effects difference-in-differences: ``fieldexp.diffindiff``.

.. math::

    Y_{it} = \alpha_i + \lambda_t + \tau D_{it} + X_{it}'\beta + \varepsilon_{it},

estimated by (weighted) least squares with unit and period effects absorbed
(:func:`fieldexp.stats.linear.fit_ols`), equal to R estimatr's
``lm_robust(outcome ~ treatment + covariates, fixed_effects = ~ unit + time, clusters=,
se_type=, weights=)``. With two groups and two periods :math:`\hat\tau` is the canonical 2x2
difference in differences. Under staggered adoption with heterogeneous effects :math:`\hat\tau`
is a weighted average of 2x2 comparisons some of which use already-treated units as controls
(Goodman-Bacon 2021, *J. Econometrics* 225(2)), and can have the wrong sign: use
:func:`fieldexp.staggered_did` or :func:`fieldexp.event_study` with ``estimator="sun_abraham"``.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence

import numpy as np
import pandas as pd

from fieldexp._validate import (
    as_column_list,
    check_alpha,
    check_binary,
    check_choice,
    check_columns,
    check_frame,
    check_positive,
    drop_missing,
    numeric,
)
from fieldexp.diffindiff._periods import order_periods, period_kind
from fieldexp.engine import is_engine_table
from fieldexp.engine.panel import did_engine
from fieldexp.errors import DataError, SpecificationError, format_rows
from fieldexp.results import EffectResult
from fieldexp.stats.covariance import SE_TYPES, check_small_sample, resolve_se_type
from fieldexp.stats.groups import GroupIndex, factorize
from fieldexp.stats.linear import fit_ols

__all__ = ["check_absorbing", "cohort_from_treatment", "did", "panel_index"]

_FN = "fieldexp.diffindiff"


def sorted_index(values: np.ndarray) -> GroupIndex:
    """Grouping whose codes follow the sorted labels (periods: code order is time order)."""
    values = np.asarray(values)
    if values.dtype.kind in "iu" and values.size:
        lo, hi = int(values.min()), int(values.max())
        if hi - lo < 1_000_000:  # compact integer periods (years, election numbers): direct address
            shifted = values.astype(np.int64) - lo
            present = np.bincount(shifted, minlength=hi - lo + 1)
            rank = np.cumsum(present > 0) - 1
            codes = rank[shifted].astype(np.int64)
            counts = present[present > 0].astype(np.int64)
            return GroupIndex(codes=codes, n_groups=len(counts), counts=counts)
    codes, uniq = pd.factorize(values)  # hashing; then relabel in sorted order
    order = np.argsort(np.asarray(uniq), kind="stable")
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    codes = rank[codes]
    return GroupIndex(
        codes=codes, n_groups=len(uniq), counts=np.bincount(codes, minlength=len(uniq))
    )


def label_index(values: pd.Series | np.ndarray) -> GroupIndex:
    """:func:`fieldexp.stats.groups.factorize` of a column, hashing text ids where they live.

    A text column (pandas' Arrow-backed ``str``) is factorised by ``pd.factorize`` on the
    column itself: the same codes (order of first appearance) without first converting
    millions of ids to Python objects. Other columns go to ``factorize`` unchanged.
    """
    if isinstance(values, pd.Series) and values.dtype.kind not in "iufcbmM":
        codes, uniq = pd.factorize(values, sort=False)
        codes = np.asarray(codes, dtype=np.int64)
        if not (codes < 0).any():
            n = len(uniq)
            return GroupIndex(codes=codes, n_groups=n, counts=np.bincount(codes, minlength=n))
        values = values.to_numpy()
    return factorize(values)


def _narrow(g: GroupIndex) -> GroupIndex:
    top = max(g.n_groups - 1, 0)
    dtype = next(
        np.dtype(t) for t in (np.int8, np.int16, np.int32, np.int64) if top <= np.iinfo(t).max
    )
    if dtype.itemsize >= g.codes.dtype.itemsize:
        return g
    return GroupIndex(codes=g.codes.astype(dtype), n_groups=g.n_groups, counts=g.counts)


def panel_index(
    unit_values: pd.Series | np.ndarray,
    time_values: np.ndarray,
    *,
    labels: pd.Index,
    unit: str,
    time: str,
) -> tuple[GroupIndex, GroupIndex]:
    """Unit and (time-ordered) period groupings; duplicated unit-period rows are a DataError."""
    units = label_index(unit_values)
    periods = sorted_index(time_values)
    filled = np.zeros((units.n_groups, periods.n_groups), dtype=bool)
    filled[units.codes, periods.codes] = True
    if int(np.count_nonzero(filled)) < len(units.codes):  # some cell holds two rows
        cell = units.codes * periods.n_groups + periods.codes
        counts = np.bincount(cell, minlength=units.n_groups * periods.n_groups)
        dup = np.flatnonzero(counts[cell] > 1)
        raise DataError(
            f"{unit!r} x {time!r} must identify rows (one row per unit and period); found "
            f"{len(dup):,} rows in duplicated unit-period cells: "
            f"{format_rows(labels[dup[:5]], total=len(dup))}."
        )
    return units, periods


def check_absorbing(
    d: np.ndarray,
    units: GroupIndex,
    periods: GroupIndex,
    *,
    labels: pd.Index,
    treatment: str,
    unit: str,
) -> None:
    """Treatment must be absorbing: once a unit is treated it stays treated in later periods."""
    wide = np.full((units.n_groups, periods.n_groups), -1, dtype=np.int8)
    wide[units.codes, periods.codes] = d.astype(np.int8)
    seen = np.zeros(units.n_groups, dtype=bool)
    off = np.zeros(units.n_groups, dtype=bool)
    for j in range(periods.n_groups):
        col = wide[:, j]
        off |= seen & (col == 0)
        seen |= col == 1
    if off.any():
        bad_units = np.flatnonzero(off)
        rows = np.flatnonzero(np.isin(units.codes, bad_units[:5]) & (d == 0))
        raise DataError(
            f"treatment column {treatment!r} switches off: {len(bad_units):,} units of {unit!r} "
            "are treated and then untreated in a later period (canvassing exposure is absorbing: "
            "code a unit as treated from its first canvassed election on). First untreated rows "
            f"after treatment among them: {format_rows(labels[rows[:5]], total=len(rows))}."
        )


def did(
    data: pd.DataFrame,
    outcome: str,
    unit: str,
    time: str,
    treatment: str,
    *,
    covariates: Sequence[str] | str | None = None,
    clusters: str | None = None,
    weights: str | None = None,
    se_type: str = "stata",
    alpha: float = 0.05,
    small_sample: str = "estimatr",
    time_order: Sequence[Hashable] | None = None,
) -> EffectResult:
    r"""Two-way fixed-effects DiD, equal to estimatr's ``lm_robust`` with unit and time effects.

    .. math::

        Y_{it} = \alpha_i + \lambda_t + \tau D_{it} + X_{it}'\beta + \varepsilon_{it}

    Parameters
    ----------
    data : DataFrame
        Long panel, one row per unit and period (unbalanced panels are fine).
    outcome, unit, time : str
        Outcome, unit id and period columns (unit and period are absorbed as fixed effects).
        Periods may be any labels ("2011Q1", "2022 general", dates as text): the estimate needs
        no order. The order is used only to check that treatment never switches off; it is known
        for numbers, dates, an ordered categorical or ``time_order``. Text labels without an
        order skip that check and say so in the result's notes.
    treatment : str
        Binary, absorbing treatment indicator :math:`D_{it}` (1 from the unit's first treated
        period on). A treatment that switches off is a :class:`~fieldexp.errors.DataError`.
    covariates : list of str, optional
        Time-varying covariates :math:`X_{it}`.
    clusters : str, optional
        Cluster column. Panels should usually be clustered by unit (or a coarser level,
        e.g. precinct) because outcomes of one unit are correlated over time; fieldexp does not
        pick clusters for you.
    weights : str, optional
        Positive weights (e.g. registered voters for precinct turnout).
    se_type : {"stata", "HC0", "HC1", "HC2", "HC3", "CR0", "CR2"}
        estimatr's meanings: ``"stata"`` is CR1 with ``G - 1`` df when ``clusters`` are given and
        HC1 otherwise; a cluster-robust type (``"CR0"``, ``"CR2"``) without ``clusters`` is a
        :class:`~fieldexp.errors.SpecificationError`.
    alpha : float
    small_sample : {"estimatr", "fixest"}
        CR1 convention (:func:`fieldexp.stats.covariance.check_small_sample`): ``"fixest"``
        (fixest, pyfixest, reghdfe) does not count unit effects nested in the clusters.
    time_order : list, optional
        The period labels first to last (enables the absorbing-treatment check for text labels).

    Returns
    -------
    EffectResult
        ``estimand="ATT"``, ``method="twfe"``, ``term=treatment``.

    Notes
    -----
    ``se_type`` defaults to ``"stata"`` here (CR1 with clusters, HC1 without, as ``lm_robust``
    with ``fixed_effects`` and Stata's ``areg``/``reghdfe``), while :func:`fieldexp.itt` defaults
    to design-based choices (HC2/CR2, estimatr's ``lm_robust`` default): panel DiD users compare
    with Stata/fixest, and CR2 with voter fixed effects needs the leverage of every unit effect,
    which is infeasible at voter-file scale. Pass ``se_type="CR2"`` to match ``itt``.
    """
    if is_engine_table(data):  # Ibis/Polars/Arrow: double demeaning in the engine (balanced)
        return did_engine(data, outcome, unit, time, treatment, covariates=covariates, clusters=clusters, weights=weights, se_type=se_type, alpha=alpha, small_sample=small_sample, time_order=time_order)  # fmt: skip
    check_frame(data, function=_FN)
    covs = as_column_list(covariates, function=_FN, argument="covariates")
    check_columns(
        data,
        {
            "outcome": outcome,
            "unit": unit,
            "time": time,
            "treatment": treatment,
            "weights": weights,
        },
        function=_FN,
    )
    # clustering by the unit column itself is the usual panel choice
    check_columns(data, {"clusters": clusters}, function=_FN)
    check_columns(data, {f"covariates[{i}]": c for i, c in enumerate(covs)}, function=_FN)
    check_choice(se_type, SE_TYPES, argument="se_type", function=_FN)
    alpha = check_alpha(alpha, function=_FN)
    resolved = resolve_se_type(se_type, clusters is not None)
    check_small_sample(small_sample, resolved, function=_FN)

    ordered = period_kind(data[time], time_order) != "text"
    period_notes: tuple[str, ...] = ()
    if time_order is not None or (ordered and isinstance(data[time].dtype, pd.CategoricalDtype)):
        data, order = order_periods(data, time, None, time_order=time_order, function=_FN)
        period_notes = order.note(time)
    elif not ordered:
        period_notes = (
            f"periods of {time!r} are text labels without an order: the estimate needs none, "
            "but the check that treatment never switches off was skipped (pass time_order=[...] "
            "to run it)",
        )
    needed = [outcome, unit, time, treatment, *covs]
    if clusters is not None:
        needed.append(clusters)
    if weights is not None:
        needed.append(weights)
    sub, n_dropped = drop_missing(data, needed, function=_FN)
    y = numeric(sub[outcome], argument="outcome", function=_FN)
    d = check_binary(sub[treatment], argument="treatment", function=_FN)
    w = check_positive(sub[weights], argument="weights", function=_FN) if weights else None
    X = (
        np.column_stack([d, *(numeric(sub[c], argument="covariates", function=_FN) for c in covs)])
        if covs
        else d.reshape(-1, 1)
    )
    time_values = sub[time].to_numpy() if ordered else pd.factorize(sub[time])[0]
    units, periods = panel_index(
        sub[unit].to_numpy(), time_values, labels=sub.index, unit=unit, time=time
    )
    if ordered:
        check_absorbing(d, units, periods, labels=sub.index, treatment=treatment, unit=unit)
    if clusters is None:
        cl = None
    elif clusters == unit:
        cl = units  # the usual panel choice: reuse the unit grouping
    else:
        cl = factorize(sub[clusters].to_numpy())
    del sub, d  # the fit below holds the arrays it needs
    # narrow integer codes (int8/int16 periods, int32 units): every kernel use is bincount or
    # indexing; at 60M rows this saves ~700 MB of the TWFE peak
    periods = _narrow(periods)
    if cl is units:
        units = cl = _narrow(units)
    else:
        units = _narrow(units)

    names = [treatment, *covs]
    absorb: tuple[GroupIndex, ...] = (units, periods)
    if resolved in ("HC2", "HC3", "CR2") and periods.n_groups <= 200:
        # Leverage-based variances need the hat matrix of the fixed effects. With period effects
        # as explicit dummies only the unit factor is absorbed, which the kernel handles exactly
        # without forming n x units dummies (same column space, same rank, same numbers).
        D = np.zeros((len(y), periods.n_groups - 1))
        keep = periods.codes > 0
        D[np.flatnonzero(keep), periods.codes[keep] - 1] = 1.0
        X = np.column_stack([X, D])
        names += [f"_period{j}" for j in range(1, periods.n_groups)]
        absorb = (units,)
    fit = fit_ols(
        X,
        y,
        names=names,
        se_type=resolved,
        weights=w,
        absorb=absorb,
        clusters=cl,
        df_terms=[treatment],
        small_sample=small_sample,
        absorb_names=(unit, time),
    )
    design = "panel" if cl is None else "clustered panel"
    return EffectResult.from_estimate(
        estimate=float(fit.coef[0]),
        std_error=float(fit.std_error[0]),
        df=float(fit.df[0]),
        alpha=alpha,
        nobs=fit.nobs,
        nclusters=fit.nclusters,
        se_type=fit.se_type,
        method="twfe",
        design=design + (" (weighted)" if w is not None else ""),
        outcome=outcome,
        term=treatment,
        estimand="ATT",
        n_dropped=n_dropped,
        notes=(
            f"two-way fixed effects: {units.n_groups:,} units x {periods.n_groups:,} periods",
            *period_notes,
        ),
    )


def cohort_from_treatment(
    data: pd.DataFrame,
    unit: str,
    time: str,
    treatment: str,
    *,
    name: str = "cohort",
    time_order: Sequence[Hashable] | None = None,
) -> pd.DataFrame:
    """A copy of ``data`` with the cohort column (first treated period, 0 = never) added.

    Bridges the TWFE layout (a 0/1 ``treatment`` per unit and period) and the cohort layout of
    :func:`fieldexp.staggered_did` and :func:`fieldexp.event_study`. The treatment must be
    absorbing: a unit treated and then untreated is a :class:`~fieldexp.errors.DataError`.
    With dates, an ordered categorical or ``time_order`` the cohort holds the period label (pass
    the same ``time_order`` to the estimators).
    """
    fn = "fieldexp.diffindiff.cohort_from_treatment"
    check_frame(data, function=fn)
    check_columns(data, {"unit": unit, "time": time, "treatment": treatment}, function=fn)
    if name in data.columns:
        raise SpecificationError(f"column {name!r} already exists in the data; pass name=...")
    ranked, order = order_periods(data, time, None, time_order=time_order, function=fn)
    sub, _ = drop_missing(ranked, [unit, time, treatment], function=fn)
    d = check_binary(sub[treatment], argument="treatment", function=fn)
    t = numeric(sub[time], argument="time", function=fn)
    units, periods = panel_index(sub[unit].to_numpy(), t, labels=sub.index, unit=unit, time=time)
    check_absorbing(d, units, periods, labels=sub.index, treatment=treatment, unit=unit)
    first = np.full(units.n_groups, np.inf)
    np.minimum.at(first, units.codes[d == 1], t[d == 1])
    first[np.isinf(first)] = 0.0
    out = data.copy()
    values = pd.Series(first[units.codes], index=sub.index)
    if order.kind == "ranked":
        labels = np.array([0, *order.labels], dtype=object)
        out[name] = pd.Series(labels[values.to_numpy().astype(np.int64)], index=sub.index)
        return out
    out[name] = values.reindex(out.index)
    if np.all(first == np.round(first)):
        out[name] = out[name].astype("Int64")
    return out
