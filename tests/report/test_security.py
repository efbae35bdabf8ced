"""Security and privacy of the outputs: paths under --out, escaping, the leak check.

Hostile specs and data go through ``fieldexp report`` / ``fieldexp assign`` (exit status
2, nothing written where it should not be) and through the writers directly.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from fieldexp.cli import main
from fieldexp.errors import DataError, FileFormatError, SpecificationError
from fieldexp.report import write_report
from fieldexp.report.model import Provenance, Report, Section, Table
from fieldexp.report.render import render_csv, render_markdown
from fieldexp.report.safety import (
    Forbidden,
    csv_cell,
    csv_frame,
    find_leaks,
    forbidden_values,
    md_escape,
    safe_name,
    safe_path,
    write_text,
)
from fieldexp.spec.model import DataSource

REPO = Path(__file__).resolve().parents[2]

SPEC = """
[report]
title = {title}
organisation = {organisation}

[data.analysis_table]
path = "table.csv"

[analysis]
election = "2022_general"
clusters = "household_id"

[outcomes.turnout]
column = "voted"
label = {label}

[privacy]
small_cell = 5

[coverage]
by = [{by}]
"""


def _q(text: str) -> str:
    return json.dumps(text)  # a TOML basic string (JSON escapes are valid TOML escapes)


def write_table(folder: Path, n: int = 400, **extra: object) -> pd.DataFrame:
    """A small experiment with integer voter ids 1..n (the same digits as the counts)."""
    rng = np.random.default_rng(1)
    vid = np.arange(1, n + 1)
    hh = (vid + 1) // 2
    treated_hh = rng.random(hh.max() + 1) < 0.5
    assigned = treated_hh[hh].astype(int)
    attempted = assigned * (rng.random(n) < 0.8)
    contacted = attempted * (rng.random(n) < 0.5)
    voted = (rng.random(n) < 0.4 + 0.2 * contacted).astype(int)
    table = pd.DataFrame(
        {
            "voter_id": vid,
            "household_id": hh,
            "precinct_id": hh % 8 + 1,
            "assigned": assigned,
            "attempted": attempted,
            "contacted": contacted,
            "voted": voted,
        }
    )
    for name, values in extra.items():
        table[name] = values(table) if callable(values) else values
    table.to_csv(folder / "table.csv", index=False)
    return table


def write_spec(
    folder: Path,
    *,
    title: str = "Small experiment",
    organisation: str = "Test campaign",
    label: str = "Turnout",
    by: str = "precinct_id",
) -> Path:
    path = folder / "spec.toml"
    path.write_text(
        SPEC.format(title=_q(title), organisation=_q(organisation), label=_q(label), by=_q(by)),
        encoding="utf-8",
    )
    return path


def run_cli(*args: object) -> int:
    return main([str(a) for a in args])


def files_under(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())


# =========================================================================== names and paths
HOSTILE_NAMES = [
    "../../etc/passwd",
    "/etc/passwd",
    "..\\..\\windows\\system32",
    "C:\\evil",
    "a\x00b",
    "..",
    ".",
    ".bashrc",
    "-rf",
    "CON",
    "nul.txt",
    "COM1",
    "lpt9.csv",
    "x" * 400,
    "é" * 200,
    "tab\there\nnewline",
    "a:b",
    "",
]


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_safe_name_is_one_plain_component(name: str, tmp_path: Path) -> None:
    safe = safe_name(name)
    assert safe and "/" not in safe and "\\" not in safe and "\x00" not in safe
    assert not safe.startswith((".", "-")) and ":" not in safe
    assert safe.split(".")[0].upper() not in {"CON", "NUL", "COM1", "LPT9"}
    assert len(safe.encode("utf-8")) <= 120
    assert all(ch.isprintable() for ch in safe)
    assert safe_name(safe) == safe  # idempotent
    path = safe_path(tmp_path, "tables", f"{safe}.csv")
    assert path.is_relative_to(tmp_path.resolve()) and path.parent == tmp_path.resolve() / "tables"


def test_long_names_stay_distinct() -> None:
    assert safe_name("a" * 300 + "1") != safe_name("a" * 300 + "2")


def test_safe_path_refuses_a_link_pointing_outside(tmp_path: Path) -> None:
    out, outside = tmp_path / "out", tmp_path / "outside"
    out.mkdir()
    outside.mkdir()
    (out / "tables").symlink_to(outside, target_is_directory=True)
    with pytest.raises(SpecificationError, match="outside the output folder"):
        safe_path(out, "tables", "effects.csv")
    (out / "report.md").symlink_to(outside / "victim.txt")
    with pytest.raises(SpecificationError, match="outside the output folder"):
        write_text(out, ("report.md",), "x")
    assert list(outside.iterdir()) == []


def test_hard_link_to_a_file_outside_is_replaced_not_written_through(tmp_path: Path) -> None:
    out, outside = tmp_path / "out", tmp_path / "outside.txt"
    out.mkdir()
    outside.write_text("precious")
    os.link(outside, out / "report.md")
    write_text(out, ("report.md",), "new report\n")
    assert outside.read_text() == "precious"
    assert (out / "report.md").read_text() == "new report\n"
    assert sorted(p.name for p in out.iterdir()) == ["report.md"]  # no temporary file left


def test_nul_in_the_output_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SpecificationError, match="NUL"):
        safe_path(f"{tmp_path}/a\x00b", "report.md")


def test_safe_path_allows_links_inside(tmp_path: Path) -> None:
    out = tmp_path / "out"
    (out / "real").mkdir(parents=True)
    (out / "tables").symlink_to(out / "real", target_is_directory=True)
    path = write_text(out, ("tables", "a.csv"), "x\n")
    assert path == (out / "real" / "a.csv").resolve() and path.read_text() == "x\n"


def test_safe_path_never_names_the_folder_or_its_parent(tmp_path: Path) -> None:
    with pytest.raises(SpecificationError):
        safe_path(tmp_path)
    assert safe_path(tmp_path, "..") == tmp_path.resolve() / "_"
    assert safe_path(tmp_path, ".", "..") == tmp_path.resolve() / "_" / "_"


# =========================================================================== CSV injection
FORMULAS = [
    "=1+2",
    '=HYPERLINK("http://evil","x")',
    "+1+1",
    "-1+1",
    "@SUM(A1)",
    "\tx",
    "\r=1",
    " =1",
    "＝1+1",
    "-",
    "+",
    "=",
    "-cmd|' /C calc'!A0",
]


@pytest.mark.parametrize("cell", FORMULAS)
def test_formula_cells_are_neutralised(cell: str) -> None:
    assert csv_cell(cell) == "'" + cell


@pytest.mark.parametrize("value", ["-3", "-0.25", "+4", "1e-3", "-1.5e6", "P-01", "a=b", "", "x"])
def test_text_that_is_a_number_or_harmless_stays(value: str) -> None:
    assert csv_cell(value) == value


@pytest.mark.parametrize("value", [-3, -0.25, 0, float("-inf"), None, np.int64(-7)])
def test_numbers_stay_numbers(value: object) -> None:
    assert csv_cell(value) is value


def test_render_csv_neutralises_text_only() -> None:
    table = Table(
        "t",
        "T",
        ("=name", "n", "share"),
        ("text", "int", "pct"),
        (("=cmd", -3, -0.5), ("@x", 4, 0.25), ("-2", 1, None), ("+33 6 12 34 56", 2, 0.5)),
    )
    rows = list(csv.reader(io.StringIO(render_csv(table))))
    assert rows[0] == ["'=name", "n", "share"]
    assert rows[1] == ["'=cmd", "-3", "-0.5"]
    assert rows[2] == ["'@x", "4", "0.25"]
    assert rows[3] == ["-2", "1", ""]
    assert rows[4] == ["'+33 6 12 34 56", "2", "0.5"]


def test_csv_frame_keeps_numeric_columns_and_the_caller_frame() -> None:
    frame = pd.DataFrame({"a": ["=1", "ok", None], "b": [-1, 2, 3], "c": [-0.5, 1.0, 2.0]})
    before = frame.copy()
    out = csv_frame(frame)
    assert out["a"].tolist()[:2] == ["'=1", "ok"] and pd.isna(out["a"].iloc[2])
    assert out["b"].tolist() == [-1, 2, 3] and out["c"].tolist() == [-0.5, 1.0, 2.0]
    pd.testing.assert_frame_equal(frame, before)


# =========================================================================== Markdown
def test_md_escape_neutralises_markup() -> None:
    assert md_escape("<script>alert(1)</script>") == "\\<script>alert(1)\\</script>"
    assert md_escape("[x](javascript:alert(1))") == "\\[x\\](javascript:alert(1))"
    assert md_escape("# Heading") == "\\# Heading"
    assert md_escape("1. item") == "1\\. item"
    assert md_escape("0.1.0 and 2) x") == "0.1.0 and 2) x"
    assert md_escape("===") == "\\==="
    assert md_escape("+1.2 pts") == "+1.2 pts"
    assert md_escape("- item") == "\\- item"
    assert md_escape("a\n# b") == "a # b"
    assert md_escape("a | b", cell=True) == "a \\| b"
    assert md_escape("&lt;b&gt;") == "\\&lt;b\\&gt;"
    assert md_escape("$x^{$") == "\\$x\\^{\\$"
    assert md_escape("+1.2 pts", cell=True) == "+1.2 pts"
    assert md_escape("<10") == "<10"  # a suppressed count stays readable


def _report(*sections: Section, title: str = "T") -> Report:
    prov = Provenance("spec.toml", "0" * 64, "", (), (), ())
    return Report(title, "", None, tuple(sections), (), prov)


HOSTILE_LABEL = (
    "<script>alert(1)</script> [click](javascript:alert(1)) ![i](http://e/x.png) "
    "<img src=x onerror=alert(1)> *b* `c` $x^{$ &lt;"
)


def test_markdown_report_renders_no_markup_from_data() -> None:
    from markdown_it import MarkdownIt

    table = Table(
        "hostile",
        HOSTILE_LABEL,
        (HOSTILE_LABEL, "n"),
        ("text", "int"),
        ((HOSTILE_LABEL + " | injected | cells", 12), ("# not a heading", 3)),
        note=HOSTILE_LABEL,
    )
    section = Section(
        "s", "# " + HOSTILE_LABEL, ("- " + HOSTILE_LABEL, "\n## Injected heading"), (table,)
    )
    md = render_markdown(_report(section, title=HOSTILE_LABEL + "\n# Injected"))
    html = MarkdownIt("commonmark").enable("table").render(md)
    for tag in ("<script", "<a ", "<img", "<em>b</em>", "<code>", "<li>", "<ul>"):
        assert tag not in html, tag
    headings = [line for line in html.splitlines() if line.startswith(("<h1", "<h2", "<h3"))]
    assert len(headings) == 2  # the title and the section title, nothing injected
    assert not any("<h1>Injected" in h or "<h2>Injected" in h for h in headings)
    # the table keeps its shape: 2 columns in every row
    assert len(re.findall(r"<th[ >]", html)) == 2 and len(re.findall(r"<td[ >]", html)) == 4
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # shown as text


# =========================================================================== leak check
def _table(column: str, cells: list[str], key: str = "coverage_x") -> Table:
    return Table(key, "t", (column, "households"), ("text", "int"), tuple((c, 50) for c in cells))


def test_integer_ids_are_not_leaks_in_counts_or_area_labels() -> None:
    fb = Forbidden(ids=frozenset(str(i) for i in range(1, 1000)))
    report = _report(
        Section("s", "S", ("200 voters, 159 attempted",), (_table("precinct_id", ["1", "2", "3"]),))
    )
    assert find_leaks(report, ["200 voters, 159 attempted, precinct 3"], fb) == []


def test_integer_ids_in_an_id_column_are_leaks() -> None:
    fb = Forbidden(ids=frozenset(str(i) for i in range(1, 1000)))
    report = _report(Section("s", "S", (), (_table("voter_id", ["17", "18"]),)))
    assert find_leaks(report, [], fb) == ["table 'coverage_x', column 'voter_id': 2 input id(s)"]


def test_integer_cells_in_an_id_column_are_leaks_too() -> None:
    fb = Forbidden(ids=frozenset({"17", "18"}))
    table = Table("t", "t", ("VanID", "n"), ("text", "int"), ((17, 50), (18, 60)))
    assert find_leaks(_report(Section("s", "S", (), (table,))), [], fb) == [
        "table 't', column 'VanID': 2 input id(s)"
    ]


def test_letter_digit_ids_are_found_anywhere_even_inside_file_names() -> None:
    fb = Forbidden(ids=frozenset({"V0000017", "H-0042"}))
    assert find_leaks(None, ["see tables/coverage_V0000017.csv"], fb) == [
        "1 input id(s) in the text"
    ]
    assert find_leaks(None, ["household H-0042."], fb) == ["1 input id(s) in the text"]
    assert find_leaks(None, ["V00000170 and XH-00421"], fb) == []


def test_personal_values_in_a_group_column_are_leaks() -> None:
    fb = Forbidden(personal=frozenset({"alice", "bruno", "chloé", "12 rue de la paix"}))
    names = _report(Section("s", "S", (), (_table("zone", ["Alice", "Bruno", "Chloé"]),)))
    assert len(find_leaks(names, [], fb)) == 1
    address = _report(Section("s", "S", (), (_table("area", ["12  Rue de la Paix", "North"]),)))
    assert len(find_leaks(address, [], fb)) == 1


def test_a_place_named_like_a_person_is_not_a_leak() -> None:
    fb = Forbidden(personal=frozenset({"lincoln", "washington", "alice"}))
    report = _report(
        Section("s", "S", (), (_table("precinct", ["Lincoln", "Oak Park", "Riverside", "Elm"]),))
    )
    assert find_leaks(report, ["The Lincoln precinct"], fb) == []


def test_emails_are_found_anywhere() -> None:
    fb = Forbidden(personal=frozenset({"jane.doe@example.org"}))
    assert find_leaks(None, ["contact Jane.Doe@example.org now"], fb) == [
        "1 e-mail address(es) in the text"
    ]


def test_forbidden_values_reads_personal_columns_in_any_spelling() -> None:
    frame = pd.DataFrame(
        {
            "VanID": ["A1", "A2"],
            "FirstName": ["Alice", "Bruno"],
            "Date de naissance": ["1980-05-12", "1975-01-30"],
            "E-Mail": ["a@x.org", "b@x.org"],
            "age": [44, 49],
        }
    )
    fb = forbidden_values([frame])
    assert fb.ids == {"A1", "A2"}
    assert {"alice", "bruno", "1980-05-12", "a@x.org"} <= fb.personal
    assert "44" not in fb.personal


# =========================================================================== whole reports
def test_legitimate_report_with_small_integer_ids_passes(tmp_path: Path, capsys) -> None:
    table = write_table(tmp_path)
    assert set(table["voter_id"].astype(str)) >= {"1", "5", "74", "159", "200"}
    spec = write_spec(tmp_path)
    out = tmp_path / "out"
    assert run_cli("report", spec, "--out", out, "--no-progress", "--quiet") == 0
    names = {p.relative_to(out).as_posix() for p in files_under(out)}
    assert {"report.html", "report.md", "results.json", "tables/coverage_precinct_id.csv"} <= names
    # the counts (200 assigned per arm...) are voter ids too, and that is fine
    assert "| 200 |" in (out / "report.md").read_text()


def test_hostile_labels_are_escaped_everywhere(tmp_path: Path) -> None:
    from markdown_it import MarkdownIt

    write_table(tmp_path)
    formula = '=HYPERLINK("http://evil.example","click")'
    spec = write_spec(
        tmp_path,
        title="# Injected " + HOSTILE_LABEL,
        organisation="![x](http://evil.example/t.png)",
        label=formula + " $x^{",
    )
    out = tmp_path / "out"
    assert run_cli("report", spec, "--out", out, "--no-progress", "--quiet") == 0
    md = (out / "report.md").read_text()
    html_md = MarkdownIt("commonmark").enable("table").render(md)
    for tag in ("<script", "<a ", "<img"):
        assert tag not in html_md
    assert html_md.startswith("<h1># Injected &lt;script&gt;alert(1)&lt;/script&gt; [click]")
    page = (out / "report.html").read_text()
    assert "<script" not in page and "<img" not in page
    assert "$x^{" in page  # shown as written (figure labels: see the next test)
    effects = list(csv.reader((out / "tables" / "effects.csv").open()))
    col = effects[0].index("outcome")
    assert {row[col] for row in effects[1:]} == {"'" + formula + " $x^{"}
    estimates = list(csv.DictReader((out / "tables" / "estimates.csv").open()))
    assert {r["outcome_label"] for r in estimates} == {"'" + formula + " $x^{"}
    assert all(not r["estimate"].startswith("'") for r in estimates)


def test_math_text_in_figure_labels_is_drawn_as_text() -> None:
    from fieldexp.report.figures import bar_figure, forest_figure

    svg = forest_figure(
        ["$x^{", "a$b$", "$\\frac{"], [0.1, 0.2, 0.3], [0, 0, 0], [1, 1, 1], xlabel="$"
    )
    assert "$x^{" in svg and "a$b$" in svg and "$\\frac{" in svg
    svg = bar_figure(["<script>", "$x^{"], [("$y_{", [0.1, 0.2])], ylabel="$$")
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "$y_{" in svg


def test_personal_values_in_a_renamed_column_block_the_report(tmp_path: Path, capsys) -> None:
    first = np.array(["Alice", "Bruno", "Chloé", "Dimitri", "Emma", "Farid", "Gaëlle", "Hugo"])
    write_table(
        tmp_path,
        first_name=lambda t: first[t["household_id"] % 8],
        zone=lambda t: first[t["household_id"] % 8],  # the names, under an innocent header
    )
    spec = write_spec(tmp_path, by="zone")
    out = tmp_path / "out"
    assert run_cli("report", spec, "--out", out, "--no-progress", "--quiet") == 2
    err = capsys.readouterr().err
    assert "privacy check" in err and "column 'zone'" in err and "first_name" in err
    assert "Alice" not in err  # the message never repeats the values
    assert not out.exists() or files_under(out) == []


def test_personal_values_as_subgroups_block_the_report(tmp_path: Path, capsys) -> None:
    last = np.array(["Martin", "Bernard", "Dubois", "Thomas"])
    write_table(
        tmp_path,
        Nom=lambda t: last[t["household_id"] % 4],
        band=lambda t: last[t["household_id"] % 4],
    )
    spec = write_spec(tmp_path)
    spec.write_text(spec.read_text() + '\n[subgroups]\nby = "band"\n')
    out = tmp_path / "out"
    assert run_cli("report", spec, "--out", out, "--no-progress", "--quiet") == 2
    err = capsys.readouterr().err
    assert "privacy check" in err and "Nom" in err and "Martin" not in err
    assert not out.exists() or files_under(out) == []


def test_python_api_cannot_bypass_the_spec_check(tmp_path: Path) -> None:
    """A CoverageSpec built in Python skips validation; the leak check still refuses."""
    from dataclasses import replace

    from fieldexp.report import build_report, identifier_tokens, prepare_analysis
    from fieldexp.spec import load_spec
    from fieldexp.spec.model import CoverageSpec

    first = np.array(["Alice", "Bruno", "Chloé", "Dimitri"])
    write_table(tmp_path, first_name=lambda t: first[t["household_id"] % 4])
    spec = load_spec(write_spec(tmp_path))
    spec = replace(spec, coverage=CoverageSpec(by=("first_name",), canvasser=False))
    run = prepare_analysis(spec)
    report = build_report(spec, run=run)
    with pytest.raises(DataError, match=r"privacy check: .*column 'first_name'"):
        write_report(report, tmp_path / "out", forbidden=identifier_tokens(run))
    assert not (tmp_path / "out").exists()


def test_salt_never_reaches_an_output_and_only_its_value_is_redacted(tmp_path: Path) -> None:
    write_table(tmp_path)
    salt = "precinct_id-Turnout-2022"  # shares long runs of characters with the spec
    spec = write_spec(tmp_path)
    spec.write_text(spec.read_text().replace("small_cell = 5", f'small_cell = 5\nsalt = "{salt}"'))
    out = tmp_path / "out"
    assert run_cli("report", spec, "--out", out, "--no-progress", "--quiet") == 0
    for path in files_under(out):
        assert salt not in path.read_text("utf-8"), path.name
    doc = json.loads((out / "results.json").read_text())
    assert doc["provenance"]["spec_text"] == spec.read_text().replace(salt, "<redacted>")
    assert 'by = ["precinct_id"]' in doc["provenance"]["spec_text"]


def test_voter_ids_in_a_renamed_column_block_the_report(tmp_path: Path, capsys) -> None:
    write_table(tmp_path, zone=lambda t: t["voter_id"])
    spec = write_spec(tmp_path, by="zone")
    out = tmp_path / "out"
    assert run_cli("report", spec, "--out", out, "--no-progress", "--quiet") == 2
    err = capsys.readouterr().err
    assert "privacy check" in err and "(nearly) every row" in err
    assert not out.exists() or files_under(out) == []


@pytest.mark.parametrize(
    ("by", "message"),
    [
        ("first_name", "personal data"),
        ("FirstName", "personal data"),
        ("Birth Date", "personal data"),
        ("adresse", "personal data"),
        ("telephone", "personal data"),
        ("voter_id", "people one by one"),
        ("../../outside", "path separators"),
        ("..\\\\evil", "path separators"),
        ("CON", "reserved device name"),
    ],
)
def test_hostile_specs_refused_with_exit_2(tmp_path: Path, capsys, by: str, message: str) -> None:
    write_table(tmp_path)
    spec = write_spec(tmp_path, by=by)
    out = tmp_path / "out"
    assert run_cli("report", spec, "--out", out, "--no-progress") == 2
    assert message in capsys.readouterr().err
    assert not out.exists()
    # assign validates the same spec first (before it looks for a [design])
    assert run_cli("assign", spec, "--out", out, "--seed", "1", "--no-progress") == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_outcome_name_traversal_refused(tmp_path: Path, capsys) -> None:
    write_table(tmp_path)
    spec = write_spec(tmp_path)
    text = spec.read_text().replace("[outcomes.turnout]", '[outcomes."../../../escape"]')
    spec.write_text(text)
    assert run_cli("report", spec, "--out", tmp_path / "out", "--no-progress") == 2
    assert "outcome name" in capsys.readouterr().err
    assert not list(tmp_path.parent.glob("escape*"))


def test_link_inside_out_pointing_outside_is_refused(tmp_path: Path, capsys) -> None:
    write_table(tmp_path)
    spec = write_spec(tmp_path)
    out, outside = tmp_path / "out", tmp_path / "outside"
    out.mkdir()
    outside.mkdir()
    (outside / "keep.txt").write_text("precious")
    (out / "tables").symlink_to(outside, target_is_directory=True)
    (out / "report.md").symlink_to(outside / "keep.txt")
    assert run_cli("report", spec, "--out", out, "--no-progress", "--quiet") == 2
    assert "outside the output folder" in capsys.readouterr().err
    assert sorted(p.name for p in outside.iterdir()) == ["keep.txt"]
    assert (outside / "keep.txt").read_text() == "precious"
    assert not (out / "report.html").exists()  # nothing written when one path is refused


# =========================================================================== input files
@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes on this system")
def test_fifo_inputs_are_refused_without_blocking(tmp_path: Path) -> None:
    write_table(tmp_path)
    spec = write_spec(tmp_path)
    os.mkfifo(tmp_path / "pipe.toml")
    os.mkfifo(tmp_path / "pipe.csv")
    bad = tmp_path / "bad.toml"
    bad.write_text(spec.read_text().replace("table.csv", "pipe.csv"))
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    for args in (["report", "pipe.toml"], ["report", "bad.toml"], ["assign", "bad.toml"]):
        # the timeout only guards the suite against a hang; it is not a speed assertion
        done = subprocess.run(
            [sys.executable, "-m", "fieldexp.cli", *args, "--out", "o", "--no-progress"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 2, done.stderr
        assert "named pipe (FIFO)" in done.stderr


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes on this system")
def test_inspect_refuses_a_fifo_without_blocking(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.csv")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    for args in (["inspect", "pipe.csv"], ["inspect", "/dev/null"], ["inspect", "."]):
        # the timeout only guards the suite against a hang; it is not a speed assertion
        done = subprocess.run(
            [sys.executable, "-m", "fieldexp.cli", *args],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 2, done.stderr
        assert "not a regular file" in done.stderr or "directory" in done.stderr


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes on this system")
def test_read_source_rechecks_the_file_before_opening_it(tmp_path: Path) -> None:
    from fieldexp.report.inputs import read_source

    os.mkfifo(tmp_path / "later.csv")  # e.g. replaced after the spec was validated
    with pytest.raises(FileFormatError, match=r"\[data\.analysis_table\] path: .*FIFO"):
        read_source(DataSource("analysis_table", tmp_path / "later.csv"))
    (tmp_path / "dir").mkdir()
    with pytest.raises(FileFormatError, match="directory"):
        read_source(DataSource("voters", tmp_path / "dir"))
    with pytest.raises(FileFormatError, match="device"):
        read_source(DataSource("voters", Path("/dev/zero")))
    (tmp_path / "contacts.csv").write_text("voter_id\nV1\n")
    with pytest.raises(FileFormatError, match=r"\[data\.crosswalk\] path: .*FIFO"):
        read_source(
            DataSource(
                "contacts",
                tmp_path / "contacts.csv",
                options={"crosswalk": {"path": str(tmp_path / "later.csv")}},
            )
        )


def test_directory_as_spec_argument_is_refused(tmp_path: Path, capsys) -> None:
    assert run_cli("report", tmp_path, "--out", tmp_path / "o") == 2
    assert "is a directory" in capsys.readouterr().err


# =========================================================================== assign
VOTERS_SPEC = """
[data.voters]
path = "voters.csv"

