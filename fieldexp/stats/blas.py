"""One BLAS thread for the tall, thin matrix products of a fit.

Every product in a fit is an ``(n x k) @ (k x m)`` with ``k, m`` a handful of columns and
``n`` up to millions of rows: memory-bound, so a second BLAS thread adds nothing on an idle
machine and costs 5-25x on a busy one (OpenBLAS threads spin while they wait for a core;
measured on the 2-core benchmark machine: ``X @ P`` for a 1M x 5 matrix took 18 ms on one
thread and 110-480 ms on two while another process held a core). :func:`single_thread_blas`
limits BLAS to one thread for the duration of a fit and restores the caller's setting after.
Results are unchanged in exact arithmetic; a one-thread product is also deterministic.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

__all__ = ["single_thread_blas", "with_single_thread_blas"]

F = TypeVar("F", bound=Callable[..., Any])

_controller: Any = None
_local = threading.local()


def _get_controller() -> Any:
    global _controller
    if _controller is None:
        try:
            from threadpoolctl import ThreadpoolController
        except ImportError:  # pragma: no cover - threadpoolctl is a core dependency
            _controller = False
        else:
            _controller = ThreadpoolController()
    return _controller


@contextmanager
def single_thread_blas() -> Iterator[None]:
    """Limit BLAS to one thread inside the block (nested blocks reuse the outer limit)."""
    controller = _get_controller()
    depth = getattr(_local, "depth", 0)
    _local.depth = depth + 1
    try:
        if not controller or depth:
            yield
        else:
            with controller.limit(limits=1, user_api="blas"):
                yield
    finally:
        _local.depth = depth


def with_single_thread_blas(func: F) -> F:
    """Decorator form of :func:`single_thread_blas`."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with single_thread_blas():
            return func(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
