"""Mapping tables: shipped defaults and user overrides (dict, DataFrame, CSV, TOML)."""

from __future__ import annotations

import pandas as pd
import pytest

from fieldexp.errors import SpecificationError
from fieldexp.io import mapping_table, read_vote_history
from fieldexp.io.mappings import MAPPING_TABLES, normalize_name, parse_mapping


def test_shipped_tables_load():
    for name in MAPPING_TABLES:
        t = mapping_table(name)
        assert len(t) > 0
    t = mapping_table("contact_results")
    assert set(t["attempted"]) <= {"0", "1"} and set(t["contacted"]) <= {"0", "1"}
    # contacted implies attempted in every default row
    assert not ((t["contacted"] == "1") & (t["attempted"] == "0")).any()
    with pytest.raises(SpecificationError, match="Did you mean 'columns'"):
        mapping_table("colums")


def test_normalize_name():
    assert normalize_name("N°Panneau") == normalize_name("N Panneau") == "n panneau"
    assert normalize_name("Code du b.vote") == "code du b vote"
    assert normalize_name("Exprimés") == "exprimes"


def test_parse_forms(tmp_path):
    assert parse_mapping({"A": "voter_id"}).columns == {"A": "voter_id"}
    spec = parse_mapping({"columns": {"A": "voter_id"}, "options": {"encoding": "cp1252"}})
    assert spec.option("encoding") == "cp1252"
    spec = parse_mapping(pd.DataFrame({"source": ["A"], "canonical": ["voter_id"]}))
    assert spec.columns == {"A": "voter_id"}
    spec = parse_mapping(pd.DataFrame({"code": ["Q"], "status": ["removed"]}))
    assert spec.codes is not None
    p = tmp_path / "m.csv"
    p.write_text("source,canonical\nA,voter_id\n")
    assert parse_mapping(p).columns == {"A": "voter_id"}
    with pytest.raises(
        SpecificationError, match=r"unknown option 'encodng'.*Did you mean 'encoding'"
    ):
        parse_mapping({"options": {"encodng": "x"}})
    with pytest.raises(SpecificationError, match="not found"):
        parse_mapping(tmp_path / "missing.csv")
    with pytest.raises(SpecificationError, match="needs 'source, canonical'"):
        parse_mapping(pd.DataFrame({"x": [1]}))
    with pytest.raises(SpecificationError, match="mapping must be"):
        parse_mapping(42)


def test_toml_mapping_file(tmp_path):
    h = tmp_path / "h.txt"
    h.write_text(
        "Registrant\tDate\tDesc\tHow\nA\t11/08/2016\t11/08/2016 GENERAL\tBY CARRIER PIGEON\n"
    )
    m = tmp_path / "m.toml"
    m.write_text(
        '[columns]\nRegistrant = "voter_id"\nDate = "election_date"\nDesc = "election_desc"\nHow = "method"\n'
        '[codes."BY CARRIER PIGEON"]\nvoted = 1\nmethod = "mail"\n'
    )
    out = read_vote_history(h, format="ncvhis", mapping=m)
    assert out["method"].tolist() == ["mail"] and out["voter_id"].tolist() == ["A"]


def test_code_table_wrong_columns(tmp_path):
    h = tmp_path / "h.csv"
    h.write_text("voter_id,election_date,election_type,voted\n1,2020-11-03,general,Y\n")
    with pytest.raises(SpecificationError, match="needs columns"):
        read_vote_history(
            h, mapping={"codes": pd.DataFrame({"code": ["Y"], "x": ["1"], "y": ["2"]})}
        )
