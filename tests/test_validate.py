"""Boundary validation helpers (:mod:`fieldexp._validate`) and their messages."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import fieldexp as fx
from fieldexp._validate import (
    as_column_list,
    check_binary,
    check_choice,
    check_columns,
    check_frame,
    check_positive,
    check_probability,
    drop_missing,
    numeric,
)
from fieldexp.errors import (
    ColumnNotFoundError,
    DataError,
    RowsDroppedWarning,
    SpecificationError,
    did_you_mean,
    format_rows,
)

F = "f"


def test_check_frame() -> None:
    df = pd.DataFrame({"a": [1]})
    assert check_frame(df, function=F) is df
    with pytest.raises(
        SpecificationError, match=r"'data' parameter of f must be a pandas DataFrame\. Got Series"
    ):
        check_frame(df["a"], function=F)
    with pytest.raises(DataError, match=r"'data' parameter of f is empty \(0 rows\)"):
        check_frame(df.iloc[:0], function=F)
    with pytest.raises(DataError, match=r"duplicated column names: 'a'"):
        check_frame(pd.DataFrame([[1, 2]], columns=["a", "a"]), function=F)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, []),
        ("a", ["a"]),
        (["a", "b"], ["a", "b"]),
        (("a",), ["a"]),
        (pd.Index(["x", "y"]), ["x", "y"]),
    ],
)
def test_as_column_list(value, expected) -> None:
    assert as_column_list(value, function=F, argument="covariates") == expected


@pytest.mark.parametrize("value", [3, {"a": 1}, b"a", ["a", 2]])
def test_as_column_list_rejects(value) -> None:
    with pytest.raises(
        SpecificationError, match=r"'covariates' parameter of f must be a column name or a list"
    ):
        as_column_list(value, function=F, argument="covariates")


def test_check_columns() -> None:
    df = pd.DataFrame({"turnout": [1], "assigned": [0]})
    check_columns(df, {"outcome": "turnout", "assignment": "assigned", "blocks": None}, function=F)
    with pytest.raises(
        ColumnNotFoundError,
        match=r"column 'turnot' \(argument 'outcome' of f\) is not in the data\. Did you mean 'turnout'\? Available columns: 'turnout', 'assigned'\.",
    ):
        check_columns(df, {"outcome": "turnot"}, function=F)
    with pytest.raises(
        SpecificationError, match=r"'turnout' is given both as 'outcome' and as 'assignment'"
    ):
        check_columns(df, {"outcome": "turnout", "assignment": "turnout"}, function=F)
    with pytest.raises(
        SpecificationError, match=r"'blocks' parameter of f must be a column name \(str\)"
    ):
        check_columns(df, {"blocks": 1}, function=F)


def test_check_columns_lists_at_most_twenty() -> None:
    df = pd.DataFrame({f"c{i}": [0] for i in range(30)})
    with pytest.raises(ColumnNotFoundError) as info:
        check_columns(df, {"outcome": "zzz"}, function=F)
    msg = str(info.value)
    assert "'c19'" in msg and "'c20'" not in msg and msg.endswith(" ....")


def test_drop_missing_counts_and_rows() -> None:
    df = pd.DataFrame(
        {
            "y": [1.0, np.nan, 3.0, np.nan, 5.0, 6.0],
            "x": ["a", "b", None, None, "e", "f"],
            "unused": [np.nan] * 6,
        },
        index=[10, 11, 12, 13, 14, 15],
    )
    before = df.copy(deep=True)
    with pytest.warns(RowsDroppedWarning) as rec:
        kept, n = drop_missing(df, ["y", "x", "y"], function=F)
    assert n == 3
    assert list(kept.index) == [10, 14, 15]
    msg = str(rec[0].message)
    assert "f: dropped 3 of 6 rows" in msg
    assert "'y': 2" in msg and "'x': 2" in msg and "unused" not in msg
    assert "rows 11, 12, 13" in msg
    pd.testing.assert_frame_equal(df, before)


def test_drop_missing_nothing_to_drop_does_not_warn() -> None:
    df = pd.DataFrame({"y": [1.0, 2.0], "x": [np.nan, np.nan]})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        kept, n = drop_missing(df, ["y"], function=F)
    assert n == 0 and len(kept) == 2


def test_drop_missing_everything_raises() -> None:
    df = pd.DataFrame({"y": [np.nan, 1.0], "x": [1.0, np.nan]})
    with pytest.raises(
        DataError, match=r"every row of the data has a missing value in 'y', 'x' \(f\)"
    ):
        drop_missing(df, ["y", "x"], function=F)


@pytest.mark.parametrize(
    ("dtype", "na"),
    [
        ("float64", np.nan),
        ("object", None),
        ("str", None),
        ("category", np.nan),
        ("Float64", pd.NA),
        ("Int64", pd.NA),
        ("boolean", pd.NA),
        ("int64[pyarrow]", pd.NA),
    ],
)
def test_drop_missing_sees_every_kind_of_missing(dtype: str, na) -> None:
    if dtype == "int64[pyarrow]":
        pytest.importorskip("pyarrow")
    s = pd.Series([1, 0, 1, 1], dtype="float64").astype(dtype if dtype != "str" else "str")
    df = pd.DataFrame({"v": s})
    df.loc[[1], "v"] = na
    with pytest.warns(RowsDroppedWarning, match=r"'v': 1"):
        kept, n = drop_missing(df, ["v"], function=F)
    assert n == 1 and list(kept.index) == [0, 2, 3]


def test_itt_with_nullable_boolean_outcome_drops_na_rows() -> None:
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"y": rng.integers(0, 2, 40).astype(bool), "z": np.tile([0, 1], 20)})
    df["y"] = df["y"].astype("boolean")
    df.loc[[3, 5], "y"] = pd.NA
    with pytest.warns(RowsDroppedWarning):
        res = fx.itt(df, "y", "z")
    assert res.nobs == 38
    assert np.isfinite(res.estimate)


def test_itt_with_nullable_int_covariate_drops_na_rows() -> None:
    rng = np.random.default_rng(1)
    df = pd.DataFrame(
        {"y": rng.normal(size=40), "z": np.tile([0, 1], 20), "age": rng.integers(18, 90, 40)}
    )
    df["age"] = df["age"].astype("Int64")
    df.loc[[3], "age"] = pd.NA
    with pytest.warns(RowsDroppedWarning, match=r"'age': 1"):
        res = fx.itt(df, "y", "z", covariates=["age"])
    assert res.nobs == 39


def test_numeric_and_binary_and_positive() -> None:
    s = pd.Series([0, 1, 1, 0], name="z")
    out = numeric(s, argument="assignment", function=F)
    assert out.dtype == np.float64 and out.tolist() == [0, 1, 1, 0]
    assert check_binary(pd.Series([True, False], name="z"), argument="a", function=F).tolist() == [
        1.0,
        0.0,
    ]
    with pytest.raises(
        DataError,
        match=r"column 'z' \(argument 'a' of f\) must be binary \(0/1 or True/False\); found 0\.5, 2 in rows 1, 2\.",
    ):
        check_binary(pd.Series([0, 0.5, 2, 1], name="z"), argument="a", function=F)
    with pytest.raises(
        DataError,
        match=r"column 'w' \(argument 'weights' of f\) must be strictly positive; found 1 values <= 0 in row 'b'\.",
    ):
        check_positive(
            pd.Series([1.0, 0.0], index=["a", "b"], name="w"), argument="weights", function=F
        )
    with pytest.raises(
        DataError, match=r"must be numeric; it has dtype .* non-numeric values in row 1\b"
    ):
        numeric(pd.Series(["1", "x", "2"], name="c"), argument="outcome", function=F)


@pytest.mark.parametrize("value", [0.5, 1e-9, 0.999])
def test_check_probability_accepts(value) -> None:
    assert check_probability(value, argument="alpha", function=F) == value


@pytest.mark.parametrize("value", [0, 1, 0.0, 1.0, -1, 2, True, "0.1", None, float("nan")])
def test_check_probability_rejects(value) -> None:
    with pytest.raises(
        SpecificationError,
        match=r"'alpha' parameter of f must be a number strictly between 0 and 1",
    ):
        check_probability(value, argument="alpha", function=F)


def test_check_choice() -> None:
    assert check_choice("ols", ("dim", "ols"), argument="method", function=F) == "ols"
    with pytest.raises(
        SpecificationError,
        match=r"'method' parameter of f must be one of 'dim', 'ols'\. Got 'osl' instead\. Did you mean 'ols'\?",
    ):
        check_choice("osl", ("dim", "ols"), argument="method", function=F)
    with pytest.raises(SpecificationError, match=r"Got 3 instead\.$"):
        check_choice(3, ("dim", "ols"), argument="method", function=F)


def test_format_rows_and_did_you_mean() -> None:
    assert format_rows([3]) == "row 3"
    assert format_rows(["a", "b"]) == "rows 'a', 'b'"
    assert format_rows(range(8)) == "rows 0, 1, 2, 3, 4 (and 3 more)"
    assert format_rows([1, 2], total=10) == "rows 1, 2 (and 8 more)"
    assert format_rows([]) == "no rows"
    assert did_you_mean("votd", ["voted", "age"]) == " Did you mean 'voted'?"
    assert did_you_mean("zzz", ["voted", "age"]) == ""
