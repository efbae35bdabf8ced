"""The fast reading paths give what the general paths give: frames, errors and warnings.

Two paths are compared on the same files:

* **general**: pandas' CSV reader with the ``csv``-module short-row scan, and every code,
  date, number and key handled row by row (what the readers did before the fast paths);
* **fast**: plain files parsed by ``pyarrow.csv`` (:mod:`fieldexp.io._arrowcsv`), and the
  per-distinct-value work of :mod:`fieldexp.io._distinct` and ``dates._slash_dates``
  switched on for every size (their thresholds set to 1 so that small files take them).

Equal means: the same frame (columns, dtypes, values, index = file line numbers, ``attrs``
with the conservation record), or the same error class and message; and the same warnings.
"""

from __future__ import annotations

import importlib.util
import random
import re
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from fieldexp.io import _arrowcsv, _distinct, dates, read_contacts, read_vote_history, read_voters
from fieldexp.io._text import read_delimited

ROOT = Path(__file__).resolve().parents[2]
HOSTILE_US = Path(__file__).resolve().parent / "hostile_us"
_spec = importlib.util.spec_from_file_location("hostile_us_corpus_paths", HOSTILE_US / "corpus.py")
assert _spec is not None and _spec.loader is not None
corpus = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = corpus
_spec.loader.exec_module(corpus)

READERS: dict[str, Callable[..., pd.DataFrame]] = {
    "read_voters": read_voters,
    "read_vote_history": read_vote_history,
    "read_contacts": read_contacts,
}


def _general(mp: pytest.MonkeyPatch) -> None:
    mp.setattr(_arrowcsv, "read_plain_csv", lambda *a, **k: None)
    mp.setattr(_distinct, "MIN_ROWS", 10**15)
    mp.setattr(dates, "ARROW_MIN", 10**15)


def _fast(mp: pytest.MonkeyPatch) -> None:
    mp.setattr(_distinct, "MIN_ROWS", 1)
    mp.setattr(dates, "ARROW_MIN", 1)


def _outcome(fn: Callable[[], pd.DataFrame]) -> tuple[Any, ...]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            df = fn()
        except Exception as exc:  # the error itself is what is compared
            out: tuple[Any, ...] = ("error", type(exc).__name__, str(exc))
        else:
            out = ("ok", df)
    seen = [(w.category.__name__, str(w.message)) for w in caught]
    return (*out, seen)


def _both(fn: Callable[[], pd.DataFrame]) -> tuple[tuple[Any, ...], tuple[Any, ...], int]:
    """The outcome on the general path, on the fast path, and how often Arrow parsed."""
    calls = {"n": 0}
    real = _arrowcsv.read_plain_csv

    def counting(*a: Any, **k: Any) -> pd.DataFrame | None:
        out = real(*a, **k)
        calls["n"] += out is not None
        return out

    with pytest.MonkeyPatch.context() as mp:
        _general(mp)
        old = _outcome(fn)
    with pytest.MonkeyPatch.context() as mp:
        _fast(mp)
        mp.setattr(_arrowcsv, "read_plain_csv", counting)
        new = _outcome(fn)
    return old, new, calls["n"]


def _assert_same(old: tuple[Any, ...], new: tuple[Any, ...]) -> None:
    assert old[0] == new[0], (old[:-1], new[:-1])
    if old[0] == "error":
        assert old[1:] == new[1:]
        return
    a, b = old[1], new[1]
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    assert list(a.columns) == list(b.columns)
    assert a.index.equals(b.index) and a.index.name == b.index.name
    assert [str(t) for t in a.dtypes] == [str(t) for t in b.dtypes]
    assert a.attrs == b.attrs
    assert old[2] == new[2]


