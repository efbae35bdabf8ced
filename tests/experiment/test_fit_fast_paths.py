"""The fast paths of the ITT + CACE fit (issue 12 item 4a) give the numbers of the general ones.

* group sums over contiguous segments (rows sorted into large groups: a voter file sorted by
  precinct) equal ``np.bincount``;
* the fits read blocks of one cross-product matrix; the reported coefficient's HC0/HC1/CR0/CR1
  variance comes from one score column: both equal the full sandwich's element;
* results do not depend on row order (sorted rows take the segment paths, shuffled rows the
  bincount ones), nor on whether ITT and CACE run together, separately, or after the caller
  changed the frame between calls (no state is kept between calls).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import fieldexp as fx
from fieldexp.stats.absorb import demean
from fieldexp.stats.covariance import contrast_covariance
from fieldexp.stats.groups import factorize, group_totals, segment_starts
from fieldexp.stats.linear import absorb_columns, fit_absorbed

COVS = ["voted_2016", "voted_2018", "voted_2020"]
RTOL = 1e-10


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    t = fx.simulate(8000, seed=11, id_type="int").table
    rng = np.random.default_rng(5)
    t = t.assign(w=rng.uniform(0.5, 2.0, len(t)))
    # sorted by precinct and household, as a voter file usually is
    return t.sort_values(["precinct_id", "household_id"], kind="stable").reset_index(drop=True)


def _values(r: fx.EffectResult) -> np.ndarray:
    v = [r.estimate, r.std_error, r.df, r.ci_low, r.ci_high, r.p_value]
    if r.first_stage is not None:
        v += [r.first_stage.estimate, r.first_stage.std_error, r.first_stage.f_statistic]
    return np.array(v, dtype=float)


def _fit_both(frame: pd.DataFrame, **kw: object) -> tuple[np.ndarray, np.ndarray]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = fx.itt(frame, "voted", "assigned", method="ols", covariates=COVS, **kw)
        b = fx.cace(frame, "voted", "contacted", "assigned", covariates=COVS, **kw)
    return _values(a), _values(b)


def test_segments_are_used_on_sorted_precincts(table: pd.DataFrame) -> None:
    blocks = factorize(table["precinct_id"])
    assert segment_starts(blocks) is not None  # the reduceat path is exercised below
    households = factorize(table["household_id"])
    assert segment_starts(households) is None  # small groups: bincount
    shuffled = factorize(table["precinct_id"].sample(frac=1.0, random_state=1))
    assert segment_starts(shuffled) is None


def test_group_totals_and_demean_equal_bincount(table: pd.DataFrame) -> None:
    g = factorize(table["precinct_id"])
    x = np.random.default_rng(2).normal(size=(len(table), 3))
    for j in range(3):
        np.testing.assert_allclose(
            group_totals(g, x[:, j]),
            np.bincount(g.codes, weights=x[:, j], minlength=g.n_groups),
            rtol=1e-12,
        )
    perm = np.random.default_rng(3).permutation(len(table))
    gs = factorize(table["precinct_id"].to_numpy()[perm])
    w = table["w"].to_numpy()
    for weights in (None, w):
        sorted_ = demean(x, [g], weights)
        shuffled = demean(x[perm], [gs], None if weights is None else weights[perm])
        np.testing.assert_allclose(sorted_[perm], shuffled, rtol=1e-9, atol=1e-12)


def test_factorize_with_and_without_gaps() -> None:
    full = factorize(np.array([3, 1, 2, 2, 3, 1]))
    gaps = factorize(np.array([30, 10, 20, 20, 30, 10]))
    for g in (full, gaps):
        assert g.n_groups == 3
        np.testing.assert_array_equal(g.codes, [2, 0, 1, 1, 2, 0])
        np.testing.assert_array_equal(g.counts, [2, 2, 2])
    # codes are the caller's labels shifted, in a new array: the caller's is not touched
    labels = np.array([5, 6, 5, 7])
    g = factorize(labels)
    g.codes[0] = 99
    np.testing.assert_array_equal(labels, [5, 6, 5, 7])


@pytest.mark.parametrize("se_type", ["HC0", "HC1", "CR0", "stata"])
@pytest.mark.parametrize("weighted", [False, True])
def test_reported_variance_is_the_sandwich_element(
    table: pd.DataFrame, se_type: str, weighted: bool
) -> None:
    n = len(table)
    blocks = factorize(table["precinct_id"])
    clusters = factorize(table["household_id"]) if se_type in ("CR0", "stata") else None
    cols = np.empty((n, 6), order="F")
    cols[:, 0] = table["voted"]
    cols[:, 1] = table["contacted"]
    cols[:, 2] = table["assigned"]
    cols[:, 3:] = table[COVS].to_numpy(dtype=float)
    ab = absorb_columns(
        cols,
        se_type=se_type,
        weights=table["w"].to_numpy() if weighted else None,
        absorb=(blocks,),
        clusters=clusters,
    )
    names = ("contacted", *COVS)
    kw = dict(
        y_col=0,
        x_cols=[1, 3, 4, 5],
        z_cols=[2, 3, 4, 5],
        names=names,
        se_type=se_type,
        clusters=clusters,
    )
    full = fit_absorbed(ab, **kw)  # type: ignore[arg-type]
    one = fit_absorbed(ab, report=("contacted",), **kw)  # type: ignore[arg-type]
    assert one.names == ("contacted",)
    np.testing.assert_allclose(one.coef[0], full.coef[0], rtol=RTOL)
    np.testing.assert_allclose(one.vcov[0, 0], full.vcov[0, 0], rtol=RTOL)
    np.testing.assert_allclose(one.df[0], full.df[0], rtol=RTOL)
    assert one.rank == full.rank and one.nobs == full.nobs


def test_contrast_covariance_unchanged_for_leverage_types(table: pd.DataFrame) -> None:
    """HC2 through contrast_covariance equals the coefficient's full HC2 variance."""
    n = len(table)
    blocks = factorize(table["precinct_id"])
    cols = np.empty((n, 5), order="F")
    cols[:, 0] = table["voted"]
    cols[:, 1] = table["assigned"]
    cols[:, 2:] = table[COVS].to_numpy(dtype=float)
    ab = absorb_columns(cols, se_type="HC2", absorb=(blocks,))
    from fieldexp.stats.linear import _solve_absorbed

    solved = _solve_absorbed(
        ab,
        y_col=0,
        x_cols=range(1, 5),
        names=("assigned", *COVS),
        se_type="HC2",
        clusters=None,
        z_cols=None,
        df_terms=None,
        small_sample="estimatr",
    )
    full = fit_absorbed(
        ab, y_col=0, x_cols=range(1, 5), names=("assigned", *COVS), se_type="HC2", clusters=None
    )
    cov = contrast_covariance(solved.inputs, solved.psi(0), "HC2")
    np.testing.assert_allclose(cov.vcov[0, 0], full.vcov[0, 0], rtol=RTOL)


