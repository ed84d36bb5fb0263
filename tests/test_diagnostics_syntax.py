"""Exact text of syntax and static-semantic diagnostics (what `optdsl` prints).

Each case parses and checks `source` as `model.opt` and compares `err.render()` verbatim: the
location, the message in a modeler's words, the source line with a caret, and the hint.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from optdsl.errors import ModelError, ModelSyntaxError, OptdslError
from optdsl.parse.parser import parse
from optdsl.parse.resolve import check_model
from optdsl.parse.symbols import ModelErrors


@dataclass(frozen=True)
class Case:
    name: str
    kind: type[OptdslError]
    source: str
    expected: str


def diagnose(source: str) -> OptdslError:
    with pytest.raises(OptdslError) as info:
        check_model(parse(source, "model.opt"))
    return info.value


SYNTAX = [
    Case('missing_semicolon', ModelSyntaxError, 'set I;\nparam a {I}\nparam b;\n', """\
model.opt:2:12: error: missing ';' at the end of the statement
    param a {I}
               ^
hint: every statement ends with ';'"""),
    Case('missing_semicolon_at_eof', ModelSyntaxError, 'var x >= 0', """\
model.opt:1:11: error: missing ';' at the end of the statement
    var x >= 0
              ^
hint: every statement ends with ';'"""),
    Case('reserved_word', ModelSyntaxError, 'set sum;\n', """\
model.opt:1:5: error: 'sum' is a reserved word and cannot be used as a name
    set sum;
        ^^^
hint: choose another name, such as 'sum_'"""),
    Case('var_double_equals', ModelSyntaxError, 'var x == 3;\n', """\
model.opt:1:7: error: unexpected '==' in the declaration of var 'x'
    var x == 3;
          ^^
hint: write ':=' for an initial value, or '=' to fix the variable"""),
    Case('constraint_without_colon', ModelSyntaxError, 'var x;\nsubject to c x >= 0;\n', """\
model.opt:2:14: error: missing ':' after the name of constraint 'c'
    subject to c x >= 0;
                 ^
hint: write 'subject to c: CONSTRAINT;'"""),
    Case('indexed_constraint_without_colon', ModelSyntaxError,
         'set I; var x {I};\ns.t. c {i in I} x[i] >= 0;\n', """\
model.opt:2:17: error: missing ':' after the name of constraint 'c'
    s.t. c {i in I} x[i] >= 0;
                    ^
hint: write 's.t. c {i in I}: CONSTRAINT;'"""),
    Case('objective_without_colon', ModelSyntaxError, 'var x;\nminimize cost x^2;\n', """\
model.opt:2:15: error: missing ':' after the name of objective 'cost'
    minimize cost x^2;
                  ^
hint: write 'minimize cost: EXPRESSION;'"""),
    Case('constraint_without_name', ModelSyntaxError, 'var x;\nsubject to: x <= 3;\n', """\
model.opt:2:11: error: expected a name, found ':'
    subject to: x <= 3;
              ^
hint: a constraint needs a name: 'subject to NAME: CONSTRAINT;'"""),
    Case('unclosed_paren', ModelSyntaxError, 'var x;\ns.t. c: (x + 1 <= 3;\n', """\
model.opt:2:9: error: '(' is never closed
    s.t. c: (x + 1 <= 3;
            ^
hint: add ')' before the ';' at line 2"""),
    Case('unmatched_paren', ModelSyntaxError, 'var x;\ns.t. c: x + 1) <= 3;\n', """\
model.opt:2:14: error: unmatched ')'
    s.t. c: x + 1) <= 3;
                 ^
hint: no bracket is open before this ')'"""),
    Case('mismatched_bracket', ModelSyntaxError, 'set I := {1, 2];\n', """\
model.opt:1:15: error: ']' does not match the '{' at line 1, column 10
    set I := {1, 2];
                  ^
hint: close the '{' with '}' first"""),
    Case('unclosed_block', ModelSyntaxError, 'var x;\nlower f {\n  var y;\n  minimize g: y;\n', """\
