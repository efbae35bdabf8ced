"""What every stage of the analysis-table build shares: the connection, the inputs, the entries."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from fieldexp.analysis.reconciliation import SET_ASIDE, USED, ReconciliationEntry
from fieldexp.errors import (
    ColumnNotFoundError,
    FileFormatError,
    SpecificationError,
    did_you_mean,
)

__all__ = ["Build", "Inputs", "Source", "ident", "quote"]

Source = pd.DataFrame | str | Path


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
        self._frames: list[pd.DataFrame] = []

    def add(self, name: str, obj: Source, keep: Sequence[str] | None = None) -> None:
        """Register ``obj`` as ``raw_<name>``; ``keep``: the only columns a CSV input is
        materialised with (the others are listed, never stored)."""
        view = f"raw_{name}"
        listed: list[str] | None = None  # the file's header when fewer columns are stored
        if isinstance(obj, pd.DataFrame):
            imp = obj.attrs.get("fieldexp_import")
            if isinstance(imp, dict):
                self.imports.append({"table": name, **imp})
            frame = obj.reset_index(drop=True)
            frame = frame.assign(_row=np.arange(len(frame), dtype=np.int64))
            self._frames.append(frame)
            self.con.register(view, frame)
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
                # number rows in file order: materialise once with insertion order kept; the
                # table's rowid is then the file position (no window over the whole file)
                self.con.execute("SET preserve_insertion_order = true")
                try:
                    source = f"read_csv({quote(str(p))}, header = true)"
                    select = "*"
                    if keep is not None:
                        header = [
                            r[0]
                            for r in self.con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()
                        ]
                        listed = header
                        kept = [c for c in header if c in keep]
                        select = ", ".join(ident(c) for c in kept) if kept else "*"
                    self.con.execute(
                        f"CREATE TEMP TABLE {view}_csv AS SELECT {select} FROM {source}"
                    )
                    self.con.execute(
                        f"CREATE TEMP VIEW {view} AS SELECT *, rowid AS _row FROM {view}_csv"
                    )
                except duckdb.Error as exc:
                    raise FileFormatError(
                        f"{name}: {p.name!r} cannot be read as CSV: {exc}"
                    ) from None
                finally:
                    self.con.execute("SET preserve_insertion_order = false")
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
        row = self.con.execute(sql).fetchone()
        return None if row is None else row[0]

    def firsts(self, table: str, positions: Sequence[Any] | None) -> tuple[object, ...]:
        """The labels of the first five of ``positions`` in input ``table``."""
        return self.inputs.rows(table, sorted(int(p) for p in (positions or []))[:5])

    def entry(self, table: str, reason: str, n: int, first: Sequence[Any] | None = None) -> None:
        """Record ``n`` rows of ``table`` as used or set aside for ``reason`` (nothing if 0)."""
        if n:
            status = USED if reason.startswith("used") else SET_ASIDE
            rows = self.firsts(table, first) if status == SET_ASIDE else ()
            self.entries.append(ReconciliationEntry(table, status, reason, int(n), rows))
