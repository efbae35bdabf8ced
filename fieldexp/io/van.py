"""NGP VAN lookups: Results (``ResultID`` -> short/medium name/description), ContactTypes
(``ContactTypeID`` -> name -> channel) and the VanID -> state voter id crosswalk.

VAN numbers results per account, so a contact export's ``ResultID`` means nothing
without the account's *Results* lookup. That lookup names each result three ways (VAN's
API calls them ``shortName`` such as ``NH``, ``mediumName`` and ``name``); the reader
uses whichever the mapping tables know best, or the one stated (``results_by``).

A ``VanID`` is VAN's person id, not the state voter id that the voter file and the vote
history carry: a crosswalk (VAN's export of ``VanID`` with the state file id) turns
contacts into rows that join; contacts whose VanID the crosswalk lacks are set aside and
counted, never joined by accident.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from fieldexp.errors import FileFormatError, SpecificationError, did_you_mean, format_rows
from fieldexp.io._text import read_delimited
from fieldexp.io.mappings import normalize_name
from fieldexp.io.vocab import code_key

__all__ = [
    "RESULT_KINDS",
    "apply_crosswalk",
    "choose_result_kind",
    "contact_type_names",
    "read_van_results",
]

#: Columns of a Results lookup, by kind (compared without case or punctuation).
RESULT_KINDS: dict[str, tuple[str, ...]] = {
    "short": ("resultshortname", "shortname", "short name", "result short name", "resultcode"),
    "medium": ("resultmediumname", "mediumname", "medium name", "result medium name"),
    "name": ("resultname", "result name", "name"),
    "description": ("resultdescription", "result description", "description"),
}
_ID_NAMES = ("resultid", "result id", "resultcodeid", "result code id", "id")
#: Spec/option values of ``results_by``.
RESULTS_BY = ("auto", "short", "medium", "name", "description")

#: Crosswalk columns: VAN's id and the state voter id (compact names).
_VANID = ("vanid", "van id", "vanid number")
_STATE_ID = (
    "voterid",
    "voter id",
    "statefileid",
    "state file id",
    "statevoterid",
    "state voter id",
    "stateid",
    "state id",
    "ncid",
    "sosvoterid",
    "sos voterid",
    "lalvoterid",
    "registrantid",
)


def _table(obj: str | Path | pd.DataFrame, what: str) -> pd.DataFrame:
    if isinstance(obj, (str, Path)):
        return read_delimited(obj, table=f"contacts ({what})", check_short=True)
    if isinstance(obj, pd.DataFrame):
        return obj.astype("str").where(obj.notna(), None)
    raise SpecificationError(
        f"read_contacts: {what} must be a path or a DataFrame, got {type(obj).__name__}"
    )


def _find(columns: list[str], names: tuple[str, ...]) -> str | None:
    norm = {normalize_name(c): c for c in columns}
    norm.update({normalize_name(c).replace(" ", ""): c for c in columns})
    return next((norm[n] for n in names if n in norm), None)


def read_van_results(results: str | Path | pd.DataFrame) -> pd.DataFrame:
    """Read a VAN Results lookup into ``result_id`` and one column per name kind.

    Returns a frame with ``result_id`` and any of ``short``, ``medium``, ``name``,
    ``description`` (the kinds the lookup carries), all text. The legacy ``result_name`` column repeats the
    most descriptive kind present.
    """
    table = _table(results, "VAN Results lookup")
    cols = list(table.columns)
    id_col = _find(cols, _ID_NAMES)
    kinds = {k: _find(cols, names) for k, names in RESULT_KINDS.items()}
    kinds = {k: c for k, c in kinds.items() if c is not None and c != id_col}
    if id_col is None or not kinds:
        raise FileFormatError(
            "contacts: the VAN Results lookup needs a ResultID column and a ResultShortName, "
            f"ResultMediumName or ResultName column; found {cols}"
        )
    out = pd.DataFrame({"result_id": table[id_col].astype("str").str.strip()})
    for k, c in kinds.items():
        out[k] = table[c].astype("str").str.strip()
    dup = out["result_id"].duplicated(keep=False) & ~out.duplicated(keep=False)
    if dup.any():
        raise FileFormatError(
            "contacts: the VAN Results lookup gives one ResultID several names: "
            f"{sorted(set(out.loc[dup, 'result_id']))[:5]}"
        )
    out = out.drop_duplicates("result_id").reset_index(drop=True)
    best = next(k for k in ("name", "medium", "description", "short") if k in out.columns)
    out["result_name"] = out[best]
    return out


def choose_result_kind(lookup: pd.DataFrame, codes: pd.DataFrame, results_by: Any) -> str:
    """Which name kind of the Results lookup to map: stated, or the best known.

    ``auto`` (default) takes the kind with the most names known to the code table;
    ties prefer ``name``, then ``medium``, then ``description``, then ``short``.
    """
    kinds = [k for k in ("name", "medium", "description", "short") if k in lookup.columns]
    by = "auto" if results_by is None else str(results_by)
    if by == "description" and "description" not in kinds and "name" in kinds:
        by = "name"  # a lookup whose only long label is called ResultName
    if by not in RESULTS_BY:
        raise SpecificationError(
            f"read_contacts: results_by must be one of {list(RESULTS_BY)}, got {by!r}."
            + did_you_mean(by, list(RESULTS_BY))
        )
    if by != "auto":
        if by not in kinds:
            raise SpecificationError(
                f"read_contacts: results_by={by!r} but the Results lookup has no {by} column "
                f"(it has {kinds})"
            )
        return by
    known = set(code_key(codes["code"]))
    scores = {k: int(code_key(lookup[k]).isin(known).sum()) for k in kinds}
    return max(kinds, key=lambda k: scores[k])  # max keeps the first of equal scores


def contact_type_names(types: str | Path | pd.DataFrame) -> dict[str, str]:
    """``ContactTypeID -> ContactTypeName`` from VAN's ContactTypes lookup."""
    table = _table(types, "VAN ContactTypes lookup")
    cols = list(table.columns)
    id_col = _find(cols, ("contacttypeid", "contact type id", "id"))
    name_col = _find(cols, ("contacttypename", "contact type name", "name", "contacttype"))
    if id_col is None or name_col is None or id_col == name_col:
        raise FileFormatError(
            "contacts: the VAN ContactTypes lookup needs ContactTypeID and ContactTypeName "
            f"columns; found {cols}"
        )
    ids = table[id_col].astype("str").str.strip()
    return dict(zip(ids, table[name_col].astype("str").str.strip(), strict=True))


