"""power: closed forms, round trips, and agreement with simulated power; diagnose."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import fieldexp as fx
from fieldexp.errors import SpecificationError


def test_textbook_mde():
    # MDE ~ (z_.975 + z_.8) * sqrt(p(1-p)/(N/4)) for p = 0.5, N = 10,000: 2.8016 * 0.01
    r = fx.power(n=10_000, power=0.8, baseline=0.5)
    assert r.solved_for == "effect"
    assert r.std_error == pytest.approx(0.01)
    assert r.effect == pytest.approx((stats.norm.isf(0.025) + stats.norm.isf(0.2)) * 0.01, rel=1e-3)


@pytest.mark.parametrize("estimand", ["itt", "cace"])
def test_round_trip(estimand):
    kw = dict(estimand=estimand, baseline=0.4, contact_rate=0.3, cluster_size=1.7, icc=0.25, r2=0.3)
    mde = fx.power(n=20_000, power=0.8, **kw)
    n = fx.power(effect=mde.effect, power=0.8, **kw)
    pw = fx.power(n=20_000, effect=mde.effect, **kw)
    assert n.n == pytest.approx(20_000, rel=1e-8)
    assert pw.power == pytest.approx(0.8, abs=1e-9)


def test_components_scale_as_documented():
    base = fx.power(n=1000, power=0.8, sd=1.0)
    assert fx.power(n=1000, power=0.8, sd=1.0, cluster_size=3, icc=0.5).effect == pytest.approx(
        base.effect * math.sqrt(2.0)
    )
    assert fx.power(n=1000, power=0.8, sd=1.0, r2=0.75).effect == pytest.approx(base.effect / 2)
    assert fx.power(
        n=1000, power=0.8, sd=1.0, estimand="cace", contact_rate=0.25
    ).effect == pytest.approx(base.effect * 4)
    assert "minimum detectable effect" in str(base)
    assert base.to_frame().shape[0] == 1


def test_bad_arguments():
    with pytest.raises(SpecificationError, match="leave exactly one of 'n', 'effect' and 'power'"):
        fx.power(n=100, effect=0.1, power=0.8)
    with pytest.raises(SpecificationError, match="'icc' parameter of power must be a number in"):
        fx.power(n=100, power=0.8, icc=1.5)
    with pytest.raises(SpecificationError, match="'baseline'"):
        fx.power(n=100, power=0.8, baseline=1.0)


def test_analytic_power_matches_simulation_clustered():
    # households of 2 with ICC 0.2, complete randomisation of households, difference in means
    G, m, icc, tau, sims = 300, 2, 0.2, 0.16, 4000
    analytic = fx.power(n=G * m, effect=tau, sd=1.0, cluster_size=m, icc=icc).power
    rng = np.random.default_rng(123)
    u = rng.normal(0, math.sqrt(icc), (sims, G))
    e = rng.normal(0, math.sqrt(1 - icc), (sims, G, m))
    keys = rng.random((sims, G))
    z = (keys < np.sort(keys, axis=1)[:, [G // 2 - 1]] + 1e-15).astype(float)  # G/2 treated
    ybar = u + e.mean(axis=2) + tau * z  # cluster means (equal sizes: unit DiM = cluster DiM)
    t1, t0 = z == 1, z == 0
    m1 = (ybar * t1).sum(1) / t1.sum(1)
    m0 = (ybar * t0).sum(1) / t0.sum(1)
    v1 = ((ybar - m1[:, None]) ** 2 * t1).sum(1) / (t1.sum(1) - 1) / t1.sum(1)
    v0 = ((ybar - m0[:, None]) ** 2 * t0).sum(1) / (t0.sum(1) - 1) / t0.sum(1)
    simulated = np.mean(np.abs((m1 - m0) / np.sqrt(v1 + v0)) > stats.norm.isf(0.025))
    mc_se = math.sqrt(analytic * (1 - analytic) / sims)
    assert abs(simulated - analytic) < 4 * mc_se + 0.01


def test_analytic_cace_power_matches_simulation():
    n, c, tau, sims = 4000, 0.4, 0.15, 3000
    analytic = fx.power(n=n, effect=tau, sd=1.0, estimand="cace", contact_rate=c).power
    rng = np.random.default_rng(5)
    z = np.zeros((sims, n))
    z[:, : n // 2] = 1
    complier = rng.random((sims, n)) < c
    d = z * complier
    y = rng.normal(size=(sims, n)) + tau * d
    itt_y = (y * z).sum(1) / (n / 2) - (y * (1 - z)).sum(1) / (n / 2)
    itt_d = (d * z).sum(1) / (n / 2) - (d * (1 - z)).sum(1) / (n / 2)
    wald = itt_y / itt_d
    resid = y - wald[:, None] * d
    r1 = (resid * z).sum(1) / (n / 2)
    r0 = (resid * (1 - z)).sum(1) / (n / 2)
    var = (
        ((resid - r1[:, None]) ** 2 * z).sum(1) + ((resid - r0[:, None]) ** 2 * (1 - z)).sum(1)
    ) / ((n / 2 - 1) * (n / 2))
    se = np.sqrt(var) / np.abs(itt_d)
    simulated = np.mean(np.abs(wald / se) > stats.norm.isf(0.025))
    mc_se = math.sqrt(analytic * (1 - analytic) / sims)
    assert abs(simulated - analytic) < 4 * mc_se + 0.01


# ---------------------------------------------------------------- unequal household sizes
def household_sizes():
    """600 households of 1, 2 and 3 voters (50/30/20 %: mean 1.7, E[m^2]/E[m] = 2.06)."""
    return np.repeat([1, 2, 3], [300, 180, 120])


def simulated_power(sizes, icc, effect, reps, seed):
    """Households randomised half/half; blocked-free DiM over voters with a cluster-robust
    (linearised ratio) SE; two-sided 5% z test. Vectorised over reps."""
    rng = np.random.default_rng(seed)
    m = sizes.astype(float)
    H = len(m)
    u = rng.normal(0, math.sqrt(icc), (reps, H))
    e = rng.normal(size=(reps, H)) * np.sqrt(m * (1 - icc))  # sum of m voter-level errors
    z = np.argsort(np.argsort(rng.random((reps, H)), axis=1), axis=1) < H // 2
    Y = m * u + e + effect * m * z

    def arm(mask):
        n = (m * mask).sum(1)
        mean = (Y * mask).sum(1) / n
        c = mask.sum(1)
        var = (((Y - mean[:, None] * m) ** 2) * mask).sum(1) / n**2 * c / (c - 1)
        return mean, var

    m1, v1 = arm(z)
    m0, v0 = arm(~z)
    t = (m1 - m0) / np.sqrt(v1 + v0)
    return float(np.mean(np.abs(t) > stats.norm.isf(0.025))), m1 - m0


def test_unequal_household_sizes_against_simulation():
    sizes = household_sizes()
    n = int(sizes.sum())
    new = fx.power(n=n, power=0.8, sd=1.0, cluster_size=sizes, icc=0.6)
    assert new.cluster_size == pytest.approx(1.7)
    assert new.cluster_size_effective == pytest.approx(3.5 / 1.7)
    assert new.design_effect == pytest.approx(1 + (3.5 / 1.7 - 1) * 0.6)
    # the mean-size formula 1 + (m - 1) rho overstates power at the same effect
    old = fx.power(n=n, effect=new.effect, sd=1.0, cluster_size=1.7, icc=0.6)
    reps = 4000
    sim, estimates = simulated_power(sizes, 0.6, new.effect, reps, seed=20261129)
    mc_se = math.sqrt(0.8 * 0.2 / reps)
    assert abs(sim - 0.8) < 3 * mc_se
    assert old.power - sim > 6 * mc_se  # fails for the old formula (it states ~0.85)
    # and the stated standard error is the spread of the estimates
    assert np.std(estimates) == pytest.approx(new.std_error, rel=0.04)


@pytest.mark.parametrize("as_type", [list, np.array, pd.Series])
def test_cluster_size_accepts_array_like(as_type):
    sizes = [2, 2, 2, 2]
    a = fx.power(n=1000, power=0.8, cluster_size=as_type(sizes), icc=0.3)
    b = fx.power(n=1000, power=0.8, cluster_size=2, icc=0.3)
    assert a.effect == pytest.approx(b.effect, rel=1e-12)
    assert "E[m^2]/E[m] 2" in str(a)


def test_cluster_size_refusals():
    with pytest.raises(
        SpecificationError, match=r"cluster sizes >= 1; found \[0\.0\] at positions \[1\]"
    ):
        fx.power(n=1000, power=0.8, cluster_size=[1, 0, 2])
    with pytest.raises(SpecificationError, match="non-empty 1-d array of numeric cluster sizes"):
        fx.power(n=1000, power=0.8, cluster_size=[])
    with pytest.raises(SpecificationError, match="non-empty 1-d array of numeric cluster sizes"):
        fx.power(n=1000, power=0.8, cluster_size=["a", "b"])
    with pytest.raises(SpecificationError, match="must be one of"):
        fx.power(n=1000, power=0.8, scheme="coin")


# ---------------------------------------------------------------- simple randomisation
@pytest.mark.parametrize(("J", "p"), [(30, 0.5), (100, 0.3), (1000, 0.5)])
def test_simple_scheme_variance_against_exact_binomial_expectation(J, p):
    """E[1/n1 + 1/n0] over Binomial(J, p) (both arms non-empty), summed exactly."""
    k = np.arange(1, J)
    w = stats.binom.pmf(k, J, p)
    w /= w.sum()
    exact = float(np.sum(w * (1 / k + 1 / (J - k))))
    simple = fx.power(n=J, effect=0.1, sd=1.0, p_treat=p, scheme="simple")
    complete = fx.power(n=J, effect=0.1, sd=1.0, p_treat=p)
    assert simple.std_error**2 == pytest.approx(exact, rel=12 / J**2)  # second-order approximation
    assert abs(complete.std_error**2 / exact - 1) > 0.9 / J  # the complete formula misses it
    assert simple.scheme == "simple" and simple.power < complete.power
