"""Where to knock next time: out-of-fold uplift scores and an honest judge of any ranking (RATE).

:func:`uplift` scores each voter's effect by cross-fitting (a voter's score never uses that
voter's outcome); :func:`rate` estimates the rank-weighted average treatment effect of any
priority with a design-replaying standard error.
"""

from fieldexp.targeting.rate import RateResult, rate
from fieldexp.targeting.uplift import UpliftResult, uplift

__all__ = ["RateResult", "UpliftResult", "rate", "uplift"]
