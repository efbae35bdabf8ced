"""Where to knock next time.

:func:`uplift` scores each voter's effect by cross-fitting (a voter's score never uses that
voter's outcome); :func:`rate` estimates the rank-weighted average treatment effect of any
priority with a design-replaying standard error; :func:`precinct_priorities` ranks polling
stations by expected net votes per door knocked (50+1 style) with intervals, and its
``plan(doors)`` allocates a budget of doors to precincts; :func:`voter_plan` spends it on the
highest-priority voters with a design-based interval; :func:`choropleth` draws precinct values on a map.
"""

from fieldexp.targeting.maps import choropleth, read_geojson
from fieldexp.targeting.priorities import (
    Effect,
    KnockPlan,
    PrecinctPriorities,
    load_blocs,
    precinct_priorities,
)
from fieldexp.targeting.rate import RateResult, rate
from fieldexp.targeting.uplift import UpliftResult, uplift
from fieldexp.targeting.voters import voter_plan

__all__ = [
    "Effect",
    "KnockPlan",
    "PrecinctPriorities",
    "RateResult",
    "UpliftResult",
    "choropleth",
    "load_blocs",
    "precinct_priorities",
    "rate",
    "read_geojson",
    "uplift",
    "voter_plan",
]
