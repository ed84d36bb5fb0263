"""Building models in Python: the `ModelBuilder` mixin of `optdsl.Model`.

Each call appends the AST statement the parser would build for the same declaration (without
source spans) and its data to the model, so both doors reach one IR by construction:

    m = od.Model("transport")
    I = m.set("I", ["Seattle", "San-Diego"])
    a = m.param("a", I, {"Seattle": 350, "San-Diego": 600})
    x = m.var("x", (I, J), lb=0)
    m.minimize("cost", od.sum(c[i, j] * x[i, j] for i, j in od.each(I, J)))   # generator style
    m.constraint("supply", x.sum("J") <= a)                                       # vectorized style

See docs/python_api.md for both styles and the alignment rules.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from optdsl.api.components import (
    ConstraintHandle,
    Index,
    ObjectiveHandle,
    ParamHandle,
    SetHandle,
    VarHandle,
    _Item,
    index_of,
    is_index_spec,
    range_node,
)
from optdsl.api.expr import (
    Condition,
    Dummy,
    Expression,
    Relation,
    Term,
    and_nodes,
    apply_lambda,
    describe,
    dims_text,
    operand,
)
from optdsl.api.names import RESERVED, component_names, resolve
from optdsl.api.opt_text import is_identifier
from optdsl.data.pydata import param_data, set_data
from optdsl.data.store import DataStore, Declared
from optdsl.errors import DataError, ModelError
from optdsl.parse import ast


class ModelBuilder:
    """Declaration methods shared by `optdsl.Model` (which holds `_ast` and `_data`)."""

    _ast: ast.Model
    _data: DataStore

    def _changed(self) -> None:  # pragma: no cover - Model overrides it
        pass

    # ------------------------------------------------------------------ sets
    def set(self, name: str, members: Any = None, *, dimen: int | None = None, within: Any = None,
            index: Any = None) -> SetHandle:
        """A set. `members`: a list (or array, pandas Index...) of labels or tuples: data; a `range`:
        the model expression `a..b [by k]`; None: data to come from a data file. With `index`
        (an indexed set `set S {I}`), `members` is a dict {index label: members}."""
        self._new_name(name)
        ix = index_of(index)
        value: ast.Expr | None = None
        data = None
        if isinstance(members, range):
            if ix is not None:
                raise ModelError(f"set '{name}': an indexed set takes a dict {{index: members}}")
            value = range_node(members)
            listed: list[Any] | None = list(members)
        elif members is not None:
            data = set_data(name, members, dimen, indexed=ix is not None)
            listed = None if ix is not None else data.members
            if ix is None and dimen is None and data.members and isinstance(data.members[0], tuple):
                dimen = len(data.members[0])
        else:
            listed = None
        width = dimen or 1
        stmt = ast.SetDecl(name, indexing=_anonymous(ix), dimen=dimen if width > 1 else None,
                           within=_set_ref(within), value=value)
        self._add(stmt)
        if data is not None:
            self._data.add_set(data)
        return SetHandle(name, width, listed)

    # ------------------------------------------------------------------ params
    def param(self, name: str, index: Any = None, data: Any = None, *, default: Any = None,
              integer: bool = False, binary: bool = False, symbolic: bool = False,
              lb: Any = None, ub: Any = None, gt: Any = None, lt: Any = None,
              within: Any = None) -> ParamHandle:
        """A param. `index`: a set, a tuple of sets, a range or od.each(...); omitted for a scalar.
        `data`: numbers, arrays, dicts, pandas objects (see optdsl.data.pydata) -- or a model
        expression / a function of the dummies, which becomes the declaration's `:= expr`.
        `m.param("f", 90)` is the scalar param f with value 90. Checks on the data: `lb`/`ub`
        (>=, <=), `gt`/`lt` (strict > and <), `within` (a set, a range, or a list of values)."""
        if data is None and index is not None and not is_index_spec(index):
            index, data = None, index
        self._new_name(name)
        ix = index_of(index)
        is_value = isinstance(data, Expression) or (callable(data) and not _is_data(data))
        kind = "binary" if binary else "integer" if integer else "symbolic" if symbolic else None
        attrs = {"value": data if is_value else None, "default": default, "lb": lb, "ub": ub, "gt": gt, "lt": lt}
        pdata = None
        if data is not None and not is_value:  # convert first: bad data leave the model unchanged
            names = tuple(it.dim.set if it.dim else "" for it in ix.items) if ix else ()
            pdata = param_data(name, data, Declared("param", ix.flat if ix else 0, names, symbolic))
            _check_dense(name, pdata.dense, ix)
        indexing, nodes, conds = self._declare(name, ix, attrs)
        bounds = tuple(ast.Bound(op, nodes[k]) for op, k in ((">=", "lb"), ("<=", "ub"), (">", "gt"), ("<", "lt"))
                       if nodes[k] is not None)
        self._add(ast.ParamDecl(name, indexing, kind, bounds, within=_set_ref(within), default=nodes["default"],
                                value=nodes["value"]))
        if pdata is not None:
            self._data.add_param(pdata)
        return ParamHandle(name, ix, self, conds)

    # ------------------------------------------------------------------ variables
    def var(self, name: str, index: Any = None, *, lb: Any = None, ub: Any = None, integer: bool = False,
            binary: bool = False, init: Any = None, fixed: Any = None) -> VarHandle:
        """A variable over `index` (a set, tuple of sets, range or od.each(...)). Bounds, `init`
        and `fixed` take numbers, model expressions, functions of the dummies, or data (arrays,
        dicts, pandas), which become a param named `<name>_lb` (`_ub`, `_init`, `_fixed`)."""
        self._new_name(name)
        ix = index_of(index)
        attrs: dict[str, Any] = {}
        for key, v in (("lb", lb), ("ub", ub), ("init", init), ("fixed", fixed)):
            if v is not None and _is_data(v) and not _is_number(v):
                p = self.param(f"{name}_{key}", index, v)
                v = p if p._dims_error is None else (lambda *ds, p=p: p[ds])
            attrs[key] = None if v is None or (_is_number(v) and np.isinf(float(v))) else v
        indexing, nodes, conds = self._declare(name, ix, attrs)
        kind = "binary" if binary else "integer" if integer else None
        self._add(ast.VarDecl(name, indexing, kind, lower=nodes["lb"], upper=nodes["ub"], fixed=nodes["fixed"],
                              init=nodes["init"], lower_block=getattr(self, "_lower_name", None)))
        return VarHandle(name, ix, self, conds)

    # ------------------------------------------------------------------ objectives
    def minimize(self, name: str, expr: Any) -> ObjectiveHandle:
        """The objective `minimize name: expr;` (expr is one number: sum indexed expressions)."""
        return self._objective("minimize", name, expr)

    def maximize(self, name: str, expr: Any) -> ObjectiveHandle:
        return self._objective("maximize", name, expr)

    def _objective(self, sense: str, name: str, expr: Any) -> ObjectiveHandle:
        self._new_name(name)
        e = _expression(expr, f"objective '{name}'")
        if e.dims:
            text = describe(e)
            text = text if text.replace("_", "").isalnum() else f"({text})"
            raise ModelError(f"objective '{name}' is indexed over {dims_text(e.dims)}, but an objective is one "
                             f"number: sum it, e.g. m.{sense}(\"{name}\", {text}.sum())")
        self._add(ast.Objective(sense, name, e.node, lower_block=getattr(self, "_lower_name", None)))
        return ObjectiveHandle(name, sense)

    # ------------------------------------------------------------------ constraints
    def constraint(self, name: str, rel: Any, *, over: Any = None, where: Any = None) -> ConstraintHandle:
        """A constraint. `rel` is a relation (`<=`, `>=`, `==`, od.between, od.acyclic), indexed
        over its free index sets (vectorized style; `over=` may reorder them), or a function of
        dummies returning one, called once with symbolic dummies over `over=` (a set, tuple of
        sets or od.each). `where=`: a filter (condition or function of the dummies)."""
        self._new_name(name)
        what = f"constraint '{name}'"
        if callable(rel) and not isinstance(rel, (Condition, Expression)):
            r, indexing = self._over_lambda(rel, over, where, what)
        else:
            r = _as_relation(rel, what)
            indexing = self._vector_indexing(r, over, where, what)
        self._add(ast.ConstraintDecl(name, r.ast_relation(), indexing,
                                     lower_block=getattr(self, "_lower_name", None)))
        return ConstraintHandle(name)

    def check_data(self, cond: Any, *, over: Any = None, where: Any = None, message: str | None = None) -> None:
        """A data check `check {over}: cond;` (a condition or a function of the dummies)."""
        what = "check"
        if callable(cond) and not isinstance(cond, Condition):
            c, indexing = self._over_lambda(cond, over, where, what, relation=False)
        else:
            if not isinstance(cond, Condition):
                raise ModelError(f"check: expected a condition, got {type(cond).__name__}")
            c, indexing = cond, self._vector_indexing(cond, over, where, what)
        self._add(ast.CheckStmt(c.node, indexing, message))

    def _over_lambda(self, fn: Callable[..., Any], over: Any, where: Any, what: str,
                     relation: bool = True) -> tuple[Any, ast.Indexing | None]:
        ix = index_of(over)
        if ix is None:
            raise ModelError(f"{what}: a function needs over= (the sets its dummies range over)")
        entries, flat, _ = ix.bind(use_dims=False)
        conds = [c for c in (ix.condition(flat, what), _where(where, flat, what)) if c is not None]
        result = apply_lambda(fn, flat, what)
        r = _as_relation(result, what) if relation else result
        if not isinstance(r, Condition):
            raise ModelError(f"{what}: the function must return a condition, got {type(r).__name__}")
        if r.dims:
            raise ModelError(f"{what}: the function returned an expression still indexed over "
                             f"{dims_text(r.dims)}; index its components with the dummies, e.g. x[i, j]")
        return r, ast.Indexing(tuple(entries), and_nodes([c.node for c in conds]))

    def _vector_indexing(self, r: Condition, over: Any, where: Any, what: str) -> ast.Indexing | None:
        dims = r.dims
        if over is not None:
            ix = index_of(over)
            want = ix.dims() if ix is not None else ()
            if isinstance(want, str) or ix is None or ix.where is not None or \
                    sorted(d.set for d in want) != sorted(d.set for d in dims):
                raise ModelError(f"{what}: over= lists {ix.text or _items_text(ix)} but the relation is indexed "
                                 f"over {dims_text(dims) or 'nothing'}; give the same sets (in any order), or "
                                 f"write a function of the dummies: m.constraint(name, lambda i: ..., over=...)")
            dims = want
        conds = [c[0] for c in r.conds]
        if where is not None:
            placeholders = [Dummy(p, d.set) for d in dims for p in d.placeholders()]
            w = _where(where, placeholders, what)
            if w is not None:
                extra = [d.set for d in w.dims if d.set not in {x.set for x in dims}]
                if extra:
                    raise ModelError(f"{what}: where= is indexed over {', '.join(extra)}, which the relation "
                                     f"is not indexed over")
                conds.append(w.node)
        if not dims:
            if conds:
                raise ModelError(f"{what}: where= needs an indexed relation or over=")
            return None
        return ast.Indexing(tuple(d.entry() for d in dims), and_nodes(conds))

    # ------------------------------------------------------------------ other statements
    def option(self, name: str, value: Any) -> None:
        """`option name value;` e.g. m.option("solver", "highs"), m.option("highs.presolve", "off")."""
        if isinstance(value, str):
            node: ast.Expr = ast.Ref(value) if is_identifier(value) else ast.Str(value)
        else:
            node = operand(value).node
        self._add(ast.OptionStmt(name, node))

    @contextmanager
    def lower(self, name: str) -> Iterator[ModelBuilder]:
        """Declarations inside `with m.lower("follower"):` form the follower problem of a bilevel model."""
        if getattr(self, "_lower_name", None) is not None:
            raise ModelError("lower blocks do not nest")
        self._new_name(name)
        self._add(ast.LowerBlock(name, ()))
        self._lower_name: str | None = name
        self._lower_pos = len(self._ast.statements) - 1
        try:
            yield self
        finally:
            self._lower_name = None

    def surrogate(self, name: str, source: Any, kind: str = "torch", *, n_in: int | None = None,
                  n_out: int | None = None, architecture: Any = None, differentiable: bool | None = None,
                  ) -> Surrogate:
        """`surrogate name := torch "path";` -- call it: phi(x)[1].

        `source` is a file path (relative to the model's folder), or a Python object: a
        torch.nn.Module, an exported program, or a callable on batches (B x n_in -> B x n_out;
        called with torch tensors when `differentiable=True`, else with numpy arrays). `n_in` and
        `n_out` declare the sizes (checked when the model is lowered); `architecture` is the
        torch.nn.Module a weights-only state-dict file is loaded into."""
        self._new_name(name)
        extra = {"n_in": n_in, "n_out": n_out, "architecture": architecture, "differentiable": differentiable}
        if isinstance(source, (str, os.PathLike)):
            path = os.fspath(source)
        else:
            if not callable(source):
                raise ModelError(f"surrogate '{name}': give a file path, a torch module or a callable, "
                                 f"not {type(source).__name__}")
            path = f"<python object {type(source).__name__}>"
            extra["object"] = source
        if not hasattr(self, "_surrogate_extra"):
            self._surrogate_extra: dict[str, dict[str, Any]] = {}
        self._surrogate_extra[name] = extra
        self._add(ast.SurrogateDecl(name, kind, path))
        return Surrogate(name)

    # ------------------------------------------------------------------ handles of parsed models
    def __getitem__(self, name: str) -> Any:
        """A handle on a declared component (also of models read from `.opt` text)."""
        from optdsl.api.lookup import handle_of

        return handle_of(self, name)

    # ------------------------------------------------------------------ internals
    def _new_name(self, name: str) -> None:
        if not isinstance(name, str) or not is_identifier(name) or name in RESERVED:
            raise ModelError(f"{name!r} cannot be a component name: use letters, digits and _ "
                             f"(not a reserved word), starting with a letter")
        if name in component_names(self._ast.statements):
            raise ModelError(f"'{name}' is already declared in this model")

    def _add(self, stmt: ast.Stmt) -> None:
        avoid = frozenset(component_names(self._ast.statements) | {getattr(stmt, "name", "")})
        stmt = resolve(stmt, avoid)
        stmts = list(self._ast.statements)
        if getattr(self, "_lower_name", None) is not None:
            pos = self._lower_pos
            block = stmts[pos]
            stmts[pos] = dataclasses.replace(block, body=block.body + (stmt,))
        else:
            stmts.append(stmt)
        self._ast = dataclasses.replace(self._ast, statements=tuple(stmts))
        self._changed()

    def _declare(self, name: str, ix: Index | None, attrs: dict[str, Any]
                 ) -> tuple[ast.Indexing | None, dict[str, ast.Expr | None], tuple]:
        """The declaration's indexing, its attribute nodes, and the filter its handle carries.

        The index is named `{i in I, j in J}` when an attribute or the filter uses the dummies,
        anonymous `{I, J}` otherwise (as a modeler would write it)."""
        what = f"'{name}'"
        if ix is None:
            nodes = {}
            for k, v in attrs.items():
                e = None if v is None else _expression(v, f"{what}: {k}")
                if e is not None and e.dims:
                    raise ModelError(f"{what} is not indexed, but its {k} is indexed over {dims_text(e.dims)}")
                nodes[k] = None if e is None else e.node
            return None, nodes, ()
        entries, flat, _ = ix.bind(use_dims=True)
        own = {p.node.name for p in flat}
        dims = ix.dims()
        dim_names = {d.set for d in dims} if isinstance(dims, tuple) else set()
        nodes, used = {}, False
        for k, v in attrs.items():
            if v is None:
                nodes[k] = None
                continue
            if callable(v) and not isinstance(v, (Expression, Condition)) and not _is_data(v):
                v = apply_lambda(v, flat, f"{what}: {k}")
            e = _expression(v, f"{what}: {k}")
            extra = [d.set for d in e.dims if d.set not in dim_names]
            if extra:
                over = dims_text(dims) if isinstance(dims, tuple) else "an unnamed set"
                raise ModelError(f"the {k} of {what} is indexed over {', '.join(extra)}, which is not among its "
                                 f"index sets ({over})")
            if e.conds:
                raise ModelError(f"the {k} of {what} is defined only on a filtered index; declare {what} over "
                                 f"the same od.each(..., where=...)")
            used = used or bool(e.dims) or bool(e.free & own)
            nodes[k] = e.node
        cond = ix.condition(flat, what)
        carried: tuple = ()
        if cond is not None:
            used = True
            sets = {d.set_name for d in flat if d.node.name in cond.free} | {d.set for d in cond.dims}
            carried = ((cond.node, frozenset(s for s in sets if s)),)
        if used:
            indexing = ast.Indexing(tuple(entries), None if cond is None else cond.node)
        else:
            indexing = _anonymous(ix)
        return indexing, nodes, carried


class Surrogate:
    """A declared surrogate: `phi(x)[k]` is output k of the network at inputs x."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __call__(self, *args: Any) -> _SurrogateCall:
        nodes = []
        for a in args:
            if isinstance(a, VarHandle):
                nodes.append(ast.Ref(a.name))  # the whole variable, in its index order
            else:
                nodes.append(operand(a).node)
        has_var = any(isinstance(a, VarHandle) or getattr(a, "has_var", False) for a in args)
        return _SurrogateCall(ast.Call(self.name, tuple(nodes)), has_var)


class _SurrogateCall:
    def __init__(self, call: ast.Call, has_var: bool) -> None:
        self.call = call
        self.has_var = has_var

    def __getitem__(self, k: Any) -> Expression:
        return Term(ast.Subscript(self.call, (operand(k).node,)), has_var=self.has_var)


# ---------------------------------------------------------------------------------- helpers
def _anonymous(ix: Index | None) -> ast.Indexing | None:
    if ix is None:
        return None
    return ast.Indexing(tuple(ast.IndexEntry((), it.set_node) for it in ix.items))


def _set_ref(s: Any) -> ast.Expr | None:
    if s is None:
        return None
    if isinstance(s, SetHandle):
        return ast.Ref(s.name)
    if isinstance(s, range):
        return range_node(s)
    if isinstance(s, (list, tuple, set, frozenset)) and all(isinstance(v, (str, int, float)) for v in s):
        items = sorted(s, key=str) if isinstance(s, (set, frozenset)) else list(s)
        return ast.SetLiteral(tuple(ast.Str(v) if isinstance(v, str) else ast.Num(v) for v in items))
    raise ModelError(f"within= takes a set, a range or a list of values, got {type(s).__name__}")


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)


