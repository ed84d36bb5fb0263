"""Expressions of the Python API: thin wrappers around AST nodes.

Every Python operator builds the AST node the parser would build for the same text, so a model
built in Python instantiates through the same code as a `.opt` model.

Dummy indices are *placeholders* while an expression is being built (names starting with '%'),
renamed to readable, deterministic names when a statement is added to the model
(`optdsl.api.names`). Two kinds exist:

- generator dummies, made when a set is iterated inside `od.sum(...)` or passed to a lambda:
  `%g<n>:<base>`, unique per creation;
- dimension dummies of the vectorized style: `%d<SET>:<base>`, one per index-set name, so that
  two whole components over the same set line up by construction (alignment by set name).

An Expression carries, besides its node: `dims` (the index sets it is still indexed over, in
order: vectorized style), `conds` (filters restricting those dims, from components declared
over a filtered index), `free` (generator placeholders not yet bound) and `has_var`.
"""

from __future__ import annotations

import dis
import inspect
import itertools
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from optdsl.errors import ModelError
from optdsl.parse import ast

Cond = tuple[ast.Expr, frozenset[str]]  # a filter node and the names of the dims it refers to

_counter = itertools.count(1)


@dataclass(frozen=True)
class Dim:
    """One named dimension: the index set `set` (of tuple width `dimen`)."""

    set: str
    dimen: int = 1

    def placeholders(self) -> tuple[str, ...]:
        base = dummy_base(self.set)
        if self.dimen == 1:
            return (f"%d{self.set}:{base}",)
        return tuple(f"%d{self.set}.{k}:{base}{k}" for k in range(1, self.dimen + 1))

    def entry(self) -> ast.IndexEntry:
        return ast.IndexEntry(self.placeholders(), ast.Ref(self.set))


def dummy_base(set_name: str) -> str:
    """The readable base of a dummy over `set_name`: its first letter in lower case, as AMPL
    modelers write `i in ITEMS` (counters keep dummies of sets with one initial apart)."""
    return set_name[0].lower()


def fresh_placeholder(base: str) -> str:
    return f"%g{next(_counter)}:{base}"


def dims_text(dims: tuple[Dim, ...]) -> str:
    return ", ".join(d.set for d in dims)


