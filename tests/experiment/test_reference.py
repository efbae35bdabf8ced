"""fieldexp's ITT and CACE estimators against R estimatr 1.0.0, case by case.

The oracle values live in ``tests/reference/reference.csv`` (made by
``tests/reference/make_reference.R``, ``make reference``; see ``tests/reference/README.md``).
Each row is one estimatr call (``difference_in_means``, ``lm_robust``, ``lm_lin``,
``iv_robust`` and, for every ``iv_robust`` call, its first stage ``lm_robust``) on the
simulator fixtures or on the real experiments in ``../shared/data``; its machine-readable
columns rebuild the same estimate with ``fieldexp.itt`` / ``fieldexp.cace``.
These tests never need R.
"""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path
from types import ModuleType

import pandas as pd
import pytest

#: fieldexp must agree with estimatr to 8 significant digits on every statistic (the
#: project's bar, issue 2). The references are the exact doubles R computed (17 significant
#: digits); both sides solve the same least-squares problems by different factorisations,
#: whose rounding differences are ~1e-12 relative on these data, far inside 1e-8.
RTOL = 1e-8

#: Absolute tolerance used only where estimatr's value is zero or subnormal: p-values that
#: underflow in R's ``pt`` (|t| > 40 on thousands of df). R returns 0.0 or a subnormal double
#: (e.g. 1.4e-315, which carries 2-3 significant digits); scipy may return 0.0. The true value
#: is below the smallest normal double (2.2e-308), so "both are < 1e-300" is all that can be
#: asked. Every other reference value is compared with RTOL alone.
ATOL_ZERO = 1e-300

#: ``../shared/data/reference_estimatr.csv`` rounds estimatr's values to 12 significant
#: digits: relative rounding error at most 5e-12. Our own R run must reproduce them within
#: 1e-10 (rounding plus a 20x margin for run-to-run floating-point noise in R's CR2 df).
PUBLISHED_RTOL = 1e-10


def _load_helper() -> ModuleType:
    """Import tests/reference/_load.py by path (tests/ is not a package)."""
    path = Path(__file__).resolve().parents[1] / "reference" / "_load.py"
    spec = importlib.util.spec_from_file_location("fieldexp_reference_load", path)
    if spec is None or spec.loader is None:  # pragma: no cover
        raise ImportError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


ref = _load_helper()
CASES = ref.load_cases()
CASES_BY_NAME = {case.case: case for case in CASES}


def _params(cases):
    return [
        pytest.param(
            case, id=case.case, marks=[pytest.mark.shared] if case.needs_shared_data else []
        )
        for case in cases
    ]


def _case_data(case, request: pytest.FixtureRequest) -> pd.DataFrame:
    """The case's data; real experiments go through the ``shared_data`` fixture (skips if absent)."""
    shared = request.getfixturevalue("shared_data") if case.needs_shared_data else None
    drift = ref.input_drift(case, shared)
    if drift is not None:
        pytest.fail(f"{case.case}: {drift}")
    return case.load_data(shared)


def _mismatch(stat: str, got, expected: float, rtol: float) -> str | None:
    """None when ``got`` equals ``expected`` within tolerance, else a description."""
    if math.isnan(expected):
        # only nclusters is ever NA in the references: no clusters in the design or the SEs
        if got is None or (isinstance(got, float) and math.isnan(got)):
            return None
        return f"{stat}: fieldexp {got!r}, estimatr NA (no clusters: expected None)"
    if got is None:
        return f"{stat}: fieldexp None, estimatr {expected!r}"
    got = float(got)
    if abs(expected) < sys.float_info.min:  # zero or subnormal: an underflow
        if abs(got) <= ATOL_ZERO:
            return None
        return f"{stat}: fieldexp {got!r}, estimatr {expected!r} (underflow; atol {ATOL_ZERO:g})"
    if math.isclose(got, expected, rel_tol=rtol, abs_tol=0.0):
        return None
    rel = abs(got - expected) / abs(expected)
    return f"{stat}: fieldexp {got!r}, estimatr {expected!r} (relative difference {rel:.3g} > rtol {rtol:g})"


def _compare(case, result, expected: dict[str, float], stats, rtol: float) -> list[str]:
    problems = []
    for stat in stats:
        problem = _mismatch(stat, getattr(result, stat), expected[stat], rtol)
        if problem is not None:
            problems.append(problem)
    return problems


def _failure(case, problems: list[str]) -> str:
    lines = [f"{case.case}: {len(problems)} statistic(s) differ from estimatr"]
    lines += [f"  {p}" for p in problems]
    lines += [
        f"  R:      {case.call}",
        f"  Python: {case.python_call()}  [{case.dataset}, subset={case.subset}]",
    ]
    return "\n".join(lines)


# --------------------------------------------------------------------------- the oracle


