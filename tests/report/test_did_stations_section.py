"""The report's DiD section on the station x election panel ([did] results = [...])."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import fieldexp as fx
from fieldexp.io.fr_writers import write_fr_results
from fieldexp.report import build_report
from fieldexp.spec import load_spec

LAYOUTS = ("leg2017", "leg2022", "leg2024")
DATES = {"leg2017": "2017-06-11", "leg2022": "2022-06-12", "leg2024": "2024-06-30"}


def _results(n: int, election: str, t: int, treated: set[str], rng) -> pd.DataFrame:
    rows = []
    for k in range(n):
        insee = "2A004" if k % 5 == 0 else "01004"
        pid = f"{insee}_{k + 1:04d}"
        registered = int(rng.integers(600, 1400))
        p = 0.45 + 0.002 * (k % 20) + 0.04 * t + (0.03 if pid in treated else 0.0)
        voters = int(rng.binomial(registered, p))
        expressed = voters - 5
        a = int(rng.binomial(expressed, 0.4))
        for c, (nuance, votes) in enumerate((("DVG", a), ("RN", expressed - a))):
            rows.append(
                {
                    "precinct_id": pid,
                    "election_id": election,
                    "department_code": insee[:2],
                    "commune_code": insee,
                    "bureau_code": f"{k + 1:04d}",
                    "registered": registered,
                    "voters": voters,
                    "abstentions": registered - voters,
                    "blank": 3,
                    "null": 2,
                    "expressed": expressed,
                    "candidate": str(c + 1),
                    "nuance": nuance,
                    "votes": votes,
                    "sex": "M",
                    "last_name": f"NOM{c}",
                    "first_name": "Jean",
                    "list_short": "",
                    "list_label": "",
                    "commune_label": "Commune",
                    "dept_in_file": insee[:2],
                    "candidate_label": f"NOM{c} Jean",
                }
            )
    return pd.DataFrame(rows)


@pytest.fixture
def station_spec(tmp_path: Path) -> Path:
    rng = np.random.default_rng(5)
    n = 60
    ids = [f"{'2A004' if k % 5 == 0 else '01004'}_{k + 1:04d}" for k in range(n)]
    treated = set(ids[::2])
    for t, lay in enumerate(LAYOUTS):
        truth = _results(n, lay, t, treated if t == 2 else set(), rng)
        if lay == "leg2017":  # a station that closed after 2017: kept and named
            extra = _results(1, lay, t, set(), rng).assign(
                precinct_id="2A004_0099", bureau_code="0099"
            )
            truth = pd.concat([truth, extra], ignore_index=True)
        write_fr_results(truth, tmp_path / f"{lay}.csv", layout=lay)
    pd.DataFrame({"precinct_id": ids, "assigned": [int(i in treated) for i in ids]}).to_csv(
        tmp_path / "stations.csv", index=False
    )
    spec = tmp_path / "stations.toml"
    spec.write_text(
        'version = 1\n[data.precinct_results]\npath = "leg2024.csv"\n'
        '[data.precinct_assignment]\npath = "stations.csv"\n'
        '[analysis]\nelection = "leg2024"\n'
        '[outcomes.turnout]\ncolumn = "turnout"\nlevel = "precinct"\nestimands = ["ITT"]\n'
        "headline = true\n[coverage]\nenabled = false\n[report]\nfigures = false\n"
        '[did]\nresults = ["leg2017.csv", "leg2022.csv"]\n'
        'dates = { leg2017 = "2017-06-11", leg2022 = "2022-06-12", leg2024 = "2024-06-30" }\n',
        encoding="utf-8",
    )
    return spec


def test_station_did_section_equals_fx_did_on_the_station_panel(station_spec: Path) -> None:
    spec = load_spec(station_spec)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report = build_report(spec)
        folder = station_spec.parent
        a = pd.read_csv(folder / "stations.csv", dtype={"precinct_id": str})
        panel = fx.station_panel(
            [folder / f"{lay}.csv" for lay in LAYOUTS], dates=DATES, assignment=a
        )
    s = report.section("did")
    assert s.available, s.reason
    ref = fx.did(
        panel.data,
        "turnout",
        "precinct_id",
        "period",
        "treated",
        clusters="precinct_id",
        weights="registered",
    )
    summary = report.did
    assert summary is not None and summary.periods == LAYOUTS and summary.target == "leg2024"
    np.testing.assert_allclose(summary.overall.estimate, ref.estimate, rtol=1e-10)
    np.testing.assert_allclose(summary.overall_std_error, ref.std_error, rtol=1e-10)
    np.testing.assert_allclose(summary.overall_p_value, ref.p_value, rtol=1e-10)
    es = fx.event_study(
        panel.data,
        "turnout",
        "precinct_id",
        "period",
        "cohort",
        clusters="precinct_id",
        weights="registered",
    )
    table = s.tables[0]
    np.testing.assert_allclose(
        [r[1] for r in table.rows], es.coefficients["estimate"].to_numpy(), rtol=1e-10
    )
    text = " ".join(s.paragraphs)
    assert "Polling stations (bureaux de vote)" in text
    assert "registered and voters conserved per election" in text
    assert "1 stations missing from some elections kept (e.g. 2A004_0099)" in text
    assert "1 stations outside the assignment set aside" in text
    assert "weighted by registered voters" in text and "clustered by precinct_id" in text
    assert "results files (SHA-256): leg2017.csv (" in text


def test_station_did_with_cs_and_a_rollout(station_spec: Path) -> None:
    folder = station_spec.parent
    a = pd.read_csv(folder / "stations.csv", dtype={"precinct_id": str})
    roll = a.loc[a["assigned"] == 1, ["precinct_id"]].assign(first_treated="2024-06-01")
    roll.to_csv(folder / "rollout.csv", index=False)
    text = station_spec.read_text("utf-8").replace(
        "[did]\n", '[did]\nrollout = "rollout.csv"\nestimator = "cs"\nseed = 3\nreps = 99\n'
    )
    station_spec.write_text(text, encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report = build_report(load_spec(station_spec))
        panel = fx.station_panel(
            [folder / f"{lay}.csv" for lay in LAYOUTS],
            dates=DATES,
            rollout=roll,
            balanced=False,
        )
        cs = fx.staggered_did(
            panel.data,
            "turnout",
            "precinct_id",
            "period",
            "cohort",
            clusters="precinct_id",
            weights="base_registered",
        )
        agg = cs.aggregate("dynamic", reps=99, seed=3)
    s = report.section("did")
    assert s.available, s.reason
    assert report.did.estimator == "cs"
    np.testing.assert_allclose(report.did.overall.estimate, agg.overall.estimate, rtol=1e-10)
    assert "first canvassed election ([did] rollout)" in " ".join(s.paragraphs)
