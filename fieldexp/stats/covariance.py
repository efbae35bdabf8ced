r"""Sandwich variance estimators behind one checked registry.

Every estimator computes

.. math::  \hat V = M \Big(\sum_c s_c s_c^\top\Big) M, \qquad M = (X^\top W X)^{-1},

from the *scores* :math:`s_c` of a row (heteroskedasticity-robust, ``HC*``) or of a
cluster (cluster-robust, ``CR*``), with the finite-sample corrections of R estimatr
(``lm_robust``; see its *mathematical notes*):

=========  ==============================================================  =====================
se_type    score                                                           df
=========  ==============================================================  =====================
HC0        :math:`w_i e_i x_i`                                             :math:`n - r`
HC1        HC0 :math:`\times \sqrt{n/(n-r)}`                               :math:`n - r`
HC2        :math:`w_i e_i x_i / \sqrt{1-h_{ii}}`                           :math:`n - r`
HC3        :math:`w_i e_i x_i / (1-h_{ii})`                                :math:`n - r`
CR0        :math:`\sum_{i\in g} w_i e_i x_i`                               :math:`G - 1`
stata      CR0 :math:`\times \sqrt{\frac{G(n-1)}{(G-1)(n-r)}}` (CR1)       :math:`G - 1`
CR2        :math:`X_g^{w\top} A_g e_g`, :math:`A_g = B_g^{-1/2}`           Bell–McCaffrey
=========  ==============================================================  =====================

``r`` is the rank of the regressors plus the rank of the absorbed fixed effects,
:math:`h_{ii}` the leverage in the full model (absorbed fixed effects included), and for
CR2 (Bell & McCaffrey 2002; Pustejovsky & Tipton 2018, eq. 6, in the form estimatr takes
from clubSandwich) with unit weights :math:`B_g = I - H_{gg}`; with weights :math:`W`,
:math:`B_g = I - H_g - H_g^\top + U_g \Omega U_g^\top` with :math:`H_g = U_g M U_g^\top W_g`
and :math:`\Omega = M U^\top W^2 U M`. The Bell–McCaffrey degrees of freedom for
coefficient *j* are :math:`(\operatorname{tr} P)^2 / \operatorname{tr}(P^2)` with
:math:`P = G^\top G`, :math:`G_{\cdot g} = (I-H)_{\cdot g} A_g X^w_g M e_j` (Imbens & Kolesár 2016).
estimatr forms the :math:`G \times G` matrix *P*; we use that every such *P* is a
diagonal plus a low-rank term, :math:`P = \operatorname{diag}(\lVert a_g\rVert^2) + F^\top K F`,
and compute both traces in :math:`O(G k^2)` time and memory.

All of :math:`B_g` have the form :math:`I + V_g K V_g^\top` for a small matrix ``K``; we
apply :math:`B_g^{-1/2}` through a thin QR of :math:`V_g` and a small eigenproblem,
batched over clusters of equal size, instead of an eigen-decomposition of each
:math:`n_g \times n_g` block.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from fieldexp.errors import EstimationError, SpecificationError, did_you_mean
from fieldexp.stats.groups import GroupIndex, segment_starts

__all__ = [
    "SE_TYPES",
    "SMALL_SAMPLE",
    "Covariance",
    "CovarianceEstimator",
    "LeverageError",
    "SandwichInputs",
    "check_small_sample",
    "contrast_covariance",
    "fixest_fe_count",
    "functional_variance",
    "get_covariance_estimator",
    "resolve_se_type",
]

#: eigenvalues of :math:`B_g` at or below this are treated as zero (as estimatr does)
EIGEN_TOL = 1e-12
#: an observation with :math:`1 - h_{ii}` at or below this has leverage one
LEVERAGE_TOL = 1e-10


class LeverageError(EstimationError):
    """HC2/HC3 are undefined: some observations have leverage one (the model fits them exactly).

    ``rows`` holds their positions in the arrays given to the estimator; the estimator layer
    turns them into row labels and blocks.
    """

    def __init__(self, message: str, rows: np.ndarray) -> None:
        super().__init__(message)
        self.rows = rows


@dataclass(frozen=True, slots=True, eq=False)
class SandwichInputs:
    """Everything a sandwich estimator needs, as plain arrays.

    Attributes
    ----------
    X : ndarray (n, k)
        Regressors entering the scores (after absorbing fixed effects; for 2SLS the
        first-stage fitted regressors), *unweighted*.
    resid : ndarray (n,)
        Residuals :math:`e = y - X\\beta` (structural residuals for 2SLS), unweighted.
    bread : ndarray (k, k)
        :math:`M = (X^\\top W X)^{-1}`.
    weights : ndarray (n,) or None
        Weights normalised to mean one.
    clusters : GroupIndex or None
    fe : GroupIndex or None
        One absorbed fixed-effect factor whose dummies enter the leverage (HC2, HC3, CR2).
        For CR2, clusters must be nested in it.
    rank : int
        Rank of the full model: regressors plus absorbed fixed effects.
    df_terms : tuple of int
        Coefficients for which CR2 computes Bell–McCaffrey degrees of freedom.
    """

    X: np.ndarray
    resid: np.ndarray
    bread: np.ndarray
    weights: np.ndarray | None
    clusters: GroupIndex | None
    fe: GroupIndex | None
    rank: int
    df_terms: tuple[int, ...]
    rank_cr1: int | None = None

    @property
    def n(self) -> int:
        return int(self.X.shape[0])


@dataclass(frozen=True, slots=True, eq=False)
class Covariance:
    """A variance-covariance matrix with per-coefficient degrees of freedom (NaN if not computed)."""

    vcov: np.ndarray
    df: np.ndarray
    se_type: str


class CovarianceEstimator(ABC):
    """One variance estimator: a name, whether it needs clusters, and a pure computation."""

    name: ClassVar[str]
    clustered: ClassVar[bool]
    uses_leverage: ClassVar[bool] = False

    @abstractmethod
    def compute(self, inputs: SandwichInputs) -> Covariance: ...


def _sandwich(bread: np.ndarray, scores: np.ndarray) -> np.ndarray:
    meat = scores.T @ scores
    v = bread @ meat @ bread
    return (v + v.T) / 2.0


def _row_scores(inputs: SandwichInputs) -> np.ndarray:
    """:math:`w_i e_i x_i`, shape (n, k)."""
    ew = inputs.resid if inputs.weights is None else inputs.resid * inputs.weights
    return inputs.X * ew[:, None]


def leverage(inputs: SandwichInputs) -> np.ndarray:
    r"""Diagonal of the hat matrix of the full model.

    .. math:: h_{ii} = w_i x_i^\top M x_i + w_i / \textstyle\sum_{j \in b(i)} w_j

    (the second term from the absorbed fixed effects, by Frisch–Waugh–Lovell).
    """
    X, M = inputs.X, inputs.bread
    h = np.einsum("ij,jk,ik->i", X, M, X)
    w = inputs.weights
    if w is not None:
        h = h * w
    if inputs.fe is not None:
        g = inputs.fe
        if w is None:
            h = h + 1.0 / g.counts[g.codes]
        else:
            wsum = np.bincount(g.codes, weights=w, minlength=g.n_groups)
            h = h + w / wsum[g.codes]
    return h


def checked_leverage(inputs: SandwichInputs, se_type: str) -> np.ndarray:
    """:func:`leverage`, refusing observations with leverage one (HC2 and HC3 divide by
    :math:`1 - h_{ii}`, which is then zero: the variance is undefined)."""
    h = leverage(inputs)
    bad = np.flatnonzero(1.0 - h <= LEVERAGE_TOL)
    if bad.size:
        raise LeverageError(
            f"se_type={se_type!r} divides each residual by "
            f"{'sqrt(1 - h_ii)' if se_type == 'HC2' else '(1 - h_ii)'}, and {bad.size:,} "
            "observation(s) have leverage h_ii = 1 (the model fits them exactly, so their "
            "residual carries no information about the variance)",
            bad,
        )
    return h


def _residual_df(inputs: SandwichInputs) -> np.ndarray:
    return np.full(inputs.X.shape[1], float(inputs.n - inputs.rank))


class HC0(CovarianceEstimator):
    name = "HC0"
    clustered = False

    def compute(self, inputs: SandwichInputs) -> Covariance:
        v = _sandwich(inputs.bread, _row_scores(inputs))
        return Covariance(v, _residual_df(inputs), self.name)


class HC1(CovarianceEstimator):
    name = "HC1"
    clustered = False

    def compute(self, inputs: SandwichInputs) -> Covariance:
        n, r = inputs.n, inputs.rank
        v = _sandwich(inputs.bread, _row_scores(inputs)) * (n / (n - r))
        return Covariance(v, _residual_df(inputs), self.name)


class HC2(CovarianceEstimator):
    name = "HC2"
    clustered = False
    uses_leverage = True
    power: ClassVar[float] = 0.5

    def compute(self, inputs: SandwichInputs) -> Covariance:
        h = checked_leverage(inputs, self.name)
        scores = _row_scores(inputs) / ((1.0 - h) ** self.power)[:, None]
        return Covariance(_sandwich(inputs.bread, scores), _residual_df(inputs), self.name)


class HC3(HC2):
    name = "HC3"
    power = 1.0


def _cluster_scores(inputs: SandwichInputs) -> np.ndarray:
    """:math:`\\sum_{i \\in g} w_i e_i x_i`, shape (G, k), one column at a time (all at
    once by ``np.add.reduceat`` when the rows are sorted by cluster)."""
    g = inputs.clusters
    if g is None:  # guarded by the registry; kept for type checkers
        raise SpecificationError("a cluster-robust se_type needs `clusters`")
    ew = inputs.resid if inputs.weights is None else inputs.resid * inputs.weights
    X = inputs.X
    starts = segment_starts(g)
    if starts is not None:
        return np.asfortranarray(np.add.reduceat(X * ew[:, None], starts, axis=0))
    out = np.empty((g.n_groups, X.shape[1]), order="F")
    buf = np.empty(X.shape[0])
    for j in range(X.shape[1]):
        out[:, j] = np.bincount(
            g.codes, weights=np.multiply(X[:, j], ew, out=buf), minlength=g.n_groups
        )
    return out


class CR0(CovarianceEstimator):
    name = "CR0"
    clustered = True

    def compute(self, inputs: SandwichInputs) -> Covariance:
        v = _sandwich(inputs.bread, _cluster_scores(inputs))
        G = inputs.clusters.n_groups  # type: ignore[union-attr]
        return Covariance(v, np.full(inputs.X.shape[1], float(G - 1)), self.name)


class CR1Stata(CovarianceEstimator):
    """Stata's CR1: CR0 times :math:`G(n-1)/((G-1)(n-r))`, with :math:`G-1` df."""

    name = "stata"
    clustered = True

    def compute(self, inputs: SandwichInputs) -> Covariance:
        G = inputs.clusters.n_groups  # type: ignore[union-attr]
        n = inputs.n
        r = inputs.rank if inputs.rank_cr1 is None else inputs.rank_cr1
        v = _sandwich(inputs.bread, _cluster_scores(inputs)) * (G * (n - 1) / ((G - 1) * (n - r)))
        return Covariance(v, np.full(inputs.X.shape[1], float(G - 1)), self.name)


