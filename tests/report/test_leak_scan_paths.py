"""The leak scan's fast paths collect what the plain ones collect.

``safety._plain_ends`` reads the first and last bytes of each id from the Arrow buffers
instead of matching ``_UNSTRIPPED``; ``forbidden_values`` reads the columns two at a time.
Both must give exactly the ids, personal values and near-unique columns of the one-by-one
code, on hostile ids (blanks, odd whitespace, non-ASCII ends, empty texts, sliced arrays).
"""

from __future__ import annotations

import random

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from fieldexp.report import safety
from fieldexp.report.safety import IdValues, _texts, forbidden_values

ENDS = ["", " ", "\t", "\xa0", "\x1c", "\u2003", "é", "V", "7", "_", "-", ".", "@", "#", "/", "'"]


def _hostile(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        middle = "".join(rng.choice("AB12 _é\t") for _ in range(rng.randint(0, 4)))
        out.append(rng.choice(ENDS) + middle + rng.choice(ENDS))
    return out


@pytest.mark.parametrize("kind", [pa.string(), pa.large_string()])
def test_plain_ends_matches_the_regex(kind):
    values = [*_hostile(5000, 3), "", "a", " a", "a ", "V0001", "é"]
    arr = pa.array(values, type=kind)
    filled = pa.array([v for v in values if v], type=kind)  # no empty text: the one-gather path
    for part in (arr, arr.slice(17, 3000), arr.slice(4990), filled, filled.slice(5, 2000)):
        want = pc.match_substring_regex(part, safety._UNSTRIPPED).to_numpy(zero_copy_only=False)
        got = safety._plain_ends(part)
        assert got.dtype == bool and np.array_equal(got, want)
    assert safety._plain_ends(pa.array(["", ""], type=kind)).tolist() == [False, False]


def _collected(fb: safety.Forbidden) -> tuple[object, ...]:
    return (sorted(fb.ids), sorted(fb.personal), sorted(fb.unique_columns), fb.personal_columns)


def test_forbidden_values_equal_the_one_by_one_collection(monkeypatch):
    rng = np.random.default_rng(5)
    ids = pd.Series([f"V{i:06d}" for i in range(30_000)], dtype="str")
    hostile = pd.Series(_hostile(30_000, 8), dtype="str")
    voters = pd.DataFrame(
        {
            "voter_id": ids,
            "household_id": hostile,
            "first_name": pd.Series(rng.choice(["Ann", "Bo Yu", " Cy "], 30_000), dtype="str"),
            "zone": pd.Series(rng.choice(["a", "b"], 30_000), dtype="str"),
            "serial": pd.Series([f"S{i}" for i in range(30_000)], dtype="str"),
        }
    )
    contacts = pd.DataFrame(
        {
            "unit_id": ids.sample(frac=1.0, random_state=1).reset_index(drop=True),
            "canvasser": pd.Series(rng.choice(["K1", "Ann Lee", " x "], 30_000), dtype="str"),
            "cluster": pd.Series(rng.integers(0, 50, 30_000).astype(float)),
        }
    )
    frames = [voters, None, contacts]
    fast = forbidden_values(frames)

    def one_by_one(frames_: list[pd.DataFrame | None]) -> tuple[object, ...]:
        ids_: set[str] = set()
        personal: set[str] = set()
        unique: set[str] = set()
        pcols: list[str] = []
        for frame in frames_:
            if frame is None:
                continue
            for col in frame.columns:
                s = frame[col]
                if col in safety.ID_COLUMNS:
                    values = _texts(s)
                    ids_.update(v for v in values if v)
                    if "canvasser" in col:
                        personal.update(safety._norm(v) for v in values if len(v) >= 2)
                if safety.personal_kind(col) is not None:
                    pcols.append(col)
                    personal.update(n for n in map(safety._norm, _texts(s)) if len(n) >= 2)
                elif safety._unique_column(s):
                    unique.add(col)
        return (sorted(ids_), sorted(personal), sorted(unique), tuple(pcols))

    assert isinstance(fast.ids, IdValues)
    assert _collected(fast) == one_by_one(frames)
    assert "serial" in fast.unique_columns and "voter_id" in fast.unique_columns
    assert fast.personal_columns == ("first_name",)
