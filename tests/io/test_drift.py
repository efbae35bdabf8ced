"""Vocabulary drift, VAN lookups, conservation, truncated lines, header spellings, PII,
dates (issue 10 items 1-5, US files)."""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

from fieldexp.errors import FileFormatError, SpecificationError
from fieldexp.io import read_contacts, read_vote_history, read_voters
from fieldexp.io.accounting import import_record
from fieldexp.io.dates import AmbiguousDateWarning, date_order
from fieldexp.io.personal import looks_personal
from fieldexp.io.vocab import UnknownCodeWarning

NC_HEADER = (
    "county_id\tvoter_reg_num\telection_lbl\telection_desc\tvoting_method\tvoted_party_cd\tncid\n"
)


def _nc(rows: list[tuple[str, str, str]]) -> str:
    return NC_HEADER + "".join(
        f"1\t{i:06d}\t{d}\t{d} GENERAL\t{m}\tUNA\t{v}\n" for i, (v, d, m) in enumerate(rows)
    )


def test_ncvhis_post_2023_vocabulary_is_known(tmp_path):
    p = tmp_path / "ncvhis.txt"
    methods = [
        "ELECTION DAY IN-PERSON",
        "EARLY VOTING IN-PERSON",
        "EARLY VOTING CURBSIDE",
        "ELECTION DAY CURBSIDE",
        "BY MAIL",
        "PROVISIONAL",
        "LEGACY",
    ]
    p.write_text(_nc([(f"AA{i}", "11/05/2024", m) for i, m in enumerate(methods)]))
    with warnings.catch_warnings():
        warnings.simplefilter("error", UnknownCodeWarning)
        h = read_vote_history(p, format="ncvhis")
    assert h["voted"].tolist() == [1] * 7
    assert h["method"].tolist()[:5] == ["in_person", "early", "early", "in_person", "mail"]
    rec = import_record(h)
    assert rec is not None and rec.codes["voting_method"]["LEGACY"] == 1


def test_ncvhis_conservation_with_duplicates_and_unknown(tmp_path):
    p = tmp_path / "ncvhis.txt"
    rows = [("A", "11/05/2024", "BY MAIL"), ("A", "11/05/2024", "BY MAIL")]
    rows += [("B", "11/05/2024", "DRONE BALLOT")] * 3
    rows += [("C", "11/05/2024", "ELECTION DAY IN-PERSON")]
    p.write_text(_nc(rows))
    with pytest.warns(UnknownCodeWarning) as rec:
        h = read_vote_history(p, format="ncvhis")
    assert sum(issubclass(w.category, UnknownCodeWarning) for w in rec) == 1
    imp = h.attrs["fieldexp_import"]
    assert imp["rows_read"] == 6
    assert imp["rows_kept"] == len(h) == 3
    assert imp["set_aside"] == {"duplicate voter-election row": 3}
    assert imp["rows_read"] == imp["rows_kept"] + sum(imp["set_aside"].values())
    # counts by code include the unknown code, counted on rows read
    assert imp["codes"]["voting_method"] == {
        "DRONE BALLOT": 3,
        "BY MAIL": 2,
        "ELECTION DAY IN-PERSON": 1,
    }
    assert imp["unknown_codes"]["voting_method"] == {"DRONE BALLOT": 3}
    assert h.set_index("voter_id").loc["B", "voted"] == 1


def test_ohio_confirmation_status_and_header_spellings(tmp_path):
    p = tmp_path / "swvf.csv"
    p.write_text(
        "SOS_VOTERID,FirstName,LAST NAME,Middle_Name,DATE_OF_BIRTH,VoterStatus,"
        "RESIDENTIAL_ADDRESS1,Mail_Addr1,Cell Phone,E-mail,PRECINCT_NAME,BirthYear\n"
        "OH1,Ann,Lee,B,1980-01-02,ACTIVE,1 Main St,PO Box 1,555-0101,a@x.org,P 1,1980\n"
        "OH2,Bo,Ng,,1975-03-04,CONFIRMATION,2 Main St,,555-0102,b@x.org,P 2,1975\n"
    )
    v = read_voters(p)
    assert v["registration_status"].tolist() == ["active", "inactive"]
    assert v["birth_year"].tolist() == [1980, 1975]
    assert v["precinct_id"].tolist() == ["P 1", "P 2"]
    leaked = [c for c in v.columns if looks_personal(c)]
    assert leaked == []
    for value in ("Ann", "Lee", "555-0101", "a@x.org", "PO Box 1", "1 Main St", "1980-01-02"):
        assert not v.astype("str").isin([value]).any().any(), value
    # the address still made the household before it was dropped
    assert v["household_id"].str.startswith("hh_").all()


