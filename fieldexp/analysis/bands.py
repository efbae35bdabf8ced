r"""Vote-propensity bands: the ONE definition, shared by the analysis table and the simulation.

A voter's band comes from :math:`v`, the earlier elections voted in, out of :math:`k`:

.. math::

    \text{band} = \begin{cases} \text{never} & v = 0 \\
    \text{intermittent} & 0 < v/k < 1/2 \\
    \text{regular} & v/k \ge 1/2 \end{cases}

and is missing when there is no earlier election (:math:`k = 0`) or :math:`v` is missing.
:func:`propensity_band` computes it on arrays; :func:`propensity_band_sql` writes the same rule
as a DuckDB expression for :func:`fieldexp.analysis.build_analysis_table`;
:func:`fieldexp.simulate` labels its voters (and sets its band effects) with
:func:`propensity_band`. A test checks that the two renderings agree.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = [
    "PROPENSITY_BANDS",
    "propensity_band",
    "propensity_band_codes",
    "propensity_band_sql",
]

#: The band labels, from the least to the most regular voters.
PROPENSITY_BANDS: tuple[str, str, str] = ("never", "intermittent", "regular")
NEVER, INTERMITTENT, REGULAR = PROPENSITY_BANDS


def propensity_band_codes(past_votes: npt.ArrayLike, past_elections: int) -> npt.NDArray[np.int8]:
    """The band of each voter as its position in :data:`PROPENSITY_BANDS` (``-1``: missing).

    The rule itself (see the module docstring); :func:`propensity_band` gives the labels.
    Integer codes keep millions of simulated voters cheap (they become a Categorical).
    """
    v = np.asarray(past_votes, dtype=float)
    k = int(past_elections)
    codes = np.where(v == 0, 0, np.where(2 * v < k, 1, 2)).astype(np.int8)
    codes[np.isnan(v)] = -1
    if k <= 0:
        codes[:] = -1
    return codes


def propensity_band(past_votes: npt.ArrayLike, past_elections: int) -> np.ndarray:
    r"""``never`` (0 earlier votes), ``intermittent`` (fewer than half), ``regular`` (half or more).

    .. math:: \text{band} = \begin{cases} \text{never} & v = 0 \\
              \text{intermittent} & 0 < v/k < 1/2 \\ \text{regular} & v/k \ge 1/2 \end{cases}

    with :math:`v` the earlier elections voted in out of :math:`k`.

    Parameters
    ----------
    past_votes : array_like
        Earlier elections voted in, per voter (missing values give a missing band).
    past_elections : int
        :math:`k`, the number of earlier elections counted. With ``0`` every band is missing.

    Returns
    -------
    numpy.ndarray
        Object array of band labels (:data:`PROPENSITY_BANDS`) and ``None`` where missing.
    """
    codes = propensity_band_codes(past_votes, past_elections)
    labels = np.array([*PROPENSITY_BANDS, None], dtype=object)
    return labels[codes]  # code -1 picks the trailing None


def propensity_band_sql(past_votes: str, past_elections: int) -> str:
    """The rule of :func:`propensity_band` as a SQL expression on ``past_votes``."""
    k = int(past_elections)
    if k <= 0:
        return "CAST(NULL AS VARCHAR)"
    return (
        f"CASE WHEN ({past_votes}) IS NULL THEN NULL WHEN ({past_votes}) = 0 THEN '{NEVER}' "
        f"WHEN 2 * ({past_votes}) < {k} THEN '{INTERMITTENT}' ELSE '{REGULAR}' END"
    )