class CR2(CovarianceEstimator):
    """Bias-reduced linearisation (Bell & McCaffrey 2002) with Bell–McCaffrey df."""

    name = "CR2"
    clustered = True
    uses_leverage = True

    def compute(self, inputs: SandwichInputs) -> Covariance:
        return _cr2(inputs)


# --------------------------------------------------------------------------- CR2 kernel
def _cluster_layout(g: GroupIndex) -> tuple[np.ndarray, np.ndarray]:
    order = np.argsort(g.codes, kind="stable")
    starts = np.zeros(g.n_groups, dtype=np.int64)
    np.cumsum(g.counts[:-1], out=starts[1:])
    return order, starts


def _rows_by_cluster_size(g: GroupIndex) -> tuple[np.ndarray, np.ndarray]:
    """Clusters sorted by size (then code), and the row order that lists their rows in turn."""
    order, starts = _cluster_layout(g)
    by_size = np.argsort(g.counts, kind="stable")
    sizes = g.counts[by_size]
    first_row = np.repeat(starts[by_size], sizes)
    offset = np.arange(g.n) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    return by_size, order[first_row + offset]


def _inv_sqrt_apply(
    V: np.ndarray, K: np.ndarray, rhs: np.ndarray, extra_K: np.ndarray | None = None
) -> np.ndarray:
    """Apply :math:`(I + V K V^\\top)^{-1/2}` to ``rhs`` for a stack of clusters.

    ``V`` (m, s, p), ``K`` (p, p) or (m, p, p), ``rhs`` (m, s, q). Eigenvalues of
    :math:`I + VKV^\\top` at or below ``EIGEN_TOL`` map to zero, as in estimatr.
    """
    _, s, p = V.shape
    if s == 1:  # a scalar: 1 + v K v'
        Kv = V[:, 0, :] @ K if K.ndim == 2 else np.einsum("mp,mpq->mq", V[:, 0, :], K)
        b = 1.0 + np.einsum("mp,mp->m", Kv, V[:, 0, :])
        keep = b > EIGEN_TOL
        scale = np.where(keep, 1.0 / np.sqrt(np.where(keep, b, 1.0)), 0.0)
        return rhs * scale[:, None, None]
    if s <= p:  # the s x s matrix itself is smaller than the QR route
        B = V @ K @ np.swapaxes(V, 1, 2)
        B = (B + np.swapaxes(B, 1, 2)) / 2.0
        idx = np.arange(s)
        B[:, idx, idx] += 1.0
        lam, E = np.linalg.eigh(B)
        with np.errstate(divide="ignore", invalid="ignore"):
            fs = np.where(lam > EIGEN_TOL, 1.0 / np.sqrt(np.where(lam > EIGEN_TOL, lam, 1.0)), 0.0)
        return E @ (fs[:, :, None] * (np.swapaxes(E, 1, 2) @ rhs))
    Q, R = np.linalg.qr(V)  # Q (m, s, r), R (m, r, p)
    C = R @ K @ np.swapaxes(R, 1, 2)
    C = (C + np.swapaxes(C, 1, 2)) / 2.0
    lam, E = np.linalg.eigh(C)
    ev = 1.0 + lam
    with np.errstate(divide="ignore", invalid="ignore"):
        f = np.where(ev > EIGEN_TOL, 1.0 / np.sqrt(np.where(ev > EIGEN_TOL, ev, 1.0)), 0.0)
    QE = Q @ E  # (m, s, r)
    coef = np.swapaxes(QE, 1, 2) @ rhs  # (m, r, q)
    out = rhs + QE @ ((f - 1.0)[:, :, None] * coef)
    # directions of R^s orthogonal to span(V) keep eigenvalue 1 (no change); if the span
    # is rank deficient, eigh already returned lam = 0 there (f = 1, no change).
    return out


