"""``fieldexp target SPEC --out DIR`` end to end: files, byte-identical reruns, privacy, hostile input."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pandas as pd
import pytest

from fieldexp import cli
from fieldexp.io.privacy import keyed_hash

REPO = Path(__file__).resolve().parents[1]
SMALL = REPO / "fixtures" / "experiment_small.csv"
RESULTS = REPO / "fixtures" / "io" / "fr_results_2022.csv"
SALT = "a-long-secret-salt-for-tests-0123"


def _spec(tmp: Path, *, table: Path = SMALL, targeting: str = "", extra: str = "") -> Path:
    text = f"""
version = 1
[report]
title = "Test targeting"
[data.analysis_table]
path = "{table}"
[analysis]
election = "2022_general"
blocks = "precinct_id"
clusters = "household_id"
[outcomes.turnout]
column = "voted"
[targeting]
seed = 5
folds = 2
reps = 30
results = "{RESULTS}"
supporters = ["gauche"]
doors = 2000
{targeting}
{extra}
"""
    path = tmp / "spec.toml"
    path.write_text(text)
    return path


def _files(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(out.iterdir())}


def _geojson(tmp: Path, ids: list[str]) -> Path:
    features = []
    for k, pid in enumerate(sorted(ids)):
        x, y = k % 4, k // 4
        ring = [[x, y], [x + 1, y], [x + 1, y + 1], [x, y + 1], [x, y]]
        features.append(
            {
                "type": "Feature",
                "properties": {"precinct_id": pid},
                "geometry": {"type": "Polygon", "coordinates": [ring]},
            }
        )
    path = tmp / "bureaux.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


def test_shipped_spec_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """analyses/targeting.toml on the shipped fixtures, through the CLI."""
    out = tmp_path / "out"
    assert cli.main(["target", str(REPO / "analyses" / "targeting.toml"), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    files = _files(out)
    assert set(files) == {
        "rate.csv",
        "toc.csv",
        "toc.svg",
        "precincts.csv",
        "plan.csv",
        "plan_curve.csv",
        "summary.md",
    }
    rate = pd.read_csv(out / "rate.csv")
    assert set(rate["ranking"]) >= {"uplift", "past_propensity", "fiftyone", "random"}
    assert set(rate["target"]) == {"AUTOC", "QINI"}
    # aggregates only: no voter or household id anywhere
    table = pd.read_csv(REPO / "fixtures" / "demo" / "table.csv", dtype=str)
    ids = set(table["voter_id"]) | set(table["household_id"])
    blob = b"\n".join(files.values()).decode()
    assert not any(i in blob for i in list(ids)[:500])
    assert "V000" not in blob and "H000" not in blob
    # what the summary says is what the intervals support
    summary = files["summary.md"].decode()
    verdict = "No ranking beats random here" in summary
    single = rate["ranking"].isin(["uplift", "past_propensity", "fiftyone", "random"])
    assert verdict == bool((rate.loc[single & (rate["target"] == "AUTOC"), "ci_low"] <= 0).all())
    assert ("No ranking beats random" in printed) == verdict
    plan = pd.read_csv(out / "plan.csv")
    assert plan["doors"].sum() == 3000  # 150 volunteer hours x 20 knocks per hour


def test_byte_identical_reruns_and_row_order(tmp_path: Path) -> None:
    shuffled = tmp_path / "shuffled.csv"
    pd.read_csv(SMALL, dtype=str).sample(frac=1.0, random_state=9).to_csv(shuffled, index=False)
    from fieldexp.io import read_precinct_results

    geo = _geojson(tmp_path, sorted(read_precinct_results(RESULTS)["precinct_id"].unique()))
    extra = f'geojson = "{geo}"'
    outs = []
    for k, table in enumerate((SMALL, SMALL, shuffled)):
        folder = tmp_path / f"run{k}"
        folder.mkdir()
        spec = _spec(folder, table=table, targeting=extra)
        out = folder / "out"
        assert cli.main(["target", str(spec), "--out", str(out)]) == 0
        outs.append(_files(out))
    assert outs[0] == outs[1]
    assert outs[0] == outs[2]  # shuffled input rows: same bytes
    assert "map_priority.svg" in outs[0] and "map_plan.svg" in outs[0]
    svg = outs[0]["toc.svg"].decode()
    assert svg.startswith("<svg") and "Date" not in svg


def test_scores_only_on_request_and_pseudonymised(tmp_path: Path) -> None:
    spec = _spec(tmp_path, extra=f'[privacy]\nsalt = "{SALT}"')
    out = tmp_path / "out"
    assert cli.main(["target", str(spec), "--out", str(out)]) == 0
    assert not (out / "scores.csv").exists()
    assert cli.main(["target", str(spec), "--out", str(out), "--export-scores"]) == 0
    scores = pd.read_csv(out / "scores.csv", dtype={"voter_pseudonym": str})
    assert list(scores.columns) == ["voter_pseudonym", "uplift"]
    assert stat.S_IMODE(os.stat(out / "scores.csv").st_mode) == 0o600
    table = pd.read_csv(SMALL, dtype=str)
    assert not set(scores["voter_pseudonym"]) & set(table["voter_id"])
    assert set(scores["voter_pseudonym"]) == set(keyed_hash(table["voter_id"], SALT))
    assert SALT not in (out / "scores.csv").read_text()
    assert not any(SALT in p.read_text() for p in out.iterdir())


def test_export_scores_refused_without_salt(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert cli.main(["target", str(_spec(tmp_path)), "--out", str(out), "--export-scores"]) == 2
    assert "[privacy] salt" in capsys.readouterr().err
    assert not out.exists()


def test_spec_without_targeting_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        cli.main(
            ["target", str(REPO / "analyses" / "demo_table.toml"), "--out", str(tmp_path / "o")]
        )
        == 2
    )
    assert "needs a [targeting] table" in capsys.readouterr().err


def test_name_column_as_covariate_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = _spec(tmp_path, targeting='covariates = ["voted_2016", "first_name"]')
    assert cli.main(["target", str(spec), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "first_name" in err and "personal data" in err
    assert not (tmp_path / "o").exists()


def test_symlink_in_out_pointing_outside_is_refused_before_anything_is_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    outside = tmp_path / "outside.txt"
    outside.write_text("keep me")
    (out / "rate.csv").symlink_to(outside)
    assert cli.main(["target", str(_spec(tmp_path)), "--out", str(out)]) == 2
    assert "outside the output folder" in capsys.readouterr().err
    assert outside.read_text() == "keep me"
    assert sorted(p.name for p in out.iterdir()) == ["rate.csv"]


def test_hostile_input_paths_end_in_one_line_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for body, expected in (
        ('geojson = "/dev/null"', "not a regular file"),
        ('geojson = "../../../../../../etc"', "is a directory"),
        ('blocs = "nowhere/../../x.csv"', "not found"),
    ):
        spec = _spec(tmp_path, targeting=body)
        assert cli.main(["target", str(spec), "--out", str(tmp_path / "o")]) == 2
        err = capsys.readouterr().err
        assert expected in err and "Traceback" not in err


def test_malformed_geojson_fails_cleanly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.geojson"
    bad.write_text('{"type": "FeatureCollection", "features": [')
    spec = _spec(tmp_path, targeting=f'geojson = "{bad}"')
    assert cli.main(["target", str(spec), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "cannot read GeoJSON" in err and "Traceback" not in err


def test_results_that_are_not_results_fail_cleanly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bogus = tmp_path / "passwd.csv"
    bogus.write_text("root:x:0:0:root:/root:/bin/bash\n")
    text = _spec(tmp_path).read_text().replace(str(RESULTS), str(bogus))
    spec = tmp_path / "bogus.toml"
    spec.write_text(text)
    assert cli.main(["target", str(spec), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("fieldexp: error:") and "root:x" not in err


def test_formula_injection_in_precinct_labels_is_neutralised(tmp_path: Path) -> None:
    """A results file whose bureau code starts a spreadsheet formula: the CSV cell is quoted."""
    text = RESULTS.read_bytes().decode("utf-8")
    lines = text.splitlines()
    cells = lines[1].split(";")
    cells[0] = "=HYPERLINK(1)"
    lines[1] = ";".join(cells)
    hostile = tmp_path / "hostile.csv"
    hostile.write_text("\n".join(lines) + "\n", encoding="utf-8")
    spec_text = _spec(tmp_path).read_text().replace(str(RESULTS), str(hostile))
    spec = tmp_path / "hostile.toml"
    spec.write_text(spec_text)
    out = tmp_path / "out"
    assert cli.main(["target", str(spec), "--out", str(out)]) == 0
    raw = (out / "precincts.csv").read_text()
    ids = pd.read_csv(out / "precincts.csv", dtype=str)["precinct_id"]
    assert not any(i.startswith(("=", "+", "-", "@")) for i in ids)
    assert "HYPERLINK" in raw  # kept as text, neutralised with a leading quote


def test_an_input_id_reaching_an_output_stops_every_write(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A results file whose station code carries a voter id of the experiment: nothing written."""
    lines = RESULTS.read_bytes().decode("utf-8").splitlines()
    cells = lines[1].split(";")
    cells[0] = "V0000001-"
    lines[1] = ";".join(cells)
    hostile = tmp_path / "leaky.csv"
    hostile.write_text("\n".join(lines) + "\n", encoding="utf-8")
    spec = tmp_path / "leaky.toml"
    spec.write_text(_spec(tmp_path).read_text().replace(str(RESULTS), str(hostile)))
    out = tmp_path / "out"
    assert cli.main(["target", str(spec), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "input id" in err and "nothing was written" in err
    assert "V0000001" not in err
    assert not out.exists()


def test_help_lists_target(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli.main(["target", "--help"])
    assert "--export-scores" in capsys.readouterr().out
