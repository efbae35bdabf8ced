"""The true effects of a simulated experiment, from its potential outcomes: :class:`Truth`."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields

import numpy as np
import numpy.typing as npt
import pandas as pd

from fieldexp.errors import SpecificationError
from fieldexp.simulation.params import BANDS, BoolArray, FloatArray

__all__ = ["EffectTruth", "Truth", "sample_truth"]


@dataclass(frozen=True, slots=True)
class EffectTruth:
    """Sample truth for one group of voters (everyone, or one propensity band).

    Attributes
    ----------
    group : str
        ``"all"`` or the band name.
    n : int
        Voters in the group.
    itt : float
        :math:`\\overline{Y(1) - Y(0)}`, the intent-to-treat effect on turnout.
    itt_d : float
        :math:`\\overline{D(1) - D(0)}`, the effect of assignment on contact.
    cace : float
        ``itt / itt_d``, the estimand of the Wald/2SLS estimator (includes spillovers onto
        non-contacted household members).
    complier_effect : float
        Mean of :math:`Y(1) - Y(0)` among compliers (:math:`D(1) > D(0)`), the direct effect.
    control_mean : float
        :math:`\\overline{Y(0)}`, turnout without canvassing.
    itt_registration : float
        :math:`\\overline{\\mathrm{Reg}(1) - \\mathrm{Reg}(0)}` among voters unregistered
        before the campaign (NaN if there are none).
    """

    group: str
    n: int
    itt: float
    itt_d: float
    cace: float
    complier_effect: float
    control_mean: float
    itt_registration: float


@dataclass(frozen=True, slots=True)
class Truth:
    """The true effects in the simulated sample, computed from the potential outcomes.

    Attributes
    ----------
    itt, itt_d, cace, complier_effect, control_mean, itt_registration : float
        As in :class:`EffectTruth`, for all voters.
    spillover_effect : float
        Mean of :math:`Y(1) - Y(0)` among voters who are spillover-exposed (household contacted,
        they were not) under assignment and unexposed under control.
    contact_rate : float
        Realised share of assigned voters contacted.
    control_contact_rate : float
        Realised share of control voters contacted.
    by_band : tuple of EffectTruth
        The same quantities per propensity band (``never``, ``intermittent``, ``regular``: :data:`BANDS`).
    n_voters, n_households, n_precincts, n_cities : int
        Sizes of the simulated population.
    """

    itt: float
    itt_d: float
    cace: float
    complier_effect: float
    control_mean: float
    itt_registration: float
    spillover_effect: float
    contact_rate: float
    control_contact_rate: float
    by_band: tuple[EffectTruth, ...]
    n_voters: int
    n_households: int
    n_precincts: int
    n_cities: int

    def band(self, name: str) -> EffectTruth:
        """The truth for one propensity band."""
        for item in self.by_band:
            if item.group == name:
                return item
        raise SpecificationError(f"band: expected one of {list(BANDS)}, got {name!r}")

    def to_frame(self) -> pd.DataFrame:
        """One row for all voters, then one per band, with the :class:`EffectTruth` columns."""
        overall = EffectTruth(
            group="all",
            n=self.n_voters,
            itt=self.itt,
            itt_d=self.itt_d,
            cace=self.cace,
            complier_effect=self.complier_effect,
            control_mean=self.control_mean,
            itt_registration=self.itt_registration,
        )
        rows = [asdict(overall), *(asdict(b) for b in self.by_band)]
        return pd.DataFrame(rows, columns=[f.name for f in fields(EffectTruth)])

    def as_dict(self) -> dict[str, object]:
        """All fields as a plain dict (bands as a list of dicts), e.g. for JSON."""
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["by_band"] = [asdict(b) for b in self.by_band]
        return out


def _mean_or_nan(values: npt.NDArray[np.generic], mask: BoolArray | None = None) -> float:
    if mask is not None:
        values = values[mask]
    return float(values.mean()) if values.size else math.nan


def _ratio(num: float, den: float) -> float:
    return num / den if den != 0 and math.isfinite(den) else math.nan


def _div(num: float, den: float) -> float:
    return float(num) / float(den) if den else math.nan


def _group_truths(
    names: tuple[str, ...],
    codes: npt.NDArray[np.int8],
    y0: BoolArray,
    y1: BoolArray,
    d0: BoolArray,
    d1: BoolArray,
    reg0: BoolArray,
    reg1: BoolArray,
    registered: BoolArray,
) -> list[EffectTruth]:
    """Truth for ``"all"`` and for each group, from exact integer sums (one pass per sum)."""
    k = len(names)
    dy = y1.view(np.int8) - y0.view(np.int8)
    dd = d1.view(np.int8) - d0.view(np.int8)
    compliers = d1 & ~d0
    unreg = ~registered
    dreg = reg1[unreg].view(np.int8) - reg0[unreg].view(np.int8)

    def total(values: npt.NDArray[np.generic] | None, mask: BoolArray | None = None) -> FloatArray:
        c = codes if mask is None else codes[mask]
        if values is None:
            return np.bincount(c, minlength=k).astype(np.float64)
        v = values if mask is None or values.shape[0] != codes.shape[0] else values[mask]
        return np.asarray(np.bincount(c, weights=v, minlength=k), dtype=np.float64)

    sums = {
        "n": total(None),
        "dy": total(dy),
        "dd": total(dd),
        "y0": total(y0),
        "n_comp": total(None, compliers),
        "dy_comp": total(dy, compliers),
        "n_unreg": total(None, unreg),
        "dreg": total(dreg, unreg),
    }
    rows = [{key: float(v.sum()) for key, v in sums.items()}]
    rows += [{key: float(v[g]) for key, v in sums.items()} for g in range(k)]
    out = []
    for name, r in zip(("all", *names), rows, strict=True):
        itt = _div(r["dy"], r["n"])
        itt_d = _div(r["dd"], r["n"])
        out.append(
            EffectTruth(
                group=name,
                n=int(r["n"]),
                itt=itt,
                itt_d=itt_d,
                cace=_ratio(itt, itt_d),
                complier_effect=_div(r["dy_comp"], r["n_comp"]),
                control_mean=_div(r["y0"], r["n"]),
                itt_registration=_div(r["dreg"], r["n_unreg"]),
            )
        )
    return out


def sample_truth(
    *,
    y0: BoolArray,
    y1: BoolArray,
    d0: BoolArray,
    d1: BoolArray,
    reg0: BoolArray,
    reg1: BoolArray,
    registered: BoolArray,
    exposure0: npt.NDArray[np.int8],
    exposure1: npt.NDArray[np.int8],
    band: npt.NDArray[np.int8],
    z: BoolArray,
    d: BoolArray,
    n_households: int,
    n_precincts: int,
    n_cities: int,
) -> Truth:
    overall, *by_band = _group_truths(BANDS, band, y0, y1, d0, d1, reg0, reg1, registered)
    spill = (exposure1 == 1) & (exposure0 == 0)
    dy = y1[spill].view(np.int8) - y0[spill].view(np.int8)
    return Truth(
        itt=overall.itt,
        itt_d=overall.itt_d,
        cace=overall.cace,
        complier_effect=overall.complier_effect,
        control_mean=overall.control_mean,
        itt_registration=overall.itt_registration,
        spillover_effect=_mean_or_nan(dy),
        contact_rate=_mean_or_nan(d, z),
        control_contact_rate=_mean_or_nan(d, ~z),
        by_band=tuple(by_band),
        n_voters=int(y0.shape[0]),
        n_households=n_households,
        n_precincts=n_precincts,
        n_cities=n_cities,
    )
