"""What a spec may name: personal and identifier columns, names that become file names, inputs.

These checks run when a spec is validated (and again where the report writes or reads), so a
spec cannot route personal data into a report, write outside ``--out`` or make ``fieldexp``
block on a named pipe.

* :func:`personal_kind` classifies a column name as personal data (a name, an address, a
  birth date, a phone number, an e-mail address, a national id number or a nationality)
  whatever its spelling: ``FirstName``, ``first_name``, ``"Birth Date"``, ``adresse``,
  ``nom``, ``prénom``, ``telephone``... Columns naming a place, a list or a party
  (``precinct_name``, ``nom_commune``, ``libellé de la liste``) are not personal.
* :func:`identifier_kind` classifies a per-person identifier (``voter_id``, ``VanID``,
  ``household_id``, ``unit_id``...): grouping by it lists people one by one.
* :func:`name_problem` says why a name that becomes part of a file name (an outcome name, a
  ``by`` column) is unsafe: path separators, ``..``, NUL and control characters, Windows
  device names, over-long names.
* :func:`input_file_problem` says why a path is not a readable regular file (missing, a
  directory, a FIFO, a device, a socket) without opening it, so nothing blocks on a pipe.
"""

from __future__ import annotations

import os
import re
import stat
import unicodedata

from fieldexp.errors import SpecificationError
from fieldexp.io.personal import NOT_A_PERSON as _NOT_A_PERSON
from fieldexp.io.personal import name_tokens, personal_kind

__all__ = [
    "MAX_NAME_LENGTH",
    "MIN_SALT_LENGTH",
    "WINDOWS_RESERVED",
    "control_character",
    "identifier_kind",
    "input_file_problem",
    "name_problem",
    "name_tokens",
    "personal_kind",
    "refuse_control_characters",
]

