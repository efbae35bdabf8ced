"""``fieldexp assign``: randomise the units of a spec with its ``[design]``.

Voter designs write the assignment, the walk lists (treatment households only) and the
balance table. Polling-station designs (``unit = "precinct_id"`` on official results)
randomise stations: see :func:`fieldexp.design.stations.station_frame` for restriction,
exclusions, blocks and the past-turnout balance, and
:func:`fieldexp.design.stations.station_walk_list` for walk lists of REU households.
"""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path
from typing import Any

__all__ = ["add_parser", "cmd_assign"]


def cmd_assign(args: argparse.Namespace) -> int:
    """Randomise the voters of SPEC with its [design]; write assignment, walk lists, balance."""
    from fieldexp.cli import _print_warnings, _show_progress, _Steps
    from fieldexp.design import walk_list
    from fieldexp.errors import SpecificationError
    from fieldexp.report.inputs import read_source
    from fieldexp.report.safety import safe_path, write_csv, write_text
    from fieldexp.spec import load_spec

    spec = load_spec(args.spec)
    if spec.design is None:
        raise SpecificationError(f"{spec.path.name}: `assign` needs a [design] table")
    design = spec.design.design
    stations = spec.data.voters is None and design.unit == "precinct_id"
    source = spec.data.voters if not stations else spec.data.precinct_results
    if source is None:
        raise SpecificationError(
            f"{spec.path.name}: `assign` needs [data.voters] (the voter file), or "
            "[data.precinct_results] for a polling-station design (unit = 'precinct_id')"
        )
    seed = args.seed if args.seed is not None else spec.design.seed
    if seed is None:
        raise SpecificationError(
            f"{spec.path.name}: give the seed as [design] seed = ... or --seed"
        )
    out = Path(args.out)
    for name in ("assignment.csv", "design.toml", "walk_list.csv", "balance.csv"):
        safe_path(out, name)  # every output checked before anything is written
    with warnings.catch_warnings(record=True) as caught, _Steps(_show_progress(args)) as step:
        warnings.simplefilter("always")
        step(f"reading {source.name}")
        voters = read_source(source)
        if stations:
            # one row per polling station (the results file has one per candidate)
            voters = voters.drop_duplicates("precinct_id").reset_index(drop=True)
        step("randomising")
        assignment = design.assign(voters, seed)
        out.mkdir(parents=True, exist_ok=True)
        # every file under --out (links resolved), text cells neutralised for spreadsheets
        write_csv(assignment, out, "assignment.csv", mode=0o600)  # every voter id
        write_text(out, ("design.toml",), design.to_toml())
        if not stations:
            step("walk lists")
            walk = walk_list(
                assignment,
                voters,
                by=spec.design.walk_list_by,
                turf_size=spec.design.turf_size,
            )
            write_csv(walk, out, "walk_list.csv", mode=0o600)
        from fieldexp.report.prepare import assignment_balance

        step("balance")
        res = assignment_balance(spec, voters, assignment)
        balance_text = (
            "balance: not checked (list voter-file columns in [design] balance_covariates)"
        )
        if res is not None:
            write_csv(res.to_frame(), out, "balance.csv")
            balance_text = str(res)
    _print_warnings(caught)
    arms = assignment["arm"].value_counts(dropna=False).sort_index()
    excluded = int(assignment["excluded_reason"].notna().sum())
    print(f"assigned {len(assignment) - excluded:,} units (seed {seed}); excluded {excluded:,}")
    for label, n in arms.items():
        if label is not None and label == label:
            print(f"  arm {label}: {n:,}")
    print(balance_text)
    if stations:
        print(f"wrote {out / 'assignment.csv'}, {out / 'design.toml'}")
    else:
        print(f"wrote {out / 'assignment.csv'}, {out / 'walk_list.csv'}, {out / 'design.toml'}")
        print(
            "walk_list.csv holds treatment households only; assignment.csv holds every voter "
            "id: keep it with the analyst."
        )
    return 0


def add_parser(sub: Any) -> argparse.ArgumentParser:
    """Register ``fieldexp assign`` on the subcommand parsers ``sub``."""
    from fieldexp.cli import _add_common, _sub

    asg = _sub(
        sub,
        "assign",
        "randomise with the spec's [design]; write assignment and walk lists",
        "Randomise the voter file of the spec with its [design] (seed from the spec or --seed); "
        "write assignment.csv, design.toml, walk_list.csv (treatment households only) and "
        "balance.csv into --out.",
        "  fieldexp assign analyses/demo.toml --out assignment\n"
        "  fieldexp assign analyses/demo.toml --out assignment --seed 7\n",
    )
    _add_common(asg)
    asg.add_argument(
        "--out",
        type=Path,
        default=Path("assignment"),
        metavar="DIR",
        help="output folder (default: assignment)",
    )
    asg.add_argument("--seed", type=int, help="random seed (overrides [design] seed)")
    asg.set_defaults(func=cmd_assign)

    return asg
