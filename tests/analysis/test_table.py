"""build_analysis_table: joins, outcome rules, and a reconciliation that loses nothing."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fieldexp as fx
from fieldexp.analysis import build_analysis_table
from fieldexp.errors import ColumnNotFoundError, ReconciliationError, SpecificationError
from fieldexp.io.synthetic import synthetic_field_data

ELECTION = "general_2020_11_03"


def messy():
    voters = pd.DataFrame(
        {
            "voter_id": ["V1", "V2", "V3", "V4", "V5", "V6", "V2", "V7"],
            "household_id": ["H1", "H1", "H2", "H2", "H3", "H4", "H1", "H5"],
            "precinct_id": ["P1", "P1", "P1", "P2", "P2", "P2", "P1", "P2"],
            "registration_status": [
                "active",
                "active",
                "active",
                "active",
                "removed",
                "active",
                "active",
                "inactive",
            ],
            "birth_year": [1950, 1960, 1970, 1980, 1990, 2000, 1960, 1975],
            "first_name": ["a", "b", "c", "d", "e", "f", "b", "g"],
        }
    )
    assignment = pd.DataFrame(
        {
            "voter_id": ["V1", "V2", "V3", "V4", "V5", "V7", "V9", "V1"],
            "arm": [1, 1, 0, 0, 1, 0, 1, 1],
            "probability": 0.5,
        }
    )
    contacts = pd.DataFrame(
        {
            "unit_id": ["V1", "V1", "VX", "V6", "V2", "V3", "H1", "H9", "H4", "V5"],
            "unit_level": ["voter"] * 6 + ["household"] * 3 + ["voter"],
            "timestamp": pd.to_datetime(
                [
                    "2020-10-01",
                    "2020-10-01",
                    "2020-10-01",
                    "2020-10-01",
                    "2020-11-05",
                    "2020-10-02",
                    "2020-10-03",
                    "2020-10-03",
                    "2020-10-03",
                    "2020-10-04",
                ]
            ),
            "result": [
                "canvassed",
                "canvassed",
                "canvassed",
                "canvassed",
                "canvassed",
                "canvassed",
                "not_home",
                "not_home",
                "not_home",
                "not_home",
            ],
            "attempted": 1,
            "contacted": [1, 1, 1, 1, 1, 1, 0, 0, 0, 0],
        }
    )
    history = pd.DataFrame(
        {
            "voter_id": ["V1", "V1", "V1", "V2", "V2", "V6", "V8", "V9", "V5"],
            "election_id": [
                ELECTION,
                "general_2018_11_06",
                "general_2022_11_08",
                ELECTION,
                ELECTION,
                ELECTION,
                ELECTION,
                ELECTION,
                "general_2018_11_06",
            ],
            "election_date": pd.to_datetime(
                [
                    "2020-11-03",
                    "2018-11-06",
                    "2022-11-08",
                    "2020-11-03",
                    "2020-11-03",
                    "2020-11-03",
                    "2020-11-03",
                    "2020-11-03",
                    "2018-11-06",
                ]
            ),
            "election_type": "general",
            "voted": [1, 1, 1, 1, 1, 1, 1, 1, 0],
        }
    )
    return voters, assignment, contacts, history


def test_messy_tables_exact_counts():
    v, a, c, h = messy()
    before = [x.copy() for x in (v, a, c, h)]
    table, rec = build_analysis_table(v, a, c, h, election=ELECTION)
    for x, y in zip(before, (v, a, c, h), strict=True):
        pd.testing.assert_frame_equal(x, y)  # inputs untouched
    t = table.set_index("voter_id")
    assert list(t.index) == ["V1", "V2", "V3", "V4", "V5", "V7", "V9"]
    assert t["assigned"].tolist() == [1, 1, 0, 0, 1, 0, 1]
    assert t["attempted"].tolist() == [1, 1, 1, 0, 1, 0, 0]
    assert t["contacted"].tolist() == [1, 0, 1, 0, 0, 0, 0]
    assert t["voted"].tolist()[:4] == [1, 1, 0, 0]
    assert pd.isna(t.loc["V5", "voted"]) and t.loc["V5", "outcome_status"] == "removed"
    assert t.loc["V7", "voted"] == 0 and t.loc["V7", "outcome_status"] == "no_history_row"
    assert t.loc["V9", "voted"] == 1 and pd.isna(t.loc["V9", "household_id"])
    assert t["voted_general_2018_11_06"].tolist()[:5] == [1, 0, 0, 0, 0]
    assert pd.isna(t.loc["V9", "voted_general_2018_11_06"])
    assert t.loc["V1", "propensity_band"] == "regular" and t.loc["V2", "propensity_band"] == "never"
    assert t["registered"].tolist() == [1, 1, 1, 1, 0, 1, 0]
    assert "first_name" not in table.columns
    assert "birth_year" in table.columns

    assert dict(rec.rows_read) == {"voters": 8, "assignment": 8, "contacts": 10, "vote_history": 9}
    rec.check()
    assert rec.set_aside("voters", "duplicate voter id (same household; first row kept)") == 1
    assert rec.set_aside("voters", "not in the assignment (outside the experiment)") == 1
    assert rec.count("voters", "used; household split across precincts") == 2
    assert rec.used("voters") == 6
    assert rec.set_aside("assignment") == 1
    assert rec.count("assignment", "used; unit not in the voter file (outcome missing)") == 1
    counts = {e.reason: e.rows for e in rec.entries if e.table == "contacts"}
    assert counts == {
        "used": 3,
        "used; contact logged for a held-out (control) unit": 1,
        "duplicate contact row": 1,
        "voter id not in the voter file": 1,
        "voter not in the experiment (not assigned)": 1,
        "after election day": 1,
        "household id not in the voter file": 1,
        "household not in the experiment (not assigned)": 1,
    }
    counts = {e.reason: e.rows for e in rec.entries if e.table == "vote_history"}
    assert counts == {
        "used; outcome (target election)": 3,
        "used; past-vote covariate": 2,
        "election after the target election": 1,
        "duplicate voter-election row (a counted ballot kept)": 1,
        "voter not in the experiment (not assigned)": 1,
        "voter id not in the voter file": 1,
    }
    firsts = {e.reason: e.first_rows for e in rec.entries if e.table == "contacts"}
    assert firsts["after election day"] == (4,)
    assert firsts["duplicate contact row"] == (1,)
    missing = [e for e in rec.entries if e.table == "analysis"]
    assert [(m.arm, m.reason, m.rows) for m in missing] == [("1", "removed", 1)]
    flow = rec.flow_frame().set_index("arm")
    assert flow.loc["0"].tolist() == [3, 1, 1, 3]
    assert flow.loc["1"].tolist() == [4, 3, 1, 3]


def test_report_is_free_of_personal_data():
    v, a, c, h = messy()
    _, rec = build_analysis_table(v, a, c, h, election=ELECTION)
    text = str(rec) + rec.to_frame().to_string() + rec._repr_html_()
    for ident in ["V1", "V2", "VX", "H1", "H9", "V9"]:
        assert ident not in text
    assert "set aside" in text and "after election day" in text


def test_campaign_window_and_dropping_control_contacts():
    v, a, c, h = messy()
    table, rec = build_analysis_table(
        v,
        a,
        c,
        h,
        election=ELECTION,
        campaign_window=("2020-10-02", "2020-10-03"),
        control_contacts="drop",
    )
    reasons = {e.reason: e.rows for e in rec.entries if e.table == "contacts"}
    assert reasons["before the campaign window"] == 1  # V1 on 10-01
    assert reasons["after the campaign window"] == 2  # V2 11-05, V5 10-04
    assert reasons["contact logged for a held-out (control) unit"] == 1
    assert table.set_index("voter_id").loc["V3", "contacted"] == 0
    assert rec.campaign_window == ("2020-10-02", "2020-10-03")
    rec.check()


def test_election_by_date_and_unknown_election():
    v, a, c, h = messy()
    _, rec = build_analysis_table(v, a, c, h, election="2020-11-03")
    assert rec.election == ELECTION
    with pytest.raises(SpecificationError, match="Did you mean 'general_2020_11_03'"):
        build_analysis_table(v, a, c, h, election="general_2020_11_04")


def test_past_elections_option():
    d = synthetic_field_data(3, n_households=30)
    t, _ = build_analysis_table(
        d.voters, d.assignment, d.contacts, d.vote_history, election=d.election, past_elections=2
    )
    assert [c for c in t.columns if c.startswith("voted_")] == [
        "voted_general_2018_11_06",
        "voted_primary_2020_03_03",
    ]
    assert set(t["past_elections"]) == {2}


def test_same_voter_two_households_is_a_hard_conflict():
    v, a, c, h = messy()
    v.loc[6, "household_id"] = "H7"
    with pytest.raises(
        ReconciliationError,
        match=r"same voter id must belong to one household; 1 voter id.*rows 1, 6",
    ):
        build_analysis_table(v, a, c, h, election=ELECTION)


def test_unit_in_two_arms_is_a_hard_conflict():
    v, a, c, h = messy()
    a.loc[7, "arm"] = 0
    with pytest.raises(ReconciliationError, match="assigned to one arm"):
        build_analysis_table(v, a, c, h, election=ELECTION)


def test_missing_columns():
    v, a, c, h = messy()
    with pytest.raises(ColumnNotFoundError, match="household_id"):
        build_analysis_table(v.drop(columns="household_id"), a, c, h, election=ELECTION)
    with pytest.raises(ColumnNotFoundError, match="'arm' or 'assigned'"):
        build_analysis_table(v, a.drop(columns="arm"), c, h, election=ELECTION)
    with pytest.raises(SpecificationError, match="control_contacts"):
        build_analysis_table(v, a, c, h, election=ELECTION, control_contacts="maybe")


def test_assigned_column_and_no_contacts():
    v, a, _c, h = messy()
    a2 = a.rename(columns={"arm": "assigned"}).drop(columns="probability")
    t, rec = build_analysis_table(v, a2, None, h, election=ELECTION)
    assert t["attempted"].sum() == 0 and t["probability"].isna().all()
    assert "contacts" not in dict(rec.rows_read)


def test_design_assign_output_and_ids_hash():
    d = synthetic_field_data(11, n_households=40, n_precincts=2)
    design = fx.Design("voter_id", blocks="precinct_id", clusters="household_id")
    a = design.assign(d.voters, seed=5)
    t, _ = build_analysis_table(d.voters, a, d.contacts, d.vote_history, election=d.election)
    assert len(t) == len(d.voters)
    assert set(t["block"]) == set(d.voters["precinct_id"])
    assert (t["cluster"] == t["household_id"]).all()
    assert t.attrs["fieldexp_control"] == str(design.control)
    # the voter file lost a voter: the assignment was drawn on another file
    with pytest.raises(ReconciliationError, match="drawn from a different voter file"):
        build_analysis_table(d.voters.iloc[1:], a, d.contacts, d.vote_history, election=d.election)
    # the assignment file was edited (a row removed)
    edited = a.iloc[1:].copy()
    edited.attrs = dict(a.attrs)
    with pytest.raises(
        ReconciliationError, match="1 of its units are now missing and 0 were added"
    ):
        build_analysis_table(d.voters, edited, d.contacts, d.vote_history, election=d.election)
    # neither the voters nor the assignment's own units match the recorded hash
    with pytest.raises(ReconciliationError, match="matches neither"):
        build_analysis_table(
            d.voters.iloc[1:], edited, d.contacts, d.vote_history, election=d.election
        )
    t2, _ = build_analysis_table(
        d.voters, edited, d.contacts, d.vote_history, election=d.election, verify_ids_hash=False
    )
    assert len(t2) == len(d.voters) - 1


def test_household_level_assignment_expands_to_voters():
    d = synthetic_field_data(12, n_households=40, n_precincts=2)
    hh = d.voters.drop_duplicates("household_id")[["household_id", "precinct_id"]]
    a = fx.Design("household_id", blocks="precinct_id").assign(hh, seed=1)
    t, rec = build_analysis_table(d.voters, a, d.contacts, d.vote_history, election=d.election)
    assert len(t) == len(d.voters)
    assert t.groupby("household_id")["arm"].nunique().eq(1).all()
    assert t.attrs["fieldexp_unit_level"] == "household"
    rec.check()


def test_parquet_and_csv_paths_match_dataframes(tmp_path):
    d = synthetic_field_data(4, n_households=30)
    ref, rec_ref = build_analysis_table(
        d.voters, d.assignment, d.contacts, d.vote_history, election=d.election
    )
    paths = {}
    for name, df in [
        ("voters", d.voters),
        ("assignment", d.assignment),
        ("contacts", d.contacts),
        ("history", d.vote_history),
    ]:
        p = tmp_path / f"{name}.parquet"
        df.to_parquet(p)
        paths[name] = p
    got, rec = build_analysis_table(
        paths["voters"],
        paths["assignment"],
        paths["contacts"],
        paths["history"],
        election=d.election,
    )
    cols = ["voter_id", "arm", "attempted", "contacted", "voted", "past_votes"]
    pd.testing.assert_frame_equal(ref[cols].astype(str), got[cols].astype(str))
    assert rec.rows_read == rec_ref.rows_read
    d.vote_history.to_csv(tmp_path / "h.csv", index=False)
    got2, _ = build_analysis_table(
        paths["voters"],
        paths["assignment"],
        paths["contacts"],
        tmp_path / "h.csv",
        election=d.election,
    )
    assert got2["voted"].tolist() == ref["voted"].tolist()
    with pytest.raises(SpecificationError, match="not found"):
        build_analysis_table(
            tmp_path / "nope.parquet",
            paths["assignment"],
            None,
            paths["history"],
            election=d.election,
        )


def test_row_labels_are_file_lines(fixtures_dir):
    from fieldexp.io import read_contacts, read_vote_history, read_voters

    io_fixtures = fixtures_dir / "io"
    voters = read_voters(io_fixtures / "voters.csv")
    a = pd.read_csv(io_fixtures / "assignment.csv", dtype={"voter_id": str})
    contacts = read_contacts(io_fixtures / "contacts.csv")
    extra = pd.concat([contacts, contacts.iloc[:2]])  # duplicated rows, with their line labels
    hist = read_vote_history(io_fixtures / "history_long.csv")
    _, rec = build_analysis_table(voters, a, extra, hist, election=ELECTION)
    dup = next(e for e in rec.entries if e.reason == "duplicate contact row")
    assert dup.first_rows == (2, 3)
    assert any(i["file"] == "voters.csv" for i in rec.imports)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 1000),
    drop_voters=st.integers(0, 5),
    dup=st.integers(0, 4),
    junk=st.integers(0, 4),
)
def test_reconciliation_adds_up_property(seed, drop_voters, dup, junk):
    """Whatever rows are dropped, duplicated or invented, every input row is accounted for."""
    d = synthetic_field_data(seed, n_households=15, n_precincts=2)
    voters = pd.concat([d.voters.iloc[drop_voters:], d.voters.iloc[:dup]], ignore_index=True)
    contacts = pd.concat(
        [
            d.contacts,
            d.contacts.head(dup),
            pd.DataFrame(
                {
                    "unit_id": [f"Z{i}" for i in range(junk)],
                    "unit_level": "voter",
                    "timestamp": pd.Timestamp("2020-10-01"),
                    "channel": "door",
                    "result": "x",
                    "attempted": 1,
                    "contacted": 0,
                }
            ),
        ],
        ignore_index=True,
    )
    hist = pd.concat([d.vote_history, d.vote_history.head(dup)], ignore_index=True)
    table, rec = build_analysis_table(voters, d.assignment, contacts, hist, election=d.election)
    for name, n in rec.rows_read:
        assert rec.used(name) + rec.set_aside(name) == n
    assert dict(rec.rows_read)["contacts"] == len(contacts)
    assert dict(rec.rows_read)["vote_history"] == len(hist)
    assert len(table) == d.assignment["voter_id"].nunique()
    assert table["voter_id"].is_unique
