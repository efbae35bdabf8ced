"""heterogeneity: subgroup effects via itt/cace, Wald tests (independent or interacted), RI test."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats

import fieldexp as fx
from fieldexp.design import Design
from fieldexp.errors import ColumnNotFoundError, SpecificationError


def data(seed=0, n=600, clustered=True):
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"v": np.arange(n), "h": np.arange(n) // 2, "b": np.arange(n) // 200})
    df["band"] = rng.choice(["rare", "intermittent", "regular"], n)
    design = Design("v", blocks="b", clusters="h" if clustered else None)
    df = df.merge(design.assign(df, seed=seed)[["v", "arm"]], on="v")
    effect = df["band"].map({"rare": 0.0, "intermittent": 0.3, "regular": 0.1})
    df["contact"] = (df["arm"] * (rng.random(n) < 0.6)).astype(int)
    df["y"] = rng.normal(size=n) + effect * df["contact"]
    return df, design


def test_independent_subgroups_wald():
    df, _ = data(clustered=False)
    res = fx.heterogeneity(df, "y", "arm", "band", blocks="b")
    assert res.levels == ("intermittent", "rare", "regular")
    for level, eff in zip(res.levels, res.effects, strict=True):
        direct = fx.itt(df[df["band"] == level], "y", "arm", blocks="b")
        assert eff.estimate == pytest.approx(direct.estimate)
        assert eff.std_error == pytest.approx(direct.std_error)
    tau = np.array([e.estimate for e in res.effects])
    v = np.array([e.std_error**2 for e in res.effects])
    # chi2 of the contrasts with a diagonal covariance = precision-weighted dispersion
    pooled = np.sum(tau / v) / np.sum(1 / v)
    assert res.wald_statistic == pytest.approx(np.sum((tau - pooled) ** 2 / v))
    assert res.wald_df == 2
    assert res.wald_p_value == pytest.approx(stats.chi2.sf(res.wald_statistic, 2))
    assert res.wald_method == "independent subgroups"
    assert res.to_frame().shape[0] == 3 and "<table" in res._repr_html_()


def test_interacted_model_when_clusters_cross_subgroups():
    df, _ = data()
    res = fx.heterogeneity(df, "y", "arm", "band", clusters="h")
    assert "interacted" in res.wald_method
    # OLS y ~ band + band:arm with CR1 = statsmodels cluster covariance without the (N-1)/(N-K) factor
    dummies = pd.get_dummies(pd.Categorical(df["band"], categories=res.levels)).to_numpy(float)
    X = np.column_stack([dummies, dummies * df["arm"].to_numpy(float)[:, None]])
    fit = sm.OLS(df["y"].to_numpy(), X).fit(
        cov_type="cluster", cov_kwds={"groups": df["h"].to_numpy()}
    )
    n, k = X.shape
    V = fit.cov_params()[3:, 3:] * (n - k) / (n - 1)
    tau = fit.params[3:]
    R = np.array([[-1, 1, 0], [-1, 0, 1]])
    w = (R @ tau) @ np.linalg.solve(R @ V @ R.T, R @ tau)
    assert res.wald_statistic == pytest.approx(w, rel=1e-8)
    # point estimates of the interacted model equal subgroup differences in means
    for j, level in enumerate(res.levels):
        g = df[df["band"] == level]
        assert tau[j] == pytest.approx(
            g.loc[g["arm"] == 1, "y"].mean() - g.loc[g["arm"] == 0, "y"].mean()
        )


def test_cace_and_randomisation_test():
    df, design = data(seed=3)
    res = fx.heterogeneity(
        df, "y", "arm", "band", estimator="cace", treatment="contact", design=design
    )
    assert res.estimand == "CACE"
    assert res.effects[0].first_stage is not None
    itt = fx.heterogeneity(df, "y", "arm", "band", design=design, reps=400, seed=2)
    assert itt.ri_reps == 400 and 0 <= itt.ri_p_value <= 1
    assert itt.ri_statistic > 0
    again = fx.heterogeneity(
        df.sample(frac=1, random_state=1), "y", "arm", "band", design=design, reps=400, seed=2
    )
    assert again.ri_statistic == pytest.approx(itt.ri_statistic)
    assert "randomisation" in str(itt)


def test_bad_inputs():
    df, design = data()
    with pytest.raises(ColumnNotFoundError, match="argument 'by'"):
        fx.heterogeneity(df, "y", "arm", "bandd")
    with pytest.raises(SpecificationError, match="at least two"):
        fx.heterogeneity(df.assign(one="x"), "y", "arm", "one")
    with pytest.raises(SpecificationError, match="'seed' parameter"):
        fx.heterogeneity(df, "y", "arm", "band", design=design, reps=10)


def test_randomisation_test_under_simple_randomisation_equals_brute_force():
    """16 voters, coin flips with p = 0.4, subgroups of 8: all 2^16 assignments enumerated.

    Independent, vectorised: for every assignment z (probability 0.4^m 0.6^(16-m)) and each
    subgroup, the difference in means of u = y - tau_bar z_obs and its variance
    s_t^2/n_t + s_c^2/n_c; the statistic sum_g (est_g - m)^2 / v_g with m their precision-
    weighted mean; tau_bar the precision-weighted observed effect. Assignments leaving a
    subgroup arm with fewer than two voters have no statistic and are left out.
    """
    import itertools

    rng = np.random.default_rng(11)
    n = 16
    df = pd.DataFrame({"v": range(n), "g": ["a", "b"] * 8, "y": rng.normal(size=n)})
    design = Design("v", arms={0: 0.6, 1: 0.4}, scheme="simple")
    for k in range(200):  # an assignment with at least two voters per arm in each subgroup
        z = design.assign(df, seed=k)["arm"].to_numpy()
        if all(2 <= z[df["g"] == g].sum() <= 6 for g in "ab"):
            break
    df["arm"] = z
    df["y"] = df["y"] + 0.8 * df["arm"] * (df["g"] == "a")
    res = fx.heterogeneity(df, "y", "arm", "g", design=design, reps=100_000, seed=1)
    assert res.ri_exact and res.ri_reps == 2**n

    y, g = df["y"].to_numpy(), df["g"].to_numpy()

    def est_var(u, Z, mask):
        Zg, ug = Z[:, mask], u[mask]
        out = []
        for arm in (Zg, 1 - Zg):
            k = arm.sum(axis=1)
            with np.errstate(divide="ignore", invalid="ignore"):
                mean = (arm * ug).sum(axis=1) / k
                ss = (arm * (ug[None, :] - mean[:, None]) ** 2).sum(axis=1)
                out.append((mean, ss / (k * (k - 1)), k))
        (m1, v1, k1), (m0, v0, k0) = out
        ok = (k1 >= 2) & (k0 >= 2)
        return np.where(ok, m1 - m0, np.nan), np.where(ok, v1 + v0, np.nan)

    z_obs = df["arm"].to_numpy(float)[None, :]
    obs = [est_var(y, z_obs, g == lev) for lev in "ab"]
    est0 = np.array([e[0][0] for e in obs])
    var0 = np.array([v[1][0] for v in obs])
    tau_bar = np.sum(est0 / var0) / np.sum(1 / var0)
    u = y - tau_bar * z_obs[0]

    def statistic(Z):
        ev = [est_var(u, Z, g == lev) for lev in "ab"]
        est = np.column_stack([e for e, _ in ev])
        var = np.column_stack([v for _, v in ev])
        m = np.sum(est / var, axis=1) / np.sum(1 / var, axis=1)
        return np.sum((est - m[:, None]) ** 2 / var, axis=1)

    Z = np.array(list(itertools.product([0.0, 1.0], repeat=n)))
    w = 0.4 ** Z.sum(axis=1) * 0.6 ** (n - Z.sum(axis=1))
    draws = statistic(Z)
    observed = float(statistic(z_obs)[0])
    assert res.ri_statistic == pytest.approx(observed, rel=1e-10)
    ok = np.isfinite(draws)
    expected = w[ok & (draws >= observed - 1e-9 * (1 + observed))].sum() / w[ok].sum()
    assert res.ri_p_value == pytest.approx(expected, rel=1e-10)
