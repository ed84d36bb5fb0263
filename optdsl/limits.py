"""How large a set, index grid or variable block may grow before it is built.

A model like `set I := 1..1e9;` would otherwise run for a minute and take gigabytes before an
unlocated "Unable to allocate" error. Every place that is about to build members (ranges, `cross`,
indexing grids) calls `check_size(n, what, span)` first; past the limit it is a ModelError at the
expression, with the size it would have had.

The limit is `$OPTDSL_MAX_SIZE` or `optdsl --max-size N`, else chosen from the machine's memory:
one element per 200 bytes of physical memory (an element of an index grid costs about 50-100
bytes across its label codes, parent maps and expression rows), at least 10 million.
"""

from __future__ import annotations

import contextlib
import contextvars
import math
import os
from collections.abc import Iterator
from typing import Any

from optdsl.errors import ModelError

BYTES_PER_ELEMENT = 200
MIN_DEFAULT = 10_000_000

_LIMIT: contextvars.ContextVar[int | None] = contextvars.ContextVar("optdsl_max_size", default=None)


def _memory_bytes() -> int | None:
    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return None


def default_max_size() -> int:
    env = os.environ.get("OPTDSL_MAX_SIZE")
    if env:
        with contextlib.suppress(ValueError):
            return max(int(float(env)), 1)
    mem = _memory_bytes()
    return max(MIN_DEFAULT, mem // BYTES_PER_ELEMENT) if mem else 100_000_000


def max_size() -> int:
    """The limit in force."""
    v = _LIMIT.get()
    return default_max_size() if v is None else v


@contextlib.contextmanager
def size_limit(n: int | None) -> Iterator[None]:
    """Use limit `n` in the block (None: the default)."""
    token = _LIMIT.set(None if n is None else int(n))
    try:
        yield
    finally:
        _LIMIT.reset(token)


def check_size(n: float, what: str, span: Any = None) -> int:
    """`n` as an int when it is within the limit, else a located ModelError saying how large."""
    limit = max_size()
    if not math.isfinite(n) or n > limit:
        size = "infinitely many" if not math.isfinite(n) else f"{n:.3g}" if n >= 1e15 else f"{int(n):,}"
        raise ModelError(
            f"{what} would have {size} members, over the size limit of {limit:,}", span,
            hint="raise the limit with --max-size N (or OPTDSL_MAX_SIZE) if the machine has the memory",
        )
    return int(n)
