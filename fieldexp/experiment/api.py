"""Public entry points for randomised experiments: :func:`itt` and :func:`cace`.

They validate at the boundary (:mod:`fieldexp.experiment.data`), build the estimator's
arrays (:mod:`fieldexp.experiment.designs`), call the pure kernels
(:mod:`fieldexp.experiment.dim`, :mod:`fieldexp.stats.linear`) and return an
:class:`~fieldexp.results.EffectResult`.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd

from fieldexp._validate import check_alpha, check_choice
from fieldexp.engine import is_engine_table
from fieldexp.engine.api import cace_engine, itt_engine
from fieldexp.errors import (
    DataError,
    DesignError,
    EstimationError,
    SpecificationError,
    WeakInstrumentWarning,
    format_rows,
)
from fieldexp.experiment.data import ExperimentData, prepare_experiment
from fieldexp.experiment.designs import lin_design
from fieldexp.experiment.dim import difference_in_means
from fieldexp.results import EffectResult, FirstStage
from fieldexp.stats.covariance import LeverageError, check_small_sample, resolve_se_type
from fieldexp.stats.groups import GroupIndex
from fieldexp.stats.lin import block_arm_cells, fit_lin_blocked, lin_blocked_supported
from fieldexp.stats.linear import (
    Absorbed,
    LinearFit,
    absorb_columns,
    fit_absorbed,
    fit_iv_and_first_stage_cr2,
    fit_ols,
)

__all__ = ["cace", "itt"]

METHODS = ("auto", "dim", "ols", "lin")
#: first-stage F below which a CACE estimate is flagged as weakly identified (Staiger & Stock 1997)
WEAK_FIRST_STAGE_F = 10.0


def _check_alpha(alpha: object, function: str) -> float:
    return check_alpha(alpha, function=function)  # the one validator (fieldexp._validate)


def _design_label(data: ExperimentData) -> str:
    """``standard``, ``blocked``, ``clustered``, ``blocked-clustered``; with ``-se`` when the
    clusters are not the units of assignment (coarser, or crossing blocks) and serve the
    standard errors only (``clustered-se``, ``blocked-clustered-se``)."""
    if data.blocks is not None and data.clusters is not None:
        label = "blocked-clustered"
    elif data.blocks is not None:
        label = "blocked"
    elif data.clusters is not None:
        label = "clustered"
    else:
        label = "standard"
    if data.clusters_coarse or data.clusters_cross_blocks:
        label += "-se"
    return label + (" (weighted)" if data.weights is not None else "")


def _median(y: np.ndarray) -> float:
    """``np.median(y)``, counted instead of partitioned when ``y`` is 0/1 (a turnout outcome):
    the same value (the mean of the two middle order statistics when ``n`` is even)."""
    n = len(y)
    ones = int(np.count_nonzero(y == 1.0))
    if n and ones + int(np.count_nonzero(y == 0.0)) == n:
        # sorted, rows n - ones .. n - 1 are ones
        lo, hi = (n - 1) // 2, n // 2
        return (float(lo >= n - ones) + float(hi >= n - ones)) / 2.0
    return float(np.median(y))


def _centred_outcome(y: np.ndarray) -> np.ndarray:
    """``y`` minus its median: every estimate and SE is invariant to the shift, and sums of
    squares of the shifted values do not cancel catastrophically (``y + 1e11``)."""
    return y - _median(y)


def _check_clusters_per_arm(data: ExperimentData, function: str) -> None:
    """A cluster-robust variance needs at least two clusters holding each arm."""
    g = data.clusters
    if g is None:
        return
    treated = (
        data.cluster_treated
        if data.cluster_treated is not None
        else np.bincount(g.codes, weights=data.z, minlength=g.n_groups)
    )
    with_t = int((treated > 0).sum())
    with_c = int((treated < g.counts).sum())
    if min(with_t, with_c) < 2:
        arm = "assigned" if with_t < 2 else "not-assigned"
        raise DesignError(
            f"every {arm} unit is in one cluster of {data.clusters_name!r} ({function}): a "
            "cluster-robust standard error needs at least two clusters in each arm (with one, "
            "that arm's residuals sum to zero and its sampling variability is not estimated). "
            "Cluster at a finer level, or use a design-based analysis of the clusters."
        )


def _leverage_error(exc: LeverageError, data: ExperimentData, function: str) -> EstimationError:
    """Name the blocks and rows with leverage one and the ways out."""
    rows = exc.rows
    labels = data.row_labels[rows] if data.row_labels is not None else rows
    where = f"in {format_rows(labels[:5], total=len(rows))}"
    advice = "use se_type='HC0', 'HC1' or 'stata' (defined at leverage one)"
    if data.blocks is not None and data.block_values is not None:
        blocks = pd.unique(data.block_values[rows])
        cells = block_arm_cells(data.blocks, data.z)
        small = cells.counts[cells.codes[rows]] == 1
        cause = " (each is the only unit of its arm in its block)" if bool(np.all(small)) else ""
        shown = format_rows(blocks[:5], total=len(blocks))
        shown = shown.removeprefix("rows ").removeprefix("row ")
        where = f"{where}{cause}, block(s) {shown} of {data.blocks_name!r}"
        advice = "drop those blocks, or " + advice
    return EstimationError(f"{exc} {where} ({function}); {advice}.")


def _small_sample(small_sample: object, se_type: str, function: str) -> str:
    return check_small_sample(small_sample, se_type, function=function)


def _from_fit(
    fit: LinearFit,
    term: str,
    data: ExperimentData,
    *,
    alpha: float,
    method: str,
    estimand: str,
    first_stage: FirstStage | None = None,
    notes: tuple[str, ...] = (),
) -> EffectResult:
    j = fit.index(term)
    return EffectResult.from_estimate(
        estimate=float(fit.coef[j]),
        std_error=float(fit.std_error[j]),
        df=float(fit.df[j]),
        alpha=alpha,
        nobs=data.nobs,
        nclusters=fit.nclusters,
        se_type=fit.se_type,
        method=method,
        design=_design_label(data),
        outcome=data.outcome,
        term=term,
        estimand=estimand,
        first_stage=first_stage,
        n_dropped=data.n_dropped,
        notes=data.notes + notes,
    )


def itt(
    data: pd.DataFrame,
    outcome: str,
    assignment: str,
    *,
    blocks: str | None = None,
    clusters: str | None = None,
    covariates: str | list[str] | None = None,
    method: str = "auto",
    se_type: str | None = None,
    weights: str | None = None,
    alpha: float = 0.05,
    small_sample: str = "estimatr",
) -> EffectResult:
    r"""Intention-to-treat effect of assignment on ``outcome``.

    Parameters
    ----------
    data : DataFrame
        One row per unit (voter). Not modified.
    outcome : str
        Outcome column (turnout 0/1, registration, vote share...).
    assignment : str
        0/1 (or boolean) assignment column.
    blocks : str, optional
        Randomisation blocks (e.g. precinct). ``dim``: block-weighted difference in means;
        ``ols``: block fixed effects; ``lin``: block indicators join the interacted covariates.
    clusters : str, optional
        Cluster column. Usually the units assigned together (households), nested in blocks.
        The regressions (``ols``, ``lin``) also accept clusters coarser than the assignment
        (villages, wards, precincts: the assignment varies within them) and clusters that cross
        blocks, as ``lm_robust`` does; ``design`` then ends in ``-se``. The same column may be
        ``blocks`` too (``lm_robust(..., fixed_effects = ~v, clusters = v)``).
    covariates : str or list of str, optional
        Pre-treatment covariates (e.g. past turnout). Non-numeric columns become indicators.
    method : {"auto", "dim", "ols", "lin"}
        ``"auto"`` is ``"lin"`` with covariates, otherwise ``"dim"`` (``"ols"`` when the
        clusters are coarser than the assignment, which the difference in means refuses).
    se_type : {"HC0", "HC1", "HC2", "HC3", "CR0", "CR2", "stata"}, optional
        Regression methods only. Default ``"HC2"`` without clusters, ``"CR2"`` with
        (``"stata"`` is HC1 without clusters and CR1 with *G - 1* df with them).
    weights : str, optional
        Positive weights column.
    alpha : float
        Significance level of the confidence interval.
    small_sample : {"estimatr", "fixest"}
        Which parameters *K* the CR1 factor :math:`\frac{G}{G-1}\frac{n-1}{n-K}` of
        ``se_type="stata"`` counts: all absorbed block effects (estimatr, the default) or not
        those nested in the clusters (fixest/pyfixest's default ``ssc``).

    Returns
    -------
    EffectResult
        ``estimand="ITT"``, ``term=assignment``.

    Raises
    ------
    EstimationError
        HC2/HC3 with an observation of leverage one (named, with its block), a zero standard
        error (no variance within arms).
    DesignError
        An arm held by a single cluster; ``method="dim"`` with clusters coarser than the
        assignment.

    Notes
    -----
    ``method="dim"`` equals estimatr ``difference_in_means(outcome ~ assignment, blocks=,
    clusters=, weights=)``; ``"ols"`` equals ``lm_robust(outcome ~ assignment + covariates,
    fixed_effects = ~ blocks, clusters=, se_type=, weights=)``; ``"lin"`` equals
    ``lm_lin(outcome ~ assignment, covariates = ~ covariates [+ blocks], ...)``. Rows with a
    missing value in any used column are dropped listwise with a warning.
    """
    if is_engine_table(data):  # Ibis / Polars / Arrow: aggregates pushed down (fieldexp.engine)
        return itt_engine(data, outcome, assignment, blocks=blocks, clusters=clusters,
                          covariates=covariates, method=method, se_type=se_type,
                          weights=weights, alpha=alpha, small_sample=small_sample)  # fmt: skip
    function = "fieldexp.itt"
    check_choice(method, METHODS, argument="method", function=function)
    alpha = _check_alpha(alpha, function)
    prepared = prepare_experiment(
        data,
        function=function,
        outcome=outcome,
        assignment=assignment,
        blocks=blocks,
        clusters=clusters,
        covariates=covariates,
        weights=weights,
    )
    coarse = prepared.clusters_coarse or prepared.clusters_cross_blocks
    if method == "auto":
        method = "lin" if prepared.X.shape[1] else ("ols" if coarse else "dim")
    y = _centred_outcome(prepared.y)
    if method == "dim":
        if se_type is not None:
            raise SpecificationError(
                f"The 'se_type' parameter of {function} applies to method='ols' or 'lin'; "
                "method='dim' uses the design-based variance of the difference in means. "
                f"Got se_type={se_type!r}; use method='ols' for a regression with that variance."
            )
        if small_sample != "estimatr":
            raise SpecificationError(
                f"The 'small_sample' parameter of {function} applies to method='ols' or 'lin' "
                f"(with se_type='stata'); got small_sample={small_sample!r} with method='dim'."
            )
        if prepared.X.shape[1]:
            raise SpecificationError(
                f"method='dim' in {function} does not adjust for covariates; "
                "use method='lin' or 'ols', or drop `covariates`."
            )
        if coarse:
            raise DesignError(
                f"method='dim' follows estimatr's difference_in_means, whose `clusters` are the "
                "units of assignment: the assignment must be constant within each cluster and "
                f"clusters nested in blocks; here {prepared.cluster_issue} ({function}). For "
                "standard errors clustered at a coarser level than the assignment (villages, "
                "precincts), use method='ols' (lm_robust with the same clusters) or "
                "method='auto', which picks it."
            )
        _check_clusters_per_arm(prepared, function)
        est = difference_in_means(
            y,
            prepared.z,
            blocks=prepared.blocks,
            clusters=prepared.clusters,
            weights=prepared.weights,
        )
        _check_positive_se(est.std_error, prepared, function)
        return EffectResult.from_estimate(
            estimate=est.estimate,
            std_error=est.std_error,
            df=est.df,
            alpha=alpha,
            nobs=prepared.nobs,
            nclusters=est.nclusters,
            se_type=est.variance,
            method="dim",
            design=est.design,
            outcome=outcome,
            term=assignment,
            estimand="ITT",
            n_dropped=prepared.n_dropped,
            notes=prepared.notes,
        )
    resolved = resolve_se_type(se_type, prepared.clusters is not None)
    small_sample = _small_sample(small_sample, resolved, function)
    _check_clusters_per_arm(prepared, function)
    try:
        if method == "ols":
            fit = _fit_itt_ols(prepared, y, resolved, small_sample)
        else:
            fit = _fit_itt_lin(prepared, y, resolved, small_sample)
    except LeverageError as exc:
        raise _leverage_error(exc, prepared, function) from None
    _check_positive_se(float(fit.std_error[fit.index(assignment)]), prepared, function)
    return _from_fit(fit, assignment, prepared, alpha=alpha, method=method, estimand="ITT")


def _check_positive_se(se: float, data: ExperimentData, function: str) -> None:
    """Refuse a zero (or rounding-level) standard error: the outcome does not vary around
    the fitted values, so no sampling variability can be estimated (an SE of 1e-16 would
    report p = 1e-27)."""
    y = data.y
    # scale = max |y - median(y)| <= max(y) - min(y): the range settles most calls without
    # the median (a partition of n values)
    if se > 1e-10 * float(np.ptp(y)) / math.sqrt(len(y)):
        return
    scale = float(np.max(np.abs(y - _median(y))))
    if not (se > 1e-10 * scale / math.sqrt(len(y))):
        raise EstimationError(
            f"the standard error of the effect on {data.outcome!r} is zero ({se:.3g}): the "
            "outcome has no variance within the arms (within blocks), so its sampling "
            f"variability cannot be estimated ({function}). Check the outcome column; an "
            "exact test (fieldexp.randomization_inference) still applies."
        )


def _fit_itt_ols(prepared: ExperimentData, y: np.ndarray, se_type: str, small: str) -> LinearFit:
    """lm_robust(y ~ z + X, fixed_effects = ~blocks, clusters=, se_type=, weights=)."""
    n, p = prepared.X.shape
    lead = 0 if prepared.blocks is not None else 1
    cols = np.empty((n, 2 + lead + p), order="F")
    cols[:, 0] = y
    cols[:, 1] = prepared.z
    if lead:
        cols[:, 2] = 1.0
    cols[:, 2 + lead :] = prepared.X
    absorbed = absorb_columns(
        cols,
        se_type=se_type,
        weights=prepared.weights,
        absorb=() if prepared.blocks is None else (prepared.blocks,),
        clusters=prepared.clusters,
        own_columns=True,
        absorb_names=(prepared.blocks_name or "blocks",),  # named in messages
    )
    names = (prepared.assignment, *(("(Intercept)",) if lead else ()), *prepared.covariate_names)
    return fit_absorbed(
        absorbed,
        y_col=0,
        x_cols=range(1, 2 + lead + p),
        names=names,
        se_type=se_type,
        clusters=prepared.clusters,
        df_terms=(prepared.assignment,),
        small_sample=small,
        report=(prepared.assignment,),
    )


def _fit_itt_lin(prepared: ExperimentData, y: np.ndarray, se_type: str, small: str) -> LinearFit:
    """lm_lin(y ~ z, covariates = ~ X [+ factor(blocks)], clusters=, se_type=, weights=).

    With blocks, the block x arm cells are absorbed (:mod:`fieldexp.stats.lin`) unless the
    variance needs the dense design (weighted CR2, or CR2 with clusters not nested in cells).
    """
    blocks: GroupIndex | None = prepared.blocks
    if blocks is not None:
        cells = block_arm_cells(blocks, prepared.z)
        if lin_blocked_supported(
            se_type, weighted=prepared.weights is not None, clusters=prepared.clusters, cells=cells
        ):
            return fit_lin_blocked(
                y,
                prepared.z,
                prepared.X,
                z_name=prepared.assignment,
                covariate_names=prepared.covariate_names,
                blocks=blocks,
                se_type=se_type,
                weights=prepared.weights,
                clusters=prepared.clusters,
            )
    design = lin_design(
        prepared.z,
        prepared.assignment,
        prepared.X,
        prepared.covariate_names,
        blocks,
        prepared.weights,
    )
    return fit_ols(
        design.X,
        y,
        names=design.names,
        se_type=se_type,
        weights=prepared.weights,
        absorb=design.absorb,
        clusters=prepared.clusters,
        df_terms=(prepared.assignment,),
        small_sample=small,
    )


def iv_columns(
    prepared: ExperimentData, y: np.ndarray, d: np.ndarray, z: np.ndarray, se_type: str
) -> tuple[Absorbed, tuple[str, ...], list[int]]:
    """One within transformation of ``[y, d, z, (1), X]`` shared by a first stage and its 2SLS.

    Columns 0, 1, 2 are the outcome, the treatment (or dose) and the instrument; an intercept
    follows when no blocks are absorbed, then the covariates. Returns the absorbed columns, the
    intercept's name (or none) and the positions of the exogenous columns.
    """
    n, p = prepared.X.shape
    lead = [] if prepared.blocks is not None else [np.ones(n)]
    cols = np.empty((n, 3 + len(lead) + p), order="F")
    cols[:, 0], cols[:, 1], cols[:, 2] = y, d, z
    if lead:
        cols[:, 3] = 1.0
    cols[:, 3 + len(lead) :] = prepared.X
    absorbed = absorb_columns(
        cols,
        se_type=se_type,
        weights=prepared.weights,
        absorb=() if prepared.blocks is None else (prepared.blocks,),
        clusters=prepared.clusters,
        own_columns=True,
        absorb_names=(prepared.blocks_name or "blocks",),  # named in messages
    )
    const = ("(Intercept)",) if lead else ()
    return absorbed, const, list(range(3, 3 + len(lead) + p))


def cace(
    data: pd.DataFrame,
    outcome: str,
    treatment: str,
    assignment: str,
    *,
    blocks: str | None = None,
    clusters: str | None = None,
    covariates: str | list[str] | None = None,
    se_type: str | None = None,
    weights: str | None = None,
    alpha: float = 0.05,
    small_sample: str = "estimatr",
) -> EffectResult:
    r"""Complier average causal effect: the effect per contacted voter, by 2SLS.

    Assignment instruments contact (Angrist, Imbens & Rubin 1996). With one-sided
    noncompliance and no covariates it is the Wald ratio

    .. math:: \widehat{CACE} = \widehat{ITT}_Y / \widehat{ITT}_D,

    and in general estimatr's ``iv_robust(outcome ~ treatment + covariates |
    assignment + covariates, fixed_effects = ~ blocks, clusters=, se_type=, weights=)``.
    The parameters other than ``treatment`` are those of :func:`itt` (``clusters`` may be
    coarser than the assignment, and the same column as ``blocks``, as in ``iv_robust``).

    Parameters
    ----------
    treatment : str
        0/1 column: contact actually made (someone answered the door).

    Returns
    -------
    EffectResult
        ``estimand="CACE"``, ``term=treatment``, with ``first_stage`` (the contact-rate
        ITT_D, its SE and the first-stage F). Warns (:class:`WeakInstrumentWarning`) when the
        first-stage F is below 10. Contacts recorded among controls are allowed (two-sided
        noncompliance) and reported in ``notes``.
    """
    if is_engine_table(data):  # Ibis / Polars / Arrow: aggregates pushed down (fieldexp.engine)
        return cace_engine(data, outcome, treatment, assignment, blocks=blocks, clusters=clusters,
                           covariates=covariates, se_type=se_type, weights=weights,
                           alpha=alpha, small_sample=small_sample)  # fmt: skip
    function = "fieldexp.cace"
    alpha = _check_alpha(alpha, function)
    prepared = prepare_experiment(
        data,
        function=function,
        outcome=outcome,
        assignment=assignment,
        treatment=treatment,
        blocks=blocks,
        clusters=clusters,
        covariates=covariates,
        weights=weights,
    )
    if prepared.d is None:  # pragma: no cover - prepare_experiment always sets it here
        raise SpecificationError("cace needs a treatment column")
    resolved = resolve_se_type(se_type, prepared.clusters is not None)
    small_sample = _small_sample(small_sample, resolved, function)
    _check_clusters_per_arm(prepared, function)
    d, z, w = prepared.d, prepared.z, prepared.weights
    if np.all(d == d[0]):
        raise DataError(
            f"column {treatment!r} (argument 'treatment' of {function}) has no variation "
            f"(every row is {d[0]:g}); the CACE is not identified."
        )

    # one within transformation shared by the first stage and the 2SLS fit
    absorbed, const, exog = iv_columns(prepared, _centred_outcome(prepared.y), d, z, resolved)
    try:
        if resolved == "CR2" and prepared.clusters is not None:
            # one pass over the clusters: the 2SLS and its first stage share A_g
            fs_fit, fit = fit_iv_and_first_stage_cr2(
                absorbed,
                y_col=0,
                d_col=1,
                z_col=2,
                exog_cols=exog,
                iv_names=(treatment, *const, *prepared.covariate_names),
                fs_names=(assignment, *const, *prepared.covariate_names),
                clusters=prepared.clusters,
            )
        else:
            fs_fit = fit_absorbed(
                absorbed,
                y_col=1,
                x_cols=[2, *exog],
                names=(assignment, *const, *prepared.covariate_names),
                se_type=resolved,
                clusters=prepared.clusters,
                df_terms=(assignment,),
                small_sample=small_sample,
                report=(assignment,),
                warn=False,  # the 2SLS below warns about the same dropped columns
            )
            fit = fit_absorbed(
                absorbed,
                y_col=0,
                x_cols=[1, *exog],
                z_cols=[2, *exog],
                names=(treatment, *const, *prepared.covariate_names),
                se_type=resolved,
                clusters=prepared.clusters,
                df_terms=(treatment,),
                small_sample=small_sample,
                report=(treatment,),
                z_names=(assignment,),  # names the instrument in messages
            )
    except LeverageError as exc:
        raise _leverage_error(exc, prepared, function) from None
    _check_positive_se(float(fit.std_error[fit.index(treatment)]), prepared, function)
    j = fs_fit.index(assignment)
    treated = z == 1
    rate1 = float(np.average(d[treated], weights=None if w is None else w[treated]))
    rate0 = float(np.average(d[~treated], weights=None if w is None else w[~treated]))
    first_stage = FirstStage.from_estimate(
        estimate=float(fs_fit.coef[j]),
        std_error=float(fs_fit.std_error[j]),
        df=float(fs_fit.df[j]),
        alpha=alpha,
        treatment=treatment,
        assignment=assignment,
        control_contact_rate=rate0,
        treated_contact_rate=rate1,
    )
    notes: tuple[str, ...] = ()
    if math.isnan(first_stage.f_statistic) or first_stage.f_statistic < WEAK_FIRST_STAGE_F:
        msg = (
            f"weak first stage: assignment moves contact by {first_stage.estimate:.4f} "
            f"(F = {first_stage.f_statistic:.2f} < {WEAK_FIRST_STAGE_F:g}); the CACE and its "
            "confidence interval are unreliable"
        )
        warnings.warn(msg, WeakInstrumentWarning, stacklevel=2)
        notes = (msg,)
    return _from_fit(
        fit,
        treatment,
        prepared,
        alpha=alpha,
        method="2sls",
        estimand="CACE",
        first_stage=first_stage,
        notes=notes,
    )
