"""Station x election DiD at national scale: 70,000 polling stations x 6 elections (issue 14).

Simulated with a known effect (turnout +2 points from a station's first canvassed election;
30% of stations canvassed, staggered over the last three elections, 70% never), written as six
official results files in the 2024 Ministry of the Interior layout (``;``, numbered candidate
blocks), then:

* ``build``: ``fx.station_panel`` reads the six files and the roll-out CSV (what a user runs);
  no peer builds such a panel, so this row is a time, not a ratio.
* ``twfe``: the panel CSV loaded with ``pd.read_csv``; ``turnout ~ treated | station + election``
  weighted by registered voters, SEs clustered by station: ``fx.did`` (``se_type="stata"``, CR1)
  vs pyfixest ``feols`` (CRV1, ``ssc(k_fixef="full")``: the same small-sample factor).
* ``cs``: the same CSV; Callaway & Sant'Anna ATT(g,t) with never-treated comparisons, no
  covariates, analytic influence-function SEs: ``fx.staggered_did`` vs ``csdid`` (Python port of
  R ``did``; not a dependency: ``pip install --target /tmp/fieldexp_peers --no-deps csdid
  drdid``). R ``did`` is used when installed (it is not on this machine).

Numbers are checked before any time is reported (estimates rtol 1e-8, SEs rtol 1e-6; ATT(g,t)
rtol 1e-6). Timing: each (task, tool) run is a fresh process that loads the data, warms up on
2,000 stations, then times load and fit; runs are **paired and alternating** (fieldexp, peer,
then peer, fieldexp, ...), and the table reports the median of the per-pair ratios, because the
2-core machine is shared with other jobs (the load average is recorded).

Usage::

    .venv/bin/python benchmarks/bench_station_did.py            # writes its RESULTS.md section
    .venv/bin/python benchmarks/bench_station_did.py --stations 7000 --pairs 1 --quick
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import _common
import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
DATA = HERE / "_data"
REPO = HERE.parent
TAU = 0.02
ELECTIONS = (
    "pres_2017_04_23",
    "leg_2017_06_11",
    "euro_2019_05_26",
    "pres_2022_04_10",
    "leg_2022_06_12",
    "euro_2024_06_09",
)
FIXED = (
    "Code département;Libellé département;Code commune;Libellé commune;Code BV;Inscrits;"
    "Votants;% Votants;Abstentions;% Abstentions;Exprimés;% Exprimés/inscrits;"
    "% Exprimés/votants;Blancs;% Blancs/inscrits;% Blancs/votants;Nuls;% Nuls/inscrits;"
    "% Nuls/votants"
)
BLOCK = ("Numéro de panneau", "Nuance candidat", "Nom candidat", "Voix")


# ----------------------------------------------------------------------------- data
def simulate(n: int, folder: Path) -> dict[str, object]:
    """Six results files, the roll-out CSV, and the truth; cached by size."""
    folder.mkdir(parents=True, exist_ok=True)
    done = folder / "truth.json"
    if done.exists():
        return json.loads(done.read_text())
    rng = np.random.default_rng(2026)
    depts = [f"{d:02d}" for d in range(1, 96) if d != 20] + ["2A", "2B"]
    dept = np.array(depts)[rng.integers(0, len(depts), n)]
    commune = rng.integers(1, 900, n)
    # bureaux numbered within commune
    insee = np.char.add(dept.astype("U2"), np.char.zfill(commune.astype("U3"), 3))
    order = np.lexsort((np.arange(n), insee))
    bureau = np.empty(n, dtype=np.int64)
    prev, k = None, 0
    for i in order:
        k = k + 1 if insee[i] == prev else 1
        prev = insee[i]
        bureau[i] = k
    base = rng.uniform(0.35, 0.75, n)
    reg0 = rng.integers(300, 1500, n)
    cohort = np.zeros(n, dtype=np.int64)
    u = rng.uniform(size=n)
    cohort[u < 0.3] = 6
    cohort[u < 0.2] = 5
    cohort[u < 0.1] = 4
    shifts = (0.0, -0.08, -0.2, 0.05, -0.1, -0.15)
    for t, label in enumerate(ELECTIONS, start=1):
        reg = np.maximum(50, np.round(reg0 * rng.uniform(0.95, 1.05, n))).astype(np.int64)
        p = np.clip(base + shifts[t - 1] + TAU * ((cohort > 0) & (t >= cohort)), 0.01, 0.99)
        voters = rng.binomial(reg, p)
        blank = rng.binomial(voters, 0.02)
        null = rng.binomial(voters - blank, 0.01)
        expressed = voters - blank - null
        a = rng.binomial(expressed, 0.45)
        cols = [
            dept,
            np.full(n, "Dept"),
            insee,
            np.full(n, "Commune"),
            np.char.zfill(bureau.astype("U4"), 4),
            reg.astype("U"),
            voters.astype("U"),
            np.full(n, ""),
            (reg - voters).astype("U"),
            np.full(n, ""),
            expressed.astype("U"),
            np.full(n, ""),
            np.full(n, ""),
            blank.astype("U"),
            np.full(n, ""),
            np.full(n, ""),
            null.astype("U"),
            np.full(n, ""),
            np.full(n, ""),
            np.full(n, "1"),
            np.full(n, "DVG"),
            np.full(n, "MARTIN"),
            a.astype("U"),
            np.full(n, "2"),
            np.full(n, "RN"),
            np.full(n, "DURAND"),
            (expressed - a).astype("U"),
        ]
        header = FIXED + ";" + ";".join(f"{b} {i}" for i in (1, 2) for b in BLOCK)
        lines = [";".join(row) for row in zip(*cols, strict=True)]
        (folder / f"{label}.csv").write_text(
            header + "\n" + "\n".join(lines) + "\n", encoding="utf-8"
        )
    ids = [f"{c}_{b:04d}" for c, b in zip(insee, bureau, strict=True)]
    rollout = pd.DataFrame(
        {
            "precinct_id": ids,
            "first_treated": [ELECTIONS[c - 1] if c else "" for c in cohort],
        }
    )
    rollout.to_csv(folder / "rollout.csv", index=False)
    truth = {"tau": TAU, "stations": n, "treated": int((cohort > 0).sum())}
    done.write_text(json.dumps(truth))
    return truth


def build_panel(folder: Path):
    import fieldexp as fx

    rollout = pd.read_csv(folder / "rollout.csv", dtype=str, keep_default_na=False)
    return fx.station_panel([folder / f"{e}.csv" for e in ELECTIONS], rollout=rollout)


def panel_csv(folder: Path) -> Path:
    path = folder / "panel.csv"
    if not path.exists():
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            p = build_panel(folder)
        cols = ["precinct_id", "period", "registered", "voters", "turnout", "cohort", "treated"]
        p.data[cols].to_csv(path, index=False)
    return path


# ----------------------------------------------------------------------------- runners
def load_panel(folder: Path) -> pd.DataFrame:
    return pd.read_csv(folder / "panel.csv", dtype={"precinct_id": str})


def twfe_fieldexp(df):
    import fieldexp as fx

    r = fx.did(
        df,
        "turnout",
        "precinct_id",
        "period",
        "treated",
        clusters="precinct_id",
        weights="registered",
    )
    return {"estimate": r.estimate, "std_error": r.std_error}


def twfe_pyfixest(df):
    import pyfixest as pf

    fit = pf.feols(
        "turnout ~ treated | precinct_id + period",
        data=df,
        weights="registered",
        vcov={"CRV1": "precinct_id"},
        ssc=pf.ssc(k_adj=True, k_fixef="full", G_adj=True),
    )
    return {"estimate": float(fit.coef()["treated"]), "std_error": float(fit.se()["treated"])}


def cs_fieldexp(df):
    import fieldexp as fx

    r = fx.staggered_did(df, "turnout", "precinct_id", "period", "cohort")
    tab = r.att_gt.sort_values(["cohort", "time"])
    agg = r.aggregate("simple")
    return {
        "att": tab["estimate"].tolist(),
        "se": tab["std_error"].tolist(),
        "simple": agg.estimate,
    }


def cs_csdid(df):
    from csdid.att_gt import ATTgt

    d = df.assign(station=pd.factorize(df["precinct_id"])[0] + 1)  # csdid needs a numeric id
    out = ATTgt(yname="turnout", gname="cohort", idname="station", tname="period", data=d).fit(
        est_method="dr", bstrap=False
    )
    res = out.results
    return {
        "att": [float(a) for a in res["att"]],
        "se": [float(s) for s in res["se"]],
        "simple": float("nan"),
    }


def build_fieldexp(folder: Path) -> tuple[dict, float, float]:
    """Read the six files (``read_precinct_results``) then ``station_panel``: numbers, times."""
    import fieldexp as fx
    from fieldexp.io import read_precinct_results

    t0 = time.perf_counter()
    tables = [read_precinct_results(folder / f"{e}.csv") for e in ELECTIONS]
    rollout = pd.read_csv(folder / "rollout.csv", dtype=str, keep_default_na=False)
    t1 = time.perf_counter()
    p = fx.station_panel(tables, rollout=rollout)
    t2 = time.perf_counter()
    d = p.data
    numbers = {
        "rows": len(d),
        "registered": int(d["registered"].sum()),
        "voters": int(d["voters"].sum()),
    }
    return numbers, t1 - t0, t2 - t1


RUNNERS = {
    ("twfe", "fieldexp"): twfe_fieldexp,
    ("twfe", "pyfixest"): twfe_pyfixest,
    ("cs", "fieldexp"): cs_fieldexp,
    ("cs", "csdid"): cs_csdid,
}


def child(task: str, tool: str, folder: str, out: str, peers_path: str | None) -> None:
    if peers_path:
        sys.path.append(peers_path)  # after site-packages: never shadows numpy/pandas
    import warnings

    warnings.simplefilter("ignore")
    f = Path(folder)
    result: dict = {"task": task, "tool": tool}
    try:
        if task == "build":
            small = f.parent / "small"
            build_fieldexp(small)  # warm-up on the small data set
            _common.reset_peak()
            numbers, t_read, t_panel = build_fieldexp(f)
            result.update(load=t_read, seconds=t_panel, numbers=numbers)
        else:
            run = RUNNERS[(task, tool)]
            df = load_panel(f)
            first = df["precinct_id"].drop_duplicates().iloc[:2000]
            run(df[df["precinct_id"].isin(first)].reset_index(drop=True))  # warm-up
            del df
            _common.reset_peak()
            t = time.perf_counter()
            df = load_panel(f)
            t_load = time.perf_counter() - t
            numbers = run(df)
            result.update(load=t_load, seconds=time.perf_counter() - t - t_load, numbers=numbers)
        result["peak_mb"] = _common.peak_mb()
        result["cpu"] = time.process_time()
    except ImportError as exc:
        result.update(error=f"not installed ({exc})")
    except Exception as exc:
        result.update(error=f"{type(exc).__name__}: {str(exc)[:200]}")
    Path(out).write_text(json.dumps(result))


def run_child(task, tool, folder, peers_path, timeout) -> dict:
    out = DATA / f"_station_{task}_{tool}.json"
    with contextlib.suppress(FileNotFoundError):
        out.unlink()
    cmd = [sys.executable, __file__, "--child", task, tool, str(folder), str(out)]
    cmd += ["--peers-path", peers_path or ""]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    try:
        proc = subprocess.run(cmd, timeout=timeout, capture_output=True, text=True, env=env)
    except subprocess.TimeoutExpired:
        return {"task": task, "tool": tool, "error": f"timeout (> {timeout:.0f} s)"}
    if not out.exists():
        tail = (proc.stderr or "").strip().splitlines()[-1:] or ["no output"]
        return {"task": task, "tool": tool, "error": f"crashed: {tail[0][:200]}"}
    return json.loads(out.read_text())


def check(task: str, a: dict, b: dict) -> str:
    na, nb = a["numbers"], b["numbers"]
    if task == "twfe":
        np.testing.assert_allclose(na["estimate"], nb["estimate"], rtol=1e-8)
        np.testing.assert_allclose(na["std_error"], nb["std_error"], rtol=1e-6)
        de = abs(na["estimate"] - nb["estimate"]) / abs(na["estimate"])
        ds = abs(na["std_error"] - nb["std_error"]) / abs(na["std_error"])
        return f"estimate rel. diff {de:.1e}, SE rel. diff {ds:.1e}"
    x, y = np.asarray(na["att"]), np.asarray(nb["att"])
    np.testing.assert_allclose(x, y, rtol=1e-6, atol=1e-10)
    sx, sy = np.asarray(na["se"]), np.asarray(nb["se"])
    np.testing.assert_allclose(sx, sy, rtol=1e-6)
    return (
        f"{len(x)} ATT(g,t): max diff {np.max(np.abs(x - y)):.1e}, SE max rel. diff "
        f"{np.max(np.abs(sx - sy) / sx):.1e}"
    )


def r_did_installed() -> bool:
    try:
        out = subprocess.run(
            ["Rscript", "-e", 'cat(requireNamespace("did", quietly=TRUE))'],
            capture_output=True,
            text=True,
            timeout=60,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return out.stdout.strip() == "TRUE"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--child", nargs=4, metavar=("TASK", "TOOL", "FOLDER", "OUT"))
    ap.add_argument("--peers-path", default="/tmp/fieldexp_peers")
    ap.add_argument("--stations", type=int, default=70_000)
    ap.add_argument("--pairs", type=int, default=3)
    ap.add_argument("--timeout", type=float, default=900.0)
    ap.add_argument("--quick", action="store_true", help="do not write RESULTS.md")
    args = ap.parse_args()
    if args.child:
        child(*args.child, args.peers_path or None)
        return
    folder = DATA / f"stations_{args.stations}x6"
    t = time.perf_counter()
    truth = simulate(args.stations, folder)
    simulate(2_000, DATA / "small")
    panel_csv(folder)
    panel_csv(DATA / "small")
    print(f"data ready in {time.perf_counter() - t:.0f} s: {truth}")
    loads = [os.getloadavg()[0]]
    rows = []
    notes = []
    for task, peer in (("build", None), ("twfe", "pyfixest"), ("cs", "csdid")):
        tools = ["fieldexp"] + ([peer] if peer else [])
        runs: dict[str, list[dict]] = {tool: [] for tool in tools}
        for i in range(args.pairs):
            order = tools if i % 2 == 0 else tools[::-1]
            for tool in order:
                r = run_child(task, tool, folder, args.peers_path, args.timeout)
                loads.append(os.getloadavg()[0])
                runs[tool].append(r)
                shown = f"{r['seconds']:.2f} s" if "seconds" in r else r["error"]
                print(f"  {task:5s} pair {i + 1} {tool:9s} {shown}", flush=True)
        base = [r for r in runs["fieldexp"] if "seconds" in r]
        if not base:
            raise SystemExit(f"fieldexp failed on {task}: {runs['fieldexp'][0]}")
        if task == "build":
            nb = base[0]["numbers"]
            notes.append(
                f"panel: {nb['rows']:,} station x election rows, {nb['registered']:,} registered "
                f"and {nb['voters']:,} voters (conserved from the six files)"
            )
        for tool in tools:
            ok = [r for r in runs[tool] if "seconds" in r]
            if not ok:
                rows.append((task, tool, runs[tool][0].get("error", "failed"), None))
                continue
            agree = "-" if tool == "fieldexp" else check(task, base[0], ok[0])
            ratios = [
                b["seconds"] / a["seconds"]
                for a, b in zip(runs["fieldexp"], runs[tool], strict=True)
                if "seconds" in a and "seconds" in b
            ]
            rows.append(
                (
                    task,
                    tool,
                    {
                        "fit": statistics.median(r["seconds"] for r in ok),
                        "load": statistics.median(r["load"] for r in ok),
                        "peak": max(r["peak_mb"] for r in ok),
                        "ratio": statistics.median(ratios) if tool != "fieldexp" else 1.0,
                        "numbers": ok[0]["numbers"],
                        "n": len(ok),
                    },
                    agree,
                )
            )
    r_did = r_did_installed()
    lines = render(args, truth, rows, notes, loads, r_did)
    print("\n".join(lines))
    if not args.quick:
        write_section(lines)


def render(args, truth, rows, notes, loads, r_did) -> list[str]:
    import fieldexp

    try:
        import pyfixest

        pv = pyfixest.__version__
    except ImportError:
        pv = "not installed"
    lines = [
        "<!-- bench_station_did: begin -->",
        "## Station x election DiD: 70,000 polling stations x 6 elections "
        "(`benchmarks/bench_station_did.py`)",
        "",
        f"Machine: {_common.machine(numpy=np.__version__, pandas=pd.__version__)}, fieldexp "
        f"{fieldexp.__version__}, pyfixest {pv}, csdid 0.4.3 (from `--peers-path`). **The "
        "2-core machine was shared with 7 other workers' jobs while this ran** (load average "
        f"{min(loads):.1f} to {max(loads):.1f}): times are noisy, so each (task, tool) ran "
        f"{args.pairs} times as paired, alternating, separate processes and `x fieldexp` is the "
        "median of the per-pair ratios (peer time / fieldexp time).",
        "",
        f"Data: {truth['stations']:,} stations (bureaux) in communes of 96 départements "
        f"(2A/2B included), 6 elections written as official results files in the 2024 layout; "
        f"{truth['treated']:,} stations canvassed from election 4, 5 or 6 (true effect on "
        f"turnout {TAU:+.3f}). TWFE: `turnout ~ treated | station + election`, weighted by "
        "registered, CR1 by station. CS: ATT(g,t), never-treated comparisons, unweighted, "
        "analytic SEs. `load` = `pd.read_csv` of the panel CSV (420,000 rows), `fit` = the "
        "estimator call; `build`: load = `read_precinct_results` of the six results files + the "
        "roll-out CSV, fit = `fx.station_panel` on them.",
        "",
        "| task | tool | load s | fit s | x fieldexp | peak MB | estimate | agree |",
        "|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for task, tool, r, agree in rows:
        if not isinstance(r, dict):
            lines.append(f"| {task} | {tool} | | | | | | {r} |")
            continue
        n = r["numbers"]
        if task == "build":
            est = f"{n['rows']:,} rows"
        elif "estimate" in n:
            est = f"{n['estimate']:.6f}"
        elif n.get("simple") == n.get("simple"):  # not NaN
            est = f"{n['simple']:.6f} (simple)"
        else:
            est = "-"
        lines.append(
            f"| {task} | {tool} | {r['load']:.2f} | {r['fit']:.2f} | {r['ratio']:.1f} | "
            f"{r['peak']:,.0f} | {est} | {agree} |"
        )
    lines += ["", *[f"- {n}" for n in notes]]
    lines.append(
        "- build: most of the time is reading the six 70,000-line files "
        "(`fieldexp.io.read_precinct_results`, the `load` column); the panel itself (ids, "
        "conservation checks, roll-out cohorts) is the `fit` column. No peer builds this panel."
    )
    lines.append(
        "- R `did`: "
        + ("installed but not run by this script" if r_did else "not installed (no R row)")
        + "."
    )
    lines.append("<!-- bench_station_did: end -->")
    return lines


def write_section(lines: list[str]) -> None:
    path = HERE / "RESULTS.md"
    text = path.read_text("utf-8")
    block = "\n".join(lines) + "\n"
    begin, end = "<!-- bench_station_did: begin -->", "<!-- bench_station_did: end -->"
    if begin in text:
        text = text[: text.index(begin)] + block + text[text.index(end) + len(end) + 1 :]
    else:
        text = text.rstrip("\n") + "\n\n" + block
    path.write_text(text, "utf-8")


if __name__ == "__main__":
    main()
