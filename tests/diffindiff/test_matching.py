"""fieldexp.diffindiff.comparison_group: exact matching / weighting on vote history before the DiD."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fieldexp.diffindiff import comparison_group, staggered_did
from fieldexp.errors import DataError, RowsDroppedWarning, SpecificationError


def _selected(seed=0, n=30_000, tau=0.05):
    """Canvassing targets frequent voters, whose turnout trends differently (conditional PT)."""
    rng = np.random.default_rng(seed)
    h = rng.random((n, 2)) < 0.5
    kind = h.sum(axis=1)  # 0, 1, 2 past votes
    treated = rng.random(n) < np.array([0.1, 0.3, 0.6])[kind]
    base = np.array([0.2, 0.45, 0.7])[kind]
    trend = np.array([0.04, 0.0, -0.03])[kind]
    rows = []
    y = np.empty((n, 5))
    y[:, 0], y[:, 1] = h[:, 0], h[:, 1]
    for t in (3, 4, 5):
        p = base + trend * (t - 2) + tau * treated
        y[:, t - 1] = rng.random(n) < p
    g = np.where(treated, 3, 0)
    rows = pd.DataFrame(
        {
            "id": np.repeat(np.arange(n), 5),
            "t": np.tile(np.arange(1, 6), n),
            "g": np.repeat(g, 5),
            "y": y.reshape(-1),
            "region": np.repeat(rng.integers(0, 3, n), 5),
        }
    )
    return rows


def test_exact_matching_on_history_removes_the_bias():
    df = _selected()
    naive = staggered_did(df, "y", "id", "t", "g").aggregate("simple")
    cg = comparison_group(df, "y", "id", "t", "g")
    assert cg.covariates == ("hist_1", "hist_2")
    matched = staggered_did(cg.data, "y", "id", "t", "g", weights=cg.weights).aggregate("simple")
    assert abs(naive.estimate - 0.05) > 4 * naive.std_error  # biased without matching
    assert abs(matched.estimate - 0.05) < 4 * matched.std_error
    bal = cg.balance.set_index("variable")
    assert (bal["smd_before"].abs() > 0.2).all()
    np.testing.assert_allclose(bal["smd_after"], 0.0, atol=1e-12)
    assert "Comparison group (exact)" in str(cg) and "<table" in cg._repr_html_()


def test_weighting_and_dr_on_history():
    df = _selected(seed=1)
    cg = comparison_group(df, "y", "id", "t", "g", method="ipw", covariates="region")
    w = staggered_did(cg.data, "y", "id", "t", "g", weights=cg.weights).aggregate("simple")
    assert abs(w.estimate - 0.05) < 4 * w.std_error
    assert (cg.balance["smd_after"].abs() < 0.05).all()
    dr = staggered_did(
        cg.data, "y", "id", "t", "g", covariates=list(cg.covariates), est_method="dr"
    ).aggregate("simple")
    assert abs(dr.estimate - 0.05) < 4 * dr.std_error


def test_unmatched_strata_are_dropped_and_counted():
    df = _selected(seed=2, n=3000)
    df.loc[df["id"] == 0, "region"] = 99  # a unique stratum
    with pytest.warns(RowsDroppedWarning, match="no comparison unit with the same pattern"):
        cg = comparison_group(df, "y", "id", "t", "g", covariates=["region"])
    assert cg.n_treated + cg.n_treated_dropped == int((df.groupby("id")["g"].first() > 0).sum())
    assert 0 not in set(cg.data["id"])


def test_bad_input():
    df = _selected(n=500)
    with pytest.raises(SpecificationError, match=r"'method' parameter .* must be one of"):
        comparison_group(df, "y", "id", "t", "g", method="nn")
    inf = df.copy()
    inf.loc[inf.index[3], "y"] = np.inf
    with pytest.raises(DataError, match=rf"outcome column 'y'.*finite.*row {inf.index[3]}"):
        comparison_group(inf, "y", "id", "t", "g")
    bad = df.assign(x=np.arange(len(df)))
    with pytest.raises(DataError, match="constant within unit"):
        comparison_group(bad, "y", "id", "t", "g", covariates="x")
    with pytest.raises(DataError, match="both canvassed and never-canvassed"):
        comparison_group(df.assign(g=3), "y", "id", "t", "g")
