"""Each report section on a small seeded run, and the report-truth rules of issue 11.

The small experiment (tests/report/conftest.py: 600 voters, 300 households, 6 precincts) is
written as CSV files with a spec, read and reconciled like a real one; ``weak_run`` logs
contacts for held-out households too, so contact does not depend on assignment (F < 1).
"""

from __future__ import annotations

import json
import re
import warnings
from dataclasses import replace

import pytest
from report_builders import small_context, write_small_experiment

import fieldexp as fx
from fieldexp.experiment.multiplicity import adjust_pvalues
from fieldexp.report import build_report, write_report
from fieldexp.report.model import Headline, Section
from fieldexp.report.plan import WEAK_F, plan_effects
from fieldexp.report.sections import (
    SECTIONS,
    balance,
    coverage,
    did,
    effects,
    flow,
    headline,
    heterogeneity,
    provenance,
    reconciliation,
    ri,
)
from fieldexp.report.sections.common import natural_key, share


def _build(module, ctx) -> Section:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        section = module.build(ctx)
    assert isinstance(section, Section)
    assert section.available, section.reason
    return section


# ----------------------------------------------------------------------------- sections
def test_sections_registry_has_one_build_per_module() -> None:
    keys = [k for k, _ in SECTIONS]
    assert keys == [
        "headline",
        "flow",
        "reconciliation",
        "balance",
        "effects",
        "attrition",
        "heterogeneity",
        "ri",
        "did",
        "coverage",
        "targeting",
        "provenance",
    ]


def test_headline_section(small_run) -> None:
    s = _build(headline, small_run.ctx)
    h = s.summary
    assert isinstance(h, Headline)
    itt = small_run.ctx.effects.find("turnout", "1", "ITT").result
    assert h.itt.estimate == itt.estimate
    assert h.caution is None and h.withheld is None
    assert h.net_votes is not None and h.cost_per_net_vote is not None
    assert h.contacts == int(
        ((small_run.run.table["arm"] == "1") & (small_run.run.table["contacted"] == 1)).sum()
    )
    assert h.net_votes.estimate == pytest.approx(h.cace.estimate * h.contacts, rel=1e-12)
    assert any("lin" in s_ for s_ in h.sentences)  # the estimator is named


def test_headline_costs_are_experiment_costs(small_run) -> None:
    """Net votes and cost per net vote are fieldexp.experiment.costs on the headline numbers."""
    from fieldexp.experiment.costs import cost_per_net_vote, field_cost, net_votes

    h = headline.summarise(small_run.ctx)
    v = net_votes(h.cace.estimate, h.cace.ci_low, h.cace.ci_high, h.contacts)
    assert (h.net_votes.estimate, h.net_votes.ci_low, h.net_votes.ci_high) == (
        v.estimate,
        v.ci_low,
        v.ci_high,
    )
    t = small_run.run.table
    attempts = int(t.loc[t["arm"] == "1", "n_attempts"].sum())
    total = field_cost(
        fixed=100, per_attempt=2, attempts=attempts, per_contact=3, contacts=h.contacts
    )
    assert h.total_cost == total
    c = cost_per_net_vote(total, v)
    assert (h.cost_per_net_vote.estimate, h.cost_per_net_vote.ci_high) == (c.estimate, c.ci_high)


def test_flow_section(small_run) -> None:
    s = _build(flow, small_run.ctx)
    t = s.tables[0]
    assigned = {row[0]: row[1] for row in t.rows}
    assert sum(v for v in assigned.values() if isinstance(v, int)) == 600


def test_reconciliation_section(small_run) -> None:
    s = _build(reconciliation, small_run.ctx)
    read = {row[0]: row[1:] for row in s.tables[0].rows}
    for _table, (n, used, aside) in read.items():
        assert n == used + aside


def test_balance_section(small_run) -> None:
    s = _build(balance, small_run.ctx)
    assert s.tables[0].note.startswith("Differences in means")
    assert any("Omnibus test" in p for p in s.paragraphs)


def test_effects_section_names_the_estimator_and_why(small_run) -> None:
    s = _build(effects, small_run.ctx)
    t = s.tables[0]
    est = {row[t.columns.index("estimand")]: row[t.columns.index("estimator")] for row in t.rows}
    assert est == {"ITT": "lin", "CACE": "2sls"}
    assert "Lin (2013)" in t.note and "method = 'auto'" in t.note
    assert "two-stage least squares" in t.note
    assert "first-stage F" in t.columns and "caution" in t.columns
    assert "Estimator: dim" in s.tables[1].note  # the contact rate table


