"""fieldexp.diffindiff (two-way fixed effects) against R estimatr 1.0.0 (tests/diffindiff/make_reference_did.R).

The reference CSV carries 17 significant digits; every statistic is compared at rtol 1e-8.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import fieldexp as fx
from fieldexp.diffindiff import did
from fieldexp.errors import DataError, SpecificationError

HERE = Path(__file__).parent
REF = pd.read_csv(HERE / "reference_twfe.csv").set_index("case")
PANEL = pd.read_csv(HERE / "data" / "twfe_panel.csv")

CASES = {
    "panel_hc1": ({}, "stata"),
    "panel_hc2": ({}, "HC2"),
    "panel_hc0_x": ({"covariates": ["x"]}, "HC0"),
    "panel_stata_unit": ({"clusters": "unit"}, "stata"),
    "panel_cr2_unit": ({"clusters": "unit"}, "CR2"),
    "panel_cr0_cluster_x": ({"covariates": ["x"], "clusters": "cluster"}, "CR0"),
    "panel_stata_cluster_w": (
        {"covariates": ["x"], "clusters": "cluster", "weights": "w"},
        "stata",
    ),
    "panel_hc1_w": ({"weights": "w"}, "stata"),
    "twobytwo_stata_unit": ({"clusters": "unit"}, "stata"),
    "twobytwo_hc2": ({}, "HC2"),
}


def _check(res, case):
    ref = REF.loc[case]
    for col in ["estimate", "std_error", "statistic", "df", "p_value", "ci_low", "ci_high"]:
        assert getattr(res, col) == pytest.approx(ref[col], rel=1e-8), col
    assert res.nobs == ref["nobs"]
    if not np.isnan(ref["nclusters"]):
        assert res.nclusters == ref["nclusters"]


@pytest.mark.parametrize("case", sorted(CASES))
def test_twfe_matches_estimatr(case):
    kwargs, se_type = CASES[case]
    data = PANEL
    if case.startswith("twobytwo"):
        data = PANEL[PANEL["period"].isin([2, 4]) & PANEL["cohort"].isin([0, 3])]
    res = did(data, "y", "unit", "period", "treat", se_type=se_type, **kwargs)
    _check(res, case)
    assert res.method == "twfe" and res.estimand == "ATT" and res.term == "treat"


@pytest.fixture(scope="module")
def mpdta(shared_data):
    mp = pd.read_csv(shared_data / "mpdta.csv")
    mp["treat"] = ((mp["first.treat"] > 0) & (mp["year"] >= mp["first.treat"])).astype(int)
    return mp


@pytest.mark.shared
@pytest.mark.parametrize(
    ("case", "kwargs"),
    [
        ("mpdta_stata_county", {"clusters": "countyreal", "se_type": "stata"}),
        ("mpdta_cr2_county", {"clusters": "countyreal", "se_type": "CR2"}),
        ("mpdta_hc1", {"se_type": "stata"}),
    ],
)
def test_twfe_mpdta_matches_estimatr(mpdta, case, kwargs):
    _check(did(mpdta, "lemp", "countyreal", "year", "treat", **kwargs), case)


@pytest.mark.shared
def test_twfe_mpdta_covariate(mpdta):
    data = mpdta.assign(lpop=mpdta["lpop"] * (mpdta["year"] - 2003))
    res = did(data, "lemp", "countyreal", "year", "treat", covariates="lpop", clusters="countyreal")
    _check(res, "mpdta_stata_county_lpop")


def test_two_by_two_is_difference_in_differences():
    d = PANEL[PANEL["period"].isin([2, 4]) & PANEL["cohort"].isin([0, 3])]
    m = d.groupby(["cohort", "period"])["y"].mean()
    ref = (m[3, 4] - m[3, 2]) - (m[0, 4] - m[0, 2])
    assert did(d, "y", "unit", "period", "treat").estimate == pytest.approx(ref, rel=1e-12)


def test_fx_did_is_the_function_whatever_the_import_order():
    code = (
        "import pandas as pd, fieldexp as fx\n"
        "import fieldexp.diffindiff\n"
        "from fieldexp.diffindiff import staggered_did\n"
        f"p = pd.read_csv({str(HERE / 'data' / 'twfe_panel.csv')!r})\n"
        "r = fx.did(p, 'y', 'unit', 'period', 'treat')\n"
        "assert r.method == 'twfe', r\n"
        "assert callable(fx.did) and fx.event_study and fx.staggered_did is staggered_did\n"
        "print(round(r.estimate, 6))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == f"{REF.loc['panel_hc1', 'estimate']:.6f}"
    r = fx.did(PANEL, "y", "unit", "period", "treat")
    assert r.estimate == pytest.approx(REF.loc["panel_hc1", "estimate"], rel=1e-10)


def test_cluster_robust_se_type_needs_clusters():
    with pytest.raises(SpecificationError, match="needs `clusters`"):
        did(PANEL, "y", "unit", "period", "treat", se_type="CR2")
    with pytest.raises(SpecificationError, match="'se_type'"):
        did(PANEL, "y", "unit", "period", "treat", se_type="HC9")


def test_treatment_switching_off_is_an_error():
    bad = PANEL.copy()
    row = bad.index[(bad["cohort"] == 3) & (bad["period"] == 5)][0]
    bad.loc[row, "treat"] = 0
    with pytest.raises(DataError, match="switches off"):
        did(bad, "y", "unit", "period", "treat")


def test_duplicate_rows_and_non_binary_treatment():
    dup = pd.concat([PANEL, PANEL.iloc[[0]]])
    with pytest.raises(DataError, match="must identify rows"):
        did(dup, "y", "unit", "period", "treat")
    bad = PANEL.assign(treat=PANEL["treat"] * 2)
    with pytest.raises(DataError, match="must be binary"):
        did(bad, "y", "unit", "period", "treat")


def test_missing_rows_dropped_with_warning_and_data_untouched():
    data = PANEL.copy()
    data.loc[data.index[:3], "y"] = np.nan
    before = data.copy()
    with pytest.warns(fx.FieldexpWarning, match="dropped 3 of 300 rows"):
        res = did(data, "y", "unit", "period", "treat", clusters="unit")
    assert res.nobs == 297 and res.n_dropped == 3
    pd.testing.assert_frame_equal(data, before)


def test_text_period_labels_need_no_order_and_float_periods_work():
    a = did(PANEL, "y", "unit", "period", "treat")
    names = {p: f"{2010 + p}Q1" for p in PANEL["period"].unique()}
    text = PANEL.assign(period=PANEL["period"].map(names))
    b = did(text, "y", "unit", "period", "treat")
    assert b.estimate == pytest.approx(a.estimate, rel=1e-10)
    assert b.std_error == pytest.approx(a.std_error, rel=1e-10)
    assert any("check that treatment never switches off was skipped" in n for n in b.notes)
    order = [names[p] for p in sorted(names)]
    c = did(text, "y", "unit", "period", "treat", time_order=order)
    assert c.estimate == pytest.approx(a.estimate, rel=1e-10)
    assert not any("skipped" in n for n in c.notes)
    a = did(PANEL, "y", "unit", "period", "treat")
    b = did(PANEL.assign(period=PANEL["period"] * 0.5), "y", "unit", "period", "treat")
    assert a.estimate == pytest.approx(b.estimate, rel=1e-12)


def test_cohort_from_treatment_round_trip():
    from fieldexp.diffindiff import cohort_from_treatment, staggered_did

    data = PANEL.drop(columns="cohort")
    out = cohort_from_treatment(data, "unit", "period", "treat")
    assert (out["cohort"].to_numpy() == PANEL["cohort"].to_numpy()).all()
    assert "cohort" not in data.columns  # caller's frame untouched
    res = staggered_did(out, "y", "unit", "period", "cohort")
    ref = staggered_did(PANEL, "y", "unit", "period", "cohort")
    pd.testing.assert_frame_equal(res.att_gt, ref.att_gt)
    bad = data.copy()
    row = bad.index[(PANEL["cohort"] == 3) & (PANEL["period"] == 5)][0]
    bad.loc[row, "treat"] = 0
    with pytest.raises(DataError, match="switches off"):
        cohort_from_treatment(bad, "unit", "period", "treat")
