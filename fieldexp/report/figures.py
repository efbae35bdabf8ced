"""Matplotlib figures as inline SVG with stable bytes.

``svg.hashsalt`` is fixed (element ids no longer depend on a random salt), the ``Date``
metadata is removed, and text stays text (``svg.fonttype = "none"``), so the same numbers
give the same SVG bytes on every run.

Labels come from the spec and the data, so they are never parsed: ``text.parse_math`` is
off (a label such as ``"$x^{"`` is drawn as written, never handed to mathtext) and
``text.usetex`` is off whatever the user's ``matplotlibrc`` says (no label reaches LaTeX).

Labels are never cut mid-word: long ones are wrapped between words
(:func:`fieldexp.report.language.wrap`, at most three lines, the last shortened at a word
boundary with ``…``), and the figure grows to hold them. ``language="fr"`` writes tick
numbers with a decimal comma.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Sequence
from typing import Any

from fieldexp.report.language import ENGLISH, get_language, shorten, wrap

__all__ = ["bar_figure", "event_study_figure", "forest_figure", "sorted_share_figure", "svg_of"]

_STYLE: dict[str, Any] = {
    "svg.hashsalt": "fieldexp-report",
    "svg.fonttype": "none",
    "font.family": "sans-serif",
    "font.size": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 11,
    "figure.dpi": 96,
    # labels are data: never mathtext, never LaTeX
    "text.parse_math": False,
    "text.usetex": False,
}
#: Characters per line of a wrapped row label (forest plots) and category label (bars).
LABEL_WIDTH = 42
CATEGORY_WIDTH = 14
BLUE = "#1f5fa8"


def _localise_ticks(axis: Any, language: str) -> None:
    """Tick numbers with the language's decimal mark (a comma in French)."""
    if language == "en":
        return
    from matplotlib.ticker import FuncFormatter

    lang = get_language(language)

    def fmt(v: float, _pos: object) -> str:
        text = f"{v:.10g}"
        decimals = len(text.partition(".")[2]) if "e" not in text else 3
        return lang.number(v, decimals).replace("-", "\u2212")

    axis.set_major_formatter(FuncFormatter(fmt))


GREY = "#8a8f98"


def svg_of(draw: Callable[[Any], None], *, size: tuple[float, float] = (7.0, 3.2)) -> str:
    """Run ``draw(fig)`` on a fresh figure and return its SVG (no XML prolog)."""
    import matplotlib
    from matplotlib.figure import Figure  # not pyplot: the caller's backend stays as it is

    with matplotlib.rc_context(_STYLE):  # type: ignore[arg-type]
        fig = Figure(figsize=size)
        try:
            draw(fig)
            fig.tight_layout()
            buf = io.StringIO()
            fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": "fieldexp"})
        finally:
            fig.clear()
    text = buf.getvalue()
    start = text.find("<svg")
    svg = text[start:] if start >= 0 else text
    # scale with the page: drop the fixed pt size, keep the viewBox
    head_end = svg.find(">")
    head = svg[:head_end]
    for attr in ("width", "height"):
        i = head.find(f' {attr}="')
        if i >= 0:
            j = head.find('"', i + len(attr) + 3)
            head = head[:i] + head[j + 1 :]
    return head + ' role="img" style="width:100%;height:auto;max-width:760px"' + svg[head_end:]


def forest_figure(
    labels: Sequence[str],
    estimates: Sequence[float],
    lows: Sequence[float],
    highs: Sequence[float],
    *,
    xlabel: str,
    scale: float = 100.0,
    language: str = "en",
) -> str:
    """Point estimates with confidence intervals, one row per label (in percentage points).

    Labels longer than :data:`LABEL_WIDTH` characters are wrapped between words (never cut
    inside one); rows are as tall as their longest label.
    """
    shown = [wrap(label, LABEL_WIDTH, max_lines=3) for label in labels]
    lines = max((t.count("\n") + 1 for t in shown), default=1)

    def draw(fig: Any) -> None:
        ax = fig.add_subplot(1, 1, 1)
        n = len(labels)
        ys = list(range(n))[::-1]
        for y, est, lo, hi in zip(ys, estimates, lows, highs, strict=True):
            if math.isfinite(lo) and math.isfinite(hi):
                ax.plot([lo * scale, hi * scale], [y, y], color=BLUE, linewidth=2.5)
            ax.plot([est * scale], [y], "o", color=BLUE, markersize=7)
        ax.axvline(0.0, color="black", linewidth=0.8)
        ax.set_yticks(ys)
        ax.set_yticklabels(shown)
        ax.set_xlabel(xlabel)
        _localise_ticks(ax.xaxis, language)
        ax.set_ylim(-0.7, n - 0.3)
        ax.grid(axis="x", color="#e3e5e8", linewidth=0.8)
        ax.set_axisbelow(True)

    return svg_of(draw, size=(7.0, (0.55 + 0.18 * (lines - 1)) * len(labels) + 1.3))


