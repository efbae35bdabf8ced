"""The ``[did]`` table of the analysis spec (difference-in-differences).

Two panels: the voter x election panel built from ``[data.vote_history]`` (exposure from the
contact log), or, with ``results = [...]`` (several official results files), the polling-station
x election panel of :func:`fieldexp.station_panel` — no voter vote history needed; treatment
from ``[data.precinct_assignment]`` (treated from ``[analysis] election``) or ``rollout``.

Vocabulary: ``comparison`` (never-treated or not-yet-treated comparison units) and estimator
``"cs"`` (Callaway & Sant'Anna). The older spellings ``control`` and ``"callaway_santanna"``
still work and raise a :class:`~fieldexp.errors.FieldexpWarning` naming the new spelling.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path

from fieldexp.analysis.station_panel import SHARE_BY
from fieldexp.diffindiff.events import ESTIMATORS as _EVENT_ESTIMATORS
from fieldexp.diffindiff.staggered import COMPARISONS
from fieldexp.errors import FieldexpWarning
from fieldexp.spec.model import DataSpec, DiDSpec
from fieldexp.spec.reader import Section, date_text, positive_int
from fieldexp.stats.covariance import SE_TYPES

__all__ = ["DID_COMPARISONS", "DID_ESTIMATORS", "ESTIMATOR_ALIASES", "parse_did"]

#: estimators of ``[did] estimator`` (``"cs"``: Callaway & Sant'Anna, fieldexp.staggered_did)
DID_ESTIMATORS: tuple[str, ...] = (*_EVENT_ESTIMATORS, "cs")
#: deprecated spellings -> the current one
ESTIMATOR_ALIASES = {"callaway_santanna": "cs"}
DID_COMPARISONS = COMPARISONS
UNASSIGNED = ("drop", "comparison")

Resolver = Callable[[str, Section, str, Path], Path]


def _deprecated(sec: Section, old: str, new: str) -> None:
    warnings.warn(
        f"{sec.file}: {sec.label(None)}: {old} is deprecated; write {new} instead "
        "(the old spelling still works).",
        FieldexpWarning,
        stacklevel=5,
    )


def _nonneg(v: int) -> str | None:
    return None if v >= 0 else "must be >= 0"


def parse_did(
    sec: Section, data: DataSpec, folder: Path, resolve: Resolver, *, engine_history: bool = False
) -> DiDSpec:
    """Read ``[did]``; ``resolve(value, sec, key, folder)`` turns a file name into a checked path.

    ``engine_history``: the vote history is an ``[engine]`` table (the panel is built there).
    """
    raw_est = sec.get("estimator", str, "twfe")
    estimator = ESTIMATOR_ALIASES.get(raw_est, raw_est)
    if raw_est in ESTIMATOR_ALIASES:
        _deprecated(sec, f"estimator = {raw_est!r}", f"estimator = {estimator!r}")
    if estimator not in DID_ESTIMATORS:
        sec.fail(
            f"must be one of {', '.join(map(repr, DID_ESTIMATORS))}; found {raw_est!r}."
            + _suggest(raw_est, [*DID_ESTIMATORS, *ESTIMATOR_ALIASES]),
            key="estimator",
        )
    if sec.has("control") and sec.has("comparison"):
        sec.fail("give comparison only (control is its deprecated spelling)", key="control")
    comparison = sec.choice("comparison", DID_COMPARISONS, None)
    if comparison is None and sec.has("control"):
        comparison = sec.choice("control", DID_COMPARISONS)
        _deprecated(sec, "control", f"comparison = {comparison!r}")
    results = tuple(resolve(v, sec, "results", folder) for v in sec.strings("results"))
    target = data.precinct_results
    if results and target is not None and target.path not in results:
        results = (*results, target.path)  # the canvassed election's file joins the panel
    dates_raw = sec.get("dates", dict, {})
    dates = []
    for label, value in dates_raw.items():
        text = date_text(value, sec, "dates")
        if text is None:
            sec.fail(f"election {label!r}: expected a date (YYYY-MM-DD)", key="dates")
        dates.append((str(label), str(text)[:10]))
    crosswalk = sec.get("crosswalk", str, None)
    rollout = sec.get("rollout", str, None)
    shares = sec.choice("shares", tuple(s for s in SHARE_BY if s != "candidate"), None)
    out = DiDSpec(
        exposure=sec.get("exposure", str, "attempted"),
        estimator=estimator,
        leads=sec.get("leads", int, None, check=_nonneg),
        lags=sec.get("lags", int, None, check=_nonneg),
        reference=sec.get("reference", int, -1),
        clusters=sec.get("clusters", str, None),
        se_type=sec.choice("se_type", SE_TYPES, "stata"),
        comparison=comparison or "never_treated",
        reps=sec.get("reps", int, 1000, check=positive_int),
        seed=sec.get("seed", int, None, check=_nonneg),
        results=results,
        dates=tuple(dates),
        crosswalk=None if crosswalk is None else resolve(crosswalk, sec, "crosswalk", folder),
        rollout=None if rollout is None else resolve(rollout, sec, "rollout", folder),
        balanced=sec.get("balanced", bool, False),
        unassigned=sec.choice("unassigned", UNASSIGNED, "drop"),
        shares=shares,
        outcome=sec.get("outcome", str, "turnout"),
    )
    sec.finish(extra=("control",))
    if out.estimator == "cs" and out.seed is None:
        sec.fail(
            "estimator = 'cs' (Callaway & Sant'Anna) draws a multiplier bootstrap for its "
            "simultaneous bands: give its seed",
            key="seed",
        )
    if out.outcome != "turnout" and not (out.outcome.startswith("share_") and out.shares):
        sec.fail(
            "must be 'turnout' or 'share_<key>' with shares = 'nuance' (or 'candidate_label', "
            f"'list_label', ...) naming what a share is of; found {out.outcome!r}",
            key="outcome",
        )
    if out.stations:
        if len(out.results) < 2:
            sec.fail(
                "a station DiD compares elections: list two or more results files (the "
                "[data.precinct_results] file is added when it is not listed)",
                key="results",
            )
        if out.rollout is None and data.precinct_assignment is None:
            sec.fail(
                "the station panel needs who was canvassed: [data.precinct_assignment] "
                "(treated from [analysis] election on) or rollout = '<file>' (first canvassed "
                "election or date per station)",
                key=None,
            )
    else:
        for key in ("dates", "crosswalk", "rollout", "balanced", "unassigned", "shares"):
            if sec.has(key):
                sec.fail("applies to the station panel only: add results = [...]", key=key)
        if out.outcome != "turnout":
            sec.fail("the voter panel's outcome is turnout (voted)", key="outcome")
        if data.vote_history is None and not engine_history:
            sec.fail(
                "the DiD panel is built from vote history ([data.vote_history]) or, for "
                "polling stations, from several results files: add results = ['<file>', ...]",
                key=None,
            )
    return out


def _suggest(value: str, choices: list[str]) -> str:
    from fieldexp.errors import did_you_mean

    return did_you_mean(value, choices)
