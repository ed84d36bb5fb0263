"""JSON and CSV data files, the extension dispatch, and the exact text of their errors."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest

from optdsl.data import load_csv, load_csv_table, load_data_file, load_json
from optdsl.data.store import Declared, ParamData
from optdsl.errors import DataError

SCHEMA = {
    "I": Declared("set", 1),
    "LINKS": Declared("set", 2),
    "S": Declared("set", 1, ("I",)),
    "f": Declared("param", 0),
    "title": Declared("param", 0, symbolic=True),
    "a": Declared("param", 1, ("I",)),
    "d": Declared("param", 2, ("I", "J")),
    "cost": Declared("param", 3, ("I", "J", "K")),
    "city": Declared("param", 1, ("I",), symbolic=True),
}


def entries(p: ParamData) -> dict:
    cols = [c.tolist() for c in p.keys]
    keys = cols[0] if len(cols) == 1 else list(zip(*cols, strict=True))
    return dict(zip(keys, p.values.tolist(), strict=True))


def json_error(text: str) -> str:
    with pytest.raises(DataError) as e:
        load_json(text, SCHEMA, "t.json")
    return e.value.render()


def csv_error(path, name: str) -> str:
    with pytest.raises(DataError) as e:
        load_csv(path, name, SCHEMA)
    return e.value.render()


@pytest.fixture(params=["pandas", "numpy"])
def reader(request, monkeypatch):
    """Run CSV tests through pandas and through the numpy fallback."""
    if request.param == "numpy":
        monkeypatch.setitem(sys.modules, "pandas", None)
    return request.param


# -- JSON ------------------------------------------------------------------------------------------


def test_json_sets():
    s = load_json(
        '{"I": ["a", "b", 3, "4", 2.0], "LINKS": [["a", 1], ["b", "x"]], "S": {"a": [1, 2], "3": ["x"]}}',
        SCHEMA,
    )
    assert s.sets["I"].members == ["a", "b", 3, 4, 2]
    assert s.sets["LINKS"].members == [("a", 1), ("b", "x")]
    assert s.sets["S"].indexed == {("a",): [1, 2], (3,): ["x"]}


def test_json_scalars():
    s = load_json('{"f": 90, "title": "Transport"}', SCHEMA)
    assert s.params["f"].value == 90.0 and s.params["title"].value == "Transport"


def test_json_keyed_object():
    s = load_json(
        '{"a": {"Seattle": 350, "San-Diego": null, "3": 2.5}, "cost": {"a, 1 ,x": 1, "b,2,y": 2}}', SCHEMA
    )
    assert entries(s.params["a"]) == {"Seattle": 350.0, 3: 2.5}
    p = s.params["cost"]
    assert entries(p) == {("a", 1, "x"): 1.0, ("b", 2, "y"): 2.0}
    assert p.keys[1].dtype == np.int64 and p.keys[0].dtype == object


def test_json_nested_objects():
    p = load_json('{"d": {"a": {"x": 1, "y": 2}, "b": {"x": 3}}}', SCHEMA).params["d"]
    assert entries(p) == {("a", "x"): 1.0, ("a", "y"): 2.0, ("b", "x"): 3.0}


def test_json_nested_array_is_dense():
    p = load_json('{"d": [[1, 2.5], [3, null]], "a": [4, 5]}', SCHEMA).params["d"]
    assert p.keys is None and p.dense.dtype == np.float64
    assert np.array_equal(p.dense, [[1, 2.5], [3, np.nan]], equal_nan=True)


def test_json_columns_form():
    text = (
        '{"cost": {"keys": [["a", "b", "c"], [1, 2.0, 3], ["x", "y", "z"]], "values": [1, null, 3]},'
        ' "a": {"keys": ["p", "q"], "values": [7, 8]}}'
    )
    s = load_json(text, SCHEMA)
    p = s.params["cost"]
    assert entries(p) == {("a", 1, "x"): 1.0, ("c", 3, "z"): 3.0}
    assert p.keys[1].dtype == np.int64
    assert entries(s.params["a"]) == {"p": 7.0, "q": 8.0}


def test_json_symbolic_param():
    p = load_json('{"city": {"a": "Seattle", "b": null}}', SCHEMA).params["city"]
    assert entries(p) == {"a": "Seattle"}


def test_json_from_a_file(tmp_path):
    f = tmp_path / "data.json"
    f.write_text(json.dumps({"I": ["a"], "a": {"a": 1}}))
    s = load_data_file(f, SCHEMA)
    assert s.sets["I"].members == ["a"] and entries(s.params["a"]) == {"a": 1.0}


def test_json_error_syntax():
    assert json_error('{"I": ["a",}') == (
        't.json:1:12: error: invalid JSON: Expecting value\n    {"I": ["a",}\n               ^'
    )


def test_json_error_not_an_object():
    assert json_error("[1, 2]") == (
        't.json:1:1: error: a .json data file holds one object keyed by component names, as in {"I": [...]}\n'
        "    [1, 2]\n"
        "    ^"
    )


def test_json_error_unknown_name():
    assert json_error('{"I": ["a"],\n "ctiy": {}}') == (
        "t.json:2:2: error: 'ctiy' is not declared in the model\n"
        '     "ctiy": {}}\n'
        "     ^^^^^^\n"
        "hint: did you mean 'city'?"
    )


def test_json_error_ragged_array():
    assert json_error('{\n "d": [[1, 2],\n [3]]}') == (
        "t.json:2:2: error: param 'd': the nested array is ragged: [1] has 1 entry, [0] has 2 entries\n"
        '     "d": [[1, 2],\n'
        "     ^^^"
    )


def test_json_error_array_depth():
    assert json_error('{"d": [1, 2]}') == (
        "t.json:1:2: error: param 'd': the nested array does not have the shape of 2 indices\n"
        '    {"d": [1, 2]}\n'
        "     ^^^"
    )


def test_json_error_non_numeric_values():
    assert json_error('{"d": [[1, "x"], [3, 4]]}') == (
        "t.json:1:2: error: param 'd' needs numbers; entry [0][1] of the nested array is \"x\"\n"
        '    {"d": [[1, "x"], [3, 4]]}\n'
        "     ^^^"
    )
    assert json_error('{"a": {"a": 1, "b": "x"}}') == (
        't.json:1:16: error: param \'a\' needs numbers, found "x" for "b"\n'
        '    {"a": {"a": 1, "b": "x"}}\n'
        "                   ^^^"
    )


def test_json_error_key_width_and_tuple_width():
    assert json_error('{"d": {"a,b,c": 1}}') == (
        "t.json:1:8: error: param 'd' has 2 indices; the key \"a,b,c\" has 3 "
        "(labels are separated by commas)\n"
        '    {"d": {"a,b,c": 1}}\n'
        "           ^^^^^^^"
    )
    assert json_error('{"LINKS": [["a", "b", "c"]]}') == (
        't.json:1:2: error: set \'LINKS\' has members of 2 labels; member 1 is ["a", "b", "c"]\n'
        '    {"LINKS": [["a", "b", "c"]]}\n'
        "     ^^^^^^^"
    )


def test_json_error_columns_length():
    assert json_error('{"cost": {"keys": [["a"], [1], ["x", "y"]], "values": [1]}}') == (
        "t.json:1:2: error: param 'cost': key column 3 has 2 entries, \"values\" has 1\n"
        '    {"cost": {"keys": [["a"], [1], ["x", "y"]], "values": [1]}}\n'
        "     ^^^^^^"
    )


def test_json_big_nested_array():
    rng = np.random.default_rng(0)
    vals = rng.random((300, 300))
    p = load_json(json.dumps({"d": vals.tolist()}), SCHEMA).params["d"]
    assert np.array_equal(p.dense, vals)


# -- CSV -------------------------------------------------------------------------------------------


def test_csv_with_header(tmp_path, reader):
    f = tmp_path / "cost.csv"
    f.write_text("i, j, k, cost\na,1,x,2.5\nb,2,y,.\nc,3.0,z,4\nd,4,w,\n")
    p = load_csv(f, "cost", SCHEMA).params["cost"]
    assert entries(p) == {("a", 1, "x"): 2.5, ("c", 3, "z"): 4.0}
    assert p.keys[0].dtype == object and p.keys[1].dtype == np.int64
    assert p.lines.tolist() == [2, 4]


def test_csv_numeric_labels_and_quotes(tmp_path, reader):
    f = tmp_path / "a.csv"
    f.write_text('i,value\n"New York",1\n2,3\n')
    p = load_csv(f, "a", SCHEMA).params["a"]
    assert entries(p) == {"New York": 1.0, "2": 3.0}  # a column of words and numbers stays words
    f.write_text("i,value\n1,1\n2.5,3\n")
    p = load_csv(f, "a", SCHEMA).params["a"]
    assert p.keys[0].dtype == np.float64 and entries(p) == {1.0: 1.0, 2.5: 3.0}


def test_csv_matrix_is_dense(tmp_path, reader):
    f = tmp_path / "d.csv"
    f.write_text("1,2,3\n4,5.5,6\n")
    p = load_csv(f, "d", SCHEMA).params["d"]
    assert p.keys is None and np.array_equal(p.dense, [[1, 2, 3], [4, 5.5, 6]])
    f.write_text("1\n2\n3\n")
    assert np.array_equal(load_csv(f, "a", SCHEMA).params["a"].dense, [1, 2, 3])


def test_csv_symbolic_values(tmp_path, reader):
    f = tmp_path / "city.csv"
    f.write_text("i,city\na,Seattle\nb,\n")
    assert entries(load_csv(f, "city", SCHEMA).params["city"]) == {"a": "Seattle"}


def test_csv_table_primitive(tmp_path, reader):
    f = tmp_path / "t.csv"
    f.write_text("ORIG,DEST,cost,note\nSea,NY,2.5,x\nSD,NY,3,\n")
    header, cols = load_csv_table(f)
    assert header == ["ORIG", "DEST", "cost", "note"]
    assert cols[0].tolist() == ["Sea", "SD"] and cols[2].tolist() == [2.5, 3.0]
    assert cols[3].tolist() == ["x", None]


def test_csv_error_header_width(tmp_path, reader):
    f = tmp_path / "cost.csv"
    f.write_text("i,cost\na,1\n")
    assert csv_error(f, "cost") == (
        f"{f}:1:1: error: the header of '{f}' has 2 columns; param 'cost' has 3 indices, "
        "so it needs 4: 3 index columns and a value column\n"
        "    i,cost\n"
        "    ^^^^^^"
    )


def test_csv_error_row_width(tmp_path, reader):
    f = tmp_path / "cost.csv"
    f.write_text("i,j,k,cost\na,1,x,2.5\nb,2,y,3,4\n")
    assert csv_error(f, "cost") == (
        f"{f}:3:1: error: line 3 of '{f}' has 5 fields; expected 4\n    b,2,y,3,4\n    ^^^^^^^^^"
    )


def test_csv_error_non_numeric_value(tmp_path, reader):
    f = tmp_path / "cost.csv"
    f.write_text("i,j,k,cost\na,1,x,2.5\nb,2,y,abc\n")
    assert csv_error(f, "cost") == (
        f"{f}:3:7: error: param 'cost' needs numbers; column 'cost' of '{f}' holds 'abc'\n"
        "    b,2,y,abc\n"
        "          ^^^"
    )
    f.write_text("1,2,3\n4,x,6\n")
    assert csv_error(f, "d") == (
        f"{f}:2:3: error: param 'd': the matrix in '{f}' holds 'x', not a number\n    4,x,6\n      ^"
    )


def test_csv_error_matrix_for_three_indices(tmp_path, reader):
    f = tmp_path / "m.csv"
    f.write_text("1,2,3\n")
    assert csv_error(f, "cost") == (
        f"{f}:1:1: error: a plain numeric matrix gives a param over two sets; param 'cost' has 3 indices: "
        "start the file with a header row naming the index columns and the value column\n"
        "    1,2,3\n"
        "    ^^^^^"
    )


def test_csv_error_repeated_entry(tmp_path, reader):
    f = tmp_path / "cost.csv"
    f.write_text("i,j,k,cost\na,1,x,2.5\nb,2,y,3\na,1,x,4\n")
    assert csv_error(f, "cost") == (
        f"{f}:4:1: error: param 'cost' is given twice for [a,1,x] (first on line 2)\n    a,1,x,4\n    ^^^^^^^"
    )


def test_csv_error_unknown_param(tmp_path):
    f = tmp_path / "cost.csv"
    f.write_text("i,j,k,cost\n")
    assert csv_error(f, "costs") == "error: 'costs' is not declared in the model\nhint: did you mean 'cost'?"


# -- dispatch --------------------------------------------------------------------------------------


def test_dispatch_on_extension(tmp_path):
    dat = tmp_path / "x.dat"
    dat.write_text("set I := a b;\nparam a := a 1;")
    s = load_data_file(dat, SCHEMA)
    assert s.sets["I"].members == ["a", "b"] and s.params["a"].origin.file == str(dat)
    csv = tmp_path / "x.csv"
    csv.write_text("i,a\nq,1\n")
    assert entries(load_data_file(csv, SCHEMA, as_name="a").params["a"]) == {"q": 1.0}


def test_dispatch_errors(tmp_path):
    with pytest.raises(DataError) as e:
        load_data_file("data/x.txt", SCHEMA)
    assert e.value.render() == (
        "error: cannot read data from 'data/x.txt': the file name must end in .dat, .json or .csv"
    )
    with pytest.raises(DataError) as e:
        load_data_file("x.csv", SCHEMA)
    assert e.value.render() == 'error: a .csv data file gives one param: write data "x.csv" as NAME;'
    with pytest.raises(DataError) as e:
        load_data_file("missing.dat", SCHEMA)
    assert e.value.render() == "error: cannot read data file 'missing.dat': No such file or directory"
