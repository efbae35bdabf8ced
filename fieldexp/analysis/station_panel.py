r"""Polling-station x election panel from several official results files (``fx.station_panel``).

Each results table (a file read by :func:`fieldexp.io.read_precinct_results`, or the same
canonical ``precinct_results`` DataFrame) gives, per polling station (bureau de vote) ``s`` and
election ``e``, the registered voters :math:`R_{se}` (inscrits), the voters :math:`V_{se}`
(votants) and, per candidate/list, votes. The panel has one row per station and election:

.. math::
    \text{turnout}_{se} = \frac{V_{se}}{R_{se}}, \qquad
    \text{share}_{kse} = \frac{\sum_{c \in k} \text{votes}_{cse}}{\text{expressed}_{se}},

with ``registered`` as the natural weight (weighted means of turnout are pooled turnout).

Station ids. A station is ``<INSEE commune>_<bureau, 4 digits>`` (:func:`fieldexp.io.voters.
bureau_id`): commune codes written ``1001`` (a spreadsheet ate the leading zero), ``01001``,
``2a004`` or ``2A004`` are the same commune; bureau ``1`` is ``0001``. Communes renumber,
merge and split their bureaux between elections. A ``crosswalk`` maps the station of a file to
the panel station (``precinct_id -> station``, optionally per ``election``); several stations
mapped to one are **added up** (registered, voters, expressed, votes), so the totals are
conserved. A station cannot be split (its counts are not known by part): map every part and
the original to one panel station instead. Without a crosswalk the stations present in some
elections only are kept (the panel is unbalanced, which :func:`fieldexp.did` accepts), counted
and named in a warning; ``balanced=True`` sets them aside, counted in the reconciliation.

Conservation: per election, the sums of ``registered`` and ``voters`` over the panel rows plus
those set aside equal the sums over the distinct stations of the input
(:meth:`StationPanel.check`, run before the panel is returned).

Treatment, for :func:`fieldexp.did` / :func:`fieldexp.staggered_did` /
:func:`fieldexp.event_study`: from a station ``assignment`` (stations of the treatment arm are
treated from election ``treated_from`` on, default the last one) or from ``rollout`` (a first
canvassed election or date per station; a date counts for the first election held on or after
it). ``cohort`` is that first treated period (0 = never), ``treated`` = 1 from it on.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fieldexp.analysis.reconciliation import (
    SET_ASIDE,
    USED,
    Reconciliation,
    ReconciliationEntry,
)
from fieldexp.analysis.station_panel_inputs import (
    FUNCTION,
    apply_crosswalk,
    assignment_arms,
    election_dates,
    normalise_station,
    read_crosswalk,
    read_sources,
    rollout_cohorts,
    station_counts,
)
from fieldexp.errors import (
    DataError,
    FieldexpWarning,
    ReconciliationError,
    RowsDroppedWarning,
    SpecificationError,
    did_you_mean,
)
from fieldexp.results import Result

__all__ = ["StationPanel", "normalise_station", "station_panel"]

SHARE_BY = ("nuance", "candidate_label", "list_label", "candidate_key", "bloc", "candidate")


@dataclass(frozen=True, slots=True, eq=False)
class StationPanel(Result):
    """A station x election panel and the accounts of how it was built.

    Attributes
    ----------
    data : DataFrame
        One row per station and election: ``precinct_id, commune_code, election`` (ordered
        categorical of the election labels, first to last), ``election_date, period`` (1..T),
        ``registered, voters, expressed, turnout, base_registered`` (registered at the station's
        first election: a weight constant within station, for :func:`fieldexp.staggered_did`)
        [``votes_<key>, share_<key>``] [``assigned``] [``cohort, treated``]. Pass ``unit="precinct_id"``, ``time="period"``,
        ``outcome="turnout"``, ``weights="registered"``, ``treatment="treated"`` or
        ``cohort="cohort"`` to the DiD estimators.
    elections : DataFrame
        ``election, election_date, period, source, stations, registered, voters``.
    totals : DataFrame
        Conservation per election: stations, registered and voters read (distinct input
        stations), in the panel and set aside.
    partial : DataFrame
        Panel stations missing from some elections: ``precinct_id`` and ``present`` (the
        labels of the elections they appear in), sorted by id.
    reconciliation : Reconciliation
        Input rows used and set aside, per results table (and the assignment/rollout).
    notes : tuple of str
    """

    data: pd.DataFrame
    elections: pd.DataFrame
    totals: pd.DataFrame
    partial: pd.DataFrame
    reconciliation: Reconciliation
    notes: tuple[str, ...] = field(default_factory=tuple)
    unit: str = "precinct_id"
    time: str = "period"
    outcome: str = "turnout"
    weights: str = "registered"

    _table_in_text = True

    @property
    def labels(self) -> tuple[str, ...]:
        """Election labels, first to last."""
        return tuple(str(x) for x in self.elections["election"])

    def check(self) -> None:
        """Raise :class:`ReconciliationError` unless registered and voters are conserved.

        Per election: read (distinct input stations) = in the panel + set aside.
        """
        t = self.totals
        for col in ("registered", "voters"):
            off = (t[f"{col}_read"] != t[f"{col}_panel"] + t[f"{col}_set_aside"]).to_numpy()
            if off.any():
                r = t.loc[off].iloc[0]
                raise ReconciliationError(
                    f"station_panel: election {r['election']!r}: {col} not conserved (read "
                    f"{r[f'{col}_read']}, in the panel {r[f'{col}_panel']}, set aside "
                    f"{r[f'{col}_set_aside']})"
                )
        self.reconciliation.check()

    def to_frame(self) -> pd.DataFrame:
        return self.data.copy()

    def _title(self) -> str:
        return "Station x election panel"

    def _lines(self) -> list[str]:
        d = self.data
        n_st = int(d["precinct_id"].nunique())
        out = [
            f"{n_st:,} stations x {len(self.elections)} elections = {len(d):,} rows "
            f"({', '.join(self.labels)})"
        ]
        if len(self.partial):
            first = ", ".join(self.partial["precinct_id"].head(5))
            out.append(f"{len(self.partial):,} stations missing from some elections (e.g. {first})")
        if "cohort" in d.columns:
            treated = int((d.groupby("precinct_id")["cohort"].first() > 0).sum())
            out.append(f"{treated:,} stations treated within the window")
        out.extend(f"note: {n}" for n in self.notes)
        return out

    def _table(self) -> pd.DataFrame:
        return self.elections


def station_panel(
    results: Any,
    *,
    dates: Mapping[str, Any] | None = None,
    crosswalk: pd.DataFrame | str | Path | None = None,
    assignment: pd.DataFrame | None = None,
    treated_from: str | None = None,
    control: Any = None,
    unassigned: str = "drop",
    rollout: pd.DataFrame | None = None,
    rollout_column: str = "first_treated",
    shares: str | None = None,
    balanced: bool = False,
    mapping: Any = None,
) -> StationPanel:
    r"""Station x election panel of turnout (and vote shares) from several results files.

    Parameters
    ----------
    results : list or mapping
        Results files (read with :func:`fieldexp.io.read_precinct_results`, every 2012-2024
        layout) or canonical ``precinct_results`` DataFrames (``precinct_id`` or
        ``commune_code`` + ``bureau_code``; ``registered, voters`` [``expressed, votes,
        candidate``]; ``election_id``); as a mapping ``{label: file or table}`` the labels
        name the elections (each table must then hold one election).
    dates : mapping, optional
        ``{label: date}``; labels carrying a date (``..._2024_06_30``) need none. Periods
        are the elections in date order.
    crosswalk : DataFrame or CSV path, optional
        ``precinct_id`` (station of a results file) -> ``station`` (panel station), optional
        ``election`` (the mapping applies to that election only). Stations mapped to one
        panel station are added up (see the module docstring); a split is refused.
    assignment : DataFrame, optional
        Station assignment (``precinct_id`` and ``assigned`` 0/1 or ``arm``): stations of the
        treatment arm are treated from ``treated_from`` (default: the last election) on.
    treated_from : str, optional
        The election label of the canvassed election.
    control : optional
        Control arm label (``arm`` column; default ``"0"``/``"control"``).
    unassigned : {"drop", "comparison"}
        Panel stations the assignment does not list: set aside (counted, default) or kept as
        never-treated comparison stations.
    rollout : DataFrame, optional
        ``precinct_id`` and ``rollout_column``: the first canvassed election (label) or a date
        (counts for the first election on or after it); blank = never. Stations not listed
        are never treated. Exclusive with ``assignment``.
    shares : str, optional
        Vote shares by ``"nuance"``, ``"candidate_label"``, ``"list_label"``,
        ``"candidate_key"`` or ``"bloc"`` (never by panel number, which differs between
        constituencies): ``votes_<key>`` and ``share_<key>`` = votes / expressed; a key absent
        from a whole election is missing there, absent from one station is 0.
    balanced : bool
        Set aside stations missing from some elections (counted) instead of keeping them.
    mapping : optional
        ``mapping=`` for the reader (file inputs).

    Returns
    -------
    StationPanel
        ``.data`` for ``fx.did(panel.data, "turnout", "precinct_id", "period", "treated",
        weights="registered", clusters="precinct_id")`` and ``fx.staggered_did(...,
        cohort="cohort")``.

    Raises
    ------
    DataError
        Duplicated station rows, totals that differ across a station's candidate rows, a
        station id that cannot be placed, a crosswalk split, two elections on one date.
    """
    if unassigned not in ("drop", "comparison"):
        raise SpecificationError(
            f"{FUNCTION}: unassigned must be 'drop' or 'comparison'; found {unassigned!r}."
        )
    if shares is not None and shares not in SHARE_BY:
        raise SpecificationError(
            f"{FUNCTION}: shares must be one of {list(SHARE_BY)} (never by panel number: it "
            f"differs between constituencies); found {shares!r}."
            + did_you_mean(str(shares), list(SHARE_BY))
        )
    if shares == "candidate":
        raise SpecificationError(
            f"{FUNCTION}: shares='candidate' is the panel number (N° de panneau), which names "
            "different candidates in different constituencies and elections; use 'nuance', "
            "'candidate_label' or 'list_label'."
        )
    if assignment is not None and rollout is not None:
        raise SpecificationError(
            f"{FUNCTION}: give assignment= (one canvassed election) or rollout= (first "
            "canvassed election per station), not both."
        )
    sources = read_sources(results, mapping)
    cw = read_crosswalk(crosswalk)
    notes: list[str] = []
    parts, vparts = [], []
    rows_read: list[tuple[str, int]] = []
    entries: list[ReconciliationEntry] = []
    label_source: dict[str, str] = {}
    read_rows: list[dict[str, Any]] = []
    for src in sources:
        st, votes, counts = station_counts(src, shares)
        table = f"precinct_results {src.name}"
        rows_read.append((table, counts["rows"]))
        entries.append(ReconciliationEntry(table, USED, "station x election rows", counts["rows"]))
        for e, g in st.groupby("election", sort=False):
            if str(e) in label_source:
                raise DataError(
                    f"{FUNCTION}: election {e!r} is in both {label_source[str(e)]} and "
                    f"{src.name} (the same file twice, or two rounds with one label?)."
                )
            label_source[str(e)] = src.name
            read_rows.append(
                {
                    "election": str(e),
                    "stations_read": len(g),
                    "registered_read": int(g["registered"].sum()),
                    "voters_read": int(g["voters"].sum()),
                }
            )
        parts.append(st)
        if votes is not None:
            vparts.append(votes)
    st = pd.concat(parts, ignore_index=True)
    st["election"] = st["election"].astype(str)
    st["precinct_id"] = st["precinct_id"].astype(object)  # hashed isin/map (arrow strings loop)
    votes_all = pd.concat(vparts, ignore_index=True) if vparts else None
    if votes_all is not None:
        votes_all["election"] = votes_all["election"].astype(str)
    labels = list(label_source)
    if len(labels) < 2:
        notes.append(f"one election only ({labels[0]}): a DiD needs two or more")
    order = election_dates(labels, dates)
    if cw is not None:
        unknown = sorted(set(cw.loc[cw["election"] != "", "election"]) - set(labels))
        if unknown:
            raise SpecificationError(
                f"{FUNCTION}: crosswalk names election {unknown[0]!r}, not in the results "
                f"({', '.join(labels)})." + did_you_mean(unknown[0], labels)
            )
    st, votes_all, n_mapped = apply_crosswalk(st, votes_all, cw)
    st["precinct_id"] = st["precinct_id"].astype(object)
    known = pd.Index(pd.unique(st["precinct_id"].to_numpy(dtype=object)), dtype=object)
    if cw is not None:
        notes.append(
            f"crosswalk: {n_mapped:,} station x election rows renamed or merged into panel "
            "stations (counts added up)"
        )
    el = pd.DataFrame(
        {
            "election": order.index.astype(str),
            "election_date": order.to_numpy(),
            "period": np.arange(1, len(order) + 1, dtype=np.int64),
            "source": [label_source[e] for e in order.index],
        }
    )
    period = dict(zip(el["election"], el["period"], strict=True))
    st["period"] = st["election"].map(period).astype(np.int64)
    # stations present in some elections only
    n_el = len(el)
    presence = st.groupby("precinct_id")["period"].nunique()
    partial_ids = presence.index[presence.to_numpy() < n_el].sort_values()
    partial_ids = pd.Index(partial_ids, dtype=object)
    where = st.loc[st["precinct_id"].isin(partial_ids)].sort_values("period")
    present = where.groupby("precinct_id")["election"].agg(lambda s: ", ".join(s))
    partial = pd.DataFrame(
        {"precinct_id": partial_ids.astype(str), "present": present.reindex(partial_ids).to_numpy()}
    )
    set_aside = pd.Series(False, index=st.index)
    if len(partial_ids):
        first = ", ".join(partial["precinct_id"].head(5))
        if balanced:
            set_aside = st["precinct_id"].isin(partial_ids)
            warnings.warn(
                f"{FUNCTION}: {len(partial_ids):,} stations missing from some elections set "
                f"aside (balanced=True), e.g. {first}; {int(set_aside.sum()):,} station x "
                "election rows, counted in the reconciliation.",
                RowsDroppedWarning,
                stacklevel=2,
            )
        else:
            warnings.warn(
                f"{FUNCTION}: {len(partial_ids):,} of {len(presence):,} stations are missing "
                f"from some elections (renumbered, merged or split bureaux?), e.g. {first}; "
                "they are kept (unbalanced panel). Pass crosswalk= to link renumbered stations, "
                "or balanced=True to set them aside; see .partial.",
                FieldexpWarning,
                stacklevel=2,
            )
            notes.append(
                f"{len(partial_ids):,} stations missing from some elections kept (e.g. {first})"
            )
    # treatment
    assigned_col: pd.Series | None = None
    cohort: pd.Series | None = None
    if assignment is not None:
        if not isinstance(assignment, pd.DataFrame):
            raise SpecificationError(
                f"{FUNCTION}: assignment must be a DataFrame; found {type(assignment).__name__}."
            )
        z, rows = assignment_arms(assignment, control, FUNCTION)
        if cw is not None:
            general = cw.loc[cw["election"] == ""].set_index("precinct_id")["station"]
            new_index = pd.Index(z.index).map(lambda s: general.get(s, s))
            if new_index.duplicated().any():
                raise DataError(
                    f"{FUNCTION}: assignment: stations {list(z.index[new_index.duplicated()])[:3]}"
                    " are merged by the crosswalk into one panel station: assign panel stations."
                )
            z.index, rows.index = new_index, new_index
        target = treated_from if treated_from is not None else str(el["election"].iloc[-1])
        if target not in period:
            raise SpecificationError(
                f"{FUNCTION}: treated_from {target!r} is not an election of the panel "
                f"({', '.join(labels)})." + did_you_mean(target, labels)
            )
        in_panel = pd.Index(z.index, dtype=object).isin(known)
        n_out = int((~in_panel).sum())
        entries.append(
            ReconciliationEntry("assignment", USED, "station in the panel", int(in_panel.sum()))
        )
        if n_out:
            entries.append(
                ReconciliationEntry(
                    "assignment",
                    SET_ASIDE,
                    "station in no results file",
                    n_out,
                    tuple(rows[~in_panel].head(5)),
                )
            )
            warnings.warn(
                f"{FUNCTION}: {n_out:,} assigned stations are in no results file (e.g. "
                f"{', '.join(z.index[~in_panel][:5])}); set aside.",
                RowsDroppedWarning,
                stacklevel=2,
            )
        rows_read.append(("assignment", len(assignment)))
        assigned_col = st["precinct_id"].map(z)
        if unassigned == "drop":
            lost = assigned_col.isna() & ~set_aside
            if lost.any():
                n_st = int(st.loc[lost, "precinct_id"].nunique())
                warnings.warn(
                    f"{FUNCTION}: {n_st:,} stations of the results are not in the assignment "
                    "(outside the experiment); set aside (unassigned='comparison' keeps them as "
                    "never-treated comparison stations).",
                    RowsDroppedWarning,
                    stacklevel=2,
                )
                notes.append(f"{n_st:,} stations outside the assignment set aside")
            set_aside = set_aside | assigned_col.isna()
        else:
            n_cmp = int(st.loc[assigned_col.isna(), "precinct_id"].nunique())
            if n_cmp:
                notes.append(f"{n_cmp:,} stations outside the assignment kept as comparisons")
        assigned_col = assigned_col.fillna(0).astype(np.int64)
        cohort = assigned_col * int(period[target])
    elif rollout is not None:
        if not isinstance(rollout, pd.DataFrame):
            raise SpecificationError(
                f"{FUNCTION}: rollout must be a DataFrame; found {type(rollout).__name__}."
            )
        first_p, rows, n_after = rollout_cohorts(rollout, rollout_column, el)
        in_panel = pd.Index(first_p.index, dtype=object).isin(known)
        rows_read.append(("rollout", len(rollout)))
        entries.append(
            ReconciliationEntry("rollout", USED, "station in the panel", int(in_panel.sum()))
        )
        if (~in_panel).any():
            entries.append(
                ReconciliationEntry(
                    "rollout",
                    SET_ASIDE,
                    "station in no results file",
                    int((~in_panel).sum()),
                    tuple(rows[~in_panel].head(5)),
                )
            )
            warnings.warn(
                f"{FUNCTION}: {int((~in_panel).sum()):,} rollout stations are in no results "
                f"file (e.g. {', '.join(first_p.index[~in_panel][:5])}); set aside.",
                RowsDroppedWarning,
                stacklevel=2,
            )
        if n_after:
            notes.append(f"{n_after:,} stations canvassed after the last election: never treated")
        cohort = st["precinct_id"].map(first_p).fillna(0).astype(np.int64)
    # totals: read vs panel vs set aside (per election, after the crosswalk)
    kept = st.loc[~set_aside.to_numpy()]
    aside = st.loc[set_aside.to_numpy()]
    tot = pd.DataFrame(read_rows).set_index("election").reindex(el["election"])
    for name, frame in (("panel", kept), ("set_aside", aside)):
        grouped = frame.groupby("election")
        tot[f"stations_{name}"] = grouped.size().reindex(tot.index).fillna(0).astype(np.int64)
        for c in ("registered", "voters"):
            tot[f"{c}_{name}"] = grouped[c].sum().reindex(tot.index).fillna(0).astype(np.int64)
    tot = tot.reset_index()
    if set_aside.any():
        entries.append(
            ReconciliationEntry(
                "panel",
                SET_ASIDE,
                "station missing from some elections"
                if balanced and assignment is None
                else "station set aside (missing from some elections or outside the assignment)",
                int(set_aside.sum()),
                tuple(aside["precinct_id"].drop_duplicates().sort_values().head(5)),
            )
        )
    rows_read.append(("panel", len(st)))
    entries.append(ReconciliationEntry("panel", USED, "station x election rows", len(kept)))
    # the panel
    data = kept.copy()
    reg = data["registered"].astype("float64")
    data["turnout"] = np.where(reg > 0, data["voters"] / reg.where(reg > 0), np.nan)
    zero = int((reg == 0).sum())
    if zero:
        notes.append(f"{zero:,} station x election rows with 0 registered: turnout missing")
    over = int((data["voters"] > data["registered"]).sum())
    if over:
        warnings.warn(
            f"{FUNCTION}: {over:,} station x election rows have more voters than registered "
            "(turnout above 1); kept as published.",
            FieldexpWarning,
            stacklevel=2,
        )
        notes.append(f"{over:,} rows with voters > registered kept as published")
    if votes_all is not None:
        wide = votes_all.pivot_table(
            index=["precinct_id", "election"], columns="key", values="votes", aggfunc="sum"
        )
        in_election = (
            votes_all.pivot_table(
                index="election", columns="key", values="votes", aggfunc="size", fill_value=0
            )
            > 0
        )
        wide = wide.fillna(0)
        keys_sorted = sorted(wide.columns)
        data = data.merge(
            wide[keys_sorted].add_prefix("votes_").reset_index(),
            on=["precinct_id", "election"],
            how="left",
        )
        exp = data["expressed"].astype("float64")
        for k in keys_sorted:
            exists = data["election"].map(in_election[k]).fillna(False).to_numpy(dtype=bool)
            v = data[f"votes_{k}"].fillna(0).where(exists)
            data[f"votes_{k}"] = v
            data[f"share_{k}"] = np.where(exp > 0, v / exp.where(exp > 0), np.nan)
    if assigned_col is not None:
        data["assigned"] = assigned_col.loc[kept.index].to_numpy()
    if cohort is not None:
        data["cohort"] = cohort.loc[kept.index].to_numpy()
        data["treated"] = ((data["cohort"] > 0) & (data["period"] >= data["cohort"])).astype(
            np.int8
        )
    # registered at the station's first election: a weight constant within station (what
    # fx.staggered_did needs; turnout regressions may weight by the current registered)
    first_reg = data.sort_values("period").groupby("precinct_id")["registered"].first()
    data["base_registered"] = data["precinct_id"].map(first_reg).astype(np.int64)
    data["commune_code"] = data["precinct_id"].astype("str").str[:5]  # INSEE codes: 5 chars
    data["election_date"] = data["election"].map(
        dict(zip(el["election"], el["election_date"], strict=True))
    )
    data["election"] = pd.Categorical(
        data["election"], categories=list(el["election"]), ordered=True
    )
    first_cols = ["precinct_id", "commune_code", "election", "election_date", "period"]
    data = data[first_cols + [c for c in data.columns if c not in first_cols]]
    data = data.sort_values(["precinct_id", "period"], kind="stable").reset_index(drop=True)
    data["precinct_id"] = data["precinct_id"].astype("str")
    el["stations"] = el["election"].map(data.groupby("election", observed=True).size()).fillna(0)
    el["stations"] = el["stations"].astype(np.int64)
    el["registered"] = el["election"].map(tot.set_index("election")["registered_panel"])
    el["voters"] = el["election"].map(tot.set_index("election")["voters_panel"])
    recon = Reconciliation(
        rows_read=tuple(rows_read),
        entries=tuple(entries),
        election=", ".join(el["election"]),
        notes=tuple(notes),
    )
    panel = StationPanel(
        data=data,
        elections=el,
        totals=tot,
        partial=partial.reset_index(drop=True),
        reconciliation=recon,
        notes=tuple(notes),
    )
    panel.check()
    return panel
