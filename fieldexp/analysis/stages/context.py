"""What every stage of the analysis-table build shares: the connection, the inputs, the entries."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from fieldexp.analysis.reconciliation import SET_ASIDE, USED, ReconciliationEntry
from fieldexp.errors import (
    ColumnNotFoundError,
    FileFormatError,
    SpecificationError,
    did_you_mean,
)

__all__ = ["Build", "Inputs", "Source", "arrow_frame", "ident", "quote"]

Source = pd.DataFrame | str | Path


#: rows per Arrow batch when a CSV input is read (each batch is encoded on its own)
CSV_BATCH_ROWS = 1 << 20


def quote(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def ident(name: str) -> str:
    """A quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


class Inputs:
    """Registers each input as a DuckDB relation with a ``_row`` position column."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con
        self.labels: dict[str, pd.Index | None] = {}
        self.columns: dict[str, list[str]] = {}
        self.imports: list[dict[str, object]] = []
        self._held: dict[str, pd.DataFrame | pa.Table] = {}  # rows DuckDB scans
        self._pending: dict[str, tuple[Path, Sequence[str] | None]] = {}  # lazy CSV inputs
        self._limit: int | None = None  # DuckDB's memory limit (bytes) before any CSV was held
        self._csv: set[str] = set()  # inputs read from CSV (held outside the caller's data)

    def add(
        self, name: str, obj: Source, keep: Sequence[str] | None = None, *, lazy: bool = False
    ) -> None:
        """Register ``obj`` as ``raw_<name>``; ``keep``: the only columns a CSV input is
        materialised with (the others are listed, never stored); ``lazy``: a CSV input is
        only read by :meth:`ensure` (its header now), so that one large file at a time is
        held in memory."""
        view = f"raw_{name}"
        listed: list[str] | None = None  # the file's header when fewer columns are stored
        if isinstance(obj, pd.DataFrame):
            imp = obj.attrs.get("fieldexp_import")
            if isinstance(imp, dict):
                self.imports.append({"table": name, **imp})
            frame = obj.reset_index(drop=True)
            frame = frame.assign(_row=np.arange(len(frame), dtype=np.int64))
            held: pd.DataFrame | pa.Table = arrow_frame(frame) or frame
            self._held[name] = held
            self.con.register(view, held)
            idx = obj.index
            trivial = isinstance(idx, pd.RangeIndex) and idx.start == 0 and idx.step == 1
            self.labels[name] = None if trivial else idx
        elif isinstance(obj, (str, Path)):
            p = Path(obj)
            if not p.exists():
                raise SpecificationError(f"{name}: file {str(p)!r} not found")
            suffix = p.suffix.lower()
            if suffix in (".parquet", ".pq") or p.is_dir():
                pattern = str(p / "*.parquet") if p.is_dir() else str(p)
                sql = (
                    f"CREATE VIEW {view} AS SELECT * EXCLUDE (file_row_number), "
                    f"file_row_number AS _row FROM read_parquet(?, file_row_number = true)"
                )
                self.con.execute(sql.replace("?", quote(pattern)))
            elif suffix in (".csv", ".txt", ".tsv", ".gz"):
                if lazy:
                    listed = self._csv_header(name, p)
                    self._pending[name] = (p, keep)
                else:
                    table, listed = self._read_csv(name, p, keep)
                    self._held[name] = table
                    self._csv.add(name)
                    self.con.register(view, table)
                    self._budget()
            else:
                raise SpecificationError(
                    f"{name}: {p.name!r} must be a DataFrame, a Parquet file/folder or a CSV file"
                )
            self.labels[name] = None
        else:
            raise SpecificationError(
                f"{name}: expected a DataFrame or the path of a Parquet/CSV file; got "
                f"{type(obj).__name__}"
            )
        self.columns[name] = listed or [
            r[0] for r in self.con.execute(f"DESCRIBE {view}").fetchall() if r[0] != "_row"
        ]

    def ensure(self, name: str) -> None:
        """Read a lazily added CSV input now (nothing for other inputs)."""
        pending = self._pending.pop(name, None)
        if pending is not None:
            table, _ = self._read_csv(name, *pending)
            self._held[name] = table
            self._csv.add(name)
            self.con.register(f"raw_{name}", table)
            self._budget()

    def _budget(self) -> None:
        """DuckDB's memory limit less the CSV rows held in Arrow outside it, so that the two
        together stay within the limit the caller set (DuckDB spills its joins instead)."""
        if self._limit is None:
            rows = self.con.execute("SELECT current_setting('memory_limit')").fetchall()
            self._limit = _setting_bytes(rows[0][0])
        if self._limit is None:
            return
        held = sum(t.nbytes for n, t in self._held.items() if n in self._csv)
        left = max(self._limit - held, self._limit // 4)
        self.con.execute(f"SET memory_limit = '{max(left // 2**20, 64)}MiB'")

    def _csv_header(self, name: str, p: Path) -> list[str]:
        source = f"read_csv({quote(str(p))}, header = true)"
        try:
            return [r[0] for r in self.con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()]
        except duckdb.Error as exc:
            raise FileFormatError(f"{name}: {p.name!r} cannot be read as CSV: {exc}") from None

    def _read_csv(
        self, name: str, p: Path, keep: Sequence[str] | None
    ) -> tuple[pa.Table, list[str] | None]:
        """DuckDB's CSV reader (its sniffer, types and errors), streamed into a compact
        Arrow table in file order with ``_row`` = the data row's position (0-based).

        The rows stay outside DuckDB's memory limit, which the joins then have to
        themselves: text columns that repeat (the first batch has at most half as many
        distinct values as rows) are dictionary-encoded batch by batch, and the
        ``voted`` column of a vote history is stored as 8-bit integers when its values fit.
        Values are unchanged: DuckDB reads dictionary columns as the same text.
        """
        source = f"read_csv({quote(str(p))}, header = true)"
        listed: list[str] | None = None
        select = "*"
        # order-preserving parallel read: batch i of the reader holds the file's i-th rows
        self.con.execute("SET preserve_insertion_order = true")
        try:
            if keep is not None:
                header = self._csv_header(name, p)
                listed = header
                kept = [c for c in header if c in keep]
                select = ", ".join(ident(c) for c in kept) if kept else "*"
            rel = self.con.sql(f"SELECT {select} FROM {source}")
            # DuckDB >= 1.4: to_arrow_reader; older releases: fetch_arrow_reader
            reader_of = getattr(rel, "to_arrow_reader", None) or rel.fetch_arrow_reader
            reader = reader_of(CSV_BATCH_ROWS)
            batches: list[pa.RecordBatch] = []
            encode: set[int] | None = None
            narrow: set[int] = set()
            offset = 0
            for batch in reader:
                if encode is None:
                    encode = {
                        i
                        for i, f in enumerate(batch.schema)
                        if pa.types.is_string(f.type) or pa.types.is_large_string(f.type)
                        if 2 * pc.count_distinct(batch.column(i)).as_py() <= batch.num_rows
                    }
                    narrow = {
                        i
                        for i, f in enumerate(batch.schema)
                        if keep is not None and f.name == "voted" and pa.types.is_integer(f.type)
                    }
                columns = []
                for i, col in enumerate(batch.columns):
                    if i in encode:
                        col = pc.dictionary_encode(col)
                    elif i in narrow:
                        col = _narrow_int8(col)
                    columns.append(col)
                # positions as 32-bit integers while they fit (widened by _unify otherwise)
                kind = np.int32 if offset + batch.num_rows < 2**31 else np.int64
                columns.append(pa.array(np.arange(offset, offset + batch.num_rows, dtype=kind)))
                offset += batch.num_rows
                batches.append(pa.record_batch(columns, names=[*batch.schema.names, "_row"]))
            del reader
        except (duckdb.Error, OSError, pa.ArrowException) as exc:
            # DuckDB's reader errors reach us through the Arrow stream as OSError/ArrowException
            raise FileFormatError(f"{name}: {p.name!r} cannot be read as CSV: {exc}") from None
        finally:
            self.con.execute("SET preserve_insertion_order = false")
        if not batches:
            empty = self.con.sql(f"SELECT {select} FROM {source} LIMIT 0").to_arrow_table()
            return empty.append_column("_row", pa.array([], type=pa.int64())), listed
        return _unify(batches), listed

    def release(self, name: str) -> None:
        """Drop input ``name`` once no later stage reads it (frees its rows)."""
        if self._held.pop(name, None) is not None:
            self.con.unregister(f"raw_{name}")
            pa.default_memory_pool().release_unused()
            if self._limit is not None:
                self._budget()

    def require(self, name: str, cols: Sequence[str]) -> None:
        have = self.columns[name]
        for c in cols:
            if c not in have:
                raise ColumnNotFoundError(
                    f"{name}: column {c!r} not found (columns: {have[:12]}).{did_you_mean(c, have)}"
                )

    def rows(self, name: str, positions: Sequence[int]) -> tuple[object, ...]:
        labels = self.labels.get(name)
        pos = [int(p) for p in positions]
        if labels is None:
            return tuple(pos)
        return tuple(labels[p].item() if hasattr(labels[p], "item") else labels[p] for p in pos)


class Build:
    """One build: the connection, the registered inputs and the reconciliation entries."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con
        self.inputs = Inputs(con)
        self.entries: list[ReconciliationEntry] = []

    def q(self, sql: str) -> duckdb.DuckDBPyConnection:
        return self.con.execute(sql)

    def one(self, sql: str) -> Any:
        """The first value of the first row of ``sql`` (None when there is no row)."""
        rows = self.con.execute(sql).fetchall()  # scalar queries; leaves the connection free
        return rows[0][0] if rows else None

    def firsts(self, table: str, positions: Sequence[Any] | None) -> tuple[object, ...]:
        """The labels of the first five of ``positions`` in input ``table``."""
        return self.inputs.rows(table, sorted(int(p) for p in (positions or []))[:5])

    def entry(self, table: str, reason: str, n: int, first: Sequence[Any] | None = None) -> None:
        """Record ``n`` rows of ``table`` as used or set aside for ``reason`` (nothing if 0)."""
        if n:
            status = USED if reason.startswith("used") else SET_ASIDE
            rows = self.firsts(table, first) if status == SET_ASIDE else ()
            self.entries.append(ReconciliationEntry(table, status, reason, int(n), rows))


