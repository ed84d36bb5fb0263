"""Piecewise-linear terms `<<b1, ..., bn; s1, ..., sn+1>> arg` (AMPL) in the IR.

A term evaluated over a grid of N rows has N *instances*, each with its own breakpoint and slope
lists (ragged: the lists may be indexed by data, so their lengths differ between instances). The
function of an instance has slope s1 below b1, s[k+1] between b[k] and b[k+1], s[n+1] above bn,
and is 0 at the zero point z (AMPL's `(arg, z)`, 0 by default).

With data for its argument the term is a number. With variables it becomes one *value column*
per instance, placed after the model's variables (`ModelIR.num_vars` counts the model's own
only), recorded as a PiecewiseTerm; the LP lowering carries the terms and the
`piecewise_linear` pass (optdsl/lower/piecewise.py) replaces each value column by its segment
formulation. Nothing here loops over instances.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from optdsl.errors import ModelError, Span, format_index
from optdsl.ir.expr import Expr
from optdsl.parse import ast


@dataclass
class PiecewiseTerm:
    """The instances of one piecewise-linear term (one per row of the grid it was evaluated on)."""

    n: int
    value_start: int  # instance r's value is column value_start + r
    breakpoints: np.ndarray  # flat, instance r's are breakpoints[ptr[r]:ptr[r+1]]
    ptr: np.ndarray  # n + 1 offsets; instance r's slopes are slopes[ptr[r] + r : ptr[r+1] + r + 1]
    slopes: np.ndarray  # flat, one more per instance than breakpoints
    arg: Expr  # affine, n rows
    zero: np.ndarray  # zero point per instance
    span: Span | None = None

    @property
    def counts(self) -> np.ndarray:
        return np.diff(self.ptr)


def ramp(breakpoints: np.ndarray, ptr: np.ndarray, slopes: np.ndarray, x: np.ndarray) -> np.ndarray:
    """g(x) per instance, the function with g(b1) = 0 (g(0) = 0 for an instance without breakpoints):

    g(x) = s1 min(x - b1, 0) + sum_k s[k+1] clip(x - b[k], 0, b[k+1] - b[k])   (b[n+1] = +inf)
    """
    n = len(ptr) - 1
    counts = np.diff(ptr)
    nb = len(breakpoints)
    x = np.broadcast_to(np.asarray(x, dtype=np.float64), (n,))
    owner = np.repeat(np.arange(n), counts)
    s1 = slopes[ptr[:-1] + np.arange(n)]
    after = slopes[np.arange(nb) + owner + 1]  # the slope to the right of each breakpoint
    width = np.full(nb, np.inf)  # up to the instance's next breakpoint; the last one opens a ray
    if nb > 1:
        same = owner[1:] == owner[:-1]
        width[:-1][same] = np.diff(breakpoints)[same]
    pieces = after * np.clip(x[owner] - breakpoints, 0.0, width)
    out = np.bincount(owner, weights=pieces, minlength=n).astype(np.float64)
    has = counts > 0
    b1 = np.zeros(n)
    b1[has] = breakpoints[ptr[:-1][has]]
    return out + np.where(has, s1 * np.minimum(x - b1, 0.0), s1 * x)


def value(term: PiecewiseTerm, x: np.ndarray) -> np.ndarray:
    """f(x) per instance (0 at the zero point)."""
    return ramp(term.breakpoints, term.ptr, term.slopes, x) - ramp(term.breakpoints, term.ptr, term.slopes, term.zero)


def evaluate(ev: Any, e: ast.Piecewise, grid: Any) -> np.ndarray | Expr:
    """`Evaluator._v_Piecewise`: the term over `grid`, a number per row or an Expr of value columns."""
    n = grid.n
    bk, bk_count = _list(ev, e.breakpoints, grid, "breakpoint")
    sl, sl_count = _list(ev, e.slopes, grid, "slope")
    bad = np.flatnonzero(sl_count != bk_count + 1)
    if len(bad):
        r = int(bad[0])
        raise ModelError(
            f"a piecewise-linear term needs one more slope than breakpoints; it has "
            f"{int(bk_count[r])} breakpoint(s) and {int(sl_count[r])} slope(s){_where(grid, r)}",
            e.span, "write <<b1, ..., bn; s1, ..., sn+1>>")
    ptr = np.concatenate([[0], np.cumsum(bk_count)]).astype(np.int64)
    owner = np.repeat(np.arange(n), bk_count)
    step = np.diff(bk)
    same = owner[1:] == owner[:-1]
    if np.any(same & ~(step > 0)):
        r = int(owner[1:][np.flatnonzero(same & ~(step > 0))[0]])
        raise ModelError(f"the breakpoints of a piecewise-linear term must increase{_where(grid, r)}",
                         e.span, "list the breakpoints in increasing order, without repeats")
    zero = np.zeros(n)
    if e.zero is not None:
        zero = _numbers(ev, e.zero, grid, "zero point")
    arg = ev.numeric(ev.value(e.arg, grid))
    if isinstance(arg, Expr) and arg.is_constant:
        arg = arg.const
    if not isinstance(arg, Expr):
        x = np.broadcast_to(np.asarray(arg, dtype=np.float64), (n,))
        return ramp(bk, ptr, sl, x) - ramp(bk, ptr, sl, zero)
    if not arg.is_affine:
        raise ModelError("the argument of a piecewise-linear term must be linear", e.arg.span,
                         "give the argument its own variable and a constraint that defines it")
    start = ev.piecewise_columns(n, e.span)
    ev.piecewise.append(PiecewiseTerm(n, start, bk, ptr, sl, arg, zero, e.span))
    return Expr.variables(np.arange(start, start + n, dtype=np.int64))


def _list(ev: Any, items: tuple[ast.PiecewiseItem, ...], grid: Any, what: str) -> tuple[np.ndarray, np.ndarray]:
    """The flat values of a breakpoint or slope list over `grid`, instance by instance, in order."""
    owners, order, values = [], [], []
    for k, item in enumerate(items):
        if item.indexing is None:
            owners.append(np.arange(grid.n))
            values.append(_numbers(ev, item.value, grid, what))
        else:
            sub, parent, _ = ev.expand(grid, item.indexing)
            owners.append(np.asarray(parent, dtype=np.int64))
            values.append(_numbers(ev, item.value, sub, what))
        order.append(np.full(len(owners[-1]), k))
    owner = np.concatenate(owners) if owners else np.zeros(0, np.int64)
    seq = np.lexsort((np.arange(len(owner)), np.concatenate(order), owner))
    vals = np.concatenate(values)[seq] if values else np.zeros(0)
    return vals, np.bincount(owner, minlength=grid.n)


def _numbers(ev: Any, e: ast.Expr, grid: Any, what: str) -> np.ndarray:
    v = ev.numeric(ev.data_value(e, grid, where=f"a piecewise-linear {what}"))
    out = np.broadcast_to(np.asarray(v, dtype=np.float64), (grid.n,))
    if not np.all(np.isfinite(out)):
        raise ModelError(f"a piecewise-linear {what} must be a finite number", e.span)
    return out


def _where(grid: Any, r: int) -> str:
    if not grid.dummies:
        return ""
    return " at " + format_index(tuple(d.values()[r] for d in grid.dummies.values()))