def _cr2(
    inputs: SandwichInputs, psi: np.ndarray | None = None, resid: np.ndarray | None = None
) -> Covariance:
    r"""CR2 of the coefficients, or (with ``psi``, shape (n, t)) of the linear functionals
    :math:`\hat\theta_j = \sum_i \psi_{ij} y_i` of the same fit, whose cluster scores are
    :math:`\psi_g^\top A_g e_g` (for a coefficient *j*, :math:`\psi = W X M e_j`)."""
    g = inputs.clusters
    if g is None:
        raise SpecificationError("se_type='CR2' needs `clusters`")
    X, e, M, w = inputs.X, inputs.resid, inputs.bread, inputs.weights
    n, k = X.shape
    terms = inputs.df_terms
    fe = inputs.fe

    if w is None:
        Xw = X
        if fe is None:
            V_all = X
            K = -M
        else:
            inv_sqrt_nb = 1.0 / np.sqrt(fe.counts[fe.codes].astype(np.float64))
            V_all = np.column_stack([X, inv_sqrt_nb])
            K = np.zeros((k + 1, k + 1))
            K[:k, :k] = -M
            K[k, k] = -1.0
    else:
        if fe is not None:
            raise SpecificationError(
                "internal: weighted CR2 with absorbed fixed effects must use explicit dummies"
            )
        Xw = X * w[:, None]
        omega = M @ (Xw.T @ Xw) @ M
        V_all = np.column_stack([X, Xw])
        K = np.block([[omega, -M], [-M, np.zeros((k, k))]])

    if psi is not None:
        targets = psi
        # one residual per functional (fits sharing the hat matrix: a 2SLS and its first stage)
        E = e[:, None] if resid is None else resid.reshape(n, -1)
    elif terms:
        targets = Xw @ M[:, list(terms)]
    else:
        targets = np.empty((n, 0))
    if psi is None:
        E = e[:, None]
    ne = E.shape[1]
    rhs_all = np.column_stack([E, targets])

    nt = targets.shape[1]
    scores = np.empty((g.n_groups, k if psi is None else nt))
    q = np.empty((g.n_groups, nt))
    p = V_all.shape[1]
    f = np.empty((g.n_groups, p, nt))
    # rows ordered by (cluster size, cluster): clusters of one size are a contiguous slab,
    # reshaped to (m, s, .) without further gathers
    by_size, rows = _rows_by_cluster_size(g)
    Vs = V_all[rows]
    Rs = rhs_all[rows]
    Ss = (Xw if psi is None else psi)[rows]
    sizes = g.counts[by_size]
    bounds = np.flatnonzero(np.diff(sizes)) + 1
    c_starts = np.concatenate([[0], bounds])
    c_ends = np.concatenate([bounds, [len(sizes)]])
    r_off = np.concatenate([[0], np.cumsum(sizes)])
    for c0, c1 in zip(c_starts, c_ends, strict=True):
        s_ = int(sizes[c0])
        m = int(c1 - c0)
        r0, r1 = int(r_off[c0]), int(r_off[c1])
        cl = by_size[c0:c1]
        V = Vs[r0:r1].reshape(m, s_, p)
        A_rhs = _inv_sqrt_apply(V, K, Rs[r0:r1].reshape(m, s_, -1))
        if ne == 1:
            scores[cl] = np.einsum("ms,msk->mk", A_rhs[:, :, 0], Ss[r0:r1].reshape(m, s_, -1))
        else:  # functional j with residual j
            scores[cl] = np.einsum("msj,msj->mj", A_rhs[:, :, :ne], Ss[r0:r1].reshape(m, s_, -1))
        if nt:
            a = A_rhs[:, :, ne:]  # (m, s, nt)
            q[cl] = np.einsum("msj,msj->mj", a, a)
            f[cl] = np.swapaxes(V, 1, 2) @ a  # (m, p, nt)

    if psi is None:
        vcov = _sandwich(M, scores)
        df = np.full(k, np.nan)
        for col, j in enumerate(terms):
            df[j] = _bell_mccaffrey_df(q[:, col], f[:, :, col], K, fe if w is None else None, g, k)
        return Covariance(vcov, df, "CR2")
    vcov = scores.T @ scores
    df = np.array(
        [
            _bell_mccaffrey_df(q[:, col], f[:, :, col], K, fe if w is None else None, g, k)
            for col in range(nt)
        ]
    )
    return Covariance((vcov + vcov.T) / 2.0, df, "CR2")


