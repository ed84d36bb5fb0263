"""Evaluate IR expressions at a point with numpy (no torch): values only.

Used for reporting (display, printf, objective values) and as the fast path for small models.
The DAG is walked with an explicit stack, each node evaluated once.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from optdsl.ir.expr import NL, Expr, apply_numpy

Surrogate = Callable[[list[np.ndarray]], np.ndarray]


def poly_value(e: Expr, x: np.ndarray) -> np.ndarray:
    """const + linear + quadratic parts of `e` at x."""
    out = e.const.astype(np.float64).copy()
    if len(e.rows):
        out += np.bincount(e.rows, weights=e.vals * x[e.cols], minlength=e.n)
    if e.has_quad:
        out += np.bincount(e.q_rows, weights=e.q_vals * x[e.q_i] * x[e.q_j], minlength=e.n)
    return out


def expr_value(e: Expr, x: np.ndarray, surrogates: dict[str, Surrogate] | None = None) -> np.ndarray:
    out = poly_value(e, x)
    if e.nl is not None:
        out = out + nl_value(e.nl, x, surrogates)
    return out


def nl_value(root: NL, x: np.ndarray, surrogates: dict[str, Surrogate] | None = None) -> np.ndarray:
    memo: dict[int, np.ndarray] = {}
    stack: list[tuple[NL, bool]] = [(root, False)]
    while stack:
        node, ready = stack.pop()
        if id(node) in memo:
            continue
        if not ready:
            stack.append((node, True))
            stack.extend((a, False) for a in node.args if id(a) not in memo)
            continue
        args = [memo[id(a)] for a in node.args]
        memo[id(node)] = _eval_node(node, args, x, surrogates or {})
    return memo[id(root)]


def _eval_node(node: NL, args: list[np.ndarray], x: np.ndarray, surrogates: dict[str, Surrogate]) -> np.ndarray:
    op = node.op
    if op == "var":
        return x[node.data]
    if op == "const":
        return np.asarray(node.data, dtype=np.float64)
    if op == "affine":
        return poly_value(node.data, x)
    if op in ("add", "sub", "mul", "div", "pow", "max2", "min2"):
        return apply_numpy(op, args[0], args[1])
    if op == "sum":
        parent, n_out = node.data
        return np.bincount(parent, weights=args[0], minlength=n_out)
    if op in ("prod", "max", "min"):
        parent, n_out = node.data
        init = {"prod": 1.0, "max": -np.inf, "min": np.inf}[op]
        out = np.full(n_out, init)
        {"prod": np.multiply, "max": np.maximum, "min": np.minimum}[op].at(out, parent, args[0])
        return out
    if op == "gather":
        return args[0][node.data]
    if op == "call":
        name, k = node.data
        if name not in surrogates:
            raise KeyError(f"surrogate '{name}' is not loaded")
        y = np.asarray(surrogates[name](args), dtype=np.float64).reshape(-1)
        return y[np.broadcast_to(np.asarray(k) - 1, (node.n,))]
    return apply_numpy(op, args[0])
