"""Run every benchmark and collect their tables into ``benchmarks/RESULTS.md``.

Each ``bench_*.py`` writes its own ``RESULTS_<name>.md`` section; this script runs them in
turn (each in its own process, one at a time: timings on a 2-core machine are only
comparable when nothing else runs) and concatenates the sections.

Usage::

    .venv/bin/python benchmarks/run_all.py            # run everything, then collect
    .venv/bin/python benchmarks/run_all.py --collect  # only collect existing sections
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ORDER = ("experiment", "ri", "io", "did", "pipeline")

HEADER = """# Benchmark results

Produced by `benchmarks/run_all.py` (`make bench`); each section by its own `bench_*.py`,
which asserts that every tool returns the same numbers before it reports a time. Speed
targets live here, never in unit tests.
"""


def collect() -> Path:
    parts = [HEADER]
    for name in ORDER:
        section = HERE / f"RESULTS_{name}.md"
        if section.exists():
            parts.append(section.read_text().strip() + "\n")
        else:
            parts.append(f"## {name}\n\n(not run yet: `python benchmarks/bench_{name}.py`)\n")
    out = HERE / "RESULTS.md"
    out.write_text("\n".join(parts))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--collect", action="store_true", help="only collect the existing sections")
    args = ap.parse_args()
    if not args.collect:
        for name in ORDER:
            # bench_<name>.py, then its companions (bench_<name>_*.py write into its section)
            for script in [HERE / f"bench_{name}.py", *sorted(HERE.glob(f"bench_{name}_*.py"))]:
                if script.exists():
                    print(f"== {script.name}", flush=True)
                    subprocess.run([sys.executable, str(script)], check=True)
    print(f"wrote {collect()}")


if __name__ == "__main__":
    main()
