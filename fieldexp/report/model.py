"""The typed report: what :func:`fieldexp.report.build_report` returns and the renderers read.

A :class:`Report` is a headline, a sequence of :class:`Section` (paragraphs, :class:`Table`
and :class:`Figure`), the list of every estimate (:class:`Estimate`, the ``results.json``
schema) and the :class:`Provenance`. Everything is an aggregate: counts below the
small-cell threshold are already replaced by the string ``"<k"`` when the report is built.
Every object renders as HTML in Jupyter (``_repr_html_``): the HTML itself is made by
:mod:`fieldexp.report.html`, which registers itself here (this module holds data only and
imports no renderer).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Union

import numpy as np
import pandas as pd

from fieldexp.report.language import get_language

__all__ = [
    "JSON",
    "RESULTS_SCHEMA_VERSION",
    "Cell",
    "DidSummary",
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
#: A JSON value as ``results.json`` holds it.
JSON = Union[str, int, float, bool, None, list["JSON"], dict[str, "JSON"]]  # noqa: UP007

_html_renderer: Callable[[object], str] | None = None


def register_html_renderer(renderer: Callable[[object], str]) -> None:
    """Set the function ``_repr_html_`` calls (done by :mod:`fieldexp.report.html`)."""
    global _html_renderer
    _html_renderer = renderer


class _Displayable:
    """Jupyter display through the registered HTML renderer."""

    __slots__ = ()

    def _repr_html_(self) -> str:
        if _html_renderer is None:  # pragma: no cover - fieldexp.report registers it
            return f"<pre>{self!r}</pre>"
        return _html_renderer(self)


#: Column formats: how a cell is shown (the value itself is kept exact in JSON/CSV).
FORMATS = ("text", "int", "est", "se", "p", "pct", "num", "money", "df")


def format_cell(value: Cell, fmt: str, language: str = "en") -> str:
    """Show one cell: ``None``/NaN as an en dash, suppressed cells (``"<k"``) as they are.

    Numbers are written as ``language`` writes them (:mod:`fieldexp.report.language`:
    ``12,345.6`` in English, ``12 345,6`` in French).
    """
    return get_language(language).cell(value, fmt)


@dataclass(frozen=True, slots=True)
class Table(_Displayable):
    """A table of aggregates: ``key`` names its CSV/LaTeX files (``tables/<key>.csv``)."""

    key: str
    title: str
    columns: tuple[str, ...]
    formats: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    note: str = ""

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([list(r) for r in self.rows], columns=list(self.columns))

    def formatted(self, language: str = "en") -> list[list[str]]:
        """The cells as shown, numbers written as ``language`` writes them."""
        lang = get_language(language)
        return [[lang.cell(v, f) for v, f in zip(r, self.formats, strict=True)] for r in self.rows]

    def to_dict(self) -> dict[str, JSON]:
        return {
            "key": self.key,
            "title": self.title,
            "columns": list(self.columns),
            "rows": [[_json_value(v) for v in r] for r in self.rows],
            "note": self.note,
        }


@dataclass(frozen=True, slots=True)
class Figure(_Displayable):
    """An inline SVG figure (stable bytes: fixed hash salt, no date metadata)."""

    key: str
    title: str
    svg: str
    alt: str


@dataclass(frozen=True, slots=True)
class Section(_Displayable):
    """One part of the report. ``available=False`` sections say why in ``reason``."""

    key: str
    title: str
    paragraphs: tuple[str, ...] = ()
    tables: tuple[Table, ...] = ()
    figures: tuple[Figure, ...] = ()
    available: bool = True
    reason: str = ""
    summary: Headline | DidSummary | Provenance | None = None


@dataclass(frozen=True, slots=True)
class Interval:
    """A point estimate with its confidence interval (bounds may be infinite)."""

    estimate: float
    ci_low: float
    ci_high: float

    def to_dict(self) -> dict[str, JSON]:
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
    caution: str | None = None

    def to_dict(self) -> dict[str, JSON]:
        out: dict[str, JSON] = {}
        for name in self.__slots__:
            value = getattr(self, name)
            out[name] = [str(v) for v in value] if isinstance(value, tuple) else _json_value(value)
        return out


@dataclass(frozen=True, slots=True)
class Headline(_Displayable):
    """The plain-language summary of the headline outcome.

    ``caution`` (a weak first stage or a useless CACE interval) is shown beside the CACE;
    ``withheld`` says why net votes and cost per net vote are not given (then ``None``).
    ``p_value`` is the p-value the conclusion rests on: the adjusted one when
    ``adjustment`` is set. ``unit`` is ``"voter"`` or ``"polling station"``.
    """

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
    caution: str | None = None
    withheld: str | None = None
    p_value: float | None = None
    adjustment: str | None = None
    unit: str = "voter"

    def to_dict(self) -> dict[str, JSON]:
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
            "caution": self.caution,
            "withheld": self.withheld,
            "p_value": _json_value(self.p_value),
            "adjustment": self.adjustment,
            "unit": self.unit,
        }


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

    def to_dict(self) -> dict[str, JSON]:
        return {
            "spec_file": self.spec_file,
            "spec_sha256": self.spec_sha256,
            "spec_text": self.spec_text,
            "inputs": [
                {"table": t, "file": f, "format": fmt, "sha256": h, "bytes": n}
                for t, f, fmt, h, n in self.inputs
            ],
            "seeds": {k: v for k, v in self.seeds},
            "versions": {k: v for k, v in self.versions},
            "generated_at": self.generated_at,
        }


@dataclass(frozen=True, slots=True)
class DidSummary:
    """The ``did`` object of ``results.json`` (see ``docs/report.md``)."""

    target: str
    periods: tuple[str, ...]
    estimator: str
    pretest: tuple[tuple[str, float], ...] = ()
    overall: Interval | None = None
    overall_std_error: float | None = None
    overall_p_value: float | None = None
    comparison: str | None = None
    bootstrap_reps: int | None = None
    bootstrap_seed: int | None = None
    critical_value: float | None = None

    def to_dict(self) -> dict[str, JSON]:
        out: dict[str, JSON] = {
            "target": self.target,
            "periods": list(self.periods),
            "estimator": self.estimator,
        }
        if self.pretest:
            out["pretest"] = {k: _json_value(v) for k, v in self.pretest}
        if self.overall is not None:
            out["overall"] = {
                "estimate": _json_value(self.overall.estimate),
                "std_error": _json_value(self.overall_std_error),
                "ci_low": _json_value(self.overall.ci_low),
                "ci_high": _json_value(self.overall.ci_high),
                "p_value": _json_value(self.overall_p_value),
            }
            out["control"] = self.comparison
            out["comparison"] = self.comparison
            out["bootstrap_reps"] = self.bootstrap_reps
            out["bootstrap_seed"] = self.bootstrap_seed
            out["critical_value"] = _json_value(self.critical_value)
        return out


@dataclass(frozen=True, slots=True, eq=False)
class Report(_Displayable):
    """The whole report (see :mod:`fieldexp.report.render` for its files).

    ``alpha`` is the significance level of every interval; ``small_cell`` the privacy
    threshold below which counts are shown as ``"<k"``; ``pseudonymised`` whether
    canvassers appear under salted pseudonyms; ``language`` the language of its text and
    numbers (``"en"``/``"fr"``, :mod:`fieldexp.report.language`).
    """

    title: str
    subtitle: str
    headline: Headline | None
    sections: tuple[Section, ...]
    estimates: tuple[Estimate, ...]
    provenance: Provenance
    alpha: float = 0.05
    small_cell: int = 10
    pseudonymised: bool = False
    did: DidSummary | None = None
    language: str = "en"

    @property
    def level(self) -> int:
        """Confidence level in percent (95 for ``alpha = 0.05``)."""
        return round(100 * (1 - self.alpha))

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

    def to_dict(self) -> dict[str, JSON]:
        """The ``results.json`` document (schema: ``docs/report.md``)."""
        out: dict[str, JSON] = {
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
        }
        if self.did is not None:
            out["did"] = self.did.to_dict()
        out["provenance"] = self.provenance.to_dict()
        return out

    def __str__(self) -> str:
        lines = [self.title]
        if self.headline:
            lines.extend(f"  {s}" for s in self.headline.sentences)
        for s in self.unavailable:
            lines.append(
                f"  {get_language(self.language)('report.not_included_line')}: "
                f"{s.title} ({s.reason})"
            )
        return "\n".join(lines)


def _json_value(value: object) -> JSON:
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        v = float(value)
        if math.isnan(v):
            return None
        if math.isinf(v):
            return "Infinity" if v > 0 else "-Infinity"
        return v
    return str(value)
