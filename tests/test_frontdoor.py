"""The one front door: the CLI and the Python API read models through optdsl.frontdoor."""

from __future__ import annotations

from pathlib import Path

import pytest

import optdsl as od
from optdsl import cli, frontdoor
from optdsl.errors import DataError

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def test_cli_and_api_both_go_through_the_front_door(monkeypatch, capsys):
    calls = []
    real = frontdoor.load

    def spy(path, data=None, seed=None):
        calls.append(Path(path).name)
        return real(path, data, seed)

    monkeypatch.setattr(frontdoor, "load", spy)
    assert cli.main(["check", str(EXAMPLES / "transport.opt")]) == 0
    m = od.load(EXAMPLES / "transport.opt")
    assert calls == ["transport.opt", "transport.opt"]
    assert m.ir.num_vars == 6 and "x" in capsys.readouterr().out


def test_text_and_python_data_give_the_same_model():
    text = "set I; param a {I}; var x {I} >= 0; minimize z: sum {i in I} a[i] * x[i];" \
           " s.t. c {i in I}: x[i] >= 1;"
    from_dict = frontdoor.parse_model(text, data={"I": ["p", "q"], "a": {"p": 2.0, "q": 3.0}})
    inline = frontdoor.parse_model(text + " data; set I := p q; param a := p 2 q 3; end;")
    a = od.Model.from_loaded(from_dict).solve()
    b = od.Model.from_loaded(inline).solve()
    assert a.objective == b.objective == 5.0
    assert from_dict.name == "model" and from_dict.base_dir == Path.cwd()


def test_data_of_the_wrong_kind_is_refused():
    with pytest.raises(DataError, match="data must be a file path, a list of paths or a dict"):
        frontdoor.parse_model("set I;", data=3)
    assert frontdoor.split_data(None) == ([], None)
    assert frontdoor.split_data(("a.dat", "b.json")) == (["a.dat", "b.json"], None)
