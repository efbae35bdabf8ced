"""[engine] end to end: connections (never a secret shown) and a report from a DuckDB file.

The DuckDB file holds the demo's canonical tables (read by the demo spec's importers); the
report of the same spec with ``[engine] backend = "duckdb"`` has the same sections and
numbers as the CSV report, the DiD and coverage sections included (built from aggregates in
the engine: :mod:`fieldexp.report.sections.engine_did`, the coverage section's engine counts).
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

from fieldexp.cli import main as cli_main
from fieldexp.engine import record_pulls
from fieldexp.engine.connect import connect_engine, engine_table, redact_url
from fieldexp.errors import DataError, SpecificationError

ibis = pytest.importorskip("ibis")
duckdb = pytest.importorskip("duckdb")

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "analyses" / "demo.toml"
TABLES = ("voters", "assignment", "contacts", "vote_history")


def test_redact_url_drops_credentials_and_query():
    url = "snowflake://me:s3cretpass@acct.eu/db/schema?warehouse=wh&token=abc#x"
    shown = redact_url(url)
    assert shown == "snowflake://acct.eu/db/schema"
    assert "s3cret" not in shown and "me" not in shown.split("//")[1] and "abc" not in shown


def test_url_from_the_environment_never_shown(monkeypatch):
    secret_url = "postgres://analyst:Sup3rSecretPassw0rd@127.0.0.1:1/voters"
    monkeypatch.setenv("FX_TEST_ENGINE_URL", secret_url)
    with pytest.raises(DataError) as exc:  # nothing listens on port 1
        connect_engine("postgres", url_env="FX_TEST_ENGINE_URL")
    msg = str(exc.value)
    assert "Sup3rSecret" not in msg and "analyst" not in msg
    assert "postgres://127.0.0.1:1/voters" in msg
    monkeypatch.delenv("FX_TEST_ENGINE_URL")
    with pytest.raises(SpecificationError, match=r"FX_TEST_ENGINE_URL.*not set"):
        connect_engine("postgres", url_env="FX_TEST_ENGINE_URL")
    with pytest.raises(SpecificationError, match="not backend = 'snowflake'"):
        connect_engine("snowflake", url="postgres://h/db")


def write_duckdb(path: Path, frames: dict[str, pd.DataFrame]) -> None:
    con = duckdb.connect(str(path))
    for name, df in frames.items():
        con.register("_src", pa.Table.from_pandas(df, preserve_index=False))
        con.execute(f'CREATE TABLE "{name}" AS SELECT * FROM _src')
        con.unregister("_src")
    con.close()


def test_engine_table_names(tmp_path):
    db = tmp_path / "x.duckdb"
    write_duckdb(db, {"voters": pd.DataFrame({"voter_id": ["a"], "household_id": ["h"]})})
    con = connect_engine("duckdb", database=db)
    assert engine_table(con, "voters").count().execute() == 1
    assert engine_table(con, "main.voters").count().execute() == 1
    with pytest.raises(DataError, match="'nope': not found"):
        engine_table(con, "nope")
    with pytest.raises(SpecificationError, match="not found"):
        connect_engine("duckdb", database=tmp_path / "missing.duckdb")


def engine_spec_text(db: Path, backend: str = "duckdb") -> str:
    """The demo spec with its inputs as engine tables ([did] and [coverage] included)."""
    text = DEMO.read_text("utf-8")
    text = re.sub(r"\n\[data\.[a-z_]+\]\n(?:(?!\n\[).)*", "", text, flags=re.DOTALL)
    tables = "".join(f'\n[data.{t}]\ntable = "main.{t}"\n' for t in TABLES)
    engine = f'\n[engine]\nbackend = "{backend}"\n'
    engine += f'database = "{db.name}"\n' if backend == "duckdb" else ""
    return text.replace("\n[design]", tables + engine + "\n[design]", 1)


def csv_spec_text() -> str:
    text = DEMO.read_text("utf-8")
    return text.replace('path = "../fixtures/', f'path = "{REPO}/fixtures/')


def assert_cells_close(a: tuple, b: tuple, where: str) -> None:
    assert len(a) == len(b), where
    for x, y in zip(a, b, strict=True):
        if isinstance(x, float) and isinstance(y, float):
            assert (math.isnan(x) and math.isnan(y)) or y == pytest.approx(x, rel=1e-9), where
        else:
            assert x == y, where


def assert_reports_equal(rep0: object, rep1: object) -> None:
    """Same sections, text, tables (numbers at rtol 1e-9, as displayed: exactly) and figures.

    Provenance names the inputs (files vs engine tables) and the reconciliation's text the
    importers' code tables: those two sections differ by design and are not compared here.
    """
    s0 = {s.key: s for s in rep0.sections}  # type: ignore[attr-defined]
    s1 = {s.key: s for s in rep1.sections}  # type: ignore[attr-defined]
    assert list(s0) == list(s1)
    assert s0["did"].available and s0["coverage"].available
    for key in s0:
        if key in ("provenance", "reconciliation"):
            continue
        a, b = s0[key], s1[key]
        assert (a.title, a.available, a.reason) == (b.title, b.available, b.reason), key
        assert a.paragraphs == b.paragraphs, key
        assert [t.key for t in a.tables] == [t.key for t in b.tables], key
        for ta, tb in zip(a.tables, b.tables, strict=True):
            where = f"{key}/{ta.key}"
            assert (ta.title, ta.columns, ta.formats, ta.note) == (
                tb.title, tb.columns, tb.formats, tb.note,
            ), where  # fmt: skip
            assert len(ta.rows) == len(tb.rows), where
            for ra, rb in zip(ta.rows, tb.rows, strict=True):
                assert_cells_close(ra, rb, where)
            assert ta.formatted() == tb.formatted(), where
        assert [(f.key, f.title, f.alt) for f in a.figures] == [
            (f.key, f.title, f.alt) for f in b.figures
        ], key
        if key == "did":
            assert a.summary.pretest and len(a.summary.pretest) == len(b.summary.pretest)
            assert_cells_close(
                tuple(v for _, v in a.summary.pretest), tuple(v for _, v in b.summary.pretest), key
            )


def test_report_and_validate_from_a_duckdb_file_equal_the_csv_path(tmp_path, capsys):
    from fieldexp.report import build_report, prepare_analysis
    from fieldexp.report.inputs import read_inputs
    from fieldexp.spec.load import load_spec

    csv_spec_path = tmp_path / "csv.toml"
    csv_spec_path.write_text(csv_spec_text(), "utf-8")
    csv_spec = load_spec(csv_spec_path)
    inputs = read_inputs(csv_spec)
    db = tmp_path / "demo.duckdb"
    write_duckdb(db, {t: getattr(inputs, t) for t in TABLES})
    engine_spec_path = tmp_path / "engine.toml"
    engine_spec_path.write_text(engine_spec_text(db), "utf-8")
    engine_spec = load_spec(engine_spec_path)
    assert engine_spec.engine is not None and engine_spec.data.voters is None

    run0 = prepare_analysis(csv_spec)
    run1 = prepare_analysis(engine_spec)
    key = "voter_id"
    t0 = run0.table.sort_values(key).reset_index(drop=True)
    t1 = run1.table.sort_values(key).reset_index(drop=True)
    pd.testing.assert_frame_equal(t0, t1, check_dtype=False)
    r0, r1 = run0.reconciliation, run1.reconciliation
    assert r0.rows_read == r1.rows_read and r0.flow == r1.flow
    strip = lambda r: sorted((e.table, e.reason, e.rows, str(e.arm)) for e in r.entries)  # noqa: E731
    assert strip(r0) == strip(r1)

    rep0 = build_report(csv_spec, run=run0)
    with record_pulls() as pulls:
        rep1 = build_report(engine_spec, run=run1)
    assert len(rep0.estimates) == len(rep1.estimates) > 0
    for a, b in zip(rep0.estimates, rep1.estimates, strict=True):
        assert a == b
    assert_reports_equal(rep0, rep1)
    # DiD and coverage pulled aggregates only: elections, (cohort, period) cells, one row
    # per precinct and per canvasser, one-row passes; never one row per voter
    groups = max(run0.table["precinct_id"].nunique(), inputs.contacts["canvasser"].nunique())
    assert pulls and max(p.rows for p in pulls) <= max(groups, 5 * 4) < 100
    assert sum(p.nbytes for p in pulls) < 30_000, [(p.what, p.rows, p.nbytes) for p in pulls]

    assert cli_main(["validate", str(engine_spec_path)]) == 0
    out_engine = capsys.readouterr().out
    assert cli_main(["validate", str(csv_spec_path)]) == 0
    out_csv = capsys.readouterr().out
    counts = lambda out: [l for l in out.splitlines() if "rows read" in l or "arm " in l]  # noqa: E731,E741
    assert counts(out_engine) == counts(out_csv)
