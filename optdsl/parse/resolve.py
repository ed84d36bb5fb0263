"""Static checks of a parsed model, before any data is read.

    info = check_model(parse(text, "model.opt"))   # ModelInfo, or raises ModelError

Checks: undefined names (with did-you-mean over every visible name), duplicate declarations,
declare-before-use for sets, params and surrogates (variables may be used before their
declaration, as the leader's objective of a bilevel model uses the follower's), subscript counts,
dummy scoping (a dummy may not hide a model name; a dummy bound outside matches its value, as in
AMPL), variables in data-only places (filters, index sets, subscripts, `if` conditions, set and
param expressions, variable bounds, checks, range bounds), strings and sets in arithmetic,
`acyclic(W)`, surrogate calls, and the contents of `lower` blocks.

All errors are collected in one pass; one error is raised as itself, several as `ModelErrors`
(a ModelError whose `render()` shows every one). Expression walks use an explicit stack.
"""

from __future__ import annotations

from dataclasses import replace

from optdsl.errors import ModelError, Span, did_you_mean
from optdsl.parse import ast
from optdsl.parse.checks import (
    ANY,
    BOOL,
    FUNCTIONS,
    NUM,
    SET,
    STR,
    StatementChecks,
)
from optdsl.parse.network import FLOW_HINTS, NetworkChecks
from optdsl.parse.symbols import (
    KIND_WORDS,
    Env,
    ModelErrors,
    ModelInfo,
    Symbol,
    indexing_width,
    set_dimen,
    sets_as_indexing,
)
from optdsl.parse.wording import declared_over, describe, name_span, source_of, subscript_message, word_span

CONSTANTS = {"Infinity": NUM}
MAX_ERRORS = 50

# Places evaluated on data, where variables may not appear: (where, why).
DATA_PLACES = {
    "filter": ("a filter", "filters are evaluated on data"),
    "index": ("an indexing set", "index sets are evaluated on data"),
    "subscript": ("a subscript", "subscripts are evaluated on data"),
    "if": ("an 'if' condition", "conditions are evaluated on data"),
    "set": ("a set expression", "sets are evaluated on data"),
    "param": ("a param declaration", "params are evaluated on data"),
    "bound": ("the bounds of a variable", "bounds are evaluated on data"),
    "init": ("an initial value", "initial values are evaluated on data"),
    "check": ("a check", "checks are evaluated on data"),
    "range": ("the bounds of a range constraint", "write two constraints instead"),
    "column": ("a coefficient or factor", "coefficients are evaluated on data"),
    "piecewise": ("the breakpoints, slopes or zero point of a piecewise-linear term",
                  "they are evaluated on data"),
}


def check_model(model: ast.Model) -> ModelInfo:
    """Check a parsed model without data; return its symbol table or raise ModelError(s)."""
    checker = Checker(model)
    checker.run()
    if len(checker.errors) == 1:
        raise checker.errors[0]
    if checker.errors:
        raise ModelErrors(checker.errors)
    return checker.info


# Declarations that run after `solve;` when they stand after it.
_LATE = (ast.ParamDecl, ast.SetDecl, ast.CheckStmt)


