"""Targeting figures: deterministic SVG, and a user's usetex / mathtext settings change nothing."""

from __future__ import annotations

import matplotlib
import numpy as np
import pandas as pd

from fieldexp.targeting import choropleth
from fieldexp.targeting.svg import toc_svg


def _toc() -> pd.DataFrame:
    q = np.linspace(0.02, 1.0, 50)
    toc = 0.05 * (1 - q)
    return pd.DataFrame({"q": q, "toc": toc, "ci_low": toc - 0.01, "ci_high": toc + 0.01})


def _geo() -> dict[str, object]:
    feats = []
    for k, pid in enumerate(["a", "b", "c"]):
        ring = [[k, 0], [k + 1, 0], [k + 1, 1], [k, 1], [k, 0]]
        feats.append(
            {
                "type": "Feature",
                "properties": {"precinct_id": pid},
                "geometry": {"type": "Polygon", "coordinates": [ring]},
            }
        )
    return {"type": "FeatureCollection", "features": feats}


def _draw() -> tuple[str, str]:
    toc = toc_svg([("uplift $x^2$", _toc()), ("=cmd|' /C calc'!A0", _toc())], title="$\\alpha$")
    values = pd.Series([0.1, -0.2, 0.3], index=["a", "b", "c"])
    geo = choropleth(_geo(), values, title="net $votes$", label="$\\frac{1}{0}$")
    return toc, geo


def test_same_bytes_twice_and_no_date() -> None:
    a, b = _draw(), _draw()
    assert a == b
    for svg in a:
        assert svg.startswith("<svg") and "<dc:date>" not in svg


def test_usetex_and_mathtext_in_the_user_rc_change_nothing() -> None:
    plain = _draw()
    with matplotlib.rc_context({"text.usetex": True, "axes.formatter.use_mathtext": True}):
        under_tex = _draw()
    assert under_tex == plain  # usetex forced off: no TeX run, same bytes
    toc, geo = plain
    assert "uplift $x^2$" in toc  # dollar signs shown literally, not as maths
    assert "$\\alpha$" in toc and "net $votes$" in geo
