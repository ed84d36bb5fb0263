"""After `solve;`: the model's display, printf and for statements, printed as GMPL does.

Formats are applied with Python's %-formatting of numbers and strings only; nothing in a
model file is executed.
"""

from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from optdsl.errors import ModelError
from optdsl.eval.numpy_eval import expr_value
from optdsl.files import Outputs
from optdsl.ir.expr import Expr
from optdsl.ir.grid import Dummy, Grid
from optdsl.ir.printf import format_g as _g
from optdsl.ir.printf import format_printf
from optdsl.ir.printf import format_scalar as _s
from optdsl.parse import ast
from optdsl.results import Result


def run_script(model: Any, result: Result, out: TextIO) -> None:
    ir = model.ir
    if not ir.script:
        return
    x = result.x if result.x is not None else np.full(ir.num_vars, np.nan)
    runner = _Runner(ir.evaluator, x, out)
    runner.objectives = {o.name: o for o in ir.objectives}
    runner.duals = result.duals if result.row_duals is not None else {}
    runner.base_dir = getattr(model, "_base_dir", None) or Path.cwd()
    if any(s.kind == "surrogate" for s in ir.structures):
        from optdsl.surrogates.calls import numpy_surrogates

        runner.surrogates = numpy_surrogates(ir)
    runner.declare_late = ir.declare_late
    runner.outputs = Outputs(runner.base_dir)
    ev = ir.evaluator
    ev.post = PostSolve(x, result.row_duals, result.reduced_costs, ir.constraints, ir.objectives)
    try:
        for stmt in ir.script:
            runner.run(stmt, Grid.root())
    finally:
        ev.post = None
    runner.outputs.commit()  # files the script names, each written atomically (optdsl.files)


