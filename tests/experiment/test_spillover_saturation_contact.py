"""fx.spillover(saturation=...): effects by saturation level, per assigned household and per
contact, against estimatr lm_robust / iv_robust (tests/reference/make_reference_saturation.R)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import fieldexp as fx

REF = Path(__file__).resolve().parents[1] / "reference"
STATS = ("estimate", "std_error", "statistic", "df", "p_value", "ci_low", "ci_high")
RTOL = 1e-8  # R writes 17 significant digits; the algebra is the same up to rounding


def _fit(blocks: str | None = None) -> fx.SpilloverResult:  # type: ignore[name-defined]
    d = pd.read_csv(REF / "saturation_households.csv")
    return fx.spillover(
        d,
        "voted",
        "z",
        targeted="targeted",
        household="hh",
        clusters="nbhd",
        blocks=blocks,
        treatment="contacted",
        saturation="saturation",
    )


@pytest.fixture(scope="module")
def result() -> fx.SpilloverResult:  # type: ignore[name-defined]
    return _fit()


@pytest.fixture(scope="module")
def blocked() -> fx.SpilloverResult:  # type: ignore[name-defined]
    return _fit("block")  # stage-1 blocks as fixed effects


def _reference() -> pd.DataFrame:
    return pd.read_csv(REF / "saturation.csv", keep_default_na=False, na_values=[""])


@pytest.mark.parametrize("i", range(len(_reference())))
def test_saturation_effects_match_estimatr(result, blocked, i: int) -> None:
    row = _reference().iloc[i]
    fit = blocked if row["blocks"] == "block" else result
    effects = dict(fit.saturation_effects)
    res = effects[row["effect"]]
    for stat in STATS:
        np.testing.assert_allclose(getattr(res, stat), row[stat], rtol=RTOL, err_msg=stat)
    assert res.nobs == int(row["nobs"])
    assert res.nclusters == int(row["nclusters"])


def test_every_level_has_per_contact_effects(result) -> None:
    names = [n for n, _ in result.saturation_effects]
    assert set(names) == set(_reference()["effect"])
    for level in ("0.5", "1"):
        for who in ("direct", "within"):
            itt = dict(result.saturation_effects)[f"{who}@{level}"]
            cace = dict(result.saturation_effects)[f"{who}_per_contact@{level}"]
            assert cace.estimand == "CACE" and itt.estimand == "ITT"
            # Wald: the per-contact effect is the ITT over the first stage (share contacted)
            assert abs(cace.estimate) >= abs(itt.estimate)
    frame = result.to_frame()
    assert "direct_per_contact@0.5" in set(frame["effect"])


def test_no_per_contact_effects_without_treatment() -> None:
    d = pd.read_csv(REF / "saturation_households.csv")
    res = fx.spillover(
        d,
        "voted",
        "z",
        targeted="targeted",
        household="hh",
        clusters="nbhd",
        saturation="saturation",
    )
    assert not any("per_contact" in n for n, _ in res.saturation_effects)