# ---------------------------------------------------------------------------- expressions
class Expression:
    """A numeric model expression (wraps an `ast.Expr`)."""

    __slots__ = ("node", "dims", "conds", "free", "has_var")
    __array_ufunc__ = None  # numpy defers to our reflected operators: `array * x` reaches __rmul__

    def __init__(self, node: ast.Expr, dims: tuple[Dim, ...] = (), conds: tuple[Cond, ...] = (),
                 free: frozenset[str] = frozenset(), has_var: bool = False) -> None:
        self.node = node
        self.dims = dims
        self.conds = conds
        self.free = free
        self.has_var = has_var

    # arithmetic -------------------------------------------------------------------------
    def __add__(self, o: Any) -> Expression:
        return binop("+", self, o)

    def __radd__(self, o: Any) -> Expression:
        return binop("+", o, self)

    def __sub__(self, o: Any) -> Expression:
        return binop("-", self, o)

    def __rsub__(self, o: Any) -> Expression:
        return binop("-", o, self)

    def __mul__(self, o: Any) -> Expression:
        return binop("*", self, o)

    def __rmul__(self, o: Any) -> Expression:
        return binop("*", o, self)

    def __truediv__(self, o: Any) -> Expression:
        return binop("/", self, o)

    def __rtruediv__(self, o: Any) -> Expression:
        return binop("/", o, self)

    def __pow__(self, o: Any) -> Expression:
        return binop("^", self, o)

    def __rpow__(self, o: Any) -> Expression:
        return binop("^", o, self)

    def __neg__(self) -> Expression:
        s = operand(self)
        return Term(ast.UnOp("-", s.node), s.dims, s.conds, s.free, s.has_var)

    def __pos__(self) -> Expression:
        return operand(self)

    # comparisons: <=, >=, == make relations (constraints or filters); <, >, != filters only
    def __le__(self, o: Any) -> Relation:  # type: ignore[override]
        return relation("<=", self, o)

    def __ge__(self, o: Any) -> Relation:  # type: ignore[override]
        return relation(">=", self, o)

    def __eq__(self, o: Any) -> Relation:  # type: ignore[override]
        return relation("=", self, o)

    def __lt__(self, o: Any) -> Condition:
        return compare("<", self, o)

    def __gt__(self, o: Any) -> Condition:
        return compare(">", self, o)

    def __ne__(self, o: Any) -> Condition:  # type: ignore[override]
        return compare("!=", self, o)

    __hash__ = None  # type: ignore[assignment]

    def __bool__(self) -> bool:
        raise ModelError("a model expression has no truth value in Python; compare it (<=, >=, ==) to make "
                         "a constraint or a filter")

    def __iter__(self) -> Any:
        raise ModelError("a model expression cannot be iterated; iterate sets instead, inside od.sum(...)")

    # vectorized reductions -------------------------------------------------------------------
    def sum(self, *sets: Any) -> Expression:
        """Sum over the named index sets (all of them when none are named)."""
        return reduce_dims("sum", self, sets)

    def prod(self, *sets: Any) -> Expression:
        return reduce_dims("prod", self, sets)

    def max(self, *sets: Any) -> Expression:
        return reduce_dims("max", self, sets)

    def min(self, *sets: Any) -> Expression:
        return reduce_dims("min", self, sets)

    def expand(self, *sets: Any) -> Expression:
        """The same expression, also indexed over `sets` (repeated along them): an explicit broadcast."""
        s = operand(self)
        extra = []
        for x in sets:
            d = _dim_of(x)
            if any(e.set == d.set for e in s.dims):
                raise ModelError(f"{describe(s)} is already indexed over {d.set}")
            extra.append(d)
        return Term(s.node, s.dims + tuple(extra), s.conds, s.free, s.has_var)

    def __repr__(self) -> str:
        over = f" over {dims_text(self.dims)}" if self.dims else ""
        return f"<optdsl expression {describe(self)}{over}>"


class Term(Expression):
    """A plain expression. Handles (Component) and dummies are its siblings, not subclasses, so
    that Python never prefers their reflected comparison (`e <= a` must stay `e <= a`)."""

    __slots__ = ()


class Dummy(Expression):
    """A dummy index bound by a sum, a constraint's `over=` or a declaration's index."""

    __slots__ = ("set_name",)

    def __init__(self, placeholder: str, set_name: str | None) -> None:
        super().__init__(ast.Ref(placeholder), free=frozenset({placeholder}))
        self.set_name = set_name


# ----------------------------------------------------------------------------- conditions
class Condition:
    """A logical expression: a filter on data (`if` in od.sum, `where=`) or a check."""

    __array_ufunc__ = None

    def __init__(self, node: ast.Expr, dims: tuple[Dim, ...] = (), conds: tuple[Cond, ...] = (),
                 free: frozenset[str] = frozenset(), has_var: bool = False) -> None:
        self.node = node
        self.dims = dims
        self.conds = conds
        self.free = free
        self.has_var = has_var

    def __and__(self, o: Any) -> Condition:
        return _logic("and", self, o)

    def __rand__(self, o: Any) -> Condition:
        return _logic("and", o, self)

    def __or__(self, o: Any) -> Condition:
        return _logic("or", self, o)

    def __ror__(self, o: Any) -> Condition:
        return _logic("or", o, self)

    def __invert__(self) -> Condition:
        return Condition(ast.UnOp("not", self.node), self.dims, self.conds, self.free, self.has_var)

    def __bool__(self) -> bool:
        # Inside od.sum(<generator>), `if cond` records the filter and lets the body run once.
        frame = top_frame()
        if frame is None:
            raise ModelError(
                "an optdsl comparison has no truth value in Python: for a range constraint write "
                "od.between(lo, expr, hi) instead of lo <= expr <= hi; to filter a sum, put the condition "
                "after 'if' inside od.sum(... for ... if cond)")
        if (frame.conds and frame.conds[-1] is self) or _jumps_on_true():
            raise ModelError("write 'or' and 'not' in a filter as | and ~, e.g. if (a[i] > 0) | ~(b[i] > 0): "
                             "Python's 'or' and 'not' cannot be recorded")
        if self.has_var:
            raise ModelError("a filter cannot depend on variables: it is evaluated on data")
        frame.conds.append(self)
        return True

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"<optdsl condition {describe_node(self.node)}>"


