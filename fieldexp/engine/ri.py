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

Several outcomes (the Westfall–Young family): :func:`ri_family_inputs` pulls, in ONE pass of
*G* rows, the cluster's rows and per outcome its mean over the rows with that outcome and
their number; :func:`fieldexp.experiment.ri.randomization_inference_family` replays every outcome
on them with the same draws.

Unclustered designs are refused: there every unit is re-drawn, so unit rows are the input.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, NoReturn

import pandas as pd

from fieldexp._validate import check_outcome_list
from fieldexp.design.spec import Design
from fieldexp.engine.prepare import BLOCK, CLUSTER, Y, Z, prepare_engine
from fieldexp.engine.tables import as_ibis, pull
from fieldexp.errors import ColumnNotFoundError, DataError, DesignError, SpecificationError

if TYPE_CHECKING:  # pragma: no cover
    import ibis.expr.types as ir

__all__ = [
    "RI_WEIGHT",
    "EngineRIFamily",
    "EngineRIFrame",
    "ri_family_frame",
    "ri_family_inputs",
    "ri_frame",
    "ri_inputs",
    "ri_weight",
]

#: name of the cluster-size column of :func:`ri_inputs` (pass it as ``weights``)
RI_WEIGHT = "n_units"


def ri_weight(outcome: str) -> str:
    """Name of the per-outcome cluster-size column of :func:`ri_family_inputs`."""
    return f"{RI_WEIGHT}:{outcome}"


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
    if keep_missing:
        out = _cluster_rows(data, [outcome], assignment, clusters, blocks, function=function)
        return out.drop(columns=RI_WEIGHT).rename(columns={ri_weight(outcome): RI_WEIGHT})
    _need_clusters(clusters, function)
    table = as_ibis(data, function=function)
    prepared = prepare_engine(
        table,
        function=function,
        outcome=outcome,
        assignment=assignment,
        blocks=blocks,
        clusters=clusters,
    )
    t = prepared.table
    aggs = {"_fx_m0": t[Y].mean(), "_fx_rows": t.count()}
    names = {"_fx_m0": outcome, "_fx_rows": RI_WEIGHT}
    return _pull_clusters(t, aggs, assignment, clusters, blocks, names, function)


def ri_family_inputs(
    data: object,
    outcomes: Sequence[str],
    assignment: str,
    *,
    clusters: str,
    blocks: str | None = None,
) -> pd.DataFrame:
    r"""One row per cluster for several outcomes at once: ONE pass, *G* rows.

    Columns: the cluster (and block) label, the assignment, the cluster's rows
    (:data:`RI_WEIGHT`), and per outcome ``o`` its cluster mean over the rows where ``o`` is present (column ``o``) and their number
    (column :func:`ri_weight` ``(o)``, i.e. ``"n_units:o"``). Rows missing an outcome stay in
    the randomisation (their cluster keeps its place) and out of that outcome's statistic,
    exactly as :func:`fieldexp.randomization_inference` treats a DataFrame: replaying the
    frame with ``weights=ri_weight(o)`` gives per outcome the sums :math:`n_{g,o}` and
    :math:`n_{g,o}\bar y_{g,o} = \sum_{i\in g,\,y_{io}\ne\text{NA}} y_{io}`.

    This is what the Westfall–Young adjustment needs on an engine table
    (:func:`fieldexp.experiment.ri.randomization_inference_family`): every outcome is replayed on
    the same clusters, so the draws are aligned. Rows missing the assignment, block or
    cluster are dropped (warned), as in :func:`ri_inputs`.
    """
    function = "fieldexp.engine.ri_family_inputs"
    check_outcome_list(outcomes, function=function)
    return _cluster_rows(data, list(outcomes), assignment, clusters, blocks, function=function)


def _need_clusters(clusters: str | None, function: str) -> None:
    if not clusters:
        raise SpecificationError(
            f"The 'clusters' parameter of {function} is required: only cluster-randomised "
            "designs reduce to cluster totals; an unclustered design re-draws every unit, so "
            "randomisation inference needs the unit rows (pass a pandas DataFrame)."
        )


