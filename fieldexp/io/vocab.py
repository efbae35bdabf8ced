"""Vocabulary drift: codes a mapping table does not know get the layout's default meaning.

Official vocabularies change from year to year (North Carolina renamed its
``voting_method`` values in 2023; VAN accounts add result codes). A reader that meets
a code missing from the shipped tables does not stop: every layout states what one of
its rows means by default (an ``ncvhis`` row is a ballot cast; a VAN contact row is an
attempt; an unknown registration status is ``unknown``), the row gets that meaning, and
**one** :class:`UnknownCodeWarning` lists each unknown code with its count and the exact
snippet that maps it, in Python and in spec TOML. ``strict=True`` (spec ``strict =
true``) turns the warning into a :class:`~fieldexp.errors.FileFormatError`.

Every call also returns the count of rows per code (unknown codes included), which the
readers record in ``attrs["fieldexp_import"]["codes"]`` and the reconciliation shows.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from fieldexp.errors import FieldexpWarning, FileFormatError, format_rows
from fieldexp.io._distinct import distinct as distinct_values

__all__ = ["CodeLookup", "UnknownCodeWarning", "code_key", "map_codes", "snippets"]


class UnknownCodeWarning(FieldexpWarning):
    """A file holds codes the mapping tables do not know; they got the default meaning.

    ``python`` and ``toml`` hold the snippets that map them (also in the message).
    """

    def __init__(self, message: str, *, python: str = "", toml: str = "") -> None:
        super().__init__(message)
        self.python = python
        self.toml = toml


@dataclass(frozen=True, slots=True)
class CodeLookup:
    """What :func:`map_codes` found.

    Attributes
    ----------
    values
        The code table's value columns, aligned with the input (defaults filled in).
    counts
        Rows per code as written in the file (stripped; ``""`` for blank), unknown
        codes included, most frequent first.
    unknown
        Rows per unknown code.
    distinct, index
        The value columns per distinct input value and, per input row, the position of its
        value in ``distinct`` (``values`` is ``distinct`` taken at ``index``): a column
        derived from the codes can be computed once per distinct value.
    """

    values: pd.DataFrame
    counts: dict[str, int]
    unknown: dict[str, int]
    distinct: pd.DataFrame | None = None
    index: np.ndarray | None = None


def factorize_text(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """``pd.factorize`` of the values as text (missing = ``""``), distinct values in order of
    first appearance; a categorical column is factorized through its codes (no text per row).
    """
    if isinstance(values.dtype, pd.CategoricalDtype):
        first, order = pd.factorize(values.cat.codes.to_numpy())
        cats = np.asarray(values.cat.categories.astype("str"), dtype=object)
        texts = np.array([cats[c] if c >= 0 else "" for c in order], dtype=object)
        merged, uniques = pd.factorize(texts)  # equal texts (a blank category) are one value
        return merged[first], np.asarray(uniques, dtype=object)
    d = distinct_values(values)
    if d is not None:  # Arrow text: hashed without a Python object per row
        texts = np.asarray(d.uniques.astype(object).where(d.uniques.notna(), ""), dtype=object)
        merged, uniques = pd.factorize(texts)  # missing and "" are one value
        return merged[d.codes], np.asarray(uniques, dtype=object)
    filled = values.astype("str").where(values.notna(), "")
    codes, distinct = pd.factorize(filled, use_na_sentinel=False)
    return codes, np.asarray(distinct, dtype=object)


def code_key(s: pd.Series, *, case_insensitive: bool = True) -> pd.Series:
    """Matching key of codes: stripped; case and word separators ignored unless told."""
    s = s.astype("str").str.strip()
    if not case_insensitive:
        return s
    # 'Not Home', 'not-home' and 'not_home' are one code
    return s.str.lower().str.replace(r"[\s\-_]+", "_", regex=True)


def _toml_key(code: str) -> str:
    return json.dumps(code, ensure_ascii=False)


def _toml_value(v: object) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    return json.dumps(str(v), ensure_ascii=False)


def snippets(
    unknown: Mapping[str, int],
    default: Mapping[str, object],
    *,
    table: str,
    spec_section: str,
    option: str | None = None,
) -> tuple[str, str]:
    """The Python ``mapping=`` and spec TOML text that map ``unknown`` codes explicitly.

    The snippet repeats the default meaning, to be edited by the user. The TOML lines
    go under ``[data.<table>]`` (one line per code, inline tables). ``option`` names a
    mapping option that holds ``{code: value}`` instead of the ``codes`` table (e.g.
    ``election_type``, ``channel``).
    """
    fields = dict(default)
    if len(fields) == 1:
        (only,) = fields.values()
        py_codes = ", ".join(f"{c!r}: {only!r}" for c in unknown)
        values = {c: _toml_value(only) for c in unknown}
    else:
        py_codes = ", ".join(f"{c!r}: {fields!r}" for c in unknown)
        body = ", ".join(f"{k} = {_toml_value(v)}" for k, v in fields.items())
        values = {c: f"{{ {body} }}" for c in unknown}
    where = f"options.{option}" if option else "codes"
    toml = [f"mapping.{where}.{_toml_key(c)} = {v}" for c, v in values.items()]
    if option:
        return f"mapping={{'options': {{{option!r}: {{{py_codes}}}}}}}", "\n".join(toml)
    return f"mapping={{'codes': {{{py_codes}}}}}", "\n".join(toml)


def map_codes(
    values: pd.Series,
    table: pd.DataFrame,
    *,
    what: str,
    table_name: str,
    path: Path,
    default: Mapping[str, object],
    meaning: str,
    strict: bool = False,
    case_insensitive: bool = True,
    spec_section: str | None = None,
    option: str | None = None,
) -> CodeLookup:
    """Map each value to its row of a code table; unknown codes get ``default``.

    Parameters
    ----------
    values
        The file's codes (index = file lines).
    table
        Code table with a ``code`` column and the value columns (``default`` names the
        same value columns).
    what, table_name, path
        For messages: the kind of code, the canonical table, the file.
    default
        Value of each output column for an unknown code.
    meaning
        The layout's default meaning in words (``"an ncvhis row is a ballot cast"``).
    strict
        Raise :class:`~fieldexp.errors.FileFormatError` instead of warning.
    option
        The mapping option through which users map these codes (``election_type``,
        ``channel``), when it is not the ``codes`` table.

    Returns
    -------
    CodeLookup
    """
    # work on the distinct values (a file has millions of rows and a few dozen codes)
    codes_idx, uniques = factorize_text(values)
    u = pd.Series(uniques, dtype="object").astype("str")
    u_stripped = u.str.strip()
    u_key = code_key(u, case_insensitive=case_insensitive)
    tab = table.assign(_key=code_key(table["code"], case_insensitive=case_insensitive))
    tab = tab.drop_duplicates("_key", keep="last")
    value_cols = [c for c in tab.columns if c not in ("code", "_key")]
    u_merged = pd.DataFrame({"_key": u_key.to_numpy()}).merge(
        tab.drop(columns="code"), on="_key", how="left", validate="many_to_one"
    )
    u_bad = ~u_key.isin(set(tab["_key"])).to_numpy()
    bad = pd.Series(u_bad[codes_idx], index=values.index)
    n_per_unique = np.bincount(codes_idx, minlength=len(u))
    by_code = (
        pd.Series(n_per_unique, index=u_stripped.to_numpy()).groupby(level=0, sort=False).sum()
    )
    by_code = by_code.sort_values(ascending=False, kind="stable")
    counts = {str(c): int(n) for c, n in by_code.items()}
    stripped_of = u_stripped.to_numpy()
    unknown: dict[str, int] = {}
    if bad.any():
        bad_codes = set(stripped_of[u_bad])
        unknown = {c: n for c, n in counts.items() if c in bad_codes}
        listed = ", ".join(f"{c!r} ({n})" for c, n in list(unknown.items())[:20])
        more = f" and {len(unknown) - 20} more" if len(unknown) > 20 else ""
        py, toml = snippets(
            unknown,
            default,
            table=table_name,
            spec_section=spec_section or table_name,
            option=option,
        )
        where = format_rows(values.index[bad.to_numpy()], total=int(bad.sum())).replace(
            "row", "line", 1
        )
        section = f"[data.{spec_section or table_name}]"
        if strict:
            raise FileFormatError(
                f"{table_name}: file {path.name!r} has unknown {what} code(s): {listed}{more}, "
                f"in {where} (strict: unknown codes are refused). Known codes: "
                f"{sorted(set(table['code']))[:20]}. Map them with {py}; or in the spec, "
                f"under {section}: {toml}"
            )
        warnings.warn(
            UnknownCodeWarning(
                f"{table_name}: file {path.name!r} has unknown {what} code(s): {listed}{more}, "
                f"in {where}; they were given the default meaning ({meaning}: "
                f"{dict(default)}); strict=True (spec: strict = true) refuses them. To map "
                f"them, pass {py}; or in the spec, under {section}: {toml}",
                python=py,
                toml=f"{section}\n{toml}",
            ),
            stacklevel=3,
        )
        for col in value_cols:
            if col in default:
                u_merged.loc[u_bad, col] = str(default[col])
    # defaults filled per distinct value, then spread to the rows (the same cells as filling
    # the rows: a row is unknown exactly when its distinct value is)
    distinct = u_merged.drop(columns="_key")
    merged = distinct.iloc[codes_idx].reset_index(drop=True)
    merged.index = values.index
    return CodeLookup(
        values=merged, counts=counts, unknown=unknown, distinct=distinct, index=codes_idx
    )