def _is_data(v: Any) -> bool:
    """Data objects (as opposed to model expressions and functions of dummies)."""
    if isinstance(v, (Expression, Condition)):
        return False
    if isinstance(v, (np.ndarray, list, tuple, dict, range, str, int, float, np.number)):
        return True
    return type(v).__module__.startswith("pandas")


def _expression(v: Any, what: str) -> Expression:
    if isinstance(v, Condition):
        raise ModelError(f"{what}: expected a number or expression, got a condition "
                         f"({describe(v)}); use od.where(cond, a, b)")
    if hasattr(v, "__next__"):
        raise ModelError(f"{what}: got a generator; wrap it in od.sum(...) (or od.prod/od.max/od.min)")
    return operand(v)


def _as_relation(v: Any, what: str) -> Relation:
    if isinstance(v, Relation):
        if v.op == "range" and (v.lower.has_var or v.upper.has_var):  # type: ignore[union-attr]
            raise ModelError(f"{what}: the bounds of od.between(lo, expr, hi) must not contain variables")
        return v
    if isinstance(v, Condition):
        raise ModelError(f"{what}: a constraint is <=, >= or == (strict <, > and != are filters only): "
                         f"{describe(v)}")
    if isinstance(v, (bool, np.bool_)):
        raise ModelError(f"{what}: the comparison was computed by Python (it gave {bool(v)}); one side must be "
                         f"a model expression (a variable or param)")
    raise ModelError(f"{what}: expected a relation such as x.sum(\"J\") <= a, got {type(v).__name__}")