#: Shortest accepted ``[privacy] salt`` (a secret; short salts can be brute-forced).
MIN_SALT_LENGTH = 16
#: Longest name (characters) that may become part of an output file name.
MAX_NAME_LENGTH = 100
#: Windows device names: never valid as a file name, whatever the extension.
WINDOWS_RESERVED = frozenset(
    {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"}
    | {f"COM{i}" for i in range(10)}
    | {f"LPT{i}" for i in range(10)}
    | {f"COM{c}" for c in "¹²³"}
    | {f"LPT{c}" for c in "¹²³"}
)


_PERSON_WORDS = frozenset(
    {
        "voter",
        "voters",
        "household",
        "households",
        "hh",
        "person",
        "persons",
        "people",
        "individual",
        "member",
        "elector",
        "electeur",
        "electeurs",
        "contact",
        "resident",
        "citizen",
        "unit",
        "van",
        "registrant",
        "registration",
        "inscription",
        "canvasser",
        "volunteer",
    }
)
_ID_WORDS = frozenset(
    {"id", "ids", "identifier", "identifiant", "key", "number", "num", "no", "nr", "numero"}
)
_ID_NAMES = frozenset(
    {
        "vanid",
        "voterid",
        "householdid",
        "hhid",
        "personid",
        "ncid",
        "sosvoterid",
        "lalvoterid",
        "statevoterid",
        "regnum",
        "cluster",
        "unitid",
        "canvasserid",
        "contactid",
        "canvasser",
        "canvassers",
        "volunteer",
        "id",
        "uid",
        "uuid",
        "numerodordre",
        "numeroordre",
    }
)


def identifier_kind(column: str) -> str | None:
    """``"a per-person identifier"`` when ``column`` names one (``voter_id``, ``VanID``...)."""
    tokens = name_tokens(column)
    joined = "".join(tokens)
    if joined in _ID_NAMES:
        return "a per-person identifier"
    words = set(tokens)
    if any(t.endswith("id") and t[:-2] in _PERSON_WORDS for t in tokens):
        return "a per-person identifier"  # voterid, householdid
    if not (words & _ID_WORDS and words & _PERSON_WORDS):
        return None
    if not words & _NOT_A_PERSON:
        return "a per-person identifier"  # identifiant national electeur, registration_number
    for i, token in enumerate(tokens):
        # beside an area word, the word before "id" says whose: state_voter_id, not
        # van_precinct_id
        if token in _ID_WORDS and i > 0 and tokens[i - 1] in _PERSON_WORDS:
            return "a per-person identifier"
    return None  # van_precinct_id, household_turf_number: an area, not a person


#: Bidirectional overrides and embeddings: they make text display differently from what it is.
BIDI_OVERRIDES = frozenset("\u202a\u202b\u202c\u202d\u202e")


def control_character(ch: str) -> bool:
    """True for a control character (C0, DEL, C1) or a bidi override/embedding."""
    return unicodedata.category(ch) == "Cc" or ch in BIDI_OVERRIDES


def name_problem(name: str) -> str | None:
    """Why ``name`` may not become part of an output file name (``None``: it may).

    Refused: empty names, NUL and other control characters, ``/`` and ``\\``, names
    starting with ``..``, ``.`` or ``~``, a drive letter (``C:``), Windows device names
    (``CON``, ``NUL``, ``COM1``...), and names over :data:`MAX_NAME_LENGTH` characters.
    Other characters (spaces, accents, punctuation) are replaced in file names.
    """
    text = str(name)
    if not text.strip():
        return "must not be empty"
    if "\x00" in text:
        return "must not contain a NUL character"
    if any(unicodedata.category(ch) in {"Cc", "Cf", "Zl", "Zp"} for ch in text):
        return "must not contain control characters (line breaks, tabs...)"
    if "/" in text or "\\" in text:
        return "must not contain path separators ('/' or '\\\\')"
    if text.startswith((".", "~")):
        return "must not start with '.' or '~'"
    if re.match(r"^[A-Za-z]:", text):
        return "must not start with a drive letter"
    stem = text.split(".")[0].strip().upper()
    if stem in WINDOWS_RESERVED:
        return f"must not be a reserved device name ({stem})"
    if len(text) > MAX_NAME_LENGTH:
        return f"must be at most {MAX_NAME_LENGTH} characters ({len(text)} given)"
    return None


def input_file_problem(path: str | os.PathLike[str]) -> str | None:
    """Why ``path`` is not a regular file to read (``None``: it is one).

    Uses :func:`os.stat` only (follows symlinks, never opens the file), so a named pipe
    (FIFO) is refused instead of blocking the reader.
    """
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return "not found"
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc})"
    mode = st.st_mode
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "is a directory, not a file"
    if stat.S_ISFIFO(mode):
        return "is a named pipe (FIFO), not a regular file"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "is a device, not a regular file"
    if stat.S_ISSOCK(mode):
        return "is a socket, not a regular file"
    return "is not a regular file"


def refuse_control_characters(value: object, file: str, where: tuple[str, ...]) -> None:
    """No control characters (NUL, escape, line breaks...) or bidi overrides in any key or
    string of the spec: they would reach terminals, CSV files and reports as they are."""
    if isinstance(value, dict):
        for k, v in value.items():
            if any(control_character(ch) for ch in str(k)):
                place = f"[{'.'.join(where)}]" if where else "top level"
                raise SpecificationError(
                    f"{file}: {place}: the key {k!r} contains a control character; keys and "
                    "text in a spec must be printable"
                )
            refuse_control_characters(v, file, (*where, str(k)))
    elif isinstance(value, list):
        for v in value:
            refuse_control_characters(v, file, where)
    elif isinstance(value, str):
        bad = next((ch for ch in value if control_character(ch)), None)
        if bad is not None:
            section = ".".join(where[:-1])
            key = where[-1] if where else "top level"
            label = f"[{section}] {key}" if section else key
            raise SpecificationError(
                f"{file}: {label}: contains the control character U+{ord(bad):04X}; text in a "
                "spec must be printable (no NUL, escape sequences, line breaks, tabs or "
                "direction overrides)"
            )
