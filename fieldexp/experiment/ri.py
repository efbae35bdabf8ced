"""Randomisation inference that replays the real design: :func:`randomization_inference`.

The assignment is re-drawn exactly as :meth:`Design.assign` draws it (blocks, whole
clusters, the exact distribution of the per-block counts), the test statistic is recomputed
from cluster totals for every draw, and the p-value is the share of draws at least as
extreme as the observed statistic (Fisher 1935; Rosenbaum 2002; Gerber & Green 2012, ch. 3).

Statistic (ITT): the block-stratified difference in means of the adjusted outcome
:math:`y_i(\\tau_0) = y_i - \\tau_0 Z_i` under the sharp null of a constant effect
:math:`\\tau_0`,

.. math::

    \\hat\\tau(Z) = \\sum_b \\frac{N_b}{N}
        \\left(\\frac{\\sum_{c \\in b, Z_c=1} Y_c}{\\sum_{c \\in b, Z_c=1} n_c}
        - \\frac{\\sum_{c \\in b, Z_c=0} Y_c}{\\sum_{c \\in b, Z_c=0} n_c}\\right)

with :math:`Y_c, n_c` the cluster totals of the outcome and of units. Weighting each
block's difference by its share :math:`N_b/N` is the inverse-probability (Hajek, within
block) estimator, so blocks with different assignment probabilities are handled exactly.
CACE: the adjusted outcome is :math:`y_i - \\tau_0 d_i` (Imbens & Rosenbaum 2005), which the
sharp null fixes whatever the assignment; the statistic is its ITT divided by the observed
first stage :math:`\\widehat{ITT}_D` (the Wald estimator at :math:`\\tau_0 = 0`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from fieldexp._validate import (
    check_alpha,
    check_choice,
    check_frame,
    check_outcome_list,
    resolve_estimand,
)
from fieldexp.design.spec import ArmLabel, Design
from fieldexp.engine import is_engine_table
from fieldexp.engine.ri import ri_family_frame, ri_frame
from fieldexp.errors import DataError, RowsDroppedWarning, SpecificationError

# the replay and statistic helpers lived here before the split; still importable from ri
from fieldexp.experiment.ri_replay import ENGINES as ENGINES
from fieldexp.experiment.ri_replay import ReplaySetup as ReplaySetup
from fieldexp.experiment.ri_replay import check_reps_memory as check_reps_memory
from fieldexp.experiment.ri_replay import cluster_sums as cluster_sums
from fieldexp.experiment.ri_replay import observed_acc as observed_acc
from fieldexp.experiment.ri_replay import prepare_replay as prepare_replay
from fieldexp.experiment.ri_replay import residualize as residualize
from fieldexp.experiment.ri_replay import resolve_assignment as resolve_assignment
from fieldexp.experiment.ri_replay import run_replay as run_replay
from fieldexp.experiment.ri_stats import N_ACC as N_ACC
from fieldexp.experiment.ri_stats import invert_test as invert_test
from fieldexp.experiment.ri_stats import itt_columns as itt_columns
from fieldexp.experiment.ri_stats import itt_reducer as itt_reducer
from fieldexp.experiment.ri_stats import prepare_statistic as prepare_statistic
from fieldexp.experiment.ri_stats import statistic_at as statistic_at
from fieldexp.experiment.ri_stats import tail_share as tail_share
from fieldexp.results import Result

__all__ = [
    "RandomizationResult",
    "engine_ri_family",
    "randomization_inference",
    "randomization_inference_family",
]

_FUNCTION = "randomization_inference"
ALTERNATIVES = ("two-sided", "greater", "less")


# ===================================================================== result
@dataclass(frozen=True, slots=True, eq=False)
class RandomizationResult(Result):
    """Randomisation-inference result.

    Attributes
    ----------
    statistic : float
        Observed statistic (estimate, or t when ``studentized``) at the sharp null.
    p_value : float
        Share of re-randomisations at least as extreme (weighted by their probability when
        ``exact``).
    p_value_se : float
        Monte Carlo standard error :math:`\\sqrt{p(1-p)/R}` (0 when exact).
    reps : int
        Number of draws used (all assignments when ``exact``).
    exact : bool
        True when every possible assignment was enumerated.
    draws : ndarray
        The statistic under each draw; ``draw_weights`` their probabilities when exact.
    ci_low, ci_high : float
        Test-inversion interval for a constant additive effect (``ci=True``), else NaN.
    draw_key : str or None
        Identifies the assignments drawn (design, seed, units, arm, draws, engine); two
        results with the same key saw the same assignments, draw by draw (Westfall-Young).
    """

    statistic: float
    p_value: float
    p_value_se: float
    reps: int
    exact: bool
    draws: np.ndarray
    draw_weights: np.ndarray | None
    estimate: float
    estimand: str
    studentized: bool
    alternative: str
    sharp_null: float
    ci_low: float
    ci_high: float
    alpha: float
    outcome: str
    arm: ArmLabel
    control: ArmLabel
    nobs: int
    nclusters: int
    nblocks: int
    engine: str
    seed: int
    draw_key: str | None
    notes: tuple[str, ...] = field(default_factory=tuple)

    def to_frame(self) -> pd.DataFrame:
        """One row: the observed statistic, p-value, its Monte Carlo error and the CI."""
        return pd.DataFrame(
            [
                {
                    "outcome": self.outcome,
                    "estimand": self.estimand,
                    "arm": self.arm,
                    "estimate": self.estimate,
                    "statistic": self.statistic,
                    "studentized": self.studentized,
                    "sharp_null": self.sharp_null,
                    "alternative": self.alternative,
                    "p_value": self.p_value,
                    "p_value_se": self.p_value_se,
                    "reps": self.reps,
                    "exact": self.exact,
                    "ci_low": self.ci_low,
                    "ci_high": self.ci_high,
                    "nobs": self.nobs,
                    "nclusters": self.nclusters,
                    "nblocks": self.nblocks,
                }
            ]
        )

    def _title(self) -> str:
        how = (
            f"exact: all {self.reps:,} assignments enumerated"
            if self.exact
            else f"{self.reps:,} re-randomisations, seed {self.seed}, engine {self.engine}"
        )
        return (
            f"Randomisation inference: {self.estimand} of arm {self.arm!r} vs "
            f"{self.control!r} on {self.outcome!r} ({how})"
        )

    def _lines(self) -> list[str]:
        kind = "t statistic" if self.studentized else "estimate"
        lines = [
            f"sharp null: constant effect {self.sharp_null:g}; alternative {self.alternative}",
            f"estimate {self.estimate:.6f}; observed {kind} {self.statistic:.6f}",
            f"p-value {self.p_value:.4f}"
            + ("" if self.exact else f" (Monte Carlo s.e. {self.p_value_se:.4f})"),
        ]
        if math.isfinite(self.ci_low) or math.isfinite(self.ci_high):
            level = round(100 * (1 - self.alpha))
            lines.append(f"{level}% CI by test inversion [{self.ci_low:.6f}, {self.ci_high:.6f}]")
        lines.append(f"nobs {self.nobs:,}, clusters {self.nclusters:,}, blocks {self.nblocks:,}")
        lines.extend(f"note: {n}" for n in self.notes)
        return lines

    @property
    def estimator(self) -> str:
        """Deprecated: ``"itt"``/``"cace"``, the lower-case :attr:`estimand`."""
        warnings.warn(
            "RandomizationResult.estimator is renamed RandomizationResult.estimand ('ITT'/'CACE').",
            FutureWarning,
            stacklevel=2,
        )
        return self.estimand.lower()

    def _table(self) -> pd.DataFrame | None:
        return None

    def _stored_interval(self) -> tuple[float, float, float] | None:
        return (self.alpha, self.ci_low, self.ci_high)

    def _plot(self, ax: Any) -> None:
        """The statistic's randomisation distribution with the observed value."""
        draws = np.asarray(self.draws, dtype=float)
        ok = np.isfinite(draws)
        w = None if self.draw_weights is None else np.asarray(self.draw_weights)[ok]
        ax.hist(draws[ok], bins=50, weights=w, color="tab:gray", alpha=0.7)
        ax.axvline(self.statistic, color="tab:red", linewidth=1.5, label="observed")
        ax.set_xlabel("t statistic" if self.studentized else "estimate")
        ax.set_ylabel("probability" if self.exact else "draws")
        ax.set_title(f"Randomisation distribution (p = {self.p_value:.4f})")
        ax.legend(fontsize=8)

    def __repr__(self) -> str:
        return (
            f"RandomizationResult(outcome={self.outcome!r}, statistic={self.statistic:.6g}, "
            f"p_value={self.p_value:.4g}, reps={self.reps}, exact={self.exact})"
        )


