"""Round trips: synthetic canonical tables -> each layout (our writers) -> readers -> equal."""

from __future__ import annotations

import filecmp
import warnings

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fieldexp.io import read_contacts, read_vote_history, read_voters
from fieldexp.io.synthetic import synthetic_field_data
from fieldexp.io.writers import write_contacts, write_fixtures, write_vote_history, write_voters

HSET = ["voter_id", "election_id", "election_date", "election_type", "voted"]


def _sorted(df: pd.DataFrame, cols: list[str], key: list[str]) -> pd.DataFrame:
    return df[cols].sort_values(key).reset_index(drop=True).astype(str)


def test_voters_round_trip(tmp_path, synth):
    p = write_voters(synth.voters, tmp_path / "v.csv")
    got = read_voters(p)
    cols = [
        "voter_id",
        "household_id",
        "precinct_id",
        "registration_status",
        "registration_date",
        "birth_year",
        "gender",
        "party",
    ]
    assert _sorted(got, cols, ["voter_id"]).equals(_sorted(synth.voters, cols, ["voter_id"]))


@pytest.mark.parametrize("fmt", ["long", "wide", "ohio", "l2"])
def test_history_round_trip_full(tmp_path, synth, fmt):
    p = write_vote_history(synth.vote_history, tmp_path / "h.csv", format=fmt)
    got = read_vote_history(p, format=fmt)
    assert _sorted(got, HSET, ["voter_id", "election_id"]).equals(
        _sorted(synth.vote_history, HSET, ["voter_id", "election_id"])
    )


@pytest.mark.parametrize(
    ("fmt", "vintage"), [("ncvhis", "old"), ("ncvhis", "new"), ("florida", "new")]
)
def test_history_round_trip_ballots_only(tmp_path, synth, fmt, vintage):
    p = write_vote_history(synth.vote_history, tmp_path / "h.txt", format=fmt, vintage=vintage)
    got = read_vote_history(p, format=fmt)
    ref = synth.vote_history[synth.vote_history["voted"] == 1]
    # Florida's "A" covers absentee and mail ballots, so methods round-trip for ncvhis only
    cols = [*HSET, "method"] if fmt == "ncvhis" else HSET
    assert _sorted(got, cols, ["voter_id", "election_id"]).equals(
        _sorted(ref, cols, ["voter_id", "election_id"])
    )


@pytest.mark.parametrize("fmt", ["csv", "van", "nationbuilder"])
def test_contacts_round_trip(tmp_path, synth, fmt):
    res = tmp_path / "results.csv"
    p = write_contacts(synth.contacts, tmp_path / "c.csv", format=fmt, results_path=res)
    got = read_contacts(p, format=fmt, results=res if fmt == "van" else None)
    cols = ["unit_id", "unit_level", "attempted", "contacted", "channel"]
    assert got[cols].reset_index(drop=True).astype(str).equals(synth.contacts[cols].astype(str))
    if fmt == "csv":
        assert got["result"].tolist() == synth.contacts["result"].tolist()
        assert (got["timestamp"].to_numpy() == synth.contacts["timestamp"].to_numpy()).all()


@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    seed=st.integers(0, 10_000),
    fmt=st.sampled_from(["long", "wide", "ohio", "l2", "ncvhis", "florida"]),
)
def test_history_round_trip_property(tmp_path, seed, fmt):
    data = synthetic_field_data(seed, n_households=st_size(seed), n_precincts=2)
    p = write_vote_history(
        data.vote_history,
        tmp_path / f"h_{fmt}.txt",
        format=fmt,
        duplicate_share=0.1 if fmt == "ncvhis" else 0.0,
        seed=seed,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = read_vote_history(p, format=fmt)
    ref = data.vote_history
    if fmt in ("ncvhis", "florida"):
        ref = ref[ref["voted"] == 1]
    assert _sorted(got, HSET, ["voter_id", "election_id"]).equals(
        _sorted(ref, HSET, ["voter_id", "election_id"])
    )


def st_size(seed: int) -> int:
    return 5 + seed % 20


def test_fixtures_are_up_to_date(tmp_path, io_fixtures):
    """The committed sample files equal a fresh run of the documented command."""
    files = write_fixtures(tmp_path)
    for f in files:
        committed = io_fixtures / f.name
        assert committed.exists(), f"{f.name} missing from fixtures/io"
        assert filecmp.cmp(f, committed, shallow=False), f"fixtures/io/{f.name} is stale"
    total = sum(p.stat().st_size for p in io_fixtures.iterdir())
    assert total < 2_000_000
