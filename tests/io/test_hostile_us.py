"""The US hostile / drifted corpus (tests/io/hostile_us): each file ends as stated."""

from __future__ import annotations

import filecmp
import importlib.util
import re
import sys
import warnings
from pathlib import Path

import pandas as pd
import pytest

from fieldexp import errors
from fieldexp.io import dates, read_contacts, read_vote_history, read_voters, vocab
from fieldexp.io.personal import looks_personal

HERE = Path(__file__).resolve().parent / "hostile_us"
_spec = importlib.util.spec_from_file_location("hostile_us_corpus", HERE / "corpus.py")
assert _spec is not None and _spec.loader is not None
corpus = importlib.util.module_from_spec(_spec)
sys.modules["hostile_us_corpus"] = corpus  # dataclasses look their module up
_spec.loader.exec_module(corpus)

READERS = {"voters": read_voters, "vote_history": read_vote_history, "contacts": read_contacts}
WARNINGS = {
    "UnknownCodeWarning": vocab.UnknownCodeWarning,
    "AmbiguousDateWarning": dates.AmbiguousDateWarning,
    "RowsDroppedWarning": errors.RowsDroppedWarning,
}


def test_at_least_twenty_cases_and_files():
    assert len(corpus.CASES) >= 20
    assert len({c.name for c in corpus.CASES}) == len(corpus.CASES)
    assert len({c.file for c in corpus.CASES}) >= 20


def test_committed_files_are_what_the_generator_writes(tmp_path):
    fresh = corpus.build(tmp_path / "files")
    committed = HERE / "files"
    assert sorted(p.name for p in fresh) == sorted(p.name for p in committed.iterdir())
    for f in fresh:
        assert filecmp.cmp(f, committed / f.name, shallow=False), (
            f"{f.name} is stale: rerun corpus.py"
        )


def _kwargs(case):
    out = {}
    for k, v in case.kwargs.items():
        if isinstance(v, str) and v.startswith(corpus.F):
            v = HERE / v
        elif isinstance(v, dict):
            v = dict(v)
        out[k] = v
    return out


def _read(case):
    return READERS[case.reader](HERE / "files" / case.file, **_kwargs(case))


@pytest.mark.parametrize("case", corpus.CASES, ids=[c.name for c in corpus.CASES])
def test_hostile_case(case):
    if case.expect != "ok":
        err = getattr(errors, case.expect)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with pytest.raises(err, match=case.match):
                _read(case)
        return
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        df = _read(case)
    fx_warnings = [w for w in caught if issubclass(w.category, errors.FieldexpWarning)]
    if case.warns:
        wanted = [w for w in fx_warnings if issubclass(w.category, WARNINGS[case.warns])]
        assert wanted, f"expected a {case.warns}; got {[str(w.message)[:80] for w in caught]}"
        assert any(re.search(case.match, str(w.message)) for w in wanted)
        if case.warns == "UnknownCodeWarning":
            # one warning per coded column, however many unknown codes and rows
            assert len(wanted) == len(df.attrs["fieldexp_import"]["unknown_codes"])
    else:
        assert not [w for w in fx_warnings if issubclass(w.category, vocab.UnknownCodeWarning)]
    imp = df.attrs["fieldexp_import"]
    # conservation: every row read is kept or set aside with a reason
    assert imp["rows_read"] == imp["rows_kept"] + sum(imp["set_aside"].values())
    assert imp["rows_kept"] == len(df)
    ch = case.checks
    if ch.get("no_unknown"):
        assert imp["unknown_codes"] == {}
    if "unknown" in ch:
        kind, code = ch["unknown"]
        assert imp["unknown_codes"][kind][code] == imp["codes"][kind][code] > 0
    if ch.get("all_voted"):
        assert (df["voted"] == 1).all()
    if "set_aside_key" in ch:
        assert imp["set_aside"][ch["set_aside_key"]] > 0
    if ch.get("election_type_other"):
        assert "other" in set(df["election_type"])
    if ch.get("no_personal"):
        assert not [c for c in df.columns if looks_personal(c)]
        text = df.astype("str")
        assert (
            not text.apply(lambda s: s.str.contains("@example.org|PO Box|555-01", regex=True))
            .any()
            .any()
        )
    if "status_counts" in ch:
        counts = df["registration_status"].value_counts()
        for status, n in ch["status_counts"].items():
            assert counts.get(status, 0) == n
    if ch.get("inactive_present"):
        assert "inactive" in set(df["registration_status"])
    if "columns" in ch:
        assert set(ch["columns"]) <= set(df.columns)
        assert df["voter_id"].notna().all()
    if "rows" in ch:
        assert len(df) == ch["rows"] == imp["rows_read"]
    if "channels" in ch:
        assert sorted(set(df["channel"])) == sorted(ch["channels"])
    if "unit_prefix" in ch:
        assert df["unit_id"].str.startswith(ch["unit_prefix"]).all()
    if "timestamps_utc" in ch:
        got = sorted(set(df["timestamp"].dt.strftime("%Y-%m-%d %H:%M:%S")))
        assert got == ch["timestamps_utc"]
    if "first_timestamp" in ch:
        assert df["timestamp"].iloc[0].strftime("%Y-%m-%d") == ch["first_timestamp"]
    if "default_attempt" in ch:
        raw = pd.read_csv(HERE / "files" / case.file, dtype=str)
        mask = (raw["ResultName"] == ch["default_attempt"]).to_numpy()
        assert (df["attempted"].to_numpy()[mask] == 1).all()
        assert (df["contacted"].to_numpy()[mask] == 0).all()
        assert (df["result"].to_numpy()[mask] == "unknown").all()
    if "same_as" in ch:
        other = next(c for c in corpus.CASES if c.name == ch["same_as"])
        pd.testing.assert_frame_equal(
            df.reset_index(drop=True), _read(other).reset_index(drop=True), check_like=True
        )


def test_layout_detection_on_drifted_files():
    """format="auto" finds the stated layout of every readable corpus file, drift or not."""
    from fieldexp.io.detect import detect_layout

    checked = 0
    for case in corpus.CASES:
        fmt = case.kwargs.get("format", "csv")
        path = HERE / "files" / case.file
        if fmt == "auto" or path.stat().st_size == 0:
            continue
        d = detect_layout(path, table=case.reader)
        assert (d.table, d.format) == (case.reader, fmt), (case.name, d.reason)
        checked += 1
    assert checked >= 30
