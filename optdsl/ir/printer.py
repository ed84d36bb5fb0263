"""Canonical text of an instantiated model, for golden tests and `optdsl show --ir`.

Two models print the same text exactly when they have the same variables (names, index tuples,
bounds, types), objectives and constraint rows (terms merged per column and sorted).
"""

from __future__ import annotations

import numpy as np

from optdsl.ir.expr import NL, Expr
from optdsl.ir.model import ModelIR


def _num(v: float) -> str:
    if v == np.inf:
        return "inf"
    if v == -np.inf:
        return "-inf"
    v = float(v)
    if v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    return f"{v:.12g}"


def _lab(v) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def var_names(ir: ModelIR) -> list[str]:
    names: list[str] = []
    for v in ir.variables:
        if v.scalar:
            names.append(v.name)
        else:
            names.extend(f"{v.name}[{','.join(_lab(x) for x in t)}]" for t in v.domain.tuples())
    return names


def _rows_text(e: Expr, names: list[str]) -> list[str]:
    """Each row's polynomial part: merged, sorted terms."""
    out: list[list[str]] = [[] for _ in range(e.n)]
    if len(e.rows):
        key = e.rows.astype(np.int64) * (len(names) + 1) + e.cols
        uniq, inv = np.unique(key, return_inverse=True)
        vals = np.bincount(inv.reshape(-1), weights=e.vals)
        for k, v in zip(uniq, vals):
            if v != 0:
                r, c = divmod(int(k), len(names) + 1)
                out[r].append(f"{_num(v)} {names[c]}")
    if e.has_quad:
        i, j = np.minimum(e.q_i, e.q_j), np.maximum(e.q_i, e.q_j)
        n = len(names)
        key = (e.q_rows.astype(np.int64) * n + i) * n + j
        uniq, inv = np.unique(key, return_inverse=True)
        vals = np.bincount(inv.reshape(-1), weights=e.q_vals)
        for k, v in zip(uniq, vals):
            if v != 0:
                rest, jj = divmod(int(k), n)
                r, ii = divmod(rest, n)
                term = f"{names[ii]}^2" if ii == jj else f"{names[ii]}*{names[jj]}"
                out[r].append(f"{_num(v)} {term}")
    return [" + ".join(t) if t else "0" for t in out]


def nl_text(node: NL, names: list[str]) -> list[str]:
    """Row-wise text of a DAG node (small models only: this is a printer)."""
    memo: dict[int, list[str]] = {}
    stack = [(node, False)]
    while stack:
        cur, ready = stack.pop()
        if id(cur) in memo:
            continue
        if not ready:
            stack.append((cur, True))
            stack.extend((a, False) for a in cur.args)
            continue
        args = [memo[id(a)] for a in cur.args]
        memo[id(cur)] = _node_text(cur, args, names)
    return memo[id(node)]


def _node_text(cur: NL, args: list[list[str]], names: list[str]) -> list[str]:
    op = cur.op
    if op == "var":
        return [names[int(c)] for c in cur.data]
    if op == "const":
        return [_num(v) for v in cur.data]
    if op == "affine":
        e: Expr = cur.data
        body = _rows_text(e, names)
        return [_num(c) if b == "0" else f"({_num(c)} + {b})" if c else f"({b})" for c, b in zip(e.const, body)]
    infix = {"add": "+", "sub": "-", "mul": "*", "div": "/", "pow": "^"}
    if op in infix:
        return [f"({a} {infix[op]} {b})" for a, b in zip(args[0], args[1])]
    if op in ("max2", "min2", "atan2"):
        name = "atan2" if op == "atan2" else op[:3]
        return [f"{name}({a}, {b})" for a, b in zip(args[0], args[1])]
    if op in ("sum", "prod", "max", "min"):
        parent, n_out = cur.data
        groups: list[list[str]] = [[] for _ in range(n_out)]
        for p, t in zip(parent, args[0]):
            groups[int(p)].append(t)
        return [f"{op}(" + ", ".join(g) + ")" for g in groups]
    if op == "gather":
        return [args[0][int(i)] for i in cur.data]
    if op == "call":
        name, k = cur.data
        inputs = "; ".join(",".join(a) if len(a) > 1 else a[0] for a in args)
        ks = np.broadcast_to(k, (cur.n,))
        return [f"{name}({inputs})[{int(kk)}]" for kk in ks]
    return [f"{op}({a})" for a in args[0]]


def expr_rows(e: Expr, names: list[str]) -> list[str]:
    poly = _rows_text(e, names)
    if e.nl is None:
        rows = poly
    else:
        nl = nl_text(e.nl, names)
        rows = [nt if p == "0" else f"{p} + {nt}" for p, nt in zip(poly, nl)]
    return [(f"{_num(c)} + {r}" if c else r) for c, r in zip(e.const, rows)]


def print_ir(ir: ModelIR) -> str:
    names = var_names(ir)
    out: list[str] = []
    k = 0
    for v in ir.variables:
        level = f"  # lower {v.level}" if v.level else ""
        for pos in range(v.size):
            kind = " integer" if v.integer[pos] else ""
            init = f" := {_num(v.init[pos])}" if v.init is not None else ""
            out.append(f"var {names[k]}{kind} in [{_num(v.lower[pos])}, {_num(v.upper[pos])}]{init}{level}")
            k += 1
    for o in ir.objectives:
        level = f"  # lower {o.level}" if o.level else ""
        out.append(f"{'minimize' if o.sense == 'min' else 'maximize'} {o.name}: {expr_rows(o.expr, names)[0]}{level}")
    for c in ir.constraints:
        labels = [""] if c.scalar else ["[" + ",".join(_lab(x) for x in t) + "]" for t in c.domain.tuples()]
        for lab, body, lo, hi in zip(labels, expr_rows(c.expr, names), c.lower, c.upper):
            if lo == hi:
                rel = f"{body} = {_num(hi)}"
            elif lo == -np.inf:
                rel = f"{body} <= {_num(hi)}"
            elif hi == np.inf:
                rel = f"{body} >= {_num(lo)}"
            else:
                rel = f"{_num(lo)} <= {body} <= {_num(hi)}"
            out.append(f"subject to {c.name}{lab}: {rel}")
    for s in ir.structures:
        shown = sorted((k, v) for k, v in s.data.items() if not k.startswith("_"))  # "_": run-time attachments
        out.append(f"structure {s.kind} {s.name}: " + ", ".join(f"{k}={v}" for k, v in shown))
    for name, value in sorted(ir.options.items()):
        out.append(f"option {name} {value}")
    return "\n".join(out) + "\n"
