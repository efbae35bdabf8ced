"""CPU seconds of the report's randomisation consumers on one analysis table.

Builds the spec's analysis table once (``prepare_analysis``), then runs what the report runs
on it, in process, on one BLAS thread as ``build_report`` does: randomisation inference
(ITT, engine "auto"; and "dense", the Westfall-Young engine), the heterogeneity test (ITT
with the design) and the balance omnibus test; inside ``shared_replays()`` unless
``--separate``. Prints CPU seconds per consumer and a fingerprint of every p-value, statistic
and draw array, so two checkouts can be compared for identical results::

    FIELDEXP_WORKERS=1 PYTHONPATH=. python benchmarks/bench_report_ri.py /tmp/rep1m/demo.toml

(inputs: ``bench_pipeline.make_inputs(1_000_000, dir)``). Results: RESULTS_report_ri.md.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import time

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("spec")
    parser.add_argument("--separate", action="store_true", help="no shared_replays()")
    args = parser.parse_args()

    from fieldexp.experiment.balance import balance
    from fieldexp.experiment.heterogeneity import heterogeneity
    from fieldexp.experiment.ri import randomization_inference
    from fieldexp.report.prepare import prepare_analysis
    from fieldexp.spec.load import load_spec
    from fieldexp.stats.blas import single_thread_blas

    spec = load_spec(args.spec)
    table = prepare_analysis(spec).table
    assert spec.design is not None and spec.randomization_inference is not None
    assert table is not None
    design, ri, a = spec.design.design, spec.randomization_inference, spec.analysis
    outcome = spec.outcomes[0].column
    by = spec.subgroups.by if spec.subgroups is not None else "propensity_band"

    def digest(x: np.ndarray) -> str:
        return hashlib.sha256(np.ascontiguousarray(x).tobytes()).hexdigest()[:16]

    shared: contextlib.AbstractContextManager[None] = contextlib.nullcontext()
    if not args.separate:
        from fieldexp.experiment.ri_replay import shared_replays

        shared = shared_replays()
    lines = []
    start = time.process_time()
    with single_thread_blas(), shared:
        for engine in ("auto", "dense"):
            t = time.process_time()
            r = randomization_inference(
                table, outcome, "arm", design, reps=ri.reps, seed=ri.seed, engine=engine
            )
            print(f"ri ({engine}) cpu {time.process_time() - t:.2f} s", flush=True)
            lines.append(f"ri {r.engine} p={r.p_value!r} t={r.statistic!r} {digest(r.draws)}")
        t = time.process_time()
        h = heterogeneity(
            table, outcome, "assigned", by, blocks=a.blocks, clusters=a.clusters,
            design=design, reps=ri.reps, seed=ri.seed,
        )  # fmt: skip
        print(f"heterogeneity cpu {time.process_time() - t:.2f} s", flush=True)
        lines.append(f"het p={h.ri_p_value!r} t={h.ri_statistic!r} w={h.wald.statistic!r}")
        t = time.process_time()
        b = balance(table, "arm", list(a.covariates), design=design, reps=ri.reps, seed=ri.seed)
        print(f"balance cpu {time.process_time() - t:.2f} s", flush=True)
        lines.append(f"bal p={b.omnibus[0].p_value!r} F={b.omnibus[0].statistic!r}")
    print(f"total cpu {time.process_time() - start:.2f} s")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
