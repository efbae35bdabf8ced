"""Effects by subgroup with tests of equal effects: :func:`heterogeneity`.

Each subgroup's ITT (or CACE) is estimated by :func:`fieldexp.itt` (:func:`fieldexp.cace`)
on its rows. Equality of the :math:`G` effects is tested two ways:

Wald test
    :math:`W = (R\\hat\\tau)^\\top (R \\hat V R^\\top)^{-1} R\\hat\\tau \\sim \\chi^2_{G-1}`,
    :math:`R` the contrasts of each subgroup with the first. When subgroups are disjoint
    and no cluster has members in two subgroups, the estimates are independent and
    :math:`\\hat V` is diagonal with the subgroup standard errors. When clusters cross
    subgroups (a household with a regular and a rare voter), the estimates are correlated:
    :math:`\\hat\\tau` and :math:`\\hat V` then come from one interacted regression
    (``y ~ group + group:assignment``, or its 2SLS version with ``group:treatment``
    instrumented by ``group:assignment``; block fixed effects absorbed) with a
    cluster-robust (CR1, :math:`G/(G-1)`) covariance.
Randomisation test (with ``design``)
    :math:`\\sum_g (\\hat\\tau_g - \\bar\\tau)^2 / \\hat v_g` with precision-weighted
    :math:`\\bar\\tau`, referred to its distribution over re-randomisations of the design
    under the sharp null of a constant effect equal to :math:`\\bar\\tau` (Ding, Feller &
    Miratrix 2016, with the plug-in constant effect). Per subgroup the statistic is the
    block-stratified difference in means of :math:`y - \\bar\\tau Z` (ITT) or
    :math:`y - \\bar\\tau d` divided by the subgroup's observed first stage (CACE), with
    the linearised cluster-robust variance of :func:`fieldexp.randomization_inference`.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from fieldexp._validate import (
    _missing_mask,
    as_column_list,
    check_choice,
    check_frame,
    resolve_estimand,
)
from fieldexp.design.spec import Design
from fieldexp.errors import (
    ColumnNotFoundError,
    EstimationError,
    FieldexpError,
    RowsDroppedWarning,
    SpecificationError,
    did_you_mean,
    format_rows,
)
from fieldexp.experiment.ri_replay import ENGINES, check_reps_memory, observed_acc, run_replay
from fieldexp.experiment.ri_stats import N_ACC, itt_reducer, prepare_statistic, tail_share
from fieldexp.results import EffectResult, Estimates, Result, TestResult

__all__ = ["HeterogeneityResult", "heterogeneity"]

_FUNCTION = "heterogeneity"


@dataclass(frozen=True, slots=True, eq=False)
class HeterogeneityResult(Result):
    """Subgroup effects and tests that they are equal.

    ``wald`` is the :class:`~fieldexp.results.TestResult` of equal effects across subgroups
    (:math:`\\chi^2_{G-1}`; ``wald.method`` says how the covariance was formed).
    """

    by: str
    levels: tuple[object, ...]
    effects: tuple[EffectResult, ...]
    estimand: str
    wald: TestResult
    ri_statistic: float = math.nan
    ri_p_value: float = math.nan
    ri_p_value_se: float = math.nan
    ri_reps: int = 0
    ri_exact: bool = False
    notes: tuple[str, ...] = field(default_factory=tuple)

    # deprecated names of the Wald test's fields (one TestResult replaces them)
    @property
    def wald_statistic(self) -> float:
        _renamed("wald_statistic", "wald.statistic")
        return self.wald.statistic

    @property
    def wald_df(self) -> int:
        _renamed("wald_df", "wald.df")
        return int(self.wald.df)  # type: ignore[arg-type]

    @property
    def wald_p_value(self) -> float:
        _renamed("wald_p_value", "wald.p_value")
        return self.wald.p_value

    @property
    def wald_method(self) -> str:
        _renamed("wald_method", "wald.method")
        return self.wald.method

    def to_frame(self) -> pd.DataFrame:
        """One row per subgroup: ``by, level`` and the EffectResult columns."""
        frames = []
        for level, eff in zip(self.levels, self.effects, strict=True):
            f = eff.to_frame()
            f.insert(0, "level", [level])
            f.insert(0, "by", self.by)
            frames.append(f)
        return pd.concat(frames, ignore_index=True)

    def tests_frame(self) -> pd.DataFrame:
        rows = [
            {
                "test": f"Wald ({self.wald.method})",
                "statistic": self.wald.statistic,
                "df": self.wald.df,
                "p_value": self.wald.p_value,
            }
        ]
        if self.ri_reps:
            rows.append(
                {
                    "test": "randomisation" + (" (exact)" if self.ri_exact else ""),
                    "statistic": self.ri_statistic,
                    "df": self.wald.df,
                    "p_value": self.ri_p_value,
                }
            )
        return pd.DataFrame(rows)

    def _estimates(self) -> Estimates:
        return Estimates(
            labels=self.levels,
            estimate=np.array([e.estimate for e in self.effects]),
            std_error=np.array([e.std_error for e in self.effects]),
            df=np.array([e.df for e in self.effects]),
            label_name="level",
        )

    def _title(self) -> str:
        return f"{self.estimand} by {self.by!r} ({len(self.levels)} subgroups)"

    def _lines(self) -> list[str]:
        w = self.wald
        lines = [
            f"equal effects: Wald chi2({w.df}) = {w.statistic:.3f}, p = {w.p_value:.4f} "
            f"({w.method})"
        ]
        if self.ri_reps:
            how = (
                "exact"
                if self.ri_exact
                else f"{self.ri_reps:,} draws, MC s.e. {self.ri_p_value_se:.4f}"
            )
            lines.append(
                f"randomisation test: statistic {self.ri_statistic:.3f}, "
                f"p = {self.ri_p_value:.4f} ({how})"
            )
        lines.extend(f"note: {n}" for n in self.notes)
        return lines

    def _table(self) -> pd.DataFrame:
        return self.to_frame()[
            ["level", "estimate", "std_error", "p_value", "ci_low", "ci_high", "nobs"]
        ]

    def _plot(self, ax: Any) -> None:
        """Forest plot: one estimate and interval per subgroup."""
        y = np.arange(len(self.effects))[::-1]
        est = np.array([e.estimate for e in self.effects])
        lo = np.array([e.ci_low for e in self.effects])
        hi = np.array([e.ci_high for e in self.effects])
        ax.hlines(y, lo, hi, color="tab:blue", linewidth=2)
        ax.scatter(est, y, color="tab:blue", zorder=3)
        ax.axvline(0.0, color="black", linewidth=0.8)
        ax.set_yticks(y, [str(v) for v in self.levels])
        ax.set_xlabel(f"{self.estimand}")
        ax.set_title(f"{self.estimand} by {self.by}")


def _renamed(old: str, new: str) -> None:
    warnings.warn(
        f"HeterogeneityResult.{old} is deprecated: use HeterogeneityResult.{new}.",
        FutureWarning,
        stacklevel=3,
    )


def _contrast_wald(tau: np.ndarray, V: np.ndarray) -> tuple[float, int]:
    G = len(tau)
    R = np.column_stack([-np.ones(G - 1), np.eye(G - 1)])
    diff = R @ tau
    middle = R @ V @ R.T
    try:
        w = float(diff @ np.linalg.solve(middle, diff))
    except np.linalg.LinAlgError as exc:
        raise EstimationError(
            f"{_FUNCTION}: the covariance of the subgroup contrasts is singular ({exc})"
        ) from exc
    return w, G - 1


def _demean(a: np.ndarray, groups: np.ndarray | pd.Series | None) -> np.ndarray:
    if groups is None:
        return a
    # any numbering of the groups gives the same means (each summed in row order): hashing
    # is enough, no sort of the labels
    inv = pd.factorize(groups)[0]
    cnt = np.bincount(inv).astype(float)
    out = np.empty_like(a)
    for j in range(a.shape[1]):
        out[:, j] = a[:, j] - (np.bincount(inv, weights=a[:, j]) / cnt)[inv]
    return out


class GroupLabels:
    """The block and cluster columns of ``data`` hashed once, for estimators fitted on many
    row subsets (subgroups, covariates).

    :func:`fit` hands the estimator a frame of the columns it uses in which each label column
    is replaced by float codes numbering its labels in order of first appearance in the
    subset: the estimator's own factorisation (order of first appearance) then numbers the
    groups exactly as on the labels, so every sum is added in the same order and the result
    is the same to the last bit, without converting text labels to Python objects for each
    subset. When the subset has a missing value in a used column (rows would be dropped),
    or the fit raises or warns (messages name labels), the fit is made on the labels.
    """

    def __init__(self, data: pd.DataFrame, columns: Sequence[str | None]) -> None:
        self.codes = {
            c: np.asarray(pd.factorize(data[c])[0], dtype=np.int64)
            for c in dict.fromkeys(x for x in columns if x is not None)
            if c in data.columns and not _is_numeric(data[c])
        }

    def fit(
        self,
        fn: Any,
        data: pd.DataFrame,
        mask: np.ndarray,
        used: Sequence[str | None],
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        cols = list(dict.fromkeys(c for c in used if c is not None))
        fast = None
        if self.codes and all(c in data.columns for c in cols):
            narrow = data.loc[mask, cols]
            if not any(_missing_mask(narrow[c]).any() for c in cols):
                fast = narrow.assign(
                    **{
                        c: pd.factorize(g[mask])[0].astype(np.float64)
                        for c, g in self.codes.items()
                        if c in cols
                    }
                )
        if fast is not None:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                try:
                    result = fn(fast, *args, **kwargs)
                except FieldexpError:
                    result = None
            if result is not None and not caught:
                return result
        return fn(data.loc[mask], *args, **kwargs)


def _is_numeric(series: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(
        series.dtype
    )


def _sorted_codes(values: np.ndarray | pd.Series) -> np.ndarray:
    """Integer codes numbering the labels in sorted order: ``np.unique(values,
    return_inverse=True)`` gives the same inverse on them as on the labels. Text labels are
    hashed and only the distinct ones sorted (:func:`pandas.factorize` with ``sort=True``);
    other labels are returned as they are."""
    series = values if isinstance(values, pd.Series) else pd.Series(values, copy=False)
    if not (pd.api.types.is_string_dtype(series.dtype) and not series.hasnans):
        return np.asarray(values)
    if series.dtype == object and not all(isinstance(v, str) for v in pd.unique(series)):
        return np.asarray(values)  # mixed labels: sorted as numpy sorts them
    codes, _ = pd.factorize(series, sort=True)
    return np.asarray(codes, dtype=np.int64)


def _level_codes(series: pd.Series, levels: Sequence[object]) -> np.ndarray:
    """``pd.Categorical(series, categories=levels).codes`` (-1: missing or another value),
    hashing the column once and matching only its distinct values to ``levels``."""
    codes, uniques = pd.factorize(series)
    cat = pd.Categorical(np.asarray(uniques, dtype=object), categories=list(levels)).codes
    lut = np.append(cat.astype(np.int64), -1)  # code -1 (missing) -> last entry
    return lut[np.asarray(codes, dtype=np.int64)]


def _clusters_cross(clusters: pd.Series, group: np.ndarray) -> bool:
    """True when some cluster (missing labels aside) holds rows of two subgroups ``group``."""
    codes, uniques = pd.factorize(clusters)
    ok = codes >= 0
    codes, g = codes[ok], group[ok]
    lo = np.full(len(uniques), np.iinfo(np.int64).max)
    hi = np.full(len(uniques), np.iinfo(np.int64).min)
    np.minimum.at(lo, codes, g)
    np.maximum.at(hi, codes, g)
    return bool((lo != hi).any())


def interacted_fit(
    y: np.ndarray,
    z: np.ndarray,
    d: np.ndarray,
    group: np.ndarray,
    n_groups: int,
    clusters: np.ndarray | pd.Series,
    blocks: np.ndarray | pd.Series | None,
) -> tuple[np.ndarray, np.ndarray]:
    """Subgroup effects and their CR1 covariance from one interacted (2SLS) regression.

    Exogenous: subgroup indicators (block fixed effects absorbed by demeaning); endogenous
    ``d * 1[g]`` instrumented by ``z * 1[g]`` (for the ITT, ``d = z``: plain OLS).
    """
    G = n_groups
    ind = np.eye(G)[group]
    exog = ind if blocks is None else ind[:, 1:]
    endo = d[:, None] * ind
    inst = z[:, None] * ind
    cols = _demean(np.column_stack([y, exog, endo, inst]), blocks)
    yd = cols[:, 0]
    k_ex = exog.shape[1]
    Xex = cols[:, 1 : 1 + k_ex]
    X = np.column_stack([Xex, cols[:, 1 + k_ex : 1 + k_ex + G]])
    Zi = np.column_stack([Xex, cols[:, 1 + k_ex + G :]])
    coef_first = np.linalg.lstsq(Zi, X, rcond=None)[0]
    Xhat = Zi @ coef_first
    bread = np.linalg.pinv(Xhat.T @ X)
    beta = bread @ (Xhat.T @ yd)
    u = yd - X @ beta
    _, cinv = np.unique(_sorted_codes(clusters), return_inverse=True)
    nc = int(cinv.max()) + 1
    scores = np.zeros((nc, X.shape[1]))
    np.add.at(scores, cinv, Xhat * u[:, None])
    meat = scores.T @ scores * (nc / (nc - 1))
    V = bread @ meat @ bread.T
    return beta[k_ex:], V[k_ex:, k_ex:]


def heterogeneity(
    data: pd.DataFrame,
    outcome: str,
    assignment: str,
    by: str,
    *,
    estimand: str | None = None,
    treatment: str | None = None,
    blocks: str | None = None,
    clusters: str | None = None,
    covariates: str | Sequence[str] | None = None,
    method: str = "auto",
    se_type: str | None = None,
    alpha: float = 0.05,
    design: Design | None = None,
    reps: int = 0,
    seed: int | None = None,
    estimator: str | None = None,
    engine: str = "auto",
) -> HeterogeneityResult:
    """ITT or CACE within each level of ``by`` and tests that the effects are equal.

    Parameters
    ----------
    data, outcome, assignment : as for :func:`fieldexp.itt` (0/1 assignment column).
    by : str
        Subgroup column (e.g. ``"propensity_band"``: rare / intermittent / regular voters).
    estimand : {"ITT", "CACE"}
        ``"CACE"`` needs ``treatment`` (contact). ``estimator="itt"|"cace"`` is its deprecated
        name.
    blocks, clusters, covariates, method, se_type, alpha
        Passed to :func:`fieldexp.itt` / :func:`fieldexp.cace` for each subgroup
        (``method`` only for the ITT). Default ``blocks``/``clusters``: the design's.
    design : Design, optional
        With ``reps > 0`` and ``seed``: also the randomisation test of equal effects.
    reps, seed : int
        Draws and seed of the randomisation test (``reps`` whose draws could not fit in
        memory is refused at once, stating the memory needed).
    engine : {"auto", "dense", "grouped", "exact", "shared"}
        How the randomisation test's draws are made (as in
        :func:`fieldexp.randomization_inference`).

    Returns
    -------
    HeterogeneityResult
    """
    from fieldexp.experiment.api import cace, itt

    data = check_frame(data, function=_FUNCTION)
    check_choice(engine, ENGINES, argument="engine", function=_FUNCTION)
    estimator = resolve_estimand(estimand, estimator, function=_FUNCTION).lower()
    if estimator == "cace" and treatment is None:
        raise SpecificationError(
            f"The 'treatment' parameter of {_FUNCTION} is required with estimand='CACE'."
        )
    if design is not None:
        blocks = blocks if blocks is not None else design.blocks
        clusters = clusters if clusters is not None else design.clusters
    covs = as_column_list(covariates, function=_FUNCTION, argument="covariates")
    if by not in data.columns:
        raise ColumnNotFoundError(
            f"column {by!r} (argument 'by' of {_FUNCTION}) is not in the data."
            f"{did_you_mean(by, [str(c) for c in data.columns])}"
        )
    missing_by = data[by].isna().to_numpy()
    if missing_by.any():
        warnings.warn(
            f"{_FUNCTION}: {int(missing_by.sum()):,} rows with no {by!r} are left out; first "
            f"{format_rows(data.index[missing_by][:5], total=int(missing_by.sum()))}.",
            RowsDroppedWarning,
            stacklevel=2,
        )
    col = data[by]
    if isinstance(col.dtype, pd.CategoricalDtype):
        levels = [c for c in col.cat.categories if (col == c).any()]
    else:
        levels = sorted(col.dropna().unique().tolist(), key=lambda v: (str(type(v)), v))
    if len(levels) < 2:
        raise SpecificationError(
            f"column {by!r} (argument 'by' of {_FUNCTION}) has {len(levels)} subgroup(s); "
            "at least two are needed"
        )
    if design is not None and reps:
        if isinstance(reps, bool) or not isinstance(reps, int) or reps < 0:
            raise SpecificationError(
                f"The 'reps' parameter of {_FUNCTION} must be an integer >= 0. Got {reps!r}."
            )
        check_reps_memory(reps, N_ACC * len(levels), function=_FUNCTION)
    effects: list[EffectResult] = []
    labels = GroupLabels(data, (blocks, clusters))
    for level in levels:
        mask = (col == level).to_numpy()
        try:
            if estimator == "itt":
                eff = labels.fit(
                    itt,
                    data,
                    mask,
                    (outcome, assignment, blocks, clusters, *covs),
                    outcome,
                    assignment,
                    blocks=blocks,
                    clusters=clusters,
                    covariates=covs or None,
                    method=method,
                    se_type=se_type,
                    alpha=alpha,
                )
            else:
                assert treatment is not None
                eff = labels.fit(
                    cace,
                    data,
                    mask,
                    (outcome, treatment, assignment, blocks, clusters, *covs),
                    outcome,
                    treatment,
                    assignment,
                    blocks=blocks,
                    clusters=clusters,
                    covariates=covs or None,
                    se_type=se_type,
                    alpha=alpha,
                )
        except FieldexpError as exc:
            raise type(exc)(f"subgroup {by} = {level!r}: {exc}") from exc
        effects.append(eff)
    tau = np.array([e.estimate for e in effects])
    notes: list[str] = []
    keep = ~missing_by
    crossing = False
    level_code = _level_codes(col, levels)
    if clusters is not None:
        crossing = _clusters_cross(data[clusters][keep], level_code[keep])
    if not crossing:
        V = np.diag([e.std_error**2 for e in effects])
        wald_method = "independent subgroups"
        w, df = _contrast_wald(tau, V)
    else:
        need = [
            outcome,
            assignment,
            by,
            clusters,
            *([treatment] if treatment else []),
            *([blocks] if blocks else []),
        ]
        complete = keep & ~data[need].isna().any(axis=1).to_numpy()
        sub = data.loc[complete, need]
        code = level_code[complete]
        z = sub[assignment].to_numpy(float)
        d = sub[treatment].to_numpy(float) if estimator == "cace" else z
        beta, V = interacted_fit(
            sub[outcome].to_numpy(float),
            z,
            d,
            code,
            len(levels),
            sub[clusters],  # Series: text labels hashed, not converted row by row
            sub[blocks] if blocks else None,
        )
        wald_method = "interacted model, CR1 (clusters cross subgroups)"
        w, df = _contrast_wald(beta, V)
        notes.append(
            f"clusters of {clusters!r} span several {by!r} subgroups: the Wald test uses one "
            "interacted regression with cluster-robust covariance"
            + (" (covariates not included)" if covs else "")
        )
    p = float(stats.chi2.sf(w, df))

    ri_stat = ri_p = ri_se = math.nan
    ri_reps = 0
    ri_exact = False
    if design is not None and reps:
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise SpecificationError(
                f"The 'seed' parameter of {_FUNCTION} is required (non-negative integer) for "
                "the randomisation test."
            )
        codes_all = np.full(len(data), -1, dtype=np.int64)
        codes_all[keep] = level_code[keep]
        frame = data.assign(__fieldexp_group__=codes_all)
        frame = frame.loc[keep]
        prep = prepare_statistic(
            frame,
            outcome,
            assignment,
            design,
            estimator=estimator,
            treatment=treatment,
            covariates=covs,
            arm=None,
            studentize=True,
            groups=frame["__fieldexp_group__"].to_numpy(),
            n_groups=len(levels),
            function=_FUNCTION,
        )
        reducer, n_acc = itt_reducer(prep.weights, True)
        obs = observed_acc(prep.setup, prep.V, reducer, n_acc).reshape(len(levels), N_ACC)
        # per-group scale: the observed first stage (CACE), 1 for the ITT (A = Z)
        scale = obs[:, 1].copy()
        est0 = obs[:, 0] / scale
        var0 = obs[:, 2] / scale**2
        tau_bar = float(np.sum(est0 / var0) / np.sum(1 / var0))

        def het(acc: np.ndarray) -> np.ndarray:
            a = acc.reshape(acc.shape[0], len(levels), N_ACC)
            # draws leaving a subgroup arm empty (or single) give NaN and are not counted
            with np.errstate(divide="ignore", invalid="ignore"):
                est = (a[..., 0] - tau_bar * a[..., 1]) / scale
                var = (a[..., 2] + tau_bar * a[..., 3] + tau_bar**2 * a[..., 4]) / scale**2
                wgt = 1 / var
                mean = np.sum(est * wgt, axis=1) / np.sum(wgt, axis=1)
                return np.sum((est - mean[:, None]) ** 2 * wgt, axis=1)

        acc, prob, ri_exact, _engine, _key = run_replay(
            prep.setup,
            prep.V,
            reducer,
            n_acc,
            reps=reps,
            seed=seed,
            engine=engine,
            design=design,
        )
        ri_stat = float(het(obs.reshape(1, -1))[0])
        if math.isfinite(ri_stat):
            draws = het(acc)
            ri_p = tail_share(draws, ri_stat, prob, "greater")
            ri_reps = len(draws)
            ri_se = 0.0 if ri_exact else math.sqrt(ri_p * (1 - ri_p) / ri_reps)
        else:
            ri_exact = False
            notes.append(
                "randomisation test not computed: some block has no units of a subgroup in one "
                "arm (or one cluster only), so a subgroup's blocked estimate is undefined"
            )
    return HeterogeneityResult(
        by=by,
        levels=tuple(levels),
        effects=tuple(effects),
        estimand=estimator.upper(),
        wald=TestResult(
            statistic=w,
            df=df,
            p_value=p,
            distribution="chi2",
            hypothesis=f"equal effects across {by!r}",
            method=wald_method,
        ),
        ri_statistic=ri_stat,
        ri_p_value=ri_p,
        ri_p_value_se=ri_se,
        ri_reps=ri_reps,
        ri_exact=ri_exact,
        notes=tuple(notes),
    )
