"""walk_list: treatment units only, by turf, exported to CSV."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fieldexp.design import Design, walk_list
from fieldexp.errors import ColumnNotFoundError, SpecificationError


def voters(n_precincts=3, per=20, seed=0):
    """Voters in households of 1-3 in precincts (households never cross precincts)."""
    rng = np.random.default_rng(seed)
    rows, hh = [], 0
    for p in range(n_precincts):
        left = per
        while left > 0:
            size = min(left, int(rng.integers(1, 4)))
            for _ in range(size):
                rows.append((1000 + len(rows), hh, f"P{p:02d}"))
            hh += 1
            left -= size
    return pd.DataFrame(rows, columns=["voter_id", "household_id", "precinct_id"])


def test_walk_list_covers_treated_only(tmp_path):
    df = voters(n_precincts=3, per=20, seed=7).assign(
        address=lambda x: "addr " + x["household_id"].astype(str)
    )
    d = Design("voter_id", blocks="precinct_id", clusters="household_id")
    out = d.assign(df, seed=1)
    wl = walk_list(
        out, df, by="precinct_id", columns=["address"], turf_size=4, path=tmp_path / "w.csv"
    )
    treated = set(out.loc[out["arm"] == 1, "voter_id"])
    assert set(wl["voter_id"]) == treated
    assert (wl["arm"] == 1).all()
    assert wl["stop"].between(1, 4).all()
    written = pd.read_csv(tmp_path / "w.csv")
    assert len(written) == len(wl)
    assert not set(written["voter_id"]) & set(out.loc[out["arm"] == 0, "voter_id"])
    with pytest.raises(SpecificationError, match="control arm 0 is held out"):
        walk_list(out, df, arms=[0])


def test_walk_list_bad_inputs():
    df = voters(n_precincts=2, per=10)
    out = Design("voter_id", blocks="precinct_id", clusters="household_id").assign(df, seed=1)
    with pytest.raises(SpecificationError, match=r"returned by Design\.assign"):
        walk_list(pd.DataFrame(out.to_dict("list")), df)
    with pytest.raises(ColumnNotFoundError, match=r"by: column 'turf' is not in the data"):
        walk_list(out, df, by="turf")
    with pytest.raises(SpecificationError, match="not arms of the design"):
        walk_list(out, df, arms=[5])
