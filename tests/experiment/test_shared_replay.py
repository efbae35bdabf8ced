"""One design replay shared by every randomisation consumer of a report (ri_replay.shared_replays).

Inside :func:`shared_replays` the replay of a design on the same units is prepared once and
handed to randomisation inference, the heterogeneity test and the balance omnibus test. The
results must be exactly those of separate preparations (same draws, same p-values, same
draw keys), whatever the order of the rows, and the memo must never hand a replay prepared
on other data (another assignment, other units, shuffled rows).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import fieldexp as fx
from fieldexp.design import Design
from fieldexp.design.replay import ReplayPlan, block_types, replay_draws
from fieldexp.experiment import ri_replay
from fieldexp.experiment.ri_replay import prepare_replay, shared_replays


def experiment(seed: int = 0, n: int = 240, n_blocks: int = 3) -> tuple[pd.DataFrame, Design]:
    """Households of 1-3 voters nested in blocks, a binary outcome and three subgroups."""
    rng = np.random.default_rng(seed)
    hh = np.cumsum(rng.integers(0, 2, n) | (np.arange(n) % 3 == 0)) + 1000
    b = np.arange(n) * n_blocks // n
    df = pd.DataFrame({"v": rng.permutation(n) * 3 + 7, "h": hh + 10_000 * b, "b": b})
    df["band"] = rng.choice(["rare", "intermittent", "regular"], n)
    df["x"] = rng.normal(size=n)
    df["x2"] = rng.integers(0, 2, n)
    design = Design("v", blocks="b", clusters="h")
    z = design.assign(df, seed=seed + 11)
    df = df.merge(z[["v", "arm"]], on="v")
    df["contact"] = (df["arm"] * (rng.random(n) < 0.7)).astype(int)
    df["y"] = (rng.random(n) < 0.3 + 0.2 * df["contact"]).astype(int)
    df["arm_text"] = df["arm"].astype(str)
    return df, design


def consumers(df: pd.DataFrame, design: Design) -> list[tuple[object, ...]]:
    """Everything a report's randomisation consumers return that depends on the draws."""
    out: list[tuple[object, ...]] = []
    for engine in ("dense", "auto"):
        for est in ("ITT", "CACE"):
            r = fx.randomization_inference(
                df,
                "y",
                "arm",
                design,
                estimand=est,
                treatment="contact" if est == "CACE" else None,
                reps=300,
                seed=5,
                engine=engine,
            )
            out.append((r.p_value, r.statistic, r.engine, r.draw_key, r.draws.tobytes()))
    h = fx.heterogeneity(df, "y", "arm", "band", design=design, reps=300, seed=5)
    out.append((h.ri_p_value, h.ri_statistic, h.ri_exact, h.wald.statistic))
    bal = fx.balance(df, "arm_text", ["x", "x2"], design=design, reps=300, seed=5)
    out.extend((o.p_value, o.statistic, o.method) for o in bal.omnibus)
    return out


