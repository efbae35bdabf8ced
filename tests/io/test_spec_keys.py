"""Spec keys of the US readers: strict, channels, results_by, [data.crosswalk], format auto."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

from fieldexp.errors import FileFormatError, SpecificationError
from fieldexp.io.vocab import UnknownCodeWarning
from fieldexp.report.inputs import read_source
from fieldexp.spec import parse_spec

BASE = """
version = 1
[data.voters]
path = "voters.csv"
[data.vote_history]
path = "ncvhis.txt"
format = "{hist_format}"
{hist_extra}
[data.contacts]
path = "van.csv"
format = "van"
results = "van_results.csv"
{contacts_extra}
[data.assignment]
path = "assignment.csv"
{crosswalk}
[analysis]
election = "general_2024_11_05"
[outcomes.turnout]
"""


def _spec(
    tmp_path, io_fixtures, *, hist_format="ncvhis", hist_extra="", contacts_extra="", crosswalk=""
):
    for name in ("voters.csv", "assignment.csv", "van_results.csv"):
        shutil.copy(io_fixtures / name, tmp_path / name)
    shutil.copy(io_fixtures / "van_contacts.csv", tmp_path / "van.csv")
    text = (io_fixtures / "ncvhis.txt").read_text().replace("ELECTION DAY", "DRONE DROP", 1)
    (tmp_path / "ncvhis.txt").write_text(text)
    spec_text = BASE.format(
        hist_format=hist_format,
        hist_extra=hist_extra,
        contacts_extra=contacts_extra,
        crosswalk=crosswalk,
    )
    (tmp_path / "spec.toml").write_text(spec_text)
    return parse_spec(spec_text, path=tmp_path / "spec.toml")


def test_strict_key_refuses_unknown_codes(tmp_path, io_fixtures):
    spec = _spec(tmp_path, io_fixtures)
    with pytest.warns(UnknownCodeWarning, match="DRONE DROP"):
        h = read_source(spec.data.vote_history)
    assert "DRONE DROP" in h.attrs["fieldexp_import"]["unknown_codes"]["voting_method"]
    strict = _spec(tmp_path, io_fixtures, hist_extra="strict = true")
    with pytest.raises(FileFormatError, match="DRONE DROP"):
        read_source(strict.data.vote_history)
    auto = _spec(tmp_path, io_fixtures, hist_format="auto")
    with pytest.warns(UnknownCodeWarning):
        assert read_source(auto.data.vote_history).attrs["fieldexp_import"]["format"] == "ncvhis"


def test_channels_results_by_and_crosswalk_keys(tmp_path, io_fixtures):
    contacts = pd.read_csv(io_fixtures / "van_contacts.csv", dtype=str)
    cw = pd.DataFrame({"VanID": contacts["VanID"].unique()[1:], "StateFileID": "S"})
    cw["StateFileID"] = "S" + cw["VanID"]
    cw.to_csv(tmp_path / "cw.csv", index=False)
    spec = _spec(
        tmp_path,
        io_fixtures,
        contacts_extra='channels = ["door"]\nresults_by = "short"',
        crosswalk='[data.crosswalk]\npath = "cw.csv"\nvan_id = "VanID"\nvoter_id = "StateFileID"',
    )
    c = read_source(spec.data.contacts)
    imp = c.attrs["fieldexp_import"]
    first = contacts["VanID"].unique()[0]
    assert imp["set_aside"] == {
        "VanID not in the crosswalk": int((contacts["VanID"] == first).sum())
    }
    assert c["unit_id"].str.startswith("S").all()
    assert imp["rows_read"] == imp["rows_kept"] + sum(imp["set_aside"].values())
    with pytest.raises(SpecificationError, match="channels"):
        _spec(tmp_path, io_fixtures, contacts_extra='channels = ["walk"]')
    with pytest.raises(SpecificationError, match="results_by"):
        _spec(tmp_path, io_fixtures, contacts_extra='results_by = "long"')


def test_plain_spec_reads_real_layouts(tmp_path, io_fixtures, capsys):
    """VAN + Results (short names), current ncvhis, an Ohio SWVF-style voter file:
    `fieldexp validate` with a plain spec (no code mappings) reads and reconciles them."""
    from fieldexp.cli import main

    voters = pd.read_csv(io_fixtures / "voters.csv", dtype=str, keep_default_na=False)
    swvf = voters.rename(
        columns={
            "VoterID": "SOS_VOTERID",
            "status": "VOTER_STATUS",
            "first_name": "FIRST_NAME",
            "last_name": "LAST_NAME",
            "address": "RESIDENTIAL_ADDRESS1",
            "dob": "DATE_OF_BIRTH",
            "precinct": "PRECINCT_NAME",
        }
    )
    swvf["VOTER_STATUS"] = swvf["VOTER_STATUS"].map({"A": "ACTIVE", "I": "CONFIRMATION"})
    swvf.to_csv(tmp_path / "swvf.csv", index=False)
    nc = (io_fixtures / "ncvhis.txt").read_text()
    nc = nc.replace("\tELECTION DAY\t", "\tELECTION DAY IN-PERSON\t").replace(
        "\tEARLY VOTING\t", "\tEARLY VOTING IN-PERSON\t"
    )
    (tmp_path / "ncvhis.txt").write_text(nc)
    shutil.copy(io_fixtures / "van_contacts.csv", tmp_path / "van.csv")
    res = pd.read_csv(io_fixtures / "van_results.csv", dtype=str)
    res[["ResultID", "ResultShortName"]].to_csv(tmp_path / "results.csv", index=False)
    shutil.copy(io_fixtures / "assignment.csv", tmp_path / "assignment.csv")
    (tmp_path / "spec.toml").write_text(
        """version = 1
