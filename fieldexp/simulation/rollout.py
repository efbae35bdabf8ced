r"""Seeded staggered roll-out of canvassing across cities and elections, with a known truth.

Cities adopt door-to-door canvassing at different elections (cohorts); units are voters or
precincts nested in cities. For unit :math:`i` in city :math:`c(i)` at election :math:`t`:

.. math::

    p_{it}(0) &= \text{clip}\big(b_i + s_t + \gamma\,(t - \bar t)\,1\{G_{c(i)}>0\},\ 0.02,\ 0.98\big) \\
    p_{it}(1) &= \text{clip}\big(p_{it}(0) + \tau_{t-G_{c(i)}},\ 0,\ 1\big)

with :math:`b_i` a unit propensity (a mixture of regular, intermittent and occasional voters), :math:`s_t`
election salience (presidential elections high, municipal low), :math:`\gamma` = ``pre_trend``
(0 keeps parallel trends; anything else makes adopting cities trend apart -- a violation the
event study should reveal) and :math:`\tau_e` the dynamic effect ``effects[e]`` (the last value
repeats). Voters turn out with probability :math:`p_{it}(D_{it})`; precincts report
:math:`\text{Binomial}(\text{registered}_i, p_{it})` voters. The true ATT(g,t) is the average of
:math:`p_{it}(1)-p_{it}(0)` over the units of cohort :math:`g` -- exact, not simulated.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from fieldexp.errors import SpecificationError

__all__ = ["RolloutPanel", "simulate_rollout"]


@dataclass(frozen=True, slots=True, eq=False)
class RolloutPanel:
    """A simulated staggered roll-out.

    Attributes
    ----------
    data : DataFrame
        Long panel: ``unit, city, period, cohort, treated, y`` (+ ``registered, voters`` for
        precincts, + ``x`` a pre-period covariate: the unit's baseline propensity, noisy).
        ``cohort`` is the first treated period (0 = never), ``y`` turnout (0/1 or a share).
    true_att_gt : DataFrame
        ``cohort, time, att``: the true ATT(g,t) (post-treatment cells).
    true_dynamic : DataFrame
        ``event_time, att``: cohort-size-weighted true effects by event time.
    level : str
    seed : int
    """

    data: pd.DataFrame
    true_att_gt: pd.DataFrame
    true_dynamic: pd.DataFrame
    level: str
    seed: int


def simulate_rollout(
    n_units: int = 20_000,
    *,
    seed: int,
    n_periods: int = 6,
    n_cities: int = 15,
    cohorts: Sequence[int] = (3, 4, 5),
    never_share: float = 0.4,
    effects: Sequence[float] = (0.02, 0.03, 0.04),
    pre_trend: float = 0.0,
    level: str = "voter",
    registered: tuple[int, int] = (300, 1500),
    keep_truth_columns: bool = False,
) -> RolloutPanel:
    """Simulate canvassing adopted city by city at different elections.

    Parameters
    ----------
    n_units : int
        Voters (``level="voter"``) or precincts (``level="precinct"``).
    seed : int
        Seed of ``np.random.default_rng`` (required: results depend on it).
    n_periods : int
        Elections, numbered 1..n_periods.
    n_cities : int
        Cities; each adopts at one cohort (or never).
    cohorts : sequence of int
        Adoption elections (each in 2..n_periods); cities are spread over them.
    never_share : float
        Share of cities that never canvass.
    effects : sequence of float
        Effect on turnout probability at event times 0, 1, 2...; the last value repeats.
    pre_trend : float
        Extra turnout trend per election in adopting cities (0 = parallel trends hold).
    level : {"voter", "precinct"}
    registered : (int, int)
        Range of registered voters per precinct.
    keep_truth_columns : bool
        Also return ``p0, p1`` (potential turnout probabilities) in ``data``.
    """
    if level not in ("voter", "precinct"):
        raise SpecificationError(f"level must be 'voter' or 'precinct'; found {level!r}.")
    cohorts = [int(c) for c in cohorts]
    if any(c < 2 or c > n_periods for c in cohorts):
        raise SpecificationError(
            f"cohorts must be elections 2..n_periods={n_periods} (each needs a pre-period); "
            f"found {cohorts}."
        )
    if not 0 <= never_share < 1:
        raise SpecificationError(f"never_share must be in [0, 1); found {never_share!r}.")
    if n_units < 1 or n_cities < 1 or n_periods < 2:
        raise SpecificationError("n_units, n_cities >= 1 and n_periods >= 2 are required.")
    rng = np.random.default_rng(seed)

    n_never = round(never_share * n_cities)
    city_cohort = np.zeros(n_cities, dtype=np.int64)
    adopters = np.arange(n_never, n_cities)
    city_cohort[adopters] = np.array(cohorts)[np.arange(len(adopters)) % len(cohorts)]
    rng.shuffle(city_cohort)

    city = rng.integers(0, n_cities, size=n_units).astype(np.int32)
    g = city_cohort[city]
    kind = rng.choice(3, size=n_units, p=[0.35, 0.4, 0.25])
    base = np.choose(
        kind,
        [
            rng.uniform(0.65, 0.85, n_units),
            rng.uniform(0.35, 0.6, n_units),
            rng.uniform(0.08, 0.25, n_units),
        ],
    )
    if level == "precinct":
        base = 0.35 + 0.4 * (base - 0.08) / 0.77
    salience = np.resize(np.array([0.08, -0.12, 0.0, 0.1, -0.1, -0.02]), n_periods)
    periods = np.arange(1, n_periods + 1)
    tbar = periods.mean()

    p0 = base[:, None] + salience[None, :]
    p0 = p0 + pre_trend * (periods[None, :] - tbar) * (g > 0)[:, None]
    p0 = np.clip(p0, 0.02, 0.98)
    eff = np.asarray(effects, dtype=float)
    e = periods[None, :] - g[:, None]
    treated = (g[:, None] > 0) & (e >= 0)
    tau = np.where(treated, eff[np.clip(e, 0, len(eff) - 1)], 0.0)
    p1 = np.clip(p0 + tau, 0.0, 1.0)
    p = np.where(treated, p1, p0)

    n, T = n_units, n_periods
    cols: dict[str, np.ndarray] = {
        "unit": np.repeat(np.arange(1, n + 1, dtype=np.int32), T),
        "city": np.repeat(city + 1, T),
        "period": np.tile(periods.astype(np.int16), n),
        "cohort": np.repeat(g.astype(np.int16), T),
        "treated": treated.reshape(-1).astype(np.int8),
    }
    x = np.round(base + rng.normal(0, 0.05, n_units), 4)
    if level == "voter":
        cols["y"] = (rng.random((n, T)) < p).reshape(-1).astype(np.int8)
    else:
        reg = rng.integers(registered[0], registered[1] + 1, size=n)
        voters = rng.binomial(np.repeat(reg[:, None], T, axis=1), p)
        cols["registered"] = np.repeat(reg.astype(np.int32), T)
        cols["voters"] = voters.reshape(-1).astype(np.int32)
        cols["y"] = cols["voters"] / cols["registered"]
    cols["x"] = np.repeat(x, T)
    if keep_truth_columns:
        cols["p0"] = p0.reshape(-1)
        cols["p1"] = p1.reshape(-1)
    data = pd.DataFrame(cols)

    # exact truth: average of p1 - p0 over each cohort's units (registered-weighted for precincts)
    wts = np.ones(n) if level == "voter" else cols["registered"][::T].astype(float)
    rows = []
    for c in sorted(set(g[g > 0].tolist())):
        m = g == c
        for ti, t in enumerate(periods):
            if t >= c:
                diff = p1[m, ti] - p0[m, ti]
                rows.append((c, int(t), float(np.average(diff, weights=wts[m]))))
    true_att = pd.DataFrame(rows, columns=["cohort", "time", "att"])
    sizes = pd.Series(wts).groupby(g).sum()
    ta = true_att.assign(event_time=true_att["time"] - true_att["cohort"])
    ta["w"] = sizes.reindex(ta["cohort"]).to_numpy()
    ta["wa"] = ta["w"] * ta["att"]
    sums = ta.groupby("event_time")[["wa", "w"]].sum()
    dyn = pd.DataFrame(
        {"event_time": sums.index.to_numpy(), "att": (sums["wa"] / sums["w"]).to_numpy()}
    )
    return RolloutPanel(data=data, true_att_gt=true_att, true_dynamic=dyn, level=level, seed=seed)
