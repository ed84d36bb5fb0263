"""The grammar and the parser: LANGUAGE.md examples, golden ASTs, precedence, spans, symbols.

Regenerate the golden ASTs after an intended change with
    OPTDSL_UPDATE_GOLDEN=1 python -m pytest tests/test_parser.py -k golden
and review the diff by eye.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from optdsl.errors import ModelError, ModelSyntaxError
from optdsl.parse import ast
from optdsl.parse.builder import KEYWORDS
from optdsl.parse.parser import grammar_text, parse, parse_file
from optdsl.parse.resolve import check_model

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
GOLDEN = Path(__file__).resolve().parent / "golden" / "ast"


def expr_of(text: str) -> ast.Expr:
    """The expression of `param p := TEXT;`."""
    (decl,) = parse(f"param p := {text};").statements
    assert isinstance(decl, ast.ParamDecl) and decl.value is not None
    return decl.value


def cond_of(text: str) -> ast.Expr:
    """The condition of `check: TEXT;` (attribute values stop before comparisons)."""
    (chk,) = parse(f"check: {text};").statements
    assert isinstance(chk, ast.CheckStmt)
    return chk.condition


def objective_of(text: str) -> ast.Expr:
    (obj,) = parse(f"minimize o: {text};").statements
    assert isinstance(obj, ast.Objective)
    return obj.expr


# ------------------------------------------------------------------- LANGUAGE.md examples
EXAMPLE_FILES = ["transport.opt", "hs6.opt", "knapsack.opt", "bilevel.opt", "dag.opt",
                 "surrogate.opt", "options.opt"]


@pytest.mark.parametrize("name", EXAMPLE_FILES)
def test_example_files_parse_and_check(name: str) -> None:
    info = check_model(parse_file(EXAMPLES / name))
    assert info.of_kind("objective"), name


SNIPPETS = [  # the code fragments of LANGUAGE.md sections 2-5, each made a whole model
    "var x >= 0, <= 10;",
    "var n integer >= 0;",
    "set I; set J; param f; param d {I, J}; param c {i in I, j in J} := f * d[i,j] / 1000;",
    "set PROD; param market {PROD}; var Make {p in PROD} >= 0, <= market[p];",
    "set I; param p {I} default 0 >= 0;",
    "option solver highs; option time_limit 60; option seed 3; option device cuda;",
    "option balans.iterations 200;",
    "set I; set J; set LINKS within I cross J; var x {LINKS} >= 0;\n"
    "s.t. out {i in I}: sum {(i, j) in LINKS} x[i, j] <= 1;",
    'set S := {1, 2, 3}; set T := {"a", "b"}; set P := {(1, "a"), (2, "b")};',
    "param n; set R := 1..n by 2; set A; set B; set U := A union B; set D := A diff B;"
    " set X := A inter B; set C := A cross B; set F := {i in A, j in B: i != j};",
    "param n; var x {1..n}; s.t. c {i in 1..n-1}: x[i+1] - x[i] >= 0;",
    "set I; param p {I}; var x {I};\n"
    "minimize o: sum {i in I} p[i] * x[i] + prod {i in I} p[i] + max {i in I} p[i]"
    " + min {i in I} p[i] + exp(1) + log(2) + log10(3) + sqrt(4) + abs(-1) + sin(0) + cos(0)"
    " + tan(0) + tanh(0) + max(1, 2, 3) + min(1, 2) + card(I) + (if card(I) > 2 then 1 else 0);",
    "set I ordered; param p {i in I} := ord(i, I) + ord(i);",
    "var x; var y; s.t. a: x <= y; s.t. b: x >= y; s.t. c: x = y; s.t. d: x == y;\n"
    "param l; param u; s.t. r: l <= x + y <= u;",
    "param a; param b; check: a < b or a <= b and not (a = b) and a != b and a <> b and a >= 0;",
    "set I; param p {I}; check {i in I}: p[i] > 0 and i in I and i not in {};",
    "data \"transport.dat\";",
    'set I; param p {I}; data "X.csv" as p;',
]


@pytest.mark.parametrize("text", SNIPPETS)
def test_language_snippets_parse_and_check(text: str) -> None:
    check_model(parse(text))


AMPL_GMPL = [  # section 4a: the rest of AMPL/GMPL that real model files use
    "set E dimen 2; set V; set W within V; set Z := {};"
    " param s symbolic; param flag logical; param k integer; param b binary;",
    "set I; set S := setof {i in I} (i, i); set U := union {i in I} {i};"
    " set N := inter {i in I} {i}; set Y := I symdiff I;",
    "param a := 7 div 2 + 7 mod 2 + (3 less 5) + floor(2.5) + ceil(2.5) + round(2.5)"
    " + trunc(2.5) + atan(1);",
    'param s symbolic := "ab" & "cd"; param n := length(s); param t symbolic := substr(s, 1, 2);',
    "set I; param p {I}; check: forall {i in I} p[i] >= 0; check: exists {i in I} p[i] > 0;",
    "set I; param n; set S := if n > 0 then I else {}; param q := if n > 0 then 1 else 2;",
    "param r := Uniform01() + Uniform(0, 1) + Normal(0, 1) + Normal01();",
    'set I; var x {I}; solve; display x; display {i in I}: x[i]; printf "%d\\n", 3;'
    ' printf {i in I}: "%s %g\\n", i, x[i];',
    "set I; var x {I}; for {i in I} { printf \"%s\", i; display x[i]; } for {i in I} display x[i];",
    'set S; param d {S}; table tin IN "CSV" "in.csv": S <- [K], d ~ D;',
    'set L dimen 2; param c {L}; table t IN "CSV" "f.csv": L <- [a, b], c ~ cost;',
    'set I; var x {I}; table tout {i in I} OUT "CSV" "out.csv": i ~ K, x[i] ~ X;',
    "set I; param p {I}; end;",
    "param n, integer, > 0; param m, >= 0, default 1;",
    "/* a block comment */ set I; # a line comment\nparam p; /* spans\nlines */",
]


@pytest.mark.parametrize("text", AMPL_GMPL)
def test_ampl_gmpl_forms_parse_and_check(text: str) -> None:
    check_model(parse(text))


# ------------------------------------------------------------------------------- goldens
GOLDEN_CASES = sorted(p.stem for p in GOLDEN.glob("*.opt"))


def test_golden_cases_exist() -> None:
    assert len(GOLDEN_CASES) >= 8


@pytest.mark.parametrize("name", GOLDEN_CASES)
def test_golden_ast(name: str) -> None:
    src = GOLDEN / f"{name}.opt"
    got = ast.dump(parse(src.read_text(encoding="utf-8"), src.name)) + "\n"
    want_file = GOLDEN / f"{name}.ast"
    if os.environ.get("OPTDSL_UPDATE_GOLDEN") == "1":
        want_file.write_text(got, encoding="utf-8")
    assert want_file.exists(), f"run OPTDSL_UPDATE_GOLDEN=1 to create {want_file.name}"
    assert got == want_file.read_text(encoding="utf-8")


# ---------------------------------------------------------------------------- precedence
def test_sum_body_takes_products_but_not_sums() -> None:
    e = objective_of("sum {i in I} x[i] * 2 + 1")
    assert isinstance(e, ast.BinOp) and e.op == "+"
    assert isinstance(e.left, ast.Iterated) and isinstance(e.left.body, ast.BinOp)
    assert e.left.body.op == "*"


def test_sum_as_right_operand_extends_over_products() -> None:
    e = objective_of("2 * sum {i in I} x[i] * 3")
    assert e == ast.BinOp("*", ast.Num(2), ast.Iterated(
        "sum", ast.Indexing((ast.IndexEntry(("i",), ast.Ref("I")),)),
        ast.BinOp("*", ast.Ref("x", (ast.Ref("i"),)), ast.Num(3))))


def test_power_is_right_associative_and_binds_tighter_than_unary_minus() -> None:
    assert expr_of("-2^2") == ast.UnOp("-", ast.BinOp("^", ast.Num(2), ast.Num(2)))
    assert expr_of("2^3^2") == ast.BinOp("^", ast.Num(2), ast.BinOp("^", ast.Num(3), ast.Num(2)))
    assert expr_of("2^-1") == ast.BinOp("^", ast.Num(2), ast.Num(-1))
    assert expr_of("2**3") == ast.BinOp("^", ast.Num(2), ast.Num(3))


def test_arithmetic_levels() -> None:
    assert expr_of("1 + 2 * 3 - 4 / 5") == ast.BinOp(
        "-", ast.BinOp("+", ast.Num(1), ast.BinOp("*", ast.Num(2), ast.Num(3))),
        ast.BinOp("/", ast.Num(4), ast.Num(5)))
    assert expr_of("7 div 2 less 1") == ast.BinOp("less", ast.BinOp("div", ast.Num(7), ast.Num(2)),
                                                  ast.Num(1))
    assert expr_of('"a" & 1 + 2') == ast.BinOp("&", ast.Str("a"), ast.BinOp("+", ast.Num(1), ast.Num(2)))


def test_logic_levels() -> None:
    e = cond_of("not a < b and c or d")
    assert isinstance(e, ast.Logic) and e.op == "or"
    assert isinstance(e.left, ast.Logic) and e.left.op == "and"
    assert e.left.left == ast.UnOp("not", ast.Compare("<", ast.Ref("a"), ast.Ref("b")))
    assert cond_of("a && b || !c") == ast.Logic(
        "or", ast.Logic("and", ast.Ref("a"), ast.Ref("b")), ast.UnOp("not", ast.Ref("c")))


def test_set_operator_levels() -> None:
    e = expr_of("A union B inter C cross D")
    assert e == ast.SetOp("union", ast.Ref("A"), ast.SetOp(
        "inter", ast.Ref("B"), ast.SetOp("cross", ast.Ref("C"), ast.Ref("D"))))
    assert expr_of("1..n+1 by 2") == ast.RangeSet(
        ast.Num(1), ast.BinOp("+", ast.Ref("n"), ast.Num(1)), ast.Num(2))
    assert cond_of("i in 1..3 union S") == ast.InSet(
        ast.Ref("i"), ast.SetOp("union", ast.RangeSet(ast.Num(1), ast.Num(3)), ast.Ref("S")))
    assert cond_of("(i, j) not in L") == ast.InSet(
        ast.TupleExpr((ast.Ref("i"), ast.Ref("j"))), ast.Ref("L"), negated=True)


def test_if_then_else_extends_right_but_stops_at_comparisons() -> None:
    assert expr_of("if a > 0 then 1 else 2 + 3") == ast.IfThen(
        ast.Compare(">", ast.Ref("a"), ast.Num(0)), ast.Num(1),
        ast.BinOp("+", ast.Num(2), ast.Num(3)))
    (c,) = parse("s.t. c: if a then x else y <= 3;").statements
    assert isinstance(c, ast.ConstraintDecl) and c.relation.op == "<="
    assert isinstance(c.relation.lhs, ast.IfThen)
    assert expr_of("if a then 1") == ast.IfThen(ast.Ref("a"), ast.Num(1))


def test_iterated_logic_and_sets() -> None:
    e = cond_of("forall {i in I} p[i] > 0 and q > 0 or r")
    assert isinstance(e, ast.Logic) and e.op == "or"
    assert isinstance(e.left, ast.Iterated) and e.left.op == "forall"
    assert isinstance(e.left.body, ast.Logic) and e.left.body.op == "and"
    e = expr_of("setof {i in I, j in J: i < j} (i, j)")
    assert isinstance(e, ast.SetOf) and isinstance(e.item, ast.TupleExpr)
    assert e.indexing.condition == ast.Compare("<", ast.Ref("i"), ast.Ref("j"))


def test_braces_are_literals_builders_or_indexings() -> None:
    assert expr_of("{1, 2}") == ast.SetLiteral((ast.Num(1), ast.Num(2)))
    assert expr_of("{}") == ast.SetLiteral(())
    assert expr_of("{i in I: i > 1}") == ast.SetBuilder(ast.Indexing(
        (ast.IndexEntry(("i",), ast.Ref("I")),), ast.Compare(">", ast.Ref("i"), ast.Num(1))))
    assert expr_of("{1..5}") == ast.SetBuilder(ast.Indexing(
        (ast.IndexEntry((), ast.RangeSet(ast.Num(1), ast.Num(5))),)))
    (decl,) = parse("var x {I, (i, j) in L, k in 1..3};").statements
    assert isinstance(decl, ast.VarDecl) and decl.indexing is not None
    assert [e.dummies for e in decl.indexing.entries] == [(), ("i", "j"), ("k",)]


def test_comparison_inside_if_and_subscripts() -> None:
    assert objective_of("x[i+1, j-1]") == ast.Ref("x", (
        ast.BinOp("+", ast.Ref("i"), ast.Num(1)), ast.BinOp("-", ast.Ref("j"), ast.Num(1))))
    assert cond_of("x<-1") == ast.Compare("<", ast.Ref("x"), ast.Num(-1))  # not `<-`


# --------------------------------------------------------------------------- lexical
def test_numbers_and_strings() -> None:
    assert expr_of("3") == ast.Num(3) and isinstance(expr_of("3").value, int)
    assert isinstance(expr_of("3.0").value, float)
    assert expr_of("1e-6") == ast.Num(1e-6) and expr_of(".5") == ast.Num(0.5)
    assert expr_of("-2.5") == ast.Num(-2.5)
    assert expr_of("1..3") == ast.RangeSet(ast.Num(1), ast.Num(3))
    assert expr_of('"Seattle"') == ast.Str("Seattle") == expr_of("'Seattle'")
    assert expr_of('"say ""hi"""') == ast.Str('say "hi"')