@pytest.mark.parametrize(
    "header", ["FirstName", "First Name", "FIRST_NAME", "first_name", "first-name"]
)
def test_one_canonical_column_for_any_spelling(tmp_path, header):
    p = tmp_path / "v.csv"
    p.write_text(f"VoterID,{header},birth_year,Voter_Status\n1,Ann,1980,A\n")
    v = read_voters(p, keep_pii=True)
    assert "first_name" in v.columns and v["first_name"].tolist() == ["Ann"]
    assert v["registration_status"].tolist() == ["active"]
    assert "first_name" not in read_voters(p).columns


def test_personal_columns_never_reach_the_analysis_table(tmp_path):
    from fieldexp.analysis import build_analysis_table

    p = tmp_path / "v.csv"
    p.write_text(
        "VoterID,GivenName,Surname,Res_Street_Addr,HomePhone,score\n1,A,B,1 St,5,0.3\n2,C,D,2 St,6,0.1\n"
    )
    v = read_voters(p)
    assert set(v.columns) >= {"score"}
    assert not any(looks_personal(c) for c in v.columns)
    # a voter frame with personal columns under odd spellings, passed directly
    raw = v.assign(GivenName=["A", "C"], HomePhone=["5", "6"])
    assignment = pd.DataFrame({"voter_id": ["1", "2"], "arm": ["treat", "control"]})
    history = pd.DataFrame(
        {
            "voter_id": ["1"],
            "election_id": ["general_2024_11_05"],
            "election_date": pd.to_datetime(["2024-11-05"]),
            "election_type": ["general"],
            "voted": [1],
        }
    )
    table, _ = build_analysis_table(
        raw, assignment, None, history, election="general_2024_11_05", verify_ids_hash=False
    )
    assert "score" in table.columns
    assert not any(looks_personal(c) for c in table.columns), list(table.columns)


def test_truncated_line_is_an_error_with_its_line(tmp_path):
    p = tmp_path / "van.csv"
    p.write_text(
        "VanID,DateCanvassed,ContactTypeName,ResultName\n"
        "1,10/01/2024,Walk,Canvassed\n"
        "2,10/01/2024,Walk\n"
        "3,10/02/2024,Walk,Not Home\n"
    )
    with pytest.raises(FileFormatError, match=r"line 3 has 3 field\(s\) but the header has 4"):
        read_contacts(p, format="van")


def test_quoted_line_break_is_not_truncation(tmp_path):
    p = tmp_path / "c.csv"
    p.write_text(
        'voter_id,timestamp,result,canvasser\n1,2024-10-01,canvassed,"Ann\nLee"\n2,2024-10-01,not_home,Bo\n'
    )
    c = read_contacts(p)
    assert c["unit_id"].tolist() == ["1", "2"]


def _van(tmp_path, rows: str, header: str = "VanID,DateCanvassed,ContactTypeID,ResultID"):
    p = tmp_path / "van.csv"
    p.write_text(header + "\n" + rows)
    return p


def test_van_results_lookup_short_medium_name(tmp_path):
    p = _van(tmp_path, "1,10/01/2024,2,14\n2,10/01/2024,2,15\n3,10/02/2024,1,16\n")
    short = pd.DataFrame({"ResultID": ["14", "15", "16"], "ResultShortName": ["NH", "CV", "RF"]})
    c = read_contacts(p, format="van", results=short)
    assert c["result"].tolist() == ["not_home", "canvassed", "refused"]
    full = short.assign(
        ResultMediumName=["Not Home", "Canvassed", "Refused"],
        ResultName=["Nobody came to the door", "Talked to the voter", "Refused"],
    )
    # auto: the medium names are all known, the descriptions are not
    c2 = read_contacts(p, format="van", results=full)
    assert c2["result"].tolist() == ["not_home", "canvassed", "refused"]
    c3 = read_contacts(p, format="van", results=full, mapping={"options": {"results_by": "short"}})
    assert c3["contacted"].tolist() == [0, 1, 1]
    with pytest.warns(UnknownCodeWarning, match="Nobody came to the door"):
        read_contacts(p, format="van", results=full, mapping={"options": {"results_by": "name"}})
    with pytest.raises(SpecificationError, match="results_by"):
        read_contacts(p, format="van", results=short, mapping={"options": {"results_by": "long"}})


