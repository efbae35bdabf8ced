"""The coverage section on an ``[engine]`` spec: the same tables from GROUP BY in the engine.

Called from :func:`fieldexp.report.sections.coverage.build` when the run holds engine tables
(``AnalysisRun.engine``). The counts are :mod:`fieldexp.engine.report_coverage` (the
definitions of :mod:`fieldexp.analysis.coverage`, computed by the engine: one row per group
and per canvasser is pulled); the suppression of small cells, the pooled rows, the
pseudonyms and the text are those of the DataFrame section
(:func:`~fieldexp.report.sections.coverage.suppressed_rows`,
:func:`~fieldexp.report.sections.coverage.pseudonym`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fieldexp.errors import ColumnNotFoundError, did_you_mean
from fieldexp.report import figures
from fieldexp.report.language import shorten
from fieldexp.report.model import Figure, Section, Table
from fieldexp.report.sections.common import natural_key, num
from fieldexp.report.sections.context import ReportContext

__all__ = ["build"]


def build(
    ctx: ReportContext,
    *,
    suppressed_rows: Callable[..., Any],
    pseudonym: Callable[..., str],
    group_note: Callable[..., str],
) -> Section | None:
    """Left out when there is no ``attempted`` column (no contact log), as on DataFrames.

    ``suppressed_rows``, ``pseudonym`` and ``group_note`` are the DataFrame section's (passed by
    :func:`fieldexp.report.sections.coverage.build`: one suppression rule for both paths).
    """
    from fieldexp.engine.report_coverage import (
        arm_values,
        engine_canvasser_coverage,
        engine_household_coverage,
    )
    from fieldexp.engine.tables import pull
    from fieldexp.report.prepare import arm_label

    run, spec, lang = ctx.run, ctx.spec, ctx.lang
    cov, eng = spec.coverage, run.engine
    assert cov is not None and eng is not None
    t = eng.table
    if "attempted" not in t.columns:
        return None
    k = ctx.small_cell
    hh = spec.analysis.clusters or ("household_id" if "household_id" in t.columns else "voter_id")
    arms = [v for v in arm_values(t) if arm_label(v) in set(run.arms)]
    tables = []
    figs = []
    for by in cov.by:
        if by not in t.columns:
            raise ColumnNotFoundError(
                f"[coverage] by: column {by!r} is not in the analysis table."
                + did_you_mean(by, [str(c) for c in t.columns])
            )
        g = engine_household_coverage(
            t, arms=arms, household=hh, by=by, contacted=spec.analysis.treatment
        )
        g = g.assign(group=g["group"].astype(str))
        g = g.iloc[sorted(range(len(g)), key=lambda i: natural_key(g["group"].iloc[i]))]
        rows, small = suppressed_rows(
            g["group"].tolist(),
            list(zip(g["households"], g["attempted"], g["contacted"], strict=True)),
            k,
            lang("coverage.pooled", by=by),
            lang,
        )
        tables.append(
            Table(
                f"coverage_{by}",
                lang("coverage.by_table", by=by),
                (
                    by,
                    lang("col.households"),
                    lang("col.share_attempted"),
                    lang("col.share_contacted"),
                ),
                ("text", "int", "pct", "pct"),
                tuple(rows),
                note=group_note(small, len(g), k, lang("coverage.groups", by=by), lang),
            )
        )
        shown = [r for r in rows if isinstance(r[2], float) and isinstance(r[3], float)]
        if ctx.figures and shown:
            figs.append(
                Figure(
                    f"coverage_{by}",
                    lang("coverage.figure", by=by),
                    figures.bar_figure(
                        [str(r[0]) for r in shown],
                        [
                            (lang("col.attempted"), [num(r[2]) for r in shown]),
                            (lang("col.contacted"), [num(r[3]) for r in shown]),
                        ],
                        ylabel=lang("coverage.axis"),
                        language=lang.code,
                    ),
                    lang("coverage.figure_alt", by=shorten(by, 40)),
                )
            )
    paras = [lang("coverage.text")]
    rec = run.reconciliation
    contacts = eng.contacts
    if rec is not None and contacts is not None:
        aside = [
            e for e in rec.entries if e.table == "contacts" and not e.status.startswith("used")
        ]
        aside = [e for e in aside if not e.reason.startswith("used")]
        if aside:
            paras.append(
                lang(
                    "coverage.aside",
                    reasons="; ".join(f"{e.reason}: {lang.count(e.rows)}" for e in aside),
                )
            )
    has_canvasser = (
        contacts is not None
        and "canvasser" in contacts.columns
        and int(
            pull(
                contacts.aggregate(n=contacts["canvasser"].count()), "canvassers named"
            ).to_pylist()[0]["n"]
        )
        > 0
    )
    if cov.canvasser and contacts is not None and has_canvasser:
        window = rec.campaign_window if rec is not None else None
        g, rows_read, set_aside = engine_canvasser_coverage(
            contacts, t, arms=arms, household=hh, window=window
        )
        salt = spec.privacy.salt
        labels = [pseudonym(str(x), salt, i, lang) for i, x in enumerate(g["canvasser"])]
        order = sorted(
            range(len(labels)), key=lambda i: labels[i] if salt else natural_key(labels[i])
        )
        crow, small = suppressed_rows(
            [labels[i] for i in order],
            [(int(g["households"].iloc[i]), int(g["contacted"].iloc[i])) for i in order],
            k,
            lang("coverage.canvassers_pooled"),
            lang,
        )
        note = lang("coverage.salted" if salt else "coverage.numbered")
        note += (
            " "
            + lang("coverage.not_counted", n=lang.count(set_aside), total=lang.count(rows_read))
            + " "
            + group_note(small, len(g), k, lang("coverage.canvassers"), lang)
        )
        tables.append(
            Table(
                "coverage_canvasser",
                lang("coverage.canvasser_table"),
                (
                    lang("col.canvasser"),
                    lang("col.households_knocked"),
                    lang("col.share_contacted"),
                ),
                ("text", "int", "pct"),
                tuple(crow),
                note=note,
            )
        )
    return Section("coverage", lang("coverage.title"), tuple(paras), tuple(tables), tuple(figs))
