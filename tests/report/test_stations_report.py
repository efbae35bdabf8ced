"""The spec path on polling stations: the numbers the report shows are estimatr's.

Files from tests/reference/make_stations_data.py (legislative results 2024 and 2017, an
assignment within communes, a door log); references from make_reference_stations.R.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import pandas as pd
import pytest

from fieldexp.errors import ColumnNotFoundError, DataError, SpecificationError
from fieldexp.report import prepare_analysis
from fieldexp.report.run import build_report
from fieldexp.spec import parse_spec

REF = Path(__file__).resolve().parents[1] / "reference"
sys.path.insert(0, str(REF))
from make_stations_data import write_station_files  # noqa: E402

BASE = """
version = 1
[data.precinct_results]
path = "results_2024.csv"
[data.precinct_assignment]
path = "assignment.csv"
[design]
unit = "precinct_id"
blocks = "commune_code"
arms = {{ 0 = 0.5, 1 = 0.5 }}
[analysis]
election = "results_2024"
[stations]
past_results = "results_2017.csv"
door_logs = "doors.csv"
{stations}
{outcomes}
[coverage]
enabled = false
"""
OUTCOMES = """
[outcomes.turnout]
column = "turnout"
level = "precinct"
estimands = ["ITT", "CACE"]
covariates = ["past_turnout", "registered"]
headline = true
[outcomes.share_dvg]
column = "share_DVG"
label = "Vote share, divers gauche"
level = "precinct"
estimands = ["ITT", "CACE"]
covariates = []
"""
RI = "\n[randomization_inference]\nreps = 300\nseed = 4\n"


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("stations")
    write_station_files(folder)
    return folder


def _spec(folder: Path, *, stations: str = "", outcomes: str = OUTCOMES, extra: str = ""):
    text = BASE.format(stations=stations, outcomes=outcomes) + extra
    return parse_spec(text, path=folder / "bureaux.toml")


def _ref() -> dict[str, dict[str, object]]:
    return {r["case"]: r for r in pd.read_csv(REF / "stations.csv").to_dict("records")}


def _report(spec):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return build_report(spec)


def test_report_estimates_are_estimatr_weighted_by_registered(files):
    report = _report(_spec(files, extra=RI))
    ref = _ref()
    by = {(e.outcome, e.estimand): e for e in report.estimates}
    pairs = {
        ("turnout", "ITT"): "ols_turnout_cov",
        ("turnout", "CACE"): "dose_turnout_cov",
        ("share_dvg", "ITT"): "dim_share_dvg_commune",
        ("share_dvg", "CACE"): "dose_share_dvg",
    }
    for key, case in pairs.items():
        e, r = by[key], ref[case]
        for s in ("estimate", "std_error", "df", "p_value", "ci_low", "ci_high"):
            assert getattr(e, s) == pytest.approx(float(r[s]), rel=1e-8), (key, s)
        assert e.nobs == r["nobs"]
    assert by[("turnout", "ITT")].covariates == ("past_turnout", "registered")
    assert by[("turnout", "ITT")].estimator == "ols"
    assert by[("share_dvg", "ITT")].estimator == "dim"
    assert by[("share_dvg", "CACE")].term == "dose"


def test_ri_replays_the_headline_estimator(files):
    report = _report(_spec(files, extra=RI))
    ri = report.section("ri")
    rows = {row[0]: row for row in ri.tables[0].rows}
    by = {(e.outcome_label, e.estimand): e for e in report.estimates}
    for label, row in rows.items():
        assert row[3] == pytest.approx(by[(label, "ITT")].estimate, rel=1e-10)
    assert "unweighted" not in " ".join(ri.paragraphs)


def test_unknown_covariate_names_the_available_columns(files):
    spec = _spec(
        files,
        stations='covariates = ["past_turnot"]',
        outcomes=OUTCOMES.replace('covariates = ["past_turnout", "registered"]\n', ""),
    )
    with pytest.raises(ColumnNotFoundError, match=r"'past_turnot'.*Did you mean 'past_turnout'"):
        prepare_analysis(spec)


def test_covariate_missing_in_some_stations_warns_with_count(files):
    with pytest.warns(Warning, match=r"'past_turnout' is missing in 2 of 54 polling stations"):
        prepare_analysis(_spec(files))


def test_panel_number_share_is_refused_with_the_reason(files):
    outcomes = OUTCOMES.replace('column = "share_DVG"', 'column = "share_1"')
    with pytest.raises(SpecificationError, match=r"panel number.*circonscription"):
        prepare_analysis(_spec(files, outcomes=outcomes))
    with pytest.raises(SpecificationError, match="panel '1' is"):
        prepare_analysis(_spec(files, stations='shares_by = "candidate"'))


def test_share_absent_from_some_ballots_is_an_error_naming_stations(files):
    outcomes = OUTCOMES.replace('column = "share_DVG"', 'column = "share_ECO"')
    with pytest.raises(DataError, match=r"'share_ECO' is missing in 24 of 54 .*first: 2A004_0001"):
        prepare_analysis(_spec(files, outcomes=outcomes))


def test_blocs_and_labels(files):
    outcomes = OUTCOMES.replace('column = "share_DVG"', 'column = "share_gauche"')
    run = prepare_analysis(_spec(files, stations='shares_by = "bloc"', outcomes=outcomes))
    t = run.precinct_table
    assert {"share_gauche", "share_droite", "share_centre", "share_extreme_droite"} <= set(t)
    shares = t[[c for c in t if c.startswith("share_")]].sum(axis=1)
    assert shares.to_numpy() == pytest.approx(1.0)


def test_blocks_other_than_the_design_are_refused(files):
    with pytest.raises(SpecificationError, match="blocks the stations were randomised in"):
        prepare_analysis(_spec(files, stations='blocks = "constituency_id"'))


def test_door_log_accounting(files, tmp_path):
    import shutil

    for name in ("results_2024.csv", "results_2017.csv", "assignment.csv"):
        shutil.copy(files / name, tmp_path / name)
    text = (files / "doors.csv").read_text("utf-8")
    (tmp_path / "doors.csv").write_text(text + "75;56;99;10;5;3\n", encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run = prepare_analysis(_spec(tmp_path))
    rec = run.precinct_reconciliation
    rec.check()
    n_lines = len(text.strip().splitlines())  # header + data lines (one station twice) + 1 new
    assert dict(rec.rows_read)["door_logs"] == n_lines
    assert rec.set_aside("door_logs") == 1
    assert rec.used("door_logs") == n_lines - 1
    assert any("not in the door log" in n for n in rec.notes)
    assert run.precinct_table["dose"].notna().all()
    assert rec.used("precinct_results") == dict(rec.rows_read)["precinct_results"]


def test_lin_with_ri_is_refused_with_the_alternative(files):
    text = RI + ""
    spec = _spec(files, extra=text)
    spec2 = parse_spec(
        spec.text.replace("[analysis]\n", '[analysis]\nmethod = "lin"\n'), path=files / "b.toml"
    )
    with pytest.raises(SpecificationError, match="method = 'ols'"):
        _report(spec2)


def test_report_text_says_what_was_computed(files):
    report = _report(_spec(files, extra=RI))
    eff = " ".join(report.section("effects").paragraphs)
    assert "Blocks: commune_code" in eff
    assert "Turnout: past_turnout, registered" in eff
    assert "Vote share, divers gauche: none" in eff
    assert "per conversation per registered voter" in eff
    ri = report.section("ri")
    assert "estimator of the effects table" in ri.tables[0].note
    assert "unadjusted for covariates" not in ri.tables[0].note
    files_listed = {row[0] for row in report.provenance.inputs}
    assert {"door_logs", "past_results", "precinct_results"} <= files_listed


def test_only_the_experiment_stations_need_the_share(files, tmp_path):
    """A national results file: ECO stands in Paris only, the experiment is in Paris only."""
    import shutil

    for name in ("results_2024.csv", "results_2017.csv", "doors.csv"):
        shutil.copy(files / name, tmp_path / name)
    a = pd.read_csv(files / "assignment.csv", dtype={"precinct_id": str})
    a[a["precinct_id"].str.startswith("75056")].to_csv(tmp_path / "assignment.csv", index=False)
    outcomes = OUTCOMES.replace('column = "share_DVG"', 'column = "share_ECO"')
    report = _report(_spec(tmp_path, outcomes=outcomes, extra=RI))
    eco = next(e for e in report.estimates if e.outcome == "share_dvg" and e.estimand == "ITT")
    assert eco.nobs == 30
    ref = _ref()["ols_share_eco_paris"]  # Paris is one commune block: the dim equals this OLS
    assert eco.estimate == pytest.approx(float(ref["estimate"]), rel=1e-8)


def test_shuffled_files_give_the_same_report_numbers(files, tmp_path):
    import shutil

    lines = (files / "results_2024.csv").read_bytes().split(b"\r\n")
    head, body = lines[0], [x for x in lines[1:] if x]
    rng = __import__("random").Random(3)
    rng.shuffle(body)
    (tmp_path / "results_2024.csv").write_bytes(b"\r\n".join([head, *body]) + b"\r\n")
    for name in ("results_2017.csv", "doors.csv"):
        shutil.copy(files / name, tmp_path / name)
    a = pd.read_csv(files / "assignment.csv", dtype={"precinct_id": str})
    a.sample(frac=1, random_state=5).to_csv(tmp_path / "assignment.csv", index=False)
    one = _report(_spec(files, extra=RI))
    two = _report(_spec(tmp_path, extra=RI))
    assert [e.to_dict() for e in one.estimates] == [e.to_dict() for e in two.estimates]
    p1 = [row[4] for row in one.section("ri").tables[0].rows]
    p2 = [row[4] for row in two.section("ri").tables[0].rows]
    assert p1 == p2


def test_subset_on_a_station_outcome_is_refused_not_ignored(files):
    outcomes = OUTCOMES.replace(
        'column = "share_DVG"', 'column = "share_DVG"\nsubset = { commune_code = "75056" }'
    )
    with pytest.raises(SpecificationError, match="subset is for voter-level outcomes"):
        prepare_analysis(_spec(files, outcomes=outcomes))
