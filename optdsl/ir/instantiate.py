"""Instantiation: a checked AST plus its data becomes the array-valued IR.

Declarations are processed in order. Each indexed declaration evaluates its indexing to a grid
once; bounds, defaults, `:=` expressions and constraint bodies are evaluated over that grid as
whole arrays.
"""

from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace
from typing import Any

import numpy as np

from optdsl.data.store import DataStore, ParamData
from optdsl.errors import DataError, ModelError, Span, format_index
from optdsl.ir.columns import Columns
from optdsl.ir.evaluate import Evaluator, MissingParam, _scalar
from optdsl.ir.expr import Expr
from optdsl.ir.functions import _labels
from optdsl.ir.grid import Grid, domain_of
from optdsl.ir.labels import Domain, Labels, label_array
from optdsl.ir.model import ConBlock, ModelIR, ObjectiveIR, ParamValue, Structure, VarBlock
from optdsl.parse import ast

INF = np.inf


def instantiate(model: ast.Model, data: DataStore | None = None, seed: int | None = None) -> ModelIR:
    """Build the IR of `model` with `data` (sets and params not defined in the model).

    Random data functions draw from a generator seeded by `seed`, else by the model's
    `option seed N;`, else by 0."""
    import sys

    # Nested expressions (parentheses, powers) recurse once per level; give deep models room.
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 20000))
    try:
        return _Builder(model, data or DataStore(), seed).run()
    finally:
        sys.setrecursionlimit(limit)


