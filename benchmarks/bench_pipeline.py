"""`fieldexp report` on a simulated voter file with the demo spec: wall time, CPU and peak memory.

Issue 12 item 4(c): ``fieldexp report`` on 1M voters with ``analyses/demo.toml`` (its paths
pointed at simulated files of that size) in < 30 s and < 4 GB.

The inputs are written once by ``python -m fieldexp.simulation --voters N --seed 2022`` under
``--data`` (default ``benchmarks/_data/report_<N>/``, gitignored; about 400 MB at 1M). Each
run is a fresh ``python -m fieldexp report`` process; wall seconds from ``time.perf_counter``
around it, CPU seconds (user + system) and peak RSS from ``resource.getrusage(RUSAGE_CHILDREN)``
(the report's own process; the randomisation-inference workers it forks are included in the
CPU). With ``--trees A B``, runs alternate between two source trees (``PYTHONPATH``) so a
before/after comparison sees the same machine conditions; the load average is printed with
each run (the machine may be shared).

Usage::

    .venv/bin/python benchmarks/bench_pipeline.py --voters 1000000 --runs 2
    .venv/bin/python benchmarks/bench_pipeline.py --voters 200000 --trees /old/tree .
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import _common

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "RESULTS_pipeline.md"
BEGIN, END = "<!-- bench_pipeline: begin -->", "<!-- bench_pipeline: end -->"


def make_inputs(n: int, folder: Path) -> Path:
    """Simulated inputs of ``n`` voters and the demo spec pointed at them."""
    data = folder / "data"
    if not (data / "contacts.csv").exists():
        data.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [sys.executable, "-m", "fieldexp.simulation", "--voters", str(n), "--seed", "2022",
             "--out", str(data)],
            check=True, capture_output=True, env={**os.environ, "PYTHONPATH": str(ROOT)},
        )  # fmt: skip
    spec = (ROOT / "analyses" / "demo.toml").read_text(encoding="utf-8")
    path = folder / "demo.toml"
    path.write_text(spec.replace("../fixtures/demo/", "data/"), encoding="utf-8")
    return path


def _mem_available() -> int:
    """Bytes the kernel could hand out now (``MemAvailable``; reclaimable page cache counts)."""
    with open("/proc/meminfo", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    return 0


class _TreeMemory:
    """Peak drop of ``MemAvailable`` while the report runs: the memory of the whole process tree
    (the report and the processes it forks, shared pages counted once), sampled every 50 ms."""

    def __init__(self) -> None:
        self.base = _mem_available()
        self.low = self.base
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def _watch(self) -> None:
        while not self._stop.wait(0.05):
            self.low = min(self.low, _mem_available())

    def __enter__(self) -> _TreeMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def peak_gb(self) -> float:
        return max(0, self.base - self.low) / 2**30


def run_report(spec: Path, tree: Path) -> dict:
    out = Path(tempfile.mkdtemp(prefix="fieldexp-bench-report-"))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    load = os.getloadavg()[0]
    with _TreeMemory() as mem:
        t = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-m", "fieldexp", "report", str(spec), "--out", str(out / "r")],
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONPATH": str(tree)},
            check=False,
        )
        wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    shutil.rmtree(out, ignore_errors=True)
    if proc.returncode != 0:
        raise SystemExit(f"report failed ({tree}): {proc.stderr.strip()[-500:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"tree": str(tree), "wall": wall, "cpu": cpu, "load": load, "tree_gb": mem.peak_gb}


def peak_of(spec: Path, tree: Path) -> dict:
    """One run measured from a fresh helper process (so ru_maxrss is this run's peak)."""
    code = (
        "import json, sys, resource; sys.path.insert(0, sys.argv[3]); import bench_pipeline as b; "
        "from pathlib import Path; r = b.run_report(Path(sys.argv[1]), Path(sys.argv[2])); "
        "r['peak_gb'] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 2**20; "
        "print(json.dumps(r))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, str(spec), str(tree), str(HERE)],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:  # say why (the report's own error is in the helper's stderr)
        raise SystemExit(f"benchmark run failed ({tree}): {proc.stderr.strip()[-800:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--voters", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=2, help="runs per tree")
    ap.add_argument("--data", type=Path, help="folder for the simulated inputs")
    ap.add_argument("--trees", type=Path, nargs="+", default=[ROOT])
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--note", default="")
    args = ap.parse_args()
    folder = args.data or HERE / "_data" / f"report_{args.voters}"
    spec = make_inputs(args.voters, folder)
    rows = []
    for i in range(args.runs):
        trees = args.trees if i % 2 == 0 else list(reversed(args.trees))
        for tree in trees:
            r = peak_of(spec, tree.resolve())
            rows.append(r)
            print(json.dumps(r), flush=True)
    write(rows, args)


def _verdict(wall: float, peak_gb: float) -> str:
    """Issue 12 item 4(c): met, or missed by how much."""
    missed = []
    if wall >= 30:
        missed.append(f"{wall - 30:.0f} s over")
    if peak_gb >= 4:
        missed.append(f"{peak_gb - 4:.2f} GB over")
    return "met" if not missed else "missed (" + ", ".join(missed) + ")"


def write(rows: list[dict], args: argparse.Namespace) -> None:
    lines = [
        BEGIN,
        "### (c) `fieldexp report` with the demo spec (`benchmarks/bench_pipeline.py`)",
        "",
        f"Machine: {_common.machine()}.",
        "",
        f"{args.voters:,} simulated voters (`python -m fieldexp.simulation --seed 2022`), "
        "`analyses/demo.toml` pointed at them (1,000 randomisation draws, subgroups, DiD, "
        "coverage, figures). One fresh `python -m fieldexp report` process per run; CPU = user + "
        "system seconds of the report and the workers it forks; peak = the report process's "
        "peak RSS; tree = the peak drop of the machine's `MemAvailable` during the run (the report "
        "and every process it forks, shared pages once; sampled every 50 ms).",
        "",
        "| source tree | runs | wall s (median / min / max) | CPU s (median) | peak GB (max) "
        "| tree GB (max) | load average (median) | target < 30 s and < 4 GB (median wall, max "
        "of peak and tree) |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for tree in dict.fromkeys(r["tree"] for r in rows):
        rs = [r for r in rows if r["tree"] == tree]
        walls = [r["wall"] for r in rs]
        lines.append(
            f"| `{Path(tree).name}` | {len(rs)} | {statistics.median(walls):.0f} / "
            f"{min(walls):.0f} / {max(walls):.0f} | {statistics.median(r['cpu'] for r in rs):.0f} "
            f"| {max(r['peak_gb'] for r in rs):.2f} | {max(r['tree_gb'] for r in rs):.2f} | "
            f"{statistics.median(r['load'] for r in rs):.1f} | "
            + (
                f"{_verdict(statistics.median(walls), max(max(r['peak_gb'], r['tree_gb']) for r in rs))} |"
                if args.voters == 1_000_000
                else "n/a (the target is for 1M voters) |"
            )
        )
    if args.note:
        lines += ["", args.note]
    lines.append(END)
    old = args.out.read_text() if args.out.exists() else ""
    block = "\n".join(lines)
    if BEGIN in old and END in old:
        new = old.split(BEGIN, 1)[0] + block + old.split(END, 1)[1]
    else:
        new = (old.rstrip() + "\n\n" if old else "") + block + "\n"
    args.out.write_text(new)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
