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
from fieldexp.errors import DataError, SpecificationError, WeakInstrumentWarning
from fieldexp.experiment.data import ExperimentData, prepare_experiment
from fieldexp.experiment.designs import lin_design
from fieldexp.experiment.dim import difference_in_means
from fieldexp.results import EffectResult, FirstStage
from fieldexp.stats.covariance import resolve_se_type
from fieldexp.stats.linear import LinearFit, absorb_columns, fit_absorbed, fit_ols

__all__ = ["cace", "itt"]

METHODS = ("auto", "dim", "ols", "lin")
#: first-stage F below which a CACE estimate is flagged as weakly identified (Staiger & Stock 1997)
WEAK_FIRST_STAGE_F = 10.0


def _check_alpha(alpha: object, function: str) -> float:
    return check_alpha(alpha, function=function)  # the one validator (fieldexp._validate)


def _design_label(data: ExperimentData) -> str:
    if data.blocks is not None and data.clusters is not None:
        label = "blocked-clustered"
    elif data.blocks is not None:
        label = "blocked"
    elif data.clusters is not None:
        label = "clustered"
    else:
        label = "standard"
    return label + (" (weighted)" if data.weights is not None else "")


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
        Units assigned together (e.g. household); must be nested in blocks.
    covariates : str or list of str, optional
        Pre-treatment covariates (e.g. past turnout). Non-numeric columns become indicators.
    method : {"auto", "dim", "ols", "lin"}
        ``"auto"`` is ``"dim"`` without covariates and ``"lin"`` with them.
    se_type : {"HC0", "HC1", "HC2", "HC3", "CR0", "CR2", "stata"}, optional
        Regression methods only. Default ``"HC2"`` without clusters, ``"CR2"`` with
        (``"stata"`` is HC1 without clusters and CR1 with *G - 1* df with them).
    weights : str, optional
        Positive weights column.
    alpha : float
        Significance level of the confidence interval.

    Returns
    -------
    EffectResult
        ``estimand="ITT"``, ``term=assignment``.

    Notes
    -----
    ``method="dim"`` equals estimatr ``difference_in_means(outcome ~ assignment, blocks=,
    clusters=, weights=)``; ``"ols"`` equals ``lm_robust(outcome ~ assignment + covariates,
    fixed_effects = ~ blocks, clusters=, se_type=, weights=)``; ``"lin"`` equals
    ``lm_lin(outcome ~ assignment, covariates = ~ covariates [+ blocks], ...)``. Rows with a
    missing value in any used column are dropped listwise with a warning.
    """
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
    if method == "auto":
        method = "lin" if prepared.X.shape[1] else "dim"
    if method == "dim":
        if se_type is not None:
            raise SpecificationError(
                f"The 'se_type' parameter of {function} applies to method='ols' or 'lin'; "
                "method='dim' uses the design-based variance of the difference in means. "
                f"Got se_type={se_type!r}; use method='ols' for a regression with that variance."
            )
        if prepared.X.shape[1]:
            raise SpecificationError(
                f"method='dim' in {function} does not adjust for covariates; "
                "use method='lin' or 'ols', or drop `covariates`."
            )
        est = difference_in_means(
            prepared.y,
            prepared.z,
            blocks=prepared.blocks,
            clusters=prepared.clusters,
            weights=prepared.weights,
        )
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
    if method == "ols":
        # [y, z, (1), X] in one Fortran matrix, absorbed once
        n, p = prepared.X.shape
        lead = 0 if prepared.blocks is not None else 1
        cols = np.empty((n, 2 + lead + p), order="F")
        cols[:, 0] = prepared.y
        cols[:, 1] = prepared.z
        if lead:
            cols[:, 2] = 1.0
        cols[:, 2 + lead :] = prepared.X
        absorbed = absorb_columns(
            cols,
            se_type=resolved,
            weights=prepared.weights,
            absorb=() if prepared.blocks is None else (prepared.blocks,),
            clusters=prepared.clusters,
            own_columns=True,
        )
        names = (assignment, *(("(Intercept)",) if lead else ()), *prepared.covariate_names)
        fit = fit_absorbed(
            absorbed,
            y_col=0,
            x_cols=range(1, 2 + lead + p),
            names=names,
            se_type=resolved,
            clusters=prepared.clusters,
            df_terms=(assignment,),
        )
    else:
        design = lin_design(
            prepared.z,
            assignment,
            prepared.X,
            prepared.covariate_names,
            prepared.blocks,
            prepared.weights,
        )
        fit = fit_ols(
            design.X,
            prepared.y,
            names=design.names,
            se_type=resolved,
            weights=prepared.weights,
            absorb=design.absorb,
            clusters=prepared.clusters,
            df_terms=(assignment,),
        )
    return _from_fit(fit, assignment, prepared, alpha=alpha, method=method, estimand="ITT")


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
) -> EffectResult:
    r"""Complier average causal effect: the effect per contacted voter, by 2SLS.

    Assignment instruments contact (Angrist, Imbens & Rubin 1996). With one-sided
    noncompliance and no covariates it is the Wald ratio

    .. math:: \widehat{CACE} = \widehat{ITT}_Y / \widehat{ITT}_D,

    and in general estimatr's ``iv_robust(outcome ~ treatment + covariates |
    assignment + covariates, fixed_effects = ~ blocks, clusters=, se_type=, weights=)``.
    The parameters other than ``treatment`` are those of :func:`itt`.

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
    d, z, w = prepared.d, prepared.z, prepared.weights
    if np.all(d == d[0]):
        raise DataError(
            f"column {treatment!r} (argument 'treatment' of {function}) has no variation "
            f"(every row is {d[0]:g}); the CACE is not identified."
        )

    # one within transformation shared by the first stage and the 2SLS fit
    n, p = prepared.X.shape
    lead = [] if prepared.blocks is not None else [np.ones(n)]
    cols = np.empty((n, 3 + len(lead) + p), order="F")
    cols[:, 0], cols[:, 1], cols[:, 2] = prepared.y, d, z
    if lead:
        cols[:, 3] = 1.0
    cols[:, 3 + len(lead) :] = prepared.X
    absorbed = absorb_columns(
        cols,
        se_type=resolved,
        weights=w,
        absorb=() if prepared.blocks is None else (prepared.blocks,),
        clusters=prepared.clusters,
        own_columns=True,
    )
    const = ("(Intercept)",) if lead else ()
    exog = list(range(3, 3 + len(lead) + p))
    fs_fit = fit_absorbed(
        absorbed,
        y_col=1,
        x_cols=[2, *exog],
        names=(assignment, *const, *prepared.covariate_names),
        se_type=resolved,
        clusters=prepared.clusters,
        df_terms=(assignment,),
    )
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

    fit = fit_absorbed(
        absorbed,
        y_col=0,
        x_cols=[1, *exog],
        z_cols=[2, *exog],
        names=(treatment, *const, *prepared.covariate_names),
        se_type=resolved,
        clusters=prepared.clusters,
        df_terms=(treatment,),
    )
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