class Relation(Condition):
    """`lhs op rhs` with op in <=, >=, = (a constraint, or a filter); or a range or call constraint."""

    def __init__(self, op: str, lhs: Expression | None, rhs: Expression | None, dims: tuple[Dim, ...],
                 conds: tuple[Cond, ...], free: frozenset[str], has_var: bool,
                 lower: Expression | None = None, body: Expression | None = None,
                 upper: Expression | None = None) -> None:
        self.op = op
        self.lhs, self.rhs = lhs, rhs
        self.lower, self.body, self.upper = lower, body, upper
        if op in ("<=", ">=", "="):
            node: ast.Expr = ast.Compare(op, lhs.node, rhs.node)  # type: ignore[union-attr]
        elif op == "range":
            node = ast.Logic("and", ast.Compare("<=", lower.node, body.node),  # type: ignore[union-attr]
                             ast.Compare("<=", body.node, upper.node))  # type: ignore[union-attr]
        else:
            node = body.node  # type: ignore[union-attr]
        super().__init__(node, dims, conds, free, has_var)

    def ast_relation(self) -> ast.Relation:
        if self.op == "range":
            return ast.Relation("range", lower=self.lower.node, body=self.body.node,  # type: ignore[union-attr]
                                upper=self.upper.node)  # type: ignore[union-attr]
        if self.op == "call":
            return ast.Relation("call", body=self.body.node)  # type: ignore[union-attr]
        return ast.Relation(self.op, lhs=self.lhs.node, rhs=self.rhs.node)  # type: ignore[union-attr]


def _jumps_on_true() -> bool:
    """Whether the bytecode that asked for our truth value jumps when it is true.

    `if a or b` tests `a` with a jump-if-true straight to the body (b is never evaluated) and
    `if not a` with a jump-if-true past it: both would be recorded wrongly, so they are refused.
    `if a`, `if a and b` and chained comparisons jump on false.
    """
    try:
        frame = sys._getframe(2)
    except ValueError:
        return False
    for ins in dis.get_instructions(frame.f_code):
        if ins.offset >= frame.f_lasti and ins.opname != "TO_BOOL":
            return "IF_TRUE" in ins.opname or "TRUE_OR_POP" in ins.opname
    return False


# ------------------------------------------------------------------------------ lifting
_KIND_NAMES = {np.ndarray: "a numpy array", list: "a list", tuple: "a tuple", dict: "a dict"}


def operand(v: Any) -> Expression:
    """`v` as an Expression: numbers and strings become literals; whole components are checked."""
    if isinstance(v, Expression):
        err = getattr(v, "_dims_error", None)
        if err:
            raise ModelError(err)
        return v
    if isinstance(v, (bool, np.bool_)):
        return Term(ast.Num(int(v)))
    if isinstance(v, (int, np.integer)):
        return Term(ast.Num(int(v)))
    if isinstance(v, (float, np.floating)):
        f = float(v)
        if f != f:
            raise ModelError("NaN cannot appear in a model expression")
        return Term(ast.Num(f))
    if isinstance(v, str):
        return Term(ast.Str(v))
    if isinstance(v, Condition):
        raise ModelError(f"a condition ({describe_node(v.node)}) cannot be used as a number; "
                         "use od.where(cond, a, b) for a value that depends on it")
    kind = next((n for t, n in _KIND_NAMES.items() if isinstance(v, t)), None)
    if kind is None and type(v).__module__.startswith("pandas"):
        kind = f"a pandas {type(v).__name__}"
    if kind is not None:
        raise ModelError(f"{kind} has no named index sets, so it cannot be aligned with model components; "
                         "declare it as a param first, e.g. p = m.param(\"p\", (I, J), data)")
    raise ModelError(f"cannot use a {type(v).__name__} in a model expression")


