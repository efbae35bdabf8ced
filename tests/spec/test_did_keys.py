"""The [did] table (spec/did.py): new vocabulary, deprecated aliases, the station panel keys."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import pytest

from fieldexp.errors import FieldexpWarning, SpecificationError
from fieldexp.spec import parse_spec

REPO = Path(__file__).resolve().parents[2]

VOTERS = """
[data.voters]
path = "v.csv"
[data.vote_history]
path = "h.csv"
[data.assignment]
path = "a.csv"
[analysis]
election = "2022_general"
[outcomes.turnout]
[did]
"""

STATIONS = """
[data.precinct_results]
path = "leg2024.csv"
[data.precinct_assignment]
path = "stations.csv"
[analysis]
election = "leg2024"
[outcomes.turnout]
column = "turnout"
level = "precinct"
estimands = ["ITT"]
[did]
results = ["leg2017.csv", "leg2022.csv"]
dates = { leg2017 = "2017-06-11", leg2022 = 2022-06-12, leg2024 = "2024-06-30" }
"""


@pytest.fixture()
def folder(tmp_path: Path) -> Path:
    for name in ("v.csv", "h.csv", "a.csv", "leg2017.csv", "leg2022.csv", "leg2024.csv"):
        (tmp_path / name).write_text("x\n1\n", encoding="utf-8")
    (tmp_path / "stations.csv").write_text("precinct_id,assigned\n01004_0001,1\n")
    (tmp_path / "cw.csv").write_text("precinct_id,station\n01004_0002,01004_0001\n")
    return tmp_path


def parse(folder: Path, text: str):
    return parse_spec(text, path=folder / "spec.toml")


def test_comparison_and_cs_are_the_spellings(folder: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        spec = parse(
            folder, VOTERS + 'estimator = "cs"\nseed = 3\ncomparison = "not_yet_treated"\n'
        )
    assert spec.did.estimator == "cs" and spec.did.comparison == "not_yet_treated"
    assert not spec.did.stations


@pytest.mark.parametrize(
    ("keys", "message", "field", "value"),
    [
        (
            'control = "not_yet_treated"',
            "control is deprecated; write comparison",
            "comparison",
            "not_yet_treated",
        ),
        (
            'estimator = "callaway_santanna"\nseed = 2',
            "estimator = 'callaway_santanna' is deprecated; write estimator = 'cs'",
            "estimator",
            "cs",
        ),
    ],
)
def test_old_spellings_still_work_with_a_warning(folder, keys, message, field, value) -> None:
    with pytest.warns(FieldexpWarning, match=re.escape(message)):
        spec = parse(folder, VOTERS + keys + "\n")
    assert getattr(spec.did, field) == value


def test_both_spellings_or_unknown_values_are_refused(folder: Path) -> None:
    with pytest.raises(SpecificationError, match=r"\[did\] control: give comparison only"):
        parse(folder, VOTERS + 'control = "never_treated"\ncomparison = "never_treated"\n')
    with pytest.raises(SpecificationError, match=r"Did you mean 'not_yet_treated'"):
        parse(folder, VOTERS + 'comparison = "not_yet_treatd"\n')
    with pytest.raises(SpecificationError, match=r"\[did\] seed: estimator = 'cs'"):
        parse(folder, VOTERS + 'estimator = "cs"\n')
    with pytest.raises(SpecificationError, match=r"unknown key 'comparision'"):
        parse(folder, VOTERS + 'comparision = "never_treated"\n')


def test_station_did_needs_no_vote_history(folder: Path) -> None:
    spec = parse(folder, STATIONS)
    d = spec.did
    assert d.stations and [p.name for p in d.results] == [
        "leg2017.csv",
        "leg2022.csv",
        "leg2024.csv",  # the [data.precinct_results] file joins the panel
    ]
    assert dict(d.dates) == {
        "leg2017": "2017-06-11",
        "leg2022": "2022-06-12",
        "leg2024": "2024-06-30",
    }
    spec = parse(
        folder,
        STATIONS + 'crosswalk = "cw.csv"\nbalanced = true\nunassigned = "comparison"\n'
        'shares = "nuance"\noutcome = "share_RN"\n',
    )
    assert spec.did.crosswalk == folder / "cw.csv" and spec.did.balanced
    assert spec.did.shares == "nuance" and spec.did.outcome == "share_RN"


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            ('results = ["leg2017.csv", "leg2022.csv"]', 'results = ["leg2024.csv"]'),
            r"\[did\] results: a station DiD compares elections",
        ),
        (
            ('[data.precinct_assignment]\npath = "stations.csv"\n', ""),
            r"\[did\]: the station panel needs who was canvassed",
        ),
        (
            ('results = ["leg2017.csv", "leg2022.csv"]', 'results = ["leg2017.csv", "nope.csv"]'),
            r"\[did\] results: file 'nope.csv' not found",
        ),
        (("[did]\n", '[did]\noutcome = "share_RN"\n'), r"\[did\] outcome: must be 'turnout' or"),
        (("[did]\n", '[did]\nshares = "candidate"\n'), r"\[did\] shares: must be one of"),
        (
            ("[did]\n", '[did]\ndates = { leg2017 = "11/06/2017" }\n'),
            r"expected dates as YYYY-MM-DD",
        ),
    ],
)
def test_station_did_keys_are_checked(folder, edit, message) -> None:
    text = STATIONS
    if edit[0].startswith("[did]\n") and "dates" in edit[1]:
        text = text.replace(
            'dates = { leg2017 = "2017-06-11", leg2022 = 2022-06-12, leg2024 = "2024-06-30" }\n',
            "",
        )
    with pytest.raises(SpecificationError, match=message):
        parse(folder, text.replace(*edit))


def test_voter_did_without_history_or_results_says_both_ways(folder: Path) -> None:
    text = STATIONS.split("[did]")[0] + "[did]\n"
    with pytest.raises(SpecificationError, match=r"vote history .* or, for polling stations"):
        parse(folder, text)
    with pytest.raises(SpecificationError, match=r"\[did\] crosswalk: applies to the station"):
        parse(folder, text + 'crosswalk = "cw.csv"\n')


def test_load_calls_the_did_parser_and_docs_name_every_key() -> None:
    load = (REPO / "fieldexp" / "spec" / "load.py").read_text("utf-8")
    assert "parse_did(" in load and 'did_sec.get("' not in load
    source = (REPO / "fieldexp" / "spec" / "did.py").read_text("utf-8")
    keys = set(re.findall(r'\.(?:get|choice|strings|section|has)\(\s*"([a-z_]+)"', source))
    assert {"comparison", "control", "results", "crosswalk", "rollout", "dates"} <= keys
    docs = (REPO / "docs" / "spec.md").read_text("utf-8")
    part = docs[docs.index("## `[did]`") : docs.index("## `[costs]`")]
    assert not sorted(k for k in keys if f"`{k}`" not in part)
    for example in sorted((REPO / "analyses").glob("*.toml")):
        text = example.read_text("utf-8")
        assert "callaway_santanna" not in text, example.name
        did = text.split("[did]")[1].split("\n[")[0] if "[did]" in text else ""
        assert not re.search(r"^control\s*=", did, re.M), example.name
