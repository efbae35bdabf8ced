"""User-editable mapping tables: column names, result codes, history codes.

The defaults are CSV files in ``fieldexp/io/mappings/`` (documented in ``docs/data.md``);
:func:`mapping_table` returns a copy to edit. Every reader takes ``mapping=``, which
overrides the defaults, and may be

* ``None`` — defaults only;
* a flat ``dict`` of ``{file column: canonical column}`` (like ``DataFrame.rename``);
* a ``dict`` with any of the sections ``"columns"`` (as above, dict/DataFrame/path),
  ``"codes"`` (a code table, DataFrame/path/dict ``{code: ...}``) and ``"options"``
  (``encoding``, ``delimiter``, ``date_format``, ``header``...);
* a DataFrame, or the path of a CSV/TOML file: a table with ``source, canonical``
  columns is a column mapping; one with a ``code`` column is a code table.

User entries win over defaults; a user code table replaces the default rows with the
same ``code``, and adds new ones.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping as AbcMapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd

from fieldexp.errors import FileFormatError, SpecificationError, did_you_mean

__all__ = [
    "MAPPING_TABLES",
    "MappingSpec",
    "mapping_table",
    "normalize_name",
    "parse_mapping",
]

#: The shipped mapping tables (file stem -> what it maps).
MAPPING_TABLES: dict[str, str] = {
    "columns": "file column names -> canonical columns, per table and format",
    "contact_results": "contact result codes -> result, attempted, contacted",
    "contact_channels": "contact types / methods -> channel",
    "history_codes": "vote-history codes -> voted, method",
    "registration_status": "registration status codes -> active/inactive/removed/pending",
    "election_types": "election type codes -> general/primary/...",
    "fr_headerless": "column order of headerless French results files (<= 2014)",
}

OPTION_KEYS = (
    # US readers (docs/data.md): unknown codes refused; VAN result column; contact channels
    "strict",
    "results_by",
    "channels",
    "crosswalk",
    "contact_types",
    "window",
    "channel",
    # every reader
    "encoding",
    "delimiter",
    "date_format",
    "header",
    "names",
    "election_type",
    "election_id",
    "unit_level",
    "id_salt",
    "commune",
    "department",
    "salt_file",
    "keep_columns",
    "plurinominal",
)


def normalize_name(name: object) -> str:
    """Fold a column name for matching: no accents, lower case, runs of symbols -> one space."""
    text = unicodedata.normalize("NFKD", str(name))
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = text.replace("°", " ").lower()
    return re.sub(r"[^0-9a-z]+", " ", text).strip()


def snake_case(name: object) -> str:
    """``"Date Registered"`` -> ``"date_registered"`` (for extra columns kept as covariates)."""
    return normalize_name(name).replace(" ", "_") or "column"


def mapping_table(name: str) -> pd.DataFrame:
    """Return a copy of a shipped mapping table (see :data:`MAPPING_TABLES`)."""
    if name not in MAPPING_TABLES:
        raise SpecificationError(
            f"mapping table {name!r} is unknown; known: {sorted(MAPPING_TABLES)}."
            + did_you_mean(name, list(MAPPING_TABLES))
        )
    ref = resources.files("fieldexp.io").joinpath("mappings", f"{name}.csv")
    with resources.as_file(ref) as p:
        return pd.read_csv(p, dtype=str, keep_default_na=False, na_values=[])


@dataclass(frozen=True)
class MappingSpec:
    """A parsed ``mapping=`` argument."""

    columns: dict[str, str] = field(default_factory=dict)
    codes: pd.DataFrame | None = None
    options: dict[str, Any] = field(default_factory=dict)

    def option(self, key: str, default: Any = None) -> Any:
        return self.options.get(key, default)


def _load_any(obj: Any, what: str) -> Any:
    if isinstance(obj, (str, Path)):
        p = Path(obj)
        if not p.exists():
            raise SpecificationError(f"mapping: {what} file {str(p)!r} not found")
        if p.suffix.lower() == ".toml":
            import tomllib

            try:
                return tomllib.loads(p.read_text(encoding="utf-8"))
            except tomllib.TOMLDecodeError as exc:
                raise FileFormatError(f"mapping: {p.name!r} is not valid TOML: {exc}") from None
        try:
            return pd.read_csv(
                p, dtype=str, keep_default_na=False, na_values=[], sep=None, engine="python"
            )
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
            raise FileFormatError(f"mapping: {p.name!r} cannot be read as CSV: {exc}") from None
    return obj


def _columns_from(obj: Any) -> dict[str, str]:
    obj = _load_any(obj, "column mapping")
    if isinstance(obj, pd.DataFrame):
        if not {"source", "canonical"} <= set(obj.columns):
            raise SpecificationError(
                "mapping: a column-mapping table needs 'source' and 'canonical' columns; "
                f"found {list(obj.columns)}"
            )
        return {str(s): str(c) for s, c in zip(obj["source"], obj["canonical"], strict=True)}
    if isinstance(obj, AbcMapping):
        out: dict[str, str] = {}
        for k, v in obj.items():
            if not isinstance(v, str):
                raise SpecificationError(
                    f"mapping: column mapping values must be column names (str); {k!r} -> {v!r}"
                )
            out[str(k)] = v
        return out
    raise SpecificationError(
        f"mapping: columns must be a dict, DataFrame or path, got {type(obj).__name__}"
    )


def _codes_from(obj: Any) -> pd.DataFrame:
    obj = _load_any(obj, "code table")
    if isinstance(obj, pd.DataFrame):
        if "code" not in obj.columns:
            raise SpecificationError(
                f"mapping: a code table needs a 'code' column; found {list(obj.columns)}"
            )
        return obj.astype("str").copy()
    if isinstance(obj, AbcMapping):
        rows = []
        for code, value in obj.items():
            if isinstance(value, AbcMapping):
                rows.append({"code": str(code), **{k: str(v) for k, v in value.items()}})
            elif isinstance(value, (list, tuple)):
                raise SpecificationError(
                    f"mapping: code {code!r} maps to a sequence; use a dict such as "
                    "{'attempted': 1, 'contacted': 0}"
                )
            else:
                rows.append({"code": str(code), "value": str(value)})
        return pd.DataFrame(rows, dtype="str")
    raise SpecificationError(
        f"mapping: codes must be a dict, DataFrame or path, got {type(obj).__name__}"
    )


def parse_mapping(mapping: Any) -> MappingSpec:
    """Parse a ``mapping=`` argument (see module docstring)."""
    if mapping is None:
        return MappingSpec()
    if isinstance(mapping, MappingSpec):
        return mapping
    mapping = _load_any(mapping, "mapping")
    if isinstance(mapping, pd.DataFrame):
        if {"source", "canonical"} <= set(mapping.columns):
            return MappingSpec(columns=_columns_from(mapping))
        if "code" in mapping.columns:
            return MappingSpec(codes=_codes_from(mapping))
        raise SpecificationError(
            "mapping: a mapping table needs 'source, canonical' columns (column names) or a "
            f"'code' column (code table); found {list(mapping.columns)}"
        )
    if isinstance(mapping, AbcMapping):
        sections = {"columns", "codes", "options"}
        if mapping and set(mapping) <= sections:
            opts = dict(mapping.get("options") or {})
            unknown = [k for k in opts if k not in OPTION_KEYS]
            if unknown:
                raise SpecificationError(
                    f"mapping: unknown option {unknown[0]!r}; known: {list(OPTION_KEYS)}."
                    + did_you_mean(unknown[0], list(OPTION_KEYS))
                )
            return MappingSpec(
                columns=_columns_from(mapping["columns"]) if "columns" in mapping else {},
                codes=_codes_from(mapping["codes"]) if "codes" in mapping else None,
                options=opts,
            )
        near = [k for k in mapping if isinstance(k, str) and did_you_mean(k, sorted(sections))]
        if near and not all(isinstance(v, str) for v in mapping.values()):
            raise SpecificationError(
                f"mapping: unknown section {near[0]!r}; sections are columns, codes, options."
                + did_you_mean(near[0], sorted(sections))
            )
        return MappingSpec(columns=_columns_from(mapping))
    raise SpecificationError(
        f"mapping must be None, a dict, a DataFrame or a path; got {type(mapping).__name__}"
    )


def column_aliases(table: str, fmt: str) -> dict[str, str]:
    """Default aliases ``{normalized file name: canonical}`` for one table and format."""
    t = mapping_table("columns")
    rows = t[(t["table"] == table) & (t["format"].isin(["*", fmt]))]
    # format-specific rows win over generic ones
    rows = rows.assign(_specific=(rows["format"] == fmt).astype(int)).sort_values(
        "_specific", kind="stable"
    )
    return {normalize_name(s): c for s, c in zip(rows["source"], rows["canonical"], strict=True)}


def resolve_columns(
    columns: list[str], *, table: str, fmt: str, spec: MappingSpec
) -> dict[str, str]:
    """Map file columns to canonical names: user mapping (exact), then default aliases.

    Columns matched by nothing keep a snake_case version of their name. When two file
    columns map to the same canonical name, the first wins and the other keeps its
    snake_case name.
    """
    aliases = column_aliases(table, fmt)
    # any spelling: FirstName, First Name, FIRST_NAME, first_name are one column
    compact = {k.replace(" ", ""): v for k, v in aliases.items()}
    user_norm = {normalize_name(k): v for k, v in spec.columns.items()}
    rename: dict[str, str] = {}
    taken: set[str] = set()
    for col in columns:
        target = spec.columns.get(col) or user_norm.get(normalize_name(col))
        if target is None:
            target = aliases.get(normalize_name(col))
        if target is None:
            target = compact.get(normalize_name(col).replace(" ", ""))
        if target is None or target in taken:
            target = snake_case(col)
            while target in taken:
                target += "_"
        taken.add(target)
        rename[col] = target
    return rename


def code_table(name: str, fmt: str, spec: MappingSpec) -> pd.DataFrame:
    """Default code table rows for ``fmt``, overridden/extended by the user's ``codes``."""
    t = mapping_table(name)
    if "format" in t.columns:
        t = t[t["format"] == fmt].drop(columns="format")
    if spec.codes is not None:
        user = spec.codes
        missing = [c for c in t.columns if c not in user.columns]
        if missing and "value" in user.columns and len(t.columns) == 2:
            user = user.rename(columns={"value": t.columns[1]})
            missing = []
        if missing:
            raise SpecificationError(
                f"mapping: the {name} code table needs columns {list(t.columns)}; "
                f"the one given lacks {missing}"
            )
        user = user[list(t.columns)]
        t = pd.concat([t[~t["code"].isin(user["code"])], user], ignore_index=True)
    return t.reset_index(drop=True)
