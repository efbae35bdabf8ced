"""Multiple-testing adjustment across outcomes or arms: :func:`adjust_pvalues`.

``"holm"`` (Holm 1979) controls the family-wise error rate; ``"bh"`` (Benjamini & Hochberg
1995) the false discovery rate; ``"westfall-young"`` (Westfall & Young 1993, free step-down
min-p, Algorithm 2.8) controls the family-wise error rate using the *joint* randomisation
distribution of the statistics, so correlated outcomes (turnout and registration measured on
the same voters) are not over-corrected. It needs randomisation-inference results whose
draws are aligned, i.e. computed with the same design, units, seed, number of draws and an
outcome-independent engine (``engine="dense"``, or exact enumeration); their ``draw_key``
attributes are then equal.

On an engine table (Ibis, Polars, Arrow) :func:`engine_ri_family` pulls the cluster totals of
all the outcomes in one pass (*G* rows) and replays them with aligned draws; its results go
to :func:`adjust_pvalues` as those of the DataFrame route, with the same numbers.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from fieldexp._validate import check_choice
from fieldexp.errors import SpecificationError
from fieldexp.experiment.ri import engine_ri_family
from fieldexp.results import Result

__all__ = ["AdjustedPValues", "adjust_pvalues", "engine_ri_family"]

METHODS = ("holm", "bh", "westfall-young")


@dataclass(frozen=True, slots=True, eq=False)
class AdjustedPValues(Result):
    """Raw and adjusted p-values of a family of tests."""

    names: tuple[str, ...]
    p_values: np.ndarray
    adjusted: np.ndarray
    method: str

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "test": list(self.names),
                "p_value": self.p_values,
                "p_adjusted": self.adjusted,
                "method": self.method,
            }
        )

    def __getitem__(self, name: str) -> float:
        return float(self.adjusted[self.names.index(name)])

    def _title(self) -> str:
        return f"Adjusted p-values ({self.method}, {len(self.names)} tests)"


def holm(p: np.ndarray) -> np.ndarray:
    """Holm step-down: :math:`\\tilde p_{(k)} = \\max_{j \\le k} \\min(1, (m-j+1) p_{(j)})`."""
    m = len(p)
    order = np.argsort(p, kind="stable")
    adj = np.minimum(1.0, (m - np.arange(m)) * p[order])
    adj = np.maximum.accumulate(adj)
    out = np.empty(m)
    out[order] = adj
    return out


def benjamini_hochberg(p: np.ndarray) -> np.ndarray:
    """BH step-up: :math:`\\tilde p_{(k)} = \\min_{j \\ge k} \\min(1, m p_{(j)} / j)`."""
    m = len(p)
    order = np.argsort(p, kind="stable")
    adj = p[order] * m / np.arange(1, m + 1)
    adj = np.minimum.accumulate(adj[::-1])[::-1]
    out = np.empty(m)
    out[order] = np.minimum(adj, 1.0)
    return out


def _draw_p_values(draws: np.ndarray, weights: np.ndarray, alternative: str) -> np.ndarray:
    """p-value each draw would have had: weighted share of draws at least as extreme."""
    if alternative == "two-sided":
        a = np.abs(draws)
    elif alternative == "greater":
        a = draws.copy()
    else:
        a = -draws
    a = np.where(np.isfinite(a), a, -np.inf)
    order = np.argsort(a, kind="stable")
    sorted_a = a[order]
    tail = np.concatenate([np.cumsum(weights[order][::-1])[::-1], [0.0]])
    tol = 1e-9 * (1.0 + np.abs(a))
    idx = np.searchsorted(sorted_a, a - tol, side="left")
    return tail[idx] / weights.sum()


def westfall_young(
    observed_p: np.ndarray,
    draws: Sequence[np.ndarray],
    weights: np.ndarray,
    alternatives: Sequence[str],
) -> np.ndarray:
    """Free step-down min-p adjustment from aligned randomisation draws.

    Draws where some statistic is undefined (an arm left empty in a block) are left out, as
    :func:`fieldexp.randomization_inference` leaves them out of each p-value.
    """
    finite = np.all(np.isfinite(np.column_stack(list(draws))), axis=1)
    if not finite.all():
        draws = [np.asarray(d)[finite] for d in draws]
        weights = np.asarray(weights)[finite]
    m = len(observed_p)
    pstar = np.column_stack(
        [_draw_p_values(d, weights, alt) for d, alt in zip(draws, alternatives, strict=True)]
    )
    order = np.argsort(observed_p, kind="stable")
    # successive minima from the least significant hypothesis up
    q = np.minimum.accumulate(pstar[:, order][:, ::-1], axis=1)[:, ::-1]
    tol = 1e-12
    adj = np.array(
        [
            float(np.sum(weights[q[:, k] <= observed_p[order][k] + tol]) / weights.sum())
            for k in range(m)
        ]
    )
    adj = np.maximum.accumulate(adj)
    out = np.empty(m)
    out[order] = np.minimum(adj, 1.0)
    return out


def _name(result: object, i: int) -> str:
    outcome = getattr(result, "outcome", None)
    arm = getattr(result, "arm", None)
    term = getattr(result, "term", None)
    if outcome is None:
        return f"test {i + 1}"
    extra = arm if arm is not None else term
    return f"{outcome} ({extra})" if extra is not None else str(outcome)


def adjust_pvalues(
    results: Sequence[object] | Mapping[str, object], method: str = "holm"
) -> AdjustedPValues:
    """Adjust a family of p-values for multiple testing.

    Parameters
    ----------
    results : sequence or mapping
        ``EffectResult``/``RandomizationResult`` objects (their ``p_value`` is used) or plain
        p-values; a mapping names the tests by its keys.
    method : {"holm", "bh", "westfall-young"}
        ``"westfall-young"`` needs :class:`~fieldexp.experiment.ri.RandomizationResult`
        objects with equal ``draw_key`` (the same assignments, draw by draw): the results of
        :func:`~fieldexp.experiment.ri.randomization_inference_family` (one replay for all
        outcomes, any engine), or of :func:`~fieldexp.randomization_inference` run per outcome
        with ``engine="dense"`` and the same design, units, seed and reps.

    Returns
    -------
    AdjustedPValues
        ``to_frame()`` gives ``test, p_value, p_adjusted, method``.
    """
    check_choice(method, METHODS, argument="method", function="adjust_pvalues")
    if isinstance(results, Mapping):
        names = [str(k) for k in results]
        items = list(results.values())
    elif isinstance(results, Sequence) and not isinstance(results, str):
        items = list(results)
        names = [_name(r, i) for i, r in enumerate(items)]
    else:
        raise SpecificationError(
            "The 'results' parameter of adjust_pvalues must be a list or mapping of results or "
            f"p-values. Got {type(results).__name__} instead."
        )
    if not items:
        raise SpecificationError("The 'results' parameter of adjust_pvalues is empty.")
    if len(set(names)) != len(names):
        names = [f"{n} [{i + 1}]" for i, n in enumerate(names)]
    p = []
    for i, r in enumerate(items):
        value = (
            r
            if isinstance(r, int | float) and not isinstance(r, bool)
            else getattr(r, "p_value", None)
        )
        if value is None or not (0 <= float(value) <= 1) or math.isnan(float(value)):
            raise SpecificationError(
                f"adjust_pvalues: item {i} ({names[i]!r}) has no p-value in [0, 1]; found {value!r}"
            )
        p.append(float(value))
    pv = np.asarray(p)
    if method == "holm":
        adj = holm(pv)
    elif method == "bh":
        adj = benjamini_hochberg(pv)
    else:
        keys = [getattr(r, "draw_key", None) for r in items]
        if any(k is None for k in keys) or len(set(keys)) != 1:
            raise SpecificationError(
                "adjust_pvalues: method='westfall-young' needs randomisation-inference results "
                "with aligned draws (equal draw_key): run "
                "fieldexp.experiment.ri.randomization_inference_family on all the outcomes at "
                "once (any engine), or fieldexp.randomization_inference on the same data, "
                "design, seed and reps with engine='dense' for every outcome; "
                f"found draw keys {[None if k is None else k[:8] for k in keys]!r}"
            )
        first = items[0]
        weights = getattr(first, "draw_weights", None)
        n = len(first.draws)  # type: ignore[attr-defined]
        w = np.full(n, 1.0 / n) if weights is None else np.asarray(weights)
        adj = westfall_young(
            pv,
            [np.asarray(r.draws) for r in items],  # type: ignore[attr-defined]
            w,
            [r.alternative for r in items],  # type: ignore[attr-defined]
        )
    return AdjustedPValues(names=tuple(names), p_values=pv, adjusted=adj, method=method)