# ------------------------------------------------------------------ read_delimited
PLAIN = {
    "simple": b"a,b\n1,2\n3,4\n",
    "crlf": b"a,b\r\n1,2\r\n3,4\r\n",
    "bom_crlf": b"\xef\xbb\xbfa,b\r\n1,2\r\n3,4\r\n",
    "semicolon": b"a;b;c\n1;2;3\nx;;z\n",
    "tab": b"a\tb\n1\t2\n\t\n",
    "pipe": b"a|b\n1|2\n",
    "no_final_newline": b"a,b\n1,2\n3,4",
    "blank_lines": b"a,b\n1,2\n\n3,4\n\n\n5,6\n",
    "blank_crlf": b"a,b\r\n1,2\r\n\r\n3,4\r\n",
    "trailing_blank": b"a,b\n1,2\n\n",
    "empty_rows": b"a,b,c\n1,2,3\n,,\n4,5,6\n",
    "spaces_kept": b" a , b \n x , y \n  ,z\n",
    "na_words": b"a,b\nnan,NA\nnull,None\n#N/A,-\n",
    "unicode": "a,b\né,日本\n🙂,ß\n".encode(),
    "repeated_header": b"a,b\n1,2\na,b\n3,4\n",
}
GENERAL = {
    "quoted_delimiter": b'a,b\n"1,5",2\n3,4\n',
    "quoted_newline": b'a,b\n"line\nbreak",2\n3,4\n',
    "short_row": b"a,b,c\n1,2,3\n4,5\n6,7,8\n",
    "long_row": b"a,b\n1,2\n3,4,5\n",
    "whitespace_line": b"a,b\n1,2\n   \n3,4\n",
    "lone_cr": b"a,b\r1,2\r3,4\r",
    "mixed_cr": b"a,b\n1,2\r3,4\n",
    "nul_byte": b"a,b\n1,\x002\n",
    "empty_header_name": b"a,,c\n1,2,3\n",
    "trailing_delimiter": b"a,b,\n1,2,\n",
    "one_column": b"a\n1\n\n2\n",
    "header_only": b"a,b\n",
    "leading_blank_line": b"\na,b\n1,2\n",
    "invalid_utf8": b"a,b\n1,\xe92\n",
}


@pytest.mark.parametrize("name", sorted(PLAIN))
def test_plain_files_are_parsed_by_arrow_like_pandas(tmp_path, name):
    p = tmp_path / "f.csv"
    p.write_bytes(PLAIN[name])
    old, new, arrow = _both(lambda: read_delimited(p, table="t", check_short=True))
    _assert_same(old, new)
    assert arrow == 1  # the fast path was taken


@pytest.mark.parametrize("name", sorted(GENERAL))
def test_other_files_fall_back_to_the_general_reader(tmp_path, name):
    p = tmp_path / "f.csv"
    p.write_bytes(GENERAL[name])
    old, new, arrow = _both(lambda: read_delimited(p, table="t", check_short=True))
    _assert_same(old, new)
    assert arrow == 0


@pytest.mark.parametrize("encoding", ["latin-1", "cp1252"])
def test_latin1_file_stated_or_fallback(tmp_path, encoding):
    p = tmp_path / "f.csv"
    p.write_bytes("nom;ville\nHélène;Besançon\nŒuvre;Saint-Étienne\n".encode("cp1252"))
    for kwargs in ({"encoding": encoding}, {"fallback_encoding": encoding}):
        old, new, arrow = _both(lambda kw=kwargs: read_delimited(p, table="t", **kw))
        _assert_same(old, new)
        assert old[0] == "ok" and arrow == 1
        assert new[1]["ville"].tolist() == ["Besançon", "Saint-Étienne"]


def test_invalid_utf8_is_refused_with_the_line(tmp_path):
    p = tmp_path / "f.csv"
    p.write_bytes(b"a,b\n1,2\n3,\xe94\n")
    old, new, _ = _both(lambda: read_delimited(p, table="t"))
    _assert_same(old, new)
    assert old[0] == "error" and "line 3" in old[2]


# ------------------------------------------------------------------ the readers
def _fixture_files() -> list[Path]:
    folders = [ROOT / "fixtures" / "io", ROOT / "fixtures" / "demo", HOSTILE_US / "files"]
    return sorted(p for f in folders for p in f.iterdir() if p.suffix in (".csv", ".txt"))


