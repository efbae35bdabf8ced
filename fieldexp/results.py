"""Typed results shared by every estimator: one schema, one output protocol.

Every estimate fieldexp reports is an :class:`EffectResult` with the columns
``estimate, std_error, statistic, df, p_value, ci_low, ci_high, nobs, nclusters``
plus what was estimated (``outcome``, ``term``, ``estimand``) and how
(``estimator``/``method``, ``se_type``, ``design``).

Every result class (here and next to its estimator) inherits :class:`Result`, written once, as
pyfixest's output mixin and linearmodels' results: it gives ``__str__``, ``_repr_html_``,
:meth:`~Result.to_frame`, :meth:`~Result.summary`, :meth:`~Result.conf_int` at any level after
estimation (through :func:`fieldexp.stats.inference.t_inference`, so the interval at the original
``alpha`` is the one the estimator reported) and :meth:`~Result.plot` where a plot makes sense,
from a few small per-class hooks (``_title``, ``_lines``, ``_table``, ``_estimates``, ``_plot``).
Joint tests (pre-trends, omnibus balance, equal subgroup effects) are one :class:`TestResult`.
Subclasses register themselves: :func:`result_classes` lists them (a test renders each one).
"""

from __future__ import annotations

import html
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from fieldexp.stats.inference import t_inference

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = [
    "RESULT_COLUMNS",
    "EffectResult",
    "Estimates",
    "FirstStage",
    "Result",
    "Summary",
    "TestResult",
    "result_classes",
]

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

#: Every class that inherits :class:`Result`, by ``module.qualname`` (filled by ``__init_subclass__``).
_REGISTRY: dict[str, type[Result]] = {}


def result_classes() -> tuple[type[Result], ...]:
    """Every result class defined so far (import the modules first), sorted by qualified name."""
    return tuple(_REGISTRY[k] for k in sorted(_REGISTRY))


@dataclass(frozen=True, slots=True, eq=False)
class Estimates:
    """What :meth:`Result.conf_int` needs: labelled ``estimate, std_error, df`` (hook output).

    ``single`` marks a result that holds one estimate (its interval is a ``(low, high)`` tuple).
    """

    labels: tuple[object, ...]
    estimate: np.ndarray
    std_error: np.ndarray
    df: np.ndarray
    single: bool = False
    label_name: str = "term"

    @classmethod
    def one(cls, label: object, estimate: float, std_error: float, df: float) -> Estimates:
        return cls(
            labels=(label,),
            estimate=np.array([estimate], dtype=float),
            std_error=np.array([std_error], dtype=float),
            df=np.array([df], dtype=float),
            single=True,
        )

    @classmethod
    def from_frame(
        cls, frame: pd.DataFrame, label: str | None, *, df: float | None = None
    ) -> Estimates:
        """Rows of a coefficient table with ``estimate, std_error`` (and ``df`` unless given)."""
        labels = tuple(frame[label].tolist()) if label is not None else tuple(range(len(frame)))
        dfs = (
            np.full(len(frame), df, dtype=float)
            if df is not None
            else frame["df"].to_numpy(dtype=float)
        )
        return cls(
            labels=labels,
            estimate=frame["estimate"].to_numpy(dtype=float),
            std_error=frame["std_error"].to_numpy(dtype=float),
            df=dfs,
            label_name=label or "row",
        )


class Summary:
    """Printable summary of a result (:meth:`Result.summary`): text, HTML, or its parts."""

    __slots__ = ("lines", "table", "table_in_text", "title")

    def __init__(
        self,
        title: str,
        lines: Sequence[str],
        table: pd.DataFrame | None,
        *,
        table_in_text: bool = True,
    ) -> None:
        self.title = title
        self.lines = tuple(lines)
        self.table = table
        self.table_in_text = table_in_text

    def as_text(self) -> str:
        out = [self.title, *(f"  {line}" for line in self.lines)]
        if self.table_in_text and self.table is not None and len(self.table.columns):
            out.append(self.table.to_string(index=False, float_format=_fmt_text, na_rep="NA"))
        return "\n".join(out)

    def as_html(self) -> str:
        parts = [f"<p><strong>{html.escape(self.title)}</strong></p>"]
        if self.lines:
            parts.append("<p>" + "<br>".join(html.escape(x) for x in self.lines) + "</p>")
        if self.table is not None and len(self.table.columns):
            # pandas escapes cell text and column names (escape=True is its default)
            parts.append(
                self.table.to_html(index=False, float_format=_fmt_html, na_rep="NA", escape=True)
            )
        return '<div class="fieldexp-result">' + "".join(parts) + "</div>"

    def __str__(self) -> str:
        return self.as_text()

    def __repr__(self) -> str:
        return self.as_text()

    def _repr_html_(self) -> str:
        return self.as_html()


