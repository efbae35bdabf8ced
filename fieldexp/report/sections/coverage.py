"""Field coverage: treatment households attempted and contacted, by area and by canvasser.

The counts are :mod:`fieldexp.analysis.coverage` on the same contacts as the analysis
(contact-log rows the reconciliation set aside are counted and shown as such). Only what
must be hidden is: a group under ``small_cell`` households shows ``"<k"``, and the small
groups together form one pooled row; a share resting on a small count is an upper bound
(``"<x%"``); the note says how many groups were suppressed.
"""

from __future__ import annotations

import hashlib

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

__all__ = ["build", "pseudonym", "suppressed_rows"]

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


def build(ctx: ReportContext) -> Section | None:
    """Left out when ``[coverage]`` is disabled or there is no contact log."""
    run, spec = ctx.run, ctx.spec
    cov = spec.coverage
    if cov is None:
        return None
    if run.engine is not None:  # [engine]: the counts are GROUP BY aggregates in the engine
        from fieldexp.report.sections.engine_coverage import build as build_in_engine

        return build_in_engine(
            ctx, suppressed_rows=suppressed_rows, pseudonym=pseudonym, group_note=_note
        )
    t = run.table
    if t is None or "attempted" not in t.columns:
        return None
    k = ctx.small_cell
    lang = ctx.lang
    hh = spec.analysis.clusters or ("household_id" if "household_id" in t.columns else "voter_id")
    tables = []
    figs = []
    for by in cov.by:
        if by not in t.columns:
            raise ColumnNotFoundError(
                f"[coverage] by: column {by!r} is not in the analysis table."
                + did_you_mean(by, [str(c) for c in t.columns])
            )
        g = household_coverage(
            t, arms=run.arms, household=hh, by=by, contacted=spec.analysis.treatment
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
                note=_note(small, len(g), k, lang("coverage.groups", by=by), lang),
            )
        )
        shown = [r for r in rows if isinstance(r[2], float) and isinstance(r[3], float)]
        if ctx.figures and shown:
            figs.append(_figure(by, shown, lang))
    paras = [lang("coverage.text")]
    rec = run.reconciliation
    if rec is not None and run.inputs.contacts is not None:
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
    contacts = run.inputs.contacts
    if (
        cov.canvasser
        and contacts is not None
        and "canvasser" in contacts.columns
        and contacts["canvasser"].notna().any()
    ):
        window = rec.campaign_window if rec is not None else None
        used = contacts_in_analysis(contacts, t, arms=run.arms, household=hh, window=window)
        g = canvasser_coverage(used)
        salt = spec.privacy.salt
        labels = [pseudonym(str(x), salt, i, lang) for i, x in enumerate(g["canvasser"])]
        # numbered canvassers in natural order (2 before 10); pseudonyms alphabetically
        order = sorted(
            range(len(labels)), key=lambda i: labels[i] if salt else natural_key(labels[i])
        )
        rows, small = suppressed_rows(
            [labels[i] for i in order],
            [(int(g["households"].iloc[i]), int(g["contacted"].iloc[i])) for i in order],
            k,
            lang("coverage.canvassers_pooled"),
            lang,
        )
        note = lang("coverage.salted" if salt else "coverage.numbered")
        note += (
            " "
            + lang(
                "coverage.not_counted",
                n=lang.count(used.set_aside),
                total=lang.count(used.rows_read),
            )
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
