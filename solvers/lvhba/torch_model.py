"""IR expressions compiled to batched torch functions: Z (n x B, one point per column) -> rows
(m x B). Variables run along dimension 0 and the batch along dimension 1, so every index
operation of the IR (gather, index_add, scatter_reduce) acts on dimension 0 unchanged and a batch
of B points costs one pass. Derivatives come from torch autograd.

Row r of an expression is const[r] + linear terms + quadratic terms + DAG(z)[r] (optdsl.ir.expr).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from optdsl.errors import SolverError
from optdsl.eval.dag import BINARY, UNARY, build_program, const_values
from optdsl.ir.expr import Expr

F64 = torch.float64

_UNARY = {
    "exp": torch.exp, "log": torch.log, "log10": torch.log10, "sqrt": torch.sqrt, "sin": torch.sin,
    "cos": torch.cos, "tan": torch.tan, "tanh": torch.tanh, "atan": torch.atan, "neg": torch.neg,
    "sinh": torch.sinh, "cosh": torch.cosh, "asin": torch.asin, "acos": torch.acos, "asinh": torch.asinh,
    "acosh": torch.acosh, "atanh": torch.atanh,
    "abs": torch.abs, "floor": torch.floor, "ceil": torch.ceil, "round": torch.round, "trunc": torch.trunc,
}


def resolve_device(device: str) -> torch.device:
    from optdsl.eval.torch_eval import resolve_device as _resolve

    return _resolve(device)


class _Poly:
    """The polynomial part of stacked expressions, on the device."""

    def __init__(self, exprs: list[Expr], dev: torch.device) -> None:
        sizes = [e.n for e in exprs]
        offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        self.m = int(offsets[-1])

        def t_i(parts: list[np.ndarray]) -> torch.Tensor:
            a = np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, dtype=np.int64)
            return torch.as_tensor(a, device=dev)

        def t_f(parts: list[np.ndarray]) -> torch.Tensor:
            a = np.concatenate(parts).astype(np.float64) if parts else np.zeros(0)
            return torch.as_tensor(a, device=dev)

        self.const = t_f([e.const for e in exprs])
        self.rows = t_i([e.rows + o for e, o in zip(exprs, offsets[:-1], strict=True)])
        self.cols = t_i([e.cols for e in exprs])
        self.vals = t_f([e.vals for e in exprs])
        quad = [(e, o) for e, o in zip(exprs, offsets[:-1], strict=True) if e.has_quad]
        self.has_quad = bool(quad)
        self.q_rows = t_i([e.q_rows + o for e, o in quad])
        self.q_i = t_i([e.q_i for e, _ in quad])
        self.q_j = t_i([e.q_j for e, _ in quad])
        self.q_vals = t_f([e.q_vals for e, _ in quad])

    def __call__(self, Z: torch.Tensor) -> torch.Tensor:
        B = Z.shape[1]
        out = self.const[:, None].expand(self.m, B)
        if self.vals.numel():
            out = out.index_add(0, self.rows, self.vals[:, None] * Z[self.cols])
        if self.has_quad:
            out = out.index_add(0, self.q_rows, self.q_vals[:, None] * Z[self.q_i] * Z[self.q_j])
        return out


class BatchedRows:
    """sum of the polynomial part and the DAG parts of a list of expressions, rows stacked."""

    def __init__(self, exprs: list[Expr], num_vars: int, device: torch.device) -> None:
        self.device = device
        self.poly = _Poly(exprs, device)
        self.m = self.poly.m
        sizes = [e.n for e in exprs]
        offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        with_nl = [k for k, e in enumerate(exprs) if e.nl is not None]
        self.nl_rows = [torch.arange(int(offsets[k]), int(offsets[k + 1]), device=device) for k in with_nl]
        self.program = build_program([exprs[k].nl for k in with_nl], num_vars) if with_nl else None
        self._data: list[Any] = []
        if self.program is not None:
            for node in self.program.nodes:
                self._data.append(self._compile(node))

    def _compile(self, node: Any) -> Any:
        dev = self.device
        op = node.op
        if op in ("var", "gather"):
            return torch.as_tensor(np.asarray(node.data, dtype=np.int64), device=dev)
        if op == "const":
            return torch.as_tensor(np.array(const_values(node), dtype=np.float64), device=dev)[:, None]
        if op == "affine":
            return _Poly([node.data], dev)
        if op in ("sum", "prod", "max", "min"):
            parent, n_out = node.data
            return torch.as_tensor(np.asarray(parent, dtype=np.int64), device=dev), int(n_out)
        return None

    def __call__(self, Z: torch.Tensor) -> torch.Tensor:
        out = self.poly(Z)
        if self.program is None:
            return out
        prog = self.program
        vals: list[Any] = [None] * len(prog.nodes)
        for k, node in enumerate(prog.nodes):
            vals[k] = self._node(node, self._data[k], [vals[i] for i in prog.args[k]], Z)
        B = Z.shape[1]
        for rows, r in zip(self.nl_rows, prog.roots, strict=True):
            out = out.index_add(0, rows, vals[r].expand(-1, B))
        return out

    def _node(self, node: Any, data: Any, a: list, Z: torch.Tensor) -> torch.Tensor:
        op = node.op
        if op == "var":
            return Z[data]
        if op == "const":
            return data
        if op == "affine":
            return data(Z)
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
            # ties go to the first argument, as in the other executors
            return torch.where(x >= y, x, y) if op == "max2" else torch.where(x <= y, x, y)
        if op == "gather":
            return a[0][data]
        parent, n_out = data
        B = Z.shape[1]
        src = a[0].expand(-1, B)
        index = parent[:, None].expand(-1, B)
        if op == "sum":
            return torch.zeros(n_out, B, dtype=F64, device=self.device).index_add(0, parent, src)
        init = {"prod": 1.0, "max": -np.inf, "min": np.inf}[op]
        reduce = {"prod": "prod", "max": "amax", "min": "amin"}[op]
        base = torch.full((n_out, B), init, dtype=F64, device=self.device)
        return base.scatter_reduce(0, index, src, reduce=reduce, include_self=True)


class BilevelTorch:
    """F, f, the follower rows g and the leader rows G of a BilevelForm as batched torch functions.

    Objectives are signed so that both levels minimize. Row bounds stay as in the IR
    (lower <= row <= upper); `follower_rows` maps them to the one-sided forms the algorithm uses.
    """

    def __init__(self, form: Any, device: str = "cpu") -> None:
        self.device = resolve_device(device)
        n = int(form.col_lower.shape[0])
        self.n = n
        up, lo = form.upper, form.lower
        if up.objective is None or lo.objective is None:
            raise SolverError("the bilevel form lacks an objective at one level")
        self.F = BatchedRows([up.objective.expr], n, self.device)
        self.f = BatchedRows([lo.objective.expr], n, self.device)
        self.sF = up.objective_sign
        self.sf = lo.objective_sign
        self.g_all = BatchedRows([c.expr for c in lo.blocks], n, self.device)
        self.G_all = BatchedRows([c.expr for c in up.blocks], n, self.device)

    def tensor(self, a: np.ndarray) -> torch.Tensor:
        return torch.as_tensor(np.asarray(a, dtype=np.float64), device=self.device)