model.opt:2:9: error: '{' is never closed
    lower f {
            ^
hint: add '}' before the end of the file"""),
    Case('unclosed_brace_mid_statement', ModelSyntaxError,
         'set I; set J; var x {I, J};\ns.t. c {i in I}: sum {j in J x[i,j] <= 1;\n', """\
model.opt:2:30: error: expected ':', '}', ',' or an operator, found 'x'
    s.t. c {i in I}: sum {j in J x[i,j] <= 1;
                                 ^
hint: the '{' at line 2, column 22 is not closed"""),
    Case('unterminated_string', ModelSyntaxError, 'param s symbolic := "Seattle;\n', """\
model.opt:1:21: error: unterminated string
    param s symbolic := "Seattle;
                        ^^^^^^^^^
hint: close the string with " on the same line"""),
    Case('unknown_statement', ModelSyntaxError, 'parma x;\n', """\
model.opt:1:1: error: unknown statement 'parma'
    parma x;
    ^^^^^
hint: did you mean 'param'?"""),
    Case('misspelled_block', ModelSyntaxError, 'lowr f { var y; }\n', """\
model.opt:1:1: error: unknown statement 'lowr'
    lowr f { var y; }
    ^^^^
hint: did you mean 'lower'?"""),
    Case('misspelled_attribute', ModelSyntaxError, 'var x >= 0 integr;\n', """\
model.opt:1:12: error: expected ';', ',', an attribute or an operator, found 'integr'
    var x >= 0 integr;
               ^^^^^^
hint: did you mean 'integer'?"""),
    Case('missing_then', ModelSyntaxError, 'param a;\nparam p := if a > 0 1 else 2;\n', """\
model.opt:2:21: error: expected 'then' or an operator, found the number 1
    param p := if a > 0 1 else 2;
                        ^"""),
    Case('st_without_dot', ModelSyntaxError, 'var x;\ns.t c: x <= 3;\n', """\
model.opt:2:1: error: unknown statement 's.t'
    s.t c: x <= 3;
    ^^^
hint: write 's.t.' with a dot after the 't'"""),
    Case('not_a_statement', ModelSyntaxError, 'set I; 3;\n', """\
model.opt:1:8: error: expected a statement, found the number 3
    set I; 3;
           ^"""),
    Case('unexpected_character', ModelSyntaxError, 'var x;\nminimize o: x @ 2;\n', """\
model.opt:2:15: error: unexpected character '@'
    minimize o: x @ 2;
                  ^"""),
    Case('strict_inequality', ModelSyntaxError, 'var x;\ns.t. c: x < 3;\n', """\
model.opt:2:9: error: '<' cannot be used in a constraint
    s.t. c: x < 3;
            ^^^^^
hint: use '<=' or '>='"""),
    Case('mixed_range', ModelSyntaxError, 'var x;\ns.t. c: 1 <= x >= 3;\n', """\
model.opt:2:16: error: a range constraint needs two '<=' or two '>='
    s.t. c: 1 <= x >= 3;
                   ^^
hint: write it as 'lower <= expression <= upper'"""),
    Case('not_a_comparison', ModelSyntaxError, 'var x; var y;\ns.t. c: x + y;\n', """\
model.opt:2:9: error: a constraint must be a comparison
    s.t. c: x + y;
            ^^^^^
hint: write 'e1 <= e2', 'e1 >= e2', 'e1 = e2' or 'l <= e <= u'"""),
    Case('bad_dimen', ModelSyntaxError, 'set I dimen 0;\n', """\
model.opt:1:13: error: dimen must be a positive whole number
    set I dimen 0;
                ^"""),
    Case('data_as', ModelSyntaxError, 'param X {1..2};\ndata "x.csv" ass X;\n', """\
model.opt:2:14: error: expected 'as', found 'ass'
    data "x.csv" ass X;
                 ^^^
hint: write 'data "X.csv" as X;'"""),
    Case('bound_twice', ModelSyntaxError, 'var x >= 0 >= 1;\n', """\
model.opt:1:12: error: the lower bound of var 'x' is given twice
    var x >= 0 >= 1;
               ^^^^"""),

    Case('missing_operand', ModelSyntaxError, 'set I;\nparam p {i in I} := 2 * ;\n', """\
model.opt:2:25: error: expected an expression, found ';'
    param p {i in I} := 2 * ;
                            ^"""),
    Case('ampl_command', ModelSyntaxError, 'var x;\nlet x := 3;\n', """\
model.opt:2:1: error: unknown statement 'let'
    let x := 3;
    ^^^
hint: AMPL's 'let' is not supported: give values with ':=' in a declaration or in the data"""),
    Case('unknown_word', ModelSyntaxError, 'seed 42;\n', """\
model.opt:1:1: error: unknown statement 'seed'
    seed 42;
    ^^^^
hint: a statement starts with a keyword such as 'param' or 'subject to'"""),
]

