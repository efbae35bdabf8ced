"""``fx.itt`` and ``fx.cace`` on engine tables (dispatched from :mod:`fieldexp.experiment.api`).

Same arguments and the same :class:`~fieldexp.results.EffectResult` as the DataFrame path;
only aggregates are pulled (:mod:`fieldexp.engine.tables`). Pushed down:

* ``method="dim"`` (the default without covariates): standard, blocked, clustered,
  blocked-clustered and matched-pair differences in means from cluster or block x arm
  totals (:mod:`fieldexp.engine.sufficient`);
* ``method="ols"`` and the CACE (2SLS): block fixed effects absorbed, numeric covariates,
  ``se_type`` HC0, HC1, HC2, HC3, CR0, ``stata`` (:mod:`fieldexp.engine.linear`).

Not pushed down (a clear :class:`SpecificationError` says what to do): ``method="lin"``
(and ``"auto"`` with covariates, which means lin), weights, categorical covariates, CR2
for regressions (the default with clusters: pass ``se_type="CR0"`` or ``"stata"``).
"""

from __future__ import annotations

import math
import numbers
import warnings

from fieldexp.engine import sufficient
from fieldexp.engine.linear import FitSpec, centre, fit_engine, refuse_cr2
from fieldexp.engine.prepare import D, EngineData, Y, Z, prepare_engine, xname
from fieldexp.engine.sufficient import cells_and_cr2, dim_from_totals, engine_totals
from fieldexp.engine.tables import as_ibis
from fieldexp.errors import SpecificationError, WeakInstrumentWarning
from fieldexp.results import EffectResult, FirstStage
from fieldexp.stats.covariance import check_small_sample, resolve_se_type

__all__ = ["cace_engine", "itt_engine"]

#: as fieldexp.experiment.api.WEAK_FIRST_STAGE_F (Staiger & Stock 1997)
WEAK_FIRST_STAGE_F = 10.0


def _check_alpha(alpha: object, function: str) -> float:
    if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real) or not 0 < float(alpha) < 1:
        raise SpecificationError(
            f"The 'alpha' parameter of {function} must be a number strictly between 0 and 1. "
            f"Got {alpha!r} instead."
        )
    return float(alpha)


def _design_label(data: EngineData) -> str:
    if data.blocked and data.clustered:
        return "blocked-clustered"
    if data.blocked:
        return "blocked"
    return "clustered" if data.clustered else "standard"


def _no_lin(method: str, function: str) -> None:
    if method == "lin":
        raise SpecificationError(
            f"method='lin' is not pushed down to the engine yet ({function} on an engine table); "
            "use method='ols' (block fixed effects + covariates), or pass a pandas DataFrame."
        )