def label_node(v: Any) -> ast.Expr:
    """A subscript: a dummy or expression, or a label (number or string)."""
    e = operand(v)
    if e.dims:
        raise ModelError(f"{describe(e)} is indexed over {dims_text(e.dims)} and cannot be a subscript; "
                         "subscript with dummies or labels, e.g. x[i, j] or x['Seattle', j]")
    return e.node


# ---------------------------------------------------------------------------- alignment
_VERBS = {"+": "add", "-": "subtract", "*": "multiply", "/": "divide", "^": "raise to a power",
          "<=": "compare", ">=": "compare", "=": "compare", "<": "compare", ">": "compare",
          "!=": "compare", "and": "combine", "or": "combine", "max": "take the max of",
          "min": "take the min of", "if": "combine"}


def align(op: str, a: Any, b: Any) -> tuple[tuple[Dim, ...], tuple[Cond, ...]]:
    """The dims of `a op b` under the alignment rules (see docs/python_api.md):

    index sets are matched by name; when one operand's sets include the other's, the result is
    indexed like the operand with more sets (the left one on a tie) and the other is repeated
    along the missing sets; anything else is an error that says what to write.
    """
    da, db = a.dims, b.dims
    if not db:
        return da, _merge_conds(a.conds, b.conds)
    if not da:
        return db, _merge_conds(a.conds, b.conds)
    na, nb = {d.set for d in da}, {d.set for d in db}
    if nb <= na:
        dims = da
    elif na <= nb:
        dims = db
    else:
        only_a = [d.set for d in da if d.set not in nb]
        only_b = [d.set for d in db if d.set not in na]
        sa, sb = _paren(describe(a)), _paren(describe(b))
        sym = op if op != "=" else "=="
        q = ", ".join(f'"{s}"' for s in only_a)
        r = ", ".join(f'"{s}"' for s in only_b)
        raise ModelError(
            f"cannot {_VERBS.get(op, 'combine')} {describe(a)} (over {dims_text(da)}) and {describe(b)} "
            f"(over {dims_text(db)}): each is indexed over a set the other lacks ({', '.join(only_a)} on the "
            f"left; {', '.join(only_b)} on the right). Index sets are matched by name, never guessed: sum the "
            f"extra sets away, e.g. {sa}.sum({q}) {sym} {sb}.sum({r}), or repeat each side along the other's "
            f"sets on purpose, e.g. {sa}.expand({r}) {sym} {sb}.expand({q})")
    return dims, _merge_conds(a.conds, b.conds)


def _merge_conds(x: tuple[Cond, ...], y: tuple[Cond, ...]) -> tuple[Cond, ...]:
    if not y:
        return x
    if not x:
        return y
    out = list(x)
    for c in y:
        if not any(c[0] == d[0] for d in out):
            out.append(c)
    return tuple(out)


def _paren(s: str) -> str:
    return s if s.replace("_", "").replace(".", "").isalnum() else f"({s})"


def binop(op: str, a: Any, b: Any) -> Expression:
    x, y = operand(a), operand(b)
    dims, conds = align(op, x, y)
    return Term(ast.BinOp(op, x.node, y.node), dims, conds, x.free | y.free, x.has_var or y.has_var)


def relation(op: str, a: Any, b: Any) -> Relation:
    x, y = operand(a), operand(b)
    dims, conds = align(op, x, y)
    return Relation(op, x, y, dims, conds, x.free | y.free, x.has_var or y.has_var)


def compare(op: str, a: Any, b: Any) -> Condition:
    x, y = operand(a), operand(b)
    dims, conds = align(op, x, y)
    return Condition(ast.Compare(op, x.node, y.node), dims, conds, x.free | y.free, x.has_var or y.has_var)


