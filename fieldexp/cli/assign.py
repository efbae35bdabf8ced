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
    """Randomise the units of SPEC with its [design]; write assignment, walk lists, balance."""
    from fieldexp.cli import _print_warnings, _show_progress, _Steps
    from fieldexp.design import walk_list
    from fieldexp.errors import SpecificationError
    from fieldexp.report.inputs import read_source
    from fieldexp.report.safety import refuse_secrets_inside, safe_path, write_csv, write_text
    from fieldexp.spec import load_spec
    from fieldexp.spec.load import secret_files

    spec = load_spec(args.spec)
    if spec.design is None:
        raise SpecificationError(f"{spec.path.name}: `assign` needs a [design] table")
    # a reader's salt beside the assignment and walk lists would re-identify their ids
    refuse_secrets_inside(Path(args.out), secret_files(spec))
    design = spec.design.design
    stations = design.unit == "precinct_id" and spec.data.precinct_results is not None
    if spec.assign is not None and not stations:
        raise SpecificationError(
            f"{spec.path.name}: [assign] (communes, circonscriptions, past results, REU walk "
            "lists) is for polling-station designs: [design] unit = 'precinct_id' with "
            "[data.precinct_results]"
        )
    if stations:
        return _assign_stations(args, spec)
    source = spec.data.voters
    if source is None:
        raise SpecificationError(
            f"{spec.path.name}: `assign` needs [data.voters] (the voter file), or "
            "[data.precinct_results] for a polling-station design (unit = 'precinct_id')"
        )
    seed = _seed(args, spec)
    out = Path(args.out)
    for name in ("assignment.csv", "design.toml", "walk_list.csv", "balance.csv"):
        safe_path(out, name)  # every output checked before anything is written
    with warnings.catch_warnings(record=True) as caught, _Steps(_show_progress(args)) as step:
        warnings.simplefilter("always")
        step(f"reading {source.name}")
        voters = read_source(source)
        step("randomising")
        assignment = design.assign(voters, seed)
        out.mkdir(parents=True, exist_ok=True)
        # every file under --out (links resolved), text cells neutralised for spreadsheets
        write_csv(assignment, out, "assignment.csv", mode=0o600)  # every voter id
        write_text(out, ("design.toml",), design.to_toml())
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
    _print_counts(assignment, seed)
    print(balance_text)
    print(f"wrote {out / 'assignment.csv'}, {out / 'walk_list.csv'}, {out / 'design.toml'}")
    print(
        "walk_list.csv holds treatment households only; assignment.csv holds every voter "
        "id: keep it with the analyst."
    )
    return 0


def _seed(args: argparse.Namespace, spec: Any) -> int:
    from fieldexp.errors import SpecificationError

    seed = args.seed if args.seed is not None else spec.design.seed
    if seed is None:
        raise SpecificationError(
            f"{spec.path.name}: give the seed as [design] seed = ... or --seed"
        )
    return int(seed)


def _print_counts(assignment: Any, seed: int) -> None:
    import pandas as pd

    arms = assignment["arm"].value_counts(dropna=True).sort_index()
    reasons = assignment["excluded_reason"]
    restricted = reasons.fillna("").str.startswith("restricted out").to_numpy(dtype=bool)
    excluded = int(reasons.notna().sum()) - int(restricted.sum())
    assigned = len(assignment) - excluded - int(restricted.sum())
    text = f"assigned {assigned:,} units (seed {seed}); excluded {excluded:,}"
    if restricted.any():
        text += f"; restricted out {int(restricted.sum()):,}"
    print(text)
    for label, n in arms.items():
        if not pd.isna(label):
            print(f"  arm {label}: {n:,}")


def _station_balance(spec: Any, table: Any, assignment: Any) -> Any:
    """Balance of the station assignment on registered voters and past turnout."""
    from fieldexp.errors import FieldexpWarning
    from fieldexp.experiment.balance import balance
    from fieldexp.report.prepare import numeric_columns

    assert spec.design is not None
    design = spec.design.design
    outcome = f"turnout_{spec.analysis.election}"
    if spec.design.balance_covariates:
        covs = list(spec.design.balance_covariates)
        if outcome in covs:
            warnings.warn(
                f"[design] balance_covariates: {outcome} is the turnout of the election the "
                f"experiment studies ([analysis] election = {spec.analysis.election!r}); balance "
                "is checked on what was known before randomising, so an outcome is no check",
                FieldexpWarning,
                stacklevel=2,
            )
    else:
        covs = [c for c in table.columns if c == "registered" or str(c).startswith("turnout_")]
        if outcome in covs:
            covs.remove(outcome)
            warnings.warn(
                f"balance: {outcome} left out of the default balance covariates: it is the "
                f"turnout of the election the experiment studies ([analysis] election = "
                f"{spec.analysis.election!r}), an outcome rather than a pre-randomisation "
                "covariate; give earlier results in [assign] past_results",
                FieldexpWarning,
                stacklevel=2,
            )
    if not covs:
        return None
    keep = [c for c in dict.fromkeys([design.unit, design.blocks, design.clusters, *covs]) if c]
    merged = table[keep].merge(
        assignment[[design.unit, "arm"]], on=design.unit, how="inner", validate="one_to_one"
    )
    merged = merged.dropna(subset=["arm"]).reset_index(drop=True)
    merged = numeric_columns(merged, covs, "[design] balance_covariates")
    ri = spec.randomization_inference
    return balance(
        merged,
        "arm",
        covs,
        design=design,
        reps=ri.reps if ri else 0,
        seed=ri.seed if ri else None,
    )


