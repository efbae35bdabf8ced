"""Simple (coin-flip) randomisation: randomizr's simple_ra semantics, checked over many seeds.

Every unit (cluster) is drawn independently with its block's arm probabilities, so the number
per arm is binomial (multinomial), not fixed; the draws are keyed to ids (row order free) and
the design round-trips through JSON and TOML with its scheme.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from fieldexp.design import Design
from fieldexp.design.kernels import binomial_distribution, block_rng, simple_block
from fieldexp.errors import DesignError, SpecificationError

SEEDS = range(400)  # fixed: the statistical checks below are deterministic


def binomial_chi2_p(counts: np.ndarray, n: int, p: float) -> float:
    """Chi-square goodness of fit of observed counts to Binomial(n, p), bins pooled to E >= 5."""
    pmf = stats.binom.pmf(np.arange(n + 1), n, p) * len(counts)
    obs = np.bincount(counts, minlength=n + 1).astype(float)
    e_bins, o_bins, e_acc, o_acc = [], [], 0.0, 0.0
    for e, o in zip(pmf, obs, strict=True):
        e_acc += e
        o_acc += o
        if e_acc >= 5:
            e_bins.append(e_acc)
            o_bins.append(o_acc)
            e_acc = o_acc = 0.0
    e_bins[-1] += e_acc
    o_bins[-1] += o_acc
    return float(stats.chisquare(o_bins, e_bins).pvalue)


def units(n: int, blocks: list[str] | None = None) -> pd.DataFrame:
    df = pd.DataFrame({"v": np.arange(n) * 7 + 3})
    if blocks is not None:
        df["b"] = [blocks[i % len(blocks)] for i in range(n)]
    return df


def test_counts_are_binomial_not_fixed():
    df = units(40)
    simple = Design("v", arms={0: 0.7, 1: 0.3}, scheme="simple")
    complete = Design("v", arms={0: 0.7, 1: 0.3})
    z = np.array([(simple.assign(df, seed=s)["arm"] == 1).to_numpy() for s in SEEDS])
    n1 = z.sum(axis=1)
    fixed = {int((complete.assign(df, seed=s)["arm"] == 1).sum()) for s in range(20)}
    assert fixed == {12}
    assert binomial_chi2_p(n1, 40, 0.3) > 1e-3
    # mean and variance of Binomial(40, 0.3): 12 and 8.4
    assert abs(n1.mean() - 12) < 4 * np.sqrt(8.4 / len(n1))
    assert 0.7 * 8.4 < n1.var(ddof=1) < 1.4 * 8.4
    # every unit's share of seeds in arm 1 is 0.3 (binomial over the seeds, per unit)
    per_unit = z.mean(axis=0)
    assert np.all(np.abs(per_unit - 0.3) < 4.5 * np.sqrt(0.21 / len(SEEDS)))


def test_blocks_with_different_probabilities():
    df = units(60, blocks=["A", "B"])
    design = Design(
        "v",
        blocks="b",
        arms=[0, 1],
        block_probabilities={"A": {0: 0.8, 1: 0.2}, "B": {0: 0.3, 1: 0.7}},
        scheme="simple",
    )
    counts: dict[str, list[int]] = {"A": [], "B": []}
    for s in SEEDS:
        out = design.assign(df, seed=s)
        arm = out["arm"].to_numpy(dtype=int)
        for b, p in (("A", 0.2), ("B", 0.7)):
            in_b = (out["b"] == b).to_numpy()
            counts[b].append(int(arm[in_b].sum()))
            expected = np.where(arm[in_b] == 1, p, 1 - p)
            np.testing.assert_allclose(out["probability"].to_numpy()[in_b], expected, rtol=1e-15)
    assert binomial_chi2_p(np.array(counts["A"]), 30, 0.2) > 1e-3
    assert binomial_chi2_p(np.array(counts["B"]), 30, 0.7) > 1e-3
    # a complete design with the same per-block probabilities fixes 6 and 21
    complete = Design(
        "v",
        blocks="b",
        arms=[0, 1],
        block_probabilities={"A": {0: 0.8, 1: 0.2}, "B": {0: 0.3, 1: 0.7}},
    )
    out = complete.assign(df, seed=5)
    assert out.groupby("b")["arm"].sum().to_dict() == {"A": 6, "B": 21}


def test_multi_arm_prob_each_is_multinomial():
    df = units(50)
    probs = {"a": 0.2, "b": 0.3, "c": 0.5}
    design = Design("v", arms=probs, scheme="simple")
    tally = np.zeros(3)
    per_seed_a = []
    for s in SEEDS[:200]:
        out = design.assign(df, seed=s)
        vc = out["arm"].value_counts()
        tally += [vc.get(k, 0) for k in probs]
        per_seed_a.append(int(vc.get("a", 0)))
        np.testing.assert_allclose(
            out["probability"].to_numpy(float), out["arm"].map(probs).to_numpy(float)
        )
    expected = np.array(list(probs.values())) * 50 * 200
    assert stats.chisquare(tally, expected).pvalue > 1e-3
    assert binomial_chi2_p(np.array(per_seed_a), 50, 0.2) > 1e-3


def test_kernel_is_one_uniform_per_unit_against_cumulative_probabilities():
    from fractions import Fraction

    probs = [Fraction(1, 5), Fraction(3, 10), Fraction(1, 2)]
    arm, counts = simple_block(1000, block_rng(4, "all"), probs)
    u = block_rng(4, "all").random(1000)
    expected = np.where(u < 0.2, 0, np.where(u < 0.5, 1, 2))
    np.testing.assert_array_equal(arm, expected)
    np.testing.assert_array_equal(counts, np.bincount(expected, minlength=3))


def test_binomial_distribution_exact_and_large():
    from fractions import Fraction

    dist = binomial_distribution(5, Fraction(1, 3))
    assert sum(p for _, p in dist) == 1
    assert dict(dist)[2] == 10 * Fraction(1, 9) * Fraction(8, 27)
    big = binomial_distribution(10_000, Fraction(3, 10))
    ms = np.array([m for m, _ in big])
    ps = np.array([float(p) for _, p in big])
    assert abs(ps.sum() - 1) < 1e-12
    np.testing.assert_allclose(ps, stats.binom.pmf(ms, 10_000, 0.3), rtol=1e-12)


def test_clusters_drawn_whole_and_row_order_free():
    rng = np.random.default_rng(2)
    df = pd.DataFrame({"v": np.arange(90), "h": np.repeat(np.arange(40), [1, 2, 3, 3] * 10)[:90]})
    df["b"] = np.where(df["h"] % 2 == 0, "even", "odd")
    design = Design("v", blocks="b", clusters="h", arms={0: 0.4, 1: 0.6}, scheme="simple")
    a = design.assign(df, seed=11)
    assert a.groupby("h")["arm"].agg(lambda s: s.eq(s.iloc[0]).all()).all()
    b = design.assign(df.iloc[rng.permutation(len(df))], seed=11)
    pd.testing.assert_frame_equal(a, b)
    hh = np.array(
        [design.assign(df, seed=s).groupby("h")["arm"].first().sum() for s in SEEDS[:300]]
    )
    assert binomial_chi2_p(hh, df["h"].nunique(), 0.6) > 1e-3


def test_serialisation_keeps_the_scheme():
    design = Design(
        "v",
        blocks="b",
        clusters="h",
        arms={"control": 0.5, "door": 0.5},
        block_probabilities={"P1": {"control": 0.25, "door": 0.75}},
        scheme="simple",
        exclude={"do_not_contact": [3]},
    )
    assert Design.from_json(design.to_json()) == design
    assert Design.from_toml(design.to_toml()) == design
    assert design.to_dict()["scheme"] == "simple"
    assert design.probabilities_for("P1") == design.block_probabilities[0][1]
    assert design.probabilities_for("P2") == design.arm_probabilities
    # a complete design writes no scheme (older files read the same) and reads back complete
    plain = Design("v", blocks="b")
    assert "scheme" not in plain.to_dict()
    assert Design.from_dict(plain.to_dict()).scheme == "complete"
    factorial = Design.factorial({"door": [0, 1], "sms": [0, 1]}, "v", scheme="simple")
    assert Design.from_toml(factorial.to_toml()) == factorial
    assert "scheme='simple'" in str(design)


def test_refusals():
    with pytest.raises(DesignError, match=r"scheme=.simple. draws each unit .* cannot be fixed"):
        Design("v", counts={1: 3}, scheme="simple")
    with pytest.raises(SpecificationError, match="scheme: expected one of"):
        Design("v", scheme="bernoulli")
    with pytest.raises(DesignError, match=r"block_probabilities: .* need the .blocks. column"):
        Design("v", block_probabilities={"A": {0: 0.5, 1: 0.5}})
    with pytest.raises(DesignError, match=r"block 'A'\): give a probability for every arm"):
        Design("v", blocks="b", arms=[0, 1], block_probabilities={"A": {1: 0.5}})
    with pytest.raises(DesignError, match="probabilities must sum to 1"):
        Design("v", blocks="b", arms=[0, 1], block_probabilities={"A": {0: 0.5, 1: 0.6}})
    design = Design(
        "v", blocks="b", arms=[0, 1], block_probabilities={"A": {0: 0.5, 1: 0.5}}, scheme="simple"
    )
    with pytest.raises(DesignError, match="no probabilities are given for block 'B'"):
        design.assign(units(6, blocks=["A", "B"]), seed=1)
