"""Reconciliation result object: views, checks."""

from __future__ import annotations

import pytest

from fieldexp.analysis import FlowRow, Reconciliation, ReconciliationEntry
from fieldexp.errors import ReconciliationError


def make(extra: int = 0) -> Reconciliation:
    return Reconciliation(
        rows_read=(("contacts", 10 + extra),),
        entries=(
            ReconciliationEntry("contacts", "used", "used", 7),
            ReconciliationEntry("contacts", "set aside", "after election day", 3, (4, 8, 9)),
            ReconciliationEntry("analysis", "outcome missing", "removed", 2, (), "1"),
        ),
        flow=(FlowRow("0", 5, 0, 0, 5), FlowRow("1", 5, 4, 2, 3)),
        election="general_2020_11_03",
    )


def test_views():
    r = make()
    r.check()
    assert r.read("contacts") == 10 and r.used("contacts") == 7 and r.set_aside("contacts") == 3
    assert r.set_aside("contacts", "after election day") == 3
    f = r.to_frame()
    assert list(f.columns) == ["table", "status", "reason", "arm", "rows", "first_rows"]
    assert f.loc[1, "first_rows"] == "4, 8, 9"
    text = str(r)
    assert "contacts: 10 rows read, 7 used, 3 set aside" in text
    assert "rows 4, 8, 9" in text
    assert "arm 1: 2 outcome missing (removed)" in text
    assert "<table" in r._repr_html_()
    assert r.flow_frame()["contacted"].tolist() == [0, 2]
    assert "rows_read" in repr(r)


def test_check_fails_when_rows_are_lost():
    with pytest.raises(ReconciliationError, match="11 rows read but 10 accounted for"):
        make(extra=1).check()


def test_frozen():
    r = make()
    with pytest.raises(AttributeError):
        r.election = "x"  # type: ignore[misc]
