"""fieldexp.diffindiff.voter_panel / precinct_panel: exposure on attempted contacts, counts that add up."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import fieldexp as fx
from fieldexp.diffindiff import precinct_panel, voter_panel
from fieldexp.errors import DataError, RowsDroppedWarning

ELECTIONS = [
    "general_2016_11_08",
    "municipal_2017_03_05",
    "general_2018_11_06",
    "general_2020_11_03",
]


def _history():
    rows = []
    for v in range(1, 7):
        for j, e in enumerate(ELECTIONS):
            if v == 6 and j == 0:
                continue  # absent from the file: did not vote
            date = e.split("_", 1)[1].replace("_", "-")
            rows.append((f"V{v}", e, date, e.split("_")[0], int((v + j) % 2 == 0), "in_person"))
    return pd.DataFrame(
        rows,
        columns=["voter_id", "election_id", "election_date", "election_type", "voted", "method"],
    )


def _contacts():
    return pd.DataFrame(
        {
            "unit_id": ["V1", "V1", "V2", "H3", "V4", "V5", "V9", "V5", "V6"],
            "unit_level": [
                "voter",
                "voter",
                "voter",
                "household",
                "voter",
                "voter",
                "voter",
                "voter",
                "voter",
            ],
            "timestamp": [
                "2017-02-20 10:00",  # -> 2017 municipal (period 2)
                "2018-10-01",  # later attempt, V1 already exposed
                "2018-11-06 17:30",  # election day -> period 3
                "2020-10-15",  # household H3 (V3) -> period 4
                "2020-10-15",  # not attempted
                None,  # undated
                "2017-01-01",  # unknown voter
                "2021-05-01",  # after the last election
                "2017-02-01",  # contacted = 0 but attempted: counts
            ],
            "result": [
                "canvassed",
                "canvassed",
                "not_home",
                "canvassed",
                "skipped",
                "canvassed",
                "canvassed",
                "canvassed",
                "not_home",
            ],
            "attempted": [1, 1, 1, 1, 0, 1, 1, 1, 1],
            "contacted": [1, 1, 0, 1, 0, 1, 1, 1, 0],
        }
    )


def _voters():
    return pd.DataFrame(
        {
            "voter_id": [f"V{v}" for v in range(1, 7)],
            "household_id": ["H1", "H2", "H3", "H4", "H5", "H6"],
            "registration_date": ["2010-01-01"] * 5 + ["2017-01-15"],
        }
    )


def test_voter_panel_long_exposure_on_attempts():
    with pytest.warns(RowsDroppedWarning, match="4 contact rows not used"):
        panel = voter_panel(_history(), _contacts(), voters=_voters())
    d = panel.data
    cohort = d.groupby("voter_id")["cohort"].first()
    assert cohort.to_dict() == {"V1": 2, "V2": 3, "V3": 4, "V4": 0, "V5": 0, "V6": 2}
    assert d["period"].max() == 4 and len(d) == 24
    # V6 registered in 2017: 2016 row missing, not an abstention
    v6 = d[d["voter_id"] == "V6"].set_index("period")
    assert np.isnan(v6.loc[1, "voted"])
    r = panel.report
    assert (r.n_contacts_not_attempted, r.n_contacts_undated, r.n_contacts_unmatched) == (1, 1, 1)
    assert r.n_contacts_after_last_election == 1
    assert r.n_contacts_used + 4 == r.n_contacts
    assert r.n_rows_before_registration == 1
    assert "attempted" in str(panel) or "canvassed" in str(panel)
    assert (d["treated"] == ((d["cohort"] > 0) & (d["period"] >= d["cohort"]))).all()


def test_voter_panel_wide_equals_long():
    hist = _history()
    wide = hist.pivot_table(index="voter_id", columns="election_id", values="voted").reset_index()
    wide.columns.name = None
    c = _contacts().iloc[[0, 2]]
    a = voter_panel(hist, c)
    b = voter_panel(wide, c, layout="wide")
    cols = ["voter_id", "period", "voted", "cohort"]
    pd.testing.assert_frame_equal(
        a.data[cols].sort_values(cols[:2]).reset_index(drop=True),
        b.data[cols].sort_values(cols[:2]).reset_index(drop=True),
        check_dtype=False,
    )


def test_voter_panel_feeds_the_estimators():
    panel = voter_panel(_history(), _contacts().iloc[[0, 2, 8]], voters=_voters())
    with pytest.warns(RowsDroppedWarning, match="dropped 1 of 24 rows"):  # V6 before registration
        res = fx.did(
            panel.data, panel.outcome, panel.unit, "period", "treated", clusters=panel.unit
        )
    assert res.nobs == 23


def test_voter_panel_errors():
    hist = _history()
    with pytest.raises(DataError, match="one row per voter and election"):
        voter_panel(pd.concat([hist, hist.iloc[[0]]]), _contacts())
    with pytest.raises(DataError, match="household level"):
        voter_panel(hist, _contacts().iloc[[3]])
    bad = hist.assign(voted=hist["voted"] * 2)
    with pytest.raises(DataError, match="must be 0/1"):
        voter_panel(bad, _contacts())
    wide = pd.DataFrame({"voter_id": ["a"], "spring vote": [1]})
    with pytest.raises(DataError, match="election_dates"):
        voter_panel(wide, _contacts(), layout="wide")


def _results():
    rows = []
    for p in ["75056_001", "75056_002", "75056_003"]:
        for k, e in enumerate(["pres_2017_04_23", "leg_2017_06_11", "euro_2019_05_26"]):
            reg = 1000 + 10 * k
            vot = 600 + 20 * k + (30 if p == "75056_001" and k == 2 else 0)
            for cand in ["A", "B"]:
                rows.append((p, e, reg, vot, cand))
    return pd.DataFrame(
        rows, columns=["precinct_id", "election_id", "registered", "voters", "candidate"]
    )


def test_precinct_panel():
    contacts = pd.DataFrame(
        {
            "precinct_id": ["75056_001", "75056_001", "75056_002", "99999_001"],
            "timestamp": ["2019-05-01", "2019-05-02", "2017-06-01", "2017-06-01"],
            "attempted": [40, 0, 3, 5],
        }
    )
    with pytest.warns(RowsDroppedWarning, match="2 contact rows not used"):
        panel = precinct_panel(_results(), contacts, min_attempts=5)
    d = panel.data
    assert len(d) == 9 and panel.weights == "registered"
    cohort = d.groupby("precinct_id")["cohort"].first().to_dict()
    assert cohort == {"75056_001": 3, "75056_002": 0, "75056_003": 0}  # 3 attempts < 5
    np.testing.assert_allclose(d["turnout"], d["voters"] / d["registered"])
    res = fx.did(d, "turnout", "precinct_id", "period", "treated", weights="registered")
    assert res.estimate == pytest.approx(30 / 1020, rel=1e-10)


def test_precinct_panel_inconsistent_rows():
    res = _results()
    res.loc[1, "voters"] = 1
    with pytest.raises(DataError, match="must agree"):
        precinct_panel(res, pd.DataFrame({"precinct_id": [], "timestamp": [], "attempted": []}))
