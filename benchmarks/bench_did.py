"""Difference-in-differences at voter-file scale: fieldexp against pyfixest, linearmodels, csdid, differences.

Same data, same model, same numbers (asserted where the peers compute the same quantity):

* TWFE: 10M voters x 6 elections (60M rows), ``voted ~ treated | voter + election``, standard
  errors clustered by voter (estimatr's ``"stata"`` CR1): fieldexp ``fx.did`` vs pyfixest
  ``feols`` (CRV1, ``ssc(fixef_k="full")``, i.e. the same small-sample factor as estimatr) and
  linearmodels ``PanelOLS`` (entity + time effects, clustered by entity).
* CS: Callaway & Sant'Anna ATT(g,t) on 1M units x 8 periods (never-treated controls, no
  covariates, analytic influence-function SEs) and the simple aggregation: fieldexp
  ``fx.staggered_did`` vs ``csdid`` (Python port of R ``did``) and ``differences`` (``ATTgt``).
  Peers also run at 100k units so the numbers can be compared when they cannot finish at 1M.

Each (tool, task) runs in a fresh subprocess that loads the data, warms up on a small slice,
resets the peak-RSS counter, then times one fit. Peak memory is the process's VmHWM during the
fit (data included). Peers get a wall-clock timeout and an address-space limit (``--mem-gb``):
a peer that exceeds either is recorded as "timeout" / "out of memory", not retried.

csdid and differences are not project dependencies; install them anywhere and point
``--peers-path`` at it (e.g. ``pip install --target /tmp/fieldexp_peers csdid differences``).

Usage::

    .venv/bin/python benchmarks/bench_did.py                       # full run, writes RESULTS_did.md
    .venv/bin/python benchmarks/bench_did.py --twfe-voters 1000000 --cs-units 100000 --quick
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

import _common
import numpy as np

HERE = Path(__file__).resolve().parent
DATA = HERE / "_data"
REPO = HERE.parent


# ----------------------------------------------------------------------------- data
def make_twfe(n: int, periods: int = 6) -> Path:
    path = DATA / f"did_twfe_{n}x{periods}.parquet"
    if path.exists():
        return path
    from fieldexp.simulation.rollout import simulate_rollout

    DATA.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    sim = simulate_rollout(n, seed=2026, n_periods=periods, cohorts=(3, 4, 5), n_cities=60)
    sim.data[["unit", "period", "treated", "y"]].to_parquet(path, index=False)
    print(f"  simulated {n:,} x {periods} in {time.perf_counter() - t:.1f}s -> {path.name}")
    return path


def make_cs(n: int, periods: int = 8) -> Path:
    path = DATA / f"did_cs_{n}x{periods}.parquet"
    if path.exists():
        return path
    from fieldexp.simulation.rollout import simulate_rollout

    DATA.mkdir(parents=True, exist_ok=True)
    sim = simulate_rollout(
        n, seed=2027, n_periods=periods, cohorts=tuple(range(3, periods + 1)), n_cities=90
    )
    d = sim.data[["unit", "period", "cohort", "y"]].astype(
        {"unit": "int64", "period": "int64", "cohort": "int64", "y": "float64"}
    )
    d.to_parquet(path, index=False)
    return path


# ----------------------------------------------------------------------------- runners
def twfe_fieldexp(df):
    import fieldexp as fx

    r = fx.did(df, "y", "unit", "period", "treated", clusters="unit", se_type="stata")
    return {"estimate": r.estimate, "std_error": r.std_error}


def twfe_pyfixest(df):
    import pyfixest as pf

    fit = pf.feols(
        "y ~ treated | unit + period",
        data=df,
        vcov={"CRV1": "unit"},
        ssc=pf.ssc(k_adj=True, k_fixef="full", G_adj=True),
    )
    return {
        "estimate": float(fit.coef()["treated"]),
        "std_error": float(fit.se()["treated"]),
    }


def twfe_linearmodels(df):
    from linearmodels.panel import PanelOLS

    d = df.set_index(["unit", "period"])
    mod = PanelOLS(
        d["y"].astype(float), d[["treated"]].astype(float), entity_effects=True, time_effects=True
    )
    fit = mod.fit(cov_type="clustered", cluster_entity=True)
    return {"estimate": float(fit.params["treated"]), "std_error": float(fit.std_errors["treated"])}


def cs_fieldexp(df):
    import fieldexp as fx

    r = fx.staggered_did(df, "y", "unit", "period", "cohort")
    agg = r.aggregate("simple")
    tab = r.att_gt.sort_values(["cohort", "time"])
    return {
        "att": tab["estimate"].tolist(),
        "se": tab["std_error"].tolist(),
        "simple": agg.estimate,
        "simple_se": agg.std_error,
    }


def cs_csdid(df):
    from csdid.att_gt import ATTgt

    out = ATTgt(yname="y", gname="cohort", idname="unit", tname="period", data=df).fit(
        est_method="dr", bstrap=False
    )
    res = out.results
    agg = out.aggte(typec="simple", bstrap=False)
    simple = agg.atte if hasattr(agg, "atte") else None
    try:
        simple_att = float(simple["overall_att"])
        simple_se = float(simple["overall_se"])
    except Exception:
        simple_att = simple_se = float("nan")
    return {
        "att": [float(a) for a in res["att"]],
        "se": [float(s) for s in res["se"]],
        "simple": simple_att,
        "simple_se": simple_se,
    }


def cs_differences(df):
    from differences import ATTgt

    panel = df.set_index(["unit", "period"])
    panel["cohort"] = panel["cohort"].where(panel["cohort"] > 0)
    att = ATTgt(data=panel, cohort_column="cohort")
    att.fit(formula="y", est_method="dr", control_group="never_treated", progress_bar=False)
    res = att.results()
    res.index = res.index.droplevel("base_period")
    res = res.sort_index()
    est = res.xs("ATT", axis=1, level=2).iloc[:, 0]
    se = res.xs("std_error", axis=1, level=2).iloc[:, 0]
    simple = att.aggregate("simple")
    return {
        "att": est.astype(float).tolist(),
        "se": se.astype(float).tolist(),
        "simple": float(simple.iloc[0, 0]),
        "simple_se": float(simple.iloc[0, 1]),
    }


RUNNERS = {
    ("twfe", "fieldexp"): twfe_fieldexp,
    ("twfe", "pyfixest"): twfe_pyfixest,
    ("twfe", "linearmodels"): twfe_linearmodels,
    ("cs", "fieldexp"): cs_fieldexp,
    ("cs", "csdid"): cs_csdid,
    ("cs", "differences"): cs_differences,
}


def child(task: str, tool: str, path: str, out: str, peers_path: str | None, mem_gb: float):
    if peers_path:
        sys.path.append(peers_path)  # after site-packages: never shadows numpy/pandas
    if tool != "fieldexp" and mem_gb > 0:
        lim = int(mem_gb * 1024**3)
        resource.setrlimit(resource.RLIMIT_AS, (lim, lim))
    import warnings

    import pandas as pd

    warnings.simplefilter("ignore")
    result: dict = {"task": task, "tool": tool}
    try:
        df = pd.read_parquet(path)
        units = df["unit"].unique()[:2000]
        RUNNERS[(task, tool)](df[df["unit"].isin(units)].reset_index(drop=True))  # warm-up
        _common.reset_peak()
        t = time.perf_counter()
        numbers = RUNNERS[(task, tool)](df)
        result.update(seconds=time.perf_counter() - t, peak_mb=_common.peak_mb(), numbers=numbers)
    except MemoryError:
        result.update(error="out of memory", peak_mb=_common.peak_mb())
    except ImportError as exc:
        result.update(error=f"not installed ({exc})")
    except Exception as exc:
        result.update(error=f"{type(exc).__name__}: {str(exc)[:200]}", peak_mb=_common.peak_mb())
    Path(out).write_text(json.dumps(result))


def run(task, tool, path, timeout, peers_path, mem_gb):
    out = DATA / f"_result_{task}_{tool}.json"
    with contextlib.suppress(FileNotFoundError):
        out.unlink()
    cmd = [
        sys.executable,
        __file__,
        "--child",
        task,
        tool,
        str(path),
        str(out),
        "--peers-path",
        peers_path or "",
        "--mem-gb",
        str(mem_gb),
    ]
    t = time.perf_counter()
    try:
        proc = subprocess.run(cmd, timeout=timeout, capture_output=True, text=True)
    except subprocess.TimeoutExpired:
        return {"task": task, "tool": tool, "error": f"timeout (> {timeout:.0f} s)"}
    if not out.exists():
        tail = (proc.stderr or "").strip().splitlines()[-1:] or ["no output"]
        why = "killed (out of memory?)" if proc.returncode < 0 else f"crashed: {tail[0][:200]}"
        return {"task": task, "tool": tool, "error": why, "wall": time.perf_counter() - t}
    return json.loads(out.read_text())


def compare(a: dict, b: dict, task: str) -> str:
    na, nb = a.get("numbers"), b.get("numbers")
    if not na or not nb:
        return "-"
    if task == "twfe":
        de = abs(na["estimate"] - nb["estimate"]) / abs(na["estimate"])
        ds = abs(na["std_error"] - nb["std_error"]) / abs(na["std_error"])
        return f"estimate rel.diff {de:.1e}, SE rel.diff {ds:.1e}"
    x, y = np.asarray(na["att"]), np.asarray(nb["att"])
    if x.shape != y.shape:
        return f"different number of ATT(g,t): {x.shape[0]} vs {y.shape[0]}"
    sx, sy = np.asarray(na["se"]), np.asarray(nb["se"])
    ok = np.isfinite(sx) & np.isfinite(sy)
    return (
        f"max ATT(g,t) diff {np.max(np.abs(x - y)):.1e}, max SE rel.diff "
        f"{np.max(np.abs(sx[ok] - sy[ok]) / sx[ok]):.1e}, simple diff "
        f"{abs(na['simple'] - nb['simple']):.1e}"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--child", nargs=4, metavar=("TASK", "TOOL", "PATH", "OUT"))
    ap.add_argument("--peers-path", default="/tmp/fieldexp_peers")
    ap.add_argument("--mem-gb", type=float, default=16.0)
    ap.add_argument("--twfe-voters", type=int, default=10_000_000)
    ap.add_argument("--cs-units", type=int, default=1_000_000)
    ap.add_argument("--cs-small", type=int, default=100_000)
    ap.add_argument("--timeout", type=float, default=600.0)
    ap.add_argument("--tasks", default="twfe,cs")
    ap.add_argument("--quick", action="store_true", help="do not write RESULTS_did.md")
    args = ap.parse_args()
    if args.child:
        child(*args.child, args.peers_path or None, args.mem_gb)
        return

    rows = []
    checks = []
    tasks = args.tasks.split(",")
    plan = []
    if "twfe" in tasks:
        p = make_twfe(args.twfe_voters)
        plan.append(
            (
                "twfe",
                f"{args.twfe_voters:,} voters x 6 elections",
                p,
                ["fieldexp", "pyfixest", "linearmodels"],
            )
        )
    if "cs" in tasks:
        for n in (args.cs_small, args.cs_units):
            p = make_cs(n)
            plan.append(("cs", f"{n:,} units x 8 periods", p, ["fieldexp", "csdid", "differences"]))
    for task, label, path, tools in plan:
        results = {}
        for tool in tools:
            print(f"  {task:5s} {label:32s} {tool:13s} ...", end="", flush=True)
            r = run(
                task,
                tool,
                path,
                args.timeout if tool != "fieldexp" else 3600,
                args.peers_path,
                args.mem_gb,
            )
            results[tool] = r
            shown = (
                f"{r['seconds']:.1f} s, {r['peak_mb'] / 1024:.2f} GB"
                if "seconds" in r
                else r["error"]
            )
            print(" " + shown, flush=True)
            rows.append((task, label, tool, r))
        base = results["fieldexp"]
        for tool in tools[1:]:
            checks.append((task, label, tool, compare(base, results[tool], task)))
        if "numbers" in base:
            for tool in tools[1:]:
                nb = results[tool].get("numbers")
                if nb and task == "twfe":
                    assert abs(base["numbers"]["estimate"] - nb["estimate"]) <= 1e-8 * abs(
                        nb["estimate"]
                    ), tool
                if nb and task == "cs":
                    np.testing.assert_allclose(
                        base["numbers"]["att"], nb["att"], rtol=1e-6, atol=1e-9
                    )

    lines = render(rows, checks, args)
    print("\n".join(lines))
    if not args.quick:
        (HERE / "RESULTS_did.md").write_text("\n".join(lines) + "\n")


def render(rows, checks, args) -> list[str]:
    import psutil

    mem = psutil.virtual_memory().total / 1024**3
    out = [
        "# fieldexp DiD benchmarks",
        "",
        f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores (shared), "
        f"{mem:.0f} GB RAM, Python {platform.python_version()}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.",
        f"Command: `.venv/bin/python benchmarks/bench_did.py` (peer timeout {args.timeout:.0f} s, "
        f"peer address-space limit {args.mem_gb:.0f} GB). Peak = VmHWM during the fit, data included.",
        "",
        "| task | data | tool | time (s) | peak memory (GB) | speed-up of fieldexp |",
        "|---|---|---|---:|---:|---:|",
    ]
    fx_time = {}
    for task, label, tool, r in rows:
        if tool == "fieldexp" and "seconds" in r:
            fx_time[(task, label)] = r["seconds"]
    for task, label, tool, r in rows:
        if "seconds" in r:
            ref = fx_time.get((task, label))
            speed = f"{r['seconds'] / ref:.1f}x" if ref and tool != "fieldexp" else ""
            out.append(
                f"| {task} | {label} | {tool} | {r['seconds']:.1f} | {r['peak_mb'] / 1024:.2f} | {speed} |"
            )
        else:
            out.append(f"| {task} | {label} | {tool} | {r['error']} | | |")
    out += ["", "Agreement with fieldexp (same data):", ""]
    out += [f"- {task}, {label}, {tool}: {c}" for task, label, tool, c in checks]
    return out


if __name__ == "__main__":
    main()
