"""Collinear regressors on an engine table: the columns the DataFrame route drops (as R
estimatr), decided from the cross-products the engine pulls, the same warning, the same
numbers at rtol 1e-9 and the same refusals (tests/stats/test_collinear_cases.py on DuckDB)."""

from __future__ import annotations

import re
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import fieldexp as fx
from fieldexp.errors import CollinearWarning, EstimationError
from fieldexp.stats.collinear import gram_ranked

from .conftest import RTOL, assert_same, to_engine

REF = Path(__file__).resolve().parents[1] / "reference"
DROPPED = re.compile(r"dropped collinear regressor\(s\): (.*?)\. estimatr")


@pytest.fixture(scope="module")
def d() -> pd.DataFrame:
    df = pd.read_csv(REF / "collinear_data.csv")
    # clusters assigned whole and nested in blocks (the engine checks both)
    return df.assign(cz=df["blk"] + "_" + df["z"].astype(str))


def _dropped_names(w: list[warnings.WarningMessage]) -> list[str]:
    """The dropped names of the one CollinearWarning."""
    got = [x for x in w if issubclass(x.category, CollinearWarning)]
    assert len(got) == 1, [str(x.message) for x in w]
    m = DROPPED.search(str(got[0].message))
    assert m is not None
    return re.findall(r"(?:^|; )'([^']+)' \(", m.group(1))


def _both(df: pd.DataFrame, call: str, **kw: Any) -> tuple[Any, Any, list[str]]:
    """The DataFrame and DuckDB results and the dropped names (equal on both routes)."""
    f = getattr(fx, call)
    args = ("y", "z") if call == "itt" else ("y", "d", "z")
    with warnings.catch_warnings(record=True) as wa:
        warnings.simplefilter("always")
        a = f(df, *args, **kw)
    with warnings.catch_warnings(record=True) as wb:
        warnings.simplefilter("always")
        b = f(to_engine(df, "ibis-duckdb"), *args, **kw)
    da, db = _dropped_names(wa), _dropped_names(wb)
    assert da == db
    # the same words too: the block column is named as the DataFrame route names it
    assert _collinear_texts(wa) == _collinear_texts(wb)
    return a, b, da


def _collinear_texts(w: list[warnings.WarningMessage]) -> list[str]:
    return [str(x.message) for x in w if issubclass(x.category, CollinearWarning)]


@pytest.mark.parametrize("order", [["x", "x2"], ["x2", "x"]])
@pytest.mark.parametrize("se_type", ["HC1", "HC2", "stata"])
def test_multiple_both_orders(d: pd.DataFrame, order: list[str], se_type: str) -> None:
    kw: dict[str, Any] = {"covariates": order, "method": "ols", "se_type": se_type}
    if se_type == "stata":
        kw["clusters"] = "cz"
    a, b, dropped = _both(d, "itt", **kw)
    assert dropped == ["x"]  # the larger norm (2x) is kept in either order
    assert assert_same(a, b) < RTOL


@pytest.mark.parametrize("cov", ["ind", "bc", "c"])
@pytest.mark.parametrize("se_type", ["HC0", "HC2", "HC3", "stata"])
def test_block_level_covariate(d: pd.DataFrame, cov: str, se_type: str) -> None:
    """A block indicator, a within-block constant, a constant: absorbed by the blocks."""
    kw: dict[str, Any] = {"covariates": ["x", cov], "blocks": "blk", "method": "ols"}
    kw["se_type"] = se_type
    if se_type == "stata":
        kw["clusters"] = "cz"
    a, b, dropped = _both(d, "itt", **kw)
    assert dropped == [cov]
    assert assert_same(a, b) < RTOL
    assert_same(b, fx.itt(d, "y", "z", **{**kw, "covariates": ["x"]}))


def test_constant_covariate_replaces_the_intercept(d: pd.DataFrame) -> None:
    """Unblocked, a constant 3 has the larger norm: estimatr keeps it and drops the intercept."""
    a, b, dropped = _both(d, "itt", covariates=["c"], method="ols")
    assert dropped == ["(Intercept)"]
    assert assert_same(a, b) < RTOL


