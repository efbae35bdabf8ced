"""Precinct priorities, 50+1 style: expected net votes per door knocked, with intervals.

For polling station (precinct) :math:`p`, a door knocked there yields in expectation

.. math::

    v_p = c_p \\,\\big(\\tau_{T,p}\\,(2 s_p - 1) + \\tau_P\\big)

net votes, where

* :math:`c_p` is the contact rate (conversations per door knocked),
* :math:`\\tau_{T,p}` the effect of a conversation on turnout (per contacted voter: a CACE),
  overall or, given effects by subgroup (e.g. propensity band) and the voter file, the mix of
  subgroups among the doors of :math:`p`: :math:`\\tau_{T,p} = \\sum_b w_{pb} \\tau_b`,
* :math:`s_p` the share of our supporters among the voters mobilised, taken by default from the
  last election as the share of our bloc among valid votes (*exprimés*) in :math:`p`,
* :math:`\\tau_P` the persuasion effect of a conversation on the net margin (default 0).

Assumptions, each overridable by an argument: voters mobilised in :math:`p` vote like the
precinct did (``supporter_share=``); the effect per conversation does not vary by precinct
except through the subgroup mix (``band_effects=``); the contact rate is the same everywhere
(``contact_rate=`` accepts a per-precinct Series); doors available are the voters of the target
group on the voter file, else the registered voters (``doors=``).

Intervals: the effects are estimated once for all precincts, so with independent estimates of
:math:`\\tau_T` (or the :math:`\\tau_b`), :math:`\\tau_P` and :math:`c` the delta method gives

.. math::

    \\operatorname{Var}(v_p) = c_p^2\\big[(2s_p - 1)^2 \\operatorname{Var}(\\tau_{T,p})
        + \\operatorname{Var}(\\tau_P)\\big]
        + \\big(\\tau_{T,p}(2s_p - 1) + \\tau_P\\big)^2 \\operatorname{Var}(c),

with :math:`\\operatorname{Var}(\\tau_{T,p}) = \\sum_b w_{pb}^2 \\operatorname{Var}(\\tau_b)`,
and a plan's total :math:`\\sum_p d_p v_p` (doors :math:`d_p`) is linear in the same few
estimates, so its variance is exact under the same assumptions (the precincts' errors are
perfectly correlated through the shared estimates, never averaged away).
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fieldexp._validate import check_probability
from fieldexp.errors import DataError, FieldexpWarning, SpecificationError, format_rows
from fieldexp.results import Estimates, Result

__all__ = [
    "Effect",
    "KnockPlan",
    "PrecinctPriorities",
    "load_blocs",
    "precinct_priorities",
]

BY_CHOICES: tuple[str, ...] = ("nuance", "candidate", "party")


@dataclass(frozen=True, slots=True)
class Effect:
    """An estimate and its standard error (anything with ``estimate`` and ``std_error`` works)."""

    estimate: float
    std_error: float = 0.0


def _effect(value: object, argument: str) -> Effect:
    if isinstance(value, Effect):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return Effect(float(value), 0.0)
    if isinstance(value, tuple) and len(value) == 2:
        return Effect(float(value[0]), float(value[1]))
    est = getattr(value, "estimate", None)
    se = getattr(value, "std_error", None)
    if est is not None and se is not None:
        return Effect(float(est), float(se))
    raise SpecificationError(
        f"The {argument!r} parameter of precinct_priorities must be a number, an "
        "(estimate, std_error) pair or an estimate with .estimate and .std_error (e.g. the "
        f"result of fx.cace). Got {type(value).__name__} instead."
    )


def _key(text: object) -> str:
    s = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode()
    return " ".join(s.lower().replace("_", " ").split())


def load_blocs(source: str | Path | pd.DataFrame | Mapping[str, str] | None = None) -> pd.DataFrame:
    """The mapping of nuances, candidates and parties to blocs (kind, code, bloc).

    With no argument, the shipped table (French nuances since 2012 and presidential candidates
    2012-2022, US parties); a CSV path, DataFrame or ``{code: bloc}`` dict replaces it (a dict
    applies to every kind).
    """
    if source is None:
        text = resources.files("fieldexp.targeting").joinpath("blocs/blocs.csv").read_text("utf-8")
        from io import StringIO

        table = pd.read_csv(StringIO(text), dtype=str, keep_default_na=False)
    elif isinstance(source, Mapping):
        rows = [(k, str(c), str(b)) for c, b in source.items() for k in BY_CHOICES]
        table = pd.DataFrame(rows, columns=["kind", "code", "bloc"])
    elif isinstance(source, pd.DataFrame):
        table = source.astype(str)
    else:
        try:
            table = pd.read_csv(source, dtype=str, keep_default_na=False)
        except (OSError, ValueError) as exc:
            raise DataError(f"cannot read the blocs table {str(source)!r}: {exc}") from None
    missing = {"kind", "code", "bloc"} - set(table.columns)
    if missing:
        raise DataError(
            f"the blocs table needs columns kind, code, bloc; missing {sorted(missing)}."
        )
    out = table[["kind", "code", "bloc"]].copy()
    out["key"] = out["code"].map(_key)
    return out


def _bloc_of(labels: pd.Series, blocs: pd.DataFrame, by: str) -> pd.Series:
    table = blocs[blocs["kind"] == by]
    lookup = dict(zip(table["key"], table["bloc"], strict=True))
    keys = labels.map(_key)
    if by != "candidate":
        return keys.map(lookup)

    # candidate labels are "LAST First" (or "First LAST"): match a mapped surname as a word run
    def match(label: str) -> object:
        if label in lookup:
            return lookup[label]
        words = f" {label} "
        hits = [b for k, b in lookup.items() if f" {k} " in words]
        return hits[0] if len(set(hits)) == 1 else None

    return keys.map(match)


@dataclass(frozen=True)
class KnockPlan(Result):
    """Doors allocated to precincts in priority order, and what they are expected to yield.

    Attributes
    ----------
    allocation : pandas.DataFrame
        ``precinct_id, doors, net_votes`` for every precinct that gets doors.
    doors : int
        Doors in the plan.
    net_votes, std_error, ci_low, ci_high : float
        Expected net votes of the plan and its interval (effects' uncertainty propagated).
    curve : pandas.DataFrame
        ``doors, net_votes, ci_low, ci_high`` as doors grow along the priority order (the
        diminishing-returns curve).
    """

    allocation: pd.DataFrame
    doors: int
    net_votes: float
    std_error: float
    ci_low: float
    ci_high: float
    curve: pd.DataFrame
    alpha: float

    def _title(self) -> str:
        return f"Knock plan: {self.doors:,} doors in {len(self.allocation):,} precinct(s)"

    def _lines(self) -> list[str]:
        lvl = round(100 * (1 - self.alpha))
        return [
            f"expected net votes {self.net_votes:,.1f}  ({lvl}% CI {self.ci_low:,.1f} to "
            f"{self.ci_high:,.1f})"
        ]

    def _estimates(self) -> Estimates:
        return Estimates.one("net votes", self.net_votes, self.std_error, math.inf)

    def to_frame(self) -> pd.DataFrame:
        """The allocation (aggregates per precinct)."""
        return self.allocation.copy()

    def _plot(self, ax: Any) -> None:
        """Net votes against doors with the interval band."""
        c = self.curve
        ax.fill_between(c["doors"], c["ci_low"], c["ci_high"], alpha=0.25, linewidth=0)
        ax.plot(c["doors"], c["net_votes"], linewidth=1.5)
        ax.set_xlabel("doors knocked", usetex=False)
        ax.set_ylabel("expected net votes", usetex=False)


@dataclass(frozen=True)
class PrecinctPriorities(Result):
    """Precincts ranked by expected net votes per door knocked.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per precinct: ``rank, precinct_id, registered, turnout, supporter_share,
        turnout_effect, doors, net_votes_per_door, std_error, ci_low, ci_high,
        expected_net_votes`` (all doors knocked).
    supporters : tuple of str
        The bloc(s) counted as supporters.
    alpha : float
    """

    table: pd.DataFrame
    supporters: tuple[str, ...]
    alpha: float
    _tau_t: tuple[tuple[str, float, float], ...]
    _tau_p: Effect
    _contact: Effect

    def to_frame(self) -> pd.DataFrame:
        """The ranked table."""
        return self.table.copy()

    def _title(self) -> str:
        return (
            f"Precinct priorities ({len(self.table):,} precincts; supporters: "
            f"{', '.join(self.supporters)})"
        )

    def _lines(self) -> list[str]:
        return [
            f"{r.rank:>4}  {r.precinct_id}: {r.net_votes_per_door:+.4f} net votes per door "
            f"[{r.ci_low:+.4f}, {r.ci_high:+.4f}], {int(float(str(r.doors))):,} doors"
            for r in self.table.head(5).itertuples()
        ]

    def _table(self) -> pd.DataFrame | None:
        return None  # the lines show the top five; to_frame() has every precinct

    def _estimates(self) -> Estimates:
        t = self.table
        return Estimates(
            labels=tuple(t["precinct_id"].tolist()),
            estimate=t["net_votes_per_door"].to_numpy(dtype=float),
            std_error=t["std_error"].to_numpy(dtype=float),
            df=np.full(len(t), math.inf),
            label_name="precinct_id",
        )

    def plan(
        self,
        doors: int | None = None,
        *,
        volunteer_hours: float | None = None,
        knocks_per_hour: float | None = None,
    ) -> KnockPlan:
        """Allocate ``doors`` (or ``volunteer_hours * knocks_per_hour``) greedily by priority.

        Every door in a precinct is worth the same, so filling precincts in decreasing order of
        net votes per door (never past their doors available, never where the expected value is
        negative) maximises the expected net votes; the curve shows the returns diminishing.
        """
        if doors is None:
            if volunteer_hours is None or knocks_per_hour is None:
                raise SpecificationError(
                    "plan() needs doors=, or volunteer_hours= and knocks_per_hour=."
                )
            doors = math.floor(float(volunteer_hours) * float(knocks_per_hour))
        if isinstance(doors, bool) or not isinstance(doors, (int, np.integer)) or doors < 0:
            raise SpecificationError(
                f"The 'doors' parameter of plan must be an integer >= 0. Got {doors!r} instead."
            )
        t = self.table[self.table["net_votes_per_door"] > 0]
        cap = t["doors"].to_numpy(dtype=np.int64)
        cum = np.cumsum(cap)
        take = np.clip(doors - np.r_[0, cum[:-1]], 0, cap)
        chosen = t.assign(doors=take)[take > 0]
        alloc = chosen[["precinct_id", "doors"]].copy()
        alloc["net_votes"] = chosen["doors"] * chosen["net_votes_per_door"]
        total, se = self._total(chosen)
        z = _z(self.alpha)
        # the curve: after each precinct is filled
        rows = []
        for k in range(1, len(chosen) + 1):
            part = chosen.iloc[:k]
            tot, s = self._total(part)
            rows.append((int(part["doors"].sum()), tot, tot - z * s, tot + z * s))
        curve = pd.DataFrame(rows, columns=["doors", "net_votes", "ci_low", "ci_high"])
        curve = pd.concat(
            [pd.DataFrame([(0, 0.0, 0.0, 0.0)], columns=curve.columns), curve], ignore_index=True
        )
        return KnockPlan(
            allocation=alloc.reset_index(drop=True),
            doors=int(alloc["doors"].sum()),
            net_votes=total,
            std_error=se,
            ci_low=total - z * se,
            ci_high=total + z * se,
            curve=curve,
            alpha=self.alpha,
        )

    def _total(self, part: pd.DataFrame) -> tuple[float, float]:
        """Total net votes of ``doors`` in ``part`` and its delta-method standard error."""
        d = part["doors"].to_numpy(dtype=float)
        lean = 2.0 * part["supporter_share"].to_numpy(dtype=float) - 1.0
        c = part["contact_rate"].to_numpy(dtype=float)
        total = float(np.sum(d * part["net_votes_per_door"].to_numpy(dtype=float)))
        var = 0.0
        for name, _, se in self._tau_t:
            w = part[f"w_{name}"].to_numpy(dtype=float) if name != "all" else 1.0
            var += float(np.sum(d * c * lean * w)) ** 2 * se**2
        var += float(np.sum(d * c)) ** 2 * self._tau_p.std_error**2
        if self._contact.std_error > 0:
            per_contact = part["net_votes_per_door"].to_numpy(dtype=float) / np.where(c > 0, c, 1.0)
            var += float(np.sum(d * per_contact)) ** 2 * self._contact.std_error**2
        return total, math.sqrt(var)


def _z(alpha: float) -> float:
    from scipy import stats

    return float(stats.norm.isf(alpha / 2.0))


def precinct_priorities(
    results: pd.DataFrame,
    *,
    supporters: str | Sequence[str],
    turnout_effect: object = None,
    contact_rate: object,
    persuasion_effect: object = 0.0,
    election: str | None = None,
    by: str = "nuance",
    blocs: str | Path | pd.DataFrame | Mapping[str, str] | None = None,
    voters: pd.DataFrame | None = None,
    target: str | Sequence[str] | None = None,
    band: str = "propensity_band",
    band_effects: Mapping[str, object] | None = None,
    supporter_share: pd.Series | None = None,
    doors: pd.Series | None = None,
    alpha: float = 0.05,
) -> PrecinctPriorities:
    """Rank precincts by expected net votes per door knocked (see the module docstring).

    Parameters
    ----------
    results : pandas.DataFrame
        Canonical ``precinct_results`` (from :func:`fieldexp.io.read_precinct_results`): one row
        per station and candidate/list, with ``registered``, ``voters``, ``expressed``, ``votes``.
    supporters : str or list of str
        Bloc(s) whose voters are ours (e.g. ``"gauche"``, ``"democratic"``).
    turnout_effect : EffectResult, (estimate, std_error) or float
        Effect of a conversation on turnout (per contacted voter: ``fx.cace(...)``). Not needed
        when ``band_effects`` is given.
    contact_rate : float, EffectResult, (estimate, std_error) or Series by precinct
        Conversations per door knocked.
    persuasion_effect : as ``turnout_effect``
        Effect of a conversation on the net margin among voters who vote anyway (default 0).
    election : str, optional
        Election id to use when ``results`` holds several.
    by : {"nuance", "candidate", "party"}
        Which label maps to blocs: the nuance code, the candidate name, or a party code (US).
    blocs : path, DataFrame or dict, optional
        Replaces the shipped mapping (:func:`load_blocs`).
    voters : pandas.DataFrame, optional
        Voter file with ``precinct_id`` (and ``band`` for subgroup effects): doors available are
        its voters (in ``target`` bands), and the band mix weights ``band_effects``.
    target : str or list of str, optional
        Bands to knock (e.g. ``"intermittent"``); default every voter.
    band_effects : dict, optional
        ``{band: effect}``: turnout effect per conversation by band.
    supporter_share, doors : Series indexed by precinct_id, optional
        Override the supporter share or the doors available.
    alpha : float
        Intervals at ``1 - alpha``.
    """
    fn = "precinct_priorities"
    alpha = check_probability(alpha, argument="alpha", function=fn)
    if by not in BY_CHOICES:
        raise SpecificationError(
            f"The 'by' parameter of {fn} must be one of {', '.join(map(repr, BY_CHOICES))}. Got {by!r} instead."
        )
    if not isinstance(results, pd.DataFrame) or results.empty:
        raise SpecificationError(f"The 'results' parameter of {fn} must be a non-empty DataFrame.")
    need = {"precinct_id", "registered", "voters", "expressed", "votes"}
    label_col = {"nuance": "nuance", "candidate": "candidate_label", "party": "nuance"}[by]
    if supporter_share is None:
        need.add(label_col)
    missing = sorted(need - set(results.columns))
    if missing:
        raise DataError(f"results (argument 'results' of {fn}) lacks column(s) {missing}.")
    res = results
    if "election_id" in res.columns:
        elections = sorted(res["election_id"].astype(str).unique())
        if election is None and len(elections) > 1:
            raise SpecificationError(
                f"results hold {len(elections)} elections ({', '.join(elections[:5])}); pass "
                "election= to choose the one that measures support."
            )
        if election is not None:
            if election not in elections:
                raise DataError(f"election {election!r} is not in results; found {elections[:10]}.")
            res = res[res["election_id"].astype(str) == election]
    sup = (supporters,) if isinstance(supporters, str) else tuple(supporters)
    # one row per precinct
    per = res.groupby("precinct_id", sort=True).agg(
        registered=("registered", "first"),
        voters=("voters", "first"),
        expressed=("expressed", "first"),
    )
    if supporter_share is None:
        table = load_blocs(blocs)
        known = set(table["bloc"])
        unknown_sup = [s for s in sup if s not in known]
        if unknown_sup:
            raise SpecificationError(
                f"supporters {unknown_sup} are not blocs of the mapping; blocs are {sorted(known)}."
            )
        bloc = _bloc_of(res[label_col].astype(str), table, by)
        unmapped = res.loc[bloc.isna(), label_col].astype(str)
        if len(unmapped):
            counts = unmapped.value_counts()
            import warnings

            lost = float(res.loc[bloc.isna(), "votes"].sum() / max(res["votes"].sum(), 1))
            warnings.warn(
                f"{fn}: {len(counts)} {by} label(s) are not in the blocs mapping and count as "
                f"not ours ({100 * lost:.1f}% of votes): "
                + ", ".join(f"{k!r} ({v})" for k, v in counts.head(10).items())
                + ". Map them with blocs={'<label>': '<bloc>', ...}.",
                FieldexpWarning,
                stacklevel=2,
            )
        ours = res["votes"].where(bloc.isin(sup), 0)
        share = ours.groupby(res["precinct_id"]).sum() / per["expressed"].where(
            per["expressed"] > 0
        )
    else:
        share = supporter_share.reindex(per.index)
    if share.isna().any():
        bad = per.index[share.isna().to_numpy()]
        raise DataError(
            f"no supporter share for precinct(s) {format_rows(bad)} (no valid votes, or missing "
            "from supporter_share)."
        )
    per["supporter_share"] = share.to_numpy(dtype=float)
    per["turnout"] = per["voters"] / per["registered"].where(per["registered"] > 0)

    # doors and band mix
    tau_list: list[tuple[str, float, float]]
    if voters is not None:
        if "precinct_id" not in voters.columns:
            raise DataError(f"voters (argument 'voters' of {fn}) needs a 'precinct_id' column.")
        v = voters
        if (target is not None or band_effects is not None) and band not in v.columns:
            raise DataError(f"voters lacks the band column {band!r} (argument 'band').")
        if target is not None:
            tg = (target,) if isinstance(target, str) else tuple(target)
            v = v[v[band].astype(str).isin(tg)]
        per["doors"] = (
            v.groupby(v["precinct_id"].astype(str))
            .size()
            .reindex(per.index.astype(str))
            .fillna(0)
            .to_numpy()
        )
    else:
        per["doors"] = per["registered"].astype(float)
    if doors is not None:
        per["doors"] = doors.reindex(per.index).fillna(0).to_numpy(dtype=float)
    per["doors"] = per["doors"].astype(np.int64)

    if band_effects is not None:
        if voters is None:
            raise SpecificationError("band_effects= needs voters= (the band mix of each precinct).")
        effects = {str(b): _effect(e, f"band_effects[{b!r}]") for b, e in band_effects.items()}
        mix = pd.crosstab(v["precinct_id"].astype(str), v[band].astype(str), normalize="index")
        absent = sorted(set(mix.columns) - set(effects))
        if absent:
            raise SpecificationError(
                f"band_effects has no effect for band(s) {absent} present among the doors."
            )
        mix = mix.reindex(index=per.index.astype(str), columns=list(effects), fill_value=0.0)
        tau = np.zeros(len(per))
        for b, e in effects.items():
            per[f"w_{b}"] = mix[b].to_numpy()
            tau += per[f"w_{b}"].to_numpy() * e.estimate
        per["turnout_effect"] = tau
        tau_list = [(b, e.estimate, e.std_error) for b, e in effects.items()]
    else:
        if turnout_effect is None:
            raise SpecificationError(f"{fn} needs turnout_effect= (or band_effects= with voters=).")
        te = _effect(turnout_effect, "turnout_effect")
        per["turnout_effect"] = te.estimate
        tau_list = [("all", te.estimate, te.std_error)]
    tp = _effect(persuasion_effect, "persuasion_effect")
    if isinstance(contact_rate, pd.Series):
        per["contact_rate"] = contact_rate.reindex(per.index).to_numpy(dtype=float)
        if per["contact_rate"].isna().any():
            raise DataError("contact_rate Series lacks some precincts.")
        ce = Effect(float("nan"), 0.0)
    else:
        ce = _effect(contact_rate, "contact_rate")
        per["contact_rate"] = ce.estimate
    if ((per["contact_rate"] < 0) | (per["contact_rate"] > 1)).any():
        raise SpecificationError("contact_rate must lie between 0 and 1 (conversations per door).")
    lean = 2.0 * per["supporter_share"] - 1.0
    c = per["contact_rate"]
    per["net_votes_per_door"] = c * (per["turnout_effect"] * lean + tp.estimate)
    var_t = np.zeros(len(per))
    for name, _, se in tau_list:
        w = per[f"w_{name}"].to_numpy() if name != "all" else 1.0
        var_t = var_t + (w**2) * se**2
    per_contact = per["turnout_effect"] * lean + tp.estimate
    var = c**2 * (lean**2 * var_t + tp.std_error**2) + per_contact**2 * ce.std_error**2
    per["std_error"] = np.sqrt(var)
    z = _z(alpha)
    per["ci_low"] = per["net_votes_per_door"] - z * per["std_error"]
    per["ci_high"] = per["net_votes_per_door"] + z * per["std_error"]
    per["expected_net_votes"] = per["doors"] * per["net_votes_per_door"]
    per = per.reset_index()
    per["precinct_id"] = per["precinct_id"].astype(str)
    # ranked by value per door; ties broken by precinct id so the order never depends on rows
    per = per.sort_values(
        ["net_votes_per_door", "precinct_id"], ascending=[False, True], kind="mergesort"
    )
    per.insert(0, "rank", np.arange(1, len(per) + 1))
    return PrecinctPriorities(
        table=per.reset_index(drop=True),
        supporters=sup,
        alpha=alpha,
        _tau_t=tuple(tau_list),
        _tau_p=tp,
        _contact=ce,
    )
