"""The ``[targeting]`` table of a spec: where to knock next (``fieldexp target``, the report).

Every key is documented in ``docs/spec.md`` (section ``[targeting]``). The spec is data: paths
are resolved against the spec's folder and checked to be regular files; covariates are column
names, refused when they name personal data (names, addresses, birth dates, ...).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from fieldexp.errors import did_you_mean
from fieldexp.spec.guards import input_file_problem, name_problem, personal_kind
from fieldexp.spec.reader import Section, nonempty

__all__ = ["RANKINGS", "TargetingSpec", "parse_targeting"]

#: Candidate rankings ``fieldexp target`` judges with RATE (see docs/spec.md).
RANKINGS: tuple[str, ...] = ("uplift", "past_propensity", "fiftyone", "random")
LEARNERS: tuple[str, ...] = ("auto", "gbm", "forest")
BY: tuple[str, ...] = ("nuance", "candidate", "party")


@dataclass(frozen=True, slots=True, eq=False)
class TargetingSpec:
    """``[targeting]``: uplift, RATE of candidate rankings, precinct priorities, budget, maps.

    ``covariates`` ``None`` means the default: the vote-history columns of the analysis table
    (``voted_<election>`` for earlier elections and the propensity band). ``doors`` or
    ``volunteer_hours`` x ``knocks_per_hour`` is the budget. ``results`` (precinct results
    read with :func:`fieldexp.io.read_precinct_results`) defaults to ``[data.precinct_results]``.
    """

    seed: int
    outcome: str | None = None
    covariates: tuple[str, ...] | None = None
    learner: str = "auto"
    folds: int = 5
    reps: int = 200
    rankings: tuple[str, ...] = RANKINGS
    doors: int | None = None
    volunteer_hours: float | None = None
    knocks_per_hour: float | None = None
    supporters: tuple[str, ...] = ()
    by: str = "nuance"
    blocs: Path | None = None
    results: Path | None = None
    election: str | None = None
    persuasion_effect: float = 0.0
    geojson: Path | None = None
    geojson_key: str = "precinct_id"


def _path(sec: Section, key: str, folder: Path) -> Path | None:
    value = sec.get(key, str, None, check=nonempty)
    if value is None:
        return None
    if "\x00" in value:
        sec.fail("file name contains a NUL character", key=key)
    path = Path(value).expanduser()
    if not path.is_absolute():
        path = folder / path
    path = path.resolve()
    problem = input_file_problem(path)
    if problem == "not found":
        sec.fail(
            f"file {value!r} not found (looked for {path}; paths are relative to the spec "
            "file's folder)",
            key=key,
        )
    elif problem is not None:
        sec.fail(f"{value!r} {problem}; give the path of a data file", key=key)
    return path


def _positive(value: object) -> str | None:
    ok = isinstance(value, float) and math.isfinite(value) and value > 0
    return None if ok else "must be a finite number > 0"


def parse_targeting(sec: Section, folder: Path, outcomes: Sequence[str]) -> TargetingSpec:
    """Read ``[targeting]`` (``folder``: the spec's folder; ``outcomes``: the outcome names)."""
    seed = sec.get("seed", int, check=lambda v: None if v >= 0 else "must be >= 0")
    covariates = sec.strings("covariates") if sec.has("covariates") else None
    for column in covariates or ():
        kind = personal_kind(column)
        if kind is not None:
            sec.fail(
                f"column {column!r} holds personal data ({kind}); uplift covariates are "
                "vote history and other aggregates-safe features, never names, addresses, "
                "birth dates, phone numbers or e-mail addresses. Remove it (derive age "
                "instead of a birth date).",
                key="covariates",
            )
    if covariates is not None and not covariates:
        sec.fail("give at least one column, or leave the key out for the default", key="covariates")
    rankings = sec.strings("rankings", RANKINGS)
    bad = [r for r in rankings if r not in RANKINGS]
    if bad or not rankings:
        sec.fail(
            f"rankings must be a non-empty array from {list(RANKINGS)}; found {list(rankings)}",
            key="rankings",
        )
    if len(set(rankings)) != len(rankings):
        sec.fail(f"rankings are listed twice in {list(rankings)}", key="rankings")
    doors = sec.get("doors", int, None, check=lambda v: None if v >= 0 else "must be >= 0")
    hours = sec.get("volunteer_hours", float, None, check=_positive)
    rate = sec.get("knocks_per_hour", float, None, check=_positive)
    if doors is not None and (hours is not None or rate is not None):
        sec.fail("give doors, or volunteer_hours and knocks_per_hour, not both", key="doors")
    if (hours is None) != (rate is None):
        sec.fail(
            "volunteer_hours and knocks_per_hour go together (doors = hours x knocks per hour)",
            key="volunteer_hours" if hours is None else "knocks_per_hour",
        )
    key = sec.get("geojson_key", str, "precinct_id", check=nonempty)
    problem = name_problem(key)
    if problem is not None:
        sec.fail(f"property name {key!r} {problem}", key="geojson_key")
    out = TargetingSpec(
        seed=seed,
        outcome=sec.get("outcome", str, None, check=nonempty),
        covariates=covariates,
        learner=sec.choice("learner", LEARNERS, "auto"),
        folds=sec.get("folds", int, 5, check=lambda v: None if 2 <= v <= 20 else "must be 2 to 20"),
        reps=sec.get(
            "reps", int, 200, check=lambda v: None if 2 <= v <= 10_000 else "must be 2 to 10,000"
        ),
        rankings=rankings,
        doors=doors,
        volunteer_hours=hours,
        knocks_per_hour=rate,
        supporters=sec.strings("supporters"),
        by=sec.choice("by", BY, "nuance"),
        blocs=_path(sec, "blocs", folder),
        results=_path(sec, "results", folder),
        election=sec.get("election", str, None, check=nonempty),
        persuasion_effect=sec.get(
            "persuasion_effect",
            float,
            0.0,
            check=lambda v: None if math.isfinite(v) and -1 <= v <= 1 else "must lie in [-1, 1]",
        ),
        geojson=_path(sec, "geojson", folder),
        geojson_key=key,
    )
    if out.outcome is not None and out.outcome not in outcomes:
        sec.fail(
            f"{out.outcome!r} is not an outcome of [outcomes] ({', '.join(outcomes)})."
            + did_you_mean(out.outcome, list(outcomes)),
            key="outcome",
        )
    sec.finish()
    return out
