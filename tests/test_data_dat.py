"""The .dat reader: every data form with its exact result, and the exact text of its errors."""

from __future__ import annotations

import numpy as np
import pytest

from optdsl.data import parse_dat
from optdsl.data.store import Declared, ParamData
from optdsl.errors import DataError

SCHEMA = {
    "I": Declared("set", 1),
    "J": Declared("set", 1),
    "N": Declared("set", 1),
    "LINKS": Declared("set", 2),
    "T3": Declared("set", 3),
    "S": Declared("set", 1, ("I",)),
    "f": Declared("param", 0),
    "label": Declared("param", 0, symbolic=True),
    "a": Declared("param", 1, ("I",)),
    "b": Declared("param", 1, ("J",)),
    "w": Declared("param", 1, ("N",)),
    "d": Declared("param", 2, ("I", "J")),
    "cost": Declared("param", 3, ("I", "J", "K")),
    "supply": Declared("param", 1, ("I",)),
    "demand": Declared("param", 1, ("I",)),
    "city": Declared("param", 1, ("I",), symbolic=True),
}


def load(text: str, **kw):
    return parse_dat(text, "t.dat", SCHEMA, **kw)


def entries(p: ParamData) -> dict:
    assert p.keys is not None and p.values is not None
    cols = [c.tolist() for c in p.keys]
    keys = cols[0] if len(cols) == 1 else list(zip(*cols, strict=True))
    return dict(zip(keys, p.values.tolist(), strict=True))


def error(text: str, **kw) -> str:
    with pytest.raises(DataError) as e:
        load(text, **kw)
    return e.value.render()


# -- sets ------------------------------------------------------------------------------------------


def test_simple_set_with_comments_and_commas():
    s = load("set I := Seattle San-Diego;  # two plants\nset J := New-York, Chicago, 'Topeka KS';")
    assert s.sets["I"].members == ["Seattle", "San-Diego"]
    assert s.sets["J"].members == ["New-York", "Chicago", "Topeka KS"]
    assert (s.sets["J"].origin.line, s.sets["J"].origin.col) == (2, 5)


def test_numbers_as_labels_become_ints_when_integral():
    s = load("set N := 1 2.0 +3 1e1 .5 -2.5 3-D;")
    assert s.sets["N"].members == [1, 2, 3, 10, 0.5, -2.5, "3-D"]
    assert [type(m) for m in s.sets["N"].members[:4]] == [int] * 4


def test_set_of_tuples_in_parentheses():
    s = load("set LINKS := (Seattle, Chicago) (San-Diego, Topeka);")
    assert s.sets["LINKS"].members == [("Seattle", "Chicago"), ("San-Diego", "Topeka")]


def test_set_of_tuples_without_parentheses():
    s = load("set LINKS := Seattle Chicago  San-Diego Topeka;")
    assert s.sets["LINKS"].members == [("Seattle", "Chicago"), ("San-Diego", "Topeka")]


def test_set_slices():
    s = load("set LINKS := (Seattle,*) Chicago Topeka (San-Diego,*) Topeka (*,NY) Boston;")
    assert s.sets["LINKS"].members == [
        ("Seattle", "Chicago"),
        ("Seattle", "Topeka"),
        ("San-Diego", "Topeka"),
        ("Boston", "NY"),
    ]


def test_set_table_and_transposed_table():
    s = load("set LINKS : Chicago Topeka := Seattle + -  San-Diego - + ;")
    assert s.sets["LINKS"].members == [("Seattle", "Chicago"), ("San-Diego", "Topeka")]
    s = load("set LINKS (tr) : Seattle San-Diego := Chicago + -  Topeka + + ;")
    assert s.sets["LINKS"].members == [
        ("Seattle", "Chicago"),
        ("Seattle", "Topeka"),
        ("San-Diego", "Topeka"),
    ]


def test_three_dimensional_set_table_after_a_slice():
    s = load("set T3 := (A,*,*) : x y := p + -  q - + ;")
    assert s.sets["T3"].members == [("A", "p", "x"), ("A", "q", "y")]


def test_indexed_set():
    s = load("set S[a] := 1 2;\nset S['b c'] := 3;")
    assert s.sets["S"].members == []
    assert s.sets["S"].indexed == {("a",): [1, 2], ("b c",): [3]}


def test_empty_set_and_data_end_markers():
    s = load("data;\nset I := ;\nend;\nthis is not read")
    assert s.sets["I"].members == []


# -- params ----------------------------------------------------------------------------------------


def test_scalar_params():
    s = load("param f := 90;\nparam label := 'hello world';")
    assert s.params["f"].value == 90.0 and s.params["f"].is_scalar
    assert s.params["label"].value == "hello world"