def test_van_contact_types_channels_and_conservation(tmp_path):
    p = _van(
        tmp_path,
        "1,10/01/2024,2,14\n2,10/01/2024,1,15\n3,10/02/2024,37,15\n4,10/02/2024,2,15\n5,10/02/2024,1,14\n",
    )
    results = pd.DataFrame({"ResultID": ["14", "15"], "ResultShortName": ["NH", "CV"]})
    types = pd.DataFrame(
        {"ContactTypeID": ["1", "2", "37"], "ContactTypeName": ["Phone", "Walk", "SMS Text"]}
    )
    allc = read_contacts(p, format="van", results=results, contact_types=types)
    assert allc["channel"].tolist() == ["door", "phone", "sms", "door", "phone"]
    door = read_contacts(p, format="van", results=results, contact_types=types, channels=["door"])
    assert door["unit_id"].tolist() == ["1", "4"]
    imp = door.attrs["fieldexp_import"]
    assert imp["rows_read"] == 5 and imp["rows_kept"] == 2
    assert sum(imp["set_aside"].values()) == 3
    assert imp["set_aside"]["channel phone not kept (channels: door)"] == 2
    # phone rows never reach the table, so they never count as canvass contacts
    assert set(door["channel"]) == {"door"}
    with pytest.raises(SpecificationError, match="contact_types="):
        read_contacts(p, format="van", results=results, channels=["door"])
    with pytest.raises(SpecificationError, match="channels"):
        read_contacts(p, format="van", results=results, contact_types=types, channels=["walk"])


def test_van_crosswalk_maps_vanid_and_counts_unmatched(tmp_path):
    p = _van(
        tmp_path,
        "101,10/01/2024,Walk,Canvassed\n102,10/01/2024,Walk,Not Home\n999,10/01/2024,Walk,Canvassed\n",
        header="VanID,DateCanvassed,ContactTypeName,ResultName",
    )
    cw = tmp_path / "cw.csv"
    cw.write_text("VanID,StateFileID\n101,NC1\n102,NC2\n")
    c = read_contacts(p, format="van", crosswalk=cw)
    assert c["unit_id"].tolist() == ["NC1", "NC2"]
    imp = c.attrs["fieldexp_import"]
    assert imp["set_aside"] == {"VanID not in the crosswalk": 1}
    assert imp["rows_read"] == imp["rows_kept"] + 1
    bad = tmp_path / "bad.csv"
    bad.write_text("VanID,StateFileID\n101,NC1\n101,NC9\n")
    with pytest.raises(FileFormatError, match="several state voter ids"):
        read_contacts(p, format="van", crosswalk=bad)
    c2 = read_contacts(p, format="van", mapping={"options": {"crosswalk": {"path": str(cw)}}})
    assert c2["unit_id"].tolist() == ["NC1", "NC2"]


def test_unknown_contact_type_is_other_with_warning(tmp_path):
    p = _van(
        tmp_path,
        "1,10/01/2024,Carrier Pigeon,Canvassed\n2,10/01/2024,Walk,Canvassed\n",
        header="VanID,DateCanvassed,ContactTypeName,ResultName",
    )
    with pytest.warns(UnknownCodeWarning, match="'Carrier Pigeon' \\(1\\)"):
        c = read_contacts(p, format="van")
    assert c["channel"].tolist() == ["other", "door"]
    with pytest.raises(FileFormatError, match="Carrier Pigeon"):
        read_contacts(p, format="van", strict=True)


