"""Vectorized evaluation of AST expressions over a grid.

`Evaluator.value(expr, grid)` returns, for the grid's n rows, either a numpy array (data: float,
bool or object labels), a `Dummy` (an index value), or an `Expr` (when variables appear).
Set expressions evaluate to a `Domain`. No Python loop runs per grid row.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from optdsl.errors import ModelError, format_index
from optdsl.ir.expr import Expr, apply_numpy
from optdsl.ir.functions import FunctionCalls, _labels, _scalar, _text
from optdsl.ir.grid import Dummy, Grid, cross, join, ragged_range
from optdsl.ir.labels import Domain, Labels
from optdsl.ir.model import ParamValue, VarBlock
from optdsl.ir.piecewise import PiecewiseTerm
from optdsl.ir.piecewise import evaluate as evaluate_piecewise
from optdsl.limits import check_size
from optdsl.parse import ast
from optdsl.parse.symbols import set_items

Value = Any  # np.ndarray | Dummy | Expr

_BINOPS = {"+": "add", "-": "sub", "*": "mul", "/": "div", "^": "pow", "**": "pow"}


class Evaluator(FunctionCalls):
    def __init__(self, seed: int = 0) -> None:
        self.sets: dict[str, Domain] = {}
        self.indexed_sets: dict[str, tuple[Domain, dict[tuple, Domain]]] = {}
        self.params: dict[str, ParamValue] = {}
        self.missing: dict[str, np.ndarray] = {}  # param name -> mask of positions without data
        self.vars: dict[str, VarBlock] = {}
        self.defined: dict[str, tuple[Domain | None, Expr]] = {}  # AMPL's `var h = expr;` over variables
        self.surrogates: set[str] = set()
        self.piecewise: list[PiecewiseTerm] = []  # terms over variables, each with its value columns
        self.piecewise_start: int | None = None  # first value column: set once all variables are known
        self._seed = seed
        self._rng: np.random.Generator | None = None
        self._dependent_cache: dict[int, frozenset[str]] = {}
        # After a solve (display, printf, declarations after `solve;`), variables are data.
        self.post: Any = None  # an optdsl.script.PostSolve while statements after a solve run
        # `to_come`, `net_in`, `net_out` of the constraint or objective being built: the terms its
        # columns bring (optdsl.ir.columns); empty elsewhere, and never a declared name
        self.flows: dict[str, Expr] = {}

    @property
    def rng(self) -> np.random.Generator:
        """The seeded generator of the random functions, made on first use (numpy.random is a
        noticeable part of start-up, and most models draw nothing)."""
        if self._rng is None:
            self._rng = np.random.default_rng(self._seed)
        return self._rng

    # ================================================================== indexing
    def expand(self, grid: Grid, indexing: ast.Indexing, anon_prefix: str = "_") -> tuple[Grid, np.ndarray, list[str]]:
        """Child grid, parent map and the dummy names (generated for anonymous entries)."""
        parent = np.arange(grid.n)
        names_all: list[str] = []
        cur = grid
        for k, entry in enumerate(indexing.entries):
            dom = None
            if not self._uses_dummies(entry.set, cur):
                dom = self.set_value(entry.set, Grid.root())
                if not isinstance(dom, Domain):
                    raise ModelError("expected a set here", entry.set.span)
            names = entry.dummies or tuple(f"{anon_prefix}{k}_{c}" for c in range(dom.dimen if dom else 1))
            if dom is not None and len(names) != dom.dimen:
                raise ModelError(
                    f"{len(names)} dummy index(es) for a set of dimension {dom.dimen}", entry.span,
                    hint=f"write {_dummy_tuple(dom.dimen)} in ...",
                )
            if dom is not None and len(names) > 1:
                cur = self._bind_scalar_params(cur, names)
            if dom is None:
                cur, step = self._expand_dependent(cur, names, entry.set)
            elif any(n in cur.dummies for n in names):
                cur, step = join(cur, names, dom)
            else:
                check_size(float(cur.n) * float(dom.n), "this indexing", indexing.span or entry.span)
                cur, step = cross(cur, names, dom)
            parent = parent[step]
            names_all.extend(names)
        if indexing.condition is not None:
            mask = self.data_value(indexing.condition, cur, "a filter").astype(bool)
            mask = np.broadcast_to(mask, (cur.n,))
            keep = np.flatnonzero(mask)
            cur, parent = cur.take(keep), parent[keep]
        return cur, parent, names_all

    def _bind_scalar_params(self, grid: Grid, names: tuple[str, ...]) -> Grid:
        """`(entr, j) in ROADS` where `entr` is a scalar param: AMPL reads a slice at its value, so
        the name joins as a dummy already bound to that value."""
        scalar = [n for n in names if n not in grid.dummies and n in self.params and self.params[n].domain is None]
        if not scalar:
            return grid
        out = Grid(grid.n, dict(grid.dummies), grid.product)
        for n in scalar:
            out.dummies[n] = Dummy(Labels(self.params[n].values[:1]), np.zeros(grid.n, dtype=np.int64))
        return out

    def _expand_dependent(self, grid: Grid, names: tuple[str, ...], set_expr: ast.Expr) -> tuple[Grid, np.ndarray]:
        """A set that depends on outer dummies (`{j in 1..i}`, `S[i]`): one set per distinct value."""
        used = [n for n in grid.dummies if n in self._names_in(set_expr)]
        keys = np.stack([grid.dummies[n].pos for n in used], axis=1)
        uniq, inverse = np.unique(keys, axis=0, return_inverse=True)
        inverse = inverse.reshape(-1)
        pieces = []
        for key in uniq:
            sub = Grid(1, {n: Dummy(grid.dummies[n].labels, np.array([key[t]])) for t, n in enumerate(used)})
            dom = self.set_value(set_expr, sub)
            if len(names) != dom.dimen:
                raise ModelError(f"{len(names)} dummy index(es) for a set of dimension {dom.dimen}", set_expr.span)
            pieces.append(dom)
        # one Labels per position: the union of the pieces' labels
        labels = []
        for c in range(len(names)):
            vals = np.concatenate([p.dims[c].values[p.code_columns()[c]] for p in pieces]) if pieces else np.zeros(0)
            labels.append(Domain.from_columns([vals]).dims[0] if len(vals) else Labels(np.zeros(0)))
        sizes = np.array([p.n for p in pieces], dtype=np.int64)
        check_size(float(sizes[inverse].sum()), "this indexing", set_expr.span)
        goff = np.cumsum(sizes) - sizes
        owners, offsets = ragged_range(sizes[inverse])
        member = goff[inverse[owners]] + offsets  # index into the concatenated pieces
        child = grid.take(owners)
        for c, name in enumerate(names):
            allcodes = np.concatenate(
                [labels[c].map_from(p.dims[c])[p.code_columns()[c]] for p in pieces]
            ).astype(np.int64)
            child.dummies[name] = Dummy(labels[c], allcodes[member])
        return child, owners

    def _names_in(self, node: ast.Node) -> set[str]:
        out: set[str] = set()
        stack: list[Any] = [node]
        while stack:
            v = stack.pop()
            if isinstance(v, ast.Ref):
                out.add(v.name)
            if isinstance(v, ast.Node):
                stack.extend(getattr(v, f) for f in v.__dataclass_fields__ if f != "span")
            elif isinstance(v, tuple):
                stack.extend(v)
        return out

    def _uses_dummies(self, node: ast.Node, grid: Grid) -> bool:
        return bool(grid.dummies) and bool(self._names_in(node) & set(grid.dummies))

    # ================================================================== sets
    def set_value(self, e: ast.Expr, grid: Grid) -> Domain:
        if isinstance(e, ast.Ref):
            if e.name in self.sets and not e.subs:
                return self.sets[e.name]
            if e.name in self.indexed_sets:
                index_dom, members = self.indexed_sets[e.name]
                key = tuple(_scalar(self.label_value(s, grid)) for s in e.subs)
                if key not in members:
                    raise ModelError(f"{e.name}{format_index(key)} is not defined", e.span)
                return members[key]
            raise ModelError(f"'{e.name}' is not a set", e.span)
        if isinstance(e, ast.RangeSet):
            a = _scalar(self.data_value(e.start, grid, "a range"))
            b = _scalar(self.data_value(e.stop, grid, "a range"))
            step = _scalar(self.data_value(e.step, grid, "a range")) if e.step is not None else 1
            if step == 0:
                raise ModelError("a range step cannot be 0", e.span)
            if not all(np.isfinite(float(v)) for v in (a, b, step)):
                raise ModelError(f"a range needs finite bounds and step, not {a!r}..{b!r} by {step!r}", e.span)
            count = max(float(np.floor((b - a) / step + 1e-9)) + 1, 0)  # a, a+step, ... not past b
            count = check_size(count, "this range", e.span)
            vals = a + step * np.arange(count, dtype=np.float64)
            return Domain([Labels(vals)])
        if isinstance(e, ast.SetLiteral):
            flags = set_items(e, lambda n: n in self.sets)
            if flags is not None:
                # `{rows, cols}`, `{cols, 1}`: the indexing expression's product (AMPL, GMPL)
                entries = tuple(ast.IndexEntry((), i if is_set else ast.SetLiteral((i,), span=i.span), span=i.span)
                                for i, is_set in zip(e.items, flags, strict=True))
                return self.set_value(ast.SetBuilder(ast.Indexing(entries), span=e.span), grid)
            members = []
            for item in e.items:
                if isinstance(item, ast.TupleExpr):
                    members.append(tuple(_scalar(self.label_value(x, grid)) for x in item.items))
                else:
                    members.append((_scalar(self.label_value(item, grid)),))
            dimen = len(members[0]) if members else 1
            if any(len(m) != dimen for m in members):
                raise ModelError("set members have different dimensions", e.span)
            if not members:
                return Domain([Labels(np.zeros(0))])
            return Domain.from_tuples(members, dimen)
        if isinstance(e, ast.SetOp):
            return self._set_op(e, grid)
        if isinstance(e, ast.SetBuilder):
            sub, _, names = self.expand(grid, e.indexing)
            dummies = names
            return Domain.from_columns([sub.dummies[n].values() for n in dummies]) if sub.n else _empty(len(dummies))
        if isinstance(e, ast.SetOf):
            sub, _, _ = self.expand(grid, e.indexing)
            items = e.item.items if isinstance(e.item, ast.TupleExpr) else (e.item,)
            cols = [np.broadcast_to(_labels(self.label_value(x, sub)), (sub.n,)) for x in items]
            return Domain.from_columns([np.asarray(c) for c in cols]) if sub.n else _empty(len(items))
        if isinstance(e, ast.Iterated) and e.op in ("union", "inter"):
            sub, _, _ = self.expand(grid, e.indexing)
            result = None
            for r in range(sub.n):
                d = self.set_value(e.body, sub.take(np.array([r])))
                result = d if result is None else _combine(e.op, result, d, e.span)
            return result if result is not None else _empty(1)
        if isinstance(e, ast.IfThen):
            cond = bool(_scalar(self.data_value(e.condition, grid, "a condition")))
            if cond:
                return self.set_value(e.then, grid)
            return self.set_value(e.otherwise, grid) if e.otherwise is not None else _empty(1)
        raise ModelError("expected a set expression", e.span)

    def _set_op(self, e: ast.SetOp, grid: Grid) -> Domain:
        a = self.set_value(e.left, grid)
        b = self.set_value(e.right, grid)
        if e.op == "cross":
            check_size(float(a.n) * float(b.n), "this cross product", e.span)
            if a.dense and b.dense:
                return Domain(a.dims + b.dims)
            ca, cb = a.code_columns(), b.code_columns()
            ia = np.repeat(np.arange(a.n), b.n)
            ib = np.tile(np.arange(b.n), a.n)
            return Domain(a.dims + b.dims, np.stack([c[ia] for c in ca] + [c[ib] for c in cb], axis=1))
        return _combine(e.op, a, b, e.span)

    # ================================================================== scalars and labels
    def label_value(self, e: ast.Expr, grid: Grid) -> Dummy | np.ndarray:
        """A subscript or set member: a Dummy when `e` is a bare dummy, else label values."""
        if isinstance(e, ast.Ref) and not e.subs and e.name in grid.dummies:
            return grid.dummies[e.name]
        v = self.value(e, grid)
        if isinstance(v, Expr):
            raise ModelError("a subscript cannot contain variables", e.span)
        return v

    def data_value(self, e: ast.Expr, grid: Grid, where: str = "data") -> np.ndarray:
        v = self.value(e, grid)
        if isinstance(v, Expr):
            if v.is_constant:
                return v.const
            raise ModelError(f"variables cannot appear in {where}: it is evaluated on data", e.span)
        if isinstance(v, Dummy):
            return v.values()
        return v

    def numeric(self, v: Value) -> np.ndarray | Expr:
        if isinstance(v, Dummy):
            return v.numbers()
        if isinstance(v, np.ndarray) and v.dtype == object:
            return np.array([x if isinstance(x, (int, float)) else np.nan for x in v], dtype=np.float64)
        return v

    # ================================================================== expressions
    def value(self, e: ast.Expr, grid: Grid) -> Value:
        method = getattr(self, "_v_" + type(e).__name__, None)
        if method is None:
            raise ModelError(f"a {type(e).__name__} cannot be used as a value here", e.span)
        return method(e, grid)

    def _v_Num(self, e: ast.Num, grid: Grid) -> np.ndarray:
        return np.full(grid.n, float(e.value))

    def _v_Str(self, e: ast.Str, grid: Grid) -> np.ndarray:
        out = np.empty(grid.n, dtype=object)
        out[:] = e.value
        return out

    def _v_Ref(self, e: ast.Ref, grid: Grid) -> Value:
        name = e.name
        if not e.subs and name in grid.dummies:
            return grid.dummies[name]
        if not e.subs and name in self.flows:
            return self.flows[name]
        if name in self.vars:
            block = self.vars[name]
            pos = self._positions(name, block.domain, e, grid)
            if self.post is not None:
                return self.post.x[block.start + pos]
            return Expr.variables(block.start + pos)
        if name in self.defined:  # a defined variable stands for its expression, member by member
            dom, ex = self.defined[name]
            rows = ex.gather(self._positions(name, dom, e, grid))
            return self.post.evaluate(rows) if self.post is not None else rows
        if name in self.params:
            p = self.params[name]
            pos = self._positions(name, p.domain, e, grid)
            miss = self.missing.get(name)
            if miss is not None and np.any(miss[pos]):
                if p.domain is None:
                    raise ModelError(f"no data for param '{name}'", e.span,
                                     hint=f"give it in a data section: param {name} := ...;")
                bad = int(pos[np.flatnonzero(miss[pos])[0]])
                idx = format_index(p.domain.member(bad)) if p.domain is not None else ""
                raise MissingParam(f"param '{name}' has no data for {name}{idx} and no default", e.span,
                                   name=name, pos=bad)
            return p.values[pos]
        if name in self.sets and not e.subs:
            raise ModelError(f"set '{name}' used where a number is expected", e.span,
                             hint=f"use card({name}) for its size")
        if name == "Infinity" and not e.subs:  # AMPL's constant: an infinite bound (`<= +Infinity`)
            return np.full(grid.n, np.inf)
        raise ModelError(f"undefined name '{name}'", e.span)

    def _v_Suffix(self, e: ast.Suffix, grid: Grid) -> np.ndarray:
        post, name, what = self.post, e.base.name, e.suffix
        if post is None:
            raise ModelError(f"'{name}.{what}' has a value only after a solve", e.span)
        if name in self.vars:
            block = self.vars[name]
            pos = self._positions(name, block.domain, e.base, grid)
            flat = block.start + pos
            if what == "val":
                return post.x[flat]
            if what in ("lb", "ub"):
                return np.broadcast_to(block.lower if what == "lb" else block.upper, (block.size,))[pos]
            if what == "rc":
                return post.reduced[flat] if post.reduced is not None else np.full(len(pos), np.nan)
            init = block.init if block.init is not None else np.zeros(block.size)
            return np.broadcast_to(init, (block.size,))[pos]
        if name in post.constraints:
            con, offset = post.constraints[name]
            pos = self._positions(name, con.domain, e.base, grid)
            if what == "dual":
                return post.duals[offset + pos] if post.duals is not None else np.full(len(pos), np.nan)
            lo = np.broadcast_to(con.lower, (con.expr.n,))[pos]
            hi = np.broadcast_to(con.upper, (con.expr.n,))[pos]
            if what == "lb":
                return lo
            if what == "ub":
                return hi
            body = post.body(con)[pos]
            return {"body": body, "lslack": body - lo, "uslack": hi - body,
                    "slack": np.minimum(body - lo, hi - body)}[what]
        if name in post.objectives:
            return np.full(grid.n, post.objective_value(name))
        raise ModelError(f"'{name}' has no suffix '.{what}'", e.span)

    def _positions(self, name: str, dom: Domain | None, e: ast.Ref, grid: Grid) -> np.ndarray:
        if dom is None:
            if e.subs:
                raise ModelError(f"'{name}' is not indexed, but has {len(e.subs)} subscript(s)", e.span)
            return np.zeros(grid.n, dtype=np.int64)
        if len(e.subs) != dom.dimen:
            raise ModelError(f"'{name}' takes {dom.dimen} subscript(s), got {len(e.subs)}", e.span)
        codes = []
        raw = []
        for s, lab in zip(e.subs, dom.dims):
            v = self.label_value(s, grid)
            if isinstance(v, Dummy):
                codes.append(lab.map_from(v.labels)[v.pos])
                raw.append(v)
            else:
                arr = np.broadcast_to(_labels(v), (grid.n,))
                codes.append(lab.lookup(arr))
                raw.append(arr)
        pos = dom.locate(codes)
        if np.any(pos < 0):
            r = int(np.flatnonzero(pos < 0)[0])
            idx = tuple(_scalar(c.labels.values[c.pos[r:r + 1]] if isinstance(c, Dummy) else c[r:r + 1])
                        for c in raw)
            raise ModelError(f"subscript {name}{format_index(idx)} is outside the index set of '{name}'", e.span)
        return pos

    def _v_UnOp(self, e: ast.UnOp, grid: Grid) -> Value:
        v = self.value(e.operand, grid)
        if e.op == "not":
            return ~self._bool(v, e.operand)
        v = self.numeric(v)
        if e.op == "-":
            return -v
        return v

    def _v_BinOp(self, e: ast.BinOp, grid: Grid) -> Value:
        if e.op in ("+", "-", "*") and isinstance(e.left, ast.BinOp) and e.left.op in ("+", "-", "*"):
            return self._chain(e, grid)
        if e.op == "&":
            a, b = self.data_value(e.left, grid), self.data_value(e.right, grid)
            return np.array([_text(x) + _text(y) for x, y in np.broadcast(a, b)], dtype=object)
        a = self.numeric(self.value(e.left, grid))
        b = self.numeric(self.value(e.right, grid))
        for side, v in ((e.left, a), (e.right, b)):
            if isinstance(v, np.ndarray) and v.dtype == object:
                raise ModelError("a symbolic value cannot be used in arithmetic", side.span)
        if isinstance(a, Expr) or isinstance(b, Expr):
            return self._expr_binop(e, a, b, grid.n)
        with np.errstate(all="ignore"):
            if e.op in _BINOPS:
                return apply_numpy(_BINOPS[e.op], a, b)
            if e.op == "div":
                return np.trunc(a / b)
            if e.op == "mod":
                return np.fmod(a, b)
            if e.op == "less":
                return np.maximum(a - b, 0.0)
        raise ModelError(f"unknown operator '{e.op}'", e.span)

    def _chain(self, e: ast.BinOp, grid: Grid) -> Value:
        """A left-nested chain `t1 + t2 - t3 ...` (or of `*`) evaluated in a loop, not by recursion:
        a written-out sum of thousands of terms must not reach the recursion limit."""
        ops: list[tuple[str, ast.Expr]] = []
        node: ast.Expr = e
        kind = "*" if e.op == "*" else "+-"
        while isinstance(node, ast.BinOp) and node.op in kind:
            ops.append((node.op, node.right))
            node = node.left
        acc = self.numeric(self.value(node, grid))
        for op, right in reversed(ops):
            b = self.numeric(self.value(right, grid))
            for side, v in ((right, b),):
                if isinstance(v, np.ndarray) and v.dtype == object:
                    raise ModelError("a symbolic value cannot be used in arithmetic", side.span)
            if isinstance(acc, Expr) or isinstance(b, Expr):
                acc = self._expr_binop(ast.BinOp(op, node, right, span=e.span), acc, b, grid.n)
            else:
                acc = apply_numpy(_BINOPS[op], acc, b)
        return acc

    def _expr_binop(self, e: ast.BinOp, a: Any, b: Any, n: int) -> Expr:
        ea = a if isinstance(a, Expr) else Expr.constant(a, n)
        eb = b if isinstance(b, Expr) else Expr.constant(b, n)
        op = e.op
        if op == "+":
            return ea + eb
        if op == "-":
            return ea - eb
        if op == "*":
            return ea.times(eb)
        if op == "/":
            if eb.is_constant:
                return ea.scale(1.0 / eb.const)
            return ea.apply("div", eb)
        if op in ("^", "**"):
            if eb.is_constant and np.all(eb.const == 2) and ea.is_affine:
                return ea.times(ea)
            if eb.is_constant and np.all(eb.const == 1):
                return ea
            return ea.apply("pow", eb)
        if op == "less":
            return (ea - eb).apply("max2", Expr.constant(0.0, n))
        raise ModelError(f"'{op}' cannot be applied to variables", e.span)

    def _bool(self, v: Value, node: ast.Node) -> np.ndarray:
        if isinstance(v, Expr):
            raise ModelError("a condition cannot depend on variables", node.span)
        if isinstance(v, Dummy):
            v = v.numbers()
        return np.asarray(v).astype(bool)

    def _v_Compare(self, e: ast.Compare, grid: Grid) -> np.ndarray:
        if e.op == "within":
            return self._within(e, grid)
        a, b = self.value(e.left, grid), self.value(e.right, grid)
        if isinstance(a, Expr) or isinstance(b, Expr):
            raise ModelError("a comparison with variables is only allowed as a constraint", e.span)
        a = a.values() if isinstance(a, Dummy) else a
        b = b.values() if isinstance(b, Dummy) else b
        if a.dtype == object or b.dtype == object:
            a = np.array([_norm(x) for x in a], dtype=object)
            b = np.array([_norm(x) for x in b], dtype=object)
        op = {"<": np.less, "<=": np.less_equal, "=": np.equal, "==": np.equal, "!=": np.not_equal,
              "<>": np.not_equal, ">=": np.greater_equal, ">": np.greater}[e.op]
        if a.dtype == object or b.dtype == object:
            if e.op in ("=", "==", "!=", "<>"):
                res = np.array([x == y for x, y in zip(a, b)], dtype=bool)
                return res if e.op in ("=", "==") else ~res
        return np.asarray(op(a, b), dtype=bool)

    def _v_Logic(self, e: ast.Logic, grid: Grid) -> np.ndarray:
        # AMPL and GMPL stop at the left operand when it decides (`d <> w and msr[d,w]` reads no
        # missing msr[w,w]), so the right operand runs only on the rows still undecided.
        a = np.broadcast_to(self._bool(self.value(e.left, grid), e.left), (grid.n,))
        need = np.flatnonzero(a if e.op == "and" else ~a)
        if len(need) == grid.n:
            return np.broadcast_to(self._bool(self.value(e.right, grid), e.right), (grid.n,)).copy()
        out = a.copy()
        if len(need):
            sub = grid.take(need)
            out[need] = np.broadcast_to(self._bool(self.value(e.right, sub), e.right), (len(need),))
        return out

    def _v_InSet(self, e: ast.InSet, grid: Grid) -> np.ndarray:
        if self._uses_dummies(e.set, grid):
            return self._in_dependent_set(e, grid)
        dom = self.set_value(e.set, grid)
        return self._member(e, dom, grid)

    def _member(self, e: ast.InSet, dom: Domain, grid: Grid) -> np.ndarray:
        items = e.element.items if isinstance(e.element, ast.TupleExpr) else (e.element,)
        if len(items) != dom.dimen:
            raise ModelError(f"a {len(items)}-tuple cannot be a member of a set of dimension {dom.dimen}", e.span)
        codes = []
        for it, lab in zip(items, dom.dims):
            v = self.label_value(it, grid)
            if isinstance(v, Dummy):
                codes.append(lab.map_from(v.labels)[v.pos])
            else:
                codes.append(lab.lookup(np.broadcast_to(_labels(v), (grid.n,))))
        found = dom.locate(codes) >= 0
        return ~found if e.negated else found

    def _within(self, e: ast.Compare, grid: Grid) -> np.ndarray:
        """`A within B`: every member of A is in B; once per distinct value of the dummies used."""
        used = [n for n in grid.dummies if n in self._names_in(e)]
        if not used:
            a, b = self.set_value(e.left, Grid.root()), self.set_value(e.right, Grid.root())
            return np.full(grid.n, _subset(a, b))
        keys = np.stack([grid.dummies[n].pos for n in used], axis=1)
        uniq, inverse = np.unique(keys, axis=0, return_inverse=True)
        vals = np.empty(len(uniq), dtype=bool)
        for g, key in enumerate(uniq):
            one = Grid(1, {n: Dummy(grid.dummies[n].labels, np.array([key[t]])) for t, n in enumerate(used)})
            vals[g] = _subset(self.set_value(e.left, one), self.set_value(e.right, one))
        return vals[inverse.reshape(-1)]

    def _in_dependent_set(self, e: ast.InSet, grid: Grid) -> np.ndarray:
        """`u in m_pos[pl]` with `pl` a dummy: one set per distinct value of the dummies it uses,
        each tested on its own rows."""
        used = [n for n in grid.dummies if n in self._names_in(e.set)]
        keys = np.stack([grid.dummies[n].pos for n in used], axis=1)
        uniq, inverse = np.unique(keys, axis=0, return_inverse=True)
        inverse = inverse.reshape(-1)
        order = np.argsort(inverse, kind="stable")
        bounds = np.searchsorted(inverse[order], np.arange(len(uniq) + 1))
        out = np.zeros(grid.n, dtype=bool)
        for g, key in enumerate(uniq):
            rows = order[bounds[g]:bounds[g + 1]]
            one = Grid(1, {n: Dummy(grid.dummies[n].labels, np.array([key[t]])) for t, n in enumerate(used)})
            out[rows] = self._member(e, self.set_value(e.set, one), grid.take(rows))
        return out

    def _v_IfThen(self, e: ast.IfThen, grid: Grid) -> Value:
        cond = np.broadcast_to(self._bool(self.value(e.condition, grid), e.condition), (grid.n,))
        rows_t, rows_f = np.flatnonzero(cond), np.flatnonzero(~cond)
        vt = self.value(e.then, grid.take(rows_t)) if len(rows_t) else None
        if e.otherwise is not None:
            vf = self.value(e.otherwise, grid.take(rows_f)) if len(rows_f) else None
        else:
            vf = np.zeros(len(rows_f))
        return _merge(grid.n, rows_t, vt, rows_f, vf)

    def _v_Iterated(self, e: ast.Iterated, grid: Grid) -> Value:
        if e.op in ("union", "inter"):
            raise ModelError(f"'{e.op}' builds a set, not a number", e.span)
        sub, parent, _ = self.expand(grid, e.indexing)
        body = self.value(e.body, sub)
        if e.op in ("forall", "exists"):
            b = np.broadcast_to(self._bool(body, e.body), (sub.n,))
            hits = np.bincount(parent, weights=(b if e.op == "exists" else ~b).astype(float), minlength=grid.n)
            return hits > 0 if e.op == "exists" else hits == 0
        body = self.numeric(body)
        if isinstance(body, Expr):
            if e.op == "sum":
                return body.reduce_sum(parent, grid.n)
            from optdsl.ir.expr import NL, NONSMOOTH, SMOOTH

            curv = NONSMOOTH if e.op in ("max", "min") else SMOOTH
            return Expr.from_nl(NL(e.op, grid.n, [body.to_nl()], data=(parent, grid.n),
                                   curvature=max(curv, body.curvature)))
        body = np.broadcast_to(np.asarray(body, dtype=np.float64), (sub.n,))
        if e.op == "sum":
            return np.bincount(parent, weights=body, minlength=grid.n)
        init = {"prod": 1.0, "max": -np.inf, "min": np.inf}[e.op]
        out = np.full(grid.n, init)
        {"prod": np.multiply, "max": np.maximum, "min": np.minimum}[e.op].at(out, parent, body)
        return out

    def _v_Piecewise(self, e: ast.Piecewise, grid: Grid) -> Value:
        return evaluate_piecewise(self, e, grid)

    def piecewise_columns(self, n: int, span: Any = None) -> int:
        """The first of `n` new value columns for a piecewise-linear term."""
        if self.piecewise_start is None:
            raise ModelError("a piecewise-linear term of variables can only stand in an objective or constraint",
                             span)
        start = self.piecewise_start + sum(t.n for t in self.piecewise)
        return start

    def _v_Subscript(self, e: ast.Subscript, grid: Grid) -> Value:
        if isinstance(e.base, ast.Call) and e.base.func in self.surrogates:
            return self._surrogate_output(e, grid)
        raise ModelError("only surrogate calls can be subscripted like this", e.span)

    def _surrogate_output(self, e: ast.Subscript, grid: Grid) -> Expr:
        from optdsl.ir.expr import NL, SMOOTH

        call = e.base
        assert isinstance(call, ast.Call)
        inputs = []
        for a in call.args:
            if isinstance(a, ast.Ref) and not a.subs and a.name in self.vars:
                block = self.vars[a.name]
                inputs.append(NL("var", block.size, data=np.arange(block.start, block.start + block.size)))
            else:
                v = self.value(a, grid)
                ev = v if isinstance(v, Expr) else Expr.constant(self.numeric(v), grid.n)
                inputs.append(ev.to_nl())
        if len(e.subs) != 1:
            raise ModelError("a surrogate output takes one subscript", e.span)
        raw = np.asarray(self.data_value(e.subs[0], grid), dtype=float)
        if not (np.isfinite(raw).all() and (raw == np.round(raw)).all() and (np.abs(raw) < 2**31).all()):
            raise ModelError("a surrogate output subscript must be a whole number", e.subs[0].span)
        k = raw.astype(int)
        node = NL("call", grid.n, inputs, data=(call.func, k), curvature=SMOOTH)
        return Expr.from_nl(node)


# ====================================================================== helpers
def _dummy_tuple(dimen: int) -> str:
    return "(" + ", ".join(f"i{c + 1}" for c in range(dimen)) + ")" if dimen > 1 else "i"


def _norm(x: Any) -> Any:
    if isinstance(x, float) and x.is_integer():
        return int(x)
    return x


def _empty(dimen: int) -> Domain:
    if dimen == 1:
        return Domain([Labels(np.zeros(0))])
    return Domain([Labels(np.zeros(0)) for _ in range(dimen)], np.zeros((0, dimen), dtype=np.int64))


def _combine(op: str, a: Domain, b: Domain, span) -> Domain:
    if a.dimen != b.dimen:
        raise ModelError(f"'{op}' of sets of dimensions {a.dimen} and {b.dimen}", span)
    la, lb = a.label_columns(), b.label_columns()
    if op == "union":
        return Domain.from_columns([np.concatenate([x, y]) for x, y in zip(la, lb)]) if a.n + b.n else a
    in_b = b.locate([d.lookup(c) for d, c in zip(b.dims, la)]) >= 0
    if op == "inter":
        keep = in_b
    elif op == "diff":
        keep = ~in_b
    elif op == "symdiff":
        in_a = a.locate([d.lookup(c) for d, c in zip(a.dims, lb)]) >= 0
        cols = [np.concatenate([x[~in_b], y[~in_a]]) for x, y in zip(la, lb)]
        return Domain.from_columns(cols) if len(cols[0]) else _empty(a.dimen)
    else:
        raise ModelError(f"unknown set operator '{op}'", span)
    if a.dimen == 1:
        return Domain([Labels(la[0][keep])])
    return a.select(np.flatnonzero(keep))


def _merge(n: int, rows_t: np.ndarray, vt: Any, rows_f: np.ndarray, vf: Any) -> Any:
    """Rows of `vt` at rows_t and of `vf` at rows_f, as one value of n rows."""
    parts = [(r, v) for r, v in ((rows_t, vt), (rows_f, vf)) if len(r)]
    if any(isinstance(v, Expr) for _, v in parts):
        total = None
        for r, v in parts:
            ev = v if isinstance(v, Expr) else Expr.constant(np.broadcast_to(v, (len(r),)), len(r))
            # place row k of ev at row r[k] of the result
            placed = ev.reduce_sum(r, n)
            total = placed if total is None else total + placed
        return total
    parts = [(r, v.values() if isinstance(v, Dummy) else v) for r, v in parts]
    kinds = [np.asarray(v).dtype for _, v in parts]
    out = np.empty(n, dtype=object if any(k == np.dtype(object) for k in kinds) else np.float64)
    for r, v in parts:
        out[r] = np.broadcast_to(v, (len(r),))
    return out


class MissingParam(ModelError):
    """A param member without data was read; `name` and `pos` say which (a param defined in terms
    of itself evaluates that member first)."""

    def __init__(self, message: str, span: Any, name: str, pos: int) -> None:
        super().__init__(message, span)
        self.name, self.pos = name, pos


def _subset(a: Domain, b: Domain) -> bool:
    if a.n == 0:
        return True
    if a.dimen != b.dimen:
        return False
    cols = a.code_columns()
    codes = [lb.map_from(la)[c] for la, lb, c in zip(a.dims, b.dims, cols)]
    return bool(np.all(b.locate(codes) >= 0))