def test_heterogeneity_section(small_run) -> None:
    s = _build(heterogeneity, small_run.ctx)
    assert {t.key for t in s.tables} == {"heterogeneity_turnout_itt", "heterogeneity_turnout_cace"}
    assert all("Estimator:" in t.note for t in s.tables)


def test_ri_section(small_run) -> None:
    s = _build(ri, small_run.ctx)
    rows = s.tables[0].rows
    assert len(rows) == 1 and rows[0][6] == 50
    assert "Statistic:" in s.tables[0].note


def test_did_section(small_run) -> None:
    s = _build(did, small_run.ctx)
    assert s.summary is not None and s.summary.target == "2022_general"
    assert s.tables[0].note.startswith("Estimator: twfe")


def test_coverage_section(small_run) -> None:
    s = _build(coverage, small_run.ctx)
    by_precinct = s.tables[0]
    assert [row[0] for row in by_precinct.rows] == [f"P{i}" for i in range(1, 7)]
    canv = s.tables[-1]
    labels = [str(row[0]) for row in canv.rows if "pooled" not in str(row[0])]
    assert labels == sorted(labels, key=natural_key)
    assert labels.index("canvasser 2") < labels.index("canvasser 10")


def test_provenance_section(small_run) -> None:
    s = _build(provenance, small_run.ctx)
    assert {row[1] for row in s.tables[0].rows} == {
        "voters.csv",
        "vote_history.csv",
        "contacts.csv",
        "assignment.csv",
    }


# ----------------------------------------------------------------------------- truth
def test_weak_first_stage_is_flagged_and_net_votes_withheld(weak_run, tmp_path) -> None:
    cace = weak_run.ctx.effects.find("turnout", "1", "CACE").row
    assert cace.first_stage_f < WEAK_F
    assert cace.caution and "weak first stage" in cace.caution
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report = build_report(weak_run.spec, run=weak_run.run)
    h = report.headline
    assert h.caution == cace.caution
    assert h.net_votes is None and h.cost_per_net_vote is None and h.withheld
    cace_sentence = next(x for x in h.sentences if "per contacted voter" in x)
    assert cace.caution in cace_sentence  # beside the estimate in the text too
    assert any(x.startswith("Net votes and cost per net vote are withheld") for x in h.sentences)
    files = write_report(report, tmp_path)
    page = files["report.html"].read_text("utf-8")
    head = page[page.index('id="headline"') : page.index('class="toc"')]
    assert "weak first stage" in head and "withheld" in head
    assert re.search(r'card warn"><div class="big">[^<]+pts', head)  # beside the CACE
    md = files["report.md"].read_text("utf-8")
    md_head = md[md.index("## What the canvass did") : md.index("## Sample flow")]
    assert "**Caution:**" in md_head and "withheld" in md_head
    assert "Net votes gained" not in md_head and "per net vote (" not in md_head
    doc = json.loads(files["results.json"].read_text("utf-8"))
    assert doc["headline"]["net_votes"] is None and doc["headline"]["caution"]
    effects_rows = report.section("effects").tables[0]
    i = effects_rows.columns.index("caution")
    assert any("weak first stage" in str(r[i]) for r in effects_rows.rows)


def test_wide_cace_interval_is_flagged() -> None:
    from fieldexp.report.plan import weak_instrument_caution

    r = fx.EffectResult.from_estimate(
        estimate=0.5,
        std_error=0.9,
        df=100,
        alpha=0.05,
        estimand="CACE",
        method="2sls",
        nobs=200,
        nclusters=None,
        se_type="HC2",
        design="simple",
        outcome="voted",
        term="contacted",
    )
    assert "±100" in weak_instrument_caution(r)
    narrow = replace(r, std_error=0.1, ci_low=0.3, ci_high=0.7)
    assert weak_instrument_caution(narrow) is None