def test_keywords_inside_names_are_names() -> None:
    text = "set summary; set index; param integer_x; param inx; param formula; param endpoint;"
    assert [s.name for s in parse(text).statements] == [
        "summary", "index", "integer_x", "inx", "formula", "endpoint"]


def test_extension_words_stay_usable_as_names() -> None:
    info = check_model(parse("param lower; param surrogate; param torch; param as; set IN; set OUT;"))
    assert {"lower", "surrogate", "torch", "as", "IN", "OUT"} <= set(info.symbols)


def test_constraint_keywords_are_synonyms() -> None:
    forms = ["subject to c: x <= 1;", "s.t. c: x <= 1;", "subj to c: x <= 1;",
             "subject\n  to c: x <= 1;", "c: x <= 1;"]
    models = [parse("var x;\n" + f) for f in forms]
    assert all(m.statements == models[0].statements for m in models)


def test_attributes_in_any_order_with_or_without_commas() -> None:
    a = parse("var x {I} integer >= 0, <= 10 := 5;").statements[0]
    b = parse("var x {I}, := 5 <= 10, >= 0 integer;").statements[0]
    assert a == b
    assert isinstance(a, ast.VarDecl) and a.kind == "integer" and a.init == ast.Num(5)
    p = parse("param p {I} default 0 >= 0;").statements[0]
    assert isinstance(p, ast.ParamDecl) and p.default == ast.Num(0)
    assert p.bounds == (ast.Bound(">=", ast.Num(0)),)


