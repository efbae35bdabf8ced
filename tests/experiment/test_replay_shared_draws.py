"""The dense draws shared by a report's randomisation consumers (engine="shared").

Inside :func:`fieldexp.experiment.ri_replay.shared_replays` (what ``fieldexp report`` runs
in) the dense engine keeps each block's treated sets and the next statistic replayed on the
same design and seed reuses them. The numbers must be exactly those of separate calls
(outside the memo), whatever the number of worker processes and the order of the rows; the
report must show what ``fx.randomization_inference`` / ``fx.balance`` / ``fx.heterogeneity``
give with ``engine="shared"``; and the shared engine's p-values must follow the
randomisation distribution (exact enumeration when small, Monte Carlo agreement otherwise).
"""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import fieldexp as fx
from fieldexp.design import Design
from fieldexp.design import replay as dr
from fieldexp.design.replay import ReplayPlan, replay_draws, shared_draws
from fieldexp.experiment.ri_replay import shared_replays

REPO = Path(__file__).resolve().parents[2]


def experiment(seed: int = 0, n: int = 300, n_blocks: int = 4) -> tuple[pd.DataFrame, Design]:
    rng = np.random.default_rng(seed)
    hh = np.cumsum(rng.integers(0, 2, n) | (np.arange(n) % 3 == 0)) + 1000
    b = np.arange(n) * n_blocks // n
    df = pd.DataFrame({"v": rng.permutation(n) * 3 + 7, "h": hh + 10_000 * b, "b": b})
    df["band"] = rng.choice(["rare", "intermittent", "regular"], n)
    df["x"] = rng.normal(size=n)
    df["x2"] = rng.integers(0, 2, n)
    design = Design("v", blocks="b", clusters="h")
    z = design.assign(df, seed=seed + 11)
    df = df.merge(z[["v", "arm"]], on="v")
    df["contact"] = (df["arm"] * (rng.random(n) < 0.7)).astype(int)
    df["y"] = (rng.random(n) < 0.3 + 0.2 * df["contact"]).astype(int)
    return df, design


def consumers(df: pd.DataFrame, design: Design, engine: str = "shared") -> list[object]:
    out: list[object] = []
    for est in ("ITT", "CACE"):
        r = fx.randomization_inference(
            df,
            "y",
            "arm",
            design,
            estimand=est,
            treatment="contact" if est == "CACE" else None,
            reps=300,
            seed=5,
            engine=engine,
        )
        out.append((r.p_value, r.statistic, r.engine, r.draw_key, r.draws.tobytes()))
    h = fx.heterogeneity(df, "y", "arm", "band", design=design, reps=300, seed=5, engine=engine)
    out.append((h.ri_p_value, h.ri_statistic, h.ri_exact, h.wald.statistic))
    bal = fx.balance(df, "arm", ["x", "x2"], design=design, reps=300, seed=5, engine=engine)
    out.append(tuple((o.statistic, o.p_value, o.method) for o in bal.omnibus))
    return out


def test_shared_draws_give_exactly_the_numbers_of_separate_calls() -> None:
    df, design = experiment()
    alone = consumers(df, design)
    with shared_replays():
        together = consumers(df, design)
        assert dr._DRAWS  # the treated sets were kept and reused
    assert together == alone
    assert dr._DRAWS is None  # dropped when the block ends
    assert alone[0][2] == "dense"  # 300 draws of more assignments than that: dense


def test_shared_engine_does_not_depend_on_row_order() -> None:
    df, design = experiment(seed=2)
    shuffled = df.sample(frac=1, random_state=9).reset_index(drop=True)
    with shared_replays():
        a = consumers(df, design)
    with shared_replays():
        b = consumers(shuffled, design)
    for x, y in zip(a, b, strict=True):
        assert x[0] == pytest.approx(y[0], abs=1e-12)  # type: ignore[index]


