"""Public API ``fx.itt`` / ``fx.cace`` on the shipped fixture ``fixtures/experiment_small.csv``.

No values of our own code are hard-coded: every expectation is an identity (Wald ratio,
Frisch-Waugh-Lovell, t quantiles) or a cross-check against a hand-built equivalent input.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from html.parser import HTMLParser
from typing import ClassVar

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import stats

import fieldexp as fx
from fieldexp.errors import FieldexpWarning, RowsDroppedWarning, WeakInstrumentWarning
from fieldexp.results import RESULT_COLUMNS, EffectResult

DESIGN = {"blocks": "precinct_id", "clusters": "household_id"}
COVS = ["voted_2016", "voted_2018", "voted_2020", "age"]


@pytest.fixture(scope="module")
def small(fixtures_dir) -> pd.DataFrame:
    return pd.read_csv(fixtures_dir / "experiment_small.csv")


@pytest.fixture
def df(small) -> pd.DataFrame:
    return small.copy(deep=True)


def _quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FieldexpWarning)
        return fn(*args, **kwargs)


def assert_same_result(a: EffectResult, b: EffectResult, rtol: float = 1e-10) -> None:
    for name in ("estimate", "std_error", "df", "p_value", "ci_low", "ci_high"):
        assert getattr(a, name) == pytest.approx(getattr(b, name), rel=rtol), name


# --------------------------------------------------------------------------- no mutation
CALLS = [
    pytest.param(lambda d: fx.itt(d, "voted", "assigned"), id="itt-dim"),
    pytest.param(
        lambda d: fx.itt(d, "voted", "assigned", **DESIGN), id="itt-dim-blocked-clustered"
    ),
    pytest.param(
        lambda d: fx.itt(d, "voted", "assigned", **DESIGN, covariates=[*COVS, "propensity_band"]),
        id="itt-lin",
    ),
    pytest.param(
        lambda d: fx.itt(
            d, "voted", "assigned", **DESIGN, covariates=COVS, method="ols", weights="weight"
        ),
        id="itt-ols-weighted",
    ),
    pytest.param(
        lambda d: fx.cace(d, "voted", "contacted", "assigned", **DESIGN, covariates="age"),
        id="cace",
    ),
]


@pytest.mark.parametrize("call", CALLS)
@pytest.mark.parametrize("with_missing", [False, True], ids=["complete", "missing"])
def test_caller_frame_is_never_modified(df, call, with_missing: bool) -> None:
    df.index = [f"r{i}" for i in range(len(df))][::-1]  # non-default, non-monotone index
    df["propensity_band"] = df["propensity_band"].astype("category")
    if with_missing:
        df["voted"] = df["voted"].astype("float64")
        df.loc[df.index[[3, 50, 900]], "voted"] = np.nan
        df.loc[df.index[[7]], "age"] = np.nan
        df.loc[df.index[[11]], "propensity_band"] = np.nan
    before = df.copy(deep=True)
    columns_before = list(df.columns)
    index_before = df.index.copy()
    _quiet(call, df)
    pd.testing.assert_frame_equal(df, before, check_exact=True)
    assert list(df.columns) == columns_before
    assert df.index.equals(index_before)
    assert df.attrs == before.attrs


# --------------------------------------------------------------------------- missing rows
def test_listwise_deletion_warns_with_counts_and_nobs(df) -> None:
    df["voted"] = df["voted"].astype("float64")
    df["age"] = df["age"].astype("float64")
    df.loc[[5, 17, 40], "voted"] = np.nan
    df.loc[[17, 99], "age"] = np.nan  # row 17 misses both
    df.loc[[123], "weight"] = np.nan
    with pytest.warns(RowsDroppedWarning) as rec:
        res = fx.itt(df, "voted", "assigned", covariates=["age"], weights="weight", method="ols")
    msg = str(rec[0].message)
    assert "dropped 5 of 2,400 rows" in msg
    assert "'voted': 3" in msg and "'age': 2" in msg and "'weight': 1" in msg
    assert "rows 5, 17, 40, 99, 123" in msg
    assert res.nobs == 2400 - 5
    assert res.n_dropped == 5
    kept = df.dropna(subset=["voted", "age", "weight"])
    ref = fx.itt(kept, "voted", "assigned", covariates=["age"], weights="weight", method="ols")
    assert_same_result(res, ref, rtol=1e-12)
    assert ref.n_dropped == 0


def test_missing_in_unused_columns_is_ignored(df) -> None:
    df["voted_2016"] = df["voted_2016"].astype("float64")
    df.loc[[1, 2, 3], "voted_2016"] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = fx.itt(df, "voted", "assigned")
    assert res.nobs == len(df) and res.n_dropped == 0


def test_missing_cluster_or_block_or_treatment_rows_are_dropped(df) -> None:
    df.loc[[0, 1], "household_id"] = None
    df.loc[[2], "precinct_id"] = None
    df["contacted"] = df["contacted"].astype("float64")
    df.loc[[3, 4, 5], "contacted"] = np.nan
    with pytest.warns(RowsDroppedWarning, match=r"dropped 6 of 2,400 rows"):
        res = _cace_rows(df)
    assert res.nobs == 2394


def _cace_rows(df):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", WeakInstrumentWarning)
        return fx.cace(df, "voted", "contacted", "assigned", **DESIGN)


# --------------------------------------------------------------------------- method="auto"
def test_auto_is_dim_without_covariates(df) -> None:
    auto = fx.itt(df, "voted", "assigned", **DESIGN)
    dim = fx.itt(df, "voted", "assigned", **DESIGN, method="dim")
    assert auto.method == "dim"
    assert_same_result(auto, dim, rtol=0)


def test_auto_is_lin_with_covariates(small) -> None:
    df = _subset(small)
    auto = fx.itt(df, "voted", "assigned", **DESIGN, covariates=COVS)
    lin = fx.itt(df, "voted", "assigned", **DESIGN, covariates=COVS, method="lin")
    ols = fx.itt(df, "voted", "assigned", **DESIGN, covariates=COVS, method="ols")
    assert auto.method == "lin"
    assert_same_result(auto, lin, rtol=0)
    assert auto.estimate != pytest.approx(ols.estimate, rel=1e-8)


# --------------------------------------------------------------------------- lin / ols designs
def test_lin_equals_hand_built_interacted_regression(df) -> None:
    """Lin (2013): y on z, centred covariates and z x centred covariates (ols on a frame
    with those columns built by hand gives the same coefficient and SE)."""
    lin = fx.itt(df, "voted", "assigned", covariates=COVS, method="lin", se_type="HC2")
    manual = df[["voted", "assigned"]].copy()
    extra = []
    for c in COVS:
        centred = df[c] - df[c].mean()
        manual[f"{c}_c"] = centred
        manual[f"z_{c}_c"] = centred * df["assigned"]
        extra += [f"{c}_c", f"z_{c}_c"]
    ols = fx.itt(manual, "voted", "assigned", covariates=extra, method="ols", se_type="HC2")
    assert_same_result(lin, ols)
    X = np.column_stack([np.ones(len(df)), manual[["assigned", *extra]].to_numpy(float)])
    beta, *_ = np.linalg.lstsq(X, df["voted"].to_numpy(float), rcond=None)
    assert lin.estimate == pytest.approx(beta[1], rel=1e-10)


def test_lin_with_blocks_equals_lin_with_block_indicator_covariates(df) -> None:
    blocked = fx.itt(df, "voted", "assigned", blocks="precinct_id", covariates=COVS, method="lin")
    dummies = pd.get_dummies(df["precinct_id"], prefix="p", dtype=float).iloc[:, 1:]
    wide = pd.concat([df, dummies], axis=1)
    manual = fx.itt(wide, "voted", "assigned", covariates=[*COVS, *dummies.columns], method="lin")
    assert_same_result(blocked, manual)


@pytest.mark.parametrize("se_type", ["HC0", "HC1", "HC2", "HC3"])
def test_ols_block_fixed_effects_equal_explicit_dummies(df, se_type: str) -> None:
    absorbed = fx.itt(
        df,
        "voted",
        "assigned",
        blocks="precinct_id",
        covariates=COVS,
        method="ols",
        se_type=se_type,
        weights="weight",
    )
    dummies = pd.get_dummies(df["precinct_id"], prefix="p", dtype=float).iloc[:, 1:]
    wide = pd.concat([df, dummies], axis=1)
    explicit = fx.itt(
        wide,
        "voted",
        "assigned",
        covariates=[*COVS, *dummies.columns],
        method="ols",
        se_type=se_type,
        weights="weight",
    )
    assert_same_result(absorbed, explicit)


@pytest.mark.parametrize("se_type", ["CR0", "CR2", "stata"])
def test_ols_clustered_block_fixed_effects_equal_explicit_dummies(df, se_type: str) -> None:
    absorbed = fx.itt(
        df, "voted", "assigned", **DESIGN, covariates=COVS, method="ols", se_type=se_type
    )
    dummies = pd.get_dummies(df["precinct_id"], prefix="p", dtype=float).iloc[:, 1:]
    wide = pd.concat([df, dummies], axis=1)
    explicit = fx.itt(
        wide,
        "voted",
        "assigned",
        clusters="household_id",
        covariates=[*COVS, *dummies.columns],
        method="ols",
        se_type=se_type,
    )
    assert_same_result(absorbed, explicit)
    assert absorbed.nclusters == df["household_id"].nunique()


@pytest.mark.parametrize("se_type", ["CR0", "CR2", "stata"])
def test_weighted_clustered_fixed_effects_equal_explicit_dummies(small, se_type: str) -> None:
    df = _subset(small)
    kw = {"method": "ols", "se_type": se_type, "weights": "weight"}
    absorbed = fx.itt(df, "voted", "assigned", **DESIGN, covariates=COVS, **kw)
    dummies = pd.get_dummies(df["precinct_id"], prefix="p", dtype=float).iloc[:, 1:]
    wide = pd.concat([df, dummies], axis=1)
    explicit = fx.itt(
        wide,
        "voted",
        "assigned",
        clusters="household_id",
        covariates=[*COVS, *dummies.columns],
        **kw,
    )
    assert_same_result(absorbed, explicit)
    cace_abs = fx.cace(
        df, "voted", "contacted", "assigned", **DESIGN, se_type=se_type, weights="weight"
    )
    cace_exp = fx.cace(
        wide,
        "voted",
        "contacted",
        "assigned",
        clusters="household_id",
        covariates=list(dummies.columns),
        se_type=se_type,
        weights="weight",
    )
    assert_same_result(cace_abs, cace_exp)


@pytest.mark.parametrize("method", ["dim", "ols", "lin"])
def test_label_types_of_blocks_and_clusters_do_not_matter(small, method: str) -> None:
    """String ids, compact integer ids, sparse huge integer ids and float ids agree."""
    df = _subset(small)
    covs = None if method == "dim" else COVS
    base = fx.itt(df, "voted", "assigned", **DESIGN, covariates=covs, method=method)
    hh = df.household_id.str[1:].astype(int)
    pr = df.precinct_id.str[1:].astype(int)
    for hh_ids, pr_ids in ((hh, pr), (hh * 10**9 + 7, -pr), (hh.astype(float) / 2, pr.astype(str))):
        relabelled = df.assign(household_id=hh_ids, precinct_id=pr_ids)
        res = fx.itt(relabelled, "voted", "assigned", **DESIGN, covariates=covs, method=method)
        assert_same_result(res, base, rtol=1e-10)


def test_categorical_covariate_equals_manual_indicators(df) -> None:
    cat = fx.itt(df, "voted", "assigned", covariates=["age", "propensity_band"], method="ols")
    levels = sorted(df["propensity_band"].unique())
    assert len(levels) >= 3
    manual = df.copy()
    names = []
    for lev in levels[1:]:
        manual[f"band_{lev}"] = (df["propensity_band"] == lev).astype(float)
        names.append(f"band_{lev}")
    ind = fx.itt(manual, "voted", "assigned", covariates=["age", *names], method="ols")
    assert_same_result(cat, ind)
    # pandas Categorical dtype gives the same answer as the str column
    df2 = df.assign(propensity_band=df["propensity_band"].astype("category"))
    cat2 = fx.itt(df2, "voted", "assigned", covariates=["age", "propensity_band"], method="ols")
    assert_same_result(cat, cat2, rtol=1e-14)
    lin = fx.itt(df, "voted", "assigned", covariates=["propensity_band"], method="lin")
    lin_manual = fx.itt(manual, "voted", "assigned", covariates=names, method="lin")
    assert_same_result(lin, lin_manual)


# --------------------------------------------------------------------------- CACE
def test_cace_is_wald_ratio_and_first_stage_is_itt_of_contact(df) -> None:
    y = fx.itt(df, "voted", "assigned", method="ols")
    d = fx.itt(df, "contacted", "assigned", method="ols")
    res = fx.cace(df, "voted", "contacted", "assigned")
    assert res.estimate == pytest.approx(y.estimate / d.estimate, rel=1e-12)
    fs = res.first_stage
    assert fs is not None
    assert fs.estimate == pytest.approx(d.estimate, rel=1e-12)
    assert fs.std_error == pytest.approx(d.std_error, rel=1e-12)
    assert fs.df == pytest.approx(d.df, rel=1e-12)
    assert fs.f_statistic == pytest.approx((d.estimate / d.std_error) ** 2, rel=1e-12)
    t = df.assigned == 1
    assert fs.treated_contact_rate == pytest.approx(df.contacted[t].mean(), rel=1e-14)
    assert fs.control_contact_rate == 0.0
    assert res.estimand == "CACE" and res.method == "2sls" and res.term == "contacted"
    assert res.se_type == "HC2"


def test_cace_clustered_wald_ratio_and_first_stage(df) -> None:
    y = fx.itt(df, "voted", "assigned", clusters="household_id", method="ols")
    d = fx.itt(df, "contacted", "assigned", clusters="household_id", method="ols")
    res = fx.cace(df, "voted", "contacted", "assigned", clusters="household_id")
    assert res.estimate == pytest.approx(y.estimate / d.estimate, rel=1e-12)
    assert res.first_stage.std_error == pytest.approx(d.std_error, rel=1e-12)
    assert res.first_stage.df == pytest.approx(d.df, rel=1e-12)
    assert res.se_type == "CR2" and res.nclusters == df["household_id"].nunique()


@pytest.mark.parametrize("se_type", [None, "stata", "CR0"])
def test_cace_first_stage_with_blocks_and_covariates_is_ols_itt_of_contact(df, se_type) -> None:
    d = fx.itt(
        df, "contacted", "assigned", **DESIGN, covariates=COVS, method="ols", se_type=se_type
    )
    res = fx.cace(df, "voted", "contacted", "assigned", **DESIGN, covariates=COVS, se_type=se_type)
    assert res.first_stage.estimate == pytest.approx(d.estimate, rel=1e-10)
    assert res.first_stage.std_error == pytest.approx(d.std_error, rel=1e-10)
    assert res.se_type == d.se_type


@pytest.mark.parametrize("weights", [None, "weight"])
@pytest.mark.parametrize("covariates", [None, COVS])
def test_cace_is_ratio_of_reduced_form_to_first_stage_in_any_design(
    df, covariates, weights
) -> None:
    """Just identified: the 2SLS coefficient equals reduced form / first stage (both OLS with
    the same blocks, covariates and weights), by Frisch-Waugh-Lovell."""
    kw = {"blocks": "precinct_id", "covariates": covariates, "weights": weights}
    res = fx.cace(df, "voted", "contacted", "assigned", clusters="household_id", **kw)
    rf = fx.itt(df, "voted", "assigned", method="ols", **kw)
    fs = fx.itt(df, "contacted", "assigned", method="ols", **kw)
    assert res.estimate == pytest.approx(rf.estimate / fs.estimate, rel=1e-10)
    assert res.first_stage.estimate == pytest.approx(fs.estimate, rel=1e-10)


def test_cace_with_blocks_equals_explicit_block_dummies(df) -> None:
    absorbed = fx.cace(df, "voted", "contacted", "assigned", **DESIGN, covariates=COVS)
    dummies = pd.get_dummies(df["precinct_id"], prefix="p", dtype=float).iloc[:, 1:]
    wide = pd.concat([df, dummies], axis=1)
    explicit = fx.cace(
        wide,
        "voted",
        "contacted",
        "assigned",
        clusters="household_id",
        covariates=[*COVS, *dummies.columns],
    )
    assert_same_result(absorbed, explicit)


def test_weak_first_stage_warns(df) -> None:
    rng = np.random.default_rng(3)
    n = 600
    z = rng.integers(0, 2, size=n)
    d = (rng.random(n) < np.where(z == 1, 0.31, 0.30)).astype(int)  # both arms contacted
    y = (rng.random(n) < 0.5).astype(int)
    weak = pd.DataFrame({"y": y, "d": d, "z": z})
    with pytest.warns(WeakInstrumentWarning, match=r"weak first stage.*F = .* < 10"):
        res = _with_warnings_of(WeakInstrumentWarning, fx.cace, weak, "y", "d", "z")
    assert res.first_stage.f_statistic < 10
    assert any("weak first stage" in note for note in res.notes)
    assert math.isfinite(res.estimate)


def _with_warnings_of(category, fn, *args, **kwargs):
    """Run fn keeping warnings of ``category`` (re-emitted) and ignoring other fieldexp ones."""
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        out = fn(*args, **kwargs)
    for w in rec:
        if issubclass(w.category, category):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return out


def test_strong_first_stage_does_not_warn(df) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", WeakInstrumentWarning)
        res = fx.cace(df, "voted", "contacted", "assigned")
    assert res.first_stage.f_statistic > 10
    assert res.notes == ()


@pytest.mark.parametrize(
    "design", [{"blocks": "precinct_id"}, DESIGN], ids=["blocked", "blocked-clustered"]
)
def test_perfect_compliance_is_not_a_weak_first_stage(df, design) -> None:
    df["contacted"] = df["assigned"]
    with warnings.catch_warnings():
        warnings.simplefilter("error", WeakInstrumentWarning)
        res = fx.cace(df, "voted", "contacted", "assigned", **design)
    assert res.first_stage.estimate == pytest.approx(1.0, rel=1e-12)
    assert res.notes == ()


def test_perfect_compliance_cace_equals_itt(df) -> None:
    df["contacted"] = df["assigned"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", WeakInstrumentWarning)
        res = fx.cace(df, "voted", "contacted", "assigned", **DESIGN, covariates=COVS)
    itt = fx.itt(df, "voted", "assigned", **DESIGN, covariates=COVS, method="ols")
    assert res.estimate == pytest.approx(itt.estimate, rel=1e-10)
    assert res.std_error == pytest.approx(itt.std_error, rel=1e-8)


def test_contacts_among_controls_noted_but_estimated(df) -> None:
    controls = df.index[df.assigned == 0][:25]
    df.loc[controls, "contacted"] = 1
    with pytest.warns(FieldexpWarning, match=r"25 units not assigned to treatment were recorded"):
        res = fx.cace(df, "voted", "contacted", "assigned")
    assert any("two-sided noncompliance" in note for note in res.notes)
    y = fx.itt(df, "voted", "assigned", method="ols")
    d = fx.itt(df, "contacted", "assigned", method="ols")
    assert res.estimate == pytest.approx(y.estimate / d.estimate, rel=1e-12)
    assert res.first_stage.control_contact_rate == pytest.approx(
        25 / (df.assigned == 0).sum(), rel=1e-14
    )


# --------------------------------------------------------------------------- alpha
@pytest.mark.parametrize("alpha", [0.01, 0.1, 0.32])
def test_alpha_sets_ci_width_by_t_quantile(df, alpha: float) -> None:
    base = fx.itt(df, "voted", "assigned", **DESIGN, covariates=COVS, method="ols")
    res = fx.itt(df, "voted", "assigned", **DESIGN, covariates=COVS, method="ols", alpha=alpha)
    assert res.estimate == base.estimate and res.std_error == base.std_error
    q = stats.t.ppf(1 - alpha / 2, res.df)
    assert res.ci_high - res.ci_low == pytest.approx(2 * q * res.std_error, rel=1e-10)
    assert (res.ci_low + res.ci_high) / 2 == pytest.approx(res.estimate, rel=1e-12)
    assert res.alpha == alpha
    assert res.p_value == base.p_value
    ratio = (res.ci_high - res.ci_low) / (base.ci_high - base.ci_low)
    assert ratio == pytest.approx(q / stats.t.ppf(0.975, base.df), rel=1e-10)
    assert f"{round(100 * (1 - alpha))}% CI" in str(res)


def test_alpha_applies_to_cace_and_its_first_stage(df) -> None:
    res = fx.cace(df, "voted", "contacted", "assigned", **DESIGN, alpha=0.1)
    for part in (res, res.first_stage):
        q = stats.t.ppf(0.95, part.df)
        assert part.ci_high - part.ci_low == pytest.approx(2 * q * part.std_error, rel=1e-10)
    assert "90% CI" in str(res)


# --------------------------------------------------------------------------- result schema
def test_result_schema_and_inference_consistency(df) -> None:
    res = fx.itt(df, "voted", "assigned", **DESIGN, covariates=COVS, method="ols")
    names = [
        *("estimate", "std_error", "statistic", "df", "p_value", "ci_low", "ci_high"),
        *("nobs", "nclusters", "se_type", "method", "design", "outcome", "term"),
    ]
    for name in names:
        assert hasattr(res, name), name
    assert isinstance(res, EffectResult)
    assert res.statistic == pytest.approx(res.estimate / res.std_error, rel=1e-14)
    assert res.p_value == pytest.approx(2 * stats.t.sf(abs(res.statistic), res.df), rel=1e-10)
    assert res.outcome == "voted" and res.term == "assigned" and res.estimand == "ITT"
    assert res.design == "blocked-clustered" and res.se_type == "CR2" and res.method == "ols"
    assert res.nobs == len(df) and res.nclusters == df.household_id.nunique()
    assert isinstance(res.nobs, int)


def test_to_frame_columns(df) -> None:
    res = fx.itt(df, "voted", "assigned", **DESIGN)
    frame = res.to_frame()
    assert tuple(frame.columns) == RESULT_COLUMNS
    assert len(frame) == 1
    for col in RESULT_COLUMNS:
        v = frame[col].iloc[0]
        expected = getattr(res, col)
        if isinstance(expected, float):
            assert v == pytest.approx(expected, rel=0, abs=0)
        else:
            assert v == expected
    cace = fx.cace(df, "voted", "contacted", "assigned", **DESIGN)
    cframe = cace.to_frame()
    assert tuple(cframe.columns[: len(RESULT_COLUMNS)]) == RESULT_COLUMNS
    extra = list(cframe.columns[len(RESULT_COLUMNS) :])
    assert extra == ["first_stage_estimate", "first_stage_std_error", "first_stage_f"]
    assert cframe["first_stage_estimate"].iloc[0] == cace.first_stage.estimate
    assert cframe["first_stage_f"].iloc[0] == cace.first_stage.f_statistic


def test_str_mentions_estimate_ci_and_nobs(df) -> None:
    df.loc[[0], "voted"] = np.nan
    res = _quiet(fx.cace, df, "voted", "contacted", "assigned", **DESIGN)
    text = str(res)
    assert "estimate" in text and f"{res.estimate:.6f}".strip() in text
    assert "95% CI" in text and f"{res.ci_low:.6f}".strip() in text
    assert "nobs 2,399" in text and "dropped 1" in text
    assert f"clusters {res.nclusters:,}" in text
    assert "first stage" in text
    assert "CACE" in text and "'voted'" in text and "'contacted'" in text


class _TagChecker(HTMLParser):
    VOID: ClassVar[set[str]] = {"br", "hr", "img", "meta", "input"}

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.tags: set[str] = set()
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"unbalanced </{tag}> with stack {self.stack}")
        else:
            self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)


def test_repr_html_is_balanced_and_contains_estimate(df) -> None:
    df = df.rename(columns={"voted": "voted<2022>&"})
    res = fx.cace(df, "voted<2022>&", "contacted", "assigned", **DESIGN)
    html_out = res._repr_html_()
    parser = _TagChecker()
    parser.feed(html_out)
    parser.close()
    assert parser.errors == [] and parser.stack == []
    assert {"table", "th", "td"} <= parser.tags
    text = "".join(parser.text)
    assert f"{res.estimate:.4f}" in text
    assert f"{res.std_error:.4f}" in text
    assert "voted<2022>&" in text  # escaped in the markup, restored by the parser
    assert "<2022>" not in html_out


def test_result_is_frozen(df) -> None:
    res = fx.itt(df, "voted", "assigned")
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.estimate = 1.0  # type: ignore[misc]
    # frozen + slots: CPython < 3.14 raises TypeError here (its own super() quirk), else
    # FrozenInstanceError/AttributeError; what matters is that the assignment fails
    with pytest.raises((dataclasses.FrozenInstanceError, AttributeError, TypeError)):
        res.new_attribute = 1  # type: ignore[attr-defined]
    cace = fx.cace(df, "voted", "contacted", "assigned")
    with pytest.raises(dataclasses.FrozenInstanceError):
        cace.first_stage.estimate = 0.0  # type: ignore[misc]


def test_boolean_columns_are_accepted(df) -> None:
    base = fx.itt(df, "voted", "assigned", **DESIGN)
    b = df.assign(voted=df.voted.astype(bool), assigned=df.assigned.astype(bool))
    res = fx.itt(b, "voted", "assigned", **DESIGN)
    assert_same_result(res, base, rtol=1e-14)


# --------------------------------------------------------------------------- properties
def _subset(small: pd.DataFrame) -> pd.DataFrame:
    keep = small.precinct_id.isin(sorted(small.precinct_id.unique())[:3])
    return small.loc[keep].reset_index(drop=True)


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(seed=st.integers(0, 2**32 - 1), method=st.sampled_from(["dim", "ols", "lin"]))
def test_row_order_invariance(small, seed: int, method: str) -> None:
    """Shuffling rows (and relabelling the index) changes nothing beyond rounding."""
    sub = _subset(small)
    covs = None if method == "dim" else ["voted_2020", "age"]
    base = fx.itt(sub, "voted", "assigned", **DESIGN, covariates=covs, method=method)
    perm = np.random.default_rng(seed).permutation(len(sub))
    shuffled = sub.iloc[perm].set_axis([f"x{i}" for i in perm], axis=0)
    res = fx.itt(shuffled, "voted", "assigned", **DESIGN, covariates=covs, method=method)
    assert_same_result(res, base, rtol=1e-9)


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    scale=st.floats(1e-3, 1e3, allow_nan=False, allow_infinity=False),
    method=st.sampled_from(["dim", "ols", "lin"]),
    clustered=st.booleans(),
)
def test_weight_scale_invariance(small, scale: float, method: str, clustered: bool) -> None:
    sub = _subset(small)
    covs = None if method == "dim" else ["voted_2020", "age"]
    design = DESIGN if clustered else {"blocks": "precinct_id"}
    base = fx.itt(
        sub, "voted", "assigned", **design, covariates=covs, method=method, weights="weight"
    )
    scaled = sub.assign(weight=sub.weight * scale)
    res = fx.itt(
        scaled, "voted", "assigned", **design, covariates=covs, method=method, weights="weight"
    )
    assert_same_result(res, base, rtol=1e-9)


def test_unit_weights_equal_no_weights_for_regressions(small) -> None:
    df = _subset(small)
    ones = df.assign(weight=1.0)
    for method in ("ols", "lin"):
        a = fx.itt(
            ones, "voted", "assigned", **DESIGN, covariates=COVS, method=method, weights="weight"
        )
        b = fx.itt(df, "voted", "assigned", **DESIGN, covariates=COVS, method=method)
        assert_same_result(a, b, rtol=1e-9)


# --------------------------------------------------------------------------- warning location
def _warning_files(fn, *args, **kwargs) -> dict[str, set[str]]:
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        fn(*args, **kwargs)
    out: dict[str, set[str]] = {}
    for w in rec:
        out.setdefault(w.category.__name__, set()).add(w.filename)
    return out


def test_control_contact_and_weak_warnings_point_at_the_caller(df) -> None:
    df.loc[df.index[df.assigned == 0][:3], "contacted"] = 1
    files = _warning_files(fx.cace, df, "voted", "contacted", "assigned")
    assert files["FieldexpWarning"] == {__file__}


@pytest.mark.parametrize("fn", ["itt", "cace"])
def test_rows_dropped_warning_points_at_the_caller(df, fn: str) -> None:
    df["voted"] = df["voted"].astype(float)
    df.loc[[1], "voted"] = np.nan
    if fn == "itt":
        files = _warning_files(fx.itt, df, "voted", "assigned")
    else:
        files = _warning_files(fx.cace, df, "voted", "contacted", "assigned")
    assert files["RowsDroppedWarning"] == {__file__}


def test_weak_and_design_warnings_point_at_the_caller() -> None:
    rng = np.random.default_rng(3)
    n = 600
    z = rng.integers(0, 2, size=n)
    d = (rng.random(n) < np.where(z == 1, 0.31, 0.30)).astype(int)
    weak = pd.DataFrame({"y": rng.integers(0, 2, n), "d": d, "z": z})
    assert _warning_files(fx.cace, weak, "y", "d", "z")["WeakInstrumentWarning"] == {__file__}
    mixed = pd.DataFrame(
        {
            "y": rng.normal(size=10),
            "z": [1, 0, 0, 1, 1, 1, 0, 0, 1, 0],
            "b": ["a", "a", "b", "b", "c", "c", "c", "c", "c", "c"],
        }
    )
    files = _warning_files(fx.itt, mixed, "y", "z", blocks="b", method="dim")
    assert files["FieldexpWarning"] == {__file__}


# --------------------------------------------------------------------------- issue 9
def test_lin_with_blocks_builds_no_dense_design(df, monkeypatch) -> None:
    """Lin with block indicators absorbs block x arm cells: with the dense-design limit at zero
    it still runs for every variance that the cells support (and equals the dense fit, see
    tests/stats/test_lin.py and the lm_lin references)."""
    import fieldexp.experiment.designs as designs

    want = {
        se: fx.itt(df, "voted", "assigned", method="lin", covariates=COVS, se_type=se, **DESIGN)
        for se in ("CR2", "CR0", "stata")
    }
    monkeypatch.setattr(designs, "MAX_LIN_CELLS", 0)
    for se, ref in want.items():
        got = fx.itt(df, "voted", "assigned", method="lin", covariates=COVS, se_type=se, **DESIGN)
        assert got.estimate == ref.estimate and got.std_error == ref.std_error
    got = fx.itt(df, "voted", "assigned", method="lin", covariates=COVS, blocks="precinct_id")
    assert got.se_type == "HC2"
    # CR2 with clusters coarser than the cells is the one case that needs the dense design
    with pytest.raises(fx.EstimationError, match="use se_type='stata' or 'CR0'"):
        fx.itt(df, "voted", "assigned", method="lin", covariates=COVS, blocks="precinct_id",
               clusters="precinct_id")  # fmt: skip


def test_auto_with_coarse_clusters(df) -> None:
    kw = {"blocks": "precinct_id", "clusters": "precinct_id"}
    ols = fx.itt(df, "voted", "assigned", **kw)
    assert (ols.method, ols.design, ols.nclusters) == ("ols", "blocked-clustered-se", 14)
    lin = fx.itt(df, "voted", "assigned", covariates=COVS, **kw)
    assert (lin.method, lin.design) == ("lin", "blocked-clustered-se")
    cace = fx.cace(df, "voted", "contacted", "assigned", covariates=COVS, **kw)
    assert cace.design == "blocked-clustered-se" and cace.se_type == "CR2"
    # the declared design's units are untouched: household clusters stay a "clustered" design
    hh = fx.itt(df, "voted", "assigned", **DESIGN)
    assert (hh.method, hh.design) == ("dim", "blocked-clustered")


def test_outcome_shift_in_unblocked_dim(df) -> None:
    """Issue 9.5: y + 1e8 raised `math domain error`, y + 1e11 gave an SE off by x8,800."""
    base = fx.itt(df, "voted", "assigned", method="dim")
    for shift in (1e8, 1e11):
        moved = fx.itt(df.assign(voted=df.voted + shift), "voted", "assigned", method="dim")
        assert math.isclose(moved.estimate, base.estimate, rel_tol=1e-9)
        assert math.isclose(moved.std_error, base.std_error, rel_tol=1e-12)
        assert math.isclose(moved.df, base.df, rel_tol=1e-12)
