"""Benchmark: randomisation inference replaying a block-and-cluster design at voter-file scale.

10,000 re-randomisations of household-clustered assignment within precinct blocks on
1,000,000 voters (about 1.7 voters per household, 1,000 voters per precinct), ITT of turnout.
Target: under 60 s on a 2-core machine. Writes a Markdown table to stdout and, with
``--write``, to ``benchmarks/RESULTS_ri.md`` (``RESULTS_ri_simple.md`` with
``--scheme simple``: a coin flip per household within precincts).

    .venv/bin/python benchmarks/bench_ri.py [--voters 1000000] [--reps 10000] [--scheme simple] [--write]
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import time
from pathlib import Path

import numpy as np
import pandas as pd

import fieldexp as fx
from fieldexp.design import Design


def make_voters(n_voters: int, seed: int) -> pd.DataFrame:
    """Voters in households (sizes 1-4, mean about 1.7) in precincts of 1,000 voters."""
    rng = np.random.default_rng(seed)
    sizes = rng.choice([1, 2, 3, 4], size=n_voters, p=[0.5, 0.35, 0.1, 0.05])
    hh_of_voter = np.repeat(np.arange(len(sizes)), sizes)[:n_voters]
    precinct = np.arange(n_voters) // 1000
    # keep households inside precincts: a household starting in a precinct stays there
    first = np.r_[0, np.flatnonzero(np.diff(hh_of_voter)) + 1]
    hh_precinct = precinct[first]
    precinct = hh_precinct[hh_of_voter]
    propensity = rng.beta(2, 2, size=n_voters)
    return pd.DataFrame(
        {
            "voter_id": np.arange(n_voters) + 1_000_000,
            "household_id": hh_of_voter,
            "precinct_id": precinct,
            "propensity": propensity,
        }
    )


def _cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--voters", type=int, default=1_000_000)
    parser.add_argument("--reps", type=int, default=10_000)
    parser.add_argument("--engine", default="auto")
    parser.add_argument("--scheme", choices=("complete", "simple"), default="complete")
    parser.add_argument(
        "--dense-reps",
        type=int,
        default=1000,
        help="also time the outcome-independent dense engine (Westfall-Young) with this many draws",
    )
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()

    t0 = time.perf_counter()
    voters = make_voters(args.voters, seed=1)
    design = Design("voter_id", blocks="precinct_id", clusters="household_id", scheme=args.scheme)
    t_assign0 = time.perf_counter()
    assignment = design.assign(voters, seed=20241105)
    t_assign = time.perf_counter() - t_assign0
    rng = np.random.default_rng(2)
    treated = (assignment["arm"] == 1).to_numpy()
    data = voters.merge(assignment[["voter_id", "arm"]], on="voter_id")
    p = data["propensity"].to_numpy() + 0.02 * data["arm"].to_numpy()
    data["voted"] = (rng.random(len(data)) < p).astype(np.int8)
    data["registered"] = (rng.random(len(data)) < 0.8).astype(np.int8)
    t_setup = time.perf_counter() - t0

    load_before = os.getloadavg()[0]
    cpu0 = _cpu_seconds()
    t1 = time.perf_counter()
    res = fx.randomization_inference(
        data, "voted", "arm", design, reps=args.reps, seed=7, engine=args.engine
    )
    t_ri = time.perf_counter() - t1
    cpu_ri = _cpu_seconds() - cpu0
    dense_row = ""
    if args.dense_reps:
        cpu1 = _cpu_seconds()
        t2 = time.perf_counter()
        dense = fx.randomization_inference(
            data, "voted", "arm", design, reps=args.dense_reps, seed=7, engine="dense"
        )
        t_dense = time.perf_counter() - t2
        dense_row = (
            f"| `randomization_inference`, {dense.reps:,} re-randomisations, engine `dense` "
            f"(draws aligned across outcomes) | {t_dense:.1f} wall ({_cpu_seconds() - cpu1:.1f} s "
            "CPU) |"
        )
    family_row = ""
    if args.dense_reps:
        from fieldexp.experiment.ri import randomization_inference_family

        cpu1 = _cpu_seconds()
        t3 = time.perf_counter()
        fam = randomization_inference_family(
            data, ["voted", "registered"], "arm", design, reps=args.dense_reps, seed=7
        )
        t_fam = time.perf_counter() - t3
        family_row = (
            f"| `randomization_inference_family`, 2 outcomes, {fam[0].reps:,} shared "
            f"re-randomisations, engine `{fam[0].engine}` (Westfall-Young ready) | {t_fam:.1f} "
            f"wall ({_cpu_seconds() - cpu1:.1f} s CPU) |"
        )
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2

    n_hh = data["household_id"].nunique()
    n_pct = data["precinct_id"].nunique()
    lines = [
        "# Randomisation inference benchmark (`benchmarks/bench_ri.py"
        + (" --scheme simple" if args.scheme == "simple" else "")
        + "`)",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, {platform.system()} "
        f"{platform.release()}, Python {platform.python_version()}, numpy {np.__version__}, "
        f"pandas {pd.__version__}.",
        "",
        f"Design: {args.voters:,} voters in {n_hh:,} households (clusters, "
        f"{args.voters / n_hh:.2f} voters each) in {n_pct:,} precincts (blocks); "
        f"{args.scheme} randomisation of households at p = 0.5 within precincts "
        f"({int(treated.sum()):,} voters treated).",
        "",
        "| step | seconds |",
        "|---|---|",
        f"| build data + `Design.assign` | {t_setup:.1f} (assign alone {t_assign:.1f}) |",
        f"| `randomization_inference`, {res.reps:,} re-randomisations, engine `{res.engine}` "
        f"| **{t_ri:.1f}** wall ({cpu_ri:.1f} s CPU over all processes) |",
        *([dense_row] if dense_row else []),
        *([family_row] if family_row else []),
        "",
        f"Load average when the run started: {load_before:.1f} (the machine is shared).",
        "",
        f"Target: under 60 s. Peak RSS {peak_gb:.2f} GB. ITT estimate {res.estimate:.5f}, "
        f"p = {res.p_value:.4f} (Monte Carlo s.e. {res.p_value_se:.4f}).",
        "",
    ]
    text = "\n".join(lines)
    print(text)
    if args.write:
        name = "RESULTS_ri.md" if args.scheme == "complete" else "RESULTS_ri_simple.md"
        Path(__file__).with_name(name).write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
