"""The one inference helper: t statistic, two-sided p-value and CI from the t / normal law."""

from __future__ import annotations

import math

import pytest
from scipy import stats

from fieldexp.stats.inference import t_inference


@pytest.mark.parametrize("df", [3.0, 17.5, 250.0])
@pytest.mark.parametrize("alpha", [0.01, 0.05, 0.2])
def test_t_inference_matches_student_t(df: float, alpha: float) -> None:
    est, se = 0.12, 0.05
    inf = t_inference(est, se, df, alpha)
    assert inf.statistic == pytest.approx(2.4, rel=1e-14)
    assert inf.p_value == pytest.approx(2 * (1 - stats.t.cdf(2.4, df)), rel=1e-9)
    q = stats.t.ppf(1 - alpha / 2, df)
    assert inf.ci_low == pytest.approx(est - q * se, rel=1e-12)
    assert inf.ci_high == pytest.approx(est + q * se, rel=1e-12)


def test_infinite_df_uses_normal() -> None:
    inf = t_inference(-1.0, 0.5, math.inf, 0.05)
    assert inf.p_value == pytest.approx(2 * stats.norm.cdf(-2.0), rel=1e-12)
    assert inf.ci_high == pytest.approx(-1.0 + 1.959963984540054 * 0.5, rel=1e-12)


@pytest.mark.parametrize("se", [0.0, -1.0, math.nan, math.inf])
def test_degenerate_standard_error_gives_nan(se: float) -> None:
    inf = t_inference(1.0, se, 10.0, 0.05)
    assert all(math.isnan(v) for v in (inf.statistic, inf.p_value, inf.ci_low, inf.ci_high))


def test_nonpositive_df_keeps_statistic_only() -> None:
    inf = t_inference(1.0, 0.5, 0.0, 0.05)
    assert inf.statistic == 2.0
    assert math.isnan(inf.p_value) and math.isnan(inf.ci_low)
