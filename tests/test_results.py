"""The result schema (:mod:`fieldexp.results`): inference through one helper, views, immutability."""

from __future__ import annotations

import dataclasses
import math

import pandas as pd
import pytest
from scipy import stats

from fieldexp._validate import check_alpha, renamed_argument
from fieldexp.errors import SpecificationError
from fieldexp.results import (
    RESULT_COLUMNS,
    EffectResult,
    FirstStage,
    Result,
    TestResult,
    result_classes,
    result_fields,
)

META = {
    "nobs": 1234,
    "nclusters": 321,
    "se_type": "CR2",
    "method": "ols",
    "design": "blocked-clustered",
    "outcome": "voted",
    "term": "assigned",
}


def make(estimate=0.05, std_error=0.02, df=40.0, alpha=0.05, **kwargs) -> EffectResult:
    return EffectResult.from_estimate(
        estimate=estimate, std_error=std_error, df=df, alpha=alpha, **{**META, **kwargs}
    )


def _first_stage(estimate=0.3, std_error=0.05, df=100.0) -> FirstStage:
    return FirstStage.from_estimate(
        estimate=estimate,
        std_error=std_error,
        df=df,
        alpha=0.05,
        treatment="contacted",
        assignment="assigned",
        control_contact_rate=0.0,
        treated_contact_rate=estimate,
    )


@pytest.mark.parametrize("alpha", [0.05, 0.1])
def test_from_estimate_inference(alpha: float) -> None:
    r = make(alpha=alpha)
    assert r.statistic == pytest.approx(2.5, rel=1e-14)
    assert r.p_value == pytest.approx(2 * stats.t.sf(2.5, 40), rel=1e-12)
    q = stats.t.ppf(1 - alpha / 2, 40)
    assert r.ci_low == pytest.approx(0.05 - q * 0.02, rel=1e-12)
    assert r.ci_high == pytest.approx(0.05 + q * 0.02, rel=1e-12)
    assert r.alpha == alpha
    assert r.estimand == "ITT" and r.n_dropped == 0 and r.notes == () and r.first_stage is None


def test_infinite_df_is_normal() -> None:
    r = make(df=math.inf)
    assert r.p_value == pytest.approx(2 * stats.norm.sf(2.5), rel=1e-12)
    assert "df inf" in str(r)


def test_zero_se_gives_nan_inference() -> None:
    r = make(std_error=0.0)
    assert math.isnan(r.statistic) and math.isnan(r.p_value) and math.isnan(r.ci_low)
    assert "p NA" in str(r)


def test_schema_columns() -> None:
    fields = set(result_fields())
    assert set(RESULT_COLUMNS) <= fields
    for name in ("estimate", "std_error", "statistic", "df", "p_value", "ci_low", "ci_high"):
        assert name in RESULT_COLUMNS
    assert len(set(RESULT_COLUMNS)) == len(RESULT_COLUMNS)


def test_as_dict_and_to_frame() -> None:
    r = make()
    d = r.as_dict()
    assert tuple(d) == RESULT_COLUMNS
    frame = r.to_frame()
    assert isinstance(frame, pd.DataFrame) and frame.shape == (1, len(RESULT_COLUMNS))
    assert tuple(frame.columns) == RESULT_COLUMNS
    assert frame.loc[0, "estimate"] == r.estimate and frame.loc[0, "nobs"] == 1234
    assert frame.loc[0, "outcome"] == "voted"
    no_cl = make(nclusters=None).to_frame()
    assert no_cl.loc[0, "nclusters"] is None or pd.isna(no_cl.loc[0, "nclusters"])


def test_to_frame_with_first_stage() -> None:
    fs = _first_stage()
    r = make(estimand="CACE", term="contacted", first_stage=fs)
    frame = r.to_frame()
    assert list(frame.columns) == [
        *RESULT_COLUMNS,
        "first_stage_estimate",
        "first_stage_std_error",
        "first_stage_f",
    ]
    assert frame.loc[0, "first_stage_f"] == pytest.approx((0.3 / 0.05) ** 2, rel=1e-14)