class _Builder:
    def __init__(self, model: ast.Model, data: DataStore, seed: int) -> None:
        self.model = model
        self.data = data
        if seed is None:
            seed = _option_seed(model)
        self.ev = Evaluator(seed)
        self.ir = ModelIR(name=model.file)
        self.offset = 0
        stmts = [*model.statements, *(t for s in model.statements if isinstance(s, ast.LowerBlock) for t in s.body)]
        targets = {s.name: s for s in stmts if isinstance(s, (ast.ConstraintDecl, ast.Objective))}
        self.columns = Columns(self.ev, targets, self._grid)

    def run(self) -> ModelIR:
        # Variables may be used before they are declared (a leader objective names the
        # follower's variables, declared later in its `lower` block): declarations first,
        # then objectives and constraints.
        self._pass = 1
        self._after_solve = False
        self._selected: ast.ObjectiveSelect | None = None
        self._statements(self.model.statements, None)
        self._pass = 2
        self.ev.piecewise_start = self.offset  # value columns of piecewise-linear terms follow the variables
        self._statements(self.model.statements, None)
        self.ir.piecewise = self.ev.piecewise
        if self._selected is not None:  # `objective NAME;` puts that objective first
            name = self._selected.name
            if not any(o.name == name for o in self.ir.objectives):
                raise ModelError(f"'objective {name}' names no objective", self._selected.span)
            self.ir.objectives.sort(key=lambda o: o.name != name)
        self.ir.sets = dict(self.ev.sets)
        self.ir.params = dict(self.ev.params)
        self.ir.evaluator = self.ev
        self.ir.declare_late = self._declare_late
        return self.ir

    # Declarations standing after `solve;` run after it, on the solution (GMPL's post-processing:
    # `param total := sum {i in I} x[i];`), from the statements the solve leaves to the script.
    _LATE = (ast.ParamDecl, ast.SetDecl, ast.CheckStmt)

    def _declare_late(self, d: ast.Stmt) -> None:
        getattr(self, "_s_" + type(d).__name__)(d, None)

    def _s_SolveStmt(self, d: ast.SolveStmt, level: str | None) -> None:
        if self._pass == 1 and level is None:
            self._after_solve = True

    _SECOND = (ast.Objective, ast.ConstraintDecl)

    def _statements(self, stmts: tuple[ast.Stmt, ...], level: str | None) -> None:
        if self._pass == 2 and level is None:
            # the leader's objectives and constraints first, then each follower's: the IR's order
            # does not depend on where a `lower` block stands in the text
            stmts = tuple(s for s in stmts if not isinstance(s, ast.LowerBlock)) + tuple(
                s for s in stmts if isinstance(s, ast.LowerBlock))
        for s in stmts:
            if not isinstance(s, ast.LowerBlock) and isinstance(s, self._SECOND) != (self._pass == 2):
                continue
            if self._pass == 1 and level is None and self._after_solve and isinstance(s, self._LATE):
                self.ir.script.append(s)
                continue
            handler = getattr(self, "_s_" + type(s).__name__, None)
            if handler is not None:
                handler(s, level)
                if isinstance(s, (ast.VarDecl, ast.ConstraintDecl, ast.Objective)) and s.span is not None:
                    self.ir.decl_spans[s.name] = s.span  # locates errors found after lowering

    # ------------------------------------------------------------------ grids
    def _grid(self, indexing: ast.Indexing | None) -> tuple[Grid, list[str], Domain | None]:
        if indexing is None:
            return Grid.root(), [], None
        grid, _, names = self.ev.expand(Grid.root(), indexing)
        return grid, names, domain_of(grid, names)

    # ------------------------------------------------------------------ sets
    def _s_SetDecl(self, d: ast.SetDecl, level: str | None) -> None:
        if d.indexing is not None:
            self._indexed_set(d)
            return
        given = self.data.sets.get(d.name)
        if d.value is not None:
            if given is not None:
                raise DataError(f"set '{d.name}' is defined in the model and cannot also be given data", given.origin)
            dom = self.ev.set_value(d.value, Grid.root())
        elif given is not None:
            dimen = d.dimen or self._within_dimen(d) or _width(given.members)
            try:
                dom = Domain.from_tuples([m if isinstance(m, tuple) else (m,) for m in given.members], dimen)
            except (IndexError, TypeError):
                raise DataError(f"set '{d.name}' has members of the wrong dimension (expected {dimen})",
                                given.origin) from None
            if any(len(m) != dimen for m in given.members if isinstance(m, tuple)):
                raise DataError(f"set '{d.name}' has members of the wrong dimension (expected {dimen})", given.origin)
        elif d.default is not None:
            dom = self.ev.set_value(d.default, Grid.root())
        else:
            raise DataError(f"no data for set '{d.name}'", d.span,
                            hint=f"give it in a data section: set {d.name} := ...;")
        if d.dimen is not None and dom.dimen != d.dimen and dom.n:
            raise DataError(f"set '{d.name}' is declared dimen {d.dimen} but has members of dimension {dom.dimen}",
                            given.origin if given else d.span)
        if d.within is not None:
            self._check_within(d.name, dom, self.ev.set_value(d.within, Grid.root()), given.origin if given else d.span)
        self.ev.sets[d.name] = dom

    def _within_dimen(self, d: ast.SetDecl) -> int | None:
        if d.within is None:
            return None
        return self.ev.set_value(d.within, Grid.root()).dimen

    def _check_within(self, name: str, dom: Domain, within: Domain, span: Span | None) -> None:
        if dom.n == 0:
            return
        if within.dimen != dom.dimen:
            raise DataError(f"set '{name}' has dimension {dom.dimen} but its 'within' set has {within.dimen}", span)
        cols = dom.label_columns()
        pos = within.locate([lab.lookup(c) for lab, c in zip(within.dims, cols)])
        if np.any(pos < 0):
            bad = dom.member(int(np.flatnonzero(pos < 0)[0]))
            raise DataError(f"set '{name}': member {format_index(bad)} is not in its 'within' set", span)

    def _indexed_set(self, d: ast.SetDecl) -> None:
        grid, names, index_dom = self._grid(d.indexing)
        assert index_dom is not None
        given = self.data.sets.get(d.name)
        members: dict[tuple, Domain] = {}
        for r in range(index_dom.n):  # one set per index member (few); members are arrays
            key = index_dom.member(r)
            if d.value is not None:
                members[key] = self.ev.set_value(d.value, grid.take(np.array([r])))
            elif given is not None and given.indexed is not None and key in given.indexed:
                vals = given.indexed[key]
                dimen = d.dimen or _width(vals) or 1
                members[key] = Domain.from_tuples([v if isinstance(v, tuple) else (v,) for v in vals], dimen) if vals \
                    else Domain([Labels(np.zeros(0))])
            elif d.default is not None:
                members[key] = self.ev.set_value(d.default, grid.take(np.array([r])))
            else:
                raise DataError(f"no data for set {d.name}{format_index(key)}", given.origin if given else d.span)
        self.ev.indexed_sets[d.name] = (index_dom, members)

    # ------------------------------------------------------------------ params
    def _s_ParamDecl(self, d: ast.ParamDecl, level: str | None) -> None:
        grid, names, dom = self._grid(d.indexing)
        n = grid.n
        symbolic = d.kind == "symbolic"
        given = self.data.params.get(d.name)
        values = np.full(n, np.nan) if not symbolic else np.full(n, None, dtype=object)
        have = np.zeros(n, dtype=bool)
        lines: np.ndarray | None = None
        if d.value is None and given is None:
            # AMPL's `param supply {k in C} = expr;` defines the param; with data, GMPL's `= expr`
            # is a condition the data must meet (checked with the other bounds)
            eq = next((b for b in d.bounds if b.op == "="), None)
            if eq is not None:
                d = replace(d, value=eq.value, bounds=tuple(b for b in d.bounds if b is not eq))
        rule = d.value if d.value is not None else d.default
        if rule is not None and d.name in self.ev._names_in(rule):
            self._recursive_param(d, grid, dom, rule, given, values, have)
            return
        if d.value is not None:
            if given is not None:
                raise DataError(f"param '{d.name}' is defined in the model and cannot also be given data",
                                given.origin)
            v = self.ev.data_value(d.value, grid, f"the value of param '{d.name}'")
            values = _fit(v, n, symbolic, d.name, d.span)
            have[:] = True
        elif given is not None:
            lines = self._bind_param(d, given, dom, values, have)
        default = d.default
        if not have.all():
            fill = None
            if default is not None:
                fill = self.ev.data_value(default, grid, f"the default of param '{d.name}'")
            elif given is not None and given.default is not None:
                fill = given.default
            if fill is not None:
                fv = _fit(fill, n, symbolic, d.name, d.span)
                values[~have] = fv[~have]
                have[:] = True
        # known before its bounds are checked: a bound may read the param itself (the AMPL book's
        # `param rate {i, j, p in 1..n} >= if p = 1 then 0 else rate[i,j,p-1];`)
        self.ev.params[d.name] = ParamValue(d.name, dom, values, symbolic)
        if not have.all():
            self.ev.missing[d.name] = ~have
        self._check_param(d, grid, dom, values, have, given, lines)

    def _recursive_param(self, d: ast.ParamDecl, grid: Grid, dom: Domain | None, rule: ast.Expr,
                         given: ParamData | None, values: np.ndarray, have: np.ndarray) -> None:
        """A param whose value or default names itself (GMPL's `param z {i in I, j in 1..m} := if
        ... z[i, j-1] ...`): members are evaluated one at a time, each after the members it reads.
        The definition is sequential by nature, so this is the one member-by-member loop here."""
        lines = None
        if given is not None:
            if d.value is not None:
                raise DataError(f"param '{d.name}' is defined in the model and cannot also be given data",
                                given.origin)
            lines = self._bind_param(d, given, dom, values, have)
        symbolic = d.kind == "symbolic"
        miss = ~have
        self.ev.params[d.name] = ParamValue(d.name, dom, values, symbolic)
        self.ev.missing[d.name] = miss
        what = f"the {'value' if d.value is not None else 'default'} of param '{d.name}'"
        for first in np.flatnonzero(miss):
            stack = [int(first)]
            while stack:
                r = stack[-1]
                if not miss[r]:
                    stack.pop()
                    continue
                try:
                    v = self.ev.data_value(rule, grid.take(np.array([r])), what)
                except MissingParam as err:
                    if err.name != d.name:
                        raise
                    if err.pos in stack:
                        idx = format_index(dom.member(err.pos)) if dom is not None else ""
                        raise ModelError(f"param '{d.name}' is defined in terms of itself in a cycle "
                                         f"through {d.name}{idx}", rule.span) from None
                    stack.append(err.pos)
                    continue
                values[r] = _fit(v, 1, symbolic)[0]
                miss[r] = False
                stack.pop()
        have[:] = True
        self._check_param(d, grid, dom, values, have, given, lines)
        del self.ev.missing[d.name]

    def _bind_param(self, d: ast.ParamDecl, given: ParamData, dom: Domain | None, values: np.ndarray,
                    have: np.ndarray) -> np.ndarray | None:
        if dom is None:
            if given.value is None:  # `param limit default 625;` in the data: the default only
                return None
            if not given.is_scalar:
                raise DataError(f"param '{d.name}' is scalar but its data are indexed", given.origin)
            values[:] = given.value if d.kind == "symbolic" else _number(given.value, d.name, given.origin)
            have[:] = True
            return None
        if given.is_scalar:
            raise DataError(f"param '{d.name}' is indexed over {dom.dimen} set(s) but its data give one value",
                            given.origin)
        if given.dense is not None:
            shape = tuple(len(x) for x in dom.dims)
            arr = np.asarray(given.dense)
            if not dom.dense or arr.shape != shape:
                raise DataError(f"param '{d.name}': data of shape {arr.shape} do not match its index sets of size "
                                f"{shape}", given.origin)
            values[:] = arr.reshape(-1)
            have[:] = ~_is_missing(values)
            return None
        keys = given.keys or []
        if len(keys) != dom.dimen:
            raise DataError(f"param '{d.name}' takes {dom.dimen} subscript(s), data give {len(keys)}", given.origin)
        codes = [lab.lookup(label_array(k) if np.asarray(k).dtype == object else np.asarray(k))
                 for lab, k in zip(dom.dims, keys)]
        pos = dom.locate(codes)
        if np.any(pos < 0):
            r = int(np.flatnonzero(pos < 0)[0])
            idx = tuple(_scalar(k[r:r + 1]) for k in keys)
            raise DataError(f"param '{d.name}': index {format_index(idx)} is not in its index set",
                            _line_span(given, r))
        vals = np.asarray(given.values)
        if d.kind != "symbolic":
            try:
                vals = vals.astype(np.float64)
            except (TypeError, ValueError):
                r = next(i for i, v in enumerate(vals) if not _is_num(v))
                raise DataError(f"param '{d.name}': value '{vals[r]}' is not a number", _line_span(given, r)) from None
        values[pos] = vals
        have[pos] = ~_is_missing(vals)
        if given.lines is None:
            return None
        pos_lines = np.full(len(values), -1, dtype=np.int64)  # data line of each member's value
        pos_lines[pos] = given.lines
        return pos_lines

    def _check_param(self, d: ast.ParamDecl, grid: Grid, dom: Domain | None, values: np.ndarray,
                     have: np.ndarray, given: ParamData | None, lines: np.ndarray | None) -> None:
        def fail(mask: np.ndarray, what: str) -> None:
            r = int(np.flatnonzero(mask)[0])
            idx = format_index(dom.member(r)) if dom is not None else ""
            span = d.span
            if given is not None:
                span = given.origin or d.span
                if lines is not None and lines[r] >= 0 and given.origin is not None:
                    span = _data_line(given, int(lines[r]))
            raise DataError(f"param {d.name}{idx} = {_fmt(values[r])} violates {what}", span)

        if values.dtype != object:  # NaN is never data; infinity only as data (an infinite bound, AMPL's Infinity)
            with np.errstate(invalid="ignore"):
                v = values.astype(float, copy=False)
                bad = have & (np.isnan(v) | (np.isinf(v) if d.value is not None else False))
            if np.any(bad):
                r = int(np.flatnonzero(bad)[0])
                how = "not a number (NaN)" if np.isnan(values[r]) else "infinite"
                idx = format_index(dom.member(r)) if dom is not None else ""
                span = d.span
                if given is not None and d.value is None:
                    span = given.origin or d.span
                    if lines is not None and lines[r] >= 0 and given.origin is not None:
                        span = _data_line(given, int(lines[r]))
                raise DataError(f"param {d.name}{idx} is {how}", span,
                                hint="a division by zero, log of a negative number or an overflow gives this")
        if d.kind in ("integer", "binary") and values.dtype != object:
            bad = have & (values != np.round(values))
            if np.any(bad):
                fail(bad, f"'{d.kind}'")
            if d.kind == "binary" and np.any(have & ((values < 0) | (values > 1))):
                fail(have & ((values < 0) | (values > 1)), "'binary'")
        for b in d.bounds:
            bound = np.broadcast_to(self.ev.data_value(b.value, grid, f"a bound of param '{d.name}'"), (grid.n,))
            with np.errstate(invalid="ignore"):
                ok = {">=": np.greater_equal, "<=": np.less_equal, ">": np.greater, "<": np.less,
                      "=": np.equal, "==": np.equal, "!=": np.not_equal, "<>": np.not_equal}[b.op](values, bound)
            bad = have & ~np.asarray(ok, dtype=bool)
            if np.any(bad):
                r = int(np.flatnonzero(bad)[0])
                fail(bad, f"the declared bound {b.op} {_fmt(bound[r])}")
        if d.within is not None:
            within = self.ev.set_value(d.within, grid)
            lab = within.dims[0]
            pos = lab.lookup(label_array(list(values)) if values.dtype == object else values)
            bad = have & (pos < 0)
            if np.any(bad):
                fail(bad, "its 'in' set")

    # ------------------------------------------------------------------ variables
    def _s_VarDecl(self, d: ast.VarDecl, level: str | None) -> None:
        grid, names, dom = self._grid(d.indexing)
        n = grid.n

        def data(e: ast.Expr | None, default: float) -> np.ndarray:
            if e is None:
                return np.full(n, default)
            v = self.ev.data_value(e, grid, f"a bound of variable '{d.name}'")
            return np.broadcast_to(np.asarray(v, dtype=np.float64), (n,)).copy()

        if d.fixed is not None:
            value = self.ev.value(d.fixed, grid)
            if isinstance(value, Expr) and not value.is_constant:
                # AMPL's defined variable `var h {…} = expr;`: no column, it stands for its expression
                if d.lower is not None or d.upper is not None or d.kind is not None or d.columns:
                    raise ModelError(f"defined variable '{d.name}' (= an expression in variables) takes no "
                                     "bounds, integrality or columns", d.span,
                                     hint="state bounds as constraints on the expression")
                self.ev.defined[d.name] = (dom, value if value.n == n else value.gather(np.zeros(n, np.int64)))
                return
        lower, upper = data(d.lower, -INF), data(d.upper, INF)
        if d.fixed is not None:
            lower = upper = data(d.fixed, 0.0)
        integer = np.full(n, d.kind in ("integer", "binary"))
        if d.kind == "binary":
            lower, upper = np.maximum(lower, 0.0), np.minimum(upper, 1.0)
        init = data(d.init, 0.0) if d.init is not None else None
        given = self.data.params.get(d.name)
        if given is not None:  # AMPL's `var x := ...;` in the data: initial values, over `:=`
            values, have = np.full(n, np.nan), np.zeros(n, dtype=bool)
            self._bind_param(SimpleNamespace(name=d.name, kind=None), given, dom, values, have)
            init = np.where(have, values, init if init is not None else 0.0)
        block = VarBlock(d.name, dom, self.offset, n, lower, upper, integer, init, level or d.lower_block)
        self.offset += n
        self.ir.variables.append(block)
        self.ev.vars[d.name] = block
        if d.columns:  # AMPL's coeff/cover/obj and an arc's from/to: coefficients of named rows
            self.columns.add(d, block, grid)

    def _flows(self, d: ast.ConstraintDecl | ast.Objective, n: int) -> None:
        """Bind `to_come` (and a node's `net_in`, `net_out`) for the body of `d`."""
        ev = self.ev
        self.ev.flows = self.columns.flows(
            d, n, lambda w: w in ev.vars or w in ev.params or w in ev.sets)

    # ------------------------------------------------------------------ objectives and constraints
    def _as_expr(self, v: Any, n: int) -> Expr:
        if isinstance(v, Expr):
            return v
        return Expr.constant(np.asarray(self.ev.numeric(v), dtype=np.float64), n)

    def _s_Objective(self, d: ast.Objective, level: str | None) -> None:
        try:
            self._objective(d, level)
        finally:
            self.ev.flows = {}

    def _objective(self, d: ast.Objective, level: str | None) -> None:
        sense = "min" if d.sense == "minimize" else "max"
        if d.indexing is None:
            self._flows(d, 1)
            expr = _compact(self._as_expr(self.ev.value(d.expr, Grid.root()), 1))
            self.ir.objectives.append(ObjectiveIR(d.name, sense, expr, level or d.lower_block))
            return
        # AMPL's indexed objective: a family; the solve uses the member `objective NAME[...]`
        # selects, else the first
        grid, _, dom = self._grid(d.indexing)
        if grid.n == 0:
            raise ModelError(f"objective '{d.name}' is indexed over an empty set", d.span)
        row = 0
        sel = self._selected
        if sel is not None and sel.name == d.name and sel.subs:
            codes = [lab.lookup(np.atleast_1d(_labels(self.ev.label_value(x, Grid.root()))))
                     for x, lab in zip(sel.subs, dom.dims)]
            if len(sel.subs) != dom.dimen or int(dom.locate(codes)[0]) < 0:
                raise ModelError(f"objective {d.name}[...] selects no member of '{d.name}'", sel.span)
            row = int(dom.locate(codes)[0])
        self._flows(d, grid.n)
        full = self._as_expr(self.ev.value(d.expr, grid), grid.n)
        expr = _compact(full.gather(np.array([row])))
        self.ir.objectives.append(ObjectiveIR(d.name, sense, expr, level or d.lower_block))

    def _s_ObjectiveSelect(self, d: ast.ObjectiveSelect, level: str | None) -> None:
        if self._pass == 1:
            self._selected = d

    def _s_ConstraintDecl(self, d: ast.ConstraintDecl, level: str | None) -> None:
        try:
            self._constraint(d, level)
        finally:
            self.ev.flows = {}

    def _constraint(self, d: ast.ConstraintDecl, level: str | None) -> None:
        grid, names, dom = self._grid(d.indexing)
        rel = d.relation
        n = grid.n
        self._flows(d, n)
        if rel.op == "call":
            self._structure_constraint(d, rel)
            return
        if rel.op == "range":
            lo = np.asarray(self.ev.data_value(rel.lower, grid, "the bounds of a range constraint"), float)
            hi = np.asarray(self.ev.data_value(rel.upper, grid, "the bounds of a range constraint"), float)
            body = self._as_expr(self.ev.value(rel.body, grid), n)
            lower, upper = np.broadcast_to(lo, (n,)) - body.const, np.broadcast_to(hi, (n,)) - body.const
        else:
            body = self._as_expr(self.ev.value(rel.lhs, grid), n) - self._as_expr(self.ev.value(rel.rhs, grid), n)
            lower = np.full(n, -INF) if rel.op == "<=" else -body.const
            upper = np.full(n, INF) if rel.op == ">=" else -body.const
        body.const = np.zeros(n)
        _compact(body)
        self.ir.constraints.append(
            ConBlock(d.name, dom, body, np.asarray(lower, float).copy(), np.asarray(upper, float).copy(),
                     level or d.lower_block)
        )

    def _structure_constraint(self, d: ast.ConstraintDecl, rel: ast.Relation) -> None:
        call = rel.body
        assert isinstance(call, ast.Call)
        if call.func != "acyclic":
            raise ModelError(f"'{call.func}(...)' is not a constraint", call.span)
        if len(call.args) != 1 or not isinstance(call.args[0], ast.Ref) or call.args[0].name not in self.ev.vars:
            raise ModelError("acyclic() takes one two-dimensional variable, e.g. acyclic(W)", call.span)
        block = self.ev.vars[call.args[0].name]
        dom = block.domain
        if dom is None or dom.dimen != 2 or not dom.dense or len(dom.dims[0]) != len(dom.dims[1]):
            raise ModelError(f"acyclic({block.name}) needs a square variable over one set, like {{V, V}}", call.span)
        self.ir.structures.append(Structure("acyclic", d.name, {"var": block.name, "d": len(dom.dims[0])}))

    def _s_CheckStmt(self, d: ast.CheckStmt, level: str | None) -> None:
        grid, names, dom = self._grid(d.indexing)
        ok = np.broadcast_to(self.ev.data_value(d.condition, grid, "a check").astype(bool), (grid.n,))
        if not ok.all():
            r = int(np.flatnonzero(~ok)[0])
            where = f" for {format_index(dom.member(r))}" if dom is not None else ""
            msg = f"check failed{where}" + (f": {d.message}" if d.message else "")
            raise DataError(msg, d.span)

    def _s_OptionStmt(self, d: ast.OptionStmt, level: str | None) -> None:
        v = d.value
        self.ir.option_spans[d.name] = d.span
        if isinstance(v, ast.Num):
            self.ir.options[d.name] = v.value
        elif isinstance(v, ast.Str):
            self.ir.options[d.name] = v.value
        elif isinstance(v, ast.Ref):
            self.ir.options[d.name] = v.name
        else:
            self.ir.options[d.name] = _scalar(self.ev.data_value(v, Grid.root(), "an option"))

    def _s_LowerBlock(self, d: ast.LowerBlock, level: str | None) -> None:
        if self._pass == 1:
            self.ir.lower_blocks.append(d.name)
        self._statements(d.body, d.name)

    def _s_DisplayStmt(self, d: ast.Stmt, level: str | None) -> None:
        self.ir.script.append(d)

    _s_PrintfStmt = _s_DisplayStmt
    _s_ForStmt = _s_DisplayStmt

    def _s_TableStmt(self, d: ast.TableStmt, level: str | None) -> None:
        if d.direction.upper() == "OUT":  # IN tables were read with the data
            self.ir.script.append(d)

    def _s_SurrogateDecl(self, d: ast.SurrogateDecl, level: str | None) -> None:
        self.ev.surrogates.add(d.name)
        self.ir.structures.append(Structure("surrogate", d.name, {"kind": d.kind, "path": d.path}))


