"""Collinear regressors are dropped as R estimatr drops them, and the rest equals estimatr.

References: ``tests/reference/make_reference_collinear.R`` (estimatr 1.0.0) wrote
``collinear.csv`` from ``collinear_data.csv`` / ``collinear_panel.csv``: ``lm_robust``,
``lm_lin``, ``iv_robust`` and the TWFE ``lm_robust(..., fixed_effects = ~unit + year)`` with a
multiple, an exact copy, a constant, a near-duplicate (kept), a covariate constant within
blocks or equal to a block indicator, a time-invariant covariate, weights; every se_type.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import fieldexp as fx
from fieldexp.errors import CollinearWarning
from fieldexp.stats.groups import GroupIndex
from fieldexp.stats.linear import fit_ols

REF = Path(__file__).resolve().parents[1] / "reference"
RTOL = 1e-8
#: ``ols_near`` (x and x + 1e-6 noise, condition number 2e6) is full rank and kept by estimatr
#: and by us, with coefficients equal at 1e-8. Its sandwich is ill-conditioned (relative error
#: ~ kappa^2 eps ~ 1e-3): in exact rational arithmetic the SEs of x, xn differ from estimatr's by
#: 7.6e-4 and from ours by 1.3e-3, that of z by 7.8e-6 and 1.5e-5. Standard errors (and CIs)
#: are compared at that accuracy there.
#: estimatr's CR2 Bell-McCaffrey df break down there (1.0 for every coefficient, with 40
#: clusters); ours stay between 1 and G - 1 = 39 and are checked for that instead.
NEAR_SE_RTOL = {"z": 1e-4, "row": 5e-3}


def _near_cr2_df(case: str, se_type: str, ours: np.ndarray) -> bool:
    if case == "ols_near" and se_type == "CR2":
        assert np.all((ours > 1.0) & (ours <= 39.0)), ours
        return True
    return False


def _ref() -> pd.DataFrame:
    return pd.read_csv(REF / "collinear.csv", keep_default_na=False, na_values=["NA"])


def _data() -> pd.DataFrame:
    return pd.read_csv(REF / "collinear_data.csv")


def _panel() -> pd.DataFrame:
    return pd.read_csv(REF / "collinear_panel.csv")


def _cases() -> list[tuple[str, str]]:
    r = _ref()
    return sorted({(c, s) for c, s in zip(r["case"], r["se_type"], strict=True)})


def _opt(v: object) -> str | None:
    return None if v == "" or (isinstance(v, float) and math.isnan(v)) else str(v)


def _run(
    case: str, se_type: str
) -> tuple[fx.EffectResult, list[warnings.WarningMessage], pd.Series]:
    r = _ref()
    rows = r[(r["case"] == case) & (r["se_type"] == se_type)]
    first = rows.iloc[0]
    covs = str(first["covariates"]).split(";")
    kw: dict[str, object] = {"covariates": covs, "se_type": se_type}
    for arg in ("blocks", "clusters", "weights"):
        if _opt(first[arg]) is not None:
            kw[arg] = _opt(first[arg])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if first["fn"] == "itt":
            res = fx.itt(_data(), "y", "z", method=str(first["method"]), **kw)  # type: ignore[arg-type]
            term = "z"
        elif first["fn"] == "cace":
            res = fx.cace(_data(), "y", "d", "z", **kw)  # type: ignore[arg-type]
            term = "d"
        else:
            res = fx.did(_panel(), outcome="y", unit="unit", time="year", treatment="treat", **kw)  # type: ignore[arg-type]
            term = "treat"
    want = rows[rows["term"] == term].iloc[0]
    return res, [w for w in caught if issubclass(w.category, CollinearWarning)], want


@pytest.mark.parametrize(("case", "se_type"), _cases())
def test_effect_equals_estimatr_with_collinear_covariates(case: str, se_type: str) -> None:
    res, collinear, want = _run(case, se_type)
    near = case == "ols_near"
    se_rtol = NEAR_SE_RTOL["z"] if near else RTOL
    np.testing.assert_allclose(res.estimate, float(want["estimate"]), rtol=RTOL)
    np.testing.assert_allclose(res.std_error, float(want["std_error"]), rtol=se_rtol)
    if not _near_cr2_df(case, se_type, np.array([res.df])):
        np.testing.assert_allclose(res.df, float(want["df"]), rtol=RTOL)
        np.testing.assert_allclose(res.ci_low, float(want["ci_low"]), rtol=se_rtol)
        np.testing.assert_allclose(res.ci_high, float(want["ci_high"]), rtol=se_rtol)
    r = _ref()
    dropped = r[(r["case"] == case) & (r["se_type"] == se_type) & r["estimate"].isna()]
    # one warning when estimatr reports NA somewhere, none for the full-rank near-duplicate
    assert len(collinear) == (1 if len(dropped) else 0), [str(w.message) for w in collinear]


def _design(case: str) -> tuple[np.ndarray, list[str]]:
    d = _data()
    covs = {"ols_x_x2": ["x", "x2"], "ols_x2_x": ["x2", "x"], "ols_copy": ["x", "x3"],
            "ols_const": ["c", "x"], "ols_near": ["x", "xn"], "ols_x_x2_w": ["x", "x2"]}[case]  # fmt: skip
    names = ["(Intercept)", "z", *covs]
    X = np.column_stack(
        [np.ones(len(d)), d["z"].to_numpy(float), *(d[c].to_numpy(float) for c in covs)]
    )
    return X, names


@pytest.mark.parametrize(
    "case", ["ols_x_x2", "ols_x2_x", "ols_copy", "ols_const", "ols_near", "ols_x_x2_w"]
)
@pytest.mark.parametrize("se_type", ["HC0", "HC1", "HC2", "HC3", "CR0", "CR2", "stata"])
def test_every_coefficient_row_like_estimatr_tidy(case: str, se_type: str) -> None:
    """fit_ols reports estimatr's NA rows as NaN (estimate, SE, df) and the rest equal."""
    d = _data()
    X, names = _design(case)
    clustered = se_type in ("CR0", "CR2") or se_type == "stata"
    r = _ref()
    want = r[(r["case"] == case) & (r["se_type"] == se_type)]
    want = want[(want["clusters"] != "") == clustered] if se_type == "stata" else want
    codes, _ = pd.factorize(d["cl"])
    cl = GroupIndex(codes=codes.astype(np.int64), n_groups=int(codes.max()) + 1,
                    counts=np.bincount(codes).astype(np.int64))  # fmt: skip
    w = d["w"].to_numpy(float) if case.endswith("_w") else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CollinearWarning)
        fit = fit_ols(X, d["y"].to_numpy(float), names=names, se_type=se_type, weights=w,
                      clusters=cl if clustered else None)  # fmt: skip
    want = want.set_index("term").loc[names]
    for col, ours in (("estimate", fit.coef), ("std_error", fit.std_error), ("df", fit.df)):
        theirs = want[col].to_numpy(float)
        if col == "df" and _near_cr2_df(case, se_type, ours):
            continue
        assert np.array_equal(np.isnan(ours), np.isnan(theirs)), (col, ours, theirs)
        ok = ~np.isnan(theirs)
        rtol = NEAR_SE_RTOL["row"] if case == "ols_near" and col == "std_error" else RTOL
        np.testing.assert_allclose(ours[ok], theirs[ok], rtol=rtol)
    assert set(fit.dropped) == set(want.index[want["estimate"].isna()])
