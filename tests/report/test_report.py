"""The demo report: contents, numbers equal to the API, privacy, reproducibility, formats."""

from __future__ import annotations

import csv
import json
import math
import re
import warnings
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

import fieldexp as fx
from fieldexp.errors import DataError
from fieldexp.report import RESULTS_SCHEMA_VERSION, build_report, run_report, write_report
from fieldexp.results import RESULT_COLUMNS
from fieldexp.spec import PrivacySpec

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "fixtures" / "demo"
ESTIMATE_KEYS = {
    "outcome",
    "estimand",
    "estimator",
    "se_type",
    "estimate",
    "std_error",
    "df",
    "p_value",
    "ci_low",
    "ci_high",
    "nobs",
    "nclusters",
}


def test_output_files(demo_report) -> None:
    out = demo_report.out
    for name in (
        "report.html",
        "report.md",
        "results.json",
        "tables/effects.csv",
        "tables/effects.tex",
        "tables/estimates.csv",
        "tables/sample_flow.csv",
        "tables/balance.csv",
        "tables/event_study.csv",
        "tables/randomization_inference.csv",
        "tables/coverage_precinct_id.csv",
        "tables/coverage_canvasser.csv",
    ):
        assert (out / name).is_file(), name


def test_results_json_schema(demo_report) -> None:
    doc = json.loads((demo_report.out / "results.json").read_text("utf-8"))
    assert doc["schema"] == "fieldexp.results"
    assert doc["schema_version"] == RESULTS_SCHEMA_VERSION
    assert doc["estimates"], "no estimates"
    for e in doc["estimates"]:
        assert set(e) >= ESTIMATE_KEYS, ESTIMATE_KEYS - set(e)
    kinds = {(e["outcome"], e["estimand"]) for e in doc["estimates"]}
    assert kinds == {("turnout", "ITT"), ("turnout", "CACE")}
    keys = [s["key"] for s in doc["sections"]]
    for key in (
        "headline",
        "flow",
        "reconciliation",
        "balance",
        "effects",
        "heterogeneity",
        "ri",
        "did",
        "coverage",
        "provenance",
    ):
        assert key in keys
    assert all(s["available"] for s in doc["sections"]), [
        (s["key"], s["reason"]) for s in doc["sections"] if not s["available"]
    ]
    prov = doc["provenance"]
    assert len(prov["spec_sha256"]) == 64
    assert {i["file"] for i in prov["inputs"]} == {
        "voters.csv",
        "vote_history.csv",
        "contacts.csv",
        "assignment.csv",
    }
    assert all(len(i["sha256"]) == 64 for i in prov["inputs"])
    assert prov["seeds"] == {"design": 20240504, "randomization_inference": 20241108}
    assert {"fieldexp", "numpy", "pandas", "matplotlib"} <= set(prov["versions"])
    assert prov["generated_at"] is None
    assert "demo-salt-change-me" not in json.dumps(doc)
    assert "pretest" in doc["did"]


def test_estimates_equal_the_api(demo_report) -> None:
    """The report's numbers are fx.itt / fx.cace on the reconciled analysis table."""
    table = demo_report.run.table
    a = demo_report.spec.analysis
    covs = list(a.covariates)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        itt = fx.itt(
            table, "voted", "assigned", blocks=a.blocks, clusters=a.clusters, covariates=covs
        )
        cace = fx.cace(
            table,
            "voted",
            "contacted",
            "assigned",
            blocks=a.blocks,
            clusters=a.clusters,
            covariates=covs,
        )
    got = {e.estimand: e for e in demo_report.report.estimates}
    for name, ref in (("ITT", itt), ("CACE", cace)):
        e = got[name]
        for col in (
            "estimate",
            "std_error",
            "df",
            "p_value",
            "ci_low",
            "ci_high",
            "nobs",
            "nclusters",
        ):
            assert getattr(e, col) == getattr(ref, col), (name, col)
        assert e.se_type == ref.se_type and e.estimator == ref.method
    assert set(RESULT_COLUMNS) >= {"estimate", "std_error", "df", "p_value", "ci_low", "ci_high"}


