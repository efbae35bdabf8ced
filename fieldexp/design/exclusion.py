"""Rules that keep units out of a randomisation: :class:`Exclusion`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from fieldexp.design.labels import sort_key
from fieldexp.errors import SpecificationError

__all__ = ["Exclusion", "normalise_exclude"]


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
        return cls("do_not_contact", column=column, ids=tuple(sorted(set(values), key=sort_key)))

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


def normalise_exclude(exclude: object) -> tuple[Exclusion, ...]:
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
