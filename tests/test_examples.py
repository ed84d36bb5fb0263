"""Every example in examples/ that has a known optimum solves to it through `optdsl solve`.

References are independent of optdsl: scipy (linprog, milp, minimize), a KKT system solved with
numpy / scipy.sparse, or a published optimum. Data files are read here with json/csv directly.
"""

from __future__ import annotations

import csv
import importlib.util
import json
import re
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from scipy.optimize import Bounds, LinearConstraint, linprog, milp, minimize

from optdsl.cli import main

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def solve_cli(tmp_path: Path, name: str, *extra: str) -> dict:
    out = tmp_path / f"{Path(name).stem}.json"
    rc = main(["solve", str(EXAMPLES / name), "--output", "json", "-o", str(out), *extra])
    doc = json.loads(out.read_text())
    assert rc == 0, doc.get("message")
    return doc


NEW_EXAMPLES = ["production.opt", "diet.opt", "transport_csv.opt", "portfolio.opt", "hs_equality.opt",
                "logistic.opt", "pde_control.opt"]


@pytest.mark.parametrize("name", NEW_EXAMPLES)
def test_example_checks(name: str, capsys):
    assert main(["check", str(EXAMPLES / name)]) == 0
    assert "total:" in capsys.readouterr().out


# ------------------------------------------------------------------------------------------
# LP / MILP / QP (HiGHS)


def test_production_milp(tmp_path: Path):
    prods, T = ["widget", "gadget", "gizmo"], 6
    setup, hold, unit = [400, 300, 500], [2.0, 1.5, 3.0], [10, 14, 9]
    hpu, sh, inv0 = [1.0, 1.5, 0.5], [10, 8, 12], [20, 0, 0]
    dem = np.array([[40, 60, 30, 80, 50, 40], [30, 20, 50, 40, 30, 60], [70, 40, 60, 30, 90, 50]], float)
    cap = [180, 180, 160, 180, 170, 180]
    P = len(prods)
    nv = 3 * P * T

    def M(p, t):
        return p * T + t

    def Inv(p, t):
        return P * T + p * T + t

    def S(p, t):
        return 2 * P * T + p * T + t

    c, ub, integ = np.zeros(nv), np.full(nv, np.inf), np.zeros(nv)
    rows, lo, hi = [], [], []
    for p in range(P):
        for t in range(T):
            mm = dem[p, t:].sum()
            c[M(p, t)], c[Inv(p, t)], c[S(p, t)] = unit[p], hold[p], setup[p]
            ub[M(p, t)], ub[S(p, t)], integ[S(p, t)] = mm, 1, 1
            r = np.zeros(nv)
            r[M(p, t)], r[Inv(p, t)] = 1, -1
            if t > 0:
                r[Inv(p, t - 1)] = 1
            rhs = dem[p, t] - (inv0[p] if t == 0 else 0)
            rows.append(r)
            lo.append(rhs)
            hi.append(rhs)
            r = np.zeros(nv)
            r[M(p, t)], r[S(p, t)] = 1, -mm
            rows.append(r)
            lo.append(-np.inf)
            hi.append(0)
    for t in range(T):
        r = np.zeros(nv)
        for p in range(P):
            r[M(p, t)], r[S(p, t)] = hpu[p], sh[p]
        rows.append(r)
        lo.append(-np.inf)
        hi.append(cap[t])
    ref = milp(c, integrality=integ, bounds=Bounds(np.zeros(nv), ub),
               constraints=LinearConstraint(np.array(rows), lo, hi), options={"mip_rel_gap": 0})
    assert ref.status == 0
    doc = solve_cli(tmp_path, "production.opt", "--time-limit", "30", "--mip-gap", "0")
    assert doc["backend"] == "highs"
    assert doc["objective"] == pytest.approx(ref.fun, rel=1e-6)
    setups = doc["variables"]["Setup"]
    assert all(min(abs(v), abs(v - 1)) < 1e-6 for v in setups.values())