def _logic(op: str, a: Any, b: Any) -> Condition:
    if not isinstance(a, Condition) or not isinstance(b, Condition):
        raise ModelError(f"'{'&' if op == 'and' else '|'}' combines conditions (comparisons), "
                         f"got {type(a).__name__} and {type(b).__name__}")
    dims, conds = align(op, a, b)
    return Condition(ast.Logic(op, a.node, b.node), dims, conds, a.free | b.free, a.has_var or b.has_var)


def _dim_of(x: Any) -> Dim:
    """A Dim from a set handle or a set name."""
    if isinstance(x, str):
        return Dim(x)
    name = getattr(x, "name", None)
    if name is None or not hasattr(x, "dimen"):
        raise ModelError(f"expected a set or a set name, got {type(x).__name__}")
    return Dim(name, x.dimen)


def reduce_dims(op: str, e: Expression, sets: tuple[Any, ...]) -> Expression:
    """`sum`/`prod`/`max`/`min` over some named dims of a vectorized expression."""
    e = operand(e)
    if not sets:
        targets = e.dims
    else:
        targets = []
        for x in sets:
            name = x if isinstance(x, str) else _dim_of(x).set
            match = [d for d in e.dims if d.set == name]
            if not match:
                if not e.dims:
                    raise ModelError(f"{describe(e)} is not indexed over any set, so there is no {name} to "
                                     f"{op} over")
                raise ModelError(f"{describe(e)} has no index set {name} to {op} over; its index sets are "
                                 f"{dims_text(e.dims)}")
            targets.append(match[0])
        targets = tuple(targets)
    if not targets:
        return e
    names = {d.set for d in targets}
    inner = [c for c in e.conds if c[1] & names]
    outer = tuple(c for c in e.conds if not c[1] & names)
    cond = and_nodes([c[0] for c in inner])
    node = ast.Iterated(op, ast.Indexing(tuple(d.entry() for d in targets), cond), e.node)
    dims = tuple(d for d in e.dims if d.set not in names)
    return Term(node, dims, outer, e.free, e.has_var)


def and_nodes(nodes: list[ast.Expr]) -> ast.Expr | None:
    out: ast.Expr | None = None
    for n in nodes:
        out = n if out is None else ast.Logic("and", out, n)
    return out


# -------------------------------------------------------------------- generator frames
class Frame:
    """What iterating sets inside one od.sum(<generator>) collected: index entries and filters."""

    def __init__(self) -> None:
        self.entries: list[ast.IndexEntry] = []
        self.conds: list[Condition] = []
        self.bound: set[str] = set()

    def bind(self, set_node: ast.Expr, dimen: int, base: str, set_name: str | None) -> tuple[Dummy, ...]:
        if dimen == 1:
            phs = (fresh_placeholder(base),)
        else:
            phs = tuple(fresh_placeholder(f"{base}{k}") for k in range(1, dimen + 1))
        self.entries.append(ast.IndexEntry(phs, set_node))
        self.bound.update(phs)
        return tuple(Dummy(p, set_name) for p in phs)


_local = threading.local()


def frames() -> list[Frame]:
    st = getattr(_local, "frames", None)
    if st is None:
        st = _local.frames = []
    return st


def top_frame() -> Frame | None:
    st = frames()
    return st[-1] if st else None


# ---------------------------------------------------------------------------- describing
def describe(e: Any) -> str:
    """A short Python-like text of an expression, for error messages."""
    name = getattr(e, "_name", None)
    if name is not None:
        return name
    return describe_node(e.node) if hasattr(e, "node") else repr(e)


def describe_node(node: ast.Expr, limit: int = 60) -> str:
    from optdsl.api.opt_text import expr_text

    text = expr_text(node, describe=True)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def apply_lambda(fn: Callable[..., Any], dummies: list[Dummy], what: str) -> Any:
    """Call `fn` with symbolic dummies, after checking it takes that many arguments."""
    try:
        inspect.signature(fn).bind(*dummies)
    except TypeError:
        raise ModelError(f"{what}: the function must take {len(dummies)} dummy index argument(s), one per "
                         f"index position") from None
    except ValueError:  # no signature (a builtin): just call it
        pass
    return fn(*dummies)
