"""Lowering of surrogate models: call sites, rewriting, dropped outputs, the penalty pass."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import optdsl as od  # noqa: E402
from optdsl.errors import ModelError, SolverError  # noqa: E402
from optdsl.eval.numpy_eval import expr_value  # noqa: E402
from optdsl.lower.surrogate import to_surrogate_form  # noqa: E402
from optdsl.lower.surrogate_penalty import PenalizedSurrogate, SurrogatePenalty  # noqa: E402
from optdsl.pipeline import choose_backend  # noqa: E402
from optdsl.surrogates.calls import numpy_surrogates  # noqa: E402


def _net(n_in: int = 3, n_out: int = 2, seed: int = 0) -> torch.nn.Module:
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(n_in, 8), torch.nn.Tanh(), torch.nn.Linear(8, n_out)).double().eval()


def _model(net: torch.nn.Module) -> od.Model:
    m = od.Model("m")
    x = m.var("x", range(1, 4), lb=-1, ub=1)
    phi = m.surrogate("phi", net, n_in=3, n_out=2)
    m.maximize("g", phi(x)[1] - x[1] ** 2)
    m.constraint("c", phi(x)[2] + x[3] <= 0.1)
    return m


def _phi(net: torch.nn.Module, U: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return net(torch.as_tensor(U)).numpy()


def test_one_call_site_per_network_and_inputs() -> None:
    net = _net()
    m = _model(net)
    form = to_surrogate_form(m.ir)
    assert len(form.calls) == 1 and form.m == 2 and form.n == 3
    assert form.objective_outputs.tolist() == [True, False]  # phi(x)[2] only in the constraint
    assert form.objective_inputs.tolist() == [True, False, False]
    assert choose_backend(m.ir).name == "attack_dfo"
    assert "surrogate" in m.ir.features()
    X = np.random.default_rng(0).uniform(-1, 1, (6, 3))
    np.testing.assert_allclose(form.phi(X), _phi(net, X))
    # the outer problem over z = (x, y) against the numpy evaluator with the network as a function
    calls = numpy_surrogates(m.ir)
    for x in X:
        want = expr_value(m.ir.objective.expr, x, calls)[0]
        assert form.objective(x) == pytest.approx(want, rel=1e-12)
        z = np.concatenate([x, _phi(net, x[None])[0]])
        assert form.outer.c(z)[0] == pytest.approx(expr_value(m.ir.constraints[0].expr, x, calls)[0], rel=1e-12)


def test_list_arguments_and_distinct_sites() -> None:
    net = _net(2, 2, seed=1)
    m = od.parse_model("var x {1..2} >= -1, <= 1;\nsurrogate phi := torch \"unused.pt2\";\n"
                       "maximize g: phi(x[2], 2 * x[1] + 1)[1] + phi(x)[2];\n")
    for s in m.ir.structures:
        s.data["_object"] = net
    form = to_surrogate_form(m.ir)
    assert len(form.calls) == 2 and form.m == 4
    assert form.calls[0].cols is None and form.calls[1].cols.tolist() == [0, 1]
    x = np.array([0.3, -0.7])
    y1 = _phi(net, np.array([[x[1], 2 * x[0] + 1]]))[0]
    y2 = _phi(net, x[None])[0]
    np.testing.assert_allclose(form.phi(x[None])[0], np.concatenate([y1, y2]))
    assert form.objective(x) == pytest.approx(y1[0] + y2[1])
    assert form.objective_outputs.tolist() == [True, False, False, True]


def test_refusals() -> None:
    net = _net()
    m = od.Model("m")
    x = m.var("x", range(1, 4), lb=-1, ub=1)
    phi = m.surrogate("phi", net, n_in=3, n_out=2)
    m.maximize("g", phi(x)[3])
    with pytest.raises(ModelError, match=r"has 2 outputs; output \[3\] does not exist"):
        to_surrogate_form(m.ir)
    m2 = od.Model("m2")
    y = m2.var("y", range(1, 3), lb=0, ub=1, integer=True)
    psi = m2.surrogate("psi", _net(2, 1), n_in=2, n_out=1)
    m2.minimize("g", psi(y)[1])
    with pytest.raises(SolverError, match="integer"):
        to_surrogate_form(m2.ir)
    m3 = od.Model("m3")
    z = m3.var("z", range(1, 3), lb=0, ub=1)
    m3.surrogate("psi", _net(2, 1), n_in=2, n_out=1)
    m3.minimize("g", z[1] ** 2)
    with pytest.raises(SolverError, match="never calls it"):
        to_surrogate_form(m3.ir)
    m4 = od.Model("m4")
    w = m4.var("w", range(1, 3), lb=0, ub=1)
    chi = m4.surrogate("chi", _net(2, 1), n_in=3, n_out=1)
    m4.minimize("g", chi(w)[1])
    with pytest.raises(ModelError, match="takes 3 inputs but is called with 2"):
        to_surrogate_form(m4.ir)


def test_penalty_pass_values_torch_map_and_target() -> None:
    net = _net(seed=2)
    m = _model(net)
    form = to_surrogate_form(m.ir)
    pen, inverse = SurrogatePenalty(weight=10.0).apply(form)
    assert isinstance(pen, PenalizedSurrogate) and inverse is None
    assert pen.p == 1 + 1 + 1  # x_1, y_1 and one upper side of c
    rng = np.random.default_rng(3)
    X = rng.uniform(-1, 1, (20, 3))
    ev = pen.evaluate(X)
    Y = _phi(net, X)
    g = Y[:, 0] - X[:, 0] ** 2
    viol = np.maximum(Y[:, 1] + X[:, 2] - 0.1, 0.0)
    np.testing.assert_allclose(ev.ftilde, g - (10.0 * viol) ** 2, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(ev.objective, g, rtol=1e-12)
    np.testing.assert_allclose(ev.violation, viol, atol=1e-15)
    assert np.any(viol > 0) and np.any(viol == 0)
    phi_t = pen.torch_map("cpu")
    for j in range(5):
        out_t = phi_t(torch.as_tensor(X[j])).detach().numpy()
        np.testing.assert_allclose(out_t, ev.out[j], rtol=1e-12, atol=1e-14)
    # t = ∇f̃(Φ̃(x)): <t, Φ̃(x + h v) - Φ̃(x)> matches f̃(x + h v) - f̃(x) to first order
    j = int(np.argmax(viol))
    t = pen.target(ev.Z[j], ev.out[j])
    v = rng.standard_normal(3)
    h = 1e-6
    e2 = pen.evaluate(np.stack([X[j], X[j] + h * v]))
    assert (t @ (e2.out[1] - e2.out[0])) / h == pytest.approx((e2.ftilde[1] - e2.ftilde[0]) / h, rel=1e-4)


def test_minimize_sense_and_bounds_as_penalties() -> None:
    net = _net(2, 1, seed=4)
    m = od.Model("m")
    x = m.var("x", range(1, 3), lb=0, ub=1)
    phi = m.surrogate("phi", net, n_in=2, n_out=1)
    m.minimize("g", phi(x)[1])
    form = to_surrogate_form(m.ir)
    pen = PenalizedSurrogate(form, weight=2.0, bounds="penalty")
    X = np.array([[0.5, 0.5], [1.5, -0.25]])
    ev = pen.evaluate(X)
    y = _phi(net, X)[:, 0]
    np.testing.assert_allclose(ev.objective, y)
    np.testing.assert_allclose(ev.ftilde, -y - np.array([0.0, (2 * 0.5) ** 2 + (2 * 0.25) ** 2]))
    np.testing.assert_allclose(ev.violation, [0.0, 0.5])


def test_only_models_with_a_surrogate_enter_the_surrogate_form() -> None:
    plain = od.parse_model("var x >= 0;\nminimize f: (x - 1)^4;\nsubject to c: x^2 <= 4;\n")
    assert choose_backend(plain.ir).form != "surrogate"
    with pytest.raises(SolverError, match="cannot take this model"):
        choose_backend(plain.ir, "attack_dfo")
    m = _model(_net())
    assert choose_backend(m.ir, "cdsm").name == "cdsm"
