"""The ``fieldexp`` command line: demo, help, and the one-line error path (exit status 2)."""

from __future__ import annotations

import subprocess
import sys
import warnings
from pathlib import Path

import pandas as pd
import pytest

import fieldexp as fx
from fieldexp import cli
from fieldexp.errors import DataError

REPO = Path(__file__).resolve().parents[1]


def _run(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fieldexp", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO,
        check=False,
    )


@pytest.fixture(scope="module")
def demo_run() -> subprocess.CompletedProcess[str]:
    return _run("demo")


def test_demo_exits_zero_and_prints_itt_and_cace(demo_run) -> None:
    assert demo_run.returncode == 0, demo_run.stderr
    out = demo_run.stdout
    assert "ITT" in out and "CACE" in out
    assert "Traceback" not in demo_run.stderr
    assert "first stage" in out


def test_demo_numbers_match_the_api(demo_run) -> None:
    """The printed ITT (block-weighted DIM) and CACE rows are what the API computes."""
    path = REPO / "fixtures" / "demo" / "table.csv"
    if not path.exists():
        pytest.skip("fixtures/demo/table.csv not present")
    table = pd.read_csv(path)
    design = {"blocks": "precinct_id", "clusters": "household_id"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        itt = fx.itt(table, "voted", "assigned", **design)
        cace = fx.cace(table, "voted", "contacted", "assigned", **design)
    lines = demo_run.stdout.splitlines()
    itt_line = next(line for line in lines if line.strip().startswith("ITT turnout (block"))
    cace_line = next(
        line for line in lines if line.strip().startswith("CACE turnout (2SLS, precinct")
    )
    assert f"{itt.estimate:.4f}" in itt_line and f"{itt.std_error:.4f}" in itt_line
    assert f"{cace.estimate:.4f}" in cace_line and f"{cace.std_error:.4f}" in cace_line
    assert f"{len(table)}" in itt_line


def test_help_via_console_script() -> None:
    """`fieldexp --help` through the installed entry point (falls back to `python -m`)."""
    script = Path(sys.executable).parent / "fieldexp"
    if script.exists():
        res = subprocess.run(
            [str(script), "--help"], capture_output=True, text=True, timeout=60, check=False
        )
    else:
        res = _run("--help", timeout=60)
    assert res.returncode == 0, res.stderr
    assert "usage: fieldexp" in res.stdout
    assert "demo" in res.stdout and "simulate" in res.stdout


def test_main_help_and_version_exit_zero(capsys) -> None:
    with pytest.raises(SystemExit) as info:
        cli.main(["--help"])
    assert info.value.code == 0
    assert "demo" in capsys.readouterr().out
    with pytest.raises(SystemExit) as info:
        cli.main(["--version"])
    assert info.value.code == 0
    assert fx.__version__ in capsys.readouterr().out


def test_missing_command_is_a_usage_error(capsys) -> None:
    with pytest.raises(SystemExit) as info:
        cli.main([])
    assert info.value.code == 2
    assert "usage:" in capsys.readouterr().err


def _broken_demo(tmp_path: Path) -> Path:
    bad = pd.DataFrame(
        {
            "voted": [1, 0, 1, 0, 1, 0, 1, 0],
            "assigned": [1, 2, 1, 0, 1, 0, 2, 0],  # non-binary assignment
            "contacted": [1, 0, 0, 0, 1, 0, 0, 0],
            "precinct_id": ["p1"] * 4 + ["p2"] * 4,
            "household_id": [f"h{i}" for i in range(8)],
            "voted_2016": 0,
            "voted_2018": 0,
            "voted_2020": 0,
            "age": 40,
        }
    )
    path = tmp_path / "table.csv"
    bad.to_csv(path, index=False)
    return path


def test_fieldexp_error_exits_2_with_one_line(monkeypatch, tmp_path, capsys) -> None:
    path = _broken_demo(tmp_path)
    monkeypatch.setattr(cli, "_demo_table_path", lambda: path)
    status = cli.main(["demo"])
    captured = capsys.readouterr()
    assert status == 2
    err_lines = [line for line in captured.err.splitlines() if line.strip()]
    assert len(err_lines) == 1
    assert err_lines[0].startswith("fieldexp: error: column 'assigned'")
    assert "must be binary" in err_lines[0]
    assert "Traceback" not in captured.err


def test_debug_flag_shows_the_exception(monkeypatch, tmp_path) -> None:
    path = _broken_demo(tmp_path)
    monkeypatch.setattr(cli, "_demo_table_path", lambda: path)
    with pytest.raises(DataError, match="must be binary"):
        cli.main(["--debug", "demo"])
