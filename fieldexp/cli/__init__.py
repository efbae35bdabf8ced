"""The ``fieldexp`` command line.

Subcommands are small functions; user errors (:class:`FieldexpError`) print one clear
line and exit with status 2 (``--debug`` shows the traceback).
"""

from __future__ import annotations

import argparse
import sys
import textwrap
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from fieldexp._version import __version__
from fieldexp.errors import FieldexpError

__all__ = ["main"]

EPILOG = """\
examples:
  fieldexp demo                                   # ITT and CACE on the shipped demo experiment
  fieldexp report analyses/demo.toml --out demo-report
                                                  # the whole analysis: report.html, report.md,
                                                  # results.json, tables/*.csv and *.tex
  fieldexp validate analyses/demo.toml            # read and reconcile the data only
  fieldexp assign analyses/demo.toml --out assignment
                                                  # randomise: assignment, walk lists, balance
  fieldexp inspect ncvhis.txt                     # which layout, mapping, codes, rows
  fieldexp simulate --preset fixtures --out fixtures
  fieldexp simulate --voters 100000 --seed 7 --out /tmp/sim

Add --debug before the command to see the traceback of an error.
"""


def _demo_table_path() -> Path | None:
    from fieldexp.report.demo import demo_table_path

    return demo_table_path()


def cmd_demo(args: argparse.Namespace) -> int:
    """ITT and CACE on the shipped demo experiment (or a fresh simulation of it)."""
    import pandas as pd

    from fieldexp.report.demo import demo_estimates, demo_spec_path

    demo = demo_estimates(_demo_table_path())
    cols = [
        "label",
        "estimator",
        "estimate",
        "std_error",
        "df",
        "p_value",
        "ci_low",
        "ci_high",
        "nobs",
        "nclusters",
        "se_type",
        "report",
    ]
    print(f"fieldexp {__version__} demo: canvassing experiment from {demo.source}")
    print(f"{demo.nvoters:,} voters; households randomised within precincts\n")
    with pd.option_context(
        "display.width", 220, "display.max_columns", 20, "display.float_format", "{:.4f}".format
    ):
        print(demo.frame[cols].to_string(index=False))
    print()
    print(textwrap.fill(demo.headline, width=100))
    if getattr(args, "out", None) is not None:
        spec = demo_spec_path()
        if spec is None:
            from fieldexp.errors import SpecificationError

            raise SpecificationError(
                "demo --out: analyses/demo.toml not found (run from a fieldexp checkout)"
            )
        print()
        ns = argparse.Namespace(spec=spec, out=args.out, progress=None, quiet=True)
        return cmd_report(ns)
    return 0


def cmd_simulate(args: argparse.Namespace) -> int:
    """Forward to ``python -m fieldexp.simulation`` (its own ``--help`` has examples)."""
    from fieldexp.simulation.__main__ import main as simulate_main

    return int(simulate_main(args.rest))


# --------------------------------------------------------------------------- helpers
#: Control characters (C0 but newline and tab, DEL, C1) and bidi overrides, shown escaped:
#: labels read from data files reach the terminal, and an ESC sequence in an arm label or a
#: file name must not move the cursor, hide text or retitle the window.
_TERMINAL_ESCAPES = {
    c: f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}"
    for c in [*range(0x00, 0x20), *range(0x7F, 0xA0), *range(0x202A, 0x202F)]
    if chr(c) not in "\n\t"
}


def terminal_text(text: str) -> str:
    """``text`` with control characters and bidi overrides written as escapes."""
    return text.translate(_TERMINAL_ESCAPES)


class _SafeStream:
    """A text stream that escapes control characters in everything written to it."""

    def __init__(self, raw: Any) -> None:
        self.raw = raw

    def write(self, text: str) -> int:
        return int(self.raw.write(terminal_text(text)))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.raw, name)


class _Steps:
    """Progress display on stderr (rich) for the long steps; silent when not a terminal."""

    def __init__(self, enabled: bool) -> None:
        self._progress: Any = None
        if enabled:
            from rich.console import Console
            from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

            self._progress = Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                TimeElapsedColumn(),
                console=Console(file=getattr(sys.stderr, "raw", sys.stderr)),
                transient=True,
            )
            self._task = self._progress.add_task("starting", total=None)

    def __enter__(self) -> _Steps:
        if self._progress is not None:
            self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()

    def __call__(self, text: str) -> None:
        if self._progress is not None:
            self._progress.update(self._task, description=text)


