"""The report's randomisation inference covers `subset` outcomes by replaying the full design."""

from __future__ import annotations

import warnings
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from fieldexp.experiment.ri import randomization_inference

REPO = Path(__file__).resolve().parents[2]


def test_report_ri_runs_subset_outcomes_on_the_full_design() -> None:
    from fieldexp.report import prepare_analysis
    from fieldexp.report.sections import ri as ri_section
    from fieldexp.spec import load_spec

    spec = load_spec(REPO / "analyses" / "demo_table.toml")
    spec = replace(spec, randomization_inference=replace(spec.randomization_inference, reps=40))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run = prepare_analysis(spec)
        r_run = ri_section.randomize(run)
    assert r_run is not None
    labels = [row[0] for row in r_run.rows]
    reg = spec.outcome("registration")
    assert reg.label in labels and reg.label not in r_run.skipped
    got = r_run.results[labels.index(reg.label)]
    table = run.table
    subset = (table["registered"] == 0).to_numpy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = randomization_inference(
            table,
            "registered_after",
            "arm",
            spec.design.design,
            reps=40,
            seed=7,
            subset=subset,
            engine="shared",  # what the report uses (sections/ri.py)
        )
    assert got.p_value == want.p_value
    assert got.estimate == pytest.approx(want.estimate, abs=1e-12)
    np.testing.assert_array_equal(got.draws, want.draws)
    # every household of the design was re-drawn, not only those with an unregistered voter
    assert got.nobs == int(subset.sum()) < len(table)
    assert any("whole design was replayed" in n for n in got.notes)