def test_first_stage_f_is_squared_t() -> None:
    fs = _first_stage(estimate=0.02, std_error=0.01, df=50.0)
    assert fs.f_statistic == pytest.approx(4.0, rel=1e-14)
    assert fs.p_value == pytest.approx(2 * stats.t.sf(2.0, 50), rel=1e-12)
    # zero SE with a non-zero contact difference: perfect compliance, the strongest first stage
    perfect = _first_stage(std_error=0.0)
    assert perfect.f_statistic == math.inf and perfect.p_value == 0.0
    assert perfect.ci_low == perfect.ci_high == perfect.estimate
    # zero SE and zero difference: no information, F is undefined
    assert math.isnan(_first_stage(estimate=0.0, std_error=0.0).f_statistic)


def test_str_content() -> None:
    r = make(n_dropped=7, notes=("contacts among controls",), alpha=0.1)
    text = str(r)
    assert text.splitlines()[0].startswith("ITT of 'assigned' on 'voted'")
    assert "estimate  0.050000" in text and "std.error 0.020000" in text
    assert "90% CI [" in text and f"{r.ci_low: .6f}" in text
    assert "nobs 1,234, clusters 321, dropped 7" in text
    assert "note: contacts among controls" in text
    assert "df 40" in text
    small_p = make(estimate=1.0, std_error=0.01)
    assert "p <0.0001" in str(small_p)
    fractional = make(df=12.345)
    assert "df 12.35" in str(fractional)
    no_cl = str(make(nclusters=None))
    assert "clusters" not in no_cl and "dropped" not in no_cl


def test_str_with_first_stage() -> None:
    r = make(estimand="CACE", term="contacted", first_stage=_first_stage())
    assert "first stage (contact rate ITT_D): 0.300000 (se 0.050000), F = 36.0" in str(r)


def test_repr_is_short_and_informative() -> None:
    text = repr(make())
    assert text.startswith("EffectResult(") and "estimate=0.05" in text and "nobs=1234" in text
    assert "\n" not in text


def test_repr_html_escapes_and_shows_values() -> None:
    r = make(outcome="<script>alert(1)</script>", notes=("a & b < c",), first_stage=_first_stage())
    html_out = r._repr_html_()
    assert "<script>" not in html_out
    assert "&lt;script&gt;" in html_out
    assert "a &amp; b &lt; c" in html_out
    assert "<td>0.0500</td>" in html_out and "<td>1,234</td>" in html_out
    assert "<th>Clusters</th>" in html_out and "<td>321</td>" in html_out
    assert "first stage" in html_out.lower()
    assert html_out.count("<table") == html_out.count("</table>") == 1


def test_frozen() -> None:
    r = make()
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.estimate = 0.0  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.notes = ("x",)  # type: ignore[misc]
    fs = _first_stage()
    with pytest.raises(dataclasses.FrozenInstanceError):
        fs.f_statistic = 1.0  # type: ignore[misc]
    # replace() gives a new object and leaves the original untouched
    r2 = dataclasses.replace(r, estimate=1.0)
    assert r.estimate == 0.05 and r2.estimate == 1.0


# --------------------------------------------------------------------------- output protocol
@pytest.mark.parametrize("df", [40.0, math.inf])
def test_conf_int_at_original_alpha_equals_the_estimators_interval(df: float) -> None:
    for alpha in (0.05, 0.1, 0.2):
        r = make(df=df, alpha=alpha)
        assert r.conf_int() == (r.ci_low, r.ci_high)  # exactly: one inference helper
        assert r.conf_int(alpha=alpha) == (r.ci_low, r.ci_high)


def test_conf_int_at_another_alpha_is_the_t_interval() -> None:
    r = make(df=40.0)
    lo, hi = r.conf_int(alpha=0.01)
    q = stats.t.ppf(0.995, 40)
    assert lo == pytest.approx(0.05 - q * 0.02, rel=1e-12)
    assert hi == pytest.approx(0.05 + q * 0.02, rel=1e-12)
    other = make(df=40.0, alpha=0.01)
    assert (lo, hi) == (other.ci_low, other.ci_high)
    fs = _first_stage()
    assert fs.conf_int() == (fs.ci_low, fs.ci_high)


