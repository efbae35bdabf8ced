"""Every result class renders (``_repr_html_``, ``__str__``, ``summary``, ``to_frame``).

The classes are not listed by hand: every subclass of :class:`fieldexp.results.Result` registers
itself, and :func:`_import_everything` imports every fieldexp module first. Each registered class
needs an example below (``EXAMPLES``); a new result class without one fails
``test_every_result_class_has_an_example``, and one whose rendering breaks fails the others.
"""

from __future__ import annotations

import importlib
import math
import pkgutil
import warnings
from collections.abc import Callable
from html.parser import HTMLParser
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import pytest

import fieldexp
import fieldexp as fx
from fieldexp.errors import SpecificationError
from fieldexp.results import Result, result_classes

HOSTILE = "<b>x</b> & 'y'"  # a label that must come out escaped


def _import_everything() -> None:
    for mod in pkgutil.walk_packages(fieldexp.__path__, "fieldexp."):
        if mod.name.endswith("__main__"):
            continue
        importlib.import_module(mod.name)


def _name(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


# --------------------------------------------------------------------------- small inputs
def _experiment(seed: int = 0, n: int = 240) -> tuple[pd.DataFrame, Any]:
    from fieldexp.design import Design

    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"v": np.arange(n), "h": np.arange(n) // 2, "b": np.arange(n) // 80})
    df["band"] = rng.choice(["rare", "regular"], n)
    df["age"] = rng.normal(50, 10, n)
    design = Design("v", blocks="b", clusters="h")
    df = df.merge(design.assign(df, seed=seed)[["v", "arm"]], on="v")
    df["contact"] = (df["arm"] * (rng.random(n) < 0.6)).astype(int)
    df[HOSTILE] = rng.normal(size=n) + 0.2 * df["contact"]
    return df, design


def _panel(seed: int = 3, n: int = 120) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    cohort = rng.choice([0, 3, 4], size=n, p=[0.4, 0.3, 0.3])
    rows = []
    for i in range(n):
        a = rng.normal()
        for t in (1, 2, 3, 4, 5):
            eff = 0.3 if cohort[i] and t >= cohort[i] else 0.0
            rows.append((i, t, cohort[i], a + 0.1 * t + eff + rng.normal()))
    df = pd.DataFrame(rows, columns=["id", "t", "g", HOSTILE])
    df["treat"] = ((df["g"] > 0) & (df["t"] >= df["g"])).astype(int)
    return df


def _effect() -> Any:
    df, _ = _experiment()
    return fx.itt(df, HOSTILE, "arm", blocks="b", clusters="h")


def _first_stage() -> Any:
    df, _ = _experiment()
    return fx.cace(df, HOSTILE, "contact", "arm", blocks="b", clusters="h").first_stage


def _test_result() -> Any:
    from fieldexp.results import TestResult

    return TestResult(
        statistic=3.2, df=(2.0, 30.0), p_value=0.05, distribution="F", hypothesis=HOSTILE
    )


def _event_study() -> Any:
    return fx.event_study(_panel(), HOSTILE, "id", "t", "g", clusters="id")


def _staggered() -> Any:
    return fx.staggered_did(_panel(), HOSTILE, "id", "t", "g")


def _aggregated() -> Any:
    return _staggered().aggregate("dynamic", seed=1, reps=200)


def _comparison_group() -> Any:
    from fieldexp.diffindiff import comparison_group

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return comparison_group(_panel(), HOSTILE, "id", "t", "g", method="ipw")


def _did_panel() -> Any:
    from fieldexp.diffindiff import DiDPanel, PanelReport

    data = _panel()
    elections = pd.DataFrame({"election_id": [HOSTILE], "period": [1]})
    report = PanelReport(
        n_units=120,
        n_elections=5,
        n_rows=600,
        n_treated_units=70,
        n_contacts=90,
        n_contacts_used=80,
        n_contacts_not_attempted=5,
        n_contacts_unmatched=5,
        n_contacts_undated=0,
        n_contacts_after_last_election=0,
    )
    return DiDPanel(
        data=data, unit="id", outcome=HOSTILE, weights=None, elections=elections, report=report
    )


def _balance() -> Any:
    df, design = _experiment()
    return fx.balance(df, "arm", ["age", "band"], design=design, reps=50, seed=1)


def _heterogeneity() -> Any:
    df, _ = _experiment()
    return fx.heterogeneity(df, HOSTILE, "arm", "band", blocks="b", clusters="h")


def _randomization() -> Any:
    df, design = _experiment()
    return fx.randomization_inference(df, HOSTILE, "arm", design, reps=200, seed=1)


def _adjusted() -> Any:
    return fx.adjust_pvalues({HOSTILE: 0.01, "b": 0.04}, method="holm")


def _power() -> Any:
    return fx.power(n=10_000, power=0.8, baseline=0.5)


def _diagnosis() -> Any:
    from fieldexp.diagnosis import Diagnosis

    sims = pd.DataFrame(
        {"estimand": [0.1, 0.1, 0.1], "estimate": [0.05, 0.12, 0.2], "std_error": [0.05] * 3}
    )
    return Diagnosis(
        estimand="ITT",
        sims=3,
        mean_estimand=0.1,
        mean_estimate=0.123,
        bias=0.023,
        bias_se=0.04,
        rmse=0.06,
        sd_estimate=0.07,
        mean_se=0.05,
        coverage=0.9,
        coverage_se=0.1,
        power=0.3,
        power_se=0.2,
        alpha=0.05,
        simulations=sims,
    )


def _reconciliation() -> Any:
    from fieldexp.analysis.reconciliation import FlowRow, Reconciliation, ReconciliationEntry

    return Reconciliation(
        rows_read=(("contacts", 10),),
        entries=(
            ReconciliationEntry("contacts", "used", "matched", 8),
            ReconciliationEntry("contacts", "set aside", HOSTILE, 2, first_rows=(3, 7)),
        ),
        flow=(FlowRow("1", 5, 4, 3, 5),),
        election=HOSTILE,
    )


def _targeting_data(n: int = 300) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    x = rng.random(n)
    z = np.zeros(n)
    z[rng.permutation(n)[: n // 2]] = 1.0
    y = 0.3 + 0.2 * x + (0.05 + 0.4 * x) * z + rng.normal(0, 0.5, n)
    return pd.DataFrame({"y": y, "z": z, "x": x, "hh": np.arange(n) // 2})


def _rate() -> Any:
    return fx.rate(_targeting_data(), "y", "z", "x", reps=20)


def _uplift() -> Any:
    from sklearn.linear_model import LinearRegression

    return fx.uplift(_targeting_data(), "y", "z", ["x"], learner=LinearRegression(), seed=1)


def _priorities() -> Any:
    rows = []
    spec = {
        "p1": (1000, 600, 580, {"SOC": 300, "LR": 200, "RN": 80}),
        "p2": (800, 400, 390, {"SOC": 100, "LR": 250, "RN": 40}),
    }
    for pid, (reg, vot, exp, votes) in spec.items():
        for k, (nuance, v) in enumerate(votes.items(), start=1):
            rows.append(
                {
                    "precinct_id": pid,
                    "election_id": "2022_leg_t1",
                    "registered": reg,
                    "voters": vot,
                    "expressed": exp,
                    "candidate": str(k),
                    "candidate_label": f"CAND {nuance}",
                    "nuance": nuance,
                    "votes": v,
                }
            )
    from fieldexp.targeting import precinct_priorities

    return precinct_priorities(
        pd.DataFrame(rows), supporters="gauche", turnout_effect=(0.08, 0.02), contact_rate=0.3
    )


def _knock_plan() -> Any:
    return _priorities().plan(500)


def _households(seed: int = 4, n_households: int = 120) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    hh = np.repeat(np.arange(n_households), 2)
    z = np.repeat(rng.permutation(np.arange(n_households) % 2), 2)
    targeted = np.tile([1, 0], n_households)
    y = 0.4 + 0.1 * z * targeted + 0.06 * z * (1 - targeted) + rng.normal(0, 0.3, 2 * n_households)
    observed = (rng.random(2 * n_households) < 0.8 + 0.05 * z).astype(int)
    return pd.DataFrame({HOSTILE: y, "z": z, "targeted": targeted, "hh": hh, "observed": observed})


def _spillover() -> Any:
    return fx.spillover(_households(), HOSTILE, "z", targeted="targeted", household="hh")


def _attrition() -> Any:
    return fx.attrition(_households(), "z", "observed", clusters="hh")


def _lee_bounds() -> Any:
    d = _households()
    d.loc[d["observed"] == 0, HOSTILE] = np.nan
    return fx.lee_bounds(d, HOSTILE, "z", observed="observed", clusters="hh", reps=50, seed=1)


def _station_panel() -> Any:
    t = pd.DataFrame(
        {"precinct_id": ["01004_0001", "2A004_0002"], "registered": [100, 90], "voters": [50, 60]}
    )
    dates = {HOSTILE: "2017-06-11", "e2": "2022-06-12"}
    return fx.station_panel({HOSTILE: t, "e2": t}, dates=dates)


EXAMPLES: dict[str, Callable[[], Any]] = {
    "fieldexp.analysis.station_panel.StationPanel": _station_panel,
    "fieldexp.experiment.spillover.SpilloverResult": _spillover,
    "fieldexp.experiment.attrition.AttritionResult": _attrition,
    "fieldexp.experiment.bounds.LeeBoundsResult": _lee_bounds,
    "fieldexp.targeting.rate.RateResult": _rate,
    "fieldexp.targeting.uplift.UpliftResult": _uplift,
    "fieldexp.targeting.priorities.PrecinctPriorities": _priorities,
    "fieldexp.targeting.priorities.KnockPlan": _knock_plan,
    "fieldexp.results.EffectResult": _effect,
    "fieldexp.results.FirstStage": _first_stage,
    "fieldexp.results.TestResult": _test_result,
    "fieldexp.diffindiff.events.EventStudy": _event_study,
    "fieldexp.diffindiff.staggered.StaggeredDiD": _staggered,
    "fieldexp.diffindiff.staggered.AggregatedEffects": _aggregated,
    "fieldexp.diffindiff.matching.ComparisonGroup": _comparison_group,
    "fieldexp.diffindiff.panels.DiDPanel": _did_panel,
    "fieldexp.experiment.balance.BalanceResult": _balance,
    "fieldexp.experiment.heterogeneity.HeterogeneityResult": _heterogeneity,
    "fieldexp.experiment.ri.RandomizationResult": _randomization,
    "fieldexp.experiment.multiplicity.AdjustedPValues": _adjusted,
    "fieldexp.design.power.PowerResult": _power,
    "fieldexp.diagnosis.Diagnosis": _diagnosis,
    "fieldexp.analysis.reconciliation.Reconciliation": _reconciliation,
}

#: classes with their own HTML that are report building blocks, not results: the report's HTML
#: module renders them (fieldexp/report; see docs/architecture.md)
NOT_RESULTS = {
    "fieldexp.report.model._Displayable",  # one mixin for the report parts; report.html draws them
    "fieldexp.report.model.Table",
    "fieldexp.report.model.Figure",
    "fieldexp.report.model.Section",
    "fieldexp.report.model.Headline",
    "fieldexp.report.model.Report",
}


#: result classes still waiting for the Result base (none)
PENDING: set[str] = set()


def _registered() -> list[type[Result]]:
    _import_everything()
    return [c for c in result_classes() if c is not Result]


class _TagChecker(HTMLParser):
    VOID: ClassVar[set[str]] = {"br", "hr", "img", "meta", "input"}

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: object) -> None:
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"unbalanced </{tag}> with stack {self.stack}")
        else:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


# --------------------------------------------------------------------------- the tests
def test_every_result_class_has_an_example() -> None:
    names = {_name(c) for c in _registered()}
    missing = sorted(names - set(EXAMPLES))
    assert not missing, f"result classes without an example in {__file__}: {missing}"
    stale = sorted(set(EXAMPLES) - names)
    assert not stale, f"examples for classes that are not Result subclasses (any more): {stale}"
    # the registry found the classes of every room, not just this package's results module
    assert len(names) >= 15


def test_no_hand_written_repr_html_outside_the_base() -> None:
    _import_everything()
    own: list[str] = []
    seen: set[type] = set()
    for mod in list(__import__("sys").modules.values()):
        if not getattr(mod, "__name__", "").startswith("fieldexp."):
            continue
        for obj in vars(mod).values():
            if (
                not isinstance(obj, type)
                or obj in seen
                or not obj.__module__.startswith("fieldexp")
            ):
                continue
            seen.add(obj)
            if "_repr_html_" in vars(obj) and obj not in (Result,):
                own.append(_name(obj))
    allowed = NOT_RESULTS | PENDING | {"fieldexp.results.Summary"}
    assert sorted(set(own) - allowed) == []


@pytest.fixture(scope="module", params=sorted(EXAMPLES))
def example(request: pytest.FixtureRequest) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # small examples: dropped rows, weak stages...
        return EXAMPLES[request.param]()


def test_example_is_of_its_class(example: Any, request: pytest.FixtureRequest) -> None:
    assert _name(type(example)) == request.node.callspec.params["example"]
    assert isinstance(example, Result)


def test_repr_html_is_balanced_and_escaped(example: Any) -> None:
    out = example._repr_html_()
    assert isinstance(out, str) and out.startswith("<div")
    parser = _TagChecker()
    parser.feed(out)
    parser.close()
    assert parser.errors == [] and parser.stack == []
    assert "<b>x</b>" not in out  # the hostile label never reaches the markup raw
    text = "".join(parser.text)
    if HOSTILE in str(example):
        assert HOSTILE in text  # escaped in the markup, restored by the parser


def test_str_summary_and_frame(example: Any) -> None:
    text = str(example)
    assert text and text.splitlines()[0].strip()
    summary = example.summary()
    assert summary.as_text().splitlines()[0] == text.splitlines()[0]
    assert summary._repr_html_() == example._repr_html_()
    frame = example.to_frame()
    assert isinstance(frame, pd.DataFrame) and len(frame.columns) > 0


def test_conf_int_recomputes_or_refuses_clearly(example: Any) -> None:
    try:
        ci = example.conf_int()
    except SpecificationError as exc:
        assert type(example).__name__ in str(exc)
        return
    alpha = getattr(example, "alpha", 0.05)
    if isinstance(ci, tuple):
        lo, hi = ci
        if hasattr(example, "ci_low"):
            assert lo == pytest.approx(example.ci_low, rel=1e-12, nan_ok=True)
            assert hi == pytest.approx(example.ci_high, rel=1e-12, nan_ok=True)
        try:
            wider = example.conf_int(alpha=alpha / 5)
        except SpecificationError as exc:  # an interval not made from an SE (test inversion)
            assert "Re-run the estimator with alpha=" in str(exc)
            return
        assert math.isnan(lo) or (wider[0] < lo and wider[1] > hi)
    else:
        assert {"estimate", "std_error", "df", "ci_low", "ci_high"} <= set(ci.columns)


def test_plot_draws_or_refuses_clearly(example: Any) -> None:
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    try:
        ax = example.plot()
    except SpecificationError as exc:
        assert "has no plot" in str(exc)
        return
    try:
        assert ax.has_data()
        _fig, own = plt.subplots()
        assert example.plot(ax=own) is own  # draws on the Axes it is given
    finally:
        plt.close("all")


def test_report_parts_render(demo_report) -> None:
    r = demo_report.report
    for obj in (r, r.headline, *r.sections, *r.tables(), *r.figures()):
        html = obj._repr_html_()
        assert isinstance(html, str) and html.lstrip().startswith("<")
