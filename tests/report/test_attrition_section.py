"""The report's attrition section: fx.attrition whenever an outcome is missing (issue 14.2)."""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pandas as pd
from report_builders import small_context, write_small_experiment

import fieldexp as fx
from fieldexp.report import build_report
from fieldexp.report.sections import SECTIONS, ReportContext, attrition
from fieldexp.spec.model import OutcomeSpec

OBS = "_observed_in_test"


def _with_missing(small_run, treated_rate: float, control_rate: float, seed: int):
    """The small run with ``voted`` missing at the given rates by arm (seeded)."""
    table = small_run.run.table
    rng = np.random.default_rng(seed)
    z = pd.to_numeric(table["assigned"]).to_numpy()
    u = rng.uniform(size=len(table))
    gone = np.where(z == 1, u < treated_rate, u < control_rate)
    t = table.assign(voted=pd.to_numeric(table["voted"]).astype("Float64").mask(gone))
    run = dataclasses.replace(small_run.run, table=t)
    return ReportContext(run, small_run.ctx.effects, small_run.ctx.randomization), t


def _build(ctx):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return attrition.build(ctx)


def test_left_out_when_every_outcome_is_observed(small_run) -> None:
    assert _build(small_run.ctx) is None
    assert [k for k, _ in SECTIONS].index("attrition") == [k for k, _ in SECTIONS].index(
        "effects"
    ) + 1


def test_differential_attrition_gives_the_test_and_lee_bounds(small_run) -> None:
    ctx, t = _with_missing(small_run, 0.35, 0.05, seed=1)
    before = t.copy()
    s = _build(ctx)
    pd.testing.assert_frame_equal(t, before)  # the run's table is not modified
    assert s is not None and s.available
    spec = small_run.spec
    data = t.assign(**{OBS: t["voted"].notna().astype("int8")})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = fx.attrition(
            data,
            "assigned",
            OBS,
            blocks="precinct_id",
            clusters="household_id",
            design=spec.design.design,
            reps=50,
            seed=5,
        )
        lee = fx.lee_bounds(
            data,
            "voted",
            "assigned",
            observed=OBS,
            blocks="precinct_id",
            clusters="household_id",
            reps=50,
            seed=5,
        )
    assert ref.differential
    rates = s.tables[0]
    assert rates.key == "attrition"
    (row,) = rates.rows
    r = ref.rates.set_index("arm")
    assert row[:3] == ("Turnout in 2022", "1", int(r.loc[0, "n"]))
    np.testing.assert_allclose(row[3], r.loc[0, "rate"], rtol=1e-12)
    np.testing.assert_allclose(row[5], r.loc[1, "rate"], rtol=1e-12)
    np.testing.assert_allclose(
        row[6:9],
        [ref.difference.estimate, ref.difference.std_error, ref.difference.p_value],
        rtol=1e-12,
    )
    np.testing.assert_allclose(row[9], ref.ri_p_value, rtol=1e-12)
    bounds = s.tables[1]
    assert bounds.key == "lee_bounds"
    (b,) = bounds.rows
    np.testing.assert_allclose(
        [b[2], b[3], b[4], b[6], b[7]],
        [lee.lower, lee.upper, lee.trim_share, lee.ci_low, lee.ci_high],
        rtol=1e-12,
    )
    assert (
        b[5] == lee.trimmed_arm == "control"
    )  # the more-observed arm is trimmed and b[8] == lee.reps_used
    assert "Imbens-Manski 95% interval from 50 bootstrap replications" in bounds.note
    assert "attrition differs by arm in 1" in s.paragraphs[0]


def test_attrition_alike_in_both_arms_gives_no_bounds(small_run) -> None:
    ctx, t = _with_missing(small_run, 0.10, 0.10, seed=2)
    s = _build(ctx)
    data = t.assign(**{OBS: t["voted"].notna().astype("int8")})
    ref = fx.attrition(data, "assigned", OBS, blocks="precinct_id", clusters="household_id")
    assert s is not None
    assert [tb.key for tb in s.tables] == (
        ["attrition", "lee_bounds"] if ref.differential else ["attrition"]
    )
    if not ref.differential:
        assert "do not differ significantly" in s.paragraphs[0]


def test_without_seeded_draws_the_bounds_have_no_interval(small_run) -> None:
    ctx, _ = _with_missing(small_run, 0.35, 0.05, seed=1)
    spec = dataclasses.replace(ctx.run.spec, randomization_inference=None, did=None)
    run = dataclasses.replace(ctx.run, spec=spec)
    s = _build(ReportContext(run, ctx.effects, None))
    (row,) = s.tables[0].rows
    assert row[9] is None  # no randomisation p-value without draws
    (b,) = s.tables[1].rows
    assert b[6] is None and b[7] is None and b[8] == 0
    assert "no interval" in s.tables[1].note


def test_three_arms_one_row_per_arm(tmp_path) -> None:
    three = small_context(write_small_experiment(tmp_path, arms=3, households=240))
    ctx, _ = _with_missing(three, 0.3, 0.05, seed=3)
    s = _build(ctx)
    assert [r[1] for r in s.tables[0].rows] == ["1", "2"]
    assert all(r[9] is None for r in s.tables[0].rows)  # RI only for a 0/1 design


def test_the_report_carries_the_section(small_run) -> None:
    ctx, _ = _with_missing(small_run, 0.35, 0.05, seed=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report = build_report(ctx.run.spec, run=ctx.run)
    keys = [s.key for s in report.sections]
    assert keys.index("attrition") == keys.index("effects") + 1
    assert report.section("attrition").tables[1].key == "lee_bounds"


def test_station_outcomes_missing_are_checked_too(small_run) -> None:
    """A station without registered voters has no turnout: the station table is checked."""
    rng = np.random.default_rng(4)
    n = 40
    pt = pd.DataFrame(
        {
            "precinct_id": [f"01004_{i:04d}" for i in range(n)],
            "assigned": np.tile([0, 1], n // 2),
            "arm": np.tile(["0", "1"], n // 2),
            "turnout": rng.uniform(0.4, 0.7, n),
        }
    )
    pt.loc[[1, 3, 5], "turnout"] = np.nan
    spec = dataclasses.replace(
        small_run.spec,
        outcomes=(OutcomeSpec("turnout", "turnout", "Turnout", level="precinct"),),
        analysis=dataclasses.replace(small_run.spec.analysis, blocks=None, clusters=None),
    )
    run = dataclasses.replace(small_run.run, spec=spec, table=None, precinct_table=pt)
    s = _build(ReportContext(run, small_run.ctx.effects, None))
    data = pt.assign(**{OBS: pt["turnout"].notna().astype("int8")})
    ref = fx.attrition(data, "assigned", OBS)
    (row,) = s.tables[0].rows
    assert row[:3] == ("Turnout", "1", 20)
    np.testing.assert_allclose(row[6], ref.difference.estimate, rtol=1e-12)
