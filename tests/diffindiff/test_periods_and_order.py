"""Issue 9 DiD items: period labels (3), inf outcomes (6), bounded reps (7), row order (8)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fieldexp as fx
from fieldexp.diffindiff import event_study, staggered_did
from fieldexp.errors import DataError, SpecificationError

LABELS = {1: "2011Q1", 2: "2011Q2", 3: "2012 general", 4: "2013Q1", 5: "2014 general"}


def _panel(seed: int = 3, n: int = 200) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    cohort = rng.choice([0, 3, 4], size=n, p=[0.4, 0.3, 0.3])
    rows = []
    for i in range(n):
        a = rng.normal()
        for t in (1, 2, 3, 4, 5):
            eff = 0.3 * (t - cohort[i] + 1) if cohort[i] and t >= cohort[i] else 0.0
            rows.append((f"v{i:04d}", t, cohort[i], a + 0.1 * t + eff + rng.normal(), i % 17))
    df = pd.DataFrame(rows, columns=["id", "t", "g", "y", "precinct"])
    df["treat"] = ((df["g"] > 0) & (df["t"] >= df["g"])).astype(int)
    return df


def _labelled(df: pd.DataFrame) -> pd.DataFrame:
    return df.assign(t=df["t"].map(LABELS), g=df["g"].map(lambda g: LABELS.get(g, 0)))


# --------------------------------------------------------------------------- item 3: labels
def test_twfe_takes_text_labels_and_dates_as_text() -> None:
    df = _panel()
    ref = fx.did(df, "y", "id", "t", "treat", clusters="id")
    for periods in (
        df["t"].map(LABELS),
        df["t"].map(lambda t: f"20{10 + t}-11-0{t}"),  # dates as text
        pd.to_datetime(df["t"].map(lambda t: f"20{10 + t}-11-0{t}")),
    ):
        res = fx.did(df.assign(t=periods), "y", "id", "t", "treat", clusters="id")
        assert res.estimate == pytest.approx(ref.estimate, rel=1e-10)
        assert res.std_error == pytest.approx(ref.std_error, rel=1e-10)
        assert res.df == ref.df and res.nobs == ref.nobs


def test_twfe_with_time_order_still_checks_absorbing_treatment() -> None:
    df = _labelled(_panel())
    bad = df.copy()
    row = bad.index[(bad["treat"] == 1)][0]
    later = bad.index[(bad["id"] == bad.loc[row, "id"]) & (bad["t"] == "2014 general")][0]
    bad.loc[later, "treat"] = 0
    with pytest.raises(DataError, match="switches off"):
        fx.did(bad, "y", "id", "t", "treat", time_order=list(LABELS.values()))


@pytest.mark.parametrize("estimator", ["twfe", "sun_abraham"])
def test_event_study_with_time_order_equals_numeric_periods(estimator: str) -> None:
    df = _panel()
    ref = event_study(df, "y", "id", "t", "g", estimator=estimator, clusters="id")
    lab = _labelled(df)
    res = event_study(
        lab,
        "y",
        "id",
        "t",
        "g",
        estimator=estimator,
        clusters="id",
        time_order=list(LABELS.values()),
    )
    pd.testing.assert_frame_equal(res.coefficients, ref.coefficients, rtol=1e-10)
    assert any("ranked by time_order" in n for n in res.notes)
    cat = lab.assign(t=pd.Categorical(lab["t"], categories=list(LABELS.values()), ordered=True))
    res_cat = event_study(cat, "y", "id", "t", "g", estimator=estimator, clusters="id")
    pd.testing.assert_frame_equal(res_cat.coefficients, ref.coefficients, rtol=1e-10)


def test_staggered_did_with_labels_dates_and_categoricals() -> None:
    df = _panel()
    ref = staggered_did(df, "y", "id", "t", "g")
    lab = _labelled(df)
    a = staggered_did(lab, "y", "id", "t", "g", time_order=list(LABELS.values()))
    pd.testing.assert_frame_equal(a.att_gt, ref.att_gt)
    dates = {k: pd.Timestamp(f"20{10 + k}-11-0{k}") for k in LABELS}
    dd = df.assign(t=df["t"].map(dates), g=df["g"].map(lambda g: dates.get(g, pd.NaT)))
    b = staggered_did(dd, "y", "id", "t", "g")
    pd.testing.assert_frame_equal(b.att_gt, ref.att_gt)
    assert any("ranked by date" in n and "2013-11-03" in n for n in b.notes)


def test_text_periods_without_an_order_say_what_to_pass() -> None:
    lab = _labelled(_panel())
    for call in (
        lambda: staggered_did(lab, "y", "id", "t", "g"),
        lambda: event_study(lab, "y", "id", "t", "g"),
    ):
        with pytest.raises(DataError, match="time_order=") as info:
            call()
        msg = str(info.value)
        assert "'2011Q1'" in msg and "ordered categorical" in msg and "dates" in msg
    unordered = lab.assign(t=pd.Categorical(lab["t"]))
    with pytest.raises(DataError, match="unordered categorical"):
        staggered_did(unordered, "y", "id", "t", "g")


def test_time_order_must_cover_the_labels_and_the_cohorts() -> None:
    lab = _labelled(_panel())
    order = list(LABELS.values())
    with pytest.raises(DataError, match="not listed in time_order: '2014 general'"):
        staggered_did(lab, "y", "id", "t", "g", time_order=order[:-1])
    bad = lab.copy()
    bad.loc[bad["g"] == "2012 general", "g"] = "2012 primary"
    with pytest.raises(DataError, match=r"cohort column 'g'.*'2012 primary'"):
        staggered_did(bad, "y", "id", "t", "g", time_order=order)
    with pytest.raises(SpecificationError, match="lists '2011Q1' twice"):
        staggered_did(lab, "y", "id", "t", "g", time_order=[*order, "2011Q1"])
    with pytest.raises(SpecificationError, match="must be a list of the period labels"):
        staggered_did(lab, "y", "id", "t", "g", time_order="2011Q1")


# --------------------------------------------------------------------------- item 6: inf
@pytest.mark.parametrize("value", [np.inf, -np.inf])
def test_infinite_outcomes_are_refused_naming_column_and_rows(value: float) -> None:
    df = _panel()
    df.loc[[7, 42], "y"] = value
    with pytest.raises(DataError, match=r"outcome column 'y' must be finite.*rows 7, 42"):
        staggered_did(df, "y", "id", "t", "g")
    with pytest.raises(DataError, match=r"'y'.*infinite values in rows 7, 42"):
        event_study(df, "y", "id", "t", "g")
    with pytest.raises(DataError, match=r"'y'.*infinite values in rows 7, 42"):
        fx.did(df, "y", "id", "t", "treat")


def test_infinite_weights_and_covariates_are_refused() -> None:
    df = _panel()
    df["w"] = 1.0
    df.loc[df["id"] == "v0003", "w"] = np.inf
    with pytest.raises(DataError, match="weights column 'w' must be finite"):
        staggered_did(df, "y", "id", "t", "g", weights="w")
    df["x"] = 0.0
    df.loc[5, "x"] = np.inf
    with pytest.raises(DataError, match=r"covariate column 'x' must be finite.*row 5"):
        staggered_did(df, "y", "id", "t", "g", covariates=["x"])


def test_missing_outcomes_are_dropped_and_counted_never_computed() -> None:
    df = _panel()
    df.loc[[7], "y"] = np.nan
    with pytest.warns(Warning, match="1 rows dropped"):
        res = staggered_did(df, "y", "id", "t", "g")
    assert res.sample.n_rows_missing == 1 and np.isfinite(res.att_gt["estimate"]).all()


# --------------------------------------------------------------------------- item 7: reps
def test_aggregate_reps_is_bounded_before_allocating() -> None:
    res = staggered_did(_panel(), "y", "id", "t", "g")
    with pytest.raises(SpecificationError, match=r"1,000,000,000 multiplier-bootstrap draws.*GiB"):
        res.aggregate("dynamic", reps=10**9, seed=1)
    with pytest.raises(SpecificationError, match="integer >= 2"):
        res.aggregate("dynamic", reps=1, seed=1)
    with pytest.raises(SpecificationError, match="integer >= 2"):
        res.aggregate("dynamic", reps=2.5, seed=1)  # type: ignore[arg-type]
    assert res.aggregate("dynamic", reps=np.int64(50), seed=1).reps == 50


# --------------------------------------------------------------------------- item 8: row order
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**31 - 1),
    clustered=st.booleans(),
    kind=st.sampled_from(["dynamic", "group", "calendar"]),
)
def test_cs_band_does_not_depend_on_row_order(seed: int, clustered: bool, kind: str) -> None:
    df = _panel(n=120)
    shuffled = df.sample(frac=1.0, random_state=seed % 2**32)
    kw = {"clusters": "precinct"} if clustered else {}
    a = staggered_did(df, "y", "id", "t", "g", **kw)
    b = staggered_did(shuffled, "y", "id", "t", "g", **kw)
    pd.testing.assert_frame_equal(a.att_gt, b.att_gt, rtol=1e-12)
    for weights in ("rademacher", "mammen"):
        aa = a.aggregate(kind, reps=199, seed=11, bootstrap_weights=weights)
        bb = b.aggregate(kind, reps=199, seed=11, bootstrap_weights=weights)
        assert aa.crit_val == bb.crit_val  # exactly: draws are keyed to unit ids
        pd.testing.assert_frame_equal(aa.components, bb.components, rtol=1e-12)


def test_cohort_from_treatment_with_labels_feeds_the_ordered_estimators() -> None:
    from fieldexp.diffindiff import cohort_from_treatment

    df = _panel()
    ref = staggered_did(df, "y", "id", "t", "g")
    lab = _labelled(df).drop(columns="g")
    order = list(LABELS.values())
    out = cohort_from_treatment(lab, "id", "t", "treat", time_order=order)
    assert set(out["cohort"]) == {0, "2012 general", "2013Q1"}
    res = staggered_did(out, "y", "id", "t", "cohort", time_order=order)
    pd.testing.assert_frame_equal(res.att_gt, ref.att_gt)
    with pytest.raises(DataError, match="time_order="):
        cohort_from_treatment(lab, "id", "t", "treat")


def test_twfe_takes_unordered_categoricals_and_tz_dates() -> None:
    df = _panel()
    ref = fx.did(df, "y", "id", "t", "treat", clusters="id")
    cat = fx.did(df.assign(t=pd.Categorical(df["t"].map(LABELS))), "y", "id", "t", "treat")
    assert cat.estimate == pytest.approx(ref.estimate, rel=1e-10)
    tz = pd.to_datetime(df["t"].map(lambda t: f"20{10 + t}-11-0{t}")).dt.tz_localize("UTC")
    res = fx.did(df.assign(t=tz), "y", "id", "t", "treat", clusters="id")
    assert res.estimate == pytest.approx(ref.estimate, rel=1e-10)
    assert res.std_error == pytest.approx(ref.std_error, rel=1e-10)


def test_mixed_type_unit_ids_are_ordered_and_row_order_free() -> None:
    df = _panel(n=80)
    codes = {u: (i if i % 2 else f"u{i}") for i, u in enumerate(sorted(df["id"].unique()))}
    mixed = df.assign(id=df["id"].map(codes).astype(object))
    ref = staggered_did(df, "y", "id", "t", "g")
    a = staggered_did(mixed, "y", "id", "t", "g")
    b = staggered_did(mixed.sample(frac=1.0, random_state=3), "y", "id", "t", "g")
    pd.testing.assert_frame_equal(a.att_gt, ref.att_gt, rtol=1e-10)
    assert (
        a.aggregate("dynamic", reps=99, seed=4).crit_val
        == b.aggregate("dynamic", reps=99, seed=4).crit_val
    )


@pytest.mark.parametrize("seed", [1, 2])
def test_twfe_and_event_studies_do_not_depend_on_row_order(seed: int) -> None:
    df = _panel(n=120)
    shuffled = df.sample(frac=1.0, random_state=seed)
    a = fx.did(df, "y", "id", "t", "treat", clusters="precinct")
    b = fx.did(shuffled, "y", "id", "t", "treat", clusters="precinct")
    assert b.estimate == pytest.approx(a.estimate, rel=1e-10)
    assert b.std_error == pytest.approx(a.std_error, rel=1e-10)
    for estimator in ("twfe", "sun_abraham"):
        ea = event_study(df, "y", "id", "t", "g", estimator=estimator, clusters="id")
        eb = event_study(shuffled, "y", "id", "t", "g", estimator=estimator, clusters="id")
        pd.testing.assert_frame_equal(ea.coefficients, eb.coefficients, rtol=1e-9)
        assert eb.pretest.statistic == pytest.approx(ea.pretest.statistic, rel=1e-8)
