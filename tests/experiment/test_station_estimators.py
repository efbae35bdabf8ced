"""Polling-station estimates against R estimatr (tests/reference/stations.csv) and exact RI.

The station table (tests/reference/stations_table.csv) is what fieldexp builds from
simulated legislative results, an assignment within communes and a door log
(tests/reference/make_stations_data.py); make_reference_stations.R runs estimatr on it.
Every estimate is weighted by registered voters.
"""

from __future__ import annotations

import itertools
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import fieldexp as fx
from fieldexp.errors import ColumnNotFoundError, DataError, WeakInstrumentWarning
from fieldexp.experiment.stations import dose_cace, ols_randomization_inference

REF = Path(__file__).resolve().parents[1] / "reference"
STATS = ("estimate", "std_error", "statistic", "df", "p_value", "ci_low", "ci_high")


def _table() -> pd.DataFrame:
    return pd.read_csv(REF / "stations_table.csv", dtype={"precinct_id": str, "arm": str})


def _cases() -> list[dict[str, object]]:
    ref = pd.read_csv(REF / "stations.csv", keep_default_na=False)
    return ref.to_dict("records")


def _fit(case: dict[str, object], table: pd.DataFrame) -> fx.EffectResult:
    covs = [c for c in str(case["covariates"]).split(";") if c] or None
    blocks = str(case["blocks"]) or None
    se = str(case["se_type"]) or None
    fn = case["function"]
    if fn == "dose":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", WeakInstrumentWarning)
            return dose_cace(
                table,
                str(case["outcome"]),
                "dose",
                "assigned",
                blocks=blocks,
                covariates=covs,
                weights="weight",
                se_type=se,
            )
    method = "dim" if str(case["call"]).startswith("difference_in_means") else "ols"
    return fx.itt(
        table,
        str(case["outcome"]),
        "assigned",
        blocks=blocks,
        covariates=covs,
        method=method,
        se_type=se,
        weights="weight",
    )


@pytest.mark.parametrize("case", _cases(), ids=lambda c: str(c["case"]))
def test_station_estimates_match_estimatr(case):
    r = _fit(case, _table())
    for s in STATS:
        got = {"statistic": r.estimate / r.std_error}.get(s, getattr(r, s, None))
        assert got == pytest.approx(float(case[s]), rel=1e-8, abs=1e-12), s
    assert r.nobs == int(case["nobs"])


def test_dose_first_stage_matches_estimatr():
    ref = {c["case"]: c for c in _cases()}
    fs = _fit(ref["dose_turnout"], _table()).first_stage
    want = ref["dose_first_stage"]
    assert fs.estimate == pytest.approx(float(want["estimate"]), rel=1e-8)
    assert fs.std_error == pytest.approx(float(want["std_error"]), rel=1e-8)


def test_shuffled_rows_give_the_same_dose_cace():
    t = _table()
    a = dose_cace(t, "turnout", "dose", "assigned", blocks="commune_code", weights="registered")
    b = dose_cace(
        t.sample(frac=1, random_state=3).reset_index(drop=True),
        "turnout",
        "dose",
        "assigned",
        blocks="commune_code",
        weights="registered",
    )
    assert b.estimate == pytest.approx(a.estimate, rel=1e-12)
    assert b.std_error == pytest.approx(a.std_error, rel=1e-10)


def test_dose_refuses_negative_and_constant_doses():
    t = _table()
    bad = t.assign(dose=t["dose"].where(t.index != 4, -0.1))
    with pytest.raises(DataError, match=r"must be >= 0.*row 4"):
        dose_cace(bad, "turnout", "dose", "assigned", weights="registered")
    with pytest.raises(DataError, match="no variation"):
        dose_cace(t.assign(dose=0.1), "turnout", "dose", "assigned", weights="registered")
    with pytest.raises(ColumnNotFoundError, match="'doses'"):
        dose_cace(t, "turnout", "doses", "assigned")


def test_weak_dose_warns():
    t = _table()
    rng = np.random.default_rng(0)
    noise = t.assign(dose=rng.uniform(0, 0.1, len(t)))
    with pytest.warns(WeakInstrumentWarning, match="weak first stage"):
        r = dose_cace(noise, "turnout", "dose", "assigned", weights="registered")
    assert any("weak" in n for n in r.notes)


