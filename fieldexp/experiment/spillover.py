r"""Household spillovers: the effect of a canvass on the voter asked for and on housemates.

A canvasser is sent to one listed (*targeted*) member of each assigned household; the other
members hear the conversation too. Nickerson (2008) found about 60% of the effect on the
targeted voter passing to the other member of two-voter households. Households are the
randomisation unit, so every contrast is a regression on a subset of voters with standard
errors clustered by household (or by the coarser ``clusters`` the design assigned):

.. math::

    \text{direct}:\quad & Y_i = \alpha + \tau_D Z_{h(i)} + \varepsilon_i,
        \qquad i \text{ targeted}\\
    \text{spillover}:\quad & Y_i = \alpha + \tau_S Z_{h(i)} + \varepsilon_i,
        \qquad i \text{ not targeted}

(with block fixed effects and covariates added as in :func:`fieldexp.itt` ``method="ols"``,
i.e. estimatr ``lm_robust(y ~ z + x, fixed_effects = ~ block, clusters = household)``). Per
contact, the household's contact :math:`D_h` (its targeted member answered the door) is
instrumented by :math:`Z_h` (:func:`fieldexp.cace`, estimatr ``iv_robust(y ~ d | z, ...)``):
:math:`\tau_D^{c} = \tau_D / \mathrm{ITT}_D` and :math:`\tau_S^{c} = \tau_S / \mathrm{ITT}_D`.

With a placebo arm (Nickerson's recycling script) and ``treatment``, the placebo contrast
compares voters of *contacted* households in the treatment and placebo arms: the placebo
canvasser reveals who would have opened the door, so the comparison is among compliers and
needs no instrument. Without ``treatment`` it compares the whole arms.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from fieldexp._validate import as_column_list, check_binary, check_columns, check_frame, numeric
from fieldexp.errors import (
    DataError,
    DesignError,
    RowsDroppedWarning,
    SpecificationError,
    format_rows,
)
from fieldexp.experiment.api import cace, itt
from fieldexp.results import EffectResult, Estimates, Result

__all__ = ["SpilloverResult", "spillover"]

#: Order in which the contrasts are listed (to_frame, __str__).
EFFECT_NAMES: tuple[str, ...] = (
    "direct",
    "spillover",
    "direct_per_contact",
    "spillover_per_contact",
    "direct_vs_placebo",
    "spillover_vs_placebo",
    "between",
)


@dataclass(frozen=True, slots=True, eq=False)
class SpilloverResult(Result):
    """Direct and spillover effects of a household-randomised canvass.

    Attributes
    ----------
    direct, spillover : EffectResult or None
        ITT per assigned household on targeted / non-targeted members (assigned vs held-out
        households). ``None`` only when the design has no held-out (control) arm, i.e. a
        treatment-versus-placebo design.
    direct_per_contact, spillover_per_contact : EffectResult or None
        With ``treatment``: the same contrasts per contacted household (2SLS, ``estimand="CACE"``).
    direct_vs_placebo, spillover_vs_placebo : EffectResult or None
        With ``placebo``: treatment arm against the placebo arm, among contacted households
        when ``treatment`` is given (``placebo_contrast="contacted"``), else whole arms.
    pass_through : float
        Spillover estimate over direct estimate (per household; vs placebo when there is no
        control arm). NaN when the direct estimate is 0. No inference is attached to it.
    n_households, n_targeted, n_nontargeted : int
        Households and voters in the arms used.
    placebo_contrast : str or None
        ``"contacted"`` or ``"assigned"`` (see above); None without placebo.
    between : EffectResult or None
        Saturation designs: members of households *not* canvassed in canvassed clusters
        against pure-control clusters (spillover between households).
    saturation_effects : tuple of (name, EffectResult)
        Saturation designs, per positive level ``s``: ``"direct@s"``, ``"within@s"`` and
        ``"between@s"`` (each against the pure-control clusters) and, with ``treatment``,
        ``"direct_per_contact@s"`` and ``"within_per_contact@s"`` (CACE by 2SLS).
    notes : tuple of str
    """

    direct: EffectResult | None
    spillover: EffectResult | None
    direct_per_contact: EffectResult | None
    spillover_per_contact: EffectResult | None
    direct_vs_placebo: EffectResult | None
    spillover_vs_placebo: EffectResult | None
    pass_through: float
    n_households: int
    n_targeted: int
    n_nontargeted: int
    placebo_contrast: str | None = None
    between: EffectResult | None = None
    saturation_effects: tuple[tuple[str, EffectResult], ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)

    def effects(self) -> dict[str, EffectResult]:
        """The contrasts estimated, by name, in :data:`EFFECT_NAMES` order."""
        out: dict[str, EffectResult] = {}
        for name in EFFECT_NAMES:
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        out.update(self.saturation_effects)
        return out

    def to_frame(self) -> pd.DataFrame:
        """One row per contrast: an ``effect`` column then :data:`fieldexp.results.RESULT_COLUMNS`."""
        return effects_frame(self.effects())

    # Result hooks: text, HTML, summary and conf_int come from the shared base
    _table_in_text = False

    def _title(self) -> str:
        return (
            f"Household spillovers: {self.n_households:,} households, "
            f"{self.n_targeted:,} targeted and {self.n_nontargeted:,} non-targeted voters"
        )

    def _lines(self) -> list[str]:
        lines: list[str] = []
        for name, res in self.effects().items():
            lines.append(f"[{name}]")
            lines.extend("  " + line for line in str(res).splitlines())
        if math.isfinite(self.pass_through):
            lines.append(f"pass-through (spillover / direct): {self.pass_through:.3f}")
        lines.extend(f"note: {note}" for note in self.notes)
        return lines

    def _table(self) -> pd.DataFrame | None:
        cols = [
            "effect",
            "estimand",
            "estimate",
            "std_error",
            "p_value",
            "ci_low",
            "ci_high",
            "nobs",
        ]
        frame = self.to_frame()
        return frame[[c for c in cols if c in frame.columns]]

    def _estimates(self) -> Estimates | None:
        effects = self.effects()
        if not effects:
            return None
        return Estimates(
            labels=tuple(effects),
            estimate=np.array([r.estimate for r in effects.values()], dtype=float),
            std_error=np.array([r.std_error for r in effects.values()], dtype=float),
            df=np.array([r.df for r in effects.values()], dtype=float),
            label_name="effect",
        )


# ----------------------------------------------------------------- shared rendering helpers
def effects_frame(effects: dict[str, EffectResult]) -> pd.DataFrame:
    """Stack named :class:`EffectResult` rows with an ``effect`` column first."""
    frames = []
    for name, res in effects.items():
        frame = res.to_frame()
        frame.insert(0, "effect", name)
        frames.append(frame)
    if not frames:
        return pd.DataFrame(columns=["effect"])
    return pd.concat(frames, ignore_index=True)


# ----------------------------------------------------------------- validation
def _require_complete(frame: pd.DataFrame, columns: dict[str, str], function: str) -> None:
    for argument, column in columns.items():
        missing = frame[column].isna().to_numpy()
        if missing.any():
            raise DataError(
                f"column {column!r} (argument {argument!r} of {function}) describes the design and "
                f"cannot be missing; found {int(missing.sum()):,} missing values in "
                f"{format_rows(frame.index[missing][:5], total=int(missing.sum()))}."
            )


def _check_nested(frame: pd.DataFrame, inner: str, outer: str, *, what: str, function: str) -> None:
    """``frame[outer]`` must be constant within each group of ``frame[inner]``."""
    n_values = frame.groupby(inner, sort=False, observed=True)[outer].nunique(dropna=False)
    bad = n_values.index[n_values.to_numpy() > 1]
    if len(bad):
        rows = frame.index[frame[inner].isin(bad).to_numpy()]
        raise DesignError(
            f"{what}: column {outer!r} must be constant within each household of {inner!r}; "
            f"{len(bad):,} households have several values, in "
            f"{format_rows(rows[:5], total=len(rows))} ({function})."
        )


def _arm_masks(
    series: pd.Series,
    *,
    treated_arm: object,
    control_arm: object,
    placebo: object | None,
    function: str,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    labels = [treated_arm, control_arm] + ([placebo] if placebo is not None else [])
    if (
        len({repr(v) for v in labels}) != len(labels)
        or (len(labels) == 3 and (treated_arm == placebo or control_arm == placebo))
        or treated_arm == control_arm
    ):
        raise SpecificationError(
            f"treated_arm={treated_arm!r}, control_arm={control_arm!r} and placebo={placebo!r} "
            f"must be three different labels of the assignment column ({function})."
        )
    masks = [(series == v).to_numpy(dtype=bool) for v in labels]
    known = np.logical_or.reduce(masks)
    if not known.all():
        found = pd.unique(series[~known])[:5]
        raise DataError(
            f"column {series.name!r} (argument 'assignment' of {function}) holds labels other than "
            f"treated_arm={treated_arm!r}, control_arm={control_arm!r}"
            f"{'' if placebo is None else f', placebo={placebo!r}'}: found "
            f"{', '.join(map(repr, found))} in "
            f"{format_rows(series.index[~known][:5], total=int((~known).sum()))}."
        )
    if not masks[0].any():
        raise DataError(
            f"no household is in the treated arm ({treated_arm!r}) of {series.name!r} ({function})."
        )
    placebo_mask = masks[2] if placebo is not None else np.zeros(len(series), dtype=bool)
    if placebo is not None and not placebo_mask.any():
        raise DataError(
            f"no household is in the placebo arm ({placebo!r}) of {series.name!r} ({function})."
        )
    if not masks[1].any() and placebo is None:
        raise DataError(
            f"no household is in the control arm ({control_arm!r}) of {series.name!r} ({function}); "
            "a spillover effect needs held-out households (or a placebo arm)."
        )
    return masks[0], masks[1], placebo_mask


# ----------------------------------------------------------------- the estimator
def spillover(
    data: pd.DataFrame,
    outcome: str,
    assignment: str,
    *,
    targeted: str,
    household: str,
    blocks: str | None = None,
    clusters: str | None = None,
    treatment: str | None = None,
    covariates: str | list[str] | None = None,
    se_type: str | None = None,
    placebo: object | None = None,
    treated_arm: object = 1,
    control_arm: object = 0,
    alpha: float = 0.05,
    saturation: str | None = None,
) -> SpilloverResult:
    r"""Direct and spillover effects of a canvass randomised by household.

    Parameters
    ----------
    data : DataFrame
        One row per voter. Not modified.
    outcome : str
        Outcome column (e.g. voted 0/1). Rows missing it are dropped listwise (warning).
    assignment : str
        The household's arm: ``treated_arm`` (default 1), ``control_arm`` (default 0) and,
        optionally, the ``placebo`` label. Must be constant within households.
    targeted : str
        0/1: the voter is the listed member the canvasser asked for. Every household needs at
        least one targeted member.
    household : str
        Household id (the randomisation unit).
    blocks : str, optional
        Randomisation blocks (block fixed effects); households must be nested in them.
    clusters : str, optional
        Coarser clusters assigned whole (e.g. streets); households must be nested in them.
        Standard errors are clustered by ``clusters`` when given, else by ``household``.
    treatment : str, optional
        0/1: the targeted member was contacted. The household's contact is the value on its
        targeted member(s) (1 if any was contacted), broadcast to every member; values on
        non-targeted rows are not used (they may be missing).
    covariates : str or list of str, optional
        Pre-treatment covariates, added linearly (``method="ols"``).
    se_type : str, optional
        As :func:`fieldexp.itt` (default ``"CR2"``, clustered).
    placebo : label, optional
        Label of a placebo arm in ``assignment`` (Nickerson 2008's recycling script).
    treated_arm, control_arm : label
        Labels of the canvass and held-out arms.
    alpha : float
        Significance level of the confidence intervals.
    saturation : str, optional
        Two-stage (saturation) designs (Sinclair, McConnell & Green 2012; see
        :class:`fieldexp.design.saturation.SaturationDesign`): column holding each cluster's
        saturation level (share of its households canvassed; 0 = pure control). Needs
        ``clusters`` (the stage-1 clusters, which also cluster the standard errors). The
        comparison group of every contrast is then the pure-control clusters: ``direct`` and
        ``spillover`` (within household) use canvassed households of saturated clusters,
        ``between`` the households left out in saturated clusters; ``saturation_effects``
        repeats the three by level and, with ``treatment``, the per-contact effects by level
        (``"direct_per_contact@s"``, ``"within_per_contact@s"``: 2SLS of the outcome on the
        household's contact instrumented by its assignment, canvassed households of
        saturation-``s`` clusters against pure-control clusters, i.e. estimatr
        ``iv_robust(y ~ contact | z, data = subset, clusters = cluster)``).

    Returns
    -------
    SpilloverResult
        ``direct`` / ``spillover`` (ITT per assigned household), ``*_per_contact`` (CACE by
        2SLS, with ``treatment``), ``*_vs_placebo`` (with ``placebo``).

    Notes
    -----
    Each contrast is :func:`fieldexp.itt` (``method="ols"``) or :func:`fieldexp.cace` on the
    subset of voters concerned, equal to estimatr

    - direct: ``lm_robust(y ~ z + x, data = subset(d, targeted == 1), fixed_effects = ~ block,
      clusters = household)``, :math:`\hat\tau_D`;
    - spillover: the same on ``targeted == 0``, :math:`\hat\tau_S`;
    - per contact: ``iv_robust(y ~ contact + x | z + x, ...)`` on the same subsets,
      :math:`\hat\tau_D/\widehat{ITT}_D` and :math:`\hat\tau_S/\widehat{ITT}_D` without covariates;
    - vs placebo: ``lm_robust(y ~ z, data = subset(d, contact == 1 & arm != control))``.

    ``pass_through`` is :math:`\hat\tau_S / \hat\tau_D` (about 0.6 in Nickerson 2008).
    """
    function = "fieldexp.spillover"
    frame = check_frame(data, function=function)
    covs = as_column_list(covariates, function=function, argument="covariates")
    roles = {
        "outcome": outcome,
        "assignment": assignment,
        "targeted": targeted,
        "household": household,
        "blocks": blocks,
        "clusters": clusters,
        "treatment": treatment,
    }
    check_columns(frame, roles, function=function)
    design_cols = {
        k: v for k, v in roles.items() if v is not None and k not in ("outcome", "treatment")
    }
    _require_complete(frame, design_cols, function)
    tmask, cmask, pmask = _arm_masks(
        frame[assignment],
        treated_arm=treated_arm,
        control_arm=control_arm,
        placebo=placebo,
        function=function,
    )
    is_target = check_binary(frame[targeted], argument="targeted", function=function) == 1

    _check_nested(
        frame, household, assignment, what="households are assigned whole", function=function
    )
    if blocks is not None:
        _check_nested(frame, household, blocks, what="households nest in blocks", function=function)
    if clusters is not None:
        _check_nested(
            frame, household, clusters, what="households nest in clusters", function=function
        )

    hh_codes, hh_uniques = pd.factorize(frame[household], sort=True)
    n_hh = len(hh_uniques)
    targets_per_hh = np.bincount(hh_codes, weights=is_target.astype(float), minlength=n_hh)
    no_target = targets_per_hh[hh_codes] == 0
    if no_target.any():
        raise DesignError(
            f"every household of {household!r} needs a targeted member ({targeted!r} = 1); "
            f"{int((targets_per_hh == 0).sum()):,} households have none, in "
            f"{format_rows(frame.index[no_target][:5], total=int(no_target.sum()))} ({function})."
        )
    if not (~is_target).any():
        raise DataError(
            f"no voter has {targeted!r} = 0 ({function}): a spillover needs non-targeted members "
            "of canvassed households."
        )

    # rows without the outcome or a covariate are left out of every contrast, said once here
    incomplete = frame[[outcome, *covs]].isna().any(axis=1).to_numpy()
    if incomplete.all():
        raise DataError(
            f"every row has a missing value in {', '.join(map(repr, [outcome, *covs]))} "
            f"({function}); nothing is left to analyse."
        )
    if incomplete.any():
        warnings.warn(
            f"{function}: left out {int(incomplete.sum()):,} of {len(frame):,} voters with a "
            f"missing outcome or covariate (listwise), first "
            f"{format_rows(frame.index[incomplete][:5], total=int(incomplete.sum()))}; their "
            "households' assignment and contact still count.",
            RowsDroppedWarning,
            stacklevel=2,
        )
        is_target_used = is_target & ~incomplete
    else:
        is_target_used = is_target

    # the working frame: a copy of the used columns, assignment recoded to 0/1 for each contrast
    used = list(dict.fromkeys([outcome, *covs] + [c for c in (blocks, clusters, household) if c]))
    work = frame.loc[:, used].copy()
    cluster_col = clusters if clusters is not None else household
    notes: list[str] = []
    contact: np.ndarray | None = None
    if treatment is not None:
        d_target = frame.loc[is_target, treatment]
        _require_complete(frame.loc[is_target], {"treatment": treatment}, function)
        d = check_binary(d_target, argument="treatment", function=function)
        hh_contact = np.zeros(n_hh)
        np.maximum.at(hh_contact, hh_codes[is_target], d)
        contact = hh_contact[hh_codes]
        work[treatment] = contact
        if (contact[cmask] == 1).any():
            notes.append(
                "some held-out households were recorded as contacted (two-sided noncompliance)."
            )

    sat_values: np.ndarray | None = None
    if saturation is not None:
        sat_values = _saturation_values(
            frame, saturation, clusters=clusters, treated=tmask, placebo=placebo, function=function
        )

    def _subset(rows: np.ndarray, z: np.ndarray) -> pd.DataFrame:
        rows = rows & ~incomplete
        sub = work.loc[rows].copy()
        sub[assignment] = z[rows].astype(np.float64)
        return sub

    z_treat = tmask.astype(np.float64)
    common = {"blocks": blocks, "clusters": cluster_col, "covariates": covs or None}

    def _itt(rows: np.ndarray, z: np.ndarray = z_treat) -> EffectResult:
        return itt(
            _subset(rows, z),
            outcome,
            assignment,
            method="ols",
            se_type=se_type,
            alpha=alpha,
            **common,  # type: ignore[arg-type]
        )

    def _cace(rows: np.ndarray) -> EffectResult:
        assert treatment is not None
        return cace(
            _subset(rows, z_treat),
            outcome,
            treatment,
            assignment,
            se_type=se_type,
            alpha=alpha,
            **common,  # type: ignore[arg-type]
        )

    direct = spill = direct_c = spill_c = direct_p = spill_p = between = None
    sat_effects: list[tuple[str, EffectResult]] = []
    tc = tmask | cmask
    if sat_values is not None:
        pure = sat_values == 0
        exposed = ~pure
        tc = (tmask & exposed) | pure
        left_out = cmask & exposed
        between = _itt(left_out | pure, left_out.astype(np.float64))
        for level in np.unique(sat_values[exposed]):
            at = sat_values == level
            tag = f"{level:g}"
            for name, rows in (("direct", is_target), ("within", ~is_target)):
                sel = rows & ((tmask & at) | pure)
                if (sel & tmask).any():
                    sat_effects.append((f"{name}@{tag}", _itt(sel)))
                    if treatment is not None:  # per contact: 2SLS, assignment instruments contact
                        sat_effects.append((f"{name}_per_contact@{tag}", _cace(sel)))
            if (left_out & at).any():
                lo = left_out & at
                sat_effects.append((f"between@{tag}", _itt(lo | pure, lo.astype(np.float64))))
    if cmask.any():
        direct = _itt(tc & is_target)
        spill = _itt(tc & ~is_target)
        if treatment is not None:
            direct_c = _cace(tc & is_target)
            spill_c = _cace(tc & ~is_target)
    placebo_contrast: str | None = None
    if placebo is not None:
        tp = tmask | pmask
        if contact is not None:
            tp = tp & (contact == 1)
            placebo_contrast = "contacted"
        else:
            placebo_contrast = "assigned"
        direct_p = _itt(tp & is_target)
        spill_p = _itt(tp & ~is_target)

    num, den = (spill, direct) if direct is not None else (spill_p, direct_p)
    assert num is not None and den is not None
    pass_through = num.estimate / den.estimate if den.estimate != 0 else math.nan
    arms = tmask | cmask | pmask
    return SpilloverResult(
        direct=direct,
        spillover=spill,
        direct_per_contact=direct_c,
        spillover_per_contact=spill_c,
        direct_vs_placebo=direct_p,
        spillover_vs_placebo=spill_p,
        pass_through=float(pass_through),
        n_households=len(np.unique(hh_codes[arms])),
        n_targeted=int((arms & is_target_used).sum()),
        n_nontargeted=int((arms & ~is_target & ~incomplete).sum()),
        placebo_contrast=placebo_contrast,
        between=between,
        saturation_effects=tuple(sat_effects),
        notes=tuple(notes),
    )


def _saturation_values(
    frame: pd.DataFrame,
    saturation: str,
    *,
    clusters: str | None,
    treated: np.ndarray,
    placebo: object | None,
    function: str,
) -> np.ndarray:
    """Validated saturation level per row: numeric in [0, 1], constant within clusters, with
    pure-control (0) and saturated (> 0) clusters, and nobody treated in pure-control ones."""
    if clusters is None:
        raise SpecificationError(
            f"'saturation' in {function} needs 'clusters' (the clusters randomised to saturations)."
        )
    if placebo is not None:
        raise SpecificationError(f"{function} does not combine 'saturation' with 'placebo'.")
    check_columns(frame, {"saturation": saturation}, function=function)
    _require_complete(frame, {"saturation": saturation}, function)
    values = numeric(frame[saturation], argument="saturation", function=function)
    bad = (values < 0) | (values > 1)
    if bad.any():
        raise DataError(
            f"column {saturation!r} (argument 'saturation' of {function}) holds shares in [0, 1]; "
            f"found {', '.join(f'{v:g}' for v in np.unique(values[bad])[:5])} in "
            f"{format_rows(frame.index[bad][:5], total=int(bad.sum()))}."
        )
    n_values = pd.Series(values, index=frame.index).groupby(frame[clusters].to_numpy()).nunique()
    if (n_values > 1).any():
        raise DesignError(
            f"column {saturation!r} must be constant within each cluster of {clusters!r} "
            f"(clusters are randomised to a saturation); {int((n_values > 1).sum()):,} clusters "
            f"have several levels ({function})."
        )
    if not (values == 0).any() or not (values > 0).any():
        raise DesignError(
            f"a saturation design needs pure-control clusters ({saturation!r} = 0) and saturated "
            f"ones (> 0); found levels {sorted(set(values.tolist()))} ({function})."
        )
    wrong = treated & (values == 0)
    if wrong.any():
        raise DesignError(
            f"households are canvassed in pure-control clusters ({saturation!r} = 0), in "
            f"{format_rows(frame.index[wrong][:5], total=int(wrong.sum()))} ({function})."
        )
    return values
