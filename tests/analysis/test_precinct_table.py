"""build_precinct_table: turnout, shares over expressed votes, weights, assignment."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fieldexp.analysis import build_precinct_table
from fieldexp.errors import ReconciliationError, SpecificationError
from fieldexp.io import read_precinct_results
from fieldexp.io.synthetic import synthetic_precinct_results


def test_turnout_shares_weights():
    r = synthetic_precinct_results(1)
    t, rec = build_precinct_table(r)
    assert len(t) == r["precinct_id"].nunique()
    np.testing.assert_allclose(t["turnout"], t["voters"] / t["registered"])
    shares = t[[c for c in t.columns if c.startswith("share_")]].sum(axis=1)
    np.testing.assert_allclose(shares, 1.0)
    assert (t["weight"] == t["registered"]).all()
    rec.check()


def test_by_nuance_and_sample_file(fixtures_dir):
    r = read_precinct_results(fixtures_dir / "io" / "fr_results_2024.csv")
    t, _ = build_precinct_table(r, by="nuance")
    assert {"share_DVG", "share_RN", "votes_ECO"} <= set(t.columns)


def test_assignment_join_and_reconciliation():
    r = synthetic_precinct_results(2)
    stations = sorted(r["precinct_id"].unique())
    a = pd.DataFrame(
        {
            "precinct_id": [*stations[:6], "99999_0001"],
            "arm": [0, 1, 0, 1, 0, 1, 1],
            "probability": 0.5,
        }
    )
    t, rec = build_precinct_table(r, assignment=a)
    assert t["assigned"].notna().sum() == 6
    assert rec.set_aside("assignment", "polling station not in the results") == 1
    rec.check()
    bad = pd.concat([a, a.assign(arm=1 - a["arm"]).head(1)])
    with pytest.raises(ReconciliationError, match="one arm"):
        build_precinct_table(r, assignment=bad)


def test_several_elections_need_a_choice():
    r = pd.concat(
        [
            synthetic_precinct_results(1, election_id="a"),
            synthetic_precinct_results(1, election_id="b"),
        ]
    )
    with pytest.raises(SpecificationError, match="several elections"):
        build_precinct_table(r)
    _, rec = build_precinct_table(r, election="b")
    assert rec.set_aside("precinct_results", "other election") == len(r) // 2
    with pytest.raises(SpecificationError, match="Did you mean 'b'"):
        build_precinct_table(r, election="bb")


def test_accented_labels_give_readable_keys_and_clashes_are_refused():
    r = synthetic_precinct_results(1)
    first = r["candidate_label"].iloc[0]
    r2 = r.copy()
    r2["candidate_label"] = r2["candidate_label"].replace({first: "MÉLENCHON Jean-Luc"})
    t, _ = build_precinct_table(r2, by="candidate_label")
    assert "share_MELENCHON_Jean_Luc" in t.columns
    r3 = r2.copy()
    other = r3["candidate_label"][r3["candidate_label"] != "MÉLENCHON Jean-Luc"].iloc[0]
    r3["candidate_label"] = r3["candidate_label"].replace({other: "MELENCHON Jean Luc"})
    with pytest.raises(SpecificationError, match="same column key 'MELENCHON_Jean_Luc'"):
        build_precinct_table(r3, by="candidate_label")


def test_several_treatment_arms_are_pooled_with_a_warning_and_a_note():
    """Three arms: 'assigned' is control vs the rest, said in a warning and the notes."""
    from fieldexp.errors import FieldexpWarning

    r = synthetic_precinct_results(2)
    stations = sorted(r["precinct_id"].unique())[:6]
    a = pd.DataFrame({"precinct_id": stations, "arm": [0, 1, 2, 0, 1, 2], "probability": 1 / 3})
    with pytest.warns(FieldexpWarning, match="3 arms"):
        t, rec = build_precinct_table(r, assignment=a)
    assert any("pools every arm" in n for n in rec.notes)
    got = t.set_index("precinct_id").loc[stations, "assigned"].astype(int).tolist()
    assert got == [0, 1, 1, 0, 1, 1]
