"""Polling-station (bureau de vote) randomisation from official results.

A French canvass randomises *stations*, not voters (Pons 2018): the units are the bureaux
of the Ministry of the Interior results file (one row per bureau and candidate, read by
:func:`fieldexp.io.read_precinct_results`). This module turns those results into the unit
table a :class:`~fieldexp.design.spec.Design` randomises, and back into the field:

* :func:`station_table` — one row per station, its commune, département and
  circonscription, the registered voters and the turnout of every election of the results
  (and of past results files), ``turnout_<election>`` = votants / inscrits;
* :func:`restrict_stations` — the stations a campaign canvasses (communes,
  circonscriptions); the others are *restricted out* and stay in the assignment file with
  their reason, so every station of the results is accounted for;
* :func:`assign_stations` — :meth:`Design.assign` on the eligible stations, with the
  restricted-out ones added back (``arm`` missing, ``excluded_reason`` set);
* :func:`station_walk_list` — the doors to knock: the households of an REU extract living
  in the stations assigned to a treatment arm (one row per household, never a name).
"""

from __future__ import annotations

import re
import unicodedata
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from fieldexp.design.assign import require_columns
from fieldexp.design.spec import ArmLabel, Design
from fieldexp.errors import (
    DataError,
    FieldexpWarning,
    SpecificationError,
    did_you_mean,
    format_rows,
)

__all__ = [
    "StationWalkList",
    "assign_stations",
    "circonscription_code",
    "restrict_stations",
    "station_table",
    "station_walk_list",
]

#: columns of the results that vary by candidate (never station covariates)
CANDIDATE_COLUMNS = (
    "candidate",
    "candidate_label",
    "candidate_key",
    "nuance",
    "votes",
    "sex",
    "last_name",
    "first_name",
    "list_short",
    "list_label",
)
_INSEE = re.compile(r"^(\d{5}|2[AB]\d{3})$")
_ELECTION = re.compile(r"[^0-9A-Za-z_]+")


def circonscription_code(department: object, constituency: object) -> str | None:
    """``"<département>-<NN>"`` (e.g. ``"75-01"``), the key of a legislative circonscription.

    Circonscription numbers restart in every département, so the number alone is no key.
    """
    if department is None or constituency is None:
        return None
    if pd.isna(department) or pd.isna(constituency):  # type: ignore[call-overload]
        return None
    d = str(department).strip().upper()
    c = str(constituency).strip()
    if not d or not c:
        return None
    if c.isdigit():
        c = f"{int(c):02d}"
    return f"{d}-{c}"


def _turnout_name(election: object) -> str:
    text = unicodedata.normalize("NFKD", str(election)).encode("ascii", "ignore").decode()
    tag = _ELECTION.sub("_", text).strip("_")
    return f"turnout_{tag}" if tag else "turnout_results"


def _per_station(results: pd.DataFrame, what: str) -> pd.DataFrame:
    """One row per (station, election): registered, voters; turnout = voters / registered."""
    require_columns(
        results,
        {f"{what} (station)": "precinct_id", f"{what} (registered)": "registered"},
    )
    require_columns(results, {f"{what} (voters)": "voters"})
    eid = (
        results["election_id"]
        if "election_id" in results.columns
        else pd.Series("", index=results.index)
    )
    frame = pd.DataFrame(
        {
            "precinct_id": results["precinct_id"].astype("str").to_numpy(),
            "election_id": eid.astype("str").to_numpy(),
            "registered": pd.to_numeric(results["registered"]).to_numpy(dtype="float64"),
            "voters": pd.to_numeric(results["voters"]).to_numpy(dtype="float64"),
        }
    )
    # candidate rows repeat the station's counts: one row per station and election
    counts = frame.groupby(["precinct_id", "election_id"], sort=True).agg(
        registered=("registered", "first"),
        voters=("voters", "first"),
        registered_max=("registered", "max"),
        registered_min=("registered", "min"),
    )
    differ = counts["registered_max"] != counts["registered_min"]
    if differ.any():
        first = counts.index[differ.to_numpy()][0]
        raise DataError(
            f"{what}: station {first[0]!r} has several different registered counts in election "
            f"{first[1]!r} ({int(differ.sum())} station(s)); each bureau must appear once per "
            "election"
        )
    counts = counts.drop(columns=["registered_max", "registered_min"]).reset_index()
    with np.errstate(divide="ignore", invalid="ignore"):
        counts["turnout"] = np.where(
            counts["registered"] > 0, counts["voters"] / counts["registered"], np.nan
        )
    return counts


