"""The simulated tables are io tables, and their propensity bands are the analysis bands.

``simulate`` writes its vote history with the columns of ``fieldexp.io.schema.VOTE_HISTORY``,
its voter file and contact log with the canonical names they share with ``VOTERS`` and
``CONTACTS``, and labels voters with ``fieldexp.analysis.propensity_band``. These tests run
the simulated frames through the io validators / reader and ``build_analysis_table`` and
check that nothing is lost and that the bands and past votes agree voter by voter.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from fieldexp import io
from fieldexp.analysis import build_analysis_table, propensity_band
from fieldexp.analysis.bands import PROPENSITY_BANDS
from fieldexp.io.schema import CONTACTS, VOTE_HISTORY, VOTERS, TableSchema
from fieldexp.simulation import BANDS, SimulatedExperiment, simulate
from fieldexp.simulation.params import schema_column


@pytest.fixture(scope="module")
def exp() -> SimulatedExperiment:
    return simulate(3000, seed=11, voters_per_precinct=300, n_past_elections=4)


def test_one_band_vocabulary() -> None:
    assert BANDS == PROPENSITY_BANDS == ("never", "intermittent", "regular")


def test_simulated_bands_are_the_analysis_rule(exp: SimulatedExperiment) -> None:
    t = exp.table
    past = [c for c in t.columns if c.startswith("voted_")]
    assert len(past) == 4
    expected = propensity_band(t[past].sum(axis=1).to_numpy(), len(past))
    assert (t["propensity_band"].astype(str).to_numpy() == expected.astype(str)).all()
    # with four past elections, two votes of four is already "regular" (half or more)
    two = t[past].sum(axis=1) == 2
    assert two.any() and (t.loc[two, "propensity_band"] == "regular").all()
    assert list(t["propensity_band"].cat.categories) == list(PROPENSITY_BANDS)


def test_vote_history_is_a_canonical_table(exp: SimulatedExperiment) -> None:
    vh = exp.vote_history
    assert tuple(vh.columns) == tuple(c.name for c in VOTE_HISTORY.columns)
    checked = io.validate_vote_history(vh)
    assert len(checked) == len(vh)


def test_voter_file_validates(exp: SimulatedExperiment) -> None:
    checked = io.validate_voters(exp.voters)
    assert len(checked) == len(exp.voters)
    assert {"voter_id", "household_id", "precinct_id", "registration_date"} <= set(checked.columns)


def test_contact_log_reads_as_canonical_contacts(exp: SimulatedExperiment, tmp_path: Path) -> None:
    path = tmp_path / "contacts.csv"
    exp.contacts.to_csv(path, index=False)
    contacts = io.read_contacts(
        path,
        format="csv",
        mapping={
            "columns": {"canvasser_id": "canvasser"},
            "codes": {"Not Home": {"result": "not_home", "attempted": 1, "contacted": 0}},
        },
    )
    assert len(contacts) == len(exp.contacts)
    shared = {"timestamp", "channel", "result", "attempted", "contacted"}
    assert shared <= {c.name for c in CONTACTS.columns}
    assert int(contacts["contacted"].sum()) == int(exp.contacts["contacted"].sum())


def test_analysis_table_recomputes_the_same_bands(exp: SimulatedExperiment) -> None:
    voters = exp.voters.drop(columns=["propensity_band", "registered"])
    table, rec = build_analysis_table(
        voters,
        exp.assignment,
        None,
        exp.vote_history,
        election="2022_general",
    )
    assert dict(rec.rows_read)["vote_history"] == len(exp.vote_history)  # every row read
    assert not [e for e in rec.entries if e.table == "vote_history" and e.status != "used"]
    merged = table.merge(exp.table, on="voter_id", suffixes=("", "_sim"), validate="1:1")
    assert len(merged) == len(exp.table)
    assert (
        merged["propensity_band"].astype(str) == merged["propensity_band_sim"].astype(str)
    ).all()
    assert (merged["voted"].astype(int) == merged["voted_sim"].astype(int)).all()
    for year in (2014, 2016, 2018, 2020):
        assert (
            merged[f"voted_{year}_general"].astype(int) == merged[f"voted_{year}"].astype(int)
        ).all()


def test_renamed_schema_column_fails_loudly() -> None:
    renamed = TableSchema(name="voters", columns=VOTERS.columns[1:])
    with pytest.raises(ImportError, match="voter_id"):
        schema_column(renamed, "voter_id")


def test_band_codes_do_not_depend_on_row_order(exp: SimulatedExperiment) -> None:
    t = exp.table
    past = [c for c in t.columns if c.startswith("voted_")]
    order = np.random.default_rng(0).permutation(len(t))
    shuffled = t.iloc[order]
    bands = propensity_band(shuffled[past].sum(axis=1).to_numpy(), len(past))
    assert (
        pd.Series(bands, index=shuffled.index).sort_index() == t["propensity_band"].astype(str)
    ).all()
