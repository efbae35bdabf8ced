r"""Collinear regressors, dropped as R estimatr drops them.

estimatr's ``lm_solver`` factors the design by Eigen's ``ColPivHouseholderQR``: column pivoting
by the largest norm left, and the columns after the numerical rank get ``NA``
(:func:`estimatr_kept`). :func:`gram_inverse_ranked` inverts a Gram matrix :math:`X^\top W X`
as cheaply as before when the columns are clearly independent, and otherwise finds the columns
estimatr keeps from :math:`W^{1/2} X` itself, returning the inverse of their block padded with
zeros (a generalised inverse: every statistic of a kept column is that of the fit without the
dropped ones) and why each column was dropped. :func:`check_required` refuses a fit whose
reported coefficient is one of a collinear set; :func:`warn_dropped` issues the one warning.
"""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import linalg

from fieldexp.errors import CollinearWarning, EstimationError

__all__ = [
    "ABSORBED_TOL",
    "COLLINEAR_TOL",
    "RANK_TOL",
    "Ranked",
    "check_required",
    "cho_inverse",
    "estimatr_kept",
    "fe_label",
    "first_collinear",
    "gram_inverse_ranked",
    "warn_dropped",
]

#: relative size below which a pivot of the scaled Gram matrix marks a collinear column
COLLINEAR_TOL = 1e-10


def first_collinear(G: np.ndarray) -> tuple[int, list[int]] | None:
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


def cho_inverse(G: np.ndarray) -> np.ndarray:
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