@pytest.mark.parametrize("bad", [0, 1, 1.5, -0.1, math.nan, True, "0.05", None])
def test_conf_int_alpha_is_validated(bad: object) -> None:
    r = make()
    if bad is None:
        assert r.conf_int(alpha=None) == (r.ci_low, r.ci_high)
        return
    with pytest.raises(SpecificationError, match=r"'alpha' parameter of EffectResult.conf_int"):
        r.conf_int(alpha=bad)  # type: ignore[arg-type]


def test_summary_text_and_html() -> None:
    r = make()
    s = r.summary()
    assert str(s) == str(r) == s.as_text() == repr(s)
    assert s._repr_html_() == r._repr_html_()
    assert "df 40" in str(r)


def test_effect_result_has_no_plot() -> None:
    with pytest.raises(SpecificationError, match="EffectResult has no plot"):
        make().plot()


def test_estimator_is_the_vocabulary_name_of_method() -> None:
    assert make(method="lin").estimator == "lin"


def test_registry_lists_subclasses_once() -> None:
    names = [f"{c.__module__}.{c.__qualname__}" for c in result_classes()]
    assert len(names) == len(set(names))
    assert "fieldexp.results.EffectResult" in names and "fieldexp.results.TestResult" in names
    for cls in result_classes():
        assert issubclass(cls, Result)


def test_test_result_renders_and_keeps_legacy_names() -> None:
    t = TestResult(
        statistic=7.5,
        df=3,
        p_value=0.06,
        distribution="chi2",
        hypothesis="all pre-period coefficients = 0",
        legacy=(("f_statistic", 2.5),),
    )
    assert "chi2(3)" in str(t) and "7.5000" in str(t)
    assert t.to_frame().loc[0, "p_value"] == 0.06
    with pytest.warns(FutureWarning, match="TestResult.f_statistic is deprecated"):
        assert t.f_statistic == 2.5
    with pytest.raises(AttributeError):
        _ = t.nonexistent
    with pytest.raises(SpecificationError, match="no confidence interval"):
        t.conf_int()
    f = TestResult(statistic=2.0, df=(3.0, 40.0), p_value=0.1, distribution="F")
    assert "F(3, 40)" in str(f)
    with pytest.raises(dataclasses.FrozenInstanceError):
        f.statistic = 1.0  # type: ignore[misc]


def test_result_subclass_without_slots_leak() -> None:
    r = make()
    with pytest.raises((dataclasses.FrozenInstanceError, AttributeError, TypeError)):
        r.extra = 1  # type: ignore[attr-defined]
    assert not hasattr(r, "__dict__")


def test_one_alpha_validator_for_every_entry_point() -> None:
    import numpy as np

    import fieldexp as fx

    df = pd.DataFrame({"y": np.arange(8.0), "z": [0, 1] * 4})
    for call in (
        lambda: fx.itt(df, "y", "z", alpha=1.2),
        lambda: make().conf_int(alpha=1.2),
    ):
        with pytest.raises(SpecificationError, match="must be a number strictly between 0 and 1"):
            call()
    assert check_alpha(np.float64(0.1), function="f") == 0.1


def test_renamed_argument_warns_and_refuses_conflicts() -> None:
    assert renamed_argument(None, None, new="a", old="b", function="f", default=3) == 3
    assert renamed_argument(2, None, new="a", old="b", function="f", default=3) == 2
    with pytest.warns(FutureWarning, match="'b' parameter of f is renamed 'a'"):
        assert renamed_argument(None, 5, new="a", old="b", function="f", default=3) == 5
    with (
        pytest.warns(FutureWarning),
        pytest.raises(SpecificationError, match="got both a=1 and its deprecated name b=5"),
    ):
        renamed_argument(1, 5, new="a", old="b", function="f", default=3)


