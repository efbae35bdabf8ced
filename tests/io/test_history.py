"""read_vote_history: long, wide, ncvhis, Ohio, L2 and Florida layouts."""

from __future__ import annotations

import pandas as pd
import pytest

from fieldexp.errors import FileFormatError, RowsDroppedWarning, SpecificationError
from fieldexp.io import read_vote_history
from fieldexp.io.history import election_columns
from fieldexp.io.vocab import UnknownCodeWarning


def _voted(df: pd.DataFrame) -> set[tuple[str, str]]:
    return set(map(tuple, df.loc[df["voted"] == 1, ["voter_id", "election_id"]].to_numpy()))


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("history_long.csv", "long"),
        ("history_wide.csv", "wide"),
        ("ohio.csv", "ohio"),
        ("l2.csv", "l2"),
        ("florida.txt", "florida"),
        ("ncvhis_old.txt", "ncvhis"),
    ],
)
def test_sample_files_agree(io_fixtures, name, fmt):
    ref = read_vote_history(io_fixtures / "history_long.csv", format="long")
    h = read_vote_history(io_fixtures / name, format=fmt)
    assert _voted(h) == _voted(ref)
    assert h["election_id"].str.match(r"^[a-z_]+_\d{4}_\d{2}_\d{2}$").all()


def test_ncvhis_duplicates_set_aside_with_warning(io_fixtures):
    with pytest.warns(RowsDroppedWarning, match="duplicate voter-election"):
        h = read_vote_history(io_fixtures / "ncvhis.txt", format="ncvhis")
    imp = h.attrs["fieldexp_import"]
    assert imp["rows_read"] == len(h) + imp["set_aside"]["duplicate voter-election row"]
    assert not h.duplicated(["voter_id", "election_id"]).any()


def test_ncvhis_old_and_new_methods(tmp_path):
    p = tmp_path / "nc.txt"
    p.write_text(
        "ncid\telection_lbl\telection_desc\tvoting_method\n"
        "A\t11/08/2016\t11/08/2016 GENERAL\tABSENTEE ONESTOP\n"
        "B\t11/08/2016\t11/08/2016 GENERAL\tIN-PERSON\n"
        "C\t11/03/2020\t11/03/2020 GENERAL\tEARLY VOTING\n"
        "D\t11/03/2020\t11/03/2020 GENERAL\tBY MAIL\n"
        "E\t03/03/2020\t03/03/2020 PRIMARY\tELECTION DAY\n"
    )
    h = read_vote_history(p, format="ncvhis")
    assert list(h["method"]) == ["early", "in_person", "early", "mail", "in_person"]
    assert list(h["election_type"]) == ["general"] * 4 + ["primary"]


def test_ncvhis_unknown_method_listed(tmp_path):
    p = tmp_path / "nc.txt"
    p.write_text(
        "ncid\telection_lbl\telection_desc\tvoting_method\n"
        "A\t11/08/2016\t11/08/2016 GENERAL\tBY CARRIER PIGEON\n"
        "B\t11/08/2016\t11/08/2016 GENERAL\tBY CARRIER PIGEON\n"
    )
    # default meaning (a ballot cast), one warning with counts and both snippets
    with pytest.warns(UnknownCodeWarning) as rec:
        h0 = read_vote_history(p, format="ncvhis")
    msgs = [str(w.message) for w in rec if issubclass(w.category, UnknownCodeWarning)]
    assert len(msgs) == 1
    assert "'BY CARRIER PIGEON' (2)" in msgs[0]
    assert "mapping={'codes': {'BY CARRIER PIGEON': {'voted': 1, 'method': ''}}}" in msgs[0]
    assert (
        'under [data.vote_history]: mapping.codes."BY CARRIER PIGEON" = { voted = 1, method = "" }'
        in msgs[0]
    )
    assert list(h0["voted"]) == [1, 1] and h0["method"].isna().all()
    imp = h0.attrs["fieldexp_import"]
    assert imp["codes"]["voting_method"] == {"BY CARRIER PIGEON": 2}
    assert imp["unknown_codes"]["voting_method"] == {"BY CARRIER PIGEON": 2}
    with pytest.raises(
        FileFormatError, match=r"unknown voting_method code\(s\): 'BY CARRIER PIGEON' \(2\)"
    ):
        read_vote_history(p, format="ncvhis", strict=True)
    with pytest.raises(FileFormatError, match="strict"):
        read_vote_history(p, format="ncvhis", mapping={"options": {"strict": True}})
    h = read_vote_history(
        p, format="ncvhis", mapping={"codes": {"BY CARRIER PIGEON": {"voted": 1, "method": "mail"}}}
    )
    assert list(h["method"]) == ["mail", "mail"]


