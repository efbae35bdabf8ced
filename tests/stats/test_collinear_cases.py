"""Hostile collinear designs: what is dropped, what is refused, and that the rest is the fit
without the dropped column (estimatr's numbers: tests/stats/test_collinear_estimatr.py)."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import fieldexp as fx
from fieldexp.errors import CollinearWarning, EstimationError
from fieldexp.stats.collinear import estimatr_kept, gram_inverse_ranked
from fieldexp.stats.linear import fit_2sls, fit_ols

REF = Path(__file__).resolve().parents[1] / "reference"


@pytest.fixture
def d() -> pd.DataFrame:
    return pd.read_csv(REF / "collinear_data.csv")


def _quiet(call):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CollinearWarning)
        return call()


def _same(a: fx.EffectResult, b: fx.EffectResult) -> None:
    for attr in ("estimate", "std_error", "df", "ci_low", "ci_high"):
        np.testing.assert_allclose(getattr(a, attr), getattr(b, attr), rtol=1e-9)


# --------------------------------------------------------------------------- which is dropped
def test_pivoting_keeps_the_larger_norm_and_the_first_of_copies() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=50)
    one = np.ones(50)
    assert estimatr_kept(np.column_stack([one, x, 2 * x])) == [0, 2]
    assert estimatr_kept(np.column_stack([one, 2 * x, x])) == [0, 1]
    assert estimatr_kept(np.column_stack([one, x, x])) == [0, 1]
    assert estimatr_kept(np.column_stack([one, x, 0.01 * x])) == [0, 1]
    # a constant 3 beats the intercept (larger norm): estimatr reports NA for the intercept
    assert estimatr_kept(np.column_stack([one, 3 * one, x])) == [1, 2]
    # protected columns (fixed-effect dummies) are never dropped
    assert estimatr_kept(np.column_stack([x, 3 * one, one]), protected=[2]) == [0, 2]


def test_near_collinear_full_rank_is_kept() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=200)
    for eps in (1e-3, 1e-6, 1e-9):
        X = np.column_stack([np.ones(200), x, x + eps * rng.normal(size=200)])
        r = gram_inverse_ranked(X.T @ X, ["a", "b", "c"], lambda X=X: X)
        assert r.dropped == (), eps
    X = np.column_stack([np.ones(200), x, x + 1e-14 * rng.normal(size=200)])
    assert len(gram_inverse_ranked(X.T @ X, ["a", "b", "c"], lambda: X).dropped) == 1


@pytest.mark.parametrize("order", [["x", "x2"], ["x2", "x"]])
@pytest.mark.parametrize("method", ["ols", "lin"])
def test_orders_give_the_same_effect(d: pd.DataFrame, order: list[str], method: str) -> None:
    with pytest.warns(CollinearWarning, match=r"'x(_c)?' \(it is collinear with 'x2"):
        got = fx.itt(d, "y", "z", covariates=order, method=method)
    _same(got, fx.itt(d, "y", "z", covariates=["x2"], method=method))


def test_shuffled_rows_drop_the_same_column(d: pd.DataFrame) -> None:
    shuffled = d.sample(frac=1.0, random_state=3)
    with pytest.warns(CollinearWarning, match=r"'bc'"):
        a = fx.itt(d, "y", "z", covariates=["x", "bc"], blocks="blk", method="ols")
    with pytest.warns(CollinearWarning, match=r"'bc'"):
        b = fx.itt(shuffled, "y", "z", covariates=["x", "bc"], blocks="blk", method="ols")
    _same(a, b)


# --------------------------------------------------------------------------- fixed effects
@pytest.mark.parametrize("se_type", ["HC0", "HC2", "HC3", "CR2", "stata"])
@pytest.mark.parametrize("method", ["ols", "lin"])
@pytest.mark.parametrize("cov", ["ind", "bc", "c"])
def test_block_level_covariate_is_dropped_with_blocks(
    d: pd.DataFrame, cov: str, method: str, se_type: str
) -> None:
    """A covariate equal to a block indicator, constant within blocks, or constant."""
    kw = {"blocks": "blk", "method": method, "se_type": se_type}
    if se_type == "CR2":
        kw["clusters"] = "cl"
    with pytest.warns(CollinearWarning, match=rf"'{cov}(_c)?'"):
        got = fx.itt(d, "y", "z", covariates=["x", cov], **kw)
    _same(got, fx.itt(d, "y", "z", covariates=["x"], **kw))


@pytest.mark.parametrize("se_type", ["HC2", "CR2", "stata"])
def test_weighted_dense_and_absorbed_paths(d: pd.DataFrame, se_type: str) -> None:
    """Weights with blocks: HC2 absorbs one factor, weighted CR2 needs explicit dummies."""
    kw = {"blocks": "blk", "weights": "w", "se_type": se_type}
    if se_type != "HC2":
        kw["clusters"] = "cl"
    for method in ("ols", "lin"):
        with pytest.warns(CollinearWarning, match=r"'bc"):
            got = fx.itt(d, "y", "z", covariates=["x", "bc"], method=method, **kw)
        _same(got, fx.itt(d, "y", "z", covariates=["x"], method=method, **kw))
    with pytest.warns(CollinearWarning, match=r"'bc'"):
        got = fx.cace(d, "y", "d", "z", covariates=["x", "bc"], **kw)
    _same(got, fx.cace(d, "y", "d", "z", covariates=["x"], **kw))


def test_all_constant_covariate(d: pd.DataFrame) -> None:
    base = fx.itt(d, "y", "z", method="ols")
    with pytest.warns(CollinearWarning, match=r"'\(Intercept\)' \(it is collinear with 'c'\)"):
        _same(fx.itt(d, "y", "z", covariates=["c"], method="ols"), base)
    with pytest.warns(CollinearWarning, match=r"'c_c' \(it has no variation"):
        got = fx.itt(d, "y", "z", covariates=["x", "c"], method="lin")
    _same(got, fx.itt(d, "y", "z", covariates=["x"], method="lin"))


# --------------------------------------------------------------------------- refused
@pytest.mark.parametrize("method", ["ols", "lin"])
def test_covariate_duplicating_the_assignment_is_refused(d: pd.DataFrame, method: str) -> None:
    for dup in (d["z"], 5 * d["z"], 1 - d["z"]):
        with pytest.raises(EstimationError, match=r"'z'.*not identified"):
            fx.itt(d.assign(zz=dup), "y", "z", covariates=["x", "zz"], method=method)


@pytest.mark.parametrize("se_type", ["HC2", "CR2", "stata"])
def test_collinear_instrument_is_refused(d: pd.DataFrame, se_type: str) -> None:
    kw = {"se_type": se_type, "clusters": "cl"} if se_type != "HC2" else {"se_type": se_type}
    for dup in (d["z"], 2 * d["z"]):
        with pytest.raises(EstimationError, match=r"'z'.*not identified"):
            fx.cace(d.assign(zz=dup), "y", "d", "z", covariates=["x", "zz"], **kw)
    # a covariate equal to the treatment: the 2SLS would be the OLS of y on d
    with pytest.raises(EstimationError, match=r"'d'.*not identified"):
        fx.cace(d.assign(dd=d["d"]), "y", "d", "z", covariates=["x", "dd"], **kw)


def test_instrument_absorbed_by_the_fixed_effects_is_refused() -> None:
    # (fx.cace refuses such a design earlier: every block needs both arms)
    from fieldexp.stats.groups import GroupIndex

    rng = np.random.default_rng(6)
    n = 200
    codes = np.repeat(np.arange(10), 20)
    blocks = GroupIndex(codes=codes, n_groups=10, counts=np.full(10, 20))
    zb = (codes < 5).astype(float)
    dd = zb * (rng.random(n) < 0.7)
    x = rng.normal(size=n)
    y = dd + x + rng.normal(size=n)
    for se_type in ("HC1", "HC2", "CR2"):
        with pytest.raises(EstimationError, match=r"'zb'.*not identified"):
            fit_2sls(
                np.column_stack([dd, x]), y, np.column_stack([zb, x]), names=("d", "x"),
                se_type=se_type, absorb=(blocks,), z_names=("zb", "x"),
                clusters=blocks if se_type == "CR2" else None,
            )  # fmt: skip


def test_fit_2sls_collinear_instruments_and_regressors() -> None:
    rng = np.random.default_rng(4)
    n = 300
    z = rng.integers(0, 2, n).astype(float)
    x = rng.normal(size=n)
    dd = z * (rng.random(n) < 0.7)
    y = dd + x + rng.normal(size=n)
    one = np.ones(n)
    X = np.column_stack([one, dd, x, 2 * x])
    Z = np.column_stack([one, z, x, 2 * x])
    with pytest.warns(CollinearWarning, match=r"'x'"):
        got = fit_2sls(X, y, Z, names=("1", "d", "x", "x2"), se_type="HC1")
    ref = fit_2sls(X[:, [0, 1, 3]], y, Z[:, [0, 1, 3]], names=("1", "d", "x2"), se_type="HC1")
    np.testing.assert_allclose(got.coef[[0, 1, 3]], ref.coef, rtol=1e-10)
    np.testing.assert_allclose(got.std_error[[0, 1, 3]], ref.std_error, rtol=1e-10)
    assert np.isnan(got.coef[2]) and got.dropped == ("x",)
    # the excluded instrument duplicated by a covariate: not identified
    Z2 = np.column_stack([one, z, x, 3 * z])
    X2 = np.column_stack([one, dd, x, 3 * z])
    with pytest.raises(EstimationError, match=r"not identified"):
        fit_2sls(
            X2, y, Z2, names=("1", "d", "x", "z3"), se_type="HC1", z_names=("1", "z", "x", "z3")
        )


def test_linear_fit_rows_are_nan_like_estimatr_na(d: pd.DataFrame) -> None:
    X = np.column_stack([np.ones(len(d)), d["z"], d["x"], d["x2"]])
    with pytest.warns(CollinearWarning):
        fit = fit_ols(X, d["y"].to_numpy(), names=("(Intercept)", "z", "x", "x2"), se_type="HC2")
    assert fit.dropped == ("x",)
    assert np.isnan(fit.vcov[2]).all() and np.isnan(fit.vcov[:, 2]).all()
    assert np.isfinite(fit.vcov[np.ix_([0, 1, 3], [0, 1, 3])]).all()
    assert fit.rank == 3


# --------------------------------------------------------------------------- DiD
def _panel() -> pd.DataFrame:
    return pd.read_csv(REF / "collinear_panel.csv")


def test_did_time_invariant_covariate_names_the_unit_not_a_block() -> None:
    with pytest.warns(CollinearWarning) as info:
        got = fx.did(_panel(), outcome="y", unit="unit", time="year", treatment="treat",
                     covariates=["x", "zc"])  # fmt: skip
    msg = str(info[0].message)
    assert "'zc'" in msg and "'unit' and 'year'" in msg and "block" not in msg
    _same(got, fx.did(_panel(), outcome="y", unit="unit", time="year", treatment="treat",
                      covariates=["x"]))  # fmt: skip


def test_did_treatment_absorbed_by_the_fixed_effects_is_refused() -> None:
    p = _panel()
    # treatment switched on in the same year for every treated unit and a covariate equal to it
    p = p.assign(tt=p["treat"])
    with pytest.raises(EstimationError, match=r"'treat'.*not identified"):
        fx.did(p, outcome="y", unit="unit", time="year", treatment="treat", covariates=["tt"])


def test_warning_points_at_the_callers_line(d: pd.DataFrame) -> None:
    with pytest.warns(CollinearWarning) as info:
        fx.itt(d, "y", "z", covariates=["x", "x2"], method="ols")
    assert len(info) == 1 and info[0].filename == __file__


def test_exact_combination_eigen_misses_is_dropped(repo_root: Path) -> None:
    """voted_2016 + voted_2018 - 2 voted_2020: Eigen's threshold keeps all six columns (estimatr
    reports coefficients of +-6.5e11); ours drops one and the effect is the fit without it."""
    df = pd.read_csv(repo_root / "fixtures" / "experiment_small.csv")
    df["total"] = df.voted_2016 + df.voted_2018 - 2 * df.voted_2020
    covs = ["voted_2016", "voted_2018", "voted_2020"]
    with pytest.warns(CollinearWarning, match=r"'voted_2020'"):
        got = fx.itt(df, "voted", "assigned", covariates=[*covs, "total"], method="ols")
    _same(got, fx.itt(df, "voted", "assigned", covariates=[*covs[:2], "total"], method="ols"))


def test_tiny_scale_covariate_is_kept(d: pd.DataFrame) -> None:
    """A legitimate covariate in tiny units (1e-13 of the others) is kept, as estimatr keeps it."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", CollinearWarning)
        X = np.column_stack([np.ones(len(d)), d["z"], d["x"], 1e-13 * d["w"]])
        fit = fit_ols(X, d["y"].to_numpy(), names=("1", "z", "x", "w"), se_type="HC2")
    ref = fit_ols(X[:, :3], d["y"].to_numpy(), names=("1", "z", "x"), se_type="HC2")
    assert fit.dropped == () and not np.isclose(fit.coef[1], ref.coef[1], rtol=1e-6)


@pytest.mark.parametrize("se_type", ["HC1", "HC2", "stata", "CR2"])
def test_did_treatment_that_is_a_function_of_the_period_is_refused(se_type: str) -> None:
    """Everyone switched on in 2003: the year effects absorb the treatment. (main returned an
    estimate with a standard error of 4e14 for HC1: the one-column Gram check saw nothing.)"""
    p = _panel()
    p = p.assign(treat=(p["year"] >= 2003).astype(int))
    kw = {"clusters": "unit"} if se_type in ("stata", "CR2") else {}
    with pytest.raises(EstimationError, match=r"'treat' cannot be estimated.*'unit' and 'year'"):
        fx.did(p, outcome="y", unit="unit", time="year", treatment="treat", se_type=se_type, **kw)