def _bell_mccaffrey_df(
    q: np.ndarray,
    f: np.ndarray,
    K: np.ndarray,
    fe: GroupIndex | None,
    clusters: GroupIndex,
    k: int,
) -> float:
    r"""Degrees of freedom :math:`(\operatorname{tr}P)^2/\operatorname{tr}(P^2)` for
    :math:`P = \operatorname{diag}(q) + F^\top K F`, without forming *P*.

    With an absorbed factor the last entry of each :math:`f_g` lives in the slot of the
    cluster's fixed-effect level, so only clusters of the same level interact there.
    """
    if fe is None:
        fKf = np.einsum("gp,pq,gq->g", f, K, f)
        S = f.T @ f
        KS = K @ S
        tr_P = q.sum() + fKf.sum()
        sq = (q**2).sum() + 2.0 * (q * fKf).sum() + np.einsum("ij,ji->", KS, KS)
        return float(tr_P**2 / sq)
    Kx = K[:k, :k]
    fx, fe_val = f[:, :k], f[:, k]
    # level of each cluster (clusters are nested in the factor)
    order, starts = _cluster_layout(clusters)
    level = fe.codes[order[starts]]
    fKf = np.einsum("gp,pq,gq->g", fx, Kx, fx) - fe_val**2
    tr_P = q.sum() + fKf.sum()
    Sx = fx.T @ fx
    KS = Kx @ Sx
    q1 = np.einsum("ij,ji->", KS, KS)
    e2 = np.bincount(level, weights=fe_val**2, minlength=fe.n_groups)
    q2 = float((e2**2).sum())
    cross = 0.0
    if k:
        t = np.column_stack(
            [np.bincount(level, weights=fe_val * fx[:, j], minlength=fe.n_groups) for j in range(k)]
        )
        cross = float(np.einsum("bi,ij,bj->", t, Kx, t))
    # ||Fx'Kx Fx - Fe'Fe||^2 = ||Q1||^2 + ||Q2||^2 - 2 tr(Q1 Q2)
    sq = (q**2).sum() + 2.0 * (q * fKf).sum() + q1 + q2 - 2.0 * cross
    return float(tr_P**2 / sq)


