"""The declarative randomisation design: :class:`Design` and its exclusion rules.

A :class:`Design` says *how* units are randomised (unit, blocks, clusters, arms with
probabilities or exact counts, exclusions); it holds no data. It is frozen, validated on
construction, and round-trips through JSON and TOML so the exact design used can be
committed next to the assignment it produced.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from itertools import product
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from fieldexp.errors import DesignError, SpecificationError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = ["SCHEMA_VERSION", "ArmLabel", "Design", "Exclusion"]

ArmLabel = int | str
BlockLabel = int | str

#: Version of the serialised form written by :meth:`Design.to_dict`.
SCHEMA_VERSION = 1

_MAX_DENOMINATOR = 1_000_000
_FACTOR_SEP = "|"


def _check_label(value: object, argument: str) -> ArmLabel:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise SpecificationError(
            f"{argument}: arm labels must be strings or integers; found {value!r} "
            f"({type(value).__name__})"
        )
    return value


def _as_fraction(p: object, argument: str, label: object) -> Fraction:
    if isinstance(p, bool) or not isinstance(p, int | float | Fraction):
        raise DesignError(
            f"{argument}: the probability of arm {label!r} must be a number; found {p!r}"
        )
    if not (isinstance(p, Fraction) or math.isfinite(float(p))) or not (0.0 < float(p) < 1.0):
        raise DesignError(
            f"{argument}: every arm probability must lie strictly between 0 and 1; "
            f"arm {label!r} has {p!r}"
        )
    frac = p if isinstance(p, Fraction) else Fraction(p).limit_denominator(_MAX_DENOMINATOR)
    if abs(float(frac) - float(p)) > 1e-12:  # pragma: no cover - limit_denominator keeps 1e-12
        frac = Fraction(p)
    return frac


@dataclass(frozen=True, slots=True)
class Exclusion:
    """One rule that keeps units out of the randomisation (they are reported, never lost).

    Build rules with the constructors :meth:`max_household_size`, :meth:`do_not_contact`
    and :meth:`flag`. When the design has clusters, excluding any member of a cluster
    excludes the whole cluster (a household is knocked on or not).

    Attributes
    ----------
    rule : {"max_household_size", "do_not_contact", "flag"}
    column : str or None
        Household column (``max_household_size``; default: the design's clusters), id
        column the list refers to (``do_not_contact``; default: the unit column), or the
        boolean flag column (``flag``).
    max_size : int or None
        Households with *more than* ``max_size`` registrants are excluded.
    ids : tuple
        The do-not-contact ids.
    """

    rule: Literal["max_household_size", "do_not_contact", "flag"]
    column: str | None = None
    max_size: int | None = None
    ids: tuple[int | str, ...] = ()

    @classmethod
    def max_household_size(cls, k: int, *, household: str | None = None) -> Exclusion:
        """Exclude households with more than ``k`` registrants (rows of the data)."""
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise SpecificationError(
                f"max_household_size: k must be a positive integer; found {k!r}"
            )
        return cls("max_household_size", column=household, max_size=k)

    @classmethod
    def do_not_contact(cls, ids: Iterable[int | str], *, column: str | None = None) -> Exclusion:
        """Exclude the units (or, with ``column``, e.g. households) on a do-not-contact list."""
        values = tuple(ids)
        for v in values:
            if isinstance(v, bool) or not isinstance(v, int | str):
                raise SpecificationError(
                    f"do_not_contact: ids must be strings or integers; found {v!r}"
                )
        return cls("do_not_contact", column=column, ids=tuple(sorted(set(values), key=_sort_key)))

    @classmethod
    def flag(cls, column: str) -> Exclusion:
        """Exclude the units whose boolean ``column`` is true (missing counts as false)."""
        if not isinstance(column, str) or not column:
            raise SpecificationError(f"flag: column must be a column name; found {column!r}")
        return cls("flag", column=column)

    @property
    def reason(self) -> str:
        """The text written to ``excluded_reason`` for the units this rule removes."""
        if self.rule == "max_household_size":
            return f"household larger than {self.max_size}"
        if self.rule == "do_not_contact":
            return "do-not-contact list"
        return f"flag {self.column}"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"rule": self.rule}
        if self.column is not None:
            out["column"] = self.column
        if self.max_size is not None:
            out["max_size"] = self.max_size
        if self.rule == "do_not_contact":
            out["ids"] = list(self.ids)
        return out

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Exclusion:
        rule = d.get("rule")
        if rule == "max_household_size":
            return cls.max_household_size(d.get("max_size"), household=d.get("column"))  # type: ignore[arg-type]
        if rule == "do_not_contact":
            return cls.do_not_contact(d.get("ids", ()), column=d.get("column"))
        if rule == "flag":
            return cls.flag(d.get("column"))  # type: ignore[arg-type]
        raise SpecificationError(
            "exclude: each rule needs rule = 'max_household_size', 'do_not_contact' or 'flag'; "
            f"found {rule!r}"
        )


def _sort_key(v: int | str) -> tuple[int, int | str]:
    return (0, v) if isinstance(v, int) else (1, v)


def _normalise_exclude(exclude: object) -> tuple[Exclusion, ...]:
    if exclude is None:
        return ()
    if isinstance(exclude, Exclusion):
        return (exclude,)
    if isinstance(exclude, Mapping):
        rules: list[Exclusion] = []
        for key, value in exclude.items():
            if key == "max_household_size":
                if isinstance(value, Mapping):
                    rules.append(
                        Exclusion.max_household_size(
                            value.get("k"),  # type: ignore[arg-type]
                            household=value.get("household"),
                        )
                    )
                else:
                    rules.append(Exclusion.max_household_size(value))
            elif key == "do_not_contact":
                rules.append(Exclusion.do_not_contact(value))
            elif key == "flag":
                for col in [value] if isinstance(value, str) else value:
                    rules.append(Exclusion.flag(col))
            else:
                raise SpecificationError(
                    "exclude: keys must be 'max_household_size', 'do_not_contact' or 'flag'; "
                    f"found {key!r}"
                )
        return tuple(rules)
    if isinstance(exclude, Sequence) and not isinstance(exclude, str):
        out = []
        for item in exclude:
            if isinstance(item, Exclusion):
                out.append(item)
            elif isinstance(item, Mapping):
                out.append(Exclusion.from_dict(item))
            else:
                raise SpecificationError(
                    f"exclude: expected Exclusion rules; found {item!r} ({type(item).__name__})"
                )
        return tuple(out)
    raise SpecificationError(
        "exclude: give an Exclusion, a list of them, or a mapping such as "
        f"{{'max_household_size': 8, 'do_not_contact': [...], 'flag': 'dnc'}}; found {exclude!r}"
    )


@dataclass(frozen=True, slots=True)
class Factor:
    """One factor of a factorial design: its name and levels with their probabilities."""

    name: str
    levels: tuple[ArmLabel, ...]
    probabilities: tuple[Fraction, ...]


@dataclass(frozen=True, slots=True, init=False)
class Design:
    """A declarative, frozen randomisation design (complete randomisation within blocks).

    Parameters
    ----------
    unit : str
        Column holding the unit id (one row per unit, e.g. ``"voter_id"``).
    blocks : str, optional
        Column of blocks (e.g. ``"precinct_id"``); randomisation is done separately in each.
    clusters : str, optional
        Column of clusters (e.g. ``"household_id"``) randomised whole; clusters must be
        nested in blocks.
    arms : mapping or sequence, optional
        ``{label: probability}`` (labels strings or integers, probabilities in (0, 1)
        summing to one), or a sequence of labels when ``counts`` gives exact numbers.
        Default ``{0: 0.5, 1: 0.5}``.
    counts : mapping, optional
        Exact numbers of units (clusters, when clustered) per arm: ``{arm: n}`` used in
        every block, or ``{block: {arm: n}}`` per block. One arm per block may be left
        out; it receives the remaining units. With probabilities in ``arms`` too, blocks
        without counts are randomised with the probabilities (counts where given).
    control : label, optional
        The control arm; default the first arm.
    exclude : Exclusion, list of Exclusion, or mapping, optional
        Units kept out of the randomisation (reported with ``excluded_reason``).
        A mapping may use the keys ``max_household_size`` (int), ``do_not_contact``
        (list of unit ids) and ``flag`` (column name or list of names).

    Notes
    -----
    In each block the number of units (or clusters) in arm :math:`k` is
    :math:`\\lfloor n_b p_k \\rfloor` or :math:`\\lceil n_b p_k \\rceil`; the arms that
    receive one of the :math:`n_b - \\sum_k \\lfloor n_b p_k\\rfloor` leftover units are
    drawn by systematic sampling with inclusion probabilities equal to the fractional parts
    :math:`n_b p_k - \\lfloor n_b p_k \\rfloor`, so every unit's probability of arm
    :math:`k` is exactly :math:`p_k` (randomizr's ``complete_ra`` / ``block_ra`` /
    ``cluster_ra`` / ``block_and_cluster_ra``; Coppock 2023). See ``docs/design.md``.
    """

    unit: str
    blocks: str | None
    clusters: str | None
    arm_labels: tuple[ArmLabel, ...]
    arm_probabilities: tuple[Fraction, ...] | None
    counts: tuple[tuple[BlockLabel | None, ArmLabel, int], ...] | None
    control: ArmLabel
    exclude: tuple[Exclusion, ...]
    factors: tuple[Factor, ...] | None

    def __init__(
        self,
        unit: str,
        *,
        blocks: str | None = None,
        clusters: str | None = None,
        arms: Mapping[ArmLabel, float] | Sequence[ArmLabel] | None = None,
        counts: Mapping[Any, Any] | None = None,
        control: ArmLabel | None = None,
        exclude: Exclusion | Sequence[Exclusion] | Mapping[str, Any] | None = None,
        factors: Sequence[Factor] | None = None,
    ) -> None:
        for name, value in (("unit", unit), ("blocks", blocks), ("clusters", clusters)):
            if value is None and name != "unit":
                continue
            if not isinstance(value, str) or not value:
                raise SpecificationError(f"{name}: expected a column name; found {value!r}")
        if blocks is not None and blocks == clusters:
            raise DesignError(f"blocks and clusters are the same column {blocks!r}")

        labels, probs = self._parse_arms(arms, counts)
        count_rows = self._parse_counts(counts, labels) if counts is not None else None
        if control is None:
            control_label = labels[0]
        else:
            control_label = _check_label(control, "control")
            if control_label not in labels:
                raise DesignError(
                    f"control: {control_label!r} is not one of the arms {list(labels)!r}"
                )
        if count_rows is not None:
            self._check_missing_arms(count_rows, labels)

        object.__setattr__(self, "unit", unit)
        object.__setattr__(self, "blocks", blocks)
        object.__setattr__(self, "clusters", clusters)
        object.__setattr__(self, "arm_labels", labels)
        object.__setattr__(self, "arm_probabilities", probs)
        object.__setattr__(self, "counts", count_rows)
        object.__setattr__(self, "control", control_label)
        object.__setattr__(self, "exclude", _normalise_exclude(exclude))
        object.__setattr__(self, "factors", tuple(factors) if factors else None)

    # ---------------------------------------------------------------- parsing
    @staticmethod
    def _parse_arms(
        arms: object, counts: object
    ) -> tuple[tuple[ArmLabel, ...], tuple[Fraction, ...] | None]:
        if arms is None:
            if counts is None:
                return (0, 1), (Fraction(1, 2), Fraction(1, 2))
            return Design._labels_from_counts(counts), None
        if isinstance(arms, Mapping):
            if len(arms) < 2:
                raise DesignError(f"arms: a design needs at least two arms; found {dict(arms)!r}")
            labels = tuple(_check_label(k, "arms") for k in arms)
            _check_label_types(labels, "arms")
            fracs = [_as_fraction(arms[k], "arms", k) for k in arms]
            total = sum(fracs, Fraction(0))
            if total != 1:
                fsum = math.fsum(float(arms[k]) for k in arms)
                if abs(fsum - 1.0) > 1e-9:
                    raise DesignError(
                        f"arms: probabilities must sum to 1; {dict(arms)!r} sums to {fsum!r}"
                    )
                # float rounding (e.g. thirds): give the slack to the first arm
                fracs[0] = 1 - sum(fracs[1:], Fraction(0))
            return labels, tuple(fracs)
        if isinstance(arms, Sequence) and not isinstance(arms, str):
            labels = tuple(_check_label(k, "arms") for k in arms)
            if len(set(labels)) != len(labels) or len(labels) < 2:
                raise DesignError(f"arms: need at least two distinct labels; found {list(arms)!r}")
            _check_label_types(labels, "arms")
            if counts is None:
                return labels, tuple(Fraction(1, len(labels)) for _ in labels)
            return labels, None
        raise SpecificationError(
            f"arms: expected a mapping of label to probability or a list of labels; found {arms!r}"
        )

    @staticmethod
    def _labels_from_counts(counts: object) -> tuple[ArmLabel, ...]:
        if not isinstance(counts, Mapping) or not counts:
            raise SpecificationError(f"counts: expected a non-empty mapping; found {counts!r}")
        seen: list[ArmLabel] = []
        inner = counts.values()
        maps = list(inner) if all(isinstance(v, Mapping) for v in inner) else [counts]
        for m in maps:
            for k in m:
                lab = _check_label(k, "counts")
                if lab not in seen:
                    seen.append(lab)
        if set(seen) <= {0, 1} and all(isinstance(s, int) for s in seen):
            return (0, 1)
        if len(seen) < 2:
            raise DesignError(
                "counts: name at least two arms, or pass arms=[...] with all labels; "
                f"found {seen!r}"
            )
        _check_label_types(tuple(seen), "counts")
        return tuple(seen)

    @staticmethod
    def _parse_counts(
        counts: object, labels: tuple[ArmLabel, ...]
    ) -> tuple[tuple[BlockLabel | None, ArmLabel, int], ...]:
        if not isinstance(counts, Mapping) or not counts:
            raise SpecificationError(f"counts: expected a non-empty mapping; found {counts!r}")
        per_block = all(isinstance(v, Mapping) for v in counts.values())
        items: list[tuple[BlockLabel | None, Mapping[Any, Any]]]
        if per_block:
            items = []
            for b, m in counts.items():
                if isinstance(b, bool) or not isinstance(b, int | str):
                    raise SpecificationError(
                        f"counts: block labels must be strings or integers; found {b!r}"
                    )
                items.append((b, m))
        else:
            items = [(None, counts)]
        rows: list[tuple[BlockLabel | None, ArmLabel, int]] = []
        for block, m in items:
            for arm, n in m.items():
                if arm not in labels:
                    where = f" (block {block!r})" if block is not None else ""
                    raise DesignError(
                        f"counts{where}: arm {arm!r} is not one of the arms {list(labels)!r}"
                    )
                if isinstance(n, bool) or not isinstance(n, int) or n < 0:
                    raise DesignError(
                        f"counts: the count of arm {arm!r} must be a non-negative integer; "
                        f"found {n!r}"
                    )
                rows.append((block, arm, int(n)))
        return tuple(rows)

    @staticmethod
    def _check_missing_arms(
        rows: tuple[tuple[BlockLabel | None, ArmLabel, int], ...], labels: tuple[ArmLabel, ...]
    ) -> None:
        by_block: dict[object, set[ArmLabel]] = {}
        for b, a, _ in rows:
            by_block.setdefault(b, set()).add(a)
        for blk, present in by_block.items():
            missing = [a for a in labels if a not in present]
            if len(missing) > 1:
                where = f" for block {blk!r}" if blk is not None else ""
                raise DesignError(
                    f"counts{where}: at most one arm may be left out (it receives the remaining "
                    f"units); missing {missing!r}"
                )

    # ---------------------------------------------------------------- factorial
    @classmethod
    def factorial(
        cls,
        factors: Mapping[str, Sequence[ArmLabel] | Mapping[ArmLabel, float]],
        unit: str,
        *,
        blocks: str | None = None,
        clusters: str | None = None,
        exclude: Exclusion | Sequence[Exclusion] | Mapping[str, Any] | None = None,
    ) -> Design:
        """A full factorial design: ``Design.factorial({"door": [0, 1], "sms": [0, 1]}, "v")``.

        Each factor gives its levels (equally likely) or ``{level: probability}``; the arms
        are all combinations, labelled ``"door=1|sms=0"``, with the product of the level
        probabilities, and the control arm is the combination of every factor's first level.
        :meth:`assign` adds one column per factor with its level.
        """
        if not isinstance(factors, Mapping) or len(factors) < 1:
            raise SpecificationError(
                "factors: expected a mapping such as {'door': [0, 1], 'sms': [0, 1]}; "
                f"found {factors!r}"
            )
        parsed: list[Factor] = []
        for name, levels in factors.items():
            if not isinstance(name, str) or not name or _FACTOR_SEP in name or "=" in name:
                raise SpecificationError(
                    "factors: factor names must be non-empty strings without '=' or '|'; "
                    f"found {name!r}"
                )
            if isinstance(levels, Mapping):
                labs, probs = cls._parse_arms(dict(levels), None)
            else:
                labs, probs = cls._parse_arms(list(levels), None)
            assert probs is not None
            parsed.append(Factor(name, labs, probs))
        arms: dict[ArmLabel, Fraction] = {}
        for combo in product(*[range(len(f.levels)) for f in parsed]):
            label = _FACTOR_SEP.join(
                f"{f.name}={f.levels[i]}" for f, i in zip(parsed, combo, strict=True)
            )
            p = Fraction(1)
            for f, i in zip(parsed, combo, strict=True):
                p *= f.probabilities[i]
            arms[label] = p
        return cls(
            unit,
            blocks=blocks,
            clusters=clusters,
            arms=arms,  # type: ignore[arg-type]
            exclude=exclude,
            factors=parsed,
        )

    # ---------------------------------------------------------------- views
    @property
    def arms(self) -> dict[ArmLabel, float]:
        """``{label: probability}`` (probabilities as floats; empty values when counts are used)."""
        if self.arm_probabilities is None:
            return dict.fromkeys(self.arm_labels, math.nan)
        return {a: float(p) for a, p in zip(self.arm_labels, self.arm_probabilities, strict=True)}

    @property
    def treatment_arms(self) -> tuple[ArmLabel, ...]:
        """All arms except the control, in order."""
        return tuple(a for a in self.arm_labels if a != self.control)

    def counts_for(self, block: BlockLabel | None) -> dict[ArmLabel, int] | None:
        """The exact counts requested for ``block`` (``None`` with probabilities)."""
        if self.counts is None:
            return None
        specific = {a: n for b, a, n in self.counts if b is not None and b == block}
        if specific:
            return specific
        general = {a: n for b, a, n in self.counts if b is None}
        if general:
            return general
        return None

    @property
    def counts_are_per_block(self) -> bool:
        return self.counts is not None and any(b is not None for b, _, _ in self.counts)

    def assign(self, data: pd.DataFrame, seed: int) -> pd.DataFrame:
        """Randomise the units of ``data``; see :func:`fieldexp.design.assign.assign`."""
        from fieldexp.design.assign import assign

        return assign(self, data, seed)

    # ---------------------------------------------------------------- serialisation
    def to_dict(self) -> dict[str, Any]:
        """A plain, JSON/TOML-friendly description (``None`` values omitted)."""
        out: dict[str, Any] = {"fieldexp_design": SCHEMA_VERSION, "unit": self.unit}
        if self.blocks is not None:
            out["blocks"] = self.blocks
        if self.clusters is not None:
            out["clusters"] = self.clusters
        out["control"] = self.control
        if self.factors is not None:
            out["factors"] = [
                {
                    "name": f.name,
                    "levels": list(f.levels),
                    "probabilities": [float(p) for p in f.probabilities],
                }
                for f in self.factors
            ]
        elif self.arm_probabilities is not None:
            out["arms"] = [
                {"label": a, "probability": float(p)}
                for a, p in zip(self.arm_labels, self.arm_probabilities, strict=True)
            ]
        else:
            out["arms"] = [{"label": a} for a in self.arm_labels]
        if self.counts is not None:
            rows = []
            for b, a, n in self.counts:
                row: dict[str, Any] = {}
                if b is not None:
                    row["block"] = b
                row["arm"] = a
                row["count"] = n
                rows.append(row)
            out["counts"] = rows
        if self.exclude:
            out["exclude"] = [e.to_dict() for e in self.exclude]
        return out

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Design:
        """Rebuild a design written by :meth:`to_dict`."""
        try:
            return cls._from_dict(d)
        except (KeyError, TypeError, AttributeError) as exc:
            raise SpecificationError(
                f"design: malformed description ({type(exc).__name__}: {exc}); expected the "
                "layout written by Design.to_dict / to_toml / to_json"
            ) from exc

    @classmethod
    def _from_dict(cls, d: Mapping[str, Any]) -> Design:
        if not isinstance(d, Mapping):
            raise SpecificationError(f"design: expected a mapping; found {type(d).__name__}")
        known = {
            "fieldexp_design",
            "unit",
            "blocks",
            "clusters",
            "control",
            "arms",
            "factors",
            "counts",
            "exclude",
        }
        unknown = sorted(set(d) - known)
        if unknown:
            raise SpecificationError(
                f"design: unknown keys {unknown!r}; expected some of {sorted(known)!r}"
            )
        version = d.get("fieldexp_design", SCHEMA_VERSION)
        if version != SCHEMA_VERSION:
            raise SpecificationError(
                f"design: fieldexp_design = {version!r} is not a supported schema version "
                f"({SCHEMA_VERSION})"
            )
        if "unit" not in d:
            raise SpecificationError("design: the key 'unit' (unit id column) is required")
        exclude = [Exclusion.from_dict(e) for e in d.get("exclude", [])]
        if "factors" in d:
            factors = {
                f["name"]: dict(zip(f["levels"], f["probabilities"], strict=True))
                for f in d["factors"]
            }
            return cls.factorial(
                factors,
                d["unit"],
                blocks=d.get("blocks"),
                clusters=d.get("clusters"),
                exclude=exclude or None,
            )
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
        return cls(
            d["unit"],
            blocks=d.get("blocks"),
            clusters=d.get("clusters"),
            arms=arms,
            counts=counts,
            control=d.get("control"),
            exclude=exclude or None,
        )

    def to_json(self, path: str | Path | None = None) -> str:
        """The design as JSON (written to ``path`` too when given)."""
        text = json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n"
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text

    @classmethod
    def from_json(cls, text_or_path: str | Path) -> Design:
        """Read a design from a JSON string or a ``.json`` file path."""
        text = _read_text(text_or_path, ".json")
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SpecificationError(f"design JSON cannot be parsed: {exc}") from exc
        return cls.from_dict(data)

    def to_toml(self, path: str | Path | None = None) -> str:
        """The design as TOML (written to ``path`` too when given)."""
        text = _dump_toml(self.to_dict())
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text

    @classmethod
    def from_toml(cls, text_or_path: str | Path) -> Design:
        """Read a design from a TOML string or a ``.toml`` file path."""
        import tomllib

        text = _read_text(text_or_path, ".toml")
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise SpecificationError(f"design TOML cannot be parsed: {exc}") from exc
        return cls.from_dict(data)

    def __str__(self) -> str:
        parts = [f"unit={self.unit!r}"]
        if self.blocks:
            parts.append(f"blocks={self.blocks!r}")
        if self.clusters:
            parts.append(f"clusters={self.clusters!r}")
        if self.arm_probabilities is not None:
            parts.append(
                "arms={"
                + ", ".join(
                    f"{a!r}: {p}"
                    for a, p in zip(self.arm_labels, self.arm_probabilities, strict=True)
                )
                + "}"
            )
        else:
            parts.append(f"arms={list(self.arm_labels)!r}")
        if self.counts is not None:
            parts.append(f"counts={self.counts!r}")
        parts.append(f"control={self.control!r}")
        if self.exclude:
            parts.append("exclude=[" + ", ".join(e.reason for e in self.exclude) + "]")
        return "Design(" + ", ".join(parts) + ")"


def _check_label_types(labels: tuple[ArmLabel, ...], argument: str) -> None:
    kinds = {type(lab) for lab in labels}
    if len(kinds) > 1:
        raise SpecificationError(
            f"{argument}: arm labels must be all strings or all integers; found {list(labels)!r}"
        )


def _read_text(text_or_path: str | Path, suffix: str) -> str:
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


def _dump_toml(d: Mapping[str, Any]) -> str:
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
