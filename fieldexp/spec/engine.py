"""The ``[engine]`` table of a spec: where the inputs live when they are engine tables.

.. code-block:: toml

    [engine]
    backend = "duckdb"                 # duckdb, spark, bigquery, snowflake, postgres, trino, ...
    database = "campaign.duckdb"       # DuckDB: a database file (relative to the spec), or
    url_env = "FIELDEXP_ENGINE_URL"    # the NAME of an environment variable holding the URL, or
    url = "postgres://analyst@db.example.org:5432/voters"  # a URL without a password

    [data.voters]
    table = "main.voters"              # an engine table instead of a file path

The spec is shared and echoed in reports, so it never holds a secret: a URL with a
password, token or key is refused, with what to do instead (put the whole URL in an
environment variable and name the variable in ``url_env``). ``[data.<name>] table`` keys
are taken out of ``[data]`` here (they name engine tables, not files); the file sources that
remain are parsed as before.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from fieldexp.errors import did_you_mean
from fieldexp.spec.reader import Section

__all__ = ["BACKENDS", "ENGINE_TABLES", "EngineSpec", "parse_engine", "url_secret"]

#: Ibis backends a spec may name (``spark`` is Ibis' ``pyspark``).
BACKENDS = (
    "duckdb",
    "spark",
    "bigquery",
    "snowflake",
    "postgres",
    "trino",
    "mysql",
    "mssql",
    "databricks",
    "clickhouse",
    "athena",
    "oracle",
)
#: the canonical inputs that may be engine tables
ENGINE_TABLES = ("voters", "assignment", "contacts", "vote_history")
_SECRET_PARAMS = re.compile(r"pass|pwd|secret|token|key|credential|auth", re.IGNORECASE)
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_TABLE_NAME = re.compile(r"^[A-Za-z0-9_$-]+(\.[A-Za-z0-9_$-]+){0,2}$")


@dataclass(frozen=True, slots=True)
class EngineSpec:
    """``[engine]``: the backend, how to reach it (never a secret) and the engine tables.

    ``tables`` maps canonical inputs (``voters``, ``assignment``, ``contacts``,
    ``vote_history``) to engine table names (``schema.table`` or ``catalog.schema.table``).
    """

    backend: str
    database: Path | None = None
    url: str | None = None
    url_env: str | None = None
    tables: tuple[tuple[str, str], ...] = ()

    def table(self, name: str) -> str | None:
        return dict(self.tables).get(name)


def url_secret(url: str) -> str | None:
    """What in ``url`` is a secret (a password, or a query parameter such as ``token``), if any."""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return "a URL that cannot be parsed"
    if password:
        return "a password"
    for key, _ in parse_qsl(parts.query, keep_blank_values=True):
        if _SECRET_PARAMS.search(key):
            return f"the query parameter {key!r}"
    return None


def parse_engine(raw: dict[str, Any], file: str, folder: Path) -> EngineSpec | None:
    """Parse ``[engine]`` and take the ``table`` keys out of ``raw["data"]`` (None without it).

    ``raw`` is the spec's TOML document; the ``[data.<name>]`` tables that name an engine
    table are removed from it so the file-source parser sees only files.
    """
    data = raw.get("data")
    engine_raw = raw.pop("engine", None)
    named: dict[str, str] = {}
    if isinstance(data, dict):
        for name in list(data):
            sub = data[name]
            if isinstance(sub, dict) and "table" in sub:
                where = Section(sub, f"data.{name}", file)
                if engine_raw is None:
                    where.fail(
                        "names an engine table; add an [engine] table (backend and connection)",
                        key="table",
                    )
                if name not in ENGINE_TABLES:
                    where.fail(
                        f"only {', '.join(ENGINE_TABLES)} can be engine tables; {name!r} is read "
                        "from a file (path = ...)",
                        key="table",
                    )
                value = where.get("table", str)
                if not _TABLE_NAME.match(value):
                    where.fail(
                        "must be a table name, optionally qualified (schema.table or "
                        f"catalog.schema.table), letters, digits and _ only; got {value!r}",
                        key="table",
                    )
                where.finish()
                named[name] = value
                del data[name]
    if engine_raw is None:
        return None
    sec = Section(engine_raw, "engine", file)
    backend = sec.get("backend", str)
    if backend == "pyspark":
        backend = "spark"
    if backend == "redshift":
        sec.fail(
            'Redshift has no Ibis backend. Use backend = "postgres" against the cluster\'s '
            "endpoint (Redshift speaks the PostgreSQL wire protocol); docs/scale.md lists what "
            "works that way and its limits",
            key="backend",
        )
    if backend not in BACKENDS:
        sec.fail(
            f"must be one of {', '.join(BACKENDS)}; got {backend!r}."
            + did_you_mean(backend, list(BACKENDS)),
            key="backend",
        )
    database = sec.get("database", str, None)
    url = sec.get("url", str, None)
    url_env = sec.get("url_env", str, None)
    sec.finish()
    given = [k for k, v in (("database", database), ("url", url), ("url_env", url_env)) if v]
    if len(given) > 1:
        sec.fail(f"give one of database, url or url_env; got {', '.join(given)}", key=given[1])
    if database is not None and backend != "duckdb":
        sec.fail('database (a file) is for backend = "duckdb"; use url or url_env', key="database")
    if url is not None:
        secret = url_secret(url)
        if secret is not None:
            sec.fail(
                f"the URL holds {secret}: a spec is shared and echoed in reports, so it never "
                "holds a secret. Put the whole URL in an environment variable and name it "
                'here instead: url_env = "FIELDEXP_ENGINE_URL"',
                key="url",
            )
    if url_env is not None and not _ENV_NAME.match(url_env):
        sec.fail(
            "must be the NAME of an environment variable (letters, digits, _), not its value",
            key="url_env",
        )
    if not given and backend != "spark":
        sec.fail(
            "says where the engine is: database (DuckDB file), url (no password) or url_env "
            "(the name of an environment variable holding the URL)",
            key=None,
        )
    path = None
    if database is not None:
        p = Path(database)
        path = p if p.is_absolute() else (folder / p)
    if not named:
        sec.fail(
            'names no engine table: give [data.voters] table = "schema.voters" (and '
            "assignment, vote_history, contacts)",
            key=None,
        )
    return EngineSpec(
        backend=backend,
        database=path,
        url=url,
        url_env=url_env,
        tables=tuple((n, named[n]) for n in ENGINE_TABLES if n in named),
    )
