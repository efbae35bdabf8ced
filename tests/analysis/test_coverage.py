"""Coverage counts: treatment households by group and by canvasser, from the analysis contacts."""

from __future__ import annotations

import pandas as pd
import pytest

from fieldexp.analysis.coverage import (
    canvasser_coverage,
    contacts_in_analysis,
    household_coverage,
)
from fieldexp.errors import ColumnNotFoundError


@pytest.fixture
def table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "voter_id": ["v1", "v2", "v3", "v4", "v5", "v6"],
            "household_id": ["h1", "h1", "h2", "h3", "h4", "h4"],
            "precinct_id": ["p1", "p1", "p1", "p2", "p2", "p2"],
            "arm": ["1", "1", "1", "1", "0", "0"],
            "attempted": [1, 0, 1, 0, 0, 0],
            "contacted": [0, 1, 0, 0, 0, 0],
        }
    )


def test_household_coverage_counts_households(table) -> None:
    g = household_coverage(table, arms=["1"], household="household_id", by="precinct_id")
    assert g.to_dict("list") == {
        "group": ["p1", "p2"],
        "households": [2, 1],
        "attempted": [2, 0],
        "contacted": [1, 0],
    }


def test_household_coverage_names_a_missing_column(table) -> None:
    with pytest.raises(ColumnNotFoundError, match="'ward'"):
        household_coverage(table, arms=["1"], household="household_id", by="ward")


def test_contacts_in_analysis_keeps_window_and_treatment_units(table) -> None:
    contacts = pd.DataFrame(
        {
            "unit_id": ["v1", "v3", "v5", "v1", "h2", "zz"],
            "unit_level": ["voter", "voter", "voter", "voter", "household", "voter"],
            "timestamp": [
                "2022-10-02",
                "2022-10-03",
                "2022-10-03",  # control voter: left out
                "2022-11-20",  # after the window: left out
                "2022-10-04",  # household-level row of a treatment household
                "2022-10-04",  # unknown voter: left out
            ],
            "attempted": [1, 1, 1, 1, 1, 1],
            "contacted": [0, 1, 1, 1, 0, 1],
            "canvasser": ["K2", "K10", "K2", "K2", "K10", "K2"],
        }
    )
    used = contacts_in_analysis(
        contacts, table, arms=["1"], household="household_id", window=("2022-10-01", "2022-11-08")
    )
    assert used.rows_read == 6 and used.set_aside == 3
    assert sorted(used.data["household"]) == ["h1", "h2", "h2"]
    g = canvasser_coverage(used)
    assert g.to_dict("list") == {
        "canvasser": ["K10", "K2"],
        "households": [1, 1],
        "contacted": [1, 0],
    }


def test_contacts_in_analysis_does_not_mutate(table) -> None:
    contacts = pd.DataFrame(
        {"unit_id": ["v1"], "timestamp": ["2022-10-02"], "attempted": [1], "contacted": [1]}
    )
    before = contacts.copy()
    contacts_in_analysis(contacts, table, arms=["1"], household="household_id")
    pd.testing.assert_frame_equal(contacts, before)


def test_contacts_in_analysis_without_households_keys_by_voter(table) -> None:
    """An unclustered design's table may lack household_id: each voter is their own door."""
    contacts = pd.DataFrame(
        {
            "unit_id": ["v1", "v3", "v5"],
            "timestamp": ["2022-10-02", "2022-10-03", "2022-10-03"],
            "attempted": [1, 1, 1],
            "contacted": [1, 0, 1],
            "canvasser": ["K1", "K1", "K2"],
        }
    )
    used = contacts_in_analysis(
        contacts, table.drop(columns="household_id"), arms=["1"], household="voter_id",
        window=None,
    )  # fmt: skip
    assert used.rows_read == 3 and used.set_aside == 1
    assert sorted(used.data["household"]) == ["v1", "v3"]
