"""Lowering of a model with surrogate calls to SurrogateForm.

Every distinct call phi(e1, e2, ...) (same network, structurally equal inputs) becomes one block of
outputs y_s = phi(u_s(x)); each output reference phi(...)[k] in the objective and constraints is
replaced by the variable y_s[k]. What is left is an ordinary NLP over z = (x, y), lowered by the
NLP lowering with exact derivatives; the networks themselves are evaluated in batches (values) or
as torch functions (for attacks that differentiate through them).
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from typing import Any

import numpy as np

from optdsl.errors import ModelError, SolverError
from optdsl.ir.expr import NL, Expr
from optdsl.ir.model import ConBlock, ModelIR, ObjectiveIR, VarBlock
from optdsl.lower.forms import NLPForm, SurrogateCall, SurrogateForm
from optdsl.lower.lp import layout_of


def to_surrogate_form(ir: ModelIR, opts: Any = None) -> SurrogateForm:
    """The SurrogateForm of `ir`. `opts` (SolveOptions or None) is not needed for the lowering
    itself; the networks are loaded here (torch imported) and kept on the CPU."""
    _refuse_unsupported(ir)
    obj = ir.objective
    if obj is None:
        raise SolverError("a surrogate model needs an objective")
    if obj.expr.n != 1:
        raise SolverError(f"objective '{obj.name}' has {obj.expr.n} rows; it must be a scalar")
    n = ir.num_vars
    decls = _declarations(ir)
    exprs = [obj.expr] + [c.expr for c in ir.constraints]
    sites: dict[tuple, SurrogateCall] = {}
    order: list[tuple] = []
    keys = _KeyCache()
    for e in exprs:
        for node in _calls(e.nl):
            name = node.data[0]
            key = (name, tuple(keys.key(a) for a in node.args))
            if key not in sites:
                for a in node.args:
                    if _calls(a):
                        raise SolverError(f"surrogate '{name}' is called with an input that calls a surrogate",
                                          hint="a network's inputs must be algebraic expressions of variables")
                sites[key] = SurrogateCall(name, list(node.args), int(sum(a.n for a in node.args)), 0, 0,
                                           cols=_plain_columns(node.args))
                order.append(key)
    if not sites:
        raise SolverError("the model declares a surrogate but never calls it",
                          hint="use its outputs, e.g. phi(x)[1], in the objective or a constraint")
    surrogates = {}
    offset = 0
    calls = []
    for key in order:
        site = sites[key]
        if site.name not in decls:
            raise ModelError(f"surrogate '{site.name}' is called but not declared")
        if site.name not in surrogates:
            surrogates[site.name] = _load(site.name, decls[site.name], ir)
        site.n_out = surrogates[site.name].check_sizes(site.n_in)
        site.offset = offset
        offset += site.n_out
        calls.append(site)
    m = offset
    # rewrite: phi(...)[k] -> y[offset + k - 1]
    position = {key: sites[key].offset for key in order}

    def replacement(node: NL) -> NL:
        name = node.data[0]
        key = (name, tuple(keys.key(a) for a in node.args))
        site = sites[key]
        k = np.broadcast_to(np.asarray(node.data[1], dtype=np.int64), (node.n,))
        if np.any(k < 1) or np.any(k > site.n_out):
            bad = int(k[(k < 1) | (k > site.n_out)][0])
            raise ModelError(f"surrogate '{name}' has {site.n_out} outputs; output [{bad}] does not exist",
                             hint=f"outputs are numbered 1..{site.n_out}")
        return NL("var", node.n, data=(n + position[key] + k - 1).astype(np.int64))

    zir = _outer_ir(ir, n, m, replacement)
    from optdsl.lower.nlp import NLPOracles, _columns

    oracles = NLPOracles(zir, device="cpu", executor="numpy")
    lo, hi, x0 = _columns(ir)
    cons = zir.constraints
    con_lower = np.concatenate([np.broadcast_to(c.lower, (c.expr.n,)) for c in cons]) if cons else np.zeros(0)
    con_upper = np.concatenate([np.broadcast_to(c.upper, (c.expr.n,)) for c in cons]) if cons else np.zeros(0)
    zlo = np.concatenate([lo, np.full(m, -np.inf)])
    zhi = np.concatenate([hi, np.full(m, np.inf)])
    z0 = np.concatenate([x0, np.zeros(m)])
    outer = NLPForm(n=n + m, m=oracles.m, x0=z0, f=oracles.f, grad=oracles.grad, c=oracles.c, jac=oracles.jac,
                    hess_lag=oracles.hess_lag, hvp=oracles.hvp, con_lower=con_lower.astype(np.float64),
                    con_upper=con_upper.astype(np.float64), col_lower=zlo, col_upper=zhi,
                    sense=oracles.sense, name=ir.name)
    used = _used_columns(zir.objective.expr, n + m)
    phi = PhiMap(calls, surrogates, n, m)
    con_exprs = [c.expr for c in cons]
    return SurrogateForm(
        n=n, m=m, x0=x0, col_lower=lo, col_upper=hi, calls=calls, surrogates=surrogates, outer=outer,
        phi=phi, torch_maps=lambda device: phi.torch_maps(device, con_exprs),
        objective_inputs=used[:n], objective_outputs=used[n:], sense=obj.sense,
        differentiable=all(s.differentiable for s in surrogates.values()), layout=layout_of(ir), name=ir.name,
    )


# ------------------------------------------------------------------------------ evaluation
class PhiMap:
    """y = Phi(x) for a batch of points: the inputs of each call (a column gather when they are
    plain variables, else the numpy executor row by row), then one batched call per network."""

    def __init__(self, calls: list[SurrogateCall], surrogates: dict, n: int, m: int) -> None:
        self.calls, self.surrogates, self.n, self.m = calls, surrogates, n, m
        self._input_exec: dict[int, Any] = {}

    def inputs(self, k: int, X: np.ndarray) -> np.ndarray:
        site = self.calls[k]
        if site.cols is not None:
            return X[:, site.cols]
        if k not in self._input_exec:
            from optdsl.eval.dag import build_program
            from optdsl.eval.sparse_jac import SparseExecutor

            self._input_exec[k] = SparseExecutor(build_program(site.inputs, self.n))
        ex = self._input_exec[k]
        return np.stack([np.concatenate(ex.root_values(x)) for x in X])

    def __call__(self, X: np.ndarray) -> np.ndarray:
        X = np.atleast_2d(np.asarray(X, dtype=np.float64))
        out = np.empty((X.shape[0], self.m))
        for k, site in enumerate(self.calls):
            out[:, site.offset:site.offset + site.n_out] = self.surrogates[site.name].numpy(self.inputs(k, X))
        return out

    def torch_maps(self, device: str, con_exprs: list[Expr]) -> tuple | None:
        """(phi_t, con_t): phi_t maps a torch x (n,) to y (m,), con_t maps z = (x, y) (n+m,) to the
        constraint rows; both differentiable, on `device`. None when a network gives values only."""
        if not all(s.differentiable for s in self.surrogates.values()):
            return None
        import torch

        from optdsl.eval.dag import build_program
        from optdsl.eval.torch_eval import TorchExecutor, resolve_device

        dev = resolve_device(device)
        for s in self.surrogates.values():
            s.to(dev)
        input_exec = {k: TorchExecutor(build_program(site.inputs, self.n), device=str(dev))
                      for k, site in enumerate(self.calls) if site.cols is None}
        cols = {k: torch.as_tensor(site.cols, device=dev) for k, site in enumerate(self.calls) if site.cols is not None}
        con_exec = (TorchExecutor(build_program([e.to_nl() for e in con_exprs], self.n + self.m), device=str(dev))
                    if con_exprs else None)

        def phi_t(xt: torch.Tensor) -> torch.Tensor:
            parts = []
            for k, site in enumerate(self.calls):
                u = xt[cols[k]] if k in cols else torch.cat(input_exec[k].run(xt))
                parts.append(self.surrogates[site.name](u[None, :])[0])
            return torch.cat(parts)

        def con_t(zt: torch.Tensor) -> torch.Tensor:
            if con_exec is None:
                return zt[:0]
            return torch.cat(con_exec.run(zt))

        return phi_t, con_t


# ------------------------------------------------------------------------------ helpers
def _refuse_unsupported(ir: ModelIR) -> None:
    if ir.lower_blocks:
        raise SolverError("the surrogate lowering cannot take a lower-level (bilevel) block")
    for s in ir.structures:
        if s.kind != "surrogate":
            raise SolverError(f"the surrogate lowering cannot take the '{s.kind}' structure '{s.name}'")
    for v in ir.variables:
        if np.any(v.integer):
            raise SolverError(f"variable '{v.name}' is integer; the surrogate backends search continuous spaces")
    if len([o for o in ir.objectives if o.level is None]) > 1:
        raise SolverError("a surrogate model takes one objective")


def _declarations(ir: ModelIR) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for s in ir.structures:
        if s.kind == "surrogate":
            out.setdefault(s.name, s.data)
    return out


def _load(name: str, data: dict, ir: ModelIR) -> Any:
    from optdsl.surrogates.load import load_declared

    return load_declared(name, data, ir)


def _calls(root: NL | None) -> list[NL]:
    """The call nodes under `root` (each once), by an explicit-stack walk."""
    if root is None:
        return []
    out, seen, stack = [], set(), [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if node.op == "call":
            out.append(node)
        stack.extend(reversed(node.args))  # left to right: sites are numbered as written
    return out


def _plain_columns(args: list[NL]) -> np.ndarray | None:
    if all(a.op == "var" for a in args):
        return np.concatenate([np.asarray(a.data, dtype=np.int64) for a in args])
    return None


class _KeyCache:
    """Structural keys of NL subtrees (op, size, data, arguments) as digests, memoized by id."""

    def __init__(self) -> None:
        self._memo: dict[int, str] = {}
        self._keep: list[NL] = []  # ids stay valid while the nodes live

    def key(self, root: NL) -> str:
        stack: list[tuple[NL, bool]] = [(root, False)]
        while stack:
            node, ready = stack.pop()
            if id(node) in self._memo:
                continue
            if not ready:
                stack.append((node, True))
                stack.extend((a, False) for a in node.args if id(a) not in self._memo)
                continue
            h = hashlib.sha1(f"{node.op}|{node.n}|".encode())
            _hash_data(h, node.data)
            for a in node.args:
                h.update(self._memo[id(a)].encode())
            self._memo[id(node)] = h.hexdigest()
            self._keep.append(node)
        return self._memo[id(root)]


def _hash_data(h: Any, data: Any) -> None:
    if data is None:
        h.update(b"none")
    elif isinstance(data, np.ndarray):
        h.update(str(data.dtype).encode() + str(data.shape).encode())
        h.update(np.ascontiguousarray(data).tobytes())
    elif isinstance(data, Expr):
        for a in (data.const, data.rows, data.cols, data.vals, data.q_rows, data.q_i, data.q_j, data.q_vals):
            _hash_data(h, None if a is None else np.asarray(a))
    elif isinstance(data, (tuple, list)):
        h.update(b"(")
        for d in data:
            _hash_data(h, d)
        h.update(b")")
    else:
        h.update(repr(data).encode())


def _rewrite(root: NL | None, replacement: Any) -> NL | None:
    """A copy of the DAG with each call node replaced; subtrees without calls are shared."""
    if root is None:
        return None
    new: dict[int, NL] = {}
    stack: list[tuple[NL, bool]] = [(root, False)]
    while stack:
        node, ready = stack.pop()
        if id(node) in new:
            continue
        if node.op == "call":
            new[id(node)] = replacement(node)
            continue
        if not ready:
            stack.append((node, True))
            stack.extend((a, False) for a in node.args if id(a) not in new)
            continue
        args = [new[id(a)] for a in node.args]
        same = all(a is b for a, b in zip(args, node.args))
        new[id(node)] = node if same else replace(node, args=args)
    return new[id(root)]


def _outer_ir(ir: ModelIR, n: int, m: int, replacement: Any) -> ModelIR:
    def expr(e: Expr) -> Expr:
        return replace(e, nl=_rewrite(e.nl, replacement))

    obj = ir.objective
    y = VarBlock("_phi", None, n, m, np.full(m, -np.inf), np.full(m, np.inf), np.zeros(m, dtype=bool))
    return ModelIR(
        variables=list(ir.variables) + [y],
        constraints=[ConBlock(c.name, c.domain, expr(c.expr), c.lower, c.upper) for c in ir.constraints],
        objectives=[ObjectiveIR(obj.name, obj.sense, expr(obj.expr))],
        name=ir.name,
    )


def _used_columns(e: Expr, num: int) -> np.ndarray:
    """Which columns expression `e` reads (its polynomial part and every var/affine leaf)."""
    used = np.zeros(num, dtype=bool)

    def poly(p: Expr) -> None:
        used[np.asarray(p.cols, dtype=np.int64)] = True
        if p.has_quad:
            used[np.asarray(p.q_i, dtype=np.int64)] = True
            used[np.asarray(p.q_j, dtype=np.int64)] = True

    poly(e)
    stack, seen = ([e.nl] if e.nl is not None else []), set()
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if node.op == "var":
            used[np.asarray(node.data, dtype=np.int64)] = True
        elif node.op == "affine":
            poly(node.data)
        stack.extend(node.args)
    return used
