"""Engine tables: detection, conversion to Ibis, and the one place aggregates are pulled.

An *engine table* is an :class:`ibis.Table` (DuckDB, Spark, BigQuery, ...), a Polars
``DataFrame``/``LazyFrame`` or a PyArrow ``Table``. Polars and Arrow data are wrapped with
:func:`ibis.memtable` and aggregated by DuckDB, without a pandas copy of the unit rows.

Every result leaves the engine through :func:`pull`, which logs rows and bytes at debug
level and reports them to :func:`record_pulls` (tests assert the bound: rows pulled never
exceed the number of groups of the pass).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from fieldexp.errors import SpecificationError

if TYPE_CHECKING:  # pragma: no cover
    import ibis.expr.types as ir
    import pyarrow as pa

__all__ = ["PullRecord", "as_ibis", "is_engine_table", "pull", "record_pulls"]

log = logging.getLogger("fieldexp.engine")

_ENGINE_TYPES = (
    ("ibis", "Table"),
    ("polars", "DataFrame"),
    ("polars", "LazyFrame"),
    ("pyarrow", "Table"),
)


def is_engine_table(data: object) -> bool:
    """True for an Ibis table, a Polars DataFrame/LazyFrame or a PyArrow Table.

    Detection never imports a library the caller has not imported already.
    """
    for module, name in _ENGINE_TYPES:
        if module not in sys.modules:
            continue
        if module == "ibis":
            import ibis.expr.types as ir

            if isinstance(data, ir.Table):
                return True
            continue
        cls = getattr(sys.modules[module], name, None)
        if cls is not None and isinstance(data, cls):
            return True
    return False


def as_ibis(data: object, *, function: str) -> ir.Table:
    """The Ibis table behind an engine table (Polars/Arrow through :func:`ibis.memtable`)."""
    import ibis
    import ibis.expr.types as ir

    if isinstance(data, ir.Table):
        return data
    if is_engine_table(data):
        return ibis.memtable(data)
    raise SpecificationError(
        f"The 'data' parameter of {function} must be a pandas DataFrame, an ibis Table, a "
        f"Polars DataFrame/LazyFrame or a PyArrow Table. Got {type(data).__name__} instead."
    )


@dataclass(frozen=True, slots=True)
class PullRecord:
    """One aggregate moved from the engine: what it was, its rows and Arrow bytes.

    ``expr`` is the Ibis expression that produced it (compiled to SQL by the snapshot tests).
    """

    what: str
    rows: int
    nbytes: int
    expr: object = field(default=None, repr=False, compare=False)


_RECORDERS: list[list[PullRecord]] = []


@contextmanager
def record_pulls() -> Iterator[list[PullRecord]]:
    """Collect a :class:`PullRecord` for every aggregate pulled inside the block."""
    records: list[PullRecord] = []
    _RECORDERS.append(records)
    try:
        yield records
    finally:
        _RECORDERS.remove(records)


def pull(expr: ir.Table, what: str) -> pa.Table:
    """Execute an aggregate expression and return it as Arrow (the only exit from the engine)."""
    out = expr.to_pyarrow()
    rec = PullRecord(what, int(out.num_rows), int(out.nbytes), expr)
    log.debug("engine pull %s: %d rows, %d bytes", what, rec.rows, rec.nbytes)
    for records in _RECORDERS:
        records.append(rec)
    return out
