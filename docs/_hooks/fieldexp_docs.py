"""MkDocs hooks for the fieldexp documentation site (see ``mkdocs.yml``).

Three jobs, all at build time so the built site needs no network when it is viewed:

1. **reStructuredText maths in Markdown.** The numpy docstrings (and a few notes) write maths
   the Sphinx way: ``:math:`x``` roles and ``.. math::`` directives. A Markdown preprocessor
   turns them into ``$x$`` / ``$$ ... $$`` for ``pymdownx.arithmatex``; other inline roles
   (``:func:`f```, ``:class:`C```, ...) become code spans and ``:sub:`D``` a subscript.
2. **Maths to MathML.** Every ``arithmatex`` span/div is converted to MathML with
   ``latex2mathml`` (pure Python). Chromium, Firefox and Safari render MathML natively, so no
   MathJax and no CDN are needed at view time. A formula latex2mathml cannot parse fails the
   build (it is logged as a warning and ``mkdocs build --strict`` stops).
3. **Executed notebooks.** ``notebooks/*.ipynb`` (committed without outputs) are executed with
   nbclient (one kernel each, concurrently, on this interpreter), exported to Markdown with
   their figures as PNG files, and added to the site as ``notebooks/<name>.md``. A cell that
   raises fails the build.
"""

from __future__ import annotations

import asyncio
import html
import json
import logging
import os
import re
import sys
import tempfile
import textwrap
from pathlib import Path
from typing import Any

from markdown import Extension
from markdown.preprocessors import Preprocessor

log = logging.getLogger("mkdocs.hooks.fieldexp")

REPO = Path(__file__).resolve().parents[2]
NOTEBOOK_DIR = REPO / "notebooks"
NOTEBOOK_TIMEOUT = 300  # seconds per cell

# --------------------------------------------------------------------------- RST maths -> $

_ROLE_MATH = re.compile(r":math:`([^`]+)`")
_ROLE_SUB = re.compile(r"\\ ?:sub:`([^`]+)`")
_ROLE_SUP = re.compile(r"\\ ?:sup:`([^`]+)`")
_ROLE_OTHER = re.compile(
    r":(?:py:)?(?:func|class|meth|mod|attr|data|obj|exc|ref|doc|term):`~?([^`]+)`"
)
_DIRECTIVE = re.compile(r"^(?P<indent>[ \t]*)\.\. math::[ \t]*(?P<rest>.*)$")


def _math_block(body: str) -> str:
    """Body of a ``.. math::`` directive as display TeX (aligned when it has ``&`` or ``\\\\``)."""
    tex = body.strip()
    if ("&" in tex or "\\\\" in tex) and "\\begin{" not in tex:
        tex = "\\begin{aligned}" + tex + "\\end{aligned}"
    return tex


def rst_to_markdown_maths(lines: list[str]) -> list[str]:
    """Rewrite RST maths roles/directives and inline roles in Markdown source lines."""
    out: list[str] = []
    i = 0
    while i < len(lines):
        m = _DIRECTIVE.match(lines[i])
        if m is None:
            line = _ROLE_MATH.sub(lambda r: "$" + r.group(1).strip() + "$", lines[i])
            line = _ROLE_SUB.sub(lambda r: "<sub>" + html.escape(r.group(1)) + "</sub>", line)
            line = _ROLE_SUP.sub(lambda r: "<sup>" + html.escape(r.group(1)) + "</sup>", line)
            line = _ROLE_OTHER.sub(lambda r: "`" + r.group(1) + "`", line)
            out.append(line)
            i += 1
            continue
        indent = len(m.group("indent").expandtabs())
        body = [m.group("rest")] if m.group("rest").strip() else []
        i += 1
        while i < len(lines):
            line = lines[i]
            if line.strip() and len(line) - len(line.lstrip()) <= indent:
                break
            body.append(line)
            i += 1
        while body and not body[-1].strip():
            body.pop()
        tex = _math_block(textwrap.dedent("\n".join(body)))
        pad = " " * indent
        out.extend(["", pad + "$$", *(pad + t for t in tex.splitlines()), pad + "$$", ""])
    return out


class _RstMaths(Preprocessor):
    def run(self, lines: list[str]) -> list[str]:
        return rst_to_markdown_maths(lines)


class RstMathsExtension(Extension):
    """Python-Markdown extension running :func:`rst_to_markdown_maths` before block parsing."""

    def extendMarkdown(self, md: Any) -> None:  # the Markdown API names it so
        md.preprocessors.register(_RstMaths(md), "fieldexp_rst_maths", 27)


def on_config(config: Any) -> Any:
    # An Extension instance is accepted wherever extension names are; mkdocstrings renders
    # docstrings with the same list, so docstrings get the rewrite too.
    config.markdown_extensions.append(RstMathsExtension())
    return config


# --------------------------------------------------------------------------- TeX -> MathML

