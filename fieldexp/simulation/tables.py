"""The simulated canonical tables: ids, vote history, contact log, fake PII.

Column names come from the io schemas (:mod:`fieldexp.io.schema`): the vote history is built
with the columns of ``VOTE_HISTORY``, and the contact log with the ``CONTACTS`` columns it
shares (``timestamp, channel, result, attempted, contacted``) next to the field-file columns a
canvassing app exports (``contact_id, voter_id, household_id, canvasser_id, attempt``), which
``fieldexp.io.read_contacts`` maps to the canonical ones.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import numpy.typing as npt
import pandas as pd

from fieldexp.simulation.params import (
    ATTEMPTED,
    CAMPAIGN_DAYS,
    CANVASSED,
    CHANNEL,
    CONTACTED,
    HOUSEHOLD_ID,
    INACCESSIBLE,
    METHODS,
    MOVED,
    NOT_HOME,
    REFUSED,
    RESULT,
    RESULT_CODES,
    TIMESTAMP,
    VOTE_HISTORY_COLUMNS,
    VOTER_ID,
    BoolArray,
    IntArray,
    SimulationParams,
)

__all__ = [
    "categorical",
    "contact_log",
    "election_day",
    "empty",
    "fake_pii",
    "ids",
    "labels",
    "take",
    "vote_history",
]


def labels(prefix: str, numbers: IntArray, width: int) -> pd.Series:
    """``prefix`` + zero-padded numbers as a string Series, built without a Python loop."""
    n = numbers.shape[0]
    buf = np.empty((n, len(prefix) + width), dtype=np.uint8)
    buf[:, : len(prefix)] = np.frombuffer(prefix.encode("ascii"), dtype=np.uint8)
    rest = numbers.astype(np.int64, copy=True)
    for j in range(len(prefix) + width - 1, len(prefix) - 1, -1):
        buf[:, j] = 48 + rest % 10
        rest //= 10
    size = len(prefix) + width
    text = buf.view(f"S{size}").ravel().astype(f"U{size}")
    return pd.Series(text, dtype="str")


def ids(prefix: str, count: int, id_type: str) -> pd.Series:
    numbers = np.arange(1, count + 1, dtype=np.int64)
    if id_type == "int":
        return pd.Series(numbers)
    width = max(len(str(count)), 4 if prefix == "P" else 7)
    return labels(prefix, numbers, width)


def election_day(year: int) -> date:
    """US general election day: the Tuesday after the first Monday of November."""
    nov1 = date(year, 11, 1)
    first_monday = nov1 + timedelta(days=(0 - nov1.weekday()) % 7)
    return first_monday + timedelta(days=1)


def categorical(
    codes: npt.NDArray[np.integer], categories: object, ordered: bool = False
) -> pd.Categorical:
    """A Categorical from integer codes (-1 = missing) without copying the categories."""
    dtype = pd.CategoricalDtype(categories=categories, ordered=ordered)  # type: ignore[arg-type]
    return pd.Categorical.from_codes(codes, dtype=dtype)


def take(labels: pd.Series, codes: IntArray) -> pd.Series:
    """``labels[codes]`` as a fresh Series (numpy fancy indexing for ints, Arrow take for str)."""
    if labels.dtype.kind in "iu":
        return pd.Series(labels.to_numpy()[codes])
    return labels.take(codes).reset_index(drop=True)


def empty(columns: list[str] | tuple[str, ...]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series([], dtype=object) for c in columns})


def vote_history(
    rng: np.random.Generator,
    *,
    voter_id: pd.Series,
    past_voted: npt.NDArray[np.int8],
    voted: BoolArray,
    old: BoolArray,
    years: list[int],
    election_ids: list[str],
    election_days: npt.NDArray[np.datetime64],
    int_ids: bool,
) -> pd.DataFrame:
    """Long vote history, voter-major, one row per voter and election (target included).

    Method of voting for those who voted: absentee with probability
    :math:`0.08 + 0.22 [a_i \\ge 65] + 0.30 [\\text{2020}]`, early 0.30, else in person.
    """
    n_el = len(years)
    n = voted.shape[0]
    voted_all = np.empty((n, n_el), dtype=np.int8)
    voted_all[:, : n_el - 1] = past_voted.T
    voted_all[:, n_el - 1] = voted
    draw = rng.random((n, n_el), dtype=np.float32)
    covid = np.array([0.30 if y == 2020 else 0.0 for y in years], dtype=np.float32)
    p_absentee = np.float32(0.08) + np.float32(0.22) * old[:, None].astype(np.float32) + covid
    codes = (draw < p_absentee + np.float32(0.30)).astype(np.int8) + (draw < p_absentee)
    codes[voted_all == 0] = -1
    del draw, p_absentee
    el_codes = np.tile(np.arange(n_el, dtype=np.int8), n)
    if int_ids:
        vid = pd.Series(np.repeat(voter_id.to_numpy(), n_el))
    else:
        vid = take(voter_id, np.repeat(np.arange(n, dtype=np.int64), n_el))
    values = (
        vid,
        categorical(el_codes, election_ids),
        election_days[el_codes],
        categorical(np.zeros(n * n_el, dtype=np.int8), categories=["general"]),
        voted_all.ravel(),
        categorical(codes.ravel(), list(METHODS)),
    )
    # the canonical vote_history columns, in the schema's order (a schema change fails here)
    return pd.DataFrame(dict(zip(VOTE_HISTORY_COLUMNS, values, strict=True)), copy=False)


def contact_log(
    rng: np.random.Generator,
    p: SimulationParams,
    *,
    sizes: IntArray,
    prec_of_hh: IntArray,
    n_prec: int,
    log_hh: BoolArray,
    reached: BoolArray,
    z_hh: BoolArray,
    contacted: BoolArray,
    voter_id: pd.Series,
    household_ids: pd.Series,
    campaign_start: np.datetime64,
) -> pd.DataFrame:
    """One row per voter and door attempt at every household in the log.

    Assigned, attempted households get 1-3 attempts; a reached household is knocked until
    someone answers (1, 2 or 3 attempts with probabilities 0.6, 0.3, 0.1), an unreached one
    1-3 times (0.2, 0.3, 0.5). At the last attempt at a reached household, contacted voters
    are ``Canvassed`` (or ``Refused``, 10%), others ``Not Home``; at an unreached household
    the last result is ``Inaccessible`` (4% of households), ``Moved`` (2% of voters) or
    ``Not Home``. Contacts among controls are a single ``Canvassed`` attempt.
    """
    n_hh = int(sizes.shape[0])
    draw = rng.random(n_hh)
    n_att = np.where(
        reached,
        1 + (draw >= 0.6) + (draw >= 0.9),
        1 + (draw >= 0.2) + (draw >= 0.5),
    ).astype(np.int64)
    n_att = np.where(z_hh, n_att, 1)
    inaccessible: BoolArray = rng.random(n_hh) < 0.04
    day_gap = rng.integers(1, 5, size=(3, n_hh))
    first_day = rng.integers(0, CAMPAIGN_DAYS - 12, n_hh)
    tod = rng.integers(10 * 3600, 20 * 3600, size=(3, n_hh))
    canvasser = prec_of_hh * 3 + rng.integers(0, 3, n_hh)

    # expand households x attempts, then x voters
    hh_sel = np.flatnonzero(log_hh)
    att_per = n_att[hh_sel]
    hh_att = np.repeat(hh_sel, att_per)
    att_start = np.cumsum(att_per) - att_per
    attempt = np.arange(hh_att.shape[0], dtype=np.int64) - np.repeat(att_start, att_per)
    rows_per = sizes[hh_att]
    row_hh = np.repeat(hh_att, rows_per)
    row_att = np.repeat(attempt, rows_per)
    row_start = np.cumsum(rows_per) - rows_per
    offset = np.arange(row_hh.shape[0], dtype=np.int64) - np.repeat(row_start, rows_per)
    hh_first_voter = np.cumsum(sizes) - sizes
    voter = hh_first_voter[row_hh] + offset
    n_rows = int(voter.shape[0])

    last = row_att == n_att[row_hh] - 1
    got = contacted[voter] & last
    refused: BoolArray = rng.random(n_rows) < 0.10
    moved: BoolArray = rng.random(n_rows) < 0.02
    result = np.full(n_rows, NOT_HOME, dtype=np.int8)
    unreached_last = last & ~reached[row_hh]
    result[unreached_last & moved] = MOVED
    result[unreached_last & inaccessible[row_hh]] = INACCESSIBLE
    result[got] = np.where(refused[got], REFUSED, CANVASSED)

    att_day = first_day[hh_att] + np.cumsum(day_gap, axis=0)[np.maximum(attempt - 1, 0), hh_att] * (
        attempt > 0
    )
    att_seconds = att_day * 86400 + tod[attempt, hh_att]
    seconds = np.repeat(att_seconds, rows_per) + 20 * offset
    timestamp = campaign_start.astype("datetime64[s]") + seconds.astype("timedelta64[s]")

    n_canvassers = 3 * n_prec
    if p.id_type == "int":
        canvasser_col: pd.Series | pd.Categorical = pd.Series(canvasser[row_hh] + 1)
    else:
        width = max(len(str(n_canvassers)), 4)
        names = labels("K", np.arange(1, n_canvassers + 1, dtype=np.int64), width)
        canvasser_col = categorical(canvasser[row_hh], names.to_numpy())
    return pd.DataFrame(
        {
            "contact_id": np.arange(1, n_rows + 1, dtype=np.int64),
            VOTER_ID: take(voter_id, voter),
            HOUSEHOLD_ID: take(household_ids, row_hh),
            TIMESTAMP: timestamp,
            CHANNEL: categorical(np.zeros(n_rows, dtype=np.int8), ["door"]),
            RESULT: categorical(result, list(RESULT_CODES)),
            ATTEMPTED: np.ones(n_rows, dtype=np.int8),
            CONTACTED: (result <= REFUSED).astype(np.int8),
            "canvasser_id": canvasser_col,
            "attempt": (row_att + 1).astype(np.int8),
        },
        copy=False,
    )


def fake_pii(
    rng: np.random.Generator, n: int, hh: IntArray, age: IntArray, target_day: np.datetime64
) -> dict[str, object]:
    first = np.array(
        ["Alex", "Sam", "Jordan", "Taylor", "Morgan", "Casey", "Riley", "Jamie", "Avery", "Quinn"]
    )
    last = np.array(
        ["Smith", "Garcia", "Nguyen", "Brown", "Lopez", "Martin", "Khan", "Dubois", "Rossi", "Kim"]
    )
    streets = np.array(
        ["Oak St", "Maple Ave", "Elm St", "Main St", "Pine Rd", "Cedar Ln", "Lake Dr", "Hill Rd"]
    )
    n_hh = int(hh[-1]) + 1
    surname = last[rng.integers(0, last.size, n_hh)][hh]
    name = np.char.add(np.char.add(first[rng.integers(0, first.size, n)], " "), surname)
    number = rng.integers(1, 9999, n_hh).astype(str)
    address = np.char.add(np.char.add(number, " "), streets[rng.integers(0, streets.size, n_hh)])[
        hh
    ]
    birth = target_day - (age * 365.25 + rng.integers(0, 365, n)).astype("timedelta64[D]")
    return {
        "name": pd.Series(name, dtype="str"),
        "address": pd.Series(address, dtype="str"),
        "birth_date": birth.astype("datetime64[s]"),
    }