# --------------------------------------------------------------------------- one vocabulary
def _small_experiment():
    import numpy as np

    from fieldexp.design import Design

    rng = np.random.default_rng(4)
    n = 200
    df = pd.DataFrame({"v": np.arange(n), "b": np.arange(n) // 50})
    df["band"] = rng.choice(["rare", "regular"], n)
    design = Design("v", blocks="b")
    df = df.merge(design.assign(df, seed=1)[["v", "arm"]], on="v")
    df["d"] = (df["arm"] * (rng.random(n) < 0.7)).astype(int)
    df["y"] = rng.normal(size=n) + 0.3 * df["d"]
    return df, design


def test_estimand_replaces_estimator_itt_cace_everywhere() -> None:
    import fieldexp as fx

    df, design = _small_experiment()
    new = fx.randomization_inference(
        df, "y", "arm", design, estimand="CACE", treatment="d", reps=200, seed=1
    )
    with pytest.warns(FutureWarning, match="'estimator' parameter of randomization_inference"):
        old = fx.randomization_inference(
            df, "y", "arm", design, estimator="cace", treatment="d", reps=200, seed=1
        )
    assert new.estimand == old.estimand == "CACE" and new.p_value == old.p_value
    with pytest.warns(FutureWarning, match="renamed RandomizationResult.estimand"):
        assert new.estimator == "cace"
    with pytest.warns(FutureWarning), pytest.raises(SpecificationError, match="got both"):
        fx.randomization_inference(
            df, "y", "arm", design, estimand="ITT", estimator="cace", reps=10, seed=1
        )
    with pytest.raises(SpecificationError, match="'estimand' parameter of heterogeneity"):
        fx.heterogeneity(df, "y", "arm", "band", estimand="ATE", blocks="b")
    het = fx.heterogeneity(df, "y", "arm", "band", estimand="cace", treatment="d", blocks="b")
    assert het.estimand == "CACE" and all(e.estimand == "CACE" for e in het.effects)
    with pytest.warns(FutureWarning, match="'estimator' parameter of heterogeneity"):
        het_old = fx.heterogeneity(
            df, "y", "arm", "band", estimator="cace", treatment="d", blocks="b"
        )
    assert het_old.wald.statistic == het.wald.statistic
    with pytest.warns(FutureWarning, match="wald_statistic is deprecated"):
        assert het.wald_statistic == het.wald.statistic
    assert het.wald.distribution == "chi2" and het.wald.df == len(het.levels) - 1


def test_balance_omnibus_is_a_test_result_with_the_old_names() -> None:
    import fieldexp as fx

    df, design = _small_experiment()
    df["x"] = pd.Series(range(len(df)), dtype=float) % 7
    res = fx.balance(df, "arm", ["x"], design=design, reps=99, seed=2)
    (omni,) = res.omnibus
    assert isinstance(omni, TestResult) and omni.distribution == "randomization"
    assert res.treated_arms == (1,)
    with pytest.warns(FutureWarning):
        assert omni.f_statistic == omni.statistic and omni.arm == 1
    frame = res.omnibus_frame()
    assert list(frame.columns[:4]) == ["arm", "f_statistic", "df1", "df2"]
    with pytest.warns(FutureWarning, match="replaced by fieldexp.results.TestResult"):
        from fieldexp.experiment.balance import OmnibusTest
    assert OmnibusTest is TestResult


def test_first_stage_conf_int_uses_its_own_alpha() -> None:
    fs = FirstStage.from_estimate(
        estimate=0.3,
        std_error=0.05,
        df=100.0,
        alpha=0.1,
        treatment="contacted",
        assignment="assigned",
        control_contact_rate=0.0,
        treated_contact_rate=0.3,
    )
    assert fs.alpha == 0.1 and fs.conf_int() == (fs.ci_low, fs.ci_high)
    perfect = FirstStage.from_estimate(
        estimate=1.0,
        std_error=0.0,
        df=100.0,
        alpha=0.05,
        treatment="contacted",
        assignment="assigned",
        control_contact_rate=0.0,
        treated_contact_rate=1.0,
    )
    assert perfect.conf_int() == perfect.conf_int(alpha=0.1) == (1.0, 1.0)
