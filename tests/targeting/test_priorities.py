"""fx.precinct_priorities and plans: hand-computed values, intervals by simulation, errors."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest

import fieldexp as fx
from fieldexp.errors import DataError, FieldexpWarning, SpecificationError
from fieldexp.targeting import Effect, load_blocs, precinct_priorities


def _results() -> pd.DataFrame:
    rows = []
    # precinct, registered, voters, expressed, {nuance: votes}
    spec = {
        "75056_0001": (1000, 600, 580, {"SOC": 300, "LR": 200, "RN": 80}),
        "75056_0002": (800, 400, 390, {"SOC": 100, "LR": 250, "RN": 40}),
        "75056_0003": (1200, 500, 500, {"SOC": 260, "ECO": 40, "LR": 120, "RN": 80}),
    }
    for pid, (reg, vot, exp, votes) in spec.items():
        for k, (nuance, v) in enumerate(votes.items(), start=1):
            rows.append(
                {
                    "precinct_id": pid,
                    "election_id": "2022_leg_t1",
                    "registered": reg,
                    "voters": vot,
                    "expressed": exp,
                    "candidate": str(k),
                    "candidate_label": f"CAND {nuance}",
                    "nuance": nuance,
                    "votes": v,
                }
            )
    return pd.DataFrame(rows)


def test_hand_computed_values_and_order() -> None:
    p = precinct_priorities(
        _results(), supporters="gauche", turnout_effect=(0.08, 0.02), contact_rate=0.3
    )
    t = p.table.set_index("precinct_id")
    s1, s2, s3 = 300 / 580, 100 / 390, 300 / 500
    for pid, s in (("75056_0001", s1), ("75056_0002", s2), ("75056_0003", s3)):
        v = 0.3 * 0.08 * (2 * s - 1)
        assert t.loc[pid, "net_votes_per_door"] == pytest.approx(v, rel=1e-12)
        assert t.loc[pid, "std_error"] == pytest.approx(0.3 * abs(2 * s - 1) * 0.02, rel=1e-12)
    assert list(p.table["precinct_id"]) == ["75056_0003", "75056_0001", "75056_0002"]
    assert list(p.table["rank"]) == [1, 2, 3]
    assert t.loc["75056_0001", "doors"] == 1000  # registered by default


def test_row_order_does_not_matter() -> None:
    r = _results()
    a = precinct_priorities(r, supporters="gauche", turnout_effect=0.08, contact_rate=0.3)
    b = precinct_priorities(
        r.sample(frac=1, random_state=3), supporters="gauche", turnout_effect=0.08, contact_rate=0.3
    )
    pd.testing.assert_frame_equal(a.table, b.table)


def test_band_effects_mix_and_target_doors() -> None:
    voters = pd.DataFrame(
        {
            "precinct_id": ["75056_0001"] * 3 + ["75056_0002"] * 2 + ["75056_0003"] * 4,
            "propensity_band": ["intermittent", "regular", "intermittent", "regular", "regular"]
            + ["intermittent"] * 4,
        }
    )
    p = precinct_priorities(
        _results(),
        supporters="gauche",
        band_effects={"intermittent": (0.10, 0.03), "regular": (0.02, 0.01)},
        contact_rate=0.5,
        voters=voters,
    )
    t = p.table.set_index("precinct_id")
    tau1 = (2 / 3) * 0.10 + (1 / 3) * 0.02
    lean1 = 2 * 300 / 580 - 1
    assert t.loc["75056_0001", "net_votes_per_door"] == pytest.approx(0.5 * tau1 * lean1)
    var1 = 0.25 * lean1**2 * ((2 / 3) ** 2 * 0.03**2 + (1 / 3) ** 2 * 0.01**2)
    assert t.loc["75056_0001", "std_error"] == pytest.approx(math.sqrt(var1))
    assert t.loc["75056_0001", "doors"] == 3
    q = precinct_priorities(
        _results(),
        supporters="gauche",
        turnout_effect=0.1,
        contact_rate=0.5,
        voters=voters,
        target="intermittent",
    )
    assert q.table.set_index("precinct_id").loc["75056_0002", "doors"] == 0


def test_plan_is_greedy_concave_and_its_interval_matches_monte_carlo() -> None:
    p = precinct_priorities(
        _results(),
        supporters="gauche",
        turnout_effect=(0.08, 0.02),
        persuasion_effect=(0.01, 0.005),
        contact_rate=(0.3, 0.02),
    )
    plan = p.plan(doors=1500)
    assert plan.doors == 1500
    assert list(plan.allocation["precinct_id"]) == ["75056_0003", "75056_0001"]
    assert list(plan.allocation["doors"]) == [1200, 300]
    slopes = np.diff(plan.curve["net_votes"]) / np.diff(plan.curve["doors"])
    assert np.all(np.diff(slopes) <= 1e-15)  # diminishing returns
    # Monte Carlo of the plan total over the three independent estimates
    rng = np.random.default_rng(0)
    n = 200_000
    tt = rng.normal(0.08, 0.02, n)
    tp = rng.normal(0.01, 0.005, n)
    c = rng.normal(0.3, 0.02, n)
    t = p.table.set_index("precinct_id")
    total = np.zeros(n)
    for pid, d in zip(plan.allocation["precinct_id"], plan.allocation["doors"], strict=True):
        lean = 2 * t.loc[pid, "supporter_share"] - 1
        total += d * c * (tt * lean + tp)
    assert plan.net_votes == pytest.approx(total.mean(), rel=0.01)
    assert plan.std_error == pytest.approx(total.std(), rel=0.02)  # delta method, nearly linear
    assert p.plan(volunteer_hours=10, knocks_per_hour=25).doors == 250


def test_intervals_cover_in_a_simulated_experiment() -> None:
    """Known truth: a conversation raises turnout by 0.10; c = 0.4 of assigned are contacted."""
    results = _results()
    covered = 0
    runs = 120
    for seed in range(runs):
        rng = np.random.default_rng(seed)
        n = 3000
        z = np.zeros(n)
        z[rng.permutation(n)[: n // 2]] = 1
        d = (z == 1) & (rng.random(n) < 0.4)
        y = (rng.random(n) < 0.4 + 0.10 * d).astype(float)
        data = pd.DataFrame({"y": y, "z": z, "d": d.astype(float)})
        cace = fx.cace(data, "y", "d", "z")
        p = precinct_priorities(results, supporters="gauche", turnout_effect=cace, contact_rate=0.4)
        row = p.table.iloc[0]
        truth = 0.4 * 0.10 * (2 * row["supporter_share"] - 1)
        covered += row["ci_low"] <= truth <= row["ci_high"]
    assert covered >= 107  # 95% nominal: fewer than 107 of 120 has probability < 1%


def test_unmapped_labels_warn_and_overrides() -> None:
    r = _results()
    r.loc[0, "nuance"] = "XYZ"
    with pytest.warns(FieldexpWarning, match="'XYZ'"):
        precinct_priorities(r, supporters="gauche", turnout_effect=0.1, contact_rate=0.3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        p = precinct_priorities(
            r,
            supporters="gauche",
            turnout_effect=0.1,
            contact_rate=0.3,
            blocs={
                "XYZ": "gauche",
                "SOC": "gauche",
                "LR": "droite",
                "RN": "extreme_droite",
                "ECO": "gauche",
            },
        )
    assert p.table.set_index("precinct_id").loc["75056_0001", "supporter_share"] == pytest.approx(
        300 / 580
    )
    share = pd.Series({"75056_0001": 0.9, "75056_0002": 0.1, "75056_0003": 0.5})
    q = precinct_priorities(
        r, supporters="x", turnout_effect=0.1, contact_rate=0.3, supporter_share=share
    )
    assert q.table["precinct_id"].iloc[0] == "75056_0001"


def test_candidates_map_by_name_with_accents() -> None:
    r = _results()
    r["candidate_label"] = r["nuance"].map(
        {
            "SOC": "MÉLENCHON Jean-Luc",
            "LR": "PÉCRESSE Valérie",
            "RN": "LE PEN Marine",
            "ECO": "JADOT Yannick",
        }
    )
    p = precinct_priorities(
        r, supporters="gauche", by="candidate", turnout_effect=0.1, contact_rate=0.3
    )
    assert p.table.set_index("precinct_id").loc["75056_0003", "supporter_share"] == pytest.approx(
        0.6
    )
    blocs = load_blocs()
    assert {"gauche", "droite", "centre", "extreme_droite", "democratic", "republican"} <= set(
        blocs["bloc"]
    )


def test_errors() -> None:
    r = _results()
    with pytest.raises(SpecificationError, match="not blocs"):
        precinct_priorities(r, supporters="greens", turnout_effect=0.1, contact_rate=0.3)
    with pytest.raises(SpecificationError, match="turnout_effect"):
        precinct_priorities(r, supporters="gauche", contact_rate=0.3)
    with pytest.raises(DataError, match="lacks column"):
        precinct_priorities(
            r.drop(columns="expressed"), supporters="gauche", turnout_effect=0.1, contact_rate=0.3
        )
    two = pd.concat([r, r.assign(election_id="2024_leg_t1")])
    with pytest.raises(SpecificationError, match="election="):
        precinct_priorities(two, supporters="gauche", turnout_effect=0.1, contact_rate=0.3)
    with pytest.raises(SpecificationError, match="'turnout_effect'"):
        precinct_priorities(r, supporters="gauche", turnout_effect="big", contact_rate=0.3)
    with pytest.raises(SpecificationError, match="contact_rate"):
        precinct_priorities(r, supporters="gauche", turnout_effect=0.1, contact_rate=1.5)
    p = precinct_priorities(r, supporters="gauche", turnout_effect=Effect(0.1), contact_rate=0.3)
    with pytest.raises(SpecificationError, match="doors"):
        p.plan()
    with pytest.raises(SpecificationError, match="'doors'"):
        p.plan(doors=-5)
