"""I/O benchmark: voter file + long vote history + contact log -> analysis table.

Generates synthetic canonical tables (vectorised numpy, written to Parquet and CSV by
DuckDB under ``benchmarks/_data/io_<scale>/``, gitignored), then times, each in a fresh
subprocess so peak RSS is per case:

* ``duckdb-parquet``: ``fieldexp.build_analysis_table`` on the Parquet files;
* ``duckdb-csv``: the same on the CSV files;
* ``pandas-parquet``: a pandas-only comparison (``pd.read_parquet`` + merges/groupbys)
  computing the same columns (assignment, contacts in window, outcome, past votes),
  without the reconciliation.

Usage::

    .venv/bin/python benchmarks/bench_io.py                 # 1M and 10M, all cases
    .venv/bin/python benchmarks/bench_io.py --scale 1M --cases duckdb-parquet

Writes ``benchmarks/RESULTS_io.md``. Targets (issue 4): 10M voters, 50M history rows,
5M contacts -> analysis table in < 60 s and < 6 GB on the 2-core machine.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import _common
import numpy as np

HERE = Path(__file__).resolve().parent
DATA = HERE / "_data"
SCALES = {
    "1M": {"voters": 1_000_000, "contacts": 500_000},
    "10M": {"voters": 10_000_000, "contacts": 5_000_000},
}
ELECTIONS = [
    ("general_2012_11_06", "2012-11-06", "general"),
    ("general_2014_11_04", "2014-11-04", "general"),
    ("general_2016_11_08", "2016-11-08", "general"),
    ("general_2018_11_06", "2018-11-06", "general"),
    ("general_2020_11_03", "2020-11-03", "general"),
]
TARGET = "general_2020_11_03"
CASES = ("duckdb-parquet", "duckdb-csv", "pandas-parquet")
MEMORY_LIMIT = "3GB"


def folder(scale: str) -> Path:
    return DATA / f"io_{scale}"


# --------------------------------------------------------------------------- data
def generate(scale: str, seed: int = 2026) -> Path:
    """Write voters, assignment, contacts and a long history (all voters x 5 elections)."""
    import duckdb

    out = folder(scale)
    done = out / "_done"
    if done.exists():
        return out
    out.mkdir(parents=True, exist_ok=True)
    n = SCALES[scale]["voters"]
    n_contacts = SCALES[scale]["contacts"]
    rng = np.random.default_rng(seed)
    t0 = time.perf_counter()
    sizes = rng.choice(np.array([1, 2, 3, 4], dtype=np.int64), p=[0.5, 0.35, 0.1, 0.05], size=n)
    hh = np.repeat(np.arange(len(sizes)), sizes)[:n]
    n_hh = int(hh[-1]) + 1
    precinct_hh = rng.integers(0, max(n // 1000, 1), size=n_hh)
    arm_hh = rng.integers(0, 2, size=n_hh).astype(np.int8)
    status = rng.choice(np.array([0, 1, 2], dtype=np.int8), p=[0.9, 0.08, 0.02], size=n)
    voters = {
        "vid": np.arange(n, dtype=np.int64),
        "hh": hh,
        "precinct": precinct_hh[hh],
        "status": status,
        "birth_year": rng.integers(1930, 2004, size=n).astype(np.int16),
        "gender": rng.integers(0, 3, size=n).astype(np.int8),
        "arm": arm_hh[hh],
    }
    con = duckdb.connect()
    con.execute("SET preserve_insertion_order = true")
    import pyarrow as pa

    con.register("v", pa.table(voters))
    vsql = (
        "SELECT 'V' || lpad(CAST(vid AS VARCHAR), 9, '0') AS voter_id, "
        "'H' || lpad(CAST(hh AS VARCHAR), 9, '0') AS household_id, "
        "'P' || lpad(CAST(precinct AS VARCHAR), 5, '0') AS precinct_id, "
        "CASE status WHEN 0 THEN 'active' WHEN 1 THEN 'inactive' ELSE 'removed' END AS registration_status, "
        "birth_year, CASE gender WHEN 0 THEN 'F' WHEN 1 THEN 'M' ELSE 'U' END AS gender FROM v"
    )
    asql = (
        "SELECT 'V' || lpad(CAST(vid AS VARCHAR), 9, '0') AS voter_id, CAST(arm AS VARCHAR) AS arm, "
        "0.5 AS probability, 'P' || lpad(CAST(precinct AS VARCHAR), 5, '0') AS block, "
        "'H' || lpad(CAST(hh AS VARCHAR), 9, '0') AS cluster FROM v"
    )
    for name, sql in (("voters", vsql), ("assignment", asql)):
        con.execute(f"COPY ({sql}) TO '{out / (name + '.parquet')}' (FORMAT parquet)")
        con.execute(f"COPY ({sql}) TO '{out / (name + '.csv')}' (HEADER)")
    # history: every voter x 5 elections, turnout from a latent propensity
    propensity = rng.beta(1.2, 1.0, size=n).astype(np.float32)
    eix = np.repeat(np.arange(len(ELECTIONS), dtype=np.int8), n)
    vid = np.tile(np.arange(n, dtype=np.int64), len(ELECTIONS))
    voted = (
        rng.random(n * len(ELECTIONS), dtype=np.float32) < np.tile(propensity, len(ELECTIONS))
    ).astype(np.int8)
    con.register("h", pa.table({"vid": vid, "eix": eix, "voted": voted}))
    del vid, eix, voted
    e_case = " ".join(f"WHEN {i} THEN '{e}'" for i, (e, _, _) in enumerate(ELECTIONS))
    d_case = " ".join(f"WHEN {i} THEN DATE '{d}'" for i, (_, d, _) in enumerate(ELECTIONS))
    hsql = (
        f"SELECT 'V' || lpad(CAST(vid AS VARCHAR), 9, '0') AS voter_id, CASE eix {e_case} END AS election_id, "
        f"CASE eix {d_case} END AS election_date, 'general' AS election_type, voted, "
        "CASE WHEN voted = 1 THEN 'in_person' END AS method FROM h"
    )
    con.execute(f"COPY ({hsql}) TO '{out / 'history.parquet'}' (FORMAT parquet)")
    con.execute(f"COPY ({hsql}) TO '{out / 'history.csv'}' (HEADER)")
    con.unregister("h")
    # contacts: 90% treated voters, 3% control voters, 2% unknown ids, 5% after election day
    treated = np.flatnonzero(voters["arm"] == 1)
    control = np.flatnonzero(voters["arm"] == 0)
    kind = rng.choice(np.array([0, 1, 2], dtype=np.int8), p=[0.95, 0.03, 0.02], size=n_contacts)
    cvid = np.where(
        kind == 0,
        treated[rng.integers(0, len(treated), size=n_contacts)],
        np.where(
            kind == 1,
            control[rng.integers(0, len(control), size=n_contacts)],
            n + rng.integers(0, n, size=n_contacts),
        ),
    )
    minutes = rng.integers(0, 40 * 24 * 60, size=n_contacts).astype(np.int64)  # Oct 1 .. Nov 9
    con.register(
        "c",
        pa.table(
            {
                "vid": cvid,
                "minutes": minutes,
                "contacted": (rng.random(n_contacts) < 0.3).astype(np.int8),
                "canvasser": rng.integers(0, 500, size=n_contacts).astype(np.int16),
            }
        ),
    )
    csql = (
        "SELECT 'V' || lpad(CAST(vid AS VARCHAR), 9, '0') AS unit_id, 'voter' AS unit_level, "
        "TIMESTAMP '2020-10-01 08:00:00' + to_minutes(minutes) AS timestamp, 'door' AS channel, "
        "CASE WHEN contacted = 1 THEN 'canvassed' ELSE 'not_home' END AS result, "
        "CAST(1 AS TINYINT) AS attempted, contacted, 'c' || CAST(canvasser AS VARCHAR) AS canvasser FROM c"
    )
    con.execute(f"COPY ({csql}) TO '{out / 'contacts.parquet'}' (FORMAT parquet)")
    con.execute(f"COPY ({csql}) TO '{out / 'contacts.csv'}' (HEADER)")
    con.close()
    done.write_text(f"generated in {time.perf_counter() - t0:.1f}s\n")
    return out


# --------------------------------------------------------------------------- cases
def run_duckdb(scale: str, ext: str) -> dict[str, object]:
    from fieldexp.analysis import build_analysis_table

    d = folder(scale)
    t0 = time.perf_counter()
    table, rec = build_analysis_table(
        d / f"voters.{ext}",
        d / f"assignment.{ext}",
        d / f"contacts.{ext}",
        d / f"history.{ext}",
        election=TARGET,
        memory_limit=MEMORY_LIMIT,
        progress=False,
    )
    wall = time.perf_counter() - t0
    return {
        "wall": wall,
        "rows": len(table),
        "mean_voted": float(table["voted"].mean()),
        "contacted": int(table["contacted"].sum()),
        "read": dict(rec.rows_read),
    }


def run_pandas(scale: str) -> dict[str, object]:
    """pandas-only: the same joins, no reconciliation."""
    import pandas as pd

    d = folder(scale)
    t0 = time.perf_counter()
    voters = pd.read_parquet(d / "voters.parquet")
    assignment = pd.read_parquet(d / "assignment.parquet")
    contacts = pd.read_parquet(d / "contacts.parquet")
    history = pd.read_parquet(d / "history.parquet", columns=["voter_id", "election_id", "voted"])
    voters = voters.drop_duplicates("voter_id")
    t = assignment.drop_duplicates("voter_id").merge(voters, on="voter_id", how="left")
    end = pd.Timestamp("2020-11-04")
    c = contacts[(contacts["timestamp"] < end) & contacts["unit_id"].isin(t["voter_id"])]
    cv = c.groupby("unit_id", sort=False).agg(
        attempted=("attempted", "max"), contacted=("contacted", "max")
    )
    t = t.merge(cv, left_on="voter_id", right_index=True, how="left")
    t[["attempted", "contacted"]] = t[["attempted", "contacted"]].fillna(0).astype("int8")
    wide = history.pivot_table(
        index="voter_id", columns="election_id", values="voted", aggfunc="max"
    )
    wide.columns = [f"voted_{c}" for c in wide.columns]
    wide = wide.rename(columns={f"voted_{TARGET}": "voted"})
    t = t.merge(wide, left_on="voter_id", right_index=True, how="left")
    ok = t["registration_status"] != "removed"
    t["voted"] = t["voted"].where(t["voted"].notna() | ~ok, 0)
    t = t.sort_values("voter_id")
    wall = time.perf_counter() - t0
    return {
        "wall": wall,
        "rows": len(t),
        "mean_voted": float(t["voted"].mean()),
        "contacted": int(t["contacted"].sum()),
    }


def child(case: str, scale: str) -> None:
    if case == "duckdb-parquet":
        out = run_duckdb(scale, "parquet")
    elif case == "duckdb-csv":
        out = run_duckdb(scale, "csv")
    else:
        out = run_pandas(scale)
    ru = resource.getrusage(resource.RUSAGE_SELF)
    out["peak_rss_gb"] = ru.ru_maxrss / 1024**2
    out["cpu_s"] = ru.ru_utime + ru.ru_stime
    print("RESULT " + json.dumps(out))


def run_case(case: str, scale: str, timeout: float) -> dict[str, object]:
    cmd = [sys.executable, str(Path(__file__)), "--child", case, "--scale", scale]
    load = os.getloadavg()[0]
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return {"case": case, "scale": scale, "error": f"timed out after {timeout:.0f} s"}
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            res = json.loads(line[len("RESULT ") :])
            res.update(case=case, scale=scale, load=load)
            return res
    tail = (proc.stderr or "").strip().splitlines()[-1:] or ["no output"]
    return {
        "case": case,
        "scale": scale,
        "error": f"exit {proc.returncode}: {tail[0][:120]}",
        "wall": time.perf_counter() - t0,
    }


def machine() -> str:
    import duckdb
    import pandas as pd

    return _common.machine(DuckDB=duckdb.__version__, pandas=pd.__version__, numpy=np.__version__)


def write_results(results: list[dict[str, object]], path: Path) -> None:
    lines = [
        "## I/O: voter file + vote history + contacts -> analysis table (`benchmarks/bench_io.py`)",
        "",
        f"Machine: {machine()}.",
        "",
        "Synthetic canonical tables: N voters in households of 1-4 (mean 1.7), 1,000 voters per "
        "precinct, a long vote history of every voter x 5 elections (5N rows), 0.5N contacts "
        "(95% treated voters, 3% controls, 2% unknown ids; 10% after election day). Each case "
        f"runs in a fresh process; DuckDB `memory_limit={MEMORY_LIMIT}`, 2 threads. "
        "Wall time covers reading the files, every join, the reconciliation (DuckDB cases) "
        "and the final pandas DataFrame; CPU is user + system seconds of the case's process; peak "
        "RSS is the process maximum (`ru_maxrss`); *load before* is the 1-minute load average "
        "of the machine when the case started (other jobs share the 2 cores).",
        "",
        "| case | voters | history rows | contacts | wall (s) | CPU (s) | peak RSS (GiB) | load before | target | note |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for r in results:
        s = SCALES[str(r["scale"])]
        n = s["voters"]
        target = "< 60 s, < 6 GB" if r["scale"] == "10M" else ""
        if "error" in r:
            lines.append(
                f"| {r['case']} | {n:,} | {5 * n:,} | {s['contacts']:,} | - | - | - | - | {target} | {r['error']} |"
            )
            continue
        wall = float(r["wall"])  # type: ignore[arg-type]
        rss = float(r["peak_rss_gb"])  # type: ignore[arg-type]
        ok = ""
        if r["scale"] == "10M" and str(r["case"]).startswith("duckdb"):
            ok = "met" if wall < 60 and rss < 6 else "MISSED"
        note = "no reconciliation" if r["case"] == "pandas-parquet" else ok
        cpu = float(r.get("cpu_s", float("nan")))  # type: ignore[arg-type]
        load = float(r.get("load", float("nan")))  # type: ignore[arg-type]
        lines.append(
            f"| {r['case']} | {n:,} | {5 * n:,} | {s['contacts']:,} | {wall:.1f} | {cpu:.0f} | {rss:.2f} | "
            f"{load:.1f} | {target} | {note} |"
        )
    lines.append("")
    path.write_text("\n".join(lines))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scale", choices=[*SCALES, "all"], default="all")
    ap.add_argument("--cases", nargs="*", default=list(CASES), choices=CASES)
    ap.add_argument("--timeout", type=float, default=900.0, help="seconds per case")
    ap.add_argument("--out", type=Path, default=HERE / "RESULTS_io.md")
    ap.add_argument("--child", choices=CASES, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child, args.scale)
        return
    scales = list(SCALES) if args.scale == "all" else [args.scale]
    results = []
    for scale in scales:
        print(f"[{scale}] generating data ...", flush=True)
        generate(scale)
        for case in args.cases:
            print(f"[{scale}] {case} ...", flush=True)
            res = run_case(case, scale, args.timeout)
            print("   ", {k: v for k, v in res.items() if k not in ("read",)}, flush=True)
            results.append(res)
    write_results(results, args.out)
    print(args.out.read_text())


if __name__ == "__main__":
    main()
