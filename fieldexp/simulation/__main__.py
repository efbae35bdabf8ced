"""``python -m fieldexp.simulation``: write the shipped fixtures, or one simulated experiment."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from fieldexp.errors import FieldexpError
from fieldexp.simulation.experiment import simulate
from fieldexp.simulation.fixtures import PRESETS, write_csv, write_preset

EPILOG = """\
examples:
  # regenerate the committed fixtures (byte-identical on the same numpy version)
  python -m fieldexp.simulation --preset fixtures --out fixtures

  # one experiment of 100,000 voters, all tables as CSV under /tmp/sim
  python -m fieldexp.simulation --voters 100000 --seed 7 --out /tmp/sim

  # integer ids, 500 voters per precinct, two-sided noncompliance
  python -m fieldexp.simulation --voters 50000 --seed 1 --id-type int \\
      --voters-per-precinct 500 --control-contact-rate 0.02 --out /tmp/sim2
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m fieldexp.simulation",
        description="Simulate canvassing experiments with a known truth and write them as CSV.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    parser.add_argument("--preset", choices=sorted(PRESETS), help="write a named set of files")
    parser.add_argument("--voters", type=int, default=7000, help="voters (without --preset)")
    parser.add_argument("--seed", type=int, help="random seed (required without --preset)")
    parser.add_argument("--voters-per-precinct", type=int, default=1000)
    parser.add_argument("--p-treat", type=float, default=0.5)
    parser.add_argument("--contact-rate", type=float, default=0.30)
    parser.add_argument("--control-contact-rate", type=float, default=0.0)
    parser.add_argument("--contact-effect", type=float, default=0.08)
    parser.add_argument("--spillover", type=float, default=0.3)
    parser.add_argument("--id-type", choices=["str", "int"], default="str")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.preset:
            for path in write_preset(args.preset, args.out):
                print(path)
            return 0
        if args.seed is None:
            parser.error("--seed is required without --preset")
        exp = simulate(
            args.voters,
            seed=args.seed,
            voters_per_precinct=args.voters_per_precinct,
            p_treat=args.p_treat,
            contact_rate=args.contact_rate,
            control_contact_rate=args.control_contact_rate,
            contact_effect=args.contact_effect,
            spillover=args.spillover,
            id_type=args.id_type,
        )
    except FieldexpError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    for name in ("table", "voters", "vote_history", "elections", "assignment", "contacts"):
        path = args.out / f"{name}.csv"
        path.write_text(write_csv(getattr(exp, name)), encoding="utf-8", newline="")
        print(path)
    print(exp, file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
