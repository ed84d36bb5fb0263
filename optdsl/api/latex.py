"""A model in mathematical notation (LaTeX), for notebooks (`Model._repr_latex_`) and
`optdsl show MODEL --latex`.

    \\begin{array}{llll}
    \\min & \\sum_{i \\in I, j \\in J} c_{i,j} x_{i,j} & & \\text{(cost)} \\\\
    \\text{s.t.} & \\sum_{j \\in J} x_{i,j} \\le a_{i} & \\forall i \\in I & \\text{(supply)} \\\\
    ...

Expressions print through the same iterative engine as `.opt` text (no recursion limit on long
sums), with LaTeX pieces; sympy's printer names the symbols (`lambda` -> `\\lambda`, `x1` ->
`x_{1}`) and writes numbers in scientific notation.
"""

from __future__ import annotations

import math
import re
from functools import lru_cache

from optdsl.api.opt_text import ADD, ATOM, MUL, NONE, OR, UNARY, UNION, level, render
from optdsl.api.opt_text import _tail as _opt_tail
from optdsl.parse import ast

_CMP = {"<=": r"\le", ">=": r"\ge", "=": "=", "==": "=", "!=": r"\ne", "<>": r"\ne", "<": "<", ">": ">"}
_FUNCS = {"exp": r"\exp", "log": r"\log", "log10": r"\log_{10}", "sin": r"\sin", "cos": r"\cos", "tan": r"\tan",
          "tanh": r"\tanh", "atan": r"\arctan", "max": r"\max", "min": r"\min", "sinh": r"\sinh",
          "cosh": r"\cosh", "asin": r"\arcsin", "acos": r"\arccos", "asinh": r"\operatorname{arsinh}",
          "acosh": r"\operatorname{arcosh}", "atanh": r"\operatorname{artanh}"}
_ITER = {"sum": r"\sum", "prod": r"\prod", "max": r"\max", "min": r"\min", "union": r"\bigcup",
         "inter": r"\bigcap", "forall": r"\forall", "exists": r"\exists"}
_SETOPS = {"union": r"\cup", "inter": r"\cap", "diff": r"\setminus", "symdiff": r"\triangle", "cross": r"\times"}


_GREEK = frozenset("""alpha beta gamma delta epsilon varepsilon zeta eta theta vartheta iota kappa lambda mu nu
xi omicron pi varpi rho varrho sigma varsigma tau upsilon phi varphi chi psi omega Gamma Delta Theta Lambda Xi Pi
Sigma Upsilon Phi Psi Omega lamda Lamda""".split())
_SIMPLE = re.compile(r"[A-Za-z]\Z|[A-Za-z]{2,}\Z")
# names sympy writes well: a letter or greek name, optional digits, at most one short subscript (x_1, sigma_ij)
_GREEK_ALT = "|".join(sorted(_GREEK, key=len, reverse=True))
_SYMPY_STYLE = re.compile(r"(?:[A-Za-z]|" + _GREEK_ALT + r")\d*(?:_[A-Za-z0-9]{1,3})?\Z")


@lru_cache(maxsize=4096)
def symbol(name: str) -> str:
    """A name as a math symbol: greek letters, digit suffixes and subscripts through sympy;
    other multi-letter names italic as one word."""
    if _SIMPLE.match(name) and name not in _GREEK:  # no need to import sympy (slow) for these
        return name if len(name) == 1 else r"\mathit{" + name + "}"
    if not _SYMPY_STYLE.match(name):  # hours_per_unit, max_make: one italic word, not nested subscripts
        return r"\mathit{" + name.replace("_", r"\_") + "}"
    try:
        import sympy

        text = sympy.latex(sympy.Symbol(name))
    except Exception:  # pragma: no cover - sympy is a dependency; stay usable without it
        text = name
    if text == name and len(name) > 1:
        return r"\mathit{" + name.replace("_", r"\_") + "}"
    return text


def number(v: float | int) -> str:
    if isinstance(v, bool):
        v = int(v)
    if isinstance(v, int):
        return str(v)
    f = float(v)
    if math.isinf(f):
        return r"\infty" if f > 0 else r"-\infty"
    if f.is_integer() and abs(f) < 1e16:
        return str(int(f))
    text = repr(f)
    if "e" in text:
        import sympy

        return sympy.latex(sympy.Float(text, 6))
    return text


def _level(n: ast.Expr) -> int:
    if isinstance(n, ast.BinOp) and n.op == "/":
        return ATOM  # \frac{..}{..} needs no parentheses
    if isinstance(n, ast.Num) and n.value < 0:
        return UNARY
    return level(n)


def _tail(n: ast.Expr) -> int | None:
    return None if isinstance(n, ast.IfThen) else _opt_tail(n)


