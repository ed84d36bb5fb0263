"""Readable dummy names for statements built in Python.

While an expression is built, its dummies are placeholders (`%g7:i`, `%dI:i`; see
`optdsl.api.expr`). When a statement is added to the model, one walk renames them: at each
binding site (a statement's indexing, `sum {...}`, a set-builder, `setof`) every placeholder gets
its base name, or the base name with the smallest counter that is free: not bound by an
enclosing scope, not a component of the model, not a reserved word. So nested sums over one
set read `sum {i in I} sum {i1 in I}` and the printed `.opt` text is stable from run to run.

Distinct names for nested bindings also keep AMPL's rule "a dummy already bound outside matches
its value" from applying by accident.

The walk is iterative: a 2,000-term sum must not hit the recursion limit.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from optdsl.errors import ModelError
from optdsl.parse import ast

RESERVED = frozenset("""
set param var minimize maximize check option data end solve display printf for table setof within dimen
symbolic logical ordered integer binary default in not and or union inter diff symdiff cross by sum prod
min max forall exists if then else div mod less
""".split())
# Dummies also avoid function names and constants, so that `exp` or `Infinity` never read as one.
KEYWORDS = RESERVED | frozenset("""
exp log log10 sqrt abs sin cos tan tanh atan atan2 sinh cosh asin acos asinh acosh atanh
floor ceil round trunc card ord length substr acyclic Infinity
""".split())

_FIELDS: dict[type, tuple[str, ...]] = {}


def _fields(t: type) -> tuple[str, ...]:
    f = _FIELDS.get(t)
    if f is None:
        f = _FIELDS[t] = tuple(x.name for x in dataclasses.fields(t) if x.name != "span")
    return f


def is_placeholder(name: str) -> bool:
    return name.startswith("%")


def unbound_message(name: str) -> str:
    base = name.rsplit(":", 1)[1]
    if name.startswith("%d"):
        set_name = name[2:].split(":", 1)[0].split(".", 1)[0]
        return (f"this statement is still indexed over {set_name}: sum it away with .sum(\"{set_name}\") "
                f"or index the statement over {set_name}")
    return f"the dummy index '{base}' is used outside the od.sum(...) or over= that binds it"


def _pick(ph: str, taken: set[str], avoid: frozenset[str]) -> str:
    if not is_placeholder(ph):
        return ph
    base = ph.rsplit(":", 1)[1]
    if base not in taken and base not in avoid and base not in KEYWORDS:
        return base
    sep = "_" if base[-1].isdigit() else ""
    k = 1
    while True:
        name = f"{base}{sep}{k}"
        if name not in taken and name not in avoid and name not in KEYWORDS:
            return name
        k += 1


_BUILD, _BINDER, _TUPLE, _REF = range(4)


def resolve(node: Any, avoid: frozenset[str], scope: dict[str, str] | None = None) -> Any:
    """`node` with every placeholder dummy renamed (see the module docstring)."""
    results: list[Any] = []
    work: list[tuple] = [("visit", node, scope or {})]
    while work:
        task = work.pop()
        if task[0] == "visit":
            _visit(task[1], task[2], avoid, work, results)
        else:
            _build(task, results)
    assert len(results) == 1
    return results[0]


def _visit(n: Any, scope: dict[str, str], avoid: frozenset[str], work: list[tuple], results: list[Any]) -> None:
    if isinstance(n, tuple):
        work.append(("build", _TUPLE, len(n)))
        work.extend(("visit", c, scope) for c in reversed(n))
        return
    if not isinstance(n, ast.Node) or isinstance(n, _LEAVES) or (isinstance(n, ast.Ref) and _plain_ref(n)):
        results.append(n)  # nothing to rename below: keep the node itself
        return
    ix = getattr(n, "indexing", None)
    if isinstance(ix, ast.Indexing) and not isinstance(n, ast.Indexing):
        children: list[tuple[Any, dict[str, str]]] = []
        renamed: list[tuple[str, ...]] = []
        cur = scope
        for entry in ix.entries:
            children.append((entry.set, cur))
            if entry.dummies:
                cur = dict(cur)
                taken = set(cur.values())
                names = []
                for ph in entry.dummies:
                    name = _pick(ph, taken, avoid)
                    taken.add(name)
                    cur[ph] = name
                    names.append(name)
                renamed.append(tuple(names))
            else:
                renamed.append(())
        if ix.condition is not None:
            children.append((ix.condition, cur))
        others = [f for f in _fields(type(n)) if f != "indexing"]
        children.extend((getattr(n, f), cur) for f in others)
        work.append(("build", _BINDER, n, renamed, others))
        work.extend(("visit", c, s) for c, s in reversed(children))
        return
    if isinstance(n, ast.Ref):
        work.append(("build", _REF, n, scope))
        work.append(("visit", n.subs, scope))
        return
    fields = _fields(type(n))
    work.append(("build", _BUILD, n, fields))
    work.extend(("visit", getattr(n, f), scope) for f in reversed(fields))


_LEAVES = (ast.Num, ast.Str)


def _plain_ref(n: ast.Ref) -> bool:
    if n.name.startswith("%"):
        return False
    for s in n.subs:
        if isinstance(s, _LEAVES):
            continue
        if isinstance(s, ast.Ref) and not s.subs and not s.name.startswith("%"):
            continue
        return False
    return True


def _pop(results: list[Any], k: int) -> list[Any]:
    if k == 0:
        return []
    vals = results[-k:]
    del results[-k:]
    return vals


def _build(task: tuple, results: list[Any]) -> None:
    kind = task[1]
    if kind == _TUPLE:
        results.append(tuple(_pop(results, task[2])))
        return
    if kind == _REF:
        n, scope = task[2], task[3]
        (subs,) = _pop(results, 1)
        name = n.name
        if is_placeholder(name):
            if name not in scope:
                raise ModelError(unbound_message(name))
            name = scope[name]
        if name == n.name and subs == n.subs:
            results.append(n)
        else:
            results.append(dataclasses.replace(n, name=name, subs=subs))
        return
    if kind == _BUILD:
        n, fields = task[2], task[3]
        vals = _pop(results, len(fields))
        changed = {f: v for f, v in zip(fields, vals) if v is not getattr(n, f)}
        results.append(dataclasses.replace(n, **changed) if changed else n)
        return
    n, renamed, others = task[2], task[3], task[4]
    ix = n.indexing
    k = len(ix.entries) + (ix.condition is not None) + len(others)
    vals = _pop(results, k)
    sets, rest = vals[:len(ix.entries)], vals[len(ix.entries):]
    cond = None
    if ix.condition is not None:
        cond, rest = rest[0], rest[1:]
    entries = tuple(dataclasses.replace(e, dummies=d, set=s) for e, d, s in zip(ix.entries, renamed, sets))
    new_ix = dataclasses.replace(ix, entries=entries, condition=cond)
    changes = dict(zip(others, rest))
    changes["indexing"] = new_ix
    results.append(dataclasses.replace(n, **changes))


def component_names(statements: tuple[ast.Stmt, ...]) -> set[str]:
    """Names declared by statements (lower blocks included)."""
    out: set[str] = set()
    stack = list(statements)
    while stack:
        s = stack.pop()
        if isinstance(s, ast.LowerBlock):
            stack.extend(s.body)
        name = getattr(s, "name", None)
        if isinstance(name, str) and not isinstance(s, (ast.OptionStmt, ast.TableStmt)):
            out.add(name)
    return out
