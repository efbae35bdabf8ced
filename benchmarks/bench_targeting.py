"""Targeting: coverage of fx.rate and of precinct net-vote intervals (known truth), and the
speed of fx.uplift + fx.rate at voter-file scale beside EconML's DR-learner where installed.

    python benchmarks/bench_targeting.py coverage [--runs 500]
    python benchmarks/bench_targeting.py speed [--n 1000000] [--rounds 3] [--tools ...]

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


# --------------------------------------------------------------------------- speed
# Each fit runs in its own process (fresh interpreter, data read from the CSV with
# pd.read_csv as a user would), tools alternate within every round and the order flips each
# round; each row reports the median seconds and the median of the per-round ratios to
# fx.uplift, because the machine may be shared (absolute seconds drift with its load; the
# paired ratios drift much less).

SPEED_TOOLS = (
    "fieldexp_uplift",
    "fieldexp_rate",
    "econml_drlearner",
    "econml_causalforest",
    "causalml_dr",
)
TOOL_LABELS = {
    "fieldexp_uplift": "fx.uplift (5-fold cross-fitted DR-learner, HistGradientBoosting, clusters kept whole)",
    "fieldexp_rate": "fx.rate (AUTOC, 200 clustered half-samples)",
    "econml_drlearner": "EconML DRLearner (cv=5, HistGradientBoosting nuisances and final; in-sample effect())",
    "econml_causalforest": "EconML CausalForestDML (cv=5, HistGradientBoosting nuisances, 100 trees; in-sample effect())",
    "causalml_dr": "CausalML BaseDRRegressor (HistGradientBoosting, its 3-fold cross-fit; in-sample predict())",
}
COVS = ["x0", "x1", "x2", "x3"]
#: Seconds after which one fit is stopped (and reported as such).
TIMEOUT = 1500


def write_speed_data(n: int, path: str) -> None:
    """1M voters in n/2 households, 4 covariates, effect 0.02 + 0.1 x0 (written once)."""
    rng = np.random.default_rng(0)
    hh = np.arange(n) // 2
    zh = rng.random(n // 2 + 1) < 0.5
    x = rng.random((n, 4))
    z = zh[hh].astype(int)
    y = (rng.random(n) < 0.3 + 0.2 * x[:, 1] + (0.02 + 0.1 * x[:, 0]) * z).astype(int)
    d = pd.DataFrame({"voter_id": [f"V{i:07d}" for i in range(n)], "hh": hh, "z": z, "y": y})
    for k in range(4):
        d[f"x{k}"] = np.round(x[:, k], 6)
    d.to_csv(path, index=False)


def _fit(tool: str, d: pd.DataFrame) -> None:
    if tool == "fieldexp_uplift":
        fx.uplift(d, "y", "z", COVS, clusters="hh", folds=5, seed=1)
    elif tool == "fieldexp_rate":
        fx.rate(d, "y", "z", "x0", clusters="hh", reps=200, seed=1)
    elif tool == "econml_drlearner":
        from econml.dr import DRLearner
        from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

        x = d[COVS].to_numpy()
        est = DRLearner(
            model_propensity=HistGradientBoostingClassifier(random_state=1),
            model_regression=HistGradientBoostingRegressor(random_state=1),
            model_final=HistGradientBoostingRegressor(random_state=1),
            cv=5,
            random_state=1,
        )
        est.fit(d["y"].to_numpy(), d["z"].to_numpy(), X=x)
        est.effect(x)
    elif tool == "econml_causalforest":
        from econml.dml import CausalForestDML
        from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

        x = d[COVS].to_numpy()
        est = CausalForestDML(
            model_y=HistGradientBoostingRegressor(random_state=1),
            model_t=HistGradientBoostingClassifier(random_state=1),
            discrete_treatment=True,
            cv=5,
            n_estimators=100,
            random_state=1,
        )
        est.fit(d["y"].to_numpy(), d["z"].to_numpy(), X=x)
        est.effect(x)
    elif tool == "causalml_dr":
        from causalml.inference.meta import BaseDRRegressor
        from sklearn.ensemble import HistGradientBoostingRegressor

        x = d[COVS].to_numpy()
        est = BaseDRRegressor(learner=HistGradientBoostingRegressor(random_state=1))
        est.fit_predict(x, d["z"].to_numpy(), d["y"].to_numpy(), p=np.full(len(d), 0.5))
    else:  # pragma: no cover
        raise SystemExit(f"unknown tool {tool}")


def one(tool: str, path: str) -> None:
    """One timed fit in this process: read the CSV, warm up on 20,000 rows, time the fit."""
    import json
    import warnings

    warnings.simplefilter("ignore")
    t0 = time.perf_counter()
    d = pd.read_csv(path)
    t_read = time.perf_counter() - t0
    try:
        _fit(tool, d.iloc[:20_000].reset_index(drop=True))  # imports and first-call costs
    except ImportError as exc:
        print(json.dumps({"tool": tool, "error": f"not installed: {exc.name}"}))
        return
    reset_peak()
    t0 = time.perf_counter()
    _fit(tool, d)
    secs = time.perf_counter() - t0
    print(json.dumps({"tool": tool, "seconds": secs, "read": t_read, "peak_mb": peak_mb()}))


def speed(n: int, rounds: int, tools: list[str]) -> None:
    import json
    import os
    import statistics
    import subprocess
    import sys
    import tempfile

    folder = tempfile.mkdtemp(prefix="bench_targeting_")
    path = os.path.join(folder, f"voters_{n}.csv")
    write_speed_data(n, path)
    times: dict[str, list[float]] = {t: [] for t in tools}
    mem: dict[str, list[float]] = {t: [] for t in tools}
    errors: dict[str, str] = {}
    ratios: dict[str, list[float]] = {t: [] for t in tools}
    load = []
    for r in range(rounds):
        order = tools if r % 2 == 0 else tools[::-1]
        this: dict[str, float] = {}
        for tool in order:
            if tool in errors:
                continue
            load.append(os.getloadavg()[0])
            try:
                out = subprocess.run(
                    [sys.executable, __file__, "one", tool, path],
                    capture_output=True,
                    text=True,
                    check=False,
                    env={**os.environ, "OMP_NUM_THREADS": "1"},
                    timeout=TIMEOUT,
                )
            except subprocess.TimeoutExpired:
                errors[tool] = f"over {TIMEOUT} s (stopped)"
                continue
            lines = [ln for ln in out.stdout.splitlines() if ln.startswith("{")]
            if not lines:
                errors[tool] = (out.stderr.strip().splitlines() or ["failed"])[-1][:200]
                continue
            res = json.loads(lines[-1])
            if "error" in res:
                errors[tool] = res["error"]
                continue
            this[tool] = res["seconds"]
            times[tool].append(res["seconds"])
            mem[tool].append(res["peak_mb"])
            print(
                f"round {r + 1}: {tool} {res['seconds']:.1f} s, peak {res['peak_mb']:,.0f} MB, "
                f"load {load[-1]:.1f}",
                file=sys.stderr,
                flush=True,
            )
        base = this.get("fieldexp_uplift")
        for tool, secs in this.items():
            if base:
                ratios[tool].append(secs / base)
    os.remove(path)
    try:
        import econml

        ev = econml.__version__
    except ImportError:
        ev = "absent"
    try:
        from importlib.metadata import version

        cv = version("causalml")
    except Exception:
        cv = "absent"
    print(
        f"## Targeting speed, {n:,} voters in {n // 2:,} households "
        f"({machine(econml=ev, causalml=cv)})\n"
    )
    print(
        f"{rounds} rounds; every fit in its own process after pd.read_csv of the same CSV and "
        "a warm-up fit on 20,000 rows; tools alternate, order reversed every other round. "
        f"Machine shared with other jobs: load average during the runs {min(load):.1f} to "
        f"{max(load):.1f} on {os.cpu_count()} cores, so read the ratios (paired within a "
        "round) before the seconds. Every process runs with OMP_NUM_THREADS=1: on a loaded "
        "machine the OpenMP threads of scikit-learn's histogram gradient boosting "
        "oversubscribe the cores and make fits 10-40x slower, which would measure the load, "
        "not the tools.\n"
    )
    print("| what | median seconds | runs | median ratio to fx.uplift (same round) | peak MB |")
    print("|---|---|---|---|---|")
    for tool in tools:
        if tool in errors:
            print(f"| {TOOL_LABELS[tool]} | - | 0 | {errors[tool]} | - |")
            continue
        ratio = f"{statistics.median(ratios[tool]):.2f}" if ratios[tool] else "-"
        print(
            f"| {TOOL_LABELS[tool]} | {statistics.median(times[tool]):.1f} | "
            f"{len(times[tool])} | {ratio} | {max(mem[tool]):,.0f} |"
        )


def main() -> None:
    import sys

    if len(sys.argv) == 4 and sys.argv[1] == "one":
        one(sys.argv[2], sys.argv[3])
        return
    ap = argparse.ArgumentParser()
    ap.add_argument("what", choices=["coverage", "speed"])
    ap.add_argument("--runs", type=int, default=500)
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--tools", nargs="*", default=list(SPEED_TOOLS), choices=SPEED_TOOLS)
    a = ap.parse_args()
    if a.what == "coverage":
        coverage(a.runs)
    else:
        speed(a.n, a.rounds, a.tools)


if __name__ == "__main__":
    main()