def test_list_form():
    s = load("param a := Seattle 350  San-Diego 600;")
    p = s.params["a"]
    assert entries(p) == {"Seattle": 350.0, "San-Diego": 600.0}
    assert p.keys[0].dtype == object and p.values.dtype == np.float64
    assert p.lines.tolist() == [1, 1]


def test_list_form_numeric_labels_give_int_keys():
    p = load("param w := 1 8  2 6\n  3 4  4 5.5;").params["w"]
    assert p.keys[0].dtype == np.int64
    assert entries(p) == {1: 8.0, 2: 6.0, 3: 4.0, 4: 5.5}
    assert p.lines.tolist() == [1, 1, 2, 2]


def test_two_dimensional_table_with_missing_entry():
    text = (
        "param d :  New-York Chicago Topeka :=\n   Seattle    2.5  1.7  1.8\n   San-Diego  2.5  .    1.4 ;\n"
    )
    p = load(text).params["d"]
    assert entries(p) == {
        ("Seattle", "New-York"): 2.5,
        ("Seattle", "Chicago"): 1.7,
        ("Seattle", "Topeka"): 1.8,
        ("San-Diego", "New-York"): 2.5,
        ("San-Diego", "Topeka"): 1.4,
    }
    assert p.lines.tolist() == [2, 2, 2, 3, 3]


def test_transposed_table():
    p = load("param d (tr) : Seattle San-Diego := New-York 2.5 2.6  Chicago 1.7 1.8 ;").params["d"]
    assert entries(p) == {
        ("Seattle", "New-York"): 2.5,
        ("San-Diego", "New-York"): 2.6,
        ("Seattle", "Chicago"): 1.7,
        ("San-Diego", "Chicago"): 1.8,
    }


def test_three_dimensional_param_with_table_slices():
    text = "param cost := [*,*,A] : x y := 1 1 2  2 3 4\n  [*,*,B] (tr) : 1 2 := x 5 6 ;"
    p = load(text).params["cost"]
    assert entries(p) == {
        (1, "x", "A"): 1.0,
        (1, "y", "A"): 2.0,
        (2, "x", "A"): 3.0,
        (2, "y", "A"): 4.0,
        (1, "x", "B"): 5.0,
        (2, "x", "B"): 6.0,
    }
    assert p.keys[0].dtype == np.int64 and p.keys[1].dtype == object
    assert p.lines.tolist() == [1, 1, 1, 1, 2, 2]


def test_list_slices():
    p = load("param d := [Seattle, *] NY 3 Chi 4  [*, NY] SD 5;").params["d"]
    assert entries(p) == {("Seattle", "NY"): 3.0, ("Seattle", "Chi"): 4.0, ("SD", "NY"): 5.0}


def test_defaults():
    s = load("param a default 0 := x 1 y .;\nparam default 7 : supply demand := A 10 5  B . 7;")
    assert s.params["a"].default == 0.0
    assert entries(s.params["a"]) == {"x": 1.0}
    assert s.params["supply"].default == 7.0 and s.params["demand"].default == 7.0
    assert entries(s.params["supply"]) == {"A": 10.0}
    assert entries(s.params["demand"]) == {"A": 5.0, "B": 7.0}


def test_several_params_at_once():
    s = load("param: supply demand := A 10 5  B 20 7;")
    assert entries(s.params["supply"]) == {"A": 10.0, "B": 20.0}
    assert entries(s.params["demand"]) == {"A": 5.0, "B": 7.0}
    assert "I" not in s.sets


def test_several_params_and_their_set():
    s = load("param: I: supply demand := A 10 5  B 20 . ;")
    assert s.sets["I"].members == ["A", "B"]
    assert entries(s.params["demand"]) == {"A": 5.0}


def test_symbolic_values():
    p = load("param city := a Seattle  b 'San Diego'  c 3 d .;").params["city"]
    assert p.values.dtype == object
    assert entries(p) == {"a": "Seattle", "b": "San Diego", "c": 3}


def test_infinity_values():
    p = load("param a := x Infinity y -Infinity;").params["a"]
    assert entries(p) == {"x": np.inf, "y": -np.inf}


def test_statements_accumulate_entries():
    s = load("param a := x 1;\nparam a := y 2;")
    assert entries(s.params["a"]) == {"x": 1.0, "y": 2.0}
    assert s.params["a"].lines.tolist() == [1, 2]


