"""Synthetic canonical tables for fixtures, round-trip tests and the I/O benchmark.

Everything is drawn with ``np.random.default_rng(seed)``; the same seed gives the same
tables on any machine. The people are invented: names and addresses are built from
short word lists so the PII-dropping code has something to drop.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["SyntheticFieldData", "synthetic_field_data", "synthetic_precinct_results"]

_FIRST = np.array(["Ann", "Bob", "Cy", "Dee", "Eli", "Fay", "Gus", "Hal", "Ivy", "Jo"])
_LAST = np.array(["Lee", "Ng", "Diaz", "Smith", "Khan", "Rossi", "Okafor", "Berg"])
_STREETS = np.array(["Main St", "Elm St", "Oak Ave", "Pine Rd", "Cedar Ln", "Maple Dr"])
ELECTIONS = (
    ("general", "2014-11-04"),
    ("primary", "2016-03-15"),
    ("general", "2016-11-08"),
    ("general", "2018-11-06"),
    ("primary", "2020-03-03"),
    ("general", "2020-11-03"),
)
VAN_RESULTS = ("Canvassed", "Not Home", "Refused", "Moved", "Inaccessible", "Language Barrier")
NB_STATUS = ("answered", "no_answer", "refused", "not_interested", "bad_info", "left_message")
CSV_RESULTS = ("canvassed", "not_home", "refused", "moved", "inaccessible", "language_barrier")


@dataclass(frozen=True)
class SyntheticFieldData:
    """Canonical tables of one invented canvassing experiment (US-style voter file)."""

    voters: pd.DataFrame
    vote_history: pd.DataFrame
    contacts: pd.DataFrame
    assignment: pd.DataFrame
    election: str


def synthetic_field_data(
    seed: int,
    *,
    n_households: int = 200,
    n_precincts: int = 4,
    contact_rate: float = 0.4,
    pii: bool = True,
) -> SyntheticFieldData:
    """Draw voters in households in precincts, a vote history, an assignment and contacts.

    Households are assigned (cluster assignment, p = 1/2 within precinct blocks); only
    treated households are visited; the target election is ``general_2020_11_03``.
    """
    rng = np.random.default_rng(seed)
    size = rng.choice([1, 1, 2, 2, 2, 3, 4], size=n_households)
    n = int(size.sum())
    hh = np.repeat(np.arange(n_households), size)
    hh_ids = np.array([f"H{i:06d}" for i in range(n_households)])
    precinct_of_hh = rng.integers(0, n_precincts, size=n_households)
    voter_ids = np.array([f"V{i:07d}" for i in range(n)])
    status = rng.choice(["active", "active", "active", "inactive"], size=n)
    reg = pd.Timestamp("2000-01-01") + pd.to_timedelta(rng.integers(0, 7000, size=n), unit="D")
    birth_year = rng.integers(1940, 2002, size=n)
    voters = pd.DataFrame(
        {
            "voter_id": voter_ids,
            "household_id": hh_ids[hh],
            "precinct_id": np.array([f"P{j:02d}" for j in range(n_precincts)])[precinct_of_hh[hh]],
            "registration_status": status,
            "registration_date": reg.astype("datetime64[us]"),
            "birth_year": pd.array(birth_year, dtype="Int64"),
            "gender": rng.choice(["F", "M", "U"], size=n),
            "party": rng.choice(["DEM", "REP", "UNA"], size=n),
        }
    )
    if pii:
        voters["first_name"] = rng.choice(_FIRST, size=n)
        voters["last_name"] = rng.choice(_LAST, size=n)
        voters["address"] = [f"{10 + h} {_STREETS[h % len(_STREETS)]}" for h in hh]
        voters["birth_date"] = (
            (
                pd.to_datetime(pd.Series(birth_year).astype(str) + "-06-15")
                + pd.to_timedelta(rng.integers(-150, 150, size=n), unit="D")
            )
            .astype("datetime64[us]")
            .to_numpy()
        )
    # latent propensity -> history
    propensity = rng.beta(1.2, 1.2, size=n)
    rows = []
    for kind, date in ELECTIONS:
        base = propensity * (1.0 if kind == "general" else 0.5)
        voted = (rng.random(n) < base).astype(np.int8)
        drawn = pd.Series(rng.choice(["in_person", "early", "mail"], size=n), dtype="str")
        method = drawn.where(voted == 1, None).to_numpy()
        rows.append(
            pd.DataFrame(
                {
                    "voter_id": voter_ids,
                    "election_id": f"{kind}_{date.replace('-', '_')}",
                    "election_date": pd.Timestamp(date),
                    "election_type": kind,
                    "voted": voted,
                    "method": method,
                }
            )
        )
    history = pd.concat(rows, ignore_index=True)
    history["election_date"] = history["election_date"].astype("datetime64[us]")
    history["voted"] = history["voted"].astype("Int8")
    # assignment: households, blocked by precinct, p = 1/2
    arm_hh = np.zeros(n_households, dtype=np.int64)
    for b in range(n_precincts):
        idx = np.flatnonzero(precinct_of_hh == b)
        treated = rng.permutation(idx)[: len(idx) // 2 + rng.integers(0, 2) * (len(idx) % 2)]
        arm_hh[treated] = 1
    assignment = pd.DataFrame(
        {
            "voter_id": voter_ids,
            "arm": arm_hh[hh],
            "probability": 0.5,
            "precinct_id": voters["precinct_id"].to_numpy(),
            "household_id": hh_ids[hh],
        }
    )
    assignment.attrs["fieldexp_unit"] = "voter_id"
    assignment.attrs["fieldexp_design"] = {
        "unit": "voter_id",
        "blocks": "precinct_id",
        "clusters": "household_id",
        "arms": {"0": 0.5, "1": 0.5},
        "control": "0",
    }
    assignment.attrs["fieldexp_seed"] = seed
    # contacts: treated households get 1-2 door attempts before election day
    treated_hh = np.flatnonzero(arm_hh == 1)
    attempts = rng.integers(1, 3, size=len(treated_hh))
    c_hh = np.repeat(treated_hh, attempts)
    k = len(c_hh)
    answered = rng.random(k) < contact_rate
    result = np.where(
        answered,
        rng.choice(["canvassed", "refused", "language_barrier"], size=k, p=[0.85, 0.1, 0.05]),
        rng.choice(["not_home", "moved", "inaccessible"], size=k, p=[0.9, 0.05, 0.05]),
    )
    stamp = pd.Timestamp("2020-10-01 09:00") + pd.to_timedelta(
        rng.integers(0, 30 * 24 * 60, size=k), unit="min"
    )
    contacts = pd.DataFrame(
        {
            "unit_id": hh_ids[c_hh],
            "unit_level": "household",
            "timestamp": stamp.astype("datetime64[us]"),
            "channel": "door",
            "result": result,
            "attempted": pd.array(np.ones(k, dtype=np.int8), dtype="Int8"),
            "contacted": pd.array(answered.astype(np.int8), dtype="Int8"),
            "canvasser": rng.choice(["c01", "c02", "c03"], size=k),
        }
    )
    # voter-level contacts: one voter of each contacted household is the person logged
    first_voter = pd.Series(voter_ids).groupby(hh).first().to_numpy()
    contacts["unit_id"] = first_voter[c_hh]
    contacts["unit_level"] = "voter"
    contacts = contacts.sort_values("timestamp", kind="stable").reset_index(drop=True)
    return SyntheticFieldData(
        voters=voters,
        vote_history=history,
        contacts=contacts,
        assignment=assignment,
        election="general_2020_11_03",
    )


def synthetic_precinct_results(
    seed: int,
    *,
    communes: tuple[tuple[str, str], ...] = (("75", "056"), ("69", "123"), ("2A", "004")),
    bureaux_per_commune: int = 3,
    candidates: int = 4,
    election_id: str = "synthetic",
) -> pd.DataFrame:
    """Polling-station results in the canonical long ``precinct_results`` layout."""
    rng = np.random.default_rng(seed)
    labels = ["ALPHA Anne", "BRAVO Bruno", "CHARLIE Chloé", "DELTA Damien", "ECHO Émile"]
    nuances = ["DVG", "DVD", "ECO", "RN", "DIV"]
    rows = []
    for dept, com in communes:
        for b in range(1, bureaux_per_commune + 1):
            registered = int(rng.integers(600, 1500))
            voters = int(rng.binomial(registered, 0.6))
            blank = int(rng.binomial(voters, 0.02))
            null = int(rng.binomial(voters, 0.01))
            expressed = voters - blank - null
            shares = rng.dirichlet(np.ones(candidates))
            votes = rng.multinomial(expressed, shares)
            for c in range(candidates):
                rows.append(
                    {
                        "precinct_id": f"{dept}{com}_{b:04d}",
                        "election_id": election_id,
                        "department_code": dept,
                        "commune_code": f"{dept}{com}",
                        "bureau_code": f"{b:04d}",
                        "registered": registered,
                        "voters": voters,
                        "abstentions": registered - voters,
                        "blank": blank,
                        "null": null,
                        "expressed": expressed,
                        "candidate": str(c + 1),
                        "candidate_label": labels[c],
                        "nuance": nuances[c],
                        "votes": int(votes[c]),
                    }
                )
    df = pd.DataFrame(rows)
    for col in ("registered", "voters", "abstentions", "blank", "null", "expressed", "votes"):
        df[col] = df[col].astype("Int64")
    return df
