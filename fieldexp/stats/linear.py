r"""Least squares and two-stage least squares with absorbed fixed effects.

:func:`fit_ols` and :func:`fit_2sls` are pure: arrays in, a frozen :class:`LinearFit`
out. They reproduce R estimatr's ``lm_robust`` / ``iv_robust``:

* weights are normalised to mean one (estimatr does the same; the sandwich is invariant);
* fixed effects are absorbed by the within transformation (:mod:`fieldexp.stats.absorb`)
  and counted in the model rank as ``sum(levels - 1) + 1``;
* for 2SLS the second stage regresses *y* on :math:`\hat X = Z(Z^\top WZ)^{-1}Z^\top WX`,
  residuals are the structural :math:`e = y - X\hat\beta`, and the sandwich uses
  :math:`\hat X` (estimatr's ``iv_robust``; Wooldridge 2010, §5.2);
* variances come from the registry in :mod:`fieldexp.stats.covariance`.

When an estimator needs the leverage of several absorbed factors, or weighted CR2 with
fixed effects, or clusters not nested in the absorbed factor, the fixed effects enter as
explicit dummy columns instead (bounded in size; otherwise a clear error suggests
``se_type="stata"``).
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass

import numpy as np

from fieldexp.errors import EstimationError
from fieldexp.stats.absorb import demean, fe_rank
from fieldexp.stats.blas import single_thread_blas, with_single_thread_blas
from fieldexp.stats.collinear import COLLINEAR_TOL, check_required, fe_label, warn_dropped
from fieldexp.stats.covariance import (
    SandwichInputs,
    check_small_sample,
    contrast_covariance,
    fixest_fe_count,
    functional_variance,
    get_covariance_estimator,
)
from fieldexp.stats.groups import GroupIndex
from fieldexp.stats.normal import (
    cross_product,
    gram_inverse,
    gram_inverse_from,
    same_column,
    solve_dense,
    solve_from_cross,
    solve_normal,
    take_columns,
)

__all__ = [
    "COLLINEAR_TOL",
    "Absorbed",
    "LinearFit",
    "absorb_columns",
    "fit_2sls",
    "fit_absorbed",
    "fit_iv_and_first_stage_cr2",
    "fit_ols",
    "gram_inverse",
    "gram_inverse_from",
    "is_nested",
    "solve_normal",
    "warn_dropped",
]

#: largest dense dummy matrix (rows x levels) built when dummies must be explicit
MAX_DUMMY_CELLS = 60_000_000


@dataclass(frozen=True, slots=True, eq=False)
class LinearFit:
    """Coefficients, their covariance and degrees of freedom.

    Attributes
    ----------
    names : tuple of str
        Coefficient names (absorbed fixed effects are not reported).
    coef, std_error, df : ndarray (k,)
    vcov : ndarray (k, k)
    se_type : str
    nobs : int
    nclusters : int or None
    rank : int
        Regressor rank plus fixed-effect rank.
    dropped : tuple of str
        Collinear regressors dropped as estimatr drops them (its ``NA`` rows): their
        coefficient, variance and df are NaN.
    """

    names: tuple[str, ...]
    coef: np.ndarray
    vcov: np.ndarray
    df: np.ndarray
    se_type: str
    nobs: int
    nclusters: int | None
    rank: int
    dropped: tuple[str, ...] = ()

    @property
    def std_error(self) -> np.ndarray:
        # a coefficient with no sampling variability (the control-arm intercept of a one-sided
        # first stage) can come out at -1e-20 by rounding: its SE is zero, not NaN
        v = np.diag(self.vcov)
        return np.where(np.isnan(v), np.nan, np.sqrt(np.clip(v, 0.0, None)))

    def index(self, name: str) -> int:
        return self.names.index(name)


def is_nested(inner: GroupIndex, outer: GroupIndex) -> bool:
    """True when every group of ``inner`` lies within one group of ``outer``."""
    first = np.full(inner.n_groups, -1, dtype=np.int64)
    first[inner.codes] = outer.codes
    return bool(np.all(first[inner.codes] == outer.codes))


def _dummies(factors: Sequence[GroupIndex], n: int) -> np.ndarray:
    cells = n * sum(g.n_groups for g in factors)
    if cells > MAX_DUMMY_CELLS:
        raise EstimationError(
            "this variance estimator needs the fixed effects as explicit dummies "
            f"({n:,} rows x {sum(g.n_groups for g in factors):,} levels is too large); "
            "use se_type='stata' or 'CR0', or one fixed-effect factor with clusters nested in it"
        )
    cols = [np.ones(n)]
    for g in factors:
        D = np.zeros((n, g.n_groups))
        D[np.arange(n), g.codes] = 1.0
        cols.append(D[:, 1:])
    return np.column_stack(cols)


@dataclass(frozen=True, slots=True)
class _FEPlan:
    absorb: tuple[GroupIndex, ...]
    dummies: tuple[GroupIndex, ...]
    leverage_fe: GroupIndex | None


def _plan_fixed_effects(
    factors: Sequence[GroupIndex],
    se_type: str,
    weighted: bool,
    clusters: GroupIndex | None,
) -> _FEPlan:
    factors = tuple(factors)
    if not factors:
        return _FEPlan((), (), None)
    needs_hat = se_type in ("HC2", "HC3", "CR2")
    if not needs_hat:
        return _FEPlan(factors, (), None)
    if len(factors) == 1:
        fe = factors[0]
        if se_type != "CR2":
            return _FEPlan(factors, (), fe)
        if not weighted and clusters is not None and is_nested(clusters, fe):
            return _FEPlan(factors, (), fe)
    return _FEPlan((), factors, None)


@dataclass(frozen=True, slots=True, eq=False)
class Absorbed:
    """Columns after absorbing fixed effects, with what the variance estimator must know.

    Attributes
    ----------
    columns : ndarray (n, m), Fortran order
        The within-transformed columns (unchanged when the plan uses explicit dummies).
    dummies : ndarray (n, d) or None
        Explicit fixed-effect dummies to append to regressors and instruments.
    weights : ndarray (n,) or None
        Weights normalised to mean one.
    leverage_fe : GroupIndex or None
        Absorbed factor whose dummies enter the leverage (HC2, HC3, CR2).
    rank_fe : int
        Rank of the absorbed fixed effects (0 when they are explicit dummies).
    rank_fe_fixest : int
        The fixed effects as fixest/pyfixest count them in the CR1 small-sample factor
        (:func:`fieldexp.stats.covariance.fixest_fe_count`).
    cross : ndarray (m, m) or None
        :math:`C = A^\\top W A` of the transformed columns :math:`A` (when there are no
        explicit dummies): every Gram matrix and right-hand side of the fits on these columns
        is a block of it, so one pass over the rows serves a CACE and its first stage.
    """

    columns: np.ndarray
    dummies: np.ndarray | None
    weights: np.ndarray | None
    leverage_fe: GroupIndex | None
    rank_fe: int
    rank_fe_fixest: int = 0
    cross: np.ndarray | None = None
    raw_norms: np.ndarray | None = None
    fe_label: str = "the fixed effects"


def absorb_columns(
    columns: np.ndarray,
    *,
    se_type: str,
    weights: np.ndarray | None = None,
    absorb: Sequence[GroupIndex] = (),
    clusters: GroupIndex | None = None,
    own_columns: bool = False,
    absorb_names: Sequence[str] = (),
) -> Absorbed:
    """Within-transform the columns of a matrix once, for one or several fits.

    The plan depends on the variance estimator: HC2, HC3 and CR2 need the leverage of the
    fixed effects, which we have in closed form for one factor (with clusters nested in it
    for CR2, unweighted); otherwise the fixed effects become explicit dummy columns.
    With ``own_columns`` the caller hands over ``columns`` (float64, Fortran order), which
    is then transformed in place. ``absorb_names`` name the factors in messages (a
    regressor constant within them is dropped, :func:`fieldexp.stats.normal.gram_inverse_ranked`).
    """
    w = None if weights is None else np.asarray(weights, dtype=np.float64) / np.mean(weights)
    plan = _plan_fixed_effects(absorb, se_type, w is not None, clusters)
    callers_array = columns.dtype == np.float64 and columns.flags.f_contiguous
    cols = np.asfortranarray(columns, dtype=np.float64)
    label = fe_label(absorb_names)
    if plan.dummies:
        return Absorbed(cols, _dummies(plan.dummies, cols.shape[0]), w, None, 0, fe_label=label)
    raw = None
    if plan.absorb:
        # column norms before absorbing: a column left with ~none of its norm is constant
        # within the fixed effects (one pass, a few ms at 1M rows)
        raw = np.sqrt(np.einsum("ij,ij->j", cols, cols))
        # a copy we made is transformed in place; a caller's array is never overwritten
        cols = demean(cols, plan.absorb, w, overwrite=not callers_array or own_columns)
    return Absorbed(
        cols,
        None,
        w,
        plan.leverage_fe,
        fe_rank(tuple(absorb)),
        fixest_fe_count(tuple(absorb), clusters),
        cross_product(cols, w),
        raw,
        label,
    )


def fit_ols(
    X: np.ndarray,
    y: np.ndarray,
    *,
    names: Sequence[str],
    se_type: str,
    weights: np.ndarray | None = None,
    absorb: Sequence[GroupIndex] = (),
    clusters: GroupIndex | None = None,
    df_terms: Sequence[str] | None = None,
    small_sample: str = "estimatr",
    absorb_names: Sequence[str] = (),
) -> LinearFit:
    r"""Weighted least squares with absorbed fixed effects and a sandwich variance.

    .. math:: \hat\beta = (\tilde X^\top W \tilde X)^{-1} \tilde X^\top W \tilde y

    with :math:`\tilde{\cdot}` the within transformation by ``absorb``.

    Parameters
    ----------
    X : ndarray (n, k)
        Regressors (include a column of ones when nothing is absorbed).
    y : ndarray (n,)
    names : sequence of str, length k
    se_type : str
        A resolved name from :mod:`fieldexp.stats.covariance` (``"HC0"`` ... ``"CR2"``,
        ``"stata"`` meaning CR1).
    weights : ndarray (n,), optional
        Positive weights.
    absorb : sequence of GroupIndex
        Fixed-effect factors.
    clusters : GroupIndex, optional
    df_terms : sequence of str, optional
        Coefficients for which CR2 computes Bell–McCaffrey df (default: all).
    small_sample : {"estimatr", "fixest"}
        Which parameters the CR1 (``"stata"``) factor :math:`\frac{G}{G-1}\frac{n-1}{n-K}`
        counts in *K*: estimatr counts every absorbed fixed effect, fixest (and pyfixest's
        default ``ssc``) not those nested in the clusters
        (:func:`fieldexp.stats.covariance.fixest_fe_count`).
    absorb_names : sequence of str
        Names of the ``absorb`` factors, for messages.

    Collinear regressors are dropped as estimatr drops them (pivoted QR: of a collinear set
    the column with the smaller norm left, of exact copies the later one; a column constant
    within the fixed effects): :class:`~fieldexp.errors.CollinearWarning`, and NaN in
    their rows (estimatr's ``NA``). Columns named ``_...`` are fixed-effect dummies and
    never dropped. A dropped coefficient among ``df_terms`` is not identified:
    :class:`~fieldexp.errors.EstimationError`.
    """
    return _fit_stacked(
        y,
        X,
        None,
        names=names,
        se_type=se_type,
        weights=weights,
        absorb=absorb,
        clusters=clusters,
        df_terms=df_terms,
        small_sample=small_sample,
        absorb_names=absorb_names,
    )


def fit_2sls(
    X: np.ndarray,
    y: np.ndarray,
    Z: np.ndarray,
    *,
    names: Sequence[str],
    se_type: str,
    weights: np.ndarray | None = None,
    absorb: Sequence[GroupIndex] = (),
    clusters: GroupIndex | None = None,
    df_terms: Sequence[str] | None = None,
    small_sample: str = "estimatr",
    absorb_names: Sequence[str] = (),
    z_names: Sequence[str] | None = None,
) -> LinearFit:
    r"""Two-stage least squares (estimatr's ``iv_robust``).

    .. math::
        \hat X = Z (Z^\top W Z)^{-1} Z^\top W X, \qquad
        \hat\beta = (\hat X^\top W \hat X)^{-1} \hat X^\top W y, \qquad
        e = y - X\hat\beta,

    and the sandwich of :mod:`fieldexp.stats.covariance` with :math:`\hat X` as regressors.

    Parameters
    ----------
    X : ndarray (n, k)
        Regressors, endogenous ones included.
    Z : ndarray (n, l), l >= k
        Instruments, exogenous regressors included.
    z_names : sequence of str, optional
        Names of the instruments, for messages.
    Other parameters as :func:`fit_ols`. Collinear instruments and regressors are dropped as
    ``iv_robust`` drops them (its first- and second-stage QR); excluded instruments collinear
    with the exogenous regressors leave the estimate unidentified (an error).
    """
    return _fit_stacked(
        y,
        X,
        Z,
        names=names,
        se_type=se_type,
        weights=weights,
        absorb=absorb,
        clusters=clusters,
        df_terms=df_terms,
        small_sample=small_sample,
        absorb_names=absorb_names,
        z_names=z_names,
    )


def _fit_stacked(
    y: np.ndarray,
    X: np.ndarray,
    Z: np.ndarray | None,
    *,
    names: Sequence[str],
    se_type: str,
    weights: np.ndarray | None,
    absorb: Sequence[GroupIndex],
    clusters: GroupIndex | None,
    df_terms: Sequence[str] | None,
    small_sample: str = "estimatr",
    absorb_names: Sequence[str] = (),
    z_names: Sequence[str] | None = None,
) -> LinearFit:
    """Stack ``[y, X, Z]`` in one Fortran matrix we own, absorb it in place, fit."""
    n, k = X.shape
    # an instrument equal to a regressor is that (exogenous) regressor: one shared column
    z_pos: list[int] = []
    z_own: list[int] = []
    if Z is not None:
        for j in range(Z.shape[1]):
            same = next((i for i in range(k) if same_column(X[:, i], Z[:, j])), None)
            if same is None:
                z_own.append(j)
                z_pos.append(1 + k + len(z_own) - 1)
            else:
                z_pos.append(1 + same)
    m = len(z_own)
    cols = np.empty((n, 1 + k + m), order="F")
    cols[:, 0] = y
    cols[:, 1 : 1 + k] = X
    if Z is not None:
        for c, j in enumerate(z_own):
            cols[:, 1 + k + c] = Z[:, j]
    ab = absorb_columns(
        cols,
        se_type=se_type,
        weights=weights,
        absorb=absorb,
        clusters=clusters,
        own_columns=True,
        absorb_names=absorb_names,
    )
    return fit_absorbed(
        ab,
        y_col=0,
        x_cols=range(1, k + 1),
        z_cols=None if Z is None else z_pos,
        names=names,
        se_type=se_type,
        clusters=clusters,
        df_terms=df_terms,
        small_sample=small_sample,
        z_names=z_names,
    )


@dataclass(frozen=True, slots=True, eq=False)
class _Solved:
    """A fit before its variance: coefficients and what the sandwich needs.

    The score regressors (:math:`X`, or :math:`\\hat X` for 2SLS) are ``base @ score_map``
    when ``score_map`` is given (columns of the absorbed matrix: built only if a variance
    needs them), else ``base`` itself.
    """

    names: tuple[str, ...]
    k: int
    beta: np.ndarray
    resid: np.ndarray
    bread: np.ndarray
    weights: np.ndarray | None
    clusters: GroupIndex | None
    fe: GroupIndex | None
    rank: int
    df_terms: tuple[int, ...]
    rank_cr1: int | None
    base: np.ndarray
    score_map: np.ndarray | None = None
    dropped: tuple[int, ...] = ()

    @property
    def n(self) -> int:
        return int(self.base.shape[0])

    def scores(self) -> np.ndarray:
        """The score regressors, Fortran-ordered (a column of ``base`` is copied exactly)."""
        S = self.score_map
        if S is None:
            return self.base
        units = [np.flatnonzero(S[:, c]) for c in range(S.shape[1])]
        if all(len(u) == 1 and S[u[0], c] == 1.0 for c, u in enumerate(units)):
            return take_columns(self.base, [int(u[0]) for u in units])
        out = np.empty((self.n, S.shape[1]), order="F")
        for c, u in enumerate(units):
            if len(u) == 1 and S[u[0], c] == 1.0:
                out[:, c] = self.base[:, u[0]]
            else:
                np.dot(self.base, S[:, c], out=out[:, c])
        return out

    def psi(self, j: int) -> np.ndarray:
        r""":math:`\\psi = W X M e_j`: the coefficient *j* as a linear function of *y*."""
        v = self.bread[:, j]
        x = self.base @ (v if self.score_map is None else self.score_map @ v)
        if self.weights is not None:
            x *= self.weights
        return x

    @property
    def inputs(self) -> SandwichInputs:
        return SandwichInputs(
            X=self.scores(),
            resid=self.resid,
            bread=self.bread,
            weights=self.weights,
            clusters=self.clusters,
            fe=self.fe,
            rank=self.rank,
            df_terms=self.df_terms,
            rank_cr1=self.rank_cr1,
        )


def _solve_absorbed(
    absorbed: Absorbed,
    *,
    y_col: int,
    x_cols: Sequence[int] | range,
    names: Sequence[str],
    se_type: str,
    clusters: GroupIndex | None,
    z_cols: Sequence[int] | range | None,
    df_terms: Sequence[str] | None,
    small_sample: str,
    required: Sequence[str] = (),
    z_names: Sequence[str] | None = None,
    warn: bool = True,
) -> _Solved:
    names = tuple(names)
    cols = absorbed.columns
    score_map: np.ndarray | None = None
    if absorbed.cross is not None and absorbed.dummies is None:
        score_map, beta, M, resid, ranked = solve_from_cross(
            cols,
            absorbed.cross,
            absorbed.weights,
            y_col,
            list(x_cols),
            z_cols,
            names,
            z_names=z_names,
            raw_norms=absorbed.raw_norms,
            fe_label=absorbed.fe_label,
        )
        base, p = cols, len(names)
    else:
        y = cols[:, y_col]
        base, X, beta, M, ranked = solve_dense(
            cols, absorbed.dummies, absorbed.weights, absorbed.fe_label,
            y_col, x_cols, z_cols, names, z_names,
        )  # fmt: skip
        resid = y - X @ beta
        p = X.shape[1]
    k = len(names)
    all_names = names + tuple(f"_fe{j}" for j in range(p - k))
    dropped = tuple(j for j in ranked.dropped if j < k)
    check_required(names, ranked, required)
    if dropped and warn:
        warn_dropped(names, ranked.dropped, ranked.reasons)
    rank = p - len(ranked.dropped) + absorbed.rank_fe
    if rank >= cols.shape[0]:
        raise EstimationError(
            f"the model has {rank:,} parameters (regressors and fixed effects) for "
            f"{cols.shape[0]:,} rows: no residual degrees of freedom are left for a standard error"
        )

    wanted = all_names[:k] if df_terms is None else tuple(df_terms)
    terms = tuple(all_names.index(t) for t in wanted if all_names.index(t) not in dropped)
    check_small_sample(small_sample, se_type)
    p_cr1 = p - len(ranked.dropped)
    return _Solved(
        names=names,
        k=k,
        beta=beta,
        resid=resid,
        bread=M,
        weights=absorbed.weights,
        clusters=clusters,
        fe=absorbed.leverage_fe,
        rank=rank,
        df_terms=terms,
        rank_cr1=p_cr1 + absorbed.rank_fe_fixest if small_sample == "fixest" else None,
        base=base,
        score_map=score_map,
        dropped=dropped,
    )


def fit_absorbed(
    absorbed: Absorbed,
    *,
    y_col: int,
    x_cols: Sequence[int] | range,
    names: Sequence[str],
    se_type: str,
    clusters: GroupIndex | None,
    z_cols: Sequence[int] | range | None = None,
    df_terms: Sequence[str] | None = None,
    small_sample: str = "estimatr",
    report: Sequence[str] | None = None,
    z_names: Sequence[str] | None = None,
    warn: bool = True,
) -> LinearFit:
    r"""OLS (or 2SLS when ``z_cols`` is given) on columns of an :class:`Absorbed` matrix.

    Lets several fits (a CACE and its first stage) share one within transformation.
    Without explicit dummies every product is tall and thin: BLAS runs on one thread
    (:mod:`fieldexp.stats.blas`).

    ``report``: return only these coefficients. For HC0, HC1, CR0 and ``"stata"`` their
    variance then comes from one score column each, :math:`\psi = W X M e_j`
    (:func:`fieldexp.stats.covariance.contrast_covariance`: :math:`V_{jj} = \sum_g
    (\psi_g^\top e_g)^2` times the same small-sample factor), the same number as the
    :math:`(j, j)` element of the full sandwich for a fraction of the work.

    Collinear columns are dropped as estimatr drops them (:func:`fit_ols`); a dropped
    coefficient among ``report`` (or ``df_terms``) raises :class:`EstimationError`.
    ``warn=False`` skips the :class:`~fieldexp.errors.CollinearWarning` (a first stage whose
    2SLS warns about the same columns).
    """
    with single_thread_blas() if absorbed.dummies is None else nullcontext():
        return _fit_absorbed(
            absorbed,
            y_col=y_col,
            x_cols=x_cols,
            names=names,
            se_type=se_type,
            clusters=clusters,
            z_cols=z_cols,
            df_terms=df_terms,
            small_sample=small_sample,
            report=report,
            z_names=z_names,
            warn=warn,
        )


def _fit_absorbed(
    absorbed: Absorbed,
    *,
    y_col: int,
    x_cols: Sequence[int] | range,
    names: Sequence[str],
    se_type: str,
    clusters: GroupIndex | None,
    z_cols: Sequence[int] | range | None,
    df_terms: Sequence[str] | None,
    small_sample: str,
    report: Sequence[str] | None = None,
    z_names: Sequence[str] | None = None,
    warn: bool = True,
) -> LinearFit:
    required = tuple(report) if report is not None else tuple(df_terms or ())
    solved = _solve_absorbed(
        absorbed,
        y_col=y_col,
        x_cols=x_cols,
        names=names,
        se_type=se_type,
        clusters=clusters,
        z_cols=z_cols,
        df_terms=df_terms,
        small_sample=small_sample,
        required=required,
        z_names=z_names,
        warn=warn,
    )
    if report is not None and se_type in CONTRAST_SE_TYPES:
        return _reported(solved, tuple(report), se_type, clusters)
    cov = get_covariance_estimator(se_type).compute(solved.inputs)
    sl = slice(0, solved.k)
    coef, vcov, df = solved.beta[sl].copy(), cov.vcov[sl, sl].copy(), cov.df[sl].copy()
    if solved.dropped:
        gone = list(solved.dropped)
        coef[gone] = np.nan
        vcov[gone, :] = np.nan
        vcov[:, gone] = np.nan
        df[gone] = np.nan
    return LinearFit(
        names=solved.names,
        coef=coef,
        vcov=vcov,
        df=df,
        se_type=se_type,
        nobs=solved.n,
        nclusters=None if clusters is None else clusters.n_groups,
        rank=solved.rank,
        dropped=tuple(solved.names[j] for j in solved.dropped),
    )


#: variances that :func:`fit_absorbed` computes for the reported coefficients alone
CONTRAST_SE_TYPES = ("HC0", "HC1", "CR0", "stata")


def _reported(
    solved: _Solved, report: tuple[str, ...], se_type: str, clusters: GroupIndex | None
) -> LinearFit:
    """The coefficients ``report`` of a solved fit with their variance alone (one score
    column each, :math:`\\psi = W X M e_j`)."""
    idx = [solved.names.index(t) for t in report]
    psi = solved.psi(idx[0]) if len(idx) == 1 else np.stack([solved.psi(j) for j in idx], axis=1)
    cov = functional_variance(
        psi,
        solved.resid,
        se_type,
        n=solved.n,
        rank=solved.rank,
        rank_cr1=solved.rank_cr1,
        clusters=clusters,
    )
    return LinearFit(
        names=report,
        coef=solved.beta[idx],
        vcov=cov.vcov,
        df=cov.df,
        se_type=se_type,
        nobs=solved.n,
        nclusters=None if clusters is None else clusters.n_groups,
        rank=solved.rank,
        dropped=tuple(solved.names[j] for j in solved.dropped),
    )


@with_single_thread_blas
def fit_iv_and_first_stage_cr2(
    absorbed: Absorbed,
    *,
    y_col: int,
    d_col: int,
    z_col: int,
    exog_cols: Sequence[int],
    iv_names: Sequence[str],
    fs_names: Sequence[str],
    clusters: GroupIndex,
) -> tuple[LinearFit, LinearFit]:
    r"""CR2 of a just-identified 2SLS (first coefficient of ``iv_names``) and of its first
    stage (first of ``fs_names``) in one pass over the clusters.

    With one instrument for one endogenous regressor, :math:`\hat X = Z\Pi` with
    :math:`\Pi` invertible, so the 2SLS hat matrix :math:`\hat X (\hat X^\top W \hat X)^{-1}
    \hat X^\top W` is the instruments' :math:`Z (Z^\top W Z)^{-1} Z^\top W`, the first
    stage's: both fits share every :math:`A_g = B_g^{-1/2}` and differ only in residuals and
    in :math:`\psi = W X M e_j` (:func:`fieldexp.stats.covariance.contrast_covariance`).
    Equal to two separate CR2 fits; half the work.

    Returns
    -------
    (first stage, 2SLS) : LinearFit, LinearFit
        One coefficient each, with its CR2 variance and Bell–McCaffrey df.
    """
    fs = _solve_absorbed(
        absorbed,
        y_col=d_col,
        x_cols=[z_col, *exog_cols],
        names=fs_names,
        se_type="CR2",
        clusters=clusters,
        z_cols=None,
        df_terms=(),
        small_sample="estimatr",
        required=fs_names[:1],
        warn=False,
    )
    iv = _solve_absorbed(
        absorbed,
        y_col=y_col,
        x_cols=[d_col, *exog_cols],
        names=iv_names,
        se_type="CR2",
        clusters=clusters,
        z_cols=[z_col, *exog_cols],
        df_terms=(),
        small_sample="estimatr",
        required=iv_names[:1],
        z_names=fs_names[:1],
    )
    cov = contrast_covariance(
        fs.inputs,
        np.column_stack([fs.psi(0), iv.psi(0)]),
        "CR2",
        resid=np.column_stack([fs.resid, iv.resid]),
    )
    out = []
    for j, s in enumerate((fs, iv)):
        out.append(
            LinearFit(
                names=s.names[:1],
                coef=s.beta[:1],
                vcov=cov.vcov[j : j + 1, j : j + 1],
                df=cov.df[j : j + 1],
                se_type="CR2",
                nobs=s.n,
                nclusters=clusters.n_groups,
                rank=s.rank,
            )
        )
    return out[0], out[1]
