"""Vote shares keyed by nuance / list / bloc, never by a panel number that changes meaning."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fieldexp.analysis import build_precinct_table
from fieldexp.analysis.stations import check_station_columns, nuance_blocs, share_gaps
from fieldexp.errors import (
    ColumnNotFoundError,
    DataError,
    FieldexpWarning,
    SpecificationError,
)
from fieldexp.io.synthetic import synthetic_precinct_results


def _legislative() -> pd.DataFrame:
    """Two circonscriptions: panel 1 is DVG in the first, RN in the second; ECO only in the first."""
    a = synthetic_precinct_results(3, communes=(("75", "056"),), bureaux_per_commune=3)
    b = synthetic_precinct_results(
        4, communes=(("69", "123"),), bureaux_per_commune=3, candidates=3
    )
    b = b.assign(
        nuance=b["candidate"].map({"1": "RN", "2": "DVG", "3": "DVD"}),
        candidate_label=b["candidate"].map({"1": "ROUGE Rémi", "2": "VERT Val", "3": "BLEU Bea"}),
    )
    out = pd.concat([a, b], ignore_index=True)
    out["constituency_code"] = np.where(out["department_code"] == "75", "01", "02")
    return out


def test_default_is_by_nuance_and_absent_keys_are_missing_not_zero():
    t, _ = build_precinct_table(_legislative())
    assert t.attrs["fieldexp_by"] == "nuance"
    paris = t["commune_code"] == "75056"
    assert t.loc[paris, "share_ECO"].notna().all()
    assert t.loc[~paris, "share_ECO"].isna().all()  # not on the ballot in Lyon
    shares = t[[c for c in t if c.startswith("share_")]].sum(axis=1)
    np.testing.assert_allclose(shares, 1.0)
    raw = _legislative()
    rn = raw[raw["nuance"] == "RN"].set_index("precinct_id")
    want = (rn["votes"] / rn["expressed"]).astype(float)
    np.testing.assert_allclose(t.set_index("precinct_id")["share_RN"], want.loc[t["precinct_id"]])
    assert set(t["constituency_id"]) == {"75-01", "69-02"}


def test_panel_numbers_that_change_meaning_are_refused():
    with pytest.raises(SpecificationError, match=r"panel '1' is .* per circonscription"):
        build_precinct_table(_legislative(), by="candidate")
    # presidential-style: one candidate per panel everywhere -> accepted
    t, _ = build_precinct_table(synthetic_precinct_results(1), by="candidate")
    assert "share_1" in t


def test_panel_number_share_named_in_a_spec_is_refused_with_the_reason():
    t, _ = build_precinct_table(_legislative())
    with pytest.raises(SpecificationError, match=r"panel number.*circonscription"):
        check_station_columns(t, ["share_8"], "[outcomes.x] column")
    with pytest.raises(ColumnNotFoundError, match=r"'share_RNN'.*Did you mean 'share_RN'.*Shares:"):
        check_station_columns(t, ["share_RNN"], "[outcomes.x] column")
    with pytest.raises(DataError, match=r"'share_ECO' is missing in 3 of 6 .*first: 69123_0001"):
        check_station_columns(t, ["share_ECO"], "[outcomes.x] column")
    gaps = share_gaps(t, ["share_ECO", "share_RN", "turnout"])
    assert [(g.column, g.missing) for g in gaps] == [("share_ECO", 3)]


def test_blocs_add_nuances_and_unknown_nuances_warn():
    r = _legislative()
    t, _ = build_precinct_table(r, by="bloc")
    got = t.set_index("precinct_id")
    lyon = got.loc["69123_0001"]
    assert (
        lyon["votes_droite"]
        == r[(r["precinct_id"] == "69123_0001") & (r["nuance"] == "DVD")]["votes"].sum()
    )
    assert nuance_blocs()["DVG"] == "gauche"
    r2 = r.assign(nuance=r["nuance"].replace({"ECO": "XYZ"}))
    with pytest.warns(FieldexpWarning, match=r"nuance value\(s\) \['XYZ'\] are in no bloc"):
        t2, _ = build_precinct_table(r2, by="bloc")
    assert "share_non_classe" in t2
    t3, _ = build_precinct_table(
        r, by="bloc", blocs={"DVG": "g", "ECO": "g", "RN": "d", "DVD": "d", "DIV": "d"}
    )
    np.testing.assert_allclose(t3["share_g"] + t3["share_d"], 1.0)


def test_labels_and_list_alias():
    t, _ = build_precinct_table(_legislative(), by="list")
    assert {"share_ROUGE_Remi", "share_VERT_Val"} <= set(t)


def test_past_turnout_and_assignment_covariates():
    now = _legislative()
    before = _legislative().assign(election_id="past")
    before = before[before["precinct_id"] != "69123_0003"]
    r = pd.concat([now, before], ignore_index=True)
    a = pd.DataFrame(
        {
            "precinct_id": sorted(now["precinct_id"].unique()),
            "arm": [0, 1, 0, 1, 0, 1],
            "probability": 0.5,
            "density": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
        }
    )
    t, rec = build_precinct_table(r, election="synthetic", assignment=a, past_election="past")
    s = t.set_index("precinct_id")
    assert np.isnan(s.loc["69123_0003", "past_turnout"])
    assert s.loc["75056_0001", "past_turnout"] == pytest.approx(s.loc["75056_0001", "turnout"])
    assert list(t["density"]) == list(a.set_index("precinct_id").loc[t["precinct_id"], "density"])
    with pytest.raises(SpecificationError, match="past_election"):
        build_precinct_table(r, election="synthetic", past_election="pas")
    rec.check()


def test_row_order_does_not_change_the_table():
    r = _legislative()
    a, _ = build_precinct_table(r)
    b, _ = build_precinct_table(r.sample(frac=1, random_state=1).reset_index(drop=True))
    pd.testing.assert_frame_equal(a, b)


def test_blank_nuances_fall_back_to_labels_and_are_refused_when_asked():
    r = _legislative()
    r.loc[r["commune_code"] == "69123", "nuance"] = ""  # small communes publish no nuance
    t, _ = build_precinct_table(r)
    assert t.attrs["fieldexp_by"] == "candidate_label"
    with pytest.raises(DataError, match=r"9 candidate rows have no 'nuance'.*69123_0001"):
        build_precinct_table(r, by="nuance")


def test_zero_registered_station_is_named():
    r = _legislative()
    zero = r["precinct_id"] == "75056_0002"
    r.loc[zero, ["registered", "voters", "abstentions", "blank", "null", "expressed", "votes"]] = 0
    t, rec = build_precinct_table(r)
    assert any("0 registered" in n for n in rec.notes)
    with pytest.raises(
        DataError, match=r"'turnout' is missing in 1 of 6 .*75056_0002.*0 registered"
    ):
        check_station_columns(t, ["turnout"], "[outcomes.turnout] column")


def test_presidential_blocs_from_candidate_surnames():
    r = synthetic_precinct_results(2).drop(columns="nuance")
    names = {
        "1": "MACRON Emmanuel",
        "2": "LE PEN Marine",
        "3": "MÉLENCHON Jean-Luc",
        "4": "ZZZ Foo",
    }
    r["candidate_label"] = r["candidate"].map(names)
    with pytest.warns(FieldexpWarning, match=r"\['ZZZ Foo'\] are in no bloc"):
        t, _ = build_precinct_table(r, by="bloc")
    assert {"share_centre", "share_extreme_droite", "share_gauche", "share_non_classe"} == {
        c for c in t if c.startswith("share_")
    }
    np.testing.assert_allclose(t.filter(like="share_").sum(axis=1), 1.0)
