"""Lowering of the IR to a Pyomo ConcreteModel.

The IR's arrays are turned into Pyomo components directly: one indexed `Var` per variable block
(bounds, domains and start values set from the arrays), one indexed `Constraint` per
constraint block, each row's linear part a `LinearExpression` made from slices of the block's
sorted coefficient arrays (Pyomo's fastest way to build a linear expression; no operator
overloading per term), the quadratic part a sum of products, and the nonlinear DAG evaluated
once with numpy object arrays whose elements are Pyomo expressions, so each DAG node is one
array operation over all its rows. Pyomo's components are Python objects, so a loop over rows
remains; nothing loops over terms in Python except inside Pyomo's own constructors.

Pyomo has no max/min of expressions: `max2`/`min2` become `Expr_if` (for solvers taking
general nonlinear expressions through the NL writer); floor/ceil/round/trunc and surrogate calls
are refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from optdsl.errors import SolverError
from optdsl.eval.dag import build_program
from optdsl.ir.expr import NL, Expr
from optdsl.ir.model import ModelIR


@dataclass
class Built:
    """The Pyomo model and what maps its components back to the IR's flat vectors."""

    model: Any
    var_data: list[Any]  # Pyomo VarData objects in flat column order
    con_data: list[Any | None] = field(default_factory=list)  # per flat row; None for a skipped constant row
    objective: Any = None


# Names Pyomo's solver interfaces look up on the model as suffixes, and Block attributes.
_RESERVED = {"dual", "rc", "slack", "urc", "lrc", "ipopt_zL_out", "ipopt_zU_out", "ipopt_zL_in", "ipopt_zU_in",
             "scaling_factor", "name", "model", "solutions", "component", "parent_block", "type"}


def _pe():
    try:
        import pyomo.environ as pe
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise SolverError("the pyomo bridge needs Pyomo", hint="pip install 'optdsl[pyomo]'") from exc
    return pe


def _pyname(name: str, taken: set[str]) -> str:
    base = re.sub(r"\W", "_", name) or "c"
    out, k = base, 1
    while out in taken:
        k += 1
        out = f"{base}_{k}"
    taken.add(out)
    return out


def _bound(v: float) -> float | None:
    return None if not np.isfinite(v) else float(v)


def to_pyomo(ir: ModelIR) -> Built:
    """The ConcreteModel of `ir` (variables, constraints, objective)."""
    pe = _pe()
    for s in ir.structures:
        raise SolverError(f"the pyomo bridge cannot express the {s.kind} structure '{s.name}'")
    if ir.lower_blocks:
        raise SolverError("the pyomo bridge cannot express lower-level (bilevel) blocks")
    m = pe.ConcreteModel(name=ir.name)
    taken: set[str] = set(_RESERVED)
    var_data: list[Any] = []
    for vb in ir.variables:
        lo = np.broadcast_to(np.asarray(vb.lower, float), (vb.size,))
        hi = np.broadcast_to(np.asarray(vb.upper, float), (vb.size,))
        integer = np.broadcast_to(np.asarray(vb.integer, bool), (vb.size,))
        binary = integer & (lo >= 0) & (hi <= 1)
        domain = pe.Binary if binary.all() else pe.Integers if integer.all() else pe.Reals
        uniform = vb.size > 0 and bool(np.all(lo == lo[0]) and np.all(hi == hi[0]))
        bounds = (_bound(lo[0]), _bound(hi[0])) if uniform else None  # one bounds pair for the block: no loop
        comp = pe.Var(range(vb.size), domain=domain, dense=True, bounds=bounds)
        m.add_component(_pyname(vb.name, taken), comp)
        data = list(comp.values())
        if not uniform:
            for v, a, b in zip(data, lo.tolist(), hi.tolist(), strict=True):
                v.setlb(_bound(a))
                v.setub(_bound(b))
        if vb.init is not None:
            init = np.broadcast_to(np.asarray(vb.init, float), (vb.size,))
            for k in np.flatnonzero(np.isfinite(init)).tolist():
                data[k].set_value(float(init[k]), skip_validation=True)
        if domain is pe.Reals and integer.any():  # a block mixing integer and continuous members
            for k in np.flatnonzero(integer).tolist():
                data[k].domain = pe.Integers
        var_data.extend(data)
    xs = np.empty(len(var_data), dtype=object)
    xs[:] = var_data
    built = Built(m, var_data)
    for cb in ir.constraints:
        bodies = expr_rows(cb.expr, xs)
        lo = np.broadcast_to(np.asarray(cb.lower, float), (cb.expr.n,))
        hi = np.broadcast_to(np.asarray(cb.upper, float), (cb.expr.n,))
        comp = pe.Constraint(range(cb.expr.n))
        m.add_component(_pyname(cb.name, taken), comp)
        for r, (body, a, b) in enumerate(zip(bodies.tolist(), lo.tolist(), hi.tolist(), strict=True)):
            if isinstance(body, (int, float)):  # a row without variables: checked, not passed
                if not (a - 1e-9 <= body <= b + 1e-9):
                    raise SolverError(f"constraint {cb.name} row {r + 1} has no variables and is violated "
                                      f"({a} <= {body} <= {b} fails)")
                built.con_data.append(None)
                continue
            if a == b:
                comp[r] = body == a
            else:
                comp[r] = (_bound(a), body, _bound(b))
            built.con_data.append(comp[r])
    obj = ir.objective
    if obj is not None:
        body = expr_rows(obj.expr, xs)[0]
        sense = pe.maximize if obj.sense == "max" else pe.minimize
        built.objective = pe.Objective(expr=body, sense=sense)
        m.add_component(_pyname(obj.name, taken), built.objective)
    return built


