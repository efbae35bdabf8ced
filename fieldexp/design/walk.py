"""Walk lists for the field: treatment units only, grouped by precinct or turf.

Control units never appear, so held-out addresses never leave the analyst's machine.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from fieldexp.design.assign import require_columns
from fieldexp.design.spec import ArmLabel, Design
from fieldexp.errors import DataError, SpecificationError, format_rows

__all__ = ["walk_list"]


def walk_list(
    assignment: pd.DataFrame,
    data: pd.DataFrame,
    *,
    by: str = "precinct_id",
    arms: Sequence[ArmLabel] | None = None,
    columns: Sequence[str] = (),
    household: str | None = None,
    turf_size: int | None = None,
    path: str | Path | None = None,
) -> pd.DataFrame:
    """The canvassing list: units assigned to a treatment arm, grouped by ``by``.

    Parameters
    ----------
    assignment : DataFrame
        Output of :meth:`Design.assign` (its ``attrs`` name the design and unit column).
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

    Returns
    -------
    DataFrame
        Columns ``turf, stop, <by>, <household>, <unit>, arm, *columns``.
    """
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
