"""Shared fixtures for the report tests: the demo report is built once per session."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from report_builders import SmallRun, small_context, write_small_experiment

REPO = Path(__file__).resolve().parents[2]
DEMO_SPEC = REPO / "analyses" / "demo.toml"


@dataclass(frozen=True)
class DemoReport:
    spec: object
    run: object
    report: object
    out: Path


@pytest.fixture(scope="session")
def demo_report(tmp_path_factory: pytest.TempPathFactory) -> DemoReport:
    from fieldexp.report import build_report, identifier_tokens, prepare_analysis, write_report
    from fieldexp.spec import load_spec

    spec = load_spec(DEMO_SPEC)
    run = prepare_analysis(spec)
    report = build_report(spec, run=run)
    out = tmp_path_factory.mktemp("demo-report")
    write_report(report, out, forbidden=identifier_tokens(run))
    return DemoReport(spec, run, report, out)


# --------------------------------------------------------------------------- small runs
@pytest.fixture(scope="session")
def small_run(tmp_path_factory: pytest.TempPathFactory) -> SmallRun:
    return small_context(write_small_experiment(tmp_path_factory.mktemp("small")))


@pytest.fixture(scope="session")
def weak_run(tmp_path_factory: pytest.TempPathFactory) -> SmallRun:
    return small_context(write_small_experiment(tmp_path_factory.mktemp("weak"), weak=True))
