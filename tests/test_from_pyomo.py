"""`optdsl.from_pyomo`: Pyomo models (Pyomo's documented examples, rebuilt here since Pyomo's
installed package carries no `examples/` folder) turned into optdsl models, solved by optdsl's
backends and compared with Pyomo's own answer (Pyomo with HiGHS) or the published optimum where
no Pyomo NLP solver is installed; the translation itself is checked by evaluating both models'
functions at seeded random points."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from optdsl.errors import ModelError
from optdsl.results import TerminationStatus

pytestmark = pytest.mark.skipif(importlib.util.find_spec("pyomo") is None, reason="needs pyomo")


@pytest.fixture(scope="module")
def pe():
    import pyomo.environ

    return pyomo.environ


def _from(model):
    from optdsl.api.from_pyomo import from_pyomo

    return from_pyomo(model)


def _pyomo_answer(pe, model, solver="appsi_highs"):
    res = pe.SolverFactory(solver).solve(model)
    assert str(res.solver.termination_condition) == "optimal"
    return pe.value(next(model.component_data_objects(pe.Objective, active=True)))


def transport(pe):
    """Pyomo's transportation example (Dantzig's data, as in Pyomo's getting-started docs)."""
    m = pe.ConcreteModel()
    m.i = pe.Set(initialize=["seattle", "san-diego"])
    m.j = pe.Set(initialize=["new-york", "chicago", "topeka"])
    m.a = pe.Param(m.i, initialize={"seattle": 350, "san-diego": 600})
    m.b = pe.Param(m.j, initialize={"new-york": 325, "chicago": 300, "topeka": 275})
    dist = {("seattle", "new-york"): 2.5, ("seattle", "chicago"): 1.7, ("seattle", "topeka"): 1.8,
            ("san-diego", "new-york"): 2.5, ("san-diego", "chicago"): 1.8, ("san-diego", "topeka"): 1.4}
    m.d = pe.Param(m.i, m.j, initialize=dist)
    m.f = pe.Param(initialize=90)
    m.c = pe.Param(m.i, m.j, initialize=lambda m, i, j: m.f * m.d[i, j] / 1000)
    m.x = pe.Var(m.i, m.j, bounds=(0.0, None))
    m.cost = pe.Objective(expr=sum(m.c[i, j] * m.x[i, j] for i in m.i for j in m.j), sense=pe.minimize)
    m.supply = pe.Constraint(m.i, rule=lambda m, i: sum(m.x[i, j] for j in m.j) <= m.a[i])
    m.demand = pe.Constraint(m.j, rule=lambda m, j: sum(m.x[i, j] for i in m.i) >= m.b[j])
    return m


def knapsack(pe):
    """Pyomo's knapsack example (binary variables, one capacity row)."""
    v = {"hammer": 8, "wrench": 3, "screwdriver": 6, "towel": 11}
    w = {"hammer": 5, "wrench": 7, "screwdriver": 4, "towel": 3}
    m = pe.ConcreteModel()
    m.ITEMS = pe.Set(initialize=list(v))
    m.x = pe.Var(m.ITEMS, within=pe.Binary)
    m.value = pe.Objective(expr=sum(v[i] * m.x[i] for i in m.ITEMS), sense=pe.maximize)
    m.weight = pe.Constraint(expr=sum(w[i] * m.x[i] for i in m.ITEMS) <= 14)
    return m


def integer_production(pe):
    """A small production MILP with general integers, a scalar variable and an equality."""
    m = pe.ConcreteModel()
    m.P = pe.RangeSet(1, 3)
    m.make = pe.Var(m.P, within=pe.NonNegativeIntegers, bounds=(0, 10))
    m.overtime = pe.Var(bounds=(0, 4))
    profit = {1: 5.0, 2: 4.0, 3: 3.0}
    hours = {1: 2.0, 2: 3.0, 3: 1.0}
    m.obj = pe.Objective(expr=sum(profit[p] * m.make[p] for p in m.P) - 2.5 * m.overtime, sense=pe.maximize)
    m.time = pe.Constraint(expr=sum(hours[p] * m.make[p] for p in m.P) <= 20 + m.overtime)
    m.mix = pe.Constraint(expr=m.make[1] - m.make[3] == 1)
    return m


