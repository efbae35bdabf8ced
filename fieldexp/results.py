"""Typed results shared by every estimator: one schema, as estimatr's ``tidy`` output.

Every estimate fieldexp reports is an :class:`EffectResult` with the columns
``estimate, std_error, statistic, df, p_value, ci_low, ci_high, nobs, nclusters``
plus what was estimated (``outcome``, ``term``, ``estimand``) and how
(``method``, ``se_type``, ``design``). Results are frozen; they render as text,
as a one-row DataFrame (:meth:`EffectResult.to_frame`) and as HTML in Jupyter.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING

from fieldexp.stats.inference import t_inference

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = ["RESULT_COLUMNS", "EffectResult", "FirstStage"]

#: The columns of :meth:`EffectResult.to_frame`, in order (the results.json schema uses them too).
RESULT_COLUMNS: tuple[str, ...] = (
    "outcome",
    "term",
    "estimand",
    "method",
    "se_type",
    "design",
    "estimate",
    "std_error",
    "statistic",
    "df",
    "p_value",
    "ci_low",
    "ci_high",
    "alpha",
    "nobs",
    "nclusters",
)


@dataclass(frozen=True, slots=True)
class FirstStage:
    """First stage of a CACE estimate: the effect of assignment on contact (ITT_D).

    ``estimate`` is the contact-rate difference between assigned and not-assigned
    units (with covariates and blocks as in the second stage), ``f_statistic`` the
    robust Wald F of the excluded instrument, ``(estimate / std_error)^2`` for one
    instrument.
    """

    estimate: float
    std_error: float
    statistic: float
    df: float
    p_value: float
    ci_low: float
    ci_high: float
    f_statistic: float
    treatment: str
    assignment: str
    control_contact_rate: float
    treated_contact_rate: float

    @classmethod
    def from_estimate(
        cls,
        *,
        estimate: float,
        std_error: float,
        df: float,
        alpha: float,
        treatment: str,
        assignment: str,
        control_contact_rate: float,
        treated_contact_rate: float,
    ) -> FirstStage:
        if std_error == 0 and estimate != 0:
            # perfect compliance within blocks: contact is a deterministic function of
            # assignment, the strongest possible first stage
            return cls(
                estimate=estimate,
                std_error=0.0,
                statistic=math.inf,
                df=df,
                p_value=0.0,
                ci_low=estimate,
                ci_high=estimate,
                f_statistic=math.inf,
                treatment=treatment,
                assignment=assignment,
                control_contact_rate=control_contact_rate,
                treated_contact_rate=treated_contact_rate,
            )
        inf = t_inference(estimate, std_error, df, alpha)
        f_stat = inf.statistic**2 if math.isfinite(inf.statistic) else math.nan
        return cls(
            estimate=estimate,
            std_error=std_error,
            statistic=inf.statistic,
            df=df,
            p_value=inf.p_value,
            ci_low=inf.ci_low,
            ci_high=inf.ci_high,
            f_statistic=f_stat,
            treatment=treatment,
            assignment=assignment,
            control_contact_rate=control_contact_rate,
            treated_contact_rate=treated_contact_rate,
        )


@dataclass(frozen=True, slots=True, eq=False)
class EffectResult:
    """One estimated effect with its inference, in estimatr's tidy schema.

    Attributes
    ----------
    estimate, std_error, statistic, df, p_value, ci_low, ci_high : float
        Point estimate, standard error, t statistic, degrees of freedom, two-sided
        p-value and the ``1 - alpha`` confidence interval.
    nobs : int
        Rows used (after listwise deletion).
    nclusters : int or None
        Number of clusters, when the design or the SEs are clustered.
    se_type : str
        Variance estimator (``"HC2"``, ``"CR2"``, ``"stata"``, ... or a design-based
        variance such as ``"welch"``/``"blocked"`` for difference in means).
    method : str
        Estimator (``"dim"``, ``"ols"``, ``"lin"``, ``"2sls"``, ``"twfe"`` ...).
    design : str
        Design the variance reflects (``"standard"``, ``"blocked"``, ``"clustered"``,
        ``"blocked-clustered"``, ``"matched-pair"``, ``"matched-pair-clustered"``).
    outcome, term : str
        Outcome column and the coefficient reported (the assignment or treatment column).
    estimand : str
        ``"ITT"``, ``"CACE"``, ``"ATT"``.
    first_stage : FirstStage or None
        For CACE: the contact-rate ITT_D and first-stage F.
    n_dropped : int
        Rows set aside by listwise deletion.
    notes : tuple of str
        Anything the analyst should know (contacts among controls, weak first stage...).
    """

    estimate: float
    std_error: float
    statistic: float
    df: float
    p_value: float
    ci_low: float
    ci_high: float
    nobs: int
    nclusters: int | None
    se_type: str
    method: str
    design: str
    outcome: str
    term: str
    estimand: str = "ITT"
    alpha: float = 0.05
    first_stage: FirstStage | None = None
    n_dropped: int = 0
    notes: tuple[str, ...] = field(default_factory=tuple)

    @classmethod
    def from_estimate(
        cls,
        *,
        estimate: float,
        std_error: float,
        df: float,
        alpha: float,
        **kwargs: object,
    ) -> EffectResult:
        """Build a result from ``estimate, std_error, df`` through the one inference helper."""
        inf = t_inference(estimate, std_error, df, alpha)
        return cls(
            estimate=float(estimate),
            std_error=float(std_error),
            statistic=inf.statistic,
            df=float(df),
            p_value=inf.p_value,
            ci_low=inf.ci_low,
            ci_high=inf.ci_high,
            alpha=alpha,
            **kwargs,  # type: ignore[arg-type]
        )

    # ----------------------------------------------------------------- views
    def as_dict(self) -> dict[str, object]:
        """The schema columns as a plain dict (for JSON export)."""
        return {name: getattr(self, name) for name in RESULT_COLUMNS}

    def to_frame(self) -> pd.DataFrame:
        """One-row DataFrame with the columns of :data:`RESULT_COLUMNS`."""
        import pandas as pd

        row = self.as_dict()
        frame = pd.DataFrame([row], columns=list(RESULT_COLUMNS))
        if self.first_stage is not None:
            frame["first_stage_estimate"] = self.first_stage.estimate
            frame["first_stage_std_error"] = self.first_stage.std_error
            frame["first_stage_f"] = self.first_stage.f_statistic
        return frame

    def _header(self) -> str:
        level = round(100 * (1 - self.alpha))
        return (
            f"{self.estimand} of {self.term!r} on {self.outcome!r}  "
            f"[method={self.method}, se_type={self.se_type}, design={self.design}, {level}% CI]"
        )

    def __str__(self) -> str:
        level = round(100 * (1 - self.alpha))
        lines = [self._header()]
        lines.append(
            f"  estimate {self.estimate: .6f}   std.error {self.std_error:.6f}   "
            f"t {self.statistic: .3f}   df {_fmt_df(self.df)}   p {_fmt_p(self.p_value)}"
        )
        lines.append(f"  {level}% CI [{self.ci_low: .6f}, {self.ci_high: .6f}]")
        clusters = f", clusters {self.nclusters:,}" if self.nclusters is not None else ""
        dropped = f", dropped {self.n_dropped:,}" if self.n_dropped else ""
        lines.append(f"  nobs {self.nobs:,}{clusters}{dropped}")
        if self.first_stage is not None:
            fs = self.first_stage
            lines.append(
                f"  first stage (contact rate ITT_D): {fs.estimate:.6f} (se {fs.std_error:.6f}), "
                f"F = {fs.f_statistic:,.1f}"
            )
        lines.extend(f"  note: {note}" for note in self.notes)
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (
            f"EffectResult(estimand={self.estimand!r}, outcome={self.outcome!r}, term={self.term!r}, "
            f"estimate={self.estimate:.6g}, std_error={self.std_error:.6g}, p_value={self.p_value:.4g}, "
            f"nobs={self.nobs})"
        )

    def _repr_html_(self) -> str:
        level = round(100 * (1 - self.alpha))
        cells = [
            ("Estimate", f"{self.estimate:.4f}"),
            ("Std. error", f"{self.std_error:.4f}"),
            ("t", f"{self.statistic:.2f}"),
            ("df", _fmt_df(self.df)),
            ("p-value", _fmt_p(self.p_value)),
            (f"{level}% CI", f"[{self.ci_low:.4f}, {self.ci_high:.4f}]"),
            ("N", f"{self.nobs:,}"),
        ]
        if self.nclusters is not None:
            cells.append(("Clusters", f"{self.nclusters:,}"))
        head = "".join(f"<th>{html.escape(k)}</th>" for k, _ in cells)
        body = "".join(f"<td>{html.escape(v)}</td>" for _, v in cells)
        extra = ""
        if self.first_stage is not None:
            fs = self.first_stage
            extra += (
                f"<p>First stage (contact rate ITT<sub>D</sub>): {fs.estimate:.4f} "
                f"(s.e. {fs.std_error:.4f}), F = {fs.f_statistic:,.1f}</p>"
            )
        for note in self.notes:
            extra += f"<p><em>Note:</em> {html.escape(note)}</p>"
        return (
            '<div class="fieldexp-result">'
            f"<p><strong>{html.escape(self._header())}</strong></p>"
            f"<table><thead><tr>{head}</tr></thead><tbody><tr>{body}</tr></tbody></table>"
            f"{extra}</div>"
        )


def _fmt_p(p: float) -> str:
    if not math.isfinite(p):
        return "NA"
    return "<0.0001" if p < 1e-4 else f"{p:.4f}"


def _fmt_df(df: float) -> str:
    if math.isinf(df):
        return "inf"
    if not math.isfinite(df):
        return "NA"
    return f"{df:,.0f}" if float(df).is_integer() else f"{df:,.2f}"


def result_fields() -> tuple[str, ...]:
    """All attribute names of :class:`EffectResult` (for tests and serialisers)."""
    return tuple(f.name for f in fields(EffectResult))
