"""Where to knock next: candidate rankings judged by RATE, precinct priorities, the plan.

Shown when the spec has ``[targeting]``. :func:`targeting_run` is also what ``fieldexp target``
writes its files from, so the report and the files show the same numbers. The sentences say
only what the intervals support: a ranking "beats a random list" only when its AUTOC interval
lies above 0; when every interval includes 0 the section says no ranking beats random here.
"""

from __future__ import annotations

from fieldexp.errors import DataError, SpecificationError
from fieldexp.report.model import Cell, Figure, Section, Table
from fieldexp.report.prepare import AnalysisRun, outcome_units
from fieldexp.report.sections.context import ReportContext
from fieldexp.spec.model import AnalysisSpec, DataSource, OutcomeSpec
from fieldexp.targeting.pipeline import TargetingRun, evaluate_targeting

__all__ = ["build", "targeting_outcome", "targeting_run"]

TOP_PRECINCTS = 10


def targeting_outcome(spec: AnalysisSpec) -> OutcomeSpec:
    """The outcome ``[targeting] outcome`` names (default: the headline outcome), voter level."""
    tg = spec.targeting
    o = spec.outcome(tg.outcome) if tg is not None and tg.outcome else spec.headline_outcome
    if o.level != "voter":
        raise SpecificationError(
            f"{spec.path.name}: [targeting] outcome: {o.name!r} is a precinct-level outcome; "
            "uplift and RATE need a voter-level outcome (name one with outcome = ...)."
        )
    return o


def targeting_run(run: AnalysisRun) -> TargetingRun:
    """Run ``[targeting]`` on the prepared data (the analysis table and precinct results)."""
    spec = run.spec
    tg = spec.targeting
    if tg is None:
        raise SpecificationError(f"{spec.path.name}: the spec has no [targeting] table")
    if run.table is None:
        raise DataError(
            f"{spec.path.name}: [targeting] needs a voter-level analysis table (the experiment)"
        )
    o = targeting_outcome(spec)
    results = run.inputs.precinct_results
    if tg.results is not None:
        from fieldexp.report.inputs import read_source

        results = read_source(DataSource("precinct_results", tg.results, "fr-interieur"))
    a = spec.analysis
    table = outcome_units(run.table, o)
    return evaluate_targeting(
        table,
        o.column,
        treatment=a.treatment,
        blocks=a.blocks,
        clusters=a.clusters,
        covariates=tg.covariates,
        learner=tg.learner,
        folds=tg.folds,
        seed=tg.seed,
        reps=tg.reps,
        rankings=tg.rankings,
        results=results,
        supporters=tg.supporters,
        by=tg.by,
        blocs=tg.blocs,
        election=tg.election,
        persuasion_effect=tg.persuasion_effect,
        doors=tg.doors,
        volunteer_hours=tg.volunteer_hours,
        knocks_per_hour=tg.knocks_per_hour,
        alpha=a.alpha,
    )


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _ci(lo: float, hi: float) -> str:
    return f"{lo:.4f} to {hi:.4f}"


def verdict(res: TargetingRun, level: int) -> list[str]:
    """The sentences the RATE intervals support (no more)."""
    out: list[str] = []
    above = [r for r in res.rates if r.autoc.ci_low > 0]
    below = [r for r in res.rates if r.autoc.ci_high < 0]
    if not above:
        out.append(
            f"No ranking beats random here: every AUTOC {level}% interval includes 0 (or lies "
            "below it), so these data do not show that knocking the top of any of these lists "
            "gains more than knocking a random list."
        )
    for r in above:
        out.append(
            f"The {r.label} ranking beats a random list: AUTOC {r.autoc.estimate:.4f} "
            f"({level}% CI {_ci(r.autoc.ci_low, r.autoc.ci_high)}), the average extra effect "
            "per assigned voter of knocking the top of the list instead of a random list."
        )
    for r in below:
        out.append(
            f"The {r.label} ranking does worse than a random list here: AUTOC "
            f"{r.autoc.estimate:.4f} ({level}% CI {_ci(r.autoc.ci_low, r.autoc.ci_high)})."
        )
    if res.rates:
        first = res.rates[0]
        for r in res.rates[1:]:
            v = r.versus_first
            if v is None:
                continue
            if v.ci_low > 0 or v.ci_high < 0:
                better = first.label if v.estimate > 0 else r.label
                out.append(
                    f"{_cap(first.label)} versus {r.label}: AUTOC difference {v.estimate:.4f} "
                    f"({level}% CI {_ci(v.ci_low, v.ci_high)}): the {better} ranking is better."
                )
            else:
                out.append(
                    f"{_cap(first.label)} versus {r.label}: AUTOC difference {v.estimate:.4f} "
                    f"({level}% CI {_ci(v.ci_low, v.ci_high)}): the data do not separate them."
                )
    return out


