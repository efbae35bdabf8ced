r"""Observational comparison groups before a DiD: exact matching or weighting on vote history.

When canvassing was not randomised, the comparison units should look like the canvassed ones
*before* canvassing: same vote-history pattern (turnout in the elections before the first
canvass), same pre-period covariates. :func:`comparison_group` builds that comparison and
reports covariate balance before and after.

``method="exact"`` (coarsened exact matching, Iacus, King & Porro 2012): strata are the
combinations of the (discrete) matching variables; strata without both ever-canvassed and
never-canvassed units are dropped; kept comparison units get weight
:math:`w_j = \frac{n^T_s}{n^C_s}\,\frac{N^C}{N^T}` (treated units weight 1), so the weighted
comparison group has the canvassed units' distribution of patterns.

``method="ipw"``: a logit of ever-canvassed on the matching variables, comparison units weighted
by the odds :math:`\hat p/(1-\hat p)` (normalised within the comparison group to the treated
count), the ATT weights of Abadie (2005).

Then estimate with ``fieldexp.staggered_did(result.data, ..., weights=result.weights)`` or, for
the doubly robust estimator of Sant'Anna & Zhao (2020), pass the history columns as
``covariates=result.covariates, est_method="dr"``. The reported standard errors treat the
matching weights as fixed (they do not include the matching step).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from fieldexp._validate import as_column_list, check_choice, check_columns, check_frame
from fieldexp.diffindiff._kernels import _logit
from fieldexp.errors import DataError, RowsDroppedWarning, SpecificationError, format_rows
from fieldexp.results import Result

__all__ = ["ComparisonGroup", "comparison_group"]

_FN = "fieldexp.diffindiff.comparison_group"
#: matching methods of :func:`comparison_group`
METHODS: tuple[str, ...] = ("exact", "ipw")


@dataclass(frozen=True, slots=True, eq=False)
class ComparisonGroup(Result):
    """Panel restricted to matched units, with matching weights and a balance table.

    Attributes
    ----------
    data : DataFrame
        The caller's rows for the kept units plus ``weights`` (matching weight, constant within
        unit) and the history columns ``covariates`` (``hist_<period>``, constant within unit).
    weights : str
        Name of the weight column.
    covariates : tuple of str
        History (and given) covariate columns, for ``est_method="dr"``.
    balance : DataFrame
        ``variable, mean_treated, mean_comparison_before, mean_comparison_after, smd_before,
        smd_after`` (standardised mean differences, pooled standard deviation).
    n_treated, n_comparison, n_treated_dropped, n_comparison_dropped : int
    method : str
    """

    data: pd.DataFrame
    weights: str
    covariates: tuple[str, ...]
    balance: pd.DataFrame
    n_treated: int
    n_comparison: int
    n_treated_dropped: int
    n_comparison_dropped: int
    method: str

    def to_frame(self) -> pd.DataFrame:
        return self.balance.copy()

    def _title(self) -> str:
        return (
            f"Comparison group ({self.method}): {self.n_treated:,} canvassed and "
            f"{self.n_comparison:,} comparison units kept ({self.n_treated_dropped:,} canvassed "
            f"and {self.n_comparison_dropped:,} comparison units without a match dropped)"
        )

    def _plot(self, ax: Any) -> None:
        """Standardised mean differences before and after matching (a Love plot)."""
        b = self.balance
        y = np.arange(len(b))
        ax.scatter(b["smd_before"].abs(), y, color="tab:gray", label="before")
        ax.scatter(b["smd_after"].abs(), y, color="tab:blue", label="after")
        ax.axvline(0.1, color="gray", linestyle=":", linewidth=0.8)
        ax.set_yticks(y, [str(v) for v in b["variable"]])
        ax.set_xlabel("|standardised mean difference|")
        ax.set_title(f"Balance of the comparison group ({self.method})")
        ax.legend(fontsize=8)


def _smd(x: np.ndarray, treat: np.ndarray, w: np.ndarray) -> tuple[float, float, float]:
    xt, xc, wc = x[treat], x[~treat], w[~treat]
    mt = float(xt.mean())
    mc = float(np.average(xc, weights=wc)) if wc.sum() > 0 else math.nan
    vt = float(xt.var(ddof=1)) if len(xt) > 1 else 0.0
    vc = float(xc.var(ddof=1)) if len(xc) > 1 else 0.0
    sd = math.sqrt((vt + vc) / 2)
    return mt, mc, (mt - mc) / sd if sd > 0 else math.nan


def comparison_group(
    data: pd.DataFrame,
    outcome: str,
    unit: str,
    time: str,
    cohort: str,
    *,
    covariates: Sequence[str] | str | None = None,
    history: bool = True,
    method: str = "exact",
) -> ComparisonGroup:
    """Match or weight never-canvassed units to canvassed ones on vote history and covariates.

    Parameters
    ----------
    data : DataFrame
        Long panel (one row per unit and period) with a ``cohort`` column (0/missing = never).
    outcome, unit, time, cohort : str
    covariates : list of str, optional
        Unit-level pre-period covariates (constant within unit; discrete for ``exact``).
    history : bool
        Match on the outcome in every period before the first cohort (the vote-history
        pattern, ``hist_<period>`` columns).
    method : {"exact", "ipw"}
    """
    check_frame(data, function=_FN)
    covs = as_column_list(covariates, function=_FN, argument="covariates")
    check_columns(
        data, {"outcome": outcome, "unit": unit, "time": time, "cohort": cohort}, function=_FN
    )
    check_columns(data, {f"covariates[{i}]": c for i, c in enumerate(covs)}, function=_FN)
    check_choice(method, METHODS, argument="method", function=_FN)
    for role, col in (("outcome", outcome), *(("covariate", c) for c in covs)):
        values = data[col]
        if pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(
            values.dtype
        ):
            inf = np.isinf(values.to_numpy(dtype=float, na_value=np.nan))
            if inf.any():
                raise DataError(
                    f"{role} column {col!r} ({_FN}) must be finite; found infinite values in "
                    f"{format_rows(data.index[inf][:5], total=int(inf.sum()))}."
                )
    g = data[cohort].fillna(0)
    first = float(g[g > 0].min()) if (g > 0).any() else math.nan
    if math.isnan(first):
        raise DataError(f"cohort column {cohort!r} has no canvassed units to match.")
    units = data.groupby(unit, sort=False)
    unit_g = units[cohort].first().fillna(0)
    treat = (unit_g > 0).to_numpy()
    if treat.all() or (~treat).all():
        raise DataError("comparison_group needs both canvassed and never-canvassed units.")
    cols: dict[str, pd.Series] = {}
    if history:
        pre = data.loc[data[time] < first]
        if pre.empty:
            raise DataError(
                f"no period before the first canvass ({first:g}): there is no vote history to "
                "match on."
            )
        wide = pre.pivot_table(index=unit, columns=time, values=outcome, aggfunc="first")
        for t in wide.columns:
            cols[f"hist_{t:g}" if isinstance(t, (int, float, np.number)) else f"hist_{t}"] = wide[
                t
            ].reindex(unit_g.index)
    for c in covs:
        spread = units[c].agg(["min", "max"])
        if (spread["min"] != spread["max"]).any():
            raise DataError(
                f"covariate {c!r} must be constant within unit {unit!r} (a pre-period "
                "characteristic) to match on it."
            )
        cols[c] = spread["min"]
    X = pd.DataFrame(cols)
    if not len(X.columns):
        raise SpecificationError("nothing to match on: history=False and no covariates.")
    complete = X.notna().all(axis=1).to_numpy()
    n_incomplete = int((~complete).sum())
    if n_incomplete:
        warnings.warn(
            f"{_FN}: {n_incomplete:,} units dropped: missing vote history or covariates.",
            RowsDroppedWarning,
            stacklevel=2,
        )
    Xv = X.to_numpy(dtype=float)
    w = np.zeros(len(X))
    if method == "exact":
        key = pd.MultiIndex.from_frame(X.fillna(-9.99e99)).factorize()[0]
        key = np.where(complete, key, -1)
        nt = np.bincount(key[complete & treat], minlength=key.max() + 1)
        nc = np.bincount(key[complete & ~treat], minlength=key.max() + 1)
        ok = complete & (key >= 0)
        ok &= (nt[np.maximum(key, 0)] > 0) & (nc[np.maximum(key, 0)] > 0)
        kt, kc = int((ok & treat).sum()), int((ok & ~treat).sum())
        w[ok & treat] = 1.0
        ks = key[ok & ~treat]
        w[ok & ~treat] = nt[ks] / nc[ks] * (kc / max(kt, 1))
    else:
        ok = complete.copy()
        Z = np.column_stack([np.ones(int(ok.sum())), Xv[ok]])
        p, _ = _logit(treat[ok].astype(float), Z, np.ones(int(ok.sum())))
        odds = p / (1 - p)
        ww = np.where(treat[ok], 1.0, odds)
        cmask = ~treat[ok]
        ww[cmask] *= treat[ok].sum() / ww[cmask].sum()
        w[ok] = ww
    kept = ok
    bal = []
    for j, name in enumerate(X.columns):
        x = Xv[:, j]
        base = complete
        _mt0, mc0, s0 = _smd(x[base], treat[base], np.ones(int(base.sum())))
        mt1, mc1, s1 = _smd(x[kept], treat[kept], w[kept])
        bal.append((name, mt1, mc0, mc1, s0, s1))
    balance = pd.DataFrame(
        bal,
        columns=[
            "variable",
            "mean_treated",
            "mean_comparison_before",
            "mean_comparison_after",
            "smd_before",
            "smd_after",
        ],
    )
    weight_col = "match_weight"
    unit_w = pd.Series(w, index=X.index)
    keep_units = X.index[kept]
    out = data.loc[data[unit].isin(keep_units)].copy()
    out[weight_col] = out[unit].map(unit_w).to_numpy()
    for name in X.columns:
        out[name] = out[unit].map(X[name]).to_numpy()
    n_dropped_t = int((treat & ~kept).sum())
    n_dropped_c = int((~treat & ~kept).sum())
    if method == "exact" and (n_dropped_t - int((treat & ~complete).sum())) > 0:
        warnings.warn(
            f"{_FN}: {n_dropped_t:,} canvassed units have no comparison unit with the same "
            "pattern and are dropped: the estimate is the ATT of the matched canvassed units.",
            RowsDroppedWarning,
            stacklevel=2,
        )
    return ComparisonGroup(
        data=out,
        weights=weight_col,
        covariates=tuple(X.columns),
        balance=balance,
        n_treated=int((treat & kept).sum()),
        n_comparison=int((~treat & kept).sum()),
        n_treated_dropped=n_dropped_t,
        n_comparison_dropped=n_dropped_c,
        method=method,
    )