def station_table(
    results: pd.DataFrame,
    *,
    past: Sequence[pd.DataFrame] = (),
    election: str | None = None,
) -> pd.DataFrame:
    """One row per polling station of ``results``, sorted by ``precinct_id``.

    Parameters
    ----------
    results : DataFrame
        ``precinct_results`` table (:func:`fieldexp.io.read_precinct_results`): the stations
        randomised.
    past : sequence of DataFrame
        More ``precinct_results`` tables (earlier elections). Their turnout joins the
        stations by ``precinct_id``; stations a past file lacks (renumbered or new bureaux)
        get a missing value, counted in one :class:`FieldexpWarning` per file.
    election : str, optional
        The election of ``results`` whose ``registered`` is the station's size (default:
        the first election id in sorted order).

    Returns
    -------
    DataFrame
        The station-level columns of ``results`` (``commune_code``, ``department_code``,
        ``bureau_code``, ``constituency_code``... ; never the candidate columns), plus
        ``circonscription`` (``"<département>-<NN>"``, legislative files only),
        ``registered`` (inscrits) and, for every election :math:`e` of ``results`` and
        ``past``, ``turnout_<e>`` :math:`= \\text{votants}_{s,e} / \\text{inscrits}_{s,e}`.
        The result does not depend on the row order of the inputs.
    """
    if not isinstance(results, pd.DataFrame):
        raise SpecificationError(
            f"results: expected the precinct_results DataFrame; found {type(results).__name__}"
        )
    if len(results) == 0:
        raise DataError("results: no rows (no polling station to randomise)")
    current = _per_station(results, "results")
    elections = sorted(current["election_id"].unique())
    size_of = election if election is not None and election in elections else elections[0]
    # station-level columns: the first row of each station in (station, election) order
    cols = [c for c in results.columns if c not in CANDIDATE_COLUMNS and c not in ("registered",)]
    order_cols = ["precinct_id"] + (["election_id"] if "election_id" in results.columns else [])
    keyed = results[cols].assign(precinct_id=results["precinct_id"].astype("str"))
    if "election_id" in keyed.columns:
        keyed = keyed.assign(_first=(keyed["election_id"].astype("str") != size_of).astype("int8"))
        order_cols = ["precinct_id", "_first", "election_id"]
    keyed = keyed.sort_values(order_cols, kind="stable")
    stations = keyed.drop_duplicates("precinct_id").drop(columns=["_first"], errors="ignore")
    stations = stations.drop(
        columns=["voters", "abstentions", "blank", "null", "expressed"], errors="ignore"
    )
    stations = stations.reset_index(drop=True)
    size = current[current["election_id"] == size_of].set_index("precinct_id")["registered"]
    stations["registered"] = stations["precinct_id"].map(size).to_numpy()
    if "department_code" in stations.columns and "constituency_code" in stations.columns:
        stations["circonscription"] = [
            circonscription_code(d, c)
            for d, c in zip(stations["department_code"], stations["constituency_code"], strict=True)
        ]
    frames = [("results", current)] + [
        (f"past[{i}]", _per_station(p, f"past[{i}]")) for i, p in enumerate(past)
    ]
    seen: dict[str, str] = {}
    for what, per in frames:
        for e in sorted(per["election_id"].unique()):
            name = _turnout_name(e)
            if name in seen:
                if seen[name] == what:
                    continue
                raise DataError(
                    f"{what}: election {e!r} is also in {seen[name]}; give each election's "
                    "results once"
                )
            seen[name] = what
            t = per[per["election_id"] == e].set_index("precinct_id")["turnout"]
            values = stations["precinct_id"].map(t)
            stations[name] = values.to_numpy(dtype="float64")
            lost = int(values.isna().sum())
            if lost and what != "results":
                warnings.warn(
                    f"{what}: {lost:,} of {len(stations):,} stations have no result in election "
                    f"{e!r} (bureaux renumbered or created since; first "
                    f"{format_rows(stations.loc[values.isna().to_numpy(), 'precinct_id'], total=lost)}"
                    f"): their {name} is missing and they leave the omnibus balance test",
                    FieldexpWarning,
                    stacklevel=2,
                )
    return stations