def _where(where: Any, dummies: list[Dummy], what: str) -> Condition | None:
    if where is None:
        return None
    c = where
    if callable(c) and not isinstance(c, Condition):
        c = apply_lambda(c, dummies, f"{what}: where=")
    if not isinstance(c, Condition):
        raise ModelError(f"{what}: where= must be a condition or a function returning one")
    if c.has_var:
        raise ModelError(f"{what}: a filter cannot depend on variables: it is evaluated on data")
    return c


def _items_text(ix: Index | None) -> str:
    if ix is None:
        return "nothing"
    from optdsl.api.opt_text import expr_text

    return ", ".join(expr_text(it.set_node) for it in ix.items)


def _check_dense(name: str, dense: np.ndarray | None, ix: Index | None) -> None:
    """An early, precise error for an array whose shape does not match the sets given in Python."""
    if dense is None or ix is None or ix.where is not None:
        return
    sizes = []
    for it in ix.items:
        size = _known_size(it)
        if size is None:
            return
        sizes.append(size)
    if tuple(dense.shape) != tuple(sizes):
        sets = ", ".join(f"{it.dim.set if it.dim else 'range'} ({s})" for it, s in zip(ix.items, sizes))
        raise DataError(f"param '{name}': data of shape {dense.shape} do not match its index sets {sets}")


def _known_size(it: _Item) -> int | None:
    return it.size


__all__ = ["ModelBuilder", "Surrogate"]
