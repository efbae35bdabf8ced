r"""Normal equations for the tall, thin fits of :mod:`fieldexp.stats.linear`.

:func:`gram_inverse_from` inverts a Gram matrix :math:`X^\top W X` after a collinearity
check; :func:`cross_product` forms :math:`C = A^\top W A` of a matrix of columns once, and
:func:`solve_from_cross` solves OLS and 2SLS on columns of :math:`A` from blocks of
:math:`C`, with matrix-vector passes over the rows only (plus one step of iterative
refinement each, which recovers the accuracy of a QR solve).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import linalg

from fieldexp.errors import EstimationError
from fieldexp.stats.blas import single_thread_blas

__all__ = [
    "ABSORBED_TOL",
    "COLLINEAR_TOL",
    "RANK_TOL",
    "Ranked",
    "cross_product",
    "estimatr_kept",
    "gram_inverse",
    "gram_inverse_from",
    "gram_inverse_ranked",
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
    semi-definite), refusing a column without variation or collinear with earlier ones.

    The refusing variant, for callers that cannot report a dropped column (the engine
    kernels); :func:`gram_inverse_ranked` drops collinear columns as estimatr does.
    """
    _check_variation(G, names, absorbed)
    bad = _first_collinear(G)
    if bad is not None:
        j, kept = bad
        others = ", ".join(repr(names[i]) for i in kept)
        raise EstimationError(
            f"regressor {names[j]!r} is collinear with {others or 'the fixed effects'}; "
            "drop it or one of the columns it duplicates"
        )
    return _cho_inverse(G)


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


def _first_collinear(G: np.ndarray) -> tuple[int, list[int]] | None:
    """Greedy rank check in column order on the scaled Gram matrix: the first column that
    adds (almost) nothing, with the columns before it; ``None`` when every pivot is at least
    :data:`COLLINEAR_TOL` (then every column keeps at least ``1e-5`` of its norm)."""
    d = np.sqrt(np.clip(np.diag(G), 0.0, None))
    if np.any(d <= 0):
        return int(np.flatnonzero(d <= 0)[0]), []
    S = G / np.outer(d, d)
    kept: list[int] = []
    for j in range(G.shape[0]):
        trial = [*kept, j]
        if np.linalg.eigvalsh(S[np.ix_(trial, trial)])[0] < COLLINEAR_TOL:
            return j, kept
        kept.append(j)
    return None


def _cho_inverse(G: np.ndarray) -> np.ndarray:
    k = G.shape[0]
    try:
        c = linalg.cho_factor(G)
        M = linalg.cho_solve(c, np.eye(k))
    except linalg.LinAlgError:
        raise EstimationError(
            "the regressors are numerically collinear (their Gram matrix is not positive "
            "definite in floating point); rescale or drop nearly duplicated covariates"
        ) from None
    return (M + M.T) / 2.0


#: relative |R_ii| (of the largest) at or below which pivoted QR marks a column as collinear
RANK_TOL = 1e-12

#: a column keeping at most this share of its norm after absorbing the fixed effects has no
#: variation left within them (it is constant within their levels up to rounding)
ABSORBED_TOL = 1e-11


@dataclass(frozen=True, slots=True)
class Ranked:
    """The inverse of the kept block of a Gram matrix, zero elsewhere (a generalised inverse:
    every statistic of a kept column equals that of the fit on the kept columns alone), and
    the dropped columns with why each was dropped."""

    inverse: np.ndarray
    dropped: tuple[int, ...] = ()
    reasons: tuple[str, ...] = ()
    #: for each dropped column, the kept columns it is a combination of
    partners: tuple[tuple[int, ...], ...] = ()


def estimatr_kept(A: np.ndarray, protected: Sequence[int] = ()) -> list[int]:
    r"""The columns of ``A`` that estimatr's ``lm_solver`` keeps.

    estimatr solves by Eigen's ``ColPivHouseholderQR``: column pivoting picks, at each step,
    the column with the largest norm left after projecting out the columns already picked
    (the first one on a tie), and the rank is the number of diagonal entries with
    :math:`|R_{ii}| > \varepsilon \min(n, p) \max_j |R_{jj}|`; the first *rank* pivots are
    kept, the others get ``NA``. We use the same pivoting with the threshold
    :math:`\max(\varepsilon \min(n, p), 10^{-12})` (:data:`RANK_TOL`): Eigen's misses exact
    collinearity after rounding (``voted_2016 + voted_2018 - 2 voted_2020`` on
    ``fixtures/experiment_small.csv`` leaves :math:`|R_{66}|` at :math:`2.9 \cdot 10^{-15}` of
    the largest, above :math:`6\varepsilon`: estimatr keeps all six columns and reports
    coefficients of :math:`\pm 6.5 \cdot 10^{11}`; R's ``lm`` drops the column at its
    :math:`10^{-7}`). A column keeping between :math:`\varepsilon \min(n, p)` and
    :math:`10^{-12}` of the largest norm is dropped here, kept by estimatr as rounding noise. Of exact multiples (``x``, ``2 * x``) the one with the larger
    norm is kept, of exact copies the earlier one. LAPACK's ``dgeqp3`` pivots by the same rule.

    ``protected`` columns (fixed-effect dummies, absorbed by estimatr before its QR) are
    projected out first and always kept.
    """
    p = A.shape[1]
    prot = sorted(set(protected))
    free = [j for j in range(p) if j not in prot]
    B = A[:, free]
    if prot:
        P = A[:, prot]
        B = B - P @ np.linalg.lstsq(P, B, rcond=None)[0]
    if not free:
        return prot
    _, R, piv = linalg.qr(B, mode="economic", pivoting=True)
    diag = np.abs(np.diag(R))
    top = float(diag.max()) if diag.size else 0.0
    threshold = max(np.finfo(np.float64).eps * min(B.shape), RANK_TOL) * top
    rank = int(np.count_nonzero(diag > threshold)) if top > 0 else 0
    return sorted(prot + [free[int(j)] for j in piv[:rank]])