def portfolio_qp(pe):
    """A mean-variance QP (quadratic objective, budget equality, return floor)."""
    rng = np.random.default_rng(3)
    n = 5
    F = rng.normal(size=(n, n))
    S = F @ F.T / n + 0.1 * np.eye(n)
    mu = rng.uniform(0.02, 0.12, n)
    m = pe.ConcreteModel()
    m.A = pe.RangeSet(0, n - 1)
    m.w = pe.Var(m.A, bounds=(0, 1))
    m.risk = pe.Objective(expr=sum(float(S[i, j]) * m.w[i] * m.w[j] for i in m.A for j in m.A))
    m.budget = pe.Constraint(expr=sum(m.w[i] for i in m.A) == 1)
    m.ret = pe.Constraint(expr=sum(float(mu[i]) * m.w[i] for i in m.A) >= float(np.mean(mu)))
    return m


def rosenbrock(pe):
    """Pyomo's rosenbrock example: optimum 0 at (1, 1)."""
    m = pe.ConcreteModel()
    m.x = pe.Var(initialize=-1.2)
    m.y = pe.Var(initialize=1.0)
    m.obj = pe.Objective(expr=(1 - m.x) ** 2 + 100 * (m.y - m.x**2) ** 2)
    return m


def hs071(pe):
    """Hock-Schittkowski 71 as in Pyomo's/cyipopt's docs: optimum 17.0140173."""
    m = pe.ConcreteModel()
    m.I = pe.RangeSet(1, 4)
    m.x = pe.Var(m.I, bounds=(1, 5), initialize={1: 1, 2: 5, 3: 5, 4: 1})
    m.obj = pe.Objective(expr=m.x[1] * m.x[4] * (m.x[1] + m.x[2] + m.x[3]) + m.x[3])
    m.prod = pe.Constraint(expr=m.x[1] * m.x[2] * m.x[3] * m.x[4] >= 25)
    m.sphere = pe.Constraint(expr=sum(m.x[i] ** 2 for i in m.I) == 40)
    return m


def indexed_nonlinear(pe):
    """Indexed nonlinear rows sharing a template with per-row numbers, rows that are only linear,
    a named Expression, a maximize objective with exp/log/sqrt/sin/division."""
    m = pe.ConcreteModel()
    m.K = pe.Set(initialize=["a", "b", "c", "d"])
    m.T = pe.RangeSet(1, 3)
    m.y = pe.Var(m.K, m.T, bounds=(0.1, 3), initialize=1.0)
    m.z = pe.Var(bounds=(-1, 1), initialize=0.2)
    scale = {"a": 1.0, "b": 2.0, "c": 0.5, "d": 1.5}
    m.e = pe.Expression(m.K, rule=lambda m, k: sum(m.y[k, t] for t in m.T))
    m.cap = pe.Constraint(m.K, rule=lambda m, k: scale[k] * pe.exp(m.y[k, 1] / 3) + m.e[k] <= 6 + scale[k]
                          if k != "d" else m.e[k] <= 5)
    m.link = pe.Constraint(m.T, rule=lambda m, t: pe.log(m.y["a", t]) + m.y["b", t] * m.y["c", t] - m.z >= -2)
    m.obj = pe.Objective(expr=sum(pe.sqrt(m.y[k, t]) for k in m.K for t in m.T) + pe.sin(m.z)
                         - m.z**2 / (1 + m.y["d", 2]), sense=pe.maximize)
    return m


@pytest.mark.parametrize("build", [transport, knapsack, integer_production])
def test_linear_and_integer_models_give_pyomos_answer(pe, build):
    pyomo_obj = _pyomo_answer(pe, build(pe))
    r = _from(build(pe)).solve(solver="highs")
    assert r.status == TerminationStatus.OPTIMAL
    assert r.objective == pytest.approx(pyomo_obj, rel=1e-9, abs=1e-9)


def test_transport_values_by_pyomo_names(pe):
    m = transport(pe)
    _pyomo_answer(pe, m)
    r = _from(transport(pe)).solve(solver="highs")
    for (i, j), v in m.x.items():
        assert r.value("x", i, j) == pytest.approx(v.value, abs=1e-7)


def test_qp_gives_pyomos_answer(pe):
    pyomo_obj = _pyomo_answer(pe, portfolio_qp(pe), solver="highs")
    om = _from(portfolio_qp(pe))
    assert "quadratic" in om.ir.features()
    for solver in ("highs", "ipopt"):
        r = om.solve(solver=solver)
        assert r.objective == pytest.approx(pyomo_obj, rel=1e-6), solver


