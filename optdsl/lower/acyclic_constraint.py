"""The pass acyclic(W) -> h(W) = 0: a DAG form becomes an NLP with one more equality,

    h(W) = tr(exp(W o W)) - d = 0      (NOTEARS; zero exactly when W is the matrix of a DAG),

so that a general NLP backend can take a structure-learning model (`--solver sketch_newton`).
Derivatives are exact: grad h = 2 W o exp(W o W)^T, and the Hessian-vector product uses the
Frechet derivative of the matrix exponential, read off the exponential of a 2d x 2d block matrix.
A caveat the chooser cannot see: grad h vanishes on every DAG, so the constraint is degenerate
at a solution (no constraint qualification); the dedicated backends (topo, notears) avoid this.
`invert` drops weights below 1e-8 relative to the largest and reports the graph's edges.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from optdsl.lazy import LazyModule
from optdsl.lower.forms import Block, DAGForm, NLPForm
from optdsl.lower.passes import Pass
from optdsl.results import Result, SolutionStatus

sla = LazyModule("scipy.linalg")  # imported when the pass runs, not when the chooser lists it
sp = LazyModule("scipy.sparse")


def h_value(W: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    E = sla.expm(W * W)
    return float(np.trace(E)) - W.shape[0], 2.0 * W * E.T, E


def h_hvp(W: np.ndarray, V: np.ndarray) -> np.ndarray:
    """d/dt grad h(W + tV) at t = 0."""
    d = W.shape[0]
    S = W * W
    E = sla.expm(S)
    big = np.zeros((2 * d, 2 * d))
    big[:d, :d] = S
    big[d:, d:] = S
    big[:d, d:] = 2.0 * W * V  # the direction of S
    L = sla.expm(big)[:d, d:]  # Frechet derivative of exp at S in that direction
    return 2.0 * V * E.T + 2.0 * W * L.T


def topological_order_ok(W: np.ndarray) -> bool:
    from optdsl.dag.metrics import is_dag

    return is_dag(W)


class AcyclicConstraint(Pass):
    name = "acyclic_constraint"
    description = "acyclic(W) -> the equality tr(exp(W o W)) - d = 0 (NOTEARS), for a general NLP backend"
    form_in = "dag"
    form_out = "nlp"
    requires = frozenset({"acyclic"})
    removes = frozenset({"acyclic"})
    adds = frozenset({"nonlinear"})

    def accepts(self, form) -> str | None:
        if not isinstance(form, DAGForm):
            return f"this pass rewrites a DAG form, not {type(form).__name__}"
        if form.d > 60:
            return f"d = {form.d}: the exact Hessian of h(W) would need d^2 = {form.d ** 2} products (at most 60 nodes)"
        return None

    def apply(self, form: DAGForm, options=None) -> tuple[NLPForm, DAGForm]:
        nlp = form.score
        idx = form.w_index
        d, n, m = form.d, nlp.n, nlp.m
        flat = idx.ravel()

        def W_of(x: np.ndarray) -> np.ndarray:
            return np.asarray(x, dtype=float)[idx]

        def c(x: np.ndarray) -> np.ndarray:
            return np.concatenate([np.asarray(nlp.c(x), dtype=float), [h_value(W_of(x))[0]]])

        def jac(x: np.ndarray) -> sp.csr_matrix:
            g = h_value(W_of(x))[1].ravel()
            row = sp.csr_matrix((g, (np.zeros(d * d, dtype=int), flat)), shape=(1, n))
            return sp.vstack([sp.csr_matrix(nlp.jac(x)), row], format="csr")

        def h_hess(x: np.ndarray) -> sp.csr_matrix:
            W = W_of(x)
            cols = []
            for k in range(d * d):  # one exact product per weight
                V = np.zeros(d * d)
                V[k] = 1.0
                cols.append(h_hvp(W, V.reshape(d, d)).ravel())
            H = np.array(cols).T
            H = 0.5 * (H + H.T)
            r, q = np.nonzero(H)
            return sp.csr_matrix((H[r, q], (flat[r], flat[q])), shape=(n, n))

        def hess_lag(x: np.ndarray, lam: np.ndarray) -> sp.csr_matrix:
            lam = np.asarray(lam, dtype=float)
            return sp.csr_matrix(nlp.hess_lag(x, lam[:m])) + lam[m] * h_hess(x)

        def hvp(x: np.ndarray, lam: np.ndarray, v: np.ndarray) -> np.ndarray:
            lam = np.asarray(lam, dtype=float)
            base = nlp.hvp(x, lam[:m], v) if nlp.hvp is not None else sp.csr_matrix(nlp.hess_lag(x, lam[:m])) @ v
            out = np.array(base, dtype=float)
            out[flat] += lam[m] * h_hvp(W_of(x), np.asarray(v, dtype=float)[idx]).ravel()
            return out

        # grad h is zero on every DAG, W = 0 included: start off a DAG, at small seeded weights
        x0 = np.asarray(nlp.x0, dtype=float).copy()
        W0 = x0[idx]
        if topological_order_ok(W0):
            rng = np.random.default_rng(getattr(options, "seed", None) or 0)
            W0 = W0 + 0.1 * rng.uniform(-1.0, 1.0, size=(d, d)) * ~np.eye(d, dtype=bool)
            x0[idx] = W0
        layout = dataclasses.replace(nlp.layout, constraints=[*nlp.layout.constraints,
                                                              Block("acyclic_h", m, 1, None, True)])
        new = dataclasses.replace(nlp, m=m + 1, c=c, jac=jac, hess_lag=hess_lag, hvp=hvp,
                                  con_lower=np.concatenate([nlp.con_lower, [0.0]]),
                                  con_upper=np.concatenate([nlp.con_upper, [0.0]]),
                                  lam0=np.zeros(m + 1), layout=layout, x0=x0)
        return new, form

    def invert(self, result: Result, inverse: DAGForm) -> Result:
        if result.row_duals is not None:
            result.row_duals = result.row_duals[:-1]
        result.layout = inverse.layout
        if result.x is None:
            return result
        from optdsl.dag.metrics import topological_order

        W = np.asarray(result.x, dtype=float)[inverse.w_index].copy()
        W[np.abs(W) < 1e-8 * max(float(np.abs(W).max()), 1e-300)] = 0.0
        np.fill_diagonal(W, 0.0)
        order = topological_order(W != 0)
        ii, jj = np.nonzero(W)
        result.stats["edges"] = [(inverse.nodes[i], inverse.nodes[j], float(W[i, j])) for i, j in zip(ii, jj)]
        result.stats["order"] = [inverse.nodes[i] for i in order] if order is not None else []
        if order is None and result.solution_status != SolutionStatus.NONE:
            result.solution_status = SolutionStatus.FEASIBLE
            result.message = (result.message + "; " if result.message else "") + \
                "the weights above 1e-8 still form a cycle (h(W) > 0)"
        return result
