"""Subgroup and balance fits on hashed label codes (heterogeneity.GroupLabels) equal the fits
on the text labels to the last bit; missing values, errors and warnings use the labels."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import fieldexp as fx
from fieldexp.errors import FieldexpError, RowsDroppedWarning
from fieldexp.experiment import heterogeneity as het


def frame(seed: int = 0, n: int = 600) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    block = rng.integers(0, 6, n)
    hh = block * 1000 + rng.integers(0, 120, n)
    df = pd.DataFrame(
        {
            "precinct": pd.array([f"P{b:02d}" for b in block], dtype="string[pyarrow]"),
            "household": np.array([f"h{h}" for h in hh], dtype=object),
            "band": rng.choice(["rare", "intermittent", "regular"], n),
            "x": rng.integers(0, 2, n).astype(float),
        }
    )
    first = pd.Series(rng.integers(0, 2, hh.max() + 1))
    df["z"] = first[hh].to_numpy()
    df["d"] = df["z"] * (rng.random(n) < 0.6)
    df["y"] = (rng.random(n) < 0.3 + 0.1 * df["d"]).astype(float)
    return df.sample(frac=1, random_state=seed).reset_index(drop=True)


def _labels_only(monkeypatch: pytest.MonkeyPatch) -> None:
    real = het.GroupLabels.__init__

    def no_codes(self, data, columns):  # type: ignore[no-untyped-def]
        real(self, data, columns)
        self.codes = {}

    monkeypatch.setattr(het.GroupLabels, "__init__", no_codes)


def _run(df: pd.DataFrame) -> list[object]:
    out: list[object] = []
    for est in ("ITT", "CACE"):
        r = fx.heterogeneity(
            df, "y", "z", "band", estimand=est, treatment="d" if est == "CACE" else None,
            blocks="precinct", clusters="household",
        )  # fmt: skip
        out.append([(e.estimate, e.std_error, e.df, e.nobs) for e in r.effects])
        out.append((r.wald.statistic, r.wald.p_value))
    b = fx.balance(df, "z", ["x", "y"], blocks="precinct", clusters="household", reps=0)
    out.append(b.to_frame().to_numpy().tolist())
    return out


@pytest.mark.parametrize("seed", [0, 1])
def test_fits_on_codes_equal_fits_on_labels_bit_for_bit(seed, monkeypatch) -> None:
    df = frame(seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fast = _run(df)
        _labels_only(monkeypatch)
        slow = _run(df)
    assert repr(fast) == repr(slow)


def test_missing_values_and_errors_go_through_the_labels() -> None:
    df = frame(3)
    df.loc[5, "y"] = np.nan
    with pytest.warns(RowsDroppedWarning):
        r = fx.heterogeneity(df, "y", "z", "band", blocks="precinct", clusters="household")
    assert sum(e.nobs for e in r.effects) == len(df) - 1
    # a block with one arm only in a subgroup: the error names the block's label
    bad = frame(4)
    rows = (bad["precinct"] == "P03") & (bad["band"] == "rare")
    bad.loc[rows, "z"] = 1
    bad.loc[rows, "household"] = "shared-hh"
    with pytest.raises(FieldexpError, match="P03"):
        fx.heterogeneity(bad, "y", "z", "band", blocks="precinct", clusters="household")
