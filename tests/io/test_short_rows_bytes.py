"""The byte-counting path of refuse_short_rows names the same lines as the csv-module path."""

from __future__ import annotations

import random

import pytest

from fieldexp.errors import FileFormatError
from fieldexp.io import _fields


def _csv_path(path, encoding, n_fields, header):
    short, n = _fields._short_rows_csv(path, encoding, ",", n_fields, header=header)
    return short, n


@pytest.mark.parametrize("block", [1, 5, 64, 1 << 24])
@pytest.mark.parametrize("seed", range(3))
def test_byte_count_matches_csv_module(tmp_path, monkeypatch, seed, block):
    # small blocks: lines and CRLF pairs cut across reads
    monkeypatch.setattr(_fields, "_BLOCK", block)
    rng = random.Random(seed)
    pieces = ["a", "", " ", "\t", "b b", "\xa0", "é", "12"]
    path = tmp_path / "f.csv"
    for _ in range(150):
        newline = rng.choice(["\n", "\r\n"])
        lines = []
        for _ in range(rng.randint(0, 9)):
            k = rng.choice([0, 1, 2, 3, 3, 3, 4])
            lines.append(
                ",".join(rng.choice(pieces) for _ in range(k))
                if k
                else rng.choice(["", " ", " \t"])
            )
        text = newline.join(lines) + rng.choice(["", newline, newline * 2])
        encoding = rng.choice(["utf-8", "latin-1"])
        path.write_bytes(text.encode(encoding))
        for header in (True, False):
            want = _csv_path(path, encoding, 3, header)
            try:
                _fields.refuse_short_rows(path, encoding, ",", 3, header=header, table="t")
                got = ([], 0)
            except FileFormatError as exc:
                got = exc
            if want[1] == 0:
                assert got == ([], 0), (text, header)
            else:
                msg = str(got)
                first_line, fields = want[0][0]
                assert f"line {first_line} has {fields} field(s)" in msg, (text, header, msg)
                lines_named = ", ".join(str(line) for line, _ in want[0])
                assert f"truncated line(s) {lines_named}" in msg, (text, header, msg)


def test_quoted_files_take_the_csv_path(tmp_path):
    path = tmp_path / "q.csv"
    path.write_text('a,b,c\n"x,y",z\n1,2,3\n', encoding="utf-8")
    assert _fields._short_rows_bytes(path, "utf-8", ",", 3, header=True) is None
    with pytest.raises(FileFormatError, match="line 2 has 2 field"):
        _fields.refuse_short_rows(path, "utf-8", ",", 3, header=True, table="t")


def test_lone_carriage_returns_take_the_csv_path(tmp_path):
    path = tmp_path / "r.csv"
    path.write_bytes(b"a,b,c\r1,2\r1,2,3\r")
    assert _fields._short_rows_bytes(path, "utf-8", ",", 3, header=True) is None
    with pytest.raises(FileFormatError, match="line 2 has 2 field"):
        _fields.refuse_short_rows(path, "utf-8", ",", 3, header=True, table="t")
