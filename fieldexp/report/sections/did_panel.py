"""The panel the DiD section estimates on (voters or stations) and the words describing it."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from fieldexp.report.language import ENGLISH, Language

__all__ = ["TITLE", "PanelRun", "voter_panel_run"]

TITLE = ENGLISH("did.title")


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


def voter_panel_run(
    data: pd.DataFrame,
    *,
    exposure: str,
    clusters: str | None,
    periods: list[str],
    target: str,
    report_lines: list[str],
    lang: Language,
) -> PanelRun:
    """A voter x election panel (``voter_id``, ``voted``) and its words, whether the panel
    was built in memory or in an engine (``data`` is then empty: the sums stay there)."""
    return PanelRun(
        data=data,
        unit="voter_id",
        outcome="voted",
        weights=None,
        clusters=clusters,
        periods=tuple(periods),
        target=target,
        lines=tuple(lang.notes(line.strip() for line in report_lines)),
        intro=lang(
            "did.voters_intro",
            exposure=lang.term("did.exposure", exposure),
            n=len(periods),
            elections=", ".join(periods),
        ),
        exposure_note=lang("did.voters_exposure", exposure=lang.term("did.exposure", exposure)),
        outcome_label=lang("did.turnout"),
    )
