"""Where to knock next: candidate rankings judged by RATE, precinct priorities, the plan.

Shown when the spec has ``[targeting]``. :func:`targeting_run` is also what ``fieldexp target``
writes its files from, so the report and the files show the same numbers. The sentences say
only what the intervals support: a ranking "beats a random list" only when its AUTOC interval
lies above 0; when every interval includes 0 the section says no ranking beats random here.
"""

from __future__ import annotations

from fieldexp.errors import DataError, SpecificationError
from fieldexp.report.language import CATALOGUE, ENGLISH, Language
from fieldexp.report.model import Cell, Figure, Section, Table
from fieldexp.report.prepare import AnalysisRun, outcome_units
from fieldexp.report.sections.context import ReportContext
from fieldexp.spec.model import AnalysisSpec, DataSource, OutcomeSpec
from fieldexp.targeting.pipeline import (
    RANKING_LABELS,
    RankingRate,
    TargetingRun,
    evaluate_targeting,
)

__all__ = [
    "build",
    "plan_sentence",
    "ranking_label",
    "skipped_sentences",
    "targeting_outcome",
    "targeting_run",
    "verdict",
]

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


def ranking_label(r: RankingRate, lang: Language) -> str:
    """The ranking's label in the report's language (a label of its own stays as it is)."""
    key = f"ranking.{r.name}"
    if key in CATALOGUE and r.label == RANKING_LABELS.get(r.name):
        return lang(key)
    return r.label


def _interval(lo: float, hi: float, lang: Language, decimals: int = 4) -> str:
    return lang("targeting.range", low=lang.fixed(lo, decimals), high=lang.fixed(hi, decimals))


def verdict(res: TargetingRun, level: int, lang: Language = ENGLISH) -> list[str]:
    """The sentences the RATE intervals support (no more)."""
    out: list[str] = []
    ci = lang.ci(level)
    above = [r for r in res.rates if r.autoc.ci_low > 0]
    below = [r for r in res.rates if r.autoc.ci_high < 0]
    if not above:
        out.append(lang("targeting.none_beats", level=lang.level(level)))
    for r in above:
        out.append(
            lang(
                "targeting.beats",
                ranking=ranking_label(r, lang),
                est=lang.fixed(r.autoc.estimate, 4),
                ci=ci,
                interval=_interval(r.autoc.ci_low, r.autoc.ci_high, lang),
            )
        )
    for r in below:
        out.append(
            lang(
                "targeting.worse",
                ranking=ranking_label(r, lang),
                est=lang.fixed(r.autoc.estimate, 4),
                ci=ci,
                interval=_interval(r.autoc.ci_low, r.autoc.ci_high, lang),
            )
        )
    if res.rates:
        first = res.rates[0]
        for r in res.rates[1:]:
            v = r.versus_first
            if v is None:
                continue
            values = dict(
                first=_cap(ranking_label(first, lang)),
                other=ranking_label(r, lang),
                est=lang.fixed(v.estimate, 4),
                ci=ci,
                interval=_interval(v.ci_low, v.ci_high, lang),
            )
            if v.ci_low > 0 or v.ci_high < 0:
                better = ranking_label(first, lang) if v.estimate > 0 else ranking_label(r, lang)
                out.append(lang("targeting.versus_better", better=better, **values))
            else:
                out.append(lang("targeting.versus_same", **values))
    return out


def plan_sentence(res: TargetingRun, level: int, lang: Language = ENGLISH) -> str | None:
    """What the plan is expected to yield, and whether its interval excludes 0."""
    p = res.plan
    if p is None:
        return None
    text = lang(
        "targeting.plan",
        doors=lang.count(p.doors),
        precincts=lang.count(len(p.allocation)),
        v=lang.number(p.net_votes, 1),
        ci=lang.ci(level),
        interval=lang(
            "targeting.range", low=lang.number(p.ci_low, 1), high=lang.number(p.ci_high, 1)
        ),
    )
    if p.ci_low <= 0 <= p.ci_high:
        text += " " + lang("targeting.plan_zero")
    return text


