"""read_precinct_results: French Ministry of the Interior polling-station files."""

from __future__ import annotations

import pytest

from fieldexp.errors import FileFormatError, SpecificationError
from fieldexp.io import read_precinct_results
from fieldexp.io.synthetic import synthetic_precinct_results
from fieldexp.io.writers import write_precinct_results

COLS = ["precinct_id", "candidate", "registered", "voters", "expressed", "votes", "nuance"]


@pytest.mark.parametrize("vintage", ["2014", "2017", "2022", "2024"])
def test_vintages_round_trip(tmp_path, vintage):
    ref = synthetic_precinct_results(3)
    p = write_precinct_results(ref, tmp_path / f"r{vintage}.csv", vintage=vintage)
    got = read_precinct_results(p)
    a = ref[COLS].sort_values(["precinct_id", "candidate"]).reset_index(drop=True)
    b = got[COLS].sort_values(["precinct_id", "candidate"]).reset_index(drop=True)
    assert a.astype(str).equals(b.astype(str))
    if vintage == "2014":
        assert got["blank"].isna().all()
        assert (got["null"] == got["voters"] - got["expressed"]).all()
        assert got["election_id"].iloc[0] == f"r{vintage}_t1"
    else:
        assert got["blank"].notna().all()


@pytest.mark.parametrize("vintage", ["2014", "2017", "2022", "2024"])
def test_sample_files(io_fixtures, vintage):
    r = read_precinct_results(io_fixtures / f"fr_results_{vintage}.csv")
    assert r["precinct_id"].str.match(r"^[0-9AB]{5}_\d{4}$").all()
    assert set(r["commune_code"]) == {"75056", "69123", "2A004"}
    assert r["candidate_label"].str.contains("CHARLIE").any()


def test_election_id_option(io_fixtures):
    r = read_precinct_results(
        io_fixtures / "fr_results_2017.csv", mapping={"options": {"election_id": "pres2017_t1"}}
    )
    assert set(r["election_id"]) == {"pres2017_t1"}


def test_drifting_header_via_mapping(tmp_path):
    p = tmp_path / "r.csv"
    p.write_text(
        "Dept;Commune;BV;Inscrits;Votants;Exprimés;N°Panneau;Voix\n75;56;1;100;60;58;1;58\n",
        encoding="utf-8",
    )
    with pytest.raises(FileFormatError, match="no column for 'commune_code'"):
        read_precinct_results(p)
    r = read_precinct_results(
        p, mapping={"Dept": "department_code", "Commune": "commune_code", "BV": "bureau_code"}
    )
    assert r["precinct_id"].tolist() == ["75056_0001"]


def test_block_width_mismatch(tmp_path):
    p = tmp_path / "r.csv"
    p.write_text(
        "Code du département;Code de la commune;Code du b.vote;Inscrits;Votants;Exprimés;N°Panneau;Nom;Voix\n"
        "75;56;1;100;60;58;1;A;30;2;B\n",
        encoding="utf-8",
    )
    with pytest.raises(FileFormatError, match="not a multiple of the block width 3"):
        read_precinct_results(p)


def test_votes_exceeding_expressed(tmp_path):
    p = tmp_path / "r.csv"
    p.write_text(
        "Code du département;Code de la commune;Code du b.vote;Inscrits;Votants;Exprimés;N°Panneau;Voix\n"
        "75;56;1;100;60;58;1;70\n",
        encoding="utf-8",
    )
    with pytest.raises(FileFormatError, match=r"bureau '75056_0001' \(line 2\): votes sum to 70"):
        read_precinct_results(p)


def test_not_a_number(tmp_path):
    p = tmp_path / "r.csv"
    p.write_text(
        "Code du département;Code de la commune;Code du b.vote;Inscrits;Votants;Exprimés;N°Panneau;Voix\n"
        "75;56;1;cent;60;58;1;7\n",
        encoding="utf-8",
    )
    with pytest.raises(
        FileFormatError, match=r"'registered' must hold whole numbers; found 'cent'"
    ):
        read_precinct_results(p)


def test_headerless_wrong_width(tmp_path):
    p = tmp_path / "r.csv"
    p.write_bytes("1;75;56;Paris;1;100;60;58\n".encode("latin-1"))
    with pytest.raises(FileFormatError, match="must have 13 or 15 fields per line"):
        read_precinct_results(p)


def test_empty_and_bad_format(tmp_path):
    p = tmp_path / "r.csv"
    p.write_text("")
    with pytest.raises(FileFormatError, match="empty"):
        read_precinct_results(p)
    with pytest.raises(SpecificationError, match="fr-interieur"):
        read_precinct_results(p, format="us")