def apply_crosswalk(df: pd.DataFrame, crosswalk: Any, *, path: Path) -> tuple[pd.DataFrame, int]:
    """Replace ``unit_id`` (VanID) by the state voter id; drop and count unmatched rows.

    ``crosswalk`` is a path, a DataFrame, or a dict ``{"path": ..., "van_id": <column>,
    "voter_id": <column>}`` (the spec's ``[data.crosswalk]``).
    """
    van_col = voter_col = None
    if isinstance(crosswalk, dict):
        van_col = crosswalk.get("van_id")
        voter_col = crosswalk.get("voter_id")
        if "path" not in crosswalk:
            raise SpecificationError("read_contacts: crosswalk needs a path")
        crosswalk = crosswalk["path"]
    table = _table(crosswalk, "VanID crosswalk")
    cols = list(table.columns)
    van_col = van_col or _find(cols, _VANID)
    voter_col = voter_col or _find(cols, _STATE_ID)
    for label, col in (("VanID", van_col), ("state voter id", voter_col)):
        if col is None or col not in cols:
            raise FileFormatError(
                f"contacts: the VanID crosswalk has no {label} column ({col!r}); found {cols}. "
                "Name them with crosswalk={'path': ..., 'van_id': ..., 'voter_id': ...}"
            )
    van = table[van_col].astype("str").str.strip()
    state = table[voter_col].astype("str").str.strip()
    pairs = pd.DataFrame({"van": van, "state": state}).dropna().drop_duplicates()
    conflict = pairs["van"].duplicated(keep=False)
    if conflict.any():
        raise FileFormatError(
            "contacts: the VanID crosswalk gives one VanID several state voter ids, in "
            + format_rows(pairs.index[conflict.to_numpy()], total=int(conflict.sum()))
        )
    lookup = dict(zip(pairs["van"], pairs["state"], strict=True))
    ids = df["unit_id"].astype("str").str.strip()
    mapped = ids.map(lookup)
    matched = mapped.notna().to_numpy()
    out = df.loc[matched].copy()
    out["unit_id"] = mapped[matched].to_numpy()
    return out, int((~matched).sum())
