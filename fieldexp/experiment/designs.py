r"""Design matrices for the regression estimators of an experiment (pure functions).

* ``ols``: :math:`y = \alpha_b + \tau z + X\gamma + \varepsilon` — the block intercepts
  :math:`\alpha_b` are absorbed (estimatr ``lm_robust(..., fixed_effects = ~ blocks)``).
* ``lin`` (Lin 2013, estimatr ``lm_lin``): covariates centred at their (weighted) means,
  :math:`\tilde X = X - \bar X`, and interacted with assignment,
  :math:`y = \alpha + \tau z + \tilde X\gamma + z\tilde X\delta + \varepsilon`; with blocks,
  the block indicators (all but the first level) join the centred, interacted covariates,
  so :math:`\hat\tau` averages block-specific effects weighted by block size.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fieldexp.errors import EstimationError, SpecificationError
from fieldexp.stats.groups import GroupIndex

__all__ = ["RegressionDesign", "lin_design", "ols_design"]

#: largest dense Lin design (rows x columns) we build
MAX_LIN_CELLS = 200_000_000


@dataclass(frozen=True, slots=True, eq=False)
class RegressionDesign:
    """Regressors, instruments (for 2SLS) and the fixed effects to absorb."""

    X: np.ndarray
    names: tuple[str, ...]
    absorb: tuple[GroupIndex, ...]
    Z: np.ndarray | None = None


def ols_design(
    lead: np.ndarray,
    lead_name: str,
    covariates: np.ndarray,
    covariate_names: tuple[str, ...],
    blocks: GroupIndex | None,
    *,
    instrument: np.ndarray | None = None,
) -> RegressionDesign:
    """``lead`` (assignment, or treatment for 2SLS) plus covariates, block FE absorbed.

    With ``instrument`` the instruments are ``instrument`` plus the same covariates.
    """
    parts = [lead[:, None], covariates]
    names = (lead_name, *covariate_names)
    absorb: tuple[GroupIndex, ...] = ()
    if blocks is None:
        parts.insert(0, np.ones((len(lead), 1)))
        names = ("(Intercept)", *names)
    else:
        absorb = (blocks,)
    X = np.column_stack(parts)
    Z = None
    if instrument is not None:
        zparts = [instrument[:, None], covariates]
        if blocks is None:
            zparts.insert(0, np.ones((len(lead), 1)))
        Z = np.column_stack(zparts)
    return RegressionDesign(X=X, names=names, absorb=absorb, Z=Z)


def lin_design(
    z: np.ndarray,
    z_name: str,
    covariates: np.ndarray,
    covariate_names: tuple[str, ...],
    blocks: GroupIndex | None,
    weights: np.ndarray | None,
) -> RegressionDesign:
    """Lin's interacted design: intercept, ``z``, centred covariates, ``z`` x centred covariates."""
    cov = covariates
    names = list(covariate_names)
    # block indicators go first: a covariate that is constant within blocks is then the
    # column reported as collinear, not an internal indicator
    if blocks is not None:
        if len(z) * (2 * (cov.shape[1] + blocks.n_groups)) > MAX_LIN_CELLS:
            raise EstimationError(
                f"Lin's estimator with {blocks.n_groups:,} blocks would need a "
                f"{len(z):,} x {2 * (cov.shape[1] + blocks.n_groups):,} design, needed only "
                "for CR2 with weights or with clusters coarser than the assignment (every other "
                "variance absorbs the block x arm cells); use se_type='stata' or 'CR0', or "
                "method='ols' (block fixed effects)"
            )
        D = np.zeros((len(z), blocks.n_groups - 1))
        rows = np.flatnonzero(blocks.codes > 0)
        D[rows, blocks.codes[rows] - 1] = 1.0
        cov = np.column_stack([D, cov])
        names = [f"block[{j}]" for j in range(1, blocks.n_groups)] + names
    if cov.shape[1] == 0:
        raise SpecificationError(
            "method='lin' needs `covariates` (or `blocks`) to adjust for; "
            "use method='dim' for an unadjusted difference in means"
        )
    centre = np.average(cov, axis=0, weights=weights)
    centred = cov - centre
    X = np.column_stack([np.ones(len(z)), z, centred, centred * z[:, None]])
    all_names = (
        "(Intercept)",
        z_name,
        *(f"{n}_c" for n in names),
        *(f"{z_name}:{n}_c" for n in names),
    )
    return RegressionDesign(X=X, names=all_names, absorb=())
