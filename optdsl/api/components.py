"""Handles on model components built in Python: sets, params, variables; `od.each(...)`.

A param or variable handle is itself an Expression: used whole, it is the component over its
index sets (vectorized style, dims named by the sets); subscripted, `x[i, j]`, it is one entry
(generator style).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from optdsl.api.expr import (
    Cond,
    Condition,
    Dim,
    Dummy,
    Expression,
    Term,
    apply_lambda,
    dims_text,
    dummy_base,
    fresh_placeholder,
    label_node,
    top_frame,
)
from optdsl.errors import ModelError
from optdsl.parse import ast


class SetHandle:
    """A set of the model. Iterating it inside od.sum(...) yields a symbolic dummy index."""

    __array_ufunc__ = None

    def __init__(self, name: str, dimen: int = 1, members: list[Any] | None = None) -> None:
        self.name = name
        self.dimen = dimen
        self._members = members

    @property
    def members(self) -> list[Any] | None:
        """The members given in Python (None when the set is computed by the model or has no data yet)."""
        return None if self._members is None else list(self._members)

    def __len__(self) -> int:
        if self._members is None:
            raise TypeError(f"the size of set {self.name} is known only after instantiation: "
                            f"use len(m.ir.sets[{self.name!r}])")
        return len(self._members)

    def __iter__(self) -> Iterator[Any]:
        return _BindOnce([item_of(self)], None)

    def __contains__(self, element: Any) -> bool:
        raise ModelError(f"'in' cannot be recorded by Python; write {self.name}.contains(e) for the condition "
                         f"e in {self.name}, or test .members for the data")

    def contains(self, *element: Any) -> Condition:
        """The condition `element in SET` (a filter)."""
        items = [label_node(e) for e in element]
        node = items[0] if len(items) == 1 else ast.TupleExpr(tuple(items))
        free = frozenset().union(*(getattr(e, "free", frozenset()) for e in element))
        return Condition(ast.InSet(node, ast.Ref(self.name)), free=free)

    def __repr__(self) -> str:
        size = f", {len(self._members)} members" if self._members is not None else ""
        return f"<optdsl set {self.name}{' dimen ' + str(self.dimen) if self.dimen > 1 else ''}{size}>"


@dataclass
class _Item:
    """One position group of an index: a set expression, its tuple width, and its Dim when named."""

    set_node: ast.Expr
    dimen: int
    dim: Dim | None
    size: int | None = None  # number of members, when known in Python


@dataclass
class Index:
    """The index of a declaration or of `over=`: items and an optional filter."""

    items: list[_Item]
    where: Callable[..., Any] | Condition | None = None
    text: str = ""
    flat: int = field(init=False)

    def __post_init__(self) -> None:
        self.flat = sum(i.dimen for i in self.items)

    def dims(self) -> tuple[Dim, ...] | str:
        """The named dims, or the reason why this index cannot be used by set name."""
        dims = []
        for it in self.items:
            if it.dim is None:
                from optdsl.api.opt_text import expr_text

                return f"an unnamed set ({expr_text(it.set_node)})"
            if any(d.set == it.dim.set for d in dims):
                return f"{it.dim.set} twice"
            dims.append(it.dim)
        return tuple(dims)

    def bind(self, use_dims: bool) -> tuple[list[ast.IndexEntry], list[Dummy], list[Any]]:
        """Entries with placeholders, the dummies flat, and grouped per item (tuples for dimen > 1).

        use_dims: name the dummies by dimension (declarations: their filters and vectorized
        values line up with the component's dims); else fresh (constraints' over=, iteration).
        """
        dims = self.dims() if use_dims else None
        entries, flat, grouped = [], [], []
        for k, it in enumerate(self.items):
            if isinstance(dims, tuple):
                phs = dims[k].placeholders()
            else:
                base = dummy_base(it.dim.set) if it.dim is not None else "i"
                phs = tuple(fresh_placeholder(base if it.dimen == 1 else f"{base}{c}")
                            for c in range(1, it.dimen + 1))
            ds = [Dummy(p, it.dim.set if it.dim else None) for p in phs]
            entries.append(ast.IndexEntry(phs, it.set_node))
            flat.extend(ds)
            grouped.append(ds[0] if len(ds) == 1 else tuple(ds))
        return entries, flat, grouped

    def condition(self, flat: list[Dummy], what: str) -> Condition | None:
        if self.where is None:
            return None
        cond = self.where
        if callable(cond) and not isinstance(cond, Condition):
            cond = apply_lambda(cond, flat, f"{what}: where=")
        if not isinstance(cond, Condition):
            raise ModelError(f"{what}: where= must be a condition or a function returning one, "
                             f"got {type(cond).__name__}")
        if cond.has_var:
            raise ModelError(f"{what}: a filter cannot depend on variables: it is evaluated on data")
        return cond


class Each:
    """`od.each(I, J, where=...)`: iterate several sets at once, or index a declaration or `over=`."""

    def __init__(self, *sets: Any, where: Callable[..., Any] | Condition | None = None) -> None:
        if not sets:
            raise ModelError("od.each() needs at least one set")
        self.index = Index([item_of(s) for s in sets], where)

    def __iter__(self) -> Iterator[Any]:
        return _BindOnce(self.index.items, self.index.where)


def item_of(s: Any) -> _Item:
    if isinstance(s, SetHandle):
        size = None if s._members is None else len(s._members)
        return _Item(ast.Ref(s.name), s.dimen, Dim(s.name, s.dimen), size)
    if isinstance(s, range):
        return _Item(range_node(s), 1, None, len(s))
    if isinstance(s, (Each, tuple, list)):
        raise ModelError("nest sets in one od.each(I, J, ...), not od.each((I, J))")
    raise ModelError(f"expected a set (from m.set(...)) or a range, got {type(s).__name__}")


def range_node(r: range) -> ast.Expr:
    if len(r) == 0:
        return ast.SetLiteral(())
    last = r[-1]
    step = None if r.step == 1 else ast.Num(r.step)
    return ast.RangeSet(ast.Num(r.start), ast.Num(last), step)


def index_of(spec: Any) -> Index | None:
    """An Index from what a user passes as index or over=: a set, a range, a tuple of them, od.each."""
    if spec is None:
        return None
    if isinstance(spec, Each):
        return spec.index
    if isinstance(spec, (tuple, list)):
        if not spec:
            return None
        return Index([item_of(s) for s in spec])
    return Index([item_of(spec)])


def is_index_spec(v: Any) -> bool:
    if isinstance(v, (SetHandle, Each, range)):
        return True
    return isinstance(v, (tuple, list)) and bool(v) and all(isinstance(s, (SetHandle, range)) for s in v)


class _BindOnce:
    """The iterator of a set (or od.each) inside a generator frame: one step, yielding dummies."""

    def __init__(self, items: list[_Item], where: Any) -> None:
        self.items = items
        self.where = where
        self.done = False

    def __iter__(self) -> _BindOnce:
        return self

    def __next__(self) -> Any:
        if self.done:
            raise StopIteration
        frame = top_frame()
        if frame is None:
            names = ", ".join(i.dim.set if i.dim else "a range" for i in self.items)
            raise ModelError(
                f"iterating {names} gives a symbolic dummy index, which works only inside od.sum/od.prod/"
                f"od.max/od.min over a generator, e.g. od.sum(x[i] for i in I) (no square brackets), or in "
                f"a function given to over=; use .members for the data")
        self.done = True
        grouped, flat = [], []
        for it in self.items:
            base = dummy_base(it.dim.set) if it.dim is not None else "i"
            ds = frame.bind(it.set_node, it.dimen, base, it.dim.set if it.dim else None)
            flat.extend(ds)
            grouped.append(ds[0] if len(ds) == 1 else ds)
        if self.where is not None:
            if isinstance(self.where, Condition):
                raise ModelError("inside od.sum(...), give od.each's where= as a function of the dummies, "
                                 "e.g. where=lambda i, j: d[i, j] > 0")
            cond = apply_lambda(self.where, flat, "od.each")
            if not isinstance(cond, Condition):
                raise ModelError(f"od.each: where= must return a condition, got {type(cond).__name__}")
            if cond.has_var:
                raise ModelError("a filter cannot depend on variables: it is evaluated on data")
            frame.conds.append(cond)
        return grouped[0] if len(grouped) == 1 else tuple(grouped)


# ------------------------------------------------------------------------ params, variables
class Component(Expression):
    """A param or variable handle: the whole component as an expression, or `c[i, j]`."""

    __slots__ = ("_name", "_index", "_dims_error", "model")
    is_var = False

    def __init__(self, name: str, index: Index | None, model: Any = None, conds: tuple[Cond, ...] = ()) -> None:
        self._name = name
        self._index = index
        self.model = model
        self._dims_error: str | None = None
        dims: tuple[Dim, ...] = ()
        subs: tuple[ast.Expr, ...] = ()
        if index is not None:
            d = index.dims()
            if isinstance(d, str):
                self._dims_error = _dims_message(name, index, d)
            else:
                dims = d
                subs = tuple(ast.Ref(p) for dim in dims for p in dim.placeholders())
        super().__init__(ast.Ref(name, subs), dims, conds, frozenset(), self.is_var)

    @property
    def name(self) -> str:
        return self._name

    @property
    def arity(self) -> int:
        return 0 if self._index is None else self._index.flat

    def __getitem__(self, key: Any) -> Expression:
        keys = key if isinstance(key, tuple) else (key,)
        flat: list[Any] = []
        for k in keys:
            if isinstance(k, tuple):
                flat.extend(k)
            elif isinstance(k, slice):
                raise ModelError(f"{self._name}[...]: slices are not supported; use the whole component "
                                 f"with .sum(...) or index it with dummies")
            else:
                flat.append(k)
        if self._index is None:
            raise ModelError(f"'{self._name}' is not indexed, but has {len(flat)} subscript(s)")
        if len(flat) != self._index.flat:
            raise ModelError(f"'{self._name}' takes {self._index.flat} subscript(s), got {len(flat)}")
        subs = tuple(label_node(k) for k in flat)
        free = frozenset().union(*(getattr(k, "free", frozenset()) for k in flat))
        return Term(ast.Ref(self._name, subs), free=free, has_var=self.is_var)

    def __repr__(self) -> str:
        kind = "variable" if self.is_var else "param"
        over = f" over {self._index.text or dims_text(self.dims)}" if self._index is not None else ""
        return f"<optdsl {kind} {self._name}{over}>"


class ParamHandle(Component):
    __slots__ = ()
    is_var = False


class VarHandle(Component):
    __slots__ = ()
    is_var = True


def _dims_message(name: str, index: Index, why: str) -> str:
    if why.endswith("twice"):
        s = why[: -len(" twice")]
        n = index.flat
        dummies = ", ".join(f"i{k}" for k in range(1, n + 1))
        sets = ", ".join(it.dim.set if it.dim else "..." for it in index.items)
        return (f"{name} is indexed over {s} twice, so its index positions cannot be told apart by set "
                f"name; index it with dummies instead, e.g. od.sum({name}[{dummies}] for {dummies} in "
                f"od.each({sets}))")
    return (f"{name} is indexed over {why}, which has no name to align by; declare the set with "
            f"m.set(...) and index {name} over it, or index {name} with dummies, e.g. {name}[i]")


class ObjectiveHandle:
    def __init__(self, name: str, sense: str) -> None:
        self.name = name
        self.sense = sense

    def __repr__(self) -> str:
        return f"<optdsl objective {self.sense} {self.name}>"


class ConstraintHandle:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"<optdsl constraint {self.name}>"
