"""The typed report: what :func:`fieldexp.report.build_report` returns and the renderers read.

A :class:`Report` is a headline, a sequence of :class:`Section` (paragraphs, :class:`Table`
and :class:`Figure`), the list of every estimate (:class:`Estimate`, the ``results.json``
schema) and the :class:`Provenance`. Everything is an aggregate: counts below the
small-cell threshold are already replaced by the string ``"<k"`` when the report is built.
Every object renders as HTML in Jupyter (``_repr_html_``).
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

__all__ = [
    "RESULTS_SCHEMA_VERSION",
    "Cell",
    "Estimate",
    "Figure",
    "Headline",
    "Interval",
    "Provenance",
    "Report",
    "Section",
    "Table",
    "format_cell",
]

#: Version of the results.json schema (``docs/report.md``).
RESULTS_SCHEMA_VERSION = 1

Cell = str | int | float | None

#: Column formats: how a cell is shown (the value itself is kept exact in JSON/CSV).
FORMATS = ("text", "int", "est", "se", "p", "pct", "num", "money", "df")


def format_cell(value: Cell, fmt: str) -> str:
    """Show one cell: ``None``/NaN as an en dash, suppressed cells (``"<k"``) as they are."""
    if value is None:
        return "–"
    if isinstance(value, str):
        return value
    if isinstance(value, float) and not math.isfinite(value):
        return "∞" if value > 0 and math.isinf(value) else "–"
    if fmt == "int":
        return f"{int(value):,}"
    if fmt == "est":
        return f"{value:.4f}"
    if fmt == "se":
        return f"{value:.4f}"
    if fmt == "p":
        return "<0.001" if value < 0.001 else f"{value:.3f}"
    if fmt == "pct":
        return f"{100 * value:.1f}%"
    if fmt == "money":
        return f"{value:,.2f}"
    if fmt == "df":
        return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"
    if fmt == "num":
        return f"{value:,.3f}"
    return str(value)


@dataclass(frozen=True, slots=True)
class Table:
    """A table of aggregates: ``key`` names its CSV/LaTeX files (``tables/<key>.csv``)."""

    key: str
    title: str
    columns: tuple[str, ...]
    formats: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    note: str = ""

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([list(r) for r in self.rows], columns=list(self.columns))

    def formatted(self) -> list[list[str]]:
        return [
            [format_cell(v, f) for v, f in zip(r, self.formats, strict=True)] for r in self.rows
        ]

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "title": self.title,
            "columns": list(self.columns),
            "rows": [[_json_value(v) for v in r] for r in self.rows],
            "note": self.note,
        }

    def _repr_html_(self) -> str:
        head = "".join(f"<th>{html.escape(c)}</th>" for c in self.columns)
        body = "".join(
            "<tr>"
            + "".join(
                f'<td class="{"num" if f != "text" else "txt"}">{html.escape(v)}</td>'
                for v, f in zip(r, self.formats, strict=True)
            )
            + "</tr>"
            for r in self.formatted()
        )
        note = f'<p class="note">{html.escape(self.note)}</p>' if self.note else ""
        return (
            f'<table class="fx"><caption>{html.escape(self.title)}</caption>'
            f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{note}"
        )


@dataclass(frozen=True, slots=True)
class Figure:
    """An inline SVG figure (stable bytes: fixed hash salt, no date metadata)."""

    key: str
    title: str
    svg: str
    alt: str

    def _repr_html_(self) -> str:
        return f'<figure class="fx-figure" data-figure="{html.escape(self.key)}">{self.svg}<figcaption>{html.escape(self.title)}</figcaption></figure>'


@dataclass(frozen=True, slots=True)
class Section:
    """One part of the report. ``available=False`` sections say why in ``reason``."""

    key: str
    title: str
    paragraphs: tuple[str, ...] = ()
    tables: tuple[Table, ...] = ()
    figures: tuple[Figure, ...] = ()
    available: bool = True
    reason: str = ""

    def _repr_html_(self) -> str:
        parts = [f"<h3>{html.escape(self.title)}</h3>"]
        if not self.available:
            parts.append(f'<p class="unavailable">Not included: {html.escape(self.reason)}</p>')
        parts.extend(f"<p>{html.escape(p)}</p>" for p in self.paragraphs)
        parts.extend(f._repr_html_() for f in self.figures)
        parts.extend(t._repr_html_() for t in self.tables)
        return "".join(parts)


@dataclass(frozen=True, slots=True)
class Interval:
    """A point estimate with its confidence interval (bounds may be infinite)."""

    estimate: float
    ci_low: float
    ci_high: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "estimate": _json_value(self.estimate),
            "ci_low": _json_value(self.ci_low),
            "ci_high": _json_value(self.ci_high),
        }


@dataclass(frozen=True, slots=True)
class Estimate:
    """One estimate, as written to ``results.json`` (``estimates``)."""

    outcome: str
    outcome_label: str
    level: str
    arm: str
    estimand: str
    estimator: str
    se_type: str
    design: str
    term: str
    estimate: float
    std_error: float
    df: float
    p_value: float
    ci_low: float
    ci_high: float
    alpha: float
    nobs: int
    nclusters: int | None
    covariates: tuple[str, ...] = ()
    p_value_adjusted: float | None = None
    adjustment: str | None = None
    first_stage_f: float | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in self.__slots__:
            value = getattr(self, name)
            out[name] = list(value) if isinstance(value, tuple) else _json_value(value)
        return out


@dataclass(frozen=True, slots=True)
class Headline:
    """The plain-language summary of the headline outcome."""

    outcome: str
    outcome_label: str
    sentences: tuple[str, ...]
    itt: Interval | None
    cace: Interval | None
    contacts: int | None
    net_votes: Interval | None
    total_cost: float | None = None
    cost_per_net_vote: Interval | None = None
    currency: str | None = None
    net_label: str = "net votes gained"

    def to_dict(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome,
            "outcome_label": self.outcome_label,
            "sentences": list(self.sentences),
            "itt": self.itt.to_dict() if self.itt else None,
            "cace": self.cace.to_dict() if self.cace else None,
            "contacts": self.contacts,
            "net_votes": self.net_votes.to_dict() if self.net_votes else None,
            "total_cost": _json_value(self.total_cost),
            "cost_per_net_vote": self.cost_per_net_vote.to_dict()
            if self.cost_per_net_vote
            else None,
            "currency": self.currency,
            "net_label": self.net_label,
        }

    def _repr_html_(self) -> str:
        items = "".join(f"<li>{html.escape(s)}</li>" for s in self.sentences)
        return f'<div class="fx-headline"><ul>{items}</ul></div>'


@dataclass(frozen=True, slots=True)
class Provenance:
    """What produced the report: spec, inputs (SHA-256), seeds, versions."""

    spec_file: str
    spec_sha256: str
    spec_text: str
    inputs: tuple[tuple[str, str, str, str, int], ...]  # table, file, format, sha256, bytes
    seeds: tuple[tuple[str, int], ...]
    versions: tuple[tuple[str, str], ...]
    generated_at: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "spec_file": self.spec_file,
            "spec_sha256": self.spec_sha256,
            "spec_text": self.spec_text,
            "inputs": [
                {"table": t, "file": f, "format": fmt, "sha256": h, "bytes": n}
                for t, f, fmt, h, n in self.inputs
            ],
            "seeds": dict(self.seeds),
            "versions": dict(self.versions),
            "generated_at": self.generated_at,
        }


@dataclass(frozen=True, slots=True, eq=False)
class Report:
    """The whole report (see :mod:`fieldexp.report.render` for its files)."""

    title: str
    subtitle: str
    headline: Headline | None
    sections: tuple[Section, ...]
    estimates: tuple[Estimate, ...]
    provenance: Provenance
    extras: tuple[tuple[str, Any], ...] = field(default_factory=tuple)

    @property
    def unavailable(self) -> tuple[Section, ...]:
        return tuple(s for s in self.sections if not s.available)

    def section(self, key: str) -> Section:
        for s in self.sections:
            if s.key == key:
                return s
        raise KeyError(key)

    def tables(self) -> tuple[Table, ...]:
        return tuple(t for s in self.sections for t in s.tables)

    def figures(self) -> tuple[Figure, ...]:
        return tuple(f for s in self.sections for f in s.figures)

    def to_dict(self) -> dict[str, Any]:
        """The ``results.json`` document (schema: ``docs/report.md``)."""
        return {
            "schema": "fieldexp.results",
            "schema_version": RESULTS_SCHEMA_VERSION,
            "title": self.title,
            "subtitle": self.subtitle,
            "headline": self.headline.to_dict() if self.headline else None,
            "estimates": [e.to_dict() for e in self.estimates],
            "sections": [
                {
                    "key": s.key,
                    "title": s.title,
                    "available": s.available,
                    "reason": s.reason,
                    "paragraphs": list(s.paragraphs),
                    "tables": [t.to_dict() for t in s.tables],
                }
                for s in self.sections
            ],
            **{k: _json_tree(v) for k, v in self.extras},
            "provenance": self.provenance.to_dict(),
        }

    def _repr_html_(self) -> str:
        from fieldexp.report.render import render_fragment

        return render_fragment(self)

    def __str__(self) -> str:
        lines = [self.title]
        if self.headline:
            lines.extend(f"  {s}" for s in self.headline.sentences)
        for s in self.unavailable:
            lines.append(f"  not included: {s.title} ({s.reason})")
        return "\n".join(lines)


def _json_value(value: Any) -> Any:
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        return float(value)
    try:
        import numpy as np

        if isinstance(value, np.integer):
            return int(value)
        if isinstance(value, np.floating):
            return _json_value(float(value))
    except ImportError:  # pragma: no cover
        pass
    return str(value)


def _json_tree(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _json_tree(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_tree(v) for v in value]
    return _json_value(value)
