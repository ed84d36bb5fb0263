"""BLAS thread limits for the DAG searches."""

from __future__ import annotations

import contextlib
from typing import Any


def blas_threads(threads: int | None) -> Any:
    """The searches run many small dense kernels (size d); on one BLAS thread they are much faster
    than on several contending ones (measured 20x at d = 100 on a shared 2-core machine)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - optional
        return contextlib.nullcontext()
    return threadpool_limits(limits=threads or 1, user_api="blas")
