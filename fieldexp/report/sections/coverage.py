"""Field coverage: treatment households attempted and contacted, by area and by canvasser.

The counts are :mod:`fieldexp.analysis.coverage` on the same contacts as the analysis
(contact-log rows the reconciliation set aside are counted and shown as such). Only what
must be hidden is: a group under ``small_cell`` households shows ``"<k"``, and the small
groups together form one pooled row; a share resting on a small count is an upper bound
(``"<x%"``); the note says how many groups were suppressed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pandas as pd

from fieldexp.analysis.coverage import (
    canvasser_coverage,
    contacts_in_analysis,
    household_coverage,
)
from fieldexp.errors import ColumnNotFoundError, did_you_mean
from fieldexp.report import figures
from fieldexp.report.language import ENGLISH, Language, shorten
from fieldexp.report.model import Cell, Figure, Section, Table
from fieldexp.report.sections.common import natural_key, num, share, suppress
from fieldexp.report.sections.context import ReportContext

__all__ = ["CoverageCounts", "build", "pseudonym", "suppressed_rows"]

TITLE = ENGLISH("coverage.title")
#: Groups drawn as bars at most; beyond, the figure shows the sorted shares (the table and
#: its CSV still list every group).
MAX_BARS = 40


def pseudonym(value: str, salt: str | None, index: int, lang: Language = ENGLISH) -> str:
    """``"canvasser <index + 1>"`` without a salt, else ``"C-"`` + 8 hex of SHA-256(salt, id)."""
    if salt is None:
        return lang("coverage.canvasser_n", n=index + 1)
    return "C-" + hashlib.sha256(f"{salt}\x00{value}".encode()).hexdigest()[:8]


def suppressed_rows(
    labels: list[str],
    counts: list[tuple[int, ...]],
    k: int,
    pooled_label: str,
    lang: Language = ENGLISH,
) -> tuple[list[tuple[Cell, ...]], int]:
    """Rows ``(label, n, share_1, ...)`` with small groups pooled; returns (rows, n suppressed).

    ``counts[i] = (n, num_1, num_2, ...)``: a group's size and the numerators of its shares.
    Groups with ``n < k`` are shown with ``"<k"`` and no shares, and pooled into one extra
    row ``pooled_label`` whose shares are shown when the pool itself reaches ``k``.
    """
    rows: list[tuple[Cell, ...]] = []
    small = [c for c in counts if c[0] < k]
    for lab, c in zip(labels, counts, strict=True):
        n = c[0]
        if n < k:
            rows.append((lab, suppress(n, k), *([None] * (len(c) - 1))))
        else:
            rows.append((lab, n, *(share(x, n, k, lang) for x in c[1:])))
    if len(small) > 1:
        pooled = tuple(sum(c[i] for c in small) for i in range(len(small[0])))
        n = pooled[0]
        rows.append(
            (
                lang("coverage.pooled_row", label=pooled_label, n=len(small), k=k),
                suppress(n, k),
                *(share(x, n, k, lang) for x in pooled[1:]),
            )
        )
    return rows, len(small)


def _note(suppressed: int, total: int, k: int, what: str, lang: Language = ENGLISH) -> str:
    if not suppressed:
        return lang("coverage.none_suppressed", what=what, k=k)
    return lang(
        "coverage.suppressed",
        n=lang.count(suppressed),
        total=lang.count(total),
        what=what,
        k=k,
        x=lang.percent_sign("x"),
    )


def _figure(by: str, shown: list[tuple[Cell, ...]], lang: Language) -> Figure:
    """Bars per group; beyond :data:`MAX_BARS` groups the sorted shares (one line each)."""
    series = [
        (lang("col.attempted"), [num(r[2]) for r in shown]),
        (lang("col.contacted"), [num(r[3]) for r in shown]),
    ]
    if len(shown) <= MAX_BARS:
        return Figure(
            f"coverage_{by}",
            lang("coverage.figure", by=by),
            figures.bar_figure(
                [str(r[0]) for r in shown],
                series,
                ylabel=lang("coverage.axis"),
                language=lang.code,
            ),
            lang("coverage.figure_alt", by=shorten(by, 40)),
        )
    n = lang.count(len(shown))
    return Figure(
        f"coverage_{by}",
        lang("coverage.figure_sorted", by=by, n=n),
        figures.sorted_share_figure(
            series,
            xlabel=lang("coverage.sorted_axis", by=shorten(by, 40), n=n),
            ylabel=lang("coverage.axis"),
            language=lang.code,
        ),
        lang("coverage.figure_sorted_alt", by=shorten(by, 40), n=n),
    )


@dataclass(frozen=True)
class CoverageCounts:
    """Where the section's counts come from: the analysis table in memory or an engine.

    ``by_group(by)`` gives ``group, households, attempted, contacted`` (one row per group);
    ``by_canvasser(window)`` gives the canvasser counts with the contact-log rows read and set
    aside, or is None when no contact row names a canvasser.
    """

    columns: Sequence[str]
    has_contacts: bool
    by_group: Callable[[str], pd.DataFrame]
    by_canvasser: Callable[[object], tuple[pd.DataFrame, int, int]] | None


def _frame_counts(ctx: ReportContext) -> CoverageCounts | None:
    run, spec = ctx.run, ctx.spec
    t = run.table
    if t is None or "attempted" not in t.columns:
        return None
    hh = spec.analysis.clusters or ("household_id" if "household_id" in t.columns else "voter_id")
    contacts = run.inputs.contacts

    def by_group(by: str) -> pd.DataFrame:
        return household_coverage(
            t, arms=run.arms, household=hh, by=by, contacted=spec.analysis.treatment
        )

    def by_canvasser(window: object) -> tuple[pd.DataFrame, int, int]:
        used = contacts_in_analysis(contacts, t, arms=run.arms, household=hh, window=window)  # type: ignore[arg-type]
        return canvasser_coverage(used), used.rows_read, used.set_aside

    named = (
        contacts is not None
        and "canvasser" in contacts.columns
        and bool(contacts["canvasser"].notna().any())
    )
    return CoverageCounts(
        tuple(str(c) for c in t.columns), contacts is not None, by_group,
        by_canvasser if named else None,
    )  # fmt: skip


def _engine_counts(ctx: ReportContext) -> CoverageCounts | None:
    """``[engine]`` specs: the same counts as GROUP BY aggregates in the engine
    (:mod:`fieldexp.engine.report_coverage`; one row per group and per canvasser pulled)."""
    from fieldexp.engine.report_coverage import (
        arm_values,
        engine_canvasser_coverage,
        engine_household_coverage,
    )
    from fieldexp.engine.tables import pull
    from fieldexp.report.prepare import arm_label

    run, spec = ctx.run, ctx.spec
    eng = run.engine
    assert eng is not None
    t = eng.table
    if "attempted" not in t.columns:
        return None
    hh = spec.analysis.clusters or ("household_id" if "household_id" in t.columns else "voter_id")
    arms = [v for v in arm_values(t) if arm_label(v) in set(run.arms)]
    contacts = eng.contacts

    def by_group(by: str) -> pd.DataFrame:
        return engine_household_coverage(
            t, arms=arms, household=hh, by=by, contacted=spec.analysis.treatment
        )

    def by_canvasser(window: object) -> tuple[pd.DataFrame, int, int]:
        return engine_canvasser_coverage(contacts, t, arms=arms, household=hh, window=window)  # type: ignore[arg-type]

    named = (
        contacts is not None
        and "canvasser" in contacts.columns
        and int(
            pull(
                contacts.aggregate(n=contacts["canvasser"].count()), "canvassers named"
            ).to_pylist()[0]["n"]
        )
        > 0
    )
    return CoverageCounts(
        tuple(str(c) for c in t.columns), contacts is not None, by_group,
        by_canvasser if named else None,
    )  # fmt: skip


def build(ctx: ReportContext) -> Section | None:
    """Left out when ``[coverage]`` is disabled or there is no contact log."""
    cov = ctx.spec.coverage
    if cov is None:
        return None
    # [engine] specs: the counts are GROUP BY aggregates in the engine
    counts = _engine_counts(ctx) if ctx.run.engine is not None else _frame_counts(ctx)
    return None if counts is None else _section(ctx, counts)


def _section(ctx: ReportContext, counts: CoverageCounts) -> Section:
    run, spec = ctx.run, ctx.spec
    cov = spec.coverage
    assert cov is not None
    k = ctx.small_cell
    lang = ctx.lang
    tables = []
    figs = []
    for by in cov.by:
        if by not in counts.columns:
            raise ColumnNotFoundError(
                f"[coverage] by: column {by!r} is not in the analysis table."
                + did_you_mean(by, [str(c) for c in counts.columns])
            )
        g = counts.by_group(by)
        g = g.assign(group=g["group"].astype(str))
        names = g["group"].tolist()
        g = g.iloc[sorted(range(len(g)), key=lambda i: natural_key(names[i]))]
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
                note=_note(small, len(g), k, lang("coverage.groups", by=by), lang),
            )
        )
        shown = [r for r in rows if isinstance(r[2], float) and isinstance(r[3], float)]
        if ctx.figures and shown:
            figs.append(_figure(by, shown, lang))
    paras = [lang("coverage.text")]
    rec = run.reconciliation
    if rec is not None and counts.has_contacts:
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
    if cov.canvasser and counts.by_canvasser is not None:
        window = rec.campaign_window if rec is not None else None
        g, rows_read, set_aside = counts.by_canvasser(window)
        salt = spec.privacy.salt
        households, contacted = g["households"].tolist(), g["contacted"].tolist()
        labels = [pseudonym(str(x), salt, i, lang) for i, x in enumerate(g["canvasser"])]
        # numbered canvassers in natural order (2 before 10); pseudonyms alphabetically
        order = sorted(
            range(len(labels)), key=lambda i: labels[i] if salt else natural_key(labels[i])
        )
        rows, small = suppressed_rows(
            [labels[i] for i in order],
            [(int(households[i]), int(contacted[i])) for i in order],
            k,
            lang("coverage.canvassers_pooled"),
            lang,
        )
        note = lang("coverage.salted" if salt else "coverage.numbered")
        note += (
            " "
            + lang("coverage.not_counted", n=lang.count(set_aside), total=lang.count(rows_read))
            + " "
            + _note(small, len(g), k, lang("coverage.canvassers"), lang)
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
                tuple(rows),
                note=note,
            )
        )
    return Section("coverage", lang("coverage.title"), tuple(paras), tuple(tables), tuple(figs))
