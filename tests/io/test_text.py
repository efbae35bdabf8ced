"""Hostile files: every defect gives a FileFormatError that names the file and the line."""

from __future__ import annotations

import codecs
import warnings
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fieldexp.errors import FileFormatError
from fieldexp.io._text import parse_dates, read_delimited


def write(tmp_path: Path, text: str | bytes, name: str = "f.csv") -> Path:
    p = tmp_path / name
    if isinstance(text, bytes):
        p.write_bytes(text)
    else:
        p.write_text(text, encoding="utf-8")
    return p


def test_reads_and_indexes_by_line(tmp_path):
    df = read_delimited(write(tmp_path, "a,b\n1,2\n3,4\n"), table="t")
    assert list(df.columns) == ["a", "b"]
    assert list(df.index) == [2, 3]
    assert df.loc[3, "b"] == "4"


def test_missing_file(tmp_path):
    with pytest.raises(FileFormatError, match="not found"):
        read_delimited(tmp_path / "nope.csv", table="t")


@pytest.mark.parametrize("text", ["", "\n\n  \n", "\ufeff"])
def test_empty_file(tmp_path, text):
    with pytest.raises(FileFormatError, match="is empty"):
        read_delimited(write(tmp_path, text), table="t")


def test_header_only_gives_no_rows(tmp_path):
    df = read_delimited(write(tmp_path, "a,b\n"), table="t")
    assert len(df) == 0


def test_utf8_bom_is_stripped(tmp_path):
    p = write(tmp_path, codecs.BOM_UTF8 + "voter_id,x\n1,é\n".encode())
    df = read_delimited(p, table="t")
    assert list(df.columns) == ["voter_id", "x"]
    assert df.iloc[0]["x"] == "é"


def test_utf16_bom(tmp_path):
    p = write(tmp_path, "a;b\n1;2\n".encode("utf-16"))
    df = read_delimited(p, table="t")
    assert list(df.columns) == ["a", "b"]


def test_wrong_encoding_names_line(tmp_path):
    p = write(tmp_path, "a,b\n1,ok\n2,caf\xe9\n".encode("latin-1"))
    with pytest.raises(FileFormatError, match=r"not valid UTF-8: byte 0xe9 at line 3"):
        read_delimited(p, table="t")
    df = read_delimited(p, table="t", encoding="latin-1")
    assert df.iloc[1]["b"] == "café"
    df = read_delimited(p, table="t", fallback_encoding="cp1252")
    assert df.iloc[1]["b"] == "café"


def test_delimiter_sniffed(tmp_path):
    for d in [";", "\t", "|"]:
        df = read_delimited(write(tmp_path, f"a{d}b\n1{d}2\n"), table="t")
        assert list(df.columns) == ["a", "b"]


def test_wrong_delimiter_stated(tmp_path):
    with pytest.raises(FileFormatError, match="looks semicolon-delimited"):
        read_delimited(write(tmp_path, "a;b\n1;2\n"), table="t", delimiter=",")


def test_duplicated_header(tmp_path):
    with pytest.raises(FileFormatError, match=r"duplicated header.*\['a'\]"):
        read_delimited(write(tmp_path, "a,b,a\n1,2,3\n"), table="t")


def test_header_repeated_inside_data(tmp_path):
    with pytest.raises(FileFormatError, match=r"repeats its header.*line 4"):
        read_delimited(write(tmp_path, "a,b\n1,2\n3,4\na,b\n5,6\n"), table="t")


def test_blank_lines_skipped_line_numbers_kept(tmp_path):
    df = read_delimited(write(tmp_path, "a,b\n1,2\n\n\n3,4\n\n"), table="t")
    assert list(df.index) == [2, 5]


def test_extra_columns_on_a_row(tmp_path):
    with pytest.raises(FileFormatError, match="line 3 has 3 fields but the header has 2"):
        read_delimited(write(tmp_path, "a,b\n1,2\n3,4,5\n"), table="t")


