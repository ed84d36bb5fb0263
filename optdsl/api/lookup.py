"""Handles on components already declared in a model, e.g. one read from `.opt` text:
`m["x"]` gives the variable x for the vectorized style, `m["I"]` the set I."""

from __future__ import annotations

from typing import Any

from optdsl.api.components import Index, ParamHandle, SetHandle, VarHandle, _Item
from optdsl.api.expr import Dim
from optdsl.errors import ModelError, did_you_mean
from optdsl.parse import ast


def _declarations(statements: tuple[ast.Stmt, ...]) -> dict[str, ast.Stmt]:
    out: dict[str, ast.Stmt] = {}
    stack = list(reversed(statements))
    while stack:
        s = stack.pop()
        if isinstance(s, ast.LowerBlock):
            stack.extend(reversed(s.body))
        elif isinstance(s, (ast.SetDecl, ast.ParamDecl, ast.VarDecl)):
            out[s.name] = s
    return out


def handle_of(model: Any, name: str) -> Any:
    decls = _declarations(model._ast.statements)
    d = decls.get(name)
    if d is None:
        raise ModelError(f"no set, param or variable '{name}' in this model", hint=did_you_mean(name, decls))
    if isinstance(d, ast.SetDecl):
        given = model._data.sets.get(name)
        members = given.members if given is not None and given.indexed is None else None
        return SetHandle(name, _set_dimen(d, decls, model), members)
    index = None
    if d.indexing is not None:
        items = []
        for e in d.indexing.entries:
            width = len(e.dummies) or _expr_dimen(e.set, decls, model)
            named = isinstance(e.set, ast.Ref) and not e.set.subs and e.set.name in decls
            items.append(_Item(e.set, width, Dim(e.set.name, width) if named else None))  # type: ignore[union-attr]
        index = Index(items)
        if d.indexing.condition is not None:
            # The filter is written in the declaration's own dummy names: use dummies with it.
            handle = (VarHandle if isinstance(d, ast.VarDecl) else ParamHandle)(name, index, model)
            handle._dims_error = (f"{name} is declared over a filtered index; index it with dummies, "
                                  f"e.g. od.sum({name}[...] for ... in od.each(..., where=...))")
            return handle
    return (VarHandle if isinstance(d, ast.VarDecl) else ParamHandle)(name, index, model)


def _set_dimen(d: ast.SetDecl, decls: dict[str, ast.Stmt], model: Any) -> int:
    if d.dimen:
        return d.dimen
    given = model._data.sets.get(d.name)
    if given is not None and given.members and isinstance(given.members[0], tuple):
        return len(given.members[0])
    if d.within is not None:
        return _expr_dimen(d.within, decls, model)
    if d.value is not None:
        return _expr_dimen(d.value, decls, model)
    return 1


def _expr_dimen(e: ast.Expr, decls: dict[str, ast.Stmt], model: Any) -> int:
    if isinstance(e, ast.Ref) and isinstance(decls.get(e.name), ast.SetDecl):
        return _set_dimen(decls[e.name], decls, model)  # type: ignore[arg-type]
    if isinstance(e, ast.SetOp) and e.op == "cross":
        return _expr_dimen(e.left, decls, model) + _expr_dimen(e.right, decls, model)
    if isinstance(e, ast.SetOp):
        return _expr_dimen(e.left, decls, model)
    if isinstance(e, ast.SetBuilder):
        return sum(len(x.dummies) or 1 for x in e.indexing.entries)
    if isinstance(e, ast.SetLiteral) and e.items and isinstance(e.items[0], ast.TupleExpr):
        return len(e.items[0].items)
    return 1