def _normal_communes(communes: Sequence[str]) -> list[str]:
    out = []
    for c in communes:
        code = str(c).strip().upper()
        if not _INSEE.match(code):
            raise SpecificationError(
                f"communes: {c!r} is not an INSEE commune code (5 characters such as '75056' or "
                "'2A004', quoted so the leading zero stays)"
            )
        out.append(code)
    return out


def _normal_circonscriptions(values: Sequence[str]) -> list[str]:
    out = []
    for v in values:
        text = str(v).strip().upper()
        m = re.match(r"^(\d{2,3}|2[AB]|Z[A-Z])[-_ ]?(\d{1,2})$", text)
        if "-" in text or "_" in text or " " in text:
            m = re.match(r"^(\d{2,3}|2[AB]|Z[A-Z])[-_ ](\d{1,2})$", text)
        elif text.isdigit() and len(text) == 4:
            m = re.match(r"^(\d{2})(\d{2})$", text)
        if m is None:
            raise SpecificationError(
                f"circonscriptions: {v!r} is not a circonscription; write the département and "
                "its number, e.g. '75-01' or '2A-02' (numbers restart in every département)"
            )
        out.append(circonscription_code(m.group(1), m.group(2)) or "")
    return out


def restrict_stations(
    stations: pd.DataFrame,
    *,
    communes: Sequence[str] = (),
    circonscriptions: Sequence[str] = (),
) -> np.ndarray:
    """Why each station is left out of the randomisation (``None``: kept).

    A station is kept when its ``commune_code`` is among ``communes`` (when given) *and*
    its ``circonscription`` among ``circonscriptions`` (when given). A listed commune or
    circonscription with no station in the results is a :class:`SpecificationError` (a
    typo would otherwise silently shrink the experiment).
    """
    reasons = np.full(len(stations), None, dtype=object)
    if communes:
        wanted = _normal_communes(communes)
        require_columns(stations, {"communes": "commune_code"})
        have = stations["commune_code"].astype("str").str.upper()
        unknown = sorted(set(wanted) - set(have))
        if unknown:
            raise SpecificationError(
                f"communes: {unknown!r} have no station in the results file"
                + did_you_mean(unknown[0], sorted(set(have)))
            )
        out = ~have.isin(wanted).to_numpy()
        reasons[out] = "restricted out: commune not in [assign] communes"
    if circonscriptions:
        wanted = _normal_circonscriptions(circonscriptions)
        if "circonscription" not in stations.columns:
            raise SpecificationError(
                "circonscriptions: the results file has no circonscription column (only "
                "legislative results carry 'Code de la circonscription'); restrict by communes"
            )
        have = stations["circonscription"].astype("str")
        unknown = sorted(set(wanted) - set(have))
        if unknown:
            raise SpecificationError(
                f"circonscriptions: {unknown!r} have no station in the results file"
                + did_you_mean(unknown[0], sorted(set(have)))
            )
        out = ~have.isin(wanted).to_numpy() & (reasons == None)  # noqa: E711
        reasons[out] = "restricted out: circonscription not in [assign] circonscriptions"
    return reasons