# --------------------------------------------------------------------------- contrasts
def contrast_covariance(
    inputs: SandwichInputs, psi: np.ndarray, se_type: str, resid: np.ndarray | None = None
) -> Covariance:
    r"""Sandwich variance of linear functionals :math:`\hat\theta_j = \sum_i \psi_{ij} y_i`
    of the fit described by ``inputs`` (for the coefficient *j* of the regressors,
    :math:`\psi = W X M e_j`; for a contrast of absorbed fixed effects and coefficients,
    :math:`\psi = W X_{full} M_{full} c`).

    =========  ================================================================
    se_type    variance
    =========  ================================================================
    HC0..HC3   :math:`\sum_i \psi_i^2 e_i^2 / (1 - h_{ii})^{p}` (HC1: :math:`\times n/(n-r)`)
    CR0        :math:`\sum_g (\psi_g^\top e_g)^2`
    stata      CR0 :math:`\times G(n-1)/((G-1)(n-r))`
    CR2        :math:`\sum_g (\psi_g^\top A_g e_g)^2`, Bell–McCaffrey df
    =========  ================================================================

    ``inputs.X`` / ``inputs.bread`` / ``inputs.fe`` must describe the *full* hat matrix
    (regressors after absorbing ``fe``), as for :func:`leverage`. ``resid`` (n, t), optional:
    one residual vector per functional, for fits that share that hat matrix (a just-identified
    2SLS and its first stage both have the hat matrix of the instruments); default
    ``inputs.resid`` for all.
    """
    psi = psi.reshape(inputs.n, -1)
    if se_type in ("HC2", "HC3"):
        E = inputs.resid[:, None] if resid is None else resid.reshape(inputs.n, -1)
        h = checked_leverage(inputs, se_type)
        sc = psi * E / ((1.0 - h) ** (0.5 if se_type == "HC2" else 1.0))[:, None]
        v = sc.T @ sc
        n, r = inputs.n, inputs.rank
        return Covariance((v + v.T) / 2.0, np.full(psi.shape[1], float(n - r)), se_type)
    if se_type == "CR2":
        if inputs.clusters is None:
            raise SpecificationError(f"se_type={se_type!r} needs `clusters`")
        return _cr2(inputs, psi, resid)
    return functional_variance(
        psi,
        inputs.resid if resid is None else resid,
        se_type,
        n=inputs.n,
        rank=inputs.rank,
        rank_cr1=inputs.rank_cr1,
        clusters=inputs.clusters,
    )


