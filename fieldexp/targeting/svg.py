"""Deterministic SVG for the targeting figures (TOC curves; the maps use the same settings).

Same bytes for the same numbers: a fixed hash salt for the SVG ids, no date metadata, text
kept as text (``svg.fonttype = "none"``), and LaTeX rendering forced off (``text.usetex``) so
a user's matplotlibrc can neither change the output nor make a label with ``$`` run TeX.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

import pandas as pd

__all__ = ["RC", "savefig_svg", "toc_svg"]

#: matplotlib settings of every targeting figure (used with ``plt.rc_context``).
RC: Any = {
    "svg.hashsalt": "fieldexp",
    "svg.fonttype": "none",
    "text.usetex": False,
    "axes.formatter.use_mathtext": False,
}


def plain(text: str) -> str:
    """``text`` shown literally by matplotlib (no mathtext between ``$`` signs)."""
    return str(text).replace("$", r"\$")


def savefig_svg(fig: Any) -> str:
    """The figure as an ``<svg>`` string (no XML prolog, no date); closes the figure."""
    import matplotlib.pyplot as plt

    buf = io.StringIO()
    try:
        fig.savefig(buf, format="svg", metadata={"Date": None}, bbox_inches="tight")
    finally:
        plt.close(fig)
    svg = buf.getvalue()
    return svg[svg.index("<svg") :] if "<svg" in svg else svg


def toc_svg(
    curves: Sequence[tuple[str, pd.DataFrame]],
    *,
    title: str = "Targeting operator characteristic",
    size: tuple[float, float] = (6.5, 4.0),
) -> str:
    """TOC curves (``q``, ``toc``, ``ci_low``, ``ci_high``) of several rankings on one plot.

    Each curve is the extra effect of treating the top ``q`` of a ranking instead of a random
    ``q``, with its pointwise interval; the zero line is what a random ranking gives.
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    with plt.rc_context(RC):
        fig, ax = plt.subplots(figsize=size)
        for k, (name, toc) in enumerate(curves):
            colour = f"C{k % 10}"
            ax.fill_between(
                toc["q"], toc["ci_low"], toc["ci_high"], alpha=0.15, linewidth=0, color=colour
            )
            ax.plot(toc["q"], toc["toc"], linewidth=1.5, color=colour, label=plain(name))
        ax.axhline(0.0, color="0.4", linewidth=0.8)
        ax.set_xlabel("share knocked, by decreasing priority (q)")
        ax.set_ylabel("TOC(q): effect gained over a random list")
        ax.set_title(plain(title))
        if curves:
            ax.legend(frameon=False, fontsize=8)
        return savefig_svg(fig)