@pytest.mark.parametrize("path", _fixture_files(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_readers_agree_on_fixture_files(path):
    for name, reader in READERS.items():
        old, new, _ = _both(lambda r=reader: r(path, format="auto"))
        _assert_same(old, new)
        if name == "read_vote_history" or path.parent.name != "demo":
            continue
        old, new, _ = _both(lambda r=reader: r(path))
        _assert_same(old, new)


@pytest.mark.parametrize("case", corpus.CASES, ids=[c.name for c in corpus.CASES])
def test_readers_agree_on_the_hostile_corpus(case):
    reader = READERS[f"read_{case.reader}"]
    kwargs = {
        k: (HOSTILE_US / v if isinstance(v, str) and v.startswith(corpus.F) else v)
        for k, v in case.kwargs.items()
    }
    old, new, _ = _both(lambda: reader(HOSTILE_US / "files" / case.file, **kwargs))
    _assert_same(old, new)


def _voters_text(rng: random.Random, n: int, *, header: str, dates_fmt: str, delim: str) -> str:
    rows = [header]
    statuses = ["A", "I", "Active", "removed", "", "S", "PURGED"]
    for i in range(n):
        y, m, d = rng.randint(1960, 2020), rng.randint(1, 12), rng.randint(1, 28)
        date = dates_fmt.format(y=y, m=m, d=d) if rng.random() > 0.05 else ""
        rows.append(
            delim.join(
                [
                    f"V{i:06d}",
                    f"H{i // 2:06d}",
                    f"P{i % 7}",
                    rng.choice(statuses),
                    date,
                    str(rng.randint(18, 95)) if rng.random() > 0.1 else "",
                    rng.choice(["0", "1", ""]),
                ]
            )
        )
    return "\n".join(rows) + "\n"


@pytest.mark.parametrize(
    ("header", "dates_fmt", "delim"),
    [
        ("voter_id,household_id,precinct_id,registration_status,registration_date,age,female",
         "{y}-{m:02d}-{d:02d}", ","),
        ("VoterID;HouseholdID;Precinct;Status;RegDate;Age;Female", "{m:02d}/{d:02d}/{y}", ";"),
        ("SOS_VOTERID\thh\tprecinct\tvoter_status\tregistration_date\tage\tfemale",
         "{d}/{m}/{y}", "\t"),
    ],
)  # fmt: skip
def test_read_voters_agrees_on_drifted_files(tmp_path, header, dates_fmt, delim):
    p = tmp_path / "voters.csv"
    p.write_text(
        _voters_text(random.Random(3), 900, header=header, dates_fmt=dates_fmt, delim=delim)
    )
    old, new, arrow = _both(lambda: read_voters(p))
    _assert_same(old, new)
    assert arrow == 1
    # a repeated voter id: refused the same way, naming the same rows
    p.write_text(p.read_text() + p.read_text().splitlines()[5] + "\n")
    old, new, _ = _both(lambda: read_voters(p))
    _assert_same(old, new)
    assert old[0] == "error"


def _history_text(rng: random.Random, n: int, *, dup: bool, codes: list[str]) -> str:
    rows = ["voter_id,election_date,election_type,voted,method"]
    elections = [("11/08/2016", "GEN"), ("11/06/2018", "General"), ("03/03/2020", "PRIMARY"),
                 ("11/03/2020", "PresidentialPrimary"), ("05/05/2021", "Recall")]  # fmt: skip
    for i in range(n):
        for date, kind in elections:
            if rng.random() < 0.3:
                continue
            rows.append(
                f"V{i:05d},{date},{kind},{rng.choice(codes)},{rng.choice(['', 'mail', 'early'])}"
            )
    if dup:
        rows += rows[3:9] + rows[40:41]
    return "\n".join(rows) + "\n"


@pytest.mark.parametrize("dup", [False, True])
@pytest.mark.parametrize("codes", [["0", "1"], ["Y", "N", "1", "yes", "maybe", ""]])
def test_read_vote_history_agrees_with_duplicates_and_codes(tmp_path, dup, codes):
    p = tmp_path / "history.csv"
    p.write_text(_history_text(random.Random(5), 400, dup=dup, codes=codes))
    old, new, arrow = _both(lambda: read_vote_history(p))
    _assert_same(old, new)
    assert arrow == 1
    if dup and old[0] == "ok":
        assert old[1].attrs["fieldexp_import"]["set_aside"]


@pytest.mark.parametrize(
    "stamp",
    ["{y}-{m:02d}-{d:02d} {H:02d}:{M:02d}:00", "{m:02d}/{d:02d}/{y} {H:02d}:{M:02d}",
     "{d:02d}/{m:02d}/{y} {H:02d}:{M:02d}", "{y}-{m:02d}-{d:02d}T{H:02d}:{M:02d}:00-04:00",
     "{m}/{d}/{y}"],
)  # fmt: skip
def test_read_contacts_agrees_on_timestamps_and_codes(tmp_path, stamp):
    rng = random.Random(11)
    rows = ["VanID,DateCanvassed,ContactType,ResultShortName,canvasser_id"]
    results = ["Canvassed", "Not Home", "Refused", "Moved", "Inaccessible", "Drone Drop"]
    for i in range(700):
        m, d = rng.randint(9, 11), rng.randint(1, 28)
        when = stamp.format(y=2022, m=m, d=d, H=rng.randint(9, 20), M=rng.randint(0, 59))
        kind = rng.choice(["Walk", "Phone", "SMS", "Paid Walk"])
        rows.append(f"{1000 + i % 300},{when},{kind},{rng.choice(results)},K{i % 9}")
    p = tmp_path / "contacts.csv"
    p.write_text("\n".join(rows) + "\n")
    old, new, arrow = _both(lambda: read_contacts(p, format="van"))
    _assert_same(old, new)
    assert arrow == 1


# ------------------------------------------------------------------ dates
def test_slash_dates_arrow_matches_python_re():
    rng = random.Random(17)
    space = ["", "", " ", "\t", "\x0b", "\x1c", "  ", "\u00a0", "x"]
    sep = ["/", "/", ".", "-", ":", " ", ""]
    tail = ["", "", " 10:00", "T12:00:00Z", "x", "_", "5", "é", "\u0663"]

    def digits(lo: int, hi: int) -> str:
        return "".join(rng.choice("0123456789") for _ in range(rng.randint(lo, hi)))

    values = [
        rng.choice(space) + digits(0, 3) + rng.choice(sep) + digits(0, 3) + rng.choice(sep)
        + digits(1, 5) + rng.choice(tail)
        for _ in range(4000)
    ]  # fmt: skip
    values += ["03/04/2024", " 3.4.24", "13-01-2024", "1/2/2024x", "01/02/20245", "\x1c1/2/99"]
    ascii_only = [v for v in values if v.isascii()]
    for vals in (ascii_only, values):  # Arrow's path, then Python's (non-ASCII text)
        for part in (vals, vals[:300], [v for v in vals if "/" in v and v[:1].isdigit()]):
            s = pd.Series([*part, None], dtype="str")
            with pytest.MonkeyPatch.context() as mp:
                mp.setattr(dates, "ARROW_MIN", 10**15)
                old = dates.slash_dates(s)
            assert dates.slash_dates(s) == old
            assert old.found and old.first == part[0]
        assert dates.date_order(pd.Series(vals, dtype="str")) == "ambiguous"
    days = pd.Series([f"{d}/{m}/2024" for d in range(1, 29) for m in range(1, 13)] * 3, dtype="str")
    assert dates.date_order(days) == "day_first"
    assert dates.date_order(days.str.replace("2024", "2024x", regex=False)) == "none"


def test_distinct_spread_roundtrip_keeps_missing_and_order():
    s = pd.Series(["b", None, "a", "b", "", None, "c"] * 1000, dtype="str")
    d = _distinct.distinct(s, min_rows=1)
    assert d is not None
    assert d.uniques.tolist()[:2] == ["b", "a"] or d.uniques.iloc[0] == "b"
    back = _distinct.spread(d.uniques, d, s.index, s.name)
    pd.testing.assert_series_equal(back, s)
    assert _distinct.unique_rows(s) is False
    ids = pd.Series([f"V{i}" for i in range(5000)], dtype="str")
    assert _distinct.unique_rows(ids) is True
    assert _distinct.unique_rows(ids, pd.Series(["x"] * 5000, dtype="str")) is True
    assert _distinct.unique_rows(pd.Series(np.arange(5000))) is None  # not text: ask pandas


def test_regex_fixture_really_differs_between_unicode_and_ascii():
    # the reason non-ASCII text keeps Python's re: its \\d and \\s are Unicode
    assert re.match(dates._SLASH, "\u0663/4/2024") is not None


@pytest.mark.parametrize(
    "bad",
    [b"\xed\xa0\x80", b"\xc0\xaf", b"\xe0\x80\xaf", b"\xf4\x90\x80\x80", b"\x80", b"\xe9", b"\xc2",
     b"\xff", b"\xf8\x88\x80\x80\x80", b""],
)  # fmt: skip
def test_utf8_check_by_arrow_agrees_with_python(tmp_path, bad):
    from fieldexp.io import _text

    body = "voter_id,name\n" + "".join(f"V{i},Zoë 🙂\n" for i in range(3000))
    data = body.encode() + b"V9," + bad + b"x\n" + body.encode()[14:]
    p = tmp_path / "f.csv"
    for content in (data, data.rstrip(b"\n") + bad):  # in the middle; cut at the very end
        p.write_bytes(content)
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(_text, "_UTF8_BLOCK", 4096)  # many blocks, cut after line breaks
            fast = _text._check_decodes(p, "utf-8")
            mp.setattr(_text, "_valid_utf8", lambda path: False)
            slow = _text._check_decodes(p, "utf-8")
        assert fast == slow
        assert (slow is None) == (bad == b"")
