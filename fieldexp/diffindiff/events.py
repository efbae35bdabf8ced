r"""Event studies: dynamic two-way fixed effects and Sun & Abraham (2021): ``fieldexp.event_study``.

``estimator="twfe"`` fits

.. math::

    Y_{it} = \alpha_i + \lambda_t + \sum_{e\ne r} \beta_e\,1\{t-G_i=e\} + \varepsilon_{it},

which is biased under heterogeneous effects across cohorts: each :math:`\hat\beta_e` mixes
effects from other relative periods (Sun & Abraham 2021, Prop. 3). ``estimator="sun_abraham"``
fits the interacted regression (Sun & Abraham 2021, *J. Econometrics* 225(2), eq. 22)

.. math::

    Y_{it} = \alpha_i + \lambda_t + \sum_{g\in\mathcal G}\sum_{e\ne r}
        \delta_{g,e}\,1\{G_i=g\}\,1\{t-g=e\} + \varepsilon_{it}

on the treated cohorts plus one control cohort (never treated; if there is none, the last-treated
cohort, with the periods from its adoption on dropped), and reports the cohort-share average
:math:`\hat\beta_e=\sum_g \hat\Pr(G=g\mid e)\,\hat\delta_{g,e}` (eq. 23) with variance
:math:`W\hat V_\delta W'` (shares treated as known, as R ``fixest::sunab``).

Identity (tested): without covariates, in a balanced panel with never-treated controls and all
relative periods included, :math:`\hat\delta_{g,e}` is the 2x2 DiD of cohort :math:`g` against
never-treated units between :math:`g+e` and :math:`g-1`, so every Sun & Abraham estimate equals the
Callaway & Sant'Anna ``dynamic`` aggregation with ``base_period="universal"``. Post-period
estimates (:math:`e\ge0`) equal it with either base period (both use :math:`g-1` after
treatment); pre-period estimates match only the universal base (the varying base compares
consecutive periods).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from fieldexp._validate import (
    check_alpha,
    check_choice,
    check_columns,
    check_frame,
    check_positive,
    drop_missing,
    numeric,
)
from fieldexp.diffindiff._cells import fit_indicator_cells
from fieldexp.diffindiff._periods import order_periods
from fieldexp.diffindiff.twfe import label_index, panel_index
from fieldexp.errors import DataError, RowsDroppedWarning, SpecificationError, format_rows
from fieldexp.results import Estimates, Result, TestResult
from fieldexp.stats.covariance import check_small_sample, resolve_se_type
from fieldexp.stats.groups import GroupIndex, arrow_text, factorize
from fieldexp.stats.inference import t_inference
from fieldexp.stats.linear import LinearFit, fit_ols

__all__ = ["ESTIMATORS", "EventStudy", "event_study"]

_FN = "fieldexp.event_study"
#: estimators of :func:`event_study` (the shared vocabulary: ``twfe``, ``sun_abraham``)
ESTIMATORS: tuple[str, ...] = ("twfe", "sun_abraham")


@dataclass(frozen=True, slots=True, eq=False)
class EventStudy(Result):
    """Relative-time coefficients with inference, a pre-trend test and a plot.

    ``coefficients``: ``event_time, estimate, std_error, statistic, df, p_value, ci_low, ci_high``
    (the reference period is a row with estimate 0 and no standard error). ``vcov`` is the
    covariance of the non-reference estimates, in table order. ``cohort_shares`` (Sun & Abraham)
    holds the weights :math:`\\Pr(G=g\\mid e)`.

    ``pretest`` is the joint Wald test that every pre-period coefficient is zero,
    :math:`W=\\hat\\beta_{pre}'\\hat V_{pre}^{-1}\\hat\\beta_{pre}` against :math:`\\chi^2_q`;
    ``pretest_f`` the same as :math:`F=W/q` against :math:`F(q,\\nu)` with :math:`\\nu` the
    coefficients' degrees of freedom. ``comparison`` names the comparison units (never treated,
    or the last-treated cohort).
    """

    coefficients: pd.DataFrame
    vcov: np.ndarray
    pretest: TestResult | None
    estimator: str
    reference: int
    outcome: str
    se_type: str
    alpha: float
    nobs: int
    nclusters: int | None
    comparison: str
    cohort_shares: pd.DataFrame | None
    notes: tuple[str, ...] = ()
    pretest_f: TestResult | None = None

    @property
    def control_cohort(self) -> str:
        """Deprecated name of :attr:`comparison`."""
        warnings.warn(
            "EventStudy.control_cohort is renamed EventStudy.comparison.",
            FutureWarning,
            stacklevel=2,
        )
        return self.comparison

    def to_frame(self) -> pd.DataFrame:
        return self.coefficients.copy()

    def _estimates(self) -> Estimates:
        return Estimates.from_frame(self.coefficients, "event_time")

    def _title(self) -> str:
        return (
            f"Event study of {self.outcome!r}  [estimator={self.estimator}, se_type={self.se_type}, "
            f"reference={self.reference}, comparison={self.comparison}, "
            f"{round(100 * (1 - self.alpha))}% CI]"
        )

    def _lines(self) -> list[str]:
        lines = [
            f"nobs {self.nobs:,}"
            + (f", clusters {self.nclusters:,}" if self.nclusters is not None else "")
        ]
        if self.pretest is not None:
            p = self.pretest
            f = self.pretest_f
            lines.append(
                f"pre-trend test (all pre-period coefficients = 0): chi2({p.df}) = "
                f"{p.statistic:.4f}, p = {p.p_value:.4f}"
                + ("" if f is None else f"; F = {f.statistic:.4f}, p = {f.p_value:.4f}")
            )
        lines.extend(f"note: {n}" for n in self.notes)
        return lines

    def _plot(self, ax: Any) -> None:
        """Coefficients by event time with confidence intervals."""
        c = self.coefficients
        e = c["event_time"].to_numpy(dtype=float)
        est = c["estimate"].to_numpy(dtype=float)
        lo = c["ci_low"].to_numpy(dtype=float)
        hi = c["ci_high"].to_numpy(dtype=float)
        pre = e < 0
        for mask, color in ((pre, "tab:gray"), (~pre, "tab:blue")):
            ok = mask & np.isfinite(lo)
            ax.vlines(e[ok], lo[ok], hi[ok], colors=color, linewidth=2)
            ax.scatter(e[mask], est[mask], color=color, zorder=3)
        ax.axhline(0.0, color="black", linewidth=0.8)
        ax.axvline(self.reference + 0.5, color="gray", linestyle=":", linewidth=0.8)
        ax.set_xlabel("event time (periods since first treatment)")
        ax.set_ylabel(f"effect on {self.outcome}")
        ax.set_title(f"Event study ({self.estimator})")


def __getattr__(name: str) -> Any:
    if name == "PreTrendTest":
        warnings.warn(
            "PreTrendTest is replaced by fieldexp.results.TestResult.", FutureWarning, stacklevel=2
        )
        return TestResult
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _labels(values: pd.Series) -> pd.Series | np.ndarray:
    """An Arrow text column's codes in order of first appearance (what :func:`label_index`
    gives it) by :func:`fieldexp.stats.groups.factorize`, which encodes a voter-major
    panel's runs of ids once, or not at all when they are sorted; other columns as they are.
    :func:`label_index` keeps integer codes 0..G-1 as they are."""
    if arrow_text(values) is not None:
        return factorize(values).codes
    return values


def event_study(
    data: pd.DataFrame,
    outcome: str,
    unit: str,
    time: str,
    cohort: str,
    *,
    leads: int | None = None,
    lags: int | None = None,
    reference: int = -1,
    estimator: str = "twfe",
    clusters: str | None = None,
    weights: str | None = None,
    se_type: str = "stata",
    alpha: float = 0.05,
    small_sample: str = "estimatr",
    time_order: Sequence[Hashable] | None = None,
) -> EventStudy:
    r"""Relative-time (event-study) coefficients with a joint pre-trend test.

    Parameters
    ----------
    data : DataFrame
        Long panel, one row per unit and period.
    outcome, unit, time : str
        Outcome, unit id and period columns. Numeric periods are used as they are: event time is
        ``time - cohort`` in the units of ``time`` (code elections as 1, 2, 3... to count
        elections). Dates, an ordered categorical or labels with ``time_order`` are ranked 1..K,
        so event time counts periods. Text labels need ``time_order``.
    cohort : str
        First treated period (a value of ``time``); 0 or missing = never treated. Constant within
        unit.
    leads, lags : int, optional
        Window: event times before ``-leads`` are binned into ``-leads`` and after ``lags`` into
        ``lags`` (binned endpoints). Default: every event time observed gets its own coefficient.
    reference : int
        Omitted event time (default -1, the period before treatment).
    estimator : {"twfe", "sun_abraham"}
        Dynamic two-way FE, or Sun & Abraham's interacted estimator (see module docstring).
    clusters, weights : str, optional
        Cluster column (usually the unit or coarser) and positive weights.
    se_type : str
        As :func:`fieldexp.did`; ``"CR2"`` is available for ``twfe`` only (Bell-McCaffrey df are
        per coefficient, not for the cohort-share averages).
    alpha : float
    small_sample : {"estimatr", "fixest"}
        CR1 convention, as in :func:`fieldexp.did`.
    time_order : list, optional
        The period labels first to last, when ``time`` holds labels ("2011Q1", "2022 general").

    Returns
    -------
    EventStudy
    """
    check_frame(data, function=_FN)
    check_columns(
        data,
        {"outcome": outcome, "unit": unit, "time": time, "cohort": cohort, "weights": weights},
        function=_FN,
    )
    check_columns(data, {"clusters": clusters}, function=_FN)
    check_choice(estimator, ESTIMATORS, argument="estimator", function=_FN)
    alpha = check_alpha(alpha, function=_FN)
    data, order = order_periods(data, time, cohort, time_order=time_order, function=_FN)
    resolved = resolve_se_type(se_type, clusters is not None)
    check_small_sample(small_sample, resolved, function=_FN)
    if estimator == "sun_abraham" and resolved == "CR2":
        raise SpecificationError(
            "se_type='CR2' is not available for estimator='sun_abraham': its Bell-McCaffrey "
            "degrees of freedom are per coefficient, not for cohort-share averages. Use 'stata' "
            "or 'CR0'."
        )
    for name, val in (("leads", leads), ("lags", lags)):
        if val is not None and (isinstance(val, bool) or not isinstance(val, int) or val < 0):
            raise SpecificationError(
                f"The {name!r} parameter of {_FN} must be a non-negative integer or None. "
                f"Got {val!r} instead."
            )
    if isinstance(reference, bool) or not isinstance(reference, (int, np.integer)):
        raise SpecificationError(f"reference must be an integer event time; found {reference!r}.")
    if (leads is not None and reference < -leads) or (lags is not None and reference > lags):
        raise SpecificationError(
            f"reference={reference} lies outside the window [-leads, lags] = "
            f"[{-leads if leads is not None else '-inf'}, {lags if lags is not None else 'inf'}]."
        )

    needed = [outcome, unit, time]
    if clusters is not None:
        needed.append(clusters)
    if weights is not None:
        needed.append(weights)
    sub, n_dropped = drop_missing(data, needed, function=_FN)
    y = numeric(sub[outcome], argument="outcome", function=_FN)
    t = numeric(sub[time], argument="time", function=_FN)
    kept_rows = data[needed].notna().all(axis=1).to_numpy()
    g = numeric(data[cohort].fillna(0), argument="cohort", function=_FN)[kept_rows]
    w = check_positive(sub[weights], argument="weights", function=_FN) if weights else None
    units, periods = panel_index(_labels(sub[unit]), t, labels=sub.index, unit=unit, time=time)
    first = np.full(units.n_groups, np.nan)
    first[units.codes[::-1]] = g[::-1]
    bad = first[units.codes] != g
    if bad.any():
        raise DataError(
            f"cohort column {cohort!r} must be constant within unit {unit!r}; found units in "
            f"several cohorts at {format_rows(sub.index[bad][:5], total=int(bad.sum()))}."
        )
    tmin, tmax = float(t.min()), float(t.max())
    late = g > tmax
    if late.any():
        raise DataError(
            f"cohort column {cohort!r} has cohorts after the panel's last period ({tmax:g}) at "
            f"{format_rows(sub.index[late][:5], total=int(late.sum()))}; code units untreated "
            "throughout the panel as 0."
        )
    keep = ~((g > 0) & (g <= tmin))
    notes: list[str] = list(order.note(time))
    if not keep.all():
        n_units_early = len(np.unique(units.codes[~keep]))
        warnings.warn(
            f"{_FN}: {n_units_early:,} units dropped: treated from the first period on (always "
            "treated; no pre-period to compare).",
            RowsDroppedWarning,
            stacklevel=2,
        )
        notes.append(f"{n_units_early:,} always-treated units dropped")
    control_label = "never treated"
    if not np.any(g[keep] == 0):
        if estimator == "twfe":
            raise DataError(
                f"no never-treated units (cohort 0/missing in {cohort!r}): the dynamic TWFE "
                "event study is not identified with one omitted period. Use "
                "estimator='sun_abraham' (the last-treated cohort becomes the control)."
            )
        glast = float(g[keep].max())
        drop_late = t >= glast
        keep &= ~drop_late
        g = np.where(g == glast, 0.0, g)
        control_label = f"last-treated cohort {glast:g}"
        notes.append(
            f"no never-treated units: cohort {glast:g} is the control; periods >= {glast:g} dropped"
        )
    if not keep.all():
        idx = np.flatnonzero(keep)
        y, t, g = y[idx], t[idx], g[idx]
        w = None if w is None else w[idx]
        labels = sub.index[idx]
        units, periods = panel_index(
            _labels(sub[unit].iloc[idx]), t, labels=labels, unit=unit, time=time
        )
        sub = sub.iloc[idx]
    cl = label_index(_labels(sub[clusters])) if clusters is not None else None

    treated = g > 0
    e = np.where(treated, t - g, np.nan)
    lo = -math.inf if leads is None else -leads
    hi = math.inf if lags is None else lags
    e = np.clip(e, lo, hi)
    if not np.any(treated & (e == reference)):
        raise DataError(
            f"no treated unit is observed at the reference event time {reference}: choose another "
            "reference."
        )

    sample = _EventSample(
        y=y,
        e=e,
        g=g,
        treated=treated,
        units=units,
        periods=periods,
        weights=w,
        clusters=cl,
        se_type=resolved,
        reference=reference,
        alpha=alpha,
        outcome=outcome,
        n_dropped=n_dropped,
        control_label=control_label,
        notes=tuple(notes),
        small_sample=small_sample,
    )
    return _twfe(sample) if estimator == "twfe" else _sun_abraham(sample)


def _inference_table(
    etimes: np.ndarray, est: np.ndarray, vcov: np.ndarray, df: float, reference: int, alpha: float
) -> pd.DataFrame:
    se = np.sqrt(np.clip(np.diag(vcov), 0, None))
    rows = []
    for ev, b, s in zip(etimes, est, se, strict=True):
        inf = t_inference(float(b), float(s), df, alpha)
        rows.append(
            (float(ev), float(b), float(s), inf.statistic, df, inf.p_value, inf.ci_low, inf.ci_high)
        )
    rows.append((float(reference), 0.0, math.nan, math.nan, math.nan, math.nan, math.nan, math.nan))
    table = pd.DataFrame(
        rows,
        columns=[
            "event_time",
            "estimate",
            "std_error",
            "statistic",
            "df",
            "p_value",
            "ci_low",
            "ci_high",
        ],
    )
    table = table.sort_values("event_time", kind="stable").reset_index(drop=True)
    ev = table["event_time"].to_numpy()
    if np.all(ev == np.round(ev)):
        table["event_time"] = ev.astype(np.int64)
    return table


def _pretest(
    etimes: np.ndarray, est: np.ndarray, vcov: np.ndarray, df: float
) -> tuple[TestResult | None, TestResult | None]:
    """Joint Wald test of the pre-period coefficients, as chi2 and as F."""
    pre = np.flatnonzero(etimes < 0)
    if len(pre) == 0:
        return None, None
    V = vcov[np.ix_(pre, pre)]
    b = est[pre]
    try:
        W = float(b @ np.linalg.solve(V, b))
    except np.linalg.LinAlgError:
        return None, None
    q = len(pre)
    F = W / q
    f_p = float(stats.f.sf(F, q, df)) if math.isfinite(df) and df > 0 else math.nan
    hypothesis = "all pre-period coefficients = 0"
    chi2 = TestResult(
        statistic=W,
        df=q,
        p_value=float(stats.chi2.sf(W, q)),
        distribution="chi2",
        hypothesis=hypothesis,
        legacy=(("f_statistic", F), ("f_df", (float(q), float(df))), ("f_p_value", f_p)),
    )
    f_test = TestResult(
        statistic=F, df=(float(q), float(df)), p_value=f_p, distribution="F", hypothesis=hypothesis
    )
    return chi2, f_test


@dataclass(frozen=True, slots=True, eq=False)
class _EventSample:
    """Validated arrays shared by the two event-study estimators."""

    y: np.ndarray
    e: np.ndarray  # event time (NaN for never-treated rows)
    g: np.ndarray  # cohort (0 = never treated)
    treated: np.ndarray
    units: GroupIndex
    periods: GroupIndex
    weights: np.ndarray | None
    clusters: GroupIndex | None
    se_type: str
    reference: int
    alpha: float
    outcome: str
    n_dropped: int
    control_label: str
    notes: tuple[str, ...]
    small_sample: str = "estimatr"

    def fit(self, col: np.ndarray, names: list[str]) -> LinearFit:
        """Fit on indicator columns: row ``i`` sets column ``col[i]`` (``-1``: none).

        Exact from unit-pattern cell sums when it applies
        (:func:`fieldexp.diffindiff._cells.fit_indicator_cells`), else the general
        :func:`fit_ols` on the dense design with both fixed effects absorbed.
        """
        k = len(names)
        fast = fit_indicator_cells(
            self.y,
            col,
            k,
            names,
            units=self.units,
            periods=self.periods,
            clusters=self.clusters,
            se_type=self.se_type,
            weights=self.weights,
            small_sample=self.small_sample,
        )
        if fast is not None:
            return fast
        X = np.zeros((len(self.y), k))
        rows = np.flatnonzero(col >= 0)
        X[rows, col[rows]] = 1.0
        return fit_ols(
            X,
            self.y,
            names=names,
            se_type=self.se_type,
            weights=self.weights,
            absorb=(self.units, self.periods),
            clusters=self.clusters,
            small_sample=self.small_sample,
        )

    def result(
        self,
        *,
        table: pd.DataFrame,
        vcov: np.ndarray,
        pretest: tuple[TestResult | None, TestResult | None],
        estimator: str,
        fit: LinearFit,
        shares: pd.DataFrame | None,
    ) -> EventStudy:
        dropped = (f"{self.n_dropped:,} rows dropped for missing values",) if self.n_dropped else ()
        return EventStudy(
            coefficients=table,
            vcov=vcov,
            pretest=pretest[0],
            pretest_f=pretest[1],
            estimator=estimator,
            reference=int(self.reference),
            outcome=self.outcome,
            se_type=self.se_type,
            alpha=self.alpha,
            nobs=fit.nobs,
            nclusters=fit.nclusters,
            comparison=self.control_label,
            cohort_shares=shares,
            notes=self.notes + dropped,
        )


def _twfe(sample: _EventSample) -> EventStudy:
    y, e, treated = sample.y, sample.e, sample.treated
    se_type, reference, alpha, cl = sample.se_type, sample.reference, sample.alpha, sample.clusters
    etimes = np.array(sorted(set(np.unique(e[treated]).tolist()) - {float(reference)}))
    pos = np.searchsorted(etimes, e[treated])
    rows = np.flatnonzero(treated)
    ok = (pos < len(etimes)) & (etimes[np.minimum(pos, len(etimes) - 1)] == e[treated])
    col = np.full(len(y), -1, dtype=np.int64)
    col[rows[ok]] = pos[ok]
    names = [f"e{ev:g}" for ev in etimes]
    fit = sample.fit(col, names)
    df = float(fit.df[0]) if se_type != "CR2" else math.nan
    table = _inference_table(etimes, fit.coef, fit.vcov, df, reference, alpha)
    if se_type == "CR2":
        dfs = dict(zip(etimes.tolist(), fit.df.tolist(), strict=True))
        table["df"] = [dfs.get(ev, math.nan) for ev in table["event_time"]]
        infs = [
            t_inference(b, s, d, alpha)
            for b, s, d in zip(table["estimate"], table["std_error"], table["df"], strict=True)
        ]
        table["statistic"] = [i.statistic for i in infs]
        table["p_value"] = [i.p_value for i in infs]
        table["ci_low"] = [i.ci_low for i in infs]
        table["ci_high"] = [i.ci_high for i in infs]
        ref = table["event_time"] == reference
        table.loc[ref, ["statistic", "df", "p_value", "ci_low", "ci_high"]] = math.nan
        df = float(cl.n_groups - 1) if cl is not None else math.nan
    return sample.result(
        table=table,
        vcov=fit.vcov,
        pretest=_pretest(etimes, fit.coef, fit.vcov, df),
        estimator="twfe",
        fit=fit,
        shares=None,
    )


def _sun_abraham(sample: _EventSample) -> EventStudy:
    y, e, g, treated = sample.y, sample.e, sample.g, sample.treated
    reference, alpha, w = sample.reference, sample.alpha, sample.weights
    cells = pd.DataFrame({"g": g[treated], "e": e[treated]})
    cells = cells[cells["e"] != reference].drop_duplicates().sort_values(["e", "g"])
    cell_g = cells["g"].to_numpy()
    cell_e = cells["e"].to_numpy()
    rows = np.flatnonzero(treated & (e != reference))
    # every (cohort, event time) of these rows is a cell: its column by one hash lookup
    cols = np.asarray(
        pd.MultiIndex.from_arrays([cell_g.astype(float), cell_e.astype(float)]).get_indexer(
            pd.MultiIndex.from_arrays([g[rows].astype(float), e[rows].astype(float)])
        ),
        dtype=np.int64,
    )
    col = np.full(len(y), -1, dtype=np.int64)
    col[rows] = cols
    names = [f"g{a:g}:e{b:g}" for a, b in zip(cell_g, cell_e, strict=True)]
    fit = sample.fit(col, names)
    ww = np.ones(len(y)) if w is None else w
    mass = np.bincount(cols, weights=ww[rows], minlength=len(cell_g))
    etimes = np.unique(cell_e)
    Wm = np.zeros((len(etimes), len(cell_g)))
    share_rows: list[tuple[float, float, float]] = []
    for i, ev in enumerate(etimes):
        js = np.flatnonzero(cell_e == ev)
        s = mass[js] / mass[js].sum()
        Wm[i, js] = s
        share_rows.extend(
            (float(ev), float(cell_g[j]), float(sj)) for j, sj in zip(js, s, strict=True)
        )
    est = Wm @ fit.coef
    V = Wm @ fit.vcov @ Wm.T
    df = float(fit.df[0])
    table = _inference_table(etimes, est, V, df, reference, alpha)
    shares = pd.DataFrame(share_rows, columns=["event_time", "cohort", "share"])
    cohort_coefs = pd.DataFrame(
        {"cohort": cell_g, "event_time": cell_e, "estimate": fit.coef, "std_error": fit.std_error}
    )
    shares = shares.merge(cohort_coefs, on=["cohort", "event_time"], how="left")
    return sample.result(
        table=table,
        vcov=V,
        pretest=_pretest(etimes, est, V, df),
        estimator="sun_abraham",
        fit=fit,
        shares=shares,
    )