def test_extra_columns_on_first_row(tmp_path):
    with pytest.raises(FileFormatError, match="more fields than the header"):
        read_delimited(write(tmp_path, "a,b\n1,2,3\n"), table="t")


def test_mixed_date_formats():
    s = pd.Series(["2016-11-08", "11/08/2016", "2016-11-09"], index=[2, 3, 4])
    with pytest.raises(
        FileFormatError, match=r"mixed formats: 2 like '2016-11-08'.*1 like '11/08/2016'"
    ):
        parse_dates(s, column="d", table="t")


def test_unreadable_dates_name_lines():
    s = pd.Series(["2016-11-08", "soon"], index=[2, 3])
    with pytest.raises(FileFormatError, match=r"unreadable such as 'soon' in row 3"):
        parse_dates(s, column="d", table="t")
    with pytest.raises(FileFormatError, match=r"must hold dates; found values such as 'x'"):
        parse_dates(pd.Series(["x"]), column="d", table="t")


def test_dates_one_format_and_missing():
    s = pd.Series(["11/08/2016", None, ""])
    out = parse_dates(s, column="d", table="t")
    assert out.iloc[0] == pd.Timestamp("2016-11-08")
    assert out.isna().sum() == 2


cell = st.text(
    alphabet=st.characters(
        blacklist_categories=("Cs", "Cc"), blacklist_characters='",;\t|\r\n\ufeff'
    ),
    min_size=1,
    max_size=8,
).filter(lambda s: s.strip() == s and s != "")


@settings(
    max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None
)
@given(
    rows=st.lists(st.lists(cell, min_size=3, max_size=3), min_size=1, max_size=20),
    delim=st.sampled_from([",", ";", "\t", "|"]),
    bom=st.booleans(),
)
def test_property_round_trip(tmp_path, rows, delim, bom):
    """Whatever the cells, delimiter and BOM, the frame read equals the cells written."""
    header = ["c1", "c2", "c3"]
    body = "\n".join(delim.join(r) for r in [header, *rows]) + "\n"
    data = (codecs.BOM_UTF8 if bom else b"") + body.encode("utf-8")
    p = tmp_path / "prop.csv"
    p.write_bytes(data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            df = read_delimited(p, table="t")
        except FileFormatError:
            # a data row identical to the header is refused, by design
            assert any(r == header for r in rows)
            return
    assert df.shape == (len(rows), 3)
    assert df.astype(object).values.tolist() == rows


def test_large_file_progress_path(tmp_path, monkeypatch):
    """Large files on a terminal load in chunks with a progress bar; same frame."""
    import fieldexp.io._text as text

    p = tmp_path / "big.csv"
    p.write_text("a,b\n" + "".join(f"{i},x\n" for i in range(1200)) + "\n7,y\n")
    ref = read_delimited(p, table="t")
    monkeypatch.setattr(text, "PROGRESS_BYTES", 10)
    monkeypatch.setattr(text.sys.stderr, "isatty", lambda: True, raising=False)
    got = read_delimited(p, table="t")
    pd.testing.assert_frame_equal(ref, got)
    assert got.index[-1] == 1203


@settings(max_examples=50, deadline=None)
@given(
    days=st.lists(st.integers(0, 20000), min_size=1, max_size=30),
    fmt=st.sampled_from(["%Y-%m-%d", "%m/%d/%Y", "%Y%m%d"]),
)
def test_property_dates_round_trip(days, fmt):
    """Dates written in any one supported format parse back to the same days."""
    dates = pd.Timestamp("1970-01-01") + pd.to_timedelta(days, unit="D")
    text = pd.Series(dates.strftime(fmt), index=range(2, 2 + len(days)))
    out = parse_dates(text, column="d", table="t")
    assert (out.to_numpy() == dates.to_numpy().astype("datetime64[us]")).all()
