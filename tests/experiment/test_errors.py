"""Bad input to ``fx.itt`` / ``fx.cace``: the class (always a ``FieldexpError`` subclass, never a
bare KeyError / LinAlgError / AssertionError) and the message (argument or column, the rule,
what was found, first offending rows)."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fieldexp as fx
from fieldexp.errors import (
    CollinearWarning,
    ColumnNotFoundError,
    DataError,
    DesignError,
    EstimationError,
    FieldexpError,
    SpecificationError,
)

DESIGN = {"blocks": "precinct_id", "clusters": "household_id"}


@pytest.fixture(scope="module")
def small(fixtures_dir) -> pd.DataFrame:
    return pd.read_csv(fixtures_dir / "experiment_small.csv")


@pytest.fixture
def df(small) -> pd.DataFrame:
    return small.copy(deep=True)


def test_hierarchy() -> None:
    for cls in (SpecificationError, DataError, ColumnNotFoundError, DesignError, EstimationError):
        assert issubclass(cls, FieldexpError)
    assert not issubclass(FieldexpError, (KeyError, AssertionError))


# --------------------------------------------------------------------------- frame
@pytest.mark.parametrize(
    "bad",
    [None, {"voted": [1, 0]}, np.zeros((4, 2)), [[1, 0]]],
    ids=["None", "dict", "ndarray", "list"],
)
def test_data_must_be_a_dataframe(bad) -> None:
    with pytest.raises(
        SpecificationError,
        match=rf"'data' parameter of fieldexp.itt must be a pandas DataFrame\. Got {type(bad).__name__}",
    ):
        fx.itt(bad, "voted", "assigned")


def test_empty_data(df) -> None:
    with pytest.raises(DataError, match=r"'data' parameter of fieldexp.cace is empty \(0 rows\)"):
        fx.cace(df.iloc[:0], "voted", "contacted", "assigned")


def test_all_rows_missing(df) -> None:
    with pytest.raises(DataError, match=r"every row .* missing value in 'voted'.*nothing is left"):
        fx.itt(df.assign(voted=np.nan), "voted", "assigned")


def test_duplicated_column_names(df) -> None:
    dup = pd.concat([df, df[["age"]]], axis=1)
    with pytest.raises(DataError, match=r"duplicated column names: 'age'"):
        fx.itt(dup, "voted", "assigned")


# --------------------------------------------------------------------------- columns
@pytest.mark.parametrize(
    ("kwargs", "argument", "typo", "suggestion"),
    [
        ({"outcome": "votd"}, "outcome", "votd", "voted"),
        ({"assignment": "asigned"}, "assignment", "asigned", "assigned"),
        ({"blocks": "precint_id"}, "blocks", "precint_id", "precinct_id"),
        ({"clusters": "houshold_id"}, "clusters", "houshold_id", "household_id"),
        ({"covariates": ["age", "voted_216"]}, "covariates", "voted_216", "voted_2016"),
        ({"weights": "weigth"}, "weights", "weigth", "weight"),
    ],
)
def test_unknown_column_did_you_mean(df, kwargs, argument, typo, suggestion) -> None:
    args = {"outcome": "voted", "assignment": "assigned", **kwargs}
    outcome, assignment = args.pop("outcome"), args.pop("assignment")
    with pytest.raises(ColumnNotFoundError) as info:
        fx.itt(df, outcome, assignment, method="ols" if "covariates" in args else "auto", **args)
    msg = str(info.value)
    assert f"column {typo!r} (argument {argument!r} of fieldexp.itt) is not in the data" in msg
    assert f"Did you mean {suggestion!r}?" in msg
    assert "Available columns: 'voter_id'" in msg


def test_unknown_treatment_column_in_cace(df) -> None:
    with pytest.raises(
        ColumnNotFoundError,
        match=r"'contact' \(argument 'treatment' of fieldexp.cace\).*Did you mean 'contacted'",
    ):
        fx.cace(df, "voted", "contact", "assigned")


def test_column_name_must_be_a_string(df) -> None:
    with pytest.raises(
        SpecificationError,
        match=r"'outcome' parameter of fieldexp.itt must be a column name \(str\)\. Got 3",
    ):
        fx.itt(df, 3, "assigned")


@pytest.mark.parametrize(
    ("call", "pattern"),
    [
        (
            lambda d: fx.itt(d, "voted", "voted"),
            r"'voted' is given both as 'outcome' and as 'assignment'",
        ),
        (
            lambda d: fx.cace(d, "voted", "assigned", "assigned"),
            r"'assigned' is given both as 'assignment' and as 'treatment'",
        ),
        (
            lambda d: fx.itt(d, "voted", "assigned", covariates=["age", "voted"], method="ols"),
            r"'voted' is given both in 'covariates' and as another role",
        ),
    ],
    ids=["outcome=assignment", "treatment=assignment", "covariate=outcome"],
)
def test_same_column_in_two_roles(df, call, pattern) -> None:
    with pytest.raises((SpecificationError, DataError), match=pattern):
        call(df)


@pytest.mark.parametrize(
    ("covariates", "pattern"),
    [
        (
            5,
            r"'covariates' parameter of fieldexp.itt must be a column name or a list of column names\. Got 5",
        ),
        (["age", "age"], r"'covariates' parameter of fieldexp.itt lists a column twice"),
    ],
)
def test_bad_covariates_argument(df, covariates, pattern) -> None:
    with pytest.raises(SpecificationError, match=pattern):
        fx.itt(df, "voted", "assigned", covariates=covariates, method="ols")


# --------------------------------------------------------------------------- values
def test_non_binary_assignment_lists_values_and_rows(df) -> None:
    df.loc[[4, 9], "assigned"] = 2
    df.loc[[12], "assigned"] = -1
    with pytest.raises(DataError) as info:
        fx.itt(df, "voted", "assigned")
    msg = str(info.value)
    assert "column 'assigned' (argument 'assignment' of fieldexp.itt) must be binary" in msg
    assert "found -1, 2 in rows 4, 9, 12." in msg


def test_non_binary_treatment(df) -> None:
    df["contacted"] = df["contacted"].astype(float)
    df.loc[[7], "contacted"] = 0.5
    with pytest.raises(
        DataError,
        match=r"'contacted' \(argument 'treatment' of fieldexp.cace\) must be binary.*found 0\.5 in row 7\b",
    ):
        fx.cace(df, "voted", "contacted", "assigned")


def test_string_assignment_is_rejected_as_non_numeric(df) -> None:
    df["arm"] = np.where(df.assigned == 1, "treat", "control")
    with pytest.raises(
        DataError,
        match=r"'arm' \(argument 'assignment' of fieldexp.itt\) must be numeric.*rows 0, 1, 2, 3, 4 \(and 2395 more\)",
    ):
        fx.itt(df, "voted", "arm")


def test_non_numeric_outcome(df) -> None:
    with pytest.raises(
        DataError,
        match=r"column 'city' \(argument 'outcome' of fieldexp.itt\) must be numeric; it has dtype str",
    ):
        fx.itt(df, "city", "assigned")


@pytest.mark.parametrize("dtype", ["str", "object"])
def test_numeric_looking_text_outcome_message(df, dtype: str) -> None:
    """Numbers stored as text: rejected with a message that says so (it once read
    'non-numeric values in no rows')."""
    df["voted"] = df["voted"].astype(dtype)
    with pytest.raises(DataError) as info:
        fx.itt(df, "voted", "assigned")
    msg = str(info.value)
    assert "column 'voted' (argument 'outcome' of fieldexp.itt) must be numeric" in msg
    assert "numbers stored as text" in msg
    assert "in no rows" not in msg


def test_infinite_outcome(df) -> None:
    df["age"] = df["age"].astype(float)
    df.loc[[3], "age"] = np.inf
    with pytest.raises(
        DataError,
        match=r"'age' \(argument 'outcome' of fieldexp.itt\) has infinite values in row 3\.",
    ):
        fx.itt(df, "age", "assigned")


@pytest.mark.parametrize("bad", [0.0, -0.5])
def test_weights_must_be_positive(df, bad: float) -> None:
    df.loc[[2, 30], "weight"] = bad
    with pytest.raises(
        DataError,
        match=r"column 'weight' \(argument 'weights' of fieldexp.itt\) must be strictly positive; found 2 values <= 0 in rows 2, 30\.",
    ):
        fx.itt(df, "voted", "assigned", weights="weight", method="ols")


def test_infinite_weight(df) -> None:
    df.loc[[8], "weight"] = np.inf
    with pytest.raises(
        DataError,
        match=r"'weight' \(argument 'weights' of fieldexp.cace\) has infinite values in row 8",
    ):
        fx.cace(df, "voted", "contacted", "assigned", weights="weight")


def test_no_variation_in_outcome(df) -> None:
    with pytest.raises(
        DataError,
        match=r"'voted' \(argument 'outcome' of fieldexp.itt\) has no variation: every one of the 2,400 rows used is 1",
    ):
        fx.itt(df.assign(voted=1), "voted", "assigned")


def test_no_variation_in_assignment(df) -> None:
    with pytest.raises(
        DataError,
        match=r"'assigned' \(argument 'assignment' of fieldexp.itt\) has no variation.*is 0; an effect needs both arms",
    ):
        fx.itt(df.assign(assigned=0), "voted", "assigned")


def test_no_variation_after_dropping_rows(df) -> None:
    """Variation is judged on the rows actually used."""
    df["voted"] = df["voted"].astype(float)
    df.loc[df.assigned == 1, "voted"] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(
            DataError, match=r"'assigned'.*has no variation: every one of the 1,188 rows used is 0"
        ):
            fx.itt(df, "voted", "assigned")


def test_no_variation_in_treatment(df) -> None:
    with pytest.raises(
        FieldexpError,
        match=r"'contacted' \(argument 'treatment' of fieldexp.cace\) has no variation",
    ):
        fx.cace(df.assign(contacted=0), "voted", "contacted", "assigned")


# --------------------------------------------------------------------------- design
def _household_of_size(df: pd.DataFrame, k: int) -> pd.Index:
    sizes = df.household_id.value_counts()
    hh = sorted(sizes[sizes >= k].index)[0]
    return df.index[df.household_id == hh]


@pytest.mark.parametrize("fn", ["itt", "cace"])
def test_assignment_varies_within_cluster(df, fn: str) -> None:
    """Clusters coarser than the assignment: difference_in_means' rule for method='dim' (its
    error names the rule and suggests method='ols'); the regressions accept them (issue 9.1)."""
    rows = _household_of_size(df, 3)
    df.loc[rows[1:2], "assigned"] = 1 - df.loc[rows[1], "assigned"]
    first = ", ".join(str(r) for r in rows[:5])
    pattern = (
        rf"method='dim' follows estimatr's difference_in_means.*"
        rf"column 'assigned' varies within 1 clusters of 'household_id', in rows {first}.*"
        rf"\(fieldexp.itt\).*use method='ols'"
    )
    if fn == "itt":
        with pytest.raises(DesignError, match=pattern):
            fx.itt(df, "voted", "assigned", clusters="household_id", method="dim")
        res = fx.itt(df, "voted", "assigned", clusters="household_id")  # auto -> ols
        assert res.method == "ols" and res.design == "clustered-se" and res.se_type == "CR2"
    else:
        res = fx.cace(df, "voted", "contacted", "assigned", clusters="household_id")
        assert res.design == "clustered-se" and res.se_type == "CR2"


def test_clusters_not_nested_in_blocks(df) -> None:
    rows = _household_of_size(df, 3)
    own = df.loc[rows[0], "precinct_id"]
    other = sorted(set(df.precinct_id) - {own})[0]
    df.loc[rows[2:3], "precinct_id"] = other
    with pytest.raises(DesignError) as info:
        fx.itt(df, "voted", "assigned", **DESIGN, method="dim")
    msg = str(info.value)
    assert "clusters 'household_id' are not nested in blocks 'precinct_id'" in msg
    assert "use method='ols'" in msg
    shown = re.search(r"in rows? ([\d, ]+)", msg)
    assert shown is not None
    reported = {int(r) for r in shown.group(1).split(", ")}
    assert reported and reported <= set(rows)  # rows of the offending household only
    # lm_robust accepts clusters that cross the fixed effects
    res = fx.itt(df, "voted", "assigned", **DESIGN, method="ols", se_type="stata")
    assert res.design == "blocked-clustered-se"


def test_block_with_one_arm_only(df) -> None:
    df.loc[df.precinct_id == "P0003", "assigned"] = 1
    df.loc[df.precinct_id == "P0007", "assigned"] = 0
    with pytest.raises(
        DesignError,
        match=r"2 block\(s\) of 'precinct_id' have units in one arm only \(blocks 'P0003', 'P0007'\)",
    ):
        fx.itt(df, "voted", "assigned", blocks="precinct_id", method="ols")


def test_only_one_cluster_per_arm_is_fine_but_one_arm_cluster_in_block_fails(df) -> None:
    """Sanity of the one-arm rule on clusters: a precinct reduced to one household."""
    keep = (df.precinct_id != "P0002") | (
        df.household_id == df.household_id[df.precinct_id == "P0002"].iloc[0]
    )
    with pytest.raises(DesignError, match=r"'P0002'"):
        fx.itt(df.loc[keep], "voted", "assigned", **DESIGN)


# --------------------------------------------------------------------------- collinearity
# estimatr drops collinear covariates (NA) and estimates the rest: so do we, with a
# CollinearWarning (numbers against estimatr: tests/stats/test_collinear_estimatr.py)


def test_duplicated_covariate_ols(df) -> None:
    df["age_copy"] = df["age"]
    with pytest.warns(CollinearWarning, match=r"'age_copy' \(it is collinear with 'age'\)"):
        got = fx.itt(df, "voted", "assigned", covariates=["age", "age_copy"], method="ols")
    ref = fx.itt(df, "voted", "assigned", covariates=["age"], method="ols")
    assert got.estimate == pytest.approx(ref.estimate, rel=1e-10)
    assert got.std_error == pytest.approx(ref.std_error, rel=1e-10)


def test_duplicated_covariate_lin_and_cace(df) -> None:
    df["age_copy"] = df["age"]
    with pytest.warns(CollinearWarning, match=r"'age_copy_c' \(it is collinear with 'age_c'\)"):
        got = fx.itt(df, "voted", "assigned", covariates=["age", "age_copy"])
    assert got.std_error == pytest.approx(
        fx.itt(df, "voted", "assigned", covariates=["age"]).std_error, rel=1e-10
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        got = fx.cace(df, "voted", "contacted", "assigned", covariates=["age", "age_copy"])
    collinear = [w for w in caught if issubclass(w.category, CollinearWarning)]
    assert len(collinear) == 1 and "'age_copy'" in str(collinear[0].message)  # warned once
    ref = fx.cace(df, "voted", "contacted", "assigned", covariates=["age"])
    assert got.std_error == pytest.approx(ref.std_error, rel=1e-10)


def test_linear_combination_of_covariates(df) -> None:
    df["total"] = df.voted_2016 + df.voted_2018 - 2 * df.voted_2020
    with pytest.warns(CollinearWarning, match=r"collinear with .*'voted_20"):
        fx.itt(
            df,
            "voted",
            "assigned",
            covariates=["voted_2016", "voted_2018", "voted_2020", "total"],
            method="ols",
        )


@pytest.mark.parametrize("fn", ["itt", "cace"])
def test_covariate_constant_within_every_block(df, fn: str) -> None:
    df["precinct_size"] = df.groupby("precinct_id")["voter_id"].transform("size").astype(float)
    with pytest.warns(
        CollinearWarning,
        match=r"'precinct_size' \(it has no variation left after absorbing the fixed effects of "
        r"'precinct_id'",
    ):
        if fn == "itt":
            fx.itt(df, "voted", "assigned", **DESIGN, covariates=["precinct_size"], method="ols")
        else:
            fx.cace(df, "voted", "contacted", "assigned", **DESIGN, covariates=["precinct_size"])


def test_constant_covariate_ols(df) -> None:
    # estimatr keeps c = 3 (the larger norm) and reports NA for the intercept
    with pytest.warns(CollinearWarning, match=r"'\(Intercept\)' \(it is collinear with 'c'\)"):
        got = fx.itt(df.assign(c=3.0), "voted", "assigned", covariates=["c"], method="ols")
    assert got.estimate == pytest.approx(
        fx.itt(df, "voted", "assigned", method="ols").estimate, rel=1e-10
    )


def test_block_level_covariate_with_lin_blames_the_covariate(df) -> None:
    df["pl"] = df.precinct_id.str[1:].astype(int)
    with pytest.warns(CollinearWarning) as info:
        fx.itt(df, "voted", "assigned", blocks="precinct_id", covariates=["pl"])
    blamed = re.search(r"regressor\(?s?\)?: '([^']+)'", str(info[0].message))
    # the user's covariate is blamed, not an internal block indicator
    assert blamed is not None and blamed.group(1).startswith("pl")


def test_constant_covariate_lin_message_does_not_mention_blocks(df) -> None:
    with pytest.warns(CollinearWarning) as info:
        fx.itt(df.assign(c=3.0), "voted", "assigned", covariates=["c"], method="lin")
    msg = str(info[0].message)
    assert "'c_c'" in msg and "no variation" in msg
    assert "block" not in msg


@pytest.mark.parametrize("method", ["ols", "lin"])
def test_covariate_equal_to_the_assignment_is_refused(df, method: str) -> None:
    with pytest.raises(EstimationError, match=r"'assigned'.*not identified"):
        fx.itt(df.assign(x=df.assigned), "voted", "assigned", covariates=["x"], method=method)


@pytest.mark.parametrize("method", ["auto", "ols"])
def test_single_level_categorical_covariate_is_not_silently_dropped(df, method: str) -> None:
    with pytest.raises(
        DataError,
        match=r"column 'band' \(argument 'covariates' of fieldexp.itt\) is categorical with a single level \('regular'",
    ):
        fx.itt(df.assign(band="regular"), "voted", "assigned", covariates=["band"], method=method)


def test_categorical_covariate_with_too_many_levels(df) -> None:
    with pytest.raises(
        DataError,
        match=r"'voter_id' \(argument 'covariates' of fieldexp.itt\) is not numeric and has 2,400 distinct values",
    ):
        fx.itt(df, "voted", "assigned", covariates=["voter_id"], method="ols")


# --------------------------------------------------------------------------- arguments
@pytest.mark.parametrize(
    ("se_type", "suggestion"), [("HC5", "HC3"), ("HC22", "HC2"), ("CR22", "CR2"), ("STATA", None)]
)
def test_unknown_se_type_lists_choices(df, se_type: str, suggestion: str | None) -> None:
    with pytest.raises(SpecificationError) as info:
        fx.itt(df, "voted", "assigned", method="ols", se_type=se_type)
    msg = str(info.value)
    assert (
        "'se_type' parameter must be one of 'HC0', 'HC1', 'HC2', 'HC3', 'CR0', 'CR2', 'stata'"
        in msg
    )
    assert f"Got {se_type!r} instead" in msg
    if suggestion:
        assert f"Did you mean {suggestion!r}?" in msg


def test_unknown_se_type_in_cace(df) -> None:
    with pytest.raises(
        SpecificationError, match=r"'se_type' parameter must be one of .*Got 'CR1' instead"
    ):
        fx.cace(df, "voted", "contacted", "assigned", clusters="household_id", se_type="CR1")


def test_cluster_se_type_without_clusters(df) -> None:
    with pytest.raises(
        SpecificationError,
        match=r"'se_type' parameter 'CR2' is cluster-robust and needs `clusters`",
    ):
        fx.itt(df, "voted", "assigned", method="ols", se_type="CR2")


def test_hc_se_type_with_clusters(df) -> None:
    with pytest.raises(
        SpecificationError,
        match=r"must be 'CR0', 'CR2' or 'stata' when `clusters` are given\. Got 'HC1'",
    ):
        fx.cace(df, "voted", "contacted", "assigned", clusters="household_id", se_type="HC1")


def test_unknown_method_lists_choices(df) -> None:
    with pytest.raises(
        SpecificationError,
        match=r"'method' parameter of fieldexp.itt must be one of 'auto', 'dim', 'ols', 'lin'\. Got 'lim' instead\. Did you mean 'lin'\?",
    ):
        fx.itt(df, "voted", "assigned", method="lim")


def test_se_type_with_dim(df) -> None:
    with pytest.raises(
        SpecificationError,
        match=r"'se_type' parameter of fieldexp.itt applies to method='ols' or 'lin'.*Got se_type='HC2'",
    ):
        fx.itt(df, "voted", "assigned", method="dim", se_type="HC2")


def test_covariates_with_dim(df) -> None:
    with pytest.raises(SpecificationError, match=r"method='dim' .* does not adjust for covariates"):
        fx.itt(df, "voted", "assigned", method="dim", covariates=["age"])


def test_lin_without_covariates(df) -> None:
    with pytest.raises(SpecificationError, match=r"method='lin' needs `covariates`"):
        fx.itt(df, "voted", "assigned", method="lin")


@pytest.mark.parametrize("alpha", [0, 1, -0.1, 1.5, float("nan"), "0.05", True, None])
@pytest.mark.parametrize("fn", ["itt", "cace"])
def test_alpha_outside_unit_interval(df, alpha, fn: str) -> None:
    pattern = rf"'alpha' parameter of fieldexp.{fn} must be a number strictly between 0 and 1\. Got {re.escape(repr(alpha))} instead"
    with pytest.raises(SpecificationError, match=pattern):
        if fn == "itt":
            fx.itt(df, "voted", "assigned", alpha=alpha)
        else:
            fx.cace(df, "voted", "contacted", "assigned", alpha=alpha)


# --------------------------------------------------------------------------- never a bare error
BAD_CALLS = [
    lambda d: fx.itt(d, "voted", "assigned", covariates=["age", "age"], method="lin"),
    lambda d: fx.itt(d.assign(x=d.assigned), "voted", "assigned", covariates=["x"], method="ols"),
    lambda d: fx.cace(d.assign(x=d.assigned), "voted", "contacted", "assigned", covariates=["x"]),
    lambda d: fx.cace(d.assign(x=d.contacted), "voted", "contacted", "assigned", covariates=["x"]),
    lambda d: fx.itt(d, "voted", "assigned", blocks="voter_id"),
    lambda d: fx.itt(d, "voted", "assigned", clusters="voter_id", method="ols", se_type="HC0"),
    lambda d: fx.itt(d.iloc[:3], "voted", "assigned"),
]


@pytest.mark.parametrize("call", BAD_CALLS)
def test_bad_calls_raise_fieldexp_errors_only(df, call) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(FieldexpError):
            call(df)


# --------------------------------------------------------------------------- properties
@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    values=st.lists(
        st.one_of(st.integers(-5, 9), st.floats(-3, 3, allow_nan=False)).filter(
            lambda v: v not in (0, 1)
        ),
        min_size=1,
        max_size=6,
    ),
    data=st.data(),
)
def test_non_binary_values_and_first_rows_are_reported(small, values, data) -> None:
    """Whatever non-0/1 values sit wherever: DataError listing the (first five sorted)
    values and the first offending row labels."""
    n = len(small)
    rows = sorted(
        data.draw(
            st.lists(st.integers(0, n - 1), min_size=len(values), max_size=len(values), unique=True)
        )
    )
    bad = small.assign(assigned=small.assigned.astype(float))
    bad.loc[rows, "assigned"] = values
    with pytest.raises(DataError) as info:
        fx.itt(bad, "voted", "assigned")
    msg = str(info.value)
    shown = sorted({float(v) for v in values})[:5]
    assert "found " + ", ".join(f"{v:g}" for v in shown) + " in " in msg
    word = "row" if len(rows) == 1 else "rows"
    assert f"{word} {', '.join(map(str, rows[:5]))}" in msg


# --------------------------------------------------------------------------- saturated models
@pytest.mark.parametrize(
    "kwargs",
    [{"se_type": "HC1"}, {"se_type": "stata"}, {"se_type": "stata", "clusters": "c"}],
    ids=["HC1", "stata", "stata-clustered"],
)
def test_saturated_model_with_n_minus_r_corrections(kwargs) -> None:
    df = pd.DataFrame(
        {"y": [1.0, 2.0, 4.0], "z": [0, 1, 1], "x": [0.5, 0.1, 0.9], "c": ["a", "b", "c"]}
    )
    # with clusters, one cluster in the control arm is refused first
    with pytest.raises(
        (EstimationError, DesignError),
        match=r"no residual degrees of freedom|at least two clusters in each arm",
    ):
        fx.itt(df, "y", "z", covariates=["x"], method="ols", **kwargs)


def test_saturated_model_without_correction_is_refused_too() -> None:
    df = pd.DataFrame({"y": [1.0, 2.0, 4.0], "z": [0, 1, 1], "x": [0.5, 0.1, 0.9]})
    with pytest.raises(EstimationError, match=r"3 parameters .* for 3 rows"):
        fx.itt(df, "y", "z", covariates=["x"], method="ols", se_type="HC0")


# --------------------------------------------------------------------------- fuzzing
@st.composite
def messy_experiments(draw):
    n = draw(st.integers(12, 30))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        {
            "y": rng.normal(size=n) if draw(st.booleans()) else rng.integers(0, 2, n),
            "z": rng.integers(0, draw(st.sampled_from([2, 2, 2, 3])), n),
            "d": rng.integers(0, 2, n),
            "b": rng.choice(["a", "b", "c"][: draw(st.integers(1, 3))], n),
            "c": rng.integers(0, max(1, n // draw(st.integers(1, 3))), n),
            "w": rng.uniform(-0.2, 2, n) if draw(st.booleans()) else rng.uniform(0.1, 2, n),
            "x": rng.normal(size=n),
            "s": rng.choice(["p", "q"], n),
        }
    )
    if draw(st.booleans()):  # assign whole clusters
        df["z"] = df.groupby("c")["z"].transform("first")
        df["d"] = df["d"] * df["z"]
    if draw(st.booleans()):
        col = draw(st.sampled_from(["y", "z", "b", "x", "w", "d", "s"]))
        df[col] = df[col].astype(object if col in ("b", "s") else float)
        df.loc[rng.choice(n, 1), col] = np.nan
    kwargs = {}
    if draw(st.booleans()):
        kwargs["blocks"] = "b"
    if draw(st.booleans()):
        kwargs["clusters"] = "c"
    if draw(st.booleans()):
        kwargs["weights"] = "w"
    covs = draw(st.lists(st.sampled_from(["x", "s"]), max_size=2, unique=True))
    if covs:
        kwargs["covariates"] = covs
    se = draw(st.sampled_from([None, "HC0", "HC1", "HC2", "HC3", "CR0", "CR2", "stata"]))
    if se is not None:
        kwargs["se_type"] = se
    return df, kwargs


@settings(max_examples=60, deadline=None)
@given(case=messy_experiments(), fn=st.sampled_from(["dim", "ols", "lin", "auto", "cace"]))
def test_any_input_gives_a_result_or_a_fieldexp_error(case, fn: str) -> None:
    """Random designs with random defects: never a bare KeyError/ValueError/LinAlgError/
    ZeroDivisionError, and the caller's frame is untouched."""
    df, kwargs = case
    before = df.copy(deep=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            if fn == "cace":
                res = fx.cace(df, "y", "d", "z", **kwargs)
            else:
                res = fx.itt(df, "y", "z", method=fn, **kwargs)
        except FieldexpError:
            res = None
    pd.testing.assert_frame_equal(df, before)
    if res is not None:
        assert res.nobs + res.n_dropped == len(df)
        assert np.isfinite(res.estimate)


# --------------------------------------------------------------------------- degenerate inference
def _villages(seed: int = 3) -> pd.DataFrame:
    """Eight villages; village 'V7' holds a single control (the insurance-experiment shape)."""
    rng = np.random.default_rng(seed)
    frames = []
    for v in range(8):
        n = 12 if v < 7 else 6
        z = np.r_[np.ones(n - (6 if v < 7 else 1)), np.zeros(6 if v < 7 else 1)]
        frames.append(
            pd.DataFrame({"village": f"V{v}", "z": z.astype(int), "x": rng.normal(size=n)})
        )
    df = pd.concat(frames, ignore_index=True)
    df["y"] = rng.normal(size=len(df)) + 0.2 * df["z"]
    return df.sample(frac=1.0, random_state=1)  # row labels are not positions


@pytest.mark.parametrize("se_type", ["HC2", "HC3"])
def test_leverage_one_is_named_with_block_and_rows(se_type) -> None:
    df = _villages()
    lone = df.index[(df.village == "V7") & (df.z == 0)]
    with pytest.raises(EstimationError) as info:
        fx.itt(df, "y", "z", blocks="village", covariates="x", method="lin", se_type=se_type)
    msg = str(info.value)
    assert f"se_type={se_type!r}" in msg and "leverage h_ii = 1" in msg
    assert f"row {lone[0]}" in msg and "'V7'" in msg and "'village'" in msg
    assert "only unit of its arm in its block" in msg
    assert "drop those blocks" in msg and "'HC1'" in msg
    # the defined alternatives run
    for ok in ("HC0", "HC1", "stata"):
        res = fx.itt(df, "y", "z", blocks="village", covariates="x", method="lin", se_type=ok)
        assert np.isfinite(res.std_error) and res.std_error > 0


def test_single_unit_arm_with_hc2_is_refused() -> None:
    df = pd.DataFrame({"y": [1.0, 2.0, 0.5, 3.0, 2.5, 4.0], "z": [1, 0, 0, 0, 0, 0]})
    with pytest.raises(EstimationError, match=r"leverage h_ii = 1.*in row 0"):
        fx.itt(df, "y", "z", method="ols")
    with pytest.raises(EstimationError, match=r"leverage h_ii = 1"):
        fx.cace(df.assign(d=df.z), "y", "d", "z", se_type="HC3")
    with pytest.raises(DesignError, match="at least two assigned and two not-assigned"):
        fx.itt(df, "y", "z", method="dim")


def test_one_cluster_in_an_arm_is_refused() -> None:
    df = pd.DataFrame(
        {"y": np.arange(12.0) % 5, "z": [1] * 3 + [0] * 9, "c": ["a"] * 3 + list("bbbcccddd")}
    )
    for call in (
        lambda: fx.itt(df, "y", "z", clusters="c", method="ols"),
        lambda: fx.itt(df, "y", "z", clusters="c", method="dim"),
        lambda: fx.cace(df.assign(d=df.z), "y", "d", "z", clusters="c"),
    ):
        with pytest.raises(DesignError, match="every assigned unit is in one cluster of 'c'"):
            call()


@pytest.mark.parametrize("method", ["dim", "ols"])
def test_zero_variance_within_arms_is_refused(method) -> None:
    df = pd.DataFrame({"y": [1.0] * 4 + [0.0] * 4, "z": [1] * 4 + [0] * 4})
    with pytest.raises(EstimationError, match=r"standard error .* is zero"):
        fx.itt(df, "y", "z", method=method)
    # shifted far from zero: same refusal, never an SE of 1e-16 with p = 1e-27
    with pytest.raises(EstimationError, match=r"standard error .* is zero"):
        fx.itt(df.assign(y=df.y + 1e11), "y", "z", method=method)


@pytest.mark.parametrize("bad", [np.inf, -np.inf])
def test_infinite_outcomes_are_refused_by_every_estimator(bad) -> None:
    df = pd.DataFrame({"y": np.arange(10.0), "z": [0, 1] * 5, "b": ["p", "q"] * 2 + ["p"] * 6})
    df["b"] = ["p", "p", "q", "q"] * 2 + ["p", "q"]
    df.loc[3, "y"] = bad
    for call in (
        lambda: fx.itt(df, "y", "z", method="dim"),
        lambda: fx.itt(df, "y", "z", method="ols"),
        lambda: fx.itt(df, "y", "z", method="lin", blocks="b"),
        lambda: fx.cace(df.assign(d=df.z), "y", "d", "z"),
    ):
        with pytest.raises(DataError, match="infinite values in row 3"):
            call()


def test_same_column_as_fixed_effect_and_cluster() -> None:
    """blocks='village', clusters='village' = lm_robust(fixed_effects = ~village, clusters =
    village); the difference in means refuses it (assignment varies within its clusters)."""
    df = _villages()
    df = df[df.village != "V7"]
    res = fx.itt(df, "y", "z", blocks="village", clusters="village", method="ols")
    assert res.design == "blocked-clustered-se" and res.nclusters == 7 and res.se_type == "CR2"
    auto = fx.itt(df, "y", "z", blocks="village", clusters="village")
    assert auto.method == "ols" and auto.estimate == res.estimate
    with pytest.raises(DesignError, match="use method='ols'"):
        fx.itt(df, "y", "z", blocks="village", clusters="village", method="dim")