def test_nonlinear_models_reach_the_published_optima(pe):
    r = _from(rosenbrock(pe)).solve(solver="ipopt")
    assert r.objective == pytest.approx(0.0, abs=1e-10)
    assert r.value("x") == pytest.approx(1.0, abs=1e-5)
    r = _from(hs071(pe)).solve()  # the default NLP backend
    assert r.backend in ("ipopt", "trust_constr")
    assert r.objective == pytest.approx(17.0140173, rel=1e-6)


def _check_same_functions(pe, m, seed=0):
    """The optdsl model's objective and rows equal Pyomo's at random points inside the bounds."""
    from optdsl.lower.nlp import to_nlpform

    om = _from(m)
    ir = om.ir
    for v in ir.variables:  # the functions are compared, integrality apart (the NLP form refuses it)
        v.integer = np.zeros_like(v.integer)
    form = to_nlpform(ir)
    pairs = []  # (Pyomo VarData, flat position) by component name and index
    for comp in m.component_objects(pe.Var, active=True):
        block = ir.var(comp.name)
        labels = [tuple(t) for t in block.domain.tuples()] if not block.scalar else [()]
        where = {tuple(str(v) for v in lab): block.start + p for p, lab in enumerate(labels)}
        for idx, vd in comp.items():
            key = () if idx is None else tuple(str(v) for v in (idx if isinstance(idx, tuple) else (idx,)))
            pairs.append((vd, where[key]))
    cons = [c for c in m.component_data_objects(pe.Constraint, active=True)]
    obj = next(m.component_data_objects(pe.Objective, active=True))
    rng = np.random.default_rng(seed)
    for _ in range(3):
        x = np.zeros(form.n)
        for vd, pos in pairs:
            lo = -2.0 if vd.lb is None else vd.lb
            hi = 2.0 if vd.ub is None else vd.ub
            x[pos] = rng.uniform(lo, hi)
            vd.set_value(float(x[pos]), skip_validation=True)
        sign = -1.0 if form.sense == "max" else 1.0
        assert sign * form.f(x) == pytest.approx(pe.value(obj), rel=1e-12, abs=1e-12)
        # rows keep Pyomo's order; optdsl may move constants into the bounds or write `25 <= e` as
        # `25 - e <= 0`, so compare each row's finite slacks (distance to its bounds)
        c = form.c(x)
        for r, cd in enumerate(cons):
            body = pe.value(cd.body)
            theirs = sorted(v for v in ((body - pe.value(cd.lower)) if cd.lower is not None else None,
                                        (pe.value(cd.upper) - body) if cd.upper is not None else None)
                            if v is not None)
            ours = sorted(float(v) for v in (c[r] - form.con_lower[r], form.con_upper[r] - c[r]) if np.isfinite(v))
            np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-10, err_msg=cd.name)
    return om


def test_translation_is_exact_at_random_points(pe):
    for build in (indexed_nonlinear, hs071, transport, portfolio_qp, integer_production):
        _check_same_functions(pe, build(pe))


def test_indexed_nonlinear_constraint_stays_one_statement(pe):
    om = _from(indexed_nonlinear(pe))
    text = om.to_opt()
    assert text.count("subject to cap {") == 1
    assert text.count("subject to link {") == 1
    r = om.solve(solver="ipopt")
    assert r.status == TerminationStatus.OPTIMAL
    # an independent check of the solution: trust_constr from the same start agrees
    r2 = om.solve(solver="trust_constr")
    assert r2.objective == pytest.approx(r.objective, rel=1e-4)


def test_to_opt_text_parses_back_to_the_same_model(pe):
    from optdsl.api.model import parse_model

    om = _from(transport(pe))
    again = parse_model(om.to_opt(), name="again.opt")
    assert again.solve(solver="highs").objective == pytest.approx(153.675, rel=1e-9)


def test_refusals(pe):
    m = pe.ConcreteModel()
    m.x = pe.Var(initialize=0.5)
    m.o = pe.Objective(expr=pe.Expr_if(IF=m.x >= 0, THEN=m.x, ELSE=-m.x))
    with pytest.raises(ModelError, match="Expr_if"):
        _from(m)
    m2 = pe.ConcreteModel()
    m2.x = pe.Var()
    m2.o1 = pe.Objective(expr=m2.x)
    m2.o2 = pe.Objective(expr=-m2.x)
    with pytest.raises(ModelError, match="2 active objectives"):
        _from(m2)
    with pytest.raises(ModelError, match="abstract"):
        _from(pe.AbstractModel())
    with pytest.raises(ModelError, match="ConcreteModel"):
        _from("not a model")