class Result:
    """Base of every fieldexp result: one output protocol written once.

    A subclass (a frozen dataclass) provides ``to_frame()`` and ``_title()``, and optionally:

    ``_lines()``
        Lines under the title (design, sample, tests, notes).
    ``_table()``
        The table shown by ``__str__``/``_repr_html_``/``summary`` (default :meth:`to_frame`;
        ``None`` for none).
    ``_estimates()``
        Labelled ``estimate, std_error, df`` (:class:`Estimates`) for :meth:`conf_int`.
    ``_stored_interval()``
        ``(alpha, low, high)`` when the interval does not come from a standard error.
    ``_plot(ax)``
        Draw on a Matplotlib Axes; results without it have no :meth:`plot`.
    """

    __slots__ = ()
    #: False when ``_lines`` already state every number of ``_table`` (text shows no table)
    _table_in_text: ClassVar[bool] = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # dataclass(slots=True) re-creates the class: the later definition replaces the first
        _REGISTRY[f"{cls.__module__}.{cls.__qualname__}"] = cls

    # ------------------------------------------------------------------ hooks
    def _title(self) -> str:
        return type(self).__name__

    def _lines(self) -> list[str]:
        return []

    def _table(self) -> pd.DataFrame | None:
        return self.to_frame()

    def _estimates(self) -> Estimates | None:
        return None

    def _stored_interval(self) -> tuple[float, float, float] | None:
        """``(alpha, low, high)`` of an interval not made from an SE (e.g. test inversion)."""
        return None

    def _plot(self, ax: Any) -> None:
        raise NotImplementedError

    # ------------------------------------------------------------------ protocol
    def to_frame(self) -> pd.DataFrame:
        """The result as a DataFrame (subclasses define it)."""
        raise NotImplementedError(f"{type(self).__name__} defines no to_frame()")

    def summary(self) -> Summary:
        """Title, details and table; prints as text and renders as HTML in Jupyter."""
        return Summary(
            self._title(), self._lines(), self._table(), table_in_text=self._table_in_text
        )

    def __str__(self) -> str:
        return self.summary().as_text()

    def _repr_html_(self) -> str:
        return self.summary().as_html()

    def conf_int(self, alpha: float | None = None) -> tuple[float, float] | pd.DataFrame:
        r"""Confidence intervals at level ``1 - alpha``, from the stored estimate, SE and df.

        .. math:: \hat\tau \pm F^{-1}_{\nu}(1-\alpha/2)\,\widehat{se}

        (:func:`fieldexp.stats.inference.t_inference`; normal when :math:`\nu` is infinite), so at
        the result's own ``alpha`` the interval equals the one reported at estimation.

        Parameters
        ----------
        alpha : float, optional
            Default: the ``alpha`` the result was estimated with (0.05 when it has none).

        Returns
        -------
        tuple of float or DataFrame
            ``(low, high)`` for a result holding one estimate; otherwise a DataFrame with the
            label column, ``estimate, std_error, df, ci_low, ci_high``.
        """
        from fieldexp._validate import check_alpha

        name = f"{type(self).__name__}.conf_int"
        default = getattr(self, "alpha", 0.05)
        alpha = check_alpha(default if alpha is None else alpha, function=name)
        est = self._estimates()
        stored = self._stored_interval() if est is None else None
        if stored is not None:
            from fieldexp.errors import SpecificationError

            if math.isclose(alpha, stored[0], rel_tol=1e-12) or stored[1] == stored[2]:
                return (stored[1], stored[2])  # a point interval is one at every level
            raise SpecificationError(
                f"The interval of {type(self).__name__} was computed at alpha={stored[0]:g} "
                "without a standard error (e.g. by test inversion); it cannot be rescaled to "
                f"alpha={alpha:g}. Re-run the estimator with alpha={alpha:g}."
            )
        if est is None:
            from fieldexp.errors import SpecificationError

            raise SpecificationError(
                f"{type(self).__name__} holds no estimate with a standard error, so it has no "
                "confidence interval to recompute."
            )
        lows: list[float] = []
        highs: list[float] = []
        for b, s, d in zip(est.estimate, est.std_error, est.df, strict=True):
            inf = t_inference(float(b), float(s), float(d), alpha)
            lows.append(inf.ci_low)
            highs.append(inf.ci_high)
        if est.single:
            return (lows[0], highs[0])
        import pandas as pd

        return pd.DataFrame(
            {
                est.label_name: list(est.labels),
                "estimate": est.estimate,
                "std_error": est.std_error,
                "df": est.df,
                "ci_low": lows,
                "ci_high": highs,
            }
        )

    def plot(self, ax: Any = None) -> Any:
        """Draw the result on ``ax`` (a new figure when ``None``); returns the Axes.

        Matplotlib is imported here only. Results without a natural picture raise a
        :class:`~fieldexp.errors.SpecificationError`.
        """
        if type(self)._plot is Result._plot:
            from fieldexp.errors import SpecificationError

            raise SpecificationError(f"{type(self).__name__} has no plot; use to_frame().")
        if ax is None:
            import matplotlib.pyplot as plt

            _, ax = plt.subplots(figsize=(7, 4))
        self._plot(ax)
        return ax