@pytest.mark.parametrize(
    "kw",
    [
        dict(blocks="precinct_id", clusters="household_id", se_type="stata"),
        dict(blocks="precinct_id", clusters="household_id", se_type="stata", weights="w"),
        dict(blocks="precinct_id", clusters="household_id", se_type="CR2"),
        dict(blocks="precinct_id", clusters="household_id", se_type="CR0"),
        dict(blocks="precinct_id", se_type="HC2"),
        dict(blocks="precinct_id", se_type="HC1", weights="w"),
        dict(clusters="household_id", se_type="stata"),
        dict(blocks="precinct_id", clusters="precinct_id", se_type="stata"),
    ],
    ids=lambda kw: "-".join(f"{k}={v}" for k, v in kw.items()),
)
def test_row_order_does_not_matter(table: pd.DataFrame, kw: dict) -> None:
    sorted_ = _fit_both(table, **kw)
    shuffled = _fit_both(table.sample(frac=1.0, random_state=7), **kw)
    reversed_ = _fit_both(table.iloc[::-1], **kw)
    for a, b, c in zip(sorted_, shuffled, reversed_, strict=True):
        np.testing.assert_allclose(b, a, rtol=RTOL)
        np.testing.assert_allclose(c, a, rtol=RTOL)


def test_together_separately_and_after_the_caller_changes_the_frame(
    table: pd.DataFrame,
) -> None:
    kw = dict(blocks="precinct_id", clusters="household_id", se_type="stata")
    before = table.copy()
    frame = table.copy()
    itt_first, cace_after_itt = _fit_both(frame, **kw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cace_alone = _values(
            fx.cace(table.copy(), "voted", "contacted", "assigned", covariates=COVS, **kw)
        )
        itt_alone = _values(
            fx.itt(table.copy(), "voted", "assigned", method="ols", covariates=COVS, **kw)
        )
    np.testing.assert_array_equal(cace_after_itt, cace_alone)
    np.testing.assert_array_equal(itt_first, itt_alone)

    # the caller edits the same frame object in place between calls: the next fit sees it
    flip = np.arange(0, len(frame), 3)
    frame.loc[flip, "voted"] = 1 - frame.loc[flip, "voted"]
    frame.loc[flip[:200], "voted_2018"] = 1 - frame.loc[flip[:200], "voted_2018"]
    edited = _fit_both(frame, **kw)
    fresh = _fit_both(frame.copy(), **kw)
    for a, b in zip(edited, fresh, strict=True):
        np.testing.assert_array_equal(a, b)
    assert not np.allclose(edited[0][:2], itt_first[:2])  # the edit changed the answer
    # and the caller's frames were only read
    pd.testing.assert_frame_equal(table, before)