def functional_variance(
    psi: np.ndarray,
    resid: np.ndarray,
    se_type: str,
    *,
    n: int,
    rank: int,
    rank_cr1: int | None,
    clusters: GroupIndex | None,
) -> Covariance:
    r"""HC0, HC1, CR0 or ``"stata"`` (CR1) variance of linear functionals
    :math:`\hat\theta_j = \sum_i \psi_{ij} y_i` with residuals ``resid`` (n,) or (n, t):
    :math:`\sum_i \psi_i^2 e_i^2` (HC1 :math:`\times n/(n-r)`), :math:`\sum_g
    (\psi_g^\top e_g)^2` (CR1 :math:`\times G(n-1)/((G-1)(n-r))`), the leverage-free rows
    of :func:`contrast_covariance`. Needs no regressor matrix.
    """
    psi = psi.reshape(n, -1)
    E = resid.reshape(n, -1)
    r = rank
    t = psi.shape[1]
    if se_type in ("HC0", "HC1"):
        sc = psi * E
        v = sc.T @ sc
        if se_type == "HC1":
            v = v * (n / (n - r))
        return Covariance((v + v.T) / 2.0, np.full(t, float(n - r)), se_type)
    g = clusters
    if g is None:
        raise SpecificationError(f"se_type={se_type!r} needs `clusters`")
    sc = np.empty((g.n_groups, t))
    for j in range(t):
        e_j = E[:, j if E.shape[1] > 1 else 0]
        sc[:, j] = np.bincount(g.codes, weights=psi[:, j] * e_j, minlength=g.n_groups)
    v = sc.T @ sc
    G = g.n_groups
    if se_type == "stata":
        r1 = r if rank_cr1 is None else rank_cr1
        v = v * (G * (n - 1) / ((G - 1) * (n - r1)))
    elif se_type != "CR0":
        raise SpecificationError(f"unknown se_type {se_type!r}")
    return Covariance((v + v.T) / 2.0, np.full(t, float(G - 1)), se_type)


