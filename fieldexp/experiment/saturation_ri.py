r"""Randomisation inference for saturation designs, replaying both stages.

Under the sharp null that no assignment affects anyone (no direct effect and no spillover
within or between households), outcomes are fixed and only the assignment varies. Each draw
re-randomises the clusters to saturations (within the design's stage-1 blocks, when it has
them) *and* the units within the clusters
(:meth:`fieldexp.design.saturation.SaturationDesign.draw`), and recomputes the contrast's
difference in means against the pure-control clusters:

.. math::

    T = \bar Y_{A} - \bar Y_{\text{pure}},\qquad
    p = \Pr\nolimits_{\text{design}}\big(|T^{*}| \ge |T^{\text{obs}}|\big),

with :math:`A` the voters of the contrast (``"direct"``: targeted members of canvassed
households in saturated clusters; ``"within"``: their non-targeted housemates; ``"between"``:
members of households left out in saturated clusters), each restricted to level ``level`` when
given, and the pure-control voters filtered the same way (targeted / non-targeted). When the
design has at most ``reps`` possible assignments they are all enumerated, weighted by their
probabilities (``exact=True``). :math:`T^{\text{obs}}` equals the corresponding
:func:`fieldexp.spillover` estimate without blocks or covariates.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import numpy as np
import pandas as pd

from fieldexp._validate import check_binary, check_columns, check_frame, numeric
from fieldexp.design.saturation import SaturationDesign, SaturationUnits
from fieldexp.errors import DataError, DesignError, SpecificationError

__all__ = ["SaturationRIResult", "saturation_ri"]

EFFECTS = ("direct", "within", "between")


@dataclass(frozen=True, slots=True, eq=False)
class SaturationRIResult:
    """Randomisation test of one saturation-design contrast.

    Attributes
    ----------
    effect : str
        ``"direct"``, ``"within"`` or ``"between"``.
    level : float or None
        Saturation level the contrast is restricted to (None: every positive level).
    statistic : float
        Observed difference in means against pure-control clusters.
    p_value : float
        Two-sided randomisation p-value (probability-weighted when ``exact``).
    reps : int
        Draws (or assignments enumerated).
    exact : bool
    draws : ndarray
        The statistic under each draw (NaN where the contrast had no voter).
    """

    effect: str
    level: float | None
    statistic: float
    p_value: float
    reps: int
    exact: bool
    draws: np.ndarray

    def __str__(self) -> str:
        at = "" if self.level is None else f" at saturation {self.level:g}"
        how = "exact, all assignments" if self.exact else "draws"
        return (
            f"Randomisation test of the {self.effect} effect{at} (both stages replayed)\n"
            f"  difference in means {self.statistic: .6f}   p {self.p_value:.4f}   "
            f"({self.reps:,} {how})"
        )

    def to_frame(self) -> pd.DataFrame:
        """One row: effect, level, statistic, p_value, reps, exact."""
        return pd.DataFrame(
            [
                {
                    "effect": self.effect,
                    "level": self.level,
                    "statistic": self.statistic,
                    "p_value": self.p_value,
                    "reps": self.reps,
                    "exact": self.exact,
                }
            ]
        )


@dataclass(frozen=True, slots=True)
class _UnitSums:
    """Outcome sums and counts per unit, of the contrast's members and of every voter."""

    sum_member: np.ndarray
    n_member: np.ndarray
    sum_all: np.ndarray
    n_all: np.ndarray


def _statistic(
    sums: _UnitSums, sat: np.ndarray, treated: np.ndarray, effect: str, level: float | None
) -> float:
    """Difference in voter means, group minus pure control, from per-unit sums."""
    exposed = sat > 0 if level is None else np.isclose(sat, level)
    pure = sat == 0
    if effect == "between":  # every member of the households left out
        group = exposed & ~treated
        total, count = sums.sum_all, sums.n_all
    else:
        group = exposed & treated
        total, count = sums.sum_member, sums.n_member
    n_group, n_pure = count[group].sum(), count[pure].sum()
    if n_group == 0 or n_pure == 0:
        return math.nan
    return float(total[group].sum() / n_group - total[pure].sum() / n_pure)


