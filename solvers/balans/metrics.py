"""Primal gap and primal integral (the standard definitions Balans reports):
pg(z, z*) = 0 if z = z*, 1 if there is no solution or z z* < 0, else |z - z*| / max(|z|, |z*|);
PI(T) = integral of pg(t) over [0, T], pg = 1 before the first incumbent."""

from __future__ import annotations

from collections.abc import Sequence


def primal_gap(z: float | None, ref: float, tol: float = 1e-9) -> float:
    if z is None:
        return 1.0
    if abs(z - ref) <= tol * max(1.0, abs(ref)):
        return 0.0
    if z * ref < 0:
        return 1.0
    return abs(z - ref) / max(abs(z), abs(ref))


def primal_integral(times: Sequence[float], objectives: Sequence[float], ref: float, end: float) -> float:
    """The integral of the step function pg(t) from 0 to `end`, given the incumbent trace."""
    total, t_prev, pg_prev = 0.0, 0.0, 1.0
    for t, z in zip(times, objectives):
        t = min(max(float(t), t_prev), end)
        total += pg_prev * (t - t_prev)
        t_prev, pg_prev = t, primal_gap(z, ref)
    return total + pg_prev * max(end - t_prev, 0.0)
