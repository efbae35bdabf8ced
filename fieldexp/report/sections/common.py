"""Helpers shared by the section builders: suppression, number wording, frame -> table."""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd

from fieldexp.report.language import ENGLISH, Language
from fieldexp.report.model import Cell, Table

__all__ = [
    "BAND_ORDER",
    "cell",
    "ci_pp",
    "frame_table",
    "money",
    "natural_key",
    "num",
    "pp",
    "share",
    "suppress",
]

#: Display order of vote-propensity bands.
BAND_ORDER = {"never": 0, "rare": 0, "intermittent": 1, "regular": 2}


def suppress(n: int | None, k: int) -> Cell:
    """A count, or ``"<k"`` when it is between 1 and ``k - 1``."""
    if n is None:
        return None
    return f"<{k}" if 0 < n < k else int(n)


def share(num: int, den: int, k: int, lang: Language = ENGLISH) -> Cell:
    """``num / den`` as a share; only what must be hidden is hidden.

    ``None`` when the denominator is a small cell (``den < k``: the group itself is
    suppressed). When the numerator is a small cell (``0 < num < k``) the share is shown as
    an upper bound, ``"<x%"`` with ``x = 100 k / den``, so a weak result stays visible as weak
    without revealing the exact count.
    """
    if den == 0 or den < k:
        return None
    if 0 < num < k:
        return "<" + lang.pct(k / den, 0)
    return num / den


def pp(x: float, lang: Language = ENGLISH) -> str:
    """A proportion in signed percentage points (``0.031`` -> ``"+3.1"``; French ``"+3,1"``)."""
    return lang.pp(x)


def ci_pp(lo: float, hi: float, lang: Language = ENGLISH) -> str:
    """``"+1.0 to +3.0 points"`` (French ``"+1,0 à +3,0 points"``)."""
    return lang.ci_pp(lo, hi)


def money(x: float, currency: str, lang: Language = ENGLISH) -> str:
    """``"USD 2,500.00"`` (French ``"2 500,00 $US"``); ``"unbounded"`` when infinite."""
    return lang.money(x, currency)


def natural_key(text: str) -> tuple[tuple[int, int | str], ...]:
    """Sort key that orders digits by value: ``"canvasser 2"`` before ``"canvasser 10"``."""
    return tuple(
        (0, int(part)) if part.isdigit() else (1, part.lower())
        for part in re.split(r"(\d+)", text)
        if part
    )


def num(v: Cell) -> float:
    return float(v) if isinstance(v, int | float) else math.nan


def cell(v: object) -> Cell:
    if v is None or v is pd.NA:
        return None
    if isinstance(v, bool | np.bool_):
        return str(bool(v))
    if isinstance(v, int | np.integer):
        return int(v)
    if isinstance(v, float | np.floating):
        return float(v)
    return str(v)


def frame_table(key: str, title: str, frame: pd.DataFrame, note: str = "") -> Table:
    """A DataFrame as a :class:`Table` (formats from the dtypes; p-value columns as ``p``)."""
    fmts = []
    for c in frame.columns:
        s = frame[c]
        if pd.api.types.is_integer_dtype(s):
            fmts.append("int")
        elif pd.api.types.is_float_dtype(s):
            name = str(c)
            is_p = "p_value" in name or name.startswith(("p_", "p-value"))
            fmts.append("p" if is_p else "est")
        else:
            fmts.append("text")
    rows = tuple(tuple(cell(v) for v in r) for r in frame.itertuples(index=False, name=None))
    return Table(key, title, tuple(map(str, frame.columns)), tuple(fmts), rows, note)