class Checker(StatementChecks, NetworkChecks):
    def __init__(self, model: ast.Model) -> None:
        self.info = ModelInfo(model)
        self.symbols = self.info.symbols
        self.errors: list[ModelError] = []
        self._undefined: set[str] = set()
        self._duplicated: set[str] = set()  # names declared twice: their uses are not re-checked
        self._order: dict[int, int] = {}

    # ---------------------------------------------------------------------------- driver
    def error(self, message: str, span: Span | None, hint: str | None = None) -> None:
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(ModelError(message, span, hint))

    def run(self) -> None:
        self.collect(self.info.model.statements, None)
        after_solve = False
        for st in self.info.model.statements:
            # declarations after `solve;` are evaluated after it (GMPL's post-processing): variables
            # are data there
            self.statement(st, Env({}, order=self._order[id(st)], script=after_solve and isinstance(st, _LATE)))
            after_solve = after_solve or isinstance(st, ast.SolveStmt)

    def collect(self, statements: tuple[ast.Stmt, ...], block: str | None) -> None:
        """Pass 1: number the statements and declare every name."""
        for st in statements:
            self._order[id(st)] = order = len(self._order)
            if isinstance(st, ast.LowerBlock):
                self.declare(Symbol(st.name, "lower", st, order=order), st)
                self.collect(st.body, st.name)
            elif isinstance(st, (ast.SetDecl, ast.ParamDecl, ast.VarDecl, ast.Objective,
                                 ast.ConstraintDecl, ast.SurrogateDecl)):
                self.declare(self.make_symbol(st, order, block), st)

    def make_symbol(self, st: ast.Stmt, order: int, block: str | None) -> Symbol:
        ix: ast.Indexing | None = getattr(st, "indexing", None)
        entries = ix.entries if ix is not None else ()
        width = indexing_width(ix, self.symbols)
        if width is None:  # a set of unknown width counts 1 per entry
            width = sum(len(e.dummies) or set_dimen(e.set, self.symbols) or 1 for e in entries)
        kind = {ast.SetDecl: "set", ast.ParamDecl: "param", ast.VarDecl: "var",
                ast.Objective: "objective", ast.ConstraintDecl: "constraint",
                ast.SurrogateDecl: "surrogate"}[type(st)]
        dimen = 1
        if isinstance(st, ast.SetDecl):
            dimen = st.dimen or set_dimen(st.within, self.symbols) or set_dimen(
                st.value, self.symbols) or set_dimen(st.default, self.symbols) or 1
        symbolic = isinstance(st, ast.ParamDecl) and st.kind == "symbolic"
        return Symbol(st.name, kind, st, width, tuple(e.set for e in entries), dimen, symbolic,
                      order, block if kind in ("var", "objective", "constraint") else None)

    def declare(self, sym: Symbol, st: ast.Stmt) -> None:
        prev = self.symbols.get(sym.name)
        if prev is None:
            self.symbols[sym.name] = sym
            return
        span = name_span(st, sym.name)
        self._duplicated.add(sym.name)
        line = prev.decl.span.line if prev.decl.span else "?"
        if sym.kind == prev.kind == "var" and sym.block != prev.block:
            where = [f"in lower block '{b}'" if b else "by the leader" for b in (prev.block, sym.block)]
            self.error(f"variable '{sym.name}' is declared both {where[0]} and {where[1]}", span,
                       f"the first declaration is at line {line}; a lower block's variables "
                       "must have their own names")
            return
        self.error(f"duplicate declaration of '{sym.name}'", span,
                   f"'{sym.name}' is already declared as a {KIND_WORDS[prev.kind]} at line {line}")

    # ------------------------------------------------------------------------ statements
    def statement(self, st: ast.Stmt, env: Env) -> None:
        if isinstance(st, ast.SetDecl):
            inner = self.bind(st.indexing, replace(env, data="set"))
            for part in (st.within, st.value, st.default):
                if part is not None and self.expr(part, inner) not in (SET, ANY):
                    self.error(f"the value of set '{st.name}' is not a set", part.span)
            got = set_dimen(st.value, self.symbols) or set_dimen(st.within, self.symbols)
            if st.dimen is not None and got is not None and got != st.dimen:
                self.error(f"set '{st.name}' is declared dimen {st.dimen}, but its members have "
                           f"dimension {got}", st.span)
        elif isinstance(st, ast.ParamDecl):
            inner = self.bind(st.indexing, replace(env, data="param"))
            parts = [b.value for b in st.bounds] + [st.default, st.value]
            for part in parts:
                # a computed string (`time2str(t, "%w")`) may well be a number: checked on the data
                if part is not None and self.expr(part, inner) == STR and st.kind != "symbolic" \
                        and isinstance(part, ast.Str):
                    self.error(f"param '{st.name}' is not symbolic, but is given a string",
                               part.span, f"declare it 'param {st.name} symbolic'")
            if st.within is not None and self.expr(st.within, inner) not in (SET, ANY):
                self.error(f"'in' needs a set in the declaration of param '{st.name}'", st.within.span)
        elif isinstance(st, ast.VarDecl):
            inner = self.bind(st.indexing, replace(env, data="bound"))
            for part in (st.lower, st.upper):
                if part is not None:
                    self.numeric(part, self.expr(part, inner))
            if st.fixed is not None:  # `var h = expr;`: fixed on data, AMPL's defined variable on variables
                self.numeric(st.fixed, self.expr(st.fixed, replace(inner, data=None)))
            if st.init is not None:
                self.numeric(st.init, self.expr(st.init, replace(inner, data="init")))
            if st.columns:
                self.check_columns(st, inner)
        elif isinstance(st, ast.Objective):
            inner = self.flow_env(st, self.bind(st.indexing, replace(env, block=st.lower_block)))
            self.numeric(st.expr, self.expr(st.expr, inner))
            self.check_flows(st, inner)
        elif isinstance(st, ast.ConstraintDecl):
            inner = self.flow_env(st, self.bind(st.indexing, replace(env, block=st.lower_block)))
            self.relation(st.relation, inner)
            self.check_flows(st, inner)
        elif isinstance(st, ast.CheckStmt):
            inner = self.bind(st.indexing, replace(env, data="check"))
            self.expr(st.condition, inner)
        elif isinstance(st, ast.LowerBlock):
            self.check_lower_block(st)
            for inner_st in st.body:
                self.statement(inner_st, replace(env, order=self._order[id(inner_st)]))
        elif isinstance(st, ast.OptionStmt):
            self.info.options[st.name] = st.value
        elif isinstance(st, (ast.DataSection, ast.DataFile)):
            self.info.data.append(st)
            if isinstance(st, ast.DataFile) and st.as_name is not None:
                sym = self.symbols.get(st.as_name)
                if sym is None or sym.kind != "param":
                    self.error(f"'{st.as_name}' is not a declared param", st.span,
                               did_you_mean(st.as_name, [s.name for s in self.info.of_kind("param")]))
        elif isinstance(st, ast.DisplayStmt):
            inner = self.bind(st.indexing, replace(env, script=True))
            for item in st.items:
                self.expr(item, replace(inner, whole=True))
            if st.redirect is not None:
                self.expr(st.redirect, inner)
        elif isinstance(st, ast.PrintfStmt):
            inner = self.bind(st.indexing, replace(env, script=True))
            for arg in st.args + ((st.format_expr,) if st.format_expr is not None else ()):
                self.expr(arg, inner)
            if st.redirect is not None:
                self.expr(st.redirect, inner)
        elif isinstance(st, ast.ForStmt):
            inner = self.bind(st.indexing, replace(env, script=True))
            for inner_st in st.body:
                self.statement(inner_st, inner)
        elif isinstance(st, ast.TableStmt):
            self.check_table(st, env)

    def relation(self, rel: ast.Relation, env: Env) -> None:
        if rel.op == "call":
            body = rel.body
            assert isinstance(body, ast.Call)
            if body.func == "acyclic":
                self.acyclic(body, env)
            else:
                self.expr(body, env)
                self.error(f"'{body.func}(...)' is not a constraint", body.span,
                           "write a comparison, like 'e1 <= e2'")
        elif rel.op == "range":
            for bound in (rel.lower, rel.upper):
                assert bound is not None
                self.numeric(bound, self.expr(bound, replace(env, data="range")))
            assert rel.body is not None
            self.numeric(rel.body, self.expr(rel.body, env))
        else:
            for side in (rel.lhs, rel.rhs):
                assert side is not None
                self.numeric(side, self.expr(side, env))

    def acyclic(self, call: ast.Call, env: Env) -> None:
        """`acyclic(W)`: W names a variable with two subscripts over one set."""
        args = call.args
        if len(args) != 1 or not isinstance(args[0], ast.Ref) or args[0].subs:
            self.error("acyclic() takes one variable, written without subscripts", call.span,
                       "write 'acyclic(W)' for a variable declared 'var W {V, V}'")
            return
        self.expr(args[0], replace(env, whole=True))
        sym = self.symbols.get(args[0].name)
        if sym is None or sym.kind != "var":
            if sym is not None:
                self.error(f"acyclic() takes a variable, not {KIND_WORDS[sym.kind]} '{sym.name}'",
                           args[0].span)
            return
        square = len(sym.index_sets) == 2 and sym.index_sets[0] == sym.index_sets[1]
        if sym.arity != 2:
            self.error(f"acyclic() needs a variable with 2 subscripts; '{sym.name}' takes {sym.arity}",
                       args[0].span, f"declare it as 'var {sym.name} {{V, V}}'")
        elif not square:
            self.error(f"acyclic() needs a square variable over one set; '{sym.name}' is indexed "
                       f"over {source_of(sym.indexing.span) if sym.indexing else '?'}",
                       args[0].span, f"declare it as 'var {sym.name} {{V, V}}'")

    def numeric(self, e: ast.Expr, kind: str) -> None:
        """Report a string or set where a number is needed."""
        if kind in (STR, SET):
            self.error(f"{describe(e, self.symbols)} cannot be used in arithmetic", e.span,
                       "'&' joins strings" if kind == STR else None)

    # ------------------------------------------------------------------------- indexing
    def bind(self, ix: ast.Indexing | None, env: Env) -> Env:
        """Check an indexing expression; return `env` with its dummies bound.

        Index sets and the filter are data; the result keeps `env` otherwise, and the caller
        says what the body may contain.
        """
        if ix is None:
            return env
        cur = env
        for entry in ix.entries:
            kind = self.expr(entry.set, replace(cur, data="index", whole=False))
            self.index_set(entry.set, kind)
            cur = self.bind_entry(entry, cur)
        if ix.condition is not None:
            self.expr(ix.condition, replace(cur, data="filter", whole=False))
        return cur

    def index_set(self, e: ast.Expr, kind: str) -> None:
        if kind in (NUM, STR, BOOL):
            self.error(f"{describe(e, self.symbols)} is not a set", e.span,
                       "an indexing expression ranges over sets, like '{i in 1..n}'")

    def bind_entry(self, entry: ast.IndexEntry, env: Env) -> Env:
        if not entry.dummies:
            return env
        width = set_dimen(entry.set, self.symbols)
        if width is not None and width != len(entry.dummies):
            self.error(f"{describe(entry.set, self.symbols)} has members of dimension {width}, "
                       f"but {len(entry.dummies)} dummies are given", entry.span)
        dummies = dict(env.dummies)
        for d in entry.dummies:
            if d in dummies:  # bound outside: matches its value (AMPL), binds nothing new
                continue
            sym = self.symbols.get(d)
            if sym is not None and sym.kind == "param" and sym.arity == 0 and len(entry.dummies) > 1:
                continue  # `(entr, j) in ROADS` with a param entr: AMPL's slice at entr's value
            if sym is not None:
                self.error(f"dummy '{d}' hides the {KIND_WORDS[sym.kind]} of the same name",
                           word_span(entry.span, d), "rename the dummy")
            dummies[d] = entry.span
        return replace(env, dummies=dummies)

    # ----------------------------------------------------------------------- expressions
    def expr(self, root: ast.Expr, env: Env) -> str:
        """Check an expression tree (post-order, explicit stack); return its static kind."""
        out: list[str] = []
        stack: list[tuple[ast.Expr, Env, int]] = [(root, env, -1)]
        while stack:
            node, e, n = stack.pop()
            if n < 0:
                kids = self.children(node, e)
                stack.append((node, e, len(kids)))
                stack.extend((k, ke, -1) for k, ke in reversed(kids))
                continue
            kinds = out[len(out) - n :] if n else []
            del out[len(out) - n :]
            out.append(self.finish(node, e, kinds))
        return out[0]

    def children(self, n: ast.Expr, env: Env) -> list[tuple[ast.Expr, Env]]:
        k = replace(env, whole=False) if env.whole else env
        if isinstance(n, ast.Ref):
            return [(s, replace(k, data="subscript")) for s in n.subs]
        if isinstance(n, (ast.BinOp, ast.Compare, ast.Logic, ast.SetOp)):
            return [(n.left, k), (n.right, k)]
        if isinstance(n, ast.UnOp):
            return [(n.operand, k)]
        if isinstance(n, ast.InSet):
            return [(n.element, k), (n.set, k)]
        if isinstance(n, ast.Call):
            sym = self.symbols.get(n.func)
            # A surrogate takes whole variables; an unknown function is reported once, not per argument.
            whole = sym.kind == "surrogate" if sym is not None else n.func not in FUNCTIONS
            return [(a, replace(k, whole=whole and isinstance(a, ast.Ref))) for a in n.args]
        if isinstance(n, ast.Subscript):
            return [(n.base, k)] + [(s, replace(k, data="subscript")) for s in n.subs]
        if isinstance(n, ast.Suffix):  # the base names a var, constraint or objective: checked in finish
            return [(s, replace(k, data="subscript")) for s in n.base.subs]
        if isinstance(n, (ast.Iterated, ast.SetBuilder, ast.SetOf)):
            kids: list[tuple[ast.Expr, Env]] = []
            cur = k
            for entry in n.indexing.entries:
                kids.append((entry.set, replace(cur, data="index")))
                cur = self.bind_entry(entry, cur)
            if n.indexing.condition is not None:
                kids.append((n.indexing.condition, replace(cur, data="filter")))
            if isinstance(n, ast.Iterated):
                kids.append((n.body, cur))
            elif isinstance(n, ast.SetOf):
                kids.append((n.item, replace(cur, data="set")))
            return kids
        if isinstance(n, ast.Piecewise):
            return self.piecewise_children(n, k)
        if isinstance(n, ast.IfThen):
            kids = [(n.condition, replace(k, data="if")), (n.then, k)]
            return kids + ([(n.otherwise, k)] if n.otherwise is not None else [])
        if isinstance(n, (ast.TupleExpr, ast.SetLiteral)):
            return [(i, k) for i in n.items]
        if isinstance(n, ast.RangeSet):
            return [(x, k) for x in (n.start, n.stop, n.step) if x is not None]
        return []

    def piecewise_children(self, n: ast.Piecewise, env: Env) -> list[tuple[ast.Expr, Env]]:
        """Each list item is data, with the dummies of its own indexing; the argument is not."""
        data = replace(env, data="piecewise")
        kids: list[tuple[ast.Expr, Env]] = []
        for item in (*n.breakpoints, *n.slopes):
            cur = data
            if item.indexing is not None:
                for entry in item.indexing.entries:
                    kids.append((entry.set, replace(cur, data="index")))
                    cur = self.bind_entry(entry, cur)
                if item.indexing.condition is not None:
                    kids.append((item.indexing.condition, replace(cur, data="filter")))
            kids.append((item.value, cur))
        kids.append((n.arg, env))
        if n.zero is not None:
            kids.append((n.zero, data))
        return kids

    def piecewise(self, n: ast.Piecewise, kinds: list[str]) -> str:
        """Every value of the term must be a number (kinds come in piecewise_children's order)."""
        at = 0
        for item in (*n.breakpoints, *n.slopes):
            if item.indexing is not None:
                for entry in item.indexing.entries:
                    self.index_set(entry.set, kinds[at])
                    at += 1
                at += item.indexing.condition is not None
            self.numeric(item.value, kinds[at])
            at += 1
        for part in (n.arg, n.zero):
            if part is not None:
                self.numeric(part, kinds[at])
                at += 1
        return NUM

    def finish(self, n: ast.Expr, env: Env, kinds: list[str]) -> str:
        if isinstance(n, ast.Num):
            return NUM
        if isinstance(n, ast.Str):
            return STR
        if isinstance(n, ast.Ref):
            return self.ref(n, env)
        if isinstance(n, ast.BinOp):
            if n.op == "&":
                for part, kind in zip((n.left, n.right), kinds, strict=True):
                    if kind == SET:
                        self.error(f"{describe(part, self.symbols)} cannot be joined with '&'", part.span)
                return STR
            self.numeric(n.left, kinds[0])
            self.numeric(n.right, kinds[1])
            return NUM
        if isinstance(n, ast.UnOp):
            if n.op == "not":
                return BOOL
            self.numeric(n.operand, kinds[0])
            return NUM
        if isinstance(n, (ast.Compare, ast.Logic)):
            return BOOL
        if isinstance(n, ast.InSet):
            if kinds[1] in (NUM, STR, BOOL):
                self.error(f"'in' needs a set, not {describe(n.set, self.symbols)}", n.set.span)
            return BOOL
        if isinstance(n, ast.SetOp):
            for part, kind in zip((n.left, n.right), kinds, strict=True):
                if kind in (NUM, STR, BOOL):
                    self.error(f"'{n.op}' needs sets, not {describe(part, self.symbols)}", part.span)
            return SET
        if isinstance(n, ast.Call):
            return self.check_call(n, env, kinds)
        if isinstance(n, ast.Suffix):
            return self.suffix(n, env)
        if isinstance(n, ast.Subscript):
            base = n.base
            sym = self.symbols.get(base.func) if isinstance(base, ast.Call) else None
            unknown = isinstance(base, ast.Call) and sym is None and base.func not in FUNCTIONS
            if not unknown and (sym is None or sym.kind != "surrogate"):
                self.error("only a surrogate's output can be subscripted", n.span,
                           "write 'phi(x)[1]' for a declared surrogate phi")
            return NUM
        if isinstance(n, (ast.Iterated, ast.SetBuilder, ast.SetOf)):
            for entry, kind in zip(n.indexing.entries, kinds, strict=False):
                self.index_set(entry.set, kind)
        if isinstance(n, ast.Iterated):
            body = kinds[-1]
            if n.op in ("union", "inter"):
                if body in (NUM, STR, BOOL):
                    self.error(f"iterated '{n.op}' needs a set", n.body.span)
                return SET
            if n.op in ("forall", "exists"):
                return BOOL
            self.numeric(n.body, body)
            return NUM
        if isinstance(n, (ast.SetBuilder, ast.SetOf, ast.RangeSet)):
            if isinstance(n, ast.RangeSet):
                for part, kind in zip((n.start, n.stop, n.step), kinds, strict=False):
                    if part is not None:
                        self.numeric(part, kind)
            return SET
        if isinstance(n, ast.SetLiteral):
            if sets_as_indexing(n, self.symbols):
                return SET
            for item, kind in zip(n.items, kinds, strict=True):
                if kind == SET:
                    self.error(f"{describe(item, self.symbols)} cannot be a member of a set",
                               item.span, "write the set itself, or '{i in I}' for its members")
            return SET
        if isinstance(n, ast.Piecewise):
            return self.piecewise(n, kinds)
        if isinstance(n, ast.IfThen):
            return kinds[1] if kinds[1] != ANY or len(kinds) < 3 else kinds[2]
        return ANY

    def suffix(self, n: ast.Suffix, env: Env) -> str:
        """`x[i].val`, `c[j].dual`: values a solve gives, so only after `solve;`."""
        name = n.base.name
        sym = self.symbols.get(name)
        if sym is None:
            self.error(f"undefined name '{name}'", name_span(n.base, name),
                       did_you_mean(name, list(self.symbols)))
            return NUM
        allowed = ast.SUFFIXES.get(sym.kind)
        if allowed is None:
            self.error(f"{KIND_WORDS[sym.kind]} '{name}' has no suffixes", n.span,
                       "suffixes such as .val and .dual belong to variables and constraints")
        elif n.suffix not in allowed:
            self.error(f"'.{n.suffix}' is not a suffix of a {KIND_WORDS[sym.kind]}", n.span,
                       did_you_mean(n.suffix, list(allowed)) or f"suffixes: {', '.join(allowed)}")
        elif not env.script:
            self.error(f"'{name}.{n.suffix}' has a value only after a solve", n.span,
                       "use it in display, printf or a param declared after 'solve;'")
        elif len(n.base.subs) != sym.arity and name not in self._duplicated and not (env.whole and not n.base.subs):
            self.error(subscript_message(sym, len(n.base.subs)), n.base.span, declared_over(sym))
        return NUM

    def ref(self, n: ast.Ref, env: Env) -> str:
        name = n.name
        if name in env.dummies:
            if n.subs:
                self.error(f"dummy '{name}' cannot take subscripts", n.span)
            return ANY
        sym = self.symbols.get(name)
        if sym is None:
            if name in CONSTANTS and not n.subs:
                return CONSTANTS[name]
            if name in env.flows and not n.subs:  # AMPL's to_come / net_in / net_out
                return NUM
            if name in FUNCTIONS:
                self.error(f"'{name}' is a function", name_span(n, name), f"call it as '{name}(...)'")
            elif name not in self._undefined:
                self._undefined.add(name)
                visible = [*self.symbols, *env.dummies, *CONSTANTS]
                hint = FLOW_HINTS.get(name) if not n.subs else None
                self.error(f"undefined name '{name}'", name_span(n, name), hint or did_you_mean(name, visible))
            return ANY
        kind = sym.kind
        if kind in ("set", "param", "surrogate") and sym.order > env.order:
            line = sym.decl.span.line if sym.decl.span else "?"
            self.error(f"'{name}' is used before its declaration at line {line}", name_span(n, name),
                       f"declare {KIND_WORDS[kind]} '{name}' before it is used")
        if kind == "var":
            if env.data is not None and not env.script:  # after `solve;` variables are data
                where, why = DATA_PLACES[env.data]
                self.error(f"variable '{name}' cannot appear in {where}: {why}", name_span(n, name))
            elif sym.block is not None and env.block is not None and sym.block != env.block:
                self.error(f"variable '{name}' belongs to lower block '{sym.block}' and is not "
                           f"visible in lower block '{env.block}'", name_span(n, name))
        elif kind in ("objective", "constraint"):
            if not env.script:
                self.error(f"{KIND_WORDS[kind]} '{name}' cannot appear in an expression", name_span(n, name))
            return ANY
        elif kind in ("lower", "surrogate"):
            hint = f"call it: '{name}(x)'" if kind == "surrogate" else None
            self.error(f"{KIND_WORDS[kind]} '{name}' is not a value", name_span(n, name), hint)
            return ANY
        if len(n.subs) != sym.arity and not (not n.subs and env.whole) and name not in self._duplicated:
            self.error(subscript_message(sym, len(n.subs)), n.span, declared_over(sym))
        if kind == "set":
            return SET
        return STR if sym.symbolic else NUM
