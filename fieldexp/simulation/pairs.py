r"""Matched-pair designs drawn from a simulated experiment.

A pool of voters is simulated with :func:`~fieldexp.simulation.simulate`; units (single-voter
households, or whole households) are sorted on their pre-treatment profile (precinct,
household size, past votes, age) and consecutive units form pairs; one unit of each pair is
assigned at random with probability 1/2. Because a voter's potential outcomes depend only on
the assignment of their own household, the observed outcome of a unit is read off the pool's
potential outcomes: :math:`Y_i = Z_i Y_i(1) + (1 - Z_i) Y_i(0)`, and likewise for contact.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from fieldexp.errors import SpecificationError
from fieldexp.simulation.experiment import simulate

__all__ = ["matched_pairs"]


def matched_pairs(
    n_pairs: int = 40,
    *,
    seed: int,
    clustered: bool = False,
    id_type: Literal["str", "int"] = "str",
) -> pd.DataFrame:
    """A small matched-pair experiment, one assigned unit per pair.

    Parameters
    ----------
    n_pairs : int
        Number of pairs (at least 2).
    seed : int
        Seed of ``numpy.random.default_rng`` (for the pool and the pairing draw).
    clustered : bool
        ``False``: the units are voters who live alone (one row per unit). ``True``: the
        units are households, each pair holds two households, one row per voter, and
        ``household_id`` is the cluster.
    id_type : {"str", "int"}
        As in :func:`~fieldexp.simulation.simulate`.

    Returns
    -------
    pandas.DataFrame
        ``pair_id`` (1..n_pairs), ``voter_id, household_id, precinct_id, assigned,
        contacted, voted``, the past-vote covariates, ``age, propensity_band, weight``;
        sorted by ``pair_id``, then household and voter.
    """
    if isinstance(n_pairs, bool) or not isinstance(n_pairs, (int, np.integer)) or n_pairs < 2:
        raise SpecificationError(f"n_pairs: must be an integer of at least 2, got {n_pairs!r}")
    n_units = 2 * int(n_pairs)
    pool_size = max(2000, 12 * n_units)
    exp = simulate(
        pool_size, seed=seed, voters_per_precinct=max(200, pool_size // 4), id_type=id_type
    )
    table = exp.table
    po = exp.potential_outcomes
    rng = np.random.default_rng([seed, 1])

    hh_codes, hh_uniques = pd.factorize(table["household_id"])
    hh_size = np.bincount(hh_codes)
    past = [c for c in table.columns if c.startswith("voted_")]
    n_votes = table[past].to_numpy().sum(axis=1)
    prec_codes = pd.factorize(table["precinct_id"])[0]

    n_hh = hh_size.shape[0]
    first_row = np.full(n_hh, -1, dtype=np.int64)
    first_row[hh_codes[::-1]] = np.arange(len(table) - 1, -1, -1)
    candidates = np.arange(n_hh) if clustered else np.flatnonzero(hh_size == 1)
    if candidates.size < n_units:
        raise SpecificationError(
            f"n_pairs: {n_pairs} pairs need more units than the simulated pool holds"
        )
    chosen = np.sort(rng.choice(candidates, size=n_units, replace=False))
    mean_votes = np.bincount(hh_codes, weights=n_votes) / hh_size
    mean_age = np.bincount(hh_codes, weights=table["age"].to_numpy()) / hh_size
    key = np.lexsort(
        (mean_age[chosen], mean_votes[chosen], hh_size[chosen], prec_codes[first_row[chosen]])
    )
    ordered = chosen[key]
    pair_of_unit = np.repeat(np.arange(1, int(n_pairs) + 1), 2)
    flip = rng.random(int(n_pairs)) < 0.5
    assigned_unit = np.empty(n_units, dtype=np.int8)
    assigned_unit[0::2] = flip
    assigned_unit[1::2] = ~flip

    pair_of_hh = np.zeros(n_hh, dtype=np.int64)
    pair_of_hh[ordered] = pair_of_unit
    z_of_hh = np.zeros(n_hh, dtype=np.int8)
    z_of_hh[ordered] = assigned_unit
    rows = np.flatnonzero(pair_of_hh[hh_codes] > 0)
    z = z_of_hh[hh_codes[rows]]
    out = pd.DataFrame(
        {
            "pair_id": pair_of_hh[hh_codes[rows]],
            "voter_id": table["voter_id"].to_numpy()[rows],
            "household_id": table["household_id"].to_numpy()[rows],
            "precinct_id": table["precinct_id"].to_numpy()[rows],
            "assigned": z,
            "contacted": np.where(
                z == 1, po["d1"].to_numpy()[rows], po["d0"].to_numpy()[rows]
            ).astype(np.int8),
            "voted": np.where(z == 1, po["y1"].to_numpy()[rows], po["y0"].to_numpy()[rows]).astype(
                np.int8
            ),
        }
    )
    for col in [*past, "age", "propensity_band", "weight"]:
        out[col] = (
            table[col].to_numpy()[rows]
            if col != "propensity_band"
            else table[col].iloc[rows].to_numpy()
        )
    del hh_uniques
    return out.sort_values(["pair_id", "household_id", "voter_id"], kind="stable").reset_index(
        drop=True
    )