def assign_stations(
    design: Design,
    stations: pd.DataFrame,
    seed: int,
    *,
    restricted: np.ndarray | None = None,
) -> pd.DataFrame:
    """Randomise the kept stations with ``design``; restricted-out stations are added back.

    Returns the :meth:`Design.assign` frame over *every* station of ``stations`` (sorted by
    the unit id): restricted-out stations have ``arm`` and ``probability`` missing and
    their reason in ``excluded_reason``. Do-not-contact ids that name no station raise
    a :class:`FieldexpWarning` (a typo would leave a station in the draw).
    """
    unit = design.unit
    require_columns(stations, {"unit": unit})
    if restricted is None:
        restricted = np.full(len(stations), None, dtype=object)
    keep = np.asarray([r is None for r in restricted], dtype=bool)
    if not keep.any():
        raise DataError(
            "stations: every station is restricted out; nothing is left to randomise "
            "(check [assign] communes / circonscriptions)"
        )
    ids = set(stations[unit].astype("str"))
    for rule in design.exclude:
        if rule.rule == "do_not_contact" and (rule.column or unit) == unit:
            missing = [v for v in rule.ids if str(v) not in ids]
            if missing:
                warnings.warn(
                    f"exclude: {len(missing)} do-not-contact id(s) name no station of the "
                    f"results (e.g. {missing[0]!r}); check the bureau ids "
                    "('<INSEE commune>_<bureau>', e.g. '75056_0101')",
                    FieldexpWarning,
                    stacklevel=2,
                )
    assigned = design.assign(stations.loc[keep].reset_index(drop=True), seed)
    if keep.all():
        return assigned
    out_rows = stations.loc[~keep]
    extra = pd.DataFrame(
        {c: out_rows[c].to_numpy() for c in assigned.columns if c in out_rows.columns}
    )
    extra["excluded_reason"] = pd.array(list(restricted[~keep]), dtype="str")
    full = pd.concat([assigned, extra], ignore_index=True)
    full["arm"] = full["arm"].astype(assigned["arm"].dtype)
    full["excluded_reason"] = full["excluded_reason"].astype("str")
    key = full[unit].astype("str")
    full = full.iloc[np.argsort(key.to_numpy(), kind="stable")].reset_index(drop=True)
    full.attrs.update(assigned.attrs)
    return full


@dataclass(frozen=True, slots=True)
class StationWalkList:
    """Households to knock in the treatment stations, and where every voter went.

    Attributes
    ----------
    frame : DataFrame
        One row per household: ``turf, stop, precinct_id, household_id, registered_voters,
        arm`` and the address columns asked for.
    counts : Mapping[str, int]
        Voters of the list by fate: ``"walk list"``, ``"control station"``, ``"station
        excluded or restricted out"``, ``"station not in the results"``; they add up to
        the voters read.
    """

    frame: pd.DataFrame
    counts: Mapping[str, int]


