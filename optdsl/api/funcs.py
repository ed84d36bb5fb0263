"""Functions of the Python API, exported as `od.sum`, `od.each`, `od.exp`, ...

`od.sum(body for i in I ...)` runs the generator once inside a frame: iterating an optdsl set
there yields a symbolic dummy and records `i in I`; an `if cond` clause records a filter. The
result is `sum {i in I, ...: cond} body`, exactly the parser's node for that text.
"""

from __future__ import annotations

import types
from typing import Any

from optdsl.api.components import Each, SetHandle
from optdsl.api.expr import (
    Cond,
    Condition,
    Dim,
    Expression,
    Frame,
    Relation,
    Term,
    align,
    and_nodes,
    binop,
    describe_node,
    dims_text,
    frames,
    label_node,
    operand,
)
from optdsl.errors import ModelError
from optdsl.parse import ast


# ------------------------------------------------------------------- generator consumption
def collect(gen: Any) -> tuple[Frame, list[Any]]:
    """Run a generator inside a fresh frame: the sets it iterates register their dummies there."""
    frame = Frame()
    st = frames()
    st.append(frame)
    try:
        items: list[Any] = []
        for item in gen:
            items.append(item)
            if frame.entries and len(items) > 1:
                raise ModelError("a generator given to od.sum(...) must iterate optdsl sets only (each set "
                                 "yields one symbolic dummy); do not mix them with Python loops over data")
    finally:
        st.pop()
    return frame, items


def iterated(op: str, frame: Frame, items: list[Any]) -> Expression:
    """The Iterated expression a frame and its single body make."""
    if not items:
        raise ModelError("the filter of this od.sum(...) made its body never run: negate conditions with "
                         "~cond (not 'not cond') and combine them with & and |")
    body = operand(items[0])
    cond_nodes = []
    free = set(body.free)
    dims, conds = body.dims, body.conds
    for c in frame.conds:
        if c.dims:
            raise ModelError(f"a filter inside od.sum(...) must use dummies, not whole components "
                             f"({describe_node(c.node)} is indexed over {dims_text(c.dims)})")
        cond_nodes.append(c.node)
        free |= c.free
    free -= frame.bound
    node = ast.Iterated(op, ast.Indexing(tuple(frame.entries), and_nodes(cond_nodes)), body.node)
    return Term(node, dims, conds, frozenset(free), body.has_var)


def fold(op: str, items: list[Any]) -> Expression:
    """A sum/product of concrete terms: a left-deep chain, as the parser builds `a + b + c`."""
    if op in ("max", "min"):
        if not items:
            raise ModelError(f"od.{op}() of nothing")
        return call(op, *items)
    if not items:
        return Term(ast.Num(0 if op == "sum" else 1))
    sym = "+" if op == "sum" else "*"
    acc = operand(items[0])
    for it in items[1:]:
        acc = binop(sym, acc, it)
    return acc


def call(func: str, *args: Any) -> Expression:
    """A function call, elementwise over aligned dims: exp(x), max(a, b, ...)."""
    ops = [operand(a) for a in args]
    dims: tuple[Dim, ...] = ()
    conds: tuple[Cond, ...] = ()
    acc: Any = Term(ast.Num(0))
    for o in ops:
        dims, conds = align(func, acc, o)
        acc = Term(o.node, dims, conds)
    free = frozenset().union(*(o.free for o in ops)) if ops else frozenset()
    return Term(ast.Call(func, tuple(o.node for o in ops)), dims, conds, free,
                      any(o.has_var for o in ops))


def piecewise(breakpoints: Any, slopes: Any, x: Any, zero: Any = None) -> Expression:
    """AMPL's `<<b1, ..., bn; s1, ..., sn+1>> x` (or `(x, zero)`): slope s1 below b1, s[k+1]
    between b[k] and b[k+1], s[n+1] above bn, and 0 at x = zero (default 0). Breakpoints and
    slopes are numbers or data expressions; the term is elementwise over the dims they share with x."""
    bk, sl = [operand(b) for b in breakpoints], [operand(s) for s in slopes]
    arg = operand(x)
    z = operand(zero) if zero is not None else None
    parts = [*bk, *sl, arg] + ([z] if z is not None else [])
    for p in parts:
        if p is not arg and p.has_var:
            raise ModelError("the breakpoints, slopes and zero point of od.piecewise(...) are data: "
                             f"{describe_node(p.node)} has variables")
    dims: tuple[Dim, ...] = ()
    conds: tuple[Cond, ...] = ()
    acc: Any = Term(ast.Num(0))
    for p in parts:
        dims, conds = align("piecewise", acc, p)
        acc = Term(p.node, dims, conds)
    node = ast.Piecewise(tuple(ast.PiecewiseItem(b.node) for b in bk), tuple(ast.PiecewiseItem(s.node) for s in sl),
                         arg.node, z.node if z is not None else None)
    return Term(node, dims, conds, frozenset().union(*(p.free for p in parts)), arg.has_var)


# ------------------------------------------------------------------------------ functions
def _iterate(op: str, arg: Any) -> Expression:
    if isinstance(arg, Expression):
        return arg.sum() if op == "sum" else getattr(arg, op)()
    if isinstance(arg, types.GeneratorType):
        frame, items = collect(arg)
        if frame.entries:
            return iterated(op, frame, items)
        return fold(op, items)
    if isinstance(arg, (SetHandle, Each)):
        raise ModelError(f"od.{op}() takes an expression over a set, e.g. od.{op}(x[i] for i in I)")
    if hasattr(arg, "__iter__") and not isinstance(arg, str):
        return fold(op, list(arg))
    raise ModelError(f"od.{op}() takes a generator, a list of expressions or an indexed expression")


