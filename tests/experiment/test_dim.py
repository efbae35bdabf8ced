"""Design-based checks of the difference in means.

* Unbiasedness by enumerating *every* assignment of small blocked, clustered and pair
  designs with fixed, heterogeneous potential outcomes (exact, 1e-12).
* Neyman's variance identities: the expected variance estimate exceeds the true
  randomisation variance by exactly the heterogeneity term.
* Welch, weighted HC2, clustered CR2, blocked and matched-pair (Imai, King & Nall 2009)
  standard errors against formulas written out by hand, through ``fx.itt``.
"""

from __future__ import annotations

import itertools
import math
import warnings

import numpy as np
import pandas as pd
import pytest

import fieldexp as fx
from fieldexp.errors import DesignError, FieldexpWarning, SpecificationError
from fieldexp.experiment.dim import difference_in_means
from fieldexp.stats.groups import factorize

TOL = 1e-12


# --------------------------------------------------------------------------- helpers
def potential_outcomes(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Fixed potential outcomes with strongly heterogeneous unit effects."""
    rng = np.random.default_rng(seed)
    y0 = rng.normal(10.0, 3.0, size=n)
    y1 = y0 + rng.normal(2.0, 4.0, size=n) + np.linspace(-3, 3, n)
    return y0, y1


def block_assignments(sizes: list[int], treated: list[int]):
    """Every complete-randomisation assignment within each block (z vectors)."""
    starts = np.concatenate([[0], np.cumsum(sizes)])
    per_block = [
        list(itertools.combinations(range(starts[b], starts[b + 1]), treated[b]))
        for b in range(len(sizes))
    ]
    n = int(starts[-1])
    for combo in itertools.product(*per_block):
        z = np.zeros(n)
        for chosen in combo:
            z[list(chosen)] = 1.0
        yield z


def s2(x: np.ndarray) -> float:
    return float(np.var(x, ddof=1))


# --------------------------------------------------------------------------- unbiasedness
def test_standard_dim_unbiased_over_all_assignments() -> None:
    y0, y1 = potential_outcomes(8, seed=1)
    ests = []
    for z in block_assignments([8], [3]):
        y = np.where(z == 1, y1, y0)
        ests.append(difference_in_means(y, z).estimate)
    assert len(ests) == math.comb(8, 3)
    assert np.mean(ests) == pytest.approx(np.mean(y1 - y0), abs=TOL)


def test_blocked_dim_unbiased_and_neyman_variance_identities() -> None:
    """3 blocks of 4, 6, 4 units with 2, 3, 2 treated: 6 * 20 * 6 = 720 assignments."""
    sizes, treated = [4, 6, 4], [2, 3, 2]
    n = sum(sizes)
    y0, y1 = potential_outcomes(n, seed=2)
    block = np.repeat(np.arange(3), sizes)
    g = factorize(block)
    ests, var_hats = [], []
    for z in block_assignments(sizes, treated):
        y = np.where(z == 1, y1, y0)
        est = difference_in_means(y, z, blocks=g)
        ests.append(est.estimate)
        var_hats.append(est.std_error**2)
        assert est.df == n - 2 * 3
        assert est.design == "blocked"
    ests = np.array(ests)
    assert ests.size == 720
    sate = float(np.mean(y1 - y0))
    # block effects are heterogeneous, so an unweighted mean of block DIMs would be biased
    block_ate = np.array([np.mean((y1 - y0)[block == b]) for b in range(3)])
    assert abs(block_ate.mean() - sate) > 1e-2
    assert ests.mean() == pytest.approx(sate, abs=TOL)

    # Neyman: Var = sum_b (N_b/N)^2 (S1^2/n1 + S0^2/n0 - S_tau^2/N_b); E[se^2] drops S_tau^2.
    expected_var_hat, true_var = 0.0, 0.0
    for b, (nb, n1) in enumerate(zip(sizes, treated, strict=True)):
        m = block == b
        n0 = nb - n1
        term = s2(y1[m]) / n1 + s2(y0[m]) / n0
        expected_var_hat += (nb / n) ** 2 * term
        true_var += (nb / n) ** 2 * (term - s2((y1 - y0)[m]) / nb)
    assert np.mean((ests - sate) ** 2) == pytest.approx(true_var, rel=1e-10)
    assert np.mean(var_hats) == pytest.approx(expected_var_hat, rel=1e-10)
    assert np.mean(var_hats) > true_var  # conservative, strictly with heterogeneous effects


def cluster_assignments(cl_sizes: list[int], block_of_cluster: list[int], treated: list[int]):
    """Every assignment of whole clusters, complete randomisation of clusters within blocks."""
    cl_sizes_a = np.asarray(cl_sizes)
    blocks = sorted(set(block_of_cluster))
    clusters_in = [[c for c, b in enumerate(block_of_cluster) if b == blk] for blk in blocks]
    unit_cluster = np.repeat(np.arange(len(cl_sizes)), cl_sizes_a)
    for combo in itertools.product(
        *(itertools.combinations(cs, t) for cs, t in zip(clusters_in, treated, strict=True))
    ):
        zc = np.zeros(len(cl_sizes))
        for chosen in combo:
            zc[list(chosen)] = 1.0
        yield zc[unit_cluster]


def test_blocked_clustered_dim_unbiased_with_equal_cluster_sizes_per_block() -> None:
    """Block A: 4 clusters of 2 (2 treated); block B: 6 clusters of 3 (3 treated)."""
    cl_sizes = [2] * 4 + [3] * 6
    block_of_cluster = [0] * 4 + [1] * 6
    unit_cluster = np.repeat(np.arange(10), cl_sizes)
    n = unit_cluster.size
    y0, y1 = potential_outcomes(n, seed=3)
    cl = factorize(unit_cluster)
    bl = factorize(np.asarray(block_of_cluster)[unit_cluster])
    ests = []
    for z in cluster_assignments(cl_sizes, block_of_cluster, [2, 3]):
        y = np.where(z == 1, y1, y0)
        est = difference_in_means(y, z, blocks=bl, clusters=cl)
        ests.append(est.estimate)
        assert est.df == 10 - 2 * 2
        assert est.design == "blocked-clustered"
    assert len(ests) == math.comb(4, 2) * math.comb(6, 3)
    assert np.mean(ests) == pytest.approx(np.mean(y1 - y0), abs=TOL)


def test_clustered_dim_equal_sizes_unbiased_unequal_sizes_is_a_ratio_estimator() -> None:
    """With equal cluster sizes the unit-level DIM is unbiased for the SATE. With unequal
    sizes it is a ratio estimator (estimatr's too): its expectation is *not* the SATE when
    effects grow with cluster size, which the enumeration shows."""
    # equal sizes: 8 clusters of 3, 4 treated
    unit_cluster = np.repeat(np.arange(8), 3)
    y0, y1 = potential_outcomes(24, seed=4)
    cl = factorize(unit_cluster)
    ests = [
        difference_in_means(np.where(z == 1, y1, y0), z, clusters=cl).estimate
        for z in cluster_assignments([3] * 8, [0] * 8, [4])
    ]
    assert len(ests) == 70
    assert np.mean(ests) == pytest.approx(np.mean(y1 - y0), abs=TOL)

    # unequal sizes 1..6 with effects rising with size: biased, but the expectation equals
    # the ratio-estimator expectation computed by hand (weighted cluster totals).
    sizes = [1, 1, 2, 3, 5, 6]
    unit_cluster = np.repeat(np.arange(6), sizes)
    n = unit_cluster.size
    y0 = np.linspace(0, 1, n)
    y1 = y0 + np.asarray(sizes, dtype=float)[unit_cluster]
    cl = factorize(unit_cluster)
    ests, hand = [], []
    for z in cluster_assignments(sizes, [0] * 6, [3]):
        y = np.where(z == 1, y1, y0)
        ests.append(difference_in_means(y, z, clusters=cl).estimate)
        hand.append(y[z == 1].sum() / (z == 1).sum() - y[z == 0].sum() / (z == 0).sum())
    assert np.allclose(ests, hand, atol=TOL)
    assert abs(np.mean(ests) - np.mean(y1 - y0)) > 0.05


def test_clustered_dim_equal_sizes_is_neyman_on_cluster_means() -> None:
    """Equal cluster sizes: CR2 equals the Welch/Neyman variance of cluster means
    (Gerber & Green 2012, eq. 3.23), so over all 70 assignments of 4 of 8 clusters
    E[se^2] = Var(tau_hat) + S^2(cluster-mean effects) / G exactly."""
    G, m = 8, 3
    unit_cluster = np.repeat(np.arange(G), m)
    y0, y1 = potential_outcomes(G * m, seed=6)
    cl = factorize(unit_cluster)
    ests, var_hats = [], []
    for z in cluster_assignments([m] * G, [0] * G, [4]):
        y = np.where(z == 1, y1, y0)
        est = difference_in_means(y, z, clusters=cl)
        means = y.reshape(G, m).mean(axis=1)
        zc = z.reshape(G, m)[:, 0] == 1
        neyman = s2(means[zc]) / zc.sum() + s2(means[~zc]) / (~zc).sum()
        assert est.std_error**2 == pytest.approx(neyman, rel=1e-10)
        ests.append(est.estimate)
        var_hats.append(est.std_error**2)
    ests = np.array(ests)
    sate = float(np.mean(y1 - y0))
    tau_c = (y1 - y0).reshape(G, m).mean(axis=1)
    true_var = np.mean((ests - sate) ** 2)
    assert np.mean(var_hats) == pytest.approx(true_var + s2(tau_c) / G, rel=1e-10)


def test_matched_pairs_unbiased_and_imai_king_nall_identity() -> None:
    """8 pairs, every one of the 2^8 assignments: E[tau_hat] = SATE and
    E[se^2] = Var(tau_hat) + sum_b (tau_b - tau)^2 / (B (B - 1))."""
    B = 8
    y0, y1 = potential_outcomes(2 * B, seed=5)
    pair = np.repeat(np.arange(B), 2)
    g = factorize(pair)
    ests, var_hats = [], []
    for bits in itertools.product([0, 1], repeat=B):
        z = np.zeros(2 * B)
        for b, first in enumerate(bits):
            z[2 * b + (0 if first else 1)] = 1.0
        est = difference_in_means(np.where(z == 1, y1, y0), z, blocks=g)
        ests.append(est.estimate)
        var_hats.append(est.std_error**2)
        assert est.design == "matched-pair"
        assert est.df == B - 1
    ests = np.array(ests)
    sate = float(np.mean(y1 - y0))
    tau_b = (y1 - y0).reshape(B, 2).mean(axis=1)
    assert ests.mean() == pytest.approx(sate, abs=TOL)
    true_var = np.mean((ests - sate) ** 2)
    gap = np.sum((tau_b - tau_b.mean()) ** 2) / (B * (B - 1))
    assert np.mean(var_hats) == pytest.approx(true_var + gap, rel=1e-10)


# --------------------------------------------------------------------------- hand formulas
def _frame(seed: int, n: int = 50) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    z = np.zeros(n, dtype=int)
    z[rng.choice(n, size=n // 2 - 4, replace=False)] = 1
    y = rng.normal(size=n) + 0.4 * z + z * rng.normal(scale=2.0, size=n)
    return pd.DataFrame({"y": y, "z": z, "w": rng.uniform(0.5, 2.5, size=n)})


def test_welch_standard_error_and_df_by_hand() -> None:
    df = _frame(10)
    res = fx.itt(df, "y", "z", method="dim")
    y1, y0 = df.y[df.z == 1].to_numpy(), df.y[df.z == 0].to_numpy()
    v1, v0 = s2(y1) / y1.size, s2(y0) / y0.size
    se = math.sqrt(v1 + v0)
    welch = (v1 + v0) ** 2 / (v1**2 / (y1.size - 1) + v0**2 / (y0.size - 1))
    assert res.estimate == pytest.approx(y1.mean() - y0.mean(), rel=1e-12)
    assert res.std_error == pytest.approx(se, rel=1e-12)
    assert res.df == pytest.approx(welch, rel=1e-12)
    assert res.se_type == "welch" and res.design == "standard"
    assert res.nobs == len(df) and res.nclusters is None


def test_weighted_dim_is_hc2_of_weighted_means_by_hand() -> None:
    df = _frame(11)
    res = fx.itt(df, "y", "z", method="dim", weights="w")
    y, z, w = df.y.to_numpy(), df.z.to_numpy(), df.w.to_numpy()
    var, means = 0.0, {}
    for arm in (0, 1):
        m = z == arm
        W = w[m].sum()
        means[arm] = np.sum(w[m] * y[m]) / W
        e = y[m] - means[arm]
        var += np.sum(w[m] ** 2 * e**2 / (1.0 - w[m] / W)) / W**2
    assert res.estimate == pytest.approx(means[1] - means[0], rel=1e-12)
    assert res.std_error == pytest.approx(math.sqrt(var), rel=1e-10)
    assert res.df == len(df) - 2
    assert res.design == "standard (weighted)"


def _cr2_var(y: np.ndarray, z: np.ndarray, cl: np.ndarray) -> float:
    """CR2 variance of the DIM slope, unweighted, by hand: within an arm H_gg = J / N_arm, so
    (I - H_gg)^{-1/2} scales a cluster's residual total by 1 / sqrt(1 - n_g / N_arm)."""
    total = 0.0
    for arm in (0, 1):
        m = z == arm
        N = m.sum()
        e = y[m] - y[m].mean()
        for c in np.unique(cl[m]):
            sel = cl[m] == c
            total += e[sel].sum() ** 2 / (1.0 - sel.sum() / N) / N**2
    return total


def _clustered_frame(seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    hh = 0
    for block in ("A", "B", "C"):
        n_cl = int(rng.integers(6, 10))
        z_cl = np.zeros(n_cl, dtype=int)
        z_cl[rng.choice(n_cl, size=n_cl // 2, replace=False)] = 1
        for c in range(n_cl):
            size = int(rng.integers(1, 5))
            shock = rng.normal()
            for _ in range(size):
                rows.append((block, f"h{hh}", z_cl[c], rng.normal() + 0.5 * z_cl[c] + shock, size))
            hh += 1
    return pd.DataFrame(rows, columns=["block", "hh", "z", "y", "size"])


def test_clustered_dim_cr2_standard_error_by_hand() -> None:
    df = _clustered_frame(12)
    res = fx.itt(df, "y", "z", clusters="hh", method="dim")
    y, z, cl = df.y.to_numpy(), df.z.to_numpy(), df.hh.to_numpy()
    assert res.estimate == pytest.approx(y[z == 1].mean() - y[z == 0].mean(), rel=1e-12)
    assert res.std_error == pytest.approx(math.sqrt(_cr2_var(y, z, cl)), rel=1e-10)
    assert res.nclusters == df.hh.nunique()
    assert res.se_type == "CR2" and res.design == "clustered"
    assert 1 < res.df < df.hh.nunique()


def test_blocked_dim_standard_error_and_df_by_hand() -> None:
    rng = np.random.default_rng(13)
    sizes = {"a": 7, "b": 12, "c": 5}
    rows = []
    for blk, nb in sizes.items():
        z = np.zeros(nb, dtype=int)
        z[rng.choice(nb, size=nb // 2, replace=False)] = 1
        for zi in z:
            rows.append((blk, zi, rng.normal(loc=ord(blk) % 5) + zi * rng.normal(1, 1)))
    df = pd.DataFrame(rows, columns=["block", "z", "y"])
    res = fx.itt(df, "y", "z", blocks="block", method="dim")
    tau, var = 0.0, 0.0
    N = len(df)
    for _, d in df.groupby("block"):
        y1, y0 = d.y[d.z == 1], d.y[d.z == 0]
        tau += len(d) / N * (y1.mean() - y0.mean())
        var += (len(d) / N) ** 2 * (s2(y1.to_numpy()) / len(y1) + s2(y0.to_numpy()) / len(y0))
    assert res.estimate == pytest.approx(tau, rel=1e-12)
    assert res.std_error == pytest.approx(math.sqrt(var), rel=1e-12)
    assert res.df == N - 2 * 3
    assert res.design == "blocked" and res.se_type == "blocked"


def test_blocked_clustered_dim_by_hand() -> None:
    df = _clustered_frame(14)
    res = fx.itt(df, "y", "z", blocks="block", clusters="hh", method="dim")
    N = len(df)
    tau, var = 0.0, 0.0
    for _, d in df.groupby("block"):
        y, z, cl = d.y.to_numpy(), d.z.to_numpy(), d.hh.to_numpy()
        tau += len(d) / N * (y[z == 1].mean() - y[z == 0].mean())
        var += (len(d) / N) ** 2 * _cr2_var(y, z, cl)
    assert res.estimate == pytest.approx(tau, rel=1e-12)
    assert res.std_error == pytest.approx(math.sqrt(var), rel=1e-10)
    assert res.df == df.hh.nunique() - 2 * 3
    assert res.design == "blocked-clustered"


def _pairs_frame(seed: int, B: int = 12, clustered: bool = False) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for b in range(B):
        first = rng.integers(0, 2)
        for k in range(2):
            z = int(k == first)
            size = int(rng.integers(1, 4)) if clustered else 1
            for _ in range(size):
                rows.append((f"p{b:02d}", f"p{b}h{k}", z, rng.normal(b / 4) + z * (1 + b / 6)))
    return pd.DataFrame(rows, columns=["pair", "hh", "z", "y"])


def test_matched_pair_standard_error_imai_king_nall_by_hand() -> None:
    df = _pairs_frame(15)
    res = fx.itt(df, "y", "z", blocks="pair", method="dim")
    tau_b = np.array([d.y[d.z == 1].item() - d.y[d.z == 0].item() for _, d in df.groupby("pair")])
    B = tau_b.size
    assert res.estimate == pytest.approx(tau_b.mean(), rel=1e-12)
    se = math.sqrt(np.sum((tau_b - tau_b.mean()) ** 2) / (B * (B - 1)))
    assert res.std_error == pytest.approx(se, rel=1e-12)
    assert res.df == B - 1
    assert res.design == "matched-pair" and res.se_type == "matched-pair"


def test_matched_pair_clustered_standard_error_by_hand() -> None:
    """Imai, King & Nall (2009) for pairs of clusters, as estimatr: with N_b units in pair b,
    se^2 = B / ((B - 1) N^2) * sum_b (N_b tau_b - N tau / B)^2."""
    df = _pairs_frame(16, B=10, clustered=True)
    res = fx.itt(df, "y", "z", blocks="pair", clusters="hh", method="dim")
    N = len(df)
    nb, tb = [], []
    for _, d in df.groupby("pair"):
        nb.append(len(d))
        tb.append(d.y[d.z == 1].mean() - d.y[d.z == 0].mean())
    nb, tb = np.array(nb, dtype=float), np.array(tb)
    B = nb.size
    tau = np.sum(nb * tb) / N
    se = math.sqrt(B / ((B - 1) * N**2) * np.sum((nb * tb - N * tau / B) ** 2))
    assert res.estimate == pytest.approx(tau, rel=1e-12)
    assert res.std_error == pytest.approx(se, rel=1e-12)
    assert res.df == B - 1
    assert res.nclusters == 2 * B
    assert res.design == "matched-pair-clustered"


def test_pairs_mixed_with_larger_blocks_warns_and_uses_pair_variance() -> None:
    rng = np.random.default_rng(17)
    rows = []
    for b, (nb, n1) in enumerate([(2, 1), (2, 1), (6, 3), (4, 2)]):
        z = np.zeros(nb, dtype=int)
        z[rng.choice(nb, size=n1, replace=False)] = 1
        rows += [(f"b{b}", zi, rng.normal() + zi) for zi in z]
    df = pd.DataFrame(rows, columns=["block", "z", "y"])
    with pytest.warns(FieldexpWarning, match=r"two units/clusters while others have more.*"):
        res = fx.itt(df, "y", "z", blocks="block", method="dim")
    N, B = len(df), 4
    nb, tb = [], []
    for _, d in df.groupby("block"):
        nb.append(len(d))
        tb.append(d.y[d.z == 1].mean() - d.y[d.z == 0].mean())
    nb, tb = np.array(nb, dtype=float), np.array(tb)
    tau = np.sum(nb * tb) / N
    assert res.estimate == pytest.approx(tau, rel=1e-12)
    # estimatr's matched-pair variance for unequal block sizes (unclustered, so the
    # "matched-pair" branch uses block estimates weighted equally around tau)
    se = math.sqrt(np.sum((tb - tau) ** 2) / (B * (B - 1)))
    assert res.std_error == pytest.approx(se, rel=1e-12)
    assert res.df == B - 1


# --------------------------------------------------------------------------- design errors
def test_kernel_rejects_block_with_one_unit() -> None:
    y = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    z = np.array([1.0, 0.0, 1.0, 0.0, 1.0])
    blocks = factorize(np.array([0, 0, 0, 0, 1]))
    with pytest.raises(DesignError, match=r"at least two units .*1 block\(s\) have one"):
        difference_in_means(y, z, blocks=blocks)


def test_kernel_rejects_block_with_one_cluster() -> None:
    y = np.arange(8, dtype=float)
    z = np.array([1, 1, 0, 0, 1, 0, 1, 1], dtype=float)
    blocks = factorize(np.array([0, 0, 0, 0, 0, 0, 1, 1]))
    clusters = factorize(np.array([0, 0, 1, 1, 2, 3, 4, 4]))  # block 1 is one cluster
    with pytest.raises(DesignError, match="at least two units"):
        difference_in_means(y, z, blocks=blocks, clusters=clusters)


def test_api_rejects_block_with_one_unit() -> None:
    df = pd.DataFrame({"y": [1.0, 2, 3, 4, 5], "z": [1, 0, 1, 0, 1], "b": [0, 0, 0, 0, 1]})
    with pytest.raises(DesignError, match=r"block\(s\) of 'b' have units in one arm only"):
        fx.itt(df, "y", "z", blocks="b", method="dim")


def test_block_with_single_treated_unit_not_a_pair() -> None:
    df = pd.DataFrame(
        {
            "y": [1.0, 2, 3, 4, 5, 6, 7, 8],
            "z": [1, 0, 0, 0, 1, 1, 0, 0],  # block "a": 1 treated of 4
            "b": ["a"] * 4 + ["b"] * 4,
        }
    )
    with pytest.raises(DesignError, match=r"at least two assigned and two\s+not-assigned"):
        fx.itt(df, "y", "z", blocks="b", method="dim")


def test_unblocked_single_treated_unit_rejected() -> None:
    df = pd.DataFrame({"y": [1.0, 2, 3, 4, 5], "z": [1, 0, 0, 0, 0]})
    with pytest.raises(DesignError, match="at least two assigned"):
        fx.itt(df, "y", "z", method="dim")


def test_weights_with_matched_pairs_rejected() -> None:
    df = _pairs_frame(18)
    df["w"] = np.linspace(0.5, 2.0, len(df))
    with pytest.raises(SpecificationError, match=r"weights cannot be used with a matched-pair"):
        fx.itt(df, "y", "z", blocks="pair", weights="w", method="dim")


def test_blocked_weighted_dim_weights_blocks_by_weight_totals() -> None:
    """Weighted blocked DIM: block weights are the blocks' weight totals."""
    rng = np.random.default_rng(19)
    rows = []
    for blk, nb in (("a", 8), ("b", 10)):
        z = np.zeros(nb, dtype=int)
        z[: nb // 2] = 1
        rows += [(blk, zi, rng.normal() + zi * (2 if blk == "a" else 0)) for zi in z]
    df = pd.DataFrame(rows, columns=["block", "z", "y"])
    df["w"] = np.where(df.block == "a", 3.0, 1.0) * rng.uniform(0.8, 1.2, len(df))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = fx.itt(df, "y", "z", blocks="block", weights="w", method="dim")
    tau = 0.0
    for _, d in df.groupby("block"):
        m1, m0 = d.z == 1, d.z == 0
        tb = np.average(d.y[m1], weights=d.w[m1]) - np.average(d.y[m0], weights=d.w[m0])
        tau += d.w.sum() / df.w.sum() * tb
    assert res.estimate == pytest.approx(tau, rel=1e-12)
    assert res.design == "blocked (weighted)"
    # variance: sum_b (W_b / W)^2 * weighted-HC2 variance of the block's difference in means
    var = 0.0
    for _, d in df.groupby("block"):
        vb = 0.0
        for arm in (0, 1):
            m = (d.z == arm).to_numpy()
            y, w = d.y.to_numpy()[m], d.w.to_numpy()[m]
            W = w.sum()
            e = y - np.sum(w * y) / W
            vb += np.sum(w**2 * e**2 / (1.0 - w / W)) / W**2
        var += (d.w.sum() / df.w.sum()) ** 2 * vb
    assert res.std_error == pytest.approx(math.sqrt(var), rel=1e-10)
    assert res.df == len(df) - 2 * 2
