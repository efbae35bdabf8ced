"""Lin's estimator with block indicators by absorbing block x arm cells (fieldexp.stats.lin)
against the dense lm_lin design (fieldexp.experiment.designs.lin_design), every SE type."""

from __future__ import annotations

import numpy as np
import pytest

from fieldexp.experiment.designs import lin_design
from fieldexp.stats.groups import factorize
from fieldexp.stats.lin import block_arm_cells, fit_lin_blocked, lin_blocked_supported
from fieldexp.stats.linear import fit_ols

RTOL = 1e-8


def _data(seed: int, *, n_blocks: int = 6, p: int = 2):
    rng = np.random.default_rng(seed)
    rows_b, rows_h, z = [], [], []
    hh = 0
    for b in range(n_blocks):
        arms = rng.permutation(np.arange(int(rng.integers(6, 14))) % 2)
        for a in arms:
            for _ in range(int(rng.integers(1, 4))):
                rows_b.append(b)
                rows_h.append(hh)
                z.append(a)
            hh += 1
    z = np.array(z, dtype=float)
    n = len(z)
    X = rng.normal(size=(n, p))
    y = 0.3 * z + X @ rng.normal(size=p) + rng.normal(size=n) + 0.2 * np.array(rows_b)
    w = rng.uniform(0.5, 2.0, n)
    return y, z, X, factorize(np.array(rows_b)), factorize(np.array(rows_h)), w


CASES = [
    ("HC0", False, False),
    ("HC1", False, False),
    ("HC2", False, False),
    ("HC3", False, False),
    ("HC1", False, True),
    ("HC2", False, True),
    ("HC3", False, True),
    ("CR0", True, False),
    ("stata", True, False),
    ("CR2", True, False),
    ("CR0", True, True),
    ("stata", True, True),
]


@pytest.mark.parametrize("p", [0, 1, 3])
@pytest.mark.parametrize(("se_type", "clustered", "weighted"), CASES)
@pytest.mark.parametrize("seed", [1, 2])
def test_cells_equal_dense_lin(se_type, clustered, weighted, p, seed) -> None:
    y, z, X, blocks, hh, w = _data(seed, p=p)
    weights = w if weighted else None
    clusters = hh if clustered else None
    names = tuple(f"x{j}" for j in range(p))
    assert lin_blocked_supported(
        se_type, weighted=weighted, clusters=clusters, cells=block_arm_cells(blocks, z)
    )
    fast = fit_lin_blocked(y, z, X, z_name="z", covariate_names=names, blocks=blocks,
                           se_type=se_type, weights=weights, clusters=clusters)  # fmt: skip
    design = lin_design(z, "z", X, names, blocks, weights)
    dense = fit_ols(design.X, y, names=design.names, se_type=se_type, weights=weights,
                    clusters=clusters, df_terms=("z",))  # fmt: skip
    j = dense.index("z")
    np.testing.assert_allclose(fast.coef[0], dense.coef[j], rtol=RTOL)
    np.testing.assert_allclose(fast.std_error[0], dense.std_error[j], rtol=RTOL)
    if se_type == "CR2":
        np.testing.assert_allclose(fast.df[0], dense.df[j], rtol=RTOL)
    else:
        assert fast.df[0] == dense.df[j]
    assert fast.rank == dense.rank


def test_coarse_clusters_or_weighted_cr2_need_the_dense_design() -> None:
    _, z, _, blocks, hh, _ = _data(3)
    cells = block_arm_cells(blocks, z)
    assert not lin_blocked_supported("CR2", weighted=False, clusters=blocks, cells=cells)
    assert not lin_blocked_supported("CR2", weighted=True, clusters=hh, cells=cells)
    assert lin_blocked_supported("stata", weighted=False, clusters=blocks, cells=cells)


@pytest.mark.parametrize(("se_type", "clustered"), [("HC2", False), ("CR2", True), ("stata", True)])
def test_row_order_does_not_change_the_result(se_type, clustered) -> None:
    y, z, X, blocks, hh, _ = _data(5, p=2)
    perm = np.random.default_rng(0).permutation(len(y))
    fits = [
        fit_lin_blocked(
            y[o],
            z[o],
            X[o],
            z_name="z",
            covariate_names=("a", "b"),
            blocks=factorize(blocks.codes[o]),
            se_type=se_type,
            clusters=factorize(hh.codes[o]) if clustered else None,
        )
        for o in (np.arange(len(y)), perm)
    ]
    np.testing.assert_allclose(fits[1].coef, fits[0].coef, rtol=1e-12)
    np.testing.assert_allclose(fits[1].std_error, fits[0].std_error, rtol=1e-12)
    np.testing.assert_allclose(fits[1].df, fits[0].df, rtol=1e-10)


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("with_fe", [False, True])
def test_joint_cr2_of_2sls_and_first_stage_equals_separate_fits(weighted, with_fe) -> None:
    from fieldexp.stats.linear import absorb_columns, fit_absorbed, fit_iv_and_first_stage_cr2

    y, z, X, blocks, hh, w = _data(11, p=2)
    rng = np.random.default_rng(2)
    d = np.where(z == 1, rng.integers(0, 2, len(z)), 0).astype(float)
    lead = 0 if with_fe else 1
    cols = np.column_stack([y, d, z, *([np.ones(len(y))] if lead else []), X])
    exog = list(range(3, cols.shape[1]))
    const = ("(Intercept)",) if lead else ()
    kw = {
        "weights": w if weighted else None,
        "absorb": (blocks,) if with_fe else (),
        "clusters": hh,
    }
    ab = absorb_columns(np.asfortranarray(cols), se_type="CR2", **kw)
    fs, iv = fit_iv_and_first_stage_cr2(ab, y_col=0, d_col=1, z_col=2, exog_cols=exog,
                                        iv_names=("d", *const, "a", "b"),
                                        fs_names=("z", *const, "a", "b"), clusters=hh)  # fmt: skip
    fs2 = fit_absorbed(ab, y_col=1, x_cols=[2, *exog], names=("z", *const, "a", "b"),
                       se_type="CR2", clusters=hh, df_terms=("z",))  # fmt: skip
    iv2 = fit_absorbed(ab, y_col=0, x_cols=[1, *exog], z_cols=[2, *exog],
                       names=("d", *const, "a", "b"), se_type="CR2", clusters=hh,
                       df_terms=("d",))  # fmt: skip
    for joint, alone in ((fs, fs2), (iv, iv2)):
        np.testing.assert_allclose(joint.coef[0], alone.coef[0], rtol=1e-12)
        np.testing.assert_allclose(joint.std_error[0], alone.std_error[0], rtol=1e-10)
        np.testing.assert_allclose(joint.df[0], alone.df[0], rtol=1e-10)