# ------------------------------------------------------------------ randomisation inference
def _tiny() -> tuple[pd.DataFrame, fx.Design]:
    rng = np.random.default_rng(11)
    n_blocks = (4, 5, 4)
    rows = []
    for b, n in enumerate(n_blocks):
        for i in range(n):
            rows.append(
                {
                    "precinct_id": f"B{b}_{i}",
                    "commune": f"C{b}",
                    "registered": float(rng.integers(300, 1500)),
                    "past": rng.uniform(0.4, 0.7),
                }
            )
    d = pd.DataFrame(rows)
    d["weight"] = d["registered"]  # weights = registered voters, also usable as a covariate
    design = fx.Design("precinct_id", blocks="commune", arms={0: 0.5, 1: 0.5})
    a = design.assign(d, seed=5).set_index("precinct_id")["arm"]
    d["arm"] = d["precinct_id"].map(a).astype(int)
    d["turnout"] = 0.1 + 0.8 * d["past"] + 0.02 * d["arm"] + rng.normal(0, 0.02, len(d))
    return d, design


def _all_assignments(d: pd.DataFrame) -> list[np.ndarray]:
    """Every assignment of the blocked complete design (half of each block, floor/ceil
    equally likely for odd blocks, as Design draws them), each with its probability."""
    per_block = []
    for _, g in d.groupby("commune", sort=True):
        idx = g.index.to_numpy()
        n = len(idx)
        sizes = [n // 2] if n % 2 == 0 else [n // 2, n // 2 + 1]
        opts = []
        for m in sizes:
            combos = list(itertools.combinations(idx, m))
            opts += [(c, 1 / len(sizes) / len(combos)) for c in combos]
        per_block.append(opts)
    out = []
    for choice in itertools.product(*per_block):
        z = np.zeros(len(d))
        p = 1.0
        for treated, prob in choice:
            z[list(treated)] = 1
            p *= prob
        out.append((z, p))
    return out


def _ols_coef(d: pd.DataFrame, z: np.ndarray, covs: list[str]) -> float:
    X = np.column_stack([z, *(d[c] for c in covs), pd.get_dummies(d["commune"]).to_numpy(float)])
    w = np.sqrt(d["weight"].to_numpy())
    beta, *_ = np.linalg.lstsq(X * w[:, None], d["turnout"].to_numpy() * w, rcond=None)
    return float(beta[0])


@pytest.mark.parametrize("covs", [[], ["past"], ["past", "registered"]])
def test_ols_ri_equals_brute_force_enumeration(covs):
    d, design = _tiny()
    r = ols_randomization_inference(
        d, "turnout", "arm", design, covariates=covs, weights="weight", reps=10_000, seed=1
    )
    assert r.exact
    head = fx.itt(
        d.assign(assigned=d["arm"]),
        "turnout",
        "assigned",
        blocks="commune",
        covariates=covs or None,
        method="ols",
        weights="weight",
    )
    assert r.estimate == pytest.approx(head.estimate, rel=1e-10)
    draws = _all_assignments(d)
    stats = np.array([_ols_coef(d, z, covs) for z, _ in draws])
    probs = np.array([p for _, p in draws])
    assert probs.sum() == pytest.approx(1.0)
    p = probs[np.abs(stats) >= abs(r.statistic) - 1e-9 * (1 + abs(r.statistic))].sum()
    assert r.reps == len(draws)
    assert r.p_value == pytest.approx(p, rel=1e-10)
    assert np.sort(r.draws) == pytest.approx(np.sort(stats), rel=1e-8, abs=1e-12)


def test_weighted_dim_ri_equals_headline_and_brute_force():
    d, design = _tiny()
    r = fx.randomization_inference(
        d, "turnout", "arm", design, weights="registered", reps=10_000, seed=1
    )
    head = fx.itt(
        d.assign(assigned=d["arm"]),
        "turnout",
        "assigned",
        blocks="commune",
        method="dim",
        weights="registered",
    )
    assert r.exact and r.estimate == pytest.approx(head.estimate, rel=1e-10)
    stats, probs = [], []
    for z, p in _all_assignments(d):
        e = fx.itt(
            d.assign(assigned=z.astype(int)),
            "turnout",
            "assigned",
            blocks="commune",
            method="dim",
            weights="registered",
        )
        stats.append(e.estimate)
        probs.append(p)
    stats_a, probs_a = np.array(stats), np.array(probs)
    p = probs_a[np.abs(stats_a) >= abs(r.statistic) - 1e-9 * (1 + abs(r.statistic))].sum()
    assert r.p_value == pytest.approx(p, rel=1e-10)


def test_ols_ri_monte_carlo_is_seeded_and_order_free():
    t = _table()
    design = fx.Design("precinct_id", blocks="commune_code", arms={0: 0.5, 1: 0.5})
    kw = dict(covariates=["past_turnout"], weights="registered", reps=400, seed=9)
    with pytest.warns(fx.errors.RowsDroppedWarning, match="2 rows"):
        a = ols_randomization_inference(t, "turnout", "arm", design, **kw)
    head = fx.itt(
        t,
        "turnout",
        "assigned",
        blocks="commune_code",
        covariates=["past_turnout"],
        method="ols",
        weights="registered",
    )
    assert a.estimate == pytest.approx(head.estimate, rel=1e-10)
    assert not a.exact and a.reps == 400
    with pytest.warns(fx.errors.RowsDroppedWarning):
        b = ols_randomization_inference(
            t.iloc[::-1].reset_index(drop=True), "turnout", "arm", design, **kw
        )
    assert b.p_value == a.p_value
    with pytest.raises(ColumnNotFoundError, match=r"column 'past' .*covariates"):
        ols_randomization_inference(t, "turnout", "arm", design, covariates=["past"], seed=1)


def test_reference_table_is_what_fieldexp_builds_from_the_files(tmp_path):
    """R's input is still fieldexp's station table (else: rerun make_stations_data.py and
    make_reference_stations.R, then commit both CSVs)."""
    import sys

    sys.path.insert(0, str(REF))
    from make_stations_data import station_table, write_station_files

    built = station_table(write_station_files(tmp_path))
    ref = _table()
    assert list(built.columns) == list(ref.columns)
    assert list(built["precinct_id"]) == list(ref["precinct_id"])
    for c in ref.columns:
        if pd.api.types.is_numeric_dtype(ref[c]):
            np.testing.assert_allclose(built[c].astype(float), ref[c], rtol=1e-15, err_msg=c)
        else:
            assert list(built[c].astype(str)) == list(ref[c].astype(str)), c


def test_kansas_city_precinct_totals_give_the_voter_level_estimates(shared_data):
    """Arceneaux (2005): 28 precincts randomised. Aggregated to precinct tallies (voters as
    'registered', contacts as 'conversations'), the registered-weighted station ITT and the
    dose CACE per contact equal the voter-level estimates of R estimatr (published file)."""
    kc = pd.read_csv(shared_data / "arceneaux_2005.csv")
    g = kc.groupby("precinct")
    st = pd.DataFrame(
        {
            "registered": g.size().astype(float),
            "turnout": g["Y_voted_2003"].mean(),
            "dose": g["D_contact"].mean(),  # contacts per registered voter
            "assigned": g["Z"].first(),
        }
    ).reset_index()
    ref = pd.read_csv(shared_data / "reference_estimatr.csv").set_index("case")
    itt = fx.itt(st, "turnout", "assigned", weights="registered", method="dim")
    assert itt.estimate == pytest.approx(ref.loc["kc_dim_clustered", "estimate"], rel=1e-10)
    cace = dose_cace(st, "turnout", "dose", "assigned", weights="registered")
    assert cace.estimate == pytest.approx(ref.loc["kc_cace_cr2", "estimate"], rel=1e-10)
    assert cace.nobs == 28


@pytest.mark.parametrize("case", ["ols_turnout_cov", "dose_turnout_cov"])
def test_the_weight_column_may_also_be_a_covariate(case):
    """lm_robust(turnout ~ assigned + registered, weights = registered) runs in R: so here."""
    ref = next(c for c in _cases() if c["case"] == case)
    table = _table()
    covs = str(ref["covariates"]).split(";")
    assert "registered" in covs
    if ref["function"] == "dose":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", WeakInstrumentWarning)
            r = dose_cace(
                table,
                "turnout",
                "dose",
                "assigned",
                blocks="commune_code",
                covariates=covs,
                weights="registered",
            )
    else:
        r = fx.itt(
            table,
            "turnout",
            "assigned",
            blocks="commune_code",
            covariates=covs,
            method="ols",
            weights="registered",
        )
    for s in STATS:
        np.testing.assert_allclose(getattr(r, s), float(ref[s]), rtol=1e-8, err_msg=s)
