"""Choropleth maps of precinct values as inline SVG (matplotlib paths, no GIS dependency).

A GeoJSON ``FeatureCollection`` of precinct / *bureau de vote* boundaries (Polygon and
MultiPolygon geometries, e.g. the public "contours des bureaux de vote" or a county precinct
file) is joined to a Series of values on a property (default ``precinct_id``). The SVG is
deterministic: fixed hash salt, no date metadata, features drawn in sorted key order.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fieldexp.errors import DataError, FieldexpWarning, SpecificationError

__all__ = ["choropleth", "read_geojson"]


def read_geojson(source: str | Path | Mapping[str, Any]) -> dict[str, Any]:
    """Load a GeoJSON FeatureCollection (path or already-parsed mapping), checked."""
    if isinstance(source, Mapping):
        data = dict(source)
    else:
        path = Path(source)
        if not path.is_file():
            raise DataError(f"GeoJSON file {str(path)!r} does not exist or is not a regular file.")
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise DataError(f"cannot read GeoJSON {str(path)!r}: {exc}") from None
    if data.get("type") != "FeatureCollection" or not isinstance(data.get("features"), list):
        raise DataError("the GeoJSON must be a FeatureCollection with a 'features' list.")
    return data


def _rings(geometry: Mapping[str, Any]) -> list[np.ndarray]:
    kind = geometry.get("type")
    coords: Any = geometry.get("coordinates")
    polys: list[Any]
    if kind == "Polygon":
        polys = [coords]
    elif kind == "MultiPolygon":
        polys = list(coords or [])
    else:
        return []
    rings = []
    for poly in polys:
        for ring in poly:
            arr = np.asarray(ring, dtype=float)
            if arr.ndim == 2 and arr.shape[0] >= 3 and arr.shape[1] >= 2:
                rings.append(arr[:, :2])
    return rings


def _escape(text: str) -> str:
    return text.replace("$", r"\$")


def choropleth(
    geojson: str | Path | Mapping[str, Any],
    values: pd.Series,
    *,
    key: str = "precinct_id",
    title: str | None = None,
    label: str = "",
    diverging: bool | None = None,
    size: tuple[float, float] = (6.0, 6.0),
) -> str:
    """An SVG choropleth of ``values`` (indexed by precinct id) over the GeoJSON boundaries.

    Precincts without a value are drawn hatched-grey; values without a boundary are counted in
    a warning (nothing is dropped silently). ``diverging`` (default: when values take both
    signs) centres the colour scale at zero.
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    from matplotlib.collections import PathCollection
    from matplotlib.colors import Normalize, TwoSlopeNorm
    from matplotlib.path import Path as MPath

    if not isinstance(values, pd.Series):
        raise SpecificationError(
            "The 'values' parameter of choropleth must be a pandas Series indexed by precinct id."
        )
    data = read_geojson(geojson)
    vals = pd.to_numeric(values, errors="coerce")
    vals.index = vals.index.astype(str)
    shapes: dict[str, list[np.ndarray]] = {}
    for feat in data["features"]:
        props = feat.get("properties") or {}
        if key not in props:
            raise DataError(f"a GeoJSON feature lacks the property {key!r} (argument 'key').")
        rings = _rings(feat.get("geometry") or {})
        shapes.setdefault(str(props[key]), []).extend(rings)
    unmatched = sorted(set(vals.index) - set(shapes))
    if unmatched:
        import warnings

        warnings.warn(
            f"choropleth: {len(unmatched)} precinct(s) with a value have no boundary in the "
            f"GeoJSON (first: {', '.join(unmatched[:5])}).",
            FieldexpWarning,
            stacklevel=2,
        )
    finite = vals[np.isfinite(vals)]
    lo, hi = (float(finite.min()), float(finite.max())) if len(finite) else (0.0, 1.0)
    if diverging is None:
        diverging = lo < 0 < hi
    if diverging:
        bound = max(abs(lo), abs(hi)) or 1.0
        norm: Normalize = TwoSlopeNorm(vcenter=0.0, vmin=-bound, vmax=bound)
        cmap = plt.get_cmap("RdBu")
    else:
        norm = Normalize(vmin=lo, vmax=hi if hi > lo else lo + 1.0)
        cmap = plt.get_cmap("viridis")
    from fieldexp.targeting.svg import RC, savefig_svg

    # usetex forced off: a user's matplotlibrc must not change the bytes or run TeX on labels
    with plt.rc_context(RC):
        fig, ax = plt.subplots(figsize=size)
        paths, colors, missing_paths = [], [], []
        for pid in sorted(shapes):
            rings = shapes[pid]
            if not rings:
                continue
            verts = np.concatenate([np.vstack([r, r[:1]]) for r in rings])
            codes = np.concatenate(
                [[MPath.MOVETO] + [MPath.LINETO] * (len(r) - 1) + [MPath.CLOSEPOLY] for r in rings]
            )
            path = MPath(verts, codes)
            v = vals.get(pid, math.nan)
            if isinstance(v, float) and math.isfinite(v):
                paths.append(path)
                colors.append(cmap(norm(v)))
            else:
                missing_paths.append(path)
        if paths:
            ax.add_collection(
                PathCollection(paths, facecolors=colors, edgecolors="white", linewidths=0.3)
            )
        if missing_paths:
            ax.add_collection(
                PathCollection(
                    missing_paths, facecolors="0.85", edgecolors="white", linewidths=0.3, hatch="//"
                )
            )
        all_xy = [r for rs in shapes.values() for r in rs]
        if all_xy:
            xy = np.concatenate(all_xy)
            ax.set_xlim(xy[:, 0].min(), xy[:, 0].max())
            ax.set_ylim(xy[:, 1].min(), xy[:, 1].max())
        ax.set_aspect("equal")
        ax.set_axis_off()
        sm = plt.cm.ScalarMappable(norm=norm, cmap=cmap)
        fig.colorbar(sm, ax=ax, shrink=0.7, label=_escape(label))
        if title:
            ax.set_title(_escape(title))
        return savefig_svg(fig)
