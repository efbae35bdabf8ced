"""The shipped fixtures: which simulations make which files, written deterministically.

Each preset is a list of :class:`FixtureFile` recipes; :func:`write_preset` writes them under
an output folder. ``python -m fieldexp.simulation --preset fixtures --out fixtures`` makes the
committed ``fixtures/`` files (see ``fixtures/README.md``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from fieldexp.simulation.experiment import SimulatedExperiment, simulate
from fieldexp.simulation.pairs import matched_pairs

__all__ = ["PRESETS", "FixtureFile", "write_csv", "write_preset"]

SMALL_SEED = 20240501
PAIRS_SEED = 20240502
PAIRS_CLUSTERED_SEED = 20240503
DEMO_SEED = 20240504


@dataclass(frozen=True, slots=True)
class FixtureFile:
    """One file of a preset: its path (relative to the output folder) and how to make it."""

    path: str
    make: Callable[[], str]


def write_csv(frame: pd.DataFrame) -> str:
    """CSV text with ``\\n`` line ends, no index, floats at full (round-trip) precision."""
    text: str = frame.to_csv(index=False, lineterminator="\n")
    return text


def _small() -> SimulatedExperiment:
    return simulate(2400, seed=SMALL_SEED, voters_per_precinct=160, n_cities=2)


def _demo() -> SimulatedExperiment:
    return simulate(7000, seed=DEMO_SEED)


def _truth_json(exp: SimulatedExperiment) -> str:
    def clean(value: object) -> object:
        if isinstance(value, float) and not math.isfinite(value):
            return None
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items()}
        if isinstance(value, list):
            return [clean(v) for v in value]
        return value

    payload = {"params": exp.params.as_dict(), "truth": exp.truth.as_dict()}
    return json.dumps(clean(payload), indent=2) + "\n"


class _Cache:
    """Build each simulation once per preset run."""

    def __init__(self) -> None:
        self._small: SimulatedExperiment | None = None
        self._demo: SimulatedExperiment | None = None

    def small(self) -> SimulatedExperiment:
        if self._small is None:
            self._small = _small()
        return self._small

    def demo(self) -> SimulatedExperiment:
        if self._demo is None:
            self._demo = _demo()
        return self._demo


def _fixtures_preset() -> list[FixtureFile]:
    cache = _Cache()
    return [
        FixtureFile("experiment_small.csv", lambda: write_csv(cache.small().table)),
        FixtureFile("experiment_small_truth.json", lambda: _truth_json(cache.small())),
        FixtureFile("experiment_pairs.csv", lambda: write_csv(matched_pairs(40, seed=PAIRS_SEED))),
        FixtureFile(
            "experiment_pairs_clustered.csv",
            lambda: write_csv(matched_pairs(40, seed=PAIRS_CLUSTERED_SEED, clustered=True)),
        ),
        FixtureFile("demo/table.csv", lambda: write_csv(cache.demo().table)),
        FixtureFile("demo/voters.csv", lambda: write_csv(cache.demo().voters)),
        FixtureFile("demo/vote_history.csv", lambda: write_csv(cache.demo().vote_history)),
        FixtureFile("demo/elections.csv", lambda: write_csv(cache.demo().elections)),
        FixtureFile("demo/assignment.csv", lambda: write_csv(cache.demo().assignment)),
        FixtureFile("demo/contacts.csv", lambda: write_csv(cache.demo().contacts)),
        FixtureFile("demo/truth.json", lambda: _truth_json(cache.demo())),
    ]


#: Preset name -> recipe list factory.
PRESETS: dict[str, Callable[[], list[FixtureFile]]] = {"fixtures": _fixtures_preset}


def preset_files(preset: str) -> list[FixtureFile]:
    """The recipes of a preset (fresh, so simulations are rebuilt on each call)."""
    return PRESETS[preset]()


def write_preset(preset: str, out: Path) -> list[Path]:
    """Write every file of ``preset`` under ``out``; return the paths written."""
    written = []
    for item in preset_files(preset):
        path = out / item.path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(item.make(), encoding="utf-8", newline="")
        written.append(path)
    return written