def expr_rows(e: Expr, xs: np.ndarray) -> np.ndarray:
    """The n rows of `e` as an object array of Pyomo expressions (floats for constant rows)."""
    out = poly_rows(e, xs)
    if e.nl is not None:
        out = out + nl_rows(e.nl, xs)
    return out


def poly_rows(e: Expr, xs: np.ndarray) -> np.ndarray:
    from pyomo.core.expr.numeric_expr import LinearExpression

    n = e.n
    out = np.empty(n, dtype=object)
    out[:] = e.const.astype(float).tolist()
    if len(e.rows):
        order = np.argsort(e.rows, kind="stable")
        ptr = np.concatenate([[0], np.cumsum(np.bincount(e.rows, minlength=n))]).tolist()
        coefs = e.vals[order].tolist()
        vars_ = xs[e.cols[order]].tolist()
        const = out.tolist()
        for r in np.flatnonzero(np.diff(ptr)).tolist():
            s, t = ptr[r], ptr[r + 1]
            out[r] = LinearExpression(constant=const[r], linear_coefs=coefs[s:t], linear_vars=vars_[s:t])
    if e.has_quad:
        terms = e.q_vals * np.ones(1)  # float array
        prods = terms.astype(object) * xs[e.q_i] * xs[e.q_j]
        acc = np.zeros(n, dtype=object)
        np.add.at(acc, e.q_rows, prods)
        out = out + acc
    return out


def _expr_if(pe, a, b, take_a_when_ge: bool):
    cond = (a >= b) if take_a_when_ge else (a <= b)
    return pe.Expr_if(IF=cond, THEN=a, ELSE=b)


def nl_rows(root: NL, xs: np.ndarray) -> np.ndarray:
    """Evaluate the DAG with object arrays: every node is one numpy operation over its rows."""
    pe = _pe()
    unary = {"exp": pe.exp, "log": pe.log, "log10": pe.log10, "sqrt": pe.sqrt, "sin": pe.sin, "cos": pe.cos,
             "tan": pe.tan, "tanh": pe.tanh, "atan": pe.atan, "abs": abs,
             "sinh": pe.sinh, "cosh": pe.cosh, "asin": pe.asin, "acos": pe.acos, "asinh": pe.asinh,
             "acosh": pe.acosh, "atanh": pe.atanh}
    prog = build_program([root], len(xs))
    vals: list[np.ndarray] = []
    for node, args in zip(prog.nodes, prog.args, strict=True):
        a = [vals[i] for i in args]
        op = node.op
        if op == "var":
            v = xs[np.asarray(node.data, dtype=np.int64)]
        elif op == "const":
            v = np.broadcast_to(np.asarray(node.data, float), (node.n,)).copy()
        elif op == "affine":
            v = poly_rows(node.data, xs)
        elif op == "neg":
            v = -a[0]
        elif op in unary:
            v = np.frompyfunc(unary[op], 1, 1)(a[0])
        elif op == "add":
            v = a[0] + a[1]
        elif op == "sub":
            v = a[0] - a[1]
        elif op == "mul":
            v = a[0] * a[1]
        elif op == "div":
            v = a[0] / a[1]
        elif op == "pow":
            v = np.frompyfunc(lambda p, q: p**q, 2, 1)(a[0], a[1])
        elif op in ("max2", "min2"):
            v = np.frompyfunc(lambda p, q, ge=op == "max2": _expr_if(pe, p, q, ge), 2, 1)(a[0], a[1])
        elif op in ("sum", "prod"):
            parent, n_out = node.data
            v = np.full(n_out, 0.0 if op == "sum" else 1.0, dtype=object)
            (np.add if op == "sum" else np.multiply).at(v, np.asarray(parent), a[0].astype(object))
        elif op == "gather":
            v = a[0][np.asarray(node.data, dtype=np.int64)]
        else:
            raise SolverError(f"the pyomo bridge cannot express '{op}' (Pyomo has no such smooth function)",
                              hint="floor/ceil/round/trunc, max/min reductions and surrogate calls stay in optdsl")
        vals.append(np.asarray(v, dtype=object) if not isinstance(v, np.ndarray) else v)
    return vals[prog.roots[0]].astype(object)
