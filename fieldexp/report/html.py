"""The one module that produces HTML: the report page, its Jupyter fragment, object reprs.

:func:`render_html` is the self-contained ``report.html`` (inline CSS and SVG, no script,
no external asset); :func:`render_fragment` the body Jupyter shows; :func:`to_html` the
``_repr_html_`` of every report object (registered with :mod:`fieldexp.report.model` on
import, so the model holds data only). Every text is escaped by Jinja's autoescape or
:func:`html.escape`; SVG figures are inserted as produced by :mod:`fieldexp.report.figures`.
"""

from __future__ import annotations

import html
from importlib import resources

import jinja2

from fieldexp._version import __version__
from fieldexp.report.language import ENGLISH, get_language
from fieldexp.report.model import (
    Figure,
    Headline,
    Report,
    Section,
    Table,
    format_cell,
    register_html_renderer,
)

__all__ = [
    "render_fragment",
    "render_html",
    "template_context",
    "template_environment",
    "to_html",
]


def template_environment(*, autoescape: bool = True) -> jinja2.Environment:
    """The Jinja environment of the report templates (HTML autoescaped; Markdown not)."""
    return jinja2.Environment(
        loader=jinja2.PackageLoader("fieldexp.report", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"], default_for_string=True)
        if autoescape
        else False,
        trim_blocks=False,
        lstrip_blocks=False,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )


def template_context(report: Report) -> dict[str, object]:
    """What the templates see (the report's typed fields; nothing parsed from text)."""
    sections = [s for s in report.sections if s.key != "headline"]
    head = [s for s in report.sections if s.key == "headline"]
    lang = get_language(report.language)
    return {
        "report": report,
        "sections": sections,
        "headline_figures": head[0].figures if head else (),
        "version": __version__,
        "level": report.level,
        "ci": lang.ci(report.level),
        "small_cell": report.small_cell,
        "t": lang,
        "g": lang.g,
        "pp": lang.pp,
        "money": lambda x: format_cell(x, "money", report.language),
        "count": lambda x: lang.number(x, 0),
    }


def _css() -> str:
    return resources.files("fieldexp.report").joinpath("templates/report.css").read_text("utf-8")


def render_fragment(report: Report) -> str:
    """The report body as an HTML fragment (what Jupyter shows)."""
    body = (
        template_environment().get_template("fragment.html.j2").render(**template_context(report))
    )
    return f"<style>{_css()}</style>{body}"


def render_html(report: Report) -> str:
    """A self-contained HTML page: inline CSS and SVG, no scripts, no external assets."""
    env = template_environment()
    ctx = template_context(report)
    fragment = env.get_template("fragment.html.j2").render(**ctx)
    return env.get_template("report.html.j2").render(
        css=jinja2.utils.markupsafe.Markup(_css()),
        fragment=jinja2.utils.markupsafe.Markup(fragment),
        **ctx,
    )


def _table(t: Table, language: str = "en") -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in t.columns)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="{"num" if f != "text" else "txt"}">{html.escape(v)}</td>'
            for v, f in zip(r, t.formats, strict=True)
        )
        + "</tr>"
        for r in t.formatted(language)
    )
    note = f'<p class="note">{html.escape(t.note)}</p>' if t.note else ""
    return (
        f'<table class="fx"><caption>{html.escape(t.title)}</caption>'
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{note}"
    )


def _figure(f: Figure) -> str:
    return (
        f'<figure class="fx-figure" data-figure="{html.escape(f.key)}">{f.svg}'
        f"<figcaption>{html.escape(f.title)}</figcaption></figure>"
    )


def _section(s: Section) -> str:
    parts = [f"<h3>{html.escape(s.title)}</h3>"]
    if not s.available:
        parts.append(
            f'<p class="unavailable">{html.escape(ENGLISH("report.not_included", reason=s.reason))}</p>'
        )
    parts.extend(f"<p>{html.escape(p)}</p>" for p in s.paragraphs)
    parts.extend(_figure(f) for f in s.figures)
    parts.extend(_table(t) for t in s.tables)
    return "".join(parts)


def _headline(h: Headline) -> str:
    items = "".join(f"<li>{html.escape(s)}</li>" for s in h.sentences)
    caution = f'<p class="caution">{html.escape(h.caution)}</p>' if h.caution else ""
    return f'<div class="fx-headline">{caution}<ul>{items}</ul></div>'


def to_html(obj: object) -> str:
    """HTML of a report object (what ``_repr_html_`` returns)."""
    if isinstance(obj, Report):
        return render_fragment(obj)
    if isinstance(obj, Section):
        return _section(obj)
    if isinstance(obj, Table):
        return _table(obj)
    if isinstance(obj, Figure):
        return _figure(obj)
    if isinstance(obj, Headline):
        return _headline(obj)
    return f"<pre>{html.escape(repr(obj))}</pre>"


register_html_renderer(to_html)
