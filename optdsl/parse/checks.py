"""Static checks for calls, `lower` blocks and tables (helpers of optdsl.parse.resolve)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from optdsl.errors import did_you_mean
from optdsl.parse import ast
from optdsl.parse.symbols import KIND_WORDS, Env, Symbol
from optdsl.parse.wording import describe, name_span

NUM, STR, SET, BOOL, ANY = "number", "string", "set", "logical", "any"

_NUM1 = (1, 1, NUM, (NUM,))
# Built-in functions: name -> (fewest args, most args or None, result, kinds of the args; the
# last kind repeats). Random functions are data: they may appear wherever data may.
FUNCTIONS: dict[str, tuple[int, int | None, str, tuple[str, ...]]] = {
    **{f: _NUM1 for f in "abs exp log log10 sqrt sin cos tan tanh sinh cosh asin acos asinh acosh "
       "atanh floor ceil".split()},
    "atan": (1, 2, NUM, (NUM,)), "atan2": (2, 2, NUM, (NUM,)),
    "round": (1, 2, NUM, (NUM,)), "trunc": (1, 2, NUM, (NUM,)), "precision": (2, 2, NUM, (NUM,)),
    "max": (1, None, NUM, (NUM,)), "min": (1, None, NUM, (NUM,)),
    "card": (1, 1, NUM, (SET,)), "ord": (1, 2, NUM, (ANY, SET)), "ord0": (1, 2, NUM, (ANY, SET)),
    "first": (1, 1, ANY, (SET,)), "last": (1, 1, ANY, (SET,)),
    "next": (1, 3, ANY, (ANY, SET, NUM)), "prev": (1, 3, ANY, (ANY, SET, NUM)),
    "member": (2, 2, ANY, (NUM, SET)),
    "length": (1, 1, NUM, (ANY,)), "substr": (2, 3, STR, (ANY, NUM, NUM)),
    "num": (1, 1, NUM, (ANY,)), "num0": (1, 1, NUM, (ANY,)), "char": (1, 1, STR, (NUM,)),
    "ichar": (1, 1, NUM, (ANY,)), "sprintf": (1, None, STR, (ANY,)),
    "Uniform01": (0, 0, NUM, ()), "Uniform": (2, 2, NUM, (NUM,)), "Normal01": (0, 0, NUM, ()),
    "Normal": (2, 2, NUM, (NUM,)), "Exponential": (0, 0, NUM, ()), "Beta": (2, 2, NUM, (NUM,)),
    "Gamma": (1, 1, NUM, (NUM,)), "Cauchy": (0, 0, NUM, ()), "Poisson": (1, 1, NUM, (NUM,)),
    "Irand224": (0, 0, NUM, ()),
    "str2time": (2, 2, NUM, (ANY, STR)), "time2str": (2, 2, STR, (NUM, STR)), "gmtime": (0, 0, NUM, ()),
}

_IN_BLOCK = (ast.VarDecl, ast.Objective, ast.ConstraintDecl)
_STATEMENT_WORDS = {
    ast.SetDecl: "a set declaration", ast.ParamDecl: "a param declaration",
    ast.LowerBlock: "a lower block", ast.SurrogateDecl: "a surrogate declaration",
    ast.CheckStmt: "a check", ast.OptionStmt: "an option", ast.TableStmt: "a table",
}



class StatementChecks:
    """Checks of calls, `lower` blocks and tables; a base class of optdsl.parse.resolve.Checker,
    which provides the attributes and methods declared here."""

    symbols: dict[str, Symbol]
    info: Any

    def error(self, message: str, span: Any, hint: str | None = None) -> None:
        raise NotImplementedError

    def numeric(self, e: ast.Expr, kind: str) -> None:
        raise NotImplementedError

    def expr(self, e: ast.Expr, env: Env) -> str:
        raise NotImplementedError

    def bind(self, ix: Any, env: Env) -> Env:
        raise NotImplementedError

    def check_call(self, n: ast.Call, env: Env, kinds: list[str]) -> str:
        """A function or surrogate call; `kinds` are its arguments' static kinds."""
        f = n.func
        sym = self.symbols.get(f)
        if sym is not None and sym.kind == "surrogate":
            if sym.order > env.order:
                self.error(f"surrogate '{f}' is used before its declaration", name_span(n, f))
            if not n.args:
                self.error(f"surrogate '{f}' needs an argument", n.span, f"write '{f}(x)' for a variable x")
            for arg, kind in zip(n.args, kinds, strict=True):
                vector = isinstance(arg, ast.Ref) and not arg.subs and arg.name in self.symbols
                if not vector:
                    self.numeric(arg, kind)
            return NUM
        if sym is not None:
            hint = f"write '{f}[...]' for its values" if sym.arity else None
            self.error(f"{KIND_WORDS[sym.kind]} '{f}' is not a function", name_span(n, f), hint)
            return ANY
        if f == "acyclic":
            self.error("acyclic() is a constraint by itself", n.span, "write 'subject to dag: acyclic(W);'")
            return ANY
        spec = FUNCTIONS.get(f)
        if spec is None:
            known = [*FUNCTIONS, *(s.name for s in self.info.of_kind("surrogate"))]
            self.error(f"undefined function '{f}'", name_span(n, f), did_you_mean(f, known))
            return ANY
        lo, hi, result, arg_kinds = spec
        got = len(n.args)
        if got < lo or (hi is not None and got > hi):
            want = str(lo) if lo == hi else f"at least {lo}" if hi is None else f"{lo} to {hi}"
            self.error(f"{f}() takes {want} argument{'s' if want != '1' else ''}, got {got}", n.span)
        for i, (arg, kind) in enumerate(zip(n.args, kinds, strict=True)):
            want_kind = arg_kinds[min(i, len(arg_kinds) - 1)] if arg_kinds else NUM
            if want_kind == SET and kind in (NUM, STR, BOOL):
                self.error(f"{f}() needs a set, not {describe(arg, self.symbols)}", arg.span)
            elif want_kind == NUM:
                self.numeric(arg, kind)
        return result


    def check_lower_block(self, st: ast.LowerBlock) -> None:
        """A `lower` block holds its own variables, one objective, and constraints."""
        for inner in st.body:
            if not isinstance(inner, _IN_BLOCK):
                word = _STATEMENT_WORDS.get(type(inner), "this statement")
                self.error(f"{word} cannot appear in lower block '{st.name}'", inner.span,
                         "a lower block holds var, minimize/maximize and subject to declarations")
        objectives = [s for s in st.body if isinstance(s, ast.Objective)]
        if not any(isinstance(s, ast.VarDecl) for s in st.body):
            self.error(f"lower block '{st.name}' declares no variables", name_span(st, st.name),
                     "declare the follower's variables inside the block")
        if len(objectives) != 1:
            self.error(f"lower block '{st.name}' needs one objective, found {len(objectives)}",
                     name_span(st, st.name))


    def check_table(self, st: ast.TableStmt, env: Env) -> None:
        """IN tables fill declared sets and params; OUT tables write expressions after a solve."""
        if st.direction == "OUT":
            inner = self.bind(st.indexing, replace(env, script=True))
            for col in st.columns:
                self.expr(col.expr, inner)
            return
        width = len(st.keys)
        if st.set_name is not None:
            sym = self.symbols.get(st.set_name)
            self.expr(ast.Ref(st.set_name, span=name_span(st, st.set_name)), env)
            if sym is not None and sym.kind == "set" and sym.dimen != width:
                self.error(f"set '{st.set_name}' has dimension {sym.dimen}, but the table gives "
                         f"{width} key column{'s' if width != 1 else ''}", name_span(st, st.set_name))
            elif sym is not None and sym.kind != "set":
                self.error(f"'{st.set_name}' is not a set", name_span(st, st.set_name))
        for col in st.columns:
            e = col.expr
            if not isinstance(e, ast.Ref) or e.subs:
                self.error("a column of an IN table must name a param", e.span, "write 'p ~ COLUMN' or 'p'")
                continue
            self.expr(e, replace(env, whole=True))
            sym = self.symbols.get(e.name)
            if sym is not None and sym.kind != "param":
                self.error(f"a column of an IN table must name a param; '{e.name}' is a "
                         f"{KIND_WORDS[sym.kind]}", e.span)
            elif sym is not None and sym.arity != width:
                self.error(f"param '{e.name}' takes {sym.arity} subscripts, but the table gives "
                         f"{width} key column{'s' if width != 1 else ''}", e.span)