def gram_inverse_ranked(
    G: np.ndarray,
    names: Sequence[str],
    columns: Callable[[], np.ndarray],
    *,
    raw_norms: np.ndarray | None = None,
    fe_label: str = "the fixed effects",
) -> Ranked:
    r""":math:`G^{-1}` of :math:`G = X^\top W X`, dropping the columns estimatr drops.

    The full-rank case costs what :func:`gram_inverse_from` costs (a greedy check of the
    scaled Gram matrix, a Cholesky factor). Only when a column keeps less than ``1e-5`` of its
    norm (or has a norm below ``1e-8`` of the largest) does ``columns()`` build the weighted
    columns :math:`W^{1/2} X` for :func:`estimatr_kept` (estimatr's pivoted QR and
    tolerance); a nearly collinear design that estimatr keeps is kept. Columns whose names
    begin with ``_`` are fixed-effect dummies (never dropped). ``raw_norms``: the columns'
    norms before the fixed effects were absorbed; a column left with at most
    :data:`ABSORBED_TOL` of it is constant within ``fe_label`` and dropped.
    """
    k = G.shape[0]
    d = np.sqrt(np.clip(np.diag(G), 0.0, None))
    if k == 0:
        return Ranked(np.empty((0, 0)))
    if d.min() > 1e-8 * d.max() and _first_collinear(G) is None:
        return Ranked(_cho_inverse(G))
    A = columns()
    protected = [j for j in range(k) if names[j].startswith("_")]
    reasons: dict[int, str] = {}
    partners: dict[int, tuple[int, ...]] = {}
    norms = np.sqrt(np.einsum("ij,ij->j", A, A))
    for j in range(k):
        if j in protected:
            continue
        if norms[j] == 0.0:
            reasons[j] = "it has no variation" + (
                f" left after absorbing {fe_label} (a function of their levels alone)"
                if raw_norms is not None
                else " (constant in every row used)"
            )
        elif raw_norms is not None and norms[j] <= ABSORBED_TOL * raw_norms[j]:
            reasons[j] = (
                f"it has no variation left after absorbing {fe_label} "
                "(a function of their levels alone)"
            )
    live = [j for j in range(k) if j not in reasons]
    kept_live = estimatr_kept(A[:, live], [live.index(j) for j in protected])
    kept = [live[i] for i in kept_live]
    for j in live:
        if j not in kept:
            partners[j] = _partners(G, kept, j)
            reasons[j] = _collinear_reason(names, partners[j], fe_label)
    dropped = tuple(sorted(reasons))
    M = np.zeros((k, k))
    if kept:
        M[np.ix_(kept, kept)] = _qr_inverse(A[:, kept])
    return Ranked(
        M,
        dropped,
        tuple(reasons[j] for j in dropped),
        tuple(partners.get(j, ()) for j in dropped),
    )


def _qr_inverse(A: np.ndarray) -> np.ndarray:
    r""":math:`(A^\top A)^{-1} = R^{-1} R^{-\top}` from a QR factor of the columns: accurate to
    :math:`\kappa(A)\,\varepsilon` where the Cholesky factor of :math:`A^\top A` loses
    :math:`\kappa(A)^2 \varepsilon` (an ill-conditioned design that estimatr keeps; with the
    iterative refinement of the solves these are the corrected semi-normal equations)."""
    R = linalg.qr(A, mode="r")[0][: A.shape[1]]
    if np.any(np.diag(R) == 0):  # pragma: no cover - estimatr_kept removed such columns
        raise EstimationError("the regressors are numerically collinear")
    Rinv = linalg.solve_triangular(R, np.eye(A.shape[1]))
    M = Rinv @ Rinv.T
    return (M + M.T) / 2.0


def _partners(G: np.ndarray, kept: list[int], j: int) -> tuple[int, ...]:
    """The kept columns that reproduce column ``j`` (non-negligible terms of its regression
    on them)."""
    if not kept:
        return ()
    d = np.sqrt(np.clip(np.diag(G), 0.0, None))
    try:
        coef = linalg.solve(G[np.ix_(kept, kept)], G[kept, j], assume_a="pos")
    except (linalg.LinAlgError, ValueError):  # pragma: no cover - the kept block is definite
        return tuple(kept)
    share = np.abs(coef) * d[kept] / max(float(d[j]), np.finfo(float).tiny)
    return tuple(i for i, s in zip(kept, share, strict=True) if s > 1e-6)


def _collinear_reason(names: Sequence[str], partners: tuple[int, ...], fe_label: str) -> str:
    with_ = [names[i] for i in partners]
    shown = [repr(n) for n in with_ if not n.startswith("_")]
    if len(shown) < len(with_) or not shown:
        shown.append(fe_label)
    return "it is collinear with " + ", ".join(shown)


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
