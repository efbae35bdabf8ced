"""Which layout a file is in, from its header and first rows (``format="auto"``).

Signatures (header names compared without case, accents or punctuation):

========================  ==================  =============================================
layout                    table               recognised by
========================  ==================  =============================================
VAN contacts              contacts / van      ``VanID`` + ``DateCanvassed``/``ResultID``/
                                              ``ResultName``/``ContactTypeID``
NationBuilder contacts    contacts /          ``person_id``/``signup_id`` + ``status`` +
                          nationbuilder       ``method``/``created_at``
generic contacts          contacts / csv      ``unit_id``/``voter_id``/``household_id`` +
                                              ``result``
ncvhis                    vote_history        ``ncid`` + ``voting_method`` + ``election_lbl``
Ohio SWVF                 vote_history/ohio   ``SOS_VOTERID`` + ``GENERAL-11/08/2016`` columns
                          (voters / csv)
L2                        vote_history / l2   ``LALVOTERID`` + ``General_2020_11_03`` columns
                          (voters / csv)
Florida history           vote_history /      no header; 5 tab-separated fields, a
                          florida             ``MM/DD/YYYY`` date and ``GEN/PRI/PPP/RUN/OTH``
generic long history      vote_history/long   ``voter_id`` + ``election_date`` + ``voted``
generic wide history      vote_history/wide   ``voter_id`` + ``general_2020-11-03`` columns
French results            precinct_results /  ``Inscrits`` + ``Votants`` (+ ``Exprimés``);
                          fr-interieur        the French reader's own detection when present
REU extract               voters / reu        ``Code du bureau de vote`` / ``Nom de naissance``
US voter file             voters / csv        a voter id column (``VoterID``, ``ncid``...)
========================  ==================  =============================================
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from fieldexp.errors import SpecificationError
from fieldexp.io._text import sniff
from fieldexp.io.mappings import MappingSpec, column_aliases, normalize_name

__all__ = ["Detection", "detect_layout", "resolve_format"]

_OHIO_COL = re.compile(r"^[A-Za-z][A-Za-z _]*-\d{1,2}/\d{1,2}/\d{4}$")
_L2_COL = re.compile(r"^[A-Za-z]+_\d{4}_\d{2}_\d{2}$")
_ISO_COL = re.compile(r"^[A-Za-z][A-Za-z _]*[_-]\d{4}-\d{2}-\d{2}$")
_FL_TYPES = {"GEN", "PRI", "PPP", "RUN", "OTH"}


@dataclass(frozen=True, slots=True)
class Detection:
    """A detected layout.

    ``table`` is the canonical table (``voters``, ``vote_history``, ``contacts``,
    ``precinct_results``) or None when nothing matched; ``format`` the reader format
    (``csv`` for a generic file); ``reason`` says which header names decided it;
    ``alternatives`` lists other (table, format) readings of the same file (an Ohio
    SWVF file is both a voter file and a wide vote history).
    """

    table: str | None
    format: str
    reason: str
    header: tuple[str, ...]
    delimiter: str
    encoding: str
    has_header: bool = True
    alternatives: tuple[tuple[str, str], ...] = field(default_factory=tuple)


def _compact(name: str) -> str:
    return normalize_name(name).replace(" ", "")


def _first_rows(path: Path, encoding: str, delimiter: str, n: int = 20) -> list[list[str]]:
    rows: list[list[str]] = []
    with path.open("r", encoding=encoding, newline="") as fh:
        for row in csv.reader(fh, delimiter=delimiter):
            if row and any(x.strip() for x in row):
                rows.append(row)
            if len(rows) >= n:
                break
    return rows


def detect_layout(
    path: str | Path,
    *,
    table: str | None = None,
    encoding: str | None = None,
    vintage_of: Callable[[Path], str | None] | None = None,
) -> Detection:
    """Detect the layout of a delimited file from its header and first rows.

    Parameters
    ----------
    path
        The file.
    table
        When given, prefer readings of that canonical table (an Ohio SWVF file read
        for ``vote_history`` is ``ohio``; for ``voters`` it is ``csv``).
    encoding
        Stated encoding; else UTF-8 with Latin-1 fallback (French files).
    vintage_of
        The French results reader's own vintage detection, when it offers one
        (:func:`fieldexp.io.inspect_file` passes it); its answer is reported.
    """
    p = Path(path)
    info = sniff(p, table=table or "inspect", encoding=encoding, fallback_encoding="cp1252")
    rows = _first_rows(p, info.encoding, info.delimiter)
    header = tuple(c.strip().lstrip("\ufeff") for c in (rows[0] if rows else []))
    comp = {_compact(h) for h in header}
    found: list[tuple[str, str, str]] = []

    def has(*names: str) -> bool:
        return any(_compact(n) in comp for n in names)

    def det(t: str | None, f: str, why: str, has_header: bool = True) -> Detection:
        return Detection(
            table=t,
            format=f,
            reason=why,
            header=header,
            delimiter=info.delimiter,
            encoding=info.encoding,
            has_header=has_header,
            alternatives=tuple((a, b) for a, b, _ in found if (a, b) != (t, f)),
        )

    ohio_cols = [h for h in header if _OHIO_COL.match(h)]
    l2_cols = [h for h in header if _L2_COL.match(h)]
    iso_cols = [h for h in header if _ISO_COL.match(h)]
    if has("VanID") and has("DateCanvassed", "ResultID", "ResultName", "ContactTypeID"):
        found.append(("contacts", "van", "VanID with DateCanvassed/ResultID/ContactTypeID"))
    if has("person_id", "signup_id") and has("status") and has("method", "created_at"):
        found.append(("contacts", "nationbuilder", "person_id/signup_id, status, method"))
    if has("ncid") and has("voting_method") and has("election_lbl", "election_desc"):
        found.append(("vote_history", "ncvhis", "ncid, voting_method, election_lbl"))
    if has("SOS_VOTERID"):
        if ohio_cols:
            found.append(
                ("vote_history", "ohio", f"SOS_VOTERID and {len(ohio_cols)} election columns")
            )
        found.append(("voters", "csv", "SOS_VOTERID (Ohio statewide voter file)"))
    if has("LALVOTERID"):
        if l2_cols:
            found.append(("vote_history", "l2", f"LALVOTERID and {len(l2_cols)} election columns"))
        found.append(("voters", "csv", "LALVOTERID (L2 voter file)"))
    if has("inscrits") and has("votants"):
        vintage = None
        if vintage_of is not None:
            try:
                vintage = vintage_of(p)
            except Exception:
                vintage = None
        why = "Inscrits and Votants (French Interior results)"
        if vintage:
            why += f"; French reader detected vintage {vintage}"
        found.append(("precinct_results", "fr-interieur", why))
    if has("code du bureau de vote", "code bureau de vote") or has("nom de naissance"):
        found.append(("voters", "reu", "Code du bureau de vote / Nom de naissance (REU extract)"))
    if has("ResultID", "resultcodeid") and has(
        "ResultShortName", "ResultMediumName", "ResultName", "shortname", "mediumname"
    ):
        found.append(("van_results", "csv", "ResultID with result names (VAN Results lookup)"))
    if (
        has("arm", "assigned")
        and has("voter_id", "unit_id", "household_id")
        and not has("election_date", "result")
    ):
        found.append(("assignment", "csv", "a unit id and arm/assigned (an assignment)"))
    # generic layouts
    contact_ids = {_compact(k) for k, v in column_aliases("contacts", "csv").items()}
    if has("result") and comp & contact_ids:
        found.append(("contacts", "csv", "a unit id column and result"))
    if has("voter_id") and has("election_date") and has("voted"):
        found.append(("vote_history", "long", "voter_id, election_date, voted"))
    if (
        has("voter_id")
        and (iso_cols or ohio_cols or l2_cols)
        and not has("SOS_VOTERID", "LALVOTERID")
    ):
        found.append(("vote_history", "wide", "voter_id and dated election columns"))
    voter_ids = {
        k.replace(" ", "") for k, v in column_aliases("voters", "csv").items() if v == "voter_id"
    }
    if comp & voter_ids and not any(t in ("voters", "assignment") for t, _, _ in found):
        if not any(t in ("contacts", "vote_history") for t, _, _ in found):
            found.append(("voters", "csv", "a voter id column"))
        else:
            found.append(("voters", "csv", "a voter id column (also holds other data)"))
    # Florida history: headerless, five fields, a date and an election type
    if not found and rows and len(rows[0]) == 5:
        r = rows[0]
        if re.match(r"^\d{2}/\d{2}/\d{4}$", r[2].strip()) and r[3].strip().upper() in _FL_TYPES:
            found.append(
                ("vote_history", "florida", "headerless: county, id, MM/DD/YYYY, GEN/PRI...")
            )
            return det("vote_history", "florida", found[0][2], has_header=False)
    # French results of 2014 and earlier: headerless, ';'-separated, one row per candidate
    # (round, département, commune, name, bureau, registered, voters, expressed, panel...)
    if not found and rows and len(rows[0]) >= 12 and info.delimiter == ";":
        r = [x.strip() for x in rows[0]]
        counts = [x for x in r[4:9] if x.isdigit()]
        dept = r[1].upper()
        if len(counts) >= 4 and (dept.isdigit() or dept in ("2A", "2B") or dept.startswith("Z")):
            found.append(
                (
                    "precinct_results",
                    "fr-interieur",
                    "headerless ';' rows of round, département, commune, bureau and counts "
                    "(French results, 2014 and earlier)",
                )
            )
            return det("precinct_results", "fr-interieur", found[0][2], has_header=False)
    if table is not None:
        for t, f, why in found:
            if t == table:
                return det(t, f, why)
    if found:
        t, f, why = found[0]
        return det(t, f, why)
    return det(None, "csv", "no known layout matched: a generic CSV")


def resolve_format(
    path: Path, table: str, fmt: str, formats: Sequence[str], spec: MappingSpec
) -> str:
    """``fmt`` itself, or the detected format of ``table`` when ``fmt == "auto"``."""
    if fmt != "auto":
        return fmt
    d = detect_layout(path, table=table, encoding=spec.option("encoding"))
    if d.table == table and d.format in formats:
        return d.format
    if d.table is None and "csv" in formats:
        return "csv"
    raise SpecificationError(
        f"{table}: format='auto' could not find a {table} layout in {path.name!r}: "
        + (
            f"it looks like {d.table} ({d.format}: {d.reason})"
            if d.table
            else "no known layout matched its header"
        )
        + f"; header: {list(d.header)[:12]}. Pass format= one of {list(formats)}."
    )