@dataclass(frozen=True, slots=True, eq=False)
class TestResult(Result):
    r"""One hypothesis test: statistic, degrees of freedom, p-value and reference distribution.

    The one test type of fieldexp: joint pre-trend tests (event study, Callaway-Sant'Anna), the
    omnibus balance test and the test of equal subgroup effects.

    Attributes
    ----------
    statistic : float
        Test statistic (Wald :math:`W=\hat\beta'\hat V^{-1}\hat\beta`, :math:`F=W/q`, ...).
    df : float or tuple of float
        Degrees of freedom: :math:`q` for :math:`\chi^2_q`, :math:`(q,\nu)` for :math:`F(q,\nu)`.
    p_value : float
    distribution : str
        ``"chi2"``, ``"F"``, ``"normal"`` or ``"randomization"`` (the p-value is the share of
        re-randomisations at least as extreme; ``reps``, ``exact`` and ``p_value_se`` say how).
    hypothesis : str
        The null hypothesis in words.
    method : str
        How the statistic or its variance was computed (e.g. ``"independent subgroups"``).
    """

    __test__: ClassVar[bool] = False  # not a pytest test class

    statistic: float
    df: float | tuple[float, float]
    p_value: float
    distribution: str
    hypothesis: str = ""
    method: str = ""
    p_value_se: float = 0.0
    reps: int = 0
    exact: bool = False
    legacy: tuple[tuple[str, object], ...] = field(default=(), repr=False)

    def __getattr__(self, name: str) -> object:
        # attributes of the test types this class replaced (PreTrendTest, OmnibusTest)
        if name.startswith("_") or name == "legacy":
            raise AttributeError(name)
        for key, value in self.legacy:
            if key == name:
                warnings.warn(
                    f"TestResult.{name} is deprecated: use statistic, df, p_value and "
                    "distribution (and the result's other TestResult fields).",
                    FutureWarning,
                    stacklevel=2,
                )
                return value
        raise AttributeError(f"'TestResult' object has no attribute {name!r}")

    def _df_text(self) -> str:
        if isinstance(self.df, tuple):
            return ", ".join(_fmt_df(float(d)) for d in self.df)
        return _fmt_df(float(self.df))

    def _title(self) -> str:
        dist = "randomization" if self.distribution == "randomization" else self.distribution
        return (
            f"{self.hypothesis or 'Test'}: {dist}({self._df_text()}) statistic "
            f"{self.statistic:.4f}, p = {_fmt_p(self.p_value)}"
        )

    def _lines(self) -> list[str]:
        lines = [f"method: {self.method}"] if self.method else []
        if self.distribution != "randomization":
            return lines
        if self.exact:
            return [*lines, f"exact: all {self.reps:,} assignments enumerated"]
        return [*lines, f"{self.reps:,} re-randomisations, Monte Carlo s.e. {self.p_value_se:.4f}"]

    def to_frame(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame(
            [
                {
                    "hypothesis": self.hypothesis,
                    "statistic": self.statistic,
                    "df": self._df_text(),
                    "p_value": self.p_value,
                    "distribution": self.distribution,
                    "method": self.method,
                    "p_value_se": self.p_value_se,
                    "reps": self.reps,
                    "exact": self.exact,
                }
            ]
        )

    def _table(self) -> pd.DataFrame | None:
        return None


@dataclass(frozen=True, slots=True, eq=False)
class FirstStage(Result):
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
    alpha: float = 0.05

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
                alpha=alpha,
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
            alpha=alpha,
        )

    def _title(self) -> str:
        return f"First stage: effect of {self.assignment!r} on {self.treatment!r} (ITT_D)"

    def _lines(self) -> list[str]:
        return [
            f"contact rate {self.control_contact_rate:.4f} (not assigned), "
            f"{self.treated_contact_rate:.4f} (assigned); F = {self.f_statistic:,.1f}"
        ]

    def to_frame(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame(
            [{name: getattr(self, name) for name in (f.name for f in fields(self))}]
        )

    def _estimates(self) -> Estimates | None:
        if self.std_error == 0 and self.estimate != 0:
            return None  # deterministic contact: the interval is the point (_stored_interval)
        return Estimates.one(self.assignment, self.estimate, self.std_error, self.df)

    def _stored_interval(self) -> tuple[float, float, float] | None:
        return (self.alpha, self.ci_low, self.ci_high)


@dataclass(frozen=True, slots=True, eq=False)
class EffectResult(Result):
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
    estimator : str (property)
        The estimator, as ``method`` (``"dim"``, ``"ols"``, ``"lin"``, ``"2sls"``, ``"twfe"``,
        ``"sun_abraham"``, ``"cs"``).
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

    _table_in_text: ClassVar[bool] = False

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
    @property
    def estimator(self) -> str:
        """The estimator (the shared vocabulary's name for ``method``)."""
        return self.method

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

    def _estimates(self) -> Estimates:
        return Estimates.one(self.term, self.estimate, self.std_error, self.df)

    def _title(self) -> str:
        level = round(100 * (1 - self.alpha))
        return (
            f"{self.estimand} of {self.term!r} on {self.outcome!r}  "
            f"[method={self.method}, se_type={self.se_type}, design={self.design}, {level}% CI]"
        )

    def _lines(self) -> list[str]:
        level = round(100 * (1 - self.alpha))
        lines = [
            f"estimate {self.estimate: .6f}   std.error {self.std_error:.6f}   "
            f"t {self.statistic: .3f}   df {_fmt_df(self.df)}   p {_fmt_p(self.p_value)}",
            f"{level}% CI [{self.ci_low: .6f}, {self.ci_high: .6f}]",
        ]
        clusters = f", clusters {self.nclusters:,}" if self.nclusters is not None else ""
        dropped = f", dropped {self.n_dropped:,}" if self.n_dropped else ""
        lines.append(f"nobs {self.nobs:,}{clusters}{dropped}")
        if self.first_stage is not None:
            fs = self.first_stage
            lines.append(
                f"first stage (contact rate ITT_D): {fs.estimate:.6f} (se {fs.std_error:.6f}), "
                f"F = {fs.f_statistic:,.1f}"
            )
        lines.extend(f"note: {note}" for note in self.notes)
        return lines

    def _table(self) -> pd.DataFrame | None:
        import pandas as pd

        level = round(100 * (1 - self.alpha))
        row: dict[str, object] = {
            "Estimate": f"{self.estimate:.4f}",
            "Std. error": f"{self.std_error:.4f}",
            "t": f"{self.statistic:.2f}",
            "df": _fmt_df(self.df),
            "p-value": _fmt_p(self.p_value),
            f"{level}% CI": f"[{self.ci_low:.4f}, {self.ci_high:.4f}]",
            "N": f"{self.nobs:,}",
        }
        if self.nclusters is not None:
            row["Clusters"] = f"{self.nclusters:,}"
        return pd.DataFrame([row])

    def __repr__(self) -> str:
        return (
            f"EffectResult(estimand={self.estimand!r}, outcome={self.outcome!r}, term={self.term!r}, "
            f"estimate={self.estimate:.6g}, std_error={self.std_error:.6g}, p_value={self.p_value:.4g}, "
            f"nobs={self.nobs})"
        )


def _fmt_p(p: float) -> str:
    if not math.isfinite(p):
        return "NA"
    return "<0.0001" if p < 1e-4 else f"{p:.4f}"


def _fmt_text(v: float) -> str:
    return f"{v: .6f}"


def _fmt_html(v: float) -> str:
    return f"{v:.4f}"


def _fmt_df(df: float) -> str:
    if math.isinf(df):
        return "inf"
    if not math.isfinite(df):
        return "NA"
    return f"{df:,.0f}" if float(df).is_integer() else f"{df:,.2f}"


def result_fields() -> tuple[str, ...]:
    """All attribute names of :class:`EffectResult` (for tests and serialisers)."""
    return tuple(f.name for f in fields(EffectResult))
