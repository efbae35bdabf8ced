"""Simulation-based design diagnosis in the DeclareDesign spirit: :func:`diagnose`.

Each simulation draws a population with potential outcomes (the ``simulator``), assigns it
with the :class:`~fieldexp.design.Design` (seeded), reveals the outcomes the assignment
implies, estimates with ``fieldexp.itt`` or ``fieldexp.cace`` (or any estimator returning an
``EffectResult``), and compares the estimate with the estimand computed from the potential
outcomes of that population (Blair, Cooper, Coppock & Humphreys 2019):

.. math::

    \\text{bias} = \\overline{\\hat\\tau_s - \\tau_s}, \\quad
    \\text{RMSE} = \\sqrt{\\overline{(\\hat\\tau_s - \\tau_s)^2}}, \\quad
    \\text{coverage} = \\overline{1[\\tau_s \\in CI_s]}, \\quad
    \\text{power} = \\overline{1[p_s < \\alpha]}.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from fieldexp._validate import check_alpha, resolve_estimand
from fieldexp.design.spec import Design
from fieldexp.errors import DataError, FieldexpError, SpecificationError
from fieldexp.experiment.api import cace, itt
from fieldexp.experiment.ri_replay import memory_budget
from fieldexp.results import EffectResult, Result

__all__ = ["Diagnosis", "diagnose"]

Simulator = Callable[[int], object]
#: memory of one simulation's result row (a dict of 10 fields, then a DataFrame row)
_BYTES_PER_SIMULATION = 1024
Estimator = Callable[[pd.DataFrame], EffectResult]


@dataclass(frozen=True, slots=True, eq=False)
class Diagnosis(Result):
    """Operating characteristics of a design + estimator over ``sims`` simulations.

    ``simulations`` holds one row per simulation (estimand, estimate, std_error, p_value,
    ci_low, ci_high, n_assigned: units in the treatment arm); the other attributes summarise
    it, with Monte Carlo standard errors. Under simple (coin-flip) randomisation an arm can
    come out empty (or with one unit) in a block; when the estimator then refuses, the
    simulation is counted in ``failed`` (its row holds NaN and the reason in ``failure``) and
    ``sims`` and the summaries cover the others.
    """

    estimand: str
    sims: int
    mean_estimand: float
    mean_estimate: float
    bias: float
    bias_se: float
    rmse: float
    sd_estimate: float
    mean_se: float
    coverage: float
    coverage_se: float
    power: float
    power_se: float
    alpha: float
    simulations: pd.DataFrame
    failed: int = 0

    _table_in_text: ClassVar[bool] = False  # the lines state every number

    def to_frame(self) -> pd.DataFrame:
        cols = [
            "estimand", "sims", "mean_estimand", "mean_estimate", "bias", "bias_se", "rmse",
            "sd_estimate", "mean_se", "coverage", "coverage_se", "power", "power_se", "alpha",
            "failed",
        ]  # fmt: skip
        return pd.DataFrame([{c: getattr(self, c) for c in cols}])

    def _title(self) -> str:
        return f"Design diagnosis: {self.estimand}, {self.sims:,} simulations"

    def _lines(self) -> list[str]:
        return [
            f"mean estimand {self.mean_estimand:.5f}, mean estimate {self.mean_estimate:.5f}",
            f"bias {self.bias:.5f} (MC s.e. {self.bias_se:.5f}), RMSE {self.rmse:.5f}",
            f"s.d. of estimates {self.sd_estimate:.5f}, mean s.e. {self.mean_se:.5f}",
            f"coverage {self.coverage:.3f} (MC s.e. {self.coverage_se:.3f}), "
            f"power {self.power:.3f} (MC s.e. {self.power_se:.3f}) at alpha {self.alpha:g}",
        ] + (
            [
                f"{self.failed:,} simulations had no estimate (simple randomisation left "
                "an arm empty or too small in a block; see simulations['failure']); the "
                "summaries use the others"
            ]
            if self.failed
            else []
        )

    def _plot(self, ax: Any) -> None:
        """Sampling distribution of the estimates against the mean estimand."""
        est = self.simulations["estimate"].to_numpy(dtype=float)
        ax.hist(est[np.isfinite(est)], bins=40, color="tab:gray", alpha=0.7)
        ax.axvline(self.mean_estimand, color="tab:red", linewidth=1.5, label="mean estimand")
        ax.set_xlabel("estimate")
        ax.set_ylabel("simulations")
        ax.set_title(f"Design diagnosis ({self.sims:,} simulations)")
        ax.legend(fontsize=8)


def _population(sim: object, unit: str) -> pd.DataFrame:
    """A frame with the design columns and potential outcomes ``y0, y1`` (``d0, d1``)."""
    if isinstance(sim, pd.DataFrame):
        return sim
    table = getattr(sim, "table", None)
    po = getattr(sim, "potential_outcomes", None)
    if isinstance(table, pd.DataFrame) and isinstance(po, pd.DataFrame):
        drop = [c for c in po.columns if c != unit and c in table.columns]
        return table.drop(columns=drop).merge(po, on=unit, how="left", validate="one_to_one")
    raise SpecificationError(
        "diagnose: the simulator must return a DataFrame with potential outcomes y0, y1 "
        "(and d0, d1 for CACE) or a SimulatedExperiment (fieldexp.simulation); got "
        f"{type(sim).__name__}"
    )


def diagnose(
    simulator: Simulator | pd.DataFrame | object,
    design: Design,
    *,
    estimand: str | None = None,
    estimator: str | Estimator | None = None,
    sims: int = 500,
    seed: int,
    outcome: str = "voted",
    treatment: str = "contacted",
    assignment: str = "assigned",
    covariates: Sequence[str] | None = None,
    alpha: float = 0.05,
    **estimator_kwargs: object,
) -> Diagnosis:
    """Simulate the whole design many times and report bias, RMSE, coverage and power.

    Parameters
    ----------
    simulator : callable, DataFrame or SimulatedExperiment
        ``simulator(seed)`` returns a population: a DataFrame with the design's columns and
        potential outcomes ``y0, y1`` (and ``d0, d1`` for CACE), or a
        :class:`fieldexp.SimulatedExperiment` (its table joined with its potential
        outcomes). A fixed population (not callable) is re-assigned only.
    design : Design
        Two-arm design; its control arm is coded 0 and the other arm 1 in ``assignment``.
    estimand : {"ITT", "CACE"}
        Estimate with ``fieldexp.itt``/``fieldexp.cace`` with the design's blocks and clusters
        (and ``covariates``, ``estimator_kwargs``). Default ``"ITT"``.
    estimator : callable, optional
        Instead, a function of the revealed data returning an ``EffectResult``.
        (``estimator="itt"|"cace"`` is the deprecated spelling of ``estimand``.)
    sims : int
        Number of simulations; simulation ``s`` uses seeds derived from ``(seed, s)``.
    seed : int
        Required.
    outcome, treatment, assignment : str
        Names given to the revealed outcome, contact and 0/1 assignment columns.

    Notes
    -----
    The estimand of each simulation is the population's ITT, :math:`\\overline{y_1 - y_0}`,
    or its CACE, :math:`\\overline{y_1 - y_0} / \\overline{d_1 - d_0}`.
    """
    if isinstance(sims, bool) or not isinstance(sims, int) or sims < 2:
        raise SpecificationError(
            f"The 'sims' parameter of diagnose must be an integer >= 2. Got {sims!r}."
        )
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise SpecificationError(
            f"The 'seed' parameter of diagnose must be a non-negative integer. Got {seed!r}."
        )
    alpha = check_alpha(alpha, function="diagnose")
    if sims * _BYTES_PER_SIMULATION > memory_budget():
        raise SpecificationError(
            f"The 'sims' parameter of diagnose asks for {sims:,} simulations; their result rows "
            f"alone would need about {sims * _BYTES_PER_SIMULATION / (1 << 30):,.1f} GB, more "
            f"than the {memory_budget() / (1 << 30):,.1f} GB allowed (half the machine's memory, "
            "or FIELDEXP_MAX_MEMORY_GB). A few thousand simulations give coverage and power "
            "within about 0.01."
        )
    if len(design.arm_labels) != 2:
        raise SpecificationError("diagnose: the design must have two arms (control and treatment)")
    if estimator is None or isinstance(estimator, str):
        kind = resolve_estimand(estimand, estimator, function="diagnose").lower()
    else:
        kind = "custom"

    covs = list(covariates) if covariates is not None else None
    extra: dict[str, Any] = dict(estimator_kwargs)

    seq = np.random.SeedSequence(seed)
    child_seeds = [int(s.generate_state(1)[0]) for s in seq.spawn(sims)]
    fixed = None if callable(simulator) else _population(simulator, design.unit)
    rows = []
    label = "ITT" if kind != "cace" else "CACE"
    treated_label = design.treatment_arms[0]
    for s, child in enumerate(child_seeds):
        pop = fixed if fixed is not None else _population(simulator(child), design.unit)  # type: ignore[operator]
        for col in ("y0", "y1"):
            if col not in pop.columns:
                raise DataError(f"diagnose: the population has no potential-outcome column {col!r}")
        assigned = design.assign(pop, seed=child)
        z = (
            pop[[design.unit]]
            .merge(assigned[[design.unit, "arm"]], on=design.unit, how="left")["arm"]
            .eq(treated_label)
            .to_numpy(dtype=float)
        )
        y1, y0 = pop["y1"].to_numpy(float), pop["y0"].to_numpy(float)
        data = pop.assign(**{assignment: z, outcome: np.where(z == 1, y1, y0)})
        itt_true = float(np.mean(y1 - y0))
        if kind == "cace" or "d0" in pop.columns:
            d1, d0 = pop["d1"].to_numpy(float), pop["d0"].to_numpy(float)
            data[treatment] = np.where(z == 1, d1, d0)
            first = float(np.mean(d1 - d0))
        else:
            first = math.nan
        try:
            res, truth = _estimate(
                kind, estimator, data, design, outcome, treatment, assignment, covs, alpha,
                extra, itt_true, first,
            )  # fmt: skip
        except FieldexpError as exc:
            if design.scheme != "simple":
                raise
            rows.append(
                {"sim": s, "seed": child, "estimand": math.nan, "estimate": math.nan,
                 "std_error": math.nan, "p_value": math.nan, "ci_low": math.nan,
                 "ci_high": math.nan, "n_assigned": int(z.sum()), "failure": str(exc)}
            )  # fmt: skip
            continue
        rows.append(
            {
                "sim": s,
                "seed": child,
                "estimand": truth,
                "estimate": res.estimate,
                "std_error": res.std_error,
                "p_value": res.p_value,
                "ci_low": res.ci_low,
                "ci_high": res.ci_high,
                "n_assigned": int(z.sum()),
                "failure": None,
            }
        )
        label = res.estimand
    frame = pd.DataFrame(rows)
    failed = int(frame["failure"].notna().sum())
    ok = frame.loc[frame["failure"].isna()]
    if len(ok) < 2:
        raise DataError(
            f"diagnose: only {len(ok)} of {len(frame)} simulations gave an estimate; "
            f"first failure: {frame['failure'].dropna().iloc[0] if failed else ''}"
        )
    return _summarise(frame, ok, label, alpha, failed)


def _estimate(
    kind: str,
    estimator: object,
    data: pd.DataFrame,
    design: Design,
    outcome: str,
    treatment: str,
    assignment: str,
    covs: list[str] | None,
    alpha: float,
    extra: dict[str, Any],
    itt_true: float,
    first: float,
) -> tuple[EffectResult, float]:
    """The estimate of one simulation and its estimand."""
    if kind == "itt":
        res = itt(
            data,
            outcome,
            assignment,
            blocks=design.blocks,
            clusters=design.clusters,
            covariates=covs,
            alpha=alpha,
            **extra,
        )
        truth = itt_true
    elif kind == "cace":
        res = cace(
            data,
            outcome,
            treatment,
            assignment,
            blocks=design.blocks,
            clusters=design.clusters,
            covariates=covs,
            alpha=alpha,
            **extra,
        )
        truth = itt_true / first
    else:
        res = estimator(data)  # type: ignore[operator]
        truth = itt_true / first if res.estimand.upper() == "CACE" else itt_true
    return res, truth


def _summarise(
    all_rows: pd.DataFrame, frame: pd.DataFrame, label: str, alpha: float, failed: int
) -> Diagnosis:
    err = frame["estimate"] - frame["estimand"]
    covered = (
        (frame["ci_low"] <= frame["estimand"]) & (frame["estimand"] <= frame["ci_high"])
    ).to_numpy()
    rejected = (frame["p_value"] < alpha).to_numpy()
    n = len(frame)
    cov = float(covered.mean())
    pw = float(rejected.mean())
    return Diagnosis(
        estimand=label,
        sims=n,
        mean_estimand=float(frame["estimand"].mean()),
        mean_estimate=float(frame["estimate"].mean()),
        bias=float(err.mean()),
        bias_se=float(err.std(ddof=1) / math.sqrt(n)),
        rmse=float(np.sqrt(np.mean(err**2))),
        sd_estimate=float(frame["estimate"].std(ddof=1)),
        mean_se=float(frame["std_error"].mean()),
        coverage=cov,
        coverage_se=math.sqrt(cov * (1 - cov) / n),
        power=pw,
        power_se=math.sqrt(pw * (1 - pw) / n),
        alpha=alpha,
        simulations=all_rows,
        failed=failed,
    )
