"""Canonical table schemas and validators."""

from __future__ import annotations

import pandas as pd
import pytest

from fieldexp.errors import ColumnNotFoundError, DataError
from fieldexp.io.schema import (
    SCHEMAS,
    validate_assignment,
    validate_contacts,
    validate_precinct_results,
    validate_vote_history,
    validate_voters,
)


def voters() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "voter_id": [1, 2],
            "household_id": ["a", "a"],
            "age": [30, 40],
            "registration_status": ["active", None],
        }
    )


def test_validate_voters_coerces_and_keeps_extras():
    df = voters()
    out = validate_voters(df)
    assert list(out.columns[:4]) == [
        "voter_id",
        "household_id",
        "precinct_id",
        "registration_status",
    ]
    assert out["voter_id"].tolist() == ["1", "2"]
    assert "age" in out.columns and out["precinct_id"].isna().all()
    assert df["voter_id"].tolist() == [1, 2]  # input untouched


def test_missing_column_did_you_mean():
    with pytest.raises(ColumnNotFoundError, match="Did you mean 'houshold_id'"):
        validate_voters(pd.DataFrame({"voter_id": [1], "houshold_id": ["a"]}))


def test_not_nullable_and_allowed_values():
    df = voters()
    df.loc[1, "household_id"] = None
    with pytest.raises(DataError, match=r"'household_id' must not be missing; missing in row 1"):
        validate_voters(df)
    df = voters().assign(registration_status=["active", "gone"])
    with pytest.raises(DataError, match=r"must be one of .*found 'gone' \(1\) in row 1"):
        validate_voters(df)


def test_duplicate_key():
    df = pd.concat([voters(), voters().head(1)], ignore_index=True)
    with pytest.raises(
        DataError, match=r"key \['voter_id'\] must be unique; 1 repeated key\(s\) in row 2"
    ):
        validate_voters(df)


def test_history_binary_and_dates():
    h = pd.DataFrame(
        {
            "voter_id": ["1"],
            "election_id": ["g"],
            "election_date": ["2020-11-03"],
            "election_type": ["general"],
            "voted": [2],
        }
    )
    with pytest.raises(DataError, match=r"'voted' must be 0 or 1; found \[2.0\]"):
        validate_vote_history(h)
    h["voted"] = 1
    h["election_date"] = "soon"
    with pytest.raises(DataError, match="must hold dates"):
        validate_vote_history(h)
    h["election_date"] = "2020-11-03"
    out = validate_vote_history(h)
    assert str(out["voted"].dtype) == "Int8" and out["election_date"].iloc[0] == pd.Timestamp(
        "2020-11-03"
    )


def test_contacts_rules():
    c = pd.DataFrame(
        {
            "unit_id": ["1"],
            "unit_level": ["voter"],
            "result": ["x"],
            "attempted": [0],
            "contacted": [1],
        }
    )
    with pytest.raises(DataError, match="contacted=1 needs attempted=1"):
        validate_contacts(c)
    with pytest.raises(DataError, match="must be one of"):
        validate_contacts(c.assign(unit_level="street", attempted=1))
    with pytest.raises(DataError, match="must be numeric; found 'yes'"):
        validate_contacts(c.assign(attempted="yes"))


def test_assignment_from_design_output_and_plain():
    a = pd.DataFrame(
        {"voter_id": [1, 2], "arm": [0, 1], "probability": [0.5, 0.5], "precinct_id": ["p", "p"]}
    )
    a.attrs["fieldexp_design"] = '{"unit": "voter_id", "blocks": "precinct_id", "control": 0}'
    a.attrs["fieldexp_design"] = {"unit": "voter_id", "blocks": "precinct_id"}
    out = validate_assignment(a)
    assert out["unit_id"].tolist() == ["1", "2"] and out["arm"].tolist() == ["0", "1"]
    assert out["block"].tolist() == ["p", "p"]
    assert out.attrs["fieldexp_unit"] == "voter_id"
    plain = validate_assignment(pd.DataFrame({"household_id": ["h"], "assigned": [1.0]}))
    assert plain["arm"].tolist() == ["1"] and plain["probability"].isna().all()
    with pytest.raises(DataError, match=r"<= 1\.0"):
        validate_assignment(pd.DataFrame({"unit_id": ["1"], "arm": [1], "probability": [1.5]}))
    with pytest.raises(ColumnNotFoundError, match="'arm' or an 'assigned'"):
        validate_assignment(pd.DataFrame({"unit_id": ["1"]}))


def test_precinct_rules():
    r = pd.DataFrame(
        {
            "precinct_id": ["a"],
            "election_id": ["e"],
            "registered": [10],
            "voters": [11],
            "expressed": [9],
            "candidate": ["1"],
            "votes": [3],
        }
    )
    with pytest.raises(DataError, match="must not exceed 'registered'"):
        validate_precinct_results(r)


def test_schema_frames_document_every_table():
    for name, schema in SCHEMAS.items():
        f = schema.to_frame()
        assert len(f) == len(schema.columns) and f["description"].str.len().gt(0).all(), name
