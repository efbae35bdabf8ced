"""`fieldexp report / validate / assign` and their error path (one line, exit 2, --debug)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from fieldexp import cli
from fieldexp.errors import SpecificationError

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "analyses" / "demo.toml"


def test_report_help_has_examples(capsys) -> None:
    for command in ("report", "validate", "assign", "demo"):
        with pytest.raises(SystemExit) as info:
            cli.main([command, "--help"])
        assert info.value.code == 0
        out = capsys.readouterr().out
        assert "examples:" in out and f"fieldexp {command}" in out


def test_top_level_help_lists_commands(capsys) -> None:
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    out = capsys.readouterr().out
    for command in ("report", "validate", "assign", "simulate", "demo"):
        assert command in out


def test_validate_prints_reconciliation(capsys) -> None:
    assert cli.main(["validate", str(DEMO), "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "spec is valid" in out and "rows read" in out and out.rstrip().endswith("OK")
    assert "arm 1:" in out


def test_report_command_prints_headline_and_path(tmp_path, capsys) -> None:
    out_dir = tmp_path / "rep"
    assert cli.main(["report", str(DEMO), "--out", str(out_dir), "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "percentage points" in out and "per net vote" in out
    assert f"report: {out_dir / 'report.html'}" in out
    assert (out_dir / "results.json").is_file()


def test_assign_writes_assignment_and_walk_list(tmp_path, capsys) -> None:
    out_dir = tmp_path / "asg"
    assert cli.main(["assign", str(DEMO), "--out", str(out_dir), "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "assigned 7,000 units (seed 20240504)" in out
    assignment = pd.read_csv(out_dir / "assignment.csv")
    walk = pd.read_csv(out_dir / "walk_list.csv")
    assert len(assignment) == 7000
    assert set(walk["arm"]) == {1}
    hh_arms = assignment.groupby("household_id")["arm"].nunique()
    assert (hh_arms == 1).all()  # households kept whole
    assert (out_dir / "design.toml").is_file() and (out_dir / "balance.csv").is_file()
    # same seed, same assignment
    assert cli.main(["assign", str(DEMO), "--out", str(tmp_path / "b"), "--no-progress"]) == 0
    assert (tmp_path / "b" / "assignment.csv").read_bytes() == (
        out_dir / "assignment.csv"
    ).read_bytes()


def _bad_spec(tmp_path: Path) -> Path:
    text = DEMO.read_text("utf-8").replace("reps = 1000", "rep = 1000")
    text = text.replace('"../fixtures/', f'"{REPO}/fixtures/')
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_user_error_is_one_line_exit_2(tmp_path, capsys) -> None:
    status = cli.main(["report", str(_bad_spec(tmp_path)), "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert status == 2
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith(
        "fieldexp: error: bad.toml: [randomization_inference]: unknown key 'rep'"
    )
    assert "Did you mean 'reps'?" in lines[0]
    assert "Traceback" not in err
    assert not (tmp_path / "o").exists()


def test_debug_shows_the_exception(tmp_path) -> None:
    with pytest.raises(SpecificationError, match="unknown key 'rep'"):
        cli.main(["--debug", "validate", str(_bad_spec(tmp_path))])


def test_missing_spec_file(tmp_path, capsys) -> None:
    assert cli.main(["validate", str(tmp_path / "nope.toml")]) == 2
    assert "not found" in capsys.readouterr().err


def test_module_entry_point_error_has_no_traceback(tmp_path) -> None:
    res = subprocess.run(
        [sys.executable, "-m", "fieldexp", "validate", str(_bad_spec(tmp_path))],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=REPO,
    )
    assert res.returncode == 2
    assert "Traceback" not in res.stderr
    assert res.stderr.startswith("fieldexp: error: bad.toml:")


def test_simulate_help_and_run(tmp_path, capsys) -> None:
    with pytest.raises(SystemExit) as info:
        cli.main(["simulate", "--help"])
    assert info.value.code == 0
    assert "examples" in capsys.readouterr().out.lower()
    assert cli.main(["simulate", "--voters", "300", "--seed", "1", "--out", str(tmp_path)]) == 0
    for name in ("voters", "vote_history", "assignment", "contacts", "table"):
        assert (tmp_path / f"{name}.csv").is_file()


def test_assign_polling_stations(tmp_path, capsys) -> None:
    """A station design (unit = precinct_id) is drawn from the official results file."""
    spec = tmp_path / "bureaux.toml"
    spec.write_text(
        f'[data.precinct_results]\npath = "{REPO}/fixtures/io/fr_results_2022.csv"\n'
        '[design]\nunit = "precinct_id"\nblocks = "commune_code"\nseed = 3\n'
        '[analysis]\nelection = "x"\n'
        '[outcomes.turnout]\ncolumn = "turnout"\nlevel = "precinct"\nestimands = ["ITT"]\n',
        encoding="utf-8",
    )
    assert cli.main(["assign", str(spec), "--out", str(tmp_path / "o"), "--no-progress"]) == 0
    assignment = pd.read_csv(tmp_path / "o" / "assignment.csv")
    assert assignment["precinct_id"].is_unique
    assert set(assignment["arm"]) == {0, 1}
    assert not (tmp_path / "o" / "walk_list.csv").exists()
    capsys.readouterr()
    # reporting needs the assignment back in the spec
    assert cli.main(["validate", str(spec)]) == 2
    assert "[data.precinct_assignment]" in capsys.readouterr().err


def test_demo_prints_the_estimator_the_report_headlines(demo_report, capsys) -> None:
    """`fieldexp demo` marks as 'headline' exactly the estimates the demo report headlines."""
    from fieldexp import cli

    assert cli.main(["demo"]) == 0
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if line.rstrip().endswith("headline")]
    assert len(rows) == 2
    by = {e.estimand: e for e in demo_report.report.estimates}
    itt_row = next(r for r in rows if r.lstrip().startswith("ITT"))
    cace_row = next(r for r in rows if r.lstrip().startswith("CACE"))
    assert f" {by['ITT'].estimator} " in itt_row and " 2sls " in cace_row
    assert f"{by['ITT'].estimate:.4f}" in itt_row and f"{by['ITT'].std_error:.4f}" in itt_row
    assert f"{by['CACE'].estimate:.4f}" in cace_row
    assert "headlines the rows marked 'headline': ITT by lin" in " ".join(out.split())


def test_report_command_prints_the_weak_instrument_caution_even_quiet(tmp_path, capsys) -> None:
    """The caution is in the printed headline, not only in a warning --quiet hides."""
    from conftest import write_small_experiment

    from fieldexp import cli

    spec = write_small_experiment(tmp_path / "weak", weak=True)
    assert cli.main(["report", str(spec), "--out", str(tmp_path / "out"), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "weak first stage" in out
    assert "withheld" in out and "Net votes gained" not in out