def test_headline_arithmetic(demo_report) -> None:
    h = demo_report.report.headline
    table = demo_report.run.table
    contacts = int(((table["arm"] == "1") & (table["contacted"] == 1)).sum())
    assert h.contacts == contacts
    assert h.net_votes.estimate == pytest.approx(h.cace.estimate * contacts, rel=1e-12)
    assert h.net_votes.ci_low == pytest.approx(h.cace.ci_low * contacts, rel=1e-12)
    c = demo_report.spec.costs
    attempts = int(table.loc[table["arm"] == "1", "n_attempts"].sum())
    total = c.fixed + c.per_attempt * attempts + c.per_contact * contacts
    assert h.total_cost == pytest.approx(total)
    assert h.cost_per_net_vote.estimate == pytest.approx(total / h.net_votes.estimate)
    assert h.cost_per_net_vote.ci_low == pytest.approx(total / h.net_votes.ci_high)
    assert h.cost_per_net_vote.ci_high == pytest.approx(total / h.net_votes.ci_low)
    text = " ".join(h.sentences)
    assert "per net vote" in text and "percentage points" in text


def test_ri_and_balance_and_subgroups(demo_report) -> None:
    r = demo_report.report
    ri = r.section("ri").tables[0]
    p = ri.rows[0][ri.columns.index("p-value")]
    assert 0 < p < 1
    het = r.section("heterogeneity")
    groups = {row[0] for row in het.tables[0].rows}
    assert groups == {"never", "intermittent", "regular"}
    assert any("Wald" in x for x in het.paragraphs)
    assert any("Omnibus" in x for x in r.section("balance").paragraphs)
    assert any("Pre-trend" in x for x in r.section("did").paragraphs)
    eff = r.section("effects").tables[0]
    adj = [row[eff.columns.index("adjusted p")] for row in eff.rows]
    raw = [row[eff.columns.index("p-value")] for row in eff.rows]
    assert all(q >= p for p, q in zip(raw, adj, strict=True))


def test_html_is_self_contained(demo_report) -> None:
    html = (demo_report.out / "report.html").read_text("utf-8")
    assert "<script" not in html.lower()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html, re.I)
    assert "<link" not in html.lower() and "@import" not in html
    assert html.count("<svg") >= 4
    assert "<dc:date>" not in html
    for t in re.findall(r'href="([^"]+)"', html):
        assert t.startswith("#"), t


def _ids(column: str, *files: str) -> set[str]:
    out: set[str] = set()
    for f in files:
        frame = pd.read_csv(FIXTURES / f, dtype=str)
        if column in frame.columns:
            out.update(frame[column].dropna())
    return out


def test_no_ids_in_any_output(demo_report) -> None:
    voters = _ids("voter_id", "voters.csv", "contacts.csv")
    households = _ids("household_id", "voters.csv", "assignment.csv", "contacts.csv")
    canvassers = _ids("canvasser_id", "contacts.csv")
    assert voters and households and canvassers
    forbidden = voters | households | canvassers
    for path in sorted(demo_report.out.rglob("*")):
        if path.is_file():
            tokens = set(re.findall(r"[A-Za-z0-9_]+", path.read_text("utf-8")))
            leaked = tokens & forbidden
            assert not leaked, (path.name, sorted(leaked)[:5])


def test_write_refuses_leaks(demo_report, tmp_path) -> None:
    leaked = next(iter(demo_report.run.table["voter_id"]))
    bad = replace(demo_report.report, title=f"Report for {leaked}")
    with pytest.raises(DataError, match="privacy check"):
        write_report(bad, tmp_path / "x", forbidden={leaked})
    assert not (tmp_path / "x").exists()


def test_small_cells_are_suppressed(demo_report) -> None:
    spec = replace(demo_report.spec, privacy=PrivacySpec(small_cell=1500, salt="s"))
    report = build_report(spec, run=demo_report.run)
    flow = report.section("flow").tables[0]
    contacted = [row[flow.columns.index("contacted")] for row in flow.rows]
    assert "<1500" in contacted  # 1,071 contacted voters are below 1,500
    cov = report.section("coverage").tables[0]
    for row in cov.rows:
        assert row[1] == "<1500" or (isinstance(row[1], int) and row[1] >= 1500)
        if row[1] == "<1500":
            assert row[2] is None and row[3] is None
    canv = report.section("coverage").tables[-1]
    single = [row for row in canv.rows if "pooled" not in str(row[0])]
    assert all(row[1] == "<1500" and row[2] is None for row in single)
    # the small canvassers together are shown once, pooled (hide no more than needed)
    pooled = [row for row in canv.rows if "pooled" in str(row[0])]
    assert len(pooled) == 1 and f"{len(single)} groups under 1500" in str(pooled[0][0])
    assert f"{len(single)} of {len(single)} canvassers" in canv.note


