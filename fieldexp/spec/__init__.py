"""Analysis specs: one TOML file says which data, which design, which estimands.

:func:`load_spec` reads and validates a spec into frozen dataclasses
(:class:`AnalysisSpec`); ``docs/spec.md`` documents every key. Specs are data: nothing in
them is executed.
"""

from fieldexp.spec.load import load_spec, parse_spec, redacted_text
from fieldexp.spec.model import (
    SPEC_VERSION,
    AnalysisOptions,
    AnalysisSpec,
    CostSpec,
    CoverageSpec,
    DataSource,
    DataSpec,
    DesignSpec,
    DiDSpec,
    OutcomeSpec,
    PrivacySpec,
    ReportOptions,
    RISpec,
    SubgroupSpec,
)

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
    "load_spec",
    "parse_spec",
    "redacted_text",
]
