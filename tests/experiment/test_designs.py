"""Design matrices of the regression estimators (:mod:`fieldexp.experiment.designs`)."""

from __future__ import annotations

import numpy as np
import pytest

from fieldexp.errors import EstimationError, SpecificationError
from fieldexp.experiment import designs
from fieldexp.experiment.designs import lin_design, ols_design
from fieldexp.stats.groups import factorize


@pytest.fixture
def arrays():
    rng = np.random.default_rng(0)
    n = 60
    z = np.tile([0.0, 1.0], n // 2)
    X = np.column_stack([rng.normal(size=n), rng.integers(0, 2, n).astype(float)])
    blocks = factorize(np.repeat(["a", "b", "c"], n // 3))
    w = rng.uniform(0.5, 2.0, size=n)
    y = 1 + 0.5 * z + X @ [0.3, -0.2] + rng.normal(size=n)
    return z, X, blocks, w, y


def test_ols_design_without_blocks_has_intercept(arrays) -> None:
    z, X, _, _, _ = arrays
    d = ols_design(z, "assigned", X, ("age", "v16"), None)
    assert d.names == ("(Intercept)", "assigned", "age", "v16")
    np.testing.assert_array_equal(d.X, np.column_stack([np.ones(len(z)), z, X]))
    assert d.absorb == () and d.Z is None


def test_ols_design_with_blocks_absorbs_them(arrays) -> None:
    z, X, blocks, _, _ = arrays
    d = ols_design(z, "assigned", X, ("age", "v16"), blocks)
    assert d.names == ("assigned", "age", "v16")
    np.testing.assert_array_equal(d.X, np.column_stack([z, X]))
    assert d.absorb == (blocks,)


def test_ols_design_instruments(arrays) -> None:
    z, X, blocks, _, _ = arrays
    dcol = z * (np.arange(len(z)) % 3 > 0)
    d = ols_design(dcol, "contacted", X, ("age", "v16"), None, instrument=z)
    np.testing.assert_array_equal(d.X, np.column_stack([np.ones(len(z)), dcol, X]))
    np.testing.assert_array_equal(d.Z, np.column_stack([np.ones(len(z)), z, X]))
    db = ols_design(dcol, "contacted", X, ("age", "v16"), blocks, instrument=z)
    np.testing.assert_array_equal(db.Z, np.column_stack([z, X]))


@pytest.mark.parametrize("weighted", [False, True])
def test_lin_design_centres_and_interacts(arrays, weighted: bool) -> None:
    z, X, _, w, _ = arrays
    ww = w if weighted else None
    d = lin_design(z, "assigned", X, ("age", "v16"), None, ww)
    centre = np.average(X, axis=0, weights=ww)
    Xc = X - centre
    expected = np.column_stack([np.ones(len(z)), z, Xc, Xc * z[:, None]])
    np.testing.assert_allclose(d.X, expected, rtol=1e-14, atol=1e-14)
    assert d.names == (
        "(Intercept)",
        "assigned",
        "age_c",
        "v16_c",
        "assigned:age_c",
        "assigned:v16_c",
    )
    # centred columns have (weighted) mean zero
    np.testing.assert_allclose(np.average(d.X[:, 2:4], axis=0, weights=ww), 0.0, atol=1e-13)
    assert d.absorb == ()


def test_lin_design_blocks_join_the_covariates(arrays) -> None:
    z, X, blocks, _, _ = arrays
    d = lin_design(z, "assigned", X, ("age", "v16"), blocks, None)
    # 2 covariates + (3 - 1) block indicators, each centred and interacted
    assert d.X.shape == (len(z), 2 + 2 * 4)
    assert d.names[:2] == ("(Intercept)", "assigned")
    main = d.names[2:6]
    assert set(main) == {"age_c", "v16_c", "block[1]_c", "block[2]_c"}
    assert d.names[6:] == tuple(f"assigned:{name}" for name in main)
    col = {name: d.X[:, j] for j, name in enumerate(d.names)}
    np.testing.assert_allclose(col["age_c"], X[:, 0] - X[:, 0].mean(), atol=1e-14)
    np.testing.assert_allclose(col["assigned:v16_c"], z * (X[:, 1] - X[:, 1].mean()), atol=1e-14)
    # undo the centring (each block is a third of the rows): 0/1 indicators of blocks 1 and 2
    ind = np.column_stack([col["block[1]_c"], col["block[2]_c"]]) + 1 / 3
    np.testing.assert_allclose(
        ind, np.column_stack([blocks.codes == 1, blocks.codes == 2]), atol=1e-14
    )


def test_lin_with_only_blocks_is_the_block_weighted_dim(arrays) -> None:
    """With block indicators only, Lin's coefficient on z is sum_b (N_b / N) tau_b."""
    z, _, _, _, y = arrays
    labels = np.repeat(["a", "b", "c", "d"], [10, 20, 14, 16])
    blocks = factorize(labels)
    d = lin_design(z, "z", np.empty((len(z), 0)), (), blocks, None)
    beta, *_ = np.linalg.lstsq(d.X, y, rcond=None)
    tau = 0.0
    for lab in np.unique(labels):
        m = labels == lab
        tau += m.mean() * (y[m & (z == 1)].mean() - y[m & (z == 0)].mean())
    assert beta[1] == pytest.approx(tau, rel=1e-10)


def test_lin_needs_something_to_adjust_for(arrays) -> None:
    z, *_ = arrays
    with pytest.raises(
        SpecificationError, match=r"method='lin' needs `covariates` \(or `blocks`\)"
    ):
        lin_design(z, "z", np.empty((len(z), 0)), (), None, None)


def test_lin_with_too_many_blocks_suggests_ols(arrays, monkeypatch) -> None:
    """The dense design is needed only for CR2 with weights or coarse clusters (itt absorbs the
    block x arm cells otherwise); when too large it says so and suggests the alternatives."""
    z, X, blocks, _, _ = arrays
    monkeypatch.setattr(designs, "MAX_LIN_CELLS", 100)
    with pytest.raises(
        EstimationError,
        match=r"Lin's estimator with 3 blocks .* needed only for CR2 .*se_type='stata'.*method='ols'",
    ):
        lin_design(z, "z", X, ("a", "b"), blocks, None)
