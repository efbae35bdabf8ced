"""Row order never changes a result: every randomised procedure, with its input rows shuffled.

Draws are keyed to unit and cluster ids (and, for balance without a design, to covariate
values), never to row positions. Each property shuffles the rows with a hypothesis-chosen
permutation and requires the same p-values (exactly) and statistics (to rounding).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

import fieldexp as fx
from fieldexp.design import Design


def experiment(seed: int, scheme: str, n_blocks: int = 2, per_block: int = 40):
    """Households of 1-3 voters in blocks; assignment drawn until every block has both arms
    with at least 4 households each (so every estimator is defined)."""
    rng = np.random.default_rng(seed)
    n = n_blocks * per_block
    hh = np.cumsum(rng.integers(0, 2, n) | (np.arange(n) % 3 == 0)) + 1000
    df = pd.DataFrame({"v": rng.permutation(n) * 3 + 7, "h": hh, "b": np.arange(n) // per_block})
    # households must be nested in blocks
    df["h"] = df["h"] + 10_000 * df["b"]
    df["age"] = rng.integers(20, 80, n)  # ties on purpose
    df["band"] = rng.choice(["rare", "intermittent", "regular"], n)
    df["x"] = rng.normal(size=n)
    design = Design("v", blocks="b", clusters="h", scheme=scheme)
    for k in range(100):
        z = design.assign(df, seed=seed + 1000 * k)
        per = z.drop_duplicates("h").groupby("b")["arm"]
        if per.agg(lambda s: min(int(s.sum()), int((1 - s).sum()))).min() >= 4:
            break
    df = df.merge(z[["v", "arm"]], on="v")
    df["contact"] = (df["arm"] * (rng.random(n) < 0.7)).astype(int)
    df["y"] = rng.normal(size=n) + 0.4 * df["contact"] + 0.2 * df["x"]
    return df, design


def shuffled(df: pd.DataFrame, perm_seed: int) -> pd.DataFrame:
    return df.iloc[np.random.default_rng(perm_seed).permutation(len(df))]


cases = st.tuples(
    st.integers(0, 10_000), st.sampled_from(["complete", "simple"]), st.integers(0, 10_000)
)


@settings(max_examples=15, deadline=None)
@given(cases, st.sampled_from(["dense", "grouped"]), st.booleans())
def test_randomization_inference(case, engine, studentize):
    seed, scheme, perm = case
    df, design = experiment(seed, scheme)
    kw = dict(reps=300, seed=seed, engine=engine, studentize=studentize, covariates=["x"])
    a = fx.randomization_inference(df, "y", "arm", design, **kw)
    b = fx.randomization_inference(shuffled(df, perm), "y", "arm", design, **kw)
    assert not a.exact
    assert a.p_value == b.p_value
    assert math.isclose(a.statistic, b.statistic, rel_tol=1e-10, abs_tol=1e-12)
    np.testing.assert_allclose(a.draws, b.draws, rtol=1e-9, atol=1e-12)
    assert a.draw_key == b.draw_key


@settings(max_examples=15, deadline=None)
@given(cases, st.booleans())
def test_balance(case, with_design):
    seed, scheme, perm = case
    df, design = experiment(seed, scheme)
    kw = dict(reps=300, seed=seed, design=design if with_design else None)
    if not with_design:
        kw.update(blocks="b")
        df = df.drop(columns="h")
    a = fx.balance(df, "arm", ["age", "band", "x"], **kw)
    b = fx.balance(shuffled(df, perm), "arm", ["age", "band", "x"], **kw)
    assert a.omnibus[0].p_value == b.omnibus[0].p_value
    assert not a.omnibus[0].exact
    assert math.isclose(a.omnibus[0].f_statistic, b.omnibus[0].f_statistic, rel_tol=1e-10)
    pd.testing.assert_frame_equal(a.to_frame(), b.to_frame(), rtol=1e-10)


def test_balance_without_design_was_row_order_dependent_before():
    # the regression the property guards: with units keyed by row position the p-value moved
    df, _ = experiment(3, "complete")
    df = df.drop(columns="h")
    ps = {
        fx.balance(shuffled(df, k), "arm", ["age", "x"], blocks="b", reps=200, seed=1)
        .omnibus[0]
        .p_value
        for k in range(6)
    }
    assert len(ps) == 1


@settings(max_examples=8, deadline=None)
@given(cases, st.sampled_from(["itt", "cace"]))
def test_heterogeneity(case, estimator):
    seed, scheme, perm = case
    df, design = experiment(seed, scheme, n_blocks=2, per_block=90)
    kw = dict(
        estimator=estimator,
        treatment="contact" if estimator == "cace" else None,
        design=design,
        reps=200,
        seed=seed,
    )
    a = fx.heterogeneity(df, "y", "arm", "band", **kw)
    b = fx.heterogeneity(shuffled(df, perm), "y", "arm", "band", **kw)
    assert (a.ri_p_value == b.ri_p_value) or (math.isnan(a.ri_p_value) and math.isnan(b.ri_p_value))
    assert math.isclose(a.wald_p_value, b.wald_p_value, rel_tol=1e-9)
    np.testing.assert_allclose(
        [e.estimate for e in a.effects], [e.estimate for e in b.effects], rtol=1e-10
    )


@settings(max_examples=20, deadline=None)
@given(cases)
def test_assign(case):
    seed, scheme, perm = case
    df, _ = experiment(seed, scheme)
    design = Design("v", blocks="b", clusters="h", arms={0: 0.6, 1: 0.4}, scheme=scheme)
    a = design.assign(df, seed=seed)
    b = design.assign(shuffled(df, perm), seed=seed)
    pd.testing.assert_frame_equal(a, b)


@settings(max_examples=5, deadline=None)
@given(cases)
def test_diagnose(case):
    seed, scheme, perm = case
    df, design = experiment(seed, scheme)
    pop = df[["v", "h", "b", "x"]].assign(y0=df["x"], y1=df["x"] + 0.3)
    a = fx.diagnose(lambda s: pop, design, sims=4, seed=seed)
    b = fx.diagnose(lambda s: shuffled(pop, perm + s), design, sims=4, seed=seed)
    cols = ["estimate", "std_error", "p_value", "ci_low", "ci_high", "n_assigned"]
    pd.testing.assert_frame_equal(a.simulations[cols], b.simulations[cols], rtol=1e-10)
