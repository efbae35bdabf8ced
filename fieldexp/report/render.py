"""Render a :class:`~fieldexp.report.model.Report` to HTML, Markdown, JSON, CSV and LaTeX.

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
from importlib import resources
from pathlib import Path

import jinja2

from fieldexp._version import __version__
from fieldexp.errors import DataError
from fieldexp.report.model import Report, Table, format_cell

__all__ = [
    "render_csv",
    "render_fragment",
    "render_html",
    "render_json",
    "render_latex",
    "render_markdown",
    "write_report",
]


def _env() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("fieldexp.report", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"], default_for_string=True),
        trim_blocks=False,
        lstrip_blocks=False,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )


def _context(report: Report) -> dict[str, object]:
    level = 95
    if report.estimates:
        level = round(100 * (1 - report.estimates[0].alpha))
    small_cell = 10
    for line in report.provenance.spec_text.splitlines():
        m = re.match(r"\s*small_cell\s*=\s*(\d+)", line)
        if m:
            small_cell = int(m.group(1))
    sections = [s for s in report.sections if s.key != "headline"]
    head = [s for s in report.sections if s.key == "headline"]
    return {
        "report": report,
        "sections": sections,
        "headline_figures": head[0].figures if head else (),
        "version": __version__,
        "level": level,
        "small_cell": small_cell,
        "pp": lambda x: f"{100 * x:+.1f}",
        "money": lambda x: format_cell(x, "money"),
    }


def render_fragment(report: Report) -> str:
    """The report body as an HTML fragment (what Jupyter shows)."""
    css = resources.files("fieldexp.report").joinpath("templates/report.css").read_text("utf-8")
    body = _env().get_template("fragment.html.j2").render(**_context(report))
    return f"<style>{css}</style>{body}"


def render_html(report: Report) -> str:
    """A self-contained HTML page: inline CSS and SVG, no scripts, no external assets."""
    env = _env()
    css = resources.files("fieldexp.report").joinpath("templates/report.css").read_text("utf-8")
    ctx = _context(report)
    fragment = env.get_template("fragment.html.j2").render(**ctx)
    return env.get_template("report.html.j2").render(
        css=jinja2.utils.markupsafe.Markup(css),
        fragment=jinja2.utils.markupsafe.Markup(fragment),
        **ctx,
    )


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|")


def _md_table(t: Table) -> str:
    head = "| " + " | ".join(_md_escape(c) for c in t.columns) + " |"
    align = "| " + " | ".join("---" if f == "text" else "---:" for f in t.formats) + " |"
    body = ["| " + " | ".join(_md_escape(v) for v in row) + " |" for row in t.formatted()]
    return "\n".join([head, align, *body])


def render_markdown(report: Report) -> str:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("fieldexp.report", "templates"),
        autoescape=False,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    text = env.get_template("report.md.j2").render(md_table=_md_table, **_context(report))
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
                k: ";".join(v) if isinstance(v, list) else ("" if v is None else v)
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
