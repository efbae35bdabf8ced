"""Griffe extension: parameter defaults in the API reference come from the signature.

(It also turns Sphinx cross-reference roles into code spans, see ``_ROLE``.)

numpydoc reads ``name : {"a", "b"}`` as "choices, the first is the default", so griffe would
show ``"HC0"`` as the default of ``se_type : {"HC0", ..., "stata"}, optional`` although the
signature says ``None`` (estimatr's rule: HC2 without clusters, CR2 with). The signature is
what the code does: where a documented parameter's first choice is not its signature default,
the line is rewritten (before parsing) as ``name : "a" | "b", default <signature default>``.
Only the docstring text changes; nothing is parsed early, so griffe's own warnings still fail
the strict build exactly where they would without this extension.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

# Sphinx cross-reference roles read as code (``:func:`~fieldexp.itt``` -> ```fieldexp.itt```), in
# every part of a docstring, parameter types included (descriptions get the same rewrite from
# the Markdown preprocessor of fieldexp_docs.py).
_ROLE = re.compile(r":(?:py:)?(?:func|class|meth|mod|attr|data|obj|exc):`~?([^`]+)`")
_CHOICES = re.compile(
    r"^(?P<indent>\s*)(?P<names>\w+(?:, \w+)*)\s*:\s*\{(?P<choices>.+)\}(?:,\s*optional)?\s*$"
)


class SignatureDefaults(griffe.Extension):
    def on_object(self, *, obj: Any, loader: Any, **kwargs: Any) -> None:
        if obj.is_alias or obj.docstring is None:
            return
        if ":`" in obj.docstring.value:
            obj.docstring.value = _ROLE.sub(r"`\1`", obj.docstring.value)
        if "{" not in obj.docstring.value:
            return
        try:
            params = obj.parameters
        except (AttributeError, KeyError, ValueError):
            return
        lines = obj.docstring.value.split("\n")
        changed = False
        for i, line in enumerate(lines):
            m = _CHOICES.match(line)
            if m is None:
                continue
            names = m.group("names").split(", ")
            if not all(n in params for n in names):
                continue
            default = params[names[0]].default
            first = m.group("choices").split(", ", 1)[0]
            if default is None or str(default) == first:
                continue
            choices = " | ".join(c.strip() for c in m.group("choices").split(","))
            lines[i] = f"{m.group('indent')}{m.group('names')} : {choices}, default {default}"
            changed = True
        if changed:
            obj.docstring.value = "\n".join(lines)
