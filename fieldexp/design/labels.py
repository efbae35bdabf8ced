"""Arm and block labels of a design, and the checks every label goes through."""

from __future__ import annotations

import math
from fractions import Fraction

from fieldexp.errors import DesignError, SpecificationError

__all__ = [
    "ArmLabel",
    "BlockLabel",
    "as_fraction",
    "check_label",
    "check_label_types",
    "sort_key",
]

ArmLabel = int | str
BlockLabel = int | str

_MAX_DENOMINATOR = 1_000_000


def check_label(value: object, argument: str) -> ArmLabel:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise SpecificationError(
            f"{argument}: arm labels must be strings or integers; found {value!r} "
            f"({type(value).__name__})"
        )
    return value


def as_fraction(p: object, argument: str, label: object) -> Fraction:
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


def sort_key(v: int | str) -> tuple[int, int | str]:
    return (0, v) if isinstance(v, int) else (1, v)


def check_label_types(labels: tuple[ArmLabel, ...], argument: str) -> None:
    kinds = {type(lab) for lab in labels}
    if len(kinds) > 1:
        raise SpecificationError(
            f"{argument}: arm labels must be all strings or all integers; found {list(labels)!r}"
        )
