"""AMPL's network and column-wise declarations, built as ordinary rows.

A `var` or `arc` declaration may name constraints and objectives it enters (`coeff`, `cover`,
`obj`) and, for an arc, the nodes it leaves and enters (`from`, `to`, each with a factor). Each
entry is evaluated over the variable's grid (expanded by the entry's own indexing) as whole
arrays: the target row of every member, its variable column and its coefficient. The triplets
are kept per target, and when the target is built its body reads them as an affine `Expr`:

- `to_come` is the sum of the coeff/cover/obj terms;
- `net_in` (nodes) is the sum over its arcs of +factor for `to` and -factor for `from`;
  `net_out` is its negation.

So a node is a constraint whose body is its net flow and an arc is a variable with coefficients
in its nodes' rows; the IR holds no trace of either beyond those coefficients.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from optdsl.errors import ModelError
from optdsl.ir.evaluate import Evaluator
from optdsl.ir.expr import Expr
from optdsl.ir.grid import Grid
from optdsl.ir.labels import Domain
from optdsl.ir.model import VarBlock
from optdsl.parse import ast

NET, COL = "net", "col"


@dataclass
class _Target:
    domain: Domain | None
    n: int
    parts: dict[str, list[tuple[np.ndarray, np.ndarray, np.ndarray]]] = field(
        default_factory=lambda: {NET: [], COL: []})


class Columns:
    """The coefficients var and arc declarations add to the constraints and objectives they name.

    `grid_of(indexing)` evaluates a declaration's indexing (the instantiator's own, so a target's
    rows here are the rows its block gets); `decls` maps names to constraint and objective
    declarations."""

    def __init__(self, ev: Evaluator, decls: dict[str, ast.Stmt],
                 grid_of: Callable[[ast.Indexing | None], tuple[Grid, list[str], Domain | None]]) -> None:
        self.ev, self.decls, self.grid_of = ev, decls, grid_of
        self.targets: dict[str, _Target] = {}

    def _target(self, name: str, span: object) -> _Target:
        t = self.targets.get(name)
        if t is None:
            decl = self.decls.get(name)
            if decl is None:  # the static checks report this with the declaration's place
                raise ModelError(f"'{name}' is not a constraint or objective", span)
            grid, _, dom = self.grid_of(decl.indexing)  # type: ignore[attr-defined]
            t = self.targets[name] = _Target(dom, grid.n)
        return t

    def add(self, d: ast.VarDecl, block: VarBlock, grid: Grid) -> None:
        """The entries of declaration `d`, whose members are the columns block.start + row."""
        for col in d.columns:
            target = self._target(col.target, col.span)
            sub, parent = grid, np.arange(grid.n)
            if col.indexing is not None:
                sub, parent, _ = self.ev.expand(grid, col.indexing)
            ref = ast.Ref(col.target, col.subs, span=col.span)
            rows = self.ev._positions(col.target, target.domain, ref, sub)
            if col.value is None:
                coef = np.ones(sub.n)
            else:
                what = "a factor" if col.kind in ("from", "to") else "a coefficient"
                v = np.asarray(self.ev.numeric(self.ev.data_value(col.value, sub, what)), dtype=np.float64)
                coef = np.broadcast_to(v, (sub.n,)).astype(np.float64)
                if not np.isfinite(coef).all():
                    r = int(np.flatnonzero(~np.isfinite(coef))[0])
                    raise ModelError(f"{what} of '{d.name}' in '{col.target}' is {coef[r]}", col.span)
            if col.kind == "from":
                coef = -coef
            kind = NET if col.kind in ("from", "to") else COL
            target.parts[kind].append((rows.astype(np.int64), (block.start + parent).astype(np.int64), coef))

    def flows(self, d: ast.ConstraintDecl | ast.Objective, n: int, declared: Callable[[str], bool]) -> dict[str, Expr]:
        """The values of `to_come` (and of `net_in`, `net_out` for a node) in the body of `d`,
        over its n rows. A word the model declares as a name stays that name."""
        t = self.targets.get(d.name)
        if t is not None and t.n != n:  # the same indexing evaluated twice: cannot differ
            raise ModelError(f"'{d.name}' has {n} members, but its columns were built for {t.n}", d.span)
        out = {ast.TO_COME: self._expr(t, COL, n)}
        if isinstance(d, ast.ConstraintDecl) and d.network == "node":
            net = self._expr(t, NET, n)
            out[ast.NET_IN], out[ast.NET_OUT] = net, -net
        return {w: e for w, e in out.items() if not declared(w)}

    @staticmethod
    def _expr(t: _Target | None, kind: str, n: int) -> Expr:
        parts = t.parts[kind] if t is not None else []
        if not parts:
            return Expr.constant(0.0, n)
        rows, cols, vals = (np.concatenate(x) for x in zip(*parts, strict=True))
        return Expr(n, np.zeros(n), rows, cols, vals)
