"""A 0/1 arm column read as floats (it has missing values) is compared like the integers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import fieldexp as fx


@pytest.mark.parametrize("blocks", [None, "b"])
def test_float_arms_with_missing_values_equal_integer_arms(blocks) -> None:
    rng = np.random.default_rng(5)
    n = 400
    d = pd.DataFrame(
        {
            "z": np.tile([0.0, 1.0], n // 2),
            "age": rng.normal(50, 10, n),
            "f": rng.integers(0, 2, n),
            "b": np.repeat(np.arange(4), n // 4),
        }
    )
    d.loc[[3, 10], "z"] = np.nan
    as_int = d.assign(z=d["z"].astype("Int64"))
    a = fx.balance(d, "z", ["age", "f"], blocks=blocks, reps=0)
    b = fx.balance(as_int, "z", ["age", "f"], blocks=blocks, reps=0)
    assert a.table["mean_0"].notna().all() and a.table["mean_1"].notna().all()
    pd.testing.assert_frame_equal(a.table, b.table)
