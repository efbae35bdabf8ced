r"""Normal equations for the tall, thin fits of :mod:`fieldexp.stats.linear`.

:func:`gram_inverse_from` inverts a Gram matrix :math:`X^\top W X` after a collinearity
check; :func:`cross_product` forms :math:`C = A^\top W A` of a matrix of columns once, and
:func:`solve_from_cross` solves OLS and 2SLS on columns of :math:`A` from blocks of
:math:`C`, with matrix-vector passes over the rows only (plus one step of iterative
refinement each, which recovers the accuracy of a QR solve); :func:`solve_dense` is the same
fit with the weighted design formed (explicit fixed-effect dummies). Both drop collinear
columns as estimatr does (:mod:`fieldexp.stats.collinear`); :func:`gram_inverse_from` (the
engine kernels) still refuses them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from fieldexp.errors import EstimationError
from fieldexp.stats.blas import single_thread_blas
from fieldexp.stats.collinear import (
    COLLINEAR_TOL,
    Ranked,
    cho_inverse,
    estimatr_kept,
    first_collinear,
    gram_inverse_ranked,
)

__all__ = [
    "COLLINEAR_TOL",
    "cross_product",
    "gram_inverse",
    "gram_inverse_from",
    "same_column",
    "solve_dense",
    "solve_from_cross",
    "solve_normal",
    "take_columns",
]


def gram_inverse(Xw: np.ndarray, names: Sequence[str], *, absorbed: bool = False) -> np.ndarray:
    """:math:`(X^\\top W X)^{-1}` from the weighted design, with a collinearity check."""
    return gram_inverse_from(Xw.T @ Xw, names, absorbed=absorbed)


def gram_inverse_from(G: np.ndarray, names: Sequence[str], *, absorbed: bool = False) -> np.ndarray:
    """:math:`G^{-1}` of a Gram matrix :math:`G = X^\\top W X` (symmetric positive
    semi-definite), refusing a column without variation or collinear with earlier ones.

    The refusing variant, for callers that cannot report a dropped column (the engine
    kernels); :func:`gram_inverse_ranked` drops collinear columns as estimatr does.
    """
    _check_variation(G, names, absorbed)
    bad = first_collinear(G)
    if bad is not None:
        j, kept = bad
        others = ", ".join(repr(names[i]) for i in kept)
        raise EstimationError(
            f"regressor {names[j]!r} is collinear with {others or 'the fixed effects'}; "
            "drop it or one of the columns it duplicates"
        )
    return cho_inverse(G)


def _check_variation(G: np.ndarray, names: Sequence[str], absorbed: bool) -> None:
    zero = np.diag(G) <= 0
    if np.any(zero):
        bad = [names[int(j)] for j in np.flatnonzero(zero)]
        raise EstimationError(
            f"regressor(s) {', '.join(map(repr, bad))} have no variation"
            + (
                " left after absorbing the fixed effects (constant within each of their levels)"
                if absorbed
                else " (constant, or zero in every row used)"
            )
        )


def solve_normal(Xw: np.ndarray, yw: np.ndarray, M: np.ndarray) -> np.ndarray:
    beta = M @ (Xw.T @ yw)
    # one step of iterative refinement recovers the accuracy of a QR solve
    beta = beta + M @ (Xw.T @ (yw - Xw @ beta))
    return beta


def cross_product(cols: np.ndarray, w: np.ndarray | None) -> np.ndarray:
    """:math:`A^\\top W A`, symmetric, in one product (one BLAS thread: tall and thin)."""
    with single_thread_blas():
        C = cols.T @ cols if w is None else cols.T @ (cols * w[:, None])
    return (C + C.T) / 2.0


def solve_from_cross(
    cols: np.ndarray,
    C: np.ndarray,
    w: np.ndarray | None,
    y_col: int,
    x_idx: list[int],
    z_cols: Sequence[int] | range | None,
    names: tuple[str, ...],
    *,
    z_names: Sequence[str] | None = None,
    raw_norms: np.ndarray | None = None,
    fe_label: str = "the fixed effects",
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, Ranked]:
    r"""OLS / 2SLS on columns of ``cols`` (:math:`A`, with weights ``w`` normalised to mean one)
    from blocks of :math:`C = A^\top W A` (:func:`cross_product`).

    Regressors and instruments are columns of the absorbed matrix :math:`A`; every
    product over the rows is a matrix-vector product with :math:`A` itself (no column is
    copied; OpenBLAS's tall-skinny matrix-matrix products are several times slower at these
    shapes). OLS: :math:`\beta = C_{XX}^{-1} C_{Xy}`. 2SLS: the first stage
    :math:`\Pi = C_{ZZ}^{-1} C_{ZX}` (refined once for each endogenous column; an exogenous
    regressor, also an instrument, is its own fitted value), :math:`\hat X = Z\Pi`,
    :math:`\hat X^\top W \hat X = \Pi^\top C_{ZZ} \Pi`, :math:`\hat X^\top W y =
    \Pi^\top C_{Zy}`. Each solve takes one step of iterative refinement,
    :math:`\beta + M X^\top W (y - X\beta)` (the accuracy of a QR solve).

    Collinear columns are dropped as estimatr drops them (:func:`gram_inverse_ranked`; for
    2SLS in the instruments, then in :math:`\hat X`, as ``iv_robust``'s two ``lm_solver``
    calls); their coefficients are 0 here (the caller reports them as NaN). A 2SLS whose
    excluded instruments lose their variation to the exogenous regressors (and fixed
    effects) is not identified and raises :class:`EstimationError`.

    Returns ``S`` with score regressors :math:`A S` (:math:`X` or :math:`\hat X`), the
    coefficients, the bread :math:`M` (zero in the rows of dropped columns), the structural
    residuals :math:`y - X\beta`, and what was dropped (positions in ``x_idx``).
    """
    m = cols.shape[1]
    y = cols[:, y_col]
    sw = None if w is None else np.sqrt(w)

    def refine(S: np.ndarray, target: np.ndarray, M: np.ndarray, b: np.ndarray) -> np.ndarray:
        r = cols @ (S @ b)
        np.subtract(target, r, out=r)
        if w is not None:
            r *= w
        return b + M @ (S.T @ (cols.T @ r))

    def weighted(idx: list[int]) -> Callable[[], np.ndarray]:
        def build() -> np.ndarray:
            A = cols[:, idx]
            return A if sw is None else A * sw[:, None]

        return build

    def raw(idx: list[int]) -> np.ndarray | None:
        return None if raw_norms is None else raw_norms[idx]

    X_map = np.zeros((m, len(x_idx)))
    X_map[x_idx, range(len(x_idx))] = 1.0
    if z_cols is None:
        rk = gram_inverse_ranked(
            C[np.ix_(x_idx, x_idx)], names, weighted(x_idx), raw_norms=raw(x_idx),
            fe_label=fe_label,
        )  # fmt: skip
        M = rk.inverse
        beta = refine(X_map, y, M, M @ C[x_idx, y_col])
        return X_map, beta, M, y - cols @ (X_map @ beta), rk
    z_idx = list(z_cols)
    zn = [
        names[x_idx.index(c)] if c in x_idx else (z_names[j] if z_names else f"instrument {j}")
        for j, c in enumerate(z_idx)
    ]
    Z_map = np.zeros((m, len(z_idx)))
    Z_map[z_idx, range(len(z_idx))] = 1.0
    Czz = C[np.ix_(z_idx, z_idx)]
    rz = gram_inverse_ranked(Czz, zn, weighted(z_idx), raw_norms=raw(z_idx), fe_label=fe_label)
    if rz.dropped:
        _check_identified(weighted(z_idx)(), z_idx, x_idx, zn, names, fe_label)
    MZ = rz.inverse
    Pi = MZ @ C[np.ix_(z_idx, x_idx)]
    for j, c in enumerate(x_idx):
        if c in z_idx:  # an exogenous regressor is its own first-stage fit
            Pi[:, j] = 0.0
            Pi[z_idx.index(c), j] = 1.0
        else:
            Pi[:, j] = refine(Z_map, cols[:, c], MZ, Pi[:, j])
    G = Pi.T @ Czz @ Pi
    Xhat_map = Z_map @ Pi

    def xhat() -> np.ndarray:
        A = cols @ Xhat_map
        return A if sw is None else A * sw[:, None]

    raw_hat = raw(x_idx)
    if raw_hat is not None:  # an endogenous column's fitted values: no raw norm to compare
        raw_hat = np.where([c in z_idx for c in x_idx], raw_hat, 0.0)
    rk = gram_inverse_ranked((G + G.T) / 2.0, names, xhat, raw_norms=raw_hat, fe_label=fe_label)
    endog = [j for j, c in enumerate(x_idx) if c not in z_idx]
    lost = [names[j] for j in endog if j in rk.dropped]
    if lost:
        raise EstimationError(
            f"the fitted values of {', '.join(map(repr, lost))} from the instruments are "
            "collinear with the exogenous regressors: the instruments do not move "
            f"{'it' if len(lost) == 1 else 'them'} once the covariates and {fe_label} are held "
            "fixed, so the 2SLS estimate is not identified; drop the covariates that "
            "duplicate the instrument"
        )
    M = rk.inverse
    beta = refine(Xhat_map, y, M, M @ (Pi.T @ C[z_idx, y_col]))
    return Xhat_map, beta, M, y - cols @ (X_map @ beta), rk


def _check_identified(
    Zw: np.ndarray,
    z_idx: list[int],
    x_idx: list[int],
    z_names: Sequence[str],
    names: Sequence[str],
    fe_label: str,
) -> None:
    """Refuse a 2SLS whose excluded instruments, after partialling out the exogenous
    regressors, have rank below the number of endogenous regressors."""
    exog = [j for j, c in enumerate(z_idx) if c in x_idx]
    excluded = [j for j, c in enumerate(z_idx) if c not in x_idx]
    n_endog = sum(1 for c in x_idx if c not in z_idx)
    norms = np.sqrt(np.einsum("ij,ij->j", Zw, Zw))
    live = [j for j in exog if norms[j] > 0]
    sub = [*live, *(j for j in excluded if norms[j] > 0)]
    kept = estimatr_kept(Zw[:, sub], list(range(len(live))))
    n_excl = sum(1 for i in kept if i >= len(live))
    if n_excl >= n_endog:
        return
    ex = ", ".join(repr(z_names[j]) for j in excluded)
    covs = [repr(names[x_idx.index(z_idx[j])]) for j in exog]
    covs = [c for c in covs if not c.startswith("'_")]
    raise EstimationError(
        f"the instrument {ex} is collinear with "
        + (", ".join(covs) + f" and {fe_label}" if covs else fe_label)
        + ": once they are held fixed it does not vary, so the 2SLS (CACE) estimate is not "
        "identified; drop the covariate(s) that duplicate the instrument"
    )


def same_column(a: np.ndarray, b: np.ndarray) -> bool:
    return bool(a[0] == b[0] and a[-1] == b[-1] and np.array_equal(a, b))


def take_columns(cols: np.ndarray, which: Sequence[int] | range) -> np.ndarray:
    """Columns of a Fortran matrix: a view for a contiguous range, else a copy."""
    idx = list(which)
    if idx and idx == list(range(idx[0], idx[-1] + 1)):
        return cols[:, idx[0] : idx[-1] + 1]
    out = np.empty((cols.shape[0], len(idx)), order="F")
    for j, c in enumerate(idx):
        out[:, j] = cols[:, c]
    return out


def solve_dense(
    cols: np.ndarray,
    D: np.ndarray | None,
    w: np.ndarray | None,
    label: str,
    y_col: int,
    x_cols: Sequence[int] | range,
    z_cols: Sequence[int] | range | None,
    names: tuple[str, ...],
    z_names: Sequence[str] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, Ranked]:
    """OLS / 2SLS with the weighted design formed (explicit fixed-effect dummies). Returns
    the score regressors, the regressors (dummies appended), the coefficients, the bread and
    what was dropped (the dummies, named ``_fe...``, never are)."""
    X = take_columns(cols, x_cols)
    y = cols[:, y_col]
    all_names = names
    if D is not None:
        X = np.column_stack([X, D])
        all_names = names + tuple(f"_fe{j}" for j in range(D.shape[1]))
    X = np.asfortranarray(X)
    sw = None if w is None else np.sqrt(w)
    if z_cols is None:
        Xw = X if sw is None else X * sw[:, None]
        yw = y if sw is None else y * sw
        rk = gram_inverse_ranked(Xw.T @ Xw, all_names, lambda: Xw, fe_label=label)
        beta = solve_normal(Xw, yw, rk.inverse)
        return X, X, beta, rk.inverse, rk
    # 2SLS: the weighted columns [y, used columns of cols, dummies] and the same first and
    # second stage as solve_from_cross (shared indices: an exogenous regressor is an instrument)
    xs, zs = list(x_cols), list(z_cols)
    used = sorted(set(xs) | set(zs))
    nd = 0 if D is None else D.shape[1]
    parts = [y[:, None], cols[:, used]] + ([] if D is None else [D])
    A = np.asfortranarray(np.column_stack(parts))
    if sw is not None:
        A *= sw[:, None]
    fe = list(range(1 + len(used), 1 + len(used) + nd))
    x_idx = [1 + used.index(c) for c in xs] + fe
    z_idx = [1 + used.index(c) for c in zs] + fe
    G = A.T @ A
    S, beta, M, _, rk = solve_from_cross(
        A, (G + G.T) / 2.0, None, 0, x_idx, z_idx, all_names,
        z_names=None if z_names is None else [*z_names, *all_names[len(names):]],
        fe_label=label,
    )  # fmt: skip
    # the score regressors Z Pi, unweighted (S maps the weighted columns)
    X_scores = A @ S
    if sw is not None:
        X_scores /= sw[:, None]
    return np.asfortranarray(X_scores), X, beta, M, rk
