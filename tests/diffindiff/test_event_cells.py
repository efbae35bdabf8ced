"""The event study's cell-sum fit (diffindiff/_cells.py) equals the general fit_ols path."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import fieldexp.diffindiff._cells as _cells
import fieldexp.diffindiff.events as events
from fieldexp.diffindiff import event_study
from fieldexp.diffindiff._cells import fit_indicator_cells
from fieldexp.diffindiff.panels import positions
from fieldexp.errors import CollinearWarning


@pytest.fixture(autouse=True)
def _cells_on_small_panels(monkeypatch: pytest.MonkeyPatch) -> None:
    """The cell path runs from MIN_ROWS rows on; these panels are small."""
    monkeypatch.setattr(_cells, "MIN_ROWS", 0)


NUM = ["estimate", "std_error", "statistic", "p_value", "ci_low", "ci_high"]


def _panel(balanced: bool, seed: int = 3, n: int = 600, periods: int = 6) -> pd.DataFrame:
    """Voters x elections; unbalanced = registered later (observed from a period on)."""
    rng = np.random.default_rng(seed)
    cohort = rng.choice([0, 0, 3, 4, 5], n)
    start = np.ones(n, dtype=int) if balanced else rng.choice([1, 1, 2, 3], n)
    u = np.repeat(np.arange(n), periods)
    t = np.tile(np.arange(1, periods + 1), n)
    g = cohort[u]
    p = 0.35 + 0.06 * ((g > 0) & (t >= g)) + 0.02 * t
    y = (rng.random(n * periods) < p).astype(float)
    df = pd.DataFrame(
        {"voter": [f"V{i:05d}" for i in u], "t": t, "g": g, "y": y, "hh": [f"H{i // 3}" for i in u]}
    )
    return df.loc[t >= start[u]].reset_index(drop=True)


def _general(monkeypatch: pytest.MonkeyPatch, *args: object, **kw: object) -> events.EventStudy:
    with monkeypatch.context() as m:
        m.setattr(events, "fit_indicator_cells", lambda *a, **k: None)
        return event_study(*args, **kw)  # type: ignore[arg-type]


def _same(a: events.EventStudy, b: events.EventStudy, rtol: float = 1e-10) -> None:
    ca, cb = a.coefficients, b.coefficients
    assert ca["event_time"].tolist() == cb["event_time"].tolist()
    np.testing.assert_allclose(ca[NUM].to_numpy(), cb[NUM].to_numpy(), rtol=rtol, atol=0)
    np.testing.assert_allclose(a.vcov, b.vcov, rtol=rtol, atol=0)
    assert a.nobs == b.nobs and a.nclusters == b.nclusters
    assert (a.pretest is None) == (b.pretest is None)
    if a.pretest is not None and b.pretest is not None:
        assert a.pretest.statistic == pytest.approx(b.pretest.statistic, rel=rtol)
        assert a.pretest_f is not None and b.pretest_f is not None
        assert a.pretest_f.p_value == pytest.approx(b.pretest_f.p_value, rel=rtol)


@pytest.mark.parametrize("balanced", [True, False])
@pytest.mark.parametrize("estimator", ["twfe", "sun_abraham"])
@pytest.mark.parametrize(
    ("se_type", "small_sample"), [("stata", "estimatr"), ("stata", "fixest"), ("CR0", "estimatr")]
)
def test_cells_equal_general_path(
    monkeypatch: pytest.MonkeyPatch, balanced: bool, estimator: str, se_type: str, small_sample: str
) -> None:
    df = _panel(balanced)
    kw = dict(
        clusters="hh", se_type=se_type, estimator=estimator, small_sample=small_sample, leads=3
    )
    used = []
    real = events.fit_indicator_cells

    def spy(*a: object, **k: object) -> object:
        out = real(*a, **k)  # type: ignore[arg-type]
        used.append(out is not None)
        return out

    monkeypatch.setattr(events, "fit_indicator_cells", spy)
    fast = event_study(df, "y", "voter", "t", "g", **kw)  # type: ignore[arg-type]
    monkeypatch.setattr(events, "fit_indicator_cells", real)
    assert used == [True]  # the cell path ran
    _same(fast, _general(monkeypatch, df, "y", "voter", "t", "g", **kw))


def test_cells_do_not_depend_on_row_order() -> None:
    df = _panel(False, seed=8)
    a = event_study(df, "y", "voter", "t", "g", clusters="hh")
    shuffled = df.sample(frac=1.0, random_state=4)
    b = event_study(shuffled, "y", "voter", "t", "g", clusters="hh")
    _same(a, b)


def test_unit_clusters_and_integer_ids(monkeypatch: pytest.MonkeyPatch) -> None:
    df = _panel(False, seed=5)
    df = df.assign(vid=df["voter"].str[1:].astype(int))
    kw = dict(clusters="vid", leads=2, lags=1)
    _same(
        event_study(df, "y", "vid", "t", "g", **kw),  # type: ignore[arg-type]
        _general(monkeypatch, df, "y", "vid", "t", "g", **kw),
    )


def test_cells_decline_what_they_do_not_cover() -> None:
    df = _panel(True)
    from fieldexp.diffindiff.twfe import label_index, panel_index

    units, periods = panel_index(
        df["voter"], df["t"].to_numpy(), labels=df.index, unit="voter", time="t"
    )
    hh = label_index(df["hh"])
    g, t = df["g"].to_numpy(), df["t"].to_numpy()
    col = np.where((g > 0) & (t >= g), 0, -1)  # treated (a static DiD column)
    y = df["y"].to_numpy()
    args = (y, col, 1, ["e0"])
    common = dict(units=units, periods=periods, small_sample="estimatr")
    assert fit_indicator_cells(*args, clusters=hh, se_type="stata", weights=None, **common)
    # weights, unclustered / leverage-based variances: the general path
    w = np.ones(len(y))
    assert fit_indicator_cells(*args, clusters=hh, se_type="stata", weights=w, **common) is None
    assert fit_indicator_cells(*args, clusters=None, se_type="HC1", weights=None, **common) is None
    assert fit_indicator_cells(*args, clusters=hh, se_type="CR2", weights=None, **common) is None
    # clusters that split a unit (clustered by period): the general path
    by_t = label_index(df["t"].astype(str))
    assert fit_indicator_cells(*args, clusters=by_t, se_type="CR0", weights=None, **common) is None


def test_small_panels_keep_the_general_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_cells, "MIN_ROWS", 100_000)
    df = _panel(True)
    from fieldexp.diffindiff.twfe import label_index, panel_index

    units, periods = panel_index(
        df["voter"], df["t"].to_numpy(), labels=df.index, unit="voter", time="t"
    )
    g, t = df["g"].to_numpy(), df["t"].to_numpy()
    got = fit_indicator_cells(
        df["y"].to_numpy(),
        np.where((g > 0) & (t >= g), 0, -1),
        1,
        ["e0"],
        units=units,
        periods=periods,
        clusters=label_index(df["hh"]),
        se_type="stata",
        weights=None,
    )
    assert got is None


def test_collinear_design_gets_the_general_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """A column that the fixed effects absorb: the cells path declines, the general fit drops it."""
    df = _panel(True, seed=2)
    from fieldexp.diffindiff.twfe import label_index, panel_index

    units, periods = panel_index(
        df["voter"], df["t"].to_numpy(), labels=df.index, unit="voter", time="t"
    )
    # column 0 = "treated cohort" (constant within unit): absorbed by the unit effects
    col = np.where(df["g"].to_numpy() > 0, 0, -1)
    col[(df["t"].to_numpy() == 6) & (df["g"].to_numpy() > 0)] = 1
    got = fit_indicator_cells(
        df["y"].to_numpy(),
        col,
        2,
        ["a", "b"],
        units=units,
        periods=periods,
        clusters=label_index(df["hh"]),
        se_type="stata",
        weights=None,
    )
    assert got is None
    from fieldexp.stats.linear import fit_ols

    X = np.zeros((len(df), 2))
    X[np.flatnonzero(col >= 0), col[col >= 0]] = 1.0
    # the general fit drops it as estimatr does (NA) and estimates the rest
    with pytest.warns(CollinearWarning, match="collinear with"):
        fit = fit_ols(
            X,
            df["y"].to_numpy(),
            names=["a", "b"],
            se_type="stata",
            absorb=(units, periods),
            clusters=label_index(df["hh"]),
        )
    # a + b is the treated cohort (constant within units): one of them goes (here b, the
    # smaller norm left after the fixed effects, as estimatr's pivoted QR chooses)
    assert len(fit.dropped) == 1 and np.sum(np.isnan(fit.coef)) == 1


@pytest.mark.parametrize(
    "keys",
    [
        pd.Index(["b", "a", "c", None], dtype="str"),
        pd.Index(["b", "a", "c"], dtype=object),
        pd.Index([3, 1, 2]),
    ],
)
def test_positions_is_get_indexer(keys: pd.Index) -> None:
    vals = list(keys[:3]) * 2 + ([keys[0]] if keys.dtype.kind in "iu" else ["zz"])
    values = pd.Series(vals, dtype=keys.dtype)
    if keys.dtype == "str":
        values = pd.concat([values, pd.Series([None], dtype="str")], ignore_index=True)
    np.testing.assert_array_equal(positions(keys, values), keys.get_indexer(pd.Index(values)))


@pytest.mark.shared
def test_cell_path_matches_estimatr_on_mpdta(shared_data: object) -> None:
    """The R estimatr reference (tests/diffindiff/reference_twfe.csv) through the cell path."""
    from pathlib import Path

    here = Path(__file__).parent
    ref = pd.read_csv(here / "reference_twfe.csv").set_index("case")
    mpdta = pd.read_csv(shared_data / "mpdta.csv")  # type: ignore[operator]
    res = event_study(mpdta, "lemp", "countyreal", "year", "first.treat", clusters="countyreal")
    tab = res.coefficients.set_index("event_time")
    for e in [-4, -3, -2, 0, 1, 2, 3]:
        r = ref.loc[f"mpdta_es_{'em' + str(-e) if e < 0 else 'e' + str(e)}"]
        for col in ["estimate", "std_error", "statistic", "df", "p_value", "ci_low", "ci_high"]:
            assert tab.loc[e, col] == pytest.approx(r[col], rel=1e-8), (e, col)
    # Sun & Abraham through the cell path: R did's dynamic estimates (README, 6 decimals)
    sa = event_study(
        mpdta,
        "lemp",
        "countyreal",
        "year",
        "first.treat",
        estimator="sun_abraham",
        clusters="countyreal",
    ).coefficients.set_index("event_time")
    for e, r in [(0, -0.019932), (1, -0.050957), (2, -0.137259), (3, -0.100811)]:
        assert abs(sa.loc[e, "estimate"] - r) <= 5e-7
