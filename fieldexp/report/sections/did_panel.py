"""The panel the DiD section estimates on (voters or stations) and the words describing it."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

__all__ = ["TITLE", "PanelRun"]

TITLE = "Difference-in-differences and event study"


@dataclass(frozen=True, slots=True, eq=False)
class PanelRun:
    """A panel ready for the estimators and the words that describe it."""

    data: pd.DataFrame
    unit: str
    outcome: str
    weights: str | None
    clusters: str | None
    periods: tuple[str, ...]
    target: str
    lines: tuple[str, ...]
    intro: str
    exposure_note: str = ""
    outcome_label: str = "turnout"
    units_word: str = "voters"
    static: bool = False  # also report the static two-way FE ATT (fx.did on ``treated``)
    cs_weights: str | None = None  # constant within unit (Callaway & Sant'Anna)