def test_contacts_window_conservation(tmp_path):
    p = tmp_path / "c.csv"
    p.write_text(
        "voter_id,timestamp,result\n1,2024-08-01,canvassed\n2,2024-10-01,canvassed\n3,2024-11-06,not_home\n"
    )
    c = read_contacts(p, mapping={"options": {"window": ["2024-09-01", "2024-11-05"]}})
    imp = c.attrs["fieldexp_import"]
    assert c["unit_id"].tolist() == ["2"]
    assert imp["set_aside"] == {"before the date window": 1, "after the date window": 1}


def test_day_first_detected_and_ambiguous_warned(tmp_path):
    assert date_order(pd.Series(["25/10/2024", "03/11/2024"])) == "day_first"
    assert date_order(pd.Series(["10/25/2024", "11/03/2024"])) == "month_first"
    assert date_order(pd.Series(["10/05/2024", "11/03/2024"])) == "ambiguous"
    p = tmp_path / "c.csv"
    p.write_text("voter_id,timestamp,result\n1,25/10/2024,canvassed\n2,03/11/2024,canvassed\n")
    c = read_contacts(p)
    assert c["timestamp"].dt.strftime("%Y-%m-%d").tolist() == ["2024-10-25", "2024-11-03"]
    p.write_text("voter_id,timestamp,result\n1,10/05/2024,canvassed\n2,11/03/2024,canvassed\n")
    with pytest.warns(AmbiguousDateWarning, match="month/day"):
        c = read_contacts(p)
    assert c["timestamp"].dt.strftime("%Y-%m-%d").tolist() == ["2024-10-05", "2024-11-03"]


def test_mixed_utc_offsets_become_utc(tmp_path):
    p = tmp_path / "nb.csv"
    p.write_text(
        "person_id,created_at,method,status\n"
        "1,2024-11-03T01:30:00-04:00,door_knock,answered\n"
        "2,2024-11-03T01:30:00-05:00,door_knock,no_answer\n"
    )
    c = read_contacts(p, format="nationbuilder")
    assert c["timestamp"].dt.strftime("%Y-%m-%d %H:%M").tolist() == [
        "2024-11-03 05:30",
        "2024-11-03 06:30",
    ]


def test_reconciliation_counts_rows_by_code(tmp_path, io_fixtures):
    from fieldexp.analysis import build_analysis_table

    voters = read_voters(io_fixtures / "voters.csv")
    assignment = pd.read_csv(io_fixtures / "assignment.csv", dtype=str)
    text = (io_fixtures / "ncvhis.txt").read_text().replace("EARLY VOTING", "DRONE DROP")
    p = tmp_path / "ncvhis.txt"
    p.write_text(text)
    with pytest.warns(UnknownCodeWarning):
        history = read_vote_history(p, format="ncvhis")
    contacts = read_contacts(
        io_fixtures / "van_contacts.csv", format="van", results=io_fixtures / "van_results.csv"
    )
    election = sorted(history["election_id"])[-1]
    _, rec = build_analysis_table(
        voters, assignment, contacts, history, election=election, verify_ids_hash=False
    )
    rows = {(c.table, c.kind, c.code): (c.rows, c.known) for c in rec.code_counts()}
    n_drone = text.count("DRONE DROP")
    assert rows[("vote_history", "voting_method", "DRONE DROP")] == (n_drone, False)
    assert rows[("contacts", "result", "Not Home")][1] is True
    hist_total = sum(
        n for (t, k, _), (n, _) in rows.items() if (t, k) == ("vote_history", "voting_method")
    )
    assert hist_total == history.attrs["fieldexp_import"]["rows_read"]
    assert "'DRONE DROP' *" in str(rec)
    # unknown codes below the small-cell threshold are pooled, never listed by value
    pooled = rec.codes_frame(min_rows=n_drone + 1)
    assert "DRONE DROP" not in set(pooled["code"])
    assert "(other unknown codes)" in set(pooled["code"])


