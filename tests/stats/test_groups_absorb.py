"""Group indexing, group sums and fixed-effect absorption against loops and dummy regressions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fieldexp.stats.absorb import demean, fe_rank
from fieldexp.stats.groups import factorize, from_codes, group_sums
from fieldexp.stats.linear import is_nested


def _dummies(labels: np.ndarray) -> np.ndarray:
    levels = np.unique(labels)
    return (labels[:, None] == levels[None, :]).astype(float)


def _weighted_residual(x: np.ndarray, D: np.ndarray, w: np.ndarray | None) -> np.ndarray:
    """Residual of the (weighted) least-squares regression of x on the columns of D."""
    w = np.ones(len(D)) if w is None else w
    sw = np.sqrt(w)
    coef, *_ = np.linalg.lstsq(D * sw[:, None], (x.T * sw).T, rcond=None)
    return x - D @ coef


# --------------------------------------------------------------------------- factorize
def _assert_valid_coding(labels: np.ndarray, g) -> None:
    """Dense codes 0..G-1, one code per label and one label per code, counts per code."""
    labels = np.asarray(labels)
    assert g.codes.dtype == np.int64
    assert g.n == labels.size
    assert g.n_groups == len(np.unique(labels))
    assert set(g.codes.tolist()) == set(range(g.n_groups))
    for code in range(g.n_groups):
        members = labels[g.codes == code]
        assert len(set(members.tolist())) == 1
        assert g.counts[code] == np.sum(labels == members[0])


def test_factorize_strings() -> None:
    labels = np.array(["b", "a", "c", "a", "b", "b"])
    g = factorize(labels)
    _assert_valid_coding(labels, g)
    assert g.n_groups == 3
    assert sorted(g.counts.tolist()) == [1, 2, 3]


@pytest.mark.parametrize(
    "labels",
    [
        np.array([40, -3, 7, 1000, 7, 40, -3, -3]),  # compact-ish integers
        np.array([10**12, 5, 10**12, 5, 77]),  # sparse integers (hash path)
        np.array([3, 1, 2, 3, 1], dtype=np.uint8),
        np.array([2.5, 1.0, 2.5, 7.0]),
        pd.Series(["P2", "P10", "P1", "P10"]),
    ],
    ids=["int", "sparse-int", "uint8", "float", "series"],
)
def test_factorize_label_kinds(labels) -> None:
    g = factorize(labels)
    _assert_valid_coding(np.asarray(labels), g)


def test_factorize_random_integers_roundtrip() -> None:
    rng = np.random.default_rng(0)
    labels = rng.choice([40, -3, 7, 1000], size=200)
    _assert_valid_coding(labels, factorize(labels))


def test_subset_recodes_densely() -> None:
    g = factorize(np.array(["a", "b", "c", "b", "c", "a"]))
    sub = g.subset(np.array([False, True, True, True, True, False]))  # drops every "a"
    assert sub.n_groups == 2
    np.testing.assert_array_equal(sub.codes, [0, 1, 0, 1])
    np.testing.assert_array_equal(sub.counts, [2, 2])
    f = from_codes(np.array([9, 4, 9, 100]))
    np.testing.assert_array_equal(f.codes, [1, 0, 1, 2])
    np.testing.assert_array_equal(f.counts, [1, 2, 1])


# --------------------------------------------------------------------------- group sums
@pytest.mark.parametrize("ncol", [None, 1, 3])
def test_group_sums_match_loop(ncol: int | None) -> None:
    rng = np.random.default_rng(ncol or 0)
    codes = rng.integers(0, 7, size=150)
    codes[codes == 5] = 6  # an empty group 5 must give zeros
    values = rng.normal(size=150) if ncol is None else rng.normal(size=(150, ncol))
    out = group_sums(codes, values, 8)
    expected = np.zeros((8, *values.shape[1:]))
    for i, c in enumerate(codes):
        expected[c] += values[i]
    np.testing.assert_allclose(out, expected, rtol=1e-13, atol=1e-13)
    assert out.shape == expected.shape
    g = from_codes(codes)
    np.testing.assert_allclose(g.sums(values), expected[np.unique(codes)], rtol=1e-13, atol=1e-13)


# --------------------------------------------------------------------------- nesting / rank
def test_is_nested() -> None:
    block = factorize(np.array([0, 0, 0, 1, 1, 1]))
    nested = factorize(np.array(["h1", "h1", "h2", "h3", "h3", "h4"]))
    crossing = factorize(np.array(["h1", "h1", "h2", "h2", "h3", "h3"]))
    assert is_nested(nested, block)
    assert not is_nested(crossing, block)
    assert is_nested(block, block)
    assert not is_nested(block, nested)


def test_fe_rank_counts_like_estimatr() -> None:
    a = factorize(np.arange(12) % 4)
    b = factorize(np.arange(12) % 3)
    assert fe_rank([]) == 0
    assert fe_rank([a]) == 4
    assert fe_rank([a, b]) == 4 + 3 - 1
    D = np.column_stack([_dummies(np.arange(12) % 4), _dummies(np.arange(12) % 3)])
    assert np.linalg.matrix_rank(D) == fe_rank([a, b])


# --------------------------------------------------------------------------- demean
@pytest.mark.parametrize("weighted", [False, True])
def test_demean_one_factor_equals_dummy_regression_residual(weighted: bool) -> None:
    rng = np.random.default_rng(1)
    n = 90
    labels = rng.choice(["p1", "p2", "p3", "p4", "p5"], size=n)
    X = rng.normal(size=(n, 3)) + rng.integers(0, 5, size=(n, 1))
    w = rng.uniform(0.2, 4.0, size=n) if weighted else None
    out = demean(X, [factorize(labels)], w)
    np.testing.assert_allclose(out, _weighted_residual(X, _dummies(labels), w), atol=1e-12)
    vec = demean(X[:, 0], [factorize(labels)], w)
    assert vec.shape == (n,)
    np.testing.assert_allclose(vec, out[:, 0], atol=1e-14)


@pytest.mark.parametrize("weighted", [False, True])
def test_demean_two_factors_equals_dummy_regression_residual(weighted: bool) -> None:
    rng = np.random.default_rng(2)
    n = 120
    f1 = rng.integers(0, 6, size=n)
    f2 = rng.integers(0, 4, size=n)
    X = rng.normal(size=(n, 2)) + f1[:, None] * 0.7 - f2[:, None]
    w = rng.uniform(0.2, 4.0, size=n) if weighted else None
    out = demean(X, [factorize(f1), factorize(f2)], w)
    D = np.column_stack([_dummies(f1), _dummies(f2)])
    np.testing.assert_allclose(out, _weighted_residual(X, D, w), atol=1e-9)


def test_demean_does_not_modify_input_and_no_factors_copies() -> None:
    rng = np.random.default_rng(3)
    X = rng.normal(size=(30, 2))
    before = X.copy()
    g = factorize(rng.integers(0, 3, size=30))
    demean(X, [g])
    np.testing.assert_array_equal(X, before)
    out = demean(X, [])
    np.testing.assert_array_equal(out, X)
    assert out is not X


@pytest.mark.parametrize(
    "labels",
    [
        np.array([-100, 100, -100, 100], dtype=np.int8),
        np.array([-1, 127, 5, 127], dtype=np.int8),
        np.repeat(np.array([-20000, 20000], dtype=np.int16), 20000),
    ],
    ids=["int8", "int8-minus-one", "int16"],
)
def test_factorize_narrow_signed_integers(labels) -> None:
    _assert_valid_coding(labels, factorize(labels))


def test_itt_with_int8_blocks() -> None:
    import fieldexp as fx

    rng = np.random.default_rng(0)
    df = pd.DataFrame(
        {
            "y": rng.normal(size=40),
            "z": np.tile([0, 1], 20),
            "b": np.repeat(np.array([-100, 100], dtype=np.int8), 20),
        }
    )
    ref = fx.itt(df.assign(b=df.b.astype(np.int64)), "y", "z", blocks="b")
    res = fx.itt(df, "y", "z", blocks="b")
    assert res.estimate == pytest.approx(ref.estimate, rel=1e-14)


def test_balanced_panel_closed_form_equals_alternating_projections() -> None:
    from fieldexp.stats.absorb import is_balanced_grid

    rng = np.random.default_rng(11)
    unit = np.repeat(np.arange(40), 5)
    time = np.tile(np.arange(5), 40)
    perm = rng.permutation(unit.size)
    gu, gt = factorize(unit[perm]), factorize(time[perm])
    X = rng.normal(size=(unit.size, 3))
    assert is_balanced_grid(gu, gt)
    closed = demean(X, [gu, gt])
    iterated = demean(X, [gu, gt], weights=np.ones(unit.size))  # weights force projections
    np.testing.assert_allclose(closed, iterated, rtol=0, atol=1e-12)
    # and the unit means and period means of the result are zero
    for g in (gu, gt):
        np.testing.assert_allclose(group_sums(g.codes, closed, g.n_groups), 0.0, atol=1e-12)
    keep = rng.random(unit.size) > 0.1
    assert not is_balanced_grid(gu.subset(keep), gt.subset(keep))


def test_demean_never_overwrites_the_callers_array_unless_asked() -> None:
    rng = np.random.default_rng(12)
    g = factorize(rng.integers(0, 5, 60))
    X = np.asfortranarray(rng.normal(size=(60, 2)))
    before = X.copy()
    out = demean(X, [g])
    np.testing.assert_array_equal(X, before)
    inplace = demean(X, [g], overwrite=True)
    assert inplace is X
    np.testing.assert_allclose(inplace, out, rtol=0, atol=1e-15)