def _show_progress(args: argparse.Namespace) -> bool:
    if getattr(args, "progress", None) is not None:
        return bool(args.progress)
    return sys.stderr.isatty()


def _print_warnings(caught: list[warnings.WarningMessage]) -> None:
    seen: set[str] = set()
    for w in caught:
        text = str(w.message).splitlines()[0] if str(w.message) else w.category.__name__
        if text not in seen:
            seen.add(text)
            print(f"fieldexp: warning: {text}", file=sys.stderr)


def _spec_path(value: str) -> Path:
    return Path(value)


# --------------------------------------------------------------------------- commands
def cmd_report(args: argparse.Namespace) -> int:
    """Run the whole analysis of SPEC and write the report files into --out."""
    from fieldexp.report import build_report, identifier_tokens, prepare_analysis, write_report
    from fieldexp.report.safety import refuse_secrets_inside
    from fieldexp.spec import load_spec
    from fieldexp.spec.load import secret_files

    spec = load_spec(args.spec)
    out = Path(args.out)
    refuse_secrets_inside(out, secret_files(spec))
    with warnings.catch_warnings(record=True) as caught, _Steps(_show_progress(args)) as step:
        warnings.simplefilter("always")
        step("reading the spec's input files")
        run = prepare_analysis(spec, step)
        report = build_report(spec, step=step, run=run)
        step("writing the report")
        files = write_report(report, out, forbidden=identifier_tokens(run))
    if not args.quiet:
        _print_warnings(caught)
    print(report.title)
    if report.headline is not None:
        for sentence in report.headline.sentences:
            print(f"  {sentence}")
    for section in report.unavailable:
        print(f"  not included: {section.title} ({section.reason})")
    print(f"report: {files['report.html']}")
    print(f"also: {files['report.md']}, {files['results.json']}, {out / 'tables'}/")
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    """Load SPEC, read its inputs and reconcile them; print the counts."""
    from fieldexp.report import prepare_analysis
    from fieldexp.spec import load_spec

    spec = load_spec(args.spec)
    with warnings.catch_warnings(record=True) as caught, _Steps(_show_progress(args)) as step:
        warnings.simplefilter("always")
        run = prepare_analysis(spec, step)
    _print_warnings(caught)
    print(f"{spec.path.name}: spec is valid ({len(spec.outcomes)} outcome(s))")
    for f in run.inputs.files:
        print(f"  {f.table:<20} {f.name}  ({f.format}, sha256 {f.sha256[:12]}...)")
    if run.reconciliation is not None:
        rec = run.reconciliation
        rec.check()
        for table, n in rec.rows_read:
            print(
                f"  {table:<20} {n:>10,} rows read  {rec.used(table):>10,} used  "
                f"{rec.set_aside(table):>8,} set aside"
            )
            for e in rec.entries:
                if e.table == table and e.status != "used":
                    print(f"      {e.status}: {e.rows:,} ({e.reason})")
        for row in rec.flow:
            print(
                f"  arm {row.arm}: {row.assigned:,} assigned, {row.attempted:,} attempted, "
                f"{row.contacted:,} contacted, {row.outcome_observed:,} with an outcome"
            )
    if run.table is not None:
        print(f"analysis table: {len(run.table):,} voters, {run.table.shape[1]} columns")
    if run.precinct_table is not None:
        print(f"polling-station table: {len(run.precinct_table):,} stations")
    print("OK")
    return 0


def cmd_inspect(args: argparse.Namespace) -> int:
    """Detect the layout of FILE; print its column mapping, codes, rows and missing mapping."""
    from fieldexp.io import inspect_file
    from fieldexp.report.inputs import check_input_file

    for what, path in (("inspect FILE", args.file), ("inspect --results", args.results)):
        if path is not None:  # a FIFO would block the reader: refused from its stat
            check_input_file(Path(path), what)
    print(inspect_file(args.file, table=args.table, results=args.results))
    return 0


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "spec", type=_spec_path, metavar="SPEC", help="analysis spec (TOML); see docs/spec.md"
    )
    group = p.add_mutually_exclusive_group()
    group.add_argument(
        "--progress",
        dest="progress",
        action="store_true",
        default=None,
        help="show progress on stderr (default: when stderr is a terminal)",
    )
    group.add_argument(
        "--no-progress", dest="progress", action="store_false", help="no progress display"
    )


