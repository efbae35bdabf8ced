"""DiD and coverage sections of an ``[engine]`` spec under spec variants vs the CSV path.

The demo's tables in a DuckDB file; each variant of ``[did]``, ``[privacy]`` or
``[analysis] election`` is applied to both runs (CSV and engine) and the sections compared
(numbers at rtol 1e-9, text exactly). What the engine cannot compute says so: ``estimator =
"cs"`` and ``se_type = "CR2"``.
"""

from __future__ import annotations

import warnings
from dataclasses import replace

import pytest

pytest.importorskip("duckdb")

from fieldexp.report import prepare_analysis
from fieldexp.report.inputs import read_inputs
from fieldexp.report.sections import coverage, did
from fieldexp.report.sections.context import ReportContext
from fieldexp.spec.load import load_spec
from tests.engine.test_connect import (
    TABLES,
    assert_cells_close,
    csv_spec_text,
    engine_spec_text,
    write_duckdb,
)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[object, object]:
    tmp = tmp_path_factory.mktemp("engine_variants")
    csv_path = tmp / "csv.toml"
    csv_path.write_text(csv_spec_text(), "utf-8")
    csv_spec = load_spec(csv_path)
    inputs = read_inputs(csv_spec)
    db = tmp / "demo.duckdb"
    write_duckdb(db, {t: getattr(inputs, t) for t in TABLES})
    eng_path = tmp / "engine.toml"
    eng_path.write_text(engine_spec_text(db), "utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return prepare_analysis(csv_spec), prepare_analysis(load_spec(eng_path))


def section(run: object, module: object, **changes: object) -> object:
    spec = run.spec  # type: ignore[attr-defined]
    new = spec
    if "did" in changes:
        new = replace(new, did=replace(spec.did, **changes["did"]))
    if "privacy" in changes:
        new = replace(new, privacy=replace(spec.privacy, **changes["privacy"]))
    if "analysis" in changes:
        new = replace(new, analysis=replace(spec.analysis, **changes["analysis"]))
    ctx = ReportContext(replace(run, spec=new), None)  # type: ignore[arg-type, type-var]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return module.build(ctx)  # type: ignore[attr-defined]


def assert_same_section(a: object, b: object) -> None:
    assert (a.key, a.title, a.available, a.reason) == (b.key, b.title, b.available, b.reason)
    assert a.paragraphs == b.paragraphs
    assert [t.key for t in a.tables] == [t.key for t in b.tables]
    for ta, tb in zip(a.tables, b.tables, strict=True):
        assert (ta.columns, ta.note) == (tb.columns, tb.note)
        assert len(ta.rows) == len(tb.rows)
        for ra, rb in zip(ta.rows, tb.rows, strict=True):
            assert_cells_close(ra, rb, ta.key)
        assert ta.formatted() == tb.formatted()


VARIANTS = {
    "sun_abraham": (did, {"did": {"estimator": "sun_abraham"}}),
    "contacted, window, CR0": (
        did,
        {"did": {"exposure": "contacted", "leads": 2, "lags": 0, "se_type": "CR0"}},
    ),
    "voter clusters": (did, {"did": {"clusters": "voter_id"}}),
    "election by date": (did, {"analysis": {"election": "2022-11-08"}}),
    "election missing": (did, {"analysis": {"election": "2030_general"}}),
    "numbered canvassers, k=400": (coverage, {"privacy": {"salt": None, "small_cell": 400}}),
    "k=1": (coverage, {"privacy": {"small_cell": 1}}),
}


@pytest.mark.parametrize("name", list(VARIANTS))
def test_engine_sections_equal_the_csv_path(runs, name) -> None:
    module, changes = VARIANTS[name]
    csv_run, eng_run = runs
    a = section(csv_run, module, **changes)
    b = section(eng_run, module, **changes)
    assert_same_section(a, b)
    if name == "election missing":
        assert not a.available
    elif name == "numbered canvassers, k=400":
        assert any("<400" in str(r) for t in a.tables for r in t.rows)
    else:
        assert a.available and a.tables


@pytest.mark.parametrize(
    ("changes", "why"),
    [
        ({"estimator": "cs", "seed": 1}, "multiplier bootstrap"),
        ({"se_type": "CR2"}, "leverage"),
    ],
)
def test_engine_did_says_what_it_cannot_compute(runs, changes, why) -> None:
    s = section(runs[1], did, did=changes)
    assert not s.available and "[engine]" in s.reason and why in s.reason


def test_engine_did_refuses_as_the_csv_path(runs) -> None:
    """Nobody exposed up to 2020 (the campaign is in 2022): the same error on both paths."""
    from fieldexp.errors import DataError

    msgs = []
    for run in runs:
        with pytest.raises(DataError) as exc:
            section(run, did, analysis={"election": "2020_general"})
        msgs.append(str(exc.value))
    assert msgs[0] == msgs[1] and "reference event time -1" in msgs[0]
