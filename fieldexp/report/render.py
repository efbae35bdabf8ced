"""Render a :class:`~fieldexp.report.model.Report` to Markdown, JSON, CSV and LaTeX; write it.

HTML is :mod:`fieldexp.report.html` (the only module that produces HTML).

Output is deterministic: no timestamps (unless the spec asks), figures with stable SVG
bytes, JSON with a fixed key order. :func:`write_report` refuses to write files in which
any forbidden token (the voter and household ids of the inputs) appears.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable
from pathlib import Path

from fieldexp.errors import DataError
from fieldexp.report.html import render_html, template_context, template_environment
from fieldexp.report.model import Report, Table

__all__ = [
    "render_csv",
    "render_json",
    "render_latex",
    "render_markdown",
    "write_report",
]


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|")


def _md_table(t: Table) -> str:
    head = "| " + " | ".join(_md_escape(c) for c in t.columns) + " |"
    align = "| " + " | ".join("---" if f == "text" else "---:" for f in t.formats) + " |"
    body = ["| " + " | ".join(_md_escape(v) for v in row) + " |" for row in t.formatted()]
    return "\n".join([head, align, *body])


def render_markdown(report: Report) -> str:
    env = template_environment(autoescape=False)
    text = env.get_template("report.md.j2").render(md_table=_md_table, **template_context(report))
    return re.sub(r"\n{3,}", "\n\n", text)


def render_json(report: Report) -> str:
    return json.dumps(report.to_dict(), indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def render_csv(table: Table) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(table.columns)
    for row in table.rows:
        w.writerow(["" if v is None else (repr(v) if isinstance(v, float) else v) for v in row])
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
}


def _tex(text: str) -> str:
    return "".join(_LATEX_SPECIAL.get(ch, ch) for ch in text)


def render_latex(table: Table) -> str:
    """A booktabs ``table`` environment (``\\usepackage{booktabs}``)."""
    spec = "".join("l" if f == "text" else "r" for f in table.formats)
    lines = [
        r"\begin{table}[htbp]",
        r"\centering",
        rf"\caption{{{_tex(table.title)}}}",
        rf"\label{{tab:{table.key.replace('_', '-')}}}",
        rf"\begin{{tabular}}{{{spec}}}",
        r"\toprule",
        " & ".join(_tex(c) for c in table.columns) + r" \\",
        r"\midrule",
    ]
    lines.extend(" & ".join(_tex(v) for v in row) + r" \\" for row in table.formatted())
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
                k: ";".join(map(str, v)) if isinstance(v, list) else ("" if v is None else v)
                for k, v in r.items()
            }
        )
    return buf.getvalue()


def find_leaks(texts: Iterable[str], forbidden: set[str]) -> list[str]:
    """Forbidden tokens (ids) that appear as whole words in ``texts``."""
    if not forbidden:
        return []
    found: set[str] = set()
    for text in texts:
        for token in re.findall(r"[\w\-.]+", text):
            if token in forbidden:
                found.add(token)
    return sorted(found)


def write_report(
    report: Report, out: str | Path, *, forbidden: Iterable[str] = ()
) -> dict[str, Path]:
    """Write ``report.html``, ``report.md``, ``results.json`` and ``tables/*.csv|.tex``.

    ``forbidden``: tokens (e.g. the voter and household ids read) that must not appear in
    any output; when one does, nothing is written and :class:`DataError` is raised.
    """
    out = Path(out)
    files: dict[str, str] = {
        "report.html": render_html(report),
        "report.md": render_markdown(report),
        "results.json": render_json(report),
    }
    est = _estimates_table(report)
    if est:
        files["tables/estimates.csv"] = est
    for t in report.tables():
        files[f"tables/{t.key}.csv"] = render_csv(t)
        files[f"tables/{t.key}.tex"] = render_latex(t)
    leaks = find_leaks(files.values(), {str(x) for x in forbidden if len(str(x)) >= 3})
    if leaks:
        raise DataError(
            f"privacy check: {len(leaks)} input id(s) would appear in the report outputs; "
            "nothing was written. Check the spec for columns that hold ids "
            "(e.g. [coverage] by or [subgroups] by)."
        )
    written: dict[str, Path] = {}
    for name, text in files.items():
        path = out / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="\n")
        written[name] = path
    return written