def expr_latex(node: ast.Expr, min_level: int = OR, follow: int = NONE) -> str:
    return render(node, _pieces, _level, _tail, r"\left(", r"\right)", min_level, follow)


def _sub(base: str, subs: tuple[ast.Expr, ...]) -> list[object]:
    head = base if "_" not in base or base.startswith(r"\mathit{") else "{" + base + "}"
    out: list[object] = [head + "_{"]
    for k, s in enumerate(subs):
        if k:
            out.append(",")
        out.append((s, OR, NONE))
    out.append("}")
    return out


def _args(items: tuple[ast.Expr, ...]) -> list[object]:
    out: list[object] = []
    for k, a in enumerate(items):
        if k:
            out.append(", ")
        out.append((a, OR, NONE))
    return out


def _pieces(n: ast.Expr, follow: int) -> list[object]:
    if isinstance(n, ast.Num):
        return ["-" + number(-n.value)] if n.value < 0 else [number(n.value)]
    if isinstance(n, ast.Str):
        return [r"\text{" + n.value.replace("\\", "").replace("{", "").replace("}", "") + "}"]
    if isinstance(n, ast.Ref):
        return _sub(symbol(n.name), n.subs) if n.subs else [symbol(n.name)]
    if isinstance(n, ast.BinOp):
        if n.op == "/":
            return [r"\frac{", (n.left, OR, NONE), "}{", (n.right, OR, NONE), "}"]
        if n.op in ("^", "**"):
            return ["{", (n.left, ATOM, NONE), "}^{", (n.right, OR, NONE), "}"]
        if n.op == "*":
            times = r" \cdot " if _starts_numeric(n.right) else " "
            return [(n.left, MUL, MUL), times, (n.right, MUL + 1, follow)]
        op = {"+": " + ", "-": " - ", "less": r" \mathbin{\mathrm{less}} ", "div": r" \mathbin{\mathrm{div}} ",
              "mod": r" \bmod ", "&": r" \mathbin{\&} "}.get(n.op, f" {n.op} ")
        lv = level(n)
        return [(n.left, lv, lv), op, (n.right, lv + 1, follow)]
    if isinstance(n, ast.UnOp):
        if n.op == "not":
            return [r"\neg ", (n.operand, UNARY, follow)]
        return [n.op, (n.operand, UNARY, follow)]
    if isinstance(n, ast.Logic):
        lv = level(n)
        return [(n.left, lv, lv), r" \land " if n.op == "and" else r" \lor ", (n.right, lv + 1, follow)]
    if isinstance(n, ast.Compare):
        return [(n.left, UNION, 3), f" {_CMP.get(n.op, n.op)} ", (n.right, UNION, follow)]
    if isinstance(n, ast.InSet):
        return [(n.element, UNION, 3), r" \notin " if n.negated else r" \in ", (n.set, UNION, follow)]
    if isinstance(n, ast.Call):
        return _call(n)
    if isinstance(n, ast.Subscript):
        return [(n.base, ATOM, NONE), "_{", *_args(n.subs), "}"]
    if isinstance(n, ast.Iterated):
        body_level = MUL if n.op in ("sum", "prod", "max", "min") else OR
        return [_ITER.get(n.op, n.op) + "_{", *indexing_pieces(n.indexing), "} ", (n.body, body_level, follow)]
    if isinstance(n, ast.IfThen):
        other: list[object] = [(n.otherwise, OR, NONE)] if n.otherwise is not None else ["0"]
        return [r"\begin{cases} ", (n.then, OR, NONE), r" & \text{if } ", (n.condition, OR, NONE), r" \\ ",
                *other, r" & \text{otherwise} \end{cases}"]
    if isinstance(n, ast.Piecewise):
        return _piecewise(n)
    if isinstance(n, ast.TupleExpr):
        return [r"\left(", *_args(n.items), r"\right)"]
    if isinstance(n, ast.SetLiteral):
        return [r"\left\{", *_args(n.items), r"\right\}"]
    if isinstance(n, ast.RangeSet):
        step = [r",\ \text{step } ", (n.step, OR, NONE)] if n.step is not None else []
        return [r"\{", (n.start, OR, NONE), r", \ldots, ", (n.stop, OR, NONE), *step, r"\}"]
    if isinstance(n, ast.SetOp):
        lv = level(n)
        return [(n.left, lv, lv), f" {_SETOPS.get(n.op, n.op)} ", (n.right, lv + 1, follow)]
    if isinstance(n, ast.SetBuilder):
        return [r"\left\{", *indexing_pieces(n.indexing), r"\right\}"]
    if isinstance(n, ast.SetOf):
        return [r"\left\{", (n.item, OR, NONE), r" : ", *indexing_pieces(n.indexing), r"\right\}"]
    raise TypeError(f"cannot print a {type(n).__name__} in LaTeX")


