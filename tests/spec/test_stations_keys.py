"""[stations] keys: parsed, typed, paths resolved, unknown keys refused; validate stops early."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from fieldexp.cli import main
from fieldexp.errors import SpecificationError
from fieldexp.spec import parse_spec

REF = Path(__file__).resolve().parents[1] / "reference"
sys.path.insert(0, str(REF))
from make_stations_data import write_station_files  # noqa: E402

HEAD = """version = 1
[data.precinct_results]
path = "results_2024.csv"
[data.precinct_assignment]
path = "assignment.csv"
[design]
unit = "precinct_id"
blocks = "commune_code"
[analysis]
election = "results_2024"
[outcomes.turnout]
column = "{column}"
level = "precinct"
estimands = ["ITT"]
"""


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    f = tmp_path_factory.mktemp("keys")
    write_station_files(f)
    return f


def _parse(folder: Path, stations: str, column: str = "turnout"):
    return parse_spec(HEAD.format(column=column) + stations, path=folder / "s.toml")


def test_keys_are_parsed(folder):
    spec = _parse(
        folder,
        '[stations]\nshares_by = "bloc"\nblocs = { DVG = "gauche" }\nblocks = "commune_code"\n'
        'covariates = ["past_turnout"]\npast_results = "results_2017.csv"\n'
        'door_logs = "doors.csv"\ndoor_logs_mapping = { "Portes" = "doors_knocked" }\n'
        'dose = "doors_opened"\n',
    )
    st = spec.stations
    assert st.shares_by == "bloc" and st.blocs == {"DVG": "gauche"}
    assert st.covariates == ("past_turnout",) and st.dose == "doors_opened"
    assert st.past_results == (folder / "results_2017.csv").resolve()
    assert st.door_logs_mapping == {"Portes": "doors_knocked"}
    assert _parse(folder, "").stations is None


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ('shares_by = "panel"', "shares_by: must be one of"),
        ('dose = "talks"', "dose: must be one of"),
        ('door_logs = "nope.csv"', "door_logs: file 'nope.csv' not found"),
        ("blocs = { DVG = 1 }", "blocs"),
        ('door_logs_mapping = { a = "b" }', "door_logs_mapping needs door_logs"),
        ('covariate = ["x"]', "unknown key 'covariate'.*Did you mean 'covariates'"),
    ],
)
def test_bad_keys_are_refused(folder, text, match):
    with pytest.raises(SpecificationError, match=match):
        _parse(folder, "[stations]\n" + text + "\n")


def test_validate_refuses_a_panel_number_share(folder, capsys):
    spec = folder / "panel.toml"
    spec.write_text(HEAD.format(column="share_3"), encoding="utf-8")
    assert main(["validate", str(spec)]) != 0
    err = capsys.readouterr().err
    assert "panel number" in err and "share_3" in err


def test_validate_names_stations_without_the_share(folder, capsys):
    spec = folder / "eco.toml"
    spec.write_text(HEAD.format(column="share_ECO"), encoding="utf-8")
    assert main(["validate", str(spec)]) != 0
    err = capsys.readouterr().err
    assert "missing in 24 of 54 polling stations" in err and "2A004_0001" in err
    ok = folder / "ok.toml"
    ok.write_text(HEAD.format(column="share_DVG"), encoding="utf-8")
    assert main(["validate", str(ok)]) == 0
    assert "polling-station table: 54 stations" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("key", "value"),
    [("covariates", '["past_turnout", "Prénom"]'), ("blocks", '"adresse"')],
)
def test_personal_columns_are_refused_in_stations_keys(tmp_path, key, value) -> None:
    import shutil

    from fieldexp.errors import SpecificationError
    from fieldexp.spec import load_spec

    repo = Path(__file__).resolve().parents[2]
    shutil.copytree(repo / "analyses", tmp_path / "analyses")
    spec = tmp_path / "analyses" / "bureaux_2026.toml"
    text = spec.read_text(encoding="utf-8").replace(
        "[stations]\n", f"[stations]\n{key} = {value}\n", 1
    )
    if key == "covariates":
        text = text.replace('covariates = ["past_turnout"]\n', "", 1)
    spec.write_text(text, encoding="utf-8")
    with pytest.raises(SpecificationError, match=rf"\[stations\] {key}: .*personal data"):
        load_spec(spec)
