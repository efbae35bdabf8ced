"""Randomisation inference replaying a whole multi-arm design (multi_arm="full") = brute force.

Independent code: every assignment of every unit to one of the three arms that the design can
produce, with its probability (complete: the count vectors of the documented floor/ceiling rule,
each arrangement equally likely; simple: a product of per-unit probabilities), and the blocked
difference in means between the tested arm and the control, blocks weighted by their observed
share of units in those two arms.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest

import fieldexp as fx
from fieldexp.design import Design
from fieldexp.errors import SpecificationError

ARMS = ("c", "t", "o")


def frame(seed: int, scheme: str, sizes=(4, 5)) -> tuple[pd.DataFrame, Design]:
    rng = np.random.default_rng(seed)
    blocks = [b for i, n in enumerate(sizes) for b in [f"B{i}"] * n]
    df = pd.DataFrame({"v": range(len(blocks)), "b": blocks, "y": rng.normal(size=len(blocks))})
    design = Design("v", blocks="b", arms={"c": 0.4, "t": 0.3, "o": 0.3}, scheme=scheme)
    for k in range(200):
        z = design.assign(df, seed=seed * 1000 + k)
        ok = all({"c", "t"} <= set(g["arm"]) for _, g in z.merge(df[["v"]], on="v").groupby("b"))
        if ok:
            break
    df = df.merge(z[["v", "arm"]], on="v")
    df["y"] = df["y"] + 0.9 * (df["arm"] == "t")
    return df, design


def complete_counts(n: int) -> list[tuple[dict[str, int], float]]:
    """Count vectors for p = (0.4, 0.3, 0.3) by the documented rule: floors of n p_k, and arm k
    gets one of the leftover units when an integer j has C_{k-1} <= u + j < C_k (C the
    cumulative fractional parts, u uniform). The law of u is integrated on a fine grid, so the
    probabilities are exact to about 1e-5."""
    exact = {"c": 0.4 * n, "t": 0.3 * n, "o": 0.3 * n}
    floors = {a: math.floor(x + 1e-12) for a, x in exact.items()}
    cum = np.cumsum([exact[a] - floors[a] for a in ARMS])
    u = (np.arange(100_000) + 0.5) / 100_000
    prev = np.zeros_like(u)
    extra = []
    for k in range(len(ARMS)):
        cur = np.ceil(cum[k] - u - 1e-12)
        extra.append(cur - prev)
        prev = cur
    keys, freq = np.unique(np.array(extra).T.astype(int), axis=0, return_counts=True)
    return [
        ({a: floors[a] + int(e) for a, e in zip(ARMS, key, strict=True)}, f / len(u))
        for key, f in zip(keys, freq, strict=True)
    ]


def assignments(df: pd.DataFrame, scheme: str):
    """Yield (labels per unit, probability) over the whole design."""
    per_block = []
    for _, g in df.groupby("b", sort=True):
        idx = list(g.index)
        options = []
        if scheme == "simple":
            probs = {"c": 0.4, "t": 0.3, "o": 0.3}
            for labels in itertools.product(ARMS, repeat=len(idx)):
                options.append(
                    (dict(zip(idx, labels, strict=True)), math.prod(probs[x] for x in labels))
                )
        else:
            for counts, p in complete_counts(len(idx)):
                arrangements = set(
                    itertools.permutations([a for a in ARMS for _ in range(counts[a])])
                )
                for labels in arrangements:
                    options.append((dict(zip(idx, labels, strict=True)), p / len(arrangements)))
        per_block.append(options)
    for combo in itertools.product(*per_block):
        labels: dict[int, str] = {}
        for part, _ in combo:
            labels.update(part)
        yield labels, math.prod(p for _, p in combo)


def dim(y: np.ndarray, blocks: np.ndarray, labels: np.ndarray, weights: dict[str, float]) -> float:
    total = 0.0
    for b, w in weights.items():
        m = blocks == b
        yt = y[m & (labels == "t")]
        yc = y[m & (labels == "c")]
        if len(yt) == 0 or len(yc) == 0:
            return math.nan
        total += w * (yt.mean() - yc.mean())
    return total


@pytest.mark.parametrize("scheme", ["complete", "simple"])
@pytest.mark.parametrize("seed", [0, 1])
def test_full_replay_equals_brute_force(scheme, seed):
    sizes = (4, 5) if scheme == "complete" else (3, 4)
    df, design = frame(seed, scheme, sizes)
    pair = df[df["arm"].isin(["t", "c"])]
    weights = (pair.groupby("b").size() / len(pair)).to_dict()
    y, blocks = df["y"].to_numpy(), df["b"].to_numpy()
    observed = dim(y, blocks, df["arm"].to_numpy(dtype=object), weights)
    values, probs = [], []
    for labels, p in assignments(df, scheme):
        lab = np.array([labels[i] for i in df.index], dtype=object)
        values.append(dim(y, blocks, lab, weights))
        probs.append(p)
    values, probs = np.array(values), np.array(probs)
    assert probs.sum() == pytest.approx(1.0, abs=1e-4 if scheme == "complete" else 1e-12)
    ok = np.isfinite(values)
    hit = np.abs(values) >= abs(observed) - 1e-9 * (1 + abs(observed))
    expected = probs[ok & hit].sum() / probs[ok].sum()
    res = fx.randomization_inference(
        df, "y", "arm", design, arm="t", reps=100_000, seed=1, multi_arm="full"
    )
    assert res.exact and res.reps == len(values)
    assert res.statistic == pytest.approx(observed, rel=1e-12)
    assert res.nobs == len(pair)
    tol = 1e-4 if scheme == "complete" else 1e-12  # the grid integration of the count law
    assert res.p_value == pytest.approx(expected, abs=tol)
    conditional = fx.randomization_inference(df, "y", "arm", design, arm="t", reps=100_000, seed=1)
    assert conditional.statistic == pytest.approx(res.statistic, rel=1e-12)
    assert conditional.reps < res.reps  # the conditional test replays far fewer assignments


def test_full_replay_monte_carlo_agrees_with_exact_and_is_reproducible():
    df, design = frame(3, "complete", sizes=(5, 5))
    exact = fx.randomization_inference(
        df, "y", "arm", design, arm="t", reps=100_000, seed=1, multi_arm="full"
    )
    mc = fx.randomization_inference(
        df, "y", "arm", design, arm="t", reps=4000, seed=7, multi_arm="full", engine="dense"
    )
    again = fx.randomization_inference(
        df.iloc[::-1],
        "y",
        "arm",
        design,
        arm="t",
        reps=4000,
        seed=7,
        multi_arm="full",
        engine="dense",
    )
    assert not mc.exact and mc.engine == "dense"
    assert abs(mc.p_value - exact.p_value) < 4 * mc.p_value_se + 1e-3
    assert again.p_value == mc.p_value and again.draw_key == mc.draw_key


def test_full_replay_refusals():
    df, design = frame(4, "complete")
    df["d"] = (df["arm"] == "t").astype(int)
    with pytest.raises(SpecificationError, match=r"multi_arm='full' .* estimand='ITT'"):
        fx.randomization_inference(
            df,
            "y",
            "arm",
            design,
            arm="t",
            seed=1,
            multi_arm="full",
            estimator="cace",
            treatment="d",
        )
    with pytest.raises(SpecificationError, match="engine='grouped' cannot replay a whole"):
        fx.randomization_inference(
            df, "y", "arm", design, arm="t", reps=10, seed=1, multi_arm="full", engine="grouped"
        )
    with pytest.raises(SpecificationError, match="'multi_arm' parameter"):
        fx.randomization_inference(df, "y", "arm", design, arm="t", seed=1, multi_arm="all")
