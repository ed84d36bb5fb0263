"""The few HiGHS calls the search needs, in one place: a quiet Highs, the LPForm hand-over, options
by name and the model-status names. They come from the HiGHS backend's shared code, so that this
backend gives HiGHS exactly the arrays `--solver highs` would."""

from __future__ import annotations

from optdsl.solvers.highs.backend import STATUS_MAP, LogCapture, _arrays, _hand_over, new_highs, set_option

__all__ = ["STATUS_MAP", "LogCapture", "hand_over", "new_highs", "set_option"]


def hand_over(h, form) -> None:
    """Pass `form`'s arrays into `h` (refuses NaN and bad shapes with a SolverError)."""
    _hand_over(h, form, _arrays(form))


def set_threads(h, threads: int) -> None:
    """HiGHS's `threads`, resizing its global thread pool the way the HiGHS backend does."""
    from optdsl.solvers.highs.backend import apply_options

    from optdsl.backends import SolveOptions

    apply_options(h, SolveOptions(threads=threads))