def test_exact_combination_eigen_misses(repo_root: Path) -> None:
    df = pd.read_csv(repo_root / "fixtures" / "experiment_small.csv")
    df = df.assign(total=df.voted_2016 + df.voted_2018 - 2 * df.voted_2020)
    covs = ["voted_2016", "voted_2018", "voted_2020", "total"]
    for kw in ({}, {"blocks": "precinct_id"}):
        with pytest.warns(CollinearWarning, match=r"'voted_2020'"):
            a = fx.itt(df, "voted", "assigned", covariates=covs, method="ols", **kw)
        with pytest.warns(CollinearWarning, match=r"'voted_2020'"):
            b = fx.itt(to_engine(df, "ibis-duckdb"), "voted", "assigned", covariates=covs,
                       method="ols", **kw)  # fmt: skip
        assert assert_same(a, b) < RTOL


@pytest.mark.parametrize("se_type", ["HC1", "HC2", "stata"])
def test_cace_drops_like_the_dataframe(d: pd.DataFrame, se_type: str) -> None:
    for covs, blocks in ((["x", "x2"], None), (["x", "bc"], "blk"), (["x2", "x"], "blk")):
        kw: dict[str, Any] = {"covariates": covs, "blocks": blocks, "se_type": se_type}
        if se_type == "stata":
            kw["clusters"] = "cz"
        a, b, _ = _both(d, "cace", **kw)
        assert assert_same(a, b) < RTOL
        assert a.first_stage is not None and b.first_stage is not None
        np.testing.assert_allclose(b.first_stage.estimate, a.first_stage.estimate, rtol=RTOL)
        np.testing.assert_allclose(b.first_stage.std_error, a.first_stage.std_error, rtol=RTOL)


def test_shuffled_rows(d: pd.DataFrame) -> None:
    shuffled = d.sample(frac=1.0, random_state=3).reset_index(drop=True)
    kw: dict[str, Any] = {"covariates": ["x", "bc", "x2"], "blocks": "blk", "method": "ols"}
    a, b, dropped = _both(shuffled, "itt", **kw)
    assert sorted(dropped) == ["bc", "x"]
    assert assert_same(a, b) < RTOL
    _, c, _ = _both(d, "itt", **kw)
    assert assert_same(b, c) < RTOL


def _refusal(df: pd.DataFrame, call: str, **kw: Any) -> tuple[str, str]:
    f = getattr(fx, call)
    args = ("y", "z") if call == "itt" else ("y", "d", "z")
    msgs = []
    for src in (df, to_engine(df, "ibis-duckdb")):
        with pytest.raises(EstimationError) as info:
            f(src, *args, **kw)
        msgs.append(str(info.value))
    return msgs[0], msgs[1]


@pytest.mark.parametrize("blocks", [None, "blk"])
def test_covariate_duplicating_the_assignment_is_refused(d: pd.DataFrame, blocks: Any) -> None:
    for dup in (d["z"], 5 * d["z"], 1 - d["z"]):
        a, b = _refusal(d.assign(zz=dup), "itt", covariates=["x", "zz"], method="ols",
                        blocks=blocks)  # fmt: skip
        assert re.search(r"'z'.*not identified", b), b
        assert a == b


@pytest.mark.parametrize("blocks", [None, "blk"])
def test_collinear_instrument_or_treatment_is_refused(d: pd.DataFrame, blocks: Any) -> None:
    for dup in (d["z"], 2 * d["z"]):
        a, b = _refusal(d.assign(zz=dup), "cace", covariates=["x", "zz"], blocks=blocks)
        assert re.search(r"'z'.*not identified", b), b
        assert a == b
    a, b = _refusal(d.assign(dd=d["d"]), "cace", covariates=["x", "dd"], blocks=blocks)
    assert re.search(r"'d'.*not identified", b), b
    assert a == b