SEMANTIC = [
    Case('undefined_name', ModelError,
         'set J; param demand {J};\nvar x {J};\ns.t. c {j in J}: demnd[j] <= 3;\n', """\
model.opt:3:18: error: undefined name 'demnd'
    s.t. c {j in J}: demnd[j] <= 3;
                     ^^^^^
hint: did you mean 'demand'?"""),
    Case('subscript_count', ModelError, 'set I; set J;\nvar x {I, J};\ns.t. c {i in I}: x[i] >= 0;\n', """\
model.opt:3:18: error: 'x' takes 2 subscripts, got 1
    s.t. c {i in I}: x[i] >= 0;
                     ^^^^
hint: 'x' is indexed over {I, J}"""),
    Case('scalar_subscripted', ModelError, 'param p; var x;\nminimize o: x * p[1];\n', """\
model.opt:2:17: error: 'p' is not indexed and takes no subscripts, got 1
    minimize o: x * p[1];
                    ^^^^"""),
    Case('variable_in_filter', ModelError,
         'set I; param p {I}; var x {I};\ns.t. c {i in I: x[i] > 0}: x[i] <= p[i];\n', """\
model.opt:2:17: error: variable 'x' cannot appear in a filter: filters are evaluated on data
    s.t. c {i in I: x[i] > 0}: x[i] <= p[i];
                    ^"""),
    Case('variable_in_param', ModelError, 'set I; var x {I};\nparam p {i in I} := 2 * x[i];\n', """\
model.opt:2:25: error: variable 'x' cannot appear in a param declaration: params are evaluated on data
    param p {i in I} := 2 * x[i];
                            ^"""),
    Case('variable_in_if', ModelError,
         'set I; var x {I};\ns.t. c: sum {i in I} (if x[i] > 0 then x[i] else 0) <= 1;\n', """\
model.opt:2:26: error: variable 'x' cannot appear in an 'if' condition: conditions are evaluated on data
    s.t. c: sum {i in I} (if x[i] > 0 then x[i] else 0) <= 1;
                             ^"""),
    Case('variable_in_check', ModelError, 'set I; var x {I};\ncheck {i in I}: x[i] >= 0;\n', """\
model.opt:2:17: error: variable 'x' cannot appear in a check: checks are evaluated on data
    check {i in I}: x[i] >= 0;
                    ^"""),
    Case('variable_in_range_bounds', ModelError, 'var x; var y;\ns.t. r: y <= x <= 3;\n', """\
model.opt:2:9: error: variable 'y' cannot appear in the bounds of a range constraint: write two constraints instead
    s.t. r: y <= x <= 3;
            ^"""),
    Case('variable_in_bound', ModelError, 'var y; var x >= y;\n', """\
model.opt:1:17: error: variable 'y' cannot appear in the bounds of a variable: bounds are evaluated on data
    var y; var x >= y;
                    ^"""),
    Case('duplicate', ModelError, 'set I;\nvar x {I};\nparam x;\n', """\
model.opt:3:7: error: duplicate declaration of 'x'
    param x;
          ^
hint: 'x' is already declared as a variable at line 2"""),
    Case('leader_and_follower', ModelError,
         'var x {1..2};\nlower f {\n  var x;\n  minimize g: x^2;\n}\n', """\
model.opt:3:7: error: variable 'x' is declared both by the leader and in lower block 'f'
      var x;
          ^
hint: the first declaration is at line 1; a lower block's variables must have their own names"""),
    Case('symbolic_arithmetic', ModelError, 'param s symbolic; var x;\nminimize o: x + s;\n', """\
model.opt:2:17: error: symbolic param 's' cannot be used in arithmetic
    minimize o: x + s;
                    ^
hint: '&' joins strings"""),
    Case('string_arithmetic', ModelError, 'var x;\nminimize o: x + "abc";\n', """\
model.opt:2:17: error: the string "abc" cannot be used in arithmetic
    minimize o: x + "abc";
                    ^^^^^
hint: '&' joins strings"""),
    Case('set_arithmetic', ModelError, 'set I; param p {I};\nminimize o: sum {i in I} p[i] + I;\n', """\
model.opt:2:33: error: set 'I' cannot be used in arithmetic
    minimize o: sum {i in I} p[i] + I;
                                    ^"""),
    Case('acyclic_arity', ModelError, 'set V; var w {V};\ns.t. dag: acyclic(w);\n', """\
model.opt:2:19: error: acyclic() needs a variable with 2 subscripts; 'w' takes 1
    s.t. dag: acyclic(w);
                      ^
hint: declare it as 'var w {V, V}'"""),
    Case('acyclic_square', ModelError, 'set I; set J; var W {I, J};\ns.t. dag: acyclic(W);\n', """\
model.opt:2:19: error: acyclic() needs a square variable over one set; 'W' is indexed over {I, J}
    s.t. dag: acyclic(W);
                      ^
hint: declare it as 'var W {V, V}'"""),
    Case('undefined_function', ModelError,
         'var x {1..4};\nmaximize g: phy(x)[1];\nsurrogate phi := torch "s.pt";\n', """\
model.opt:2:13: error: undefined function 'phy'
    maximize g: phy(x)[1];
                ^^^
hint: did you mean 'phi'?"""),
    Case('dummy_hides_name', ModelError, 'set I; var x {I};\ns.t. c {I in I}: x[I] >= 0;\n', """\
model.opt:2:9: error: dummy 'I' hides the set of the same name
    s.t. c {I in I}: x[I] >= 0;
            ^
hint: rename the dummy"""),
    Case('used_before_declaration', ModelError,
         'set I; param p {I};\ns.t. c: sum {i in I} p[i] >= q;\nparam q;\n', """\
model.opt:2:30: error: 'q' is used before its declaration at line 3
    s.t. c: sum {i in I} p[i] >= q;
                                 ^
hint: declare param 'q' before it is used"""),
    Case(
        'other_follower',
        ModelError,
        (
            'lower a {\n'
            '  var y;\n'
            '  minimize f: y^2;\n'
            '}\n'
            'lower b {\n'
            '  var z;\n'
            '  minimize g: (z - y)^2;\n'
            '}\n'
        ),
        """\
model.opt:7:20: error: variable 'y' belongs to lower block 'a' and is not visible in lower block 'b'
      minimize g: (z - y)^2;
                       ^""",
    ),
    Case('dummy_count', ModelError,
         'set LINKS dimen 2; var flow {LINKS};\ns.t. c {(i, j, k) in LINKS}: flow[i, j] >= 0;\n', """\
model.opt:2:9: error: set 'LINKS' has members of dimension 2, but 3 dummies are given
    s.t. c {(i, j, k) in LINKS}: flow[i, j] >= 0;
            ^^^^^^^^^^^^^^^^^^"""),
    Case('lower_block_contents', ModelError, 'lower f {\n  param p;\n  var y;\n  minimize g: y;\n}\n', """\
model.opt:2:3: error: a param declaration cannot appear in lower block 'f'
      param p;
      ^^^^^^^^
hint: a lower block holds var, minimize/maximize and subject to declarations"""),
    Case('lower_block_objective', ModelError, 'lower f {\n  var y;\n  s.t. c: y >= 0;\n}\n', """\
model.opt:1:7: error: lower block 'f' needs one objective, found 0
    lower f {
          ^"""),
    Case('function_arity', ModelError, 'var x;\nminimize o: exp(x, 2);\n', """\
model.opt:2:13: error: exp() takes 1 argument, got 2
    minimize o: exp(x, 2);
                ^^^^^^^^^"""),
    Case('several_errors', ModelErrors,
         'set I; var x {I};\ns.t. c {i in I}: x[i, i] + p <= 1;\nminimize o: sum {i in I} y[i];\n', """\
model.opt:2:18: error: 'x' takes 1 subscript, got 2
    s.t. c {i in I}: x[i, i] + p <= 1;
                     ^^^^^^^
hint: 'x' is indexed over {I}
model.opt:2:28: error: undefined name 'p'
    s.t. c {i in I}: x[i, i] + p <= 1;
                               ^
model.opt:3:26: error: undefined name 'y'
    minimize o: sum {i in I} y[i];
                             ^
3 errors"""),
    Case('not_a_param_column', ModelError, 'set I; var x {I};\ntable t IN "CSV" "t.csv": I <- [K], x;\n', """\
model.opt:2:37: error: a column of an IN table must name a param; 'x' is a variable
    table t IN "CSV" "t.csv": I <- [K], x;
                                        ^"""),

    Case('index_over_param', ModelError, 'param n; var x {1..n};\nminimize o: sum {i in n} x[i];\n', """\
model.opt:2:23: error: param 'n' is not a set
    minimize o: sum {i in n} x[i];
                          ^
hint: an indexing expression ranges over sets, like '{i in 1..n}'"""),
]


