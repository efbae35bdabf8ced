"""Columns that look like personal data, whatever their spelling.

Voter files name the same personal field many ways (``FirstName``, ``First Name``,
``FIRST_NAME``, ``first_name``, ``Mail_Addr1``, ``RESIDENTIAL_ADDRESS1``,
``DATE_OF_BIRTH``, ``Cell Phone``, ``E-mail``). :func:`looks_personal` recognises
names, addresses, phone numbers, e-mail addresses and birth dates from the words of a
column name, so the readers drop them at import (unless ``keep_pii=True``) and the
analysis table never carries them as covariates. It does not flag ids (``voter_id``),
places (``precinct_name``, ``county_name``, ``city``, ``zip``) or the birth *year*
(a covariate).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = ["looks_personal", "personal_columns"]

#: Words meaning a place or a thing, never a person, beside "name" (privacy first: any
#: other name column is personal).
_NOT_PERSON = frozenset(
    [
        "precinct",
        "precincts",
        "county",
        "party",
        "result",
        "contact",
        "type",
        "election",
        "district",
        "city",
        "commune",
        "bureau",
        "list",
        "candidate",
        "municipality",
        "ward",
        "township",
        "school",
        "state",
        "country",
        "street",
        "file",
        "event",
        "campaign",
        "committee",
        "survey",
        "activist",
        "code",
        "org",
        "organization",
        "team",
        "turf",
        "universe",
        "place",
        "polling",
        "location",
        "site",
        "ballot",
        "style",
        "office",
        "contest",
        "jurisdiction",
        "town",
        "village",
        "municipal",
        "zone",
        "area",
        "region",
        "source",
        "script",
        "question",
        "tag",
        "group",
        "method",
        "status",
        "desc",
        "description",
        "label",
        "libelle",
        "departement",
        "circonscription",
        "canton",
        "nuance",
        "liste",
        "panneau",
        "bv",
        "vote",
        "dist",
        "schl",
        "judic",
        "super",
        "court",
        "senate",
        "house",
        "cong",
        "commiss",
        "fire",
        "water",
        "library",
        "tete",
        "candidat",
        "candidats",
    ]
)
_ADDRESS = {
    "address",
    "addr",
    "street",
    "apt",
    "apartment",
    "housenumber",
    "housenum",
    "streetname",
    "streetaddress",
    "pobox",
    "residence",
}
_PHONE = {
    "phone",
    "telephone",
    "tel",
    "mobile",
    "cell",
    "cellphone",
    "landline",
    "phonenumber",
    "homephone",
    "workphone",
    "fax",
}
_EMAIL = {"email", "emailaddress", "mail address"}
_BIRTHDATE = {
    "dob",
    "birthdate",
    "birthday",
    "dateofbirth",
    "datenaissance",
    "datedenaissance",
    "naissance",
}
_IDS = {"ssn", "socialsecurity", "driverslicense", "driverslic", "dlnumber", "passport"}


def _words(name: object) -> list[str]:
    text = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", str(name))  # FirstName -> First Name
    text = re.sub(r"(?<=[A-Za-z])(?=\d)", " ", text)  # Addr1 -> Addr 1
    from fieldexp.io.mappings import normalize_name

    return normalize_name(text).split()


def looks_personal(name: object) -> bool:
    """True when a column name looks like a name, address, phone, e-mail or birth date."""
    words = _words(name)
    if not words:
        return False
    joined = "".join(words)
    wset = set(words)
    if joined in _BIRTHDATE or {"birth", "date"} <= wset or "dob" in wset or "birthdate" in wset:
        return True
    if "naissance" in wset and "date" in wset:
        return True
    if wset & _PHONE or joined in _PHONE:
        return True
    if "email" in wset or joined.startswith("email") or ({"e", "mail"} <= wset):
        return True
    if joined in _IDS or wset & _IDS or ({"drivers", "lic"} <= wset):
        return True
    if (
        wset & _ADDRESS
        or joined in _ADDRESS
        or ({"house", "num"} <= wset)
        or ({"house", "number"} <= wset)
    ):
        return True
    if {"unit", "num"} <= wset or {"unit", "number"} <= wset:
        return True
    names = wset & {
        "name",
        "names",
        "firstname",
        "lastname",
        "fullname",
        "prenom",
        "prenoms",
        "nom",
    }
    if names or joined in {"firstname", "lastname", "middlename", "fullname", "surname"}:
        rest = wset - {
            "name",
            "names",
            "firstname",
            "lastname",
            "fullname",
            "prenom",
            "prenoms",
            "nom",
        }
        return not (rest & _NOT_PERSON)
    return joined in {"surname", "forename", "givenname", "middlename", "midlname"}


def personal_columns(columns: Iterable[object]) -> list[str]:
    """The columns of ``columns`` that :func:`looks_personal`."""
    return [str(c) for c in columns if looks_personal(c)]
