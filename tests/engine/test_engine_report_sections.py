"""The report's DiD panel, event study and coverage counts in the engine vs the DataFrame path.

A synthetic staggered campaign (exposure at three different elections, household-level
contacts, unmatched, undated, non-attempt and late contacts, voters registered after the
first elections, history voters missing from the voter file) on DuckDB: the engine panel
equals :func:`fieldexp.diffindiff.voter_panel` row for row with the same report counts, the
event studies equal :func:`fieldexp.event_study` at rtol 1e-9, and the coverage counts
equal :mod:`fieldexp.analysis.coverage`. Only aggregates are pulled (bounded rows and bytes).
"""

from __future__ import annotations

import math
import warnings

import ibis
import numpy as np
import pandas as pd
import pytest

from fieldexp.analysis.coverage import (
    canvasser_coverage,
    contacts_in_analysis,
    household_coverage,
)
from fieldexp.diffindiff import event_study, voter_panel
from fieldexp.engine import record_pulls
from fieldexp.engine.report_coverage import (
    engine_canvasser_coverage,
    engine_household_coverage,
)
from fieldexp.engine.report_event import engine_event_study
from fieldexp.engine.report_panel import engine_elections, engine_voter_panel
from fieldexp.errors import DataError, SpecificationError

from .conftest import RTOL, to_engine

ELECTIONS = {
    "2016_general": "2016-11-08",
    "2018_general": "2018-11-06",
    "2020_general": "2020-11-03",
    "2022_general": "2022-11-08",
}


