"""Blank the secrets of a spec's text (what provenance shows), and nothing else.

The ``[privacy] salt`` keys the canvasser pseudonyms and a reader's ``id_salt`` keys the
REU voter ids: whoever knows one can test guesses of who is behind a pseudonym. Provenance
shows the spec text, so each secret's *value* (the TOML string of the ``salt`` or
``id_salt`` key) is replaced by ``"<redacted>"``. Only that string is touched: the rest
of the text stays byte-identical, whatever characters a secret shares with it. The check
is structural: after each replacement the text must parse to the same document with only
that key changed; when a secret cannot be located that way, the whole text is withheld
rather than shown with the secret.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import tomllib

from fieldexp.errors import SpecificationError
from fieldexp.spec.guards import MIN_SALT_LENGTH

__all__ = ["REDACTED", "SECRET_KEYS", "redact_salt", "refuse_short_secrets", "secret_values"]

REDACTED = "<redacted>"
WITHHELD = "# spec text withheld: the [privacy] salt could not be located for redaction\n"

# TOML strings (multi-line first) and comments, scanned left to right so that a '#'
# inside a string and quotes inside a comment are read as what they are.
_TOKENS = re.compile(
    r'(?P<s>"""(?:[^\\]|\\.)*?"""(?!")|\'\'\'.*?\'\'\'(?!\')|"(?:[^"\\\n]|\\.)*"|\'[^\'\n]*\')'
    r"|(?P<c>#[^\n]*)",
    re.DOTALL,
)


def _decoded(literal: str) -> Any:
    try:
        return tomllib.loads(f"x = {literal}\n")["x"]
    except tomllib.TOMLDecodeError:
        return None


#: Keys whose string values are secrets, wherever they are in the spec: the
#: ``[privacy] salt`` of the pseudonyms and a reader's ``id_salt`` (REU ids, keyed INE).
SECRET_KEYS = frozenset({"salt", "id_salt"})


def secret_values(doc: object, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], str]]:
    """``(key path, value)`` of every string under a :data:`SECRET_KEYS` key of ``doc``."""
    found: list[tuple[tuple[str, ...], str]] = []
    if isinstance(doc, dict):
        for k, v in doc.items():
            if k in SECRET_KEYS and isinstance(v, str):
                found.append(((*path, k), v))
            else:
                found.extend(secret_values(v, (*path, str(k))))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            found.extend(secret_values(v, (*path, str(i))))
    return found


def _with_value(doc: Any, path: tuple[str, ...], value: str) -> Any:
    """A copy of ``doc`` with the value at ``path`` replaced."""
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(doc, list):
        out_list = list(doc)
        out_list[int(head)] = _with_value(doc[int(head)], rest, value)
        return out_list
    out = dict(doc)
    out[head] = _with_value(doc[head], rest, value)
    return out


def redact_salt(text: str, salts: Iterable[str | None] = ()) -> str:
    """``text`` with the string value of every secret key replaced by ``"<redacted>"``.

    Secret keys are ``[privacy] salt`` and a reader's ``id_salt`` (e.g.
    ``[data.voters] mapping.options.id_salt``), wherever the TOML puts them (table, dotted
    key, inline table; any string form). ``salts``: other secrets (e.g. a salt set in
    Python). These and the secrets found are also blanked inside comments, when at least 16
    characters long (so that a short value never blanks unrelated text); other keys' values
    are never changed.
    """
    try:
        doc: Any = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return WITHHELD
    targets = secret_values(doc)
    out = text
    for path, value in targets:
        expected = _with_value(doc, path, REDACTED)
        done = False
        for m in _TOKENS.finditer(out):
            if m.group("s") is None or _decoded(m.group("s")) != value:
                continue
            candidate = out[: m.start()] + f'"{REDACTED}"' + out[m.end() :]
            try:
                if tomllib.loads(candidate) == expected:
                    out, doc, done = candidate, expected, True
                    break
            except tomllib.TOMLDecodeError:
                continue
        if not done:
            return WITHHELD
    secrets = [
        s
        for s in {*(v for _, v in targets), *salts}
        if isinstance(s, str) and len(s) >= MIN_SALT_LENGTH
    ]
    if not secrets:
        return out
    # the secret copied into a comment: blank it there too (comments only, never values)
    parts: list[str] = []
    last = 0
    for m in _TOKENS.finditer(out):
        comment = m.group("c")
        if comment is None:
            continue
        for secret in secrets:
            comment = comment.replace(secret, REDACTED)
        parts.append(out[last : m.start()] + comment)
        last = m.end()
    parts.append(out[last:])
    return "".join(parts)


def refuse_short_secrets(raw: dict[str, Any], file: str) -> None:
    """Every secret of the spec (``[privacy] salt``, a reader's ``id_salt``): 16+ characters,
    never echoed in the error."""
    for path, value in secret_values(raw):
        if len(value) < MIN_SALT_LENGTH:
            section = ".".join(path[:-1])
            label = f"[{section}] {path[-1]}" if section else path[-1]
            raise SpecificationError(
                f"{file}: {label}: must be a secret of at least {MIN_SALT_LENGTH} characters "
                f"({len(value)} given; the value is not shown). Use a long random string, e.g. "
                '`python -c "import secrets; print(secrets.token_urlsafe(24))"`, and keep it '
                "out of every output"
            )
