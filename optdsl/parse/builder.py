"""Builds the AST while lark parses: one callback per grammar rule, run at each LALR reduction.

Running the callbacks inside the parser (lark's tree-less mode) means no parse tree is built and
nothing recurses: a 2,000-term sum is 2,000 reductions, not a 2,000-deep tree walk. Lark keeps
every named token in the children, so each callback computes its span from its first and last
child and drops the punctuation itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

from optdsl.errors import ModelSyntaxError, Span, did_you_mean
from optdsl.parse import ast
from optdsl.parse.lark_loader import Token, Transformer, Tree

# Reserved words: the keyword terminals of the grammar (tests check the two agree).
KEYWORDS = frozenset(
    """set param var minimize maximize check option data end solve display printf for table
    setof within dimen symbolic logical ordered integer binary default in not and or union inter
    diff symdiff cross by sum prod min max forall exists if then else div mod less
    node arc from to obj coeff cover""".split()
)
# Keywords that only start statements are not reserved, as in GMPL: `param data {...}` (Stigler's
# diet among GLPK's examples) names a param, and the contextual lexer reads it as a name there.
STATEMENT_ONLY = frozenset("check option data end solve display printf for table".split())
# AMPL's network and column-wise words are keywords only inside their declarations: elsewhere
# (`set node;`, `param from;`) they are names, as the parser's error hook makes them.
NETWORK_WORDS = frozenset("node arc from to obj coeff cover".split())
# `prod` is the iterated product only before `{`; elsewhere it is a name (the AMPL book's bigprod.mod).
RESERVED = KEYWORDS - STATEMENT_ONLY - NETWORK_WORDS - {"prod"}

# Words that start a statement, for "unknown statement" hints.
STATEMENT_WORDS = (
    "set", "param", "var", "minimize", "maximize", "subject to", "s.t.", "check", "option",
    "data", "end", "solve", "display", "printf", "for", "table", "lower", "surrogate", "node", "arc",
)

_OPS = {"POW": "^", "EQEQ": "=", "NE": "!=", "AND": "and", "OR": "or", "NOT": "not"}
_SET_LIKE = (ast.RangeSet, ast.SetOp, ast.SetBuilder, ast.SetOf)


@dataclass
class Source:
    """The file name and text spans point into (set by the parser for each parse)."""

    file: str = "<model>"
    text: str | None = None


@dataclass(frozen=True)
class _Braces:
    """`{ items : condition }` before we know whether it is a set or an indexing expression."""

    items: tuple[ast.Expr, ...]
    condition: ast.Expr | None
    span: Span


@dataclass(frozen=True)
class _Attr:
    key: str  # dimen within value default flag bound
    value: Any
    op: str
    span: Span


@dataclass(frozen=True)
class _Op:
    op: str
    token: Token


class AstBuilder(Transformer):
    """Lark callbacks producing `optdsl.parse.ast` nodes. `source` must be set before parsing."""

    def __init__(self) -> None:
        super().__init__(visit_tokens=False)
        self.source = Source()
        # The grammar's DATA_SECTION regex; the parser that owns this builder sets it once built.
        self.data_regex = ""

    # ------------------------------------------------------------------------------ helpers
    def __default__(self, data: str, children: list, meta: Any) -> Any:
        if data.startswith("_"):  # lark's helper rules for `x*`, `x+`: spliced into the parent
            return Tree(data, children)
        raise AssertionError(f"grammar rule '{data}' has no AST callback")

    def span(self, first: Any, last: Any = None) -> Span:
        last = first if last is None else last
        line, col = _start(first)
        end_line, end_col = _end(last)
        return Span(self.source.file, line, col, end_line, end_col, self.source.text)

    def span_of(self, children: list) -> Span:
        present = [c for c in children if c is not None]
        return self.span(present[0], present[-1])

    def error(self, message: str, at: Any, hint: str | None = None) -> ModelSyntaxError:
        span = at if isinstance(at, Span) else self.span(at)
        return ModelSyntaxError(message, span, hint)

    def name(self, tok: Token) -> str:
        """The text of a NAME token used as a name.

        A keyword reaches us as a NAME only where the contextual lexer could not take it as the
        keyword; if the parser then uses it as a name, the model uses a reserved word as a name.
        """
        if tok.value in RESERVED:
            raise self.error(
                f"'{tok.value}' is a reserved word and cannot be used as a name", tok,
                f"choose another name, such as '{tok.value}_'",
            )
        return tok.value

    # ----------------------------------------------------------------------------- program
    def start(self, c: list) -> ast.Model:
        src = self.source
        span = self.span_of(c) if c else Span(src.file, 1, 1, 1, 1, src.text)
        return ast.Model(tuple(c), file=src.file, span=span)

    # ------------------------------------------------------------------------ declarations
    def alias(self, c: list) -> str:
        return c[0].value

    def set_decl(self, c: list) -> ast.SetDecl:
        c = _without_alias(c, 2)
        name, attrs = c[1], self._attrs(c, "set")
        return ast.SetDecl(
            self.name(name), indexing=self._indexing(c[2]), dimen=_val(attrs, "dimen"),
            within=_val(attrs, "within"), value=_val(attrs, "value"),
            default=_val(attrs, "default"), ordered="ordered" in attrs, span=self.span_of(c),
        )

    def param_decl(self, c: list) -> ast.ParamDecl:
        c = _without_alias(c, 2)
        name, attrs = c[1], self._attrs(c, "param")
        bounds = tuple(ast.Bound(a.op, a.value, span=a.span) for a in attrs.get("bounds", ()))
        return ast.ParamDecl(
            self.name(name), indexing=self._indexing(c[2]), kind=_val(attrs, "flag"), bounds=bounds,
            within=_val(attrs, "within"), default=_val(attrs, "default"),
            value=_val(attrs, "value"), span=self.span_of(c),
        )

    def var_decl(self, c: list) -> ast.VarDecl:
        c = _without_alias(c, 2)
        columns = tuple(x for x in c[3:] if isinstance(x, ast.Column))
        for col in columns:
            if col.kind in ("from", "to"):
                raise self.error(f"'{col.kind}' names a node: declare '{c[1].value}' with 'arc', not 'var'",
                                 col.span, f"write 'arc {c[1].value} ...'")
        return replace(self._var(c), columns=columns)

    def arc_decl(self, c: list) -> ast.VarDecl:
        c = _without_alias(c, 2)
        columns = tuple(x for x in c[3:] if isinstance(x, ast.Column))
        return replace(self._var(c, "arc"), columns=columns, network="arc")

    def _var(self, c: list, what: str = "var") -> ast.VarDecl:
        name, attrs = c[1], self._attrs(c, what)
        by_op: dict[str, ast.Expr] = {}
        for a in attrs.get("bounds", ()):
            if a.op in by_op:
                bound = {">=": "lower bound", "<=": "upper bound", "=": "fixed value"}[a.op]
                raise self.error(f"the {bound} of {what} '{name.value}' is given twice", a.span)
            by_op[a.op] = a.value
        return ast.VarDecl(
            self.name(name), indexing=self._indexing(c[2]), kind=_val(attrs, "flag"),
            lower=by_op.get(">="), upper=by_op.get("<="), fixed=by_op.get("="),
            init=_val(attrs, "value") or _val(attrs, "default"), span=self.span_of(c),
        )

    def _attrs(self, c: list, what: str) -> dict[str, Any]:
        """Collect a declaration's attributes; each may appear once (bounds once per operator)."""
        out: dict[str, Any] = {}
        for a in c[3:]:
            if not isinstance(a, _Attr):
                continue
            if a.key == "bound":
                out.setdefault("bounds", []).append(a)
                continue
            key = "ordered" if a.key == "flag" and a.value == "ordered" else a.key
            prev = out.get(key)
            if prev is not None:
                name = c[1].value
                if key == "flag" and prev.value != a.value:
                    raise self.error(f"{what} '{name}' is declared both {prev.value} and {a.value}",
                                     a.span)
                word = a.value if key in ("flag", "ordered") else {"value": ":="}.get(key, key)
                raise self.error(f"'{word}' is given twice in the declaration of {what} '{name}'",
                                 a.span)
            out[key] = a
        return out

    def attr_dimen(self, c: list) -> _Attr:
        tok = c[1]
        if not re.fullmatch(r"\d+", tok.value) or int(tok.value) < 1:
            raise self.error("dimen must be a positive whole number", tok)
        return _Attr("dimen", int(tok.value), "", self.span_of(c))

    def attr_within(self, c: list) -> _Attr:
        return _Attr("within", c[1], c[0].value, self.span_of(c))

    def attr_value(self, c: list) -> _Attr:
        return _Attr("value", c[1], c[0].value, self.span_of(c))

    def attr_default(self, c: list) -> _Attr:
        return _Attr("default", c[1], "", self.span_of(c))

    def attr_flag(self, c: list) -> _Attr:
        return _Attr("flag", c[0].value, "", self.span_of(c))

    def attr_bound(self, c: list) -> _Attr:
        op = {"NE": "!=", "EQEQ": "="}.get(c[0].type, c[0].value)
        return _Attr("bound", c[1], op, self.span_of(c))

    def objective(self, c: list) -> ast.Objective:
        c = _without_alias(c, 2)
        return ast.Objective(c[0].value, self.name(c[1]), c[4], indexing=self._indexing(c[2]),
                             span=self.span_of(c))

    def objective_to_come(self, c: list) -> ast.Objective:
        """`minimize Cost;`: AMPL's objective whose terms all come from `obj` columns."""
        c = _without_alias(c, 2)
        body = ast.Ref(ast.TO_COME, span=self.span(c[1]))
        return ast.Objective(c[0].value, self.name(c[1]), body, indexing=self._indexing(c[2]),
                             span=self.span_of(c))

    def node_decl(self, c: list) -> ast.ConstraintDecl:
        """`node N {...}[: relation];`: without a relation the net flow is zero."""
        c = _without_alias(c, 2)
        name, relation = c[1], c[4]
        if relation is None:
            at = self.span(name)
            relation = ast.Relation("=", lhs=ast.Ref(ast.NET_IN, span=at), rhs=ast.Num(0, span=at), span=at)
        return ast.ConstraintDecl(self.name(name), relation, indexing=self._indexing(c[2]), network="node",
                                  span=self.span_of(c))

    def column_attr(self, c: list) -> ast.Column:
        kw, braces, target, subs = c[0], c[1], c[2], c[4]
        value = c[6] if len(c) > 6 else None
        return ast.Column(kw.value, self.name(target), tuple(subs or ()), value,
                          indexing=self._indexing(braces), span=self.span_of(c))

    def constraint(self, c: list) -> ast.ConstraintDecl:
        rest = _without_alias(c[1:] if c[0].type in ("SUBJECT_TO", "ST") else c, 1)
        name, braces, relation = rest[0], rest[1], rest[3]
        return ast.ConstraintDecl(self.name(name), relation, indexing=self._indexing(braces),
                                  span=self.span_of(c))

    def cbody(self, c: list) -> ast.Relation:
        span = self.span_of(c)
        if len(c) == 5:
            (lo, op1, mid, op2, hi) = c
            if op1.op == op2.op == "<=":
                return ast.Relation("range", lower=lo, body=mid, upper=hi, span=span)
            if op1.op == op2.op == ">=":
                return ast.Relation("range", lower=hi, body=mid, upper=lo, span=span)
            raise self.error(
                "a range constraint needs two '<=' or two '>='", op2.token,
                "write it as 'lower <= expression <= upper'",
            )
        e = c[0]
        if isinstance(e, ast.Compare):
            if e.op in ("<=", ">=", "="):
                return ast.Relation(e.op, lhs=e.left, rhs=e.right, span=span)
            hint = "use '<=' or '>='" if e.op in ("<", ">") else "a constraint is '<=', '>=' or '='"
            raise self.error(f"'{e.op}' cannot be used in a constraint", span, hint)
        if isinstance(e, ast.Call):
            return ast.Relation("call", body=e, span=span)
        raise self.error(
            "a constraint must be a comparison", span,
            "write 'e1 <= e2', 'e1 >= e2', 'e1 = e2' or 'l <= e <= u'",
        )

    def check_stmt(self, c: list) -> ast.CheckStmt:
        braces = c[1] if isinstance(c[1], _Braces) else None
        return ast.CheckStmt(c[-2], indexing=self._indexing(braces), span=self.span_of(c))

    def option_stmt(self, c: list) -> ast.OptionStmt:
        name = "".join(t.value for t in c[1:-2])
        return ast.OptionStmt(name, c[-2], span=self.span_of(c))

    def option_value(self, c: list) -> ast.Expr:
        tok, span = c[-1], self.span_of(c)
        if tok.type == "NUMBER":
            value = _number(tok.value)
            return ast.Num(-value if len(c) == 2 else value, span=span)
        if tok.type == "STRING":
            return ast.Str(_unquote(tok.value), span=span)
        return ast.Ref(tok.value, span=span)

    def lower_block(self, c: list) -> ast.LowerBlock:
        self._soft_keyword(c[0], "lower")
        name = self.name(c[1])
        body = tuple(
            replace(s, lower_block=name)
            if isinstance(s, (ast.VarDecl, ast.Objective, ast.ConstraintDecl)) else s
            for s in c[3:]
            if isinstance(s, ast.Stmt)
        )
        return ast.LowerBlock(name, body, span=self.span_of(c))

    def surrogate_decl(self, c: list) -> ast.SurrogateDecl:
        self._soft_keyword(c[0], "surrogate")
        if c[3].value != "torch":
            raise self.error(f"unknown surrogate kind '{c[3].value}'", c[3],
                             "surrogates are loaded with 'torch \"file.pt\"'")
        return ast.SurrogateDecl(self.name(c[1]), c[3].value, _unquote(c[4].value), span=self.span_of(c))

    def _soft_keyword(self, tok: Token, word: str) -> None:
        if tok.value != word:
            hint = did_you_mean(tok.value, STATEMENT_WORDS)
            raise self.error(f"unknown statement '{tok.value}'", tok, hint)

    def data_section(self, c: list) -> ast.DataSection:
        tok: Token = c[0]
        raw = tok.value
        begin = raw.index(";") + 1
        end = _data_split(self.data_regex).fullmatch(raw)
        text = raw[begin : end.start("end") if end and end.group("end") else len(raw)]
        before = raw[:begin]
        line = tok.line + before.count("\n")
        col = begin - before.rfind("\n") if "\n" in before else tok.column + begin
        src = self.source
        return ast.DataSection(
            text, span=Span(src.file, line, col, tok.end_line, tok.end_column, src.text))

    def data_file(self, c: list) -> ast.DataFile:
        as_word, as_name = c[2], c[3]
        if as_word is not None and as_word.value != "as":
            raise self.error(f"expected 'as', found '{as_word.value}'", as_word,
                             "write 'data \"X.csv\" as X;'")
        path = _unquote(c[1].value) if c[1].type == "STRING" else c[1].value
        return ast.DataFile(path, self.name(as_name) if as_name else None, span=self.span_of(c))

    def objective_select(self, c: list) -> ast.ObjectiveSelect:
        if c[0].value != "objective":
            raise self.error(f"unknown statement '{c[0].value}'", c[0], did_you_mean(c[0].value, STATEMENT_WORDS)
                             or "a statement starts with a keyword such as 'param' or 'subject to'")
        return ast.ObjectiveSelect(self.name(c[1]), tuple(c[3] or ()), span=self.span_of(c))

    def end_stmt(self, c: list) -> ast.EndStmt:
        return ast.EndStmt(span=self.span_of(c))

    # ----------------------------------------------------------------------------- scripts
    def solve_stmt(self, c: list) -> ast.SolveStmt:
        return ast.SolveStmt(span=self.span_of(c))

    def display_stmt(self, c: list) -> ast.DisplayStmt:
        braces = c[1] if isinstance(c[1], _Braces) else None
        items, redirect, append = self._redirect(c)
        return ast.DisplayStmt(tuple(items), indexing=self._indexing(braces), redirect=redirect, append=append,
                               span=self.span_of(c))

    def printf_stmt(self, c: list) -> ast.PrintfStmt:
        braces = c[1] if isinstance(c[1], _Braces) else None
        (fmt, *args), redirect, append = self._redirect(c)
        more = {"indexing": self._indexing(braces), "redirect": redirect, "append": append, "span": self.span_of(c)}
        if isinstance(fmt, ast.Str):
            return ast.PrintfStmt(fmt.value, tuple(args), **more)
        # a computed format, as in GMPL's `printf (if j = 1 then "" else " + ") & "%g x%d", ...`
        return ast.PrintfStmt("", tuple(args), format_expr=fmt, **more)

    @staticmethod
    def _redirect(c: list) -> tuple[list, ast.Expr | None, bool]:
        """The arguments of display/printf and where they go: `>> file` is its own token; `> file`
        has parsed as a comparison ending the last argument, which AMPL and GMPL read as the file."""
        items = list(next(x for x in c if isinstance(x, list)))
        if any(isinstance(t, Token) and t.type == "PWL_CLOSE" for t in c):
            return items, c[-2], True
        last = items[-1]
        # a file is named by a string, a name or a string expression; `… > 1.7e9` stays a comparison
        if isinstance(last, ast.Compare) and last.op == ">" and not isinstance(last.right, ast.Num):
            return items[:-1] + [last.left], last.right, False
        return items, None, False

    def for_stmt(self, c: list) -> ast.ForStmt:
        body = tuple(s for s in c[2:] if isinstance(s, ast.Stmt))
        return ast.ForStmt(self._indexing(c[1]), body, span=self.span_of(c))

    def table_stmt(self, c: list) -> ast.TableStmt:
        name, braces, direction = c[1], c[2], c[3]
        strings = [_unquote(t.value) for t in c[4:] if isinstance(t, Token) and t.type == "STRING"]
        spec: dict[str, Any] = c[-2]
        want, given = spec["direction"], direction.value.upper()
        if given not in ("IN", "OUT"):
            raise self.error(f"expected IN or OUT, found '{direction.value}'", direction,
                             "write IN to read a table or OUT to write one")
        if given != want:
            hint = ("an IN table lists its key columns first: 'S <- [KEY, ...], p ~ col, ...'"
                    if given == "IN" else "an OUT table lists 'expression ~ column, ...'")
            raise self.error(f"the columns do not fit an {given} table", c[-2]["span"], hint)
        if len(strings) != 2:
            last = [t for t in c[4:] if isinstance(t, Token) and t.type == "STRING"][-1]
            raise self.error("a table takes a driver and a file name", last,
                             'write for example IN "CSV" "data.csv"')
        if want == "OUT" and braces is None:
            raise self.error("an OUT table needs an indexing expression", name,
                             "write 'table NAME {i in I} OUT \"CSV\" \"file.csv\": ...;'")
        return ast.TableStmt(
            self.name(name), want, strings[0], strings[1], tuple(spec.get("keys", ())),
            tuple(spec["columns"]), set_name=spec.get("set_name"),
            indexing=self._indexing(braces), span=self.span_of(c),
        )

    def table_in(self, c: list) -> dict[str, Any]:
        set_name = self.name(c[0]) if c[0] is not None else None
        keys = next(x for x in c if isinstance(x, list))
        columns = [x for x in c if isinstance(x, ast.TableColumn)]
        return {"direction": "IN", "set_name": set_name, "keys": keys, "columns": columns,
                "span": self.span_of(c)}

    def table_out(self, c: list) -> dict[str, Any]:
        columns = [x for x in c if isinstance(x, ast.TableColumn)]
        return {"direction": "OUT", "columns": columns, "span": self.span_of(c)}

    def table_col(self, c: list) -> ast.TableColumn:
        return ast.TableColumn(c[0], c[2].value if c[2] is not None else None, span=self.span_of(c))

    def names(self, c: list) -> list[str]:
        return [self.name(t) for t in c if t.type == "NAME"]

    # ------------------------------------------------------------------------- expressions
    def logic(self, c: list) -> ast.Logic:
        return ast.Logic(_OPS[c[1].type], c[0], c[2], span=self.span_of(c))

    def unary(self, c: list) -> ast.Expr:
        op, operand = c
        span = self.span_of(c)
        if op.type == "PLUS":
            return operand
        if op.type == "MINUS" and isinstance(operand, ast.Num):
            return ast.Num(-operand.value, span=span)  # fold literals: `-2.5` is one number
        return ast.UnOp(_OPS.get(op.type, op.value), operand, span=span)

    def compare(self, c: list) -> ast.Compare:
        return ast.Compare(c[1].op, c[0], c[2], span=self.span_of(c))

    def cmp_op(self, c: list) -> _Op:
        return _Op(_OPS.get(c[0].type, c[0].value), c[0])

    def in_set(self, c: list) -> ast.InSet:
        return ast.InSet(c[0], c[-1], negated=len(c) == 4, span=self.span_of(c))

    def within_test(self, c: list) -> ast.Compare:
        return ast.Compare("within", c[0], c[2], span=self.span_of(c))

    def set_op(self, c: list) -> ast.SetOp:
        return ast.SetOp(c[1].value, c[0], c[2], span=self.span_of(c))

    def range(self, c: list) -> ast.RangeSet:
        return ast.RangeSet(c[0], c[2], c[4], span=self.span_of(c))

    def binop(self, c: list) -> ast.BinOp:
        return ast.BinOp(_OPS.get(c[1].type, c[1].value), c[0], c[2], span=self.span_of(c))

    def suffix(self, c: list) -> ast.Suffix:
        return ast.Suffix(c[0], c[2].value, span=self.span_of(c))

    def subscript(self, c: list) -> ast.Subscript:
        return ast.Subscript(c[0], tuple(c[2]), span=self.span_of(c))

    def number(self, c: list) -> ast.Num:
        return ast.Num(_number(c[0].value), span=self.span_of(c))

    def string(self, c: list) -> ast.Str:
        return ast.Str(_unquote(c[0].value), span=self.span_of(c))

    def ref(self, c: list) -> ast.Ref:
        subs = tuple(c[2]) if len(c) > 1 else ()
        return ast.Ref(self.name(c[0]), subs, span=self.span_of(c))

    def call(self, c: list) -> ast.Call:
        func = self.name(c[0]) if c[0].type == "NAME" else c[0].value
        return ast.Call(func, tuple(c[2] or ()), span=self.span_of(c))

    def paren(self, c: list) -> ast.Expr:
        return c[1]

    def tuple(self, c: list) -> ast.TupleExpr:
        return ast.TupleExpr((c[1], *c[3]), span=self.span_of(c))

    def set_braces(self, c: list) -> ast.Expr:
        b: _Braces = c[0]
        builder = b.condition is not None or any(
            _dummies(i) is not None or isinstance(i, _SET_LIKE) or _is_set_iter(i) for i in b.items
        )
        if builder:
            return ast.SetBuilder(self._indexing(b), span=b.span)
        return ast.SetLiteral(b.items, span=b.span)

    def iterated(self, c: list) -> ast.Iterated:
        return ast.Iterated(c[0].value, self._indexing(c[1]), c[2], span=self.span_of(c))

    def setof(self, c: list) -> ast.SetOf:
        return ast.SetOf(self._indexing(c[1]), c[2], span=self.span_of(c))

    def if_expr(self, c: list) -> ast.IfThen:
        return ast.IfThen(c[1], c[3], c[5], span=self.span_of(c))

    # `<<b; s>> arg`: the term, its two lists, and `(arg, zero)` split off the operand
    def piecewise(self, c: list) -> ast.Piecewise:
        operand, zero = c[5], None
        if isinstance(operand, ast.TupleExpr):
            if len(operand.items) != 2:
                raise self.error("a piecewise-linear term takes '(argument, zero point)'", operand.span,
                                 "write '<<b; s>> (x, z)' for the function that is 0 at x = z")
            operand, zero = operand.items
        return ast.Piecewise(tuple(c[1]), tuple(c[3]), operand, zero, span=self.span_of(c))

    def pwl_items(self, c: list) -> list:
        return [x for x in c if not isinstance(x, Token)]

    def pwl_item(self, c: list) -> ast.PiecewiseItem:
        return ast.PiecewiseItem(c[0], span=c[0].span)

    def pwl_indexed_item(self, c: list) -> ast.PiecewiseItem:
        return ast.PiecewiseItem(c[1], self._indexing(c[0]), span=self.span_of(c))

    def braces(self, c: list) -> _Braces:
        return _Braces(tuple(c[1] or ()), c[3], self.span_of(c))

    def args(self, c: list) -> list:
        return [x for x in c if not isinstance(x, Token)]

    def _indexing(self, b: _Braces | None) -> ast.Indexing | None:
        """`{i in I, (j, k) in L, J: cond}` as an indexing expression."""
        if b is None:
            return None
        if not b.items:
            raise self.error("an indexing expression needs at least one set", b.span,
                             "write for example '{i in I}'")
        entries = []
        for item in b.items:
            names = _dummies(item)
            if names is not None:
                entries.append(ast.IndexEntry(names, item.set, span=item.span))  # type: ignore[attr-defined]
            elif isinstance(item, ast.InSet):
                raise self.error("expected a dummy name (or a tuple of names) before 'in'",
                                 item.element.span, "write for example '{i in I}' or '{(i, j) in LINKS}'")
            else:
                entries.append(ast.IndexEntry((), item, span=item.span))
        return ast.Indexing(tuple(entries), b.condition, span=b.span)


