"""evaluate_targeting: the rankings, their RATE from fx.rate itself, the 50+1 score, the plan."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import fieldexp as fx
from fieldexp.errors import DataError, SpecificationError
from fieldexp.targeting.pipeline import BAND_CODE, default_covariates, evaluate_targeting

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def small() -> pd.DataFrame:
    return pd.read_csv(REPO / "fixtures" / "experiment_small.csv")


def _results(precincts: list[str], seed: int = 0) -> pd.DataFrame:
    """Canonical precinct results (two lists per precinct) for the given precinct ids."""
    rng = np.random.default_rng(seed)
    rows = []
    for pid in precincts:
        registered = int(rng.integers(600, 1500))
        voters = int(registered * rng.uniform(0.4, 0.8))
        expressed = voters - 10
        left = int(expressed * rng.uniform(0.2, 0.8))
        for nuance, votes in (("SOC", left), ("LR", expressed - left)):
            rows.append((pid, registered, voters, expressed, nuance, votes))
    return pd.DataFrame(
        rows, columns=["precinct_id", "registered", "voters", "expressed", "nuance", "votes"]
    )


@pytest.fixture(scope="module")
def run(small: pd.DataFrame):  # type: ignore[no-untyped-def]
    results = _results(sorted(small["precinct_id"].unique()))
    return evaluate_targeting(
        small,
        "voted",
        blocks="precinct_id",
        clusters="household_id",
        seed=11,
        reps=60,
        folds=3,
        results=results,
        supporters=["gauche"],
        doors=2500,
    )


def test_default_covariates_are_the_vote_history(small: pd.DataFrame) -> None:
    assert default_covariates(small, "voted") == [
        "voted_2016",
        "voted_2018",
        "voted_2020",
        BAND_CODE,
    ]
    # the outcome column is never a covariate, even when it is named like vote history
    assert "voted_2020" not in default_covariates(small, "voted_2020")


def test_every_ranking_is_evaluated_with_autoc_and_qini(run) -> None:  # type: ignore[no-untyped-def]
    assert [r.name for r in run.rates] == ["uplift", "past_propensity", "fiftyone", "random"]
    assert run.skipped == ()
    for r in run.rates:
        assert r.autoc.target == "AUTOC" and r.qini.target == "QINI"
        assert r.autoc.nobs == 2400 and r.autoc.reps == 60
    assert run.rates[0].versus_first is None
    assert all(r.versus_first is not None for r in run.rates[1:])
    frame = run.rate_frame()
    assert len(frame) == 4 * 2 + 3
    assert set(frame["ranking"]) >= {"uplift - random", "random"}


def test_rate_rows_are_fx_rate_results_not_rederived(small: pd.DataFrame, run) -> None:  # type: ignore[no-untyped-def]
    """The reported RATE of the uplift ranking is fx.rate on the uplift scores, to the bit."""
    direct = fx.rate(
        small,
        "voted",
        "assigned",
        run.uplift.scores.rename("uplift"),
        blocks="precinct_id",
        clusters="household_id",
        reps=60,
        seed=11,
    )
    assert run.rates[0].autoc.estimate == direct.estimate
    assert run.rates[0].autoc.std_error == direct.std_error
    past = -small[["voted_2016", "voted_2018", "voted_2020"]].mean(axis=1)
    d2 = fx.rate(
        small,
        "voted",
        "assigned",
        past.rename("past_propensity"),
        blocks="precinct_id",
        clusters="household_id",
        target="QINI",
        reps=60,
        seed=11,
    )
    assert run.rates[1].qini.estimate == d2.estimate


def test_fiftyone_uses_the_results_when_they_cover_the_experiment(run) -> None:  # type: ignore[no-untyped-def]
    assert not any("50+1 score" in n for n in run.notes)
    assert run.priorities is not None
    t = run.priorities.table
    assert list(t["rank"]) == list(range(1, len(t) + 1))
    assert (np.diff(t["net_votes_per_door"]) <= 0).all()


def test_fiftyone_falls_back_to_past_abstention_and_says_so(small: pd.DataFrame) -> None:
    res = evaluate_targeting(
        small,
        "voted",
        clusters="household_id",
        seed=2,
        reps=20,
        folds=2,
        rankings=["fiftyone", "random"],
        results=_results(["X1", "X2"]),
        supporters=["gauche"],
    )
    assert [r.name for r in res.rates] == ["fiftyone", "random"]
    assert any("past abstention" in n for n in res.notes)
    assert any("No budget" in n for n in res.notes)
    assert res.plan is None and res.priorities is not None


def test_plan_is_the_priorities_plan(run) -> None:  # type: ignore[no-untyped-def]
    again = run.priorities.plan(2500)
    assert run.plan.doors == 2500 == again.doors
    assert run.plan.net_votes == again.net_votes
    pd.testing.assert_frame_equal(run.plan.allocation, again.allocation)


def test_turnout_effect_is_the_cace_and_contact_rate_the_first_stage(
    small: pd.DataFrame, run
) -> None:  # type: ignore[no-untyped-def]
    cace = fx.cace(
        small, "voted", "contacted", "assigned", blocks="precinct_id", clusters="household_id"
    )
    assert run.turnout_effect.estimate == cace.estimate
    first = fx.itt(small, "contacted", "assigned", blocks="precinct_id", clusters="household_id")
    assert run.contact_rate.estimate == first.estimate
    assert run.priorities.table["turnout_effect"].iloc[0] == cace.estimate


def test_no_results_no_precincts_but_rankings_still_judged(small: pd.DataFrame) -> None:
    res = evaluate_targeting(
        small, "voted", clusters="household_id", seed=3, reps=20, folds=2, rankings=["random"]
    )
    assert res.priorities is None and res.plan is None
    assert any("No precinct results" in n for n in res.notes)
    assert [r.name for r in res.rates] == ["random"]


def test_random_ranking_does_not_depend_on_row_order(small: pd.DataFrame) -> None:
    kw = dict(clusters="household_id", seed=5, reps=20, folds=2, rankings=["random"])
    a = evaluate_targeting(small, "voted", **kw)
    b = evaluate_targeting(small.sample(frac=1.0, random_state=4), "voted", **kw)
    assert a.rates[0].autoc.estimate == pytest.approx(b.rates[0].autoc.estimate, rel=1e-12)
    assert a.rates[0].autoc.std_error == pytest.approx(b.rates[0].autoc.std_error, rel=1e-12)


def test_past_propensity_skipped_without_vote_history(small: pd.DataFrame) -> None:
    d = small.drop(columns=["voted_2016", "voted_2018", "voted_2020"])
    res = evaluate_targeting(
        d,
        "voted",
        clusters="household_id",
        covariates=["age"],
        seed=1,
        reps=20,
        folds=2,
        rankings=["past_propensity", "random"],
    )
    assert res.skipped == (
        ("past_propensity", "no voted_<election> columns in the analysis table"),
    )


def test_caller_table_is_not_modified(small: pd.DataFrame) -> None:
    before = small.copy()
    evaluate_targeting(small, "voted", seed=1, reps=10, folds=2, rankings=["random"])
    pd.testing.assert_frame_equal(small, before)


def test_errors(small: pd.DataFrame) -> None:
    with pytest.raises(DataError, match="'nope'"):
        evaluate_targeting(small, "nope", seed=1)
    with pytest.raises(DataError, match="must be numeric"):
        evaluate_targeting(small, "voted", covariates=["city"], seed=1)
    with pytest.raises(DataError, match="not a column"):
        evaluate_targeting(small, "voted", covariates=["missing"], seed=1)
    bare = small[["voter_id", "assigned", "voted"]]
    with pytest.raises(SpecificationError, match="no vote-history columns"):
        evaluate_targeting(bare, "voted", seed=1)
    bad_band = small.assign(propensity_band="sometimes")
    with pytest.raises(DataError, match="not bands"):
        evaluate_targeting(bad_band, "voted", seed=1)
