"""Reading and writing a design's plain description (JSON/TOML).

:func:`design_arguments` turns the mapping written by :meth:`Design.to_dict` (or a
hand-written TOML table) into the constructor arguments of :class:`Design`, checking its
keys and schema version; :func:`dump_toml` writes the small subset of TOML a design needs.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fieldexp.design.exclusion import Exclusion
from fieldexp.errors import SpecificationError

__all__ = ["SCHEMA_VERSION", "DesignArguments", "design_arguments", "dump_toml", "read_text"]

#: Version of the serialised form written by :meth:`Design.to_dict`.
SCHEMA_VERSION = 1


def read_text(text_or_path: str | Path, suffix: str) -> str:
    if isinstance(text_or_path, Path) or (
        isinstance(text_or_path, str) and text_or_path.endswith(suffix) and "\n" not in text_or_path
    ):
        path = Path(text_or_path)
        if not path.exists():
            raise SpecificationError(f"design file {str(path)!r} does not exist")
        return path.read_text(encoding="utf-8")
    return str(text_or_path)


# ------------------------------------------------------------------ a tiny TOML writer
def _toml_value(v: object) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if not math.isfinite(v):
            raise SpecificationError(f"cannot write the non-finite number {v!r} to TOML")
        text = repr(v)
        return text if any(c in text for c in ".eE") else text + ".0"
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, list | tuple):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    raise SpecificationError(f"cannot write {v!r} ({type(v).__name__}) to TOML")


def dump_toml(d: Mapping[str, Any]) -> str:
    """Write the subset of TOML a design needs: scalars, arrays, and arrays of tables."""
    lines: list[str] = []
    tables: list[tuple[str, list[Mapping[str, Any]]]] = []
    for key, value in d.items():
        if isinstance(value, list) and value and all(isinstance(x, Mapping) for x in value):
            tables.append((key, value))
        else:
            lines.append(f"{key} = {_toml_value(value)}")
    for key, rows in tables:
        for row in rows:
            lines.append("")
            lines.append(f"[[{key}]]")
            lines.extend(f"{k} = {_toml_value(v)}" for k, v in row.items())
    return "\n".join(lines) + "\n"


@dataclass(frozen=True, slots=True)
class DesignArguments:
    """The constructor arguments of :class:`~fieldexp.design.spec.Design` read from a mapping.

    ``factors`` is set for a factorial design (then ``arms``, ``counts`` and
    ``block_probabilities`` are unused).
    """

    unit: str
    blocks: str | None
    clusters: str | None
    arms: Mapping[Any, float] | list[Any] | None
    counts: Mapping[Any, Any] | None
    block_probabilities: Mapping[Any, Mapping[Any, float]] | None
    control: Any
    exclude: tuple[Exclusion, ...]
    scheme: str
    factors: Mapping[str, Mapping[Any, float]] | None


_KNOWN = (
    "fieldexp_design",
    "unit",
    "blocks",
    "clusters",
    "control",
    "arms",
    "factors",
    "counts",
    "block_probabilities",
    "scheme",
    "exclude",
)


def design_arguments(d: Mapping[str, Any]) -> DesignArguments:
    """Check the keys and schema version of a design description and read its arguments."""
    if not isinstance(d, Mapping):
        raise SpecificationError(f"design: expected a mapping; found {type(d).__name__}")
    unknown = sorted(set(d) - set(_KNOWN))
    if unknown:
        raise SpecificationError(
            f"design: unknown keys {unknown!r}; expected some of {sorted(_KNOWN)!r}"
        )
    version = d.get("fieldexp_design", SCHEMA_VERSION)
    if version != SCHEMA_VERSION:
        raise SpecificationError(
            f"design: fieldexp_design = {version!r} is not a supported schema version "
            f"({SCHEMA_VERSION})"
        )
    if "unit" not in d:
        raise SpecificationError("design: the key 'unit' (unit id column) is required")
    exclude = tuple(Exclusion.from_dict(e) for e in d.get("exclude", []))
    factors = None
    if "factors" in d:
        factors = {
            f["name"]: dict(zip(f["levels"], f["probabilities"], strict=True)) for f in d["factors"]
        }
    arms_rows = d.get("arms")
    arms: Any = None
    if isinstance(arms_rows, Mapping):
        # hand-written shorthand: arms = {control = 0.5, door = 0.5} (TOML keys are text;
        # all-digit keys are read as integer labels)
        digits = all(str(k).lstrip("-").isdigit() for k in arms_rows)
        arms = {(int(k) if digits else k): v for k, v in arms_rows.items()}
    elif arms_rows is not None:
        if not isinstance(arms_rows, list) or not all(
            isinstance(r, Mapping) and "label" in r for r in arms_rows
        ):
            raise SpecificationError(
                "design: 'arms' must be a list of tables with 'label' (and 'probability'), "
                f"or a mapping of label to probability; found {arms_rows!r}"
            )
        if all("probability" in r for r in arms_rows):
            arms = {r["label"]: r["probability"] for r in arms_rows}
        else:
            arms = [r["label"] for r in arms_rows]
    counts: Any = None
    if "counts" in d:
        rows = d["counts"]
        if any("block" in r for r in rows):
            counts = {}
            for r in rows:
                counts.setdefault(r["block"], {})[r["arm"]] = r["count"]
        else:
            counts = {r["arm"]: r["count"] for r in rows}
    block_probs: dict[Any, dict[Any, float]] | None = None
    if "block_probabilities" in d:
        block_probs = {}
        for r in d["block_probabilities"]:
            block_probs.setdefault(r["block"], {})[r["arm"]] = r["probability"]
    return DesignArguments(
        unit=d["unit"],
        blocks=d.get("blocks"),
        clusters=d.get("clusters"),
        arms=arms,
        counts=counts,
        block_probabilities=block_probs,
        control=d.get("control"),
        exclude=exclude,
        scheme=d.get("scheme", "complete"),
        factors=factors,
    )
