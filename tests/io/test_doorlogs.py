"""read_door_logs: canvassing tallies per bureau as campaigns export them."""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

from fieldexp.errors import FieldexpWarning, FileFormatError, SpecificationError
from fieldexp.io.doorlogs import read_door_logs


def _write(tmp_path, text: str, name: str = "doors.csv", encoding: str = "utf-8"):
    p = tmp_path / name
    p.write_bytes(text.encode(encoding))
    return p


def test_french_headers_corsica_and_leading_zeros(tmp_path):
    p = _write(
        tmp_path,
        "\ufeffDépartement;Code commune;N° bureau;Portes frappées;Portes ouvertes;Discussions\n"
        "2A;4;1;120;50;30\n"
        "2B;33;0002;80;30;12\n"
        "1;4;01;10;5;2\n"
        "69;69123;1;200;80;41\n",
    )
    t = read_door_logs(p)
    assert list(t["precinct_id"]) == ["01004_0001", "2A004_0001", "2B033_0002", "69123_0001"]
    assert list(t.columns) == [
        "precinct_id",
        "commune_code",
        "bureau_code",
        "doors_knocked",
        "doors_opened",
        "conversations",
        "log_lines",
    ]
    assert t.loc[t["precinct_id"] == "2A004_0001", "conversations"].item() == 30
    assert t.attrs["fieldexp_import"]["rows_read"] == 4


def test_english_headers_cp1252_tabs_and_thousands(tmp_path):
    p = _write(
        tmp_path,
        "INSEE\tPolling station\tDoors knocked\tDoors opened\tConversations\n"
        "75056\t12\t1 204\t500\t310\n"
        "75056\t3\t98\t40\t22\n",
        encoding="cp1252",
    )
    t = read_door_logs(p)
    assert dict(zip(t["precinct_id"], t["doors_knocked"], strict=True)) == {
        "75056_0003": 98,
        "75056_0012": 1204,
    }


def test_commune_lost_its_leading_zero_and_bad_commune_named(tmp_path):
    t = read_door_logs(_write(tmp_path, "commune;bureau;conversations\n1004;1;3\n"))
    assert t["precinct_id"].tolist() == ["01004_0001"]
    with pytest.raises(FileFormatError, match=r"commune code '56' cannot be placed.*line 3"):
        read_door_logs(_write(tmp_path, "commune;bureau;conversations\n75056;1;3\n56;1;4\n"))


def test_duplicates_summed_with_a_warning_and_every_row_accounted(tmp_path):
    lines = ["code insee;bv;portes;portes ouvertes;conversations"]
    lines += ["75056;1;10;5;2", "75056;0001;20;9;5", "75056;2;7;3;1", "75056;1;1;1;1"]
    p = _write(tmp_path, "\n".join(lines) + "\n")
    with pytest.warns(FieldexpWarning, match=r"2 line\(s\) repeat a station.*lines 2, 3, 5"):
        t = read_door_logs(p)
    assert t.set_index("precinct_id").loc["75056_0001"].tolist()[-4:] == [31, 15, 8, 3]
    assert t["log_lines"].sum() == 4
    assert t["doors_knocked"].sum() == 38  # nothing lost, nothing counted twice
    assert t.attrs["fieldexp_import"]["lines_summed_into_a_station"] == 2
    assert t.attrs["fieldexp_import"]["rows_read"] == 4


def test_order_of_lines_does_not_matter(tmp_path):
    rows = ["75056;1;10", "2A004;3;7", "69123;2;4", "75056;1;2"]
    head = "commune;bureau;conversations\n"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = read_door_logs(_write(tmp_path, head + "\n".join(rows) + "\n", "a.csv"))
        b = read_door_logs(_write(tmp_path, head + "\n".join(rows[::-1]) + "\n", "b.csv"))
    pd.testing.assert_frame_equal(a, b)


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("-3", "negative"),
        ("2.5", "not a whole number"),
        ("beaucoup", "not a whole number"),
        ("", "empty"),
    ],
)
def test_bad_counts_are_refused_with_lines(tmp_path, value, why):
    p = _write(tmp_path, f"commune;bureau;conversations\n75056;1;4\n75056;2;{value}\n")
    with pytest.raises(FileFormatError, match=rf"'conversations'.*{why}.*line 3"):
        read_door_logs(p)


def test_missing_columns_and_short_lines(tmp_path):
    with pytest.raises(FileFormatError, match="no count column"):
        read_door_logs(_write(tmp_path, "commune;bureau;volunteers\n75056;1;4\n"))
    with pytest.raises(FileFormatError, match="must name the station"):
        read_door_logs(_write(tmp_path, "commune;conversations\n75056;4\n"))
    with pytest.raises(FileFormatError, match=r"line 3 .*fewer fields"):
        read_door_logs(_write(tmp_path, "commune;bureau;conversations\n75056;1;4\n75056;2\n"))
    with pytest.raises(FileFormatError, match="two columns for 'conversations'"):
        read_door_logs(_write(tmp_path, "commune;bureau;contacts;discussions\n75056;1;4;3\n"))


def test_mapping_and_precinct_id(tmp_path):
    p = _write(tmp_path, "station;Talks held\n75056_0001;12\n2A004_0002;3\n")
    t = read_door_logs(p, mapping={"station": "precinct_id", "Talks held": "conversations"})
    assert t["conversations"].tolist() == [3, 12]
    with pytest.raises(SpecificationError, match="not a door-log column"):
        read_door_logs(p, mapping={"station": "precinct"})


def test_funnel_breaks_warn_and_workbooks_are_refused(tmp_path):
    p = _write(tmp_path, "commune;bureau;portes;conversations\n75056;1;4;9\n")
    with pytest.warns(FieldexpWarning, match="more conversations than doors_knocked"):
        read_door_logs(p)
    x = tmp_path / "doors.xlsx"
    x.write_bytes(b"PK\x03\x04rest")
    with pytest.raises(FileFormatError, match="Excel workbook"):
        read_door_logs(x)
