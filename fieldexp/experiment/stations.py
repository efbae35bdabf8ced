"""Polling-station estimators: a continuous-dose CACE and randomisation inference for
the weighted OLS with block fixed effects.

:func:`dose_cace` is the CACE *per unit of a continuous dose* (e.g. conversations per
registered voter, from per-station canvassing tallies) by two-stage least squares, the
assignment instrumenting the dose:

.. math::
    y_s = \\alpha_{b(s)} + \\beta\\, d_s + x_s'\\gamma + u_s, \\qquad
    d_s = \\pi_{b(s)} + \\delta\\, Z_s + x_s'\\rho + v_s

weighted by registered voters; :math:`\\beta` is estimatr's
``iv_robust(y ~ d + x | Z + x, fixed_effects = ~ block, weights = registered)``. With the
dose in conversations per registered voter, :math:`\\beta` is the change in turnout (or
share) per conversation per registered voter, i.e. the votes gained per conversation.

:func:`ols_randomization_inference` replays the design (as
:func:`fieldexp.randomization_inference` does: blocks, whole clusters, exact count
distributions, exact enumeration when small) with the statistic of the weighted OLS of
``y`` on ``Z``, covariates and fixed effects (``lm_robust(y ~ Z + x, fixed_effects = ~ g,
weights = w)``'s coefficient). By Frisch-Waugh, with :math:`e` the weighted residual of
:math:`y` on the fixed effects and covariates (fixed under the sharp null),
:math:`\\bar x` the covariates demeaned within groups and :math:`S_g` the treated weight
in group :math:`g`,

.. math::
    \\hat\\tau(Z) = \\frac{\\sum_{Z_i=1} w_i e_i}
    {\\sum_g (S_g - S_g^2/W_g) - a'(\\bar X' W \\bar X)^{-1} a},
    \\qquad a = \\sum_{Z_i=1} w_i \\bar x_i,

so every draw needs only sums over the treated clusters; nothing is refitted per draw.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd

from fieldexp._validate import check_alpha, check_choice, check_positive, numeric
from fieldexp.design.spec import ArmLabel, Design
from fieldexp.errors import (
    ColumnNotFoundError,
    DataError,
    RowsDroppedWarning,
    SpecificationError,
    WeakInstrumentWarning,
    did_you_mean,
    format_rows,
)
from fieldexp.experiment.api import (
    WEAK_FIRST_STAGE_F,
    _check_positive_se,
    _from_fit,
    _leverage_error,
    iv_columns,
)
from fieldexp.experiment.data import prepare_experiment
from fieldexp.experiment.ri import RandomizationResult
from fieldexp.experiment.ri_replay import (
    cluster_sums,
    observed_acc,
    prepare_replay,
    residualize,
    run_replay,
)
from fieldexp.experiment.ri_stats import tail_share
from fieldexp.results import EffectResult, FirstStage
from fieldexp.stats.covariance import LeverageError, resolve_se_type
from fieldexp.stats.linear import fit_absorbed

__all__ = ["dose_cace", "ols_randomization_inference"]


def _columns(data: pd.DataFrame, roles: dict[str, str | None], function: str) -> None:
    for role, c in roles.items():
        if c is not None and c not in data.columns:
            raise ColumnNotFoundError(
                f"column {c!r} (argument {role!r} of {function}) is not in the data."
                + did_you_mean(c, [str(x) for x in data.columns])
            )


def dose_cace(
    data: pd.DataFrame,
    outcome: str,
    dose: str,
    assignment: str,
    *,
    blocks: str | None = None,
    clusters: str | None = None,
    covariates: Sequence[str] | None = None,
    weights: str | None = None,
    se_type: str | None = None,
    alpha: float = 0.05,
) -> EffectResult:
    """CACE per unit of a continuous ``dose`` by 2SLS, ``assignment`` instrumenting it.

    Parameters as for :func:`fieldexp.cace`, with ``dose`` any non-negative number (e.g.
    conversations per registered voter) instead of a 0/1 contact. Equal to estimatr's
    ``iv_robust(outcome ~ dose + covariates | assignment + covariates, fixed_effects =
    ~ blocks, clusters =, se_type =, weights =)``. The first stage (``first_stage``) is the
    effect of assignment on the dose, with its F statistic; below 10 a
    :class:`~fieldexp.errors.WeakInstrumentWarning` is raised.

    Raises
    ------
    DataError
        A negative or non-numeric dose, or a dose without variation.
    """
    function = "dose_cace"
    alpha = check_alpha(alpha, function=function)
    covs = list(covariates or [])
    _columns(data, {"outcome": outcome, "dose": dose, "assignment": assignment}, function)
    used = [c for c in (outcome, dose, assignment, blocks, clusters, weights, *covs) if c]
    keep = data[used].notna().all(axis=1).to_numpy()
    n_drop = int((~keep).sum())
    sub = data.loc[keep]
    d = numeric(sub[dose], argument="dose", function=function)
    if (d < 0).any():
        bad = sub.index[d < 0]
        raise DataError(
            f"column {dose!r} (argument 'dose' of {function}) must be >= 0; "
            f"{format_rows(bad[:5], total=len(bad))} are negative"
        )
    prepared = prepare_experiment(
        sub,
        function=function,
        outcome=outcome,
        assignment=assignment,
        blocks=blocks,
        clusters=clusters,
        covariates=covs or None,
        weights=weights,
    )
    if prepared.nobs != len(sub):  # pragma: no cover - missing values were dropped above
        raise DataError(f"{function}: rows were dropped while preparing the data")
    if np.all(d == d[0]):
        raise DataError(
            f"column {dose!r} (argument 'dose' of {function}) has no variation (every row is "
            f"{d[0]:g}); the effect per unit of dose is not identified."
        )
    resolved = resolve_se_type(se_type, prepared.clusters is not None)
    z, w = prepared.z, prepared.weights
    absorbed, const, exog = iv_columns(prepared, prepared.y, d, z, resolved)
    try:
        fs = fit_absorbed(
            absorbed,
            y_col=1,
            x_cols=[2, *exog],
            names=(assignment, *const, *prepared.covariate_names),
            se_type=resolved,
            clusters=prepared.clusters,
            df_terms=(assignment,),
        )
        fit = fit_absorbed(
            absorbed,
            y_col=0,
            x_cols=[1, *exog],
            z_cols=[2, *exog],
            names=(dose, *const, *prepared.covariate_names),
            se_type=resolved,
            clusters=prepared.clusters,
            df_terms=(dose,),
        )
    except LeverageError as exc:
        raise _leverage_error(exc, prepared, function) from None
    _check_positive_se(float(fit.std_error[fit.index(dose)]), prepared, function)
    j = fs.index(assignment)
    treated = z == 1
    first = FirstStage.from_estimate(
        estimate=float(fs.coef[j]),
        std_error=float(fs.std_error[j]),
        df=float(fs.df[j]),
        alpha=alpha,
        treatment=dose,
        assignment=assignment,
        control_contact_rate=float(
            np.average(d[~treated], weights=None if w is None else w[~treated])
        ),
        treated_contact_rate=float(
            np.average(d[treated], weights=None if w is None else w[treated])
        ),
    )
    notes: tuple[str, ...] = (f"continuous dose {dose!r} instrumented by {assignment!r}",)
    if n_drop:
        notes += (f"{n_drop:,} rows with a missing value set aside",)
    if math.isnan(first.f_statistic) or first.f_statistic < WEAK_FIRST_STAGE_F:
        msg = (
            f"weak first stage: assignment moves {dose!r} by {first.estimate:.4g} (F = "
            f"{first.f_statistic:.2f} < {WEAK_FIRST_STAGE_F:g}); the CACE is unreliable"
        )
        warnings.warn(msg, WeakInstrumentWarning, stacklevel=2)
        notes += (msg,)
    return _from_fit(
        fit,
        dose,
        prepared,
        alpha=alpha,
        method="2sls",
        estimand="CACE",
        first_stage=first,
        notes=notes,
    )


def ols_randomization_inference(
    data: pd.DataFrame,
    outcome: str,
    assignment: str,
    design: Design,
    *,
    covariates: Sequence[str] | None = None,
    fixed_effects: str | None = None,
    weights: str | None = None,
    reps: int = 1000,
    seed: int,
    alternative: str = "two-sided",
    arm: ArmLabel | None = None,
    engine: str = "auto",
) -> RandomizationResult:
    """Fisher randomisation test whose statistic is the weighted OLS coefficient.

    The statistic is the coefficient of assignment in the weighted regression of
    ``outcome`` on assignment, ``covariates`` and ``fixed_effects`` (default: the design's
    blocks; an intercept when neither), i.e. ``lm_robust(outcome ~ Z + covariates,
    fixed_effects = ~ fixed_effects, weights = weights)``; the design is replayed as by
    :func:`fieldexp.randomization_inference` (``assignment`` is the column of arms). The
    sharp null is no effect for anyone.
    """
    function = "ols_randomization_inference"
    check_choice(
        alternative, ("two-sided", "greater", "less"), argument="alternative", function=function
    )
    if isinstance(reps, bool) or not isinstance(reps, int) or reps < 1:
        raise SpecificationError(f"The 'reps' parameter of {function} must be an integer >= 1.")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise SpecificationError(f"The 'seed' parameter of {function} must be an integer >= 0.")
    covs = list(covariates or [])
    fe = fixed_effects if fixed_effects is not None else design.blocks
    _columns(
        data,
        {"outcome": outcome, "assignment": assignment, "weights": weights, "fixed_effects": fe}
        | {f"covariates[{i}]": c for i, c in enumerate(covs)},
        function,
    )
    setup, _ = prepare_replay(data, assignment, design, arm=arm, function=function)
    cols = [outcome, *([weights] if weights else []), *covs, *([fe] if fe else [])]
    in_set = setup.row_cluster >= 0
    missing = data[cols].isna().any(axis=1).to_numpy() & in_set
    if missing.any():
        warnings.warn(
            f"{function}: {int(missing.sum()):,} rows with a missing value in {cols!r} do not "
            "enter the statistic (their clusters stay in the randomisation); first "
            f"{format_rows(data.index[missing][:5], total=int(missing.sum()))}.",
            RowsDroppedWarning,
            stacklevel=2,
        )
    used = in_set & ~missing
    if not used.any():
        raise DataError(f"{function}: no rows with an outcome in the compared arms")
    sub = data.loc[used]
    y = numeric(sub[outcome], argument="outcome", function=function)
    w = (
        check_positive(sub[weights], argument="weights", function=function)
        if weights
        else np.ones(len(sub))
    )
    rc = setup.row_cluster[used]
    if fe:
        groups, _ = pd.factorize(sub[fe].astype(str), sort=True)
        n_groups = int(groups.max()) + 1
    else:
        groups, n_groups = np.zeros(len(sub), dtype=np.int64), 1
    X = (
        np.column_stack([numeric(sub[c], argument="covariates", function=function) for c in covs])
        if covs
        else np.zeros((len(sub), 0))
    )
    # residuals of y and within-group covariates: fixed over draws under the sharp null
    e = residualize(np.column_stack([y, X]), np.zeros((len(sub), 0)), groups, n_groups, w)
    xbar = e[:, 1:]
    if covs:
        root = np.sqrt(w)[:, None]
        beta, *_ = np.linalg.lstsq(xbar * root, e[:, :1] * root, rcond=None)
        resid = e[:, 0] - (xbar @ beta)[:, 0]
        G = (xbar * w[:, None]).T @ xbar
        if np.linalg.matrix_rank(G) < G.shape[0]:
            raise DataError(
                f"{function}: the covariates {covs!r} are collinear with the fixed effects "
                f"{fe!r}; drop one"
            )
        Ginv = np.linalg.inv(G)
    else:
        resid = e[:, 0]
        Ginv = np.zeros((0, 0))
    ncl = len(setup.z_cluster)
    onehot = np.zeros((len(sub), n_groups))
    onehot[np.arange(len(sub)), groups] = w
    V = cluster_sums(rc, np.column_stack([w * resid, xbar * w[:, None], onehot]), ncl)
    W_g = onehot.sum(axis=0)
    k = len(covs)
    n_acc = V.shape[1]

    def reduce(b: int, S1: np.ndarray, T: np.ndarray) -> np.ndarray:
        return S1

    def statistic(acc: np.ndarray) -> np.ndarray:
        a0 = acc[:, 0]
        a = acc[:, 1 : 1 + k]
        s = acc[:, 1 + k :]
        with np.errstate(divide="ignore", invalid="ignore"):
            denom = (s - s * s / W_g[None, :]).sum(axis=1)
            if k:
                denom = denom - np.einsum("ij,jk,ik->i", a, Ginv, a)
            return a0 / denom

    obs_acc = observed_acc(setup, V, reduce, n_acc)
    acc, prob, exact, used_engine, key = run_replay(
        setup, V, reduce, n_acc, reps=reps, seed=seed, engine=engine, design=design
    )
    observed = float(statistic(obs_acc[None, :])[0])
    if not math.isfinite(observed):
        raise DataError(
            f"{function}: the observed statistic is undefined (no treated or no control unit "
            "with an outcome within the fixed-effect groups)"
        )
    draws = statistic(acc)
    p = tail_share(draws, observed, prob, alternative)
    notes = list(setup.notes)
    bad = int((~np.isfinite(draws)).sum())
    if bad:
        notes.append(f"{bad:,} draws left no treated/control contrast and were not counted")
    notes.append(
        "statistic: weighted OLS coefficient"
        + (f" with covariates {covs!r}" if covs else "")
        + (f" and fixed effects {fe!r}" if fe else "")
    )
    return RandomizationResult(
        statistic=observed,
        p_value=p,
        p_value_se=0.0 if exact else math.sqrt(p * (1 - p) / len(draws)),
        reps=len(draws),
        exact=exact,
        draws=draws,
        draw_weights=prob if exact else None,
        estimate=observed,
        estimand="ITT",
        studentized=False,
        alternative=alternative,
        sharp_null=0.0,
        ci_low=math.nan,
        ci_high=math.nan,
        alpha=0.05,
        outcome=outcome,
        arm=setup.arm,
        control=setup.control,
        nobs=len(sub),
        nclusters=ncl,
        nblocks=setup.plan.n_blocks,
        engine=used_engine,
        seed=seed,
        draw_key=key,
        notes=tuple(notes),
    )