def bar_figure(
    categories: Sequence[str],
    series: Sequence[tuple[str, Sequence[float]]],
    *,
    ylabel: str,
    percent: bool = True,
    language: str = "en",
) -> str:
    """Grouped bars (e.g. share attempted / contacted by precinct).

    Category labels are wrapped between words (a few categories) or shortened at a word
    boundary with ``…`` (many, drawn slanted): never cut inside a word.
    """
    many = len(categories) >= 9
    names = [shorten(c, 24) if many else wrap(c, CATEGORY_WIDTH, max_lines=3) for c in categories]
    lines = max((t.count("\n") + 1 for t in names), default=1)

    def draw(fig: Any) -> None:
        ax = fig.add_subplot(1, 1, 1)
        k = len(series)
        width = 0.8 / max(k, 1)
        colors = [BLUE, "#f0a030", GREY, "#3a9a5b"]
        xs = range(len(categories))
        for j, (name, values) in enumerate(series):
            vals = [
                (100 * v if percent else v) if v is not None and math.isfinite(v) else 0.0
                for v in values
            ]
            ax.bar(
                [x + (j - (k - 1) / 2) * width for x in xs],
                vals,
                width,
                label=name,
                color=colors[j % 4],
            )
        ax.set_xticks(list(xs))
        ax.set_xticklabels(
            names,
            rotation=45 if many else 0,
            ha="right" if many else "center",
        )
        ax.set_ylabel(ylabel)
        _localise_ticks(ax.yaxis, language)
        if percent:
            ax.set_ylim(0, 100)
        ax.legend(frameon=False, ncol=k, loc="upper right", bbox_to_anchor=(1, 1.18))
        ax.grid(axis="y", color="#e3e5e8", linewidth=0.8)
        ax.set_axisbelow(True)

    return svg_of(draw, size=(7.0, 3.2 + 0.15 * (lines - 1)))


def sorted_share_figure(
    series: Sequence[tuple[str, Sequence[float]]],
    *,
    xlabel: str,
    ylabel: str,
    percent: bool = True,
    language: str = "en",
) -> str:
    """Each series sorted from highest to lowest, one line per series (many groups).

    A bar per group stops being readable (and costs one drawn artist per bar) beyond a few
    dozen groups; this draws the distribution of the shares instead: point *j* of a line
    is the *j*-th highest share of its series (the series are sorted separately). The
    groups themselves are in the section's table and its CSV.
    """

    def draw(fig: Any) -> None:
        ax = fig.add_subplot(1, 1, 1)
        colors = [BLUE, "#f0a030", GREY, "#3a9a5b"]
        for j, (name, values) in enumerate(series):
            vals = sorted(
                ((100 * v if percent else v) for v in values if v is not None and math.isfinite(v)),
                reverse=True,
            )
            ax.plot(
                range(1, len(vals) + 1),
                vals,
                drawstyle="steps-mid",
                linewidth=1.8,
                label=name,
                color=colors[j % 4],
            )
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        _localise_ticks(ax.yaxis, language)
        if percent:
            ax.set_ylim(0, 100)
        ax.set_xlim(left=0.5)
        ax.legend(frameon=False, ncol=len(series), loc="upper right", bbox_to_anchor=(1, 1.18))
        ax.grid(axis="y", color="#e3e5e8", linewidth=0.8)
        ax.set_axisbelow(True)

    return svg_of(draw, size=(7.0, 3.2))


def event_study_figure(
    event_times: Sequence[float],
    estimates: Sequence[float],
    lows: Sequence[float],
    highs: Sequence[float],
    *,
    reference: int,
    outcome_label: str,
    language: str = "en",
) -> str:
    """Event-study coefficients (percentage points) with CIs; pre-periods grey."""
    lang = get_language(language) if language != "en" else ENGLISH
    ylabel = wrap(outcome_label, 50, max_lines=2) + "\n" + lang("figure.event_axis")

    def draw(fig: Any) -> None:
        ax = fig.add_subplot(1, 1, 1)
        for e, est, lo, hi in zip(event_times, estimates, lows, highs, strict=True):
            color = GREY if e < 0 else BLUE
            if math.isfinite(lo) and math.isfinite(hi):
                ax.plot([e, e], [100 * lo, 100 * hi], color=color, linewidth=2.5)
            ax.plot([e], [100 * est], "o", color=color, markersize=7)
        ax.axhline(0.0, color="black", linewidth=0.8)
        ax.axvline(reference + 0.5, color=GREY, linestyle=":", linewidth=1)
        ax.set_xticks(list(event_times))
        ax.set_xlabel(lang("figure.event_time"))
        ax.set_ylabel(ylabel)
        _localise_ticks(ax.yaxis, language)
        ax.grid(axis="y", color="#e3e5e8", linewidth=0.8)
        ax.set_axisbelow(True)

    return svg_of(draw, size=(7.0, 3.4))