[data.voters]
path = "swvf.csv"
format = "auto"
strict = true
[data.vote_history]
path = "ncvhis.txt"
format = "auto"
strict = true
[data.contacts]
path = "van.csv"
format = "van"
results = "results.csv"
channels = ["door"]
strict = true
[data.assignment]
path = "assignment.csv"
[analysis]
election = "general_2020_11_03"
[outcomes.turnout]
"""
    )
    assert main(["validate", str(tmp_path / "spec.toml"), "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "OK" in out


def test_report_data_section_counts_codes_and_channel_filter(tmp_path, io_fixtures):
    """`fieldexp report`: phone rows set aside by `channels = ["door"]` and rows by code
    (unknown codes included) appear in the data section."""
    from fieldexp.cli import main

    for name in ("voters.csv", "assignment.csv", "van_results.csv"):
        shutil.copy(io_fixtures / name, tmp_path / name)
    van = pd.read_csv(io_fixtures / "van_contacts.csv", dtype=str)
    van["ContactTypeName"] = ["Phone" if i % 4 == 0 else "Walk" for i in range(len(van))]
    van.to_csv(tmp_path / "van.csv", index=False)
    n_phone = int((van["ContactTypeName"] == "Phone").sum())
    nc = (io_fixtures / "ncvhis.txt").read_text().replace("\tBY MAIL\t", "\tDRONE DROP\t")
    (tmp_path / "ncvhis.txt").write_text(nc)
    (tmp_path / "spec.toml").write_text(
        """version = 1
[data.voters]
path = "voters.csv"
[data.vote_history]
path = "ncvhis.txt"
format = "ncvhis"
[data.contacts]
path = "van.csv"
format = "van"
results = "van_results.csv"
channels = ["door"]
[data.assignment]
path = "assignment.csv"
[analysis]
election = "general_2020_11_03"
[outcomes.turnout]
"""
    )
    assert (
        main(
            ["report", str(tmp_path / "spec.toml"), "--out", str(tmp_path / "out"), "--no-progress"]
        )
        == 0
    )
    md = (tmp_path / "out" / "report.md").read_text()
    assert f"channel phone not kept (channels: door): {n_phone}" in md
    assert "Rows of each imported file by code" in md
    assert "DRONE DROP" in md and "no (default meaning)" in md
