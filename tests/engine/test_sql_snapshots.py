"""Every pushed-down expression compiled for BigQuery, Snowflake, Trino and Postgres (offline).

The estimators run on DuckDB (table ``voters``); each expression they pull is compiled with
``ibis.to_sql(expr, dialect=...)`` and compared with the committed snapshot in
``tests/engine/sql/<case>.<dialect>.sql``. Coefficients sent back as literals (pass 3) depend
on the last bits of engine sums, so long decimals are masked as ``<num>``.
Regenerate after an intended change: ``FIELDEXP_UPDATE_SQL=1 pytest tests/engine/test_sql_snapshots.py``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import ibis
import numpy as np
import pandas as pd
import pytest

import fieldexp as fx
from fieldexp.engine import record_pulls

from .conftest import to_engine

SNAPSHOTS = Path(__file__).resolve().parent / "sql"
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
DIALECTS = ("bigquery", "snowflake", "trino", "postgres")
LONG_NUMBER = re.compile(r"-?\d+\.\d{6,}(?:[eE][-+]?\d+)?|-?\d\.?\d*[eE]-?\d+")

CASES = {
    "itt_dim_standard": ("itt", {}),
    "itt_dim_blocked": ("itt", {"blocks": "precinct_id"}),
    "itt_dim_blocked_clustered": ("itt", {"blocks": "precinct_id", "clusters": "household_id"}),
    "itt_dim_blocked_clustered_cr2_in_engine": (
        "itt",
        {"blocks": "precinct_id", "clusters": "household_id", "_cr2_in_engine": True},
    ),
    "itt_ols_hc2_blocks_covs": (
        "itt",
        {"method": "ols", "se_type": "HC2", "blocks": "precinct_id", "covariates": ["age"]},
    ),
    "itt_ols_stata_clustered": (
        "itt",
        {"method": "ols", "se_type": "stata", "clusters": "household_id"},
    ),
    "cace_cr0_blocks_clustered": (
        "cace",
        {"se_type": "CR0", "blocks": "precinct_id", "clusters": "household_id"},
    ),
}


def _sql(kind: str, kw: dict[str, object], dialect: str) -> str:
    from fieldexp.engine import sufficient

    kw = dict(kw)
    many = kw.pop("_cr2_in_engine", False)
    old = sufficient.MAX_PULLED_CLUSTERS
    sufficient.MAX_PULLED_CLUSTERS = 0 if many else old
    try:
        return _sql_inner(kind, kw, dialect)
    finally:
        sufficient.MAX_PULLED_CLUSTERS = old


def _sql_inner(kind: str, kw: dict[str, object], dialect: str) -> str:
    df = pd.read_csv(FIXTURES / "experiment_small.csv")
    t = to_engine(df, "ibis-duckdb")
    with record_pulls() as pulls:
        if kind == "itt":
            fx.itt(t, "voted", "assigned", **kw)  # type: ignore[arg-type]
        else:
            fx.cace(t, "voted", "contacted", "assigned", **kw)  # type: ignore[arg-type]
    parts = []
    for p in pulls:
        sql = ibis.to_sql(p.expr, dialect=dialect)
        parts.append(f"-- pull: {p.what}\n{LONG_NUMBER.sub('<num>', str(sql)).strip()};\n")
    return "\n".join(parts)


def _panel() -> pd.DataFrame:
    """A small balanced staggered panel (12 units x 4 periods) for the DiD expressions."""
    u = np.repeat(np.arange(12), 4)
    t = np.tile(np.arange(2020, 2024), 12)
    first = np.array([0, 0, 0, 0, 2022, 2022, 2022, 2023, 2023, 2023, 0, 2022])[u]
    d = ((first > 0) & (t >= first)).astype(int)
    y = (u % 5) * 0.3 + (t - 2020) * 0.1 + 0.5 * d + ((u * 7 + t) % 3) * 0.01
    return pd.DataFrame({"unit": u, "year": t, "d": d, "y": y, "first": first, "state": u % 4})


def _run_new(case: str) -> list[object]:
    """Run one of the estimators added for issue 12 item 1 and return its pulls."""
    from fieldexp import Design

    if case.startswith(("did", "staggered")):
        t = to_engine(_panel(), "ibis-duckdb", name="panel")
    else:
        t = to_engine(pd.read_csv(FIXTURES / "experiment_small.csv"), "ibis-duckdb")
    with record_pulls() as pulls:
        if case == "balance_clustered_omnibus":
            fx.balance(t, "assigned", ["age", "propensity_band"], blocks="precinct_id",  # type: ignore[arg-type]
                       clusters="household_id", reps=20, seed=1)  # fmt: skip
        elif case == "ri_blocked_clustered":
            design = Design("voter_id", blocks="precinct_id", clusters="household_id")
            fx.randomization_inference(t, "voted", "assigned", design, reps=20, seed=1)  # type: ignore[arg-type]
        elif case == "did_twfe_hc2":
            fx.did(t, "y", "unit", "year", "d", se_type="HC2")  # type: ignore[arg-type]
        elif case == "did_twfe_stata_clustered_fixest":
            fx.did(t, "y", "unit", "year", "d", clusters="state", small_sample="fixest")  # type: ignore[arg-type]
        elif case == "staggered_att_gt_moments":
            fx.engine.att_gt_moments(t, "y", "unit", "year", "first")
        elif case == "staggered_did_unit_rows":
            fx.staggered_did(t, "y", "unit", "year", "first")  # type: ignore[arg-type]
        elif case == "itt_ols_fixest_clustered":
            fx.itt(t, "voted", "assigned", method="ols", se_type="stata",  # type: ignore[arg-type]
                   clusters="household_id", small_sample="fixest")  # fmt: skip
        else:
            raise ValueError(case)
    return list(pulls)


NEW_CASES = (
    "balance_clustered_omnibus",
    "ri_blocked_clustered",
    "did_twfe_hc2",
    "did_twfe_stata_clustered_fixest",
    "staggered_att_gt_moments",
    "staggered_did_unit_rows",
    "itt_ols_fixest_clustered",
)


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("case", NEW_CASES)
def test_sql_snapshot_new_estimators(case: str, dialect: str) -> None:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pulls = _run_new(case)
    parts = []
    for p in pulls:
        sql = ibis.to_sql(p.expr, dialect=dialect)  # type: ignore[attr-defined]
        parts.append(f"-- pull: {p.what}\n{LONG_NUMBER.sub('<num>', str(sql)).strip()};\n")  # type: ignore[attr-defined]
    text = "\n".join(parts)
    path = SNAPSHOTS / f"{case}.{dialect}.sql"
    if os.environ.get("FIELDEXP_UPDATE_SQL"):
        path.write_text(text)
    assert path.exists(), f"missing snapshot {path}; run with FIELDEXP_UPDATE_SQL=1 to create it"
    assert text == path.read_text()
    table = "panel" if case.startswith(("did", "staggered")) else "voters"
    assert f'"{table}"' in text or f"`{table}`" in text  # the engine table, not a pulled copy


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("case", list(CASES))
def test_sql_snapshot(case: str, dialect: str) -> None:
    kind, kw = CASES[case]
    text = _sql(kind, kw, dialect)
    path = SNAPSHOTS / f"{case}.{dialect}.sql"
    if os.environ.get("FIELDEXP_UPDATE_SQL"):
        path.write_text(text)
    assert path.exists(), f"missing snapshot {path}; run with FIELDEXP_UPDATE_SQL=1 to create it"
    assert text == path.read_text()
    assert '"voters"' in text or "`voters`" in text  # the engine table, not a pulled copy
