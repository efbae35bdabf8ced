"""fx.rate: formulas against brute force, ties, row order, coverage with a known truth, errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fieldexp.errors import DataError, RowsDroppedWarning, SpecificationError
from fieldexp.targeting import rate
from fieldexp.targeting._data import prepare_targeting
from fieldexp.targeting.rate import dr_scores, rate_weights


def _sim(n: int, seed: int, slope: float = 0.4, blocks: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.random(n)
    block = np.arange(n) % blocks
    z = np.zeros(n)
    for b in range(blocks):
        idx = np.flatnonzero(block == b)
        z[rng.permutation(idx)[: len(idx) // 2]] = 1.0
    y = 0.3 + 0.2 * x + (0.05 + slope * x) * z + rng.normal(0, 0.5, n)
    return pd.DataFrame({"y": y, "z": z, "x": x, "noise": rng.random(n), "block": block})


def _brute_autoc(gamma: np.ndarray, s: np.ndarray) -> float:
    order = np.argsort(-s, kind="stable")
    g = gamma[order]
    n = len(g)
    toc = [g[:j].mean() - g.mean() for j in range(1, n + 1)]
    return float(np.mean(toc))


def _brute_qini(gamma: np.ndarray, s: np.ndarray) -> float:
    order = np.argsort(-s, kind="stable")
    g = gamma[order]
    n = len(g)
    return float(np.mean([(j / n) * (g[:j].mean() - g.mean()) for j in range(1, n + 1)]))


@pytest.mark.parametrize("target, brute", [("AUTOC", _brute_autoc), ("QINI", _brute_qini)])
def test_estimate_equals_the_toc_average(target: str, brute) -> None:
    d = _sim(300, 1, blocks=3)
    t = prepare_targeting(
        d, outcome="y", assignment="z", treatment=None, blocks="block", clusters=None, function="t"
    )
    gamma = dr_scores(t)
    r = rate(d, "y", "z", "x", blocks="block", target=target, reps=20)
    assert r.estimate == pytest.approx(brute(gamma, d["x"].to_numpy()), rel=1e-10, abs=1e-13)
    assert r.ate == pytest.approx(gamma.mean(), rel=1e-12)


def test_weights_sum_to_zero() -> None:
    for n in (1, 2, 7, 1000):
        for target in ("AUTOC", "QINI"):
            assert abs(rate_weights(n, target).sum()) < 1e-12


def test_dr_scores_average_is_the_blocked_difference_in_means() -> None:
    d = _sim(400, 2, blocks=4)
    t = prepare_targeting(
        d, outcome="y", assignment="z", treatment=None, blocks="block", clusters=None, function="t"
    )
    per_block = d.groupby("block").apply(
        lambda g: g.loc[g.z == 1, "y"].mean() - g.loc[g.z == 0, "y"].mean(), include_groups=False
    )
    sizes = d.groupby("block").size()
    assert dr_scores(t).mean() == pytest.approx(float((per_block * sizes).sum() / sizes.sum()))


def test_ties_average_over_orderings_and_row_order_does_not_matter() -> None:
    d = _sim(200, 3)
    d["coarse"] = np.round(d["x"] * 4)  # heavy ties
    a = rate(d, "y", "z", "coarse", reps=30, seed=5)
    shuffled = d.sample(frac=1.0, random_state=9)
    b = rate(shuffled, "y", "z", "coarse", reps=30, seed=5)
    assert a.estimate == pytest.approx(b.estimate, rel=1e-12)
    assert a.std_error == pytest.approx(b.std_error, rel=1e-12)
    # brute force: average the AUTOC over many random orderings of the tied units
    t = prepare_targeting(
        d, outcome="y", assignment="z", treatment=None, blocks=None, clusters=None, function="t"
    )
    gamma = dr_scores(t)
    rng = np.random.default_rng(0)
    s = d["coarse"].to_numpy()
    # exact: within a tie group every position is equally likely -> mean over permutations
    vals = [_brute_autoc(gamma, s + 1e-9 * rng.random(len(s))) for _ in range(400)]
    assert a.estimate == pytest.approx(np.mean(vals), abs=4 * np.std(vals) / 20 + 1e-12)


def test_paired_comparison_is_the_difference() -> None:
    d = _sim(300, 4)
    a = rate(d, "y", "z", "x", reps=40, seed=1)
    b = rate(d, "y", "z", "noise", reps=40, seed=1)
    both = rate(d, "y", "z", ["x", "noise"], reps=40, seed=1)
    assert both.estimate == pytest.approx(a.estimate - b.estimate, rel=1e-12)
    assert both.priority == "x - noise"
    assert both.std_error > 0


def test_series_priority_is_aligned_by_index() -> None:
    d = _sim(200, 5)
    s = d["x"].sample(frac=1.0, random_state=2)  # same labels, other order
    a = rate(d, "y", "z", "x", reps=20)
    b = rate(d, "y", "z", s, reps=20)
    assert a.estimate == pytest.approx(b.estimate, rel=1e-12)


def test_known_truth_coverage_and_random_priority_near_zero() -> None:
    """tau(x) = 0.05 + 0.4 x, x ~ U(0,1): true AUTOC of priority x is 0.4/4 = 0.1.

    The full 500-run check lives in benchmarks/bench_targeting.py; here 60 runs must cover at
    least 51 times (a correct 95% interval fails this with probability < 1%).
    """
    covered = covered0 = 0
    est0 = []
    for seed in range(60):
        d = _sim(600, 100 + seed)
        r = rate(d, "y", "z", "x", reps=40, seed=seed)
        covered += r.ci_low <= 0.1 <= r.ci_high
        r0 = rate(d, "y", "z", "noise", reps=40, seed=seed)
        covered0 += r0.ci_low <= 0.0 <= r0.ci_high
        est0.append(r0.estimate)
    assert covered >= 51
    assert covered0 >= 51
    assert abs(np.mean(est0)) < 3 * np.std(est0) / np.sqrt(60)


def test_per_contact_scales_by_the_first_stage() -> None:
    d = _sim(400, 6)
    rng = np.random.default_rng(1)
    d["contact"] = ((d["z"] == 1) & (rng.random(len(d)) < 0.4)).astype(int)
    itt = rate(d, "y", "z", "x", reps=20)
    cace = rate(d, "y", "z", "x", treatment="contact", reps=20)
    fs = d.loc[d.z == 1, "contact"].mean()
    assert cace.estimate == pytest.approx(itt.estimate / fs, rel=1e-10)
    assert cace.estimand == "CACE"


def test_clusters_stay_whole_and_conf_int_any_level() -> None:
    d = _sim(400, 7)
    d["hh"] = np.arange(len(d)) // 2
    d["z"] = d.groupby("hh")["z"].transform("first")
    r = rate(d, "y", "z", "x", clusters="hh", reps=30)
    assert r.nclusters == 200
    lo, hi = r.conf_int(0.05)
    assert (lo, hi) == pytest.approx((r.ci_low, r.ci_high))
    lo90, hi90 = r.conf_int(0.10)
    assert lo < lo90 < hi90 < hi
    assert {"q", "toc", "ci_low", "ci_high"} <= set(r.toc.columns)
    assert r.to_frame().shape[0] == 1


def test_errors_name_the_rule() -> None:
    d = _sim(100, 8)
    with pytest.raises(SpecificationError, match="'target'"):
        rate(d, "y", "z", "x", target="GINI")
    with pytest.raises(SpecificationError, match="'reps'"):
        rate(d, "y", "z", "x", reps=10**9)
    with pytest.raises(DataError, match="not in the data"):
        rate(d, "y", "z", "nope")
    d2 = d.copy()
    d2.loc[3, "x"] = np.nan
    with pytest.warns(RowsDroppedWarning, match="dropped 1 of 100"):
        assert rate(d2, "y", "z", "x", reps=5).nobs == 99
    with pytest.raises(DataError, match="finite number"):
        rate(d, "y", "z", d2["x"], reps=5)
    d3 = d.copy()
    d3["hh"] = np.arange(len(d3)) // 2  # assignment varies within these clusters
    with pytest.raises(DataError, match="constant"):
        rate(d3, "y", "z", "x", clusters="hh", reps=5)
    d4 = d.copy()
    d4["block"] = (d4["z"] == 1).astype(int)  # every block all treated or all control
    with pytest.raises(DataError, match="strictly between 0 and 1"):
        rate(d4, "y", "z", "x", blocks="block", reps=5)


def test_does_not_mutate_the_data() -> None:
    d = _sim(100, 9)
    before = d.copy()
    rate(d, "y", "z", "x", reps=5)
    pd.testing.assert_frame_equal(d, before)
