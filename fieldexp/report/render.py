"""Render a :class:`~fieldexp.report.model.Report` to Markdown, JSON, CSV and LaTeX; write it.

HTML is :mod:`fieldexp.report.html` (the only module that produces HTML).

Output is deterministic: no timestamps (unless the spec asks), figures with stable SVG
bytes, JSON with a fixed key order. Markdown and CSV are escaped like the HTML
(:mod:`fieldexp.report.safety`); :func:`write_report` writes only under the output folder
and refuses to write files in which an input id or personal value appears.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable
from pathlib import Path

from fieldexp.errors import DataError, SpecificationError
from fieldexp.report.html import render_html, template_context, template_environment
from fieldexp.report.model import Report, Table
from fieldexp.report.safety import (
    Forbidden,
    csv_cell,
    find_leaks,
    md_escape,
    safe_name,
    safe_path,
    write_text,
)

__all__ = [
    "render_csv",
    "render_json",
    "render_latex",
    "render_markdown",
    "write_report",
]


class _Markdown(str):
    """Markdown already escaped (a table built by :func:`_md_table`)."""


def _md_finalize(value: object) -> object:
    """Every ``{{ value }}`` of the Markdown template is escaped, like HTML autoescape."""
    if isinstance(value, _Markdown | int | float):
        return value
    return md_escape(value)


def _md_table(t: Table, language: str = "en") -> _Markdown:
    def cell(v: str) -> str:
        return md_escape(v, cell=True)

    head = "| " + " | ".join(cell(c) for c in t.columns) + " |"
    align = "| " + " | ".join("---" if f == "text" else "---:" for f in t.formats) + " |"
    body = ["| " + " | ".join(cell(v) for v in row) + " |" for row in t.formatted(language)]
    return _Markdown("\n".join([head, align, *body]))


def render_markdown(report: Report) -> str:
    """``report.md``: every text from the spec or data is escaped (:func:`md_escape`)."""
    env = template_environment(autoescape=False)
    env.finalize = _md_finalize  # every {{ value }} escaped, like HTML autoescape
    text = env.get_template("report.md.j2").render(
        md_table=lambda t: _md_table(t, report.language), **template_context(report)
    )
    return re.sub(r"\n{3,}", "\n\n", text)


def render_json(report: Report) -> str:
    return json.dumps(report.to_dict(), indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def render_csv(table: Table) -> str:
    """The table as CSV: numbers exact, text cells neutralised against formulas."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow([csv_cell(c) for c in table.columns])
    for row in table.rows:
        w.writerow(
            ["" if v is None else (repr(v) if isinstance(v, float) else csv_cell(v)) for v in row]
        )
    return buf.getvalue()


_LATEX_SPECIAL = {
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "\\": r"\textbackslash{}",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
    "–": "--",
    "∞": r"$\infty$",
    "\u202f": r"\,",  # French thousands separator (narrow no-break space)
    "\u00a0": "~",  # no-break space (French "3,2 %")
}


def _tex(text: str) -> str:
    return "".join(_LATEX_SPECIAL.get(ch, ch) for ch in text)


def _tex_label(key: str) -> str:
    return re.sub(r"[^A-Za-z0-9:.-]", "-", safe_name(key))


def render_latex(table: Table, language: str = "en") -> str:
    """A booktabs ``table`` environment (``\\usepackage{booktabs}``); numbers as ``language``."""
    spec = "".join("l" if f == "text" else "r" for f in table.formats)
    lines = [
        r"\begin{table}[htbp]",
        r"\centering",
        rf"\caption{{{_tex(table.title)}}}",
        rf"\label{{tab:{_tex_label(table.key)}}}",
        rf"\begin{{tabular}}{{{spec}}}",
        r"\toprule",
        " & ".join(_tex(c) for c in table.columns) + r" \\",
        r"\midrule",
    ]
    lines.extend(" & ".join(_tex(v) for v in row) + r" \\" for row in table.formatted(language))
    lines.append(r"\bottomrule")
    lines.append(r"\end{tabular}")
    if table.note:
        lines.append(rf"\par\smallskip\footnotesize {_tex(table.note)}")
    lines.append(r"\end{table}")
    return "\n".join(lines) + "\n"


def _estimates_table(report: Report) -> str:
    rows = [e.to_dict() for e in report.estimates]
    if not rows:
        return ""
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow(
            {
                k: csv_cell(";".join(map(str, v)))
                if isinstance(v, list)
                else ("" if v is None else csv_cell(v))
                for k, v in r.items()
            }
        )
    return buf.getvalue()


def write_report(
    report: Report,
    out: str | Path,
    *,
    forbidden: Forbidden | Iterable[object] = (),
) -> dict[str, Path]:
    """Write ``report.html``, ``report.md``, ``results.json`` and ``tables/*.csv|.tex``.

    File names are made from the table keys by :func:`~fieldexp.report.safety.safe_name`
    and every path is checked to stay under ``out`` (symbolic links resolved) before
    anything is written. ``forbidden``: the ids and personal values of the inputs
    (:func:`fieldexp.report.identifier_tokens`; a plain set of strings is read as ids);
    when one would appear in an output (see :func:`~fieldexp.report.safety.find_leaks`),
    nothing is written and :class:`DataError` is raised.
    """
    files: dict[tuple[str, ...], str] = {
        ("report.html",): render_html(report),
        ("report.md",): render_markdown(report),
        ("results.json",): render_json(report),
    }
    est = _estimates_table(report)
    if est:
        files[("tables", "estimates.csv")] = est
    owners: dict[str, str] = {}
    for t in report.tables():
        stem = safe_name(t.key)
        if stem in owners and owners[stem] != t.key:
            raise SpecificationError(
                f"tables {owners[stem]!r} and {t.key!r} would be written to the same file "
                f"tables/{stem}.csv; rename one of the columns or outcomes they come from"
            )
        owners[stem] = t.key
        files[("tables", f"{stem}.csv")] = render_csv(t)
        files[("tables", f"{stem}.tex")] = render_latex(t, report.language)
    leaks = find_leaks(report, files.values(), Forbidden.of(forbidden))
    if leaks:
        raise DataError(
            f"privacy check: input ids or personal data would appear in the report outputs "
            f"({'; '.join(leaks[:5])}); nothing was written. Check the spec for columns that "
            "hold ids or personal data (e.g. [coverage] by or [subgroups] by)."
        )
    out = Path(out)
    for parts in files:  # every path checked before anything is created or written
        safe_path(out, *parts)
    out.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    for parts, text in files.items():
        write_text(out, parts, text)
        written["/".join(parts)] = out.joinpath(*map(safe_name, parts))
    return written
