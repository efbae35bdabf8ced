"""``small_sample="estimatr" | "fixest"`` (issue 9 item 10).

The fixest convention is checked against pyfixest's default ``ssc`` (reference numbers in
``tests/reference/fixest.csv``, made by ``tests/reference/make_fixest_reference.py``; these
tests never need pyfixest), the estimatr one against reference.csv elsewhere.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import fieldexp as fx
from fieldexp.errors import SpecificationError
from fieldexp.stats.covariance import fixest_fe_count
from fieldexp.stats.groups import factorize

REPO = Path(__file__).resolve().parents[2]
FIXEST_CSV = REPO / "tests" / "reference" / "fixest.csv"
RTOL = 1e-8
STATS = ("estimate", "std_error", "df", "p_value", "ci_low", "ci_high")
COVS = ["voted_2016", "voted_2018", "voted_2020", "age"]


def _small() -> pd.DataFrame:
    return pd.read_csv(REPO / "fixtures" / "experiment_small.csv")


def _mpdta(shared: Path) -> pd.DataFrame:
    mp = pd.read_csv(shared / "mpdta.csv")
    ft = mp["first.treat"]
    mp["treated_now"] = ((ft > 0) & (mp["year"] >= ft)).astype(int)
    return mp


def _run(case: str, shared: Path | None) -> pd.DataFrame:
    """fieldexp with small_sample='fixest' for one case: a frame indexed like fixest.csv terms."""
    kw = {"se_type": "stata", "small_sample": "fixest"}
    if case.startswith("fx_"):
        d = _small()
        if case == "fx_ols_precinct_fe_cl":
            r = fx.itt(d, "voted", "assigned", method="ols", blocks="precinct_id",
                       clusters="precinct_id", covariates=COVS, **kw)  # fmt: skip
        elif case == "fx_ols_precinct_fe_hh_cl":
            r = fx.itt(d, "voted", "assigned", method="ols", blocks="precinct_id",
                       clusters="household_id", covariates=COVS, **kw)  # fmt: skip
        elif case == "fx_ols_precinct_fe_hetero":
            r = fx.itt(d, "voted", "assigned", method="ols", blocks="precinct_id",
                       covariates=COVS, **kw)  # fmt: skip
        else:
            r = fx.cace(d, "voted", "contacted", "assigned", blocks="precinct_id",
                        clusters="precinct_id", covariates=COVS, **kw)  # fmt: skip
        return pd.DataFrame([{s: getattr(r, s) for s in STATS}], index=[r.term])
    assert shared is not None
    if case.startswith("nh_"):
        nh = pd.read_csv(shared / "new_haven_1998_individual.csv")
        if case == "nh_full_itt_ward_fe_cl":
            r = fx.itt(nh, "v98", "persngrp", method="ols", blocks="ward", clusters="ward",
                       covariates="v96_1", **kw)  # fmt: skip
        else:
            r = fx.cace(nh, "v98", "cntany", "persngrp", blocks="ward", clusters="ward",
                        covariates="v96_1", **kw)  # fmt: skip
        return pd.DataFrame([{s: getattr(r, s) for s in STATS}], index=[r.term])
    mp = _mpdta(shared)
    if case == "mpdta_twfe_county_cl":
        r = fx.did(mp, "lemp", "countyreal", "year", "treated_now", clusters="countyreal", **kw)
        return pd.DataFrame([{s: getattr(r, s) for s in STATS}], index=[r.term])
    es = fx.event_study(
        mp, "lemp", "countyreal", "year", "first.treat", clusters="countyreal", **kw
    )
    tab = es.coefficients.set_index("event_time")
    tab = tab[tab.index != -1]
    tab.index = [f"e_m{-k}" if k < 0 else f"e_p{k}" for k in tab.index]
    return tab


def _cases() -> list:
    frame = pd.read_csv(FIXEST_CSV)
    out = []
    for case, rows in frame.groupby("case", sort=False):
        shared = not str(rows["dataset"].iloc[0]).startswith("fixtures/")
        out.append(pytest.param(case, rows, id=case, marks=[pytest.mark.shared] if shared else []))
    return out


@pytest.mark.parametrize(("case", "rows"), _cases())
def test_fixest_convention_matches_pyfixest(case, rows, request) -> None:
    shared = None
    if not str(rows["dataset"].iloc[0]).startswith("fixtures/"):
        shared = request.getfixturevalue("shared_data")
    got = _run(case, shared)
    problems = []
    for _, row in rows.iterrows():
        for stat in STATS:
            g, e = float(got.loc[row["term"], stat]), float(row[stat])
            if not math.isclose(g, e, rel_tol=RTOL):
                problems.append(f"{row['term']} {stat}: fieldexp {g!r}, pyfixest {e!r}")
    assert not problems, f"{case}: {row['pyfixest_call']}\n  " + "\n  ".join(problems)


def test_conventions_differ_only_for_nested_fixed_effects() -> None:
    d = _small()
    kw = {"method": "ols", "blocks": "precinct_id", "covariates": COVS, "se_type": "stata"}
    nested = [fx.itt(d, "voted", "assigned", clusters="precinct_id", small_sample=s, **kw)
              for s in ("estimatr", "fixest")]  # fmt: skip
    n, k = len(d), 1 + len(COVS)
    blocks = d["precinct_id"].nunique()
    # estimatr: K = k + B; fixest: K = k + 1 (precinct effects nested in precinct clusters)
    ratio = math.sqrt((n - k - 1) / (n - k - blocks))
    assert math.isclose(nested[0].std_error / nested[1].std_error, ratio, rel_tol=1e-12)
    assert nested[0].estimate == nested[1].estimate and nested[0].df == nested[1].df
    crossed = [fx.itt(d, "voted", "assigned", clusters="household_id", small_sample=s, **kw)
               for s in ("estimatr", "fixest")]  # fmt: skip
    assert math.isclose(crossed[0].std_error, crossed[1].std_error, rel_tol=1e-14)


def test_fixest_fe_count() -> None:
    units = factorize(np.repeat(np.arange(5), 3))
    periods = factorize(np.tile(np.arange(3), 5))
    assert fixest_fe_count((units, periods), None) == 5 + 3 - 1
    assert fixest_fe_count((units, periods), units) == 1 + 3 - 1
    assert fixest_fe_count((), units) == 0


@pytest.mark.parametrize("se_type", ["CR2", "CR0"])
def test_fixest_refused_for_types_it_does_not_define(se_type) -> None:
    d = _small()
    with pytest.raises(SpecificationError, match=r"small_sample='fixest'.*se_type='stata'"):
        fx.itt(d, "voted", "assigned", method="ols", clusters="household_id", se_type=se_type,
               small_sample="fixest")  # fmt: skip


def test_unknown_small_sample_and_dim() -> None:
    d = _small()
    with pytest.raises(
        SpecificationError, match=r"'small_sample' parameter .* 'estimatr', 'fixest'"
    ):
        fx.itt(d, "voted", "assigned", method="ols", small_sample="stata")
    with pytest.raises(SpecificationError, match=r"small_sample.*method='dim'"):
        fx.itt(d, "voted", "assigned", method="dim", small_sample="fixest")