def campaign(seed: int = 7, n_hh: int = 150) -> dict[str, pd.DataFrame]:
    """Voters, vote history, contacts and an analysis table with every kind of odd row."""
    rng = np.random.default_rng(seed)
    n = 2 * n_hh
    vid = [f"V{i:04d}" for i in range(n)]
    hh = [f"H{i // 2:04d}" for i in range(n)]
    reg = pd.to_datetime(
        rng.choice(
            ["2010-01-01", "2017-03-01", "2019-06-01", "2021-02-01"], n, p=[0.7, 0.1, 0.1, 0.1]
        )
    )
    voters = pd.DataFrame(
        {
            "voter_id": vid,
            "household_id": hh,
            "precinct_id": [f"P{(i // 2) % 7}" for i in range(n)],
            "registration_date": reg,
        }
    )
    # cohort of each household: never (0) or first exposed at election 2, 3 or 4
    cohort = rng.choice([0, 2, 3, 4], n_hh, p=[0.4, 0.2, 0.2, 0.2])
    days = list(pd.to_datetime(list(ELECTIONS.values())))
    rows = []
    for i in range(n):
        base = rng.uniform(0.2, 0.8)
        for j, (eid, day) in enumerate(ELECTIONS.items()):
            if rng.random() < 0.15:  # absent from the history: an abstention
                continue
            treated = cohort[i // 2] and j + 1 >= cohort[i // 2]
            p = min(0.95, base + 0.03 * j + (0.08 if treated else 0.0))
            rows.append((vid[i], eid, day, "general", int(rng.random() < p)))
    for k in range(6):  # voters of the history missing from the voter file (no household)
        for eid, day in ELECTIONS.items():
            rows.append((f"X{k}", eid, day, "general", int(rng.random() < 0.5)))
    history = pd.DataFrame(
        rows, columns=["voter_id", "election_id", "election_date", "election_type", "voted"]
    )
    history["election_date"] = pd.to_datetime(history["election_date"])
    c = []
    for h in range(n_hh):
        g = cohort[h]
        if not g:
            continue
        lo, hi = days[g - 2], days[g - 1]
        when = lo + (hi - lo) * rng.uniform(0.05, 1.0)
        if rng.random() < 0.3:  # logged at household level
            c.append((f"H{h:04d}", "household", when, 1, int(rng.random() < 0.5), f"K{h % 5}"))
        else:
            for v in (2 * h, 2 * h + 1):
                if rng.random() < 0.8:
                    c.append((vid[v], "voter", when, 1, int(rng.random() < 0.5), f"K{v % 9}"))
        if rng.random() < 0.2:  # a later revisit
            c.append((vid[2 * h], "voter", hi + pd.Timedelta(days=1), 1, 1, None))
    c += [
        ("V9999", "voter", days[2], 1, 0, "K1"),  # unknown voter
        ("H9999", "household", days[2], 1, 0, "K1"),  # unknown household
        (vid[0], "voter", pd.NaT, 1, 0, "K2"),  # undated
        (vid[1], "voter", days[3] + pd.Timedelta(days=30), 1, 0, "K2"),  # after the last
        (vid[2], "voter", days[1], 0, 0, "K3"),  # not an attempt
        (vid[3], "voter", days[1].replace(hour=15), 1, 1, "K3"),  # election day, 3 pm
    ]
    contacts = pd.DataFrame(
        c, columns=["unit_id", "unit_level", "timestamp", "attempted", "contacted", "canvasser"]
    )
    contacts["attempted"] = contacts["attempted"].astype("int64")
    contacts["contacted"] = contacts["contacted"].astype("int64")
    arm = np.repeat(rng.integers(0, 2, n_hh), 2)
    last = contacts[contacts["timestamp"] > days[2]]
    att_v = set(last.loc[last["unit_level"] == "voter", "unit_id"])
    att_h = set(last.loc[last["unit_level"] == "household", "unit_id"])
    table = voters[["voter_id", "household_id", "precinct_id"]].assign(
        arm=arm,
        attempted=[int(v in att_v or h in att_h) for v, h in zip(vid, hh, strict=True)],
        contacted=rng.integers(0, 2, n),
    )
    table["contacted"] = np.minimum(table["contacted"], table["attempted"])
    table.loc[4, "precinct_id"] = None  # a household whose first voter has no precinct
    table.loc[6, "precinct_id"] = "P9"  # a household split across precincts: its first voter
    return {"voters": voters, "vote_history": history, "contacts": contacts, "table": table}


@pytest.fixture(scope="module")
def data() -> dict[str, pd.DataFrame]:
    return campaign()


@pytest.fixture(scope="module")
def tables(data: dict[str, pd.DataFrame]) -> dict[str, object]:
    con = ibis.duckdb.connect()
    out = {}
    for name, df in data.items():
        con.con.register("_src", df)
        con.con.execute(f'CREATE TABLE "{name}" AS SELECT * FROM _src')
        con.con.unregister("_src")
        out[name] = con.table(name)
    return out


def frame_panel(data: dict[str, pd.DataFrame], keep: list[str]) -> tuple[pd.DataFrame, object]:
    """What the report's DataFrame DiD section builds (report/sections/did.py)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        built = voter_panel(
            data["vote_history"], data["contacts"], voters=data["voters"], elections=keep
        )
    panel = built.data.merge(
        data["voters"][["voter_id", "household_id"]].drop_duplicates("voter_id"),
        on="voter_id",
        how="left",
        validate="many_to_one",
    )
    return panel.assign(voted=pd.to_numeric(panel["voted"]).astype("float64")), built.report


def engine_panel(tables: dict[str, object], keep: list[str], clusters: str = "household_id"):
    el = engine_elections(tables["vote_history"])
    el = el[el["election_id"].isin(keep)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return engine_voter_panel(
            tables["vote_history"], tables["contacts"], voters=tables["voters"],
            elections=el, clusters=clusters,
        )  # fmt: skip


@pytest.mark.parametrize("keep", [list(ELECTIONS), list(ELECTIONS)[:3]])
def test_engine_panel_equals_voter_panel(data, tables, keep) -> None:
    a, rep_a = frame_panel(data, keep)
    with record_pulls() as pulls:
        b = engine_panel(tables, keep)
    assert b.report == rep_a
    assert rep_a.n_contacts_unmatched == 2 and rep_a.n_contacts_undated == 1
    assert rep_a.n_contacts_not_attempted == 1 and rep_a.n_contacts_after_last_election >= 1
    assert rep_a.n_rows_before_registration > 0 and rep_a.n_rows_filled_not_voted > 0
    frame = b.data.to_pandas().sort_values(["voter_id", "period"], ignore_index=True)
    a = a.sort_values(["voter_id", "period"], ignore_index=True)
    assert frame["voter_id"].tolist() == a["voter_id"].tolist()
    assert frame["cohort"].tolist() == a["cohort"].tolist()
    assert frame["period"].tolist() == a["period"].tolist()
    np.testing.assert_array_equal(frame["voted"].to_numpy(), a["voted"].to_numpy())
    assert frame["_fx_cluster"].fillna("-").tolist() == a["household_id"].fillna("-").tolist()
    assert sorted(set(a["cohort"])) == ([0, 2, 3, 4] if len(keep) == 4 else [0, 2, 3])
    # the panel is built lazily: the pulls are elections, checks and one-row counts
    assert max(p.rows for p in pulls) <= len(ELECTIONS)
    assert sum(p.nbytes for p in pulls) < 2_000


SPECS = {
    "twfe stata": ("twfe", None, None, "stata", True),
    "twfe binned CR0": ("twfe", 1, 1, "CR0", True),
    "twfe HC1 no clusters": ("twfe", None, None, "stata", False),
    "twfe HC0": ("twfe", 2, None, "HC0", False),
    "sun_abraham stata": ("sun_abraham", None, None, "stata", True),
}


def assert_event_studies_equal(a, b) -> None:
    ca, cb = a.coefficients, b.coefficients
    assert ca["event_time"].tolist() == cb["event_time"].tolist()
    for col in ("estimate", "std_error", "statistic", "df", "p_value", "ci_low", "ci_high"):
        x, y = ca[col].to_numpy(dtype=float), cb[col].to_numpy(dtype=float)
        assert np.array_equal(np.isnan(x), np.isnan(y)), col
        np.testing.assert_allclose(y[~np.isnan(x)], x[~np.isnan(x)], rtol=RTOL, atol=1e-15)
    assert (a.nobs, a.nclusters, a.se_type, a.comparison) == (
        b.nobs,
        b.nclusters,
        b.se_type,
        b.comparison,
    )
    assert a.notes == b.notes
    for pa, pb in ((a.pretest, b.pretest), (a.pretest_f, b.pretest_f)):
        assert (pa is None) == (pb is None)
        if pa is not None:
            assert pb.statistic == pytest.approx(pa.statistic, rel=RTOL)
            assert pb.df == pa.df
            assert pb.p_value == pytest.approx(pa.p_value, rel=RTOL)
    if a.cohort_shares is not None:
        pd.testing.assert_frame_equal(a.cohort_shares, b.cohort_shares, rtol=RTOL)


@pytest.mark.parametrize("case", list(SPECS))
def test_engine_event_study_equals_dataframe(data, tables, case) -> None:
    estimator, leads, lags, se_type, clustered = SPECS[case]
    panel, _ = frame_panel(data, list(ELECTIONS))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = event_study(
            panel, "voted", "voter_id", "period", "cohort", leads=leads, lags=lags,
            estimator=estimator, clusters="household_id" if clustered else None, se_type=se_type,
        )  # fmt: skip
    built = engine_panel(tables, list(ELECTIONS), "household_id" if clustered else None)
    with record_pulls() as pulls, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        b = engine_event_study(
            built.data, leads=leads, lags=lags, reference=-1, estimator=estimator,
            clustered=clustered, se_type=se_type, alpha=0.05,
        )  # fmt: skip
    assert_event_studies_equal(a, b)
    assert a.nobs < len(panel)  # missing before registration, no household: unbalanced
    # pulled: (cohort, period) cells, one row of cross-products, one of score products
    cells = panel.groupby(["cohort", "period"]).ngroups
    assert max(p.rows for p in pulls) <= cells < 20
    assert sum(p.nbytes for p in pulls) < 8_000, [(p.what, p.nbytes) for p in pulls]


def test_engine_event_study_refusals(data, tables) -> None:
    built = engine_panel(tables, list(ELECTIONS))
    kw = dict(leads=None, lags=None, reference=-1, estimator="twfe", clustered=True, alpha=0.05)
    for se in ("CR2",):
        with pytest.raises(SpecificationError, match="leverage"):
            engine_event_study(built.data, se_type=se, **kw)
    with pytest.raises(SpecificationError, match="leverage"):
        engine_event_study(built.data, **{**kw, "clustered": False}, se_type="HC2")
    with pytest.raises(DataError, match="reference event time 5"):
        engine_event_study(built.data, se_type="stata", **{**kw, "reference": 5})
    treated_only = built.data.filter(built.data["cohort"] > 0)
    with pytest.raises(DataError, match="no never-treated units"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        engine_event_study(treated_only, se_type="stata", **kw)


def test_engine_panel_refuses_what_voter_panel_refuses(data) -> None:
    h = data["vote_history"]
    dup = pd.concat([h, h.iloc[:3]], ignore_index=True)
    bad = h.assign(voted=h["voted"].where(h.index != 4, 2))
    for hist, match in ((dup, "one row per voter and election; found 6"), (bad, "must be 0/1")):
        with pytest.raises(DataError, match=match):
            voter_panel(hist, data["contacts"], voters=data["voters"])
        t = to_engine(hist, "ibis-duckdb", "vote_history")
        with pytest.raises(DataError, match=match):
            engine_voter_panel(
                t, to_engine(data["contacts"], "ibis-duckdb", "contacts"),
                voters=to_engine(data["voters"], "ibis-duckdb"), elections=engine_elections(t),
            )  # fmt: skip
    text = data["contacts"].assign(attempted=data["contacts"]["attempted"].astype(str))
    text.loc[0, "attempted"] = "yes"
    t = to_engine(h, "ibis-duckdb", "vote_history")
    with pytest.raises(DataError, match="'attempted' must be 0/1"):
        engine_voter_panel(
            t, to_engine(text, "ibis-duckdb", "contacts"),
            voters=to_engine(data["voters"], "ibis-duckdb"), elections=engine_elections(t),
        )  # fmt: skip


def test_engine_coverage_equals_dataframe(data, tables) -> None:
    t = data["table"].assign(arm=data["table"]["arm"].astype(str))
    window = ("2020-11-04", "2022-11-08")
    for by in ("precinct_id",):
        a = household_coverage(t, arms=["1"], household="household_id", by=by)
        with record_pulls() as pulls:
            b = engine_household_coverage(
                tables["table"], arms=[1], household="household_id", by=by
            )
        pd.testing.assert_frame_equal(a, b, check_dtype=False)
        assert max(p.rows for p in pulls) == len(a) < len(t)
    for household, win in (("household_id", window), ("household_id", None), ("voter_id", window)):
        used = contacts_in_analysis(
            data["contacts"], t, arms=["1"], household=household, window=win
        )
        a = canvasser_coverage(used)
        with record_pulls() as pulls:
            b, read, aside = engine_canvasser_coverage(
                tables["contacts"], tables["table"], arms=[1], household=household, window=win
            )
        pd.testing.assert_frame_equal(a, b, check_dtype=False)
        assert (read, aside) == (used.rows_read, used.set_aside)
        assert used.set_aside > 0 and len(a) > 1
        assert max(p.rows for p in pulls) <= len(a)
        assert sum(p.nbytes for p in pulls) < 200 * max(len(a), 1) + 1_000
    assert not math.isnan(float(a["households"].sum()))


@pytest.mark.slow
def test_spark_panel_event_study_and_coverage(spark_session: object) -> None:
    """Once on Spark ``local[2]`` (small): the same panel, event study and coverage counts."""
    from .conftest import to_spark

    data = campaign(seed=11, n_hh=40)
    t = {name: to_spark(spark_session, df, f"fx_rep_{name}") for name, df in data.items()}
    keep = list(ELECTIONS)
    panel, rep = frame_panel(data, keep)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = event_study(panel, "voted", "voter_id", "period", "cohort", clusters="household_id")
    with record_pulls() as pulls:
        built = engine_panel(t, keep)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            b = engine_event_study(
                built.data, leads=None, lags=None, reference=-1, estimator="twfe",
                clustered=True, se_type="stata", alpha=0.05,
            )  # fmt: skip
        frame = data["table"].assign(arm=data["table"]["arm"].astype(str))
        hc = engine_household_coverage(
            t["table"], arms=[1], household="household_id", by="precinct_id"
        )
        cc, read, aside = engine_canvasser_coverage(
            t["contacts"], t["table"], arms=[1], household="household_id", window=None
        )
    assert built.report == rep
    assert_event_studies_equal(a, b)
    hc0 = household_coverage(frame, arms=["1"], household="household_id", by="precinct_id")
    pd.testing.assert_frame_equal(hc0, hc, check_dtype=False)
    used = contacts_in_analysis(data["contacts"], frame, arms=["1"], household="household_id")
    pd.testing.assert_frame_equal(canvasser_coverage(used), cc, check_dtype=False)
    assert (read, aside) == (used.rows_read, used.set_aside)
    assert max(p.rows for p in pulls) < 20 < len(panel)
    assert sum(p.nbytes for p in pulls) < 12_000, [(p.what, p.nbytes) for p in pulls]


@pytest.mark.parametrize("exposure", ["contacted", "flag"])
def test_engine_exposure_contacts_equal_the_sections(data, tables, exposure) -> None:
    """``[did] exposure = "contacted"`` or a 0/1 column of the analysis table, as did.py."""
    from fieldexp.engine.report_panel import exposure_contacts as engine_exposure
    from fieldexp.report.sections.did import exposure_contacts

    target = pd.Timestamp(ELECTIONS["2022_general"])
    frame = data["table"].assign(flag=(data["table"]["precinct_id"] == "P1").astype(int))
    con = ibis.get_backend(tables["table"])
    con.con.register("_flag", frame)
    con.con.execute('CREATE OR REPLACE TABLE "flagged" AS SELECT * FROM _flag')
    con.con.unregister("_flag")
    source = data["contacts"] if exposure == "contacted" else None
    c0 = exposure_contacts(exposure, source, frame, target)
    c1 = engine_exposure(
        exposure, tables["contacts"] if source is not None else None, con.table("flagged"), target
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = voter_panel(data["vote_history"], c0, voters=data["voters"])
        el = engine_elections(tables["vote_history"])
        b = engine_voter_panel(tables["vote_history"], c1, voters=tables["voters"], elections=el)
    assert b.report == a.report and a.report.n_treated_units > 0
    got = b.data.to_pandas().sort_values(["voter_id", "period"], ignore_index=True)
    want = a.data.sort_values(["voter_id", "period"], ignore_index=True)
    assert got["cohort"].tolist() == want["cohort"].tolist()
