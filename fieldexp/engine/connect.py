"""Connecting to the engine a spec's ``[engine]`` names, through :func:`ibis.connect`.

The connection URL comes from an environment variable (``url_env``), a URL without secrets
(``url``) or, for DuckDB, a database file. Whatever the source, the URL is never written to
an output or an error message: errors show :func:`redact_url` (scheme, host, port and path;
no user, password or query).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from fieldexp.errors import DataError, SpecificationError

if TYPE_CHECKING:  # pragma: no cover
    import ibis.expr.types as ir

__all__ = ["connect_engine", "engine_table", "redact_url", "spark_conf"]

#: URL schemes accepted for each backend name (what ``ibis.connect`` dispatches on)
_SCHEMES = {
    "duckdb": ("duckdb",),
    "postgres": ("postgres", "postgresql"),
    "bigquery": ("bigquery",),
    "snowflake": ("snowflake",),
    "trino": ("trino",),
    "mysql": ("mysql",),
    "mssql": ("mssql",),
    "databricks": ("databricks",),
    "clickhouse": ("clickhouse",),
    "athena": ("athena",),
    "oracle": ("oracle",),
}


def redact_url(url: str) -> str:
    """``url`` without user, password, query or fragment (what messages may show)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "<unparseable URL>"
    if not parts.scheme:
        return "<URL>"
    return f"{parts.scheme}://{host}{port}{parts.path}"


def connect_engine(
    backend: str,
    *,
    database: str | Path | None = None,
    url: str | None = None,
    url_env: str | None = None,
) -> Any:
    """An Ibis backend connection for ``backend``.

    Parameters
    ----------
    backend
        ``duckdb``, ``spark`` or another Ibis backend name (``postgres``, ``bigquery``, ...).
    database
        DuckDB only: a database file, opened read-only.
    url
        A connection URL (without secrets; the spec parser refuses passwords).
    url_env
        The name of an environment variable holding the URL (it may hold credentials; they
        never appear in messages). For ``spark`` the variable/URL is the Spark master
        (default ``local[2]``).
    """
    import ibis

    if url_env is not None:
        value = os.environ.get(url_env)
        if not value:
            raise SpecificationError(
                f"[engine] url_env: the environment variable {url_env!r} is not set (or is "
                "empty); set it to the connection URL before running fieldexp"
            )
        url = value
    if backend == "spark":
        return _spark(url)
    if backend == "duckdb" and database is not None:
        path = Path(database)
        if not path.exists():
            raise SpecificationError(f"[engine] database: file {path.name!r} not found")
        try:
            return ibis.duckdb.connect(str(path), read_only=True)
        except Exception as exc:  # any driver error becomes one message
            raise DataError(
                f"[engine] database: {path.name!r} cannot be opened by DuckDB "
                f"({type(exc).__name__})"
            ) from None
    if url is None:
        raise SpecificationError(
            f"[engine] backend = {backend!r} needs url or url_env (or database for DuckDB)"
        )
    scheme = urlsplit(url).scheme.split("+")[0].lower()
    if scheme not in _SCHEMES.get(backend, (backend,)):
        raise SpecificationError(
            f"[engine] the URL is for {scheme or 'no scheme'!r}, not backend = {backend!r} "
            f"({redact_url(url)})"
        )
    try:
        return ibis.connect(url)
    except Exception as exc:  # the message may hold the URL: never shown
        raise DataError(
            f"[engine] cannot connect to {redact_url(url)} ({type(exc).__name__}); check the "
            "URL, the network and that the ibis backend is installed "
            f"(pip install 'ibis-framework[{backend}]')"
        ) from None


def spark_conf(master: str | None = None) -> dict[str, str]:
    """The Spark session settings fieldexp uses for ``master`` (default ``local[2]``).

    * ``spark.sql.shuffle.partitions``: Spark's default of 200 is meant for a cluster;
      in local mode every shuffle then writes 200 partition files per map task and runs
      200 reduce tasks on a few cores, so it is ``2 x cores`` there (cluster masters keep
      their own setting);
    * ``spark.sql.execution.arrow.pyspark.enabled``: aggregates reach the driver as Arrow
      batches instead of pickled rows (what every pull uses; G rows of cluster totals);
    * the web UI and console progress bar are off (no port opened, no output), and
      timestamps are UTC (what Ibis expects).
    """
    conf = {
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.execution.arrow.pyspark.enabled": "true",
    }
    master = master or "local[2]"
    if master.startswith("local"):
        inside = master[master.find("[") + 1 : master.find("]")] if "[" in master else "1"
        first = inside.split(",")[0]
        cores = str(os.cpu_count() or 2) if first == "*" else first
        try:
            n = max(1, int(cores))
        except ValueError:
            n = 2
        conf["spark.sql.shuffle.partitions"] = str(2 * n)
    return conf


def _spark(master: str | None) -> Any:
    import ibis

    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise SpecificationError(
            "[engine] backend = 'spark' needs pyspark: pip install 'fieldexp[spark]'"
        ) from None
    builder = SparkSession.builder.master(master or "local[2]").appName("fieldexp")
    for key, value in spark_conf(master).items():
        builder = builder.config(key, value)
    return ibis.pyspark.connect(builder.getOrCreate())


def engine_table(con: Any, name: str) -> ir.Table:
    """The table ``name`` (``table``, ``schema.table`` or ``catalog.schema.table``) of ``con``."""
    parts = name.split(".")
    try:
        if len(parts) == 1:
            return con.table(name)
        if len(parts) == 2:
            return con.table(parts[1], database=parts[0])
        return con.table(parts[2], database=(parts[0], parts[1]))
    except Exception as exc:  # table not found, no permission, ...
        raise DataError(
            f"[data] table {name!r}: not found in the engine or not readable ({type(exc).__name__})"
        ) from None