def test_diet_lp_json(tmp_path: Path):
    d = json.loads((EXAMPLES / "diet.json").read_text())
    foods, nutr = d["FOOD"], d["NUTR"]
    amt = np.array(d["amt"], float)                       # NUTR x FOOD
    ub = [d["max_serv"].get(f, 10) for f in foods]        # default 10 in the model
    ref = linprog([d["cost"][f] for f in foods],
                  A_ub=np.vstack([amt, -amt]),
                  b_ub=np.r_[[d["n_max"][i] for i in nutr], [-d["n_min"][i] for i in nutr]],
                  bounds=list(zip([0] * len(foods), ub)), method="highs")
    assert ref.status == 0
    doc = solve_cli(tmp_path, "diet.opt")
    assert doc["backend"] == "highs"
    assert doc["objective"] == pytest.approx(ref.fun, rel=1e-6)
    for f, x in zip(foods, ref.x):
        assert doc["variables"]["Buy"][f] == pytest.approx(x, abs=1e-6)


def test_transport_csv(tmp_path: Path):
    with (EXAMPLES / "transport_costs.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    supply = {"Seattle": 350, "San-Diego": 600}
    demand = {"New-York": 325, "Chicago": 300, "Topeka": 275}
    assert {(r["i"], r["j"]) for r in rows} == {(i, j) for i in supply for j in demand}
    c = [90 * float(r["d"]) / 1000 for r in rows]
    A = [[1.0 if r["i"] == i else 0.0 for r in rows] for i in supply]
    A += [[-1.0 if r["j"] == j else 0.0 for r in rows] for j in demand]
    ref = linprog(c, A_ub=A, b_ub=list(supply.values()) + [-v for v in demand.values()], method="highs")
    assert ref.fun == pytest.approx(153.675, rel=1e-9)        # GMPL's documented optimum
    doc = solve_cli(tmp_path, "transport_csv.opt")
    assert doc["objective"] == pytest.approx(153.675, rel=1e-6)


def test_portfolio_qp(tmp_path: Path):
    mu = np.array([0.08, 0.10, 0.12, 0.07, 0.15])
    vol = np.array([0.12, 0.16, 0.20, 0.10, 0.28])
    corr = np.array([[1.0, 0.3, 0.2, 0.4, 0.1], [0.3, 1.0, 0.5, 0.2, 0.3], [0.2, 0.5, 1.0, 0.1, 0.4],
                     [0.4, 0.2, 0.1, 1.0, 0.0], [0.1, 0.3, 0.4, 0.0, 1.0]])
    S, r, n = np.outer(vol, vol) * corr, 0.10, 5
    # KKT of min x'Sx s.t. mu'x = r, 1'x = 1 (assuming the return row active and x > 0) ...
    K = np.zeros((n + 2, n + 2))
    K[:n, :n] = 2 * S
    K[:n, n], K[:n, n + 1], K[n, :n], K[n + 1, :n] = mu, 1, mu, 1
    z = np.linalg.solve(K, np.r_[np.zeros(n), r, 1.0])
    x, lam = z[:n], z[n]
    # ... and that assumption holds: x > 0, and the return row's multiplier has the sign of an
    # active >= row (2Sx = -lam mu - nu 1 with -lam >= 0), so x is the optimum of the QP
    assert np.all(x > 0) and lam < 0
    ref = float(x @ S @ x)
    doc = solve_cli(tmp_path, "portfolio.opt")
    assert doc["backend"] == "highs"
    assert doc["objective"] == pytest.approx(ref, rel=1e-6)
    names = ["bonds", "blue", "tech", "cash", "venture"]
    for a, xa in zip(names, x):
        assert doc["variables"]["x"][a] == pytest.approx(xa, abs=1e-5)


# ------------------------------------------------------------------------------------------
# Equality-constrained NLPs (ipopt when cyipopt is installed, else sketch_newton, chosen automatically)


def test_hs_equality_routes_to_an_nlp_backend(tmp_path: Path):
    s2 = np.sqrt(2)

    def f(x):
        return (x[0] - 1) ** 2 + (x[0] - x[1]) ** 2 + (x[1] - x[2]) ** 2 + (x[2] - x[3]) ** 4 + (x[3] - x[4]) ** 4

    cons = [{"type": "eq", "fun": lambda x: x[0] + x[1] ** 2 + x[2] ** 3 - 2 - 3 * s2},
            {"type": "eq", "fun": lambda x: x[1] - x[2] ** 2 + x[3] + 2 - 2 * s2},
            {"type": "eq", "fun": lambda x: x[0] * x[4] - 2}]
    ref = minimize(f, np.full(5, 2.0), constraints=cons, method="SLSQP", options={"ftol": 1e-14, "maxiter": 500})
    assert ref.success and ref.fun == pytest.approx(0.0787768, rel=1e-6)   # HS79's published optimum
    doc = solve_cli(tmp_path, "hs_equality.opt", "--time-limit", "30")     # no --solver: routed
    assert doc["backend"] == ("ipopt" if importlib.util.find_spec("cyipopt") else "sketch_newton")
    assert doc["objective"] == pytest.approx(ref.fun, rel=1e-6)
    got = np.array([doc["variables"]["x"][str(i)] for i in range(1, 6)])
    np.testing.assert_allclose(got, ref.x, atol=1e-4)


def logistic_data(seed: int = 2023, N: int = 200, n: int = 30, m: int = 10):
    """The generator of examples/logistic.json (values rounded to 3 decimals)."""
    rng = np.random.default_rng(seed)
    X = np.round(rng.standard_normal((N, n)), 3)
    w_true = rng.standard_normal(n)
    y = np.where(X @ w_true + 0.5 * rng.standard_normal(N) >= 0, 1, -1)
    A = np.round(rng.standard_normal((m, n)), 3)
    b = np.round(rng.standard_normal(m), 3)
    return X, y, A, b


def test_logistic_data_is_reproducible():
    d = json.loads((EXAMPLES / "logistic.json").read_text())
    X, y, A, b = logistic_data()
    assert (d["N"], d["n"], d["m"]) == (200, 30, 10)
    np.testing.assert_array_equal(np.array(d["X"]), X)
    np.testing.assert_array_equal(np.array(d["y"]), y)
    np.testing.assert_array_equal(np.array(d["A"]), A)
    np.testing.assert_array_equal(np.array(d["b"]), b)
    # feasible: the least-norm solution of A w = b lies inside the unit sphere
    assert np.linalg.norm(np.linalg.lstsq(A, b, rcond=None)[0]) < 1
    assert (EXAMPLES / "logistic.json").stat().st_size < 100_000


def _logistic_reference():
    X, y, A, b = logistic_data()

    def f(w):
        return float(np.logaddexp(0.0, -y * (X @ w)).mean())

    def g(w):
        s = 1.0 / (1.0 + np.exp(y * (X @ w)))
        return -(X.T @ (y * s)) / len(y)

    cons = [{"type": "eq", "fun": lambda w: A @ w - b, "jac": lambda w: A},
            {"type": "eq", "fun": lambda w: np.array([w @ w - 1.0]), "jac": lambda w: 2.0 * w[None, :]}]
    res = minimize(f, np.ones(X.shape[1]), jac=g, constraints=cons, method="SLSQP",
                   options={"ftol": 1e-14, "maxiter": 1000})
    assert res.success
    return res


def test_logistic_regression(tmp_path: Path):
    ref = _logistic_reference()
    assert ref.fun == pytest.approx(0.6133209651, rel=1e-8)           # the value in the comment
    doc = solve_cli(tmp_path, "logistic.opt", "--time-limit", "60", "--solver", "sketch_newton",
                    "--option", "sketch_newton.sketch=direct", "--option", "sketch_newton.tol=1e-9")
    assert doc["backend"] == "sketch_newton"
    assert doc["objective"] == pytest.approx(ref.fun, rel=1e-6)
    w = np.array([doc["variables"]["w"][str(k)] for k in range(1, 31)])
    np.testing.assert_allclose(w, ref.x, atol=1e-4)
    assert w @ w == pytest.approx(1.0, abs=1e-6)


@pytest.mark.slow
def test_logistic_regression_default_sketch(tmp_path: Path):
    """The backend's defaults (randomized Kaczmarz, KKT tolerance 1e-4)."""
    ref = _logistic_reference()
    doc = solve_cli(tmp_path, "logistic.opt", "--time-limit", "120", "--seed", "0", "--solver", "sketch_newton")
    assert doc["objective"] == pytest.approx(ref.fun, rel=1e-4)  # KKT tolerance 1e-4: constraints met to 1e-4


def pde_reference(N: int) -> float:
    """The PDE control QP solved through its KKT system with scipy.sparse."""
    h = 2.0 / (N + 1)
    n = N * N
    k = np.arange(1, N + 1)
    a = 0.1 / np.sqrt(15)
    wstar = (np.sin(4 + a * (k - (N + 1) / 2))[:, None] + np.cos(3 + a * (k - (N + 1) / 2))[None, :]).ravel()
    T = sp.diags([np.ones(N - 1), -2 * np.ones(N), np.ones(N - 1)], [-1, 0, 1])
    eye = sp.identity(N)
    lap = (sp.kron(T, eye) + sp.kron(eye, T)) / h**2          # 5-point Laplacian, zero boundary
    H = sp.block_diag([sp.identity(n), 0.1 * sp.identity(n)])  # Hessian of 1/2|w-w*|^2 + 0.05|u|^2
    C = sp.hstack([lap, sp.identity(n)])                       # Delta_h w + u = 0
    K = sp.bmat([[H, C.T], [C, None]]).tocsc()
    z = spla.spsolve(K, np.concatenate([wstar, np.zeros(2 * n)]))
    w, u = z[:n], z[n:2 * n]
    assert np.abs(lap @ w + u).max() < 1e-9
    return float(0.5 * np.sum((w - wstar) ** 2) + 0.05 * np.sum(u**2))


def test_pde_control_highs(tmp_path: Path):
    ref = pde_reference(16)
    assert ref == pytest.approx(301.800365043, rel=1e-9)           # the value in the comment
    doc = solve_cli(tmp_path, "pde_control.opt", "--time-limit", "30")
    assert doc["backend"] == "highs"                               # an equality-constrained QP
    assert doc["objective"] == pytest.approx(ref, rel=1e-6)
    assert len(doc["variables"]["w"]) == 256 and len(doc["variables"]["u"]) == 256


def test_pde_control_sketch_newton_paper_grid(tmp_path: Path):
    """The paper's N = 3 grid with the backend's defaults."""
    dat = tmp_path / "n3.dat"
    dat.write_text("param N := 3;\n")
    doc = solve_cli(tmp_path, "pde_control.opt", "--data", str(dat), "--solver", "sketch_newton",
                    "--time-limit", "30", "--seed", "0", "--option", "sketch_newton.tol=1e-8")
    assert doc["backend"] == "sketch_newton"
    assert doc["objective"] == pytest.approx(pde_reference(3), rel=1e-6)


@pytest.mark.parametrize("N", [16, 64])
def test_pde_control_sketch_newton(tmp_path: Path, N: int):
    """N = 16 and 64 with exact Newton steps (the randomized sketches need very many inner steps
    on the ill-conditioned Laplacian; see docs/sketch_newton.md)."""
    dat = tmp_path / f"n{N}.dat"
    dat.write_text(f"param N := {N};\n")
    doc = solve_cli(tmp_path, "pde_control.opt", "--data", str(dat), "--solver", "sketch_newton",
                    "--time-limit", "120", "--option", "sketch_newton.sketch=direct",
                    "--option", "sketch_newton.tol=1e-8")
    assert doc["objective"] == pytest.approx(pde_reference(N), rel=1e-6)
    assert len(doc["variables"]["w"]) == N * N


# ------------------------------------------------------------------------------------------
# The examples that were there before, at their documented optima


@pytest.mark.parametrize("name, optimum", [("transport.opt", 153.675), ("knapsack.opt", 15.0),
                                           ("options.opt", 23.0), ("hs6.opt", 0.0)])
def test_existing_examples(tmp_path: Path, name: str, optimum: float):
    doc = solve_cli(tmp_path, name, "--time-limit", "30")
    assert doc["objective"] == pytest.approx(optimum, rel=1e-6, abs=1e-7)


# ------------------------------------------------------------------------------------------
# The snippets of the language reference (docs/language.md) check as written


LANGUAGE_DOC = Path(__file__).resolve().parents[1] / "docs" / "language.md"
SNIPPETS = re.findall(r"```opt\n(.*?)```", LANGUAGE_DOC.read_text(), re.S) if LANGUAGE_DOC.exists() else []


def test_language_doc_has_snippets():
    assert len(SNIPPETS) >= 10


@pytest.mark.parametrize("k", range(len(SNIPPETS)))
def test_language_doc_snippet_checks(tmp_path: Path, k: int, capsys):
    (tmp_path / "blend.csv").write_text("name,cost,protein\ncorn,0.30,0.09\nsoy,0.90,0.50\n")
    path = tmp_path / f"snippet{k}.opt"
    path.write_text(SNIPPETS[k])
    assert main(["check", str(path)]) == 0, capsys.readouterr().err
