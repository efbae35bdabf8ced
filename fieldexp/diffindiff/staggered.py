r"""Callaway & Sant'Anna (2021) staggered difference-in-differences: ``fieldexp.staggered_did``.

Callaway, B. and Sant'Anna, P. H. C. (2021), "Difference-in-Differences with multiple time
periods", *Journal of Econometrics* 225(2), 200-230. Numbers equal R ``did`` 2.5.0's ``att_gt`` /
``aggte`` (analytic influence-function standard errors) -- see ``tests/diffindiff/test_staggered.py``.
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

from fieldexp._validate import check_alpha, check_choice, renamed_argument
from fieldexp.diffindiff._aggregate import aggregate_gt
from fieldexp.diffindiff._kernels import (
    att_gt_covariates,
    att_gt_no_covariates,
    att_gt_pairwise,
    check_bootstrap_memory,
    cluster_sums,
    gram,
    gt_design,
    influence_se,
    multiplier_bootstrap,
)
from fieldexp.diffindiff._panel import SampleReport, check_columns, prepare_wide_panel
from fieldexp.diffindiff._periods import order_periods
from fieldexp.engine import is_engine_table
from fieldexp.engine.staggered import panel_frame
from fieldexp.errors import DataError, EstimationError, SpecificationError
from fieldexp.results import EffectResult, Estimates, Result, TestResult
from fieldexp.stats.inference import t_inference

__all__ = [
    "BASE_PERIODS",
    "BOOTSTRAP_WEIGHTS",
    "COMPARISONS",
    "EST_METHODS",
    "UNBALANCED",
    "AggregatedEffects",
    "StaggeredDiD",
    "staggered_did",
]

#: comparison groups of :func:`staggered_did` (declared here; the spec and report import them)
COMPARISONS: tuple[str, ...] = ("never_treated", "not_yet_treated")
#: base periods of :func:`staggered_did`
BASE_PERIODS: tuple[str, ...] = ("varying", "universal")
#: 2x2 estimators with covariates (``est_method``)
EST_METHODS: tuple[str, ...] = ("dr", "reg", "ipw")
#: multiplier-bootstrap weights of :meth:`StaggeredDiD.aggregate`
BOOTSTRAP_WEIGHTS: tuple[str, ...] = ("rademacher", "mammen", "gaussian")
#: how units observed in only some periods are handled
UNBALANCED: tuple[str, ...] = ("drop", "pairwise")
_AGG = {"simple": None, "group": "cohort", "dynamic": "event_time", "calendar": "time"}


def __getattr__(name: str) -> Any:
    if name == "PreTest":
        warnings.warn(
            "PreTest is replaced by fieldexp.results.TestResult.", FutureWarning, stacklevel=2
        )
        return TestResult
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@dataclass(frozen=True, slots=True, eq=False)
class AggregatedEffects(Result):
    """An aggregation of ATT(g,t): overall effect and components with pointwise/simultaneous bands.

    ``components`` columns: the label (``event_time``, ``cohort`` or ``time``; none for ``simple``),
    ``estimate, std_error, ci_low, ci_high`` (pointwise, normal) and ``cband_low, cband_high``
    (simultaneous, sup-t critical value ``crit_val`` from a seeded multiplier bootstrap).
    """

    kind: str
    overall: EffectResult
    components: pd.DataFrame
    crit_val: float
    reps: int
    seed: int | None
    bootstrap_weights: str
    alpha: float
    influence: np.ndarray

    @property
    def estimate(self) -> float:
        return self.overall.estimate

    @property
    def std_error(self) -> float:
        return self.overall.std_error

    @property
    def ci_low(self) -> float:
        return self.overall.ci_low

    @property
    def ci_high(self) -> float:
        return self.overall.ci_high

    @property
    def p_value(self) -> float:
        return self.overall.p_value

    def to_frame(self) -> pd.DataFrame:
        """The components table (a copy)."""
        return self.components.copy()

    def _estimates(self) -> Estimates:
        if not len(self.components):
            return Estimates.one("overall", self.estimate, self.std_error, math.inf)
        label = str(self.components.columns[0])
        comp = Estimates.from_frame(self.components, label, df=math.inf)
        return Estimates(
            labels=("overall", *comp.labels),
            estimate=np.r_[self.estimate, comp.estimate],
            std_error=np.r_[self.std_error, comp.std_error],
            df=np.r_[math.inf, comp.df],
            label_name=label,
        )

    def _title(self) -> str:
        level = round(100 * (1 - self.alpha))
        return (
            f"Callaway-Sant'Anna aggregation: {self.kind}  ({level}% CI; simultaneous band crit "
            f"{self.crit_val:.3f} from {self.reps} multiplier-bootstrap draws, seed {self.seed})"
        )

    def _lines(self) -> list[str]:
        return [
            f"overall ATT {self.estimate: .6f}  std.error {self.std_error:.6f}  "
            f"[{self.ci_low: .6f}, {self.ci_high: .6f}]"
        ]

    def _plot(self, ax: Any) -> None:
        """Components with pointwise (thick) and simultaneous (thin) intervals."""
        comp = self.components
        if not len(comp):
            ax.errorbar(
                [0],
                [self.estimate],
                yerr=[[self.estimate - self.ci_low], [self.ci_high - self.estimate]],
                fmt="o",
            )
            ax.set_xticks([0], ["overall"])
            return
        label = comp.columns[0]
        xs = comp[label].to_numpy(dtype=float)
        est = comp["estimate"].to_numpy(dtype=float)
        colors = np.where(xs < 0, "tab:gray", "tab:blue") if label == "event_time" else "tab:blue"
        ax.vlines(xs, comp["cband_low"], comp["cband_high"], colors=colors, linewidth=1)
        ax.vlines(xs, comp["ci_low"], comp["ci_high"], colors=colors, linewidth=3)
        ax.scatter(xs, est, c=colors, zorder=3)
        ax.axhline(0.0, color="black", linewidth=0.8)
        if label == "event_time":
            ax.axvline(-0.5, color="gray", linestyle=":", linewidth=0.8)
        ax.set_xlabel(label.replace("_", " "))
        ax.set_ylabel("ATT")
        ax.set_title(f"Callaway-Sant'Anna {self.kind} effects")


@dataclass(frozen=True, slots=True, eq=False)
class StaggeredDiD(Result):
    """Group-time ATTs with their influence functions, ready to aggregate.

    Attributes
    ----------
    att_gt : DataFrame
        One row per (cohort, time): ``cohort, time, base_period, estimate, std_error, ci_low,
        ci_high, n_treated, n_control`` (pointwise normal CIs; the universal base period row has
        estimate 0 and no standard error).
    unit_ids : ndarray
        Unit ids in the row order of ``influence``.
    influence : ndarray, shape (n_units, n_cells)
        Influence function of every ATT(g,t), scaled as R ``did``
        (:math:`se=\\sqrt{\\sum\\psi^2}/n`).
    pretest : TestResult or None
        Wald pre-test that every pre-treatment ATT(g,t) is zero (R ``did``'s ``W``/``Wpval``):
        :math:`W = \\widehat{ATT}_{pre}'\\,\\hat V_{pre}^{-1}\\,\\widehat{ATT}_{pre}` with
        :math:`\\hat V = \\Psi'\\Psi/n^2` (cluster sums of :math:`\\Psi` with ``clusters``),
        against :math:`\\chi^2_q`.
    comparison : str
        The comparison group, ``"never_treated"`` or ``"not_yet_treated"``.
    sample : SampleReport
        Which rows, units and periods were used, and why the others were not.
    """

    att_gt: pd.DataFrame
    influence: np.ndarray
    unit_ids: np.ndarray
    pretest: TestResult | None
    sample: SampleReport
    outcome: str
    comparison: str
    base_period: str
    anticipation: int
    est_method: str
    covariates: tuple[str, ...]
    alpha: float
    unit_cohort: np.ndarray
    unit_weights: np.ndarray
    clusters: np.ndarray | None
    cohorts: np.ndarray
    notes: tuple[str, ...] = ()

    @property
    def n_units(self) -> int:
        return self.sample.n_units

    @property
    def control(self) -> str:
        """Deprecated name of :attr:`comparison`."""
        warnings.warn(
            "StaggeredDiD.control is renamed StaggeredDiD.comparison.", FutureWarning, stacklevel=2
        )
        return self.comparison

    @property
    def nclusters(self) -> int | None:
        return None if self.clusters is None else int(self.clusters.max()) + 1

    def aggregate(
        self,
        kind: str = "simple",
        *,
        reps: int = 1000,
        seed: int | None = None,
        alpha: float | None = None,
        bootstrap_weights: str = "rademacher",
        min_e: float = -math.inf,
        max_e: float = math.inf,
    ) -> AggregatedEffects:
        """Aggregate ATT(g,t) as R ``did``'s ``aggte(type=kind)``.

        Parameters
        ----------
        kind : {"simple", "dynamic", "group", "calendar"}
            ``simple``: cohort-size weighted mean of all post-treatment ATT(g,t); ``dynamic``: by
            event time :math:`e=t-g`, overall the mean over :math:`e\\ge0`; ``group``: by cohort,
            overall weighted by cohort size; ``calendar``: by period, overall the mean over periods.
        reps, seed : int
            Multiplier-bootstrap draws and seed for the simultaneous band
            (``np.random.default_rng(seed)``); standard errors are analytic and do not depend on
            them.
        alpha : float, optional
            Defaults to the ``alpha`` of :func:`staggered_did`.
        bootstrap_weights : {"rademacher", "mammen", "gaussian"}
            Multiplier weights (R ``did`` 2.x uses Rademacher; its earlier versions Mammen's).
            ``"gaussian"`` draws the bootstrap sums exactly from :math:`N(0,\\Psi'\\Psi)`, at a cost
            independent of the number of units (use it at voter-file scale).
        min_e, max_e : float
            Event-time window (``dynamic``; ``max_e`` also limits the post-periods of every kind).
        """
        fn = "StaggeredDiD.aggregate"
        check_choice(kind, tuple(_AGG), argument="kind", function=fn)
        check_choice(
            bootstrap_weights, BOOTSTRAP_WEIGHTS, argument="bootstrap_weights", function=fn
        )
        if isinstance(reps, bool) or not isinstance(reps, int | np.integer) or reps < 2:
            raise SpecificationError(
                f"The 'reps' parameter of {fn} must be an integer >= 2. Got {reps!r} instead."
            )
        reps = int(reps)
        alpha = self.alpha if alpha is None else check_alpha(alpha, function=fn)
        att = self.att_gt["estimate"].to_numpy(dtype=float)
        if np.isnan(att).any():
            bad = self.att_gt.loc[np.isnan(att), ["cohort", "time"]]
            raise EstimationError(
                "cannot aggregate: some ATT(g,t) could not be estimated "
                f"({', '.join(f'({g:g}, {t:g})' for g, t in bad.to_numpy()[:5])})."
            )
        agg = aggregate_gt(
            kind,
            att=att,
            psi=self.influence,
            group=self.att_gt["cohort"].to_numpy(dtype=float),
            time=self.att_gt["time"].to_numpy(dtype=float),
            cohorts=self.cohorts,
            unit_cohort=self.unit_cohort,
            unit_weights=self.unit_weights,
            min_e=min_e,
            max_e=max_e,
        )
        n = self.n_units
        se_all = float(influence_se(agg.overall_influence, n, self.clusters))
        nclusters = self.nclusters
        overall = EffectResult.from_estimate(
            estimate=agg.overall_att,
            std_error=se_all,
            df=math.inf,
            alpha=alpha,
            nobs=self.sample.n_rows_used,
            nclusters=nclusters,
            se_type="influence" if nclusters is None else "influence-clustered",
            method="cs",
            design="panel" if nclusters is None else "clustered",
            outcome=self.outcome,
            term=f"{kind} ATT",
            estimand="ATT",
        )
        label = _AGG[kind]
        crit = math.nan
        if label is None:
            comp = pd.DataFrame(columns=["estimate", "std_error", "ci_low", "ci_high"])
        else:
            se = np.asarray(influence_se(agg.influence, n, self.clusters), dtype=float)
            check_bootstrap_memory(reps, int(np.isfinite(se).sum()), function=fn)
            z = float(stats.norm.isf(alpha / 2))
            boot = multiplier_bootstrap(
                agg.influence[:, np.isfinite(se)],
                n,
                reps=reps,
                rng=np.random.default_rng(seed),
                alpha=alpha,
                clusters=self.clusters,
                weights_kind=bootstrap_weights,
            )
            crit = boot.crit_val
            if not np.isfinite(crit) or crit < z:
                crit = z  # R did falls back to pointwise intervals here
            comp = pd.DataFrame(
                {
                    label: _as_int(agg.labels),
                    "estimate": agg.att,
                    "std_error": se,
                    "ci_low": agg.att - z * se,
                    "ci_high": agg.att + z * se,
                    "cband_low": agg.att - crit * se,
                    "cband_high": agg.att + crit * se,
                }
            )
        return AggregatedEffects(
            kind=kind,
            overall=overall,
            components=comp,
            crit_val=crit,
            reps=reps,
            seed=seed,
            bootstrap_weights=bootstrap_weights,
            alpha=alpha,
            influence=agg.overall_influence,
        )

    def to_frame(self) -> pd.DataFrame:
        """The ATT(g,t) table (a copy)."""
        return self.att_gt.copy()

    def _estimates(self) -> Estimates:
        labels = tuple(
            zip(self.att_gt["cohort"].tolist(), self.att_gt["time"].tolist(), strict=True)
        )
        return Estimates(
            labels=labels,
            estimate=self.att_gt["estimate"].to_numpy(dtype=float),
            std_error=self.att_gt["std_error"].to_numpy(dtype=float),
            df=np.full(len(labels), math.inf),
            label_name="cohort_time",
        )

    def _title(self) -> str:
        return (
            f"Callaway-Sant'Anna ATT(g,t) of {self.outcome!r}  [comparison={self.comparison}, "
            f"base_period={self.base_period}, anticipation={self.anticipation}, "
            f"est_method={self.est_method}, {round(100 * (1 - self.alpha))}% pointwise CI]"
        )

    def _lines(self) -> list[str]:
        lines = list(self.sample.lines())
        if self.nclusters is not None:
            lines.append(f"standard errors clustered ({self.nclusters:,} clusters)")
        if self.pretest is not None:
            lines.append(
                f"pre-test (all pre-treatment ATT(g,t) = 0): W = {self.pretest.statistic:.4f}, "
                f"df = {self.pretest.df}, p = {self.pretest.p_value:.5f}"
            )
        lines.extend(f"note: {note}" for note in self.notes)
        return lines

    def _table(self) -> pd.DataFrame:
        return self.att_gt[["cohort", "time", "estimate", "std_error", "ci_low", "ci_high"]]

    def _plot(self, ax: Any) -> None:
        """ATT(g,t) by period, one colour per cohort (pre-treatment cells hollow)."""
        cohorts = self.cohorts
        width = 0.6 / max(len(cohorts), 1)
        for i, g in enumerate(cohorts):
            sub = self.att_gt[self.att_gt["cohort"] == g]
            x = sub["time"].to_numpy(dtype=float) + (i - (len(cohorts) - 1) / 2) * width
            est = sub["estimate"].to_numpy(dtype=float)
            lo = sub["ci_low"].to_numpy(dtype=float)
            hi = sub["ci_high"].to_numpy(dtype=float)
            color = f"C{i % 10}"
            pre = sub["time"].to_numpy(dtype=float) < g
            ok = np.isfinite(lo)
            ax.vlines(x[ok], lo[ok], hi[ok], colors=color, linewidth=1.5)
            ax.scatter(x[~pre], est[~pre], color=color, zorder=3, label=f"cohort {g:g}")
            ax.scatter(x[pre], est[pre], facecolors="white", edgecolors=color, zorder=3)
        ax.axhline(0.0, color="black", linewidth=0.8)
        ax.set_xlabel("period")
        ax.set_ylabel(f"ATT(g,t) on {self.outcome}")
        ax.set_title("Callaway-Sant'Anna group-time effects")
        ax.legend(fontsize=8)


def _as_int(values: np.ndarray) -> np.ndarray:
    """Integer periods (years, election numbers) print as integers; others stay float."""
    v = np.asarray(values, dtype=float)
    if v.size and np.all(np.isfinite(v)) and np.all(v == np.round(v)):
        return v.astype(np.int64)
    return v


def staggered_did(
    data: pd.DataFrame,
    outcome: str,
    unit: str,
    time: str,
    cohort: str,
    *,
    comparison: str | None = None,
    base_period: str = "varying",
    anticipation: int = 0,
    covariates: Sequence[str] | None = None,
    est_method: str = "dr",
    clusters: str | None = None,
    weights: str | None = None,
    alpha: float = 0.05,
    unbalanced: str = "drop",
    time_order: Sequence[Hashable] | None = None,
    control: str | None = None,
) -> StaggeredDiD:
    r"""Group-time average treatment effects under staggered adoption (Callaway & Sant'Anna 2021).

    For every cohort :math:`g` (units first treated in period :math:`g`) and period :math:`t`,

    .. math::

        ATT(g,t) = E[Y_t - Y_{b} \mid G=g] - E[Y_t - Y_{b} \mid C],

    (eq. 2.5 of the paper without covariates; with covariates the doubly robust, regression or IPW
    2x2 estimator of Sant'Anna & Zhao 2020 on each cell), where :math:`b` is the base period
    (``varying``: the previous period before treatment and :math:`g-1-\delta` after it;
    ``universal``: always :math:`g-1-\delta`, so the :math:`g-1-\delta` row is 0 by construction)
    and :math:`C` the comparison group: never-treated units, or (``not_yet_treated``) also units first
    treated after :math:`\max(t,b)+\delta` (:math:`\delta` = ``anticipation``). Standard errors come
    from the influence functions, :math:`\widehat{se}=\sqrt{\sum_i\psi_i^2}/n` (R ``did``'s analytic
    standard errors); with ``clusters`` the influence functions are summed within clusters first,
    :math:`\sqrt{\sum_c(\sum_{i\in c}\psi_i)^2}/n` (R ``did`` clusters only in its bootstrap, and
    averages rather than sums within clusters; the two agree for equal-sized clusters).

    Parameters
    ----------
    data : DataFrame
        Long panel, one row per unit and period.
    outcome, unit, time : str
        Outcome, unit id and period columns. Periods must have an order: numbers, dates, an
        ordered categorical, or labels with ``time_order`` (dates and labels are ranked 1..K).
        Outcomes must be finite: ``inf`` is refused; missing values drop the row (counted).
    cohort : str
        First treated period of the unit (a value of ``time``); ``0`` or missing = never treated.
        Constant within unit.
    comparison : {"never_treated", "not_yet_treated"}
        Comparison group (default ``"never_treated"``; R ``did``'s ``control_group``).
    base_period : {"varying", "universal"}
    anticipation : int
        Periods of anticipation :math:`\delta`.
    covariates : list of str, optional
        Pre-treatment covariates (taken in the earlier of the two periods compared, as R ``did``).
    est_method : {"dr", "reg", "ipw"}
        2x2 estimator with covariates (R ``DRDID::drdid_panel`` / ``reg_did_panel`` /
        ``std_ipw_did_panel``); all coincide without covariates.
    clusters : str, optional
        Cluster column, constant within unit (coarser than units).
    weights : str, optional
        Sampling weights, constant within unit (normalised to mean one).
    alpha : float
        Level of the pointwise intervals.
    unbalanced : {"drop", "pairwise"}
        Units not observed in every period: ``"drop"`` them (R ``did`` with ``panel=TRUE``, the
        default), or ``"pairwise"``: keep them and compute each ATT(g,t) on the units observed in
        both periods it compares (voters who register or are purged between elections), valid
        when being observed is unrelated to the outcome trend.
    time_order : list, optional
        The period labels first to last, when ``time`` holds labels ("2011Q1", "2022 general").
    control : str, optional
        Deprecated name of ``comparison`` (a :class:`FutureWarning`; ``control`` is an arm label
        elsewhere in fieldexp).

    Returns
    -------
    StaggeredDiD
        ``att_gt`` table, influence matrix, pre-test and sample report; ``.aggregate(kind)``.

    Notes
    -----
    Unbalanced panels are balanced first: units not observed with complete data in every period
    are dropped with a counted warning (R ``did`` with ``panel=TRUE``); units treated in the first
    period (+ anticipation) are dropped as they have no pre-period. See ``result.sample``.
    Without covariates every ATT(g,t) and influence function is computed from cohort x period
    sums in one vectorised pass.
    """
    fn = "fieldexp.staggered_did"
    if is_engine_table(data):  # Ibis/Polars/Arrow: one row per unit (fieldexp.engine.staggered)
        data = panel_frame(data, outcome, unit, time, cohort, clusters=clusters, covariates=covariates, weights=weights)  # fmt: skip
    comparison = renamed_argument(
        comparison, control, new="comparison", old="control", function=fn, default="never_treated"
    )
    check_choice(comparison, COMPARISONS, argument="comparison", function=fn)
    check_choice(base_period, BASE_PERIODS, argument="base_period", function=fn)
    check_choice(est_method, EST_METHODS, argument="est_method", function=fn)
    if (
        isinstance(anticipation, bool)
        or not isinstance(anticipation, (int, np.integer))
        or anticipation < 0
    ):
        raise SpecificationError(
            "anticipation must be a non-negative integer number of periods; "
            f"found {anticipation!r}."
        )
    if isinstance(covariates, str):
        covariates = [covariates]
    alpha = check_alpha(alpha, function=fn)
    check_choice(unbalanced, UNBALANCED, argument="unbalanced", function=fn)
    check_columns(data, [time, cohort])
    data, order = order_periods(data, time, cohort, time_order=time_order, function=fn)

    panel = prepare_wide_panel(
        data,
        outcome=outcome,
        unit=unit,
        time=time,
        cohort=cohort,
        covariates=covariates,
        weights=weights,
        clusters=clusters,
        anticipation=int(anticipation),
        comparison=comparison,
        unbalanced=unbalanced,
    )
    n = panel.y.shape[0]
    if n == 0:
        raise DataError("no units left after balancing the panel: see the warnings above.")
    unit_cohort = panel.cohort
    cohorts = np.unique(unit_cohort[unit_cohort > 0])
    if len(cohorts) == 0:
        raise DataError(
            f"cohort column {cohort!r} has no treated units (every cohort is 0/missing): nothing "
            "to estimate."
        )
    if comparison == "never_treated" and not np.any(unit_cohort == 0):
        raise DataError(
            "comparison='never_treated' needs never-treated units (cohort 0 or missing in "
            f"{cohort!r}); found none. Use comparison='not_yet_treated' (the last cohort then "
            "serves as comparison, as in R did)."
        )
    design = gt_design(
        panel.periods,
        cohorts,
        control=comparison,
        base_period=base_period,
        anticipation=float(anticipation),
    )
    code = np.searchsorted(cohorts, unit_cohort) + 1
    code[unit_cohort == 0] = 0
    if panel.x is None and panel.report.pairwise and np.isnan(panel.y).any():
        res = att_gt_pairwise(panel.y, code, panel.weights, design)
    elif panel.x is None:
        res = att_gt_no_covariates(panel.y, code, panel.weights, design)
    else:
        res = att_gt_covariates(panel.y, panel.x, code, panel.weights, design, est_method)
    se = res.se if panel.clusters is None else influence_se(res.influence, n, panel.clusters)
    se = np.asarray(se, dtype=float)
    infs = [t_inference(a, s, math.inf, alpha) for a, s in zip(res.att, se, strict=True)]
    att_gt = pd.DataFrame(
        {
            "cohort": _as_int(design.group),
            "time": _as_int(design.time),
            "base_period": _as_int(design.base),
            "estimate": res.att,
            "std_error": se,
            "ci_low": [i.ci_low for i in infs],
            "ci_high": [i.ci_high for i in infs],
            "n_treated": res.n_treated,
            "n_control": res.n_control,
        }
    )
    pretest = _pretest(res.att, se, res.influence, design.group, design.time, n, panel.clusters)
    notes: list[str] = list(order.note(time))
    if panel.x is not None:
        notes.append(f"covariates {', '.join(panel.covariate_names)} with est_method={est_method}")
    weights_ind = np.ones(n) if panel.weights is None else panel.weights
    return StaggeredDiD(
        att_gt=att_gt,
        influence=res.influence,
        unit_ids=panel.unit_ids,
        pretest=pretest,
        sample=panel.report,
        outcome=outcome,
        comparison=comparison,
        base_period=base_period,
        anticipation=int(anticipation),
        est_method=est_method,
        covariates=panel.covariate_names,
        alpha=alpha,
        unit_cohort=unit_cohort,
        unit_weights=weights_ind,
        clusters=panel.clusters,
        cohorts=cohorts,
        notes=tuple(notes),
    )


def _pretest(
    att: np.ndarray,
    se: np.ndarray,
    psi: np.ndarray,
    group: np.ndarray,
    time: np.ndarray,
    n: int,
    clusters: np.ndarray | None,
) -> TestResult | None:
    pre = np.flatnonzero((group > time) & np.isfinite(se) & np.isfinite(att))
    if len(pre) == 0:
        return None
    s = cluster_sums(psi[:, pre], clusters)
    V = gram(s) / n**2
    if np.linalg.cond(V, 1) * np.finfo(float).eps >= 1:
        return None
    a = att[pre]
    W = float(a @ np.linalg.solve(V, a))
    return TestResult(
        statistic=W,
        df=len(pre),
        p_value=float(stats.chi2.sf(W, len(pre))),
        distribution="chi2",
        hypothesis="all pre-treatment ATT(g,t) = 0",
    )
