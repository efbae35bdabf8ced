"""Provenance: spec and input files with SHA-256, seeds, software versions."""

from __future__ import annotations

import importlib
import platform

from fieldexp._version import __version__
from fieldexp.report.model import Provenance, Section, Table
from fieldexp.report.sections.context import ReportContext
from fieldexp.spec.load import redacted_text

__all__ = ["build", "versions"]


def versions() -> tuple[tuple[str, str], ...]:
    """Versions of fieldexp, Python and the numerical libraries."""
    out = [("fieldexp", __version__), ("python", platform.python_version())]
    for name in ("numpy", "pandas", "scipy", "duckdb", "matplotlib", "jinja2"):
        try:
            mod = importlib.import_module(name)
            out.append((name, str(getattr(mod, "__version__", "unknown"))))
        except ImportError:
            out.append((name, "not installed"))
    return tuple(out)


def build(ctx: ReportContext) -> Section | None:
    """Always present; its :class:`Provenance` is ``Section.summary``."""
    spec = ctx.spec
    seeds = []
    if spec.design is not None and spec.design.seed is not None:
        seeds.append(("design", spec.design.seed))
    if spec.randomization_inference is not None:
        seeds.append(("randomization_inference", spec.randomization_inference.seed))
    generated = None
    if spec.report.timestamp:
        import datetime as dt

        generated = dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()
    prov = Provenance(
        spec_file=spec.path.name,
        spec_sha256=spec.sha256,
        spec_text=redacted_text(spec),
        inputs=tuple((f.table, f.name, f.format, f.sha256, f.size) for f in ctx.run.inputs.files),
        seeds=tuple(seeds),
        versions=versions(),
        generated_at=generated,
    )
    lang = ctx.lang
    tables = (
        Table(
            "inputs",
            lang("provenance.inputs"),
            (lang("col.table"), lang("col.file"), "format", "SHA-256", lang("col.bytes")),
            ("text", "text", "text", "text", "int"),
            prov.inputs,
        ),
        Table(
            "versions",
            lang("provenance.software"),
            (lang("col.package"), "version"),
            ("text", "text"),
            prov.versions,
        ),
    )
    paras = [lang("provenance.spec", file=prov.spec_file, sha=prov.spec_sha256)]
    if seeds:
        paras.append(lang("provenance.seeds", seeds=", ".join(f"{k} {v}" for k, v in seeds)))
    if generated:
        paras.append(lang("provenance.generated", when=lang.date(generated)))
    return Section("provenance", lang("provenance.title"), tuple(paras), tables, summary=prov)