def test_multiplicity_families_are_outcomes_by_arms(tmp_path) -> None:
    run = small_context(write_small_experiment(tmp_path, second_outcome=True))
    rows = run.ctx.effects.estimates
    assert len(rows) == 4 and len(plan_effects(run.run).families) == 2
    by = {(e.outcome, e.estimand): e for e in rows}
    for outcome in ("turnout", "turnout_again"):
        assert by[(outcome, "ITT")].p_value_adjusted == by[(outcome, "CACE")].p_value_adjusted
    expected = adjust_pvalues(
        [by[("turnout", "ITT")].p_value, by[("turnout_again", "ITT")].p_value], method="holm"
    ).adjusted
    assert by[("turnout", "ITT")].p_value_adjusted == pytest.approx(expected[0], rel=1e-12)
    assert "across 2 hypotheses" in run.ctx.effects.adjustment_note


def _with_p(ctx, p_adj: float, p_raw: float):
    new = []
    for e in ctx.effects.effects:
        row = replace(e.row, p_value=p_raw, p_value_adjusted=p_adj, adjustment="holm")
        new.append(replace(e, row=row))
    return replace(ctx, effects=replace(ctx.effects, effects=tuple(new)))


def test_headline_words_its_conclusion_from_the_adjusted_p(tmp_path) -> None:
    small_run = small_context(write_small_experiment(tmp_path, second_outcome=True))
    ctx = _with_p(small_run.ctx, p_adj=0.085, p_raw=0.0425)
    h = headline.summarise(ctx)
    text = " ".join(h.sentences)
    assert "0.085" in text and "adjusted (Holm) for 2 hypotheses" in text
    assert "0.0425" not in text
    assert "very likely" not in text and "cannot rule out" in text
    assert h.p_value == 0.085 and h.adjustment == "holm"
    strong = headline.summarise(_with_p(small_run.ctx, p_adj=0.01, p_raw=0.005))
    assert "very likely changed" in " ".join(strong.sentences)


def test_headline_p_is_the_effects_table_p(small_run) -> None:
    h = headline.summarise(small_run.ctx)
    t = _build(effects, small_run.ctx).tables[0]
    row = next(r for r in t.rows if r[t.columns.index("estimand")] == "ITT")
    assert h.p_value == row[t.columns.index("adjusted p")]


def test_coverage_uses_the_contacts_of_the_analysis(tmp_path) -> None:
    run = small_context(write_small_experiment(tmp_path, late_contacts=40))
    rec = run.run.reconciliation
    assert rec.set_aside("contacts") >= 40
    s = _build(coverage, run.ctx)
    assert any("after the campaign window" in p for p in s.paragraphs)
    canv = s.tables[-1]
    knocked = sum(r[1] for r in canv.rows if isinstance(r[1], int) and "pooled" not in str(r[0]))
    t = run.run.table
    treated = t[t["arm"] == "1"]
    # every canvassed household attempted in the analysis is knocked by >= 1 canvasser
    attempted_hh = treated.loc[treated["attempted"] == 1, "household_id"].nunique()
    assert knocked >= attempted_hh
    # late contacts (all by canvasser K1) are not counted: K1's households are the in-window ones
    import pandas as pd

    log = pd.read_csv(tmp_path / "contacts.csv")
    in_window = log[(log["timestamp"] < "2022-11-09") & (log["canvasser_id"] == "K1")]
    expected = in_window["household_id"].nunique()
    late = log[(log["timestamp"] >= "2022-11-09") & (log["canvasser_id"] == "K1")]
    assert late["household_id"].nunique() > 0
    k1 = next(r for r in canv.rows if r[0] == "canvasser 1")  # K1 is the first id in order
    assert k1[1] == expected
    assert "not counted here" in canv.note


def test_small_cell_suppression_pools_and_counts(tmp_path) -> None:
    run = small_context(write_small_experiment(tmp_path, small_cell=20))
    s = _build(coverage, run.ctx)
    canv = s.tables[-1]
    small = [r for r in canv.rows if r[1] == "<20"]
    pooled = [r for r in canv.rows if "pooled" in str(r[0])]
    if small:
        assert len(pooled) == (1 if len(small) > 1 else 0)
        assert f"{len(small)} of " in canv.note
    shown = [r for r in canv.rows if isinstance(r[1], int) and r[1] >= 20]
    assert all(r[2] is not None for r in shown)  # shares of groups >= k are never hidden


def test_share_hides_only_what_it_must() -> None:
    assert share(3, 50, 10) == "<20%"  # weak but visible as weak
    assert share(30, 50, 10) == 0.6
    assert share(0, 50, 10) == 0.0
    assert share(3, 8, 10) is None  # the group itself is a small cell