def saturation_ri(
    data: pd.DataFrame,
    outcome: str,
    assignment: str,
    design: SaturationDesign,
    *,
    saturation: str,
    targeted: str | None = None,
    effect: str = "between",
    level: float | None = None,
    reps: int = 1000,
    seed: int,
    exact: bool | None = None,
) -> SaturationRIResult:
    r"""Randomisation p-value for a saturation-design contrast, replaying both stages.

    Parameters
    ----------
    data : DataFrame
        One row per voter with ``design.unit`` (household), ``design.clusters``, the outcome,
        the observed ``assignment`` (0/1 per household) and ``saturation`` (per cluster).
    outcome, assignment, saturation : str
        Columns.
    design : SaturationDesign
        The design that produced the assignment; the observed assignment must be one it can
        produce (cluster counts per level, treated counts per cluster), else
        :class:`DesignError`.
    targeted : str, optional
        0/1 targeted member; needed for ``"direct"`` / ``"within"`` when households hold
        several voters (without it every voter counts as targeted and ``"within"`` is refused).
    effect : {"direct", "within", "between"}
    level : float, optional
        Restrict to clusters of that saturation.
    reps : int
        Draws; when the design has at most ``reps`` assignments they are enumerated.
    seed : int
        Required.
    exact : bool, optional
        Force (True) or forbid (False) enumeration; default: enumerate when possible.

    Returns
    -------
    SaturationRIResult
    """
    function = "fieldexp.saturation_ri"
    if effect not in EFFECTS:
        raise SpecificationError(
            f"The 'effect' parameter of {function} must be one of {EFFECTS}. Got {effect!r}."
        )
    if isinstance(reps, bool) or not isinstance(reps, numbers.Integral) or reps < 1:
        raise SpecificationError(f"'reps' of {function} must be a positive integer; got {reps!r}.")
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise SpecificationError(f"{function} needs an integer 'seed'; got {seed!r}.")
    frame = check_frame(data, function=function)
    check_columns(
        frame,
        {
            "outcome": outcome,
            "assignment": assignment,
            "saturation": saturation,
            "targeted": targeted,
            "unit": design.unit,
            "clusters": design.clusters,
            "blocks": design.blocks,
        },
        function=function,
    )
    if targeted is None and effect == "within":
        raise SpecificationError(f"effect='within' in {function} needs 'targeted'.")
    units = design.units(frame, function=function)
    y = numeric(frame[outcome], argument="outcome", function=function)
    z = check_binary(frame[assignment], argument="assignment", function=function) == 1
    s = numeric(frame[saturation], argument="saturation", function=function)
    member = (
        check_binary(frame[targeted], argument="targeted", function=function) == 1
        if targeted is not None
        else np.ones(len(frame), dtype=bool)
    )
    if effect == "within":
        member = ~member
    unit_of_row = pd.Index(units.unit_ids).get_indexer(frame[design.unit])
    cluster_of_row = units.cluster[unit_of_row]
    _check_observed(design, units, z, s, unit_of_row, cluster_of_row, function)

    n_units = len(units.unit_ids)
    sums = _UnitSums(
        sum_member=np.bincount(unit_of_row, weights=y * member, minlength=n_units),
        n_member=np.bincount(unit_of_row, weights=member.astype(float), minlength=n_units),
        sum_all=np.bincount(unit_of_row, weights=y, minlength=n_units),
        n_all=np.bincount(unit_of_row, minlength=n_units).astype(float),
    )
    z_unit = np.zeros(n_units, dtype=bool)
    z_unit[unit_of_row] = z
    sat_unit = np.zeros(n_units)
    sat_unit[unit_of_row] = s
    observed = _statistic(sums, sat_unit, z_unit, effect, level)
    if not math.isfinite(observed):
        raise DataError(
            f"the {effect} contrast has no voter in the observed assignment ({function})."
        )
    n_assign = design.n_assignments(units)
    use_exact = (n_assign is not None and n_assign <= reps) if exact is None else exact
    if use_exact:
        if n_assign is None:
            raise DesignError(
                f"exact enumeration in {function} needs whole numbers of treated units per "
                "cluster and a countable design."
            )
        sats, treats, probs = design.enumerate(frame, limit=max(reps, n_assign))
    else:
        sats, treats = design.draw(units, int(reps), np.random.default_rng(int(seed)))
        probs = np.full(int(reps), 1.0 / int(reps))
    draws = np.array(
        [
            _statistic(sums, sats[r][units.cluster], treats[r], effect, level)
            for r in range(len(probs))
        ]
    )
    tol = 1e-12 * max(1.0, abs(observed))
    ok = np.isfinite(draws)
    extreme = ok & (np.abs(draws) >= abs(observed) - tol)
    p_value = float(probs[extreme].sum() / probs[ok].sum())
    return SaturationRIResult(
        effect=effect,
        level=level,
        statistic=observed,
        p_value=p_value,
        reps=len(probs),
        exact=bool(use_exact),
        draws=draws,
    )


def _check_observed(
    design: SaturationDesign,
    units: SaturationUnits,
    z: np.ndarray,
    s: np.ndarray,
    unit_of_row: np.ndarray,
    cluster_of_row: np.ndarray,
    function: str,
) -> None:
    """The observed (saturation, assignment) must be a draw the design can produce."""
    n_cl, n_units = len(units.cluster_ids), len(units.unit_ids)
    sat_cl = np.full(n_cl, np.nan)
    sat_cl[cluster_of_row] = s
    if not np.array_equal(sat_cl[cluster_of_row], s):
        raise DesignError(f"saturation must be constant within each cluster ({function}).")
    z_unit = np.zeros(n_units)
    z_unit[unit_of_row] = z
    if not np.array_equal(z_unit[unit_of_row], z):
        raise DesignError(f"assignment must be constant within each unit ({function}).")
    for b, (members, counts) in enumerate(
        zip(design.block_members(units), design.block_counts(units), strict=True)
    ):
        found = np.array([int(np.isclose(sat_cl[members], lv).sum()) for lv in design.levels])
        if not np.array_equal(found, counts):
            where = (
                f" in block {units.block_ids[b]!r}"
                if design.blocks is not None and units.block_ids is not None
                else ""
            )
            raise DesignError(
                f"the observed saturations put {found.tolist()} clusters at levels "
                f"{list(design.levels)}{where}; the design puts {counts.tolist()} ({function})."
            )
    treated = np.bincount(units.cluster, weights=z_unit, minlength=n_cl)
    target = sat_cl * units.sizes
    if np.any(treated < np.floor(target - 1e-9)) or np.any(treated > np.ceil(target + 1e-9)):
        raise DesignError(
            f"the observed assignment treats a number of units per cluster the design cannot "
            f"produce (saturation x cluster size, rounded down or up) ({function})."
        )
