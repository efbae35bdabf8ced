"""Uplift scores without leakage: cross-fitted DR-learner (Kennedy 2023) on a randomised experiment.

For each fold :math:`k` (whole clusters, dealt within blocks), everything is learnt on the other
folds :math:`T_k` and only *predicted* on fold :math:`k`, so a voter's score never uses that
voter's outcome:

1. outcome models :math:`\\hat m_1(x), \\hat m_0(x)` fitted on the assigned and unassigned
   voters of :math:`T_k`, themselves cross-fitted in two halves of :math:`T_k` so the
   pseudo-outcomes below use out-of-sample nuisance predictions;
2. pseudo-outcomes on :math:`T_k` with the design's known propensity :math:`p_b`:

   .. math::

      \\varphi_i = \\hat m_1(X_i) - \\hat m_0(X_i) + \\frac{Z_i (Y_i - \\hat m_1(X_i))}{p_b}
          - \\frac{(1 - Z_i)(Y_i - \\hat m_0(X_i))}{1 - p_b};

3. a regression of :math:`\\varphi` on :math:`X` over :math:`T_k`, predicted on fold :math:`k`:
   :math:`\\hat\\tau(x) = \\hat E[\\varphi \\mid X = x]`.

Per contacted voter (``treatment=``) the scores are divided by the overall first stage (the
block-adjusted effect of assignment on contact): the ranking is unchanged, the scale is per
contact under a constant contact rate.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from fieldexp._validate import as_column_list
from fieldexp.errors import DataError, SpecificationError
from fieldexp.results import Result
from fieldexp.targeting._data import _NUISANCE, TargetingData, id_folds, prepare_targeting
from fieldexp.targeting.rate import first_stage_or_raise

__all__ = ["LEARNERS", "UpliftResult", "uplift"]

LEARNERS: tuple[str, ...] = ("auto", "gbm", "forest")

_THREADED_ROWS = 200_000


@dataclass(frozen=True)
class UpliftResult(Result):
    """Out-of-fold uplift scores.

    Attributes
    ----------
    scores : pandas.Series
        Each voter's estimated effect, aligned to ``data.index`` (NaN for rows dropped for missing
        values); per assigned voter, or per contacted voter with ``treatment``.
    folds : pandas.Series
        The fold of every scored voter (whole clusters, balanced within blocks).
    learner : str
        What produced the scores.
    estimand : str
        ``"ITT"`` or ``"CACE"``.
    first_stage : float
        The divisor for per-contact scores (1.0 without ``treatment``).
    covariates : tuple of str
    seed, n_folds : int
    """

    scores: pd.Series
    folds: pd.Series
    learner: str
    estimand: str
    first_stage: float
    covariates: tuple[str, ...]
    seed: int
    n_folds: int

    def to_frame(self) -> pd.DataFrame:
        """Summary of the scores by fold (aggregates only: no voter-level rows)."""
        df = pd.DataFrame({"fold": self.folds, "score": self.scores}).dropna()
        out = df.groupby("fold")["score"].agg(["count", "mean", "std", "min", "max"])
        return out.reset_index()

    def _title(self) -> str:
        return f"Uplift scores ({self.estimand}, {self.learner}, {self.n_folds}-fold cross-fitting)"

    def _lines(self) -> list[str]:
        s = self.scores.dropna()
        return [
            f"{len(s):,} voters scored; mean {s.mean():.4f}, sd {s.std():.4f}, "
            f"deciles {s.quantile(0.1):.4f} .. {s.quantile(0.9):.4f}",
            f"covariates: {', '.join(self.covariates)}",
        ]

    def _table(self) -> pd.DataFrame | None:
        return None  # to_frame() holds the per-fold summary


def _make_learner(learner: Any, seed: int) -> Any:
    if not isinstance(learner, str):
        if not (hasattr(learner, "fit") and hasattr(learner, "predict")):
            raise SpecificationError(
                "The 'learner' parameter of uplift must be 'auto', 'gbm', 'forest' or a "
                f"scikit-learn regressor (with fit and predict). Got {type(learner).__name__} instead."
            )
        from sklearn.base import clone

        return lambda: clone(learner)
    if learner in ("auto", "gbm"):
        from sklearn.ensemble import HistGradientBoostingRegressor

        return lambda: HistGradientBoostingRegressor(
            max_iter=100, learning_rate=0.1, min_samples_leaf=50, random_state=seed
        )
    raise SpecificationError(
        f"The 'learner' parameter of uplift must be one of {', '.join(map(repr, LEARNERS))} or a "
        f"scikit-learn regressor. Got {learner!r} instead."
    )


def _fit_predict(
    factory: Any, x_train: np.ndarray, y_train: np.ndarray, x_new: np.ndarray
) -> np.ndarray:
    if len(y_train) == 0:
        raise DataError("a cross-fitting fold left no training rows in one arm; use fewer folds.")
    model = factory()
    model.fit(x_train, y_train)
    return np.asarray(model.predict(x_new), dtype=float)


def _dr_fold(
    factory: Any, x: np.ndarray, t: TargetingData, train: np.ndarray, test: np.ndarray, seed: int
) -> np.ndarray:
    """DR-learner trained on ``train`` rows, predicted on ``test`` rows."""
    idx = np.flatnonzero(train)
    # two halves of the training rows for out-of-sample nuisance predictions (seeded, keyed to
    # the cluster codes so row order does not matter)
    half_key = np.random.default_rng([seed, _NUISANCE]).random(t.n_clusters)[t.cluster[idx]] < 0.5
    m1 = np.empty(len(idx))
    m0 = np.empty(len(idx))
    for h in (True, False):
        fit_rows = idx[half_key != h]
        pred_rows = half_key == h
        for arm, target in ((1.0, m1), (0.0, m0)):
            rows = fit_rows[t.z[fit_rows] == arm]
            target[pred_rows] = _fit_predict(factory, x[rows], t.y[rows], x[idx[pred_rows]])
    z, y, p = t.z[idx], t.y[idx], t.propensity[idx]
    phi = m1 - m0 + z * (y - m1) / p - (1.0 - z) * (y - m0) / (1.0 - p)
    return _fit_predict(factory, x[idx], phi, x[np.flatnonzero(test)])


def uplift(
    data: pd.DataFrame,
    outcome: str,
    assignment: str,
    covariates: str | Sequence[str],
    *,
    treatment: str | None = None,
    blocks: str | None = None,
    clusters: str | None = None,
    folds: int = 5,
    learner: Any = "auto",
    seed: int,
) -> UpliftResult:
    """Each voter's estimated effect of canvassing, out of fold (cross-fitted DR-learner).

    Parameters
    ----------
    data : pandas.DataFrame
        One row per voter (not modified).
    outcome, assignment : str
        Outcome and the 0/1 randomised assignment.
    covariates : str or list of str
        Numeric features (vote history, age, ...). Personal data have no place here.
    treatment : str, optional
        0/1 contact: scores per contacted voter.
    blocks, clusters : str, optional
        Randomisation blocks (propensity per block; folds balanced within blocks) and clusters
        (folds keep them whole).
    folds : int
        Number of cross-fitting folds (>= 2).
    learner : {"auto", "gbm", "forest"} or scikit-learn regressor
        ``"auto"``/``"gbm"``: scikit-learn histogram gradient boosting. ``"forest"``: EconML's
        causal forest (optional extra ``fieldexp[forest]``). A regressor is cloned for every fit.
    seed : int
        Seed of folds and learners (required).

    Returns
    -------
    UpliftResult
        ``.scores`` aligned to ``data.index``.
    """
    fn = "uplift"
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise SpecificationError(
            f"The 'seed' parameter of uplift must be an integer. Got {seed!r} instead."
        )
    covs = as_column_list(covariates, function=fn, argument="covariates")
    if not covs:
        raise SpecificationError(
            "The 'covariates' parameter of uplift must name at least one column."
        )
    t = prepare_targeting(
        data,
        outcome=outcome,
        assignment=assignment,
        treatment=treatment,
        blocks=blocks,
        clusters=clusters,
        extra=covs,
        function=fn,
    )
    missing = [c for c in covs if c not in data.columns]
    if missing:
        raise DataError(
            f"covariate column(s) {missing} (argument 'covariates' of uplift) not in the data."
        )
    x_frame = data.loc[t.index, covs]
    non_numeric = [
        c
        for c in covs
        if not pd.api.types.is_numeric_dtype(x_frame[c].dtype)
        and not pd.api.types.is_bool_dtype(x_frame[c].dtype)
    ]
    if non_numeric:
        raise DataError(
            f"covariate column(s) {non_numeric} of uplift must be numeric (encode categories as "
            "0/1 indicators first)."
        )
    x = x_frame.to_numpy(dtype=float)
    fold = id_folds(t, int(folds), seed)
    if learner == "forest":
        tau = _forest_scores(x, t, fold, int(folds), seed)
        name = "econml CausalForestDML"
    else:
        factory = _make_learner(learner, seed)
        tau = np.empty(len(t.y))
        # below a few hundred thousand rows OpenMP threads cost more than they save, and on a
        # shared machine they can make each fit 20 times slower (oversubscription)
        threads = 1 if len(t.y) < _THREADED_ROWS else None
        with threadpool_limits(limits=threads, user_api="openmp"):
            for k in range(int(folds)):
                test = fold == k
                tau[test] = _dr_fold(factory, x, t, ~test, test, seed + 1 + k)
        name = learner if isinstance(learner, str) else type(learner).__name__
        name = (
            "DR-learner, sklearn HistGradientBoostingRegressor"
            if name in ("auto", "gbm")
            else f"DR-learner, {name}"
        )
    fs = first_stage_or_raise(t)
    scores = pd.Series(np.nan, index=data.index, name="uplift", dtype=float)
    scores.loc[t.index] = tau / fs
    fold_s = pd.Series(pd.NA, index=data.index, name="fold", dtype="Int64")
    fold_s.loc[t.index] = fold
    return UpliftResult(
        scores=scores,
        folds=fold_s,
        learner=name,
        estimand="CACE" if t.d is not None else "ITT",
        first_stage=fs if t.d is not None else 1.0,
        covariates=tuple(covs),
        seed=int(seed),
        n_folds=int(folds),
    )


def _forest_scores(
    x: np.ndarray, t: TargetingData, fold: np.ndarray, folds: int, seed: int
) -> np.ndarray:
    try:
        from econml.dml import CausalForestDML
    except ImportError as exc:  # pragma: no cover - depends on the optional extra
        raise SpecificationError(
            "learner='forest' needs EconML: pip install 'fieldexp[forest]' (or econml). "
            "learner='auto' needs only scikit-learn."
        ) from exc
    tau = np.empty(len(t.y))
    for k in range(folds):
        test = fold == k
        train = ~test
        est = CausalForestDML(discrete_treatment=True, random_state=seed, cv=2)
        est.fit(t.y[train], t.z[train], X=x[train])
        tau[test] = np.asarray(est.effect(x[test]), dtype=float).ravel()
    return tau if np.all(np.isfinite(tau)) else np.where(np.isfinite(tau), tau, math.nan)
