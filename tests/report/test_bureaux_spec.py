"""analyses/bureaux_2026*.toml: the polling-station path end to end, in French, on 2017-2024 layouts."""

from __future__ import annotations

import filecmp
import importlib.util
import json
import re
import warnings
from pathlib import Path

import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[2]
ANALYSES = REPO / "analyses"
DATA = ANALYSES / "bureaux"


def _make_data():
    spec = importlib.util.spec_from_file_location("bureaux_make_data", DATA / "make_data.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_shipped_data_is_what_make_data_writes(tmp_path: Path) -> None:
    written = _make_data().make(tmp_path)
    names = sorted(p.name for p in written)
    assert names == sorted(p.name for p in DATA.glob("*.csv"))
    for name in names:
        assert filecmp.cmp(tmp_path / name, DATA / name, shallow=False), name


def test_results_files_use_three_interior_layouts() -> None:
    headers = {
        p.stem: p.read_text(encoding="utf-8").splitlines()[0].split(";")[4]
        for p in DATA.glob("*_*_*_*.csv")
    }
    assert headers["presidentielle_2017_04_23"] == "Code du b.vote"
    assert headers["legislatives_2022_06_12"] == "Code B.Vote"
    assert headers["europeennes_2024_06_09"] == "Code BV"
    assert headers["municipales_2026_03_15"] == "Code BV"


def test_fieldexp_assign_draws_the_shipped_assignment(tmp_path: Path) -> None:
    from fieldexp.cli import main

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert (
            main(["assign", str(ANALYSES / "bureaux_2026_tirage.toml"), "--out", str(tmp_path)])
            == 0
        )
    drawn = pd.read_csv(tmp_path / "assignment.csv", dtype=str)
    shipped = pd.read_csv(DATA / "assignment.csv", dtype=str)
    both = drawn.merge(shipped, on="precinct_id", suffixes=("", "_shipped"), validate="one_to_one")
    assert len(both) == len(shipped) == 180
    assert (both["arm"] == both["arm_shipped"]).all()


@pytest.fixture(scope="module")
def bureaux_report(tmp_path_factory: pytest.TempPathFactory):
    from fieldexp.report import run_report

    out = tmp_path_factory.mktemp("bureaux")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report = run_report(ANALYSES / "bureaux_2026.toml", out)
    return report, out


def test_station_report_end_to_end_in_french(bureaux_report) -> None:
    from tests.report.test_language import NBSP, NNBSP, _english_left, _visible

    report, out = bureaux_report
    assert report.language == "fr" and report.headline.unit == "polling station"
    text = " ".join(report.headline.sentences)
    assert "bureaux de vote" in text and "inscrits" in text and f"IC à 95{NBSP}%" in text
    assert re.search(rf"\d{NNBSP}\d{{3}} inscrits", text)
    keys = {s.key: s for s in report.sections}
    assert {"headline", "flow", "reconciliation", "effects", "ri", "did", "provenance"} <= set(keys)
    assert keys["did"].available
    outcomes = {(e.outcome, e.estimand) for e in report.estimates}
    assert outcomes == {("participation", "ITT"), ("participation", "CACE"), ("union", "ITT")}
    md = (out / "report.md").read_text(encoding="utf-8")
    assert not _english_left(md.split("## Provenance")[0]), _english_left(md)
    html = (out / "report.html").read_text(encoding="utf-8")
    assert not _english_left(_visible(html).split("Provenance")[0])
    doc = json.loads((out / "results.json").read_text(encoding="utf-8"))
    union = next(e for e in doc["estimates"] if e["outcome"] == "union")
    assert union["covariates"] == ["past_turnout"]


def test_station_effects_are_near_the_invented_truth(bureaux_report) -> None:
    """make_data.py: +2 points of turnout in canvassed bureaux (inside the 95% interval)."""
    report, _ = bureaux_report
    itt = next(e for e in report.estimates if e.outcome == "participation" and e.estimand == "ITT")
    assert itt.ci_low < 0.02 < itt.ci_high
    assert report.did is not None and report.did.overall is not None
    assert report.did.overall.ci_low < 0.02 < report.did.overall.ci_high