@pytest.mark.parametrize("case", _params(CASES))
def test_matches_estimatr(case, request):
    """Every statistic of every reference case equals estimatr's at RTOL. A refusal fails:
    every row of reference.csv is a call estimatr answers, so fieldexp must answer it too
    (clusters coarser than the assignment and blocks = clusters included, issue 9)."""
    data = _case_data(case, request)
    result = case.run(data)
    problems = _compare(case, result, case.expected, case.statistics, RTOL)
    assert not problems, _failure(case, problems)


FIRST_STAGE_CASES = [case for case in CASES if case.is_first_stage]


@pytest.mark.parametrize("case", _params(FIRST_STAGE_CASES))
def test_first_stage_f_statistic(case, request):
    """One excluded instrument: the first-stage F is the squared robust t of the assignment."""
    data = _case_data(case, request)
    first_stage = case.run(data)
    expected = case.expected["statistic"] ** 2
    problem = _mismatch("f_statistic", first_stage.f_statistic, expected, RTOL)
    assert problem is None, _failure(case, [problem])


DIM_DESIGNS = {
    "Standard": "standard",
    "Blocked": "blocked",
    "Clustered": "clustered",
    "Block-clustered": "blocked-clustered",
    "Matched-pair": "matched-pair",
    "Matched-pair clustered": "matched-pair-clustered",
}
DIM_CASES = [case for case in CASES if case.method == "dim"]


@pytest.mark.parametrize("case", _params(DIM_CASES))
def test_dim_design(case, request):
    """Difference in means picks the same design (and so the same variance formula) as estimatr."""
    data = _case_data(case, request)
    result = case.run(data)
    # estimatr appends " (weighted)" to the design name; compare the designs themselves
    estimatr_design = case.design.removesuffix(" (weighted)")
    assert result.design.removesuffix(" (weighted)") == DIM_DESIGNS[estimatr_design], (
        f"{case.case}: fieldexp design {result.design!r}, estimatr {case.design!r}\n  R: {case.call}"
    )


def _design_refusals():
    frame = pd.read_csv(ref.REFUSED_CSV)
    rows = frame[frame["kind"] == "design"] if "kind" in frame else frame.iloc[0:0]
    return [
        pytest.param(
            row,
            id=row["case"],
            marks=[pytest.mark.shared] if row["dataset"].startswith(ref.SHARED_PREFIX) else [],
        )
        for _, row in rows.iterrows()
    ]


@pytest.mark.parametrize("row", _design_refusals())
def test_rejects_what_estimatr_rejects_as_invalid_design(row, request):
    """Calls estimatr refuses because the data break the design (e.g. assignment varying
    within a cluster) must raise a FieldexpError, not return a number."""
    import fieldexp

    case = ref.refused_case(row)
    data = _case_data(case, request)
    with pytest.raises(fieldexp.FieldexpError):
        case.run(data)


# --------------------------------------------------------------------------- beyond estimatr

EXTENSION_CASES = ref.load_cases(ref.EXTENSION_CSV) if ref.EXTENSION_CSV.exists() else []


@pytest.mark.parametrize("case", _params(EXTENSION_CASES))
def test_matches_clubsandwich_where_estimatr_refuses(case, request):
    """Weighted CR2 with fixed effects, which estimatr refuses: clubSandwich's CR2 and
    Satterthwaite df on the weighted dummy-variable fit (equal to estimatr's wherever estimatr
    computes: weighted without FE, FE without weights). fieldexp computes them; a refusal fails."""
    data = _case_data(case, request)
    result = case.run(data)
    problems = _compare(case, result, case.expected, case.statistics, RTOL)
    assert not problems, _failure(case, problems)


#: rows of refused.csv (kind "estimatr") that stay undefined in fieldexp too, and why. Each is a
#: strict xfail: if fieldexp starts answering one, the test fails until a reference is added.
DOCUMENTED_REFUSALS = {
    "fx_pairs_dim_w": "weights with a matched-pair difference in means (estimatr: 'at the moment')",
    "fx_cpairs_dim_w": "weights with a clustered matched-pair difference in means",
}


def _estimatr_refusals():
    frame = pd.read_csv(ref.REFUSED_CSV)
    covered = {case.case for case in EXTENSION_CASES}
    out = []
    for _, row in frame[frame["kind"] == "estimatr"].iterrows():
        marks = [pytest.mark.shared] if row["dataset"].startswith(ref.SHARED_PREFIX) else []
        if row["case"] in DOCUMENTED_REFUSALS:
            import fieldexp

            marks.append(
                pytest.mark.xfail(
                    strict=True,
                    raises=fieldexp.FieldexpError,
                    reason=f"documented refusal: {DOCUMENTED_REFUSALS[row['case']]}",
                )
            )
        out.append(pytest.param(row, row["case"] in covered, id=row["case"], marks=marks))
    return out


