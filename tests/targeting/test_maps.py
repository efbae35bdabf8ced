"""fx.choropleth: deterministic SVG, missing boundaries warned, labels escaped."""

from __future__ import annotations

import pandas as pd
import pytest

from fieldexp.errors import DataError, FieldexpWarning
from fieldexp.targeting import choropleth


def _geo() -> dict:
    def square(x: float, y: float) -> list:
        return [[[x, y], [x + 1, y], [x + 1, y + 1], [x, y + 1], [x, y]]]

    feats = [
        {
            "type": "Feature",
            "properties": {"precinct_id": "A"},
            "geometry": {"type": "Polygon", "coordinates": square(0, 0)},
        },
        {
            "type": "Feature",
            "properties": {"precinct_id": "B"},
            "geometry": {"type": "Polygon", "coordinates": square(1, 0)},
        },
        {
            "type": "Feature",
            "properties": {"precinct_id": "C"},
            "geometry": {"type": "MultiPolygon", "coordinates": [square(0, 1), square(2, 2)]},
        },
    ]
    return {"type": "FeatureCollection", "features": feats}


def test_svg_is_deterministic_and_has_one_path_per_ring() -> None:
    v = pd.Series({"A": 0.1, "B": -0.05, "C": 0.02})
    a = choropleth(_geo(), v, title="net votes per door $x^{", label="per door")
    b = choropleth(
        _geo(), v.sample(frac=1, random_state=1), title="net votes per door $x^{", label="per door"
    )
    assert a == b
    assert a.startswith("<svg") and "Date" not in a
    assert "net votes per door $x^{" in a  # math text escaped, shown literally


def test_missing_boundaries_and_values() -> None:
    v = pd.Series({"A": 0.1, "Z": 0.3})
    with pytest.warns(FieldexpWarning, match="1 precinct"):
        svg = choropleth(_geo(), v)
    assert "<svg" in svg


def test_bad_geojson(tmp_path) -> None:
    with pytest.raises(DataError, match="FeatureCollection"):
        choropleth({"type": "Feature"}, pd.Series({"A": 1.0}))
    with pytest.raises(DataError, match="does not exist"):
        choropleth(tmp_path / "nope.geojson", pd.Series({"A": 1.0}))
    geo = _geo()
    del geo["features"][0]["properties"]["precinct_id"]
    with pytest.raises(DataError, match="lacks the property"):
        choropleth(geo, pd.Series({"A": 1.0}))
