"""Reading one TOML table of a spec: typed keys, choices, unknown-key errors.

:class:`Section` is what every ``[section]`` parser uses (``spec/load.py`` and the
topic modules beside it, e.g. ``spec/targeting.py``): ``get`` checks a key's type,
``choice`` its value, ``finish`` refuses unknown keys with a did-you-mean.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from typing import Any

from fieldexp.errors import SpecificationError, did_you_mean

__all__ = [
    "MISSING",
    "Section",
    "alpha_check",
    "date_text",
    "kind_of",
    "nonempty",
    "nonnegative",
    "positive_int",
]

MISSING = object()
_MISSING = MISSING

_TYPE_NAMES = {
    str: "a string",
    int: "an integer",
    float: "a number",
    bool: "true or false",
    list: "an array",
    dict: "a table",
}


def kind_of(value: object) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, dt.date | dt.datetime | dt.time):
        return "a date"
    return type(value).__name__


class Section:
    """Reads the keys of one TOML table, checking types; unknown keys are errors."""

    def __init__(self, raw: object, where: str, file: str) -> None:
        self.file = file
        self.where = where
        if not isinstance(raw, dict):
            self.fail(f"expected a table; found {kind_of(raw)} {raw!r}", key=None)
        self.raw: dict[str, Any] = dict(raw) if isinstance(raw, dict) else {}
        self.seen: set[str] = set()

    def label(self, key: str | None) -> str:
        if key is None:
            return f"[{self.where}]" if self.where else "top level"
        return f"[{self.where}] {key}" if self.where else key

    def fail(self, message: str, *, key: str | None) -> None:
        raise SpecificationError(f"{self.file}: {self.label(key)}: {message}")

    def has(self, key: str) -> bool:
        return key in self.raw

    def get(
        self,
        key: str,
        kind: type | tuple[type, ...],
        default: Any = _MISSING,
        *,
        check: Callable[[Any], str | None] | None = None,
    ) -> Any:
        self.seen.add(key)
        if key not in self.raw:
            if default is _MISSING:
                self.fail("this key is required", key=key)
            return default
        value = self.raw[key]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        ok = any(
            isinstance(value, k) and not (isinstance(value, bool) and k in (int, float))
            for k in kinds
        )
        if float in kinds and isinstance(value, int) and not isinstance(value, bool):
            value, ok = float(value), True
        if not ok:
            want = " or ".join(_TYPE_NAMES.get(k, k.__name__) for k in kinds)
            self.fail(f"expected {want}; found {kind_of(value)} {value!r}", key=key)
        if check is not None:
            problem = check(value)
            if problem:
                self.fail(f"{problem}; found {value!r}", key=key)
        return value

    def choice(self, key: str, choices: tuple[str, ...], default: Any = _MISSING) -> Any:
        value = self.get(key, str, default)
        if value is not default and value not in choices:
            self.fail(
                f"must be one of {', '.join(map(repr, choices))}; found {value!r}."
                + did_you_mean(str(value), list(choices)),
                key=key,
            )
        return value

    def strings(self, key: str, default: tuple[str, ...] = ()) -> tuple[str, ...]:
        value = self.get(key, (list, str), list(default))
        if isinstance(value, str):
            return (value,)
        for i, item in enumerate(value):
            if not isinstance(item, str) or not item:
                self.fail(
                    f"expected an array of non-empty strings; item {i} is {kind_of(item)} {item!r}",
                    key=key,
                )
        return tuple(value)

    def section(self, key: str) -> Section | None:
        self.seen.add(key)
        if key not in self.raw:
            return None
        where = f"{self.where}.{key}" if self.where else key
        return Section(self.raw[key], where, self.file)

    def finish(self, extra: tuple[str, ...] = ()) -> None:
        known = sorted(self.seen | set(extra))
        for key in self.raw:
            if key not in self.seen and key not in extra:
                self.fail(
                    f"unknown key {key!r}."
                    + did_you_mean(key, known)
                    + f" Known keys here: {', '.join(known)}.",
                    key=None,
                )


def positive_int(value: Any) -> str | None:
    return None if value >= 1 else "must be a positive integer"


def nonnegative(value: Any) -> str | None:
    return None if math.isfinite(value) and value >= 0 else "must be a finite number >= 0"


def alpha_check(value: Any) -> str | None:
    return None if 0 < value < 1 else "must lie strictly between 0 and 1"


def nonempty(value: Any) -> str | None:
    return None if value.strip() else "must not be empty"


def date_text(value: Any, sec: Section, key: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, str):
        if value == "":
            return None
        try:
            dt.date.fromisoformat(value[:10])
        except ValueError:
            sec.fail(f"expected dates as YYYY-MM-DD; found {value!r}", key=key)
        return value
    sec.fail(f"expected a date (YYYY-MM-DD); found {kind_of(value)} {value!r}", key=key)
    return None  # pragma: no cover