def _assign_stations(args: argparse.Namespace, spec: Any) -> int:
    """Polling stations: restrict, exclude, block, randomise; past-turnout balance; REU walks."""
    from fieldexp import io
    from fieldexp.cli import _print_warnings, _show_progress, _Steps
    from fieldexp.design.stations import (
        assign_stations,
        restrict_stations,
        station_table,
        station_walk_list,
    )
    from fieldexp.errors import SpecificationError
    from fieldexp.io.voters import ADDRESS_PARTS
    from fieldexp.report.inputs import check_input_file, read_source
    from fieldexp.report.safety import safe_path, write_csv, write_text
    from fieldexp.spec.load import mapping_for

    design = spec.design.design
    options = spec.assign
    if options is not None and options.walk_list_addresses and spec.data.voters is None:
        raise SpecificationError(
            f"{spec.path.name}: [assign] walk_list_addresses needs [data.voters] (the REU "
            "extract whose households the walk list names)"
        )
    seed = _seed(args, spec)
    out = Path(args.out)
    for name in ("assignment.csv", "design.toml", "walk_list.csv", "balance.csv"):
        safe_path(out, name)  # every output checked before anything is written
    source = spec.data.precinct_results
    walk = None
    with warnings.catch_warnings(record=True) as caught, _Steps(_show_progress(args)) as step:
        warnings.simplefilter("always")
        step(f"reading {source.name}")
        results = read_source(source)
        past = []
        for i, path in enumerate(options.past_results if options else ()):
            step(f"reading {path.name}")
            check_input_file(path, f"[assign] past_results[{i}]")
            past.append(io.read_precinct_results(path))
        table = station_table(results, past=past, election=spec.analysis.election)
        restricted = restrict_stations(
            table,
            communes=options.communes if options else (),
            circonscriptions=options.circonscriptions if options else (),
        )
        step("randomising")
        assignment = assign_stations(design, table, seed, restricted=restricted)
        if spec.data.voters is not None:
            voters_src = spec.data.voters
            step(f"reading {voters_src.name}")
            addresses: list[str] = []
            if options is not None and options.walk_list_addresses:
                check_input_file(voters_src.path, "[data.voters] path")
                full = io.read_voters(
                    voters_src.path,
                    format=voters_src.format or "csv",
                    mapping=mapping_for(voters_src),
                    keep_pii=True,
                )
                addresses = [c for c in ADDRESS_PARTS if c in full.columns]
                # only what finds the door: never names, birth data or origin
                voters = full[["precinct_id", "household_id", *addresses]]
                del full
            else:
                voters = read_source(voters_src)
            step("walk lists")
            walk = station_walk_list(
                assignment,
                voters,
                turf_size=spec.design.turf_size,
                address_columns=addresses,
            )
        step("balance")
        res = _station_balance(spec, table, assignment)
        out.mkdir(parents=True, exist_ok=True)
        write_csv(assignment, out, "assignment.csv", mode=0o600)
        write_text(out, ("design.toml",), design.to_toml())
        if walk is not None:
            write_csv(walk.frame, out, "walk_list.csv", mode=0o600)
        if res is not None:
            write_csv(res.to_frame(), out, "balance.csv")
    _print_warnings(caught)
    _print_counts(assignment, seed)
    print(f"  stations in the results: {len(table):,}")
    print(str(res) if res is not None else "balance: not checked (no covariates)")
    files = [out / "assignment.csv", out / "design.toml"]
    if res is not None:
        files.append(out / "balance.csv")
    if walk is not None:
        files.append(out / "walk_list.csv")
    print("wrote " + ", ".join(map(str, files)))
    if walk is not None:
        c = walk.counts
        print(
            f"walk_list.csv: {len(walk.frame):,} households ({c['walk list']:,} voters) in "
            f"treatment stations; not listed: {c['control station']:,} voters of control "
            f"stations, {c['station excluded or restricted out']:,} of excluded or restricted-out "
            f"stations, {c['station not in the results']:,} of stations not in the results"
        )
        if len(walk.frame.columns) > 6:
            print(
                "walk_list.csv names the addresses of the treatment households: it is for the "
                "canvassers only (readable by you alone, mode 0600); never attach it to a report"
            )
        else:
            print("walk_list.csv holds treatment households only (keyed, no address).")
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
        "balance.csv into --out. Polling stations ([design] unit = 'precinct_id' with "
        "[data.precinct_results]): the bureaux of the results are randomised ([assign] "
        "communes / circonscriptions restrict them, past_results add past turnout to the "
        "balance), and an REU extract in [data.voters] gives the walk list of households.",
        "  fieldexp assign analyses/demo.toml --out assignment\n"
        "  fieldexp assign analyses/demo.toml --out assignment --seed 7\n"
        "  fieldexp assign bureaux.toml --out tirage\n",
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