def _sub(
    sub: Any, name: str, help_text: str, description: str, examples: str
) -> argparse.ArgumentParser:
    return sub.add_parser(
        name,
        help=help_text,
        description=description,
        epilog="examples:\n" + examples,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


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
    demo = _sub(
        sub,
        "demo",
        "ITT and CACE on the shipped demo experiment",
        "Print the ITT and CACE table of the shipped demo experiment (fixtures/demo). With "
        "--out, also run analyses/demo.toml and write the full report there.",
        "  fieldexp demo\n  fieldexp demo --out demo-report\n",
    )
    demo.add_argument("--out", type=Path, help="also write the demo report into this folder")
    demo.set_defaults(func=cmd_demo)
    sim = sub.add_parser(
        "simulate",
        help="write simulated experiments / the shipped fixtures",
        add_help=False,
        description="See `fieldexp simulate --help`.",
    )
    sim.add_argument("rest", nargs=argparse.REMAINDER)
    sim.set_defaults(func=cmd_simulate)

    rep = _sub(
        sub,
        "report",
        "run the whole analysis of a spec and write the report",
        "Read the spec's data, reconcile, estimate (ITT, CACE, randomisation inference, "
        "subgroups, DiD...) and write report.html (self-contained), report.md, results.json "
        "and tables/*.csv|.tex into --out. The same spec and data give byte-identical files.",
        "  fieldexp report analyses/demo.toml --out demo-report\n"
        "  fieldexp report analyses/bureaux.toml --out out/bureaux --no-progress\n",
    )
    _add_common(rep)
    rep.add_argument(
        "--out", type=Path, required=True, metavar="DIR", help="output folder (created)"
    )
    rep.add_argument("--quiet", action="store_true", help="do not print estimator warnings")
    rep.set_defaults(func=cmd_report)

    val = _sub(
        sub,
        "validate",
        "check a spec and reconcile its data (no estimation)",
        "Validate the spec (keys, types, files), read every input with its importer and build "
        "the analysis table; print rows read / used / set aside and the sample flow.",
        "  fieldexp validate analyses/demo.toml\n",
    )
    _add_common(val)
    val.set_defaults(func=cmd_validate)

    from fieldexp.cli import assign as _assign

    _assign.add_parser(sub)

    ins = _sub(
        sub,
        "inspect",
        "detect a data file's layout; show its mapping, codes and row counts",
        "Sniff FILE's layout (VAN, NationBuilder, ncvhis, Ohio, L2, Florida, French results, "
        "generic CSV) from its header and first rows; print the column mapping (personal "
        "columns marked as dropped), the codes found with their counts and meanings, row "
        "counts, and the mapping snippet still needed for unknown codes.",
        "  fieldexp inspect ncvhis_Statewide.txt\n"
        "  fieldexp inspect van_contacts.csv --results van_results.csv\n",
    )
    ins.add_argument("file", type=Path, help="the file to inspect")
    ins.add_argument(
        "--table",
        choices=["voters", "vote_history", "contacts", "precinct_results"],
        help="prefer this reading when a file is several (an Ohio SWVF file)",
    )
    ins.add_argument("--results", type=Path, help="VAN Results lookup (ResultID -> names)")
    ins.set_defaults(func=cmd_inspect)
    from fieldexp.cli.target import add_parser as _add_target  # fieldexp target

    _add_target(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    rest = [a for a in argv if a != "--debug"]
    if rest and rest[0] == "simulate":
        # forward everything after `simulate` (argparse.REMAINDER drops a leading --help)
        args = argparse.Namespace(
            debug="--debug" in argv[: argv.index("simulate")],
            func=cmd_simulate,
            rest=argv[argv.index("simulate") + 1 :],
        )
    else:
        args = parser.parse_args(argv)
    out, err = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = _SafeStream(out), _SafeStream(err)
    try:
        return int(args.func(args))
    except FieldexpError as exc:
        if args.debug:
            raise
        print(f"fieldexp: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except OSError as exc:
        if args.debug:
            raise
        where = f" {exc.filename!s}" if getattr(exc, "filename", None) else ""
        print(f"fieldexp: error: {exc.strerror or exc}{where}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("fieldexp: interrupted", file=sys.stderr)
        return 130
    finally:
        sys.stdout, sys.stderr = out, err


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
