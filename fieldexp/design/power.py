"""Analytic power, minimum detectable effect and sample size for ITT and CACE: :func:`power`.

For a difference in means with a share :math:`p` of :math:`N` units assigned (clusters of
sizes :math:`m_j`, intra-cluster correlation :math:`\\rho`, share :math:`R^2` of outcome
variance explained by blocks/covariates), the standard error of the ITT is (Bloom 1995;
Duflo, Glennerster & Kremer 2007, eqs. 5-11; Gerber & Green 2012, ch. 3)

.. math::

    SE_{ITT} = \\sqrt{\\frac{\\sigma^2 (1 - R^2)\\,\\mathrm{deff}}{N p (1 - p)}},
    \\qquad \\mathrm{deff} = 1 + \\left(\\frac{E[m^2]}{E[m]} - 1\\right)\\rho,
    \\qquad \\sigma^2 = \\bar y (1 - \\bar y) \\text{ for a turnout rate } \\bar y.

With clusters of equal size :math:`m` the design effect is the familiar
:math:`1 + (m - 1)\\rho`; with unequal sizes (households of 1, 2, 3 voters) it is larger,
because :math:`E[m^2]/E[m] = \\bar m + \\mathrm{Var}(m)/\\bar m` (Kerry & Bland 2001;
Eldridge, Ashby & Kerry 2006), so pass the sizes themselves when they vary.

Under simple (coin-flip) randomisation of :math:`J = N/\\bar m` clusters the numbers per arm
are random; to second order :math:`E[1/n_1] + E[1/n_0]` exceeds :math:`1/(N p (1-p))` by
the factor :math:`1 + \\frac{p^3 + (1-p)^3}{p (1 - p) J}`, which multiplies the variance.

With one-sided noncompliance and contact rate :math:`c`, :math:`ITT = c \\cdot CACE`, so
:math:`SE_{CACE} \\approx SE_{ITT} / c` (the first stage's own sampling error ignored).
The two-sided power to detect an effect :math:`\\delta` at level :math:`\\alpha` is

.. math::

    1 - \\beta = \\Phi\\left(\\frac{|\\delta|}{SE} - z_{1-\\alpha/2}\\right)
               + \\Phi\\left(-\\frac{|\\delta|}{SE} - z_{1-\\alpha/2}\\right),

and the minimum detectable effect is about :math:`(z_{1-\\alpha/2} + z_{1-\\beta})\\,SE`.
:func:`power` solves this for whichever of ``n``, ``effect`` and ``power`` is ``None``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import ClassVar

import numpy as np
import pandas as pd
from scipy import optimize, stats

from fieldexp._validate import check_alpha, check_choice
from fieldexp.errors import SpecificationError
from fieldexp.results import Result

__all__ = ["PowerResult", "power"]


@dataclass(frozen=True, slots=True)
class PowerResult(Result):
    """Power calculation: the solved quantity and every input."""

    _table_in_text: ClassVar[bool] = False  # the lines state every input

    solved_for: str
    estimand: str
    n: float
    effect: float
    power: float
    std_error: float
    alpha: float
    alternative: str
    sd: float
    baseline: float | None
    contact_rate: float
    p_treat: float
    cluster_size: float
    icc: float
    r2: float
    design_effect: float
    cluster_size_effective: float = 1.0
    scheme: str = "complete"

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([asdict(self)])

    def _title(self) -> str:
        what = {"n": "sample size", "effect": "minimum detectable effect", "power": "power"}
        return (
            f"Power analysis ({self.estimand}, {self.alternative}, alpha = {self.alpha:g}): "
            f"solved for {what[self.solved_for]}"
        )

    def _lines(self) -> list[str]:
        return [
            f"N = {self.n:,.0f} units, effect = {self.effect:.4f}, power = {self.power:.3f}",
            f"s.e. {self.std_error:.4f}; outcome s.d. {self.sd:.4f}; share treated {self.p_treat:g}; "
            f"contact rate {self.contact_rate:g}",
            f"cluster size {self.cluster_size:g} (E[m^2]/E[m] {self.cluster_size_effective:g}), "
            f"ICC {self.icc:g} ({self.scheme} randomisation; design effect "
            f"{self.design_effect:.3f}); R-squared {self.r2:g}",
        ]

    def _table(self) -> pd.DataFrame:
        frame = self.to_frame().T.reset_index()
        frame.columns = ["quantity", "value"]
        return frame.astype({"value": str})


def _num(value: object, name: str, lo: float, hi: float, *, lo_open: bool, hi_open: bool) -> float:
    ok = (
        not isinstance(value, bool | np.bool_)
        and isinstance(value, int | float | np.integer | np.floating)
        and math.isfinite(value)
    )
    if ok:
        v = float(value)  # type: ignore[arg-type]
        ok = (v > lo if lo_open else v >= lo) and (v < hi if hi_open else v <= hi)
    if not ok:
        lb = "(" if lo_open else "["
        rb = ")" if hi_open else "]"
        raise SpecificationError(
            f"The {name!r} parameter of power must be a number in {lb}{lo:g}, {hi:g}{rb}. "
            f"Got {value!r} instead."
        )
    return float(value)  # type: ignore[arg-type]


def _cluster_sizes(value: object) -> tuple[float, float]:
    """``(E[m], E[m^2]/E[m])`` from one size or the size of every cluster."""
    if isinstance(value, pd.Series | np.ndarray | list | tuple):
        arr = value.to_numpy() if isinstance(value, pd.Series) else np.asarray(value)
        ok = arr.ndim == 1 and len(arr) > 0 and arr.dtype.kind in "iuf"
        if ok:
            sizes = arr.astype(np.float64)
            bad = ~np.isfinite(sizes) | (sizes < 1)
            if bad.any():
                raise SpecificationError(
                    "The 'cluster_size' parameter of power must hold cluster sizes >= 1; "
                    f"found {sizes[bad][:5].tolist()!r} at positions "
                    f"{np.flatnonzero(bad)[:5].tolist()!r}."
                )
            mean = float(sizes.mean())
            return mean, float(np.mean(sizes * sizes) / mean)
        raise SpecificationError(
            "The 'cluster_size' parameter of power must be a number or a non-empty 1-d array "
            f"of numeric cluster sizes. Got a {arr.ndim}-d {type(value).__name__} of "
            f"{len(arr)} entries and dtype {arr.dtype} instead."
        )
    m = _num(value, "cluster_size", 1, math.inf, lo_open=False, hi_open=True)
    return m, m


def _power_at(effect: float, se: float, alpha: float, alternative: str) -> float:
    if alternative == "two-sided":
        z = stats.norm.isf(alpha / 2)
        return float(stats.norm.cdf(abs(effect) / se - z) + stats.norm.cdf(-abs(effect) / se - z))
    z = stats.norm.isf(alpha)
    return float(stats.norm.cdf(abs(effect) / se - z))


def power(
    *,
    n: float | None = None,
    effect: float | None = None,
    power: float | None = None,
    estimand: str = "itt",
    baseline: float = 0.5,
    sd: float | None = None,
    contact_rate: float = 1.0,
    p_treat: float = 0.5,
    cluster_size: float | Sequence[float] | np.ndarray | pd.Series = 1.0,
    icc: float = 0.0,
    r2: float = 0.0,
    alpha: float = 0.05,
    alternative: str = "two-sided",
    scheme: str = "complete",
) -> PowerResult:
    """Solve for the one of ``n``, ``effect`` (MDE) and ``power`` left as ``None``.

    Parameters
    ----------
    n : float, optional
        Number of units (voters) randomised.
    effect : float, optional
        Effect on the ``estimand`` scale (turnout points, e.g. 0.02 for 2 points).
    power : float, optional
        Target power, in (0, 1).
    estimand : {"itt", "cace"}
        ``"cace"``: the effect among contacted voters; the ITT is ``contact_rate * effect``.
    baseline : float
        Control-group turnout; gives :math:`\\sigma^2 = \\bar y(1 - \\bar y)` unless ``sd``.
    sd : float, optional
        Outcome standard deviation (instead of ``baseline``, for non-binary outcomes).
    contact_rate : float
        Share of assigned units contacted (one-sided noncompliance).
    p_treat : float
        Share of units assigned to treatment.
    cluster_size : float or array-like
        Cluster (household) size: one number when every cluster has that size, or the size
        of every cluster (one entry per household, e.g.
        ``voters.groupby("household_id").size()``; not a per-voter column) when they vary.
        The design effect is :math:`1 + (E[m^2]/E[m] - 1)\\rho` over those sizes.
    icc : float
        Intra-cluster correlation :math:`\\rho` of the outcome.
    r2 : float
        Share of outcome variance explained by blocks and covariates.
    alpha : float
        Test level.
    alternative : {"two-sided", "one-sided"}
    scheme : {"complete", "simple"}
        ``"simple"``: coin-flip assignment (``Design(..., scheme="simple")``); the random
        numbers per arm inflate the variance (module docstring).
    """
    check_choice(estimand, ("itt", "cace"), argument="estimand", function="power")
    check_choice(alternative, ("two-sided", "one-sided"), argument="alternative", function="power")
    missing = [k for k, v in (("n", n), ("effect", effect), ("power", power)) if v is None]
    if len(missing) != 1:
        raise SpecificationError(
            "power: leave exactly one of 'n', 'effect' and 'power' as None (the one to solve "
            f"for); found {len(missing)} missing ({missing!r})"
        )
    alpha = check_alpha(alpha, function="power")
    p_treat = _num(p_treat, "p_treat", 0, 1, lo_open=True, hi_open=True)
    contact_rate = _num(contact_rate, "contact_rate", 0, 1, lo_open=True, hi_open=False)
    check_choice(scheme, ("complete", "simple"), argument="scheme", function="power")
    cluster_size, m_eff = _cluster_sizes(cluster_size)
    icc = _num(icc, "icc", 0, 1, lo_open=False, hi_open=False)
    r2 = _num(r2, "r2", 0, 1, lo_open=False, hi_open=True)
    if sd is None:
        base = _num(baseline, "baseline", 0, 1, lo_open=True, hi_open=True)
        sigma = math.sqrt(base * (1 - base))
    else:
        base = None
        sigma = _num(sd, "sd", 0, math.inf, lo_open=True, hi_open=True)
    deff = 1.0 + (m_eff - 1.0) * icc
    scale = contact_rate if estimand == "cace" else 1.0
    imbalance = (p_treat**3 + (1 - p_treat) ** 3) / (p_treat * (1 - p_treat))

    def se_of(n_units: float) -> float:
        var = sigma**2 * (1 - r2) * deff / (n_units * p_treat * (1 - p_treat))
        if scheme == "simple":
            var *= 1.0 + imbalance * cluster_size / n_units
        return math.sqrt(var) / scale

    if n is not None:
        n = _num(n, "n", 2, math.inf, lo_open=False, hi_open=True)
    if effect is not None:
        effect = _num(effect, "effect", -math.inf, math.inf, lo_open=True, hi_open=True)
        if effect == 0:
            raise SpecificationError("The 'effect' parameter of power must not be 0.")
    if power is not None:
        # below alpha no effect size can reach the target
        power = _num(power, "power", alpha, 1, lo_open=True, hi_open=True)

    def build(solved: str, n_units: float, eff: float, pw: float) -> PowerResult:
        return PowerResult(
            solved_for=solved,
            estimand=estimand.upper(),
            n=float(n_units),
            effect=float(eff),
            power=float(pw),
            std_error=se_of(n_units),
            alpha=alpha,
            alternative=alternative,
            sd=sigma,
            baseline=base,
            contact_rate=contact_rate,
            p_treat=p_treat,
            cluster_size=cluster_size,
            icc=icc,
            r2=r2,
            design_effect=deff,
            cluster_size_effective=m_eff,
            scheme=scheme,
        )

    if power is None:
        assert n is not None and effect is not None
        return build("power", n, effect, _power_at(effect, se_of(n), alpha, alternative))
    if effect is None:
        assert n is not None
        se = se_of(n)
        target = power
        mde = optimize.brentq(
            lambda d: _power_at(d, se, alpha, alternative) - target,
            1e-12 * se,
            100 * se,
            xtol=1e-14,
        )
        return build("effect", n, mde, power)
    target = power
    given = effect
    log_n = optimize.brentq(
        lambda x: _power_at(given, se_of(math.exp(x)), alpha, alternative) - target,
        math.log(2.0),
        math.log(1e13),
        xtol=1e-12,
    )
    return build("n", math.exp(log_n), effect, power)
