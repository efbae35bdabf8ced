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

from typing import TYPE_CHECKING

from fieldexp.engine.prepare import BLOCK, CLUSTER, Y, Z, prepare_engine
from fieldexp.engine.tables import as_ibis, pull
from fieldexp.errors import DesignError, SpecificationError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = ["RI_WEIGHT", "ri_inputs"]

#: name of the cluster-size column of :func:`ri_inputs` (pass it as ``weights``)
RI_WEIGHT = "n_units"


def ri_inputs(
    data: object,
    outcome: str,
    assignment: str,
    *,
    clusters: str,
    blocks: str | None = None,
) -> pd.DataFrame:
    """One row per cluster: cluster (and block) label, assignment, mean outcome, size.

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
    prepared = prepare_engine(
        as_ibis(data, function=function),
        function=function,
        outcome=outcome,
        assignment=assignment,
        blocks=blocks,
        clusters=clusters,
    )
    t = prepared.table
    aggs = {
        RI_WEIGHT: t.count(),
        outcome: t[Y].mean(),
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
