"""fx.walk_list from a knock plan (issue 13 item 4): households of the planned precincts, as
many as the planned doors, drawn with a seed; row-order independent."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import fieldexp as fx
from fieldexp.errors import DataError, FieldexpWarning, SpecificationError

REPO = Path(__file__).resolve().parents[2]


def _voters(seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for p, n_hh in (("A", 8), ("B", 3), ("C", 5)):
        for h in range(n_hh):
            for _ in range(int(rng.integers(1, 4))):
                rows.append({"precinct_id": p, "household_id": f"{p}{h:02d}"})
    df = pd.DataFrame(rows)
    df["voter_id"] = [f"v{i:04d}" for i in range(len(df))]
    df["propensity_band"] = rng.choice(["intermittent", "regular"], size=len(df))
    return df


def test_plan_lists_min_of_doors_and_households() -> None:
    v = _voters()
    with pytest.warns(FieldexpWarning, match=r"2 precinct\(s\) have fewer eligible households"):
        wl = fx.walk_list({"A": 3, "B": 10, "Z": 4}, v, seed=1)
    per = wl.groupby("precinct_id")["household_id"].nunique().to_dict()
    assert per == {"A": 3, "B": 3}  # B: all 3 households; Z: not on the voter file; C: unplanned
    assert wl.attrs["fieldexp_plan"] == {"A": (3, 3), "B": (10, 3), "Z": (4, 0)}
    # every voter of a chosen household, and nobody else
    chosen = set(wl["household_id"])
    assert sorted(wl["voter_id"]) == sorted(v.loc[v["household_id"].isin(chosen), "voter_id"])
    assert list(wl.columns) == ["turf", "stop", "precinct_id", "household_id", "voter_id"]
    # stops number households within each precinct
    assert wl.groupby("precinct_id")["stop"].max().to_dict() == {"A": 3, "B": 3}


def test_plan_walk_list_is_seeded_and_row_order_free() -> None:
    v = _voters()
    plan = pd.DataFrame({"precinct_id": ["A", "C"], "doors": [4, 2]})
    a = fx.walk_list(plan, v, seed=5)
    b = fx.walk_list(plan.iloc[::-1], v.sample(frac=1, random_state=2), seed=5)
    pd.testing.assert_frame_equal(a, b)
    draws = {tuple(sorted(set(fx.walk_list(plan, v, seed=s)["household_id"]))) for s in range(20)}
    assert len(draws) > 5  # the seed matters


def test_inclusion_probability_is_doors_over_households() -> None:
    """Each of A's 8 households is listed with probability 3/8 (over 800 seeds, 5 s.e.)."""
    v = _voters()
    hh = sorted(v.loc[v["precinct_id"] == "A", "household_id"].unique())
    hits = pd.Series(0, index=hh)
    reps = 800
    for s in range(reps):
        wl = fx.walk_list({"A": 3}, v, seed=s)
        hits[sorted(set(wl["household_id"]))] += 1
    p = 3 / 8
    se = np.sqrt(p * (1 - p) / reps)
    assert (np.abs(hits / reps - p) < 5 * se).all()


def test_plan_target_band_lists_households_with_a_target_voter() -> None:
    v = _voters(seed=3)
    with pytest.warns(FieldexpWarning, match="fewer eligible households"):
        wl = fx.walk_list({"A": 50}, v, seed=1, target="intermittent")
    want = set(
        v.loc[(v["precinct_id"] == "A") & (v["propensity_band"] == "intermittent"), "household_id"]
    )
    assert set(wl["household_id"]) == want


def test_walk_list_takes_a_knock_plan_from_precinct_priorities() -> None:
    from fieldexp.io import read_precinct_results, read_voters

    results = read_precinct_results(REPO / "fixtures" / "io" / "fr_results_2022.csv")
    voters = read_voters(
        REPO / "fixtures" / "io" / "reu_extract.csv",
        format="reu",
        mapping={"options": {"id_salt": "a-test-salt-of-16+chars"}},
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pr = fx.precinct_priorities(
            results[results["commune_code"] == "2A004"],
            supporters=["gauche", "divers"],
            turnout_effect=0.08,
            contact_rate=0.3,
            voters=voters,
        )
    plan = pr.plan(doors=60)
    # the plan counts doors as registered voters; the walk list as households (fewer)
    with pytest.warns(FieldexpWarning, match="fewer eligible households than planned doors"):
        wl = fx.walk_list(plan, voters, seed=4, turf_size=10)
    doors = plan.allocation.set_index("precinct_id")["doors"]
    got = wl.groupby("precinct_id")["household_id"].nunique()
    hh = voters.groupby("precinct_id")["household_id"].nunique()
    for p, d in doors.items():
        assert got.get(p, 0) == min(int(d), int(hh.get(p, 0)))
    assert set(wl["precinct_id"]) <= set(doors.index)
    assert wl["stop"].max() <= 10
    # the plan object, its allocation and a mapping give the same list
    warnings.simplefilter("ignore", FieldexpWarning)
    pd.testing.assert_frame_equal(wl, fx.walk_list(plan.allocation, voters, seed=4, turf_size=10))
    pd.testing.assert_frame_equal(wl, fx.walk_list(doors.to_dict(), voters, seed=4, turf_size=10))


@pytest.mark.parametrize(
    ("plan", "kwargs", "error", "match"),
    [
        ({"A": 2}, {}, SpecificationError, "needs a seed"),
        ({"A": -1}, {"seed": 1}, DataError, "non-negative integers"),
        ({"A": 1.5}, {"seed": 1}, DataError, "non-negative integers"),
        ({"A": True}, {"seed": 1}, DataError, "non-negative integers"),
        (
            pd.DataFrame({"precinct_id": ["A", "A"], "doors": [1, 2]}),
            {"seed": 1},
            DataError,
            "once",
        ),
        (
            pd.DataFrame({"where": ["A"], "doors": [1]}),
            {"seed": 1},
            SpecificationError,
            "precinct_id",
        ),
        ({"A": 2}, {"seed": 1, "arms": [1]}, SpecificationError, "no arms"),
        ({"A": 2}, {"seed": -3}, SpecificationError, "non-negative integer"),
        ({"A": 2}, {"seed": 1, "household": "hh"}, Exception, "household"),
    ],
)
def test_bad_plans_are_refused(plan, kwargs, error, match) -> None:
    with pytest.raises(error, match=match):
        fx.walk_list(plan, _voters(), **kwargs)


def test_assignment_walk_list_refuses_plan_arguments() -> None:
    v = _voters().drop(columns="propensity_band")
    d = fx.Design("voter_id", blocks="precinct_id", clusters="household_id")
    a = d.assign(v, seed=1)
    with pytest.raises(SpecificationError, match="knock plan"):
        fx.walk_list(a, v, seed=3)
    assert len(fx.walk_list(a, v)) > 0