def test_offsets_locate_inline_data_in_the_model_file():
    s = load("param f := 1;\nparam a := x 1;", line_offset=10, col_offset=5)
    assert (s.params["f"].origin.line, s.params["f"].origin.col) == (11, 12)
    assert (s.params["a"].origin.line, s.params["a"].origin.col) == (12, 7)
    assert s.params["a"].lines.tolist() == [12]
    assert error("param f := x;", line_offset=3, col_offset=5) == (
        "t.dat:4:17: error: param 'f' needs a number for its value, found 'x'\n"
        "         param f := x;\n"
        "                    ^"
    )


def test_big_table_takes_the_fast_path():
    n = 200
    cols = " ".join(f"c{j}" for j in range(n))
    vals = np.arange(n * n, dtype=float).reshape(n, n) / 4
    rows = "\n".join(f"r{i} " + " ".join(map(repr, vals[i].tolist())) for i in range(n))
    p = load(f"param d : {cols} :=\n{rows};").params["d"]
    assert np.array_equal(p.values, vals.ravel())
    assert p.keys[0][n + 1] == "r1" and p.keys[1][n + 1] == "c1"
    assert p.lines[-1] == n + 1


# -- errors ----------------------------------------------------------------------------------------


def test_error_unknown_name_with_hint():
    assert error("param demnd := a 1;") == (
        "t.dat:1:7: error: 'demnd' is not declared in the model\n"
        "    param demnd := a 1;\n"
        "          ^^^^^\n"
        "hint: did you mean 'demand'?"
    )


def test_error_wrong_kind():
    assert error("set a := 1;") == (
        "t.dat:1:5: error: 'a' is a param in the model, not a set\n    set a := 1;\n        ^"
    )


def test_error_missing_semicolon_before_next_statement():
    assert error("set I := a b c\nparam f := 90;") == (
        "t.dat:1:15: error: expected ';' at the end of the data for set 'I'\n"
        "    set I := a b c\n"
        "                  ^"
    )


def test_error_missing_semicolon_at_end():
    assert error("param d : x y := a 1 2 b 3 4") == (
        "t.dat:1:29: error: expected ';' at the end of the data for param 'd'\n"
        "    param d : x y := a 1 2 b 3 4\n"
        "                                ^"
    )


def test_error_short_table_row():
    text = "param d : NY Chi Top :=\n  Sea 2.5 1.7 1.8\n  SD 2.5 1.8 ;"
    assert error(text) == (
        "t.dat:3:3: error: row 'SD' of the table for param 'd' has 2 entries; the table has 3 columns\n"
        "      SD 2.5 1.8 ;\n"
        "      ^^"
    )


def test_error_long_table_row():
    text = "param d : NY Chi Top :=\n  Sea 2.5 1.7 1.8 9\n  SD 2.5 1.8 1.4 ;"
    assert error(text) == (
        "t.dat:2:3: error: row 'Sea' of the table for param 'd' has 4 entries; the table has 3 columns\n"
        "      Sea 2.5 1.7 1.8 9\n"
        "      ^^^"
    )


def test_error_non_numeric_table_cell():
    text = "param d : NY Chi Top :=\n  Sea 2.5 abc 1.8\n  SD 2.5 1.8 1.4 ;"
    assert error(text) == (
        "t.dat:2:11: error: param 'd' needs a number for [Sea,Chi], found 'abc'\n"
        "      Sea 2.5 abc 1.8\n"
        "              ^^^"
    )


def test_error_non_numeric_value_in_list():
    assert error("param a := Seattle 350 San-Diego six;") == (
        "t.dat:1:34: error: param 'a' needs a number for [San-Diego], found 'six'\n"
        "    param a := Seattle 350 San-Diego six;\n"
        "                                     ^^^\n"
        "hint: each entry of param 'a' is 1 label and a value"
    )


def test_error_entry_without_value():
    assert error("param a := Seattle 350 San-Diego;") == (
        "t.dat:1:24: error: the entry for [San-Diego] of param 'a' has no value\n"
        "    param a := Seattle 350 San-Diego;\n"
        "                           ^^^^^^^^^\n"
        "hint: each entry of param 'a' is 1 label and a value"
    )


def test_error_bad_character():
    assert error("set I := a @ b;") == (
        "t.dat:1:12: error: unexpected character '@' in the data\n    set I := a @ b;\n               ^"
    )


def test_error_unterminated_string():
    assert error("set I := 'abc;") == (
        "t.dat:1:10: error: unterminated string: no closing ' on this line\n"
        "    set I := 'abc;\n"
        "             ^"
    )


