"""The ``[stations]`` section: polling-station (bureau de vote) analyses.

Keys (all optional)::

    [stations]
    shares_by = "nuance"        # "nuance" | "candidate_label" | "list" | "bloc" | "candidate"
    blocs = { DVG = "gauche" }  # nuance -> bloc, replaces the shipped table (shares_by = "bloc")
    blocks = "constituency_id"  # commune_code | department_code | constituency_id | a column
    covariates = ["past_turnout", "registered"]
    past_results = "results_2017.txt"   # an earlier results file -> past_turnout, past_registered
    door_logs = "doors.csv"     # doors knocked / opened / conversations per bureau
    door_logs_mapping = { "Portes frappées" = "doors_knocked" }
    dose = "conversations"      # per registered voter: "conversations" | "doors_opened" | "doors_knocked"

``blocks`` defaults to the design's blocks, else ``[analysis] blocks``; estimates are
weighted by registered voters (inscrits) and the randomisation inference replays the same
weighted estimator.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fieldexp.spec.guards import personal_kind
from fieldexp.spec.reader import Section

__all__ = ["DOSES", "SHARES_BY", "StationsSpec", "parse_stations"]

SHARES_BY = ("nuance", "candidate_label", "list", "bloc", "candidate")
DOSES = ("conversations", "doors_opened", "doors_knocked")


@dataclass(frozen=True, slots=True, eq=False)
class StationsSpec:
    """How polling-station outcomes are built and estimated (``[stations]``)."""

    shares_by: str | None = None
    blocs: dict[str, str] | None = None
    blocks: str | None = None
    covariates: tuple[str, ...] = ()
    past_results: Path | None = None
    door_logs: Path | None = None
    door_logs_mapping: dict[str, str] | None = None
    dose: str = "conversations"


Resolver = Callable[[str, Section, str, Path], Path]


def parse_stations(sec: Section | None, folder: Path, resolve: Resolver) -> StationsSpec | None:
    """``[stations]`` -> :class:`StationsSpec` (``None`` when the section is absent)."""
    if sec is None:
        return None
    blocs_raw = sec.get("blocs", dict, None)
    blocs = None
    if blocs_raw is not None:
        bad = [k for k, v in blocs_raw.items() if not isinstance(v, str) or not v]
        if bad:
            sec.fail(
                f"blocs: each nuance maps to a bloc name (text); {bad[0]!r} does not", key="blocs"
            )
        blocs = {str(k): str(v) for k, v in blocs_raw.items()}
    mapping_raw: Any = sec.get("door_logs_mapping", dict, None)
    mapping = None
    if mapping_raw is not None:
        bad = [k for k, v in mapping_raw.items() if not isinstance(v, str)]
        if bad:
            sec.fail(
                f"door_logs_mapping: {{file column = canonical name}}; {bad[0]!r} is not text",
                key="door_logs_mapping",
            )
        mapping = {str(k): str(v) for k, v in mapping_raw.items()}
    past = sec.get("past_results", str, None)
    logs = sec.get("door_logs", str, None)
    out = StationsSpec(
        shares_by=sec.choice("shares_by", SHARES_BY, None),
        blocs=blocs,
        blocks=sec.get("blocks", str, None),
        covariates=sec.strings("covariates"),
        past_results=resolve(past, sec, "past_results", folder) if past is not None else None,
        door_logs=resolve(logs, sec, "door_logs", folder) if logs is not None else None,
        door_logs_mapping=mapping,
        dose=sec.choice("dose", DOSES, "conversations"),
    )
    for key, columns in (("covariates", out.covariates), ("blocks", (out.blocks or "",))):
        for column in columns:
            kind = personal_kind(column) if column else None
            if kind is not None:
                sec.fail(
                    f"column {column!r} holds personal data ({kind}); reports are aggregates and "
                    "never use names, addresses, birth dates, phone numbers or e-mail addresses. "
                    "Remove it from this key.",
                    key=key,
                )
    if mapping is not None and logs is None:
        sec.fail("door_logs_mapping needs door_logs (the file it maps)", key="door_logs_mapping")
    sec.finish()
    return out