#: |R_ii| relative to the column's own norm at or below which pivoted QR marks it as collinear
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
    kept, the others get ``NA``. Of exact multiples (``x``, ``2 * x``) the one with the larger
    norm is kept, of exact copies the earlier one. LAPACK's ``dgeqp3`` pivots by the same rule.

    We also drop a column whose :math:`|R_{ii}|` is at most :data:`RANK_TOL` (``1e-12``) of its
    own norm: Eigen's threshold misses exact collinearity after rounding
    (``voted_2016 + voted_2018 - 2 voted_2020`` on ``fixtures/experiment_small.csv`` leaves
    :math:`|R_{66}|` at :math:`2.9 \cdot 10^{-15}` of the largest, above :math:`6\varepsilon`:
    estimatr keeps all six columns and reports coefficients of :math:`\pm 6.5 \cdot 10^{11}`;
    R's ``lm`` drops the column at its :math:`10^{-7}`). A column keeping less than ``1e-12``
    of its norm is rounding noise; estimatr keeps it when that noise is above its threshold.

    ``protected`` columns (fixed-effect dummies, absorbed by estimatr before its QR) are
    projected out first and always kept.
    """
    p = A.shape[1]
    prot = sorted(set(protected))
    free = [j for j in range(p) if j not in prot]
    B = A[:, free]
    own = np.sqrt(np.einsum("ij,ij->j", B, B))  # before the fixed effects are projected out
    if prot:
        P = A[:, prot]
        B = B - P @ np.linalg.lstsq(P, B, rcond=None)[0]
    if not free:
        return prot
    _, R, piv = linalg.qr(B, mode="economic", pivoting=True)
    diag = np.abs(np.diag(R))
    top = float(diag.max()) if diag.size else 0.0
    eigen = np.finfo(np.float64).eps * min(B.shape) * top
    passing = (diag > eigen) & (diag > RANK_TOL * own[piv[: len(diag)]])
    rank = int(np.count_nonzero(passing)) if top > 0 else 0
    return sorted(prot + [free[int(j)] for j in piv[:rank]])


def fe_label(absorb_names: Sequence[str]) -> str:
    """How messages name the absorbed fixed effects: ``the fixed effects of 'blk'``."""
    names = [repr(n) for n in absorb_names]
    if not names:
        return "the fixed effects"
    return "the fixed effects of " + " and ".join(names)


def _no_variation(
    norms: np.ndarray, raw_norms: np.ndarray | None, protected: Sequence[int], fe_label: str
) -> dict[int, str]:
    """Columns (not ``protected``) with no variation left, and why: a zero norm, or at most
    :data:`ABSORBED_TOL` of the norm they had before the fixed effects were absorbed."""
    reasons: dict[int, str] = {}
    for j in range(len(norms)):
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
    return reasons


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
    # a column that lost (almost) all of its norm to the fixed effects goes to the exact check
    # (with one column nothing else would catch it: a treatment that is a function of the
    # periods alone)
    absorbed = raw_norms is not None and bool(np.any(d <= 1e-6 * raw_norms))
    if not absorbed and d.min() > 1e-8 * d.max() and first_collinear(G) is None:
        return Ranked(cho_inverse(G))
    A = columns()
    protected = [j for j in range(k) if names[j].startswith("_")]
    partners: dict[int, tuple[int, ...]] = {}
    norms = np.sqrt(np.einsum("ij,ij->j", A, A))
    reasons = _no_variation(norms, raw_norms, protected, fe_label)
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


def check_required(names: tuple[str, ...], ranked: Ranked, required: Sequence[str]) -> None:
    """Refuse when a reported coefficient (the effect) is one of a collinear set: dropped
    itself, or reproducing a dropped column with the others. Its effect adjusted for the
    columns it duplicates is not identified (whichever column estimatr's QR would drop)."""
    for j, why, partners in zip(ranked.dropped, ranked.reasons, ranked.partners, strict=True):
        if j >= len(names):
            continue
        if names[j] in required:
            advice = (
                "it must vary within the fixed effects (for a panel: within units over time, "
                "differently across units)"
                if why.startswith("it has no variation")
                else "drop the covariate(s) that duplicate it"
            )
            raise EstimationError(
                f"{names[j]!r} cannot be estimated: {why}, so its effect is not identified "
                f"(estimatr's pivoted QR drops it: NA); {advice}"
            )
        hit = [names[i] for i in partners if i < len(names) and names[i] in required]
        if hit:
            raise EstimationError(
                f"{hit[0]!r} cannot be estimated: the covariate {names[j]!r} duplicates it "
                f"({why}); holding {names[j]!r} fixed leaves no variation in {hit[0]!r}, so its "
                f"effect is not identified. Drop {names[j]!r}."
            )


def warn_dropped(names: Sequence[str], dropped: Sequence[int], reasons: Sequence[str]) -> None:
    """One :class:`~fieldexp.errors.CollinearWarning` naming the dropped columns and why."""
    shown = "; ".join(
        f"{names[j]!r} ({why})" for j, why in zip(dropped, reasons, strict=True) if j < len(names)
    )
    warnings.warn(
        f"dropped collinear regressor(s): {shown}. estimatr drops them too (NA coefficients) "
        "and estimates the rest; their rows are NaN",
        CollinearWarning,
        stacklevel=_caller_level(),
    )


_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _caller_level() -> int:
    """The ``stacklevel`` of the first frame outside fieldexp (the user's call)."""
    level, frame = 1, sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE + os.sep):
        frame = frame.f_back  # type: ignore[assignment]
        level += 1
    return level


#: a column keeping at least this share of its own norm after the pivots before it is decided
#: from a Gram matrix alone (the Schur complement loses :math:`\varepsilon\,\|x\|^2`, so a share
#: below about :math:`\sqrt{\varepsilon}` is rounding noise there)
GRAM_CONFIDENT = 1e-6

#: a residual (computed from the rows by the engine) at most this share of the column's own norm
#: is exact collinearity, which estimatr's QR drops too (:data:`RANK_TOL` with room for rounding)
GRAM_EXACT = 1e-13


def gram_ranked(
    G: np.ndarray,
    names: Sequence[str],
    residuals: Callable[[list[int], list[int]], np.ndarray],
    *,
    n: int,
    own: np.ndarray | None = None,
    raw_norms: np.ndarray | None = None,
    fe_label: str = "the fixed effects",
    where: str = "on an engine table",
) -> Ranked:
    r""":func:`gram_inverse_ranked` from aggregates only: the columns estimatr keeps, decided
    from the Gram matrix :math:`G = X^\top X` and, for the columns it cannot decide, their
    residual norms computed from the rows (``residuals(picked, undecided)``, one more pass).

    Column-pivoted QR picks the column with the largest norm left after the picked ones; that
    norm is the square root of the diagonal of the Schur complement of the picked block, so a
    diagonal-pivoted Cholesky factor of :math:`G` makes the same picks. In floating point the
    Schur complement loses :math:`\varepsilon\,\|x_j\|^2`: a column keeping at least
    :data:`GRAM_CONFIDENT` of its own norm (``own``, default :math:`\sqrt{G_{jj}}`) is decided
    from :math:`G`; the columns left are the undecided ones. Their residual norms on the picked
    columns, computed from the rows, at most :data:`GRAM_EXACT` of their own norm are exact
    collinearity (dropped, as estimatr drops them); a larger residual is a nearly collinear
    column estimatr may keep, whose fit :math:`G` cannot reproduce: refused with what to do.
    ``raw_norms``: as in :func:`gram_inverse_ranked`. The inverse of the kept block is a
    Cholesky inverse of :math:`G` (padded with zeros).
    """
    k = G.shape[0]
    if k == 0:
        return Ranked(np.empty((0, 0)))
    d = np.sqrt(np.clip(np.diag(G), 0.0, None))
    absorbed = raw_norms is not None and bool(np.any(d <= 1e-6 * raw_norms))
    if not absorbed and d.min() > 1e-8 * d.max() and first_collinear(G) is None:
        return Ranked(cho_inverse(G))
    own = d if own is None else np.asarray(own, dtype=np.float64)
    protected = [j for j in range(k) if names[j].startswith("_")]
    reasons = _no_variation(d, raw_norms, protected, fe_label)
    live = [j for j in range(k) if j not in reasons]
    picked, undecided = _pivoted_cholesky(G, live, protected, own, n, names, where)
    kept = list(picked)
    if undecided:
        res = np.asarray(residuals(sorted(picked), undecided), dtype=np.float64)
        for j, r in zip(undecided, res, strict=True):
            if not r <= GRAM_EXACT * own[j]:
                raise EstimationError(
                    f"{names[j]!r} is nearly collinear with the other regressors (it keeps "
                    f"{r / own[j]:.1e} of its norm {where}): estimatr's pivoted QR decides such "
                    "a column from the unit rows, which the engine's cross-products cannot "
                    f"reproduce; drop {names[j]!r} (or the columns it nearly duplicates), or "
                    "pass a pandas DataFrame"
                )
    kept.sort()
    for j in live:
        if j not in kept:
            reasons[j] = _collinear_reason(names, _partners(G, kept, j), fe_label)
    partners = {j: _partners(G, kept, j) for j in live if j not in kept}
    dropped = tuple(sorted(reasons))
    M = np.zeros((k, k))
    if kept:
        M[np.ix_(kept, kept)] = cho_inverse(G[np.ix_(kept, kept)])
    return Ranked(
        M,
        dropped,
        tuple(reasons[j] for j in dropped),
        tuple(partners.get(j, ()) for j in dropped),
    )


def _pivoted_cholesky(
    G: np.ndarray,
    live: list[int],
    protected: list[int],
    own: np.ndarray,
    n: int,
    names: Sequence[str],
    where: str,
) -> tuple[list[int], list[int]]:
    """Diagonal-pivoted Cholesky of ``G[live, live]`` with estimatr's pivot rule (protected
    columns first): the confidently picked columns and the undecided rest."""
    S = G.astype(np.float64, copy=True)
    picked: list[int] = []

    def eliminate(j: int) -> None:
        piv = S[j, j]
        col = S[:, j].copy()
        S[:, :] -= np.outer(col, col) / piv

    for j in protected:
        if S[j, j] <= 0:  # pragma: no cover - dummies of non-empty levels
            raise EstimationError("a fixed-effect level has no rows")
        eliminate(j)
        picked.append(j)
    free = [j for j in live if j not in protected]
    eps = np.finfo(np.float64).eps
    top = 0.0
    while True:
        rest = [j for j in free if j not in picked]
        if not rest:
            return picked, []
        rem = np.array([max(S[j, j], 0.0) for j in rest])
        norms = np.sqrt(rem)
        # the largest, the first of near ties: exact copies tie exactly (Eigen picks the first);
        # columns equal in exact arithmetic but not in rounding (a fitted value equal to a
        # covariate) tie by rounding on either route; one is dropped as a partner of the
        # other, and the other coefficients do not depend on which
        i = int(np.flatnonzero(norms >= norms.max() * (1.0 - 1e-8))[0])
        j, r = rest[i], float(norms[i])
        if top == 0.0:
            top = r
        noise = GRAM_CONFIDENT * max(float(own[q]) for q in rest)
        eigen = eps * min(n, len(free)) * top
        if r < GRAM_CONFIDENT * own[j] or r < noise or r <= 2.0 * eigen:
            return picked, rest
        eliminate(j)
        picked.append(j)
