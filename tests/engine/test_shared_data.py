"""Engine equality on real experiments (../shared/data): Kansas City precincts, New Haven 1998."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

import fieldexp as fx
from fieldexp.engine import record_pulls

from .conftest import assert_same, to_engine

WORST: dict[str, float] = {}


@pytest.fixture(scope="module")
def kc(shared_data: Path) -> pd.DataFrame:
    return pd.read_csv(shared_data / "arceneaux_2005.csv")


@pytest.fixture(scope="module")
def nh(shared_data: Path) -> pd.DataFrame:
    return pd.read_csv(shared_data / "new_haven_1998_individual.csv")


@pytest.fixture(scope="module")
def reference(shared_data: Path) -> pd.DataFrame:
    return pd.read_csv(shared_data / "reference_estimatr.csv").set_index("case")


KC_CASES = {
    "itt_dim": ("itt", {}),
    "itt_cr0": ("itt", {"method": "ols", "se_type": "CR0"}),
    "itt_stata": ("itt", {"method": "ols", "se_type": "stata"}),
    "cace_cr0": ("cace", {"se_type": "CR0"}),
    "cace_stata": ("cace", {"se_type": "stata"}),
}


@pytest.mark.parametrize("case", list(KC_CASES))
def test_kansas_city_precinct_clusters(
    kc: pd.DataFrame, engine: Callable[[pd.DataFrame], object], case: str
) -> None:
    kind, kw = KC_CASES[case]
    kw = {**kw, "clusters": "precinct"}
    if kind == "itt":
        a = fx.itt(kc, "Y_voted_2003", "Z", **kw)
        b = fx.itt(engine(kc), "Y_voted_2003", "Z", **kw)
    else:
        a = fx.cace(kc, "Y_voted_2003", "D_contact", "Z", **kw)
        b = fx.cace(engine(kc), "Y_voted_2003", "D_contact", "Z", **kw)
    assert b.nclusters == 28
    assert_same(a, b)


def test_kansas_city_against_estimatr(kc: pd.DataFrame, reference: pd.DataFrame) -> None:
    """Oracle, not only self-consistency: R estimatr values for the engine results."""
    t = to_engine(kc, "ibis-duckdb")
    dim = fx.itt(t, "Y_voted_2003", "Z", clusters="precinct")
    ref = reference.loc["kc_dim_clustered"]
    assert dim.estimate == pytest.approx(ref["estimate"], rel=1e-9)
    assert dim.std_error == pytest.approx(ref["std_error"], rel=1e-9)
    assert dim.df == pytest.approx(ref["df"], rel=1e-9)
    stata = fx.itt(t, "Y_voted_2003", "Z", clusters="precinct", method="ols", se_type="stata")
    ref = reference.loc["kc_itt_stata"]
    assert stata.estimate == pytest.approx(ref["estimate"], rel=1e-9)
    assert stata.std_error == pytest.approx(ref["std_error"], rel=1e-9)


NH_CASES = {
    "itt_stata": ("itt", {"clusters": "id1", "se_type": "stata", "method": "ols"}),
    "ward_fe_stata": (
        "itt",
        {
            "clusters": "id1",
            "se_type": "stata",
            "method": "ols",
            "blocks": "ward",
            "covariates": ["v96_1"],
        },
    ),
    "ward_dim_blocked_clustered": ("itt", {"clusters": "id1", "blocks": "ward"}),
    "cace_cr0": ("cace", {"clusters": "id1", "se_type": "CR0"}),
    "cace_stata": ("cace", {"clusters": "id1", "se_type": "stata"}),
    "cace_ward_hc2": (
        "cace",
        {"blocks": "ward", "se_type": "HC2", "covariates": ["v96_1", "majorpty"]},
    ),
}

NH_REF = {
    "itt_stata": "nh_full_itt_stata",
    "ward_fe_stata": "nh_full_ward_fe_stata",
    "cace_cr0": "nh_full_cace_cr0",
    "cace_stata": "nh_full_cace_stata",
}


@pytest.mark.parametrize("case", list(NH_CASES))
def test_new_haven(
    nh: pd.DataFrame, reference: pd.DataFrame, engine: Callable[[pd.DataFrame], object], case: str
) -> None:
    kind, kw = NH_CASES[case]
    if kind == "itt":
        a = fx.itt(nh, "v98", "persngrp", **kw)
        b = fx.itt(engine(nh), "v98", "persngrp", **kw)
    else:
        a = fx.cace(nh, "v98", "cntany", "persngrp", **kw)
        b = fx.cace(engine(nh), "v98", "cntany", "persngrp", **kw)
    assert_same(a, b)
    if case in NH_REF:
        ref = reference.loc[NH_REF[case]]
        ref = ref[ref["term"] == b.term] if isinstance(ref, pd.DataFrame) else ref
        ref = ref.squeeze()
        assert b.estimate == pytest.approx(ref["estimate"], rel=1e-8)
        assert b.std_error == pytest.approx(ref["std_error"], rel=1e-8)


def test_new_haven_subset_hc2_against_estimatr(nh: pd.DataFrame, reference: pd.DataFrame) -> None:
    sub = nh[(nh.onetreat == 1) & (nh.mailings == 0) & (nh.phongotv == 0) & (nh.persons == 1)]
    t = to_engine(sub.reset_index(drop=True), "polars")
    itt = fx.itt(t, "v98", "persngrp", method="ols")  # HC2 by default
    ref = reference.loc["nh_subset_itt_hc2"]
    assert itt.estimate == pytest.approx(ref["estimate"], rel=1e-8)
    assert itt.std_error == pytest.approx(ref["std_error"], rel=1e-8)
    assert itt.df == ref["df"]


def test_new_haven_pulls_aggregates_only(nh: pd.DataFrame) -> None:
    """CR1 over 23,450 households: the meat is summed in the engine, five small pulls."""
    t = to_engine(nh, "ibis-duckdb")
    with record_pulls() as pulls:
        fx.cace(t, "v98", "cntany", "persngrp", clusters="id1", se_type="stata")
    assert [p.rows for p in pulls] == [1, 1, 1, 1, 2]
    with record_pulls() as pulls:
        fx.itt(t, "v98", "persngrp", clusters="id1", blocks="ward")  # DIM: CR2 from totals
    assert [p.rows for p in pulls] == [1, nh["id1"].nunique()]


@pytest.mark.parametrize(
    ("se_type", "case"), [("HC2", "nh_subset_cace_hc2"), ("HC0", "nh_subset_cace_hc0")]
)
def test_new_haven_subset_cace_against_estimatr(
    nh: pd.DataFrame, reference: pd.DataFrame, se_type: str, case: str
) -> None:
    sub = nh[(nh.onetreat == 1) & (nh.mailings == 0) & (nh.phongotv == 0) & (nh.persons == 1)]
    t = to_engine(sub.reset_index(drop=True), "pyarrow")
    res = fx.cace(t, "v98", "cntany", "persngrp", se_type=se_type)
    ref = reference.loc[case]
    assert res.estimate == pytest.approx(ref["estimate"], rel=1e-8)
    assert res.std_error == pytest.approx(ref["std_error"], rel=1e-8)
    fs = reference.loc["nh_subset_itt_d_hc2"]
    assert res.first_stage is not None
    assert res.first_stage.estimate == pytest.approx(fs["estimate"], rel=1e-8)
    if se_type == "HC2":
        assert res.first_stage.std_error == pytest.approx(fs["std_error"], rel=1e-8)


@pytest.mark.parametrize("which", ["kc", "nh"])
def test_dim_cr2_summed_in_engine_real(
    kc: pd.DataFrame, nh: pd.DataFrame, which: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fieldexp.engine import sufficient

    monkeypatch.setattr(sufficient, "MAX_PULLED_CLUSTERS", 0)
    if which == "kc":
        df, args, kw = kc, ("Y_voted_2003", "Z"), {"clusters": "precinct"}
    else:
        df, args, kw = nh, ("v98", "persngrp"), {"clusters": "id1", "blocks": "ward"}
    a = fx.itt(df, *args, **kw)
    with record_pulls() as pulls:
        b = fx.itt(to_engine(df, "ibis-duckdb"), *args, **kw)
    assert_same(a, b)
    assert max(p.rows for p in pulls) <= 2 * 29