#: NumPy dtypes that DuckDB reads the same from a DataFrame and from its Arrow table
_NUMPY_KINDS = frozenset(
    ["bool", "float32", "float64", "datetime64[us]"]
    + [f"{u}int{b}" for u in ("", "u") for b in (8, 16, 32, 64)]
)


def arrow_frame(frame: pd.DataFrame) -> pa.Table | None:
    """``frame`` as an Arrow table when every column converts without a Python object per
    value (Arrow text, NumPy numbers and booleans, pandas' nullable numbers, naive datetimes),
    else None. DuckDB scans it natively (in parallel, no per-value conversion) and reads the
    same values and types as from the DataFrame: text, numbers, timestamps, with a missing
    value (``NaN`` in a float column included) as NULL."""
    for dtype in frame.dtypes:
        if isinstance(dtype, pd.StringDtype):
            if dtype.storage != "pyarrow":
                return None
        elif isinstance(dtype, pd.api.extensions.ExtensionDtype):
            if not isinstance(dtype, (pd.Int8Dtype, pd.Int16Dtype, pd.Int32Dtype, pd.Int64Dtype,
                                      pd.Float32Dtype, pd.Float64Dtype, pd.BooleanDtype)):  # fmt: skip
                return None
        elif str(dtype) not in _NUMPY_KINDS:
            return None
    if len(set(frame.columns)) != len(frame.columns) or not all(
        isinstance(c, str) for c in frame.columns
    ):
        return None
    try:
        return pa.Table.from_pandas(frame, preserve_index=False)
    except (pa.ArrowException, ValueError, TypeError):  # pragma: no cover - checked above
        return None


