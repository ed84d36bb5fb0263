"""The torch executor of a nonlinear DAG: the Program compiled to a torch function of x (one
walk over the topological order, each node once), derivatives by autograd, on CPU or CUDA.

- gradient: one backward pass of sum_r w_r' root_r.
- Jacobian: compressed reverse mode. Rows that share no column get one color (the pattern comes
  from the numpy executor's structural pass), one vector-Jacobian product per color recovers all
  rows exactly (Curtis-Powell-Reid); the products run batched (`is_grads_batched`).
- Hessian-vector product of the Lagrangian: double backward.
- explicit Hessian: one HVP per color of a distance-2 coloring of the Hessian pattern, so banded or
  block-sparse Hessians cost a handful of HVPs at any n. When the coloring needs more than
  `max_hessian_colors` HVPs (a Hessian with a dense row or column: up to n colors) the numpy
  executor's exact sparse Hessian is used instead, and past `max_explicit_nnz` stored entries a
  scipy LinearOperator of exact HVPs is returned (callers that need the matrix must then refuse).

torch is imported here only; nothing imports this module unless the torch executor is chosen.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
import torch

from optdsl.errors import SolverError
from optdsl.eval.dag import (
    BINARY,
    UNARY,
    Program,
    conflict_size,
    const_values,
    row_coloring,
    symmetric_coloring,
)
from optdsl.eval.sparse_jac import SparseExecutor

F64 = torch.float64
MAX_HESSIAN_COLORS = 1000  # above this the Hessian comes from the numpy executor (HVPs would be too many)
MAX_EXPLICIT_NNZ = 50_000_000  # above this the Hessian is a LinearOperator of HVPs (too large to store)
MAX_CONFLICT = 50_000_000  # refuse to build a coloring graph with more entries than this
MAX_BATCH_ENTRIES = 20_000_000  # seeds x length per batched autograd call (memory guard)

_UNARY = {
    "exp": torch.exp, "log": torch.log, "log10": torch.log10, "sqrt": torch.sqrt, "sin": torch.sin,
    "cos": torch.cos, "tan": torch.tan, "tanh": torch.tanh, "atan": torch.atan, "neg": torch.neg,
    "sinh": torch.sinh, "cosh": torch.cosh, "asin": torch.asin, "acos": torch.acos, "asinh": torch.asinh,
    "acosh": torch.acosh, "atanh": torch.atanh,
    "abs": torch.abs, "floor": torch.floor, "ceil": torch.ceil, "round": torch.round, "trunc": torch.trunc,
}


def _take(t: torch.Tensor, idx: slice | torch.Tensor) -> torch.Tensor:
    return t[idx] if isinstance(idx, slice) else torch.index_select(t, 0, idx)


def resolve_device(device: str) -> torch.device:
    """torch.device for "cpu", "cuda" or "cuda:K"; a clear error when CUDA is not there."""
    name = str(device or "cpu")
    try:
        dev = torch.device(name)
    except (RuntimeError, ValueError) as exc:
        raise SolverError(f"unknown device '{name}'", hint="use device 'cpu' or 'cuda'") from exc
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise SolverError(f"device '{name}' requested but torch sees no GPU",
                          hint="use device 'cpu', or install a CUDA build of torch on a GPU machine")
    if dev.type not in ("cpu", "cuda"):
        raise SolverError(f"device '{name}' is not supported", hint="use device 'cpu' or 'cuda'")
    return dev


class TorchExecutor:
    """Runs a Program with torch (float64) on `device`."""

    def __init__(self, prog: Program, device: str = "cpu", sparse: SparseExecutor | None = None,
                 max_hessian_colors: int = MAX_HESSIAN_COLORS, max_explicit_nnz: int = MAX_EXPLICIT_NNZ) -> None:
        self.prog = prog
        self.device = resolve_device(device)
        self.max_hessian_colors = max_hessian_colors
        self.max_explicit_nnz = max_explicit_nnz
        self._sparse = sparse  # source of structural patterns (built on demand)
        self._jac_plans: dict[tuple[int, ...], tuple] = {}
        self._needed: dict[tuple[int, ...], np.ndarray] = {}
        self._hess_plan: tuple | None = None
        self._batched_ok = self.device.type == "cuda"  # on CPU a loop of VJPs beats vmap (measured)
        dev = self.device

        def t_int(a: Any) -> torch.Tensor:
            return torch.as_tensor(np.asarray(a, dtype=np.int64), device=dev)

        def t_f(a: Any) -> torch.Tensor:
            return torch.as_tensor(np.array(a, dtype=np.float64), device=dev)

        def index(a: Any) -> slice | torch.Tensor:
            # a contiguous range becomes a slice: a view whose backward is cheap
            a = np.asarray(a, dtype=np.int64)
            if len(a) and np.array_equal(a, np.arange(a[0], a[0] + len(a))):
                return slice(int(a[0]), int(a[0]) + len(a))
            return t_int(a)

        def rows(r: np.ndarray, n: int) -> torch.Tensor | None:
            # None when term k sits on row k: a plain elementwise product, no index_add
            return None if np.array_equal(r, np.arange(n)) else t_int(r)

        # index and value arrays moved to the device once, at compile time
        self._data: list[Any] = []
        for node in prog.nodes:
            op = node.op
            if op == "var" or op == "gather":
                self._data.append(index(node.data))
            elif op == "const":
                self._data.append(t_f(const_values(node)))
            elif op == "affine":
                e = node.data
                q = None
                if e.has_quad:
                    q = (rows(e.q_rows, e.n), index(e.q_i), index(e.q_j), t_f(e.q_vals))
                self._data.append((t_f(e.const), rows(e.rows, e.n), index(e.cols), t_f(e.vals), q))
            elif op in ("sum", "prod", "max", "min"):
                parent, n_out = node.data
                self._data.append((t_int(parent), int(n_out)))
            else:
                self._data.append(None)

    # ------------------------------------------------------------------ the compiled function
    def run(self, xt: torch.Tensor, which: tuple[int, ...] | None = None) -> list[torch.Tensor]:
        """The values of roots `which` (all by default) as tensors, differentiable in xt; only the
        nodes those roots need are evaluated."""
        prog = self.prog
        which = tuple(range(len(prog.roots))) if which is None else tuple(which)
        if which not in self._needed:
            self._needed[which] = prog.needed(which)
        need = self._needed[which]
        vals: list[Any] = [None] * len(prog.nodes)
        for k, node in enumerate(prog.nodes):
            if need[k]:
                vals[k] = self._node(node, self._data[k], [vals[i] for i in prog.args[k]], xt)
        return [vals[prog.roots[i]] for i in which]

    def _node(self, node: Any, data: Any, a: list, xt: torch.Tensor) -> torch.Tensor:
        op = node.op
        dev = self.device
        if op == "var":
            return _take(xt, data)
        if op == "const":
            return data
        if op == "affine":
            const, rows, cols, vals, q = data
            terms = vals * _take(xt, cols)
            out = const + terms if rows is None else const.index_add(0, rows, terms)
            if q is not None:
                q_rows, q_i, q_j, q_vals = q
                terms = q_vals * _take(xt, q_i) * _take(xt, q_j)
                out = out + terms if q_rows is None else out.index_add(0, q_rows, terms)
            return out
        if op in UNARY:
            return _UNARY[op](a[0])
        if op in BINARY:
            x, y = a
            if op == "add":
                return x + y
            if op == "sub":
                return x - y
            if op == "mul":
                return x * y
            if op == "div":
                return x / y
            if op == "pow":
                return torch.pow(x, y)
            if op == "atan2":
                return torch.atan2(x, y)
            # ties go to the first argument, as in the numpy executor (torch.maximum splits them)
            return torch.where(x >= y, x, y) if op == "max2" else torch.where(x <= y, x, y)
        if op == "gather":
            return _take(a[0], data)
        parent, n_out = data
        if op == "sum":
            return torch.zeros(n_out, dtype=F64, device=dev).index_add(0, parent, a[0])
        init = {"prod": 1.0, "max": -np.inf, "min": np.inf}[op]
        reduce = {"prod": "prod", "max": "amax", "min": "amin"}[op]
        base = torch.full((n_out,), init, dtype=F64, device=dev)
        return base.scatter_reduce(0, parent, a[0], reduce=reduce, include_self=True)

    # ------------------------------------------------------------------ helpers
    def _x(self, x: np.ndarray, grad: bool) -> torch.Tensor:
        xt = torch.as_tensor(np.asarray(x, dtype=np.float64), device=self.device).clone()
        return xt.requires_grad_(grad)


    @staticmethod
    def _np(t: torch.Tensor) -> np.ndarray:
        return t.detach().cpu().numpy()

    def _lagrangian(self, xt: torch.Tensor, weights: list) -> torch.Tensor:
        """sum_r weights[r]' root_r as a scalar tensor; roots with weight None are not evaluated."""
        which = tuple(i for i, w in enumerate(weights) if w is not None)
        total = torch.zeros((), dtype=F64, device=self.device)
        for i, r in zip(which, self.run(xt, which), strict=True):
            w = torch.as_tensor(np.asarray(weights[i], dtype=np.float64), device=self.device)
            total = total + torch.dot(r, w)
        return total

    def _grad_of(self, out: torch.Tensor, xt: torch.Tensor, create_graph: bool = False) -> torch.Tensor:
        if not out.requires_grad:  # the roots do not depend on x
            return torch.zeros_like(xt)
        (g,) = torch.autograd.grad(out, xt, create_graph=create_graph, allow_unused=True)
        return torch.zeros_like(xt) if g is None else g

    def _batched_vjp(self, out: torch.Tensor, xt: torch.Tensor, seeds: torch.Tensor) -> torch.Tensor:
        """seeds (k x len(out)) -> seeds @ d out/d x (k x n), batched where torch allows it."""
        if not out.requires_grad or seeds.shape[0] == 0:
            return torch.zeros(seeds.shape[0], xt.shape[0], dtype=F64, device=self.device)
        k = seeds.shape[0]
        chunk = max(1, MAX_BATCH_ENTRIES // max(out.shape[0], xt.shape[0], 1))
        parts = []
        for s in range(0, k, chunk):
            block = seeds[s:s + chunk]
            if self._batched_ok:
                try:
                    (g,) = torch.autograd.grad(out, xt, block, retain_graph=True, is_grads_batched=True,
                                               allow_unused=True)
                    parts.append(torch.zeros_like(block[:, :1]).expand(-1, xt.shape[0]) if g is None else g)
                    continue
                except RuntimeError:  # an op without a batching rule: fall back to a loop
                    self._batched_ok = False
            for row in block:
                (g,) = torch.autograd.grad(out, xt, row, retain_graph=True, allow_unused=True)
                parts.append((torch.zeros_like(xt) if g is None else g)[None, :])
        return torch.cat(parts, dim=0)

    def _patterns(self) -> SparseExecutor:
        if self._sparse is None:
            self._sparse = SparseExecutor(self.prog)
        return self._sparse

    # ------------------------------------------------------------------ public oracles
    def root_values(self, x: np.ndarray, which: tuple[int, ...] | None = None) -> list[np.ndarray]:
        with torch.no_grad():
            return [self._np(r) for r in self.run(self._x(x, False), which)]

    def gradient(self, x: np.ndarray, weights: list) -> np.ndarray:
        xt = self._x(x, True)
        return self._np(self._grad_of(self._lagrangian(xt, weights), xt))

    def root_jacobians(self, x: np.ndarray, which: list[int] | None = None) -> list[sp.csr_matrix]:
        """Exact sparse Jacobians of roots `which` (all by default): one VJP per row color."""
        which = tuple(range(len(self.prog.roots))) if which is None else tuple(which)
        if not which:
            return []
        if which not in self._jac_plans:
            pats = self._patterns().jacobian_patterns()
            P = sp.vstack([pats[i] for i in which], format="csr")
            P.sum_duplicates()  # canonical: the decompressed values follow its (indptr, indices)
            if conflict_size(P, by_rows=False) > MAX_CONFLICT:
                colors = np.arange(P.shape[0])  # a dense column: one VJP per row
            else:
                colors = row_coloring(P)
            coo = P.tocoo()
            self._jac_plans[which] = (P, colors, coo.row.astype(np.int64), coo.col.astype(np.int64))
        P, colors, rows, cols = self._jac_plans[which]
        xt = self._x(x, True)
        out = torch.cat(self.run(xt, which))
        k = int(colors.max()) + 1 if len(colors) else 0
        col_t = torch.as_tensor(colors, device=self.device)
        seeds = (col_t[None, :] == torch.arange(k, device=self.device)[:, None]).to(F64)
        G = self._np(self._batched_vjp(out, xt, seeds))  # k x n: sums of rows of one color
        J = sp.csr_matrix((G[colors[rows], cols], P.indices, P.indptr), shape=P.shape)  # P's order
        offsets = np.concatenate([[0], np.cumsum([self.prog.root_sizes[i] for i in which])])
        return [J[offsets[i]:offsets[i + 1]] for i in range(len(which))]

    def hvp(self, x: np.ndarray, weights: list, v: np.ndarray) -> np.ndarray:
        """(d^2/dx^2 sum_r w_r' root_r) v by double backward."""
        xt = self._x(x, True)
        g = self._grad_of(self._lagrangian(xt, weights), xt, create_graph=True)
        if not g.requires_grad:  # the DAG is at most linear in x
            return np.zeros(len(x))
        vt = torch.as_tensor(np.asarray(v, dtype=np.float64), device=self.device)
        (h,) = torch.autograd.grad(g, xt, vt, allow_unused=True)
        return np.zeros(len(x)) if h is None else self._np(h)

    def hessian(self, x: np.ndarray, weights: list) -> sp.csr_matrix | spla.LinearOperator:
        """The exact Hessian: one HVP per color of the Hessian pattern (sparse CSR); the numpy
        executor's sparse Hessian when that needs more than `max_hessian_colors` HVPs; a
        LinearOperator of HVPs when the pattern has more than `max_explicit_nnz` entries."""
        n = self.prog.num_vars
        if self._hess_plan is None:
            P = self._patterns().hessian_pattern()
            P.sum_duplicates()
            colors = None
            if P.nnz <= self.max_explicit_nnz and conflict_size(P, by_rows=True) <= MAX_CONFLICT:
                colors = symmetric_coloring(P) if P.nnz else np.zeros(n, dtype=np.int64)
            coo = P.tocoo()
            self._hess_plan = (P, colors, coo.row.astype(np.int64), coo.col.astype(np.int64))
        P, colors, rows, cols = self._hess_plan
        if P.nnz == 0:
            return sp.csr_matrix((n, n))
        if P.nnz > self.max_explicit_nnz:
            x0 = np.array(x, dtype=np.float64)
            w0 = [None if w is None else np.array(w, dtype=np.float64) for w in weights]
            return spla.LinearOperator((n, n), matvec=lambda v: self.hvp(x0, w0, np.ravel(v)), dtype=np.float64)
        if colors is None or int(colors.max()) + 1 > self.max_hessian_colors:
            return self._patterns().hessian(np.asarray(x, dtype=np.float64), weights)
        xt = self._x(x, True)
        g = self._grad_of(self._lagrangian(xt, weights), xt, create_graph=True)
        k = int(colors.max()) + 1
        col_t = torch.as_tensor(colors, device=self.device)
        seeds = (col_t[None, :] == torch.arange(k, device=self.device)[:, None]).to(F64)
        HV = self._np(self._batched_vjp(g, xt, seeds))  # k x n: H times each color's seed
        return sp.csr_matrix((HV[colors[cols], rows], P.indices, P.indptr), shape=(n, n))  # P's order
