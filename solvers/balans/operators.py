"""The destroy operators of Balans, as neighbourhoods on one HiGHS model.

Each operator reads the incumbent `x_inc` (and the LP relaxation `x_lp`), draws its random choices
from the search's generator, and edits the model through a `Changes` object (bounds, rows, an
extra column, the objective); the caller solves and the `with` block restores the model. The
definitions follow the Balans 2.2.0 package (ALGORITHMS.md §4):

- "fix" means x_j = x_inc_j for every column outside the destroy set, continuous ones included
  (`fix_continuous=False` keeps the textbook variant that fixes discrete columns only);
- Mutation_d frees a uniform d-fraction of the discrete columns (without replacement);
- RINS_d frees int(d |D|) draws, with replacement, from D = {discrete j : x_inc_j != x_lp_j};
- RENS_d bounds int(d |F|) draws, with replacement, from the LP-fractional discrete columns F to
  [floor(x_lp), ceil(x_lp)] and fixes the rest;
- DINS bounds general integers with |x_lp - x_inc| >= 0.5 to |x_j - x_lp_j| <= |x_inc_j - x_lp_j|
  and fixes the rest;
- Local_Branching_d adds sum_{x_inc=0} x_j + sum_{x_inc=1} (1 - x_j) <= k over the binaries, with
  k drawn from [floor(0.05 |B|), floor(d |B|)], and fixes nothing;
- Proximity_d minimizes the Hamming distance to x_inc over the binaries plus M z, subject to
  c'x <= f(x_inc) - d |f(x_inc)| + z, z >= 0 (2.2.0's cutoff, correct for negative objectives);
- Crossover finds a second solution (random objective U(-1, 1), first solution only, heuristics
  off), frees the discrete columns where it differs from x_inc and fixes the rest.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from optdsl.errors import SolverError, did_you_mean

if TYPE_CHECKING:  # pragma: no cover
    from .mip import Changes, MipModel

KINDS = ("mutation", "rins", "rens", "dins", "local_branching", "proximity", "crossover")
_NEEDS_DELTA = {"mutation", "rins", "rens", "local_branching", "proximity"}


@dataclass(frozen=True)
class OperatorSpec:
    name: str  # e.g. "rins_25"
    kind: str
    delta: float = 0.0

    @property
    def uses_lp(self) -> bool:
        return self.kind in ("rins", "rens", "dins")


def parse_operator(text: str) -> OperatorSpec:
    """`Rins_25` -> rins with delta 0.25; `Proximity_005` -> proximity with 0.005 (the package's
    naming: the digits after the first are decimals for proximity, a percentage otherwise)."""
    name = text.strip().lower()
    m = re.fullmatch(r"([a-z_]+?)(?:_(\d+))?", name)
    kind = m.group(1) if m else name
    if kind not in KINDS:
        raise SolverError(f"unknown balans operator '{text}'",
                          hint=did_you_mean(kind, list(KINDS)) or f"operators: {', '.join(KINDS)}")
    digits = m.group(2) if m else None
    if kind in _NEEDS_DELTA:
        if digits is None:
            raise SolverError(f"balans operator '{text}' needs its size, e.g. {kind}_25")
        delta = int(digits) / (10 ** (len(digits) - 1) * 10) if kind == "proximity" else int(digits) / 100
        if not 0 < delta < 1:
            raise SolverError(f"balans operator '{text}': the size must lie strictly between 0 and 1")
    elif digits is not None:
        raise SolverError(f"balans operator '{text}' takes no size; write '{kind}'")
    else:
        delta = 0.0
    return OperatorSpec(name=name, kind=kind, delta=delta)


def parse_operators(text: str | list[str]) -> list[OperatorSpec]:
    items = text if isinstance(text, list) else [t for t in re.split(r"[,\s]+", str(text)) if t]
    specs = [parse_operator(t) for t in items]
    if not specs:
        raise SolverError("balans.operators is empty", hint="e.g. rins_25,mutation_50,local_branching_10")
    seen = {}
    for s in specs:
        seen.setdefault(s.name, s)
    return list(seen.values())


def applicable(spec: OperatorSpec, model: MipModel) -> str | None:
    """None if the operator makes sense on this model, else why it is dropped (as the package
    drops DINS without general integers, local branching and proximity without binaries)."""
    if spec.kind == "dins" and model.general.size == 0:
        return "no general integer variables"
    if spec.kind in ("local_branching", "proximity") and model.binary.size == 0:
        return "no binary variables"
    if model.discrete.size == 0:
        return "no discrete variables"
    return None


@dataclass
class Context:
    """What an operator reads: the model, the incumbent, the LP point and the limits."""

    model: MipModel
    x_inc: np.ndarray
    obj_inc: float
    x_lp: np.ndarray | None
    fractional: np.ndarray  # LP-fractional discrete columns
    big_m: float
    fix_continuous: bool
    crossover_time: float  # seconds for crossover's random solution


def _fix_rest(ctx: Context, ch: Changes, free: np.ndarray) -> None:
    """Fix every column outside `free` (continuous ones too unless fix_continuous is off)."""
    mdl = ctx.model
    keep = np.ones(mdl.n, dtype=bool)
    keep[free] = False
    if not ctx.fix_continuous:
        keep[mdl.continuous] = False
    idx = np.flatnonzero(keep)
    ch.fix(idx, ctx.x_inc[idx])


def _choice(rng: np.random.Generator, pool: np.ndarray, size: int, replace: bool) -> np.ndarray:
    if pool.size == 0 or size <= 0:
        return np.zeros(0, dtype=np.int64)
    return np.unique(rng.choice(pool, size=min(size, pool.size) if not replace else size, replace=replace))


def apply(spec: OperatorSpec, ctx: Context, ch: Changes, rng: np.random.Generator) -> np.ndarray:
    """Edit the model for `spec`; returns the MIP start to hand HiGHS (over all current columns)."""
    mdl = ctx.model
    x_inc = ctx.x_inc
    kind = spec.kind
    if kind == "mutation":
        free = _choice(rng, mdl.discrete, int(spec.delta * mdl.discrete.size), replace=False)
        _fix_rest(ctx, ch, free)
    elif kind == "rins":
        if ctx.x_lp is None:
            differ = mdl.discrete
        else:
            d = mdl.discrete
            differ = d[np.abs(x_inc[d] - ctx.x_lp[d]) > 1e-6]
        free = _choice(rng, differ, int(spec.delta * differ.size), replace=True)
        _fix_rest(ctx, ch, free)
    elif kind == "rens":
        frac = ctx.fractional
        chosen = _choice(rng, frac, int(spec.delta * frac.size), replace=True)
        _fix_rest(ctx, ch, chosen)
        if chosen.size:
            lp = ctx.x_lp[chosen]
            ch.bounds(chosen, np.floor(lp), np.ceil(lp))
    elif kind == "dins":
        g = mdl.general
        lp = ctx.x_lp[g] if ctx.x_lp is not None else x_inc[g]
        dist = np.abs(lp - x_inc[g])
        sel = g[dist >= 0.5]
        _fix_rest(ctx, ch, sel)
        if sel.size:
            d = np.abs(x_inc[sel] - ctx.x_lp[sel])
            lo = np.ceil(ctx.x_lp[sel] - d - 1e-9)
            up = np.floor(ctx.x_lp[sel] + d + 1e-9)
            ch.bounds(sel, lo, up)
    elif kind == "local_branching":
        b = mdl.binary
        ones = np.round(x_inc[b]) >= 0.5
        low = int(math.floor(0.05 * b.size))
        high = max(int(math.floor(spec.delta * b.size)) + 1, low + 1)
        k = int(rng.integers(low, high))
        coef = np.where(ones, -1.0, 1.0)
        ch.add_row(b, coef, -np.inf, float(k - int(ones.sum())))
    elif kind == "proximity":
        b = mdl.binary
        ones = np.round(x_inc[b]) >= 0.5
        cost = np.zeros(mdl.n)
        cost[b] = np.where(ones, -1.0, 1.0)
        ch.cost(cost)
        z = ch.add_col(ctx.big_m, 0.0, np.inf)
        cutoff = ctx.obj_inc - spec.delta * abs(ctx.obj_inc) - mdl.c0
        nz = np.flatnonzero(mdl.c)
        idx = np.append(nz, z)
        vals = np.append(mdl.c[nz], -1.0)
        ch.add_row(idx, vals, -np.inf, cutoff)
        slack = max(0.0, float(mdl.c[nz] @ x_inc[nz]) - cutoff)
        return np.append(x_inc, slack)
    elif kind == "crossover":
        other = _random_solution(ctx, rng)
        if other is None:
            free = np.zeros(0, dtype=np.int64)
        else:
            d = mdl.discrete
            free = d[np.abs(np.round(other[d]) - np.round(x_inc[d])) > 0.5]
        _fix_rest(ctx, ch, free)
    else:  # pragma: no cover - parse_operator refuses other kinds
        raise SolverError(f"balans operator kind '{kind}' is not implemented")
    return x_inc


def _random_solution(ctx: Context, rng: np.random.Generator) -> np.ndarray | None:
    """A feasible point for a random objective U(-1, 1), stopping at HiGHS's first solution with its
    heuristics off; the model is restored before returning."""
    mdl = ctx.model
    mdl.h.clearSolver()  # else HiGHS starts from the incumbent it still holds and returns it
    with mdl.changes() as ch:
        ch.cost(rng.uniform(-1.0, 1.0, size=mdl.n))
        sub = mdl.solve(ctx.crossover_time, first_solution=True, heuristics=False)
    if sub.x is None or not mdl.is_feasible(sub.x):
        return None
    return sub.x