def test_ranges_become_relations() -> None:
    (a, b) = parse("s.t. a: 1 <= x <= 2; s.t. b: 2 >= x >= 1;").statements
    assert isinstance(a, ast.ConstraintDecl) and isinstance(b, ast.ConstraintDecl)
    assert a.relation == b.relation == ast.Relation(
        "range", lower=ast.Num(1), body=ast.Ref("x"), upper=ast.Num(2))
    (c,) = parse("s.t. dag: acyclic(W);").statements
    assert isinstance(c, ast.ConstraintDecl) and c.relation.op == "call"


# ----------------------------------------------------------------------------- data
def test_inline_data_is_one_raw_section_with_its_position() -> None:
    text = "set I;\ndata;\nset I := a b; # end; in a comment\nparam s := 'x;end;' ;\nend;\nparam q;"
    m = parse(text, "m.opt")
    data = m.statements[1]
    assert isinstance(data, ast.DataSection)
    assert data.text == "\nset I := a b; # end; in a comment\nparam s := 'x;end;' ;\n"
    assert data.span is not None and (data.span.line, data.span.col) == (2, 6)
    assert isinstance(m.statements[2], ast.ParamDecl)  # model statements may follow `end;`


def test_data_section_runs_to_end_of_file_and_keeps_member_named_end() -> None:
    m = parse("set I;\ndata; set I := end; param p := 3;")
    data = m.statements[-1]
    assert isinstance(data, ast.DataSection) and data.text == " set I := end; param p := 3;"
    assert data.span is not None and (data.span.line, data.span.col) == (2, 6)


