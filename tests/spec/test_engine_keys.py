"""[engine] in a spec: backends, connections without secrets, engine tables in [data]."""

from __future__ import annotations

from pathlib import Path

import pytest

from fieldexp.errors import SpecificationError
from fieldexp.spec.engine import url_secret
from fieldexp.spec.load import parse_spec

BASE = """\
version = 1

[data.voters]
table = "main.voters"

[data.assignment]
table = "assignment"

[data.vote_history]
table = "cat.main.vote_history"

[analysis]
election = "general_2020_11_03"

[outcomes.turnout]
column = "voted"
"""


def spec(engine: str, base: str = BASE) -> object:
    return parse_spec(base + "\n[engine]\n" + engine, path=Path("/tmp/x/spec.toml"))


def test_duckdb_file_and_tables():
    s = spec('backend = "duckdb"\ndatabase = "campaign.duckdb"\n')
    e = s.engine
    assert e.backend == "duckdb"
    assert e.database == Path("/tmp/x/campaign.duckdb")
    assert e.tables == (
        ("voters", "main.voters"),
        ("assignment", "assignment"),
        ("vote_history", "cat.main.vote_history"),
    )
    assert s.data.voters is None  # an engine table, not a file


def test_url_env_and_url_without_password():
    assert spec('backend = "snowflake"\nurl_env = "FIELDEXP_ENGINE_URL"\n').engine.url_env == (
        "FIELDEXP_ENGINE_URL"
    )
    e = spec('backend = "postgres"\nurl = "postgres://analyst@db.example.org:5432/voters"\n')
    assert e.engine.url.startswith("postgres://analyst@")
    assert spec('backend = "pyspark"\n').engine.backend == "spark"


@pytest.mark.parametrize(
    ("url", "what"),
    [
        ("postgres://analyst:hunter2hunter2@db.example.org/voters", "a password"),
        ("snowflake://me@acct/db/schema?password=x", "'password'"),
        ("bigquery://project/dataset?credentials_info=abc", "'credentials_info'"),
        ("trino://me@host:443/hive?access_token=abc", "'access_token'"),
    ],
)
def test_url_with_a_secret_is_refused_with_what_to_do(url, what):
    backend = url.split(":")[0]
    with pytest.raises(SpecificationError) as exc:
        spec(f'backend = "{backend}"\nurl = "{url}"\n')
    msg = str(exc.value)
    assert what in msg and "url_env" in msg and "[engine] url" in msg
    assert url not in msg and "hunter2" not in msg  # the secret is not echoed
    assert url_secret(url) is not None


@pytest.mark.parametrize(
    ("engine", "match"),
    [
        ('backend = "redshift"\nurl_env = "X"\n', "Postgres|postgres"),
        ('backend = "duckdbb"\ndatabase = "a.duckdb"\n', "Did you mean"),
        ('backend = "postgres"\ndatabase = "a.duckdb"\n', 'for backend = "duckdb"'),
        ('backend = "postgres"\n', "url_env"),
        ('backend = "postgres"\nurl_env = "postgres://u:p@h/db"\n', "NAME of an environment"),
        ('backend = "duckdb"\ndatabase = "a"\nurl_env = "X"\n', "one of database, url"),
        ('backend = "duckdb"\ndatabase = "a"\npassword = "x"\n', "unknown key 'password'"),
    ],
)
def test_engine_refusals(engine, match):
    with pytest.raises(SpecificationError, match=match):
        spec(engine)


def test_engine_tables_need_an_engine_and_valid_names():
    with pytest.raises(SpecificationError, match="add an \\[engine\\] table"):
        parse_spec(BASE, path=Path("/tmp/x/spec.toml"))
    bad = BASE.replace('table = "assignment"', 'table = "assignment; DROP TABLE voters"')
    with pytest.raises(SpecificationError, match="must be a table name"):
        spec('backend = "duckdb"\ndatabase = "a.duckdb"\n', bad)
    other = BASE + '\n[data.precinct_results]\ntable = "results"\n'
    with pytest.raises(SpecificationError, match="can be engine tables"):
        spec('backend = "duckdb"\ndatabase = "a.duckdb"\n', other)
    no_tables = 'version = 1\n[data]\n[analysis]\nelection = "e"\n[outcomes.t]\ncolumn = "voted"\n'
    with pytest.raises(SpecificationError, match="names no engine table"):
        spec('backend = "duckdb"\ndatabase = "a.duckdb"\n', no_tables)
