"""Matplotlib figures as inline SVG with stable bytes.

``svg.hashsalt`` is fixed (element ids no longer depend on a random salt), the ``Date``
metadata is removed, and text stays text (``svg.fonttype = "none"``), so the same numbers
give the same SVG bytes on every run.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["bar_figure", "event_study_figure", "forest_figure", "svg_of"]

_STYLE: dict[str, Any] = {
    "svg.hashsalt": "fieldexp-report",
    "svg.fonttype": "none",
    "font.family": "sans-serif",
    "font.size": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 11,
    "figure.dpi": 96,
}
BLUE = "#1f5fa8"
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
) -> str:
    """Point estimates with confidence intervals, one row per label (in percentage points)."""

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
        ax.set_yticklabels(list(labels))
        ax.set_xlabel(xlabel)
        ax.set_ylim(-0.7, n - 0.3)
        ax.grid(axis="x", color="#e3e5e8", linewidth=0.8)
        ax.set_axisbelow(True)

    return svg_of(draw, size=(7.0, 0.55 * len(labels) + 1.3))


def bar_figure(
    categories: Sequence[str],
    series: Sequence[tuple[str, Sequence[float]]],
    *,
    ylabel: str,
    percent: bool = True,
) -> str:
    """Grouped bars (e.g. share attempted / contacted by precinct)."""

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
            list(categories),
            rotation=0 if len(categories) < 9 else 45,
            ha="center" if len(categories) < 9 else "right",
        )
        ax.set_ylabel(ylabel)
        if percent:
            ax.set_ylim(0, 100)
        ax.legend(frameon=False, ncol=k, loc="upper right", bbox_to_anchor=(1, 1.18))
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
) -> str:
    """Event-study coefficients (percentage points) with CIs; pre-periods grey."""

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
        ax.set_xlabel("elections relative to the canvassed election (0 = canvassed election)")
        ax.set_ylabel(f"{outcome_label}\ndifference (percentage points)")
        ax.grid(axis="y", color="#e3e5e8", linewidth=0.8)
        ax.set_axisbelow(True)

    return svg_of(draw, size=(7.0, 3.4))
