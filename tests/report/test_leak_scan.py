"""The leak scan on large inputs: ids held as Arrow columns (IdValues), looked up in batches.

Hostile cases: ids with surrounding blanks or odd whitespace, an object column mixing
numbers and text, ids buried in file names and table cells, one id among 200,000.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from fieldexp.report.model import Provenance, Report, Section, Table
from fieldexp.report.safety import IdValues, _texts, find_leaks, forbidden_values


def _report(*sections: Section) -> Report:
    prov = Provenance("spec.toml", "0" * 64, "", (), (), ())
    return Report("T", "", None, tuple(sections), (), prov)


def _ids(n: int) -> pd.Series:
    return pd.Series([f"V{i:08d}" for i in range(n)], dtype="str")


def test_forbidden_ids_equal_the_printed_values_of_every_id_column() -> None:
    frame = pd.DataFrame(
        {
            "voter_id": pd.Series([" V01 ", "V02", None, "V03\x1f", "\xa0V04", "V05"], dtype="str"),
            "household_id": [1.0, 2.0, 2.5, np.nan, 7.0, 7.0],
            "cluster": pd.Series(["C1", 5, "C2", None, 5, "C1"], dtype=object),  # mixed types
            "canvasser": ["Ann Lee", "Ann Lee", "b", "Bo Yu", "b", "b"],
        }
    )
    fb = forbidden_values([frame])
    expected: set[str] = set()
    for col in ("voter_id", "household_id", "cluster", "canvasser"):
        expected.update(v for v in _texts(frame[col]) if v)
    assert isinstance(fb.ids, IdValues)
    assert set(fb.ids) == expected
    assert len(fb.ids) == len(expected)
    assert "V01" in fb.ids and "V03" in fb.ids and "V04" in fb.ids and " V01 " not in fb.ids
    assert "2.5" in fb.ids and "7" in fb.ids and "5" in fb.ids
    assert {"ann lee", "bo yu"} <= fb.personal


def test_near_unique_id_columns_are_still_flagged_as_identifiers() -> None:
    frame = pd.DataFrame({"voter_id": _ids(5_000), "zone": ["a", "b"] * 2_500})
    fb = forbidden_values([frame])
    assert fb.unique_columns == {"voter_id"}
    table = Table("t", "t", ("voter_id", "n"), ("text", "int"), (("x1", 1), ("x2", 2)))
    assert find_leaks(_report(Section("s", "S", (), (table,))), [], fb) == [
        "table 't', column 'voter_id': the input column 'voter_id' has a different value for "
        "(nearly) every row (an identifier)"
    ]


def test_one_id_among_200000_is_found_in_text_file_names_and_id_columns() -> None:
    frame = pd.DataFrame({"voter_id": _ids(200_000), "age": np.arange(200_000) % 90})
    fb = forbidden_values([frame])
    assert find_leaks(None, ["all fine: 200000 voters, V1234567X, XV00000001"], fb) == []
    assert find_leaks(None, ["see tables/coverage_V00123456.csv"], fb) == [
        "1 input id(s) in the text"
    ]
    assert find_leaks(None, ['{"unit": "V00199999"}', "V00000000; V00000001"], fb) == [
        "3 input id(s) in the text"
    ]
    table = Table("t", "t", ("VanID", "n"), ("text", "int"), (("V00054321", 1), ("x", 2)))
    assert find_leaks(_report(Section("s", "S", (), (table,))), [], fb) == [
        "table 't', column 'VanID': 1 input id(s)"
    ]


def test_a_blank_padded_input_id_is_still_caught_once_stripped() -> None:
    ids = _ids(5_000).to_list()
    ids[4_321] = "  V00004321\t"
    fb = forbidden_values([pd.DataFrame({"voter_id": pd.Series(ids, dtype="str")})])
    assert find_leaks(None, ["row V00004321 here"], fb) == ["1 input id(s) in the text"]


def test_integer_ids_stay_out_of_counts_but_not_out_of_id_columns() -> None:
    frame = pd.DataFrame({"voter_id": pd.Series([str(i) for i in range(1, 5_000)], dtype="str")})
    fb = forbidden_values([frame])
    counts = Table("c", "t", ("precinct_id", "n"), ("text", "int"), (("12", 40), ("13", 50)))
    assert find_leaks(_report(Section("s", "S", ("200 voters",), (counts,))), ["200"], fb) == []
    shown = Table("v", "t", ("VanID", "n"), ("text", "int"), ((17, 1), (18, 1)))
    assert find_leaks(_report(Section("s", "S", (), (shown,))), [], fb) == [
        "table 'v', column 'VanID': 2 input id(s)"
    ]


def test_an_e_mail_that_is_also_an_id_is_counted_once_as_an_id() -> None:
    frame = pd.DataFrame({"voter_id": ["a1@x.org", "b2@x.org"], "email": ["a1@x.org", "c@x.org"]})
    fb = forbidden_values([frame])
    assert find_leaks(None, ["write to a1@x.org or c@x.org"], fb) == [
        "1 e-mail address(es) in the text",
        "1 input id(s) in the text",
    ]
