"""Shared test fixtures.

``shared_data`` points at ``../shared/data`` (real published experiments with R reference
values). CI has it; elsewhere every test that needs it skips with a clear reason.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("FIELDEXP_SHARED_DATA", REPO.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not (SHARED_DATA / "README.md").exists():
        pytest.skip(
            f"real-experiment data not found at {SHARED_DATA} (the ../shared/data folder beside the "
            "repo; set FIELDEXP_SHARED_DATA to point elsewhere)"
        )
    return SHARED_DATA


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    return REPO / "fixtures"
