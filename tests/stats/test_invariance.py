"""Outcome shift and scale invariance of every estimator and every SE type (issue 9 item 5).

For y -> a y + c: the estimate becomes a * estimate, the SE |a| * SE, and df, t and p stay the
same. Outcomes are small integers and shifts/scales are chosen so that a y + c is exact in
floating point: any difference is then the estimator's own numerics (the old unblocked
difference in means raised `math domain error` at y + 1e8 and was off x8,800 at y + 1e11).
A call that is refused must be refused the same way after the transformation.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fieldexp as fx
from fieldexp.errors import FieldexpError

RTOL = 1e-8
SHIFTS = [1e3, -1e6, 1e8, 1e11, -1e11]
SCALES = [1.0, 8.0, -2.0, 1024.0, 0.125]


@st.composite
def experiments(draw):
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    n_blocks = draw(st.integers(2, 4))
    hh_per_block = draw(st.integers(6, 12))
    rows = []
    hh = 0
    for b in range(n_blocks):
        arms = rng.permutation(np.arange(hh_per_block) % 2)
        for j in range(hh_per_block):
            size = int(rng.integers(1, 4))
            for _ in range(size):
                rows.append((f"b{b}", f"h{hh}", int(arms[j])))
            hh += 1
    df = pd.DataFrame(rows, columns=["block", "hh", "z"])
    n = len(df)
    df["x"] = rng.integers(0, 4, n).astype(float)
    df["d"] = np.where(df["z"] == 1, rng.integers(0, 2, n), 0)
    df.loc[df.index[df["z"] == 1][:2], "d"] = 1  # a first stage
    df["y"] = (rng.integers(0, 6, n) + df["d"]).astype(float)
    df["w"] = rng.integers(1, 4, n).astype(float)
    return df


def _itt(**kw):
    return lambda d: fx.itt(d, "y", "z", **kw)


def _cace(**kw):
    return lambda d: fx.cace(d, "y", "d", "z", **kw)


BH = {"blocks": "block", "clusters": "hh", "covariates": "x"}
CALLS = {
    "dim": _itt(method="dim"),
    "dim-blocked": _itt(method="dim", blocks="block"),
    "dim-clustered": _itt(method="dim", clusters="hh"),
    "dim-blocked-clustered": _itt(method="dim", blocks="block", clusters="hh"),
    **{f"ols-{se}": _itt(method="ols", covariates="x", se_type=se) for se in ("HC0", "HC1", "HC2", "HC3")},
    **{f"ols-fe-{se}": _itt(method="ols", se_type=se, **BH) for se in ("CR0", "CR2", "stata")},
    **{
        f"lin-blocks-{se}": _itt(method="lin", blocks="block", covariates="x", se_type=se)
        for se in ("HC0", "HC1", "HC2", "HC3", "stata")
    },
    **{f"lin-blocks-hh-{se}": _itt(method="lin", se_type=se, **BH) for se in ("CR0", "CR2", "stata")},
    "lin-blocks-coarse-CR2": _itt(method="lin", blocks="block", clusters="block", covariates="x", se_type="CR2"),
    "ols-weighted-CR2": _itt(method="ols", clusters="hh", covariates="x", weights="w"),
    "lin-weighted-HC2": _itt(method="lin", blocks="block", covariates="x", weights="w", se_type="HC2"),
    **{f"cace-{se}": _cace(se_type=se, **BH) for se in ("CR0", "CR2", "stata")},
    "cace-HC2": _cace(covariates="x", se_type="HC2"),
}  # fmt: skip


def _outcome(call, data):
    """The result, or the class of the FieldexpError raised (warnings silenced)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return call(data)
        except FieldexpError as exc:
            return type(exc)


def _close(a: float, b: float, *, atol: float = 0.0) -> bool:
    if math.isnan(a) and math.isnan(b):
        return True
    return math.isclose(a, b, rel_tol=RTOL, abs_tol=atol)


@pytest.mark.parametrize("name", list(CALLS))
@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)
@given(data=experiments(), shift=st.sampled_from(SHIFTS), scale=st.sampled_from(SCALES))
def test_outcome_shift_and_scale_invariance(name, data, shift, scale) -> None:
    call = CALLS[name]
    base = _outcome(call, data)
    moved = _outcome(call, data.assign(y=scale * data["y"] + shift))
    if isinstance(base, type):
        assert moved is base, f"{name}: refused with {base.__name__} before, {moved!r} after"
        return
    assert not isinstance(moved, type), f"{name}: refused after y -> {scale} y + {shift}: {moved}"
    # the estimate may be ~0; compare it on the scale of its SE
    assert _close(moved.estimate, scale * base.estimate, atol=1e-9 * abs(scale) * base.std_error)
    assert _close(moved.std_error, abs(scale) * base.std_error)
    assert _close(moved.df, base.df)
    assert _close(moved.p_value, base.p_value, atol=1e-12)


@pytest.mark.parametrize("name", list(CALLS))
def test_invariance_examples_are_not_all_refusals(name) -> None:
    """The property above is not vacuous: on a typical draw every call gives a result."""
    data = _typical()
    assert not isinstance(_outcome(CALLS[name], data), type)


def _typical() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    rows = [
        (f"b{b}", f"h{b}_{j}", j % 2) for b in range(3) for j in range(10) for _ in range(1 + j % 3)
    ]
    df = pd.DataFrame(rows, columns=["block", "hh", "z"])
    n = len(df)
    df["x"] = rng.integers(0, 4, n).astype(float)
    df["d"] = np.where(df["z"] == 1, rng.integers(0, 2, n), 0)
    df["y"] = (rng.integers(0, 6, n) + df["d"]).astype(float)
    df["w"] = rng.integers(1, 4, n).astype(float)
    return df