@pytest.mark.parametrize(("row", "has_reference"), _estimatr_refusals())
def test_estimatr_refusals_are_answered_or_documented(row, has_reference, request):
    """Every call estimatr refuses for its own limitations is either computed by fieldexp (and
    then has a clubSandwich reference in extension.csv) or a documented, strict-xfail refusal."""
    case = ref.refused_case(row)
    data = _case_data(case, request)
    result = case.run(data)
    assert has_reference, (
        f"{case.case}: fieldexp answers a call estimatr refuses, but extension.csv has no "
        "reference for it: add one to make_reference.R (or document the refusal)"
    )
    assert math.isfinite(result.estimate) and result.std_error > 0


# --------------------------------------------------------------------------- published values


def _published(shared_data: Path) -> pd.DataFrame:
    return pd.read_csv(shared_data / "reference_estimatr.csv")


PUBLISHED_STATS = ("estimate", "std_error", "p_value", "ci_low", "ci_high", "df", "nobs")
# the case names of ../shared/data/reference_estimatr.csv (the R script uses the same names)
PUBLISHED_CASES = [
    "nh_subset_itt_hc2",
    "nh_subset_itt_d_hc2",
    "nh_subset_cace_hc2",
    "nh_subset_cace_hc0",
    "nh_full_itt_stata",
    "nh_full_cace_cr0",
    "nh_full_cace_stata",
    "nh_full_factorial_stata_persngrp",
    "nh_full_ward_fe_stata",
    "nh_full_lin_stata",
    "kc_itt_cr2",
    "kc_itt_stata",
    "kc_cace_cr2",
    "kc_dim_clustered",
    "beijing_itt_cr2",
    "beijing_cace_cr2",
]


def _published_row(shared_data: Path, name: str) -> pd.Series:
    published = _published(shared_data).set_index("case")
    if name not in published.index:
        pytest.fail(f"{name} is not in {shared_data / 'reference_estimatr.csv'}")
    return published.loc[name]


@pytest.mark.shared
def test_published_cases_are_all_covered(shared_data):
    """Every case of ../shared/data/reference_estimatr.csv has a row in reference.csv."""
    published = set(_published(shared_data)["case"])
    assert published == set(PUBLISHED_CASES), "update PUBLISHED_CASES and make_reference.R"
    missing = sorted(published - set(CASES_BY_NAME))
    assert not missing, f"published cases without a reference row: {missing}"


@pytest.mark.shared
@pytest.mark.parametrize("name", PUBLISHED_CASES)
def test_reference_reproduces_published(name, shared_data):
    """Our R run reproduces the published estimatr values (R against R: rounding only)."""
    row = _published_row(shared_data, name)
    case = CASES_BY_NAME[name]
    assert case.term == row["term"]
    problems = [
        p
        for stat in PUBLISHED_STATS
        if (p := _mismatch(stat, case.expected[stat], float(row[stat]), PUBLISHED_RTOL)) is not None
    ]
    assert not problems, (
        f"{name}: reference.csv differs from reference_estimatr.csv\n  " + "\n  ".join(problems)
    )


@pytest.mark.shared
@pytest.mark.parametrize("name", PUBLISHED_CASES)
def test_matches_published(name, shared_data):
    """fieldexp against the published 12-digit values, at the project's RTOL (their 5e-12
    rounding is negligible next to it)."""
    row = _published_row(shared_data, name)
    case = CASES_BY_NAME[name]
    drift = ref.input_drift(case, shared_data)
    if drift is not None:
        pytest.fail(f"{name}: {drift}")
    result = case.run(case.load_data(shared_data))
    expected = {stat: float(row[stat]) for stat in PUBLISHED_STATS}
    problems = _compare(case, result, expected, PUBLISHED_STATS, RTOL)
    assert not problems, _failure(case, problems)


# --------------------------------------------------------------------------- the reference files


def test_reference_files_are_complete():
    """The references cover the whole matrix and were generated with every input present."""
    methods = {(case.method, case.stage) for case in CASES}
    assert methods == {
        ("dim", "itt"),
        ("ols", "itt"),
        ("lin", "itt"),
        ("2sls", "first"),
        ("2sls", "second"),
    }
    fixture_cases = [case for case in CASES if not case.needs_shared_data]
    assert len(fixture_cases) >= 300
    for case in CASES:
        assert case.subset in ref.SUBSETS, f"{case.case}: unknown subset {case.subset!r}"
        assert not math.isnan(case.expected["estimate"]), case.case
    recorded = ref.recorded_checksums()
    for name in ("experiment_small.csv", "experiment_pairs.csv", "experiment_pairs_clustered.csv"):
        assert name in recorded, f"{name} missing from versions.txt: rerun `make reference`"
