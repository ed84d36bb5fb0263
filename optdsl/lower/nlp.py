"""Lowering of a nonlinear model to NLPForm: minimize f(x) s.t. con_lower <= c(x) <= con_upper,
col_lower <= x <= col_upper, with exact, sparse derivatives.

Every expression is  polynomial part (constant + linear + quadratic COO)  +  optional DAG.
- Polynomial parts are differentiated in closed form (`optdsl.eval.poly`): Jacobian rows, gradient,
  and the Lagrangian Hessian sum_r lam_r Q_r as one sparse assembly of q_vals * lam[q_rows].
- DAG parts run on an executor: "numpy" (`optdsl.eval.sparse_jac`: forward-mode sparse Jacobians,
  reverse-mode gradients, exact sparse Hessians; no torch) or "torch" (`optdsl.eval.torch_eval`:
  autograd, double-backward HVPs, CPU or CUDA). "auto" picks numpy on CPU and torch on CUDA; see
  docs/nlp_lowering.md for the measurements behind that choice.

A model without a DAG (linear or quadratic only) never imports torch. A maximize objective is
negated (NLPForm.sense = "max" tells backends to report -f).
"""

from __future__ import annotations

import importlib.util

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from optdsl.errors import SolverError
from optdsl.eval.dag import Program, build_program
from optdsl.eval.poly import PolyPart
from optdsl.eval.sparse_jac import SparseExecutor
from optdsl.ir.expr import NL
from optdsl.ir.model import ModelIR
from optdsl.lower.forms import NLPForm
from optdsl.lower.lp import layout_of

EXECUTORS = ("auto", "numpy", "torch")
Matrix = np.ndarray | sp.spmatrix | spla.LinearOperator


def to_nlpform(ir: ModelIR, device: str = "cpu", executor: str = "auto") -> NLPForm:
    """The NLPForm of `ir`. `device` ("cpu", "cuda", "cuda:K") is where the torch executor runs;
    `executor` is "auto", "numpy" or "torch" (model option `nlp_executor` when left at "auto")."""
    from optdsl.lower.chain import check_expressible

    check_expressible(ir.features(), "nlp")
    if executor == "auto" and "nlp_executor" in ir.options:
        executor = str(ir.options["nlp_executor"])
    if executor not in EXECUTORS:
        raise SolverError(f"unknown nonlinear executor '{executor}'", hint="use auto, numpy or torch")
    oracles = NLPOracles(ir, device=device, executor=executor)
    lo, hi, x0 = _columns(ir)
    cons = ir.constraints
    con_lower = np.concatenate([_rows(c.lower, c.expr.n) for c in cons]) if cons else np.zeros(0)
    con_upper = np.concatenate([_rows(c.upper, c.expr.n) for c in cons]) if cons else np.zeros(0)
    return NLPForm(
        n=oracles.n, m=oracles.m, x0=x0, f=oracles.f, grad=oracles.grad, c=oracles.c, jac=oracles.jac,
        hess_lag=oracles.hess_lag, hvp=oracles.hvp, con_lower=con_lower, con_upper=con_upper,
        col_lower=lo, col_upper=hi, lam0=np.zeros(oracles.m), sense=oracles.sense,
        layout=layout_of(ir), name=ir.name,
    )


def lower_nlp(ir: ModelIR, options: object = None) -> NLPForm:
    """The chain's entry for the `nlp` form (`options.device` says where torch runs)."""
    return to_nlpform(ir, device=getattr(options, "device", None) or "cpu")


def _rows(v: np.ndarray | float, n: int) -> np.ndarray:
    return np.broadcast_to(np.asarray(v, dtype=np.float64), (n,)).copy()


