"""Vote-share keys and station-column checks for the polling-station table.

A vote share must mean the same party everywhere it is compared. The panel number
(``N° panneau``, the ``candidate`` column of ``precinct_results``) does not: in
legislative elections it is drawn per circonscription, so ``share_8`` is one party in one
town, another elsewhere and absent in a third. Shares are therefore keyed by

* ``"nuance"``: the Ministry's political nuance (``RN``, ``DVG``, ``LFI`` ...), votes of
  candidates sharing a nuance in one station added together;
* ``"candidate_label"`` (alias ``"list"``): the list label, else ``NOM Prénom``;
* ``"bloc"``: the nuance's bloc (``gauche``, ``centre``, ``droite`` ...) from the table
  shipped in ``fieldexp/targeting/blocs/blocs.csv`` (read as a file, not imported) or a
  ``{nuance: bloc}`` mapping; unmapped nuances go to the bloc ``"non_classe"`` with a
  warning naming them;
* ``"candidate"``: the panel number, accepted only when every panel number carries one
  label in every station (presidential elections); otherwise refused with the reason.

A share is missing (not zero) in a station whose ballot did not carry that key, and
:func:`share_gaps` / :func:`check_station_columns` say where.
"""

from __future__ import annotations

import unicodedata
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from io import StringIO

import pandas as pd

from fieldexp.errors import (
    ColumnNotFoundError,
    DataError,
    FieldexpWarning,
    SpecificationError,
    did_you_mean,
)
from fieldexp.io.precinct import candidate_key

__all__ = [
    "SHARES_BY",
    "ShareGap",
    "check_station_columns",
    "has_values",
    "nuance_blocs",
    "panel_number_column",
    "share_gaps",
    "share_keys",
]

#: What a vote-share column can be keyed by.
SHARES_BY = ("nuance", "candidate_label", "list", "bloc", "candidate")
#: Bloc of nuances missing from the bloc table.
UNCLASSIFIED = "non_classe"


def _fold(text: object) -> str:
    s = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode()
    return " ".join(s.upper().replace("_", " ").split())


def nuance_blocs(blocs: Mapping[str, str] | None = None, *, kind: str = "nuance") -> dict[str, str]:
    """``{NUANCE: bloc}`` (``kind="candidate"``: ``{SURNAME: bloc}``, presidential
    candidates 2012-2022): the shipped French table, or ``blocs`` (which replaces it)."""
    if blocs is not None:
        return {_fold(k): str(v) for k, v in blocs.items()}
    text = resources.files("fieldexp").joinpath("targeting/blocs/blocs.csv").read_text("utf-8")
    table = pd.read_csv(StringIO(text), dtype=str, keep_default_na=False)
    table = table[table["kind"] == kind]
    return {_fold(c): b for c, b in zip(table["code"], table["bloc"], strict=True)}


def _candidate_bloc(label: str, table: dict[str, str]) -> str | None:
    """Bloc of ``"NOM Prénom"``: a mapped surname found as a run of whole words."""
    if label in table:
        return table[label]
    words = f" {label} "
    hits = {b for k, b in table.items() if f" {k} " in words}
    return hits.pop() if len(hits) == 1 else None


def has_values(column: pd.Series, *, every: bool = False) -> bool:
    """Some (``every``: all) values present and not blank."""
    present = column.notna() & (column.astype(str).str.strip() != "")
    return bool(present.all() if every else present.any())


def panel_number_column(column: str) -> bool:
    """True for ``share_8`` / ``votes_12``: a share keyed by a panel number."""
    for prefix in ("share_", "votes_"):
        if column.startswith(prefix) and column[len(prefix) :].isdigit():
            return True
    return False


