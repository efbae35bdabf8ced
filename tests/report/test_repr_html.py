"""Every result object fieldexp returns renders as HTML in Jupyter (``_repr_html_``)."""

from __future__ import annotations

import importlib

import pytest

RESULT_CLASSES = [
    ("fieldexp.results", "EffectResult"),
    ("fieldexp.experiment.ri", "RandomizationResult"),
    ("fieldexp.experiment.balance", "BalanceResult"),
    ("fieldexp.experiment.heterogeneity", "HeterogeneityResult"),
    ("fieldexp.experiment.multiplicity", "AdjustedPValues"),
    ("fieldexp.diffindiff", "EventStudy"),
    ("fieldexp.diffindiff", "StaggeredDiD"),
    ("fieldexp.diffindiff", "AggregatedEffects"),
    ("fieldexp.analysis", "Reconciliation"),
    ("fieldexp.report", "Report"),
    ("fieldexp.report", "Section"),
    ("fieldexp.report", "Table"),
    ("fieldexp.report", "Figure"),
    ("fieldexp.report", "Headline"),
]


@pytest.mark.parametrize(("module", "name"), RESULT_CLASSES, ids=[n for _, n in RESULT_CLASSES])
def test_result_class_has_repr_html(module: str, name: str) -> None:
    cls = getattr(importlib.import_module(module), name)
    assert callable(getattr(cls, "_repr_html_", None)), f"{module}.{name} has no _repr_html_"


def test_report_parts_render(demo_report) -> None:
    r = demo_report.report
    for obj in (r, r.headline, *r.sections, *r.tables(), *r.figures()):
        html = obj._repr_html_()
        assert isinstance(html, str) and html.lstrip().startswith("<")
