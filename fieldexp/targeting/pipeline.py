"""Where to knock next, in one call: uplift, RATE of candidate rankings, precinct plan.

:func:`evaluate_targeting` is what ``fieldexp target`` and the report's "Where to knock next"
section run (both from the spec's ``[targeting]`` table), so the files and the report show
the same numbers. Candidate rankings of the experiment's voters, each judged by
:func:`fieldexp.rate` (AUTOC and QINI, per assigned voter):

``uplift``
    out-of-fold scores of :func:`fieldexp.uplift` (a voter's score never used that voter's
    outcome);
``past_propensity``
    the least regular voters first: priority :math:`-\\bar v_i`, minus the share of the earlier
    elections (``voted_<election>`` columns) the voter voted in;
``fiftyone``
    a 50+1-style precinct score, every voter getting the score of their precinct: abstention
    times the supporter share, :math:`(1 - \\text{turnout}_p)\\, s_p`, from the precinct
    results when they cover every precinct of the experiment; otherwise the precinct's past
    abstention in the analysis table, :math:`1 - \\overline{\\bar v}_p` (the supporter share
    is then unknown: the notes say so);
``random``
    a seeded uniform number keyed to the voter id (the RATE of a random list is 0 in
    expectation: a sanity check).

The precinct ranking is :func:`fieldexp.precinct_priorities` with the experiment's CACE of a
conversation on the outcome and its contact rate (the ITT of assignment on contact), both
with their standard errors; the plan is its :meth:`~PrecinctPriorities.plan` for the budget.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from fieldexp.analysis.bands import PROPENSITY_BANDS
from fieldexp.errors import DataError, FieldexpError, SpecificationError
from fieldexp.targeting.priorities import KnockPlan, PrecinctPriorities, precinct_priorities
from fieldexp.targeting.rate import RateResult, rate
from fieldexp.targeting.uplift import UpliftResult, uplift

__all__ = ["RankingRate", "TargetingRun", "default_covariates", "evaluate_targeting"]

RANKING_LABELS: dict[str, str] = {
    "uplift": "uplift scores (out of fold)",
    "past_propensity": "least regular voters first",
    "fiftyone": "50+1 precinct score",
    "random": "random list",
}
_VOTED = re.compile(r"^voted_.+")
BAND_CODE = "propensity_band_code"


@dataclass(frozen=True, slots=True)
class RankingRate:
    """The RATE of one ranking (AUTOC and QINI) and, for a ranking other than the first, its
    paired comparison with the first (AUTOC of first minus this one)."""

    name: str
    label: str
    autoc: RateResult
    qini: RateResult
    versus_first: RateResult | None = None

    def beats_random(self) -> bool:
        """True when the AUTOC interval lies above zero."""
        return self.autoc.ci_low > 0


@dataclass(frozen=True, slots=True, eq=False)
class TargetingRun:
    """Everything ``fieldexp target`` writes and the report section shows.

    ``rates``: one :class:`RankingRate` per ranking evaluated; ``skipped``: rankings not
    evaluated, with the reason; ``priorities`` / ``plan``: the precinct ranking and the
    budget's plan (``None`` with the reason in ``notes`` when they cannot be computed).
    """

    outcome: str
    covariates: tuple[str, ...]
    uplift: UpliftResult
    rates: tuple[RankingRate, ...]
    skipped: tuple[tuple[str, str], ...]
    turnout_effect: Any
    contact_rate: Any
    priorities: PrecinctPriorities | None
    plan: KnockPlan | None
    notes: tuple[str, ...]
    nvoters: int
    alpha: float

    def rate_frame(self) -> pd.DataFrame:
        """One row per ranking and target (and the paired comparisons): aggregates only."""
        rows = []
        for r in self.rates:
            for res in (r.autoc, r.qini, r.versus_first):
                if res is None:
                    continue
                row = res.to_frame().iloc[0].to_dict()
                rows.append(
                    {
                        "ranking": r.name
                        if res is not r.versus_first
                        else f"{self.rates[0].name} - {r.name}",
                        "target": res.target,
                        "estimand": res.estimand,
                        **{
                            k: row[k]
                            for k in (
                                "estimate",
                                "std_error",
                                "ci_low",
                                "ci_high",
                                "p_value",
                                "nobs",
                                "nclusters",
                            )
                        },
                        "half_samples": res.reps,
                    }
                )
        return pd.DataFrame(rows)

    def toc_frame(self) -> pd.DataFrame:
        """The TOC curve of every ranking (long format: ranking, q, toc, std_error, CI)."""
        parts = [r.autoc.toc.assign(ranking=r.name) for r in self.rates]
        if not parts:
            return pd.DataFrame(columns=["ranking", "q", "toc", "std_error", "ci_low", "ci_high"])
        out = pd.concat(parts, ignore_index=True)
        return out[["ranking", "q", "toc", "std_error", "ci_low", "ci_high"]]


def default_covariates(table: pd.DataFrame, outcome: str) -> list[str]:
    """Vote history: every ``voted_<election>`` column but the outcome, and the band code."""
    covs = sorted(str(c) for c in table.columns if _VOTED.match(str(c)) and c != outcome)
    if "propensity_band" in table.columns:
        covs.append(BAND_CODE)
    return covs


def _band_codes(table: pd.DataFrame) -> pd.Series:
    codes = {b: float(k) for k, b in enumerate(PROPENSITY_BANDS)}
    band = table["propensity_band"].astype("string")
    out = band.map(codes)
    unknown = band.notna() & out.isna()
    if unknown.any():
        vals = sorted(set(band[unknown].astype(str)))[:5]
        raise DataError(
            f"column 'propensity_band' holds {int(unknown.sum())} value(s) that are not bands "
            f"{list(PROPENSITY_BANDS)} (first: {vals}); list covariates in [targeting] instead."
        )
    return out.astype(float)


def _numeric(table: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """A copy holding ``columns`` as numbers (files are read as text); refuses non-numbers."""
    out = {}
    for c in columns:
        if c not in table.columns:
            raise DataError(
                f"covariate {c!r} ([targeting] covariates) is not a column of the analysis table."
            )
        s = pd.to_numeric(table[c], errors="coerce")
        bad = table[c].notna() & s.isna()
        if bad.any():
            raise DataError(
                f"covariate {c!r} ([targeting] covariates) must be numeric; {int(bad.sum())} "
                "value(s) are not numbers (encode categories as 0/1 columns)."
            )
        out[c] = s.astype(float)
    return pd.DataFrame(out, index=table.index)


def _random_priority(ids: pd.Series, seed: int) -> pd.Series:
    """A uniform number per voter keyed to (seed, id): independent of row order."""

    def u(v: object) -> float:
        h = hashlib.sha256(f"{seed}:{v}".encode()).digest()
        return int.from_bytes(h[:8], "big") / 2.0**64

    return pd.Series([u(v) for v in ids.astype(str)], index=ids.index, dtype=float)


def _abstention_from_history(table: pd.DataFrame, past: list[str], precinct: str) -> pd.Series:
    share = table[past].astype(float).mean(axis=1)
    return 1.0 - share.groupby(table[precinct].astype(str)).mean()


def evaluate_targeting(
    table: pd.DataFrame,
    outcome: str,
    *,
    assignment: str = "assigned",
    treatment: str | None = "contacted",
    blocks: str | None = None,
    clusters: str | None = None,
    covariates: Sequence[str] | None = None,
    learner: Any = "auto",
    folds: int = 5,
    seed: int,
    reps: int = 200,
    rankings: Sequence[str] = ("uplift", "past_propensity", "fiftyone", "random"),
    results: pd.DataFrame | None = None,
    supporters: Sequence[str] = (),
    by: str = "nuance",
    blocs: str | Path | None = None,
    election: str | None = None,
    persuasion_effect: float = 0.0,
    doors: int | None = None,
    volunteer_hours: float | None = None,
    knocks_per_hour: float | None = None,
    alpha: float = 0.05,
    id_column: str = "voter_id",
    precinct_column: str = "precinct_id",
) -> TargetingRun:
    """Score, judge and plan (see the module docstring). ``table`` is not modified.

    Parameters
    ----------
    table : pandas.DataFrame
        The experiment's analysis table, one row per voter.
    outcome, assignment, treatment, blocks, clusters
        Columns, as for :func:`fieldexp.uplift` and :func:`fieldexp.rate`.
    covariates : list of str, optional
        Uplift features; default :func:`default_covariates` (vote history).
    learner, folds, seed
        Passed to :func:`fieldexp.uplift`; ``seed`` also seeds the half-samples and the random
        ranking.
    reps : int
        Half-samples of every RATE.
    rankings : list of str
        Among ``uplift``, ``past_propensity``, ``fiftyone``, ``random``; the first is the one
        the others are compared with (paired AUTOC difference).
    results, supporters, by, blocs, election, persuasion_effect
        Precinct results and the options of :func:`fieldexp.precinct_priorities`.
    doors, volunteer_hours, knocks_per_hour
        The budget of the plan (none: no plan).
    """
    if outcome not in table.columns:
        raise DataError(f"outcome column {outcome!r} is not in the analysis table.")
    notes: list[str] = []
    data = table.copy()
    covs = list(covariates) if covariates is not None else default_covariates(data, outcome)
    if not covs:
        raise SpecificationError(
            "[targeting]: the analysis table has no vote-history columns (voted_<election>, "
            "propensity_band) to use as default covariates; list covariates = [...]."
        )
    if BAND_CODE in covs and BAND_CODE not in data.columns and "propensity_band" in data.columns:
        data[BAND_CODE] = _band_codes(data)
    numeric_cols = [outcome, assignment] + (
        [treatment] if treatment and treatment in data.columns else []
    )
    for c in numeric_cols:
        data[c] = pd.to_numeric(data[c], errors="coerce")
    data[covs] = _numeric(data, covs)
    up = uplift(
        data,
        outcome,
        assignment,
        covs,
        blocks=blocks,
        clusters=clusters,
        folds=folds,
        learner=learner,
        seed=seed,
    )
    kept = up.scores.notna()
    if not kept.all():
        notes.append(f"{int((~kept).sum()):,} voter(s) with a missing value were not scored.")
    data = data[kept]
    past = sorted(str(c) for c in data.columns if _VOTED.match(str(c)) and c != outcome)

    # --------------------------------------------------------------- precinct priorities
    prio: PrecinctPriorities | None = None
    plan: KnockPlan | None = None
    te: Any = None
    cr: Any = None
    if results is None:
        notes.append("No precinct results: precincts are not ranked (give [targeting] results).")
    elif not supporters:
        notes.append("No supporters bloc: precincts are not ranked (give [targeting] supporters).")
    else:
        if treatment and treatment in data.columns:
            from fieldexp.experiment.api import cace, itt

            te = cace(
                data, outcome, treatment, assignment, blocks=blocks, clusters=clusters, alpha=alpha
            )
            cr = itt(data, treatment, assignment, blocks=blocks, clusters=clusters, alpha=alpha)
        else:
            from fieldexp.experiment.api import itt

            te = itt(data, outcome, assignment, blocks=blocks, clusters=clusters, alpha=alpha)
            cr = 1.0
            notes.append(
                "No contact column: the turnout effect is per door assigned (ITT) and the "
                "contact rate is 1."
            )
        prio = precinct_priorities(
            results,
            supporters=list(supporters),
            turnout_effect=te,
            contact_rate=cr,
            persuasion_effect=persuasion_effect,
            election=election,
            by=by,
            blocs=blocs,
            alpha=alpha,
        )
        notes.append(
            "Every precinct gets the same turnout effect and contact rate (estimated once from "
            "the experiment), so the precinct order comes from the supporter shares of the "
            "results; the precincts' intervals move together (one shared estimate)."
        )
        if doors is not None or volunteer_hours is not None:
            plan = prio.plan(
                doors, volunteer_hours=volunteer_hours, knocks_per_hour=knocks_per_hour
            )
        else:
            notes.append(
                "No budget: no plan (give [targeting] doors, or volunteer_hours and knocks_per_hour)."
            )

    # --------------------------------------------------------------- candidate rankings
    priorities: dict[str, pd.Series] = {}
    skipped: list[tuple[str, str]] = []
    for name in rankings:
        if name == "uplift":
            priorities[name] = up.scores[kept]
        elif name == "past_propensity":
            if not past:
                skipped.append((name, "no voted_<election> columns in the analysis table"))
                continue
            priorities[name] = -data[past].apply(pd.to_numeric, errors="coerce").mean(axis=1)
        elif name == "random":
            ids = (
                data[id_column]
                if id_column in data.columns
                else pd.Series(data.index, index=data.index)
            )
            priorities[name] = _random_priority(ids, seed)
        elif name == "fiftyone":
            if precinct_column not in data.columns:
                skipped.append((name, f"no {precinct_column!r} column in the analysis table"))
                continue
            pids = data[precinct_column].astype(str)
            score: pd.Series | None = None
            if prio is not None:
                t = prio.table.set_index("precinct_id")
                if set(pids.unique()) <= set(t.index):
                    per = (1.0 - t["turnout"]) * t["supporter_share"]
                    score = pids.map(per).astype(float)
            if score is None:
                if not past:
                    skipped.append(
                        (
                            name,
                            "the experiment's precincts are not in the results and there is no vote history",
                        )
                    )
                    continue
                notes.append(
                    "50+1 score: the experiment's precincts are not all in the precinct results, "
                    "so the score is the precinct's past abstention from the vote history "
                    "(supporter share unknown)."
                )
                score = pids.map(_abstention_from_history(data, past, precinct_column)).astype(
                    float
                )
            priorities[name] = score
        else:
            raise SpecificationError(f"unknown ranking {name!r}")
    if "uplift" in priorities and data[covs].nunique().le(1).all():
        notes.append("The covariates do not vary: the uplift ranking is a constant.")
    rates: list[RankingRate] = []
    first: pd.Series | None = None
    kw: dict[str, Any] = dict(blocks=blocks, clusters=clusters, reps=reps, seed=seed, alpha=alpha)
    for name, pr in priorities.items():
        pr = pr.rename(name)
        try:
            autoc = rate(data, outcome, assignment, pr, target="AUTOC", **kw)
            qini = rate(data, outcome, assignment, pr, target="QINI", **kw)
            versus = None
            if first is not None:
                versus = rate(data, outcome, assignment, [first, pr], target="AUTOC", **kw)
        except FieldexpError as exc:
            skipped.append((name, str(exc)))
            continue
        if first is None:
            first = pr
        rates.append(RankingRate(name, RANKING_LABELS[name], autoc, qini, versus))
    return TargetingRun(
        outcome=outcome,
        covariates=tuple(covs),
        uplift=up,
        rates=tuple(rates),
        skipped=tuple(skipped),
        turnout_effect=te,
        contact_rate=cr,
        priorities=prio,
        plan=plan,
        notes=tuple(notes),
        nvoters=int(kept.sum()),
        alpha=alpha,
    )
