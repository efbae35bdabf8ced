"""fx.lee_bounds and fx.attrition: hand-computed bounds, second opinion, coverage, hostile input."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest

import fieldexp as fx
from fieldexp.errors import DataError, DesignError, SpecificationError
from fieldexp.experiment.bounds import imbens_manski


def _frame(treated: list[float | None], control: list[float | None]) -> pd.DataFrame:
    """One row per unit; None = outcome not observed."""
    ys = treated + control
    return pd.DataFrame(
        {
            "z": [1] * len(treated) + [0] * len(control),
            "y": [np.nan if v is None else v for v in ys],
            "s": [0 if v is None else 1 for v in ys],
        }
    )


def _trimmed_mean_by_hand(values: list[float], keep: Fraction, *, lowest: bool) -> Fraction:
    """Mean of the lowest (highest) ``keep`` units of mass, walking unit by unit."""
    left = keep
    total = Fraction(0)
    for v in sorted(values, reverse=not lowest):
        take = min(Fraction(1), left)
        total += take * Fraction(v)
        left -= take
        if left <= 0:
            break
    return total / keep


def test_hand_computed_treated_trimmed_fractional_cut() -> None:
    # treated: 7 of 10 observed; control: 4 of 9 observed
    # q1 = 7/10, q0 = 4/9, p = 1 - q0/q1 = 1 - 40/63 = 23/63; kept mass 7 * 40/63 = 40/9 units
    t_obs = [7.0, 1.0, 5.0, 3.0, 2.0, 6.0, 4.0]
    c_obs = [2.0, 4.0, 3.0, 1.5]
    d = _frame(t_obs + [None] * 3, c_obs + [None] * 5)
    res = fx.lee_bounds(d, "y", "z", observed="s", reps=0)
    keep = Fraction(7) * Fraction(4, 9) / Fraction(7, 10)
    assert keep == Fraction(40, 9)
    c_mean = Fraction(sum(Fraction(v) for v in c_obs)) / 4
    # by hand: lowest 40/9 of {1..7} = 1 + 2 + 3 + 4 + (4/9)*5 over 40/9
    low = (Fraction(1 + 2 + 3 + 4) + Fraction(4, 9) * 5) / Fraction(40, 9)
    high = (Fraction(7 + 6 + 5 + 4) + Fraction(4, 9) * 3) / Fraction(40, 9)
    assert low == _trimmed_mean_by_hand(t_obs, keep, lowest=True)
    assert high == _trimmed_mean_by_hand(t_obs, keep, lowest=False)
    assert res.lower == pytest.approx(float(low - c_mean), rel=1e-12)
    assert res.upper == pytest.approx(float(high - c_mean), rel=1e-12)
    assert res.trim_share == pytest.approx(23 / 63, rel=1e-12)
    assert res.trimmed_arm == "treated"
    assert math.isnan(res.ci_low) and res.reps_used == 0
    assert res.observed_rate_treated == pytest.approx(0.7)
    assert res.observed_rate_control == pytest.approx(4 / 9)


def test_hand_computed_control_trimmed_binary_ties() -> None:
    # control more observed: 8 of 10 (q0 = 0.8), treated 6 of 10 (q1 = 0.6), p = 1/4
    # control observed outcomes 0,0,0,1,1,1,1,1: keep 6 units of mass
    t_obs = [1.0, 1.0, 0.0, 1.0, 0.0, 1.0]
    c_obs = [1.0, 0.0, 1.0, 0.0, 1.0, 1.0, 0.0, 1.0]
    d = _frame(t_obs + [None] * 4, c_obs + [None] * 2)
    res = fx.lee_bounds(d, "y", "z", observed="s", reps=0)
    t_mean = Fraction(4, 6)
    c_low = Fraction(0 + 0 + 0 + 1 + 1 + 1, 6)  # lowest six: three 0s and three 1s
    c_high = Fraction(5 * 1 + 0, 6)  # highest six: the five 1s and one 0
    assert res.trimmed_arm == "control"
    assert res.trim_share == pytest.approx(0.25)
    # trimming the control from the top lowers its mean: that gives the upper bound
    assert res.upper == pytest.approx(float(t_mean - c_low), rel=1e-12)
    assert res.lower == pytest.approx(float(t_mean - c_high), rel=1e-12)


def test_equal_rates_is_difference_in_observed_means() -> None:
    d = _frame([3.0, 1.0, None, 2.0], [0.0, None, 1.0, 2.0])
    res = fx.lee_bounds(d, "y", "z", observed="s", reps=0)
    assert res.lower == res.upper == pytest.approx(2.0 - 1.0)
    assert res.trim_share == 0 and res.trimmed_arm == "none"


def test_blocked_trims_within_blocks_and_weights_by_always_observed() -> None:
    b1 = _frame([7.0, 1.0, 5.0, 3.0, 2.0, 6.0, 4.0, None, None, None], [2.0, 4.0, 3.0, 1.5, None])
    b2 = _frame([1.0, 0.0, 1.0, None], [0.0, 1.0, 1.0, 1.0, 0.0, None])
    d = pd.concat([b1.assign(block="a"), b2.assign(block="b")], ignore_index=True)
    res = fx.lee_bounds(d, "y", "z", observed="s", blocks="block", reps=0)
    r1 = fx.lee_bounds(b1, "y", "z", observed="s", reps=0)
    r2 = fx.lee_bounds(b2, "y", "z", observed="s", reps=0)
    # always-observed counts: N_b * min(q1, q0)
    w1 = 15 * min(7 / 10, 4 / 5)
    w2 = 10 * min(3 / 4, 5 / 6)
    lower = (w1 * r1.lower + w2 * r2.lower) / (w1 + w2)
    upper = (w1 * r1.upper + w2 * r2.upper) / (w1 + w2)
    assert res.lower == pytest.approx(lower, rel=1e-12)
    assert res.upper == pytest.approx(upper, rel=1e-12)
    assert res.nstrata == 2 and res.trimmed_arm == "control"
    # the covariate-tightening cells are the same computation
    tight = fx.lee_bounds(d, "y", "z", observed="s", covariates_for_tightening="block", reps=0)
    assert (tight.lower, tight.upper) == pytest.approx((res.lower, res.upper), rel=1e-12)
    assert list(res.strata["stratum"]) == ["a", "b"]


def test_tightening_narrows_when_cells_predict_outcome() -> None:
    rng = np.random.default_rng(5)
    n = 2000
    x = rng.integers(0, 2, n)
    z = rng.permutation(np.r_[np.ones(n // 2), np.zeros(n // 2)])
    y = 3.0 * x + rng.normal(0, 1, n) + 0.2 * z
    s = (rng.random(n) < np.where(z == 1, 0.9, 0.7)).astype(int)
    d = pd.DataFrame({"z": z, "x": x, "y": np.where(s == 1, y, np.nan), "s": s})
    plain = fx.lee_bounds(d, "y", "z", observed="s", reps=0)
    tight = fx.lee_bounds(d, "y", "z", observed="s", covariates_for_tightening="x", reps=0)
    assert tight.upper - tight.lower < plain.upper - plain.lower


def test_pyleebounds_second_opinion() -> None:
    pyleebounds = pytest.importorskip("pyleebounds", reason="pyleebounds is not installed")
    rng = np.random.default_rng(11)
    # 200 treated with 160 observed, 200 controls with 120 observed: trim exactly 40 units
    yt, yc = rng.normal(0.3, 1, 200), rng.normal(0, 1, 200)
    st = np.r_[np.ones(160), np.zeros(40)]
    sc = np.r_[np.ones(120), np.zeros(80)]
    d = pd.DataFrame(
        {
            "z": np.r_[np.ones(200), np.zeros(200)],
            "s": np.r_[st, sc],
            "y": np.r_[np.where(st == 1, yt, np.nan), np.where(sc == 1, yc, np.nan)],
        }
    )
    ours = fx.lee_bounds(d, "y", "z", observed="s", reps=0)
    theirs = pyleebounds.LeeBounds(n_bootstrap=20).fit(
        d.fillna({"y": 0.0}), outcome="y", treatment="z", selection="s"
    )
    assert ours.lower == pytest.approx(theirs.lower_bound, rel=1e-12)
    assert ours.upper == pytest.approx(theirs.upper_bound, rel=1e-12)


def _attrited(rng: np.random.Generator, n: int, effect: float) -> pd.DataFrame:
    """Always-observed 60%, observed only if treated 20%, never observed 20% (monotone)."""
    kind = rng.choice(3, size=n, p=[0.6, 0.2, 0.2])
    z = rng.permutation(np.r_[np.ones(n // 2), np.zeros(n - n // 2)])
    y0 = rng.normal(0, 1, n)
    y1 = np.where(kind == 0, y0 + effect, rng.normal(1.5, 1, n))  # selected-in units differ
    s = ((kind == 0) | ((kind == 1) & (z == 1))).astype(int)
    y = np.where(z == 1, y1, y0)
    return pd.DataFrame({"z": z, "s": s, "y": np.where(s == 1, y, np.nan)})


@pytest.mark.slow
def test_imbens_manski_coverage_simulation() -> None:
    """True effect on the always-observed 0.3; naive comparison biased upwards.

    100 seeded replications of 400 units, 99 bootstrap draws: the 95% Imbens-Manski
    interval must cover 0.3 in at least 90% of them, and the naive difference in observed
    means must miss it in most (the bounds matter).
    """
    rng = np.random.default_rng(2009)
    sims, cover, naive_cover = 100, 0, 0
    for i in range(sims):
        d = _attrited(rng, 400, 0.3)
        res = fx.lee_bounds(d, "y", "z", observed="s", reps=99, seed=i)
        assert res.ci_low <= res.lower <= res.upper <= res.ci_high
        cover += res.ci_low <= 0.3 <= res.ci_high
        naive = fx.itt(d.dropna(), "y", "z", method="ols")
        naive_cover += naive.ci_low <= 0.3 <= naive.ci_high
    assert cover / sims >= 0.90, cover / sims
    assert naive_cover / sims <= 0.5, naive_cover / sims


def test_imbens_manski_critical_value() -> None:
    # point identified: the usual two-sided interval
    lo, hi = imbens_manski(1.0, 1.0, 0.5, 0.5, 0.05)
    assert (lo, hi) == pytest.approx((1 - 1.959963984540054 * 0.5, 1 + 1.959963984540054 * 0.5))
    # a very wide set: one-sided critical value
    lo, hi = imbens_manski(0.0, 100.0, 0.5, 0.5, 0.05)
    assert lo == pytest.approx(-1.6448536269514722 * 0.5, rel=1e-9)
    # in between: Phi(c + r) - Phi(-c) = 0.95
    from scipy import stats

    lo, hi = imbens_manski(0.0, 1.0, 0.5, 0.25, 0.05)
    c = -lo / 0.5
    assert stats.norm.cdf(c + 1.0 / 0.5) - stats.norm.cdf(-c) == pytest.approx(0.95, abs=1e-10)
    assert hi == pytest.approx(1.0 + c * 0.25)


def test_bootstrap_ignores_row_order_and_is_seeded() -> None:
    rng = np.random.default_rng(3)
    n = 300
    hh = np.repeat(np.arange(n // 3), 3)
    block = hh % 4
    z_hh = rng.integers(0, 2, n // 3)
    z_hh[:8] = [0, 1, 0, 1, 0, 1, 0, 1]
    s = (rng.random(n) < np.where(z_hh[hh] == 1, 0.85, 0.7)).astype(int)
    y = rng.normal(0, 1, n) + 0.2 * z_hh[hh]
    d = pd.DataFrame(
        {"hh": hh, "block": block, "z": z_hh[hh], "s": s, "y": np.where(s == 1, y, np.nan)}
    )
    kw = dict(observed="s", blocks="block", clusters="hh", reps=100, seed=7)
    before = d.copy()
    a = fx.lee_bounds(d, "y", "z", **kw)  # type: ignore[arg-type]
    pd.testing.assert_frame_equal(d, before)
    shuffled = d.sample(frac=1, random_state=1).reset_index(drop=True)
    b = fx.lee_bounds(shuffled, "y", "z", **kw)  # type: ignore[arg-type]
    assert (a.lower, a.upper, a.ci_low, a.ci_high) == pytest.approx(
        (b.lower, b.upper, b.ci_low, b.ci_high), rel=1e-12
    )
    c = fx.lee_bounds(d, "y", "z", **{**kw, "seed": 8})  # type: ignore[arg-type]
    assert c.ci_low != a.ci_low
    assert a.nclusters == n // 3
    # unclustered: rows keyed by content, still row-order free
    kw2 = dict(observed="s", blocks="block", reps=100, seed=7)
    u1 = fx.lee_bounds(d, "y", "z", **kw2)  # type: ignore[arg-type]
    u2 = fx.lee_bounds(shuffled, "y", "z", **kw2)  # type: ignore[arg-type]
    assert (u1.ci_low, u1.ci_high) == pytest.approx((u2.ci_low, u2.ci_high), rel=1e-12)
    assert a.conf_int(0.05) == pytest.approx((a.ci_low, a.ci_high))
    lo90, hi90 = a.conf_int(0.10)
    assert a.ci_low < lo90 <= hi90 < a.ci_high
    assert "Imbens-Manski" in str(a) and "<table" in a._repr_html_()
    assert a.to_frame().loc[0, "lower"] == a.lower


def test_lee_bounds_hostile_inputs() -> None:
    d = _frame([1.0, 2.0, None], [1.0, None, 0.0])
    with pytest.raises(SpecificationError, match="seed"):
        fx.lee_bounds(d, "y", "z", observed="s")
    with pytest.raises(SpecificationError, match="must be an integer"):
        fx.lee_bounds(d, "y", "z", observed="s", reps=50, seed=1.5)  # type: ignore[arg-type]
    with pytest.raises(SpecificationError, match="at least 20"):
        fx.lee_bounds(d, "y", "z", observed="s", reps=5, seed=1)
    bad = d.copy()
    bad.loc[0, "y"] = np.nan  # observed but missing outcome
    with pytest.raises(DataError, match="missing for 1 units"):
        fx.lee_bounds(bad, "y", "z", observed="s", reps=0)
    bad = d.copy()
    bad["s"] = [1, 1, 0, 0, 0, 0]  # control arm has no observed outcome
    with pytest.raises(DataError, match="no observed outcome"):
        fx.lee_bounds(bad, "y", "z", observed="s", reps=0)
    bad = d.copy()
    bad.loc[1, "s"] = 2
    with pytest.raises(DataError, match="binary"):
        fx.lee_bounds(bad, "y", "z", observed="s", reps=0)
    clustered = d.assign(hh=[1, 1, 2, 2, 3, 3])  # cluster 2 mixes arms
    with pytest.raises(DesignError, match="constant within each cluster"):
        fx.lee_bounds(clustered, "y", "z", observed="s", clusters="hh", reps=0)
    with pytest.raises(fx.FieldexpError):
        fx.lee_bounds(d, "y", "z", observed="nope", reps=0)


# ----------------------------------------------------------------- attrition
def test_attrition_rates_and_design_based_test() -> None:
    rng = np.random.default_rng(4)
    n = 400
    d = pd.DataFrame({"id": np.arange(n), "b": np.repeat([1, 2], n // 2)})
    design = fx.Design(unit="id", blocks="b")
    d = d.merge(design.assign(d, seed=2)[["id", "arm"]], on="id")
    d["s"] = (rng.random(n) < np.where(d["arm"] == 1, 0.9, 0.75)).astype(int)
    res = fx.attrition(d, "arm", "s", blocks="b", design=design, reps=500, seed=3)
    ref = fx.itt(d, "s", "arm", blocks="b", method="ols")
    assert res.difference is not None
    assert res.difference.estimate == pytest.approx(ref.estimate, rel=1e-12)
    assert res.difference.std_error == pytest.approx(ref.std_error, rel=1e-12)
    assert res.differential and res.ri_p_value < 0.05
    rates = res.rates.set_index("arm")
    assert rates.loc[1, "rate"] == pytest.approx(d.loc[d["arm"] == 1, "s"].mean())
    assert rates.loc[0, "n"] == int((d["arm"] == 0).sum())
    assert "Attrition by arm" in str(res) and "<table" in res._repr_html_()
    assert res.to_frame().shape[0] == 2
    # nothing missing: no test, said so
    full = fx.attrition(d.assign(s=1), "arm", "s")
    assert full.difference is None and not full.differential and full.notes
    with pytest.raises(SpecificationError, match="seed"):
        fx.attrition(d, "arm", "s", design=design)
    with pytest.raises(DataError, match="attrition by arm needs both arms"):
        fx.attrition(d.assign(arm=1), "arm", "s")
