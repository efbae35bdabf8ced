"""The station x election panel of the report's DiD section (``[did] results = [...]``).

Built by :func:`fieldexp.station_panel` from the spec's results files: the
``[data.precinct_results]`` file (already read for the station analysis) and the other files
of ``[did] results``, read with :func:`fieldexp.io.read_precinct_results` (every 2012-2024
layout). Treatment comes from ``[data.precinct_assignment]`` (stations of the treatment arms
treated from ``[analysis] election`` on) or from ``[did] rollout`` (a CSV of ``precinct_id,
first_treated``: an election label or a date). Turnout (or ``share_<key>``) is weighted by
registered voters (Callaway & Sant'Anna: by the registered voters of the station's first
election, a weight constant within station); standard errors are clustered by station unless ``[did] clusters`` names
another panel column (e.g. ``commune_code``).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pandas as pd

from fieldexp.errors import ColumnNotFoundError, FieldexpError, did_you_mean
from fieldexp.report.model import Section
from fieldexp.report.sections.context import ReportContext
from fieldexp.report.sections.did_panel import TITLE, PanelRun

__all__ = ["station_panel_for"]


def _read(path: Path) -> pd.DataFrame:
    from fieldexp.io import read_precinct_results

    try:
        return read_precinct_results(path)
    except FieldexpError as exc:
        raise type(exc)(f"[did] results {path.name}: {exc}") from None


def station_panel_for(ctx: ReportContext) -> PanelRun | Section:
    """The station panel of the spec, or an unavailable section saying why."""
    from fieldexp.analysis.station_panel import station_panel
    from fieldexp.io.schema import canonical_assignment

    run, spec = ctx.run, ctx.spec
    d = spec.did
    assert d is not None
    target_source = spec.data.precinct_results
    tables: list[pd.DataFrame] = []
    for path in d.results:
        if (
            target_source is not None
            and path == target_source.path
            and run.inputs.precinct_results is not None
        ):
            tables.append(run.inputs.precinct_results)
        else:
            tables.append(_read(path))
    assignment = None
    rollout = None
    if d.rollout is not None:
        rollout = pd.read_csv(d.rollout, dtype=str, keep_default_na=False)
    elif run.inputs.precinct_assignment is not None:
        raw = run.inputs.precinct_assignment
        a = canonical_assignment(raw, unit="precinct_id" if "precinct_id" in raw.columns else None)
        assignment = pd.DataFrame(
            {"precinct_id": a["unit_id"].astype(str), "arm": a["arm"].astype(str)},
            index=a.index,
        )
    else:
        return Section(
            "did",
            TITLE,
            available=False,
            reason="needs [data.precinct_assignment] or [did] rollout (who was canvassed)",
        )
    target = spec.analysis.election
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        panel = station_panel(
            tables,
            dates=dict(d.dates),
            crosswalk=d.crosswalk,
            assignment=assignment,
            treated_from=target if assignment is not None else None,
            control=run.control,
            unassigned=d.unassigned,
            rollout=rollout,
            shares=d.shares,
            balanced=d.balanced,
        )
    for w in caught:  # said again in the panel lines; keep them visible to the caller too
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    data = panel.data
    if d.outcome not in data.columns:
        raise ColumnNotFoundError(
            f"[did] outcome: column {d.outcome!r} is not in the station panel."
            + did_you_mean(d.outcome, [str(c) for c in data.columns])
        )
    if "cohort" not in data.columns or not bool((data["cohort"] > 0).any()):
        return Section(
            "did",
            TITLE,
            available=False,
            reason="no station of the panel was canvassed within its elections",
        )
    clusters = d.clusters or "precinct_id"
    if clusters not in data.columns:
        raise ColumnNotFoundError(
            f"[did] clusters: column {clusters!r} is not in the station panel (precinct_id, "
            "commune_code).".replace("(precinct_id", "(e.g. precinct_id")
            + did_you_mean(clusters, [str(c) for c in data.columns])
        )
    labels = panel.labels
    from fieldexp.report.inputs import file_sha256

    provenance = "results files (SHA-256): " + ", ".join(
        f"{path.name} ({file_sha256(path)[:16]})" for path in d.results
    )
    if target not in labels and assignment is not None:
        target = labels[-1]
    if assignment is None:
        target = labels[int(data.loc[data["cohort"] > 0, "cohort"].min()) - 1]
    t = panel.totals
    lines = [
        f"{data['precinct_id'].nunique():,} stations x {len(labels)} elections = "
        f"{len(data):,} rows; registered and voters conserved per election "
        f"({int(t['registered_read'].sum()):,} registered read, "
        f"{int(t['registered_panel'].sum()):,} in the panel, "
        f"{int(t['registered_set_aside'].sum()):,} set aside)",
        *panel.notes,
        provenance,
    ]
    if len(panel.partial) and not d.balanced and d.crosswalk is None:
        lines.append("a crosswalk ([did] crosswalk) links renumbered or merged stations")
    how = (
        "stations of the treatment arm of the assignment are treated from "
        f"{target} on; the assignment is randomised, the comparison over elections is not"
        if assignment is not None
        else "stations are treated from their first canvassed election ([did] rollout)"
    )
    label = "turnout" if d.outcome == "turnout" else d.outcome.replace("_", " ")
    return PanelRun(
        data=data,
        unit="precinct_id",
        outcome=d.outcome,
        weights="registered",
        clusters=clusters,
        periods=labels,
        target=target,
        lines=tuple(dict.fromkeys(lines)),
        intro=f"Polling stations (bureaux de vote) canvassed and not canvassed are compared "
        f"over {len(labels)} elections ({', '.join(labels)}), from the official results files",
        exposure_note=f"Exposure: {how}.",
        outcome_label=label,
        units_word="stations",
        static=True,
        cs_weights="base_registered",
    )