def station_walk_list(
    assignment: pd.DataFrame,
    voters: pd.DataFrame,
    *,
    household: str = "household_id",
    arms: Sequence[ArmLabel] | None = None,
    turf_size: int | None = None,
    address_columns: Sequence[str] = (),
) -> StationWalkList:
    """The doors to knock: households of the voter list in stations assigned to treatment.

    Parameters
    ----------
    assignment : DataFrame
        :func:`assign_stations` / :meth:`Design.assign` output over stations (unit column
        ``precinct_id`` or the design's unit).
    voters : DataFrame
        The voter list (an REU extract read by :func:`fieldexp.io.read_voters`), with the
        station column of the design's unit and ``household``.
    household : str
        The household (address) key; one row per household and station.
    arms : sequence of labels, optional
        The arms to canvass (default every treatment arm; the control is refused).
    turf_size : int, optional
        Split each station into turfs of at most this many households (``"<station>-<k>"``).
    address_columns : sequence of str
        Address columns of ``voters`` to carry so canvassers find the door (the first
        non-missing value in the household). Names, birth data and voter ids are never
        carried.

    Returns
    -------
    StationWalkList
        ``frame`` sorted by station, then household key; ``stop`` numbers households within
        each turf. Every voter is counted in ``counts``.
    """
    if not isinstance(assignment, pd.DataFrame) or "fieldexp_design" not in assignment.attrs:
        raise SpecificationError(
            "assignment: expected the DataFrame returned by Design.assign "
            "(its attrs carry the design)"
        )
    design = Design.from_json(assignment.attrs["fieldexp_design"])
    unit = design.unit
    require_columns(voters, {"unit": unit, "household": household})
    require_columns(voters, {f"address_columns[{i}]": c for i, c in enumerate(address_columns)})
    if turf_size is not None and (
        isinstance(turf_size, bool) or not isinstance(turf_size, int) or turf_size < 1
    ):
        raise SpecificationError(f"turf_size: expected a positive integer; found {turf_size!r}")
    wanted = list(arms) if arms is not None else list(design.treatment_arms)
    if design.control in wanted:
        raise SpecificationError(
            f"arms: the control arm {design.control!r} is held out and never goes on a walk list"
        )
    unknown = [a for a in wanted if a not in design.arm_labels]
    if unknown:
        raise SpecificationError(
            f"arms: {unknown!r} are not arms of the design {list(design.arm_labels)!r}"
        )
    if assignment[unit].astype("str").duplicated().any():
        raise DataError(f"assignment: column {unit!r} must identify one row per station")
    station_arm = dict(zip(assignment[unit].astype("str"), assignment["arm"], strict=True))
    v_station = voters[unit].astype("str").where(voters[unit].notna(), None)
    arm_of = v_station.map(station_arm)
    known = v_station.isin(list(station_arm)).to_numpy()
    has_arm = known & arm_of.notna().to_numpy()
    on_list = has_arm & arm_of.isin(wanted).fillna(False).to_numpy(dtype=bool)
    counts = {
        "walk list": int(on_list.sum()),
        "control station": int((has_arm & ~on_list).sum()),
        "station excluded or restricted out": int((known & ~has_arm).sum()),
        "station not in the results": int((~known).sum()),
    }
    if counts["station not in the results"]:
        bad = voters.index[~known]
        warnings.warn(
            f"voters: {counts['station not in the results']:,} voters live in stations absent "
            f"from the assignment (bureau not in the results file); they are on no walk list: "
            f"{format_rows(bad, total=len(bad))}",
            FieldexpWarning,
            stacklevel=2,
        )
    hh = voters[household]
    if hh[on_list].isna().any():
        raise DataError(
            f"household: column {household!r} is missing for "
            f"{format_rows(voters.index[on_list & hh.isna().to_numpy()])}"
        )
    sub = pd.DataFrame(
        {
            unit: v_station[on_list].to_numpy(),
            household: hh[on_list].astype("str").to_numpy(),
            "arm": arm_of[on_list].to_numpy(),
        }
    )
    for c in address_columns:
        sub[c] = voters.loc[on_list, c].to_numpy()
    agg: dict[str, tuple[str, str]] = {
        "registered_voters": ("arm", "size"),
        "arm": ("arm", "first"),
    }
    for c in address_columns:
        agg[c] = (c, "first")  # first non-missing value (groupby skips missing)
    doors = sub.groupby([unit, household], sort=True).agg(**agg).reset_index()
    stop = doors.groupby(unit, sort=False).cumcount().to_numpy(dtype="int64") + 1
    if turf_size is not None:
        turf = doors[unit].astype(str) + "-" + ((stop - 1) // turf_size + 1).astype(str)
        stop = (stop - 1) % turf_size + 1
    else:
        turf = doors[unit].astype(str)
    frame = pd.DataFrame({"turf": turf.to_numpy(), "stop": stop})
    frame[unit] = doors[unit].to_numpy()
    frame[household] = doors[household].to_numpy()
    frame["registered_voters"] = doors["registered_voters"].to_numpy(dtype="int64")
    frame["arm"] = doors["arm"].to_numpy()
    for c in address_columns:
        frame[c] = doors[c].to_numpy()
    return StationWalkList(frame, counts)
