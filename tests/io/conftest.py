"""Shared helpers for the I/O tests: synthetic data and the shipped sample files."""

from __future__ import annotations

from pathlib import Path

import pytest

from fieldexp.io.synthetic import SyntheticFieldData, synthetic_field_data

FIXTURES_IO = Path(__file__).resolve().parents[2] / "fixtures" / "io"


@pytest.fixture(scope="session")
def io_fixtures() -> Path:
    return FIXTURES_IO


@pytest.fixture(scope="session")
def synth() -> SyntheticFieldData:
    return synthetic_field_data(7, n_households=60, n_precincts=3)
