"""The abstract syntax of `.opt` models: frozen dataclasses, each with its source span.

Spans are excluded from equality so that two parses of equal text compare equal. `dump(node)`
renders a canonical text form for golden tests.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from optdsl.errors import Span


def _span() -> Any:
    return field(default=None, compare=False, repr=False, kw_only=True)


@dataclass(frozen=True)
class Node:
    span: Span | None = _span()


# ---------------------------------------------------------------------------------- expressions
@dataclass(frozen=True)
class Expr(Node):
    pass


@dataclass(frozen=True)
class Num(Expr):
    value: float | int


@dataclass(frozen=True)
class Str(Expr):
    value: str


@dataclass(frozen=True)
class Ref(Expr):
    """A name with optional subscripts: `p`, `x[i, j-1]`, a set name `I`, a dummy `i`."""

    name: str
    subs: tuple[Expr, ...] = ()


@dataclass(frozen=True)
class BinOp(Expr):
    """op in + - * / ^ div mod less &"""

    op: str
    left: Expr
    right: Expr


@dataclass(frozen=True)
class UnOp(Expr):
    """op in - + not"""

    op: str
    operand: Expr


@dataclass(frozen=True)
class Compare(Expr):
    """op in < <= = != >= > (== is normalized to =, <> to !=), or `within` between sets"""

    op: str
    left: Expr
    right: Expr


@dataclass(frozen=True)
class Logic(Expr):
    """op in and or"""

    op: str
    left: Expr
    right: Expr


@dataclass(frozen=True)
class InSet(Expr):
    """`e in S`, `(a, b) not in S`."""

    element: Expr  # a TupleExpr for tuples
    set: Expr
    negated: bool = False


@dataclass(frozen=True)
class Call(Expr):
    """Built-in function or surrogate call: exp(x), max(a, b), card(S), ord(i, S), phi(x), acyclic(W)."""

    func: str
    args: tuple[Expr, ...] = ()


@dataclass(frozen=True)
class Subscript(Expr):
    """An element of a vector-valued expression: `phi(x)[2]`."""

    base: Expr
    subs: tuple[Expr, ...]


@dataclass(frozen=True)
class Suffix(Expr):
    """`x[i].val`, `demand[j].dual`: a value a solve gives a variable or constraint."""

    base: Ref
    suffix: str


SUFFIXES = {
    "var": ("val", "lb", "ub", "rc", "init"),
    "constraint": ("dual", "body", "slack", "lb", "ub", "lslack", "uslack"),
    "objective": ("val",),
}


@dataclass(frozen=True)
class IndexEntry(Node):
    """`i in I` (dummies=('i',)), `(i, j) in LINKS`, or anonymous `I` (dummies=())."""

    dummies: tuple[str, ...]
    set: Expr


@dataclass(frozen=True)
class Indexing(Node):
    entries: tuple[IndexEntry, ...]
    condition: Expr | None = None


@dataclass(frozen=True)
class Iterated(Expr):
    """op in sum prod max min forall exists union inter; `setof` uses SetOf."""

    op: str
    indexing: Indexing
    body: Expr


@dataclass(frozen=True)
class IfThen(Expr):
    condition: Expr
    then: Expr
    otherwise: Expr | None = None


@dataclass(frozen=True)
class PiecewiseItem(Node):
    """One item of a breakpoint or slope list: `b` or the indexed `{k in 1..n-1} b[k]`."""

    value: Expr
    indexing: Indexing | None = None


@dataclass(frozen=True)
class Piecewise(Expr):
    """AMPL's `<<breakpoints; slopes>> arg` or `<<...>> (arg, zero)`: the piecewise-linear
    function with slope slopes[k] between breakpoints k-1 and k, 0 at arg = zero (default 0)."""

    breakpoints: tuple[PiecewiseItem, ...]
    slopes: tuple[PiecewiseItem, ...]
    arg: Expr
    zero: Expr | None = None


# ------------------------------------------------------------------------- set expressions
@dataclass(frozen=True)
class TupleExpr(Expr):
    items: tuple[Expr, ...]


@dataclass(frozen=True)
class SetLiteral(Expr):
    items: tuple[Expr, ...]  # Num, Str, TupleExpr, or expressions of dummies


@dataclass(frozen=True)
class RangeSet(Expr):
    start: Expr
    stop: Expr
    step: Expr | None = None


@dataclass(frozen=True)
class SetOp(Expr):
    """op in union inter diff symdiff cross"""

    op: str
    left: Expr
    right: Expr


@dataclass(frozen=True)
class SetBuilder(Expr):
    """`{i in I, j in J: cond}` used as a set."""

    indexing: Indexing


@dataclass(frozen=True)
class SetOf(Expr):
    """`setof {INDEXING} (e1, e2)`"""

    indexing: Indexing
    item: Expr


# ---------------------------------------------------------------------------- statements
@dataclass(frozen=True)
class Stmt(Node):
    pass


@dataclass(frozen=True)
class SetDecl(Stmt):
    name: str
    indexing: Indexing | None = None
    dimen: int | None = None
    within: Expr | None = None
    value: Expr | None = None  # `:= e` (or `= e`)
    default: Expr | None = None
    ordered: bool = False


@dataclass(frozen=True)
class Bound(Node):
    """A declaration attribute `>= e`, `<= e`, `> e`, `< e`, `= e`, `!= e` (op as written)."""

    op: str
    value: Expr


@dataclass(frozen=True)
class ParamDecl(Stmt):
    name: str
    indexing: Indexing | None = None
    kind: str | None = None  # None, "integer", "binary", "symbolic", "logical"
    bounds: tuple[Bound, ...] = ()
    within: Expr | None = None  # `in S` / `within S` for symbolic params
    default: Expr | None = None
    value: Expr | None = None  # `:= e`


@dataclass(frozen=True)
class VarDecl(Stmt):
    name: str
    indexing: Indexing | None = None
    kind: str | None = None  # None, "integer", "binary"
    lower: Expr | None = None
    upper: Expr | None = None
    fixed: Expr | None = None  # `= e`
    init: Expr | None = None  # `:= e`
    lower_block: str | None = None  # set when declared inside a `lower` block
    columns: tuple[Column, ...] = ()  # AMPL's coeff/cover/obj (and from/to of an arc)
    network: str | None = None  # "arc" when declared with `arc`


@dataclass(frozen=True)
class Objective(Stmt):
    sense: str  # "minimize" or "maximize"
    name: str
    expr: Expr
    indexing: Indexing | None = None
    lower_block: str | None = None


@dataclass(frozen=True)
class Relation(Node):
    """A constraint body. `lower <= body <= upper` for ranges; `lhs op rhs` otherwise.

    Forms: op in ('<=', '>=', '=') with lhs/rhs set; for a range, op == 'range' with
    lower, body, upper set (lower <= body <= upper, also written upper >= body >= lower).
    For a structure constraint like `acyclic(W)`, op == 'call' and body is the Call.
    """

    op: str
    lhs: Expr | None = None
    rhs: Expr | None = None
    lower: Expr | None = None
    body: Expr | None = None
    upper: Expr | None = None


@dataclass(frozen=True)
class Column(Node):
    """One column-wise entry of a var or arc declaration (AMPL's network and column-wise forms).

    kind: "from"/"to" (the arc leaves/enters node `target`; `value` is the factor, 1 if None),
    "coeff" (coefficient `value` in constraint `target`), "cover" (coefficient 1) or "obj"
    (coefficient `value` in objective `target`). `indexing` repeats the entry over its own set,
    as in `coeff {i in MAT} Balance[i] io[i,j]`.
    """

    kind: str
    target: str
    subs: tuple[Expr, ...] = ()
    value: Expr | None = None
    indexing: Indexing | None = None


# The words a constraint or objective body uses for the terms its columns bring (they are names
# when the model declares them): `to_come` anywhere, `net_in`/`net_out` in a node.
TO_COME, NET_IN, NET_OUT = "to_come", "net_in", "net_out"


@dataclass(frozen=True)
class ConstraintDecl(Stmt):
    name: str
    relation: Relation
    indexing: Indexing | None = None
    lower_block: str | None = None
    network: str | None = None  # "node" when declared with `node`: net_in/net_out are its arcs' flow


@dataclass(frozen=True)
class CheckStmt(Stmt):
    condition: Expr
    indexing: Indexing | None = None
    message: str | None = None


@dataclass(frozen=True)
class OptionStmt(Stmt):
    name: str  # e.g. "solver", "time_limit", "balans.iterations"
    value: Expr  # Num, Str, or Ref (bare word)


@dataclass(frozen=True)
class LowerBlock(Stmt):
    """`lower NAME { ... }`: the follower problem of a bilevel model."""

    name: str
    body: tuple[Stmt, ...]


@dataclass(frozen=True)
class SurrogateDecl(Stmt):
    """`surrogate phi := torch "surrogate.pt";`"""

    name: str
    kind: str
    path: str


@dataclass(frozen=True)
class DataSection(Stmt):
    """An inline `data; ... end;` section; `text` is the raw data text, located by `span`."""

    text: str


@dataclass(frozen=True)
class DataFile(Stmt):
    """`data "file.dat";` or `data "X.csv" as X;`"""

    path: str
    as_name: str | None = None


@dataclass(frozen=True)
class SolveStmt(Stmt):
    pass


@dataclass(frozen=True)
class DisplayStmt(Stmt):
    items: tuple[Expr, ...]
    indexing: Indexing | None = None
    redirect: Expr | None = None  # `> file` / `>> file`: the file name, a string expression
    append: bool = False


@dataclass(frozen=True)
class PrintfStmt(Stmt):
    format: str
    args: tuple[Expr, ...] = ()
    indexing: Indexing | None = None
    format_expr: Expr | None = None  # a format computed per member (GMPL); `format` is then ""
    redirect: Expr | None = None  # `> file` / `>> file`: the file name, a string expression
    append: bool = False


@dataclass(frozen=True)
class ForStmt(Stmt):
    indexing: Indexing
    body: tuple[Stmt, ...]


@dataclass(frozen=True)
class TableColumn(Node):
    """One column mapping of a table statement: `p ~ col`, `col` or `[i, j]` key columns."""

    expr: Expr
    column: str | None = None


@dataclass(frozen=True)
class TableStmt(Stmt):
    """`table NAME IN|OUT "CSV" "file.csv": [SET <-] [keys], cols;`"""

    name: str
    direction: str  # "IN" or "OUT"
    driver: str
    path: str
    keys: tuple[str, ...]  # key column names / dummies
    columns: tuple[TableColumn, ...]
    set_name: str | None = None  # `S <-` populates set S from the key columns
    indexing: Indexing | None = None  # OUT tables: `{(i,j) in LINKS}`


@dataclass(frozen=True)
class ObjectiveSelect(Stmt):
    """AMPL's `objective cost["a"];`: which objective (member) the solve uses."""

    name: str
    subs: tuple[Expr, ...] = ()


@dataclass(frozen=True)
class EndStmt(Stmt):
    pass


@dataclass(frozen=True)
class Model(Node):
    statements: tuple[Stmt, ...]
    file: str = "<model>"


# ------------------------------------------------------------------------------ dumping
def dump(node: Any, indent: int = 0) -> str:
    """Canonical, span-free text of an AST, one node per line, for golden tests."""
    out: list[str] = []
    # Explicit stack: (value, depth, label). Deep models must not hit the recursion limit.
    stack: list[tuple[Any, int, str]] = [(node, indent, "")]
    while stack:
        value, depth, label = stack.pop()
        pad = "  " * depth + (f"{label}=" if label else "")
        if isinstance(value, Node):
            children = [(f.name, getattr(value, f.name)) for f in fields(value) if f.name != "span"]
            scalars = [(k, v) for k, v in children if not _is_nodeish(v)]
            nested = [(k, v) for k, v in children if _is_nodeish(v)]
            head = type(value).__name__
            if scalars:
                head += "(" + ", ".join(f"{k}={v!r}" for k, v in scalars if v not in (None, ())) + ")"
            out.append(pad + head)
            for k, v in reversed(nested):
                stack.append((v, depth + 1, k))
        elif isinstance(value, tuple):
            out.append(pad + "[")
            stack.append(("]", depth, "__close__"))
            for v in reversed(value):
                stack.append((v, depth + 1, ""))
        elif label == "__close__":
            out.append("  " * depth + "]")
        else:
            out.append(pad + repr(value))
    return "\n".join(out)


def _is_nodeish(v: Any) -> bool:
    return isinstance(v, Node) or (isinstance(v, tuple) and any(isinstance(x, Node) for x in v))