def test_rerun_is_byte_identical(demo_report, tmp_path) -> None:
    """A second, independent run of the spec writes the same bytes."""
    run_report(REPO / "analyses" / "demo.toml", tmp_path / "again")
    for name in (
        "report.html",
        "report.md",
        "results.json",
        "tables/effects.csv",
        "tables/effects.tex",
    ):
        first = (demo_report.out / name).read_bytes()
        second = (tmp_path / "again" / name).read_bytes()
        assert first == second, name


def test_csv_and_latex_tables(demo_report) -> None:
    with (demo_report.out / "tables" / "estimates.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert {r["estimand"] for r in rows} == {"ITT", "CACE"}
    assert math.isfinite(float(rows[0]["estimate"]))
    tex = (demo_report.out / "tables" / "effects.tex").read_text("utf-8")
    assert r"\begin{tabular}" in tex and r"\toprule" in tex and r"\bottomrule" in tex
    assert "_" not in tex.replace(r"\_", "")


def test_markdown_report(demo_report) -> None:
    md = (demo_report.out / "report.md").read_text("utf-8")
    assert md.startswith("# Northport 2022 door-to-door canvass")
    assert "## Effects" in md and "| outcome |" in md
    assert "net votes" in md.lower()


def test_jupyter_html(demo_report) -> None:
    r = demo_report.report
    html = r._repr_html_()
    assert "<svg" in html and "What the canvass did" in html
    assert "<table" in r.section("effects").tables[0]._repr_html_()
    assert "<li>" in r.headline._repr_html_()
    assert "<svg" in r.section("did").figures[0]._repr_html_()
    assert "Not included" in replace(r.section("did"), available=False, reason="x")._repr_html_()


def test_registration_among_unregistered_equals_the_api() -> None:
    """`subset` and per-outcome covariates: the estimate is fx.itt on those voters."""
    from fieldexp.report import prepare_analysis
    from fieldexp.report.plan import estimate_effects, plan_effects
    from fieldexp.spec import load_spec

    spec = load_spec(REPO / "analyses" / "demo_table.toml")
    run = prepare_analysis(spec)
    got = {(e.outcome, e.estimand): e for e in estimate_effects(run, plan_effects(run)).estimates}
    table = pd.read_csv(FIXTURES / "table.csv")
    unreg = table[table["registered"] == 0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = fx.itt(
            unreg,
            "registered_after",
            "assigned",
            blocks="precinct_id",
            clusters="household_id",
            covariates=["age"],
        )
    e = got[("registration", "ITT")]
    assert e.nobs == len(unreg) == ref.nobs
    assert e.estimate == pytest.approx(ref.estimate, rel=1e-12)
    assert e.std_error == pytest.approx(ref.std_error, rel=1e-12)
    assert e.covariates == ("age",)


def test_westfall_young_uses_the_randomisation_draws(demo_report) -> None:
    spec = demo_report.spec
    spec = replace(
        spec,
        analysis=replace(spec.analysis, multiplicity="westfall-young"),
        randomization_inference=replace(
            spec.randomization_inference, estimands=("ITT", "CACE"), reps=200
        ),
    )
    report = build_report(spec, run=demo_report.run)
    assert {e.adjustment for e in report.estimates} == {"westfall-young"}
    assert all(0 <= e.p_value_adjusted <= 1 for e in report.estimates)
    assert "Westfall-Young" in report.section("effects").tables[0].note


def test_timestamp_only_when_asked(demo_report) -> None:
    spec = demo_report.spec
    spec = replace(spec, report=replace(spec.report, timestamp=True))
    prov = build_report(spec, run=demo_report.run).provenance
    assert prov.generated_at is not None and prov.generated_at.endswith("+00:00")
    assert demo_report.report.provenance.generated_at is None


def test_did_callaway_santanna(demo_report) -> None:
    spec = demo_report.spec
    spec = replace(spec, did=replace(spec.did, estimator="callaway_santanna", seed=3, reps=200))
    report = build_report(spec, run=demo_report.run)
    did = report.section("did")
    table = did.tables[0]
    assert "band low" in table.columns
    assert [row[0] for row in table.rows] == [-2, -1, 0]
    assert any("Callaway" in p for p in did.paragraphs)
    assert any("Pre-trend test" in p for p in did.paragraphs)
    assert report.did is not None
    extra = report.did.to_dict()
    assert extra["bootstrap_seed"] == 3 and "overall" in extra
