"""Unit tests of the MkDocs build hooks (docs/_hooks): RST maths rewrite, TeX -> MathML."""

from __future__ import annotations

import importlib.util
import logging
import re
from pathlib import Path

import pytest

pytest.importorskip("markdown", reason="the docs extra is not installed")
pytest.importorskip("latex2mathml", reason="the docs extra is not installed")

HOOKS = Path(__file__).resolve().parents[2] / "docs" / "_hooks" / "fieldexp_docs.py"
spec = importlib.util.spec_from_file_location("fieldexp_docs_hooks", HOOKS)
assert spec is not None and spec.loader is not None
hooks = importlib.util.module_from_spec(spec)
spec.loader.exec_module(hooks)


def test_rst_roles_and_directive_become_markdown_maths() -> None:
    lines = [
        "The bread :math:`M = (X^\\top W X)^{-1}`, see :func:`~fieldexp.itt` and ITT\\ :sub:`D`.",
        "",
        "    .. math::",
        "",
        "        a &= b \\\\",
        "        c &= d",
        "",
        "after",
    ]
    out = hooks.rst_to_markdown_maths(lines)
    text = "\n".join(out)
    assert "$M = (X^\\top W X)^{-1}$" in text
    assert "`fieldexp.itt`" in text and "ITT<sub>D</sub>" in text
    assert "    $$" in text and "\\begin{aligned}a &= b \\\\" in text.replace("\n", "")
    assert out[-1] == "after"


def test_formula_becomes_mathml() -> None:
    html = '<p><span class="arithmatex">\\(\\frac{a}{b}\\)</span></p>'
    out = hooks._ARITHMATEX.sub(lambda m: hooks._to_mathml(m, "page.md"), html)
    assert re.search(r'<span class="fx-math"><math [^>]*display="inline">.*<mfrac>', out)


def test_unconvertible_formula_is_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    html = '<div class="arithmatex">\\[\\frac{a}{\\]</div>'
    with caplog.at_level(logging.WARNING, logger="mkdocs.hooks.fieldexp"):
        out = hooks._ARITHMATEX.sub(lambda m: hooks._to_mathml(m, "page.md"), html)
    assert out == html  # left as it was, and the strict build fails on the warning
    assert any("cannot convert formula" in r.getMessage() for r in caplog.records)
