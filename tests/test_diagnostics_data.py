"""Instantiation-time errors (data, subscripts, checks): exact rendered text."""

import pytest

import optdsl as od
from optdsl.errors import OptdslError

CASES = {
    "subscript_out": (
        "set I := {1,2,3};\nparam p {I} := 1;\nvar x {I};\nminimize z: sum {i in I} p[i] * x[i+1];\n",
        "model.opt:4:33: error: subscript x[4] is outside the index set of 'x'\n    minimize z: sum {i in I} p[i] * x[i+1];\n                                    ^^^^^^",
    ),
    "missing_data": (
        "set I;\nparam a {I};\nvar x {I} >= 0;\nminimize z: sum {i in I} a[i]*x[i];\ndata;\nset I := A B C;\nparam a := A 1 B 2;\nend;\n",
        "model.opt:4:26: error: param 'a' has no data for a[C] and no default\n    minimize z: sum {i in I} a[i]*x[i];\n                             ^^^^",
    ),
    "bound_violation": (
        "set I;\nparam a {I} >= 0;\ndata;\nset I := A B;\nparam a := A 1\n B -5;\nend;\n",
        "model.opt:6:1: error: param a[B] = -5 violates the declared bound >= 0\n     B -5;\n    ^",
    ),
    "check_fail": (
        "set I;\nparam s {I}; param d {I};\ncheck {i in I}: s[i] >= d[i];\ndata;\nset I := A B;\nparam s := A 5 B 1;\nparam d := A 2 B 3;\nend;\n",
        "model.opt:3:1: error: check failed for [B]\n    check {i in I}: s[i] >= d[i];\n    ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^",
    ),
    "no_set_data": (
        "set I;\nparam a {I};\nvar x {I};\n",
        "model.opt:1:1: error: no data for set 'I'\n    set I;\n    ^^^^^^\nhint: give it in a data section: set I := ...;",
    ),
    "index_not_in_set": (
        "set I;\nparam a {I};\ndata;\nset I := A B;\nparam a := A 1 C 2;\nend;\n",
        "model.opt:5:1: error: param 'a': index [C] is not in its index set\n    param a := A 1 C 2;\n    ^",
    ),
    "integer_param": (
        "param n integer;\ndata;\nparam n := 2.5;\nend;\n",
        "model.opt:3:7: error: param n = 2.5 violates 'integer'\n    param n := 2.5;\n          ^",
    ),
    "within": (
        "set I; set J within I;\ndata;\nset I := a b;\nset J := a c;\nend;\n",
        "model.opt:4:5: error: set 'J': member [c] is not in its 'within' set\n    set J := a c;\n        ^",
    ),
    "scalar_no_data": (
        "param f;\nvar x;\nminimize z: f*x;\n",
        "model.opt:3:13: error: no data for param 'f'\n    minimize z: f*x;\n                ^\nhint: give it in a data section: param f := ...;",
    ),
    "wrong_dimen_set": (
        "set L dimen 2;\ndata;\nset L := a b c;\nend;\n",
        "model.opt:3:14: error: incomplete member of set 'L': members have 2 labels, 1 label given\n    set L := a b c;\n                 ^",
    ),
    "var_in_cond": (
        "var x;\nminimize z: if x > 0 then x else 0;\n",
        "model.opt:2:16: error: variable 'x' cannot appear in an 'if' condition: conditions are evaluated on data\n    minimize z: if x > 0 then x else 0;\n                   ^",
    ),
    "symbolic_arith": (
        "param s symbolic;\nparam t := s + 1;\ndata;\nparam s := abc;\nend;\n",
        "model.opt:2:12: error: symbolic param 's' cannot be used in arithmetic\n    param t := s + 1;\n               ^\nhint: '&' joins strings",
    ),
    "div_zero_range": (
        "param n := 3;\nset S := 1..n by 0;\n",
        "model.opt:2:10: error: a range step cannot be 0\n    set S := 1..n by 0;\n             ^^^^^^^^^",
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_exact_message(name):
    text, expected = CASES[name]
    with pytest.raises(OptdslError) as info:
        _ = od.parse_model(text, name="model.opt").ir
    assert info.value.render() == expected