def count_preparations(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls = [0]
    real = ri_replay._prepare_replay

    def counting(*args: object, **kwargs: object) -> object:
        calls[0] += 1
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(ri_replay, "_prepare_replay", counting)
    return calls


def test_shared_replay_gives_the_draws_of_separate_replays(monkeypatch):
    df, design = experiment()
    calls = count_preparations(monkeypatch)
    separate = consumers(df, design)
    n_separate = calls[0]
    calls[0] = 0
    with shared_replays():
        shared = consumers(df, design)
    assert shared == separate  # bit for bit: draws, p-values, statistics, draw keys
    # 4 RI calls, heterogeneity and balance on one design and one assignment: one preparation
    # (heterogeneity reads the same 0/1 arms through another frame, balance as text labels)
    assert n_separate == 6
    assert calls[0] == 1
    assert ri_replay._SHARED is None  # dropped when the block ends


def test_shared_replay_results_do_not_depend_on_row_order(monkeypatch):
    df, design = experiment(seed=3)
    base = consumers(df, design)
    perm = np.random.default_rng(9).permutation(len(df))
    shuffled = df.iloc[perm]
    shuffled_reindexed = shuffled.reset_index(drop=True)
    calls = count_preparations(monkeypatch)
    with shared_replays():
        first = consumers(df, design)
        again = consumers(shuffled, design)
        third = consumers(shuffled_reindexed, design)
    # shuffled rows are other content for the memo (row -> cluster maps differ): prepared anew
    assert calls[0] == 2
    assert first == base
    assert again == third
    for a, b in zip(base, again, strict=True):
        assert a[0] == b[0]  # p-values exactly
        for x, y in zip(a[1:], b[1:], strict=True):
            if isinstance(x, bytes):  # draws: the same assignments, statistics to rounding
                np.testing.assert_allclose(
                    np.frombuffer(x), np.frombuffer(y), rtol=1e-12, atol=1e-15
                )
            elif isinstance(x, float):
                assert x == pytest.approx(y, rel=1e-12, abs=1e-15)
            else:
                assert x == y


def test_memo_never_hands_a_replay_prepared_on_other_data():
    df, design = experiment(seed=1)
    other = df.copy()
    # another valid assignment of the same design on the same units
    z = design.assign(df.drop(columns="arm"), seed=99)
    other["arm"] = other["v"].map(z.set_index("v")["arm"])
    assert not other["arm"].equals(df["arm"])
    fewer = df[df["b"] != 2]  # other units (one block left out)
    with shared_replays():
        s1, _ = prepare_replay(df, "arm", design, arm=None, function="t")
        s2, _ = prepare_replay(other, "arm", design, arm=None, function="t")
        s3, _ = prepare_replay(fewer, "arm", design, arm=None, function="t")
        s1b, _ = prepare_replay(df.copy(), "arm", design, arm=None, function="t")
    assert s1b is s1
    for s, data in ((s2, other), (s3, fewer)):
        fresh, _ = prepare_replay(data, "arm", design, arm=None, function="t")
        assert s is not s1
        np.testing.assert_array_equal(s.z_cluster, fresh.z_cluster)
        np.testing.assert_array_equal(s.row_cluster, fresh.row_cluster)
        np.testing.assert_array_equal(s.plan.block_starts, fresh.plan.block_starts)
        assert (s.plan.block_keys, s.plan.support) == (fresh.plan.block_keys, fresh.plan.support)
    assert not np.array_equal(s2.z_cluster, s1.z_cluster)
    assert s3.plan.n_blocks == 2
    # shared arrays are read-only: no consumer can change what the others see
    with pytest.raises(ValueError):
        s1.z_cluster[0] = 1.0


def test_shared_replay_keeps_the_errors_of_separate_preparations():
    df, design = experiment(seed=2)
    bad = df.assign(arm=df["arm"].replace({1: 7}))
    with shared_replays(), pytest.raises(fx.errors.DataError, match="not arms of the design"):
        prepare_replay(bad, "arm", design, arm=None, function="t")
    with pytest.raises(fx.errors.DataError, match="not arms of the design"):
        prepare_replay(bad, "arm", design, arm=None, function="t")


def test_block_types_computed_once_give_the_same_grouped_draws():
    rng = np.random.default_rng(4)
    V = rng.integers(0, 3, size=(40, 3)).astype(float)
    plan = ReplayPlan(
        block_starts=np.array([0, 15, 40]),
        block_keys=("s:a", "s:b"),
        support=(((7, fx_fraction(1, 2)), (8, fx_fraction(1, 2))), ((12, fx_fraction(1, 1)),)),
    )

    def reducer(b: int, S1: np.ndarray, T: np.ndarray) -> np.ndarray:
        return S1

    plain = replay_draws(plan, V, reducer, 3, reps=500, seed=8, engine="grouped")
    given = replay_draws(
        plan, V, reducer, 3, reps=500, seed=8, engine="grouped", types=block_types(plan, V)
    )
    np.testing.assert_array_equal(plain, given)


def fx_fraction(a: int, b: int) -> object:
    from fractions import Fraction

    return Fraction(a, b)


@pytest.mark.parametrize("kind", ["int", "str", "object", "category", "float"])
def test_replay_key_follows_content_not_layout(kind):
    df, design = experiment(seed=4)
    conv = {
        "int": lambda s: s,
        "str": lambda s: s.astype(str).astype("string[pyarrow]"),
        "object": lambda s: s.astype(str).astype(object),
        "category": lambda s: s.astype(str).astype("category"),
        "float": lambda s: s.astype(float),
    }[kind]
    df = df.assign(v=conv(df["v"]), h=conv(df["h"]), b=conv(df["b"]))
    codes = ri_replay._arm_codes(df["arm"], design, function="t")
    key = ri_replay.replay_key(df, codes, design, arm=None, full=False)
    # the same values through another layout: a sliced/filtered copy, a concatenation
    half = len(df) // 2
    rebuilt = pd.concat([df.iloc[:half], df.iloc[half:]]).reset_index(drop=True)
    filtered = df.assign(extra=1).loc[np.ones(len(df), dtype=bool)]
    for same in (rebuilt, filtered, df.copy()):
        assert ri_replay.replay_key(same, codes, design, arm=None, full=False) == key
    # one id changed, two rows swapped, another arm: other keys
    changed = df.copy()
    changed.loc[changed.index[3], "h"] = changed["h"].iloc[4]
    swapped = df.iloc[[1, 0, *range(2, len(df))]]
    assert ri_replay.replay_key(changed, codes, design, arm=None, full=False) != key
    order = [1, 0, *range(2, len(df))]
    assert ri_replay.replay_key(swapped, codes[order], design, arm=None, full=False) != key
    assert ri_replay.replay_key(df, 1 - codes, design, arm=None, full=False) != key
    assert ri_replay.replay_key(df, codes, design, arm=1, full=False) == key