def test_station_level_speaks_of_stations(tmp_path) -> None:
    import pandas as pd

    from fieldexp.io import read_precinct_results

    src = tmp_path / "results.csv"
    src.write_text(
        (
            __import__("pathlib").Path(__file__).resolve().parents[2]
            / "fixtures/io/fr_results_2022.csv"
        ).read_text("utf-8"),
        encoding="utf-8",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ids = sorted(read_precinct_results(src)["precinct_id"].astype(str).unique())
    pd.DataFrame(
        {"precinct_id": ids, "assigned": [i % 2 for i in range(len(ids))], "probability": 0.5}
    ).to_csv(tmp_path / "stations.csv", index=False)
    spec = tmp_path / "stations.toml"
    spec.write_text(
        'version = 1\n[data.precinct_results]\npath = "results.csv"\n'
        '[data.precinct_assignment]\npath = "stations.csv"\n'
        '[analysis]\nelection = "results"\n'
        '[outcomes.turnout]\ncolumn = "turnout"\nlevel = "precinct"\nestimands = ["ITT"]\n'
        'headline = true\n[costs]\nfixed = 1000\ncurrency = "EUR"\n[coverage]\nenabled = false\n',
        encoding="utf-8",
    )
    from fieldexp.spec import load_spec

    s = load_spec(spec)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report = build_report(s)
    text = " ".join(report.headline.sentences)
    assert "polling stations" in text and "registered voters" in text
    assert "per assigned voter" not in text and "voters assigned" not in text
    eff = report.section("effects")
    assert "per polling station" in eff.paragraphs[0]
    assert "per voter" not in eff.paragraphs[0]
    assert report.headline.unit == "polling station"


def test_three_arms_give_one_family_per_arm(tmp_path) -> None:
    run = small_context(write_small_experiment(tmp_path, arms=3, households=240))
    assert plan_effects(run.run).families == (("turnout", "1"), ("turnout", "2"))
    rows = run.ctx.effects.estimates
    by = {(e.arm, e.estimand): e for e in rows}
    expected = adjust_pvalues(
        [by[("1", "ITT")].p_value, by[("2", "ITT")].p_value], method="holm"
    ).adjusted
    for i, arm in enumerate(("1", "2")):
        assert by[(arm, "ITT")].p_value_adjusted == pytest.approx(expected[i], rel=1e-12)
        assert by[(arm, "CACE")].p_value_adjusted == by[(arm, "ITT")].p_value_adjusted
    het = _build(heterogeneity, run.ctx)
    assert {t.key for t in het.tables} >= {
        "heterogeneity_turnout_itt_arm_1",
        "heterogeneity_turnout_itt_arm_2",
    }
    h = headline.summarise(run.ctx)
    assert "(arm 1)" in h.sentences[0]


def test_report_does_not_depend_on_row_order(tmp_path) -> None:
    """Every input file written in another row order: the same report (provenance aside)."""
    docs = []
    for shuffle in (False, True):
        spec = write_small_experiment(tmp_path / str(shuffle), shuffle=shuffle)
        from fieldexp.spec import load_spec

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            doc = build_report(load_spec(spec)).to_dict()
        doc.pop("provenance")
        doc["sections"] = [s for s in doc["sections"] if s["key"] != "provenance"]
        docs.append(json.dumps(doc, sort_keys=True))
    assert docs[0] == docs[1]


def test_nobody_contacted_keeps_the_itt_and_says_why_no_cace(tmp_path) -> None:
    """An undefined CACE (no contact at all) is left out with the reason; the ITT stands."""
    import pandas as pd

    from fieldexp.spec import load_spec

    spec = write_small_experiment(tmp_path)
    log = pd.read_csv(tmp_path / "contacts.csv")
    log.iloc[:0].to_csv(tmp_path / "contacts.csv", index=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report = build_report(load_spec(spec))
    assert {e.estimand for e in report.estimates} == {"ITT"}
    assert report.headline.cace is None and report.headline.net_votes is None
    eff = report.section("effects")
    assert any("CACE, arm 1: not estimated" in p and "not identified" in p for p in eff.paragraphs)
    assert not report.section("did").available
    assert "nobody was exposed" in report.section("did").reason
