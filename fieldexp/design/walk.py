"""Walk lists for the field: treatment units only, grouped by precinct or turf.

Control units never appear, so held-out addresses never leave the analyst's machine. A
walk list can also follow a knock plan (doors per precinct, e.g. the allocation of
``fx.precinct_priorities(...).plan(...)``): :func:`walk_list` then lists households of the
planned precincts, as many as the plan's doors, drawn with a seed.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from fieldexp.design.assign import block_key, canonical_ids, require_columns
from fieldexp.design.kernels import block_rng
from fieldexp.design.spec import ArmLabel, Design
from fieldexp.errors import DataError, FieldexpWarning, SpecificationError, format_rows

__all__ = ["walk_list"]


def walk_list(
    assignment: object,
    data: pd.DataFrame,
    *,
    by: str = "precinct_id",
    arms: Sequence[ArmLabel] | None = None,
    columns: Sequence[str] = (),
    household: str | None = None,
    turf_size: int | None = None,
    path: str | Path | None = None,
    seed: int | None = None,
    unit: str = "voter_id",
    target: str | Sequence[str] | None = None,
    band: str = "propensity_band",
) -> pd.DataFrame:
    """The canvassing list: units assigned to a treatment arm, grouped by ``by``.

    Parameters
    ----------
    assignment : DataFrame, knock plan or mapping
        Output of :meth:`Design.assign` (its ``attrs`` name the design and unit column), or
        a knock plan: doors per precinct as a mapping ``{precinct: doors}``, a DataFrame
        with columns ``<by>`` (or ``precinct_id``) and ``doors``, or any object whose
        ``allocation`` is such a DataFrame (``fx.precinct_priorities(...).plan(...)``). A
        plan gives the list of :func:`plan_walk_list` (``seed`` required).
    data : DataFrame
        The voter table holding ``by``, ``household`` and the requested ``columns``
        (e.g. address fields for the field app), keyed by the unit column.
    by : str
        Precinct / turf column; the list is sorted by it, then household, then unit.
    arms : sequence of labels, optional
        The arms to canvass; default every arm except the control.
    columns : sequence of str
        Extra columns of ``data`` to carry (addresses, names: the walk list is a field
        export, never a report).
    household : str, optional
        Household column (default: the design's clusters); households get a ``stop``
        number within their turf.
    turf_size : int, optional
        Split each ``by`` group into turfs of at most this many households; the ``turf``
        column is ``"<by value>-<k>"``.
    path : str or Path, optional
        Also write the list as CSV (UTF-8, no index).

    seed, unit, target, band
        Knock plans only (see :func:`plan_walk_list`).

    Returns
    -------
    DataFrame
        Columns ``turf, stop, <by>, <household>, <unit>, arm, *columns`` (a plan's list has
        no ``arm``).
    """
    if not (isinstance(assignment, pd.DataFrame) and "fieldexp_design" in assignment.attrs):
        doors = plan_doors(assignment, by=by)
        if doors is not None:
            if arms is not None:
                raise SpecificationError("arms: a knock plan has no arms; leave arms out")
            return plan_walk_list(
                doors,
                data,
                seed=seed,  # type: ignore[arg-type]
                by=by,
                unit=unit,
                household=household or "household_id",
                columns=columns,
                turf_size=turf_size,
                target=target,
                band=band,
                path=path,
            )
    if seed is not None or target is not None:
        raise SpecificationError(
            "seed, target: only for a walk list from a knock plan (an assignment is already drawn)"
        )
    if not isinstance(assignment, pd.DataFrame) or "fieldexp_design" not in assignment.attrs:
        raise SpecificationError(
            "assignment: expected the DataFrame returned by Design.assign "
            "(its attrs carry the design)"
        )
    design = Design.from_json(assignment.attrs["fieldexp_design"])
    unit = design.unit
    household = household or design.clusters
    require_columns(data, {"unit": unit, "by": by, "household": household})
    require_columns(data, {f"columns[{i}]": c for i, c in enumerate(columns)})
    if turf_size is not None and (
        isinstance(turf_size, bool) or not isinstance(turf_size, int) or turf_size < 1
    ):
        raise SpecificationError(f"turf_size: expected a positive integer; found {turf_size!r}")
    wanted = list(arms) if arms is not None else list(design.treatment_arms)
    unknown = [a for a in wanted if a not in design.arm_labels]
    if unknown:
        raise SpecificationError(
            f"arms: {unknown!r} are not arms of the design {list(design.arm_labels)!r}"
        )
    if design.control in wanted:
        raise SpecificationError(
            f"arms: the control arm {design.control!r} is held out and never goes on a walk list"
        )
    treated = assignment.loc[assignment["arm"].isin(wanted), [unit, "arm"]]
    dup = data[unit].duplicated(keep=False).to_numpy()
    if dup.any():
        raise DataError(
            f"data: column {unit!r} must identify one row per unit: {format_rows(data.index[dup])}"
        )
    keep = [c for c in dict.fromkeys([unit, by, household, *columns]) if c is not None]
    merged = treated.merge(data[keep], on=unit, how="left", validate="one_to_one", indicator=True)
    lost = merged["_merge"] != "both"
    if lost.any():
        raise DataError(
            f"data: {int(lost.sum())} treated units of the assignment are not in data (column "
            f"{unit!r}): {format_rows(merged.loc[lost, unit])}"
        )
    merged = merged.drop(columns="_merge")
    hh = household or unit
    merged = merged.sort_values([by, hh, unit], kind="stable").reset_index(drop=True)
    stop = merged.groupby(by, sort=False)[hh].transform(lambda s: pd.factorize(s)[0] + 1)
    if turf_size is not None:
        turf_no = (stop - 1) // turf_size + 1
        turf = merged[by].astype(str) + "-" + turf_no.astype(str)
        stop = (stop - 1) % turf_size + 1
    else:
        turf = merged[by].astype(str)
    out = pd.DataFrame({"turf": turf.to_numpy(), "stop": stop.to_numpy(dtype="int64")})
    for c in dict.fromkeys([by, household, unit]):
        if c is not None:
            out[c] = merged[c].to_numpy()
    out["arm"] = merged["arm"].to_numpy()
    for c in columns:
        if c not in out:
            out[c] = merged[c].to_numpy()
    if path is not None:
        out.to_csv(path, index=False)
    return out


def plan_doors(plan: object, *, by: str = "precinct_id") -> pd.Series | None:
    """Doors per precinct of a knock plan (``None`` when ``plan`` is not one).

    Accepts a mapping ``{precinct: doors}``, a DataFrame with ``<by>`` (or ``precinct_id``)
    and ``doors`` columns, or an object whose ``allocation`` attribute is such a DataFrame
    (``KnockPlan``; the design layer never imports the targeting layer). Doors must be
    non-negative integers and precincts unique.
    """
    frame: pd.DataFrame | None = None
    if isinstance(plan, Mapping):
        frame = pd.DataFrame({by: list(plan.keys()), "doors": list(plan.values())})
    else:
        alloc = getattr(plan, "allocation", None)
        cand = alloc if isinstance(alloc, pd.DataFrame) else plan
        if isinstance(cand, pd.DataFrame) and "doors" in cand.columns:
            key = by if by in cand.columns else "precinct_id"
            if key not in cand.columns:
                raise SpecificationError(
                    f"plan: expected a column {by!r} (or 'precinct_id') beside 'doors'; found "
                    f"{[str(c) for c in cand.columns]}"
                )
            frame = pd.DataFrame({by: cand[key].to_numpy(), "doors": cand["doors"].to_numpy()})
    if frame is None:
        return None
    if frame[by].isna().any():
        raise DataError("plan: a precinct id is missing")
    dup = frame[by].astype(str).duplicated(keep=False).to_numpy()
    if dup.any():
        raise DataError(
            f"plan: precincts must be listed once; {format_rows(frame.loc[dup, by])} repeat"
        )
    doors = pd.to_numeric(frame["doors"], errors="coerce")
    bad = (
        doors.isna()
        | (doors < 0)
        | (doors != np.floor(doors.fillna(0)))
        | frame["doors"].map(lambda v: isinstance(v, bool))
    )
    if bad.any():
        first = frame.loc[bad.to_numpy(), "doors"].iloc[0]
        raise DataError(
            f"plan: doors must be non-negative integers; found {first!r} for precinct "
            f"{frame.loc[bad.to_numpy(), by].iloc[0]!r}"
        )
    return pd.Series(
        doors.to_numpy(dtype="int64"), index=pd.Index(frame[by], name=by), name="doors"
    )


def plan_walk_list(
    doors: pd.Series | Mapping[object, int],
    data: pd.DataFrame,
    *,
    seed: int,
    by: str = "precinct_id",
    unit: str = "voter_id",
    household: str = "household_id",
    columns: Sequence[str] = (),
    turf_size: int | None = None,
    target: str | Sequence[str] | None = None,
    band: str = "propensity_band",
    path: str | Path | None = None,
) -> pd.DataFrame:
    """Walk list of a knock plan: :math:`\\min(d_p, H_p)` households of each planned precinct.

    A door is a household. In precinct :math:`p` with :math:`d_p` planned doors and
    :math:`H_p` eligible households (those with a voter in ``target`` bands of ``band``,
    or all), the list holds :math:`\\min(d_p, H_p)` households drawn without replacement,
    each with probability :math:`\\min(d_p, H_p)/H_p`: households are sorted by id and
    ranked by uniform draws of a PCG64 generator seeded by ``(seed, precinct)``, so the list
    depends only on the seed, the plan and the voter file, never on the row order or the other
    precincts. Every voter of a chosen household is listed (the canvasser talks to whoever
    opens). Precincts of the plan with fewer eligible households than doors (or absent from
    ``data``) are counted in one :class:`FieldexpWarning` and in ``attrs["fieldexp_plan"]``.

    Returns
    -------
    DataFrame
        ``turf, stop, <by>, <household>, <unit>, *columns`` sorted by turf and stop;
        ``attrs["fieldexp_plan"]`` maps each planned precinct to ``(doors planned, households
        listed)``.
    """
    if seed is None:
        raise SpecificationError(
            "seed: a walk list drawn from a knock plan needs a seed (the households of a "
            "precinct are drawn at random), e.g. walk_list(plan, voters, seed=7)"
        )
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or int(seed) < 0:
        raise SpecificationError(f"seed: expected a non-negative integer; found {seed!r}")
    planned = doors if isinstance(doors, pd.Series) else plan_doors(dict(doors), by=by)
    assert planned is not None
    require_columns(data, {"by": by, "household": household, "unit": unit})
    require_columns(data, {f"columns[{i}]": c for i, c in enumerate(columns)})
    if turf_size is not None and (
        isinstance(turf_size, bool) or not isinstance(turf_size, int) or turf_size < 1
    ):
        raise SpecificationError(f"turf_size: expected a positive integer; found {turf_size!r}")
    units = canonical_ids(data[unit], "unit")
    if pd.Series(units).duplicated().any():
        dup = pd.Series(units).duplicated(keep=False).to_numpy()
        raise DataError(
            f"data: column {unit!r} must identify one row per voter: {format_rows(data.index[dup])}"
        )
    hh_ids = canonical_ids(data[household], "household")
    precinct_text = data[by].astype("str").where(data[by].notna(), None)
    eligible = np.ones(len(data), dtype=bool)
    if target is not None:
        require_columns(data, {"band": band})
        bands = [target] if isinstance(target, str) else list(target)
        eligible = data[band].astype("str").isin([str(b) for b in bands]).to_numpy()
    frame = pd.DataFrame(
        {"_p": precinct_text.to_numpy(), "_h": hh_ids, "_u": units, "_e": eligible}
    )
    keys = [str(k) for k in planned.index]
    listed: dict[object, tuple[int, int]] = {}
    chosen_parts = []
    short: list[str] = []
    groups = frame.groupby("_p", sort=False).indices
    empty = np.array([], dtype=np.int64)
    for key, label, d in zip(keys, planned.index, planned.to_numpy(), strict=True):
        members = frame.iloc[groups.get(key, empty)]
        hhs = np.unique(members.loc[members["_e"], "_h"].to_numpy())  # sorted ids
        take = min(int(d), len(hhs))
        if take < d:
            short.append(key)
        listed[label] = (int(d), take)
        if take == 0:
            continue
        rng = block_rng(int(seed), block_key(key), stream=7)
        u = rng.random(len(hhs))
        pick = hhs[np.argsort(u, kind="stable")[:take]]
        chosen_parts.append(members[np.isin(members["_h"].to_numpy(), pick)].index.to_numpy())
    if short:
        missing = sum(listed[lab][0] - listed[lab][1] for lab in planned.index if str(lab) in short)
        warnings.warn(
            f"plan: {len(short)} precinct(s) have fewer eligible households than planned doors "
            f"({missing:,} doors cannot be filled; first {short[:5]}): every eligible household "
            "there is listed",
            FieldexpWarning,
            stacklevel=3,
        )
    rows = np.concatenate(chosen_parts) if chosen_parts else np.array([], dtype=np.int64)
    sel = frame.loc[rows].sort_values(["_p", "_h", "_u"], kind="stable")
    stop = sel.groupby("_p", sort=False)["_h"].transform(lambda s: pd.factorize(s)[0] + 1)
    stop_arr = stop.to_numpy(dtype="int64")
    if turf_size is not None:
        turf_no = (stop_arr - 1) // turf_size + 1
        turf = sel["_p"].astype(str).to_numpy() + "-" + turf_no.astype(str)
        stop_arr = (stop_arr - 1) % turf_size + 1
    else:
        turf = sel["_p"].astype(str).to_numpy()
    out = pd.DataFrame({"turf": turf, "stop": stop_arr})
    pos = sel.index.to_numpy()
    for c in dict.fromkeys([by, household, unit, *columns]):
        out[c] = data[c].to_numpy()[pos]
    out.attrs["fieldexp_plan"] = listed
    if path is not None:
        out.to_csv(path, index=False)
    return out