@pytest.mark.parametrize("reader", ["vote_history", "voters", "contacts"])
def test_snippets_map_the_unknown_codes_exactly(tmp_path, reader):
    import ast

    import tomllib

    if reader == "vote_history":
        p = tmp_path / "nc.txt"
        p.write_text(_nc([("A", "11/05/2024", "DRONE BALLOT"), ("B", "11/05/2024", "BY MAIL")]))
        read = lambda m=None: read_vote_history(p, format="ncvhis", mapping=m)  # noqa: E731
    elif reader == "voters":
        p = tmp_path / "v.csv"
        p.write_text('voter_id,status\n1,SUSPENSE\n2,"Odd ""quoted"" code"\n')
        read = lambda m=None: read_voters(p, mapping=m)  # noqa: E731
    else:
        p = tmp_path / "c.csv"
        p.write_text("voter_id,timestamp,result\n1,2024-10-01,Dog Bit Me\n2,2024-10-01,canvassed\n")
        read = lambda m=None: read_contacts(p, mapping=m)  # noqa: E731
    with pytest.warns(UnknownCodeWarning) as rec:
        before = read()
    w = next(r.message for r in rec if isinstance(r.message, UnknownCodeWarning))
    py = ast.literal_eval(w.python.removeprefix("mapping="))
    spec = tomllib.loads(w.toml)
    (section,) = spec["data"].values()
    for mapping in (py, section["mapping"]):
        with warnings.catch_warnings():
            warnings.simplefilter("error", UnknownCodeWarning)
            after = read(mapping)
        pd.testing.assert_frame_equal(
            before.drop(columns=[], errors="ignore"), after, check_dtype=False
        )
        assert after.attrs["fieldexp_import"]["unknown_codes"] == {}


def test_election_type_and_channel_snippets_use_their_options(tmp_path):
    import ast

    import tomllib

    p = tmp_path / "l2.csv"
    p.write_text("LALVOTERID,General_2020_11_03,Recall_2021_09_14\nL1,Y,Y\nL2,,Y\n")
    with pytest.warns(UnknownCodeWarning) as rec:
        h = read_vote_history(p, format="l2")
    w = next(r.message for r in rec if isinstance(r.message, UnknownCodeWarning))
    assert w.python == "mapping={'options': {'election_type': {'recall': 'other'}}}"
    assert set(h["election_type"]) == {"general", "other"}
    mapped = {"options": {"election_type": {"recall": "special"}}}
    assert "special" in set(read_vote_history(p, format="l2", mapping=mapped)["election_type"])
    section = tomllib.loads(w.toml)["data"]["vote_history"]
    with warnings.catch_warnings():
        warnings.simplefilter("error", UnknownCodeWarning)
        read_vote_history(p, format="l2", mapping=section["mapping"])

    c = tmp_path / "van.csv"
    c.write_text(
        "VanID,DateCanvassed,ContactTypeName,ResultName\n1,10/01/2024,Carrier Pigeon,Canvassed\n"
    )
    with pytest.warns(UnknownCodeWarning) as rec:
        read_contacts(c, format="van")
    w = next(r.message for r in rec if isinstance(r.message, UnknownCodeWarning))
    py = ast.literal_eval(w.python.removeprefix("mapping="))
    py["options"]["channel"]["Carrier Pigeon"] = "mail"
    assert read_contacts(c, format="van", mapping=py)["channel"].tolist() == ["mail"]
    toml = tomllib.loads(w.toml)["data"]["contacts"]["mapping"]
    with warnings.catch_warnings():
        warnings.simplefilter("error", UnknownCodeWarning)
        assert read_contacts(c, format="van", mapping=toml)["channel"].tolist() == ["other"]


def test_shuffled_rows_give_the_same_tables(tmp_path, io_fixtures):
    """Results do not depend on row order: duplicates, unknown codes and counts."""
    import numpy as np

    lines = (io_fixtures / "ncvhis.txt").read_text().splitlines()
    header, rows = lines[0], lines[1:]
    rows = [r.replace("BY MAIL", "DRONE DROP") if i % 5 == 0 else r for i, r in enumerate(rows)]
    order = np.random.default_rng(3).permutation(len(rows))
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text("\n".join([header, *rows]) + "\n")
    b.write_text("\n".join([header, *[rows[i] for i in order]]) + "\n")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ha = read_vote_history(a, format="ncvhis")
        hb = read_vote_history(b, format="ncvhis")
    key = ["voter_id", "election_id"]
    pd.testing.assert_frame_equal(
        ha.sort_values(key).reset_index(drop=True), hb.sort_values(key).reset_index(drop=True)
    )
    ia, ib = ha.attrs["fieldexp_import"], hb.attrs["fieldexp_import"]
    for k in ("rows_read", "rows_kept", "set_aside", "codes", "unknown_codes"):
        assert ia[k] == ib[k], k


