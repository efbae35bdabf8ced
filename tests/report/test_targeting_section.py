"""Report section "Where to knock next": shown with [targeting], says only what the intervals support."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

from fieldexp.report import build_report, prepare_analysis
from fieldexp.report.sections.targeting import plan_sentence, targeting_run, verdict
from fieldexp.spec import load_spec

REPO = Path(__file__).resolve().parents[2]
SMALL = REPO / "fixtures" / "experiment_small.csv"
RESULTS = REPO / "fixtures" / "io" / "fr_results_2022.csv"


def _rr(name: str, est: float, lo: float, hi: float, versus: object = None) -> SimpleNamespace:
    res = SimpleNamespace(estimate=est, ci_low=lo, ci_high=hi)
    return SimpleNamespace(name=name, label=name, autoc=res, qini=res, versus_first=versus)


def _run(*rates: SimpleNamespace, plan: object = None) -> SimpleNamespace:
    return SimpleNamespace(rates=rates, plan=plan)


def test_interval_including_zero_means_no_ranking_beats_random() -> None:
    v = _rr("b", 0.001, -0.004, 0.006).autoc
    text = " ".join(
        verdict(_run(_rr("a", 0.01, -0.002, 0.02), _rr("b", -0.01, -0.03, 0.01, v)), 95)
    )  # type: ignore[arg-type]
    assert "No ranking beats random here" in text
    assert "beats a random list" not in text
    assert "do not separate them" in text


def test_interval_above_zero_is_named_and_only_that_one() -> None:
    text = " ".join(
        verdict(_run(_rr("uplift", 0.03, 0.01, 0.05), _rr("random", 0.0, -0.01, 0.01)), 95)
    )  # type: ignore[arg-type]
    assert "The uplift ranking beats a random list" in text
    assert "random ranking beats" not in text
    assert "No ranking beats random" not in text


def test_interval_below_zero_says_worse_than_random() -> None:
    text = " ".join(verdict(_run(_rr("odd", -0.03, -0.05, -0.01)), 95))  # type: ignore[arg-type]
    assert "does worse than a random list" in text
    assert "No ranking beats random here" in text


def test_paired_difference_clear_of_zero_names_the_better_ranking() -> None:
    v = _rr("x", -0.02, -0.03, -0.01).autoc
    text = " ".join(verdict(_run(_rr("a", 0.0, -0.01, 0.01), _rr("b", 0.02, 0.01, 0.03, v)), 95))  # type: ignore[arg-type]
    assert "the b ranking is better" in text


def test_plan_interval_including_zero_is_said() -> None:
    plan = SimpleNamespace(
        doors=100, allocation=pd.DataFrame({"x": [1]}), net_votes=1.0, ci_low=-2.0, ci_high=4.0
    )
    assert "does not show that this plan gains votes" in plan_sentence(_run(plan=plan), 95)  # type: ignore[arg-type, operator]


@pytest.fixture(scope="module")
def spec_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("targeting_report")
    path = folder / "spec.toml"
    path.write_text(
        f"""
version = 1
[data.analysis_table]
path = "{SMALL}"
[analysis]
election = "2022_general"
blocks = "precinct_id"
clusters = "household_id"
[outcomes.turnout]
column = "voted"
[targeting]
seed = 2
folds = 2
reps = 30
results = "{RESULTS}"
supporters = ["gauche"]
doors = 1500
"""
    )
    return path


def test_section_reuses_the_result_objects(spec_path: Path) -> None:
    spec = load_spec(spec_path)
    report = build_report(spec)
    section = next(s for s in report.sections if s.key == "targeting")
    assert section.title == "Where to knock next"
    res = targeting_run(prepare_analysis(spec))
    table = next(t for t in section.tables if t.key == "targeting_rate")
    assert [row[0] for row in table.rows] == [r.label for r in res.rates]
    for row, r in zip(table.rows, res.rates, strict=True):
        assert row[1:4] == (r.autoc.estimate, r.autoc.ci_low, r.autoc.ci_high)
        assert row[4:7] == (r.qini.estimate, r.qini.ci_low, r.qini.ci_high)
    prec = next(t for t in section.tables if t.key == "targeting_precincts")
    assert [row[1] for row in prec.rows] == list(res.priorities.table["precinct_id"].head(10))  # type: ignore[union-attr]
    assert any(p.startswith("Plan: 1,500 doors") for p in section.paragraphs)
    assert [f.key for f in section.figures] == ["targeting_toc"]
    for sentence in verdict(res, 95):
        assert sentence in section.paragraphs


def test_no_section_without_targeting() -> None:
    spec = load_spec(REPO / "analyses" / "demo_table.toml")
    from fieldexp.report.sections import targeting
    from fieldexp.report.sections.context import ReportContext

    ctx = ReportContext(prepare_analysis(spec), effects=None)  # type: ignore[arg-type]
    assert targeting.build(ctx) is None
