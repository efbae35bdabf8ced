"""The declarative randomisation design: :class:`Design`.

A :class:`Design` says *how* units are randomised (unit, blocks, clusters, arms with
probabilities or exact counts, complete or simple (coin-flip) randomisation, exclusions); it
holds no data. It is frozen, validated on construction, and round-trips through JSON and TOML
(:mod:`fieldexp.design.serial`) so the exact design used can be committed next to the
assignment it produced. Labels are checked in :mod:`fieldexp.design.labels`, exclusion rules
live in :mod:`fieldexp.design.exclusion`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from itertools import product
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from fieldexp.design.exclusion import Exclusion, normalise_exclude
from fieldexp.design.labels import (
    ArmLabel,
    BlockLabel,
    as_fraction,
    check_label,
    check_label_types,
)
from fieldexp.design.serial import SCHEMA_VERSION, design_arguments, dump_toml, read_text
from fieldexp.errors import DesignError, SpecificationError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = [
    "SCHEMA_VERSION",
    "SCHEMES",
    "ArmLabel",
    "BlockLabel",
    "Design",
    "Exclusion",
    "Factor",
    "design_roles",
]

#: randomisation schemes: fixed counts per block, or an independent draw per unit (cluster)
SCHEMES = ("complete", "simple")

_FACTOR_SEP = "|"


@dataclass(frozen=True, slots=True)
class Factor:
    """One factor of a factorial design: its name and levels with their probabilities."""

    name: str
    levels: tuple[ArmLabel, ...]
    probabilities: tuple[Fraction, ...]


@dataclass(frozen=True, slots=True, init=False)
class Design:
    """A declarative, frozen randomisation design (complete or simple, within blocks).

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
    block_probabilities : mapping, optional
        Arm probabilities that vary by block: ``{block: {arm: probability}}`` (every arm,
        summing to one). Blocks not listed use ``arms``. Needs ``blocks``.
    scheme : {"complete", "simple"}
        ``"complete"`` (default): each block gets fixed numbers per arm (see Notes).
        ``"simple"``: a coin flip per unit (cluster): each is drawn independently with its
        block's arm probabilities, so the numbers per arm vary (randomizr's ``simple_ra``;
        ``cluster_ra(..., simple = TRUE)``). Exact ``counts`` cannot be used with it.
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
    ``cluster_ra`` / ``block_and_cluster_ra``; Coppock 2023). Under ``scheme="simple"``
    each unit (cluster) :math:`i` of block :math:`b` is in arm :math:`k` with probability
    :math:`p_{bk}`, independently of the others: the count of arm :math:`k` is
    :math:`\\mathrm{Binomial}(n_b, p_{bk})` and may be zero. See ``docs/design.md``.
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
    block_probabilities: tuple[tuple[BlockLabel, tuple[Fraction, ...]], ...] | None
    scheme: Literal["complete", "simple"]

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
        block_probabilities: Mapping[Any, Mapping[Any, float]] | None = None,
        scheme: str = "complete",
    ) -> None:
        for name, value in (("unit", unit), ("blocks", blocks), ("clusters", clusters)):
            if value is None and name != "unit":
                continue
            if not isinstance(value, str) or not value:
                raise SpecificationError(f"{name}: expected a column name; found {value!r}")
        if blocks is not None and blocks == clusters:
            raise DesignError(f"blocks and clusters are the same column {blocks!r}")

        if scheme not in SCHEMES:
            raise SpecificationError(
                f"scheme: expected one of {list(SCHEMES)!r} ('complete': fixed numbers per arm "
                f"in each block; 'simple': a coin flip per unit); found {scheme!r}"
            )
        if scheme == "simple" and counts is not None:
            raise DesignError(
                "counts: scheme='simple' draws each unit (cluster) independently, so the numbers "
                "per arm cannot be fixed; give arm probabilities, or use scheme='complete'"
            )
        if block_probabilities is not None:
            if not isinstance(block_probabilities, Mapping) or not block_probabilities:
                raise SpecificationError(
                    "block_probabilities: expected {block: {arm: probability}}; "
                    f"found {block_probabilities!r}"
                )
            first = next(iter(block_probabilities.values()))
            if arms is None and counts is None and isinstance(first, Mapping):
                arms = list(first)  # the arms are those every block names
        # with counts or per-block probabilities, a list of arms gives labels only
        elsewhere = counts if counts is not None else block_probabilities
        labels, probs = self._parse_arms(arms, elsewhere)
        block_probs = (
            self._parse_block_probabilities(block_probabilities, labels, blocks)
            if block_probabilities is not None
            else None
        )
        count_rows = self._parse_counts(counts, labels) if counts is not None else None
        if control is None:
            control_label = labels[0]
        else:
            control_label = check_label(control, "control")
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
        object.__setattr__(self, "exclude", normalise_exclude(exclude))
        object.__setattr__(self, "factors", tuple(factors) if factors else None)
        object.__setattr__(self, "block_probabilities", block_probs)
        object.__setattr__(self, "scheme", scheme)

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
            labels = tuple(check_label(k, "arms") for k in arms)
            check_label_types(labels, "arms")
            fracs = [as_fraction(arms[k], "arms", k) for k in arms]
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
            labels = tuple(check_label(k, "arms") for k in arms)
            if len(set(labels)) != len(labels) or len(labels) < 2:
                raise DesignError(f"arms: need at least two distinct labels; found {list(arms)!r}")
            check_label_types(labels, "arms")
            if counts is None:
                return labels, tuple(Fraction(1, len(labels)) for _ in labels)
            return labels, None
        raise SpecificationError(
            f"arms: expected a mapping of label to probability or a list of labels; found {arms!r}"
        )

    @staticmethod
    def _parse_block_probabilities(
        given: object, labels: tuple[ArmLabel, ...], blocks: str | None
    ) -> tuple[tuple[BlockLabel, tuple[Fraction, ...]], ...]:
        if blocks is None:
            raise DesignError(
                "block_probabilities: probabilities that vary by block need the 'blocks' column"
            )
        if not isinstance(given, Mapping) or not given:
            raise SpecificationError(
                f"block_probabilities: expected {{block: {{arm: probability}}}}; found {given!r}"
            )
        rows: list[tuple[BlockLabel, tuple[Fraction, ...]]] = []
        for b, m in given.items():
            if isinstance(b, bool) or not isinstance(b, int | str):
                raise SpecificationError(
                    f"block_probabilities: block labels must be strings or integers; found {b!r}"
                )
            if not isinstance(m, Mapping) or set(m) != set(labels):
                raise DesignError(
                    f"block_probabilities (block {b!r}): give a probability for every arm "
                    f"{list(labels)!r}; found {m!r}"
                )
            _, fr = Design._parse_arms({a: m[a] for a in labels}, None)
            assert fr is not None
            rows.append((b, fr))
        return tuple(sorted(rows, key=lambda r: (isinstance(r[0], str), r[0])))

    @staticmethod
    def _labels_from_counts(counts: object) -> tuple[ArmLabel, ...]:
        if not isinstance(counts, Mapping) or not counts:
            raise SpecificationError(f"counts: expected a non-empty mapping; found {counts!r}")
        seen: list[ArmLabel] = []
        inner = counts.values()
        maps = list(inner) if all(isinstance(v, Mapping) for v in inner) else [counts]
        for m in maps:
            for k in m:
                lab = check_label(k, "counts")
                if lab not in seen:
                    seen.append(lab)
        if set(seen) <= {0, 1} and all(isinstance(s, int) for s in seen):
            return (0, 1)
        if len(seen) < 2:
            raise DesignError(
                "counts: name at least two arms, or pass arms=[...] with all labels; "
                f"found {seen!r}"
            )
        check_label_types(tuple(seen), "counts")
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
        scheme: str = "complete",
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
            scheme=scheme,
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

    def probabilities_for(self, block: BlockLabel | None) -> tuple[Fraction, ...] | None:
        """The arm probabilities of ``block`` (its own, else the design's; ``None`` if neither)."""
        if self.block_probabilities is not None and block is not None:
            for b, probs in self.block_probabilities:
                if b == block and type(b) is type(block):
                    return probs
        return self.arm_probabilities

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
        if self.block_probabilities is not None:
            out["block_probabilities"] = [
                {"block": b, "arm": a, "probability": float(p)}
                for b, probs in self.block_probabilities
                for a, p in zip(self.arm_labels, probs, strict=True)
            ]
        if self.scheme != "complete":  # omitted when default: older designs read the same
            out["scheme"] = self.scheme
        if self.exclude:
            out["exclude"] = [e.to_dict() for e in self.exclude]
        return out

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Design:
        """Rebuild a design written by :meth:`to_dict`."""
        try:
            args = design_arguments(d)
            if args.factors is not None:
                return cls.factorial(
                    args.factors,
                    args.unit,
                    blocks=args.blocks,
                    clusters=args.clusters,
                    exclude=list(args.exclude) or None,
                    scheme=args.scheme,
                )
            return cls(
                args.unit,
                blocks=args.blocks,
                clusters=args.clusters,
                arms=args.arms,
                counts=args.counts,
                control=args.control,
                exclude=list(args.exclude) or None,
                block_probabilities=args.block_probabilities,
                scheme=args.scheme,
            )
        except (KeyError, TypeError, AttributeError) as exc:
            raise SpecificationError(
                f"design: malformed description ({type(exc).__name__}: {exc}); expected the "
                "layout written by Design.to_dict / to_toml / to_json"
            ) from exc

    def to_json(self, path: str | Path | None = None) -> str:
        """The design as JSON (written to ``path`` too when given)."""
        text = json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n"
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text

    @classmethod
    def from_json(cls, text_or_path: str | Path) -> Design:
        """Read a design from a JSON string or a ``.json`` file path."""
        text = read_text(text_or_path, ".json")
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SpecificationError(f"design JSON cannot be parsed: {exc}") from exc
        return cls.from_dict(data)

    def to_toml(self, path: str | Path | None = None) -> str:
        """The design as TOML (written to ``path`` too when given)."""
        text = dump_toml(self.to_dict())
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text

    @classmethod
    def from_toml(cls, text_or_path: str | Path) -> Design:
        """Read a design from a TOML string or a ``.toml`` file path."""
        import tomllib

        text = read_text(text_or_path, ".toml")
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
        if self.block_probabilities is not None:
            parts.append(f"block_probabilities={len(self.block_probabilities)} blocks")
        if self.scheme != "complete":
            parts.append(f"scheme={self.scheme!r}")
        parts.append(f"control={self.control!r}")
        if self.exclude:
            parts.append("exclude=[" + ", ".join(e.reason for e in self.exclude) + "]")
        return "Design(" + ", ".join(parts) + ")"


def design_roles(
    design: object, blocks: str | None, clusters: str | None, *, function: str
) -> tuple[str | None, str | None]:
    """The blocks and clusters columns an analysis uses: the design's when one is given.

    Raises
    ------
    SpecificationError
        When ``design`` is not a :class:`Design`, or ``blocks``/``clusters`` name other
        columns than the design's.
    """
    if design is None:
        return blocks, clusters
    if not isinstance(design, Design):
        raise SpecificationError(
            f"The 'design' parameter of {function} must be a fieldexp.Design. "
            f"Got {type(design).__name__}."
        )
    for name, given, own in (
        ("blocks", blocks, design.blocks),
        ("clusters", clusters, design.clusters),
    ):
        if given is not None and given != own:
            raise SpecificationError(
                f"The {name!r} parameter of {function} ({given!r}) contradicts the design ({own!r})."
            )
    return design.blocks, design.clusters
