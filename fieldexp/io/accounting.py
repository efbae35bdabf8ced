"""What a reader did with every row of its file: the conservation record in ``attrs``.

Each reader ends with :func:`record_import`, which checks

.. math:: \\text{rows read} = \\text{rows kept} + \\sum_{\\text{reasons}} \\text{rows set aside}

(vote histories: kept + duplicates + set aside; contacts: kept + filtered by channel,
crosswalk, ...) and stores in ``attrs["fieldexp_import"]`` the file name, layout, the
counts, the rows per code (unknown codes included) and the unknown codes. It holds no
personal data: codes are vocabulary values, never ids.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from fieldexp.errors import FileFormatError
from fieldexp.io._common import IMPORT_ATTR

__all__ = ["ImportRecord", "import_record", "record_import"]


@dataclass(frozen=True, slots=True)
class ImportRecord:
    """The conservation record of one import (``attrs["fieldexp_import"]`` as a type)."""

    file: str
    format: str
    rows_read: int
    rows_kept: int
    set_aside: dict[str, int] = field(default_factory=dict)
    codes: dict[str, dict[str, int]] = field(default_factory=dict)
    unknown_codes: dict[str, dict[str, int]] = field(default_factory=dict)

    def check(self) -> None:
        """Raise :class:`FileFormatError` unless read = kept + set aside."""
        aside = sum(self.set_aside.values())
        if self.rows_kept + aside != self.rows_read:
            raise FileFormatError(
                f"{self.file}: {self.rows_read} rows read but {self.rows_kept} kept and "
                f"{aside} set aside ({self.set_aside}): rows unaccounted for"
            )

    def as_dict(self) -> dict[str, object]:
        return {
            "file": self.file,
            "format": self.format,
            "rows_read": self.rows_read,
            "rows_kept": self.rows_kept,
            "set_aside": dict(self.set_aside),
            "codes": {k: dict(v) for k, v in self.codes.items()},
            "unknown_codes": {k: dict(v) for k, v in self.unknown_codes.items()},
        }


def record_import(
    df: pd.DataFrame,
    *,
    path: Path,
    fmt: str,
    rows_read: int,
    set_aside: Mapping[str, int],
    codes: Mapping[str, Mapping[str, int]] | None = None,
    unknown: Mapping[str, Mapping[str, int]] | None = None,
    table: str = "",
) -> pd.DataFrame:
    """Attach the checked :class:`ImportRecord` to a (shallow) copy of ``df``."""
    rec = ImportRecord(
        file=path.name,
        format=fmt,
        rows_read=int(rows_read),
        rows_kept=len(df),
        set_aside={k: int(v) for k, v in set_aside.items() if v},
        codes={k: {str(c): int(n) for c, n in v.items()} for k, v in (codes or {}).items()},
        unknown_codes={
            k: {str(c): int(n) for c, n in v.items()} for k, v in (unknown or {}).items() if v
        },
    )
    rec.check()
    out = df.copy(deep=False)
    out.attrs = dict(df.attrs)
    out.attrs.pop("_raw_columns", None)
    out.attrs[IMPORT_ATTR] = rec.as_dict() | ({"table": table} if table else {})
    return out


def import_record(df: pd.DataFrame) -> ImportRecord | None:
    """The :class:`ImportRecord` of a table returned by a reader (None if absent)."""
    d = df.attrs.get(IMPORT_ATTR)
    if not isinstance(d, Mapping):
        return None
    return ImportRecord(
        file=str(d.get("file", "")),
        format=str(d.get("format", "")),
        rows_read=int(d.get("rows_read", 0)),
        rows_kept=int(d.get("rows_kept", d.get("rows_read", 0))),
        set_aside=dict(d.get("set_aside") or {}),
        codes=dict(d.get("codes") or {}),
        unknown_codes=dict(d.get("unknown_codes") or {}),
    )