[design]
unit = "voter_id"
clusters = "household_id"
blocks = "precinct_id"
arms = { 0 = 0.5, 1 = 0.5 }
seed = 3
balance_covariates = ["age"]

[analysis]
election = "2022_general"

[outcomes.turnout]
"""
PRECINCTS = ["=1+2", "@SUM(A1)", "-5", "+33 6 12 34", "P1", "\tTAB"]


def write_voters(folder: Path) -> Path:
    n = 120
    rng = np.random.default_rng(2)
    pd.DataFrame(
        {
            "voter_id": [f"V{i:04d}" for i in range(n)],
            "household_id": [f"H{i // 2:04d}" for i in range(n)],
            "precinct_id": np.array(PRECINCTS)[(np.arange(n) // 2) % 6],
            "age": rng.integers(18, 90, n),
        }
    ).to_csv(folder / "voters.csv", index=False)
    spec = folder / "assign.toml"
    spec.write_text(VOTERS_SPEC)
    return spec


def test_assign_outputs_neutralise_formulas(tmp_path: Path) -> None:
    spec = write_voters(tmp_path)
    out = tmp_path / "out"
    assert run_cli("assign", spec, "--out", out, "--no-progress") == 0
    for name in ("assignment.csv", "walk_list.csv"):
        frame = pd.read_csv(out / name, dtype=str, keep_default_na=False)
        seen = set(frame["precinct_id"])
        assert seen <= {"'=1+2", "'@SUM(A1)", "-5", "'+33 6 12 34", "P1", "'\tTAB"}, name
        assert "-5" in set(pd.read_csv(out / "assignment.csv", dtype=str)["precinct_id"])
    balance = pd.read_csv(out / "balance.csv")
    assert pd.api.types.is_float_dtype(balance["diff_1"])
    assert (out / "design.toml").read_text().startswith("fieldexp_design")
    if os.chmod in os.supports_fd:  # files with voter ids are readable by their owner only
        assert (out / "assignment.csv").stat().st_mode & 0o777 == 0o600
        assert (out / "walk_list.csv").stat().st_mode & 0o777 == 0o600
        assert (out / "balance.csv").stat().st_mode & 0o777 == 0o644


def test_assign_refuses_a_link_pointing_outside(tmp_path: Path, capsys) -> None:
    spec = write_voters(tmp_path)
    out, outside = tmp_path / "out", tmp_path / "outside"
    out.mkdir()
    outside.mkdir()
    (out / "walk_list.csv").symlink_to(outside / "walk_list.csv")
    assert run_cli("assign", spec, "--out", out, "--no-progress") == 2
    assert "outside the output folder" in capsys.readouterr().err
    assert list(outside.iterdir()) == []
    assert sorted(p.name for p in out.iterdir()) == ["walk_list.csv"]  # nothing else written


def test_write_report_refuses_two_tables_with_one_file(tmp_path: Path) -> None:
    section = Section(
        "s",
        "S",
        (),
        (_table("a", ["x"], key="coverage_a b"), _table("a", ["y"], key="coverage_a:b")),
    )
    with pytest.raises(SpecificationError, match="same file"):
        write_report(_report(section), tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_write_report_refuses_leaks_and_writes_nothing(tmp_path: Path) -> None:
    section = Section("s", "S", (), (_table("zone", ["Alice", "Bruno"]),))
    fb = Forbidden(personal=frozenset({"alice", "bruno"}), personal_columns=("first_name",))
    with pytest.raises(DataError, match=r"privacy check: .*column 'zone'.*first_name"):
        write_report(_report(section), tmp_path / "out", forbidden=fb)
    assert not (tmp_path / "out").exists()
