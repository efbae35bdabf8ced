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
from fieldexp.report.model import Cell, Figure, Section, Table
from fieldexp.report.sections.common import natural_key, num, share, suppress
from fieldexp.report.sections.context import ReportContext

__all__ = ["build", "pseudonym", "suppressed_rows"]

TITLE = "Field coverage"


def pseudonym(value: str, salt: str | None, index: int) -> str:
    """``"canvasser <index + 1>"`` without a salt, else ``"C-"`` + 8 hex of SHA-256(salt, id)."""
    if salt is None:
        return f"canvasser {index + 1}"
    return "C-" + hashlib.sha256(f"{salt}\x00{value}".encode()).hexdigest()[:8]


def suppressed_rows(
    labels: list[str], counts: list[tuple[int, ...]], k: int, pooled_label: str
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
            rows.append((lab, n, *(share(x, n, k) for x in c[1:])))
    if len(small) > 1:
        pooled = tuple(sum(c[i] for c in small) for i in range(len(small[0])))
        n = pooled[0]
        rows.append(
            (
                f"{pooled_label} ({len(small)} groups under {k})",
                suppress(n, k),
                *(share(x, n, k) for x in pooled[1:]),
            )
        )
    return rows, len(small)


def _note(suppressed: int, total: int, k: int, what: str) -> str:
    if not suppressed:
        return f"No {what} under {k} households: nothing suppressed."
    return (
        f"{suppressed} of {total} {what} have fewer than {k} households: shown as <{k}, "
        "without shares, and pooled in the last row. A share resting on fewer than "
        f"{k} households is shown as an upper bound (<x%)."
    )


def build(ctx: ReportContext) -> Section | None:
    """Left out when ``[coverage]`` is disabled or there is no contact log."""
    run, spec = ctx.run, ctx.spec
    cov = spec.coverage
    if cov is None:
        return None
    t = run.table
    if t is None or "attempted" not in t.columns:
        return None
    k = ctx.small_cell
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
            f"{by}: pooled",
        )
        tables.append(
            Table(
                f"coverage_{by}",
                f"Treatment households attempted and contacted, by {by}",
                (by, "households", "share attempted", "share contacted"),
                ("text", "int", "pct", "pct"),
                tuple(rows),
                note=_note(small, len(g), k, f"{by} groups"),
            )
        )
        shown = [r for r in rows if isinstance(r[2], float) and isinstance(r[3], float)]
        if ctx.figures and shown:
            figs.append(
                Figure(
                    f"coverage_{by}",
                    f"Share of treatment households reached, by {by}",
                    figures.bar_figure(
                        [str(r[0]) for r in shown],
                        [
                            ("attempted", [num(r[2]) for r in shown]),
                            ("contacted", [num(r[3]) for r in shown]),
                        ],
                        ylabel="share of households (%)",
                    ),
                    f"Bars of attempted and contacted shares by {by}",
                )
            )
    paras = [
        "Shares are among households assigned to canvassing, from the same contacts as the "
        "analysis (inside the campaign window, for units of the experiment)."
    ]
    rec = run.reconciliation
    if rec is not None and run.inputs.contacts is not None:
        aside = [
            e for e in rec.entries if e.table == "contacts" and not e.status.startswith("used")
        ]
        aside = [e for e in aside if not e.reason.startswith("used")]
        if aside:
            paras.append(
                "Contact-log rows the reconciliation set aside (not counted here either): "
                + "; ".join(f"{e.reason}: {e.rows:,}" for e in aside)
                + "."
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
        labels = [pseudonym(str(x), salt, i) for i, x in enumerate(g["canvasser"])]
        # numbered canvassers in natural order (2 before 10); pseudonyms alphabetically
        order = sorted(
            range(len(labels)), key=lambda i: labels[i] if salt else natural_key(labels[i])
        )
        rows, small = suppressed_rows(
            [labels[i] for i in order],
            [(int(g["households"].iloc[i]), int(g["contacted"].iloc[i])) for i in order],
            k,
            "canvassers pooled",
        )
        note = (
            "Canvassers are shown under salted pseudonyms (the key stays with the campaign)."
            if salt
            else "Canvassers are numbered; set [privacy] salt for stable pseudonyms."
        )
        note += (
            f" {used.set_aside:,} of {used.rows_read:,} contact-log rows are not counted here "
            "(set aside by the reconciliation, control units, or no canvasser recorded). "
            + _note(small, len(g), k, "canvassers")
        )
        tables.append(
            Table(
                "coverage_canvasser",
                "Households knocked and share with a conversation, by canvasser",
                ("canvasser", "households knocked", "share contacted"),
                ("text", "int", "pct"),
                tuple(rows),
                note=note,
            )
        )
    return Section("coverage", TITLE, tuple(paras), tuple(tables), tuple(figs))