def _piecewise(n: ast.Piecewise) -> list[object]:
    """`<<b; s>> x` as pwl with the lists as subscript and the argument (and zero point) after."""
    out: list[object] = [r"\operatorname{pwl}_{"]
    for k, items in enumerate((n.breakpoints, n.slopes)):
        if k:
            out.append(r";\,")
        for j, item in enumerate(items):
            if j:
                out.append(", ")
            if item.indexing is not None:
                out += [r"\{", *indexing_pieces(item.indexing), r"\}\ "]
            out.append((item.value, OR, NONE))
    out += [r"}\left(", (n.arg, OR, NONE)]
    if n.zero is not None:
        out += [r";\ 0 \text{ at } ", (n.zero, OR, NONE)]
    return out + [r"\right)"]


def _starts_numeric(n: ast.Expr) -> bool:
    while isinstance(n, ast.BinOp) and n.op != "/":
        n = n.left
    return isinstance(n, ast.Num)


def _call(n: ast.Call) -> list[object]:
    f, args = n.func, n.args
    if f == "sqrt" and len(args) == 1:
        return [r"\sqrt{", (args[0], OR, NONE), "}"]
    if f == "abs" and len(args) == 1:
        return [r"\left|", (args[0], OR, NONE), r"\right|"]
    if f == "card" and len(args) == 1:
        return [r"\left|", (args[0], OR, NONE), r"\right|"]
    if f == "floor" and len(args) == 1:
        return [r"\left\lfloor ", (args[0], OR, NONE), r"\right\rfloor"]
    if f == "ceil" and len(args) == 1:
        return [r"\left\lceil ", (args[0], OR, NONE), r"\right\rceil"]
    head = _FUNCS.get(f) or (r"\operatorname{" + f.replace("_", r"\_") + "}")
    return [head + r"\left(", *_args(args), r"\right)"]


def indexing_pieces(ix: ast.Indexing, names: dict[int, tuple[str, ...]] | None = None) -> list[object]:
    """`i \\in I, (j, k) \\in L` with the filter under it (\\substack) when there is one."""
    out: list[object] = [r"\substack{"] if ix.condition is not None else []
    for k, e in enumerate(ix.entries):
        if k:
            out.append(", ")
        dummies = e.dummies or (names or {}).get(k, ())
        if len(dummies) == 1:
            out.append(symbol(dummies[0]) + r" \in ")
        elif dummies:
            out.append(r"\left(" + ", ".join(symbol(d) for d in dummies) + r"\right) \in ")
        out.append((e.set, UNION, NONE))
    if ix.condition is not None:
        out += [r" \\ ", (ix.condition, OR, NONE), "}"]
    return out


def indexing_latex(ix: ast.Indexing, names: dict[int, tuple[str, ...]] | None = None) -> str:
    parts = []
    for p in indexing_pieces(ix, names):
        parts.append(p if isinstance(p, str) else expr_latex(p[0], p[1]))  # type: ignore[index]
    return "".join(parts)


# ---------------------------------------------------------------------------------- the model
def model_latex(model: ast.Model) -> str:
    """The model as a LaTeX `array` (no surrounding `$$`): objectives, constraints with their
    index sets, defined params, and the variables' domains."""
    rows: list[tuple[str, str, str, str]] = []
    _DIMEN.clear()
    _DIMEN.update(_set_dimens(model.statements))
    _rows(model.statements, rows, prefix="")
    lines = [r"\begin{array}{llll}"]
    for head, body, over, name in rows:
        lines.append(f"{head} & {body} & {over} & {name} \\\\")
    if len(lines) > 1:
        lines[-1] = lines[-1][: -len(" \\\\")]
    lines.append(r"\end{array}")
    return "\n".join(lines)


_DIMEN: dict[str, int] = {}  # set name -> tuple width, for naming anonymous dummies


def _set_dimens(stmts: tuple[ast.Stmt, ...]) -> dict[str, int]:
    out: dict[str, int] = {}
    for s in stmts:
        if isinstance(s, ast.SetDecl):
            width = s.dimen
            if width is None and s.within is not None:
                width = _cross_width(s.within, out)
            out[s.name] = width or 1
    return out


def _cross_width(e: ast.Expr, known: dict[str, int]) -> int:
    if isinstance(e, ast.SetOp) and e.op == "cross":
        return _cross_width(e.left, known) + _cross_width(e.right, known)
    if isinstance(e, ast.Ref):
        return known.get(e.name, 1)
    return 1


def _name(n: str) -> str:
    return r"\text{(" + n.replace("_", r"\_") + ")}"


