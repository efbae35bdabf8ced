"""Reference values for ``small_sample="fixest"``, computed with pyfixest (the oracle).

    /work/main/.venv/bin/pip install pyfixest      # not a fieldexp dependency
    python tests/reference/make_fixest_reference.py [--shared-data DIR] [--out DIR]

Writes ``fixest.csv`` (one row per coefficient, 17 significant digits): pyfixest ``feols``
with its **default** ``ssc()`` (``k_adj=True, k_fixef="nonnested", G_adj=True,
G_df="min"``, R fixest's default too) and ``vcov={"CRV1": cluster}`` or ``"hetero"``.
Each row names the fieldexp call that must reproduce it (``tests/stats/test_small_sample.py``
and ``tests/experiment/test_reference.py`` compare at rtol 1e-8; they never need pyfixest).

Cases: fixed effects nested in the clusters (blocks = clusters = precinct or ward; county
effects with county clusters in a panel), where fixest and estimatr differ, and fixed
effects not nested (precinct effects, household clusters), where they agree.
"""

from __future__ import annotations

import argparse
import hashlib
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pyfixest as pf

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
COVS = ["voted_2016", "voted_2018", "voted_2020", "age"]


def _fmt(x: float) -> str:
    return "NA" if x is None or (isinstance(x, float) and np.isnan(x)) else f"{x:.17g}"


