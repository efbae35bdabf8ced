"""fx.build_analysis_table on Ibis tables: the same table and reconciliation as the DataFrame build.

The Ibis table materialised (sorted by voter id) equals the pandas analysis table, and the
reconciliation has the same rows read, entries (table, status, reason, rows, arm), sample
flow, notes and window; only ``first_rows`` differ (empty: an engine table has no row order).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import fieldexp as fx
from fieldexp.analysis import build_analysis_table as build_frame
from fieldexp.analysis.reconciliation import Reconciliation
from fieldexp.analysis.stages.join import to_pandas
from fieldexp.engine import record_pulls
from fieldexp.engine.table import build_engine_table
from fieldexp.errors import ColumnNotFoundError, ReconciliationError, SpecificationError
from fieldexp.io.synthetic import synthetic_field_data


def _analysis_tests() -> object:
    """tests/analysis/test_table.py (its messy() tables), loaded by path (tests is no package)."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "analysis" / "test_table.py"
    spec = importlib.util.spec_from_file_location("_fx_analysis_test_table", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_messy_source = _analysis_tests()
ELECTION: str = _messy_source.ELECTION  # type: ignore[attr-defined]
messy = _messy_source.messy  # type: ignore[attr-defined]

ibis = pytest.importorskip("ibis")


def to_duckdb(con: object, name: str, df: pd.DataFrame | None) -> object:
    """``df`` as a real DuckDB table (not a memtable) on connection ``con``."""
    if df is None:
        return None
    arrow = pa.Table.from_pandas(df, preserve_index=False)
    con.con.register("_fx_source", arrow)  # type: ignore[attr-defined]
    con.con.execute(f'CREATE TABLE "{name}" AS SELECT * FROM _fx_source')  # type: ignore[attr-defined]
    con.con.unregister("_fx_source")  # type: ignore[attr-defined]
    return con.table(name)  # type: ignore[attr-defined]


def entries_of(rec: Reconciliation) -> list[tuple[object, ...]]:
    return sorted((e.table, e.status, e.reason, e.rows, str(e.arm)) for e in rec.entries)


def assert_same_build(
    frame: pd.DataFrame,
    rec0: Reconciliation,
    table: object,
    rec1: Reconciliation,
    *,
    exact_dtypes: bool = True,
) -> None:
    got = to_pandas(table.to_pyarrow())  # type: ignore[attr-defined]
    want = frame.sort_values("voter_id").reset_index(drop=True)
    got = got.sort_values("voter_id").reset_index(drop=True)
    assert list(got.columns) == list(want.columns)
    pd.testing.assert_frame_equal(got, want, check_dtype=False)
    for col in want.columns if exact_dtypes else ():  # dtypes equal where both fix them
        if col.startswith(("voted", "assigned", "attempted", "contacted", "registered", "past")):
            assert got[col].dtype == want[col].dtype, col
    assert rec1.rows_read == rec0.rows_read
    assert entries_of(rec1) == entries_of(rec0)
    assert rec1.flow == rec0.flow
    assert rec1.notes == rec0.notes
    assert rec1.election == rec0.election
    assert rec1.campaign_window == rec0.campaign_window
    assert all(e.first_rows == () for e in rec1.entries)
    rec1.check()


def both(v, a, c, h, **kw):
    frame, rec0 = build_frame(v, a, c, h, **kw)
    con = ibis.duckdb.connect()
    tables = [
        to_duckdb(con, n, x)
        for n, x in zip(("voters", "assignment", "contacts", "history"), (v, a, c, h), strict=True)
    ]
    table, rec1, info = build_engine_table(*tables, **design_options(a), **kw)
    return frame, rec0, table, rec1, info


def design_options(assignment: pd.DataFrame) -> dict[str, object]:
    """What Design.assign recorded in attrs, passed explicitly (an engine table has no attrs)."""
    import json

    design = assignment.attrs.get("fieldexp_design")
    if isinstance(design, str):
        design = json.loads(design)
    if not isinstance(design, dict):
        return {}
    out: dict[str, object] = {}
    for key in ("unit", "blocks", "clusters"):
        if isinstance(design.get(key), str):
            out[key] = design[key]
    return out


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"campaign_window": ("2020-10-02", "2020-10-31"), "control_contacts": "drop"},
        {"campaign_window": ("2020-10-02", None)},
        {"past_elections": 0},
        {"control": "1"},
    ],
    ids=["default", "window-drop", "open-window", "no-past", "control-1"],
)
def test_messy_tables_equal_dataframe_build(options):
    """Hostile: duplicated voter ids (V2), a unit assigned twice (V1), contacts for unknown
    voters/households (VX, H9), contacts after election day, history for voters not in the
    voter file (V8, V9), an election after the target, a removed voter."""
    v, a, c, h = messy()
    frame, rec0, table, rec1, info = both(v, a, c, h, election=ELECTION, **options)
    assert_same_build(frame, rec0, table, rec1)
    assert rec1.count("voters", "duplicate voter id (same household; first row kept)") == 1
    assert rec1.count("contacts", "voter id not in the voter file") == 1
    assert rec1.count("vote_history", "voter id not in the voter file") == 1
    assert info.election == ELECTION and info.unit_level == "voter"


