"""fx.spillover: estimatr references, hostile inputs, row order, simulation coverage."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import fieldexp as fx
from fieldexp.errors import DataError, DesignError, SpecificationError

REF = Path(__file__).resolve().parents[1] / "reference"
STATS = ("estimate", "std_error", "statistic", "df", "p_value", "ci_low", "ci_high")


@pytest.fixture(scope="module")
def households() -> pd.DataFrame:
    return pd.read_csv(REF / "spillover_households.csv")


def _reference() -> pd.DataFrame:
    return pd.read_csv(REF / "spillover.csv", keep_default_na=False, na_values=[""])


def _call(d: pd.DataFrame, row: pd.Series) -> fx.SpilloverResult:  # type: ignore[name-defined]
    def opt(name: str) -> str | None:
        v = row[name]
        return None if (isinstance(v, float) and math.isnan(v)) else str(v)

    return fx.spillover(
        d,
        "voted",
        "arm",
        targeted="targeted",
        household="hh",
        treated_arm="canvass",
        control_arm="control",
        placebo=opt("placebo"),
        treatment=opt("treatment"),
        covariates=opt("covariates"),
        blocks=opt("blocks"),
        se_type=opt("se_type"),
    )


@pytest.mark.parametrize("i", range(len(_reference())))
def test_spillover_matches_estimatr(households: pd.DataFrame, i: int) -> None:
    row = _reference().iloc[i]
    data = households
    if isinstance(row["placebo"], float):  # no placebo: drop the placebo arm as R does
        data = households[households["arm"] != "recycling"]
    res = getattr(_call(data, row), row["effect"])
    assert res is not None, row["effect"]
    for stat in STATS:
        np.testing.assert_allclose(getattr(res, stat), row[stat], rtol=1e-8, err_msg=stat)
    assert res.nobs == int(row["nobs"])
    assert res.nclusters == int(row["nclusters"])


def test_placebo_design_reports_every_contrast(households: pd.DataFrame) -> None:
    res = fx.spillover(
        households,
        "voted",
        "arm",
        targeted="targeted",
        household="hh",
        treatment="contacted",
        placebo="recycling",
        treated_arm="canvass",
        control_arm="control",
    )
    assert set(res.effects()) == {
        "direct",
        "spillover",
        "direct_per_contact",
        "spillover_per_contact",
        "direct_vs_placebo",
        "spillover_vs_placebo",
    }
    assert res.placebo_contrast == "contacted"
    # the held-out contrasts ignore the placebo arm: same as dropping it
    alone = fx.spillover(
        households[households["arm"] != "recycling"],
        "voted",
        "arm",
        targeted="targeted",
        household="hh",
        treated_arm="canvass",
        control_arm="control",
    )
    assert res.direct is not None and alone.direct is not None
    assert res.direct.estimate == pytest.approx(alone.direct.estimate, rel=1e-12)
    assert res.pass_through == pytest.approx(res.spillover.estimate / res.direct.estimate)  # type: ignore[union-attr]
    frame = res.to_frame()
    assert list(frame["effect"]) == list(res.effects())
    ci = res.conf_int(0.1)
    assert (ci["ci_high"] - ci["ci_low"] < frame["ci_high"] - frame["ci_low"]).all()
    assert "direct_vs_placebo" in str(res) and "<table" in res._repr_html_()


def test_placebo_only_design_has_no_held_out_contrast(households: pd.DataFrame) -> None:
    d = households[households["arm"] != "control"]
    res = fx.spillover(
        d,
        "voted",
        "arm",
        targeted="targeted",
        household="hh",
        placebo="recycling",
        treated_arm="canvass",
        control_arm="control",
    )
    assert res.direct is None and res.spillover is None
    assert res.direct_vs_placebo is not None and res.placebo_contrast == "assigned"
    ref = fx.itt(
        d[d["targeted"] == 1].assign(z=lambda f: (f["arm"] == "canvass").astype(float)),
        "voted",
        "z",
        clusters="hh",
        method="ols",
    )
    assert res.direct_vs_placebo.estimate == pytest.approx(ref.estimate, rel=1e-12)
    assert res.direct_vs_placebo.std_error == pytest.approx(ref.std_error, rel=1e-12)


def test_row_order_and_caller_data_untouched(households: pd.DataFrame) -> None:
    kw = dict(
        targeted="targeted",
        household="hh",
        treatment="contacted",
        placebo="recycling",
        treated_arm="canvass",
        control_arm="control",
        blocks="block",
        covariates="x",
    )
    before = households.copy()
    a = fx.spillover(households, "voted", "arm", **kw).to_frame()  # type: ignore[arg-type]
    pd.testing.assert_frame_equal(households, before)
    shuffled = households.sample(frac=1.0, random_state=3).reset_index(drop=True)
    b = fx.spillover(shuffled, "voted", "arm", **kw).to_frame()  # type: ignore[arg-type]
    num = a.select_dtypes("number").columns
    np.testing.assert_allclose(a[num].to_numpy(float), b[num].to_numpy(float), rtol=1e-10)


def _two_voter(n_hh: int = 4) -> pd.DataFrame:
    hh = np.repeat(np.arange(n_hh), 2)
    return pd.DataFrame(
        {
            "hh": hh,
            "z": (hh % 2).astype(int),
            "targeted": np.tile([1, 0], n_hh),
            "y": [0, 1, 1, 1, 0, 0, 1, 0][: 2 * n_hh],
        }
    )


def test_hostile_inputs() -> None:
    d = _two_voter()
    kw = dict(targeted="targeted", household="hh")
    bad = d.copy()
    bad.loc[1, "z"] = 1  # household 0 split across arms
    with pytest.raises(DesignError, match="constant within each household"):
        fx.spillover(bad, "y", "z", **kw)  # type: ignore[arg-type]
    bad = d.copy()
    bad.loc[0, "targeted"] = 0  # household 0 has no targeted member
    with pytest.raises(DesignError, match="needs a targeted member"):
        fx.spillover(bad, "y", "z", **kw)  # type: ignore[arg-type]
    bad = d.copy()
    bad.loc[2, "z"] = 7
    bad.loc[3, "z"] = 7
    with pytest.raises(DataError, match="labels other than"):
        fx.spillover(bad, "y", "z", **kw)  # type: ignore[arg-type]
    bad = d.copy().astype({"hh": float})
    bad.loc[4, "hh"] = np.nan
    with pytest.raises(DataError, match="cannot be missing"):
        fx.spillover(bad, "y", "z", **kw)  # type: ignore[arg-type]
    with pytest.raises(DataError, match="targeted"):
        fx.spillover(d.assign(targeted=1), "y", "z", **kw)  # type: ignore[arg-type]
    with pytest.raises(SpecificationError, match="different labels"):
        fx.spillover(d, "y", "z", placebo=1, **kw)  # type: ignore[arg-type]
    with pytest.raises(fx.FieldexpError):
        fx.spillover(d, "y", "nope", **kw)  # type: ignore[arg-type]


def _simulate(rng: np.random.Generator, n_hh: int, direct: float, spill: float) -> pd.DataFrame:
    hh = np.repeat(np.arange(n_hh), 2)
    z_hh = rng.permutation(np.r_[np.ones(n_hh // 2), np.zeros(n_hh - n_hh // 2)])
    u_hh = rng.normal(0, 1, n_hh)  # household-level correlation
    targeted = np.tile([1, 0], n_hh)
    z = z_hh[hh]
    y = 0.5 * u_hh[hh] + rng.normal(0, 1, 2 * n_hh) + z * np.where(targeted == 1, direct, spill)
    return pd.DataFrame({"hh": hh, "z": z, "targeted": targeted, "y": y})


@pytest.mark.slow
def test_simulation_coverage_direct_and_spillover() -> None:
    """Known direct 0.30 and spillover 0.18 (60% pass-through): 95% CIs cover both.

    200 seeded replications of 200 two-voter households; coverage must lie in [0.90, 0.99]
    (binomial s.e. about 0.015 at 0.95), and the mean pass-through must be near 0.6.
    """
    rng = np.random.default_rng(20080601)
    direct, spill = 0.30, 0.18
    cover_d = cover_s = 0
    ratios = []
    sims = 200
    for _ in range(sims):
        res = fx.spillover(
            _simulate(rng, 200, direct, spill), "y", "z", targeted="targeted", household="hh"
        )
        assert res.direct is not None and res.spillover is not None
        cover_d += res.direct.ci_low <= direct <= res.direct.ci_high
        cover_s += res.spillover.ci_low <= spill <= res.spillover.ci_high
        ratios.append(res.spillover.estimate / direct)
    assert 0.90 <= cover_d / sims <= 0.99, cover_d / sims
    assert 0.90 <= cover_s / sims <= 0.99, cover_s / sims
    assert float(np.mean(ratios)) == pytest.approx(0.6, abs=0.05)


def test_missing_outcome_left_out_once_with_one_warning(households: pd.DataFrame) -> None:
    d = households[households["arm"] != "recycling"].copy()
    d.loc[d.index[:6], "voted"] = np.nan
    kw = dict(targeted="targeted", household="hh", treated_arm="canvass", control_arm="control")
    with pytest.warns(fx.FieldexpWarning, match="fieldexp.spillover: left out 6 of") as record:
        res = fx.spillover(d, "voted", "arm", **kw)  # type: ignore[arg-type]
    assert len([w for w in record if issubclass(w.category, fx.FieldexpWarning)]) == 1
    kept = d[d["targeted"] == 1].dropna(subset=["voted"])
    ref = fx.itt(
        kept.assign(z=(kept["arm"] == "canvass").astype(float)),
        "voted",
        "z",
        clusters="hh",
        method="ols",
    )
    assert res.direct is not None
    assert res.direct.estimate == pytest.approx(ref.estimate, rel=1e-12)
    assert res.direct.std_error == pytest.approx(ref.std_error, rel=1e-12)
    assert res.n_targeted + res.n_nontargeted == len(d) - 6


@pytest.mark.slow
def test_simulation_coverage_per_contact() -> None:
    """Per-contact effects with 40% of targeted members answering (compliers differ in
    baseline): direct 0.5 and spillover 0.3 per contacted household. 200 seeded replications
    of 300 two-voter households: 2SLS 95% CI coverage in [0.90, 0.99] for both."""
    rng = np.random.default_rng(7)
    cover_d = cover_s = 0
    sims = 200
    for _ in range(sims):
        n_hh = 300
        hh = np.repeat(np.arange(n_hh), 2)
        tgt = np.tile([1, 0], n_hh)
        z_hh = rng.permutation(np.r_[np.ones(150), np.zeros(150)])
        answers = rng.random(n_hh) < 0.4
        u = rng.normal(0, 1, n_hh) + 0.5 * answers
        contact = np.where(tgt == 1, (z_hh * answers)[hh], np.nan)
        effect = (z_hh * answers)[hh] * np.where(tgt == 1, 0.5, 0.3)
        y = u[hh] + rng.normal(0, 1, 2 * n_hh) + effect
        d = pd.DataFrame({"hh": hh, "z": z_hh[hh], "targeted": tgt, "c": contact, "y": y})
        res = fx.spillover(d, "y", "z", targeted="targeted", household="hh", treatment="c")
        assert res.direct_per_contact is not None and res.spillover_per_contact is not None
        dc, sc = res.direct_per_contact, res.spillover_per_contact
        cover_d += dc.ci_low <= 0.5 <= dc.ci_high
        cover_s += sc.ci_low <= 0.3 <= sc.ci_high
    assert 0.90 <= cover_d / sims <= 0.99, cover_d / sims
    assert 0.90 <= cover_s / sims <= 0.99, cover_s / sims
