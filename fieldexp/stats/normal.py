r"""Normal equations for the tall, thin fits of :mod:`fieldexp.stats.linear`.

:func:`gram_inverse_from` inverts a Gram matrix :math:`X^\top W X` after a collinearity
check; :func:`cross_product` forms :math:`C = A^\top W A` of a matrix of columns once, and
:func:`solve_from_cross` solves OLS and 2SLS on columns of :math:`A` from blocks of
:math:`C`, with matrix-vector passes over the rows only (plus one step of iterative
refinement each, which recovers the accuracy of a QR solve).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import linalg

from fieldexp.errors import EstimationError
from fieldexp.stats.blas import single_thread_blas

__all__ = [
    "COLLINEAR_TOL",
    "cross_product",
    "gram_inverse",
    "gram_inverse_from",
    "solve_from_cross",
    "solve_normal",
]

#: relative size below which a pivot of the scaled Gram matrix marks a collinear column
COLLINEAR_TOL = 1e-10


def gram_inverse(Xw: np.ndarray, names: Sequence[str], *, absorbed: bool = False) -> np.ndarray:
    """:math:`(X^\\top W X)^{-1}` from the weighted design, with a collinearity check."""
    return gram_inverse_from(Xw.T @ Xw, names, absorbed=absorbed)


def gram_inverse_from(G: np.ndarray, names: Sequence[str], *, absorbed: bool = False) -> np.ndarray:
    """:math:`G^{-1}` of a Gram matrix :math:`G = X^\\top W X` (symmetric positive
    semi-definite), refusing a column without variation or collinear with earlier ones."""
    k = G.shape[0]
    d = np.sqrt(np.clip(np.diag(G), 0.0, None))
    zero = d <= 0
    if np.any(zero):
        bad = [names[int(j)] for j in np.flatnonzero(zero)]
        raise EstimationError(
            f"regressor(s) {', '.join(map(repr, bad))} have no variation"
            + (
                " left after absorbing fixed effects (constant within every block)"
                if absorbed
                else " (constant, or zero in every row used)"
            )
        )
    S = G / np.outer(d, d)
    # greedy rank check in column order: the first column that adds nothing is reported
    kept: list[int] = []
    for j in range(k):
        trial = [*kept, j]
        sub = S[np.ix_(trial, trial)]
        if np.linalg.eigvalsh(sub)[0] < COLLINEAR_TOL:
            others = ", ".join(repr(names[i]) for i in kept)
            raise EstimationError(
                f"regressor {names[j]!r} is collinear with {others or 'the fixed effects'}; "
                "drop it or one of the columns it duplicates"
            )
        kept.append(j)
    try:
        c = linalg.cho_factor(G)
        M = linalg.cho_solve(c, np.eye(k))
    except linalg.LinAlgError as exc:  # pragma: no cover - guarded by the rank check
        raise EstimationError(f"the regressors are collinear: {exc}") from None
    return (M + M.T) / 2.0


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
    has_fe: bool,
    y_col: int,
    x_idx: list[int],
    z_cols: Sequence[int] | range | None,
    names: tuple[str, ...],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
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

    Returns ``S`` with score regressors :math:`A S` (:math:`X` or :math:`\hat X`), the
    coefficients, the bread :math:`M` and the structural residuals :math:`y - X\beta`.
    """
    m = cols.shape[1]
    y = cols[:, y_col]

    def refine(S: np.ndarray, target: np.ndarray, M: np.ndarray, b: np.ndarray) -> np.ndarray:
        r = cols @ (S @ b)
        np.subtract(target, r, out=r)
        if w is not None:
            r *= w
        return b + M @ (S.T @ (cols.T @ r))

    X_map = np.zeros((m, len(x_idx)))
    X_map[x_idx, range(len(x_idx))] = 1.0
    if z_cols is None:
        M = gram_inverse_from(C[np.ix_(x_idx, x_idx)], names, absorbed=has_fe)
        beta = refine(X_map, y, M, M @ C[x_idx, y_col])
        return X_map, beta, M, y - cols @ (X_map @ beta)
    z_idx = list(z_cols)
    Z_map = np.zeros((m, len(z_idx)))
    Z_map[z_idx, range(len(z_idx))] = 1.0
    Czz = C[np.ix_(z_idx, z_idx)]
    MZ = gram_inverse_from(Czz, [f"instrument {j}" for j in range(len(z_idx))], absorbed=has_fe)
    Pi = MZ @ C[np.ix_(z_idx, x_idx)]
    for j, c in enumerate(x_idx):
        if c in z_idx:  # an exogenous regressor is its own first-stage fit
            Pi[:, j] = 0.0
            Pi[z_idx.index(c), j] = 1.0
        else:
            Pi[:, j] = refine(Z_map, cols[:, c], MZ, Pi[:, j])
    G = Pi.T @ Czz @ Pi
    M = gram_inverse_from((G + G.T) / 2.0, names, absorbed=has_fe)
    Xhat_map = Z_map @ Pi
    beta = refine(Xhat_map, y, M, M @ (Pi.T @ C[z_idx, y_col]))
    return Xhat_map, beta, M, y - cols @ (X_map @ beta)