def test_nearly_collinear_covariate_is_refused_not_differently_fitted(d: pd.DataFrame) -> None:
    """``xn`` is ``x`` to 6 digits: ``x`` keeps 9.9e-7 of its norm, which estimatr keeps and
    fits from the rows (QR); the cross-products cannot reproduce that fit at 1e-9, so the
    engine refuses and says what to do."""
    kw: dict[str, Any] = {"covariates": ["x", "xn"], "method": "ols", "se_type": "HC2"}
    with warnings.catch_warnings():
        warnings.simplefilter("error", CollinearWarning)
        fx.itt(d, "y", "z", **kw)  # kept on a DataFrame
        with pytest.raises(EstimationError, match=r"nearly collinear.*pass a pandas DataFrame"):
            fx.itt(to_engine(d, "ibis-duckdb"), "y", "z", **kw)


def test_exact_copy_keeps_the_first(d: pd.DataFrame) -> None:
    a, b, dropped = _both(d, "itt", covariates=["x", "x3"], method="ols", blocks="blk")
    assert dropped == ["x3"]
    assert assert_same(a, b) < RTOL


def test_gram_ranked_refuses_what_it_cannot_decide() -> None:
    rng = np.random.default_rng(2)
    n = 300
    x = rng.normal(size=n)
    X = np.column_stack([np.ones(n), x, x + 1e-9 * rng.normal(size=n)])

    def residuals(picked: list[int], undecided: list[int]) -> np.ndarray:
        P = X[:, picked]
        out = []
        for u in undecided:
            b = np.linalg.lstsq(P, X[:, u], rcond=None)[0]
            out.append(np.linalg.norm(X[:, u] - P @ b))
        return np.array(out)

    with pytest.raises(EstimationError, match=r"nearly collinear.*pass a pandas DataFrame"):
        gram_ranked(X.T @ X, ["1", "x", "xe"], residuals, n=n)
    X[:, 2] = 2 * x
    r = gram_ranked(X.T @ X, ["1", "x", "x2"], residuals, n=n)
    assert r.dropped == (1,)
    # a diagonal-pivoted Cholesky makes the pivoted QR's picks (larger norm first)
    X[:, 2] = 0.5 * x
    assert gram_ranked(X.T @ X, ["1", "x", "xh"], residuals, n=n).dropped == (2,)


# --------------------------------------------------------------------------- DiD (TWFE)
def _did_both(p: pd.DataFrame, **kw: Any) -> tuple[Any, Any, list[str]]:
    out, dropped = [], []
    for src in (p, to_engine(p, "ibis-duckdb")):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            out.append(fx.did(src, outcome="y", unit="unit", time="year", treatment="treat",
                              **kw))  # fmt: skip
        dropped.append(_dropped_names(w))
        msgs = [str(x.message) for x in w if issubclass(x.category, CollinearWarning)]
        out.append(msgs[0])
    assert out[1] == out[3]  # the same warning text
    assert dropped[0] == dropped[1]
    return out[0], out[2], dropped[0]


@pytest.mark.parametrize("se_type", ["HC1", "HC2", "stata"])
@pytest.mark.parametrize("balanced", [True, False])
def test_did_time_invariant_covariate_and_multiple(se_type: str, balanced: bool) -> None:
    p = pd.read_csv(REF / "collinear_panel.csv").assign(x2=lambda q: 2 * q["x"])
    if not balanced:
        p = p.drop(index=[3, 17, 30]).reset_index(drop=True)
    kw: dict[str, Any] = {"se_type": se_type}
    if se_type == "stata":
        kw["clusters"] = "unit"
    for covs, gone in ((["x", "zc"], ["zc"]), (["x", "x2"], ["x"])):
        a, b, dropped = _did_both(p, covariates=covs, **kw)
        assert dropped == gone
        assert assert_same(a, b) < RTOL


def test_did_refusals_are_the_dataframe_ones() -> None:
    p = pd.read_csv(REF / "collinear_panel.csv")
    for q, kw in (
        (p.assign(tt=p["treat"]), {"covariates": ["tt"]}),
        (p.assign(treat=(p["year"] >= 2003).astype(int)), {}),
    ):
        msgs = []
        for src in (q, to_engine(q, "ibis-duckdb")):
            with pytest.raises(EstimationError, match=r"'treat'.*not identified") as info:
                fx.did(src, outcome="y", unit="unit", time="year", treatment="treat", **kw)
            msgs.append(str(info.value))
        assert msgs[0] == msgs[1]