def _plan(rng: np.random.Generator, n_blocks: int = 70) -> tuple[ReplayPlan, np.ndarray]:
    sizes = rng.integers(3, 30, n_blocks)
    starts = np.r_[0, np.cumsum(sizes)]
    plan = ReplayPlan(
        starts,
        tuple(f"b{i}" for i in range(n_blocks)),
        tuple(((int(s) // 2, Fraction(1, 2)), (int(s) // 2 + 1, Fraction(1, 2))) for s in sizes),
    )
    return plan, rng.integers(0, 3, (starts[-1], 3)).astype(float)


@pytest.mark.parametrize("fill_workers", [1, 2])
@pytest.mark.parametrize("use_workers", [1, 2])
def test_kept_draws_do_not_depend_on_the_number_of_processes(fill_workers, use_workers):
    """Kept by forked workers or by the main process, read by either: the same sums."""
    plan, V = _plan(np.random.default_rng(0))
    W = V[:, ::-1] * 2.5 + 1
    red = lambda b, S1, T: S1  # noqa: E731
    want_v = replay_draws(plan, V, red, 3, reps=300, seed=2, engine="dense", workers=1)
    want_w = replay_draws(plan, W, red, 3, reps=300, seed=2, engine="dense", workers=1)
    with shared_draws():
        got_v = replay_draws(
            plan, V, red, 3, reps=300, seed=2, engine="dense", workers=fill_workers
        )
        assert dr._DRAWS is not None and len(dr._DRAWS) == plan.n_blocks
        got_w = replay_draws(plan, W, red, 3, reps=300, seed=2, engine="dense", workers=use_workers)
        other_seed = replay_draws(plan, W, red, 3, reps=300, seed=3, engine="dense", workers=1)
    np.testing.assert_array_equal(got_v, want_v)
    np.testing.assert_array_equal(got_w, want_w)
    np.testing.assert_array_equal(
        other_seed, replay_draws(plan, W, red, 3, reps=300, seed=3, engine="dense", workers=1)
    )


def test_environment_worker_count_does_not_change_report_numbers(monkeypatch) -> None:
    df, design = experiment(seed=4)
    monkeypatch.setattr(dr, "_PARALLEL_WORK", 0)  # spread even this small job over processes
    monkeypatch.setenv("FIELDEXP_WORKERS", "1")
    with shared_replays():
        one = consumers(df, design)
    monkeypatch.setenv("FIELDEXP_WORKERS", "3")
    with shared_replays():
        three = consumers(df, design)
    assert one == three


def test_shared_is_exact_enumeration_when_the_assignments_are_few() -> None:
    rng = np.random.default_rng(1)
    df = pd.DataFrame({"v": np.arange(16), "b": np.repeat([0, 1], 8)})
    design = Design("v", blocks="b")
    df = df.merge(design.assign(df, seed=3)[["v", "arm"]], on="v")
    df["y"] = rng.normal(size=16) + 0.8 * df["arm"]
    exact = fx.randomization_inference(df, "y", "arm", design, reps=5000, seed=1, engine="exact")
    with shared_replays():
        shared = fx.randomization_inference(
            df, "y", "arm", design, reps=5000, seed=1, engine="shared"
        )
    assert exact.exact and shared.exact and shared.engine == "exact"
    assert shared.p_value == pytest.approx(exact.p_value, abs=1e-12)
    # fewer draws than assignments (70 x 70): the dense draws, from the same distribution
    ps = []
    for seed in range(4):
        r = fx.randomization_inference(
            df, "y", "arm", design, reps=2000, seed=seed, engine="shared"
        )
        assert r.engine == "dense" and not r.exact
        ps.append(r.p_value)
    se = np.sqrt(exact.p_value * (1 - exact.p_value) / 8000)
    assert abs(np.mean(ps) - exact.p_value) < 4 * se + 1e-12


def test_report_sections_show_what_the_shared_engine_gives_a_user() -> None:
    """randomize, balance and heterogeneity of the demo report = direct calls, same arguments."""
    import warnings

    from fieldexp.report import prepare_analysis
    from fieldexp.report.sections import ReportContext
    from fieldexp.report.sections import balance as balance_section
    from fieldexp.report.sections import heterogeneity as het_section
    from fieldexp.report.sections import ri as ri_section
    from fieldexp.spec import load_spec

    spec = load_spec(REPO / "analyses" / "demo.toml")
    spec = replace(spec, randomization_inference=replace(spec.randomization_inference, reps=60))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run = prepare_analysis(spec)
        with shared_replays():
            r_run = ri_section.randomize(run)
            assert r_run is not None
            ctx = ReportContext(run, None, r_run)  # type: ignore[arg-type]
            bal = balance_section.build(ctx)
            het = het_section.build(ctx)
        design = spec.design.design
        t = run.table
        want_ri = fx.randomization_inference(
            t, "voted", "arm", design, reps=60, seed=spec.randomization_inference.seed,
            engine="shared",
        )  # fmt: skip
        want_bal = fx.balance(
            t, "arm", list(spec.analysis.covariates), design=design, reps=60,
            seed=spec.randomization_inference.seed, engine="shared",
        )  # fmt: skip
        from fieldexp.report.prepare import arm_subset, outcome_units

        o, a = spec.outcome("turnout"), spec.analysis
        want_het = fx.heterogeneity(
            arm_subset(outcome_units(t, o), run.control or "0", "1", False), "voted",
            "assigned", spec.subgroups.by, estimand="ITT", blocks=a.blocks, clusters=a.clusters,
            alpha=a.alpha, design=design, reps=60, seed=spec.randomization_inference.seed,
            engine="shared",
        )  # fmt: skip
    got = r_run.results[r_run.rows.index((spec.outcome("turnout").label, "1", "ITT"))]
    assert got.p_value == want_ri.p_value and got.engine == want_ri.engine == "dense"
    np.testing.assert_array_equal(got.draws, want_ri.draws)
    assert bal is not None and het is not None
    p = f"{want_bal.omnibus[0].p_value:.3f}"
    assert any(f"randomisation p = {p}" in para for para in bal.paragraphs)
    assert "dense" in want_bal.omnibus[0].method
    assert want_het.ri_reps == 60 and not want_het.ri_exact
    p = f"{want_het.ri_p_value:.3f}"
    assert any(f"randomisation test p = {p}" in para for para in het.paragraphs)


def test_draws_made_ahead_in_a_forked_process_are_the_consumers_draws() -> None:
    plan, V = _plan(np.random.default_rng(5))
    red = lambda b, S1, T: S1  # noqa: E731
    want = replay_draws(plan, V, red, 3, reps=200, seed=4, engine="dense", workers=1)
    assert not dr.prefetch_dense(plan, reps=200, seed=4)  # outside shared_draws: nothing
    with shared_draws():
        assert dr.prefetch_dense(plan, reps=200, seed=4)
        got = replay_draws(plan, V, red, 3, reps=200, seed=4, engine="dense", workers=1)
        assert dr._PENDING is None and len(dr._DRAWS or {}) == plan.n_blocks
        again = replay_draws(plan, V * 3, red, 3, reps=200, seed=4, engine="dense", workers=2)
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(
        again, replay_draws(plan, V * 3, red, 3, reps=200, seed=4, engine="dense", workers=1)
    )


def test_a_prefetch_never_taken_is_stopped_when_the_block_ends() -> None:
    plan, _ = _plan(np.random.default_rng(6), n_blocks=400)
    with shared_draws():
        assert dr.prefetch_dense(plan, reps=2000, seed=1)
        assert dr._PENDING is not None
        procs = [p for p, _ in dr._PENDING]
    assert dr._PENDING is None and not any(p.is_alive() for p in procs)


def test_report_with_draws_made_ahead_equals_the_report_without(monkeypatch) -> None:
    import warnings

    from fieldexp.report import prepare_analysis
    from fieldexp.report.run import build_report
    from fieldexp.report.sections import ri as ri_section
    from fieldexp.spec import load_spec

    spec = load_spec(REPO / "analyses" / "demo.toml")
    spec = replace(spec, randomization_inference=replace(spec.randomization_inference, reps=50))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run = prepare_analysis(spec)
        started: list[bool] = []
        real = dr.prefetch_dense

        def spy(*a, **k):  # type: ignore[no-untyped-def]
            started.append(real(*a, **k))
            return started[-1]

        monkeypatch.setattr(dr, "prefetch_dense", spy)
        ahead = build_report(spec, run=run)
        assert started == [True]
        monkeypatch.setattr(ri_section, "prefetch", lambda run: None)
        plain = build_report(spec, run=run)
    assert repr(ahead.sections) == repr(plain.sections)


def test_balance_refuses_an_unknown_engine_naming_the_choices():
    import pandas as pd

    import fieldexp as fx
    from fieldexp.errors import SpecificationError

    d = pd.DataFrame({"z": [0, 1, 0, 1, 0, 1], "x": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]})
    with pytest.raises(SpecificationError, match=r"'engine' parameter of balance.*'shared'"):
        fx.balance(d, "z", ["x"], reps=10, seed=1, engine="dens")
