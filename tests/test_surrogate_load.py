"""Loading surrogate networks: formats, sizes, refusals (pickled code), paths relative to the model."""

from __future__ import annotations

import json
import os
import pickle
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import optdsl as od  # noqa: E402
from optdsl.errors import ModelError  # noqa: E402
from optdsl.surrogates import formats  # noqa: E402
from optdsl.surrogates.load import load_file, wrap_object  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"


def _net(seed: int = 0) -> torch.nn.Module:
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.Tanh(), torch.nn.Linear(8, 2)).eval()


U = np.random.default_rng(0).uniform(-1, 1, (5, 3))


def _expected(net: torch.nn.Module) -> np.ndarray:
    with torch.no_grad():
        return net(torch.as_tensor(U, dtype=torch.float32)).double().numpy()


def test_exported_program_with_a_batch_dimension(tmp_path: Path) -> None:
    net = _net()
    ep = torch.export.export(net, (torch.zeros(2, 3),), dynamic_shapes=({0: torch.export.Dim("batch")},))
    torch.export.save(ep, str(tmp_path / "net.pt2"))
    assert formats.detect(tmp_path / "net.pt2") == formats.EXPORTED
    s = load_file("phi", "net.pt2", base_dir=tmp_path)
    assert s.batched and s.n_in == 3 and s.differentiable
    assert s.check_sizes(3) == 2
    np.testing.assert_allclose(s.numpy(U), _expected(net), rtol=1e-5, atol=1e-6)
    with pytest.raises(ModelError, match="takes 3 inputs but is called with 4"):
        s.check_sizes(4)


def test_exported_program_without_a_batch_dimension_runs_row_by_row(tmp_path: Path) -> None:
    net = _net(1)
    ep = torch.export.export(net, (torch.zeros(3),))
    torch.export.save(ep, str(tmp_path / "one.pt2"))
    s = load_file("phi", str(tmp_path / "one.pt2"))
    assert s.batched is False and s.n_in == 3
    np.testing.assert_allclose(s.numpy(U), _expected(net), rtol=1e-5, atol=1e-6)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_torchscript(tmp_path: Path) -> None:
    net = _net(2)
    torch.jit.save(torch.jit.script(net), str(tmp_path / "net.ts"))
    assert formats.detect(tmp_path / "net.ts") == formats.TORCHSCRIPT
    s = load_file("phi", "net.ts", base_dir=tmp_path)
    np.testing.assert_allclose(s.numpy(U), _expected(net), rtol=1e-5, atol=1e-6)


def test_state_dict_with_a_json_architecture(tmp_path: Path) -> None:
    net = _net(3)
    torch.save(net.state_dict(), str(tmp_path / "w.pt"))
    with pytest.raises(ModelError, match="no architecture is declared"):
        load_file("phi", "w.pt", base_dir=tmp_path)
    (tmp_path / "w.json").write_text(json.dumps({"architecture": "mlp", "sizes": [3, 8, 2], "activation": "tanh"}))
    s = load_file("phi", "w.pt", base_dir=tmp_path)
    np.testing.assert_allclose(s.numpy(U), _expected(net), rtol=1e-5, atol=1e-6)
    (tmp_path / "w.json").write_text(json.dumps({"sizes": [3, 9, 2], "activation": "tanh"}))
    with pytest.raises(ModelError, match="do not fit the declared architecture"):
        load_file("phi", "w.pt", base_dir=tmp_path)


def test_state_dict_with_a_python_architecture(tmp_path: Path) -> None:
    net = _net(4)
    torch.save(net.state_dict(), str(tmp_path / "w.pt"))
    s = load_file("phi", "w.pt", base_dir=tmp_path, architecture=_net(99))
    np.testing.assert_allclose(s.numpy(U), _expected(net), rtol=1e-5, atol=1e-6)


