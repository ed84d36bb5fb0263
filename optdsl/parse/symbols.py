"""The symbol table of a checked model (`ModelInfo`) and static facts about set expressions.

`check_model` (optdsl.parse.resolve) fills a ModelInfo; data loaders read `info.schema()`,
later stages read `info.symbols` (kind, declaration node, subscripts, index sets).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from optdsl.data.store import Declared
from optdsl.errors import ModelError, Span
from optdsl.parse import ast

KIND_WORDS = {
    "set": "set", "param": "param", "var": "variable", "objective": "objective",
    "constraint": "constraint", "surrogate": "surrogate", "lower": "lower block",
}


@dataclass(frozen=True)
class Symbol:
    """One declared name.

    arity: number of subscripts it takes (0 = scalar; `{(i,j) in LINKS}` counts 2).
    index_sets: the set expression of each indexing entry, in order (`{I, J}` -> (Ref I, Ref J)).
    dimen: sets only: the width of a member (1 for plain sets, 2 for sets of pairs).
    order: position of the declaration among all statements (used for declare-before-use).
    block: the `lower` block declaring it, or None for the leader / the model itself.
    """

    name: str
    kind: str  # set param var objective constraint surrogate lower
    decl: ast.Stmt
    arity: int = 0
    index_sets: tuple[ast.Expr, ...] = ()
    dimen: int = 1
    symbolic: bool = False
    order: int = 0
    block: str | None = None

    @property
    def indexing(self) -> ast.Indexing | None:
        return getattr(self.decl, "indexing", None)

    @property
    def index_set_names(self) -> tuple[str, ...]:
        """The index sets as plain names (`{i in I, J}` -> ('I', 'J')), or () if any is not one."""
        names = tuple(e.name for e in self.index_sets if isinstance(e, ast.Ref) and not e.subs)
        return names if len(names) == len(self.index_sets) else ()


@dataclass
class ModelInfo:
    """What `check_model` learned: every declared name, options, data statements."""

    model: ast.Model
    symbols: dict[str, Symbol] = field(default_factory=dict)
    options: dict[str, ast.Expr] = field(default_factory=dict)  # later options win, like AMPL
    data: list[ast.DataSection | ast.DataFile] = field(default_factory=list)

    def __getitem__(self, name: str) -> Symbol:
        return self.symbols[name]

    def __contains__(self, name: str) -> bool:
        return name in self.symbols

    def of_kind(self, kind: str) -> list[Symbol]:
        """Symbols of one kind in declaration order (e.g. 'var', 'constraint', 'lower')."""
        return [s for s in self.symbols.values() if s.kind == kind]

    def block_members(self, block: str) -> list[Symbol]:
        """The variables, objective and constraints of one `lower` block."""
        return [s for s in self.symbols.values() if s.block == block]

    def schema(self) -> dict[str, Declared]:
        """Sets and params as a data loader needs them (see optdsl.data.store.Declared).

        A set's `dimen` is its member width and `index_sets` the sets indexing it (`set S {I}`);
        a param's `dimen` is its number of subscripts. Index set names are given only when
        every index set is a plain set name (otherwise `()`).
        """
        out: dict[str, Declared] = {}
        for s in self.symbols.values():
            if s.kind == "set":
                out[s.name] = Declared("set", s.dimen, s.index_set_names, subscripts=s.arity)
            elif s.kind == "param":
                out[s.name] = Declared("param", s.arity, s.index_set_names, s.symbolic)
            elif s.kind == "var":  # AMPL's `var x := ...;` in the data gives initial values
                out[s.name] = Declared("var", s.arity, s.index_set_names)
        return out


class ModelErrors(ModelError):
    """Several static errors found in one pass; `errors` lists them, `render()` shows them all."""

    def __init__(self, errors: list[ModelError]) -> None:
        first = errors[0]
        super().__init__(first.message, first.span, first.hint)
        self.errors = errors

    def render(self) -> str:
        parts = [e.render() for e in self.errors]
        return "\n".join(parts) + f"\n{len(self.errors)} errors"


def set_items(e: ast.SetLiteral, is_set_name: Callable[[str], bool]) -> list[bool] | None:
    """Which members of `{…}` are sets, when at least one is: then the literal is an indexing
    expression used as a set (AMPL, GMPL), the product of its members, and a member that is a
    number or a label stands for the set of that one value (GMPL's `{cols, 1}` is cols × {1}).
    None for an ordinary set of labels."""
    def is_set(i: ast.Expr) -> bool:
        if isinstance(i, ast.Ref):
            return not i.subs and is_set_name(i.name)
        return isinstance(i, (ast.RangeSet, ast.SetLiteral, ast.SetBuilder, ast.SetOp))
    flags = [is_set(i) for i in e.items]
    if not any(flags) or any(isinstance(i, ast.TupleExpr) for i in e.items):
        return None
    return flags


def sets_as_indexing(e: ast.SetLiteral, symbols: dict[str, Symbol]) -> bool:
    """`{rows, cols}` with a member that is a set is an indexing expression used as a set: the
    product rows × cols, not a set of two labels (see set_items)."""
    return set_items(e, lambda n: getattr(symbols.get(n), "kind", None) == "set") is not None


def _sum_or_none(widths: list[int | None]) -> int | None:
    return None if any(w is None for w in widths) else sum(w for w in widths if w is not None)


def set_dimen(e: ast.Expr | None, symbols: dict[str, Symbol]) -> int | None:
    """The member width of a set expression when it is known without data, else None."""
    while e is not None:
        if isinstance(e, ast.Ref):
            s = symbols.get(e.name)
            return s.dimen if s is not None and s.kind == "set" else None
        if isinstance(e, ast.RangeSet):
            return 1
        if isinstance(e, ast.SetLiteral):
            if not e.items:
                return None
            flags = set_items(e, lambda n: getattr(symbols.get(n), "kind", None) == "set")
            if flags is not None:  # `{rows, cols}`, `{cols, 1}`: the product of the members
                return _sum_or_none([set_dimen(i, symbols) if f else 1 for i, f in zip(e.items, flags, strict=True)])
            first = e.items[0]
            return len(first.items) if isinstance(first, ast.TupleExpr) else 1
        if isinstance(e, ast.SetOp):
            if e.op == "cross":
                a, b = set_dimen(e.left, symbols), set_dimen(e.right, symbols)
                return a + b if a is not None and b is not None else None
            e = e.left  # union, inter, diff, symdiff: the left operand's width
            continue
        if isinstance(e, ast.SetBuilder):
            return indexing_width(e.indexing, symbols)
        if isinstance(e, ast.SetOf):
            return len(e.item.items) if isinstance(e.item, ast.TupleExpr) else 1
        if isinstance(e, ast.Iterated) and e.op in ("union", "inter"):
            e = e.body
            continue
        if isinstance(e, ast.IfThen):
            e = e.then
            continue
        return None
    return None


def indexing_width(ix: ast.Indexing | None, symbols: dict[str, Symbol]) -> int | None:
    """How many subscripts an indexing expression produces (None if some set's width is unknown)."""
    if ix is None:
        return 0
    total = 0
    for entry in ix.entries:
        w = len(entry.dummies) if entry.dummies else set_dimen(entry.set, symbols)
        if w is None:
            return None
        total += w
    return total


@dataclass(frozen=True)
class Env:
    """What an expression sees: bound dummies, whether it is data-only, where it stands."""

    dummies: dict[str, Span | None]
    data: str | None = None  # a DATA_PLACES key where variables may not appear
    order: int = 0  # the statement's position, for declare-before-use
    block: str | None = None  # the enclosing `lower` block
    script: bool = False  # display/printf/for/OUT tables run after a solve: anything may be named
    whole: bool = False  # this node may name an indexed component without subscripts
    flows: frozenset[str] = frozenset()  # `to_come`, `net_in`, `net_out` where they are terms
