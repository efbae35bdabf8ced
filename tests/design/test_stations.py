"""fieldexp.design.stations: station table, restriction, assignment of stations, REU walks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import fieldexp as fx
from fieldexp.design.stations import (
    assign_stations,
    circonscription_code,
    restrict_stations,
    station_table,
    station_walk_list,
)
from fieldexp.errors import DataError, FieldexpWarning, SpecificationError


def _results(election: str = "e1", shift: int = 0) -> pd.DataFrame:
    rows = []
    for i, (commune, circ) in enumerate(
        [("75056", "01"), ("75056", "02"), ("69123", "01"), ("69123", "01"), ("2A004", "1")]
    ):
        pid = f"{commune}_{i:04d}"
        registered, voters = 500 + 10 * i, 250 + 7 * i + shift
        for cand, votes in (("1", voters // 2), ("2", voters - voters // 2)):
            rows.append(
                {
                    "precinct_id": pid,
                    "election_id": election,
                    "department_code": commune[:2],
                    "commune_code": commune,
                    "constituency_code": circ,
                    "registered": registered,
                    "voters": voters,
                    "expressed": voters,
                    "candidate": cand,
                    "votes": votes,
                }
            )
    return pd.DataFrame(rows)


def test_station_table_turnout_by_hand_and_row_order() -> None:
    past = _results("e0", shift=-20)
    t = station_table(_results(), past=[past])
    assert list(t["precinct_id"]) == sorted(t["precinct_id"])
    assert len(t) == 5 and "candidate" not in t and "votes" not in t
    by_id = t.set_index("precinct_id")
    for i, pid in enumerate(["75056_0000", "75056_0001", "69123_0002", "69123_0003"]):
        e1, e0 = by_id.loc[pid, "turnout_e1"], by_id.loc[pid, "turnout_e0"]
        assert e1 == pytest.approx((250 + 7 * i) / (500 + 10 * i), rel=1e-15)
        assert e0 == pytest.approx((230 + 7 * i) / (500 + 10 * i), rel=1e-15)
        assert by_id.loc[pid, "registered"] == 500 + 10 * i
    assert list(t["circonscription"]) == ["2A-01", "69-01", "69-01", "75-01", "75-02"]
    shuffled = station_table(
        _results().sample(frac=1, random_state=1), past=[past.sample(frac=1, random_state=2)]
    )
    pd.testing.assert_frame_equal(t, shuffled[t.columns])


def test_station_table_refuses_an_election_given_twice() -> None:
    with pytest.raises(DataError, match="also in results"):
        station_table(_results(), past=[_results()])


def test_station_table_counts_stations_missing_from_a_past_file() -> None:
    past = _results("e0")
    past = past[past["precinct_id"] != "69123_0002"]
    with pytest.warns(FieldexpWarning, match="1 of 5 stations have no result in election 'e0'"):
        t = station_table(_results(), past=[past])
    assert t["turnout_e0"].isna().sum() == 1


@pytest.mark.parametrize(
    ("dept", "num", "want"),
    [("75", "1", "75-01"), ("2A", "02", "2A-02"), ("971", 3, "971-03"), (None, "1", None)],
)
def test_circonscription_code(dept, num, want) -> None:
    assert circonscription_code(dept, num) == want


def test_restrict_both_keys_and_spellings() -> None:
    t = station_table(_results())
    r = restrict_stations(t, communes=["75056", "69123"], circonscriptions=["7501", "69-1"])
    kept = t.loc[[x is None for x in r], "precinct_id"].tolist()
    assert kept == ["69123_0002", "69123_0003", "75056_0000"]
    with pytest.raises(SpecificationError, match="not a circonscription"):
        restrict_stations(t, circonscriptions=["Paris 1"])
    with pytest.raises(SpecificationError, match="not an INSEE commune code"):
        restrict_stations(t, communes=["1004"])


def test_assign_stations_accounts_for_every_station_and_is_seeded() -> None:
    t = station_table(_results())
    r = restrict_stations(t, communes=["75056", "69123"])
    d = fx.Design("precinct_id", blocks="commune_code")
    a = assign_stations(d, t, 7, restricted=r)
    assert len(a) == len(t) and list(a["precinct_id"]) == sorted(t["precinct_id"])
    assert a["arm"].isna().sum() == 1 and a["arm"].notna().sum() == 4
    assert a.loc[a["commune_code"] == "2A004", "excluded_reason"].iloc[0].startswith("restricted")
    b = assign_stations(d, t.iloc[::-1].reset_index(drop=True), 7, restricted=r[::-1])
    pd.testing.assert_frame_equal(a, b)
    with pytest.raises(DataError, match="every station is restricted out"):
        assign_stations(d, t, 7, restricted=np.array(["x"] * len(t), dtype=object))


def test_station_walk_list_counts_every_voter() -> None:
    t = station_table(_results())
    d = fx.Design("precinct_id", counts={0: 2, 1: 2}, exclude={"do_not_contact": ["2A004_0004"]})
    a = assign_stations(d, t, 1)
    rng = np.random.default_rng(0)
    stations = [*t["precinct_id"], "99999_0001"]
    voters = pd.DataFrame({"precinct_id": rng.choice(stations, size=200)})
    voters["household_id"] = [f"h{i // 2}" for i in range(200)]
    voters["voter_id"] = [f"v{i}" for i in range(200)]
    with pytest.warns(FieldexpWarning, match="absent from the assignment"):
        w = station_walk_list(a, voters)
    assert sum(w.counts.values()) == len(voters)
    treated = set(a.loc[a["arm"] == 1, "precinct_id"])
    on = voters[voters["precinct_id"].isin(treated)]
    assert w.counts["walk list"] == len(on) == w.frame["registered_voters"].sum()
    assert len(w.frame) == on.groupby(["precinct_id", "household_id"]).ngroups
    assert w.counts["station excluded or restricted out"] == int(
        (voters["precinct_id"] == "2A004_0004").sum()
    )
    assert "voter_id" not in w.frame
    with pytest.raises(SpecificationError, match="control arm"):
        station_walk_list(a, voters, arms=[0])
