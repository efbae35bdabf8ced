r"""Differential attrition: do observation rates differ by arm?

:func:`attrition` compares the share of units whose outcome is observed between arms, with
the design-based regression test of :func:`fieldexp.itt` and, given the design, a
randomisation p-value. When attrition differs, report :func:`fieldexp.lee_bounds`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from fieldexp._validate import check_binary, check_columns, check_frame
from fieldexp.errors import DataError, SpecificationError
from fieldexp.experiment.api import itt
from fieldexp.experiment.bounds import _check_alpha, _require_complete
from fieldexp.results import EffectResult, Result

if TYPE_CHECKING:  # pragma: no cover
    from fieldexp.design import Design

__all__ = ["AttritionResult", "attrition"]


@dataclass(frozen=True, slots=True, eq=False)
class AttritionResult(Result):
    """Differential attrition: observation rates by arm and a design-based test.

    Attributes
    ----------
    rates : DataFrame
        Per arm (``assignment`` 0 and 1): units, observed, observation rate.
    difference : EffectResult or None
        ITT of assignment on the observed indicator (:func:`fieldexp.itt`, ``method="ols"``:
        HC2, or CR2 with clusters; block fixed effects with blocks). None when every unit is
        observed (nothing to test).
    ri_p_value : float
        Randomisation p-value of the same difference replaying ``design`` (NaN without one).
    notes : tuple of str
    """

    rates: pd.DataFrame
    difference: EffectResult | None
    ri_p_value: float
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def differential(self) -> bool:
        """True when the difference in observation rates is significant at its ``alpha``."""
        d = self.difference
        return d is not None and math.isfinite(d.p_value) and d.p_value < d.alpha

    def conf_int(self, alpha: float | None = None) -> tuple[float, float]:
        """Confidence interval of the difference in observation rates (default level: the
        estimation's)."""
        from fieldexp.stats.inference import t_inference

        default = self.difference.alpha if self.difference is not None else 0.05
        alpha = _check_alpha(default if alpha is None else alpha, "AttritionResult.conf_int")
        if self.difference is None:
            return (0.0, 0.0)
        inf = t_inference(
            self.difference.estimate, self.difference.std_error, self.difference.df, alpha
        )
        return (inf.ci_low, inf.ci_high)

    def to_frame(self) -> pd.DataFrame:
        """The rates table with the test (difference, std_error, p_value, ri_p_value) repeated."""
        frame = self.rates.copy()
        d = self.difference
        frame["difference"] = d.estimate if d is not None else 0.0
        frame["std_error"] = d.std_error if d is not None else math.nan
        frame["p_value"] = d.p_value if d is not None else math.nan
        frame["ri_p_value"] = self.ri_p_value
        return frame

    # Result hooks: text, HTML and summary come from the shared base
    _table_in_text = False

    def _title(self) -> str:
        return "Attrition by arm"

    def _lines(self) -> list[str]:
        lines = [
            f"arm {row.arm}: {row.observed:,} of {row.n:,} observed (rate {row.rate:.4f})"
            for row in self.rates.itertuples(index=False)
        ]
        if self.difference is not None:
            d = self.difference
            lines.append(
                f"difference (treated - control) {d.estimate: .6f}  se {d.std_error:.6f}  "
                f"p {d.p_value:.4f} [{d.se_type}, {d.design}]"
            )
        if math.isfinite(self.ri_p_value):
            lines.append(f"randomisation p-value {self.ri_p_value:.4f}")
        lines.extend(f"note: {n}" for n in self.notes)
        return lines

    def _table(self) -> pd.DataFrame | None:
        return self.rates


def attrition(
    data: pd.DataFrame,
    assignment: str,
    observed: str,
    *,
    blocks: str | None = None,
    clusters: str | None = None,
    design: Design | None = None,
    reps: int = 1000,
    seed: int | None = None,
    alpha: float = 0.05,
) -> AttritionResult:
    r"""Differential attrition: do observation rates differ by arm?

    Parameters
    ----------
    data : DataFrame
        One row per unit. Not modified.
    assignment : str
        0/1 assignment.
    observed : str
        0/1: the unit's outcome was observed.
    blocks, clusters : str, optional
        As in :func:`fieldexp.itt`.
    design : Design, optional
        The randomisation design; with ``seed`` the difference also gets a randomisation
        p-value replaying it (:func:`fieldexp.randomization_inference`, ``reps`` draws).
    reps, seed : int
        Randomisation draws and seed (used only with ``design``).
    alpha : float

    Returns
    -------
    AttritionResult

    Notes
    -----
    The test statistic is the ITT of assignment on the observed indicator,
    :math:`\hat\delta = \hat q_1 - \hat q_0` from ``lm_robust(observed ~ assignment,
    fixed_effects = ~ blocks, clusters = clusters)`` (:func:`fieldexp.itt` with
    ``method="ols"``: HC2, CR2 with clusters), whose :math:`H_0: \delta = 0` is "no
    differential attrition". A significant difference means comparisons of observed
    outcomes are not experimental: report :func:`lee_bounds`.
    """
    function = "fieldexp.attrition"
    frame = check_frame(data, function=function)
    check_columns(
        frame,
        {"assignment": assignment, "observed": observed, "blocks": blocks, "clusters": clusters},
        function=function,
    )
    alpha = _check_alpha(alpha, function)
    _require_complete(frame, {"assignment": assignment, "observed": observed}, function)
    z = check_binary(frame[assignment], argument="assignment", function=function)
    s = check_binary(frame[observed], argument="observed", function=function)
    if np.all(z == z[0]):
        raise DataError(
            f"column {assignment!r} (argument 'assignment' of {function}) has no variation: "
            f"every unit is in arm {z[0]:g}; attrition by arm needs both arms."
        )
    rows = []
    for arm in (0, 1):
        m = z == arm
        rows.append(
            {
                "arm": arm,
                "n": int(m.sum()),
                "observed": int(s[m].sum()),
                "rate": float(s[m].mean()) if m.any() else math.nan,
            }
        )
    rates = pd.DataFrame(rows, columns=["arm", "n", "observed", "rate"])
    if not s.any():
        raise DataError(f"no unit has {observed!r} = 1 ({function}): every outcome is missing.")
    notes: list[str] = []
    if s.all():
        notes.append("every unit is observed: no attrition to test.")
        return AttritionResult(
            rates=rates, difference=None, ri_p_value=math.nan, notes=tuple(notes)
        )
    difference = itt(
        frame,
        observed,
        assignment,
        blocks=blocks,
        clusters=clusters,
        method="ols",
        alpha=alpha,
    )
    ri_p = math.nan
    if design is not None:
        if seed is None:
            raise SpecificationError(
                f"{function} needs a 'seed' with 'design' (randomisation inference draws)."
            )
        from fieldexp.experiment.ri import randomization_inference

        ri_p = randomization_inference(
            frame, observed, assignment, design, reps=reps, seed=seed
        ).p_value
    return AttritionResult(
        rates=rates, difference=difference, ri_p_value=float(ri_p), notes=tuple(notes)
    )
