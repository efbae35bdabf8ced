"""The ``fieldexp`` command line.

Subcommands are small functions; user errors (:class:`FieldexpError`) print one clear
line and exit with status 2 (``--debug`` shows the traceback).
"""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path

from fieldexp._version import __version__
from fieldexp.errors import FieldexpError

__all__ = ["main"]

EPILOG = """\
examples:
  fieldexp demo                                   # ITT and CACE on the shipped demo experiment
  fieldexp simulate --preset fixtures --out fixtures
  fieldexp simulate --voters 100000 --seed 7 --out /tmp/sim
"""


def _demo_table_path() -> Path | None:
    candidate = Path(__file__).resolve().parents[1] / "fixtures" / "demo" / "table.csv"
    return candidate if candidate.exists() else None


def cmd_demo(args: argparse.Namespace) -> int:
    """ITT and CACE on the shipped demo experiment (or a fresh simulation of it)."""
    import pandas as pd

    from fieldexp.experiment.api import cace, itt

    path = _demo_table_path()
    if path is not None:
        table = pd.read_csv(path)
        source = f"fixture {path.relative_to(path.parents[2])}"
    else:  # installed without the repo's fixtures: simulate the same experiment
        from fieldexp.simulate import simulate

        table = simulate(7000, seed=20240504).table
        source = "simulate(7000, seed=20240504)"
    design = {"blocks": "precinct_id", "clusters": "household_id"}
    covs = ["voted_2016", "voted_2018", "voted_2020", "age"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = [
            itt(table, "voted", "assigned", **design),
            itt(table, "voted", "assigned", **design, covariates=covs, method="ols"),
            itt(table, "contacted", "assigned", **design, method="ols"),
            cace(table, "voted", "contacted", "assigned", **design),
            cace(table, "voted", "contacted", "assigned", **design, covariates=covs),
        ]
    frame = pd.concat([r.to_frame() for r in results], ignore_index=True)
    frame.insert(
        0,
        "label",
        [
            "ITT turnout (block-weighted difference in means)",
            "ITT turnout (OLS, covariates + precinct FE)",
            "Contact rate ITT_D (first stage)",
            "CACE turnout (2SLS, precinct FE)",
            "CACE turnout (2SLS, covariates + precinct FE)",
        ],
    )
    cols = [
        "label",
        "estimate",
        "std_error",
        "df",
        "p_value",
        "ci_low",
        "ci_high",
        "nobs",
        "nclusters",
        "se_type",
    ]
    print(f"fieldexp {__version__} demo: canvassing experiment from {source}")
    print(f"{len(table):,} voters; households randomised within precincts\n")
    with pd.option_context(
        "display.width", 200, "display.max_columns", 20, "display.float_format", "{:.4f}".format
    ):
        print(frame[cols].to_string(index=False))
    return 0


def cmd_simulate(args: argparse.Namespace) -> int:
    from fieldexp.simulate.__main__ import main as simulate_main

    return int(simulate_main(args.rest))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fieldexp",
        description="Did knocking on doors raise turnout? Estimates and reports for canvassing "
        "experiments and roll-outs.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"fieldexp {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks for errors")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    demo = sub.add_parser(
        "demo",
        help="ITT and CACE on the shipped demo experiment",
        description="Print the ITT and CACE table of the shipped demo experiment.",
    )
    demo.set_defaults(func=cmd_demo)
    sim = sub.add_parser(
        "simulate",
        help="write simulated experiments / the shipped fixtures",
        add_help=False,
        description="See `fieldexp simulate --help`.",
    )
    sim.add_argument("rest", nargs=argparse.REMAINDER)
    sim.set_defaults(func=cmd_simulate)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except FieldexpError as exc:
        if args.debug:
            raise
        print(f"fieldexp: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