# ---------------------------------------------------------------------------------- helpers
def _compact(e: Expr) -> Expr:
    """Stored expressions keep their index arrays as int32 (half the memory of a big model)
    while positions fit; arithmetic on them upcasts as needed."""
    if max(e.n, int(e.cols.max(initial=0)) + 1) < 2**31:
        e.rows = e.rows.astype(np.int32, copy=False)
        e.cols = e.cols.astype(np.int32, copy=False)
        if e.has_quad:
            e.q_rows = e.q_rows.astype(np.int32, copy=False)
            e.q_i = e.q_i.astype(np.int32, copy=False)
            e.q_j = e.q_j.astype(np.int32, copy=False)
    return e


def _data_line(given: ParamData, line: int) -> Span:
    """The data line of an entry: in the CSV file it came from, else in the origin's file."""
    if given.lines_file is not None:
        return Span(given.lines_file, line, 1)
    return Span(given.origin.file, line, 1, text=given.origin.text)


def _option_seed(model: ast.Model) -> int:
    for st in model.statements:
        if isinstance(st, ast.OptionStmt) and st.name == "seed" and isinstance(st.value, ast.Num):
            v = float(st.value.value)
            if not (np.isfinite(v) and v.is_integer() and 0 <= v < 2**31):
                raise ModelError(f"option seed takes a whole number from 0 to 2^31 - 1, not {st.value.value!r}",
                                 st.span)
            return int(v)
    return 0


