"""DiD results on the shared protocol: conf_int equals the reported intervals, TestResult pre-tests."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from fieldexp.diffindiff import event_study, staggered_did
from fieldexp.results import TestResult


def _panel(seed: int = 5, n: int = 150) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    cohort = rng.choice([0, 3, 4], size=n, p=[0.4, 0.3, 0.3])
    rows = []
    for i in range(n):
        a = rng.normal()
        for t in (1, 2, 3, 4, 5):
            eff = 0.2 if cohort[i] and t >= cohort[i] else 0.0
            rows.append((i, t, cohort[i], a + eff + rng.normal()))
    return pd.DataFrame(rows, columns=["id", "t", "g", "y"])


@pytest.mark.parametrize(
    ("estimator", "se_type"), [("twfe", "stata"), ("twfe", "CR2"), ("sun_abraham", "CR0")]
)
def test_event_study_conf_int_equals_the_table(estimator: str, se_type: str) -> None:
    es = event_study(
        _panel(),
        "y",
        "id",
        "t",
        "g",
        estimator=estimator,
        clusters="id",
        se_type=se_type,
        alpha=0.1,
    )
    ci = es.conf_int()
    assert list(ci["event_time"]) == list(es.coefficients["event_time"])
    np.testing.assert_array_equal(ci["ci_low"], es.coefficients["ci_low"])
    np.testing.assert_array_equal(ci["ci_high"], es.coefficients["ci_high"])
    wide = es.conf_int(alpha=0.01)
    ok = es.coefficients["std_error"].notna().to_numpy()
    assert (wide["ci_low"][ok] < ci["ci_low"][ok]).all()


def test_event_study_pretests_are_test_results() -> None:
    es = event_study(_panel(), "y", "id", "t", "g", clusters="id")
    chi2, f = es.pretest, es.pretest_f
    assert isinstance(chi2, TestResult) and isinstance(f, TestResult)
    assert chi2.distribution == "chi2" and f.distribution == "F"
    q = chi2.df
    assert f.statistic == pytest.approx(chi2.statistic / q, rel=1e-14)
    assert chi2.p_value == pytest.approx(stats.chi2.sf(chi2.statistic, q), rel=1e-12)
    assert f.p_value == pytest.approx(stats.f.sf(f.statistic, *f.df), rel=1e-12)
    with pytest.warns(FutureWarning, match="f_statistic is deprecated"):
        assert chi2.f_statistic == f.statistic  # the PreTrendTest name still works
    with pytest.warns(FutureWarning, match="f_p_value is deprecated"):
        assert chi2.f_p_value == f.p_value
    with pytest.warns(FutureWarning, match="replaced by fieldexp.results.TestResult"):
        from fieldexp.diffindiff import PreTrendTest
    assert PreTrendTest is TestResult


def test_staggered_conf_int_equals_att_gt_and_components() -> None:
    cs = staggered_did(_panel(), "y", "id", "t", "g", alpha=0.1)
    ci = cs.conf_int()
    np.testing.assert_array_equal(ci["ci_low"], cs.att_gt["ci_low"])
    np.testing.assert_array_equal(ci["ci_high"], cs.att_gt["ci_high"])
    assert isinstance(cs.pretest, TestResult) and cs.pretest.distribution == "chi2"
    agg = cs.aggregate("dynamic", seed=2, reps=99)
    ci = agg.conf_int()
    assert ci.iloc[0, 0] == "overall"
    assert (ci.loc[0, "ci_low"], ci.loc[0, "ci_high"]) == (agg.ci_low, agg.ci_high)
    np.testing.assert_array_equal(ci["ci_low"].to_numpy()[1:], agg.components["ci_low"])
    simple = cs.aggregate("simple")
    assert simple.conf_int() == (simple.ci_low, simple.ci_high)
    with pytest.warns(FutureWarning, match="renamed StaggeredDiD.comparison"):
        assert cs.control == cs.comparison == "never_treated"
    with pytest.warns(FutureWarning, match="'control' parameter of fieldexp.staggered_did"):
        old = staggered_did(_panel(), "y", "id", "t", "g", control="never_treated", alpha=0.1)
    pd.testing.assert_frame_equal(old.att_gt, cs.att_gt)


def test_results_pickle_round_trip() -> None:
    es = event_study(_panel(), "y", "id", "t", "g", clusters="id")
    cs = staggered_did(_panel(), "y", "id", "t", "g")
    for obj in (es, es.pretest, cs, cs.aggregate("group", seed=1, reps=99)):
        back = pickle.loads(pickle.dumps(obj))
        assert str(back) == str(obj)
