"""Synthetic canonical tables: seeded, valid, and shaped like a canvassing experiment."""

from __future__ import annotations

import pandas as pd

from fieldexp.io.schema import validate_contacts, validate_vote_history, validate_voters
from fieldexp.io.synthetic import synthetic_field_data, synthetic_precinct_results


def test_same_seed_same_tables():
    a = synthetic_field_data(3, n_households=20)
    b = synthetic_field_data(3, n_households=20)
    pd.testing.assert_frame_equal(a.voters, b.voters)
    pd.testing.assert_frame_equal(a.contacts, b.contacts)
    c = synthetic_field_data(4, n_households=20)
    assert not a.voters["household_id"].equals(c.voters["household_id"]) or not a.contacts.equals(
        c.contacts
    )


def test_tables_validate_and_only_treated_are_visited():
    d = synthetic_field_data(5, n_households=40)
    validate_voters(d.voters.drop(columns=["first_name", "last_name", "address", "birth_date"]))
    validate_vote_history(d.vote_history)
    validate_contacts(d.contacts)
    arm = d.assignment.set_index("voter_id")["arm"]
    assert (arm.loc[d.contacts["unit_id"]] == 1).all()
    assert d.assignment.groupby("household_id")["arm"].nunique().max() == 1


def test_precinct_results_are_consistent():
    r = synthetic_precinct_results(2)
    totals = r.groupby("precinct_id").agg(votes=("votes", "sum"), expressed=("expressed", "first"))
    assert (totals["votes"] == totals["expressed"]).all()
    assert (r["voters"] == r["expressed"] + r["blank"] + r["null"]).all()
