"""Targeting: coverage of fx.rate and of precinct net-vote intervals (known truth), and the
speed of fx.uplift + fx.rate at voter-file scale beside EconML's DR-learner where installed.

    python benchmarks/bench_targeting.py coverage [--runs 500]
    python benchmarks/bench_targeting.py speed [--n 1000000]

Writes a Markdown section to stdout; RESULTS_targeting.md keeps the last run.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
from _common import machine, peak_mb, reset_peak

import fieldexp as fx


def _sim(n: int, seed: int, slope: float = 0.4) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.random(n)
    z = np.zeros(n)
    z[rng.permutation(n)[: n // 2]] = 1.0
    y = 0.3 + 0.2 * x + (0.05 + slope * x) * z + rng.normal(0, 0.5, n)
    return pd.DataFrame({"y": y, "z": z, "x": x, "noise": rng.random(n)})


def coverage(runs: int) -> None:
    """RATE: tau(x) = 0.05 + 0.4 x, x ~ U(0, 1): true AUTOC of priority x = 0.1, of noise = 0."""
    hit = hit0 = 0
    est, est0 = [], []
    t0 = time.perf_counter()
    for s in range(runs):
        d = _sim(2000, s)
        r = fx.rate(d, "y", "z", "x", reps=100, seed=s)
        r0 = fx.rate(d, "y", "z", "noise", reps=100, seed=s)
        hit += r.ci_low <= 0.1 <= r.ci_high
        hit0 += r0.ci_low <= 0.0 <= r0.ci_high
        est.append(r.estimate)
        est0.append(r0.estimate)
    secs = time.perf_counter() - t0
    # precinct net-vote intervals: a conversation raises turnout by 0.10, c = 0.4
    from fieldexp.targeting import precinct_priorities

    results = pd.DataFrame(
        {
            "precinct_id": ["a", "a", "b", "b"],
            "registered": [1000, 1000, 800, 800],
            "voters": [600, 600, 400, 400],
            "expressed": [580, 580, 390, 390],
            "nuance": ["SOC", "LR", "SOC", "LR"],
            "votes": [350, 230, 100, 290],
        }
    )
    hit_p = 0
    for s in range(runs):
        rng = np.random.default_rng(10_000 + s)
        n = 3000
        z = np.zeros(n)
        z[rng.permutation(n)[: n // 2]] = 1
        d = (z == 1) & (rng.random(n) < 0.4)
        y = (rng.random(n) < 0.4 + 0.10 * d).astype(float)
        cace = fx.cace(pd.DataFrame({"y": y, "z": z, "d": d.astype(float)}), "y", "d", "z")
        p = precinct_priorities(results, supporters="gauche", turnout_effect=cace, contact_rate=0.4)
        row = p.table.iloc[0]
        truth = 0.4 * 0.10 * (2 * row["supporter_share"] - 1)
        hit_p += row["ci_low"] <= truth <= row["ci_high"]
    print(f"## Targeting coverage ({runs} runs each; {machine()})\n")
    print("| check | truth | mean estimate | coverage of 95% CI |")
    print("|---|---|---|---|")
    print(
        f"| RATE (AUTOC), priority = x, n = 2,000 | 0.1 | {np.mean(est):.4f} | {hit / runs:.1%} |"
    )
    print(f"| RATE (AUTOC), random priority | 0 | {np.mean(est0):.4f} | {hit0 / runs:.1%} |")
    print(
        f"| precinct net votes per door (CACE from fx.cace) | 0.4 x 0.1 x (2s - 1) | - | {hit_p / runs:.1%} |"
    )
    print(f"\n{secs:.0f} s for the RATE runs.\n")


def speed(n: int) -> None:
    rng = np.random.default_rng(0)
    hh = np.arange(n) // 2
    zh = rng.random(n // 2 + 1) < 0.5
    x = rng.random((n, 4))
    z = zh[hh].astype(float)
    y = (rng.random(n) < 0.3 + 0.2 * x[:, 1] + (0.02 + 0.1 * x[:, 0]) * z).astype(float)
    d = pd.DataFrame({"y": y, "z": z, "hh": hh, **{f"x{k}": x[:, k] for k in range(4)}})
    cols = [f"x{k}" for k in range(4)]
    rows = []
    reset_peak()
    t0 = time.perf_counter()
    u = fx.uplift(d, "y", "z", cols, clusters="hh", folds=5, seed=1)
    t_up = time.perf_counter() - t0
    m_up = peak_mb()
    d["s"] = u.scores
    reset_peak()
    t0 = time.perf_counter()
    fx.rate(d, "y", "z", "s", clusters="hh", reps=200, seed=1)
    t_rate = time.perf_counter() - t0
    rows.append(("fieldexp uplift (5-fold DR-learner, HistGradientBoosting)", t_up, m_up))
    rows.append(("fieldexp rate (AUTOC, 200 clustered half-samples)", t_rate, peak_mb()))
    try:
        from econml.dr import DRLearner
        from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

        reset_peak()
        t0 = time.perf_counter()
        est = DRLearner(
            model_propensity=HistGradientBoostingClassifier(),
            model_regression=HistGradientBoostingRegressor(),
            model_final=HistGradientBoostingRegressor(),
            cv=5,
            random_state=1,
        )
        est.fit(y, z, X=x)
        est.effect(x)
        rows.append(
            (
                "EconML DRLearner (5-fold, same learners; in-sample final predictions)",
                time.perf_counter() - t0,
                peak_mb(),
            )
        )
    except ImportError:
        rows.append(
            ("EconML DRLearner: not installed (pip install econml)", float("nan"), float("nan"))
        )
    print(f"## Targeting speed, {n:,} voters in {n // 2:,} households ({machine()})\n")
    print("| what | seconds | peak MB |")
    print("|---|---|---|")
    for name, secs, mb in rows:
        print(f"| {name} | {secs:.1f} | {mb:,.0f} |")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("what", choices=["coverage", "speed"])
    ap.add_argument("--runs", type=int, default=500)
    ap.add_argument("--n", type=int, default=1_000_000)
    a = ap.parse_args()
    if a.what == "coverage":
        coverage(a.runs)
    else:
        speed(a.n)


if __name__ == "__main__":
    main()