def test_ohio_party_letters(tmp_path):
    p = tmp_path / "oh.csv"
    p.write_text(
        "SOS_VOTERID,LAST_NAME,PRIMARY-03/15/2016,GENERAL-11/08/2016\nOH1,Lee,D,X\nOH2,Ng,,X\nOH3,Ro,R,\n"
    )
    h = read_vote_history(p, format="ohio")
    prim = h[h["election_type"] == "primary"].set_index("voter_id")
    assert prim["voted"].tolist() == [1, 0, 1]
    assert prim["ballot_party"].tolist()[0] == "D" and pd.isna(prim["ballot_party"].iloc[1])
    assert "LAST_NAME" not in h.columns and "last_name" not in h.columns


def test_ohio_unknown_code(tmp_path):
    p = tmp_path / "oh.csv"
    p.write_text("SOS_VOTERID,GENERAL-11/08/2016\nOH1,?\nOH2,X\n")
    with pytest.warns(UnknownCodeWarning, match=r"'\?' \(1\)"):
        h = read_vote_history(p, format="ohio")
    assert h["voted"].tolist() == [1, 1]  # a mark is a vote by default
    with pytest.raises(
        FileFormatError,
        match=r"unknown history mark \(election columns\) code\(s\): '\?' \(1\)",
    ):
        read_vote_history(p, format="ohio", strict=True)


def test_l2_and_other_election_types(tmp_path):
    p = tmp_path / "l2.csv"
    p.write_text(
        "LALVOTERID,General_2020_11_03,PresidentialPrimary_2020_03_03,OtherElection_2019_05_07\nL1,Y,,Y\n"
    )
    h = read_vote_history(p, format="l2")
    assert set(h["election_type"]) == {"general", "presidential_primary", "other"}


def test_wide_without_election_columns(tmp_path):
    p = tmp_path / "w.csv"
    p.write_text("voter_id,a,b\n1,2,3\n")
    with pytest.raises(FileFormatError, match="no election columns"):
        read_vote_history(p, format="wide")


def test_wide_repeated_voter(tmp_path):
    p = tmp_path / "w.csv"
    p.write_text("voter_id,general_2020-11-03\n1,1\n1,0\n")
    with pytest.raises(FileFormatError, match="one row per voter"):
        read_vote_history(p, format="wide")


def test_florida_codes(tmp_path):
    p = tmp_path / "fl.txt"
    p.write_text(
        "DAD\t1\t11/08/2016\tGEN\tA\nDAD\t2\t11/08/2016\tGEN\tB\nDAD\t3\t11/08/2016\tGEN\tE\n"
        "DAD\t4\t11/08/2016\tGEN\tN\nDAD\t5\t11/08/2016\tGEN\tP\nDAD\t6\t11/08/2016\tGEN\tY\n"
    )
    h = read_vote_history(p, format="florida").set_index("voter_id")
    assert h["voted"].tolist() == [1, 0, 1, 0, 0, 1]
    assert h.loc["2", "method"] == "absentee_not_counted"
    assert h.loc["5", "method"] == "provisional_not_counted"


def test_florida_unknown_codes_listed(tmp_path):
    p = tmp_path / "fl.txt"
    p.write_text(
        "DAD\t1\t11/08/2016\tGEN\tQ\nDAD\t2\t11/08/2016\tGEN\tQ\nDAD\t3\t11/08/2016\tGEN\ty\n"
    )
    with pytest.raises(FileFormatError, match=r"'Q' \(2\), 'y' \(1\)"):
        read_vote_history(p, format="florida", strict=True)
    with pytest.warns(UnknownCodeWarning, match=r"'Q' \(2\), 'y' \(1\)"):
        h = read_vote_history(p, format="florida")
    assert h.attrs["fieldexp_import"]["codes"]["history code"] == {"Q": 2, "y": 1}


def test_long_mixed_dates(tmp_path):
    p = tmp_path / "h.csv"
    p.write_text(
        "voter_id,election_date,election_type,voted\n1,2016-11-08,general,1\n2,11/08/2016,general,0\n"
    )
    with pytest.raises(FileFormatError, match="mixed formats"):
        read_vote_history(p)


def test_long_date_format_option(tmp_path):
    p = tmp_path / "h.csv"
    p.write_text("voter_id,election_date,election_type,voted\n1,08/11/2016,general,Y\n")
    h = read_vote_history(p, mapping={"options": {"date_format": "%d/%m/%Y"}})
    assert h["election_id"].iloc[0] == "general_2016_11_08"


def test_bad_format_name():
    with pytest.raises(SpecificationError, match="Did you mean 'ohio'"):
        read_vote_history("x", format="ohi")


def test_election_columns():
    cols = election_columns(
        ["SOS_VOTERID", "GENERAL-11/08/2016", "General_2020_11_03", "general_2018-11-06", "x"]
    )
    assert cols == {
        "GENERAL-11/08/2016": ("GENERAL", "2016-11-08"),
        "General_2020_11_03": ("General", "2020-11-03"),
        "general_2018-11-06": ("general", "2018-11-06"),
    }