def _setting_bytes(value: object) -> int | None:
    """DuckDB's ``memory_limit`` text (``"2.7 GiB"``, ``"500.0 MiB"``) in bytes."""
    m = re.fullmatch(r"\s*([0-9.]+)\s*([KMGT]i?B|bytes)\s*", str(value))
    if m is None:
        return None
    scale = {"bytes": 1, "KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "TiB": 2**40,
             "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12}  # fmt: skip
    return int(float(m.group(1)) * scale[m.group(2)])


def _narrow_int8(col: pa.Array) -> pa.Array:
    """``col`` as int8 when every value fits, else unchanged (a later CAST refuses it)."""
    lo_hi = pc.min_max(col).as_py()
    lo, hi = lo_hi["min"], lo_hi["max"]
    if lo is None or (lo >= -128 and hi <= 127):
        return col.cast(pa.int8())
    return col


def _unify(batches: list[pa.RecordBatch]) -> pa.Table:
    """One table from the batches: a column narrowed in some batches only (``voted``, the
    row positions) is widened back to 64-bit integers."""
    names = batches[0].schema.names
    types = []
    for i in range(len(names)):
        kinds = {b.schema.field(i).type for b in batches}
        types.append(kinds.pop() if len(kinds) == 1 else None)
    if all(t is not None for t in types):
        return pa.Table.from_batches(batches)
    wide = [
        pa.record_batch(
            [c if types[i] is not None else c.cast(pa.int64()) for i, c in enumerate(b.columns)],
            names=names,
        )
        for b in batches
    ]
    return pa.Table.from_batches(wide)