def test_data_file_statements() -> None:
    a, b = parse('data "t.dat"; data "X.csv" as X;').statements
    assert a == ast.DataFile("t.dat") and b == ast.DataFile("X.csv", "X")


def test_large_data_section_is_fast_enough() -> None:
    rows = "\n".join(f"  item{i} {i * 1.5}" for i in range(50_000))
    m = parse(f"set I; param a {{I}};\ndata;\nparam a :=\n{rows};\nend;\n")
    assert isinstance(m.statements[-1], ast.DataSection)
    assert m.statements[-1].text.count("\n") == 50_002


# ------------------------------------------------------------------------ extensions
def test_lower_block_marks_its_members() -> None:
    m = parse_file(EXAMPLES / "bilevel.opt")
    block = next(s for s in m.statements if isinstance(s, ast.LowerBlock))
    assert block.name == "follower"
    assert [getattr(s, "lower_block", None) for s in block.body] == ["follower"] * 3
    info = check_model(m)
    assert [s.name for s in info.block_members("follower")] == ["y", "f", "g"]
    assert info["x"].block is None


def test_surrogate_declaration_and_calls() -> None:
    m = parse_file(EXAMPLES / "surrogate.opt")
    assert m.statements[0] == ast.SurrogateDecl("phi", "torch", "surrogate.pt2")
    gain = m.statements[2]
    assert isinstance(gain, ast.Objective) and isinstance(gain.expr, ast.BinOp)
    assert gain.expr.left == ast.Subscript(ast.Call("phi", (ast.Ref("x"),)), (ast.Num(1),))