@pytest.mark.parametrize("seed", [1, 7])
def test_synthetic_field_data_equal(seed):
    d = synthetic_field_data(seed, n_households=60, n_precincts=3)
    frame, rec0, table, rec1, _ = both(
        d.voters, d.assignment, d.contacts, d.vote_history, election=d.election
    )
    assert_same_build(frame, rec0, table, rec1)


def test_hostile_duplicates_unknowns_and_shuffled_rows():
    """Duplicated voters, contacts and history rows; contacts for invented voters; history for
    unknown voters and for an election nobody named; rows shuffled: same table, same counts."""
    d = synthetic_field_data(3, n_households=50, n_precincts=2)
    rng = np.random.default_rng(0)
    voters = pd.concat([d.voters, d.voters.head(4)], ignore_index=True)
    junk = pd.DataFrame(
        {
            "unit_id": [f"Z{i}" for i in range(5)],
            "unit_level": ["voter"] * 4 + ["precinct"],
            "timestamp": pd.Timestamp("2020-10-01"),
            "channel": "door",
            "result": "x",
            "attempted": 1,
            "contacted": 0,
        }
    )
    contacts = pd.concat([d.contacts, d.contacts.head(6), junk], ignore_index=True)
    extra = pd.DataFrame(
        {
            "voter_id": ["NOBODY1", "NOBODY2", d.voters["voter_id"].iloc[0]],
            "election_id": ["special_2019_05_01"] * 3,
            "election_date": pd.Timestamp("2019-05-01"),
            "voted": [1, 0, 1],
        }
    )
    hist = pd.concat([d.vote_history, d.vote_history.head(8), extra], ignore_index=True)

    def shuffle(df):
        return df.sample(frac=1, random_state=int(rng.integers(1000))).reset_index(drop=True)

    frame, rec0, table, rec1, _ = both(
        shuffle(voters),
        shuffle(d.assignment),
        shuffle(contacts),
        shuffle(hist),
        election=d.election,
    )
    assert_same_build(frame, rec0, table, rec1)
    assert rec1.count("contacts", "voter id not in the voter file") == 4
    assert rec1.count("contacts", "unknown unit level") == 1
    assert rec1.count("contacts", "duplicate contact row") >= 6
    assert rec1.count("vote_history", "voter id not in the voter file") == 2


def test_household_level_assignment_and_unit_id():
    d = synthetic_field_data(12, n_households=40, n_precincts=2)
    hh = d.voters.drop_duplicates("household_id")[["household_id", "precinct_id"]]
    a = pd.DataFrame(fx.Design("household_id", blocks="precinct_id").assign(hh, seed=1))
    a.attrs = {}
    frame, rec0, table, rec1, info = both(
        d.voters, a, d.contacts, d.vote_history, election=d.election
    )
    assert info.unit_level == "household"
    assert_same_build(frame, rec0, table, rec1)
    # the same assignment under a neutral column name: the level is found from the ids
    a2 = a.rename(columns={"household_id": "unit_id"})
    frame2, rec2, table2, rec3, info2 = both(
        d.voters, a2, d.contacts, d.vote_history, election=d.election
    )
    assert info2.unit_level == "household"
    assert_same_build(frame2, rec2, table2, rec3)


def test_assigned_column_no_contacts_and_election_by_date():
    v, a, _c, h = messy()
    a2 = a.rename(columns={"arm": "assigned"}).drop(columns="probability")
    frame, rec0, table, rec1, _ = both(v, a2, None, h, election="2020-11-03")
    assert_same_build(frame, rec0, table, rec1)
    assert "contacts" not in dict(rec1.rows_read)


def test_demo_fixtures_equal():
    """The shipped demo (fixtures/demo, read through analyses/demo.toml's importers)."""
    from pathlib import Path

    from fieldexp.report.inputs import read_inputs
    from fieldexp.spec.load import load_spec

    spec = load_spec(Path(__file__).resolve().parents[2] / "analyses" / "demo.toml")
    inputs = read_inputs(spec)
    a = spec.analysis
    frame, rec0, table, rec1, _ = both(
        inputs.voters,
        inputs.assignment,
        inputs.contacts,
        inputs.vote_history,
        election=a.election,
        campaign_window=a.campaign_window,
        control=0,
    )
    assert_same_build(frame, rec0, table, rec1)
    assert rec1.read("vote_history") > 10_000


def test_only_aggregates_are_pulled():
    d = synthetic_field_data(5, n_households=80, n_precincts=3)
    con = ibis.duckdb.connect()
    tables = [
        to_duckdb(con, n, x)
        for n, x in zip(
            ("v", "a", "c", "h"), (d.voters, d.assignment, d.contacts, d.vote_history), strict=True
        )
    ]
    with record_pulls() as pulls:
        table, rec, _ = build_engine_table(*tables, election=d.election)
    n_elections = d.vote_history["election_id"].nunique()
    # every pull is a handful of rows: counts, arms, elections, reasons, flow
    assert max(p.rows for p in pulls) <= max(n_elections, 16)
    assert sum(p.rows for p in pulls) < len(d.voters) // 4
    assert table.count().execute() == rec.flow[0].assigned + rec.flow[1].assigned


