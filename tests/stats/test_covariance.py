"""Brute-force checks of every sandwich variance in :mod:`fieldexp.stats.covariance`.

Each formula is re-implemented here the slow, obvious way: the *full* model with explicit
fixed-effect dummies, the dense ``n x n`` hat matrix, per-observation and per-cluster loops,
an explicit eigen-decomposition of every CR2 cluster block, and the ``G x G`` Bell-McCaffrey
matrix ``P`` built exactly as R estimatr's ``lm_variance_cr2`` (C++) builds it. ``fit_ols`` /
``fit_2sls`` must agree to ``rtol = 1e-10``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
from scipy import linalg

from fieldexp.errors import CollinearWarning, SpecificationError
from fieldexp.stats.covariance import (
    SE_TYPES,
    SandwichInputs,
    get_covariance_estimator,
    leverage,
    resolve_se_type,
)
from fieldexp.stats.groups import GroupIndex, factorize
from fieldexp.stats.linear import fit_2sls, fit_ols, is_nested

RTOL = 1e-10
EIG_TOL = 1e-12  # estimatr: eigenvalues of B_g at or below 1e-12 are set to zero


# --------------------------------------------------------------------------- data
@dataclass
class Sim:
    y: np.ndarray
    d: np.ndarray  # endogenous regressor (for 2SLS)
    z: np.ndarray  # cluster-level 0/1 assignment
    x1: np.ndarray
    x2: np.ndarray
    w: np.ndarray
    cluster: np.ndarray  # labels
    block: np.ndarray  # labels; clusters nested in blocks
    other: np.ndarray  # a second factor, crossed with blocks


def simulate(seed: int, n_clusters: int = 34, n_blocks: int = 4, *, singleton_block=False) -> Sim:
    """Clusters of sizes 1..6 nested in blocks, rows shuffled (clusters not contiguous)."""
    rng = np.random.default_rng(seed)
    sizes = rng.integers(1, 7, size=n_clusters)
    blocks_of_cluster = np.concatenate(
        [
            np.arange(n_blocks),
            np.arange(n_blocks),
            rng.integers(0, n_blocks, n_clusters - 2 * n_blocks),
        ]
    )
    if singleton_block:
        # one block that holds exactly one cluster (its dummy is absorbed inside the cluster)
        blocks_of_cluster = np.where(blocks_of_cluster == n_blocks - 1, 0, blocks_of_cluster)
        blocks_of_cluster[0] = n_blocks - 1
    cl = np.repeat(np.arange(n_clusters), sizes)
    n = cl.size
    perm = rng.permutation(n)
    cl = cl[perm]
    block = blocks_of_cluster[cl]
    z_cl = rng.integers(0, 2, n_clusters)
    z_cl[:2] = (0, 1)
    z = z_cl[cl].astype(float)
    x1 = rng.normal(size=n)
    x2 = rng.binomial(1, 0.4, size=n).astype(float)
    other = rng.integers(0, 5, size=n)
    u_cl = rng.normal(size=n_clusters)[cl]
    d = ((z == 1) & (rng.random(n) < 0.6)).astype(float) + (rng.random(n) < 0.05)
    d = np.minimum(d, 1.0)
    y = (
        0.5
        + 0.3 * d
        + 0.2 * z
        + 0.4 * x1
        - 0.3 * x2
        + 0.25 * block
        + 0.5 * u_cl
        + rng.normal(size=n) * (0.5 + 0.5 * np.abs(x1))
    )
    w = rng.uniform(0.3, 3.0, size=n)
    # cluster labels as strings, deliberately not in row order
    labels = np.array([f"c{(7 * c) % n_clusters:03d}" for c in cl])
    return Sim(y, d, z, x1, x2, w, labels, np.array([f"b{b}" for b in block]), other)


def dummies(labels: np.ndarray, *, drop_first: bool) -> np.ndarray:
    levels = np.unique(labels)
    D = (labels[:, None] == levels[None, :]).astype(float)
    return D[:, 1:] if drop_first else D


# --------------------------------------------------------------------------- brute force
def inv_sqrt_psd(B: np.ndarray) -> np.ndarray:
    lam, E = np.linalg.eigh((B + B.T) / 2)
    f = np.array([1.0 / np.sqrt(v) if v > EIG_TOL else 0.0 for v in lam])
    return E @ np.diag(f) @ E.T


@dataclass
class Brute:
    coef: np.ndarray
    vcov: np.ndarray
    df: np.ndarray


def brute_force(
    Xf: np.ndarray,
    y: np.ndarray,
    se_type: str,
    *,
    w: np.ndarray | None = None,
    cluster: np.ndarray | None = None,
    Z: np.ndarray | None = None,
) -> Brute:
    """Dense, loop-based sandwich for the full model ``Xf`` (all dummies explicit)."""
    n, k = Xf.shape
    assert np.linalg.matrix_rank(Xf) == k, "test design must have full column rank"
    wn = np.ones(n) if w is None else w / w.mean()
    W = np.diag(wn)
    # first-stage fitted regressors for 2SLS
    U = Xf if Z is None else Z @ np.linalg.solve(Z.T @ W @ Z, Z.T @ W @ Xf)
    M = np.linalg.inv(U.T @ W @ U)
    coef = M @ (U.T @ W @ y)
    e = y - Xf @ coef  # structural residuals for 2SLS
    H = U @ M @ U.T @ W  # n x n hat matrix of the full model
    h = np.diag(H)
    r = k

    if se_type in ("HC0", "HC1", "HC2", "HC3"):
        meat = np.zeros((k, k))
        for i in range(n):
            s = wn[i] * e[i] * U[i]
            if se_type == "HC2":
                s = s / np.sqrt(1.0 - h[i])
            elif se_type == "HC3":
                s = s / (1.0 - h[i])
            meat += np.outer(s, s)
        V = M @ meat @ M
        if se_type == "HC1":
            V = V * n / (n - r)
        return Brute(coef, V, np.full(k, float(n - r)))

    assert cluster is not None
    levels = list(dict.fromkeys(cluster))  # order of first appearance: any order must work
    G = len(levels)
    members = [np.flatnonzero(cluster == c) for c in levels]
    if se_type in ("CR0", "stata"):
        meat = np.zeros((k, k))
        for idx in members:
            s = np.zeros(k)
            for i in idx:
                s += wn[i] * e[i] * U[i]
            meat += np.outer(s, s)
        V = M @ meat @ M
        if se_type == "stata":
            V = V * G * (n - 1) / ((G - 1) * (n - r))
        return Brute(coef, V, np.full(k, float(G - 1)))

    assert se_type == "CR2"
    Omega = M @ U.T @ W @ W @ U @ M
    A = []
    meat = np.zeros((k, k))
    for idx in members:
        Ug, Wg = U[idx], np.diag(wn[idx])
        if w is None:
            B = np.eye(idx.size) - H[np.ix_(idx, idx)]
        else:
            Hg = Ug @ M @ Ug.T @ Wg
            B = np.eye(idx.size) - Hg - Hg.T + Ug @ Omega @ Ug.T
        Ag = inv_sqrt_psd(B)
        A.append(Ag)
        s = e[idx] @ Ag @ Wg @ Ug
        meat += np.outer(s, s)
    V = M @ meat @ M

    # Bell-McCaffrey df, P built as estimatr's lm_variance_cr2 does (G x G, no shortcut)
    I_H = np.eye(n) - H
    df = np.empty(k)
    for j in range(k):
        a = [A[g] @ np.diag(wn[members[g]]) @ U[members[g]] @ M[:, j] for g in range(G)]
        # H1t' H2t, H3t' H3t and P_diags of lm_variance_cr2, one row per cluster
        ua = np.array([U[members[g]].T @ a[g] for g in range(G)])  # a_g' U_g
        xa = np.array([U[members[g]].T @ (wn[members[g]] * a[g]) for g in range(G)])  # a_g' X^w_g
        uf = ua @ M @ xa.T
        P = ua @ Omega @ ua.T - uf - uf.T + np.diag([a[g] @ a[g] for g in range(G)])
        # the same P as G'G with G_{.g} = (I - H)'_{.g} a_g (= (I - H)_{.g} a_g unweighted)
        Gmat = np.zeros((n, G))
        for g in range(G):
            Gmat[:, g] = I_H[members[g], :].T @ a[g]
        np.testing.assert_allclose(Gmat.T @ Gmat, P, rtol=1e-8, atol=1e-12 * np.abs(P).max())
        if w is None:
            Gcols = np.column_stack([I_H[:, members[g]] @ a[g] for g in range(G)])
            np.testing.assert_allclose(Gcols, Gmat, atol=1e-12)
        df[j] = np.trace(P) ** 2 / np.trace(P @ P)
    return Brute(coef, V, df)


def assert_fit_matches(fit, ref: Brute, k: int, *, check_df: bool = True) -> None:
    np.testing.assert_allclose(fit.coef, ref.coef[:k], rtol=RTOL, atol=1e-12)
    V = ref.vcov[:k, :k]
    np.testing.assert_allclose(fit.std_error, np.sqrt(np.diag(V)), rtol=RTOL)
    np.testing.assert_allclose(fit.vcov, V, rtol=RTOL, atol=RTOL * np.abs(V).max())
    if check_df:
        np.testing.assert_allclose(fit.df, ref.df[:k], rtol=RTOL)


# --------------------------------------------------------------------------- OLS
ALL_SE = ["HC0", "HC1", "HC2", "HC3", "CR0", "stata", "CR2"]
SEEDS = [11, 2024]


def _regressors(s: Sim, *, intercept: bool) -> tuple[np.ndarray, tuple[str, ...]]:
    cols = [s.z, s.x1, s.x2]
    names = ("z", "x1", "x2")
    if intercept:
        cols.insert(0, np.ones_like(s.z))
        names = ("(Intercept)", *names)
    return np.column_stack(cols), names


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("se_type", ALL_SE)
def test_ols_no_fixed_effects(se_type: str, weighted: bool, seed: int) -> None:
    s = simulate(seed)
    X, names = _regressors(s, intercept=True)
    w = s.w if weighted else None
    clustered = se_type in ("CR0", "stata", "CR2")
    cl = factorize(s.cluster) if clustered else None
    fit = fit_ols(X, s.y, names=names, se_type=se_type, weights=w, clusters=cl)
    ref = brute_force(X, s.y, se_type, w=w, cluster=s.cluster if clustered else None)
    assert_fit_matches(fit, ref, X.shape[1])
    assert fit.nobs == len(s.y)
    assert fit.rank == X.shape[1]
    assert fit.nclusters == (cl.n_groups if cl is not None else None)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("se_type", ALL_SE)
def test_ols_one_absorbed_factor(se_type: str, weighted: bool, seed: int) -> None:
    """Block fixed effects absorbed; clusters nested in blocks; full model has all dummies."""
    s = simulate(seed)
    X, names = _regressors(s, intercept=False)
    Xf = np.column_stack([X, dummies(s.block, drop_first=False)])
    w = s.w if weighted else None
    clustered = se_type in ("CR0", "stata", "CR2")
    cl = factorize(s.cluster) if clustered else None
    blocks = factorize(s.block)
    assert cl is None or is_nested(cl, blocks)
    fit = fit_ols(X, s.y, names=names, se_type=se_type, weights=w, clusters=cl, absorb=(blocks,))
    ref = brute_force(Xf, s.y, se_type, w=w, cluster=s.cluster if clustered else None)
    assert fit.rank == Xf.shape[1]
    assert_fit_matches(fit, ref, X.shape[1])


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_cr2_many_blocks_large_clusters(weighted: bool) -> None:
    """Stress the low-rank Bell-McCaffrey algebra: 15 blocks, 90 clusters of 1..12 rows
    (larger than the number of regressors), df for every coefficient."""
    rng = np.random.default_rng(77)
    sizes = rng.integers(1, 13, size=90)
    block_of_cluster = np.concatenate([np.arange(15), np.arange(15), rng.integers(0, 15, 60)])
    cl = np.repeat(np.arange(90), sizes)
    perm = rng.permutation(cl.size)
    cl = cl[perm]
    block = block_of_cluster[cl]
    n = cl.size
    z = rng.integers(0, 2, 90)[cl].astype(float)
    x1 = rng.normal(size=n) + 0.3 * block
    y = 0.2 * z + x1 + rng.normal(size=90)[cl] + rng.normal(size=n)
    w = rng.uniform(0.2, 5.0, size=n) if weighted else None
    X = np.column_stack([z, x1])
    Xf = np.column_stack([X, dummies(block, drop_first=False)])
    fit = fit_ols(
        X,
        y,
        names=("z", "x1"),
        se_type="CR2",
        weights=w,
        clusters=factorize(cl),
        absorb=(factorize(block),),
    )
    ref = brute_force(Xf, y, "CR2", w=w, cluster=cl)
    assert_fit_matches(fit, ref, 2)


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_cr2_block_with_a_single_cluster(weighted: bool) -> None:
    """A block holding one cluster makes B_g singular (the block dummy lives inside the
    cluster); the zero eigenvalue must be dropped as estimatr does, not blow up."""
    s = simulate(5, singleton_block=True)
    blocks = factorize(s.block)
    cl = factorize(s.cluster)
    assert is_nested(cl, blocks)
    X, names = _regressors(s, intercept=False)
    Xf = np.column_stack([X, dummies(s.block, drop_first=False)])
    w = s.w if weighted else None
    fit = fit_ols(X, s.y, names=names, se_type="CR2", weights=w, clusters=cl, absorb=(blocks,))
    ref = brute_force(Xf, s.y, "CR2", w=w, cluster=s.cluster)
    assert np.all(np.isfinite(fit.std_error))
    assert_fit_matches(fit, ref, X.shape[1])


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("se_type", ["CR2", "HC2", "HC3"])
def test_leverage_types_clusters_not_nested_in_fixed_effect(se_type: str, weighted: bool) -> None:
    """Clusters crossing the absorbed factor: the leverage still counts the dummies."""
    s = simulate(8)
    X, names = _regressors(s, intercept=False)
    other = np.array([f"o{v}" for v in s.other])
    Xf = np.column_stack([X, dummies(other, drop_first=False)])
    w = s.w if weighted else None
    clustered = se_type == "CR2"
    cl = factorize(s.cluster) if clustered else None
    fe = factorize(other)
    if cl is not None:
        assert not is_nested(cl, fe)
    fit = fit_ols(X, s.y, names=names, se_type=se_type, weights=w, clusters=cl, absorb=(fe,))
    ref = brute_force(Xf, s.y, se_type, w=w, cluster=s.cluster if clustered else None)
    assert_fit_matches(fit, ref, X.shape[1])


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("se_type", ALL_SE)
def test_ols_two_absorbed_factors(se_type: str, weighted: bool) -> None:
    """Blocks and a crossed second factor absorbed; compare with explicit dummies."""
    s = simulate(3)
    X, names = _regressors(s, intercept=False)
    other = np.array([f"o{v}" for v in s.other])
    Xf = np.column_stack([X, dummies(s.block, drop_first=False), dummies(other, drop_first=True)])
    w = s.w if weighted else None
    clustered = se_type in ("CR0", "stata", "CR2")
    cl = factorize(s.cluster) if clustered else None
    fit = fit_ols(
        X,
        s.y,
        names=names,
        se_type=se_type,
        weights=w,
        clusters=cl,
        absorb=(factorize(s.block), factorize(other)),
    )
    ref = brute_force(Xf, s.y, se_type, w=w, cluster=s.cluster if clustered else None)
    assert fit.rank == Xf.shape[1]
    # alternating projections stop at 1e-12 of the data scale; still well within 1e-10
    assert_fit_matches(fit, ref, 3)


# --------------------------------------------------------------------------- 2SLS
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("absorbed", [False, True], ids=["no-fe", "block-fe"])
@pytest.mark.parametrize("se_type", ALL_SE)
def test_2sls(se_type: str, absorbed: bool, weighted: bool) -> None:
    s = simulate(17)
    exog = np.column_stack([s.x1, s.x2])
    if absorbed:
        D = dummies(s.block, drop_first=False)
        X = np.column_stack([s.d, exog])
        Z = np.column_stack([s.z, exog])
        Xf, Zf = np.column_stack([X, D]), np.column_stack([Z, D])
        absorb: tuple[GroupIndex, ...] = (factorize(s.block),)
        names = ("d", "x1", "x2")
    else:
        one = np.ones_like(s.z)
        X = np.column_stack([one, s.d, exog])
        Z = np.column_stack([one, s.z, exog])
        Xf, Zf = X, Z
        absorb = ()
        names = ("(Intercept)", "d", "x1", "x2")
    w = s.w if weighted else None
    clustered = se_type in ("CR0", "stata", "CR2")
    cl = factorize(s.cluster) if clustered else None
    fit = fit_2sls(X, s.y, Z, names=names, se_type=se_type, weights=w, clusters=cl, absorb=absorb)
    ref = brute_force(Xf, s.y, se_type, w=w, cluster=s.cluster if clustered else None, Z=Zf)
    assert_fit_matches(fit, ref, X.shape[1])


def test_2sls_just_identified_equals_wald_ratio() -> None:
    """One instrument, no covariates: 2SLS is cov(y, z) / cov(d, z)."""
    s = simulate(21)
    one = np.ones_like(s.z)
    fit = fit_2sls(
        np.column_stack([one, s.d]),
        s.y,
        np.column_stack([one, s.z]),
        names=("(Intercept)", "d"),
        se_type="HC0",
    )
    t, c = s.z == 1, s.z == 0
    wald = (s.y[t].mean() - s.y[c].mean()) / (s.d[t].mean() - s.d[c].mean())
    assert fit.coef[1] == pytest.approx(wald, rel=1e-12)


# --------------------------------------------------------------------------- pieces
def test_leverage_matches_dense_hat_matrix_with_fixed_effect() -> None:
    s = simulate(4)
    X, _ = _regressors(s, intercept=False)
    blocks = factorize(s.block)
    wn = s.w / s.w.mean()
    from fieldexp.stats.absorb import demean

    Xt = demean(X, [blocks], wn)
    M = np.linalg.inv(Xt.T @ (wn[:, None] * Xt))
    inputs = SandwichInputs(
        X=Xt,
        resid=np.zeros(len(s.y)),
        bread=M,
        weights=wn,
        clusters=None,
        fe=blocks,
        rank=0,
        df_terms=(),
    )
    Xf = np.column_stack([X, dummies(s.block, drop_first=False)])
    Mf = np.linalg.inv(Xf.T @ (wn[:, None] * Xf))
    H = Xf @ Mf @ Xf.T * wn[None, :]
    np.testing.assert_allclose(leverage(inputs), np.diag(H), rtol=1e-10)


def test_cr2_without_requested_df_terms_gives_nan_df() -> None:
    s = simulate(6)
    X, names = _regressors(s, intercept=True)
    fit = fit_ols(
        X, s.y, names=names, se_type="CR2", clusters=factorize(s.cluster), df_terms=("z",)
    )
    ref = brute_force(X, s.y, "CR2", cluster=s.cluster)
    assert np.isnan(fit.df[[0, 2, 3]]).all()
    assert fit.df[1] == pytest.approx(ref.df[1], rel=RTOL)
    np.testing.assert_allclose(fit.std_error, np.sqrt(np.diag(ref.vcov)), rtol=RTOL)


def test_weights_are_scale_invariant() -> None:
    s = simulate(9)
    X, names = _regressors(s, intercept=True)
    cl = factorize(s.cluster)
    a = fit_ols(X, s.y, names=names, se_type="CR2", weights=s.w, clusters=cl)
    b = fit_ols(X, s.y, names=names, se_type="CR2", weights=s.w * 1234.5, clusters=cl)
    np.testing.assert_allclose(a.coef, b.coef, rtol=1e-12)
    np.testing.assert_allclose(a.std_error, b.std_error, rtol=1e-11)
    np.testing.assert_allclose(a.df, b.df, rtol=1e-11)


def test_unit_weights_equal_unweighted() -> None:
    s = simulate(10)
    X, names = _regressors(s, intercept=False)
    blocks, cl = factorize(s.block), factorize(s.cluster)
    for se in ("HC2", "CR2", "stata"):
        c = cl if se != "HC2" else None
        a = fit_ols(X, s.y, names=names, se_type=se, clusters=c, absorb=(blocks,))
        b = fit_ols(
            X, s.y, names=names, se_type=se, clusters=c, absorb=(blocks,), weights=np.ones(len(s.y))
        )
        np.testing.assert_allclose(a.std_error, b.std_error, rtol=1e-10)
        np.testing.assert_allclose(a.df, b.df, rtol=1e-10)


def test_cluster_label_order_and_row_order_do_not_matter() -> None:
    s = simulate(12)
    X, names = _regressors(s, intercept=True)
    a = fit_ols(X, s.y, names=names, se_type="CR2", clusters=factorize(s.cluster))
    perm = np.random.default_rng(0).permutation(len(s.y))
    relabelled = np.array(["zz" + c[::-1] for c in s.cluster[perm]])
    b = fit_ols(X[perm], s.y[perm], names=names, se_type="CR2", clusters=factorize(relabelled))
    np.testing.assert_allclose(a.std_error, b.std_error, rtol=1e-11)
    np.testing.assert_allclose(a.df, b.df, rtol=1e-11)


def test_singleton_clusters_cr0_equals_hc0() -> None:
    s = simulate(13)
    X, names = _regressors(s, intercept=True)
    ids = factorize(np.arange(len(s.y)))
    a = fit_ols(X, s.y, names=names, se_type="CR0", clusters=ids)
    b = fit_ols(X, s.y, names=names, se_type="HC0")
    np.testing.assert_allclose(a.vcov, b.vcov, rtol=1e-12)
    c = fit_ols(X, s.y, names=names, se_type="CR2", clusters=ids)
    d = fit_ols(X, s.y, names=names, se_type="HC2")
    np.testing.assert_allclose(c.std_error, d.std_error, rtol=1e-11)


def test_collinear_regressor_is_dropped_as_estimatr_drops_it() -> None:
    # estimatr (Eigen's pivoted QR) keeps the larger-norm column of x1, 2 * x1: x1 gets NA
    s = simulate(14)
    X = np.column_stack([np.ones_like(s.z), s.z, s.x1, 2.0 * s.x1])
    names = ("(Intercept)", "z", "x1", "x1_twice")
    with pytest.warns(CollinearWarning, match=r"'x1' \(it is collinear with 'x1_twice'\)"):
        fit = fit_ols(X, s.y, names=names, se_type="HC2")
    assert fit.dropped == ("x1",)
    assert np.isnan(fit.coef[2]) and np.isnan(fit.std_error[2]) and np.isnan(fit.df[2])
    ref = fit_ols(X[:, [0, 1, 3]], s.y, names=("(Intercept)", "z", "x1_twice"), se_type="HC2")
    np.testing.assert_allclose(fit.coef[[0, 1, 3]], ref.coef, rtol=1e-10)
    np.testing.assert_allclose(fit.std_error[[0, 1, 3]], ref.std_error, rtol=1e-10)


def test_regressor_constant_within_blocks_is_dropped() -> None:
    s = simulate(15)
    blocks = factorize(s.block)
    block_level = blocks.codes.astype(float)
    X = np.column_stack([s.z, block_level])
    with pytest.warns(CollinearWarning, match=r"'bl'.*no variation left after absorbing"):
        fit = fit_ols(X, s.y, names=("z", "bl"), se_type="HC1", absorb=(blocks,))
    ref = fit_ols(X[:, :1], s.y, names=("z",), se_type="HC1", absorb=(blocks,))
    np.testing.assert_allclose(fit.std_error[0], ref.std_error[0], rtol=1e-10)
    assert np.isnan(fit.coef[1])


# --------------------------------------------------------------------------- registry
@pytest.mark.parametrize(
    ("se_type", "clustered", "expected"),
    [
        (None, False, "HC2"),
        (None, True, "CR2"),
        ("stata", False, "HC1"),
        ("stata", True, "stata"),
        ("HC0", False, "HC0"),
        ("HC3", False, "HC3"),
        ("CR0", True, "CR0"),
        ("CR2", True, "CR2"),
    ],
)
def test_resolve_se_type_defaults(se_type, clustered, expected) -> None:
    assert resolve_se_type(se_type, clustered) == expected


def test_resolve_unknown_se_type_lists_choices_and_suggests() -> None:
    with pytest.raises(SpecificationError, match=r"'se_type'.*one of.*'HC0'.*'CR2'.*'stata'") as ei:
        resolve_se_type("HC22", False)
    assert "Did you mean 'HC2'?" in str(ei.value)
    assert "'HC22'" in str(ei.value)
    with pytest.raises(SpecificationError, match="Did you mean 'stata'"):
        resolve_se_type("Stata", True)
    with pytest.raises(SpecificationError, match="must be one of"):
        resolve_se_type(2, False)  # type: ignore[arg-type]


@pytest.mark.parametrize("se_type", ["CR0", "CR2"])
def test_resolve_cr_types_need_clusters(se_type: str) -> None:
    with pytest.raises(SpecificationError, match=rf"{se_type!r}.*needs `clusters`"):
        resolve_se_type(se_type, False)


@pytest.mark.parametrize("se_type", ["HC0", "HC1", "HC2", "HC3"])
def test_resolve_hc_types_rejected_with_clusters(se_type: str) -> None:
    with pytest.raises(SpecificationError, match=rf"'CR0', 'CR2' or 'stata'.*{se_type!r}"):
        resolve_se_type(se_type, True)


def test_registry_covers_every_se_type() -> None:
    assert set(SE_TYPES) == {"HC0", "HC1", "HC2", "HC3", "CR0", "CR2", "stata"}
    for name in SE_TYPES:
        assert get_covariance_estimator(name).name == name
    with pytest.raises(SpecificationError, match="Did you mean 'CR0'"):
        get_covariance_estimator("CR00")


def test_inv_sqrt_reference_agrees_with_scipy_sqrtm() -> None:
    """Sanity check of the test's own helper on a positive-definite block."""
    rng = np.random.default_rng(1)
    A = rng.normal(size=(5, 5))
    B = A @ A.T + 0.5 * np.eye(5)
    np.testing.assert_allclose(inv_sqrt_psd(B), np.linalg.inv(linalg.sqrtm(B).real), rtol=1e-9)
