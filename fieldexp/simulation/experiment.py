r"""Seeded, vectorised simulation of a door-to-door canvassing experiment.

The data-generating process (DGP), for voter :math:`i` in household :math:`h`,
precinct (block) :math:`p` and city :math:`c`:

**Structure.** Household sizes are :math:`1 + \mathrm{Poisson}(\bar m - 1)` (mean
``mean_household_size``). Households are laid out in order and cut into precincts of
:math:`U(0.75, 1.25) \times` ``voters_per_precinct`` voters (a precinct never splits a
household); precincts are split evenly, in order, into ``n_cities`` cities.

**Latent propensity** (household-correlated):

.. math::

    \eta_i = 0.1 + \gamma_c + \pi_p + \alpha_h + \varepsilon_i + 0.035\,(\min(a_i, 75) - 45),

with :math:`\gamma_c \sim N(0, 0.25^2)`, :math:`\pi_p \sim N(0, 0.35^2)`,
:math:`\alpha_h \sim N(0, 0.8^2)`, :math:`\varepsilon_i \sim N(0, 1)` and age
:math:`a_i = \mathrm{clip}(\mathrm{round}(A_h + N(0, 10^2)), 18, 98)`,
:math:`A_h = 18 + 62\,\mathrm{Beta}(2, 2.4)`.

**Registration.** A share ``unregistered_share`` of records (more among the young and the
low-propensity) are unregistered before the campaign; registered voters registered
:math:`\min(a_i - 18 + U, \mathrm{Exp}(14))` years before the campaign.

**Vote history.** For each past general election :math:`t` (every two years before
``target_year``), with salience :math:`s_t = 0.9` for presidential and 0 for midterm years,

.. math::

    V_{it} \sim \mathrm{Bernoulli}\big(E_{it}\,\mathrm{expit}(\eta_i + s_t)\big),

where :math:`E_{it} = 1` if :math:`i` was registered 25 days before election :math:`t`.
``propensity_band`` is the analysis table's band (:func:`fieldexp.analysis.propensity_band`,
one definition): ``"never"`` (voted in none of the past elections), ``"intermittent"``
(fewer than half) or ``"regular"`` (half or more).

**Assignment** (block-and-cluster). Within each precinct with :math:`n_p` households,
exactly :math:`\lfloor n_p q \rfloor` or :math:`\lceil n_p q \rceil` households
(:math:`q` = ``p_treat``; the ceiling with probability :math:`n_p q - \lfloor n_p q \rfloor`)
are assigned, :math:`Z_h = 1`, uniformly at random, so :math:`P(Z_h = 1) = q` exactly.

**Contact** (potential treatments). A household is attempted with probability
``attempt_rate``; voter :math:`i` is home with probability

.. math::

    \pi^{home}_i = \mathrm{clip}\big(k\,\exp(0.25\,\tilde\eta_i + 0.5\,[a_i \ge 65]
    - 0.25\,[a_i < 30]), 0.005, 0.95\big),

:math:`\tilde\eta` standardised and :math:`k` set so the mean is
``contact_rate / attempt_rate``; members of a household are home together more often
(Gaussian copula, correlation 0.5). With :math:`C_i \sim \mathrm{Bernoulli}`
(``control_contact_rate``) the contacts that happen whatever the assignment,
:math:`D_i(0) = C_i` and :math:`D_i(1) = \max(C_i, \mathrm{attempted}_h\,\mathrm{home}_i)`
(monotone; one-sided noncompliance when ``control_contact_rate = 0``).

**Exposure and outcomes.** Under household assignment :math:`z`, voter :math:`i` is
directly exposed if :math:`D_i(z) = 1`, exposed to a spillover if not but another member of
the household was contacted, else unexposed; :math:`w_i(z) \in \{1, \lambda, 0\}` with
:math:`\lambda` = ``spillover``. With one pair of uniforms :math:`(U_i, R_i)` shared by both
potential outcomes (so effects are monotone and the sample truth is exact),

.. math::

    \mathrm{Reg}_i(z) &= \mathrm{registered}_i \lor
        \big(R_i < 0.10 + \rho\, w_i(z)\big), \\
    Y_i(z) &= \mathrm{Reg}_i(z)\,\big[U_i < \min\{1,\ \mathrm{expit}(\eta_i + s_T)
        + \tau_{b(i)}\, w_i(z)\}\big],

with :math:`\rho` = ``registration_effect`` and band effects :math:`\tau_b \propto`
``band_effect_ratio`` scaled so the mean of :math:`\tau_{b(i)}` over compliers
(:math:`D_i(1) > D_i(0)`) is ``contact_effect``. The observed data are
:math:`D_i = D_i(Z_{h(i)})`, :math:`Y_i = Y_i(Z_{h(i)})`.

**Truth** (in the sample, from the potential outcomes): ITT :math:`=\overline{Y(1) - Y(0)}`,
ITT\ :sub:`D` :math:`=\overline{D(1) - D(0)}`, CACE :math:`=` ITT / ITT\ :sub:`D` (the
estimand of the IV/Wald estimator, which with spillovers slightly exceeds the complier
average direct effect, also recorded).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
from scipy.special import expit, ndtr

from fieldexp.analysis.bands import propensity_band_codes
from fieldexp.simulation.params import (
    BANDS,
    BASE_REGISTRATION,
    CAMPAIGN_DAYS,
    CITY_NAMES,
    FRAME_COLUMNS,
    HOUSEHOLD_ID,
    PRECINCT_ID,
    REG_DEADLINE_DAYS,
    REGISTRATION_DATE,
    RESULT_CODES,
    VOTER_ID,
    WEIGHTS,
    FloatArray,
    IntArray,
    SimulationParams,
    check_frames,
    check_params,
)
from fieldexp.simulation.tables import (
    categorical,
    contact_log,
    election_day,
    empty,
    fake_pii,
    ids,
    take,
)
from fieldexp.simulation.tables import (
    vote_history as vote_history_frame,
)
from fieldexp.simulation.truth import EffectTruth, Truth, sample_truth

__all__ = [
    "BANDS",
    "RESULT_CODES",
    "EffectTruth",
    "SimulatedExperiment",
    "SimulationParams",
    "Truth",
    "simulate",
]


@dataclass(frozen=True, slots=True, eq=False)
class SimulatedExperiment:
    """A simulated canvassing experiment: canonical tables, the analysis table and the truth.

    Attributes
    ----------
    table : pandas.DataFrame
        The unit-level analysis table, one row per voter: ``voter_id, household_id,
        precinct_id, city, assigned, attempted, contacted, voted, registered,
        registered_after, voted_<year>`` (one per past election), ``age, female,
        propensity_band, weight``. Indicators are ``int8`` 0/1; ``weight`` is a made-up
        sampling weight in [0.5, 3] for testing weighted estimators.
    voters : pandas.DataFrame
        The voter file before the campaign: ``voter_id, household_id, precinct_id, city,
        registered, registration_date, age, female``, past-vote covariates and
        ``propensity_band`` (plus fake ``name, address, birth_date`` when ``pii=True``).
    vote_history : pandas.DataFrame
        Long: ``voter_id, election_id, election_date, election_type, voted, method``, one row
        per voter and election, the target election included.
    elections : pandas.DataFrame
        ``election_id, election_date, election_type, presidential, target``.
    assignment : pandas.DataFrame
        One row per household: ``household_id, precinct_id, arm`` (0/1), ``probability``.
    contacts : pandas.DataFrame
        Contact log, one row per voter and door attempt: ``contact_id, voter_id,
        household_id, timestamp, channel, result, attempted, contacted, canvasser_id,
        attempt``.
    potential_outcomes : pandas.DataFrame
        ``voter_id, d0, d1, exposure0, exposure1, reg0, reg1, y0, y1`` (exposure: 0 none,
        1 spillover, 2 direct contact).
    truth : Truth
        True effects in this sample.
    params : SimulationParams
        The arguments that made it (seed included).
    """

    table: pd.DataFrame
    voters: pd.DataFrame
    vote_history: pd.DataFrame
    elections: pd.DataFrame
    assignment: pd.DataFrame
    contacts: pd.DataFrame
    potential_outcomes: pd.DataFrame
    truth: Truth
    params: SimulationParams = field(repr=False)

    def __repr__(self) -> str:
        t = self.truth
        return (
            f"SimulatedExperiment(n_voters={t.n_voters:,}, n_households={t.n_households:,}, "
            f"n_precincts={t.n_precincts:,}, seed={self.params.seed}, itt={t.itt:.4f}, "
            f"cace={t.cace:.4f}, contact_rate={t.contact_rate:.3f})"
        )

    def __str__(self) -> str:
        t = self.truth
        lines = [
            repr(self),
            f"  true ITT {t.itt:.4f}   ITT_D {t.itt_d:.4f}   CACE {t.cace:.4f}   "
            f"complier direct effect {t.complier_effect:.4f}   spillover {t.spillover_effect:.4f}",
        ]
        for b in t.by_band:
            lines.append(
                f"  {b.group:<12} n {b.n:>9,}   ITT {b.itt: .4f}   ITT_D {b.itt_d:.4f}   "
                f"CACE {b.cace: .4f}   control turnout {b.control_mean:.3f}"
            )
        return "\n".join(lines)


# --------------------------------------------------------------------------- simulate
def simulate(
    n_voters: int = 7000,
    *,
    seed: int,
    mean_household_size: float = 1.7,
    voters_per_precinct: int = 1000,
    n_cities: int = 3,
    p_treat: float = 0.5,
    contact_rate: float = 0.30,
    attempt_rate: float = 0.95,
    control_contact_rate: float = 0.0,
    contact_effect: float = 0.08,
    band_effect_ratio: tuple[float, float, float] = (0.6, 1.5, 0.5),
    spillover: float = 0.3,
    registration_effect: float = 0.04,
    unregistered_share: float = 0.08,
    n_past_elections: int = 3,
    target_year: int = 2022,
    id_type: Literal["str", "int"] = "str",
    pii: bool = False,
    frames: Iterable[str] | None = None,
) -> SimulatedExperiment:
    """Simulate a seeded, realistic door-to-door canvassing experiment.

    The data-generating process is written out in the docstring of
    :mod:`fieldexp.simulation.experiment`; in short: voters in households in precincts in
    cities, a household-correlated latent turnout propensity that drives the vote history,
    households randomised within precincts, contact only if assigned and someone is home,
    turnout and registration with a known effect of contact and a household spillover.

    Parameters
    ----------
    n_voters : int
        Voters in the file (records, registered or not).
    seed : int
        Seed of ``numpy.random.default_rng``; required. Same arguments, same tables.
    mean_household_size : float
        Mean voters per household (sizes are ``1 + Poisson(mean - 1)``).
    voters_per_precinct : int
        Mean voters per precinct (precincts are the randomisation blocks).
    n_cities : int
        Cities (at most one per precinct).
    p_treat : float
        Share of households assigned to canvassing in each precinct.
    contact_rate : float
        Expected share of assigned voters contacted (someone answered).
    attempt_rate : float
        Share of assigned households the canvassers knock at least once.
    control_contact_rate : float
        Share of voters contacted whatever their assignment (0: one-sided noncompliance).
    contact_effect : float
        Mean direct effect of contact on the turnout probability among compliers.
    band_effect_ratio : tuple of 3 floats
        Relative effect of contact for never, intermittent and regular voters (the bands of
        :func:`fieldexp.analysis.propensity_band`).
    spillover : float
        Effect on non-contacted members of a contacted household, as a share of the direct
        effect (and of the registration effect).
    registration_effect : float
        Effect of contact on the registration probability of unregistered voters.
    unregistered_share : float
        Expected share of records unregistered before the campaign.
    n_past_elections : int
        Past general elections in the vote history (every two years before ``target_year``).
    target_year : int
        Year of the target general election (early November).
    id_type : {"str", "int"}
        ``"str"`` gives ids such as ``"V0000001"``, ``"H0000001"``, ``"P0001"``; ``"int"``
        gives 1-based integers (faster and smaller at millions of voters).
    pii : bool
        Add fake ``name``, ``address`` and ``birth_date`` columns to ``voters`` (for testing
        that importers drop them). Never in ``table``.
    frames : iterable of str, optional
        Which frames besides ``table``, ``elections`` and ``truth`` to build, among
        ``"voters", "vote_history", "assignment", "contacts", "potential_outcomes"``; default
        all. Frames left out are empty (with their columns). Each optional frame draws from its
        own random sub-stream, so the analysis table is the same whichever frames are built;
        ``frames=()`` is the fastest, smallest way to make millions of voters for benchmarks.

    Returns
    -------
    SimulatedExperiment

    Examples
    --------
    >>> import fieldexp as fx
    >>> exp = fx.simulate(5000, seed=1)
    >>> exp.table[["assigned", "contacted", "voted"]].mean()  # doctest: +SKIP
    >>> exp.truth.itt, exp.truth.cace  # doctest: +SKIP
    """
    params = SimulationParams(
        n_voters=n_voters,
        seed=seed,
        mean_household_size=float(mean_household_size),
        voters_per_precinct=voters_per_precinct,
        n_cities=n_cities,
        p_treat=float(p_treat),
        contact_rate=float(contact_rate),
        attempt_rate=float(attempt_rate),
        control_contact_rate=float(control_contact_rate),
        contact_effect=float(contact_effect),
        band_effect_ratio=tuple(float(r) for r in band_effect_ratio),  # type: ignore[arg-type]
        spillover=float(spillover),
        registration_effect=float(registration_effect),
        unregistered_share=float(unregistered_share),
        n_past_elections=n_past_elections,
        target_year=target_year,
        id_type=id_type,
        pii=bool(pii),
        frames=check_frames(frames),
    )
    check_params(params)
    params = SimulationParams(**{**asdict(params), "n_voters": int(n_voters), "seed": int(seed)})
    return _simulate(params)


def _household_sizes(rng: np.random.Generator, n: int, mean: float) -> IntArray:
    lam = mean - 1.0
    chunk = int(n / mean * 1.02) + 64
    sizes = 1 + rng.poisson(lam, chunk)
    while int(sizes.sum()) < n:
        sizes = np.concatenate([sizes, 1 + rng.poisson(lam, chunk // 10 + 64)])
    cum = np.cumsum(sizes)
    n_households = int(np.searchsorted(cum, n, side="left")) + 1
    sizes = sizes[:n_households].astype(np.int64)
    sizes[-1] -= int(cum[n_households - 1]) - n
    return sizes


def _precincts(rng: np.random.Generator, sizes: IntArray, n: int, per_precinct: int) -> IntArray:
    """Precinct code (0-based, contiguous) of each household; households laid out in order."""
    starts = np.cumsum(sizes) - sizes
    n_targets = int(n / (0.75 * per_precinct)) + 2
    bounds = np.cumsum(per_precinct * rng.uniform(0.75, 1.25, n_targets))
    raw = np.searchsorted(bounds, starts, side="right")
    codes = np.concatenate([[0], np.cumsum(np.diff(raw) != 0)]).astype(np.int64)
    # merge a small trailing precinct, and any precinct with fewer than 2 households, into
    # its predecessor (or successor, for the first), so every block can hold both arms
    while True:
        n_prec = int(codes[-1]) + 1
        if n_prec == 1:
            return codes
        voters = np.bincount(codes, weights=sizes, minlength=n_prec)
        households = np.bincount(codes, minlength=n_prec)
        small = np.flatnonzero(households < 2)
        if voters[-1] < per_precinct / 2:
            small = np.union1d(small, [n_prec - 1])
        if small.size == 0:
            return codes
        target = int(small[0])
        into = target - 1 if target > 0 else 1
        codes = np.where(codes == target, into, codes)
        codes = np.concatenate([[0], np.cumsum(np.diff(codes) != 0)]).astype(np.int64)


def _simulate(p: SimulationParams) -> SimulatedExperiment:
    rng = np.random.default_rng(p.seed)
    rng_history, rng_log, rng_pii = rng.spawn(3)
    n = p.n_voters

    # ---- structure: households -> precincts -> cities
    sizes = _household_sizes(rng, n, p.mean_household_size)
    n_hh = int(sizes.shape[0])
    hh = np.repeat(np.arange(n_hh, dtype=np.int64), sizes)
    hh_first = np.cumsum(sizes) - sizes  # first voter of each household
    prec_of_hh = _precincts(rng, sizes, n, p.voters_per_precinct)
    n_prec = int(prec_of_hh[-1]) + 1
    n_city = min(p.n_cities, n_prec)
    city_of_prec = (np.arange(n_prec, dtype=np.int64) * n_city) // n_prec
    prec = prec_of_hh[hh]
    city = city_of_prec[prec]

    # ---- latent propensity, age, sex
    city_eff = rng.normal(0.0, 0.25, size=n_city)
    prec_eff = rng.normal(0.0, 0.35, size=n_prec)
    hh_eff = rng.normal(0.0, 0.8, size=n_hh)
    hh_age = 18.0 + 62.0 * rng.beta(2.0, 2.4, n_hh)
    age = np.clip(np.rint(hh_age[hh] + rng.normal(0.0, 10.0, n)), 18, 98).astype(np.int64)
    female = (rng.random(n) < 0.52).astype(np.int8)
    eta = (
        0.1
        + city_eff[city]
        + prec_eff[prec]
        + hh_eff[hh]
        + rng.standard_normal(n)
        + 0.035 * (np.minimum(age, 75) - 45)
    )
    eta_std = (eta - eta.mean()) / (eta.std() or 1.0)

    # ---- registration before the campaign
    target_day = np.datetime64(election_day(p.target_year), "D")
    campaign_start = target_day - np.timedelta64(CAMPAIGN_DAYS, "D")
    raw = np.exp(-0.5 * eta_std) * np.where(age < 30, 1.8, 1.0)
    p_unreg = np.clip(p.unregistered_share * raw / raw.mean(), 0.0, 0.95)
    registered = rng.random(n) >= p_unreg
    years = np.minimum(age - 18 + rng.random(n), rng.exponential(14.0, n))
    reg_day = campaign_start - np.rint(years * 365.25).astype("timedelta64[D]")
    reg_day = np.where(registered, reg_day, np.datetime64("NaT", "D"))
    del raw, p_unreg, years

    # ---- elections and vote history
    years_past = [p.target_year - 2 * k for k in range(p.n_past_elections, 0, -1)]
    all_years = [*years_past, p.target_year]
    days = [np.datetime64(election_day(y), "D") for y in all_years]
    salience = [0.9 if y % 4 == 0 else 0.0 for y in all_years]
    n_past = len(years_past)
    past_voted = np.empty((n_past, n), dtype=np.int8)
    for t in range(n_past):  # loop over elections (a handful), vectorised over voters
        eligible = registered & (reg_day <= days[t] - np.timedelta64(REG_DEADLINE_DAYS, "D"))
        prob = expit(eta + salience[t])
        past_voted[t] = eligible & (rng.random(n) < prob)
    n_votes = past_voted.sum(axis=0, dtype=np.int64)
    band = propensity_band_codes(n_votes, n_past)  # positions in BANDS, the analysis bands
    del n_votes, eligible, prob

    # ---- potential contact
    home_raw = np.exp(0.25 * eta_std + 0.5 * (age >= 65) - 0.25 * (age < 30))
    p_home = np.clip(home_raw * (p.contact_rate / p.attempt_rate) / home_raw.mean(), 0.005, 0.95)
    latent = math.sqrt(0.5) * rng.standard_normal(n_hh)[hh] + math.sqrt(0.5) * rng.standard_normal(
        n
    )
    home = ndtr(latent) < p_home
    del p_home, latent, home_raw, eta_std
    always = rng.random(n) < p.control_contact_rate
    attempted_hh = (rng.random(n_hh) < p.attempt_rate) | (np.logical_or.reduceat(always, hh_first))
    home |= always
    d1 = attempted_hh[hh] & home
    d0 = always
    reach1 = np.logical_or.reduceat(d1, hh_first)
    reach0 = np.logical_or.reduceat(d0, hh_first)
    exposure1 = np.where(d1, 2, np.where(reach1[hh], 1, 0)).astype(np.int8)
    exposure0 = np.where(d0, 2, np.where(reach0[hh], 1, 0)).astype(np.int8)
    dose = np.array([0.0, p.spillover, 1.0])
    w1 = dose[exposure1]
    w0 = dose[exposure0]

    # ---- effects and potential outcomes
    ratio = np.asarray(p.band_effect_ratio, dtype=np.float64)[band]
    compliers = d1 & ~d0
    norm = float(ratio[compliers].mean()) if compliers.any() else float(ratio.mean())
    tau = p.contact_effect * ratio / (norm if norm > 0 else 1.0)
    p0 = expit(eta + (0.9 if p.target_year % 4 == 0 else 0.0))
    u = rng.random(n)
    v = rng.random(n)
    reg0 = registered | (v < BASE_REGISTRATION + p.registration_effect * w0)
    reg1 = registered | (v < BASE_REGISTRATION + p.registration_effect * w1)
    y0 = reg0 & (u < np.clip(p0 + tau * w0, 0.0, 1.0))
    y1 = reg1 & (u < np.clip(p0 + tau * w1, 0.0, 1.0))
    del w0, w1, ratio, tau, p0, u, v, eta

    # ---- block-and-cluster assignment: complete randomisation of households per precinct
    hh_per_prec = np.bincount(prec_of_hh, minlength=n_prec)
    exact = hh_per_prec * p.p_treat
    n_treat = np.floor(exact).astype(np.int64)
    n_treat += rng.random(n_prec) < (exact - n_treat)
    shuffle_key: FloatArray = rng.random(n_hh)
    # == np.lexsort((shuffle_key, prec_of_hh)), as one float sort (keys within a block differ)
    order = np.argsort(prec_of_hh + shuffle_key, kind="stable")
    first = np.cumsum(hh_per_prec) - hh_per_prec
    rank = np.empty(n_hh, dtype=np.int64)
    rank[order] = np.arange(n_hh) - first[prec_of_hh[order]]
    z_hh = rank < n_treat[prec_of_hh]
    z = z_hh[hh]
    d = np.where(z, d1, d0)
    y = np.where(z, y1, y0)
    reg_after = np.where(z, reg1, reg0)
    attempted = np.where(z, attempted_hh[hh], reach0[hh])

    # ---- made-up sampling weights (main stream: the analysis table never depends on `frames`)
    weight_code = np.clip(
        rng.integers(0, 4, n) + (age >= 50) + (band == 0) - (female == 1), 0, len(WEIGHTS) - 1
    )
    weight = WEIGHTS[weight_code]
    del weight_code

    # ---- ids and the analysis table
    int_ids = p.id_type == "int"
    voter_id = ids("V", n, p.id_type)
    household_ids = ids("H", n_hh, p.id_type)
    precinct_ids = ids("P", n_prec, p.id_type)
    household_id = take(household_ids, hh)
    precinct_id = take(precinct_ids, prec)
    city_names = [CITY_NAMES[c] if c < len(CITY_NAMES) else f"City {c + 1}" for c in range(n_city)]
    city_cat = categorical(city.astype(np.int16), city_names)
    band_cat = categorical(band, list(BANDS), ordered=True)
    del city

    past_cols = {f"voted_{year}": past_voted[t] for t, year in enumerate(years_past)}
    table = pd.DataFrame(
        {
            VOTER_ID: voter_id,
            HOUSEHOLD_ID: household_id,
            PRECINCT_ID: precinct_id,
            "city": city_cat,
            "assigned": z.astype(np.int8),
            "attempted": attempted.astype(np.int8),
            "contacted": d.astype(np.int8),
            "voted": y.astype(np.int8),
            "registered": registered.astype(np.int8),
            "registered_after": reg_after.astype(np.int8),
            **past_cols,
            "age": age,
            "female": female,
            "propensity_band": band_cat,
            "weight": weight,
        },
        copy=False,
    )
    del attempted, reg_after, weight

    truth = sample_truth(
        y0=y0,
        y1=y1,
        d0=d0,
        d1=d1,
        reg0=reg0,
        reg1=reg1,
        registered=registered,
        exposure0=exposure0,
        exposure1=exposure1,
        band=band,
        z=z,
        d=d,
        n_households=n_hh,
        n_precincts=n_prec,
        n_cities=n_city,
    )

    # ---- optional frames, each from its own sub-stream so that skipping one changes nothing else
    wanted = set(p.frames)
    if "potential_outcomes" in wanted:
        potential = pd.DataFrame(
            {
                VOTER_ID: voter_id,
                "d0": d0.astype(np.int8),
                "d1": d1.astype(np.int8),
                "exposure0": exposure0,
                "exposure1": exposure1,
                "reg0": reg0.astype(np.int8),
                "reg1": reg1.astype(np.int8),
                "y0": y0.astype(np.int8),
                "y1": y1.astype(np.int8),
            },
            copy=False,
        )
    else:
        potential = empty(FRAME_COLUMNS["potential_outcomes"])
    del d0, d1, exposure0, exposure1, reg0, reg1, y0, y1

    if "voters" in wanted:
        voters_cols: dict[str, object] = {
            VOTER_ID: voter_id,
            HOUSEHOLD_ID: household_id,
            PRECINCT_ID: precinct_id,
            "city": city_cat,
            "registered": registered.astype(np.int8),
            REGISTRATION_DATE: reg_day.astype("datetime64[s]"),
            "age": age,
            "female": female,
            **past_cols,
            "propensity_band": band_cat,
        }
        if p.pii:
            voters_cols.update(fake_pii(rng_pii, n, hh, age, target_day))
        voters = pd.DataFrame(voters_cols, copy=False)
    else:
        voters = empty(
            [
                VOTER_ID,
                HOUSEHOLD_ID,
                PRECINCT_ID,
                "city",
                "registered",
                REGISTRATION_DATE,
                "age",
                "female",
                *past_cols,
                "propensity_band",
            ]
        )
    del reg_day, household_id, precinct_id

    election_ids = [f"{year}_general" for year in all_years]
    election_days = np.array(days, dtype="datetime64[s]")
    elections = pd.DataFrame(
        {
            "election_id": election_ids,
            "election_date": election_days,
            "election_type": ["general"] * len(all_years),
            "presidential": np.array([y % 4 == 0 for y in all_years], dtype=np.int8),
            "target": np.array([y == p.target_year for y in all_years], dtype=np.int8),
        },
        copy=False,
    )
    if "vote_history" in wanted:
        vote_history = vote_history_frame(
            rng_history,
            voter_id=voter_id,
            past_voted=past_voted,
            voted=y,
            old=age >= 65,
            years=all_years,
            election_ids=election_ids,
            election_days=election_days,
            int_ids=int_ids,
        )
    else:
        vote_history = empty(FRAME_COLUMNS["vote_history"])
    del past_voted

    if "assignment" in wanted:
        assignment = pd.DataFrame(
            {
                HOUSEHOLD_ID: household_ids,
                PRECINCT_ID: take(precinct_ids, prec_of_hh),
                "arm": z_hh.astype(np.int8),
                "probability": np.full(n_hh, p.p_treat),
            },
            copy=False,
        )
    else:
        assignment = empty(FRAME_COLUMNS["assignment"])

    if "contacts" in wanted:
        contacts = contact_log(
            rng_log,
            p,
            sizes=sizes,
            prec_of_hh=prec_of_hh,
            n_prec=n_prec,
            log_hh=(z_hh & attempted_hh) | (~z_hh & reach0),
            reached=np.where(z_hh, reach1, reach0),
            z_hh=z_hh,
            contacted=d,
            voter_id=voter_id,
            household_ids=household_ids,
            campaign_start=campaign_start,
        )
    else:
        contacts = empty(FRAME_COLUMNS["contacts"])

    return SimulatedExperiment(
        table=table,
        voters=voters,
        vote_history=vote_history,
        elections=elections,
        assignment=assignment,
        contacts=contacts,
        potential_outcomes=potential,
        truth=truth,
        params=p,
    )
