"""read_contacts: NGP VAN (with the Results lookup), NationBuilder, generic CSV."""

from __future__ import annotations

import pandas as pd
import pytest

from fieldexp.errors import DataError, FileFormatError, SpecificationError
from fieldexp.io import read_contacts
from fieldexp.io.vocab import UnknownCodeWarning


def test_three_layouts_agree(io_fixtures):
    csv = read_contacts(io_fixtures / "contacts.csv")
    van = read_contacts(
        io_fixtures / "van_contacts.csv", format="van", results=io_fixtures / "van_results.csv"
    )
    nb = read_contacts(io_fixtures / "nationbuilder_contacts.csv", format="nationbuilder")
    for other in (van, nb):
        assert other["unit_id"].tolist() == csv["unit_id"].tolist()
        assert other["contacted"].tolist() == csv["contacted"].tolist()
        assert other["attempted"].tolist() == csv["attempted"].tolist()
    assert set(van["channel"]) == {"door"}
    assert set(nb["channel"]) == {"door"}


def test_van_needs_results_lookup(io_fixtures):
    with pytest.raises(SpecificationError, match="differs between VAN accounts; pass results="):
        read_contacts(io_fixtures / "van_contacts.csv", format="van")


def test_van_results_as_dataframe_and_by_name(tmp_path):
    p = tmp_path / "van.csv"
    p.write_text(
        "VanID,DateCanvassed,ContactTypeName,ResultID\n1,10/01/2020,Walk,7\n2,10/02/2020,Phone,9\n3,10/02/2020,Walk,7\n"
    )
    lookup = pd.DataFrame({"ResultID": [7, 9], "ResultName": ["not home", "Canvassed"]})
    c = read_contacts(p, format="van", results=lookup)
    assert c["result"].tolist() == ["not_home", "canvassed", "not_home"]
    assert c["contacted"].tolist() == [0, 1, 0]
    assert c["channel"].tolist() == ["door", "phone", "door"]


def test_van_unknown_result_names_listed(tmp_path):
    p = tmp_path / "van.csv"
    p.write_text(
        "VanID,DateCanvassed,ResultName\n1,10/01/2020,Dog Bit Me\n2,10/01/2020,Dog Bit Me\n3,10/01/2020,Canvassed\n"
    )
    with pytest.raises(FileFormatError, match=r"unknown result code\(s\): 'Dog Bit Me' \(2\)"):
        read_contacts(p, format="van", strict=True)
    with pytest.warns(UnknownCodeWarning, match=r"'Dog Bit Me' \(2\)"):
        d = read_contacts(p, format="van")
    # default meaning: a VAN contact row is an attempt that reached nobody
    assert d["attempted"].tolist() == [1, 1, 1] and d["contacted"].tolist() == [0, 0, 1]
    assert d.attrs["fieldexp_import"]["codes"]["result"] == {"Dog Bit Me": 2, "Canvassed": 1}
    c = read_contacts(
        p,
        format="van",
        mapping={"codes": {"Dog Bit Me": {"result": "hostile", "attempted": 1, "contacted": 1}}},
    )
    assert c["contacted"].tolist() == [1, 1, 1]


def test_van_result_id_missing_from_lookup(tmp_path):
    p = tmp_path / "van.csv"
    p.write_text("VanID,DateCanvassed,ResultID\n1,10/01/2020,3\n")
    lookup = pd.DataFrame({"ResultID": ["1"], "ResultName": ["Canvassed"]})
    with pytest.raises(FileFormatError, match=r"'ResultID 3' \(1\)"):
        read_contacts(p, format="van", results=lookup, strict=True)
    with pytest.warns(UnknownCodeWarning, match=r"'ResultID 3' \(1\)"):
        d = read_contacts(p, format="van", results=lookup)
    assert d["result"].tolist() == ["unknown"]


def test_nationbuilder_statuses(tmp_path):
    p = tmp_path / "nb.csv"
    statuses = [
        "answered",
        "meaningful_interaction",
        "no_answer",
        "not_interested",
        "refused",
        "bad_info",
        "left_message",
        "inaccessible",
        "other",
    ]
    rows = "\n".join(f"{i},2020-10-01T10:00:00,door_knock,{s}" for i, s in enumerate(statuses))
    p.write_text("person_id,created_at,method,status\n" + rows + "\n")
    c = read_contacts(p, format="nationbuilder")
    assert c["contacted"].tolist() == [1, 1, 0, 1, 1, 0, 0, 0, 0]
    assert c["attempted"].eq(1).all()


def test_csv_override_with_explicit_flags_and_household_level(tmp_path):
    p = tmp_path / "c.csv"
    p.write_text(
        "household_id,date,channel,result\nH1,2020-10-01,door,not_home\nH2,2020-10-02,door,canvassed\n"
    )
    c = read_contacts(p)
    assert c["unit_level"].tolist() == ["household", "household"]
    assert c["unit_id"].tolist() == ["H1", "H2"]


def test_csv_contacted_without_attempted_refused(tmp_path):
    p = tmp_path / "c.csv"
    p.write_text("unit_id,result,attempted,contacted\n1,canvassed,0,1\n")
    with pytest.raises(DataError, match="contacted=1 needs attempted=1"):
        read_contacts(p)


def test_mixed_timestamps(tmp_path):
    p = tmp_path / "c.csv"
    p.write_text(
        "unit_id,timestamp,result\n1,2020-10-01 10:00:00,canvassed\n2,10/01/2020 10:00:00,canvassed\n"
    )
    with pytest.raises(FileFormatError, match="mixed formats"):
        read_contacts(p)


def test_extra_columns_and_blank_lines(tmp_path):
    p = tmp_path / "c.csv"
    p.write_text("unit_id,result,notes\n1,canvassed,hi\n\n2,not_home,\n")
    c = read_contacts(p)
    assert list(c.index) == [2, 4]
    p.write_text("unit_id,result\n1,canvassed,extra\n2,not_home\n")
    with pytest.raises(FileFormatError, match="more fields than the header"):
        read_contacts(p)


def test_bad_format():
    with pytest.raises(SpecificationError, match="format must be one of"):
        read_contacts("x", format="ngp")


def test_result_codes_match_ignoring_case_and_word_separators(tmp_path) -> None:
    """'Not Home', 'not-home' and 'not_home' are the same result code."""
    import pandas as pd

    from fieldexp import io

    path = tmp_path / "log.csv"
    pd.DataFrame(
        {
            "voter_id": ["V1", "V2", "V3", "V4"],
            "timestamp": ["2022-10-01 10:00"] * 4,
            "channel": ["door"] * 4,
            "result": ["Not Home", "not-home", "NOT_HOME", "Canvassed"],
        }
    ).to_csv(path, index=False)
    contacts = io.read_contacts(path, format="csv")
    assert contacts["attempted"].tolist() == [1, 1, 1, 1]
    assert contacts["contacted"].tolist() == [0, 0, 0, 1]