def _rows(stmts: tuple[ast.Stmt, ...], rows: list[tuple[str, str, str, str]], prefix: str) -> None:
    objs, cons, defs, doms, blocks = [], [], [], [], []
    for s in stmts:
        if isinstance(s, ast.Objective):
            head = r"\min" if s.sense == "minimize" else r"\max"
            objs.append((prefix + head, expr_latex(s.expr), _forall(s.indexing), _name(s.name)))
        elif isinstance(s, ast.ConstraintDecl):
            cons.append((r"\text{s.t.}", _relation(s.relation), _forall(s.indexing), _name(s.name)))
        elif isinstance(s, ast.ParamDecl) and s.value is not None:
            lhs, over = _declared(s.name, s.indexing)
            defs.append((r"\text{where}", f"{lhs} = {expr_latex(s.value)}", over, ""))
        elif isinstance(s, ast.VarDecl):
            lhs, over = _declared(s.name, s.indexing)
            doms.append(("", _domain(s, lhs), over, ""))
        elif isinstance(s, ast.LowerBlock):
            blocks.append(s)
    rows.extend(objs)
    constraints = cons + doms  # "s.t." heads the first row only
    if constraints:
        constraints = [(r"\text{s.t.}",) + constraints[0][1:]] + [("",) + c[1:] for c in constraints[1:]]
    rows.extend(constraints)
    if defs:
        rows.extend([defs[0]] + [("",) + d[1:] for d in defs[1:]])
    for b in blocks:
        rows.append((r"\text{lower}", r"\text{" + b.name.replace("_", r"\_") + ":}", "", ""))
        _rows(b.body, rows, prefix="")


def _forall(ix: ast.Indexing | None, names: dict[int, tuple[str, ...]] | None = None) -> str:
    if ix is None:
        return ""
    return r"\forall " + indexing_latex(ix, names)


def _relation(r: ast.Relation) -> str:
    if r.op == "range":
        return (f"{expr_latex(r.lower, UNION)} \\le {expr_latex(r.body, UNION)} \\le "  # type: ignore[arg-type]
                f"{expr_latex(r.upper, UNION)}")  # type: ignore[arg-type]
    if r.op == "call":
        return expr_latex(r.body)  # type: ignore[arg-type]
    return f"{expr_latex(r.lhs, UNION, 3)} {_CMP.get(r.op, r.op)} {expr_latex(r.rhs, UNION)}"  # type: ignore[arg-type]


def _declared(name: str, ix: ast.Indexing | None) -> tuple[str, str]:
    """`x_{i,j}` and `\\forall i \\in I, j \\in J`, naming anonymous entries' dummies after their sets."""
    if ix is None:
        return symbol(name), ""
    names: dict[int, tuple[str, ...]] = {}
    used: set[str] = {d for e in ix.entries for d in e.dummies}
    for k, e in enumerate(ix.entries):
        if e.dummies:
            continue
        base = e.set.name[0].lower() if isinstance(e.set, ast.Ref) else "i"
        width = _DIMEN.get(e.set.name, 1) if isinstance(e.set, ast.Ref) else 1
        picked = []
        for w in range(width):
            stem = base if width == 1 else f"{base}{w + 1}"
            cand, c = stem, 1
            while cand in used:
                cand, c = f"{stem}{'_' if width > 1 else ''}{c}", c + 1
            used.add(cand)
            picked.append(cand)
        names[k] = tuple(picked)
    subs = [d for k, e in enumerate(ix.entries) for d in (e.dummies or names.get(k, ()))]
    base = symbol(name)
    base = base if "_" not in base or base.startswith(r"\mathit{") else "{" + base + "}"
    lhs = base + "_{" + ",".join(symbol(d) for d in subs) + "}"
    return lhs, _forall(ix, names)


def _domain(v: ast.VarDecl, lhs: str) -> str:
    if v.fixed is not None:
        return f"{lhs} = {expr_latex(v.fixed)}"
    if v.kind == "binary":
        return lhs + r" \in \{0, 1\}"
    lo = None if v.lower is None else expr_latex(v.lower, ADD)
    hi = None if v.upper is None else expr_latex(v.upper, ADD)
    if v.kind == "integer":
        text = lhs + r" \in \mathbb{Z}"
        if lo is not None:
            text += rf",\ {lhs} \ge {lo}"
        if hi is not None:
            text += rf",\ {lhs} \le {hi}"
        return text
    if lo is not None and hi is not None:
        return rf"{lo} \le {lhs} \le {hi}"
    if lo is not None:
        return rf"{lhs} \ge {lo}"
    if hi is not None:
        return rf"{lhs} \le {hi}"
    return lhs + r" \in \mathbb{R}"


__all__ = ["model_latex", "expr_latex", "symbol"]
