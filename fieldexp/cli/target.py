"""``fieldexp target SPEC --out DIR``: where to knock next, from the spec's ``[targeting]``.

Writes into ``--out`` (every path through :func:`fieldexp.report.safety.safe_path`, every CSV
through :func:`~fieldexp.report.safety.write_csv`, which neutralises spreadsheet formulas):

``precincts.csv``
    precincts ranked by expected net votes per door knocked (aggregates);
``plan.csv``, ``plan_curve.csv``
    the budget's doors by precinct and the net-votes-against-doors curve;
``rate.csv``, ``toc.csv``, ``toc.svg``
    the RATE (AUTOC, QINI) of every candidate ranking, paired comparisons with the first,
    and the TOC curves;
``map_priority.svg``, ``map_plan.svg``
    choropleths, when ``[targeting] geojson`` is given;
``summary.md``
    what the numbers support, in words;
``scores.csv`` (only with ``--export-scores``)
    voter-level uplift scores under a keyed hash of the voter id (``[privacy] salt``);
    never the id itself. Mode 0600.

The same spec and data give byte-identical files.
"""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path
from typing import Any

import pandas as pd

from fieldexp.errors import SpecificationError

__all__ = ["add_parser", "cmd_target"]

FILES = (
    "precincts.csv",
    "plan.csv",
    "plan_curve.csv",
    "rate.csv",
    "toc.csv",
    "toc.svg",
    "map_priority.svg",
    "map_plan.svg",
    "summary.md",
    "scores.csv",
)


