"""The terminal never receives raw control characters; a salt file never sits under --out."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from fieldexp.cli import main, terminal_text
from fieldexp.errors import SpecificationError
from fieldexp.report.safety import refuse_secrets_inside
from fieldexp.spec import load_spec
from fieldexp.spec.load import secret_files

ROOT = Path(__file__).resolve().parents[1]


def test_terminal_text_escapes_control_and_bidi_characters() -> None:
    assert terminal_text("a\x1b[2Jb\u202ec\x07\x9b") == "a\\x1b[2Jb\\u202ec\\x07\\x9b"
    assert terminal_text("line\n\tnext é") == "line\n\tnext é"


def test_escape_sequence_in_a_file_header_is_shown_escaped(tmp_path, capsys) -> None:
    p = tmp_path / "contacts.csv"
    p.write_text("voter_id,\x1b]0;pwned\x07result,\x1b[31mdate\n1,x,2024-01-01\n")
    main(["inspect", str(p)])
    out = capsys.readouterr()
    text = out.out + out.err
    assert "\x1b" not in text and "\x07" not in text
    assert "\\x1b" in text


def _demo_with_salt_file(tmp_path: Path, salt: str) -> Path:
    shutil.copytree(ROOT / "fixtures" / "demo", tmp_path / "fixtures" / "demo")
    text = (ROOT / "analyses" / "demo.toml").read_text()
    (tmp_path / "analyses").mkdir()
    text = text.replace(
        'mapping.columns = { canvasser_id = "canvasser" }',
        'mapping.columns = { canvasser_id = "canvasser" }\n'
        f'mapping.options = {{ salt_file = "{salt}" }}',
    )
    spec = tmp_path / "analyses" / "demo.toml"
    spec.write_text(text)
    return spec


def test_secret_files_lists_reader_salt_files(tmp_path) -> None:
    spec = load_spec(_demo_with_salt_file(tmp_path, "../out/ids.salt"))
    paths = [p for _, p in secret_files(spec)]
    assert tmp_path / "analyses" / "../out/ids.salt" in paths
    with pytest.raises(SpecificationError, match=r"salt file 'ids\.salt' lies inside"):
        refuse_secrets_inside(tmp_path / "out", secret_files(spec))
    refuse_secrets_inside(tmp_path / "elsewhere", secret_files(spec))


def test_report_refuses_a_salt_file_inside_out(tmp_path, capsys) -> None:
    spec = _demo_with_salt_file(tmp_path, "../out/ids.salt")
    assert main(["report", str(spec), "--out", str(tmp_path / "out"), "--no-progress"]) == 2
    assert "lies inside the output folder" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