def share_keys(rows: pd.DataFrame, by: str, *, blocs: Mapping[str, str] | None = None) -> pd.Series:
    """The column key of every candidate row (``share_<key>``), checked.

    Raises
    ------
    SpecificationError
        ``by`` unknown or its column absent; ``by="candidate"`` when a panel number carries
        different candidates in different stations; two labels folding to one key.
    """
    if by not in SHARES_BY:
        raise SpecificationError(
            f"shares_by must be one of {list(SHARES_BY)}, got {by!r}." + did_you_mean(by, SHARES_BY)
        )
    column = {"list": "candidate_label", "bloc": "nuance"}.get(by, by)
    if by == "bloc" and not ("nuance" in rows.columns and has_values(rows["nuance"], every=True)):
        column = "candidate_label"  # presidential files: blocs of the candidates
    if column not in rows.columns or not has_values(rows[column]):
        have = [c for c in ("nuance", "candidate_label") if c in rows.columns]
        raise SpecificationError(
            f"shares_by = {by!r} needs the column {column!r} in precinct_results, which this "
            f"file does not have (or leaves empty); available: {have or 'none'}"
        )
    values = rows[column]
    values = values.where(values.astype(str).str.strip() != "")  # blank = missing
    if values.isna().any():
        first = rows.loc[values.isna(), "precinct_id"].astype(str).unique()[:5]
        raise DataError(
            f"shares_by = {by!r}: {int(values.isna().sum())} candidate rows have no {column!r} "
            f"(first stations: {', '.join(first)}); their votes would have no share. Use "
            "shares_by = 'candidate_label'."
        )
    if by == "candidate":
        label = rows["candidate_label"] if "candidate_label" in rows.columns else None
        if label is not None:
            per = label.astype(str).groupby(values.astype(str).to_numpy()).nunique()
            if (per > 1).any():
                n = per.index[per > 1][0]
                seen = sorted(label[values.astype(str) == n].astype(str).unique())[:3]
                raise SpecificationError(
                    f"shares_by = 'candidate' keys shares by panel number, but panel {n!r} is "
                    f"{' / '.join(map(repr, seen))} in different stations ({int((per > 1).sum())} "
                    "panel numbers differ): panel numbers are drawn per circonscription, so one "
                    "share would mix parties. Use shares_by = 'nuance', 'candidate_label' or "
                    "'bloc'."
                )
    if by == "bloc":
        folded = values.map(_fold)
        if column == "nuance":
            bloc = folded.map(nuance_blocs(blocs))
        else:
            table = nuance_blocs(blocs, kind="candidate")
            bloc = folded.map(lambda v: _candidate_bloc(v, table))
        unknown = sorted(values[bloc.isna()].astype(str).unique())
        if unknown:
            warnings.warn(
                f"shares_by = 'bloc': {column} value(s) {unknown[:10]} are in no bloc "
                f"({int(bloc.isna().sum())} candidate rows); their votes go to the bloc "
                f"{UNCLASSIFIED!r}. Give [stations] blocs = {{NUANCE = 'bloc'}} (or SURNAME) to "
                "place them.",
                FieldexpWarning,
                stacklevel=3,
            )
        values = bloc.fillna(UNCLASSIFIED)
    keys = values.map(candidate_key)
    per_key = values.astype(str).groupby(keys.to_numpy()).unique()
    clashing = {k: sorted(v) for k, v in per_key.items() if len(v) > 1}
    if clashing:
        k, v = next(iter(clashing.items()))
        raise SpecificationError(
            f"shares_by = {by!r}: distinct labels {', '.join(map(repr, v))} give the same column "
            f"key {k!r} ({len(clashing)} such key(s)); their votes would be added together. "
            "Rename them in the results file or choose another shares_by."
        )
    return keys


@dataclass(frozen=True, slots=True)
class ShareGap:
    """A station column missing in some stations: count and the first stations."""

    column: str
    missing: int
    stations: int
    first: tuple[str, ...]

    def text(self) -> str:
        return (
            f"{self.column!r} is missing in {self.missing} of {self.stations} polling stations "
            "of the experiment "
            f"(first: {', '.join(self.first)})"
        )


def share_gaps(table: pd.DataFrame, columns: Sequence[str]) -> list[ShareGap]:
    """Columns of the station table with missing values (a share absent from a ballot)."""
    out = []
    for c in columns:
        if c not in table.columns:
            continue
        miss = table[c].isna().to_numpy()
        if miss.any():
            first = tuple(table.loc[miss, "precinct_id"].astype(str).head(5))
            out.append(ShareGap(c, int(miss.sum()), len(table), first))
    return out


def check_station_columns(
    table: pd.DataFrame, columns: Sequence[str], what: str, *, allow_missing: bool = False
) -> None:
    """Every column exists in the station table and (unless ``allow_missing``) in every station.

    Raises
    ------
    SpecificationError
        A panel-number share (``share_8``) that the table does not have: the reason.
    ColumnNotFoundError
        Unknown column, naming the available ones.
    DataError
        A column missing in some stations (count and first stations).
    """
    for c in columns:
        if c in table.columns:
            continue
        if panel_number_column(c):
            raise SpecificationError(
                f"{what}: {c!r} is a share by panel number (N° panneau), which is drawn per "
                "circonscription in legislative elections: one column would mix parties. Name "
                "the share by nuance, list/candidate or bloc (e.g. 'share_RN', [stations] "
                "shares_by)."
            )
        shares = sorted(x for x in map(str, table.columns) if x.startswith("share_"))
        other = [x for x in map(str, table.columns) if not x.startswith(("share_", "votes_"))]
        raise ColumnNotFoundError(
            f"{what}: column {c!r} is not in the polling-station table."
            + did_you_mean(c, [str(x) for x in table.columns])
            + f" Shares: {', '.join(shares) or 'none'}. Other columns: {', '.join(other)}"
        )
    if allow_missing:
        return
    gaps = share_gaps(table, columns)
    if gaps:
        ballot = any(g.column.startswith(("share_", "votes_")) for g in gaps)
        raise DataError(
            f"{what}: "
            + "; ".join(g.text() for g in gaps)
            + (
                ". A share is missing where that nuance/list/candidate was not on the ballot (or "
                "no valid vote was cast): compare stations where it stood (restrict the "
                "assignment to them) or use shares_by = 'bloc'."
                if ballot
                else ". Turnout is missing where a station has 0 registered voters: remove such "
                "stations from the assignment."
                if "turnout" in [g.column for g in gaps]
                else ". Fill the column for every station of the assignment."
            )
        )