def skipped_sentences(res: TargetingRun, lang: Language = ENGLISH) -> list[str]:
    """Why a ranking asked for was not evaluated (the reason of the lower layer, as it is)."""
    return [
        lang("targeting.skipped", name=name, why=lang.term("reason", why))
        for name, why in res.skipped
    ]


def rate_table(res: TargetingRun, level: int, lang: Language = ENGLISH) -> Table:
    rows: list[tuple[Cell, ...]] = []
    for r in res.rates:
        rows.append(
            (
                ranking_label(r, lang),
                r.autoc.estimate,
                r.autoc.ci_low,
                r.autoc.ci_high,
                r.qini.estimate,
                r.qini.ci_low,
                r.qini.ci_high,
            )
        )
    ci = lang.ci(level)
    return Table(
        "targeting_rate",
        lang("targeting.rate_title"),
        (
            lang("col.ranking"),
            "AUTOC",
            lang("targeting.ci_low", what="AUTOC", ci=ci),
            lang("targeting.ci_high", what="AUTOC", ci=ci),
            "QINI",
            lang("targeting.ci_low", what="QINI", ci=ci),
            lang("targeting.ci_high", what="QINI", ci=ci),
        ),
        ("text", "est", "est", "est", "est", "est", "est"),
        tuple(rows),
        note=lang(
            "targeting.rate_note",
            reps=lang.count(res.rates[0].autoc.reps if res.rates else 0),
        ),
    )


def precinct_table(res: TargetingRun, level: int, lang: Language = ENGLISH) -> Table | None:
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
    ci = lang.ci(level)
    return Table(
        "targeting_precincts",
        lang("targeting.precincts_title", n=lang.count(len(rows))),
        (
            lang("col.rank"),
            lang("col.precinct"),
            lang("col.supporter_share"),
            lang("col.net_votes_per_door"),
            lang("col.lower") + f" ({ci})",
            lang("col.upper") + f" ({ci})",
            lang("col.doors"),
        ),
        ("int", "text", "pct", "est", "est", "est", "int"),
        rows,
        note=lang("targeting.precincts_note"),
    )


def build(ctx: ReportContext) -> Section | None:
    """Left out without ``[targeting]``."""
    spec = ctx.spec
    tg = spec.targeting
    if tg is None:
        return None
    lang = ctx.lang
    title = lang("targeting.title")
    if ctx.run.table is None:
        return Section("targeting", title, available=False, reason=lang("targeting.no_table"))
    res = targeting_run(ctx.run)
    level = ctx.level
    paras = [
        lang(
            "targeting.intro",
            n=lang.count(res.nvoters),
            covariates=lang.items(list(res.covariates)),
            learner=res.uplift.learner,
            folds=lang.count(res.uplift.n_folds),
        ),
        *verdict(res, level, lang),
        *skipped_sentences(res, lang),
    ]
    sentence = plan_sentence(res, level, lang)
    if sentence:
        paras.append(sentence)
    paras.extend(lang.notes(res.notes))
    tables = [rate_table(res, level, lang)]
    pt = precinct_table(res, level, lang)
    if pt is not None:
        tables.append(pt)
    figs = []
    if ctx.figures and res.rates:
        from fieldexp.targeting.svg import toc_svg

        figs.append(
            Figure(
                "targeting_toc",
                lang("targeting.toc_title", level=lang.level(level)),
                toc_svg(
                    [(ranking_label(r, lang), r.autoc.toc) for r in res.rates],
                    title=lang("targeting.toc_plot_title"),
                    xlabel=lang("targeting.toc_x"),
                    ylabel=lang("targeting.toc_y"),
                ),
                lang("targeting.toc_alt"),
            )
        )
    if ctx.figures and tg.geojson is not None and res.priorities is not None:
        from fieldexp.targeting.maps import choropleth

        values = res.priorities.table.set_index("precinct_id")["net_votes_per_door"]
        figs.append(
            Figure(
                "targeting_map",
                lang("targeting.map_title"),
                choropleth(
                    tg.geojson, values, key=tg.geojson_key, label=lang("col.net_votes_per_door")
                ),
                lang("targeting.map_alt"),
            )
        )
    return Section("targeting", title, tuple(paras), tuple(tables), tuple(figs))
