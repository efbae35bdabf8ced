"""Columns that look like personal data, whatever their spelling.

Voter files name the same personal field many ways (``FirstName``, ``First Name``,
``FIRST_NAME``, ``first_name``, ``Mail_Addr1``, ``RESIDENTIAL_ADDRESS1``,
``DATE_OF_BIRTH``, ``Cell Phone``, ``E-mail``, ``adresse``, ``courriel``). This module is
the ONE rule for what is personal: :func:`personal_kind` says which kind of personal data a
column name holds (a name, an address, a birth date or place, a phone number, an e-mail
address, a national id number, a nationality); the readers drop such columns at import
(unless ``keep_pii=True``), the analysis table never carries them as covariates, the spec
refuses them (:mod:`fieldexp.spec.guards`) and the output leak check looks for them
(:mod:`fieldexp.report.safety`). It does not flag ids (``voter_id``: see
``spec.guards.identifier_kind``), places (``precinct_name``, ``nom_commune``, ``city``,
``zip``), the birth *year* (a covariate) or 0/1 indicators (``has_phone``).
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Iterable

__all__ = ["NOT_A_PERSON", "looks_personal", "name_tokens", "personal_columns", "personal_kind"]


def name_tokens(column: str) -> tuple[str, ...]:
    """Lower-case ASCII word tokens of a column name (accents dropped, camelCase split).

    ``"FirstName"`` -> ``("first", "name")``; ``"Date de naissance"`` ->
    ``("date", "de", "naissance")``; ``"E-Mail"`` -> ``("e", "mail")``.
    """
    text = unicodedata.normalize("NFKD", str(column))
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", text)
    text = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1 \2", text)
    return tuple(t for t in re.split(r"[^a-z0-9]+", text.lower()) if t)


# Words that make a "name" column name something other than a person.
NOT_A_PERSON = frozenset(
    {
        "precinct",
        "precincts",
        "commune",
        "communes",
        "city",
        "town",
        "county",
        "state",
        "district",
        "ward",
        "bureau",
        "municipality",
        "municipalite",
        "departement",
        "department",
        "region",
        "canton",
        "circonscription",
        "list",
        "liste",
        "party",
        "parti",
        "candidate",
        "candidat",
        "file",
        "fichier",
        "election",
        "scrutin",
        "org",
        "organisation",
        "organization",
        "campaign",
        "team",
        "turf",
        "area",
        "zone",
        "polling",
        "station",
        "place",
        "lieu",
        "site",
        "arm",
        "group",
        "groupe",
        "column",
        "table",
        "field",
        "country",
        "pays",
        "nuance",
        "panel",
        "event",
        "survey",
        "question",
        "script",
        "result",
        "code",
        "type",
        "method",
        "channel",
        "user",
        "host",
    }
)
# Name words: a person's name unless a word above says otherwise.
_NAME_WORDS = frozenset({"name", "names", "nom", "noms", "nombre", "nombres", "apellido"})
# Always a person's name, whatever else the column says.
_PERSON_NAME_WORDS = frozenset(
    {
        "firstname",
        "lastname",
        "middlename",
        "fullname",
        "surname",
        "surnames",
        "forename",
        "forenames",
        "givenname",
        "familyname",
        "maidenname",
        "birthname",
        "fname",
        "lname",
        "mname",
        "prenom",
        "prenoms",
        "patronyme",
        "nomdenaissance",
        "nomnaissance",
        "nomusage",
        "nomdusage",
        "vorname",
        "nachname",
        "apellidos",
    }
)
_PERSON_NAME_PAIRS = frozenset(
    {
        ("first", "name"),
        ("last", "name"),
        ("middle", "name"),
        ("full", "name"),
        ("given", "name"),
        ("family", "name"),
        ("maiden", "name"),
        ("birth", "name"),
        ("usage", "name"),
        ("sur", "name"),
        ("fore", "name"),
        ("name", "suffix"),
        ("name", "prefix"),
        ("voter", "name"),
        ("nom", "naissance"),
        ("nom", "usage"),
        ("nom", "famille"),
        ("nom", "epouse"),
        ("nom", "marital"),
    }
)
_ADDRESS_WORDS = frozenset(
    {
        "address",
        "addresses",
        "adresse",
        "adresses",
        "addr",
        "addr1",
        "addr2",
        "address1",
        "address2",
        "address3",
        "direccion",
        "domicile",
        "domicilio",
        "street",
        "streetname",
        "streetnumber",
        "housenumber",
        "pobox",
        "rue",
        "voie",
        "lieudit",
        "apartment",
        "apt",
    }
)
_ADDRESS_PAIRS = frozenset(
    {
        ("po", "box"),
        ("house", "number"),
        ("house", "num"),
        ("house", "no"),
        ("street", "number"),
        ("unit", "number"),
        ("apartment", "number"),
        ("lieu", "dit"),
        ("numero", "voie"),
        ("libelle", "voie"),
        ("complement", "adresse"),
        ("mailing", "address"),
        ("residential", "address"),
        ("res", "address"),
        ("mail", "street"),
        ("mail", "addr"),
    }
)
_BIRTH_WORDS = frozenset(
    {"birth", "birthdate", "birthday", "dob", "naissance", "nacimiento", "geburtsdatum"}
)
# Birth year (an age covariate) is not a birth date.
_YEAR_WORDS = frozenset({"year", "yr", "annee", "ano", "jahr", "yob"})
_PHONE_WORDS = frozenset(
    {
        "phone",
        "phones",
        "telephone",
        "telephones",
        "tel",
        "telefono",
        "cellphone",
        "mobile",
        "portable",
        "fax",
        "landline",
        "handy",
        "phonenumber",
    }
)
_EMAIL_WORDS = frozenset({"email", "emails", "courriel", "emailaddress", "mel"})
_NATIONAL_ID_WORDS = frozenset({"ssn", "nir", "ine", "passport", "insee", "ssnlast4"})
_NATIONAL_ID_PAIRS = frozenset(
    {
        ("social", "security"),
        ("drivers", "license"),
        ("drivers", "lic"),
        ("driver", "lic"),
        ("driver", "license"),
        ("license", "number"),
        ("licence", "number"),
        ("numero", "securite"),
        ("national", "id"),
    }
)
_NATIONALITY_WORDS = frozenset({"nationality", "nationalite", "citizenship", "nacionalidad"})
_BIRTH_PLACE_PAIRS = frozenset(
    {
        ("birth", "place"),
        ("birth", "country"),
        ("lieu", "naissance"),
        ("pays", "naissance"),
        ("commune", "naissance"),
        ("departement", "naissance"),
        ("country", "birth"),
        ("place", "birth"),
    }
)


# Words that make a column an indicator or a count derived from personal data.
_INDICATOR_WORDS = frozenset(
    {"has", "is", "flag", "available", "present", "missing", "valid", "known", "count", "any"}
)


def _pairs(tokens: tuple[str, ...]) -> set[tuple[str, str]]:
    """Adjacent token pairs, ignoring connecting words (``date de naissance``)."""
    core = [t for t in tokens if t not in {"de", "du", "d", "of", "la", "le", "the", "s"}]
    return set(itertools.pairwise(core))


def personal_kind(column: str) -> str | None:
    """What personal data ``column`` holds, by its name (``None``: not personal).

    Returns one of ``"a name"``, ``"an address"``, ``"a birth date"``, ``"a birth place"``,
    ``"a phone number"``, ``"an e-mail address"``, ``"a national id number"`` or
    ``"a nationality"``. Spelling does not matter (case, separators, accents, camelCase).
    """
    tokens = name_tokens(column)
    if not tokens:
        return None
    words = set(tokens)
    if words & _INDICATOR_WORDS:
        return None  # has_phone, email_valid: a 0/1 indicator, not the value itself
    joined = "".join(tokens)
    pairs = _pairs(tokens)
    if (
        words & _EMAIL_WORDS
        or ("e", "mail") in pairs
        or ("adresse", "electronique") in pairs
        or joined in {"email", "emailaddress"}
    ):
        return "an e-mail address"
    if words & _PHONE_WORDS or joined.startswith(("phone", "telephone", "cellphone")):
        return "a phone number"
    if joined == "cell" or ("cell" in words and words & {"number", "no", "num", "nr"}):
        return "a phone number"
    if pairs & _BIRTH_PLACE_PAIRS:
        return "a birth place"
    if words & _PERSON_NAME_WORDS or joined in _PERSON_NAME_WORDS or pairs & _PERSON_NAME_PAIRS:
        return "a name"
    birth = words & _BIRTH_WORDS or joined in {"birthdate", "dateofbirth", "datenaissance"}
    if birth and not words & _YEAR_WORDS:
        return "a birth date"
    if words & _NATIONALITY_WORDS:
        return "a nationality"
    if words & _NATIONAL_ID_WORDS or pairs & _NATIONAL_ID_PAIRS:
        return "a national id number"
    if words & _ADDRESS_WORDS or pairs & _ADDRESS_PAIRS or joined in _ADDRESS_WORDS:
        return "an address"
    if words & _NAME_WORDS and not words & NOT_A_PERSON:
        return "a name"
    return None


def looks_personal(name: object) -> bool:
    """True when a column name holds personal data (:func:`personal_kind` is not ``None``).

    One rule for the importers, the spec and the output leak check.
    """
    return personal_kind(str(name)) is not None


def personal_columns(columns: Iterable[object]) -> list[str]:
    """The columns of ``columns`` that :func:`looks_personal`."""
    return [str(c) for c in columns if looks_personal(c)]
