"""balance: table, omnibus F against OLS, exact randomisation p by brute force, properties."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fieldexp as fx
from fieldexp.design import Design
from fieldexp.errors import ColumnNotFoundError, SpecificationError


def frame(seed=0, n_blocks=3, per_block=30, hh=2):
    rng = np.random.default_rng(seed)
    n = n_blocks * per_block
    df = pd.DataFrame(
        {
            "v": np.arange(n) + 10,
            "h": np.arange(n) // hh,
            "b": np.arange(n) // per_block,
            "age": rng.normal(45, 15, n).round(),
            "past": rng.integers(0, 2, n),
            "band": rng.choice(["rare", "sometimes", "often"], n),
        }
    )
    design = Design("v", blocks="b", clusters="h")
    df = df.merge(design.assign(df, seed=seed)[["v", "arm"]], on="v")
    return df, design


def ols_f(z, X, blocks):
    """Classical F of z on X with block fixed effects (numpy, independent of the kernel)."""
    D = pd.get_dummies(pd.Series(blocks)).to_numpy(float)
    full = np.column_stack([D, X])
    r_full = z - full @ np.linalg.lstsq(full, z, rcond=None)[0]
    r_restricted = z - D @ np.linalg.lstsq(D, z, rcond=None)[0]
    q = np.linalg.matrix_rank(full) - np.linalg.matrix_rank(D)
    df2 = len(z) - np.linalg.matrix_rank(full)
    return ((r_restricted @ r_restricted - r_full @ r_full) / q) / ((r_full @ r_full) / df2)


def test_table_and_observed_f():
    df, design = frame()
    res = fx.balance(df, "arm", ["age", "past"], design=design, reps=200, seed=1)
    t = res.to_frame()
    assert list(t.columns) == ["covariate", "mean_0", "mean_1", "diff_1", "std_diff_1", "p_value_1"]
    age1 = df.loc[df["arm"] == 1, "age"]
    age0 = df.loc[df["arm"] == 0, "age"]
    row = t.set_index("covariate").loc["age"]
    assert row["mean_1"] == pytest.approx(age1.mean())
    assert row["std_diff_1"] == pytest.approx(
        (age1.mean() - age0.mean()) / math.sqrt((age1.var() + age0.var()) / 2)
    )
    expected_p = fx.itt(df, "age", "arm", blocks="b", clusters="h", method="dim").p_value
    assert row["p_value_1"] == pytest.approx(expected_p)
    omni = res.omnibus[0]
    assert omni.f_statistic == pytest.approx(
        ols_f(df["arm"].to_numpy(float), df[["age", "past"]].to_numpy(float), df["b"])
    )
    assert omni.df1 == 2 and omni.df2 == len(df) - 3 - 2
    assert 0 <= omni.p_value <= 1
    assert "Omnibus" in str(res) and "<table" in res._repr_html_()


def test_omnibus_p_equals_enumeration():
    df, design = frame(seed=4, n_blocks=2, per_block=10, hh=2)  # 5 households per block: C(5,2|3)
    res = fx.balance(df, "arm", ["age", "past"], design=design, reps=10_000, seed=1)
    omni = res.omnibus[0]
    assert omni.exact
    X = df[["age", "past"]].to_numpy(float)
    f_obs = ols_f(df["arm"].to_numpy(float), X, df["b"])
    households = [sorted(g["h"].unique()) for _, g in df.groupby("b")]
    values, weights = [], []
    options = []
    for hs in households:  # 5 households, p = 1/2: 2 or 3 treated with probability 1/2 each
        opts = []
        for m in (2, 3):
            for c in itertools.combinations(hs, m):
                opts.append((set(c), 0.5 / math.comb(5, m)))
        options.append(opts)
    for combo in itertools.product(*options):
        treated = set().union(*[c[0] for c in combo])
        z = df["h"].isin(treated).to_numpy(float)
        values.append(ols_f(z, X, df["b"]))
        weights.append(math.prod(c[1] for c in combo))
    values, weights = np.array(values), np.array(weights)
    expected = weights[values >= f_obs - 1e-9 * (1 + f_obs)].sum() / weights.sum()
    assert omni.reps == len(values)
    assert omni.p_value == pytest.approx(expected, abs=1e-12)


def test_without_design_holds_counts_fixed_and_assignment_frame():
    df, design = frame(seed=2)
    res = fx.balance(df, "arm", "age", blocks="b", clusters="h", reps=300, seed=3)
    assert res.omnibus[0].p_value >= 0
    assigned = design.assign(df.drop(columns="arm"), seed=2)
    res2 = fx.balance(
        df.drop(columns="arm"), assigned, ["age", "band"], design=design, reps=100, seed=3
    )
    assert {"band=rare", "band=often", "band=sometimes"} <= set(res2.table["covariate"])


def test_bad_inputs():
    df, design = frame()
    with pytest.raises(SpecificationError, match="'seed' parameter of balance is required"):
        fx.balance(df, "arm", ["age"], design=design)
    with pytest.raises(ColumnNotFoundError, match=r"column 'agee' .* Did you mean 'age'"):
        fx.balance(df, "arm", ["agee"], design=design, reps=0)
    with pytest.raises(SpecificationError, match="contradicts the design"):
        fx.balance(df, "arm", ["age"], design=design, blocks="h", reps=0)
    assert fx.balance(df, "arm", ["age"], design=design, reps=0).omnibus == ()


@st.composite
def balance_cases(draw):
    n_blocks = draw(st.integers(1, 3))
    sizes = [draw(st.integers(6, 16)) for _ in range(n_blocks)]
    rows = []
    vid = 0
    for b, n in enumerate(sizes):
        for i in range(n):
            rows.append((vid, b * 100 + i // 2, b))
            vid += 1
    df = pd.DataFrame(rows, columns=["v", "h", "b"])
    xs = draw(
        st.lists(st.floats(-50, 50, allow_nan=False, width=32), min_size=len(df), max_size=len(df))
    )
    df["x"] = np.round(np.array(xs, dtype=float), 3)
    df["x2"] = np.arange(len(df)) % 3
    p = draw(st.sampled_from([0.5, 1 / 3, 0.25]))
    design = Design("v", blocks="b", clusters="h", arms={0: 1 - p, 1: p})
    df = df.merge(design.assign(df, seed=draw(st.integers(0, 1000)))[["v", "arm"]], on="v")
    return df, design, draw(st.randoms())


@settings(max_examples=25, deadline=None)
@given(balance_cases())
def test_balance_properties(case):
    df, design, rnd = case
    base = fx.balance(df, "arm", ["x", "x2"], design=design, reps=200, seed=7, engine="dense")
    t = base.to_frame()
    assert np.all((t["p_value_1"].isna()) | t["p_value_1"].between(0, 1))
    # an arm with no unit in the data (hypothesis draws such cases) has no difference at all
    assert np.all(t["std_diff_1"].isna() | t["diff_1"].notna())
    known = t["diff_1"].notna()
    assert np.all(
        np.sign(t["diff_1"][known])
        == np.sign(t["std_diff_1"][known]).where(
            t["std_diff_1"][known].notna(), np.sign(t["diff_1"][known])
        )
    )
    if base.omnibus:
        o = base.omnibus[0]
        assert 0 <= o.p_value <= 1 and o.f_statistic >= -1e-9
    # invariant to row order and to affine changes of a covariate
    perm = list(range(len(df)))
    rnd.shuffle(perm)
    shuffled = df.iloc[perm].assign(x=lambda d: 3 * d["x"] - 7)
    other = fx.balance(
        shuffled, "arm", ["x", "x2"], design=design, reps=200, seed=7, engine="dense"
    )
    if base.omnibus:
        assert other.omnibus[0].f_statistic == pytest.approx(
            base.omnibus[0].f_statistic, rel=1e-6, abs=1e-9
        )
        assert other.omnibus[0].p_value == pytest.approx(base.omnibus[0].p_value, abs=1e-12)
    assert other.to_frame()["std_diff_1"].to_numpy() == pytest.approx(
        t["std_diff_1"].to_numpy(), rel=1e-6, nan_ok=True
    )
