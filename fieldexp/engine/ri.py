r"""Randomisation-inference inputs from an engine table: cluster totals pulled once (*G* rows).

A cluster-randomised design is replayed on clusters, and the ITT (and Wald CACE) statistics
of :func:`fieldexp.randomization_inference` depend on the data only through each
cluster's size :math:`n_g` and total :math:`\sum_{i\in g} y_i`:
with ``weights`` the statistic uses :math:`\sum w_i` and :math:`\sum w_i y_i`, so one row per
cluster holding the cluster *mean* and weight :math:`n_g` gives the same sums, the same block
shares, and — the draws depending only on the seed, the design and the clusters — the same
p-value and interval.

Usage (the replay itself lives in :mod:`fieldexp.experiment.ri`, one layer up)::

    frame = fx.engine.ri_inputs(table, "voted", "assigned", clusters="household_id",
                                blocks="precinct_id")
    fx.randomization_inference(frame, "voted", "assigned",
                               Design("household_id", blocks="precinct_id", clusters="household_id"),
                               weights=RI_WEIGHT, reps=10_000, seed=1)

Unclustered designs are refused: there every unit is re-drawn, so unit rows are the input.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import pandas as pd

from fieldexp.design.spec import Design
from fieldexp.engine.prepare import BLOCK, CLUSTER, Y, Z, prepare_engine
from fieldexp.engine.tables import as_ibis, pull
from fieldexp.errors import ColumnNotFoundError, DesignError, SpecificationError

__all__ = ["RI_WEIGHT", "EngineRIFrame", "ri_frame", "ri_inputs"]

#: name of the cluster-size column of :func:`ri_inputs` (pass it as ``weights``)
RI_WEIGHT = "n_units"


def ri_inputs(
    data: object,
    outcome: str,
    assignment: str,
    *,
    clusters: str,
    blocks: str | None = None,
    keep_missing: bool = False,
) -> pd.DataFrame:
    """One row per cluster: cluster (and block) label, assignment, mean outcome, size.

    With ``keep_missing`` rows missing the outcome stay (their clusters remain in the
    randomisation, as in :func:`fieldexp.randomization_inference` on a DataFrame): the size
    counts the rows with an outcome, and a cluster without any has a missing mean.

    Pulls exactly *G* rows; the columns keep the caller's names (``outcome`` holds cluster
    means, :data:`RI_WEIGHT` the cluster size). ITT only: the CACE statistic of
    :func:`fieldexp.randomization_inference` needs a 0/1 treatment per row, so cluster
    contact rates cannot stand in for it yet.

    Raises
    ------
    SpecificationError
        ``clusters`` missing (an unclustered design is replayed unit by unit).
    DesignError
        The assignment varies within a cluster, or a cluster spans blocks.
    """
    function = "fieldexp.engine.ri_inputs"
    if not clusters:
        raise SpecificationError(
            f"The 'clusters' parameter of {function} is required: only cluster-randomised "
            "designs reduce to cluster totals; an unclustered design re-draws every unit, so "
            "randomisation inference needs the unit rows (pass a pandas DataFrame)."
        )
    table = as_ibis(data, function=function)
    y_used = outcome
    if keep_missing:
        if outcome not in table.columns:
            raise ColumnNotFoundError(
                f"column {outcome!r} (argument 'outcome' of {function}) is not in the table."
            )
        col = table[outcome]
        ok = ~col.isnull()  # noqa: PD003 (an ibis column)
        if table.schema()[outcome].is_floating():
            ok = ok & ~col.isnan()
        ok = ok.fill_null(False)
        y_used = "_fx_y_or_zero"
        table = table.mutate(_fx_y_or_zero=ok.ifelse(col, 0), _fx_y_ok=ok.cast("int64"))
    prepared = prepare_engine(
        table,
        function=function,
        outcome=y_used,
        assignment=assignment,
        blocks=blocks,
        clusters=clusters,
        keep=("_fx_y_ok",) if keep_missing else (),
    )
    t = prepared.table
    aggs = {
        RI_WEIGHT: t["_fx_y_ok"].sum() if keep_missing else t.count(),
        # rows missing the outcome stay in the randomisation, out of the statistic
        outcome: t[Y].sum() / t["_fx_y_ok"].sum() if keep_missing else t[Y].mean(),
        "_z_min": t[Z].min(),
        "_z_max": t[Z].max(),
        "_b_min": t[BLOCK].min(),
        "_b_max": t[BLOCK].max(),
    }
    rows = pull(t.group_by(CLUSTER).aggregate(**aggs).order_by(CLUSTER), "RI cluster totals")
    frame = rows.to_pandas()
    if (frame["_z_min"] != frame["_z_max"]).any():
        raise DesignError(
            f"column {assignment!r} must be constant within each cluster of {clusters!r}; "
            f"{int((frame['_z_min'] != frame['_z_max']).sum()):,} clusters mix arms ({function})."
        )
    if (frame["_b_min"] != frame["_b_max"]).any():
        raise DesignError(
            f"clusters {clusters!r} are not nested in blocks {blocks!r} ({function})."
        )
    out = frame.rename(columns={CLUSTER: clusters, "_z_min": assignment})
    out[assignment] = out[assignment].astype("int64")
    cols = [clusters, assignment, outcome, RI_WEIGHT]
    if blocks is not None:
        out[blocks] = out["_b_min"]
        cols.insert(1, blocks)
    return out[cols].reset_index(drop=True)


@dataclass(frozen=True, slots=True, eq=False)
class EngineRIFrame:
    """What :func:`fieldexp.randomization_inference` replays for an engine table.

    ``frame`` has one row per cluster (:func:`ri_inputs`), ``design`` is the caller's design
    with the cluster column as its unit, ``weights`` is :data:`RI_WEIGHT` and ``nobs`` the
    number of unit rows used in the engine.
    """

    frame: pd.DataFrame
    design: Design
    weights: str
    nobs: int


def ri_frame(
    data: object,
    outcome: str,
    assignment: object,
    design: Design,
    *,
    estimand: str,
    covariates: object,
    weights: str | None,
    studentize: bool,
    subset: object = None,
) -> EngineRIFrame:
    """Cluster totals of an engine table for :func:`fieldexp.randomization_inference`.

    The replay draws whole clusters, and its ITT statistic (plain or studentized) depends on
    the data only through cluster sizes and outcome totals per cluster, so one row per
    cluster with the cluster mean and weight :math:`n_g` gives the same draws, p-value and
    interval (pulled once: *G* rows). Refused, saying why: unclustered designs (every unit
    is re-drawn: unit rows are the input), the CACE statistic, covariance adjustment,
    ``weights``, exclusions, and an assignment given as a frame. ``subset`` (a boolean column
    of the table) keeps every cluster in the randomisation and counts only the subset's rows
    in the cluster sizes and means, which is the subset statistic of the DataFrame path.
    """
    function = "fieldexp.randomization_inference"
    why = None
    if not isinstance(design, Design):
        why = f"'design' must be a fieldexp.Design; got {type(design).__name__}"
    elif design.clusters is None:
        why = (
            "the design is not clustered: every unit is re-drawn, so the replay needs one row "
            "per unit (pull the unit, block, assignment and outcome columns yourself, e.g. "
            "table.select(...).to_pandas(), if they fit in memory)"
        )
    elif not isinstance(assignment, str):
        why = "'assignment' must be a column of the table (not a frame)"
    elif estimand == "cace":
        why = "the CACE statistic needs each unit's 0/1 contact, not cluster totals"
    elif covariates:
        why = "covariance adjustment residualises unit outcomes on unit covariates"
    elif weights is not None:
        why = "'weights' are not pushed down yet"
    elif subset is not None and not isinstance(subset, str):
        why = "'subset' must be a boolean column of the table (not an array)"
    elif design.exclude:
        why = "design exclusions refer to unit rows; pass the table of units kept instead"
    elif tuple(design.arm_labels) != (0, 1) and tuple(design.arm_labels) != (1, 0):
        why = f"only 0/1 two-arm designs are pushed down (arms {design.arm_labels!r})"
    if why is not None:
        raise SpecificationError(
            f"{function} on an engine table replays cluster totals (G rows), which is not "
            f"possible here: {why}. Or pass a pandas DataFrame."
        )
    assert isinstance(assignment, str) and design.clusters is not None
    if subset is not None:
        import ibis

        table = as_ibis(data, function=function)
        if subset not in table.columns:
            raise ColumnNotFoundError(
                f"column {subset!r} (argument 'subset' of {function}) is not in the table."
            )
        if not table.schema()[subset].is_boolean():
            raise SpecificationError(
                f"The 'subset' parameter of {function} must name a boolean column; {subset!r} "
                f"has engine type {table.schema()[subset]}."
            )
        inside = table[subset].fill_null(False)
        data = table.mutate(
            **{outcome: inside.ifelse(table[outcome], ibis.null(table.schema()[outcome]))}
        )
    frame = ri_inputs(
        data, outcome, assignment, clusters=design.clusters, blocks=design.blocks, keep_missing=True
    )
    cluster_design = copy.copy(design)
    object.__setattr__(cluster_design, "unit", design.clusters)
    nobs = int(frame[RI_WEIGHT].sum())
    return EngineRIFrame(frame, cluster_design, RI_WEIGHT, nobs)
