"""Helpers shared by the benchmark scripts: peak memory of a fit and the machine description.

The scripts run as ``python benchmarks/bench_*.py``, so this module is imported by name.
"""

from __future__ import annotations

import contextlib
import os
import platform
import resource
from pathlib import Path


def reset_peak() -> None:
    """Reset the process's peak-RSS counter (VmHWM) so the next reading covers one fit."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def peak_mb() -> float:
    """Peak RSS since the last :func:`reset_peak`, in MB (lifetime maximum off Linux)."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def machine(**versions: str) -> str:
    """CPU, cores, memory, OS and the given package versions, for a results header."""
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    extra = "".join(f", {name} {version}" for name, version in versions.items())
    return (
        f"{cpu}, {os.cpu_count()} cores, {mem:.0f} GiB RAM, {platform.system()} "
        f"{platform.release()}; Python {platform.python_version()}{extra}"
    )
