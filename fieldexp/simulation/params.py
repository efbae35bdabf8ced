"""The arguments of :func:`~fieldexp.simulation.simulate`, checked, and the simulation's constants.

The propensity bands are not defined here: they are :data:`fieldexp.analysis.bands.PROPENSITY_BANDS`
(``never``, ``intermittent``, ``regular``), the same bands the analysis table computes, and
the simulation labels its voters with :func:`fieldexp.analysis.propensity_band`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from fieldexp.analysis.bands import PROPENSITY_BANDS
from fieldexp.errors import SpecificationError, did_you_mean
from fieldexp.io.schema import CONTACTS, VOTE_HISTORY, VOTERS, TableSchema

__all__ = [
    "BANDS",
    "FRAME_COLUMNS",
    "RESULT_CODES",
    "SimulationParams",
    "check_frames",
    "check_params",
]

#: Propensity bands, in order (the categories of ``propensity_band``): the analysis bands.
BANDS: tuple[str, str, str] = PROPENSITY_BANDS

#: Result codes of the contact log; every code is an attempt, only the first two a contact.
RESULT_CODES: tuple[str, ...] = ("Canvassed", "Refused", "Not Home", "Moved", "Inaccessible")
CANVASSED, REFUSED, NOT_HOME, MOVED, INACCESSIBLE = range(5)

METHODS: tuple[str, ...] = ("in_person", "early", "absentee")
CITY_NAMES: tuple[str, ...] = (
    "Northport",
    "Riverton",
    "Lakeside",
    "Fairview",
    "Milltown",
    "Cedar Falls",
    "Brookfield",
    "Hillcrest",
    "Oakdale",
    "Westbury",
)
BASE_REGISTRATION = 0.10  # P(unregistered voter registers anyway before the election)
REG_DEADLINE_DAYS = 25
CAMPAIGN_DAYS = 35
WEIGHTS = np.array([0.5, 0.75, 1.0, 1.5, 2.0, 3.0])

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class SimulationParams:
    """Every argument of :func:`simulate`, including the seed (see :func:`simulate`)."""

    n_voters: int
    seed: int
    mean_household_size: float = 1.7
    voters_per_precinct: int = 1000
    n_cities: int = 3
    p_treat: float = 0.5
    contact_rate: float = 0.30
    attempt_rate: float = 0.95
    control_contact_rate: float = 0.0
    contact_effect: float = 0.08
    band_effect_ratio: tuple[float, float, float] = (0.6, 1.5, 0.5)
    spillover: float = 0.3
    registration_effect: float = 0.04
    unregistered_share: float = 0.08
    n_past_elections: int = 3
    target_year: int = 2022
    id_type: Literal["str", "int"] = "str"
    pii: bool = False
    frames: tuple[str, ...] = (
        "voters",
        "vote_history",
        "assignment",
        "contacts",
        "potential_outcomes",
    )

    def as_dict(self) -> dict[str, object]:
        """The parameters as a plain dict (JSON-friendly)."""
        out = asdict(self)
        out["band_effect_ratio"] = list(self.band_effect_ratio)
        out["frames"] = list(self.frames)
        return out


def schema_column(schema: TableSchema, name: str) -> str:
    """``name``, checked to be a column of the io ``schema`` (the simulation writes io tables).

    Renaming a canonical column in :mod:`fieldexp.io.schema` without updating the simulation
    fails here, at import, instead of splitting the simulated tables from the readers'.
    """
    if name not in {c.name for c in schema.columns}:
        raise ImportError(
            f"fieldexp.simulation writes column {name!r} of the io table {schema.name!r}, "
            f"which fieldexp.io.schema no longer defines ({[c.name for c in schema.columns]})"
        )
    return name


#: Voter-file columns shared with the canonical ``voters`` table.
VOTER_ID = schema_column(VOTERS, "voter_id")
HOUSEHOLD_ID = schema_column(VOTERS, "household_id")
PRECINCT_ID = schema_column(VOTERS, "precinct_id")
REGISTRATION_DATE = schema_column(VOTERS, "registration_date")

#: The vote history is a canonical ``vote_history`` table: exactly its columns, in order.
VOTE_HISTORY_COLUMNS: tuple[str, ...] = tuple(c.name for c in VOTE_HISTORY.columns)

#: Contact-log columns shared with the canonical ``contacts`` table; the log also has the
#: field-file columns a canvassing app exports (``contact_id``, the voter and household ids,
#: ``canvasser_id``, ``attempt``), which ``fieldexp.io.read_contacts`` maps.
TIMESTAMP, CHANNEL, RESULT, ATTEMPTED, CONTACTED = (
    schema_column(CONTACTS, c) for c in ("timestamp", "channel", "result", "attempted", "contacted")
)

#: The optional frames of :func:`simulate` and their columns (when left out, they are empty).
FRAME_COLUMNS: dict[str, tuple[str, ...]] = {
    "voters": (),  # built with the past-vote columns, which depend on the elections
    "vote_history": VOTE_HISTORY_COLUMNS,
    "assignment": (HOUSEHOLD_ID, PRECINCT_ID, "arm", "probability"),
    "contacts": (
        "contact_id",
        VOTER_ID,
        HOUSEHOLD_ID,
        TIMESTAMP,
        CHANNEL,
        RESULT,
        ATTEMPTED,
        CONTACTED,
        "canvasser_id",
        "attempt",
    ),
    "potential_outcomes": (
        VOTER_ID,
        "d0",
        "d1",
        "exposure0",
        "exposure1",
        "reg0",
        "reg1",
        "y0",
        "y1",
    ),
}


def check_frames(frames: Iterable[str] | None) -> tuple[str, ...]:
    if frames is None:
        return tuple(FRAME_COLUMNS)
    if isinstance(frames, str):
        frames = [frames]
    chosen = []
    for name in frames:
        if name not in FRAME_COLUMNS:
            raise SpecificationError(
                f"frames: each name must be one of {list(FRAME_COLUMNS)}, got {name!r}."
                + did_you_mean(str(name), list(FRAME_COLUMNS))
            )
        if name not in chosen:
            chosen.append(name)
    return tuple(n for n in FRAME_COLUMNS if n in chosen)


def check_params(p: SimulationParams) -> None:
    def bad(name: str, rule: str, value: object) -> SpecificationError:
        return SpecificationError(f"{name}: must be {rule}, got {value!r}")

    if isinstance(p.seed, bool) or not isinstance(p.seed, (int, np.integer)) or p.seed < 0:
        raise bad("seed", "a non-negative integer", p.seed)
    if isinstance(p.n_voters, bool) or not isinstance(p.n_voters, (int, np.integer)):
        raise bad("n_voters", "an integer", p.n_voters)
    if p.n_voters < 2:
        raise bad("n_voters", "at least 2", p.n_voters)
    if not 1.0 <= p.mean_household_size <= 10.0:
        raise bad("mean_household_size", "between 1 and 10", p.mean_household_size)
    if p.voters_per_precinct < 10:
        raise bad("voters_per_precinct", "at least 10", p.voters_per_precinct)
    if p.n_cities < 1:
        raise bad("n_cities", "at least 1", p.n_cities)
    if not 0.0 < p.p_treat < 1.0:
        raise bad("p_treat", "strictly between 0 and 1", p.p_treat)
    if not 0.0 < p.attempt_rate <= 1.0:
        raise bad("attempt_rate", "in (0, 1]", p.attempt_rate)
    if not 0.0 < p.contact_rate <= 0.9 * p.attempt_rate:
        raise bad(
            "contact_rate", f"in (0, 0.9 * attempt_rate = {0.9 * p.attempt_rate:g}]", p.contact_rate
        )
    if not 0.0 <= p.control_contact_rate < p.contact_rate:
        raise bad("control_contact_rate", "in [0, contact_rate)", p.control_contact_rate)
    if not -1.0 < p.contact_effect < 1.0:
        raise bad("contact_effect", "in (-1, 1)", p.contact_effect)
    if len(p.band_effect_ratio) != 3 or any(r < 0 for r in p.band_effect_ratio):
        raise bad(
            "band_effect_ratio",
            "three non-negative numbers (never, intermittent, regular)",
            p.band_effect_ratio,
        )
    if sum(p.band_effect_ratio) <= 0:
        raise bad("band_effect_ratio", "not all zero", p.band_effect_ratio)
    if not 0.0 <= p.spillover <= 1.0:
        raise bad("spillover", "in [0, 1]", p.spillover)
    if not 0.0 <= p.registration_effect <= 1.0 - BASE_REGISTRATION:
        raise bad(
            "registration_effect", f"in [0, {1 - BASE_REGISTRATION:g}]", p.registration_effect
        )
    if not 0.0 <= p.unregistered_share < 0.9:
        raise bad("unregistered_share", "in [0, 0.9)", p.unregistered_share)
    if not 1 <= p.n_past_elections <= 20:
        raise bad("n_past_elections", "between 1 and 20", p.n_past_elections)
    if not 1900 <= p.target_year <= 2200:
        raise bad("target_year", "a year between 1900 and 2200", p.target_year)
    if p.id_type not in ("str", "int"):
        raise bad("id_type", "'str' or 'int'", p.id_type)
