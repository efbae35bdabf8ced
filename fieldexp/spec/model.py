"""The analysis spec as frozen dataclasses (what :func:`fieldexp.spec.load_spec` returns).

Every key of the TOML file maps onto one attribute here; ``docs/spec.md`` documents them
one by one. Paths are absolute (resolved against the spec file's folder when loaded).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fieldexp.design import Design
from fieldexp.spec.stations import StationsSpec
from fieldexp.spec.targeting import TargetingSpec

if TYPE_CHECKING:  # pragma: no cover
    from fieldexp.spec.engine import EngineSpec

__all__ = [
    "SPEC_VERSION",
    "AnalysisOptions",
    "AnalysisSpec",
    "CostSpec",
    "CoverageSpec",
    "DataSource",
    "DataSpec",
    "DesignSpec",
    "DiDSpec",
    "OutcomeSpec",
    "PrivacySpec",
    "RISpec",
    "ReportOptions",
    "SubgroupSpec",
]

#: Version of the spec format (the ``version`` key).
SPEC_VERSION = 1


@dataclass(frozen=True, slots=True, eq=False)
class DataSource:
    """One input file and how to read it.

    ``table`` is the canonical table it becomes (``voters``, ``vote_history``,
    ``contacts``, ``assignment``, ``precinct_results``, ``precinct_assignment`` or
    ``analysis_table``); ``format`` and ``mapping`` go to the matching
    :mod:`fieldexp.io` reader; ``results`` is the VAN Results lookup (contacts only);
    ``options`` holds the reader keys ``strict``, ``channels``, ``results_by`` and the
    ``[data.crosswalk]`` table, passed to the reader as mapping options.
    """

    table: str
    path: Path
    format: str | None = None
    mapping: dict[str, Any] | None = None
    results: Path | None = None
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """The file name (what reports show; never the full path)."""
        return self.path.name


@dataclass(frozen=True, slots=True, eq=False)
class DataSpec:
    """The input files. Either the canonical tables (``voters``, ``vote_history``,
    ``assignment``, optional ``contacts``) or a ready ``analysis_table``; precinct-level
    analyses read ``precinct_results`` (+ ``precinct_assignment``)."""

    voters: DataSource | None = None
    vote_history: DataSource | None = None
    contacts: DataSource | None = None
    assignment: DataSource | None = None
    analysis_table: DataSource | None = None
    precinct_results: DataSource | None = None
    precinct_assignment: DataSource | None = None

    def sources(self) -> tuple[DataSource, ...]:
        """Every configured source, in a fixed order."""
        names = (
            "voters",
            "vote_history",
            "contacts",
            "assignment",
            "analysis_table",
            "precinct_results",
            "precinct_assignment",
        )
        return tuple(s for s in (getattr(self, n) for n in names) if s is not None)


@dataclass(frozen=True, slots=True, eq=False)
class DesignSpec:
    """The randomisation design (a :class:`fieldexp.Design`) and the seed ``assign`` uses."""

    design: Design
    seed: int | None = None
    walk_list_by: str = "precinct_id"
    turf_size: int | None = None
    balance_covariates: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class OutcomeSpec:
    """One outcome and the estimands reported for it.

    ``level`` is ``"voter"`` (a column of the analysis table) or ``"precinct"`` (a column of
    the polling-station table: ``turnout`` or ``share_<candidate>``). ``subset`` restricts the
    units to those whose columns equal the given values (e.g. registration among voters
    unregistered before the campaign: ``(("registered", 0),)``).
    """

    name: str
    column: str
    label: str
    level: str = "voter"
    estimands: tuple[str, ...] = ("ITT", "CACE")
    headline: bool = False
    subset: tuple[tuple[str, int | str | bool], ...] = ()
    covariates: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class AnalysisOptions:
    """How effects are estimated (passed to :func:`fieldexp.itt` / :func:`fieldexp.cace`)."""

    election: str
    campaign_window: tuple[str | None, str | None] | None = None
    alpha: float = 0.05
    method: str = "auto"
    se_type: str | None = None
    covariates: tuple[str, ...] = ()
    blocks: str | None = None
    clusters: str | None = None
    weights: str | None = None
    treatment: str = "contacted"
    multiplicity: str = "holm"
    past_elections: int | None = None
    control_contacts: str = "keep"


@dataclass(frozen=True, slots=True)
class SubgroupSpec:
    """Effects by subgroup (default: vote-propensity bands) with an equality test."""

    by: str = "propensity_band"
    label: str = "vote propensity"
    outcomes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RISpec:
    """Randomisation inference: draws and seed (the design is replayed)."""

    reps: int = 1000
    seed: int = 0
    estimands: tuple[str, ...] = ("ITT",)
    outcomes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class DiDSpec:
    """Difference-in-differences: on the voter x election panel built from vote history, or
    (``results`` given, no vote history) on the station x election panel of the results files
    (:func:`fieldexp.station_panel`; parsed by :mod:`fieldexp.spec.did`)."""

    exposure: str = "attempted"
    estimator: str = "twfe"
    leads: int | None = None
    lags: int | None = None
    reference: int = -1
    clusters: str | None = None
    se_type: str = "stata"
    comparison: str = "never_treated"
    reps: int = 1000
    seed: int | None = None
    results: tuple[Path, ...] = ()
    dates: tuple[tuple[str, str], ...] = ()
    crosswalk: Path | None = None
    rollout: Path | None = None
    balanced: bool = False
    unassigned: str = "drop"
    shares: str | None = None
    outcome: str = "turnout"

    @property
    def stations(self) -> bool:
        """True when the DiD runs on the station x election panel (``results`` given)."""
        return bool(self.results)


@dataclass(frozen=True, slots=True)
class CostSpec:
    """Field costs, for the cost per net vote."""

    per_attempt: float = 0.0
    per_contact: float = 0.0
    fixed: float = 0.0
    currency: str = "USD"


@dataclass(frozen=True, slots=True)
class PrivacySpec:
    """Small-cell suppression and the salt for pseudonymous labels (canvassers)."""

    small_cell: int = 10
    salt: str | None = None


@dataclass(frozen=True, slots=True)
class CoverageSpec:
    """Field coverage tables: by area column(s) and by canvasser."""

    by: tuple[str, ...] = ("precinct_id",)
    canvasser: bool = True


@dataclass(frozen=True, slots=True)
class ReportOptions:
    """What the report says about itself."""

    title: str = "Canvassing experiment report"
    organisation: str | None = None
    timestamp: bool = False
    figures: bool = True
    language: str = "en"


@dataclass(frozen=True, slots=True, eq=False)
class AnalysisSpec:
    """A validated analysis spec (see ``docs/spec.md``)."""

    path: Path
    text: str
    sha256: str
    version: int
    report: ReportOptions
    data: DataSpec
    analysis: AnalysisOptions
    outcomes: tuple[OutcomeSpec, ...]
    design: DesignSpec | None = None
    subgroups: SubgroupSpec | None = None
    randomization_inference: RISpec | None = None
    did: DiDSpec | None = None
    costs: CostSpec | None = None
    privacy: PrivacySpec = field(default_factory=PrivacySpec)
    coverage: CoverageSpec | None = field(default_factory=CoverageSpec)
    stations: StationsSpec | None = None  # [stations] (fieldexp/spec/stations.py)
    assign: AssignSpec | None = None
    targeting: TargetingSpec | None = None
    engine: EngineSpec | None = None  # [engine] (fieldexp.spec.engine)

    @property
    def folder(self) -> Path:
        return self.path.parent

    def outcome(self, name: str) -> OutcomeSpec:
        for o in self.outcomes:
            if o.name == name:
                return o
        raise KeyError(name)

    @property
    def headline_outcome(self) -> OutcomeSpec:
        """The outcome the headline speaks about (``headline = true``, else the first)."""
        for o in self.outcomes:
            if o.headline:
                return o
        return self.outcomes[0]


@dataclass(frozen=True, slots=True)
class AssignSpec:
    """``[assign]``: restriction, past results and walk-list options of ``fieldexp assign``."""

    communes: tuple[str, ...] = ()
    circonscriptions: tuple[str, ...] = ()
    past_results: tuple[Path, ...] = ()
    walk_list_addresses: bool = False
