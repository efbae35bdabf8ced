"""The analysis table from CSV files: DuckDB's reader streamed into compact Arrow batches.

Every case is run with tiny batches (``CSV_BATCH_ROWS`` = 3) so rows cross many batches, text
columns are dictionary-encoded batch by batch and ``voted`` is narrowed in some batches only.
The CSV build must equal the DataFrame build: same table, same reconciliation (rows named by
their position in the file), whatever the row order.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from fieldexp.analysis import build_analysis_table
from fieldexp.analysis.stages import context
from fieldexp.errors import DataError, FileFormatError

ELECTION = "general_2020_11_03"


@pytest.fixture(autouse=True)
def tiny_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(context, "CSV_BATCH_ROWS", 3)


def _inputs() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    voters = pd.DataFrame(
        {
            "voter_id": ["V1", "V2", "V3", "V4", "V5", "V6", "V2", "V7", "V8", "V10"],
            "household_id": ["H1", "H1", "H2", "H2", "H3", "H4", "H1", "H5", "H6", "H6"],
            "precinct_id": ["P1", "P1", "P1", "P2", "P2", "P2", "P1", "P2", "P2", "P2"],
            "registration_status": ["active"] * 4 + ["removed"] + ["active"] * 5,
            "birth year": [1950, 1960, 1970, 1980, 1990, 2000, 1960, 1975, 1981, 1999],
        }
    )
    assignment = pd.DataFrame(
        {
            "voter_id": ["V1", "V2", "V3", "V4", "V5", "V7", "V9", "V1", "V8", "V10"],
            "arm": [1, 1, 0, 0, 1, 0, 1, 1, 0, 1],
            "probability": 0.5,
        }
    )
    contacts = pd.DataFrame(
        {
            "unit_id": ["V1", "V1", "VX", "V6", "V2", "V3", "H1", "H9", "V10", "V5"],
            "unit_level": ["voter"] * 6 + ["household"] * 2 + ["voter"] * 2,
            "timestamp": [
                "2020-10-01 10:00:00",
                "2020-10-01 10:00:00",
                "2020-10-01 11:00:00",
                "2020-10-01 12:00:00",
                "2020-11-05 09:00:00",
                "2020-10-02 09:00:00",
                "2020-10-03 09:00:00",
                "2020-10-03 09:00:00",
                "2020-10-03 10:00:00",
                "2020-10-04 10:00:00",
            ],
            "attempted": 1,
            "contacted": [1, 1, 1, 1, 1, 1, 0, 0, 1, 0],
        }
    )
    rows = []
    for v in ["V1", "V2", "V3", "V4", "V5", "V6", "V7", "V8", "V10", "V11"]:
        for e, d in (
            ("general_2016_11_08", "2016-11-08"),
            ("general_2018_11_06", "2018-11-06"),
            (ELECTION, "2020-11-03"),
        ):
            rows.append((v, e, d, "general", int(hash((v, e)) % 2 == 0 or v == "V1")))
    rows.append(("V2", ELECTION, "2020-11-03", "general", 1))  # a repeated voter-election pair
    rows.append(("V3", "general_2022_11_08", "2022-11-08", "general", 1))  # after the target
    history = pd.DataFrame(
        rows, columns=["voter_id", "election_id", "election_date", "election_type", "voted"]
    )
    history["method"] = np.where(history["voted"] == 1, "in_person", None)
    return voters, assignment, contacts, history


def _write(tmp_path: Path, frames: tuple[pd.DataFrame, ...]) -> list[Path]:
    paths = []
    for name, df in zip(("voters", "assignment", "contacts", "history"), frames, strict=True):
        p = tmp_path / f"{name}.csv"
        df.to_csv(p, index=False)
        paths.append(p)
    return paths


def _frames_as_read(frames: tuple[pd.DataFrame, ...]) -> tuple[pd.DataFrame, ...]:
    voters, assignment, contacts, history = frames
    contacts = contacts.assign(timestamp=pd.to_datetime(contacts["timestamp"]))
    history = history.assign(election_date=pd.to_datetime(history["election_date"]))
    return voters, assignment, contacts, history


def _same(a: tuple[pd.DataFrame, object], b: tuple[pd.DataFrame, object]) -> None:
    cols = ["voter_id", "arm", "assigned", "attempted", "contacted", "n_attempts", "voted"]
    cols += ["outcome_status", "past_votes", "propensity_band", "birth year"]
    pd.testing.assert_frame_equal(
        a[0][cols].astype(str).reset_index(drop=True), b[0][cols].astype(str).reset_index(drop=True)
    )
    assert a[1].rows_read == b[1].rows_read  # type: ignore[attr-defined]
    assert a[1].entries == b[1].entries  # type: ignore[attr-defined]
    assert a[1].flow == b[1].flow  # type: ignore[attr-defined]


def test_csv_build_equals_the_dataframe_build_across_many_batches(tmp_path: Path) -> None:
    frames = _inputs()
    ref = build_analysis_table(*_frames_as_read(frames), election=ELECTION)
    got = build_analysis_table(*_write(tmp_path, frames), election=ELECTION)
    _same(ref, got)
    reasons = {(e.table, e.reason): e.first_rows for e in got[1].entries}
    # set-aside rows are named by their position in the file (0-based data rows), across
    # batches of 3 rows: the repeated V2 pair is rows 5 and 30 (one of them kept)
    assert reasons[("vote_history", "duplicate voter-election row (a counted ballot kept)")] in (
        (5,),
        (30,),
    )
    assert reasons[("vote_history", "election after the target election")] == (31,)
    assert reasons[("voters", "duplicate voter id (same household; first row kept)")] == (6,)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_shuffled_csv_rows_give_the_same_table_and_name_the_moved_rows(
    tmp_path: Path, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    frames = tuple(f.iloc[rng.permutation(len(f))].reset_index(drop=True) for f in _inputs())
    ref = build_analysis_table(*_frames_as_read(frames), election=ELECTION)
    got = build_analysis_table(*_write(tmp_path, frames), election=ELECTION)
    _same(ref, got)
    history = frames[3]
    later = int(np.flatnonzero(history["election_id"] == "general_2022_11_08")[0])
    entry = {e.reason: e.first_rows for e in got[1].entries if e.table == "vote_history"}
    assert entry["election after the target election"] == (later,)


def test_odd_headers_and_quoted_values_pass_through(tmp_path: Path) -> None:
    voters, assignment, contacts, history = _inputs()
    voters = voters.rename(columns={"birth year": 'birth, "year"'})
    voters["note"] = ['a, "quoted"', "b", "", "c\nd", "e", "f", "b", "g", "h", "i"]
    paths = _write(tmp_path, (voters, assignment, contacts, history))
    table, rec = build_analysis_table(*paths, election=ELECTION)
    assert 'birth, "year"' in table.columns
    got = dict(zip(table["voter_id"], table["note"], strict=True))
    assert got["V1"] == 'a, "quoted"' and got["V4"] == "c\nd" and pd.isna(got["V3"])
    assert rec.rows_read[0] == ("voters", 10)


def test_voted_out_of_int8_range_in_one_batch_only_is_kept_exact(tmp_path: Path) -> None:
    frames = list(_inputs())
    history = frames[3].copy()
    history["voted"] = history["voted"].astype("int64")
    frames[3] = history
    ref = build_analysis_table(*_frames_as_read(tuple(frames)), election=ELECTION)
    got = build_analysis_table(*_write(tmp_path, tuple(frames)), election=ELECTION)
    _same(ref, got)
    # a batch with a value beyond int8 stays wide (and the build refuses it, as before)
    history.loc[7, "voted"] = 300
    frames[3] = history
    with pytest.raises(DataError, match=r"column 'voted' must hold 0/1.*300"):
        build_analysis_table(*_write(tmp_path, tuple(frames)), election=ELECTION)


def test_a_bad_line_is_refused_with_its_line_number(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(context, "CSV_BATCH_ROWS", 1000)
    voters, assignment, contacts, history = _inputs()
    extra = pd.DataFrame(
        {
            "voter_id": [f"Z{i}" for i in range(40_000)],
            "election_id": ELECTION,
            "election_date": "2020-11-03",
            "election_type": "general",
            "voted": 1,
            "method": "in_person",
        }
    )
    paths = _write(tmp_path, (voters, assignment, contacts, pd.concat([history, extra])))
    lines = paths[3].read_text().splitlines()
    lines[30_000] += ",extra,fields"  # line 30,001 of the file (the header is line 1)
    paths[3].write_text("\n".join(lines) + "\n")
    with pytest.raises(FileFormatError, match=r"vote_history: 'history.csv' cannot be read as CSV"):
        build_analysis_table(*paths, election=ELECTION)
    with pytest.raises(FileFormatError, match=r"Line: 30001"):
        build_analysis_table(*paths, election=ELECTION)


def test_an_empty_csv_input_is_read_with_its_header(tmp_path: Path) -> None:
    frames = list(_inputs())
    frames[2] = frames[2].iloc[:0]
    paths = _write(tmp_path, tuple(frames))
    table, rec = build_analysis_table(*paths, election=ELECTION)
    assert int(table["attempted"].sum()) == 0
    assert ("contacts", 0) in rec.rows_read


def test_csv_rows_held_in_arrow_come_out_of_duckdbs_memory_limit(tmp_path: Path) -> None:
    """CSV inputs live in Arrow outside DuckDB: its limit shrinks by their bytes, then returns."""
    import duckdb

    path = tmp_path / "v.csv"
    n = 400_000
    pd.DataFrame({"voter_id": [f"voter-{i}" for i in range(n)], "x": np.arange(n)}).to_csv(
        path, index=False
    )
    con = duckdb.connect()
    con.execute("SET memory_limit = '100MiB'")

    def limit() -> int:
        got = context._setting_bytes(
            con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0]
        )
        assert got is not None
        return got

    inputs = context.Inputs(con)
    inputs.add("voters", path)
    held = inputs._held["voters"].nbytes
    assert held > 4 * 2**20  # large enough to show against DuckDB's 0.1 MiB rounding
    assert abs(limit() - (100 * 2**20 - held)) <= 2**20
    inputs.release("voters")
    assert abs(limit() - 100 * 2**20) <= 2**20
    assert context._setting_bytes("2.7 GiB") == int(2.7 * 2**30)
    assert context._setting_bytes("500.0 MiB") == 500 * 2**20
    assert context._setting_bytes("unlimited") is None