def sum(arg: Any) -> Expression:  # noqa: A001 - the modeling `sum`, like AMPL's
    """`od.sum(x[i, j] for i in I for j in J if d[i, j] > 0)`, `od.sum(expr_over_dims)`, `od.sum([a, b])`."""
    return _iterate("sum", arg)


def prod(arg: Any) -> Expression:
    """Product: `od.prod(p[i] for i in I)`."""
    return _iterate("prod", arg)


def max(*args: Any) -> Expression:  # noqa: A001
    """`od.max(a, b, ...)`: the larger value (elementwise); `od.max(e[i] for i in I)`: iterated max."""
    if len(args) == 1 and (isinstance(args[0], types.GeneratorType) or
                           (isinstance(args[0], Expression) and args[0].dims)):
        return _iterate("max", args[0])
    return call("max", *args)


def min(*args: Any) -> Expression:  # noqa: A001
    """`od.min(a, b, ...)` or `od.min(e[i] for i in I)`."""
    if len(args) == 1 and (isinstance(args[0], types.GeneratorType) or
                           (isinstance(args[0], Expression) and args[0].dims)):
        return _iterate("min", args[0])
    return call("min", *args)


def each(*sets: Any, where: Any = None) -> Each:
    """Several sets at once: `for i, j in od.each(I, J)` inside od.sum, or as an index / over=.
    `where`: a filter, a function of the dummies (or, for declarations, a condition)."""
    return Each(*sets, where=where)


def _unary(name: str) -> Any:
    def f(x: Any) -> Expression:
        return call(name, x)

    f.__name__ = name
    f.__doc__ = f"`{name}(x)`, elementwise on indexed expressions."
    return f


exp = _unary("exp")
log = _unary("log")
log10 = _unary("log10")
sqrt = _unary("sqrt")
sin = _unary("sin")
cos = _unary("cos")
tan = _unary("tan")
tanh = _unary("tanh")
atan = _unary("atan")
sinh = _unary("sinh")
cosh = _unary("cosh")
asin = _unary("asin")
acos = _unary("acos")
asinh = _unary("asinh")
acosh = _unary("acosh")
atanh = _unary("atanh")


def atan2(y: Any, x: Any) -> Expression:
    """`atan2(y, x)`: the angle of the point (x, y), elementwise on indexed expressions."""
    return call("atan2", y, x)
abs = _unary("abs")  # noqa: A001
floor = _unary("floor")
ceil = _unary("ceil")


def between(lower: Any, expr: Any, upper: Any) -> Relation:
    """The range constraint `lower <= expr <= upper` (bounds free of variables)."""
    lo, body, hi = operand(lower), operand(expr), operand(upper)
    dims, conds = align("<=", lo, body)
    tmp = Term(body.node, dims, conds)
    dims, conds = align("<=", tmp, hi)
    return Relation("range", None, None, dims, conds, lo.free | body.free | hi.free,
                    lo.has_var or body.has_var or hi.has_var, lower=lo, body=body, upper=hi)


def where(cond: Condition, then: Any, otherwise: Any = 0) -> Expression:
    """`if cond then a else b` (the condition is on data)."""
    if not isinstance(cond, Condition):
        raise ModelError("od.where(cond, a, b): cond must be a comparison on data, e.g. d[i] > 0")
    if cond.has_var:
        raise ModelError("od.where(cond, a, b): the condition cannot depend on variables")
    a, b = operand(then), operand(otherwise)
    dims, conds = align("if", cond, a)
    tmp = Term(a.node, dims, conds)
    dims, conds = align("if", tmp, b)
    node = ast.IfThen(cond.node, a.node, b.node)
    return Term(node, dims, conds, cond.free | a.free | b.free, a.has_var or b.has_var)


def card(s: SetHandle) -> Expression:
    """The number of members of a set: `card(S)`."""
    return Term(ast.Call("card", (ast.Ref(_set_name(s)),)))


def ord(i: Any, s: SetHandle | None = None) -> Expression:  # noqa: A001
    """The position (from 1) of a dummy in its set: `ord(i)` or `ord(i, S)`."""
    args = (label_node(i),) if s is None else (label_node(i), ast.Ref(_set_name(s)))
    return Term(ast.Call("ord", args), free=getattr(i, "free", frozenset()))


def acyclic(w: Any) -> Relation:
    """The structure constraint `acyclic(W)`: W (square, over one set twice) has no directed cycle."""
    name = getattr(w, "name", None)
    if name is None or not getattr(w, "is_var", False):
        raise ModelError("od.acyclic() takes a two-dimensional variable, e.g. od.acyclic(W)")
    body = Term(ast.Call("acyclic", (ast.Ref(name),)), has_var=True)
    return Relation("call", None, None, (), (), frozenset(), True, body=body)


def _set_name(s: Any) -> str:
    if isinstance(s, SetHandle):
        return s.name
    if isinstance(s, str):
        return s
    raise ModelError(f"expected a set, got {type(s).__name__}")


__all__ = ["sum", "prod", "max", "min", "each", "piecewise", "exp", "log", "log10", "sqrt", "sin", "cos", "tan", "tanh",
           "atan", "sinh", "cosh", "asin", "acos", "asinh", "acosh", "atanh", "atan2", "abs", "floor", "ceil",
           "between", "where", "card", "ord", "acyclic"]