def add_parser(sub: Any) -> argparse.ArgumentParser:
    """Register ``target`` on the subcommand parsers ``sub``."""
    from fieldexp.cli import _add_common

    p: argparse.ArgumentParser = sub.add_parser(
        "target",
        help="where to knock next: rank precincts, judge rankings (RATE), plan a budget",
        description=(
            "From the spec's [targeting] table: uplift scores (out of fold), the RATE (AUTOC "
            "and QINI) of each candidate ranking (uplift, past propensity, 50+1 precinct "
            "score, random) with TOC curves, precincts ranked by expected net votes per door, "
            "the plan for the budget, and maps when a GeoJSON is given. Aggregates only; "
            "voter-level scores only with --export-scores, pseudonymised."
        ),
        epilog="examples:\n  fieldexp target analyses/targeting.toml --out where-to-knock\n",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_common(p)
    p.add_argument("--out", type=Path, required=True, metavar="DIR", help="output folder (created)")
    p.add_argument(
        "--export-scores",
        action="store_true",
        help="also write scores.csv: each voter's uplift score under a keyed hash of the "
        "voter id ([privacy] salt required); keep it with the analyst",
    )
    p.set_defaults(func=cmd_target)
    return p


def _summary(run: Any, res: Any, level: int, md: Any) -> str:
    from fieldexp.report.sections.targeting import plan_sentence, verdict

    lines = [
        f"# Where to knock next: {md(run.spec.report.title)}",
        "",
        md(
            f"Uplift scores for {res.nvoters:,} voters ({res.uplift.learner}, "
            f"{res.uplift.n_folds}-fold cross-fitting) from {', '.join(res.covariates)}."
        ),
        "",
    ]
    lines += [f"- {md(s)}" for s in verdict(res, level)]
    sentence = plan_sentence(res, level)
    if sentence:
        lines += ["", md(sentence)]
    for name, why in res.skipped:
        lines += ["", md(f"Ranking {name} not evaluated: {why}.")]
    for note in res.notes:
        lines += ["", md(note)]
    lines += ["", "| ranking | target | estimate | CI low | CI high |", "|---|---|---|---|---|"]
    for r in res.rates:
        for x in (r.autoc, r.qini):
            lines.append(
                f"| {md(r.label, cell=True)} | {x.target} | {x.estimate:.4f} | "
                f"{x.ci_low:.4f} | {x.ci_high:.4f} |"
            )
    return "\n".join(lines) + "\n"


def cmd_target(args: argparse.Namespace) -> int:
    """Run ``[targeting]`` of SPEC and write the files listed in the module docstring."""
    from fieldexp.cli import _print_warnings, _show_progress, _Steps
    from fieldexp.report import prepare_analysis
    from fieldexp.report.safety import md_escape, safe_path, write_csv, write_text
    from fieldexp.report.sections.targeting import targeting_run
    from fieldexp.spec import load_spec

    spec = load_spec(args.spec)
    tg = spec.targeting
    if tg is None:
        raise SpecificationError(
            f"{spec.path.name}: `target` needs a [targeting] table (see docs/spec.md)"
        )
    if args.export_scores and spec.privacy.salt is None:
        raise SpecificationError(
            f"{spec.path.name}: --export-scores writes voter-level scores under a keyed hash "
            "of the voter id: give [privacy] salt (a secret of 16+ characters)"
        )
    out = Path(args.out)
    for name in FILES:
        safe_path(out, name)  # every output checked before anything is read or written
    if tg.geojson is not None:
        from fieldexp.targeting.maps import read_geojson

        read_geojson(tg.geojson)  # a malformed map file fails before the long steps
    level = round(100 * (1 - spec.analysis.alpha))
    written: list[Path] = []
    with warnings.catch_warnings(record=True) as caught, _Steps(_show_progress(args)) as step:
        warnings.simplefilter("always")
        step("reading the spec's input files")
        run = prepare_analysis(spec, step)
        step("uplift scores and RATE of each ranking")
        res = targeting_run(run)
        from fieldexp.report.safety import csv_frame

        def csv(frame: pd.DataFrame) -> str:
            return csv_frame(frame).to_csv(index=False, lineterminator="\n")

        from fieldexp.targeting.svg import toc_svg

        texts: dict[str, str] = {
            "rate.csv": csv(res.rate_frame()),
            "toc.csv": csv(res.toc_frame()),
            "toc.svg": toc_svg([(r.label, r.autoc.toc) for r in res.rates]),
        }
        if res.priorities is not None:
            texts["precincts.csv"] = csv(res.priorities.to_frame())
        if res.plan is not None:
            texts["plan.csv"] = csv(res.plan.allocation)
            texts["plan_curve.csv"] = csv(res.plan.curve)
        if tg.geojson is not None and res.priorities is not None:
            from fieldexp.targeting.maps import choropleth

            step("maps")
            values = res.priorities.table.set_index("precinct_id")["net_votes_per_door"]
            texts["map_priority.svg"] = choropleth(
                tg.geojson,
                values,
                key=tg.geojson_key,
                title="Expected net votes per door",
                label="net votes per door",
            )
            if res.plan is not None:
                doors = res.plan.allocation.set_index("precinct_id")["doors"].astype(float)
                texts["map_plan.svg"] = choropleth(
                    tg.geojson, doors, key=tg.geojson_key, title="Doors in the plan", label="doors"
                )
        texts["summary.md"] = _summary(run, res, level, md_escape)
        # the same leak check as `fieldexp report`: no input id or personal value in any file
        from fieldexp.report import identifier_tokens
        from fieldexp.report.safety import find_leaks

        leaks = find_leaks(None, texts, identifier_tokens(run))
        if leaks:
            raise SpecificationError(
                "fieldexp target: the outputs would show data of the inputs ("
                + "; ".join(leaks)
                + "); nothing was written."
            )
        out.mkdir(parents=True, exist_ok=True)
        step("writing")
        for name, text in texts.items():
            written.append(write_text(out, (name,), text))
        if args.export_scores:
            from fieldexp.io.privacy import keyed_hash

            table = run.table
            assert table is not None and spec.privacy.salt is not None
            if "voter_id" not in table.columns:
                raise SpecificationError(
                    "--export-scores keys the scores to a hash of voter_id; the analysis "
                    "table has no voter_id column"
                )
            scores = res.uplift.scores
            ids = table.loc[scores.index, "voter_id"]
            frame = pd.DataFrame(
                {
                    "voter_pseudonym": keyed_hash(ids, spec.privacy.salt).to_numpy(),
                    "uplift": scores.to_numpy(),
                }
            ).dropna()
            frame = frame.sort_values("voter_pseudonym", kind="mergesort", ignore_index=True)
            written.append(write_csv(frame, out, "scores.csv", mode=0o600))
    _print_warnings(caught)
    from fieldexp.report.sections.targeting import verdict

    for sentence in verdict(res, level):
        print(f"  {' '.join(sentence.split())}")
    print(f"wrote {', '.join(p.name for p in written)} into {out}")
    return 0