def _columns(ir: ModelIR) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Column bounds and the start point: `:=` values (else 0), clipped into the bounds so every
    backend starts inside them (AMPL-like; interior-point solvers push a start inside the same way)."""
    if not ir.variables:
        z = np.zeros(0)
        return z, z.copy(), z.copy()
    lo = np.concatenate([_rows(v.lower, v.size) for v in ir.variables])
    hi = np.concatenate([_rows(v.upper, v.size) for v in ir.variables])
    x0 = np.concatenate([_rows(v.init, v.size) if v.init is not None else np.zeros(v.size)
                         for v in ir.variables])
    x0 = np.where(np.isnan(x0), 0.0, x0)
    return lo, hi, np.minimum(np.maximum(x0, lo), hi)


def choose_executor(executor: str, device: str) -> str:
    """"auto" is numpy on CPU and torch on a CUDA device. Measured on CPU (docs/nlp_lowering.md):
    torch's Jacobian + gradient overtakes numpy's only from ~10^4 rows and by less than 2x, its
    Hessians are slower at every size, and importing it costs a second or two; so on CPU torch
    is used only when asked for. Asking for torch without torch installed is an error."""
    dev = str(device or "cpu")
    if executor == "auto":
        executor = "torch" if dev.startswith("cuda") else "numpy"
    if executor == "torch" and importlib.util.find_spec("torch") is None:
        raise SolverError("the torch executor needs torch, which is not installed",
                          hint="pip install torch, or use the numpy executor on CPU")
    return executor


def _check_device(device: str) -> None:
    """A non-CPU device is checked even for a model without a DAG (which then runs on numpy), so
    a request that cannot be met never passes silently."""
    if importlib.util.find_spec("torch") is None:
        raise SolverError(f"device '{device}' requested but torch is not installed",
                          hint="install torch with CUDA support, or use device 'cpu'")
    from optdsl.eval.torch_eval import resolve_device

    resolve_device(device)


class DagPart:
    """The DAG parts of the objective and of the constraint rows, as one Program: subexpressions
    shared between them are evaluated once, and the Lagrangian Hessian is one sweep."""

    def __init__(self, obj_root: NL | None, con_roots: list[NL], con_offsets: list[int], m: int,
                 num_vars: int, executor: str, device: str) -> None:
        self.has_f = obj_root is not None
        self.first_con = 1 if self.has_f else 0
        self.offsets, self.m, self.num_vars = con_offsets, m, num_vars
        self.program: Program = build_program(([obj_root] if obj_root is not None else []) + con_roots, num_vars)
        self.sizes = self.program.root_sizes[self.first_con:]
        self.con_ids = list(range(self.first_con, len(self.program.roots)))
        sparse = SparseExecutor(self.program)
        if executor == "torch":
            from optdsl.eval.torch_eval import TorchExecutor  # the only torch import on this path

            self.exec = TorchExecutor(self.program, device=device, sparse=sparse)
        else:
            self.exec = sparse
        self._last: tuple | None = None  # (x, root values): f and c at one point share a pass

    def _values(self, x: np.ndarray) -> list[np.ndarray]:
        if self._last is None or not np.array_equal(self._last[0], x):
            self._last = (x.copy(), self.exec.root_values(x))
        return self._last[1]

    def _weights(self, sign: float | None, lam: np.ndarray | None) -> list:
        w: list = [np.array([sign]) if sign is not None else None] if self.has_f else []
        for o, n in zip(self.offsets, self.sizes, strict=True):
            w.append(None if lam is None else lam[o:o + n])
        return w

    def f(self, x: np.ndarray) -> float:
        return float(self._values(x)[0][0]) if self.has_f else 0.0

    def c(self, x: np.ndarray) -> np.ndarray:
        out = np.zeros(self.m)
        vals = self._values(x)
        for o, n, i in zip(self.offsets, self.sizes, self.con_ids, strict=True):
            out[o:o + n] += vals[i]
        return out

    def jac(self, x: np.ndarray) -> sp.csr_matrix:
        pieces, row = [], 0
        for o, J in zip(self.offsets, self.exec.root_jacobians(x, self.con_ids), strict=True):
            if o > row:
                pieces.append(sp.csr_matrix((o - row, self.num_vars)))
            pieces.append(J)
            row = o + J.shape[0]
        if self.m > row:
            pieces.append(sp.csr_matrix((self.m - row, self.num_vars)))
        return sp.vstack(pieces, format="csr") if pieces else sp.csr_matrix((0, self.num_vars))

    def grad_f(self, x: np.ndarray, sign: float) -> np.ndarray:
        if not self.has_f:
            return np.zeros(self.num_vars)
        return self.exec.gradient(x, self._weights(sign, None))

    def hess(self, x: np.ndarray, sign: float, lam: np.ndarray) -> Matrix:
        return self.exec.hessian(x, self._weights(sign, lam))

    def hvp(self, x: np.ndarray, sign: float, lam: np.ndarray, v: np.ndarray) -> np.ndarray:
        return self.exec.hvp(x, self._weights(sign, lam), v)


class NLPOracles:
    """f, grad, c, jac, hess_lag and hvp of a model: closed-form polynomial parts plus DAG parts."""

    def __init__(self, ir: ModelIR, device: str = "cpu", executor: str = "auto") -> None:
        self.n = nv = ir.num_vars
        obj = ir.objective
        self.sense = obj.sense if obj is not None else "min"
        # f is minimized: a maximize objective is negated here and restored via sense
        self.sign = -1.0 if self.sense == "max" else 1.0
        cons = ir.constraints
        sizes = [c.expr.n for c in cons]
        offsets = [int(o) for o in np.concatenate([[0], np.cumsum(sizes)])[:-1]] if cons else []
        self.m = int(sum(sizes))
        has_dag = (obj is not None and obj.expr.nl is not None) or any(c.expr.nl is not None for c in cons)
        if str(device or "cpu") != "cpu":
            _check_device(device)
        kind = choose_executor(executor, device) if has_dag else "numpy"
        self.executor = kind
        obj_exprs = [obj.expr] if obj is not None else []
        if obj is not None and obj.expr.n != 1:
            raise SolverError(f"objective '{obj.name}' has {obj.expr.n} rows; it must be a scalar")
        self.poly_f = PolyPart(obj_exprs, nv)
        self.poly_c = PolyPart([c.expr for c in cons], nv)
        with_nl = [k for k, c in enumerate(cons) if c.expr.nl is not None]
        obj_nl = obj.expr.nl if obj is not None else None
        self.dag = None
        if obj_nl is not None or with_nl:
            self.dag = DagPart(obj_nl, [cons[k].expr.nl for k in with_nl], [offsets[k] for k in with_nl],
                               self.m, nv, kind, device)
        self._hf_poly = self.poly_f.hess(np.array([self.sign])) if self.poly_f.m else None
        self._w_f = np.array([self.sign])

    # ------------------------------------------------------------------ objective
    def f(self, x: np.ndarray) -> float:
        x = np.asarray(x, dtype=np.float64)
        if not self.poly_f.m:
            return 0.0
        v = self.poly_f.value(x)[0]
        if self.dag is not None:
            v += self.dag.f(x)
        return float(self.sign * v)

    def grad(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        if not self.poly_f.m:
            return np.zeros(self.n)
        g = self.poly_f.grad(x, self._w_f)
        if self.dag is not None:
            g = g + self.dag.grad_f(x, self.sign)
        return g

    # ------------------------------------------------------------------ constraints
    def c(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        v = self.poly_c.value(x)
        if self.dag is not None:
            v = v + self.dag.c(x)
        return v

    def jac(self, x: np.ndarray) -> sp.csr_matrix:
        """The (m x n) constraint Jacobian, sparse CSR."""
        x = np.asarray(x, dtype=np.float64)
        J = self.poly_c.jac(x)
        if self.dag is not None and self.dag.sizes:
            J = (J + self.dag.jac(x)).tocsr()
        return J

    # ------------------------------------------------------------------ Lagrangian
    def hess_lag(self, x: np.ndarray, lam: np.ndarray) -> Matrix:
        """The exact Hessian of f + lam'c: symmetric sparse CSR with both triangles. Only the torch
        executor, for a Hessian past its `max_explicit_nnz` (5e7 stored entries), returns a scipy
        LinearOperator of exact HVPs instead."""
        x = np.asarray(x, dtype=np.float64)
        lam = np.asarray(lam, dtype=np.float64)
        parts: list[Matrix] = [self.poly_c.hess(lam)]
        if self._hf_poly is not None:
            parts.append(self._hf_poly)
        if self.dag is not None:
            parts.append(self.dag.hess(x, self.sign, lam))
        if any(isinstance(p, spla.LinearOperator) for p in parts):
            ops = [p if isinstance(p, spla.LinearOperator) else spla.aslinearoperator(p) for p in parts]
            total = ops[0]
            for p in ops[1:]:
                total = total + p
            return total
        H = parts[0]
        for p in parts[1:]:
            H = H + p
        return sp.csr_matrix(H)

    def hvp(self, x: np.ndarray, lam: np.ndarray, v: np.ndarray) -> np.ndarray:
        """(Hessian of f + lam'c) v without forming the Hessian on the torch executor."""
        x = np.asarray(x, dtype=np.float64)
        lam = np.asarray(lam, dtype=np.float64)
        v = np.asarray(v, dtype=np.float64)
        out = self.poly_c.hvp(lam, v)
        if self.poly_f.m:
            out = out + self.poly_f.hvp(self._w_f, v)
        if self.dag is not None:
            out = out + self.dag.hvp(x, self.sign, lam, v)
        return out