def _cluster_rows(
    data: object,
    outcomes: list[str],
    assignment: str,
    clusters: str,
    blocks: str | None,
    *,
    function: str,
) -> pd.DataFrame:
    """Per cluster and outcome: rows with the outcome and their mean (missing ones kept)."""
    _need_clusters(clusters, function)
    table = as_ibis(data, function=function)
    for o in outcomes:
        if o not in table.columns:
            raise ColumnNotFoundError(
                f"column {o!r} (argument 'outcome' of {function}) is not in the table."
            )
        dtype = table.schema()[o]
        if not (dtype.is_numeric() or dtype.is_boolean()):
            raise DataError(
                f"column {o!r} (argument 'outcome' of {function}) must be numeric; it has "
                f"engine type {dtype}. Cast it in the engine before calling {function}."
            )
    zeroed = {}
    for j, o in enumerate(outcomes):
        col = table[o].cast("int64") if table.schema()[o].is_boolean() else table[o]
        ok = ~col.isnull()  # noqa: PD003 (an ibis column)
        if table.schema()[o].is_floating():
            ok = ok & ~col.isnan()
        ok = ok.fill_null(False)
        zeroed[f"_fx_y{j}"] = ok.ifelse(col, 0)
        zeroed[f"_fx_ok{j}"] = ok.cast("int64")
    table = table.mutate(**zeroed)
    prepared = prepare_engine(
        table,
        function=function,
        outcome="_fx_y0",
        assignment=assignment,
        blocks=blocks,
        clusters=clusters,
        keep=tuple(c for c in zeroed if c != "_fx_y0"),
    )
    t = prepared.table
    # internal aliases in the SQL (any outcome name is safe in every dialect), renamed here
    aggs: dict[str, ir.Value] = {"_fx_rows": t.count()}
    names = {"_fx_rows": RI_WEIGHT}
    for j, o in enumerate(outcomes):
        y = t[Y] if j == 0 else t[f"_fx_y{j}"]
        n_ok = t[f"_fx_ok{j}"].sum()
        # rows missing the outcome stay in the randomisation, out of the statistic
        aggs[f"_fx_m{j}"] = y.sum() / n_ok
        aggs[f"_fx_n{j}"] = n_ok
        names.update({f"_fx_m{j}": o, f"_fx_n{j}": ri_weight(o)})
    return _pull_clusters(t, aggs, assignment, clusters, blocks, names, function)


def _pull_clusters(
    t: ir.Table,
    aggs: dict[str, ir.Value],
    assignment: str,
    clusters: str,
    blocks: str | None,
    names: dict[str, str],
    function: str,
) -> pd.DataFrame:
    """GROUP BY cluster (one pass, *G* rows) with the design checks on assignment and block."""
    aggs = {
        **aggs,
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
    out = frame.rename(columns={CLUSTER: clusters, "_z_min": assignment, **names})
    out[assignment] = out[assignment].astype("int64")
    head = [clusters, assignment]
    if blocks is not None:
        out[blocks] = out["_b_min"]
        head.insert(1, blocks)
    return out[head + list(names.values())].reset_index(drop=True)


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
    _check_replayable(
        assignment, design, function, estimand=estimand, covariates=covariates, weights=weights
    )
    if subset is not None and not isinstance(subset, str):
        _refuse_replay(function, "'subset' must be a boolean column of the table (not an array)")
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


def _refuse_replay(function: str, why: str) -> NoReturn:
    raise SpecificationError(
        f"{function} on an engine table replays cluster totals (G rows), which is not "
        f"possible here: {why}. Or pass a pandas DataFrame."
    )


def _check_replayable(
    assignment: object,
    design: object,
    function: str,
    *,
    estimand: str,
    covariates: object,
    weights: str | None,
) -> None:
    """Refuse, saying why, what cluster totals cannot replay."""
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
    elif design.exclude:
        why = "design exclusions refer to unit rows; pass the table of units kept instead"
    elif tuple(design.arm_labels) != (0, 1) and tuple(design.arm_labels) != (1, 0):
        why = f"only 0/1 two-arm designs are pushed down (arms {design.arm_labels!r})"
    if why is not None:
        _refuse_replay(function, why)


@dataclass(frozen=True, slots=True, eq=False)
class EngineRIFamily:
    """Cluster totals of several outcomes, pulled in one pass (:func:`ri_family_frame`).

    ``frame`` has one row per cluster (:func:`ri_family_inputs`); ``design`` is the caller's
    design with the cluster column as its unit; per outcome, ``weights`` names its
    cluster-size column and ``nobs`` counts the unit rows with that outcome; ``n_rows`` counts
    the unit rows replayed (complete design columns).
    """

    frame: pd.DataFrame
    design: Design
    outcomes: tuple[str, ...]
    weights: tuple[str, ...]
    nobs: tuple[int, ...]
    n_rows: int


def ri_family_frame(
    data: object,
    outcomes: Sequence[str],
    assignment: object,
    design: Design,
    *,
    estimand: str = "itt",
    covariates: object = None,
    weights: str | None = None,
    function: str = "fieldexp.experiment.ri.randomization_inference_family",
) -> EngineRIFamily:
    """:func:`ri_family_inputs` for a design, with the refusals of :func:`ri_frame`.

    One GROUP BY cluster pass pulls *G* rows holding, per outcome, the cluster mean and the
    number of rows with that outcome; every outcome is then replayed on the same clusters
    (the cluster column as unit, its size as weight), so the draws are aligned draw by draw.
    """
    _check_replayable(
        assignment, design, function, estimand=estimand, covariates=covariates, weights=weights
    )
    assert isinstance(assignment, str) and design.clusters is not None
    frame = ri_family_inputs(
        data, outcomes, assignment, clusters=design.clusters, blocks=design.blocks
    )
    cluster_design = copy.copy(design)
    object.__setattr__(cluster_design, "unit", design.clusters)
    cols = tuple(ri_weight(o) for o in outcomes)
    nobs = tuple(int(frame[c].sum()) for c in cols)
    n_rows = int(frame[RI_WEIGHT].sum())
    return EngineRIFamily(frame, cluster_design, tuple(outcomes), cols, nobs, n_rows)