@pytest.mark.parametrize(
    ("column", "personal"),
    [
        ("FirstName", True),
        ("Full_Name_Mail", True),
        ("Spouse Name", True),
        ("Mail_Addr1", True),
        ("RESIDENTIAL_SECONDARY_ADDR", True),
        ("House_Num", True),
        ("DATE_OF_BIRTH", True),
        ("Cell Phone", True),
        ("E-mail", True),
        ("drivers_lic", True),
        ("Nom de naissance", True),
        ("PRECINCT_NAME", False),
        ("county_name", False),
        ("ResultName", False),
        ("polling_place_name", False),
        ("BirthYear", False),
        ("RESIDENTIAL_ZIP", False),
        ("Res_City_Desc", False),
        ("VoterID", False),
    ],
)
def test_looks_personal(column, personal):
    assert looks_personal(column) is personal


def test_van_results_lookup_with_every_label(tmp_path):
    p = _van(tmp_path, "1,10/01/2024,2,14\n2,10/01/2024,2,15\n")
    full = pd.DataFrame(
        {
            "ResultID": ["14", "15"],
            "ResultShortName": ["NH", "CV"],
            "ResultMediumName": ["Not Home", "Canvassed"],
            "ResultName": ["Not Home", "Canvassed"],
            "ResultDescription": ["Knocked, nobody answered", "Spoke with the voter"],
        }
    )
    c = read_contacts(p, format="van", results=full)
    assert c["result"].tolist() == ["not_home", "canvassed"]
    desc = {
        "codes": {
            "Knocked, nobody answered": {"result": "not_home", "attempted": 1, "contacted": 0},
            "Spoke with the voter": {"result": "canvassed", "attempted": 1, "contacted": 1},
        },
        "options": {"results_by": "description"},
    }
    with warnings.catch_warnings():
        warnings.simplefilter("error", UnknownCodeWarning)
        d = read_contacts(p, format="van", results=full, mapping=desc)
    assert d["result"].tolist() == ["not_home", "canvassed"]
    assert d.attrs["fieldexp_import"]["codes"]["result"] == {
        "Knocked, nobody answered": 1,
        "Spoke with the voter": 1,
    }


def test_iso_timestamps_with_z_offsets_and_fractions(tmp_path):
    p = tmp_path / "nb.csv"
    p.write_text(
        "person_id,created_at,method,status\n"
        "1,2024-11-03T05:30:00Z,door_knock,answered\n"
        "2,2024-11-03T01:30:00-05:00,door_knock,no_answer\n"
        "3,2024-11-03T01:30:00.250-04:00,door_knock,no_answer\n"
    )
    c = read_contacts(p, format="nationbuilder")
    assert c["timestamp"].dt.strftime("%H:%M:%S.%f").tolist() == [
        "05:30:00.000000",
        "06:30:00.000000",
        "05:30:00.250000",
    ]


def test_crosswalk_for_nationbuilder_and_contact_types_only_for_van(tmp_path):
    p = tmp_path / "nb.csv"
    p.write_text(
        "person_id,created_at,method,status\n7,2024-10-01,door_knock,answered\n8,2024-10-01,door_knock,no_answer\n"
    )
    cw = pd.DataFrame({"nb": ["7"], "state": ["NC7"]})
    c = read_contacts(
        p,
        format="nationbuilder",
        crosswalk={"path": _csv(tmp_path, cw), "van_id": "nb", "voter_id": "state"},
    )
    assert c["unit_id"].tolist() == ["NC7"]
    assert c.attrs["fieldexp_import"]["set_aside"] == {"VanID not in the crosswalk": 1}
    with pytest.raises(SpecificationError, match="contact_types"):
        read_contacts(
            p,
            format="nationbuilder",
            contact_types=pd.DataFrame({"ContactTypeID": ["1"], "ContactTypeName": ["Walk"]}),
        )


def _csv(tmp_path, df):
    path = tmp_path / "cw.csv"
    df.to_csv(path, index=False)
    return str(path)
