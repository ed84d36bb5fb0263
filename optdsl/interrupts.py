"""Ctrl-C during a solve: stop soon, keep the best point so far.

The rule for every backend (docs/architecture.md):

- ``optdsl.pipeline`` runs ``backend.solve`` inside ``catching()``: there the first SIGINT only
  sets a flag (no KeyboardInterrupt is raised inside solver code, where it would lose the
  incumbent or leave a C library in a bad state); a second SIGINT raises KeyboardInterrupt as
  usual, for a backend that does not listen.
- An iterative backend calls ``requested()`` between iterations (and, if its iterations are long,
  inside them) and, when it is True, returns its current point with
  ``TerminationStatus.INTERRUPTED`` (solution status ``feasible`` if the point is, else ``none``).
- A backend that hands the work to a library forwards the flag through the library's own
  mechanism (HiGHS: its interrupt callbacks, see solvers/highs/backend.py).
- The CLI prints the result and exits with status 130.

The flag is process-wide (SIGINT is); ``request()`` sets it from code or another thread.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from typing import Any

_flag = threading.Event()


def requested() -> bool:
    """Whether an interrupt was asked for since the current `catching()` block began."""
    return _flag.is_set()


def request() -> None:
    """Ask the running solve to stop (what SIGINT does inside `catching()`)."""
    _flag.set()


def clear() -> None:
    _flag.clear()


@contextlib.contextmanager
def catching() -> Iterator[None]:
    """Within the block the first SIGINT sets the flag, a second raises KeyboardInterrupt. Outside
    the main thread (where signal handlers cannot be set) only the flag works."""
    _flag.clear()
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGINT)

    def on_sigint(signum: int, frame: Any) -> None:
        if _flag.is_set():
            raise KeyboardInterrupt
        _flag.set()

    try:
        signal.signal(signal.SIGINT, on_sigint)
    except ValueError:  # e.g. an embedded interpreter without signal support
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
