"""Subpackages are reachable from ``import fieldexp as fx`` without importing them first."""

from __future__ import annotations

import subprocess
import sys

import pytest


@pytest.mark.parametrize("name", ["io", "design", "targeting", "engine", "simulation"])
def test_subpackage_is_an_attribute(name: str) -> None:
    code = f"import fieldexp as fx; m = fx.{name}; assert m.__name__ == 'fieldexp.{name}'"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_unknown_attribute_is_still_an_attribute_error() -> None:
    import fieldexp as fx

    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = fx.nope  # type: ignore[attr-defined]