class _Runner:
    def __init__(self, ev: Any, x: np.ndarray, out: TextIO) -> None:
        self.ev, self.x, self.out = ev, x, out
        self.objectives: dict[str, Any] = {}
        self.duals: dict[str, Any] = {}
        self.surrogates: dict[str, Any] = {}
        self.base_dir: Path = Path.cwd()
        self.outputs = Outputs(self.base_dir)

    def values(self, e: ast.Expr, grid: Grid) -> np.ndarray:
        if isinstance(e, ast.Ref) and not e.subs and e.name in self.objectives:
            return np.full(grid.n, expr_value(self.objectives[e.name].expr, self.x, self.surrogates)[0])
        v = self.ev.value(e, grid)
        if isinstance(v, Expr):
            return expr_value(v, self.x, self.surrogates)
        if isinstance(v, Dummy):
            return v.values()
        return np.broadcast_to(v, (grid.n,))

    def run(self, stmt: ast.Stmt, grid: Grid) -> None:
        if isinstance(stmt, ast.ForStmt):
            sub, _, _ = self.ev.expand(grid, stmt.indexing)
            for r in range(sub.n):  # statements run once per member, in order
                one = sub.take(np.array([r]))
                for s in stmt.body:
                    self.run(s, one)
        elif isinstance(stmt, (ast.PrintfStmt, ast.DisplayStmt)) and stmt.redirect is not None:
            self.redirected(stmt, grid)
        elif isinstance(stmt, ast.PrintfStmt):
            sub = self.ev.expand(grid, stmt.indexing)[0] if stmt.indexing else grid
            cols = [self.values(a, sub) for a in stmt.args]
            fmts = self.values(stmt.format_expr, sub) if stmt.format_expr is not None else None
            for r in range(sub.n):
                fmt = stmt.format if fmts is None else str(fmts[r])
                self.out.write(format_printf(fmt, [c[r] for c in cols], stmt.span))
        elif isinstance(stmt, ast.DisplayStmt):
            self.display(stmt, grid)
        elif isinstance(stmt, (ast.ParamDecl, ast.SetDecl, ast.CheckStmt)):
            self.declare_late(stmt)  # declared after `solve;`: evaluated on the solution
        elif isinstance(stmt, ast.TableStmt):
            self.table_out(stmt, grid)

    def redirected(self, stmt: ast.PrintfStmt | ast.DisplayStmt, grid: Grid) -> None:
        """`printf … > file` and `>> file`. As in AMPL, the first `>` of a run starts the file and
        later writes to it in the same run continue it (GMPL would restart it at every `>`); the
        files are written when the script ends, under the file rules of optdsl.files."""
        names = {str(v) for v in self.values(stmt.redirect, grid)}
        if len(names) != 1:
            raise ModelError("the file of a printf or display must be one name, not one per member",
                             stmt.redirect.span if stmt.redirect is not None else stmt.span)
        buffer, self.out = self.out, io.StringIO()
        try:
            self.run(replace(stmt, redirect=None), grid)
            text = self.out.getvalue()
        finally:
            self.out = buffer
        self.outputs.write(names.pop(), text, stmt.redirect.span if stmt.redirect is not None else stmt.span,
                           append=True, extend_existing=stmt.append,
                           what="printf file" if isinstance(stmt, ast.PrintfStmt) else "display file")

    def table_out(self, stmt: ast.TableStmt, grid: Grid) -> None:
        import csv

        if stmt.driver.upper() != "CSV":
            raise ModelError(f"table '{stmt.name}': only the \"CSV\" driver is supported, not \"{stmt.driver}\"",
                             stmt.span)
        sub = self.ev.expand(grid, stmt.indexing)[0] if stmt.indexing else grid
        names = [c.column or _expr_name(c.expr) for c in stmt.columns]
        cols = [self.values(c.expr, sub) for c in stmt.columns]
        fh = io.StringIO(newline="")
        w = csv.writer(fh)
        w.writerow(names)
        for r in range(sub.n):
            w.writerow([_s(c[r]) for c in cols])
        self.outputs.write(stmt.path, fh.getvalue(), stmt.span, what=f"table '{stmt.name}'")

    def _whole_suffix(self, item: ast.Suffix) -> bool:
        """`display x.val;` of an indexed variable or constraint: one line per member."""
        name = item.base.name
        dom = self.ev.vars[name].domain if name in self.ev.vars else None
        post = self.ev.post
        if dom is None and post is not None and name in post.constraints:
            dom = post.constraints[name][0].domain
        if dom is None:
            return False
        cols = dom.code_columns()
        dummies = {f"_d{k}": Dummy(dom.dims[k], cols[k]) for k in range(dom.dimen)}
        subs = tuple(ast.Ref(k) for k in dummies)
        vals = self.values(ast.Suffix(ast.Ref(name, subs, span=item.span), item.suffix, span=item.span),
                           Grid(dom.n, dummies, product=False))
        for t, v in zip(dom.tuples(), vals):
            self.out.write(f"{name}[{','.join(_s(z) for z in t)}].{item.suffix} = {_g(v)}\n")
        return True

    def display(self, stmt: ast.DisplayStmt, grid: Grid) -> None:
        sub = self.ev.expand(grid, stmt.indexing)[0] if stmt.indexing else grid
        for item in stmt.items:
            if isinstance(item, ast.Ref) and not item.subs and item.name in self.ev.sets:
                dom = self.ev.sets[item.name]
                members = [",".join(_s(z) for z in t) for t in dom.tuples()] if dom.n else []
                shown = [f"({m})" if dom.dimen > 1 else m for m in members]
                self.out.write(f"{item.name} := {' '.join(shown)};\n")
                continue
            if isinstance(item, ast.Ref) and not item.subs and item.name in self.objectives:
                value = expr_value(self.objectives[item.name].expr, self.x, self.surrogates)[0]
                self.out.write(f"{item.name} = {_g(value)}\n")
                continue
            if isinstance(item, ast.Ref) and not item.subs and item.name in self.duals:
                duals = self.duals[item.name]  # a constraint displays its dual, as in AMPL
                if isinstance(duals, dict):
                    for t, v in duals.items():
                        self.out.write(f"{item.name}[{','.join(_s(z) for z in t)}] = {_g(v)}\n")
                else:
                    self.out.write(f"{item.name} = {_g(duals)}\n")
                continue
            if isinstance(item, ast.Ref) and not item.subs and item.name in self.ev.vars:
                block = self.ev.vars[item.name]
                vals = self.x[block.start:block.start + block.size]
                if block.domain is None:
                    self.out.write(f"{item.name} = {_g(vals[0])}\n")
                else:
                    for t, v in zip(block.domain.tuples(), vals):
                        self.out.write(f"{item.name}[{','.join(_s(z) for z in t)}] = {_g(v)}\n")
                continue
            if isinstance(item, ast.Ref) and not item.subs and item.name in self.ev.params:
                p = self.ev.params[item.name]
                if p.domain is None:
                    self.out.write(f"{item.name} = {_s(p.values[0])}\n")
                else:
                    for t, v in zip(p.domain.tuples(), p.values):
                        self.out.write(f"{item.name}[{','.join(_s(z) for z in t)}] = {_s(v)}\n")
                continue
            if isinstance(item, ast.Suffix) and not item.base.subs and self._whole_suffix(item):
                continue
            vals = self.values(item, sub)
            for r in range(sub.n):
                where = ",".join(_s(d.values()[r]) for d in sub.dummies.values())
                self.out.write((f"[{where}] " if where else "") + f"{_s(vals[r])}\n")


def _expr_name(e: ast.Expr) -> str:
    return e.name if isinstance(e, ast.Ref) else "value"


class PostSolve:
    """What a solve gives the statements after it: the point, duals and reduced costs, and the
    constraint and objective blocks their suffixes read."""

    def __init__(self, x: np.ndarray, duals: np.ndarray | None, reduced: np.ndarray | None,
                 constraints: list, objectives: list) -> None:
        self.x, self.duals, self.reduced = x, duals, reduced
        self.constraints: dict[str, tuple[Any, int]] = {}
        offset = 0
        for c in constraints:
            self.constraints[c.name] = (c, offset)
            offset += c.expr.n
        self.objectives = {o.name: o for o in objectives}
        self._bodies: dict[str, np.ndarray] = {}

    def body(self, con: Any) -> np.ndarray:
        if con.name not in self._bodies:
            self._bodies[con.name] = expr_value(con.expr, self.x)
        return self._bodies[con.name]

    def evaluate(self, expr: Expr) -> np.ndarray:
        """The value of an expression in the variables (a defined variable's) at the solution."""
        return expr_value(expr, self.x)

    def objective_value(self, name: str) -> float:
        return float(expr_value(self.objectives[name].expr, self.x)[0])