def itt_engine(
    data: object,
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
    """:func:`fieldexp.itt` on an engine table (arguments and result as there).

    ``small_sample="fixest"`` (``se_type="stata"``/``"HC1"``) counts the block effects as
    fixest does (:func:`fieldexp.stats.covariance.fixest_fe_count`): block effects nested in
    the clusters are not counted. With whole clusters assigned and both arms in every block,
    each block holds at least two clusters, so no block factor is nested and the factor equals
    estimatr's; the rule is applied all the same (:func:`fieldexp.engine.linear.fit_engine`).
    """
    function = "fieldexp.itt"
    if method not in ("auto", "dim", "ols", "lin"):
        raise SpecificationError(
            f"The 'method' parameter of {function} must be one of 'auto', 'dim', 'ols', 'lin'. "
            f"Got {method!r} instead."
        )
    alpha = _check_alpha(alpha, function)
    has_covs = bool(covariates) if not isinstance(covariates, str) else True
    if method == "auto" and has_covs:
        raise SpecificationError(
            f"method='auto' with covariates means Lin's estimator, which is not pushed down to "
            f"the engine yet ({function} on an engine table); pass method='ols', or a pandas "
            "DataFrame."
        )
    _no_lin(method, function)
    table = as_ibis(data, function=function)
    prepared = prepare_engine(
        table,
        function=function,
        outcome=outcome,
        assignment=assignment,
        blocks=blocks,
        clusters=clusters,
        covariates=covariates,
        weights=weights,
    )
    if method == "auto":
        method = "dim"
    common = dict(
        nobs=prepared.nobs,
        outcome=outcome,
        term=assignment,
        estimand="ITT",
        n_dropped=prepared.n_dropped,
        notes=prepared.notes,
    )
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
        if prepared.clustered and prepared.n_clusters > sufficient.MAX_PULLED_CLUSTERS:
            # many clusters: the CR2 sums are computed in the engine (B rows, not G)
            cells, ecr2 = cells_and_cr2(prepared, function=function)
            est = dim_from_totals(cells, blocked=prepared.blocked, clustered=True, engine_cr2=ecr2)
        else:
            ct = engine_totals(prepared, function=function)
            est = dim_from_totals(ct, blocked=prepared.blocked, clustered=prepared.clustered)
        return EffectResult.from_estimate(
            estimate=est.estimate,
            std_error=est.std_error,
            df=est.df,
            alpha=alpha,
            nclusters=est.nclusters,
            se_type=est.variance,
            method="dim",
            design=est.design,
            **common,
        )
    resolved = resolve_se_type(se_type, prepared.clustered)
    small_sample = check_small_sample(small_sample, resolved, function=function)
    p = len(prepared.covariate_names)
    refuse_cr2(resolved, prepared, 1 + p, function=function)
    xs = tuple(xname(j) for j in range(p))
    cen = centre(prepared, (Y, Z, *xs), function=function)
    spec = FitSpec(y=Y, x=(Z, *xs), names=(assignment, *prepared.covariate_names))
    (fit,) = fit_engine(
        cen,
        [spec],
        se_type=resolved,
        blocked=prepared.blocked,
        clustered=prepared.clustered,
        function=function,
        small_sample=small_sample,
        blocks_name=prepared.blocks_name,
    )
    return EffectResult.from_estimate(
        estimate=float(fit.coef[0]),
        std_error=float(fit.std_error[0]),
        df=float(fit.df[0]),
        alpha=alpha,
        nclusters=fit.nclusters,
        se_type=resolved,
        method="ols",
        design=_design_label(prepared),
        **common,
    )


def cace_engine(
    data: object,
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
    """:func:`fieldexp.cace` on an engine table: 2SLS (the Wald ratio without covariates)."""
    function = "fieldexp.cace"
    alpha = _check_alpha(alpha, function)
    table = as_ibis(data, function=function)
    prepared = prepare_engine(
        table,
        function=function,
        outcome=outcome,
        assignment=assignment,
        treatment=treatment,
        blocks=blocks,
        clusters=clusters,
        covariates=covariates,
        weights=weights,
    )
    resolved = resolve_se_type(se_type, prepared.clustered)
    small_sample = check_small_sample(small_sample, resolved, function=function)
    p = len(prepared.covariate_names)
    refuse_cr2(resolved, prepared, 1 + p, function=function)
    xs = tuple(xname(j) for j in range(p))
    cen = centre(prepared, (Y, D, Z, *xs), function=function)
    fs_spec = FitSpec(y=D, x=(Z, *xs), names=(assignment, *prepared.covariate_names))
    iv_spec = FitSpec(y=Y, x=(D, *xs), z=(Z, *xs), names=(treatment, *prepared.covariate_names))
    fs_fit, fit = fit_engine(
        cen,
        [fs_spec, iv_spec],
        se_type=resolved,
        blocked=prepared.blocked,
        clustered=prepared.clustered,
        function=function,
        small_sample=small_sample,
        blocks_name=prepared.blocks_name,
    )
    rates = _contact_rates(prepared)
    first_stage = FirstStage.from_estimate(
        estimate=float(fs_fit.coef[0]),
        std_error=float(fs_fit.std_error[0]),
        df=float(fs_fit.df[0]),
        alpha=alpha,
        treatment=treatment,
        assignment=assignment,
        control_contact_rate=rates[0],
        treated_contact_rate=rates[1],
    )
    notes: tuple[str, ...] = ()
    if math.isnan(first_stage.f_statistic) or first_stage.f_statistic < WEAK_FIRST_STAGE_F:
        msg = (
            f"weak first stage: assignment moves contact by {first_stage.estimate:.4f} "
            f"(F = {first_stage.f_statistic:.2f} < {WEAK_FIRST_STAGE_F:g}); the CACE and its "
            "confidence interval are unreliable"
        )
        warnings.warn(msg, WeakInstrumentWarning, stacklevel=3)
        notes = (msg,)
    return EffectResult.from_estimate(
        estimate=float(fit.coef[0]),
        std_error=float(fit.std_error[0]),
        df=float(fit.df[0]),
        alpha=alpha,
        nobs=prepared.nobs,
        nclusters=fit.nclusters,
        se_type=resolved,
        method="2sls",
        design=_design_label(prepared),
        outcome=outcome,
        term=treatment,
        estimand="CACE",
        first_stage=first_stage,
        n_dropped=prepared.n_dropped,
        notes=prepared.notes + notes,
    )


def _contact_rates(prepared: EngineData) -> tuple[float, float]:
    """Contact rate among not-assigned and assigned units (``GROUP BY assignment``, 2 rows)."""
    from fieldexp.engine.tables import pull

    t = prepared.table
    rows = pull(t.group_by(Z).aggregate(rate=t[D].mean()).order_by(Z), "contact rates")
    z = rows[Z].to_pylist()
    r = rows["rate"].to_pylist()
    return float(r[z.index(0.0)]), float(r[z.index(1.0)])