# --------------------------------------------------------------------------- small samples
#: conventions for counting parameters in the CR1 (``se_type="stata"``) factor
SMALL_SAMPLE: tuple[str, ...] = ("estimatr", "fixest")


def check_small_sample(small_sample: object, se_type: str, *, function: str = "") -> str:
    r"""Validate ``small_sample`` against the (resolved) ``se_type``.

    ``"estimatr"`` (the default; also Stata's ``regress, vce(cluster)`` and ``reghdfe``
    without absorbed effects) counts every absorbed fixed effect in *K* of the CR1 factor
    :math:`\frac{G}{G-1}\frac{n-1}{n-K}`. ``"fixest"`` (R fixest's and pyfixest's default
    ``ssc``, and reghdfe's) does not count fixed effects nested in the clusters. The two
    differ only for ``se_type="stata"`` with clusters (CR1); HC1 is the same under both, and
    the other estimators have no fixest counterpart, so they are refused with ``"fixest"``.
    """
    where = f" of {function}" if function else ""
    if not isinstance(small_sample, str) or small_sample not in SMALL_SAMPLE:
        raise SpecificationError(
            f"The 'small_sample' parameter{where} must be one of "
            f"{', '.join(map(repr, SMALL_SAMPLE))}. Got {small_sample!r} instead."
            + (did_you_mean(small_sample, SMALL_SAMPLE) if isinstance(small_sample, str) else "")
        )
    if small_sample == "fixest" and se_type not in ("stata", "HC1"):
        raise SpecificationError(
            f"small_sample='fixest'{where} reproduces fixest's default small-sample factor, "
            "which exists for CR1 and HC1 only: use se_type='stata' (CR1 with clusters, HC1 "
            f"without). Got se_type={se_type!r}."
        )
    return small_sample