_ARITHMATEX = re.compile(
    r'<(?P<tag>span|div) class="arithmatex">(?P<body>.*?)</(?P=tag)>', re.DOTALL
)


def _to_mathml(match: re.Match[str], where: str) -> str:
    from latex2mathml.converter import convert

    body = html.unescape(match.group("body")).strip()
    display = match.group("tag") == "div"
    for left, right in (("\\(", "\\)"), ("\\[", "\\]"), ("$$", "$$"), ("$", "$")):
        if body.startswith(left) and body.endswith(right):
            body = body[len(left) : len(body) - len(right)]
            break
    try:
        mathml = convert(body.strip(), display="block" if display else "inline")
    except Exception as exc:  # latex2mathml raises assorted exceptions on unknown TeX
        log.warning("%s: cannot convert formula %r to MathML: %s", where, body, exc)
        return match.group(0)
    cls = "fx-math fx-math-display" if display else "fx-math"
    tag = "div" if display else "span"
    return f'<{tag} class="{cls}">{mathml}</{tag}>'


def on_page_content(html_text: str, page: Any, config: Any, files: Any) -> str:
    where = page.file.src_uri
    return _ARITHMATEX.sub(lambda m: _to_mathml(m, where), html_text)


# --------------------------------------------------------------------------- notebooks

_BUILD_DIR: tempfile.TemporaryDirectory[str] | None = None


def _kernel_dir(root: Path) -> Path:
    """A kernelspec for *this* interpreter, so the notebooks run where mkdocs runs."""
    spec = root / "kernels" / "fieldexp-docs"
    spec.mkdir(parents=True, exist_ok=True)
    (spec / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "fieldexp docs",
                "language": "python",
            }
        ),
        encoding="utf-8",
    )
    return root


def _execute(paths: list[Path], kernel_root: Path) -> list[Any]:
    import nbclient
    import nbformat

    async def one(path: Path) -> Any:
        nb = nbformat.read(path, as_version=4)
        client = nbclient.NotebookClient(
            nb,
            kernel_name="fieldexp-docs",
            timeout=NOTEBOOK_TIMEOUT,
            resources={"metadata": {"path": str(path.parent)}},
        )
        await client.async_execute()
        return nb

    async def run_all() -> list[Any]:
        return await asyncio.gather(*(one(p) for p in paths))

    saved = {k: os.environ.get(k) for k in ("JUPYTER_PATH", "MPLBACKEND")}
    os.environ["JUPYTER_PATH"] = str(kernel_root)
    # figures as PNG outputs (the inline backend), whatever the caller's MPLBACKEND says
    os.environ["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
    try:
        return asyncio.run(run_all())
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _notebook_markdown(nb: Any, name: str, out_dir: Path) -> Path:
    """Export an executed notebook to ``<out_dir>/<name>.md`` + ``<name>_files/*.png``."""
    from nbconvert import MarkdownExporter

    exporter = MarkdownExporter()
    body, resources = exporter.from_notebook_node(
        nb, resources={"output_files_dir": f"{name}_files", "unique_key": name}
    )
    for rel, data in resources.get("outputs", {}).items():
        target = out_dir / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    # pandas' scoped <style> blocks are indented inside <div>s; keep raw HTML flush-left so
    # Markdown passes it through instead of turning it into code blocks.
    body = re.sub(r"(?m)^[ \t]+(<)", r"\1", body)
    md = out_dir / f"{name}.md"
    header = (
        f'!!! note "Executed when this site was built"\n'
        f"    From `notebooks/{name}.ipynb` in the repository, which is committed without\n"
        "    outputs; the tables and figures below come from running it on the shipped fixtures.\n\n"
    )
    md.write_text(header + body, encoding="utf-8")
    return md


def on_files(files: Any, config: Any) -> Any:
    from mkdocs.structure.files import File

    global _BUILD_DIR
    if _BUILD_DIR is not None:
        _BUILD_DIR.cleanup()
    _BUILD_DIR = tempfile.TemporaryDirectory(prefix="fieldexp-docs-")
    root = Path(_BUILD_DIR.name)
    out_dir = root / "notebooks"
    out_dir.mkdir()
    paths = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
    log.info("executing %d notebooks from %s", len(paths), NOTEBOOK_DIR)
    notebooks = _execute(paths, _kernel_dir(root / "jupyter"))
    for path, nb in zip(paths, notebooks, strict=True):
        _notebook_markdown(nb, path.stem, out_dir)
    for generated in sorted(p for p in out_dir.rglob("*") if p.is_file()):
        rel = generated.relative_to(root).as_posix()
        files.append(File.generated(config, rel, abs_src_path=str(generated)))
    return files


def on_shutdown() -> None:
    global _BUILD_DIR
    if _BUILD_DIR is not None:
        _BUILD_DIR.cleanup()
        _BUILD_DIR = None
