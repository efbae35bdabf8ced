"""One propensity-band rule: the numpy function and the SQL of the analysis table agree."""

from __future__ import annotations

import duckdb
import numpy as np
import pytest

from fieldexp.analysis import propensity_band
from fieldexp.analysis.bands import (
    PROPENSITY_BANDS,
    propensity_band_codes,
    propensity_band_sql,
)


@pytest.mark.parametrize("k", range(0, 8))
def test_sql_and_numpy_agree_for_every_count(k: int) -> None:
    votes = list(range(0, k + 1))
    expected = propensity_band(np.array(votes, dtype=float), k)
    con = duckdb.connect()
    got = [
        con.execute(f"SELECT {propensity_band_sql(str(v), k)}").fetchone()[0]  # type: ignore[index]
        for v in votes
    ]
    assert got == list(expected)


def test_rule() -> None:
    bands = propensity_band(np.array([0, 1, 2, 3, 4, np.nan]), 4)
    assert list(bands) == ["never", "intermittent", "regular", "regular", "regular", None]
    assert list(propensity_band_codes([0, 1, 2], 3)) == [0, 1, 2]
    assert PROPENSITY_BANDS == ("never", "intermittent", "regular")


def test_no_past_election_gives_no_band() -> None:
    assert list(propensity_band([0, 0], 0)) == [None, None]
    assert propensity_band_sql("v", 0) == "CAST(NULL AS VARCHAR)"


def test_old_import_paths_still_work() -> None:
    from fieldexp.analysis.table import (  # noqa: F401  (names this module always exported)
        CORE_VOTER_COLUMNS,
        MAX_PAST_ELECTIONS,
        REMOVED,
        build_analysis_table,
        ids_sha256,
    )
    from fieldexp.analysis.table import (
        PROPENSITY_BANDS as TABLE_BANDS,
    )
    from fieldexp.analysis.table import (
        propensity_band as table_band,
    )
    from fieldexp.simulation.experiment import (  # noqa: F401
        BANDS,
        RESULT_CODES,
        EffectTruth,
        SimulatedExperiment,
        SimulationParams,
        Truth,
        simulate,
    )

    assert TABLE_BANDS is PROPENSITY_BANDS and BANDS is PROPENSITY_BANDS
    assert table_band is propensity_band
    assert MAX_PAST_ELECTIONS == 61 and REMOVED == "removed"