def _rows(case, fit, terms, *, dataset, call, fieldexp_call):
    tidy = fit.tidy()
    out = []
    for term in terms:
        r = tidy.loc[term]
        out.append(
            {
                "case": case,
                "term": term,
                "dataset": dataset,
                "pyfixest_call": call,
                "fieldexp_call": fieldexp_call,
                "estimate": float(r["Estimate"]),
                "std_error": float(r["Std. Error"]),
                "df": float(fit._df_t),
                "p_value": float(r["Pr(>|t|)"]),
                "ci_low": float(r["2.5%"]),
                "ci_high": float(r["97.5%"]),
                "nobs": int(fit._N),
            }
        )
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument(
        "--shared-data",
        default=os.environ.get("FIELDEXP_SHARED_DATA", str(REPO.parent / "shared" / "data")),
    )
    ap.add_argument("--out", default=str(HERE))
    args = ap.parse_args()
    shared = Path(args.shared_data)
    rows: list[dict] = []
    md5: dict[str, str] = {}

    small_path = REPO / "fixtures" / "experiment_small.csv"
    md5[small_path.name] = hashlib.md5(small_path.read_bytes()).hexdigest()
    small = pd.read_csv(small_path)
    ds = "fixtures/experiment_small.csv"
    rhs = " + ".join(COVS)
    cases = [
        (
            "fx_ols_precinct_fe_cl",
            f"voted ~ assigned + {rhs} | precinct_id",
            {"CRV1": "precinct_id"},
            ["assigned"],
            "itt(method='ols', blocks='precinct_id', clusters='precinct_id', se_type='stata')",
        ),
        (
            "fx_ols_precinct_fe_hh_cl",
            f"voted ~ assigned + {rhs} | precinct_id",
            {"CRV1": "household_id"},
            ["assigned"],
            "itt(method='ols', blocks='precinct_id', clusters='household_id', se_type='stata')",
        ),
        (
            "fx_ols_precinct_fe_hetero",
            f"voted ~ assigned + {rhs} | precinct_id",
            "hetero",
            ["assigned"],
            "itt(method='ols', blocks='precinct_id', se_type='stata')",
        ),
        (
            "fx_cace_precinct_fe_cl",
            f"voted ~ {rhs} | precinct_id | contacted ~ assigned",
            {"CRV1": "precinct_id"},
            ["contacted"],
            "cace(blocks='precinct_id', clusters='precinct_id', se_type='stata')",
        ),
    ]
    for case, formula, vcov, terms, fcall in cases:
        fit = pf.feols(formula, data=small, vcov=vcov)
        rows += _rows(
            case,
            fit,
            terms,
            dataset=ds,
            call=f"feols({formula!r}, vcov={vcov!r})",
            fieldexp_call=fcall,
        )

    nh_path = shared / "new_haven_1998_individual.csv"
    if nh_path.exists():
        md5[nh_path.name] = hashlib.md5(nh_path.read_bytes()).hexdigest()
        nh = pd.read_csv(nh_path)
        ds = "../shared/data/new_haven_1998_individual.csv"
        for case, formula, terms, fcall in [
            (
                "nh_full_itt_ward_fe_cl",
                "v98 ~ persngrp + v96_1 | ward",
                ["persngrp"],
                "itt(method='ols', blocks='ward', clusters='ward', covariates='v96_1', se_type='stata')",
            ),
            (
                "nh_full_cace_ward_fe_cl",
                "v98 ~ v96_1 | ward | cntany ~ persngrp",
                ["cntany"],
                "cace(blocks='ward', clusters='ward', covariates='v96_1', se_type='stata')",
            ),
        ]:
            fit = pf.feols(formula, data=nh, vcov={"CRV1": "ward"})
            rows += _rows(
                case,
                fit,
                terms,
                dataset=ds,
                call=f"feols({formula!r}, vcov={{'CRV1': 'ward'}})",
                fieldexp_call=fcall,
            )
    else:
        print(f"[skip] {nh_path} not found")

    mp_path = shared / "mpdta.csv"
    if mp_path.exists():
        md5[mp_path.name] = hashlib.md5(mp_path.read_bytes()).hexdigest()
        mp = pd.read_csv(mp_path)
        ds = "../shared/data/mpdta.csv"
        ft = mp["first.treat"]
        mp["treated_now"] = ((ft > 0) & (mp["year"] >= ft)).astype(int)
        formula = "lemp ~ treated_now | countyreal + year"
        fit = pf.feols(formula, data=mp, vcov={"CRV1": "countyreal"})
        rows += _rows(
            "mpdta_twfe_county_cl",
            fit,
            ["treated_now"],
            dataset=ds,
            call=f"feols({formula!r}, vcov={{'CRV1': 'countyreal'}})",
            fieldexp_call="did('lemp', 'countyreal', 'year', treated_now, clusters='countyreal')",
        )
        # event study: one indicator per event time of the treated cohorts, -1 omitted
        e = np.where(ft > 0, mp["year"] - ft, np.nan)
        names = []
        for k in sorted({int(v) for v in e[~np.isnan(e)]}):
            if k == -1:
                continue
            name = f"e_m{-k}" if k < 0 else f"e_p{k}"
            mp[name] = (e == k).astype(int)
            names.append(name)
        formula = "lemp ~ " + " + ".join(names) + " | countyreal + year"
        fit = pf.feols(formula, data=mp, vcov={"CRV1": "countyreal"})
        rows += _rows(
            "mpdta_event_study_county_cl",
            fit,
            names,
            dataset=ds,
            call=f"feols({formula!r}, vcov={{'CRV1': 'countyreal'}})",
            fieldexp_call="event_study('lemp', 'countyreal', 'year', 'first.treat', clusters='countyreal')",
        )
    else:
        print(f"[skip] {mp_path} not found")

    out = Path(args.out)
    frame = pd.DataFrame(rows)
    with open(out / "fixest.csv", "w") as fh:
        fh.write(",".join(frame.columns) + "\n")
        for _, r in frame.iterrows():
            fh.write(
                ",".join(
                    _fmt(v) if isinstance(v, float) else f'"{v}"' if isinstance(v, str) else str(v)
                    for v in r
                )
                + "\n"
            )
    with open(out / "fixest_versions.txt", "w") as fh:
        fh.write(f"pyfixest {pf.__version__}\nnumpy {np.__version__}\npandas {pd.__version__}\n")
        fh.write("# inputs (md5)\n")
        for k, v in md5.items():
            fh.write(f"{k}: {v}\n")
    print(f"wrote {len(frame)} rows to {out / 'fixest.csv'}")


if __name__ == "__main__":
    main()
