"""format="auto" and `fieldexp inspect`: layout detection on every US layout."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

from fieldexp.cli import main
from fieldexp.errors import SpecificationError
from fieldexp.io import inspect_file, read_contacts, read_vote_history, read_voters
from fieldexp.io.detect import detect_layout


@pytest.mark.parametrize(
    ("name", "table", "fmt"),
    [
        ("van_contacts.csv", "contacts", "van"),
        ("nationbuilder_contacts.csv", "contacts", "nationbuilder"),
        ("contacts.csv", "contacts", "csv"),
        ("ncvhis.txt", "vote_history", "ncvhis"),
        ("ncvhis_old.txt", "vote_history", "ncvhis"),
        ("ohio.csv", "vote_history", "ohio"),
        ("l2.csv", "vote_history", "l2"),
        ("florida.txt", "vote_history", "florida"),
        ("history_long.csv", "vote_history", "long"),
        ("history_wide.csv", "vote_history", "wide"),
        ("voters.csv", "voters", "csv"),
        ("reu_extract.csv", "voters", "reu"),
        ("fr_results_2014.csv", "precinct_results", "fr-interieur"),
        ("fr_results_2017.csv", "precinct_results", "fr-interieur"),
        ("fr_results_2024.csv", "precinct_results", "fr-interieur"),
        ("assignment.csv", "assignment", "csv"),
        ("van_results.csv", "van_results", "csv"),
    ],
)
def test_detects_each_layout(io_fixtures, name, table, fmt):
    d = detect_layout(io_fixtures / name)
    assert (d.table, d.format) == (table, fmt), d.reason


def test_ohio_file_is_voters_or_history_by_table(io_fixtures):
    assert detect_layout(io_fixtures / "ohio.csv", table="voters").format == "csv"
    assert detect_layout(io_fixtures / "ohio.csv", table="vote_history").format == "ohio"


def test_auto_format_reads_like_the_stated_one(io_fixtures):
    for name, fmt in [("ncvhis.txt", "ncvhis"), ("l2.csv", "l2"), ("florida.txt", "florida")]:
        a = read_vote_history(io_fixtures / name, format="auto")
        b = read_vote_history(io_fixtures / name, format=fmt)
        pd.testing.assert_frame_equal(a, b)
        assert a.attrs["fieldexp_import"]["format"] == fmt
    c = read_contacts(io_fixtures / "nationbuilder_contacts.csv", format="auto")
    assert c.attrs["fieldexp_import"]["format"] == "nationbuilder"
    # REU ids are keyed with a secret salt (w-io-fr requires one of >= 16 characters)
    salt = {"options": {"id_salt": "test-salt-0123456789"}}
    v = read_voters(io_fixtures / "reu_extract.csv", format="auto", mapping=salt)
    assert v.attrs["fieldexp_import"]["format"] == "reu"


def test_auto_refuses_a_file_of_another_table(io_fixtures):
    with pytest.raises(SpecificationError, match="looks like contacts"):
        read_vote_history(io_fixtures / "van_contacts.csv", format="auto")


def test_inspect_reports_mapping_codes_and_snippet(tmp_path, io_fixtures):
    p = tmp_path / "nc.txt"
    text = (io_fixtures / "ncvhis.txt").read_text().splitlines()
    header, rows = text[0], text[1:]
    cols = header.split("\t")
    k = cols.index("voting_method")
    drifted = []
    for i, r in enumerate(rows):
        f = r.split("\t")
        if i % 10 == 0:
            f[k] = "DRONE DROP"
        drifted.append("\t".join(f))
    p.write_text("\n".join([header, *drifted]) + "\n")
    n_drone = sum(1 for i in range(len(rows)) if i % 10 == 0)
    ins = inspect_file(p)
    assert (ins.table, ins.format) == ("vote_history", "ncvhis")
    assert ins.unknown_codes == {"voting_method": {"DRONE DROP": n_drone}}
    assert ins.rows_read == len(rows)
    assert any("DRONE DROP" in s and "mapping={'codes'" in s for s in ins.snippets)
    assert any(c.source == "ncid" and c.canonical == "voter_id" for c in ins.columns)
    text_out = str(ins)
    assert "UNKNOWN" in text_out and 'mapping.codes."DRONE DROP" = { voted = 1' in text_out


def test_inspect_marks_personal_columns_and_never_prints_values(tmp_path):
    p = tmp_path / "v.csv"
    p.write_text(
        "VoterID,FirstName,Mail_Addr1,VoterStatus\n1,Zelda,9 Elm,ACTIVE\n2,Yuri,8 Oak,CONFIRMATION\n"
    )
    ins = inspect_file(p)
    personal = {c.source for c in ins.columns if c.personal}
    assert personal == {"FirstName", "Mail_Addr1"}
    out = str(ins)
    assert "Zelda" not in out and "9 Elm" not in out
    assert "CONFIRMATION" in out


def test_cli_inspect(capsys, io_fixtures, tmp_path):
    shutil.copy(io_fixtures / "van_contacts.csv", tmp_path / "van.csv")
    code = main(
        ["inspect", str(tmp_path / "van.csv"), "--results", str(io_fixtures / "van_results.csv")]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "contacts / format='van'" in out and "Not Home" in out
    assert main(["inspect", str(tmp_path / "missing.csv")]) == 2
    assert "not found" in capsys.readouterr().err


def test_inspect_van_without_results_lists_result_ids(io_fixtures):
    ins = inspect_file(io_fixtures / "van_contacts.csv")
    assert ins.error is not None and "results=" in ins.error
    ids = {c.code: c.rows for c in ins.codes if c.kind == "ResultID"}
    raw = pd.read_csv(io_fixtures / "van_contacts.csv", dtype=str)
    assert ids == raw["ResultID"].value_counts().to_dict()
    assert "--results" in str(ins)