def fixest_fe_count(factors: tuple[GroupIndex, ...], clusters: GroupIndex | None) -> int:
    r"""Fixed-effect parameters as fixest (``fixef.K = "nested"``) and pyfixest
    (``k_fixef = "nonnested"``, the default) count them in *K*:

    .. math:: \sum_f L_f - (F - 1) - \sum_{f \text{ nested}} (L_f - 1)

    for *F* factors with :math:`L_f` levels, where a factor is nested when each of its levels
    lies within one cluster (voter effects with voter clusters). Without nesting this is
    estimatr's rank :math:`\sum_f (L_f - 1) + 1`.
    """
    if not factors:
        return 0
    total = sum(g.n_groups for g in factors) - (len(factors) - 1)
    if clusters is None:
        return int(total)
    for g in factors:
        if g.n_groups < clusters.n_groups:
            continue  # each level within one cluster needs at least as many levels as clusters
        first = np.full(g.n_groups, -1, dtype=np.int64)
        first[g.codes] = clusters.codes
        if bool(np.all(first[g.codes] == clusters.codes)):
            total -= g.n_groups - 1
    return int(total)


# --------------------------------------------------------------------------- registry
_REGISTRY: dict[str, type[CovarianceEstimator]] = {
    cls.name: cls for cls in (HC0, HC1, HC2, HC3, CR0, CR1Stata, CR2)
}
SE_TYPES: tuple[str, ...] = ("HC0", "HC1", "HC2", "HC3", "CR0", "CR2", "stata")
_UNCLUSTERED = ("HC0", "HC1", "HC2", "HC3", "stata")
_CLUSTERED = ("CR0", "CR2", "stata")


def resolve_se_type(se_type: str | None, clustered: bool, *, argument: str = "se_type") -> str:
    """estimatr's defaults and checks: HC2 unclustered, CR2 clustered, ``stata`` = HC1 unclustered.

    Raises
    ------
    SpecificationError
        Unknown name (listing the choices), or a type that needs/forbids clusters.
    """
    if se_type is None:
        return "CR2" if clustered else "HC2"
    if not isinstance(se_type, str) or se_type not in SE_TYPES:
        hint = did_you_mean(str(se_type), SE_TYPES) if isinstance(se_type, str) else ""
        raise SpecificationError(
            f"The {argument!r} parameter must be one of {', '.join(map(repr, SE_TYPES))} "
            f"(or None for the default). Got {se_type!r} instead.{hint}"
        )
    if clustered and se_type not in _CLUSTERED:
        raise SpecificationError(
            f"The {argument!r} parameter must be 'CR0', 'CR2' or 'stata' when `clusters` are "
            f"given. Got {se_type!r} instead."
        )
    if not clustered and se_type not in _UNCLUSTERED:
        raise SpecificationError(
            f"The {argument!r} parameter {se_type!r} is cluster-robust and needs `clusters`; "
            f"without clusters use one of 'HC0', 'HC1', 'HC2', 'HC3', 'stata'."
        )
    if se_type == "stata" and not clustered:
        return "HC1"
    return se_type


def get_covariance_estimator(se_type: str) -> CovarianceEstimator:
    """The estimator registered under a resolved ``se_type`` name."""
    try:
        return _REGISTRY[se_type]()
    except KeyError:
        raise SpecificationError(
            f"The 'se_type' parameter must be one of {', '.join(map(repr, sorted(_REGISTRY)))}. "
            f"Got {se_type!r} instead.{did_you_mean(se_type, list(_REGISTRY))}"
        ) from None
