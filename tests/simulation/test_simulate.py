"""Tests of the simulator: determinism, design, noncompliance, truth, fixtures."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from fieldexp.errors import SpecificationError
from fieldexp.simulation import (
    BANDS,
    SimulatedExperiment,
    SimulationParams,
    matched_pairs,
    simulate,
)
from fieldexp.simulation.__main__ import main as cli_main
from fieldexp.simulation.fixtures import preset_files

FRAMES = (
    "table",
    "voters",
    "vote_history",
    "elections",
    "assignment",
    "contacts",
    "potential_outcomes",
)


@pytest.fixture(scope="module")
def exp() -> SimulatedExperiment:
    return simulate(6000, seed=11, voters_per_precinct=400)


@pytest.fixture(scope="module")
def large() -> SimulatedExperiment:
    return simulate(200_000, seed=2024, id_type="int", frames=("potential_outcomes",))


def _constant_within(frame: pd.DataFrame, by: str, column: str) -> bool:
    g = frame.groupby(by)[column]
    return bool((g.min() == g.max()).all())


# ----------------------------------------------------------------- determinism
def test_same_seed_same_frames() -> None:
    a = simulate(3000, seed=5, pii=True)
    b = simulate(3000, seed=5, pii=True)
    for name in FRAMES:
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name))
    assert a.truth == b.truth
    assert a.params == b.params


def test_different_seed_different_frames() -> None:
    a = simulate(3000, seed=5)
    b = simulate(3000, seed=6)
    assert a.truth != b.truth
    assert not a.table["voted"].equals(b.table["voted"]) or len(a.table) != len(b.table)
    assert not a.table["household_id"].equals(b.table["household_id"])


def test_table_does_not_depend_on_optional_frames() -> None:
    full = simulate(4000, seed=3)
    bare = simulate(4000, seed=3, frames=())
    pd.testing.assert_frame_equal(full.table, bare.table)
    assert full.truth == bare.truth
    assert bare.contacts.empty and bare.vote_history.empty and bare.voters.empty
    assert list(bare.contacts.columns) == list(full.contacts.columns)
    assert list(bare.vote_history.columns) == list(full.vote_history.columns)
    only_history = simulate(4000, seed=3, frames=["vote_history"])
    pd.testing.assert_frame_equal(full.vote_history, only_history.vote_history)


def test_int_ids_give_the_same_experiment() -> None:
    s = simulate(3000, seed=8)
    i = simulate(3000, seed=8, id_type="int")
    assert i.table["voter_id"].tolist() == list(range(1, 3001))
    assert s.table["voter_id"].iloc[0] == "V0000001"
    assert s.table["household_id"].iloc[0] == "H0000001"
    assert s.table["precinct_id"].iloc[0] == "P0001"
    cols = [c for c in s.table.columns if not c.endswith("_id")]
    pd.testing.assert_frame_equal(s.table[cols], i.table[cols])
    pd.testing.assert_frame_equal(
        s.contacts.drop(columns=["voter_id", "household_id", "canvasser_id"]),
        i.contacts.drop(columns=["voter_id", "household_id", "canvasser_id"]),
    )


def test_params_record_every_argument() -> None:
    e = simulate(500, seed=9, p_treat=0.4, spillover=0.0)
    assert isinstance(e.params, SimulationParams)
    assert e.params.seed == 9 and e.params.n_voters == 500
    assert e.params.p_treat == 0.4 and e.params.spillover == 0.0
    assert e.params.as_dict()["seed"] == 9
    with pytest.raises(AttributeError):
        e.params.seed = 3  # type: ignore[misc]
    assert "seed=9" in repr(e)
    assert "CACE" in str(e)


def test_lazy_public_names_are_plain_functions() -> None:
    import inspect

    import fieldexp.diffindiff
    import fieldexp.simulation  # importing the packages must not shadow the functions

    assert fieldexp.SimulatedExperiment is SimulatedExperiment
    assert inspect.isfunction(fieldexp.simulate) and inspect.isfunction(fieldexp.did)
    assert inspect.isfunction(fieldexp.diagnose)
    e = fieldexp.simulate(200, seed=1)
    assert isinstance(e, SimulatedExperiment)


# ----------------------------------------------------------------- structure and design
def test_table_columns_and_types(exp: SimulatedExperiment) -> None:
    t = exp.table
    for col in [
        "voter_id",
        "household_id",
        "precinct_id",
        "assigned",
        "contacted",
        "voted",
        "registered_after",
        "voted_2016",
        "voted_2018",
        "voted_2020",
        "age",
        "propensity_band",
        "weight",
    ]:
        assert col in t.columns, col
    assert len(t) == 6000
    assert t["voter_id"].is_unique
    for col in [
        "assigned",
        "attempted",
        "contacted",
        "voted",
        "registered",
        "registered_after",
        "female",
    ]:
        assert pd.api.types.is_integer_dtype(t[col]), col
        assert set(np.unique(t[col])) <= {0, 1}, col
    assert t["age"].between(18, 98).all()
    assert t["weight"].between(0.5, 3).all()
    assert set(t["propensity_band"].astype(str)) == set(BANDS)


def test_households_nested_in_precincts(exp: SimulatedExperiment) -> None:
    t = exp.table
    assert _constant_within(t, "household_id", "precinct_id")
    assert _constant_within(t, "household_id", "assigned")
    sizes = t.groupby("household_id").size()
    assert 1.5 < sizes.mean() < 1.9
    per_precinct = t.groupby("precinct_id").size()
    assert 10 <= len(per_precinct) <= 20
    assert exp.truth.n_precincts == len(per_precinct)
    assert exp.truth.n_households == len(sizes)


def test_assignment_frame_matches_table(exp: SimulatedExperiment) -> None:
    a = exp.assignment
    assert a["household_id"].is_unique
    assert len(a) == exp.table["household_id"].nunique()
    assert (a["probability"] == 0.5).all()
    merged = exp.table.merge(a, on="household_id", suffixes=("", "_a"))
    assert len(merged) == len(exp.table)
    assert (merged["assigned"] == merged["arm"]).all()
    assert (merged["precinct_id"] == merged["precinct_id_a"]).all()


@pytest.mark.parametrize("p_treat", [0.5, 0.3, 2 / 3])
def test_exact_counts_per_block(p_treat: float) -> None:
    e = simulate(5000, seed=21, voters_per_precinct=150, p_treat=p_treat)
    a = e.assignment
    g = a.groupby("precinct_id")["arm"].agg(["size", "sum"])
    exact = g["size"] * p_treat
    assert ((g["sum"] == np.floor(exact)) | (g["sum"] == np.ceil(exact))).all()
    assert ((g["sum"] > 0) & (g["sum"] < g["size"])).all()


def test_remainder_is_randomised_to_the_stated_probability() -> None:
    # a block of an odd number of households: the ceiling is drawn half of the time,
    # so the share of assigned households averages p exactly
    shares = []
    for seed in range(100):
        a = simulate(40, seed=seed, voters_per_precinct=100, frames=["assignment"]).assignment
        shares.append(a["arm"].mean())
    assert abs(np.mean(shares) - 0.5) < 0.01


# ----------------------------------------------------------------- noncompliance
def test_one_sided_noncompliance_by_default(exp: SimulatedExperiment) -> None:
    t = exp.table
    assert (t.loc[t["assigned"] == 0, "contacted"] == 0).all()
    assert (t.loc[t["assigned"] == 0, "attempted"] == 0).all()
    assert (t.loc[t["contacted"] == 1, "attempted"] == 1).all()
    assert 0.25 <= exp.truth.contact_rate <= 0.35
    assert exp.truth.control_contact_rate == 0.0
    assert (exp.potential_outcomes["d0"] == 0).all()


def test_two_sided_noncompliance_option() -> None:
    e = simulate(20_000, seed=4, control_contact_rate=0.03)
    t = e.table
    share = t.loc[t["assigned"] == 0, "contacted"].mean()
    assert 0.015 < share < 0.045
    po = e.potential_outcomes
    assert (po["d1"] >= po["d0"]).all()
    assert math.isclose(e.truth.control_contact_rate, share)


# ----------------------------------------------------------------- truth
def _recompute(po: pd.DataFrame, registered: pd.Series) -> dict[str, float]:
    dy = po["y1"].astype(int) - po["y0"].astype(int)
    dd = po["d1"].astype(int) - po["d0"].astype(int)
    compliers = (po["d1"] == 1) & (po["d0"] == 0)
    unreg = registered == 0
    return {
        "itt": dy.mean(),
        "itt_d": dd.mean(),
        "cace": dy.mean() / dd.mean(),
        "complier_effect": dy[compliers].mean(),
        "control_mean": po["y0"].mean(),
        "itt_registration": (po["reg1"].astype(int) - po["reg0"].astype(int))[unreg].mean(),
    }


def _same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=1e-12)


def test_truth_equals_potential_outcomes(exp: SimulatedExperiment) -> None:
    po = exp.potential_outcomes
    t = exp.table
    assert (po["voter_id"] == t["voter_id"]).all()
    z = t["assigned"] == 1
    assert (t["voted"] == np.where(z, po["y1"], po["y0"])).all()
    assert (t["contacted"] == np.where(z, po["d1"], po["d0"])).all()
    assert (t["registered_after"] == np.where(z, po["reg1"], po["reg0"])).all()
    want = _recompute(po, t["registered"])
    for name, value in want.items():
        assert _same(getattr(exp.truth, name), value), name
    for band in BANDS:
        m = (t["propensity_band"] == band).to_numpy()
        got = exp.truth.band(band)
        assert got.n == m.sum()
        want_b = _recompute(po[m], t["registered"][m])
        for name, value in want_b.items():
            assert _same(getattr(got, name), value), (band, name)
    assert math.isclose(exp.truth.contact_rate, t.loc[z, "contacted"].mean())
    frame = exp.truth.to_frame()
    assert list(frame["group"]) == ["all", *BANDS]


def test_spillover_exposure_is_consistent(exp: SimulatedExperiment) -> None:
    po = exp.potential_outcomes.assign(household_id=exp.table["household_id"])
    hh_contacted = po.groupby("household_id")["d1"].transform("max")
    expected = np.where(po["d1"] == 1, 2, np.where(hh_contacted == 1, 1, 0))
    assert (po["exposure1"] == expected).all()
    assert (po["y1"] >= po["y0"]).all()  # positive effects: monotone by construction


def test_effect_sizes_are_as_documented(large: SimulatedExperiment) -> None:
    tr = large.truth
    assert abs(tr.complier_effect - 0.08) < 0.01
    assert tr.cace > tr.complier_effect  # the Wald estimand absorbs the household spillover
    assert 0 < tr.spillover_effect < tr.complier_effect
    inter = tr.band("intermittent").complier_effect
    assert inter > tr.band("regular").complier_effect
    assert inter > tr.band("never").complier_effect
    assert tr.itt_registration > 0


def test_no_effect_gives_zero_truth() -> None:
    e = simulate(5000, seed=1, contact_effect=0.0, registration_effect=0.0)
    assert e.truth.itt == 0.0 and e.truth.cace == 0.0
    assert (e.potential_outcomes["y1"] == e.potential_outcomes["y0"]).all()


def _cluster_se_dim(y: np.ndarray, z: np.ndarray, cluster: np.ndarray) -> tuple[float, float]:
    est = y[z == 1].mean() - y[z == 0].mean()
    var = 0.0
    for arm in (0, 1):
        m = z == arm
        resid = y[m] - y[m].mean()
        sums = np.bincount(cluster[m], weights=resid)
        var += (sums**2).sum() / m.sum() ** 2
    return est, math.sqrt(var)


def test_difference_in_means_recovers_the_true_itt(large: SimulatedExperiment) -> None:
    t = large.table
    z = t["assigned"].to_numpy()
    cl = pd.factorize(t["household_id"])[0]
    est, se = _cluster_se_dim(t["voted"].to_numpy(), z, cl)
    assert abs(est - large.truth.itt) < 4 * se
    est_d, se_d = _cluster_se_dim(t["contacted"].to_numpy(), z, cl)
    assert abs(est_d - large.truth.itt_d) < 4 * se_d
    wald = est / est_d
    assert abs(wald - large.truth.cace) < 4 * se / est_d


# ----------------------------------------------------------------- canonical tables
def test_vote_history_matches_table(exp: SimulatedExperiment) -> None:
    vh = exp.vote_history
    t = exp.table
    assert len(vh) == 4 * len(t)
    assert list(exp.elections["election_id"]) == [
        "2016_general",
        "2018_general",
        "2020_general",
        "2022_general",
    ]
    assert list(exp.elections["presidential"]) == [1, 0, 1, 0]
    wide = vh.pivot_table(
        index="voter_id", columns="election_id", values="voted", aggfunc="first", observed=True
    ).loc[t["voter_id"]]
    for year in (2016, 2018, 2020):
        assert (wide[f"{year}_general"].to_numpy() == t[f"voted_{year}"].to_numpy()).all()
    assert (wide["2022_general"].to_numpy() == t["voted"].to_numpy()).all()
    assert (vh["method"].isna() == (vh["voted"] == 0)).all()
    assert set(vh["method"].dropna().astype(str)) <= {"in_person", "early", "absentee"}
    n_votes = t[["voted_2016", "voted_2018", "voted_2020"]].sum(axis=1)
    # the analysis bands: never (0 of 3), intermittent (1 of 3), regular (2 or 3 of 3)
    band = np.where(n_votes == 0, "never", np.where(n_votes == 1, "intermittent", "regular"))
    assert (t["propensity_band"].astype(str).to_numpy() == band).all()


def test_voters_frame(exp: SimulatedExperiment) -> None:
    v = exp.voters
    assert (v["voter_id"] == exp.table["voter_id"]).all()
    assert v["registration_date"].isna().equals(v["registered"] == 0)
    assert not {"name", "address", "birth_date"} & set(v.columns)
    election_day = pd.Timestamp("2022-11-08")
    assert (v["registration_date"].dropna() < election_day).all()
    # nobody votes without registering by the deadline, 25 days before election day
    late = v["registration_date"] > pd.Timestamp("2020-10-09")
    assert (exp.table.loc[late, "voted_2020"] == 0).all()


def test_pii_only_on_request() -> None:
    e = simulate(300, seed=2, pii=True)
    assert {"name", "address", "birth_date"} <= set(e.voters.columns)
    assert not {"name", "address", "birth_date"} & set(e.table.columns)
    assert e.voters["name"].notna().all()


def test_contact_log(exp: SimulatedExperiment) -> None:
    c = exp.contacts
    t = exp.table.set_index("voter_id")
    assert c["contact_id"].is_unique
    assert set(c["channel"].astype(str)) == {"door"}
    assert set(c["result"].astype(str)) <= {
        "Canvassed",
        "Refused",
        "Not Home",
        "Moved",
        "Inaccessible",
    }
    assert (c["contacted"] == c["result"].isin(["Canvassed", "Refused"]).astype(int)).all()
    assert (c["attempted"] == 1).all()
    assert c["attempt"].between(1, 3).all()
    # the log explains the table's contact and attempt flags
    contacted = c.groupby("voter_id")["contacted"].max()
    flags = t["contacted"].reindex(contacted.index)
    assert (contacted == flags).all()
    assert t.loc[t["contacted"] == 1].index.isin(contacted.index).all()
    assert (t.loc[contacted.index, "attempted"] == 1).all()
    assert (t.loc[contacted.index, "assigned"] == 1).all()
    attempts = c.groupby("household_id")["attempt"].max()
    assert attempts.between(1, 3).all()
    window_start = pd.Timestamp("2022-10-04")
    assert c["timestamp"].between(window_start, pd.Timestamp("2022-11-08")).all()
    # every voter of a logged household appears at every attempt
    per_attempt = c.groupby(["household_id", "attempt"]).size()
    sizes = exp.table.groupby("household_id").size()
    assert (
        per_attempt.to_numpy() == sizes.loc[per_attempt.index.get_level_values(0)].to_numpy()
    ).all()


# ----------------------------------------------------------------- matched pairs
def test_matched_pairs_unit_level() -> None:
    p = matched_pairs(40, seed=1)
    assert len(p) == 80
    assert p["household_id"].is_unique
    g = p.groupby("pair_id")["assigned"].agg(["size", "sum"])
    assert (g["size"] == 2).all() and (g["sum"] == 1).all()
    assert (p.loc[p["assigned"] == 0, "contacted"] == 0).all()


def test_matched_pairs_clustered() -> None:
    p = matched_pairs(40, seed=1, clustered=True)
    assert (p.groupby("pair_id")["household_id"].nunique() == 2).all()
    assert _constant_within(p, "household_id", "assigned")
    hh = p.drop_duplicates("household_id")
    assert (hh.groupby("pair_id")["assigned"].sum() == 1).all()
    assert p["pair_id"].nunique() == 40


# ----------------------------------------------------------------- bad input
def test_seed_is_required() -> None:
    with pytest.raises(TypeError):
        simulate(100)  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"p_treat": 1.0}, "p_treat: must be strictly between 0 and 1, got 1.0"),
        ({"seed": -1}, "seed: must be a non-negative integer"),
        ({"seed": 1.5}, "seed: must be a non-negative integer"),
        ({"n_voters": 1}, "n_voters: must be at least 2"),
        ({"voters_per_precinct": 3}, "voters_per_precinct: must be at least 10"),
        ({"contact_rate": 0.99}, "contact_rate: must be in"),
        ({"control_contact_rate": 0.5}, "control_contact_rate"),
        ({"id_type": "uuid"}, "id_type: must be 'str' or 'int'"),
        ({"frames": ["contact"]}, "frames: .*Did you mean 'contacts'"),
        ({"band_effect_ratio": (1.0, 2.0)}, "band_effect_ratio"),
    ],
)
def test_bad_arguments(kwargs: dict[str, object], match: str) -> None:
    args: dict[str, object] = {"n_voters": 100, "seed": 1, **kwargs}
    with pytest.raises(SpecificationError, match=match):
        simulate(**args)  # type: ignore[arg-type]


# ----------------------------------------------------------------- CLI and fixtures
def test_cli_writes_one_experiment(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main(["--voters", "400", "--seed", "3", "--out", str(tmp_path)]) == 0
    for name in ("table", "voters", "vote_history", "elections", "assignment", "contacts"):
        assert (tmp_path / f"{name}.csv").exists()
    table = pd.read_csv(tmp_path / "table.csv")
    assert len(table) == 400


def test_cli_help_and_errors(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        cli_main(["--help"])
    assert info.value.code == 0
    assert "--preset fixtures --out fixtures" in capsys.readouterr().out
    assert cli_main(["--voters", "100", "--seed", "1", "--p-treat", "2", "--out", "/tmp/x"]) == 2
    assert "p_treat" in capsys.readouterr().err


@pytest.mark.slow
def test_module_entry_point(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "fieldexp.simulation", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "examples:" in out.stdout


@pytest.mark.slow
def test_fixtures_are_a_fresh_regeneration(fixtures_dir: Path) -> None:
    for item in preset_files("fixtures"):
        path = fixtures_dir / item.path
        assert path.exists(), (
            f"{item.path} missing: run python -m fieldexp.simulation --preset fixtures --out fixtures"
        )
        assert path.read_bytes() == item.make().encode("utf-8"), (
            f"{item.path} differs from a fresh regeneration "
            "(python -m fieldexp.simulation --preset fixtures --out fixtures)"
        )


def test_small_fixture_is_as_documented(fixtures_dir: Path) -> None:
    t = pd.read_csv(fixtures_dir / "experiment_small.csv")
    assert 2000 <= len(t) <= 3000
    assert 10 <= t["precinct_id"].nunique() <= 20
    assert _constant_within(t, "household_id", "assigned")
    assert t["weight"].between(0.5, 3).all()
    assert (t.loc[t["assigned"] == 0, "contacted"] == 0).all()
    total = sum(
        p.stat().st_size for p in fixtures_dir.rglob("*") if p.is_file() and "io" not in p.parts
    )
    assert total < 5_000_000
