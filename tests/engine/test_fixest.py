"""``small_sample="fixest"`` on engine tables (it was refused before): same as the DataFrame path."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import fieldexp as fx
from fieldexp.errors import SpecificationError

from .conftest import ENGINES, assert_same, to_engine

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
CASES = {
    "stata-blocks-clusters-covs": {"se_type": "stata", "blocks": "precinct_id",
                                   "clusters": "household_id", "covariates": ["age"]},
    "stata-clusters": {"se_type": "stata", "clusters": "household_id"},
    "HC1-blocks": {"se_type": "HC1", "blocks": "precinct_id"},
    "stata-unclustered": {"se_type": "stata"},
}  # fmt: skip


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("case", list(CASES))
def test_itt_and_cace_fixest(engine: str, case: str) -> None:
    df = pd.read_csv(FIXTURES / "experiment_small.csv")
    kw = CASES[case]
    t = to_engine(df, engine)
    a = fx.itt(df, "voted", "assigned", method="ols", small_sample="fixest", **kw)  # type: ignore[arg-type]
    b = fx.itt(t, "voted", "assigned", method="ols", small_sample="fixest", **kw)  # type: ignore[arg-type]
    assert_same(a, b)
    a = fx.cace(df, "voted", "contacted", "assigned", small_sample="fixest", **kw)  # type: ignore[arg-type]
    b = fx.cace(t, "voted", "contacted", "assigned", small_sample="fixest", **kw)  # type: ignore[arg-type]
    assert_same(a, b)


def test_fixest_equals_estimatr_without_nesting() -> None:
    """fixest leaves out only fixed effects nested in the clusters; with whole clusters assigned
    and both arms in every block no block is nested in a cluster, so the factors agree (the
    nested case, unit effects with unit clusters, is tested on fx.did in test_did.py)."""
    df = pd.read_csv(FIXTURES / "experiment_small.csv")
    kw = {"se_type": "stata", "blocks": "precinct_id", "clusters": "household_id"}
    e = fx.itt(to_engine(df, "polars"), "voted", "assigned", method="ols", **kw)  # type: ignore[arg-type]
    f = fx.itt(
        to_engine(df, "polars"), "voted", "assigned", method="ols", small_sample="fixest", **kw
    )  # type: ignore[arg-type]
    assert f.std_error == pytest.approx(e.std_error, rel=1e-12)  # no block nested in a cluster


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"method": "dim"}, "method='dim'"),
        ({"method": "ols", "se_type": "CR0", "clusters": "household_id"}, "CR1 and HC1 only"),
        ({"method": "ols", "se_type": "HC2"}, "CR1 and HC1 only"),
    ],
)
def test_fixest_refusals_as_pandas(kw: dict[str, object], match: str) -> None:
    df = pd.read_csv(FIXTURES / "experiment_small.csv")
    for data in (df, to_engine(df, "pyarrow")):
        with pytest.raises(SpecificationError, match=match):
            fx.itt(data, "voted", "assigned", small_sample="fixest", **kw)  # type: ignore[arg-type]