def test_options_keep_dotted_names_and_values() -> None:
    info = check_model(parse_file(EXAMPLES / "options.opt"))
    assert info.options["solver"] == ast.Ref("highs")
    assert info.options["time_limit"] == ast.Num(60)
    assert info.options["balans.iterations"] == ast.Num(200)
    assert parse("option tol -1e-3;").statements[0] == ast.OptionStmt("tol", ast.Num(-1e-3))
    assert parse("option x 'a b';").statements[0] == ast.OptionStmt("x", ast.Str("a b"))


# ------------------------------------------------------------------------------ depth
def test_two_thousand_term_sum_parses_checks_and_dumps() -> None:
    n = 2000
    terms = "+".join(f"x[{i}]" for i in range(1, n + 1))
    text = f"var x {{1..{n}}};\nminimize o: {terms};\ns.t. c: {'*'.join(['x[1]'] * n)} <= 1;\n"
    text += "param p := " + "2^" * 1000 + "1;\nparam q := " + "(" * 500 + "1" + ")" * 500 + ";\n"
    m = parse(text)
    check_model(m)
    assert ast.dump(m).count("Ref(name='x')") == 2 * n


# ------------------------------------------------------------------------------ spans
def test_spans_locate_nodes_and_carry_the_text() -> None:
    text = "set I;\ns.t. c {i in I}: x[i] <= 3;"
    c = parse(text, "m.opt").statements[1]
    assert isinstance(c, ast.ConstraintDecl) and c.span is not None
    assert (c.span.file, c.span.line, c.span.col, c.span.end_line, c.span.end_col) == ("m.opt", 2, 1, 2, 28)
    lhs = c.relation.lhs
    assert lhs is not None and lhs.span is not None
    assert (lhs.span.line, lhs.span.col, lhs.span.end_col) == (2, 18, 22)
    assert lhs.span.source_line() == "s.t. c {i in I}: x[i] <= 3;"


def test_parse_file_names_the_path(tmp_path: Path) -> None:
    f = tmp_path / "m.mod"
    f.write_text("var x;\nminimize o: x^2;\n", encoding="utf-8")
    m = parse_file(f)
    assert m.file == str(f) and m.statements[1].span is not None
    assert m.statements[1].span.file == str(f)


def test_empty_model() -> None:
    assert parse("").statements == () and parse("# only a comment\n").statements == ()