# ------------------------------------------------------------------------------ utilities
_SPLIT: dict[str, re.Pattern[str]] = {}


def _data_split(pattern: str) -> re.Pattern[str]:
    """The grammar's DATA_SECTION regex `pattern` with its closing `end;` captured as group 'end'.

    Only an `end;` that starts a data statement closes the section (`set S := weekend;` at the
    end of the file does not), so we reuse the grammar's own pattern rather than guess.
    """
    if pattern not in _SPLIT:
        tail = r"(?:end\s*;)?"
        assert pattern.endswith(tail), "DATA_SECTION must end with an optional `end;`"
        _SPLIT[pattern] = re.compile(pattern[: -len(tail)] + r"(?P<end>end\s*;)?")
    return _SPLIT[pattern]


def _dummies(item: ast.Expr) -> tuple[str, ...] | None:
    """The dummy names an `i in S` / `(i, j) in S` item binds, or None if it is not one."""
    if not isinstance(item, ast.InSet) or item.negated:
        return None
    el = item.element
    if isinstance(el, ast.Ref) and not el.subs:
        return (el.name,)
    if isinstance(el, ast.TupleExpr) and all(isinstance(x, ast.Ref) and not x.subs for x in el.items):
        return tuple(x.name for x in el.items)  # type: ignore[attr-defined]
    return None


def _is_set_iter(e: ast.Expr) -> bool:
    return isinstance(e, ast.Iterated) and e.op in ("union", "inter")


def _val(attrs: dict[str, Any], key: str) -> Any:
    a = attrs.get(key)
    return a.value if a is not None else None


def _number(text: str) -> int | float:
    return int(text) if text.isdigit() else float(text)


def _unquote(text: str) -> str:
    q = text[0]
    return text[1:-1].replace(q + q, q)


def _start(x: Any) -> tuple[int, int]:
    if isinstance(x, list):  # `args`
        return _start(x[0])
    if isinstance(x, Token):
        return x.line, x.column
    if isinstance(x, _Op):
        return x.token.line, x.token.column
    return x.span.line, x.span.col


def _end(x: Any) -> tuple[int, int]:
    if isinstance(x, Token):
        return x.end_line, x.end_column
    if isinstance(x, _Op):
        return x.token.end_line, x.token.end_column
    if isinstance(x, list):  # `args`
        return _end(x[-1])
    return x.span.end_line, x.span.end_col


def _without_alias(c: list, at: int) -> list:
    """The children of a declaration without its alias string (AMPL's `set prod 'products';`),
    which only documents the name."""
    return c[:at] + c[at + 1:]