def plan_sentence(res: TargetingRun, level: int) -> str | None:
    """What the plan is expected to yield, and whether its interval excludes 0."""
    p = res.plan
    if p is None:
        return None
    text = (
        f"Plan: {p.doors:,} doors in {len(p.allocation):,} precinct(s), filled in order of "
        f"net votes per door: expected net votes {p.net_votes:,.1f} ({level}% CI "
        f"{p.ci_low:,.1f} to {p.ci_high:,.1f})."
    )
    if p.ci_low <= 0 <= p.ci_high:
        text += " The interval includes 0: the experiment does not show that this plan gains votes."
    return text


def rate_table(res: TargetingRun, level: int) -> Table:
    rows: list[tuple[Cell, ...]] = []
    for r in res.rates:
        rows.append(
            (
                r.label,
                r.autoc.estimate,
                r.autoc.ci_low,
                r.autoc.ci_high,
                r.qini.estimate,
                r.qini.ci_low,
                r.qini.ci_high,
            )
        )
    return Table(
        "targeting_rate",
        "Candidate rankings judged by RATE (per assigned voter)",
        (
            "ranking",
            "AUTOC",
            f"AUTOC {level}% CI low",
            f"AUTOC {level}% CI high",
            "QINI",
            f"QINI {level}% CI low",
            f"QINI {level}% CI high",
        ),
        ("text", "est", "est", "est", "est", "est", "est"),
        tuple(rows),
        note=(
            "RATE (Yadlowsky et al.; grf's rank_average_treatment_effect) with doubly robust "
            f"scores; standard errors from {res.rates[0].autoc.reps if res.rates else 0} "
            "half-samples of whole clusters within blocks. 0 is what a random list gives."
        ),
    )


def precinct_table(res: TargetingRun, level: int) -> Table | None:
    if res.priorities is None:
        return None
    t = res.priorities.table.head(TOP_PRECINCTS)
    rows: tuple[tuple[Cell, ...], ...] = tuple(
        (int(rank), str(pid), float(share), float(v), float(lo), float(hi), int(doors))
        for rank, pid, share, v, lo, hi, doors in zip(
            t["rank"].to_numpy(dtype=int),
            t["precinct_id"].astype(str),
            t["supporter_share"].to_numpy(dtype=float),
            t["net_votes_per_door"].to_numpy(dtype=float),
            t["ci_low"].to_numpy(dtype=float),
            t["ci_high"].to_numpy(dtype=float),
            t["doors"].to_numpy(dtype=int),
            strict=True,
        )
    )
    return Table(
        "targeting_precincts",
        f"Precincts ranked by expected net votes per door (top {len(rows)})",
        (
            "rank",
            "precinct",
            "supporter share",
            "net votes per door",
            f"{level}% CI low",
            f"{level}% CI high",
            "doors",
        ),
        ("int", "text", "pct", "est", "est", "est", "int"),
        rows,
        note=(
            "Net votes per door = contact rate x (turnout effect x (2 x supporter share - 1) "
            "+ persuasion effect); intervals propagate the experiment's standard errors."
        ),
    )


def build(ctx: ReportContext) -> Section | None:
    """Left out without ``[targeting]``."""
    spec = ctx.spec
    tg = spec.targeting
    if tg is None:
        return None
    title = "Where to knock next"
    if ctx.run.table is None:
        return Section("targeting", title, available=False, reason="no voter-level analysis table")
    res = targeting_run(ctx.run)
    level = ctx.level
    paras = [
        f"Uplift scores for {res.nvoters:,} voters from {', '.join(res.covariates)} "
        f"({res.uplift.learner}, {res.uplift.n_folds}-fold cross-fitting: a voter's score "
        "never uses that voter's outcome). Each candidate ranking is judged by its RATE: "
        "AUTOC averages, over every list length, the extra effect of knocking the top of the "
        "list rather than a random list; QINI weights long lists more.",
        *verdict(res, level),
    ]
    for name, why in res.skipped:
        paras.append(f"Ranking {name} not evaluated: {why}.")
    sentence = plan_sentence(res, level)
    if sentence:
        paras.append(sentence)
    paras.extend(res.notes)
    tables = [rate_table(res, level)]
    pt = precinct_table(res, level)
    if pt is not None:
        tables.append(pt)
    figs = []
    if ctx.figures and res.rates:
        from fieldexp.targeting.svg import toc_svg

        figs.append(
            Figure(
                "targeting_toc",
                f"TOC of each ranking ({level}% pointwise intervals)",
                toc_svg([(r.label, r.autoc.toc) for r in res.rates]),
                "Targeting operator characteristic of each candidate ranking",
            )
        )
    if ctx.figures and tg.geojson is not None and res.priorities is not None:
        from fieldexp.targeting.maps import choropleth

        values = res.priorities.table.set_index("precinct_id")["net_votes_per_door"]
        figs.append(
            Figure(
                "targeting_map",
                "Expected net votes per door knocked, by precinct",
                choropleth(tg.geojson, values, key=tg.geojson_key, label="net votes per door"),
                "Map of expected net votes per door by precinct",
            )
        )
    return Section("targeting", title, tuple(paras), tuple(tables), tuple(figs))
