"""Reading a spec's sources two at a time is reading them one after the other.

``fieldexp.report.inputs.read_in_order`` runs the readers in worker threads and raises
their warnings again in spec order: the frames, the first error, and every warning (class,
message, the file and line it is attributed to, and what the caller's filters do with it)
must be those of the sequential read.
"""

from __future__ import annotations

import threading
import warnings
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from fieldexp.errors import FileFormatError, RowsDroppedWarning
from fieldexp.io.vocab import UnknownCodeWarning
from fieldexp.report import inputs as report_inputs
from fieldexp.spec.model import DataSource

HOSTILE = Path(__file__).resolve().parent / "hostile_us" / "files"
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "io"


def _sources() -> list[DataSource]:
    return [
        DataSource("voters", FIXTURES / "voters.csv"),
        DataSource("vote_history", HOSTILE / "ncvhis_unknown_method.txt", "ncvhis"),
        DataSource("contacts", HOSTILE / "van_unknown_result_name.csv", "van"),
        DataSource("assignment", FIXTURES / "assignment.csv"),
        DataSource("precinct_results", FIXTURES / "fr_results_2022.csv", "fr-interieur"),
    ]


def _run(sources: list[DataSource], workers: int, setup: Any = None) -> tuple[Any, list[Any]]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(report_inputs, "READ_WORKERS", workers)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            if setup is not None:
                setup()
            try:
                out: Any = report_inputs.read_in_order(sources)
            except Exception as exc:
                out = (type(exc).__name__, str(exc))
    seen = [(w.category.__name__, str(w.message), w.filename, w.lineno) for w in caught]
    return out, seen


def test_frames_and_warnings_are_those_of_the_sequential_read():
    sources = _sources()
    seq, seq_warn = _run(sources, 1)
    par, par_warn = _run(sources, 2)
    assert isinstance(seq, list) and len(seq) == len(sources)
    for a, b in zip(seq, par, strict=True):
        pd.testing.assert_frame_equal(a, b, check_exact=True)
        assert a.attrs == b.attrs
    assert par_warn == seq_warn
    kinds = {w[0] for w in seq_warn}
    assert {"UnknownCodeWarning"} <= kinds  # the history and the contacts both warn
    assert sum(w[0] == "UnknownCodeWarning" for w in seq_warn) >= 2
    assert all(w[2].endswith(".py") and "concurrent" not in w[2] for w in par_warn)


def test_the_first_failing_source_in_order_is_reported(tmp_path):
    bad = tmp_path / "voters.csv"
    bad.write_text("voter_id,household_id\nA,1\nB\nC,3\n")  # a truncated line
    sources = _sources()
    sources[0] = DataSource("voters", bad)
    sources[2] = DataSource("contacts", HOSTILE / "van_truncated_line.csv", "van")
    seq, seq_warn = _run(sources, 1)
    par, par_warn = _run(sources, 2)
    assert seq[0] == "FileFormatError" and "voters.csv" in seq[1]
    assert par == seq
    assert par_warn == seq_warn


def test_error_filters_act_in_spec_order():
    sources = _sources()

    def strict() -> None:
        warnings.simplefilter("error", UnknownCodeWarning)

    seq, _ = _run(sources, 1, strict)
    par, _ = _run(sources, 2, strict)
    assert seq[0] == "UnknownCodeWarning" and "ncvhis_unknown_method" in seq[1]
    assert par == seq


def test_default_filters_show_every_warning():
    sources = _sources()[:3] * 2  # the same files twice

    def default() -> None:
        warnings.simplefilter("default", UnknownCodeWarning)

    _, seq = _run(sources, 1, default)
    _, par = _run(sources, 2, default)
    assert {w[:2] for w in par} == {w[:2] for w in seq}
    assert {w[2:] for w in par} == {w[2:] for w in seq}


def test_a_parser_warning_in_a_worker_makes_the_read_sequential(monkeypatch):
    # the CSV reader turns pandas' ParserWarning into an error with a warning filter, which
    # another thread's catch_warnings may swap meanwhile: a worker that met one (or was
    # stopped by one) has the sources read again one at a time
    sources = _sources()
    real_read = report_inputs.read_source

    def racy(source: DataSource) -> pd.DataFrame:
        if source.table == "contacts" and threading.current_thread() is not threading.main_thread():
            warnings.warn("header and data differ", pd.errors.ParserWarning, stacklevel=2)
        return real_read(source)

    calls: list[int | None] = []
    real = report_inputs.read_in_order

    def spy(*a: Any, **k: Any) -> Any:
        calls.append(k.get("workers"))
        return real(*a, **k)

    monkeypatch.setattr(report_inputs, "read_source", racy)
    monkeypatch.setattr(report_inputs, "read_in_order", spy)
    seq, seq_warn = _run(sources, 1)
    par, par_warn = _run(sources, 2)
    assert calls == [None, None, 1]  # the parallel read started over, one source at a time
    assert not any(w[0] == "ParserWarning" for w in par_warn)
    for a, b in zip(seq, par, strict=True):
        pd.testing.assert_frame_equal(a, b, check_exact=True)
    assert par_warn == seq_warn


def test_one_source_is_read_in_this_thread():
    out, _ = _run(_sources()[:1], 2)
    assert len(out) == 1 and len(out[0]) > 0
    assert issubclass(RowsDroppedWarning, Warning) and issubclass(FileFormatError, Exception)


def test_a_named_pipe_is_refused_not_hashed(tmp_path):
    import os

    from fieldexp.report.inputs import _digest

    fifo = tmp_path / "voters.csv"
    os.mkfifo(fifo)
    with pytest.raises(FileFormatError, match=r"voters\.csv"):
        _digest(fifo)  # returns at once: the pipe is never opened
    sha, size = _digest(FIXTURES / "voters.csv")
    assert len(sha) == 64 and size == (FIXTURES / "voters.csv").stat().st_size
