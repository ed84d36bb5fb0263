"""Static checks of AMPL's network and column-wise declarations (a base of the resolver's Checker).

- a var or arc entry (`from`, `to`, `coeff`, `cover`, `obj`) names a declared node, constraint
  or objective of the right kind, declared before it, with as many subscripts as it takes;
  its subscripts, factor and coefficient are data (the entry's own indexing binds dummies);
- `coeff`/`cover` name a constraint and `obj` an objective whose body uses `to_come`;
- `to_come`, `net_in` and `net_out` stand as terms of the body (added, subtracted, scaled), not
  inside sums, conditions or functions; a node uses `net_in` or `net_out`.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from optdsl.errors import did_you_mean
from optdsl.parse import ast
from optdsl.parse.symbols import KIND_WORDS, Env, Symbol
from optdsl.parse.wording import declared_over, name_span, subscript_message

FLOW_WORDS = (ast.TO_COME, ast.NET_IN, ast.NET_OUT)
# Hints for a flow word met where it means nothing.
FLOW_HINTS = {
    ast.TO_COME: "'to_come' stands in a constraint or objective for the terms var and arc "
                 "declarations add with coeff, cover and obj",
    ast.NET_IN: "'net_in' stands in a node declaration for the flow its arcs bring: 'node N: net_in = ...;'",
    ast.NET_OUT: "'net_out' stands in a node declaration for the flow its arcs take: 'node N: net_out = ...;'",
}


def flow_refs(node: ast.Node | None) -> set[str]:
    """The flow words `node` uses as bare names (explicit stack: bodies can be long chains)."""
    out: set[str] = set()
    stack: list[Any] = [node]
    while stack:
        v = stack.pop()
        if isinstance(v, ast.Ref) and not v.subs and v.name in FLOW_WORDS:
            out.add(v.name)
        if isinstance(v, ast.Node):
            stack.extend(getattr(v, f) for f in v.__dataclass_fields__ if f != "span")
        elif isinstance(v, tuple):
            stack.extend(v)
    return out


class NetworkChecks:
    """Checks of column entries and flow terms; optdsl.parse.resolve.Checker provides the rest."""

    symbols: dict[str, Symbol]

    def error(self, message: str, span: Any, hint: str | None = None) -> None:
        raise NotImplementedError

    def expr(self, e: ast.Expr, env: Env) -> str:
        raise NotImplementedError

    def bind(self, ix: Any, env: Env) -> Env:
        raise NotImplementedError

    def numeric(self, e: ast.Expr, kind: str) -> None:
        raise NotImplementedError

    # ------------------------------------------------------------------ flow words
    def flow_env(self, st: ast.ConstraintDecl | ast.Objective, env: Env) -> Env:
        """`env` with the flow words the body of `st` may use (a declared name stays a name)."""
        words = {ast.TO_COME}
        if isinstance(st, ast.ConstraintDecl) and st.network == "node":
            words |= {ast.NET_IN, ast.NET_OUT}
        return replace(env, flows=frozenset(w for w in words if w not in self.symbols))

    def check_flows(self, st: ast.ConstraintDecl | ast.Objective, env: Env) -> None:
        """Where the flow words stand in the body of `st`."""
        if isinstance(st, ast.ConstraintDecl):
            rel = st.relation
            bodies = [rel.body] if rel.op in ("range", "call") else [rel.lhs, rel.rhs]
            for bound in (rel.lower, rel.upper):
                for w in sorted(flow_refs(bound) & env.flows):
                    self.error(f"'{w}' cannot appear in the bounds of a range constraint",
                               name_span(bound, w), "write it in the middle: 'lo <= net_in <= hi'")
            if st.network == "node" and not flow_refs(rel) & {ast.NET_IN, ast.NET_OUT} & env.flows:
                self.error(f"node '{st.name}' does not use net_in or net_out", name_span(st, st.name),
                           f"write for example 'node {st.name}: net_in = demand;' (no relation: net flow 0)")
        else:
            bodies = [st.expr]
        for body in bodies:
            self._flow_terms(body, env.flows)

    def _flow_terms(self, root: ast.Expr | None, words: frozenset[str]) -> None:
        """A flow word must be a term: reached from the top through + and -, or scaled by `*`
        and `/` with the other side free of flow words."""
        if root is None or not words:
            return
        stack: list[tuple[ast.Expr, bool]] = [(root, True)]
        while stack:
            e, ok = stack.pop()
            if isinstance(e, ast.Ref) and not e.subs and e.name in words:
                if not ok:
                    self.error(f"'{e.name}' must stand as a term of the expression", e.span,
                               f"write for example '{e.name} + ...' or '2 * {e.name}', not inside a sum, "
                               "condition or function")
                continue
            if isinstance(e, ast.BinOp) and e.op in ("+", "-"):
                stack += [(e.left, ok), (e.right, ok)]
            elif isinstance(e, ast.BinOp) and e.op in ("*", "/"):
                left, right = flow_refs(e.left) & words, flow_refs(e.right) & words
                stack += [(e.left, ok and not right), (e.right, ok and not left and e.op == "*")]
            elif isinstance(e, ast.UnOp) and e.op in ("-", "+"):
                stack.append((e.operand, ok))
            elif flow_refs(e) & words:
                for w in sorted(flow_refs(e) & words):
                    self.error(f"'{w}' must stand as a term of the expression", name_span(e, w),
                               f"write for example '{w} + ...' or '2 * {w}', not inside a sum, "
                               "condition or function")

    # ------------------------------------------------------------------ column entries
    def check_columns(self, st: ast.VarDecl, env: Env) -> None:
        """The entries of var or arc `st`; `env` has the declaration's dummies bound."""
        for col in st.columns:
            inner = self.bind(col.indexing, replace(env, data="index"))
            for s in col.subs:
                self.expr(s, replace(inner, data="subscript"))
            if col.value is not None:
                self.numeric(col.value, self.expr(col.value, replace(inner, data="column")))
            self._column_target(st, col, env)

    def _column_target(self, st: ast.VarDecl, col: ast.Column, env: Env) -> None:
        want = {"from": "node", "to": "node", "coeff": "constraint", "cover": "constraint",
                "obj": "objective"}[col.kind]
        sym = self.symbols.get(col.target)
        at = name_span(col, col.target)
        if sym is None:
            kinds = ("constraint",) if want == "node" else (want,)
            names = [s.name for s in self.symbols.values() if s.kind in kinds]
            self.error(f"'{col.kind}' names no {want} '{col.target}'", at, did_you_mean(col.target, names))
            return
        node = sym.kind == "constraint" and getattr(sym.decl, "network", None) == "node"
        if (want == "node" and not node) or (want != "node" and sym.kind != want):
            what = "node" if node else KIND_WORDS[sym.kind]
            self.error(f"'{col.kind}' needs a {want}, but '{col.target}' is a {what}", at,
                       "an arc goes from and to nodes" if want == "node" else None)
            return
        if sym.order > env.order:
            self.error(f"{KIND_WORDS[sym.kind] if not node else 'node'} '{col.target}' is declared after "
                       f"'{st.name}', which names it", at, f"declare '{col.target}' before '{st.name}'")
        if len(col.subs) != sym.arity:
            self.error(subscript_message(sym, len(col.subs)), at, declared_over(sym))
        if want != "node":
            body = sym.decl.relation if sym.kind == "constraint" else sym.decl.expr  # type: ignore[attr-defined]
            if ast.TO_COME not in flow_refs(body) or ast.TO_COME in self.symbols:
                word = "constraint" if want == "constraint" else "objective"
                self.error(f"{word} '{col.target}' does not use to_come, so '{st.name}' cannot add "
                           f"terms to it", at, f"write 'to_come' in {word} '{col.target}'")
