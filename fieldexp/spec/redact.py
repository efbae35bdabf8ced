"""Blank the ``[privacy] salt`` of a spec's text (what provenance shows), and nothing else.

The salt keys the canvasser pseudonyms: whoever knows it can test guesses of who is
behind a pseudonym. Provenance shows the spec text, so the salt's *value* (the TOML string
of the ``salt`` key) is replaced by ``"<redacted>"``. Only that string is touched: the rest
of the text stays byte-identical, whatever characters the salt shares with it. The check
is structural: after the replacement the text must parse to the same document with only
``privacy.salt`` changed; when the salt cannot be located that way, the whole text is
withheld rather than shown with the secret.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import tomllib

from fieldexp.spec.guards import MIN_SALT_LENGTH

__all__ = ["REDACTED", "redact_salt"]

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


def _with_salt(doc: dict[str, Any], value: str) -> dict[str, Any]:
    out = dict(doc)
    privacy = dict(out["privacy"])
    privacy["salt"] = value
    out["privacy"] = privacy
    return out


def redact_salt(text: str, salts: Iterable[str | None] = ()) -> str:
    """``text`` with the string value of ``[privacy] salt`` replaced by ``"<redacted>"``.

    ``salts``: other secrets (e.g. a salt set in Python). The salt and these are also
    blanked inside comments, when at least 16 characters long (so that a short value never
    blanks unrelated text); other keys' values are never changed.
    """
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return WITHHELD
    privacy = doc.get("privacy")
    target = privacy.get("salt") if isinstance(privacy, dict) else None
    out = text
    if isinstance(target, str):
        expected = _with_salt(doc, REDACTED)
        done = False
        for m in _TOKENS.finditer(text):
            if m.group("s") is None or _decoded(m.group("s")) != target:
                continue
            candidate = text[: m.start()] + f'"{REDACTED}"' + text[m.end() :]
            try:
                if tomllib.loads(candidate) == expected:
                    out, done = candidate, True
                    break
            except tomllib.TOMLDecodeError:
                continue
        if not done:
            return WITHHELD
    secrets = [s for s in {target, *salts} if isinstance(s, str) and len(s) >= MIN_SALT_LENGTH]
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