# ===================================================================== public function
def _check_int(value: object, argument: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or int(value) < minimum:
        raise SpecificationError(
            f"The {argument!r} parameter of {_FUNCTION} must be an integer >= {minimum}. "
            f"Got {value!r} instead."
        )
    return int(value)


def randomization_inference(
    data: pd.DataFrame,
    outcome: str,
    assignment: str | pd.DataFrame,
    design: Design,
    *,
    estimand: str | None = None,
    treatment: str | None = None,
    covariates: str | Sequence[str] | None = None,
    statistic: str = "estimate",
    reps: int = 1000,
    seed: int,
    sharp_null: float = 0.0,
    alternative: str = "two-sided",
    ci: bool = False,
    studentize: bool = False,
    arm: ArmLabel | None = None,
    alpha: float = 0.05,
    engine: str = "auto",
    weights: str | None = None,
    multi_arm: str = "conditional",
    estimator: str | None = None,
    subset: str | pd.Series | np.ndarray | Sequence[bool] | None = None,
) -> RandomizationResult:
    """Fisher randomisation test that replays ``design`` exactly.

    Parameters
    ----------
    data : DataFrame
        One row per unit with the design's unit, block and cluster columns, the outcome and
        the assignment.
    outcome : str
        Outcome column.
    assignment : str or DataFrame
        Column of ``data`` holding each unit's arm, or the frame returned by
        :meth:`Design.assign` (joined on the unit column).
    design : Design
        The design that produced the assignment; it is replayed (blocks, whole clusters,
        exact per-block count distribution, or independent coin flips under
        ``scheme="simple"``). The observed assignment must be one the design can produce,
        else :class:`DesignError`.
    estimand : {"ITT", "CACE"}
        ``"CACE"`` needs ``treatment`` (contact) and uses the Wald statistic under the sharp
        null (see the module docstring). ``estimator="itt"|"cace"`` is its deprecated name.
    covariates : column name(s), optional
        Covariance adjustment (Rosenbaum 2002): the adjusted outcome is residualised on the
        covariates and block indicators before the difference in means.
    statistic : {"estimate"}
        The estimator's point estimate (studentized with ``studentize=True``).
    reps : int
        Draws. When the number of possible assignments is at most ``reps``, every
        assignment is enumerated instead and ``exact`` is True. Refused at once
        (:class:`SpecificationError` with the memory needed) when the draws could not fit in
        memory (:func:`fieldexp.experiment.ri_replay.check_reps_memory`).
    seed : int
        Required; the draws depend only on it, the design and the units.
    sharp_null : float
        Constant additive effect under the null (0: no effect for anyone).
    alternative : {"two-sided", "greater", "less"}
    ci : bool
        Also invert the test (two-sided, level ``1 - alpha``) for a constant additive effect.
    studentize : bool
        Use :math:`t = \\hat\\tau / \\widehat{se}` with the linearised cluster-robust
        variance of each block's difference in ratio means.
    arm : label, optional
        The arm compared with the control (required when the design has more than two arms).
    weights : str, optional
        Unit weights: cluster totals become :math:`\\sum w_i`, :math:`\\sum w_i y_i`, and
        each block's share is its share of the total weight.
    multi_arm : {"conditional", "full"}
        Designs with more than two arms. ``"conditional"`` (default): the units of ``arm`` and
        the control are re-randomised between themselves, the other arms kept as assigned
        (valid whatever the other arms do). ``"full"``: the whole design is replayed, every
        cluster re-drawn into any arm with the design's probabilities/counts (randomizr's
        ``conduct_ra`` on the full declaration); valid under the sharp null that the other
        arms have no effect either. Needs ``engine`` ``"auto"``, ``"dense"`` or ``"exact"``.
    engine : {"auto", "dense", "grouped", "exact", "shared"}
        How draws are made (see :mod:`fieldexp.design.replay`); ``"dense"`` gives draws
        aligned across outcomes (for Westfall-Young); ``"auto"`` enumerates when possible,
        else uses ``"grouped"`` when clusters take few distinct values, else ``"dense"``;
        ``"shared"`` enumerates when possible, else ``"dense"`` (what ``fieldexp report``
        uses: its tests on one design share the dense draws).
    subset : column name or boolean array, optional
        An outcome defined on some units only (e.g. registration among voters unregistered
        before the campaign): a boolean column of ``data`` or a boolean Series/array aligned
        with its rows. The *whole* design is replayed (every block and cluster, also those
        outside the subset), and the statistic is computed on the subset rows of each draw:
        :math:`\\hat\\tau_S(Z) = \\sum_b \\frac{N_{bS}}{N_S}(\\bar y_{bS}(Z{=}1) -
        \\bar y_{bS}(Z{=}0))` with :math:`N_{bS}` the subset units of block :math:`b`.
        Because the subset is fixed by pre-treatment data, this is the randomisation
        distribution of the subset estimator. A draw that leaves a block's subset without
        units of one arm has no statistic and is not counted (noted in ``notes``).

    Returns
    -------
    RandomizationResult
    """
    n_units = None
    if is_engine_table(data):  # Ibis/Polars/Arrow: cluster totals pulled once (fieldexp.engine.ri)
        e = ri_frame(data, outcome, assignment, design, estimand=str(estimand or estimator or "itt").lower(), covariates=covariates, weights=weights, studentize=studentize, subset=subset)  # fmt: skip
        data, design, weights, n_units, subset = e.frame, e.design, e.weights, e.nobs, None
    data = check_frame(data, function=_FUNCTION)
    keep = _subset_mask(data, subset, function=_FUNCTION)
    estimator = resolve_estimand(estimand, estimator, function=_FUNCTION).lower()
    check_choice(alternative, ALTERNATIVES, argument="alternative", function=_FUNCTION)
    check_choice(statistic, ("estimate",), argument="statistic", function=_FUNCTION)
    check_choice(engine, ENGINES, argument="engine", function=_FUNCTION)
    check_choice(multi_arm, ("conditional", "full"), argument="multi_arm", function=_FUNCTION)
    reps = _check_int(reps, "reps", 1)
    seed = _check_int(seed, "seed", 0)
    if (
        isinstance(sharp_null, bool)
        or not isinstance(sharp_null, int | float)
        or not math.isfinite(sharp_null)
    ):
        raise SpecificationError(
            f"The 'sharp_null' parameter of {_FUNCTION} must be a finite number. "
            f"Got {sharp_null!r} instead."
        )
    alpha = check_alpha(alpha, function=_FUNCTION)
    if estimator == "cace" and treatment is None:
        raise SpecificationError(
            f"The 'treatment' parameter of {_FUNCTION} is required with estimand='CACE' "
            "(the contact column)."
        )
    if engine != "exact":  # enumeration is bounded by the number of assignments
        check_reps_memory(reps, N_ACC, function=_FUNCTION)
    if multi_arm == "full" and estimator == "cace":
        raise SpecificationError(
            f"{_FUNCTION}: multi_arm='full' replays every arm under the null that none but "
            "'arm' has an effect, which fixes outcomes but not contacts made by the other arms; "
            "use it with estimand='ITT', or multi_arm='conditional' for the CACE"
        )
    covs = [covariates] if isinstance(covariates, str) else list(covariates or [])
    frame, arm_col = resolve_assignment(data, assignment, design, function=_FUNCTION)
    prep = prepare_statistic(
        frame,
        outcome,
        arm_col,
        design,
        estimator=estimator,
        treatment=treatment,
        covariates=covs,
        arm=arm,
        studentize=studentize,
        need_a=ci or sharp_null != 0,
        weights=weights,
        full=multi_arm == "full",
        subset=keep,
    )
    reducer, n_acc = itt_reducer(prep.weights, studentize)
    obs_acc = observed_acc(prep.setup, prep.V, reducer, n_acc)
    acc, prob, exact, used_engine, key = run_replay(
        prep.setup, prep.V, reducer, n_acc, reps=reps, seed=seed, engine=engine, design=design
    )
    tau0 = float(sharp_null)
    observed = float(statistic_at(obs_acc, tau0, studentize, prep.scale))
    if not math.isfinite(observed):
        raise DataError(
            f"{_FUNCTION}: the observed statistic is undefined: some block has no units with an "
            "outcome in one of the compared arms"
            + (" (or a single cluster in an arm, with studentize=True)" if studentize else "")
            + "; merge small blocks or drop them from the design"
        )
    draws = statistic_at(acc, tau0, studentize, prep.scale)
    p = tail_share(draws, observed, prob, alternative)
    n_draws = len(draws)
    se = 0.0 if exact else math.sqrt(p * (1 - p) / n_draws)
    lo = hi = math.nan
    if ci:
        lo, hi = invert_test(
            acc, obs_acc, prob, studentize=studentize, scale=prep.scale, alpha=alpha
        )
    notes = list(prep.setup.notes)
    if not np.all(np.isfinite(draws)):
        bad = int((~np.isfinite(draws)).sum())
        notes.append(f"{bad:,} draws left an arm empty in some block and were not counted")
    if keep is not None:
        notes.append(
            f"statistic on the subset ({int(keep.sum()):,} of {len(keep):,} rows); the whole "
            "design was replayed"
        )
    return RandomizationResult(
        statistic=observed,
        p_value=p,
        p_value_se=se,
        reps=n_draws,
        exact=exact,
        draws=draws,
        draw_weights=prob if exact else None,
        estimate=float(statistic_at(obs_acc, 0.0, False, prep.scale)),
        estimand=estimator.upper(),
        studentized=studentize,
        alternative=alternative,
        sharp_null=tau0,
        ci_low=lo,
        ci_high=hi,
        alpha=alpha,
        outcome=outcome,
        arm=prep.setup.arm,
        control=prep.setup.control,
        nobs=prep.nobs if n_units is None else n_units,
        nclusters=int(prep.setup.pair_cluster().sum()),
        nblocks=prep.setup.plan.n_blocks,
        engine=used_engine,
        seed=seed,
        draw_key=key,
        notes=tuple(notes),
    )


def _subset_mask(data: pd.DataFrame, subset: object, *, function: str) -> np.ndarray | None:
    """``subset`` as a boolean array over the rows of ``data`` (``None``: every row)."""
    if subset is None:
        return None
    if isinstance(subset, str):
        if subset not in data.columns:
            raise SpecificationError(
                f"The 'subset' parameter of {function} names column {subset!r}, which is not in "
                "the data."
            )
        values = data[subset]
    elif isinstance(subset, pd.Series):
        if not subset.index.equals(data.index):
            raise SpecificationError(
                f"The 'subset' parameter of {function} must be aligned with the data's rows "
                "(same index); use a column name or a boolean array instead."
            )
        values = subset
    elif isinstance(subset, np.ndarray | Sequence):
        if len(subset) != len(data):
            raise SpecificationError(
                f"The 'subset' parameter of {function} must have one value per row of the data "
                f"({len(data):,}). Got {len(subset):,} instead."
            )
        values = pd.Series(list(subset), index=data.index)
    else:
        raise SpecificationError(
            f"The 'subset' parameter of {function} must be a column name or a boolean array. "
            f"Got {type(subset).__name__} instead."
        )
    if values.isna().any():
        raise DataError(
            f"{function}: subset has {int(values.isna().sum()):,} missing values; say for every "
            "row whether it belongs to the subset"
        )
    ok = pd.api.types.is_bool_dtype(values.dtype) or values.isin([0, 1, True, False]).all()
    if not ok:
        raise DataError(
            f"{function}: subset must be boolean (or 0/1); found values such as "
            f"{values[~values.isin([0, 1, True, False])].iloc[0]!r}"
        )
    mask = values.astype(bool).to_numpy()
    if not mask.any():
        raise DataError(f"{function}: the subset is empty; no unit to compute the statistic on")
    return mask


def randomization_inference_family(
    data: pd.DataFrame,
    outcomes: Sequence[str],
    assignment: str | pd.DataFrame,
    design: Design,
    *,
    estimand: str | None = None,
    treatment: str | None = None,
    covariates: str | Sequence[str] | None = None,
    reps: int = 1000,
    seed: int,
    alternative: str = "two-sided",
    studentize: bool = False,
    arm: ArmLabel | None = None,
    engine: str = "auto",
    weights: str | None = None,
    estimator: str | None = None,
) -> tuple[RandomizationResult, ...]:
    """Randomisation inference for several outcomes from one replay of ``design``.

    Every outcome's statistic is computed on the *same* re-randomisations, draw by draw,
    whatever the engine (the cluster columns of all outcomes are replayed together, so the
    ``"grouped"`` engine groups clusters that are identical for every outcome, and exact
    enumeration lists the assignments once). The results share a ``draw_key``, which is what
    :func:`fieldexp.adjust_pvalues` needs for ``method="westfall-young"``; no ``engine="dense"``
    is required. Each result equals :func:`randomization_inference` for its outcome when the
    assignments are enumerated; with Monte Carlo draws it is another sample of the same
    distribution. Arguments as for :func:`randomization_inference` (no ``ci``, sharp null 0).

    Returns
    -------
    tuple of RandomizationResult
        One per outcome, in the order given.
    """
    function = "randomization_inference_family"
    if is_engine_table(data):  # Ibis/Polars/Arrow: one G-row pull, draws aligned (exact or dense)
        if treatment is not None or arm is not None or estimator is not None:
            raise SpecificationError(
                f"{function} on an engine table: 'treatment', 'arm' and 'estimator' are not "
                "pushed down (two-arm ITT families only); pull the unit rows and pass a DataFrame"
            )
        if not isinstance(assignment, str):
            raise SpecificationError(
                f"{function} on an engine table: 'assignment' must name a column of the table"
            )
        return engine_ri_family(
            data, outcomes, assignment, design, reps=reps, seed=seed, alternative=alternative,
            studentize=studentize, engine=engine, estimand=estimand, covariates=covariates,
            weights=weights,
        )  # fmt: skip
    data = check_frame(data, function=function)
    check_outcome_list(outcomes, function=function)
    estimator = resolve_estimand(estimand, estimator, function=function).lower()
    check_choice(alternative, ALTERNATIVES, argument="alternative", function=function)
    check_choice(engine, ENGINES, argument="engine", function=function)
    reps = _check_int(reps, "reps", 1)
    seed = _check_int(seed, "seed", 0)
    if estimator == "cace" and treatment is None:
        raise SpecificationError(
            f"The 'treatment' parameter of {function} is required with estimand='CACE'."
        )
    if engine != "exact":
        check_reps_memory(reps, N_ACC * len(outcomes), function=function)
    covs = [covariates] if isinstance(covariates, str) else list(covariates or [])
    frame, arm_col = resolve_assignment(data, assignment, design, function=function)
    preps = [
        prepare_statistic(
            frame,
            o,
            arm_col,
            design,
            estimator=estimator,
            treatment=treatment,
            covariates=covs,
            arm=arm,
            studentize=studentize,
            function=function,
            need_a=False,
            weights=weights,
        )
        for o in outcomes
    ]
    setup = preps[0].setup  # the replay depends on the design and assignment only
    widths = [p.V.shape[1] for p in preps]
    offsets = np.concatenate([[0], np.cumsum(widths)])
    reducers = [itt_reducer(p.weights, studentize)[0] for p in preps]
    V = np.column_stack([p.V for p in preps])
    n_acc = N_ACC * len(outcomes)

    def reduce(b: int, S1: np.ndarray, T: np.ndarray) -> np.ndarray:
        return np.concatenate(
            [
                red(b, S1[:, offsets[j] : offsets[j + 1]], T[offsets[j] : offsets[j + 1]])
                for j, red in enumerate(reducers)
            ],
            axis=1,
        )

    obs_acc = observed_acc(setup, V, reduce, n_acc)
    acc, prob, exact, used_engine, _ = run_replay(
        setup, V, reduce, n_acc, reps=reps, seed=seed, engine=engine, design=design
    )
    identity = [design.to_json(), str(seed), setup.ids_hash, repr(setup.arm), str(reps)]
    statistic = [used_engine, "family", estimator, repr(covs), str(studentize), repr(weights)]
    text = "|".join([*identity, *statistic, *outcomes])
    key = hashlib.sha256(text.encode("utf-8")).hexdigest()
    results = []
    for j, (o, prep) in enumerate(zip(outcomes, preps, strict=True)):
        sl = slice(N_ACC * j, N_ACC * (j + 1))
        observed = float(statistic_at(obs_acc[sl], 0.0, studentize, prep.scale))
        if not math.isfinite(observed):
            raise DataError(
                f"{function}: the observed statistic of {o!r} is undefined: some block has no "
                "units with an outcome in one of the compared arms"
            )
        draws = statistic_at(acc[:, sl], 0.0, studentize, prep.scale)
        p = tail_share(draws, observed, prob, alternative)
        notes = list(setup.notes)
        if not np.all(np.isfinite(draws)):
            bad = int((~np.isfinite(draws)).sum())
            notes.append(f"{bad:,} draws left an arm empty in some block and were not counted")
        notes.append(f"draws shared with outcomes {list(outcomes)!r} (one replay)")
        results.append(
            RandomizationResult(
                statistic=observed,
                p_value=p,
                p_value_se=0.0 if exact else math.sqrt(p * (1 - p) / len(draws)),
                reps=len(draws),
                exact=exact,
                draws=draws,
                draw_weights=prob if exact else None,
                estimate=float(statistic_at(obs_acc[sl], 0.0, False, prep.scale)),
                estimand=estimator.upper(),
                studentized=studentize,
                alternative=alternative,
                sharp_null=0.0,
                ci_low=math.nan,
                ci_high=math.nan,
                alpha=0.05,
                outcome=o,
                arm=setup.arm,
                control=setup.control,
                nobs=prep.nobs,
                nclusters=len(setup.z_cluster),
                nblocks=setup.plan.n_blocks,
                engine=used_engine,
                seed=seed,
                draw_key=key,
                notes=tuple(notes),
            )
        )
    return tuple(results)


def engine_ri_family(
    data: object,
    outcomes: Sequence[str],
    assignment: str,
    design: object,
    *,
    reps: int = 1000,
    seed: int,
    alternative: str = "two-sided",
    studentize: bool = False,
    engine: str = "auto",
    estimand: str | None = None,
    covariates: object = None,
    weights: str | None = None,
) -> tuple[RandomizationResult, ...]:
    """Randomisation inference for several outcomes of an engine table, draws aligned.

    The Westfall–Young route on Ibis/Polars/Arrow tables: one ``GROUP BY cluster`` pass
    pulls *G* rows holding, per outcome, the cluster mean over the rows with that outcome and
    their number :math:`n_{g,o}` (:func:`fieldexp.engine.ri.ri_family_inputs`); each outcome
    is then replayed with :func:`~fieldexp.randomization_inference` on those rows (the cluster
    as unit, :math:`n_{g,o}` as weight), so its statistic uses the sums
    :math:`\\sum_g n_{g,o}` and :math:`\\sum_g n_{g,o}\\bar y_{g,o}` of the DataFrame route.
    Every outcome uses the same assignments draw by draw: exact enumeration when the design
    has at most ``reps`` assignments, else ``engine="dense"`` draws, which depend only on the
    seed, the design and the clusters. The results therefore share a ``draw_key`` and equal
    those of :func:`~fieldexp.randomization_inference` with ``engine="dense"`` (or
    :func:`~fieldexp.experiment.ri.randomization_inference_family` with ``engine="dense"``)
    on the unit rows, so ``adjust_pvalues(results, method="westfall-young")`` gives the
    DataFrame route's adjusted p-values.

    Parameters
    ----------
    data : ibis.Table, Polars DataFrame/LazyFrame or PyArrow Table
        One row per unit; cluster-randomised two-arm 0/1 ``design`` (unclustered designs re-draw
        every unit: pass a DataFrame).
    outcomes : list of str
        Outcome columns (distinct). Rows missing one outcome are left out of that outcome's
        statistic only; their clusters stay in the randomisation.
    engine : {"auto", "dense", "exact"}
        ``"auto"``: enumerate when possible, else ``"dense"`` (``"grouped"`` draws are not
        aligned across outcomes and are refused).
    reps, seed, alternative, studentize
        As for :func:`~fieldexp.randomization_inference`. ``estimand`` (ITT only),
        ``covariates`` and ``weights`` are accepted to be refused with the reason.

    Returns
    -------
    tuple of RandomizationResult
        One per outcome in the order given; ``nobs`` counts the unit rows with that outcome.
    """
    function = "engine_ri_family"
    check_choice(engine, ("auto", "dense", "exact"), argument="engine", function=function)
    fam = ri_family_frame(
        data,
        outcomes,
        assignment,
        design,  # type: ignore[arg-type]
        estimand=str(estimand or "itt").lower(),
        covariates=covariates,
        weights=weights,
        function=function,
    )
    results: list[RandomizationResult] = []
    used = engine
    for outcome, weight, nobs in zip(fam.outcomes, fam.weights, fam.nobs, strict=True):
        if nobs < fam.n_rows:
            warnings.warn(
                f"{function}: {fam.n_rows - nobs:,} of {fam.n_rows:,} rows have no {outcome!r} "
                "and do not enter its statistic (their clusters stay in the randomisation); "
                "rows of an engine table have no labels to list.",
                RowsDroppedWarning,
                stacklevel=2,
            )
        # "auto": enumerate when the design has at most `reps` assignments, else dense draws
        # ("grouped" draws are not aligned across outcomes); the refusal of "exact" is cheap
        attempts = ("exact", "dense") if used == "auto" else (used,)
        for i, attempt in enumerate(attempts):
            try:
                with warnings.catch_warnings():  # said above in unit rows, not cluster rows
                    warnings.simplefilter("ignore", RowsDroppedWarning)
                    r = randomization_inference(
                        fam.frame, outcome, assignment, fam.design, weights=weight,
                        engine=attempt, reps=reps, seed=seed, alternative=alternative,
                        studentize=studentize,
                    )  # fmt: skip
                break
            except SpecificationError:
                if i + 1 == len(attempts):
                    raise
        used = r.engine
        results.append(dataclasses.replace(r, nobs=nobs))
    return tuple(results)