@pytest.mark.parametrize("case", SYNTAX, ids=lambda c: c.name)
def test_syntax_diagnostic(case: Case) -> None:
    err = diagnose(case.source)
    assert type(err) is case.kind
    assert err.render() == case.expected


@pytest.mark.parametrize("case", SEMANTIC, ids=lambda c: c.name)
def test_semantic_diagnostic(case: Case) -> None:
    err = diagnose(case.source)
    assert type(err) is case.kind
    assert err.render() == case.expected


def test_enough_distinct_cases() -> None:
    assert len({c.name for c in SYNTAX + SEMANTIC}) == len(SYNTAX + SEMANTIC) >= 40


def test_several_errors_are_listed_and_the_first_leads() -> None:
    err = diagnose("set I; var x {I};\ns.t. c {i in I}: x[i, i] + p <= 1;\nminimize o: sum {i in I} y[i];\n")
    assert isinstance(err, ModelErrors) and isinstance(err, ModelError)
    assert [e.message for e in err.errors] == [
        "'x' takes 1 subscript, got 2", "undefined name 'p'", "undefined name 'y'"]
    assert err.message == "'x' takes 1 subscript, got 2" and err.span is not None
    assert (err.span.line, err.span.col) == (2, 18)


def test_an_undefined_name_is_reported_once() -> None:
    err = diagnose("var x;\nminimize o: q + q * q;\ns.t. c: x <= q;\n")
    assert type(err) is ModelError and err.message == "undefined name 'q'"


