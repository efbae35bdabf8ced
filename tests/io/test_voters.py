"""read_voters: US-style CSV and French REU extracts."""

from __future__ import annotations

import pandas as pd
import pytest

from fieldexp.errors import FileFormatError, SpecificationError
from fieldexp.io import read_voters
from fieldexp.io.schema import PII_COLUMNS
from fieldexp.io.vocab import UnknownCodeWarning
from fieldexp.io.voters import bureau_id, commune_code


def test_sample_file(io_fixtures):
    v = read_voters(io_fixtures / "voters.csv")
    assert v["voter_id"].is_unique
    assert set(v["registration_status"]) <= {"active", "inactive"}
    assert not set(PII_COLUMNS) & set(v.columns)
    assert v["birth_year"].notna().all()
    assert v.attrs["fieldexp_import"]["rows_read"] == len(v)


def test_keep_pii(io_fixtures):
    v = read_voters(io_fixtures / "voters.csv", keep_pii=True)
    assert {"first_name", "last_name", "address", "birth_date"} <= set(v.columns)
    assert str(v["birth_date"].dtype).startswith("datetime64")


def test_household_from_address(tmp_path):
    p = tmp_path / "v.csv"
    p.write_text(
        "VoterID,first_name,address,zip,status\n"
        "1,Ann,1 Main St,06511,A\n2,Bob,1  MAIN st.,06511,active\n3,Cy,2 Elm St,06511,I\n"
    )
    v = read_voters(p)
    assert v["household_id"].iloc[0] == v["household_id"].iloc[1] != v["household_id"].iloc[2]
    assert "address" not in v.columns
    assert list(v["registration_status"]) == ["active", "active", "inactive"]


def test_mapping_renames_columns(tmp_path):
    p = tmp_path / "v.csv"
    p.write_text("Registrant Number,Home\nA1,H1\nA2,H1\n")
    v = read_voters(p, mapping={"Registrant Number": "voter_id", "Home": "household_id"})
    assert list(v["voter_id"]) == ["A1", "A2"]
    v2 = read_voters(
        p,
        mapping=pd.DataFrame(
            {"source": ["Registrant Number", "Home"], "canonical": ["voter_id", "household_id"]}
        ),
    )
    assert v2["household_id"].tolist() == ["H1", "H1"]


def test_missing_id_column_message(tmp_path):
    p = tmp_path / "v.csv"
    p.write_text("ident,household\n1,2\n")
    with pytest.raises(FileFormatError, match=r"no column for 'voter_id'.*mapping="):
        read_voters(p)


def test_missing_header_detected(tmp_path):
    p = tmp_path / "v.csv"
    p.write_text("1001,H1,P1\n1002,H1,P1\n")
    with pytest.raises(FileFormatError, match="header row missing"):
        read_voters(p)


def test_unknown_status_listed_with_counts(tmp_path):
    p = tmp_path / "v.csv"
    p.write_text("voter_id,status\n1,A\n2,Q\n3,Q\n4,ZZ\n")
    with pytest.raises(
        FileFormatError, match=r"unknown registration status code\(s\): 'Q' \(2\), 'ZZ' \(1\)"
    ):
        read_voters(p, strict=True)
    with pytest.warns(UnknownCodeWarning) as rec:
        u = read_voters(p)
    msgs = [str(w.message) for w in rec if issubclass(w.category, UnknownCodeWarning)]
    assert len(msgs) == 1 and "'Q' (2), 'ZZ' (1)" in msgs[0]
    assert "mapping={'codes': {'Q': 'unknown', 'ZZ': 'unknown'}}" in msgs[0]
    assert (
        'under [data.voters]: mapping.codes."Q" = "unknown"\nmapping.codes."ZZ" = "unknown"'
        in msgs[0]
    )
    assert list(u["registration_status"]) == ["active", "unknown", "unknown", "unknown"]
    assert u.attrs["fieldexp_import"]["codes"]["registration status"] == {"Q": 2, "A": 1, "ZZ": 1}
    v = read_voters(p, mapping={"codes": {"Q": "removed", "ZZ": "pending"}})
    assert list(v["registration_status"]) == ["active", "removed", "removed", "pending"]


def test_mixed_registration_dates(tmp_path):
    p = tmp_path / "v.csv"
    p.write_text("voter_id,registration_date\n1,2010-01-05\n2,01/05/2010\n")
    with pytest.raises(FileFormatError, match="mixed formats"):
        read_voters(p)


def test_duplicate_ids_refused_at_import(tmp_path):
    p = tmp_path / "v.csv"
    p.write_text("voter_id,household_id\n1,H\n1,H\n")
    with pytest.raises(Exception, match=r"key .*voter_id.* must be unique"):
        read_voters(p)


def test_bad_format():
    with pytest.raises(SpecificationError, match="Did you mean 'reu'"):
        read_voters("x.csv", format="rue")


def test_reu_sample_maps_to_bureaux(io_fixtures):
    salt = {"options": {"id_salt": "a-test-salt-of-16+chars"}}
    v = read_voters(io_fixtures / "reu_extract.csv", format="reu", mapping=salt)
    r = pd.read_csv(io_fixtures / "fr_results_2017.csv", sep=";", dtype=str)
    assert v["precinct_id"].str.match(r"^[0-9AB]{5}_\d{4}$").all()
    assert not {"birth_name", "first_name", "street", "house_number", "birth_date"} & set(v.columns)
    assert v["household_id"].str.startswith("hh_").all()
    from fieldexp.io import read_precinct_results

    stations = set(read_precinct_results(io_fixtures / "fr_results_2017.csv")["precinct_id"])
    assert set(v["precinct_id"]) <= stations
    assert len(r) > 0


def test_reu_latin1_without_ine_and_commune_option(tmp_path):
    p = tmp_path / "reu.csv"
    text = (
        "Nom de naissance;Prénoms;Date de naissance;Libellé de voie;Code du bureau de vote\n"
        "DUPONT;Hélène;01/02/1960;rue de la Paix;3\n"
        "DUPONT;Jean;05/06/1958;rue de la Paix;3\n"
    )
    p.write_bytes(text.encode("cp1252"))
    salt = "a-test-salt-of-16+chars"
    with pytest.raises(SpecificationError, match="no commune code column"):
        read_voters(p, format="reu", mapping={"options": {"id_salt": salt}})
    v = read_voters(p, format="reu", mapping={"options": {"commune": "75056", "id_salt": salt}})
    assert list(v["precinct_id"]) == ["75056_0003", "75056_0003"]
    assert v["voter_id"].str.startswith("reu_").all() and v["voter_id"].is_unique
    assert (v["household_id"] == v["household_id"].iloc[0]).all()
    assert v["birth_year"].tolist() == [1960, 1958]


@pytest.mark.parametrize(
    ("dept", "commune", "expected"),
    [
        ("1", "4", "01004"),
        ("75", "56", "75056"),
        ("2A", "4", "2A004"),
        ("ZA", "1", "97101"),
        ("971", "101", "97101"),
        ("75", "75056", "75056"),
    ],
)
def test_commune_code(dept, commune, expected):
    assert commune_code(dept, commune) == expected


def test_bureau_id():
    assert bureau_id("75056", "12") == "75056_0012"
    assert bureau_id("75056", "A1") == "75056_A1"