# ------------------------------------------------------------------------------ schema
def test_schema_for_data_loaders() -> None:
    text = """
    set I; set J; set E dimen 2; set L within I cross J; set T := {(1, "a"), (2, "b")};
    set W within E; set S {I} within J; set B := setof {i in I} (i, i);
    param a {I}; param d {I, J}; param c {(i, j) in L} >= 0; param n {1..3};
    param s symbolic; param q;
    """
    schema = check_model(parse(text)).schema()
    dims = {k: (v.kind, v.dimen, tuple(v.index_sets), v.symbolic) for k, v in schema.items()}
    assert dims == {
        "I": ("set", 1, (), False), "J": ("set", 1, (), False), "E": ("set", 2, (), False),
        "L": ("set", 2, (), False), "T": ("set", 2, (), False), "W": ("set", 2, (), False),
        "S": ("set", 1, ("I",), False), "B": ("set", 2, (), False),
        "a": ("param", 1, ("I",), False), "d": ("param", 2, ("I", "J"), False),
        "c": ("param", 2, ("L",), False), "n": ("param", 1, (), False),
        "s": ("param", 0, (), True), "q": ("param", 0, (), False),
    }


def test_symbols_record_kind_arity_and_index_sets() -> None:
    info = check_model(parse_file(EXAMPLES / "transport.opt"))
    x = info["x"]
    assert (x.kind, x.arity, x.index_set_names) == ("var", 2, ("I", "J"))
    assert isinstance(x.decl, ast.VarDecl) and x.index_sets == (ast.Ref("I"), ast.Ref("J"))
    assert [s.name for s in info.of_kind("constraint")] == ["supply", "demand"]
    assert [type(d).__name__ for d in info.data] == ["DataSection"]


# ------------------------------------------------------------------ grammar hygiene
def test_every_terminal_is_named_and_keywords_match() -> None:
    from optdsl.parse.parser import _parser

    lark_parser = _parser()[0]
    names = {t.name for t in lark_parser.terminals}
    assert not [n for n in names if n.startswith("__")], "anonymous terminals in the grammar"
    words = set(re.findall(r"^[A-Z_]+\.2: /(\w+)\\b", grammar_text(), re.M))
    assert words == set(KEYWORDS)


def test_reserved_words_are_errors_as_names() -> None:
    for word in ("sum", "in", "set", "then"):
        with pytest.raises(ModelSyntaxError, match=f"'{word}' is a reserved word"):
            parse(f"param {word};")


def test_statement_words_are_names_elsewhere() -> None:
    # GMPL reserves none of them: GLPK's stigler.mod declares `param data {...}`
    for word in ("data", "end", "solve", "display", "table", "check", "option", "printf", "for"):
        tree = parse(f"set C; param {word} {{C}}; var x; minimize z: sum {{c in C}} {word}[c] * x;")
        assert tree.statements[1].name == word


def test_parser_tables_cache_is_json_and_survives_damage(tmp_path: Path) -> None:
    code = (
        "from optdsl.parse.parser import parse; from optdsl.parse import ast;"
        "print(ast.dump(parse('set I; var x {I} >= 0;')))"
    )
    env = dict(os.environ, OPTDSL_CACHE_DIR=str(tmp_path))
    first = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                           check=True).stdout
    (cache,) = tmp_path.glob("parser-*.json")
    assert cache.read_text(encoding="utf-8").startswith("{")
    second = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                            check=True).stdout
    cache.write_text("{not json", encoding="utf-8")
    third = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                           check=True).stdout
    assert first == second == third and "VarDecl(name='x')" in first


def test_importing_the_parser_does_not_import_lark() -> None:
    code = "import sys, optdsl.parse.parser; print('lark' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_static_errors_are_model_errors() -> None:
    with pytest.raises(ModelError):
        check_model(parse("minimize o: y;"))


def test_cache_directory_writable_by_others_is_not_used(tmp_path: Path, monkeypatch) -> None:
    from optdsl.parse.parser import _cache_file

    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    monkeypatch.setenv("OPTDSL_CACHE_DIR", str(shared))
    assert _cache_file("k") is None
    private = tmp_path / "private"
    monkeypatch.setenv("OPTDSL_CACHE_DIR", str(private))
    assert _cache_file("k") == private / "parser-k.json"
    monkeypatch.setenv("OPTDSL_CACHE_DIR", "")
    assert _cache_file("k") is None