def test_keyword_after_braces_is_a_missing_semicolon_not_a_reserved_word() -> None:
    err = diagnose("set I;\nparam a {I}\nparam b;\n")
    assert isinstance(err, ModelSyntaxError)
    assert err.message == "missing ';' at the end of the statement"


def test_errors_carry_spans_with_the_source() -> None:
    err = diagnose("var x;\nminimize o: x + nope;\n")
    assert err.span is not None and err.span.file == "model.opt"
    assert err.span.source_line() == "minimize o: x + nope;"


def test_scripts_may_filter_on_variables_after_solve() -> None:
    check_model(parse("set I; var x {I};\nsolve;\nprintf {i in I: x[i] > 0}: \"%s\\n\", i;\n"))


@pytest.mark.parametrize("text", [
    "var b logical; minimize z: 0;",
    "var y; var x; s.t. c: y == -3 ==> x == -39; minimize z: x;",
    "set J := 1..3; var m {J} integer; s.t. d: alldiff {j in J} m[j]; minimize z: 0;",
    "set J := 1..3; var m {J} integer; s.t. d {k in J}: numberof k in ({j in J} m[j]) <= 1; minimize z: 0;",
])
def test_ampl_logic_and_cp_operators_are_named(text):
    with pytest.raises(ModelSyntaxError) as err:
        parse(text)
    assert "constraint-programming operators" in err.value.message and "not supported yet" in err.value.message
    assert err.value.span is not None and err.value.span.line == 1