def _width(members: list[Any]) -> int:
    for m in members:
        return len(m) if isinstance(m, tuple) else 1
    return 1


def _fit(v: Any, n: int, symbolic: bool, name: str = "", span: Span | None = None) -> np.ndarray:
    arr = np.asarray(v)
    if symbolic:
        out = np.empty(n, dtype=object)
        out[:] = np.broadcast_to(arr, (n,))
        return out
    if arr.dtype == object:
        arr = np.array([_number(x, name, span) for x in arr.reshape(-1)]).reshape(arr.shape)
    return np.broadcast_to(arr.astype(np.float64), (n,)).copy()


def _is_missing(values: np.ndarray) -> np.ndarray:
    if values.dtype == object:
        return np.array([v is None for v in values], dtype=bool)
    return np.isnan(values)


def _is_num(v: Any) -> bool:
    try:
        float(v)
        return True
    except (TypeError, ValueError):
        return False


def _number(v: Any, name: str, span: Span | None) -> float:
    try:
        return float(v)
    except (TypeError, ValueError):
        raise DataError(f"param '{name}': value '{v}' is not a number", span) from None


def _fmt(v: Any) -> str:
    if isinstance(v, (float, np.floating)) and float(v).is_integer():
        return str(int(v))
    return str(v)


def _line_span(given: ParamData, r: int) -> Span | None:
    if given.lines is not None and given.origin is not None and r < len(given.lines):
        return _data_line(given, int(given.lines[r]))
    return given.origin