class _Exploit:
    """Unpickling this would run a command that creates a file."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_a_malicious_pickle_is_refused_and_never_runs(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    torch.save({"weight": torch.zeros(2), "payload": _Exploit(marker)}, str(tmp_path / "evil.pt"))
    (tmp_path / "raw.pkl").write_bytes(pickle.dumps(_Exploit(marker)))
    for name in ("evil.pt", "raw.pkl"):
        with pytest.raises(ModelError, match="holds pickled Python objects, which optdsl never loads") as err:
            load_file("phi", name, base_dir=tmp_path)
        assert "torch.export" in (err.value.hint or "")
    assert not marker.exists()


def test_a_whole_pickled_module_is_refused(tmp_path: Path) -> None:
    torch.save(_net(), str(tmp_path / "full.pt"))
    with pytest.raises(ModelError, match="pickled Python objects"):
        load_file("phi", "full.pt", base_dir=tmp_path)


def test_bad_paths(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="cannot read"):
        load_file("phi", "missing.pt2", base_dir=tmp_path)
    with pytest.raises(ModelError, match="not a regular file"):
        load_file("phi", ".", base_dir=tmp_path)
    (tmp_path / "big.pt2").write_bytes(b"x" * 100)
    with pytest.raises(ModelError, match="more than the 10 allowed"):
        load_file("phi", "big.pt2", base_dir=tmp_path, max_bytes=10)


def test_onnx_values_only(tmp_path: Path) -> None:
    pytest.importorskip("onnxruntime")
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(1)
    W, b = rng.standard_normal((3, 2)).astype(np.float32), rng.standard_normal(2).astype(np.float32)
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["u", "W"], ["h"]), helper.make_node("Add", ["h", "b"], ["s"]),
         helper.make_node("Tanh", ["s"], ["y"])], "g",
        [helper.make_tensor_value_info("u", TensorProto.FLOAT, ["batch", 3])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 2])],
        [numpy_helper.from_array(W, "W"), numpy_helper.from_array(b, "b")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(tmp_path / "net.onnx"))
    s = load_file("phi", "net.onnx", base_dir=tmp_path)
    assert not s.differentiable and s.n_in == 3
    np.testing.assert_allclose(s.numpy(U), np.tanh(U @ W + b), rtol=1e-5)


def test_python_objects() -> None:
    net = _net(5)
    s = wrap_object("phi", net, n_in=3, n_out=2)
    assert s.check_sizes(3) == 2 and s.differentiable
    np.testing.assert_allclose(s.numpy(U), _expected(net), rtol=1e-5, atol=1e-6)
    f = wrap_object("psi", lambda X: np.stack([X.sum(1), (X * X).sum(1)], 1), n_in=3, n_out=2)
    assert not f.differentiable
    np.testing.assert_allclose(f.numpy(U)[:, 1], (U * U).sum(1))
    with pytest.raises(ModelError, match="declared with 3 outputs but returns 2"):
        wrap_object("psi", lambda X: X[:, :2], n_out=3).check_sizes(3)
    m = od.Model("m")
    with pytest.raises(ModelError, match="file path, a torch module or a callable"):
        m.surrogate("phi", 42)


def test_paths_resolve_relative_to_the_model_file(tmp_path: Path) -> None:
    sub = tmp_path / "models"
    sub.mkdir()
    (sub / "m.opt").write_text((EXAMPLES / "surrogate.opt").read_text())
    (sub / "surrogate.pt2").write_bytes((EXAMPLES / "surrogate.pt2").read_bytes())
    m = od.load(sub / "m.opt")
    r = m.solve(max_evals=60, seed=0)
    assert r.backend == "attack_dfo" and r.stats["phi_evaluations"] <= 60


def test_cli_routes_a_surrogate_model_to_attack_dfo(capsys: pytest.CaptureFixture[str]) -> None:
    from optdsl.cli import main

    assert main(["show", str(EXAMPLES / "surrogate.opt")]) == 0
    shown = capsys.readouterr().out
    assert "backend: attack_dfo" in shown and "surrogate" in shown
    assert main(["solve", str(EXAMPLES / "reactor.opt"), "--option", "attack_dfo.max_evals=150",
                 "--output", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["backend"] == "attack_dfo" and out["solution_status"] == "feasible"
    assert out["stats"]["phi_evaluations"] <= 150 and out["stats"]["attack_backward"] > 0
    x = out["variables"]["x"]
    assert x["1"] * x["2"] <= 500 + 1e-6 and 0 <= x["1"] <= 120 and 0 <= x["2"] <= 20
