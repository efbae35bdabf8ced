"""The one place where statistics, p-values and confidence intervals are computed.

Every estimator in fieldexp reports ``estimate, std_error, df`` and calls
:func:`t_inference` for the rest, as estimatr does in ``helper_cis_pvals.R``:

.. math::

    t = \\hat\\tau / \\widehat{se}, \\qquad
    p = 2\\,F_{\\nu}(-|t|), \\qquad
    \\hat\\tau \\pm F^{-1}_{\\nu}(1-\\alpha/2)\\,\\widehat{se}

with :math:`F_\\nu` the Student *t* distribution on :math:`\\nu` degrees of freedom,
or the standard normal when :math:`\\nu` is infinite.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["Inference", "t_inference"]


@dataclass(frozen=True, slots=True)
class Inference:
    """Test statistic, two-sided p-value and confidence interval for one estimate."""

    statistic: float
    p_value: float
    ci_low: float
    ci_high: float


def t_inference(estimate: float, std_error: float, df: float, alpha: float) -> Inference:
    """Two-sided t (or normal, when ``df`` is infinite) inference for one estimate.

    Parameters
    ----------
    estimate, std_error : float
        Point estimate and its standard error.
    df : float
        Degrees of freedom; ``math.inf`` selects the normal distribution.
    alpha : float
        Significance level; the interval has coverage ``1 - alpha``.
    """
    from scipy import stats  # imported on first use: keeps `import fieldexp` light

    if not (std_error > 0) or not np.isfinite(std_error):
        return Inference(math.nan, math.nan, math.nan, math.nan)
    statistic = estimate / std_error
    if math.isinf(df):
        p_value = float(2.0 * stats.norm.sf(abs(statistic)))
        crit = float(stats.norm.isf(alpha / 2.0))
    elif df > 0:
        p_value = float(2.0 * stats.t.sf(abs(statistic), df))
        crit = float(stats.t.isf(alpha / 2.0, df))
    else:
        return Inference(float(statistic), math.nan, math.nan, math.nan)
    return Inference(
        statistic=float(statistic),
        p_value=p_value,
        ci_low=float(estimate - crit * std_error),
        ci_high=float(estimate + crit * std_error),
    )