def test_colon_equals_is_optional_as_in_gmpl():
    # GMPL's ':=' is one of the records: `set PLANTS 'Demand', 'Atom1';`, `param T 3;`
    st = load("set I a b c;\nset J 'x', 'y';\nparam f 3;\nparam a x 1 y 2;\n")
    assert st.sets["I"].members == ["a", "b", "c"] and st.sets["J"].members == ["x", "y"]
    assert st.params["f"].value == 3.0
    assert entries(st.params["a"]) == {"x": 1.0, "y": 2.0}
    st = load("param f default 625;")
    assert st.params["f"].value is None and st.params["f"].default == 625.0


def test_error_after_the_name_is_still_located():
    assert error("param a ; 1;").startswith("t.dat:1:11: error:")
    assert error("param a = 1;").startswith("t.dat:1:9: error: unexpected character '='")


def test_error_tuple_of_wrong_width():
    assert error("set LINKS := (a, b, c);") == (
        "t.dat:1:14: error: set 'LINKS' has members of 2 labels; (a, b, c) has 3\n"
        "    set LINKS := (a, b, c);\n"
        "                 ^"
    )


def test_error_incomplete_flat_tuple():
    assert error("set LINKS := a b c;") == (
        "t.dat:1:18: error: incomplete member of set 'LINKS': members have 2 labels, 1 label given\n"
        "    set LINKS := a b c;\n"
        "                     ^"
    )


def test_error_scalar_given_two_values():
    assert error("param f := 1 2;") == (
        "t.dat:1:14: error: param 'f' takes a single value; expected ';' after it, found '2'\n"
        "    param f := 1 2;\n"
        "                 ^"
    )


def test_error_duplicate_entry_and_member():
    assert error("param a := Seattle 350\n  Seattle 400;") == (
        "t.dat:2:11: error: param 'a' is given twice for [Seattle] (first on line 1)\n"
        "      Seattle 400;\n"
        "              ^^^"
    )
    assert error("set I := a b a;") == (
        "t.dat:1:14: error: set 'I' has 'a' twice (first on line 1)\n    set I := a b a;\n                 ^"
    )


def test_error_table_for_a_one_index_param():
    assert error("param a : x y := r 1 2;") == (
        "t.dat:1:9: error: a table gives values over 2 indices; param 'a' has 1 index\n"
        "    param a : x y := r 1 2;\n"
        "            ^"
    )


def test_error_slice_of_wrong_width():
    assert error("param cost := [a, *] 1 2;") == (
        "t.dat:1:15: error: param 'cost' has 3 indices; the slice has 2 positions\n"
        "    param cost := [a, *] 1 2;\n"
        "                  ^"
    )


def test_error_set_table_row_length():
    assert error("set LINKS : x y := a + - b + x;") == (
        "t.dat:1:26: error: row 'b' of the table for set 'LINKS' has 1 entry; the table has 2 columns\n"
        "    set LINKS : x y := a + - b + x;\n"
        "                             ^"
    )


def test_error_param_block_mixed_arity_and_short_entry():
    assert error("param: supply d := a 1 2;") == (
        "t.dat:1:15: error: the params of one 'param:' block need the same number of indices: "
        "'supply' has 1, 'd' has 2\n"
        "    param: supply d := a 1 2;\n"
        "                  ^"
    )
    assert error("param: supply demand := a 1 2 b 3;") == (
        "t.dat:1:31: error: the last entry of the 'param:' block of 'supply', 'demand' is incomplete: "
        "each entry is 1 label and 2 values\n"
        "    param: supply demand := a 1 2 b 3;\n"
        "                                  ^"
    )


def test_error_indexed_set_without_subscript():
    assert error("set S := 1 2;") == (
        "t.dat:1:7: error: set 'S' is indexed over I: give the members of one index at a time, "
        "as in: set S[...] := ...;\n"
        "    set S := 1 2;\n"
        "          ^^"
    )


def test_error_statement_without_keyword():
    assert error("f := 3;") == (
        "t.dat:1:1: error: expected a data statement ('set' or 'param'), found 'f'\n"
        "    f := 3;\n"
        "    ^\n"
        "hint: start the statement with 'param': param f := ...;"
    )


def test_error_repeated_table_row():
    assert error("param d : NY Chi := Sea 1 2 Sea 3 4;") == (
        "t.dat:1:29: error: row 'Sea' appears twice in the table for param 'd'\n"
        "    param d : NY Chi := Sea 1 2 Sea 3 4;\n"
        "                                ^^^"
    )


def test_data_never_executes():
    # Words that would mean something to Python are plain labels.
    s = load("set I := __import__ os.system exec;")
    assert s.sets["I"].members == ["__import__", "os.system", "exec"]
