"""`optdsl.from_pyomo(model)`: a Pyomo model as an optdsl Model, to print as `.opt` (`to_opt`),
inspect, or solve with optdsl's backends.

Each Pyomo component keeps its name and its index set. Linear and quadratic parts, which Pyomo's
`generate_standard_repn` extracts per row, become data: for a constraint C and a variable V, the
set `C__V` of (row index, variable index) pairs with the coefficients `C__V_a`, summed as
`sum {(i1, j1) in C__V} C__V_a[i1, j1] * V[j1]` (the row dummy i1 is bound by C's indexing, so
the sum runs over that row's terms). The nonlinear remainder of each row is written as text;
rows whose nonlinear parts differ only in which variables and numbers they use share one
template, with variable leaves read through one-element sets (`sum {(i1, j1) in C__nl1_v0} V[j1]`)
and differing numbers through params, so an indexed nonlinear constraint stays one indexed
statement. Pyomo's expressions are Python objects, so the walk is a loop over rows and terms;
all arrays after it are built by the optdsl instantiation, vectorized.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from typing import Any

from optdsl.errors import ModelError

_UNARY = {"exp", "log", "log10", "sqrt", "sin", "cos", "tan", "tanh", "atan", "sinh", "cosh", "asin", "acos",
          "asinh", "acosh", "atanh"}


def _pe():
    try:
        import pyomo.environ as pe
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ModelError("from_pyomo needs Pyomo", hint="pip install 'optdsl[pyomo]'") from exc
    return pe


def _key(idx: Any) -> tuple:
    if idx is None:
        return ()
    return tuple(idx) if isinstance(idx, tuple) else (idx,)


def _num(v: float) -> str:
    if math.isinf(v):
        return "Infinity" if v > 0 else "-Infinity"
    if float(v).is_integer() and abs(v) < 1e15:
        return str(int(v))
    return repr(float(v))


def _lab(v: Any) -> str:
    if isinstance(v, str):
        return '"' + v.replace('"', '\\"') + '"'
    return _num(float(v))


def _times(a: float, ref: str) -> str:
    return ref if a == 1 else f"-{ref}" if a == -1 else f"{_num(a)} * {ref}"


def _idx(k: tuple, vc: _VarComp) -> str:
    return "" if vc.scalar else f"[{', '.join(_lab(v) for v in k)}]"


def _dummies(prefix: str, k: int) -> list[str]:
    return [f"{prefix}{t + 1}" for t in range(k)]


def _over(names: list[str], set_name: str) -> str:
    """`{i1 in S}` / `{(i1, i2) in S}`."""
    if len(names) == 1:
        return f"{{{names[0]} in {set_name}}}"
    return f"{{({', '.join(names)}) in {set_name}}}"


def _sub(names: list[str]) -> str:
    return f"[{', '.join(names)}]" if names else ""


class _Names:
    def __init__(self) -> None:
        from optdsl.parse.builder import KEYWORDS
        from optdsl.parse.resolve import CONSTANTS

        self.taken: set[str] = set(KEYWORDS) | set(CONSTANTS) | _UNARY | {"abs", "i1", "j1", "k1"}

    def new(self, name: str) -> str:
        base = re.sub(r"\W", "_", name).strip("_") or "c"
        if base[0].isdigit():
            base = "c_" + base
        out, k = base, 1
        while out in self.taken:
            k += 1
            out = f"{base}_{k}"
        self.taken.add(out)
        return out


class _VarComp:
    def __init__(self, name: str, dim: int, scalar: bool) -> None:
        self.name, self.dim, self.scalar = name, dim, scalar


class _Translator:
    def __init__(self, model: Any) -> None:
        self.pe = _pe()
        self.model = model
        self.names = _Names()
        self.lines: list[str] = []
        self.data: dict[str, Any] = {}
        self.var_of: dict[int, tuple[_VarComp, tuple]] = {}  # id(VarData) -> (component, index)

    # ------------------------------------------------------------------ variables
    def variables(self) -> None:
        pe = self.pe
        for comp in self.model.component_objects(pe.Var, active=True, descend_into=True):
            items = list(comp.items())
            if not items:
                continue
            scalar = not comp.is_indexed()
            keys = [_key(k) for k, _ in items]
            dims = {len(k) for k in keys}
            if len(dims) > 1:
                raise ModelError(f"Pyomo variable '{comp.name}' mixes index lengths {sorted(dims)}",
                                 hint="give every member of an indexed Var the same number of indices")
            dim = dims.pop()
            name = self.names.new(comp.getname(fully_qualified=True))
            vc = _VarComp(name, dim, scalar)
            lo, hi, init, integer, binary = [], [], [], [], []
            for _, vd in items:
                if vd.fixed:
                    lo.append(float(vd.value))
                    hi.append(float(vd.value))
                else:
                    lo.append(-math.inf if vd.lb is None else float(vd.lb))
                    hi.append(math.inf if vd.ub is None else float(vd.ub))
                init.append(None if vd.value is None else float(vd.value))
                integer.append(bool(vd.is_integer()))
                binary.append(bool(vd.is_binary()))
            if any(integer) and not all(integer):
                raise ModelError(f"Pyomo variable '{comp.name}' mixes integer and continuous members",
                                 hint="split it into two Var components")
            for (_, vd), k in zip(items, keys, strict=True):
                self.var_of[id(vd)] = (vc, k)
            attrs = []
            if all(binary):
                attrs.append("binary")
            elif all(integer):
                attrs.append("integer")
            js = _dummies("j", dim)
            if scalar:
                if math.isfinite(lo[0]) and not (all(binary) and lo[0] == 0):
                    attrs.append(f">= {_num(lo[0])}")
                if math.isfinite(hi[0]) and not (all(binary) and hi[0] == 1):
                    attrs.append(f"<= {_num(hi[0])}")
                if init[0] is not None:
                    attrs.append(f":= {_num(init[0])}")
                self.lines.append(f"var {name}{' ' + ', '.join(attrs) if attrs else ''};")
                continue
            iset = f"{name}_index"
            self.lines.append(f"set {iset}{f' dimen {dim}' if dim > 1 else ''};")
            self.data[iset] = [k if dim > 1 else k[0] for k in keys]
            tup = [k if dim > 1 else k[0] for k in keys]
            for tag, vals, bad in (("lo", lo, -math.inf), ("hi", hi, math.inf)):
                if all(v == bad for v in vals) or (all(binary) and all(v == (0 if tag == "lo" else 1) for v in vals)):
                    continue
                self.lines.append(f"param {name}_{tag} {{{iset}}};")
                self.data[f"{name}_{tag}"] = dict(zip(tup, vals, strict=True))
                attrs.append(f"{'>=' if tag == 'lo' else '<='} {name}_{tag}{_sub(js)}")
            if any(v is not None for v in init):
                self.lines.append(f"param {name}_init {{{iset}}};")
                self.data[f"{name}_init"] = dict(zip(tup, [0.0 if v is None else v for v in init], strict=True))
                attrs.append(f":= {name}_init{_sub(js)}")
            self.lines.append(f"var {name} {_over(js, iset)}{' ' + ', '.join(attrs) if attrs else ''};")

    def _var(self, vd: Any) -> tuple[_VarComp, tuple]:
        try:
            return self.var_of[id(vd)]
        except KeyError:
            raise ModelError(f"variable '{vd.name}' is used but not declared in the model (or is inactive)") from None

    def _ref(self, vd: Any) -> str:
        vc, k = self._var(vd)
        return vc.name + (f"[{', '.join(_lab(v) for v in k)}]" if not vc.scalar else "")

    # ------------------------------------------------------------------ rows
    def rows_text(self, cname: str, rows: list[tuple[tuple, Any]]) -> tuple[str, list[float]]:
        """The body text of a block of rows (index tuple, Pyomo body) and each row's constant."""
        from pyomo.repn.standard_repn import generate_standard_repn

        dim = len(rows[0][0]) if rows else 0
        scalar_block = dim == 0 and len(rows) == 1
        ins = _dummies("i", dim)
        lin: dict[str, dict] = defaultdict(dict)  # var comp -> {(row + var idx): coef}
        quad: dict[tuple[str, str], dict] = defaultdict(dict)
        comps: dict[str, _VarComp] = {}
        consts: list[float] = []
        nl_rows: list[tuple[tuple, Any]] = []
        for key, body in rows:
            repn = generate_standard_repn(body, quadratic=True, compute_values=True)
            consts.append(float(self.pe.value(repn.constant)))
            for vd, a in zip(repn.linear_vars, repn.linear_coefs, strict=True):
                vc, k = self._var(vd)
                comps[vc.name] = vc
                d = lin[vc.name]
                d[key + k] = d.get(key + k, 0.0) + float(self.pe.value(a))
            for (v1, v2), a in zip(repn.quadratic_vars, repn.quadratic_coefs, strict=True):
                (c1, k1), (c2, k2) = self._var(v1), self._var(v2)
                comps[c1.name], comps[c2.name] = c1, c2
                d = quad[(c1.name, c2.name)]
                d[key + k1 + k2] = d.get(key + k1 + k2, 0.0) + float(self.pe.value(a))
            if repn.nonlinear_expr is not None:
                nl_rows.append((key, repn.nonlinear_expr))
        terms: list[str] = []
        literal = scalar_block and sum(len(c) for c in lin.values()) + sum(len(c) for c in quad.values()) <= 50
        for vname, coefs in lin.items():
            vc = comps[vname]
            if literal:
                terms.extend(_times(a, f"{vname}{_idx(k, vc)}") for k, a in coefs.items())
                continue
            js = _dummies("j", vc.dim if not vc.scalar else 0)
            sname = self.names.new(f"{cname}__{vname}")
            self._tuple_set(sname, ins + js, coefs, f"{sname}_a")
            terms.append(f"sum {_over(ins + js, sname)} {sname}_a{_sub(ins + js)} * {vname}{_sub(js)}")
        for (n1, n2), coefs in quad.items():
            c1, c2 = comps[n1], comps[n2]
            j1 = _dummies("j", 0 if c1.scalar else c1.dim)
            j2 = _dummies("k", 0 if c2.scalar else c2.dim)
            if literal:
                d1 = 0 if c1.scalar else c1.dim
                terms.extend(_times(a, f"{n1}{_idx(k[:d1], c1)} * {n2}{_idx(k[d1:], c2)}") for k, a in coefs.items())
                continue
            sname = self.names.new(f"{cname}__{n1}__{n2}")
            self._tuple_set(sname, ins + j1 + j2, coefs, f"{sname}_q")
            terms.append(f"sum {_over(ins + j1 + j2, sname)} {sname}_q{_sub(ins + j1 + j2)} * "
                         f"{n1}{_sub(j1)} * {n2}{_sub(j2)}")
        terms.extend(self._nonlinear(cname, ins, nl_rows, scalar_block, len(rows)))
        return (" + ".join(terms) if terms else "0"), consts

    def _tuple_set(self, sname: str, dummies: list[str], values: dict, pname: str) -> None:
        k = len(dummies)
        self.lines.append(f"set {sname}{f' dimen {k}' if k > 1 else ''};")
        self.lines.append(f"param {pname} {{{sname}}};")
        tup = [t if k > 1 else t[0] for t in values]
        self.data[sname] = tup
        self.data[pname] = dict(zip(tup, values.values(), strict=True))

    def _nonlinear(self, cname: str, ins: list[str], nl_rows: list[tuple[tuple, Any]], scalar_block: bool,
                   num_rows: int) -> list[str]:
        if not nl_rows:
            return []
        if scalar_block:
            return [self._template(nl_rows[0][1], literal=True)[0]]
        groups: dict[str, list[tuple[tuple, list, list]]] = defaultdict(list)
        for key, e in nl_rows:
            text, leaves, numbers = self._template(e, literal=False)
            groups[text].append((key, leaves, numbers))
        out = []
        for text, members in groups.items():
            g = self.names.new(f"{cname}__nl")
            every_row = len(members) == num_rows  # then no row filter is needed
            rows_set = f"{cname}_index" if every_row else f"{g}_rows"
            if not every_row:
                self.lines.append(f"set {rows_set}{f' dimen {len(ins)}' if len(ins) > 1 else ''};")
                self.data[rows_set] = [m[0] if len(ins) > 1 else m[0][0] for m in members]
            fill: dict[str, str] = {}
            for li in range(len(members[0][1])):
                vcs = {self._var(m[1][li])[0].name for m in members}
                vc = self._var(members[0][1][li])[0]
                if len(vcs) > 1:
                    raise ModelError(f"constraint '{cname}': rows of one template use different variables at one place",
                                     hint="write such rows as separate Pyomo constraints")
                if vc.scalar:
                    fill[f"V{li}"] = vc.name
                    continue
                js = _dummies("j", vc.dim)
                sname = f"{g}_v{li}"
                vals = {m[0] + self._var(m[1][li])[1]: 1.0 for m in members}
                k = len(ins) + vc.dim
                self.lines.append(f"set {sname}{f' dimen {k}' if k > 1 else ''};")
                self.data[sname] = [t if k > 1 else t[0] for t in vals]
                fill[f"V{li}"] = f"(sum {_over(ins + js, sname)} {vc.name}{_sub(js)})"
            for ki in range(len(members[0][2])):
                vals = [m[2][ki] for m in members]
                if all(v == vals[0] for v in vals):
                    fill[f"K{ki}"] = _num(vals[0])
                    continue
                pname = f"{g}_k{ki}"
                self.lines.append(f"param {pname} {{{rows_set}}};")
                self.data[pname] = {(m[0] if len(ins) > 1 else m[0][0]): v for m, v in zip(members, vals, strict=True)}
                fill[f"K{ki}"] = f"{pname}{_sub(ins)}"
            body = re.sub(r"\{([VK]\d+)\}", lambda mt, f=fill: f[mt.group(1)], text)
            out.append(body if every_row else f"sum {_over(ins, rows_set)} ({body})")
        return out

    def _template(self, e: Any, literal: bool) -> tuple[str, list, list]:
        """Text of a Pyomo expression; with literal=False variables and numbers become {Vk}/{Kk}
        placeholders (returned in order), so rows differing only in them share the text."""
        pe = self.pe
        leaves: list = []
        numbers: list[float] = []

        def num(v: float) -> str:
            if literal:
                return _num(v) if v >= 0 else f"({_num(v)})"
            numbers.append(float(v))
            return f"{{K{len(numbers) - 1}}}"

        def walk(x: Any) -> str:
            if isinstance(x, (int, float)):
                return num(float(x))
            if not x.is_potentially_variable() or (x.is_variable_type() and x.fixed):
                return num(float(pe.value(x)))
            if x.is_variable_type():
                if literal:
                    return self._ref(x)
                leaves.append(x)
                return f"{{V{len(leaves) - 1}}}"
            cls = type(x).__name__
            args = list(x.args)
            if cls in ("SumExpression", "LinearExpression", "NPV_SumExpression"):
                return "(" + " + ".join(walk(a) for a in args) + ")"
            if cls in ("MonomialTermExpression", "ProductExpression"):
                return f"({walk(args[0])} * {walk(args[1])})"
            if cls == "DivisionExpression":
                return f"({walk(args[0])} / {walk(args[1])})"
            if cls == "PowExpression":
                return f"({walk(args[0])} ^ {walk(args[1])})"
            if cls == "NegationExpression":
                return f"(-{walk(args[0])})"
            if cls == "AbsExpression":
                return f"abs({walk(args[0])})"
            if cls == "UnaryFunctionExpression":
                fname = x.getname()
                if fname not in _UNARY:
                    raise ModelError(f"Pyomo function '{fname}' has no optdsl counterpart",
                                     hint=f"optdsl's smooth functions: {', '.join(sorted(_UNARY))}")
                return f"{fname}({walk(args[0])})"
            if hasattr(x, "is_named_expression_type") and x.is_named_expression_type():
                return walk(x.expr)
            raise ModelError(f"cannot translate the Pyomo expression {type(x).__name__} ({x})",
                             hint="from_pyomo takes sums, products, quotients, powers and smooth functions")

        return walk(e), leaves, numbers

    # ------------------------------------------------------------------ constraints, objective
    def constraints(self) -> None:
        pe = self.pe
        for comp in self.model.component_objects(pe.Constraint, active=True, descend_into=True):
            items = [(k, cd) for k, cd in comp.items() if cd.active]
            if not items:
                continue
            name = self.names.new(comp.getname(fully_qualified=True))
            keys = [_key(k) for k, _ in items]
            if len({len(k) for k in keys}) > 1:
                raise ModelError(f"Pyomo constraint '{comp.name}' mixes index lengths")
            dim = len(keys[0])
            body, consts = self.rows_text(name, [(k, cd.body) for k, (_, cd) in zip(keys, items, strict=True)])
            lo = [(-math.inf if cd.lower is None else float(pe.value(cd.lower))) - c
                  for (_, cd), c in zip(items, consts, strict=True)]
            hi = [(math.inf if cd.upper is None else float(pe.value(cd.upper))) - c
                  for (_, cd), c in zip(items, consts, strict=True)]
            if not comp.is_indexed():
                self.lines.append(f"subject to {name}: {self._bounded(body, lo[0], hi[0], None, [])};")
                continue
            iset = f"{name}_index"
            ins = _dummies("i", dim)
            self.lines.append(f"set {iset}{f' dimen {dim}' if dim > 1 else ''};")
            tup = [k if dim > 1 else k[0] for k in keys]
            self.data[iset] = tup
            self.lines.append(f"subject to {name} {_over(ins, iset)}: "
                              f"{self._bounded(body, lo, hi, (name, iset, tup), ins)};")

    def _bounded(self, body: str, lo: Any, hi: Any, indexed: tuple | None, ins: list[str]) -> str:
        if indexed is None:
            if lo == hi:
                return f"{body} = {_num(lo)}"
            parts = [f"{_num(lo)} <=" if math.isfinite(lo) else "", body, f"<= {_num(hi)}" if math.isfinite(hi) else ""]
            if not math.isfinite(lo) and not math.isfinite(hi):
                parts = ["-Infinity <=", body]
            return " ".join(p for p in parts if p)
        name, iset, tup = indexed
        lo_fin, hi_fin = any(math.isfinite(v) for v in lo), any(math.isfinite(v) for v in hi)

        def param(tag: str, vals: list[float]) -> str:
            self.lines.append(f"param {name}_{tag} {{{iset}}};")
            self.data[f"{name}_{tag}"] = dict(zip(tup, vals, strict=True))
            return f"{name}_{tag}{_sub(ins)}"

        if lo == hi:
            return f"{body} = {param('rhs', lo)}"
        if lo_fin and not hi_fin:
            return f"{body} >= {param('lo', lo)}"
        if hi_fin and not lo_fin:
            return f"{body} <= {param('hi', hi)}"
        return f"{param('lo', lo)} <= {body} <= {param('hi', hi)}"

    def objective(self) -> None:
        pe = self.pe
        objs = [o for o in self.model.component_data_objects(pe.Objective, active=True, descend_into=True)]
        if len(objs) > 1:
            raise ModelError(f"the Pyomo model has {len(objs)} active objectives; optdsl takes one",
                             hint="deactivate all but one (obj.deactivate())")
        if not objs:
            return
        o = objs[0]
        name = self.names.new(o.getname(fully_qualified=True))
        body, consts = self.rows_text(name, [((), o.expr)])
        if consts[0]:
            body = f"{body} + {_num(consts[0])}" if consts[0] > 0 else f"{body} - {_num(-consts[0])}"
        word = "maximize" if o.sense == pe.maximize else "minimize"
        self.lines.append(f"{word} {name}: {body};")


def from_pyomo(model: Any, name: str | None = None) -> Any:
    """The optdsl Model of a Pyomo ConcreteModel (variables with bounds and integrality,
    constraints, one objective; linear, quadratic and smooth nonlinear expressions)."""
    from optdsl.api.model import parse_model

    pe = _pe()
    if not isinstance(model, pe.Block):
        raise ModelError(f"from_pyomo takes a Pyomo ConcreteModel, got {type(model).__name__}")
    if not model.is_constructed():
        raise ModelError("the Pyomo model is abstract (not constructed)", hint="use model.create_instance(data)")
    t = _Translator(model)
    t.variables()
    t.constraints()
    t.objective()
    label = name or re.sub(r"\W", "_", model.name or "pyomo_model") or "pyomo_model"
    return parse_model("\n".join(t.lines) + "\n", data=t.data, name=f"{label}.opt")
