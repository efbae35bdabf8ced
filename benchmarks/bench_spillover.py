"""Household spillovers, saturation RI and Lee bounds at voter-file scale.

    python benchmarks/bench_spillover.py [--voters 1000000] [--reps 1000] [--out benchmarks/RESULTS_spillover.md]

Simulated two-voter households (one targeted member), arms canvass / recycling / control,
1,000 households per block; a saturation design of 250 households per neighbourhood
(saturations 0 / 0.5 / 1); 70-80% of outcomes observed for the bounds. Times are wall-clock
seconds of one call after a warm-up on a small frame (scipy imports excluded); peak is the
process's peak RSS during the call. Before timing, each result is checked: the spillover
contrasts against fx.itt on the same subset (rtol 1e-10), the RI statistic against the
spillover estimate, the Lee bounds ordered inside their interval.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd
from _common import machine, peak_mb, reset_peak

import fieldexp as fx
from fieldexp.design.saturation import SaturationDesign
from fieldexp.experiment.saturation_ri import saturation_ri


def _households(n_voters: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n_hh = n_voters // 2
    hh = np.repeat(np.arange(n_hh), 2)
    arm = rng.choice(np.array(["canvass", "recycling", "control"]), n_hh, p=[0.4, 0.3, 0.3])
    answers = rng.random(n_hh) < 0.35
    targeted = np.tile([1, 0], n_hh)
    contacted = np.where(targeted == 1, ((arm != "control") & answers)[hh].astype(float), np.nan)
    lift = 0.08 * ((arm == "canvass") & answers)[hh] * np.where(targeted == 1, 1.0, 0.6)
    voted = (rng.random(2 * n_hh) < 0.4 + lift).astype(float)
    observed = (rng.random(2 * n_hh) < np.where(arm[hh] == "canvass", 0.8, 0.7)).astype(int)
    return pd.DataFrame(
        {
            "hh": hh,
            "block": (np.arange(n_hh) // 1000)[hh],
            "nbhd": (np.arange(n_hh) // 250)[hh],
            "arm": arm[hh],
            "targeted": targeted,
            "contacted": contacted,
            "voted": voted,
            "observed": observed,
        }
    )


def _timed(label: str, rows: list[tuple[str, float, float, str]], fn, check) -> object:  # type: ignore[no-untyped-def]
    reset_peak()
    t0 = time.perf_counter()
    out = fn()
    seconds = time.perf_counter() - t0
    rows.append((label, seconds, peak_mb(), check(out)))
    print(f"{label}: {seconds:.2f} s", flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--voters", type=int, default=1_000_000)
    parser.add_argument("--reps", type=int, default=1000)
    parser.add_argument("--out", default=str(Path(__file__).with_name("RESULTS_spillover.md")))
    args = parser.parse_args()

    # warm-up (imports, scipy) on a small frame
    small = _households(4000, 0)
    kw = dict(targeted="targeted", household="hh", treated_arm="canvass", control_arm="control")
    fx.spillover(small, "voted", "arm", placebo="recycling", treatment="contacted", **kw)  # type: ignore[arg-type]

    d = _households(args.voters, 1)
    rows: list[tuple[str, float, float, str]] = []

    def check_spill(res: fx.SpilloverResult) -> str:  # type: ignore[name-defined]
        sub = d[(d["targeted"] == 1) & (d["arm"] != "recycling")]
        ref = fx.itt(
            sub.assign(z=(sub["arm"] == "canvass").astype(float)),
            "voted",
            "z",
            blocks="block",
            clusters="hh",
            method="ols",
        )
        ok = np.isclose(res.direct.estimate, ref.estimate, rtol=1e-10) and np.isclose(
            res.direct.std_error, ref.std_error, rtol=1e-10
        )
        return f"direct {res.direct.estimate:.5f} (se {res.direct.std_error:.5f}); equals fx.itt: {'yes' if ok else 'NO'}"

    _timed(
        "spillover: 6 contrasts (ITT, 2SLS per contact, vs placebo), block FE, CR2 by household",
        rows,
        lambda: fx.spillover(
            d,
            "voted",
            "arm",
            placebo="recycling",
            treatment="contacted",
            blocks="block",
            **kw,  # type: ignore[arg-type]
        ),
        check_spill,
    )

    n_hh = args.voters // 2
    n_nbhd = n_hh // 250
    third = n_nbhd // 3
    design = SaturationDesign("hh", "nbhd", {0: n_nbhd - 2 * third, 0.5: third, 1: third})
    assigned = design.assign(d[["hh", "nbhd"]], seed=1)
    v = d.drop(columns="arm").merge(assigned[["hh", "saturation", "arm"]], on="hh")
    sat = _timed(
        "spillover(saturation=): direct, within, between + by level, CR2 by neighbourhood",
        rows,
        lambda: fx.spillover(
            v,
            "voted",
            "arm",
            targeted="targeted",
            household="hh",
            clusters="nbhd",
            saturation="saturation",
        ),
        lambda r: f"between {r.between.estimate:.5f} (se {r.between.std_error:.5f})",
    )
    _timed(
        f"saturation_ri: between, both stages replayed, {args.reps:,} draws",
        rows,
        lambda: saturation_ri(
            v,
            "voted",
            "arm",
            design,
            saturation="saturation",
            targeted="targeted",
            effect="between",
            reps=args.reps,
            seed=2,
        ),
        lambda r: (
            f"p {r.p_value:.3f}; statistic equals spillover's between: "
            f"{'yes' if np.isclose(r.statistic, sat.between.estimate, rtol=1e-10) else 'NO'}"  # type: ignore[attr-defined]
        ),
    )
    two = d[d["arm"] != "recycling"].assign(
        z=lambda f: (f["arm"] == "canvass").astype(int),
        y=lambda f: f["voted"].where(f["observed"] == 1),
    )
    _timed(
        "attrition: rates by arm + fx.itt test (block FE, CR2 by household)",
        rows,
        lambda: fx.attrition(two, "z", "observed", blocks="block", clusters="hh"),
        lambda r: f"difference {r.difference.estimate:.5f} (se {r.difference.std_error:.5f})",
    )
    _timed(
        f"lee_bounds: block-wise trimming, cluster bootstrap within block x arm, {args.reps:,} reps",
        rows,
        lambda: fx.lee_bounds(
            two,
            "y",
            "z",
            observed="observed",
            blocks="block",
            clusters="hh",
            reps=args.reps,
            seed=3,
        ),
        lambda r: (
            f"[{r.lower:.4f}, {r.upper:.4f}], IM CI [{r.ci_low:.4f}, {r.ci_high:.4f}]; ordered: "
            f"{'yes' if r.ci_low <= r.lower <= r.upper <= r.ci_high else 'NO'}"
        ),
    )

    lines = [
        "# Household spillovers, saturation RI, attrition and Lee bounds (`benchmarks/bench_spillover.py`)",
        "",
        f"Machine: {machine(numpy=np.__version__, pandas=pd.__version__)}.",
        "",
        f"{args.voters:,} voters in {n_hh:,} two-voter households; see the script's docstring "
        "for the data and checks. One call each after a warm-up; seconds wall-clock.",
        "",
        "| task | seconds | peak MB | result / check |",
        "|---|---:|---:|---|",
    ]
    lines += [f"| {t} | {s:.2f} | {m:,.0f} | {c} |" for t, s, m, c in rows]
    Path(args.out).write_text("\n".join(lines) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