def test_estimates_on_the_engine_table_equal():
    d = synthetic_field_data(9, n_households=120, n_precincts=3)
    frame, _, table, _, _ = both(
        d.voters, d.assignment, d.contacts, d.vote_history, election=d.election
    )
    a = fx.itt(frame, "voted", "assigned", blocks="precinct_id", clusters="household_id")
    b = fx.itt(table, "voted", "assigned", blocks="precinct_id", clusters="household_id")
    assert b.estimate == pytest.approx(a.estimate, rel=1e-9)
    assert b.std_error == pytest.approx(a.std_error, rel=1e-9)


def test_dispatch_and_refusals():
    v, a, c, h = messy()
    con = ibis.duckdb.connect()
    tv, ta, tc, th = (to_duckdb(con, n, x) for n, x in zip("vach", (v, a, c, h), strict=True))
    table, _rec = fx.build_analysis_table(tv, ta, tc, th, election=ELECTION, progress=False)
    assert isinstance(table, ibis.expr.types.Table)
    frame, _ = fx.build_analysis_table(v, a, c, h, election=ELECTION)
    assert isinstance(frame, pd.DataFrame)
    with pytest.raises(SpecificationError, match="either every input is an engine table"):
        fx.build_analysis_table(tv, a, tc, th, election=ELECTION)
    with pytest.raises(SpecificationError, match="not in the vote history"):
        build_engine_table(tv, ta, tc, th, election="general_1999")
    with pytest.raises(ColumnNotFoundError, match="voted"):
        build_engine_table(tv, ta, tc, th.drop("voted"), election=ELECTION)
    # a voter id in two households / a unit in two arms stop the build, as on DataFrames
    v2 = v.copy()
    v2.loc[6, "household_id"] = "H9"
    with pytest.raises(ReconciliationError, match="one household"):
        build_engine_table(to_duckdb(con, "v2", v2), ta, tc, th, election=ELECTION)
    a2 = a.copy()
    a2.loc[7, "arm"] = 0
    with pytest.raises(ReconciliationError, match="one arm"):
        build_engine_table(tv, to_duckdb(con, "a2", a2), tc, th, election=ELECTION)


def test_polars_and_arrow_inputs_equal():
    """Polars and PyArrow tables go through ibis.memtable (DuckDB) without a pandas copy."""
    pl = pytest.importorskip("polars")
    d = synthetic_field_data(6, n_households=50, n_precincts=2)
    frame, rec0 = build_frame(
        d.voters, d.assignment, d.contacts, d.vote_history, election=d.election
    )
    inputs = (
        pl.from_pandas(d.voters),
        pa.Table.from_pandas(d.assignment, preserve_index=False),
        pl.from_pandas(d.contacts).lazy(),
        pa.Table.from_pandas(d.vote_history, preserve_index=False),
    )
    table, rec1, _ = build_engine_table(
        *inputs, election=d.election, **design_options(d.assignment)
    )
    assert_same_build(frame, rec0, table, rec1)


@pytest.mark.parametrize("dialect", ["postgres", "snowflake", "bigquery", "trino"])
def test_every_pushed_down_expression_compiles_for_warehouses(dialect):
    """Offline: each aggregate the build pulls (and the table itself) compiles to the
    warehouse dialect; the Postgres rendering (the Redshift route, docs/scale.md) uses no
    aggregate FILTER clause, which Redshift rejects."""
    v, a, c, h = messy()
    con = ibis.duckdb.connect()
    tables = [to_duckdb(con, n, x) for n, x in zip("vach", (v, a, c, h), strict=True)]
    with record_pulls() as pulls:
        table, _, _ = build_engine_table(*tables, election=ELECTION, materialize=False)
    exprs = [p.expr for p in pulls] + [table]
    assert len(exprs) >= 10
    for expr in exprs:
        sql = ibis.to_sql(expr, dialect=dialect)
        assert "SELECT" in sql
        if dialect == "postgres":
            assert "FILTER(" not in sql.replace(" ", "").upper().replace("FILTER (", "FILTER(")


def test_two_builds_on_one_connection_keep_their_own_tables():
    """Stored stages are named per build: a second build never overwrites the first's table."""
    con = ibis.duckdb.connect()
    d1 = synthetic_field_data(21, n_households=30, n_precincts=2)
    d2 = synthetic_field_data(22, n_households=45, n_precincts=2)
    built = []
    for i, d in enumerate((d1, d2)):
        tables = [
            to_duckdb(con, f"{n}{i}", x)
            for n, x in zip(
                "vach", (d.voters, d.assignment, d.contacts, d.vote_history), strict=True
            )
        ]
        built.append(
            build_engine_table(*tables, election=d.election, **design_options(d.assignment))
        )
    assert built[0][0].count().execute() == len(d1.voters)
    assert built[1][0].count().execute() == len(d2.voters)
