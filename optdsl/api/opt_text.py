"""AST expressions as `.opt` text, with exactly the parentheses the grammar needs.

Precedence levels follow grammar/optdsl.lark, lowest first. The walk is iterative (an explicit
stack of text pieces and nodes), so a 2,000-term sum prints without recursion.

Greedy operands: `sum {...} body`, `if c then a else b` and `setof {...} item` are atoms whose
last part extends to the right as far as its level allows (`sum {i in I} x[i] * 2` multiplies
inside the sum). Such an operand is parenthesized when the operator that follows it in the text
would be absorbed: every node is printed knowing the level of the operator after it (`follow`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable

from optdsl.parse import ast

OR, AND, NOT, CMP, UNION, INTER, CROSS, RANGE, CONCAT, ADD, MUL, UNARY, POW, ATOM = range(14)
NONE = -1  # nothing (or a closing bracket, comma, keyword) follows

_BIN_LEVEL = {"+": ADD, "-": ADD, "less": ADD, "*": MUL, "/": MUL, "div": MUL, "mod": MUL, "^": POW,
              "**": POW, "&": CONCAT}
_SETOP_LEVEL = {"union": UNION, "diff": UNION, "symdiff": UNION, "inter": INTER, "cross": CROSS}
_ITER_BODY = {"sum": MUL, "prod": MUL, "max": MUL, "min": MUL, "forall": AND, "exists": AND,
              "union": INTER, "inter": INTER}
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def num_text(v: float | int) -> str:
    """A number as the grammar reads it (no sign: negatives print as unary minus)."""
    if isinstance(v, bool):
        v = int(v)
    if isinstance(v, int):
        return str(v)
    f = float(v)
    if math.isinf(f):
        return "1e999" if f > 0 else "-1e999"  # float('1e999') is inf; the language has no literal
    if f.is_integer() and abs(f) < 1e16:
        return str(int(f))
    return repr(f)


def str_text(s: str) -> str:
    return '"' + s.replace('"', '""') + '"'


def level(node: ast.Expr) -> int:
    if isinstance(node, ast.BinOp):
        return _BIN_LEVEL.get(node.op, MUL)
    if isinstance(node, ast.Logic):
        return OR if node.op == "or" else AND
    if isinstance(node, ast.UnOp):
        return NOT if node.op == "not" else UNARY
    if isinstance(node, (ast.Compare, ast.InSet)):
        return CMP
    if isinstance(node, ast.SetOp):
        return _SETOP_LEVEL.get(node.op, UNION)
    if isinstance(node, ast.RangeSet):
        return RANGE
    if isinstance(node, ast.Num) and node.value < 0:
        return UNARY
    return ATOM


def _tail(node: ast.Expr) -> int | None:
    """For greedy atoms, the lowest operator level their open right end absorbs."""
    if isinstance(node, ast.Iterated):
        return _ITER_BODY.get(node.op, MUL)
    if isinstance(node, ast.IfThen):
        return CMP  # its else-branch would stop before a comparison; parenthesized anyway, for the reader
    if isinstance(node, ast.SetOf):
        return RANGE
    return None


def _placeholder_name(name: str) -> str:
    return name.rsplit(":", 1)[1] if name.startswith("%") else name


def expr_text(node: ast.Expr, min_level: int = OR, describe: bool = False, follow: int = NONE) -> str:
    """`node` as `.opt` text. With `describe`, placeholders print as their base names, whole
    components as their names and vectorized sums as `.sum(...)`: text for error messages.
    `follow`: the level of the operator printed right after this text, if any."""
    return render(node, lambda n, f: _pieces(n, f, describe), level, _tail, "(", ")", min_level, follow)


def render(node: ast.Expr, pieces: Callable[[ast.Expr, int], list[object]], level_of: Callable[[ast.Expr], int],
           tail_of: Callable[[ast.Expr], int | None], open_: str, close: str, min_level: int = OR,
           follow: int = NONE) -> str:
    """The iterative printing engine: `pieces(n, follow)` gives the strings and (node, min_level,
    follow) triples of `n`, left to right; a node below its required level, or a greedy atom
    whose tail would absorb the following operator, is wrapped in open_/close."""
    out: list[str] = []
    stack: list[object] = [(node, min_level, follow)]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            out.append(item)
            continue
        n, need, fol = item  # type: ignore[misc]
        tail = tail_of(n)
        if level_of(n) < need or (tail is not None and fol >= tail):
            stack.extend([close, (n, OR, NONE), open_])
            continue
        stack.extend(reversed(pieces(n, fol)))
    return "".join(out)


def _piecewise_pieces(n: ast.Piecewise, describe: bool) -> list[object]:
    """`<<items; items>> arg` or `<<...>> (arg, zero)`; items are whole expressions, some indexed."""
    parts: list[object] = ["<<"]
    for k, items in enumerate((n.breakpoints, n.slopes)):
        if k:
            parts.append("; ")
        for j, item in enumerate(items):
            if j:
                parts.append(", ")
            if item.indexing is not None:
                parts += [*indexing_pieces(item.indexing, describe), " "]
            parts.append((item.value, UNION, NONE))
    parts.append(">> ")
    if n.zero is None:
        return parts + [(n.arg, ATOM, NONE)]
    return parts + ["(", (n.arg, OR, NONE), ", ", (n.zero, OR, NONE), ")"]


def _pieces(n: ast.Expr, follow: int, describe: bool) -> list[object]:
    """The text pieces and sub-nodes of `n`, left to right."""
    if isinstance(n, ast.Num):
        if n.value < 0:
            return ["-" + num_text(-n.value)]
        return [num_text(n.value)]
    if isinstance(n, ast.Str):
        return [str_text(n.value)]
    if isinstance(n, ast.Ref):
        if describe and n.subs and all(isinstance(s, ast.Ref) and s.name.startswith("%d") for s in n.subs):
            return [n.name]
        name = _placeholder_name(n.name) if describe else n.name
        if not n.subs:
            return [name]
        return [name, "[", *_args(n.subs), "]"]
    if isinstance(n, ast.BinOp):
        lv = _BIN_LEVEL.get(n.op, MUL)
        op = "^" if n.op == "**" else n.op
        if lv == POW:
            return [(n.left, ATOM, POW), " ^ ", (n.right, UNARY, follow)]
        return [(n.left, lv, lv), f" {op} ", (n.right, lv + 1, follow)]
    if isinstance(n, ast.UnOp):
        if n.op == "not":
            return ["not ", (n.operand, NOT, follow)]
        return [n.op, (n.operand, UNARY, follow)]
    if isinstance(n, ast.Logic):
        lv = level(n)
        return [(n.left, lv, lv), f" {n.op} ", (n.right, lv + 1, follow)]
    if isinstance(n, ast.Compare):
        return [(n.left, UNION, CMP), f" {n.op} ", (n.right, UNION, follow)]
    if isinstance(n, ast.InSet):
        return [(n.element, UNION, CMP), " not in " if n.negated else " in ", (n.set, UNION, follow)]
    if isinstance(n, ast.Call):
        return [n.func, "(", *_args(n.args), ")"]
    if isinstance(n, ast.Subscript):
        if isinstance(n.base, ast.Call):
            return [(n.base, ATOM, NONE), "[", *_args(n.subs), "]"]
        return ["(", (n.base, OR, NONE), ")[", *_args(n.subs), "]"]
    if isinstance(n, ast.Iterated):
        body_level = _ITER_BODY.get(n.op, MUL)
        if describe and n.indexing.condition is None and all(
                e.dummies and e.dummies[0].startswith("%d") for e in n.indexing.entries):
            sets = ", ".join(f'"{expr_text(e.set)}"' for e in n.indexing.entries)
            return ["(", (n.body, OR, NONE), f").{n.op}({sets})"]
        return [n.op, " ", *indexing_pieces(n.indexing, describe), " ", (n.body, body_level, follow)]
    if isinstance(n, ast.IfThen):
        parts: list[object] = ["if ", (n.condition, OR, NONE), " then "]
        then_follow = NONE if n.otherwise is not None else follow
        # A nested if without else in the then-branch would capture our else: parenthesize it.
        then_need = ATOM if isinstance(n.then, ast.IfThen) else UNION
        parts.append((n.then, then_need, then_follow))
        if n.otherwise is not None:
            parts += [" else ", (n.otherwise, UNION, follow)]
        return parts
    if isinstance(n, ast.Piecewise):
        return _piecewise_pieces(n, describe)
    if isinstance(n, ast.TupleExpr):
        return ["(", *_args(n.items), ")"]
    if isinstance(n, ast.SetLiteral):
        return ["{", *_args(n.items), "}"]
    if isinstance(n, ast.RangeSet):
        parts = [(n.start, CONCAT, RANGE), " .. ", (n.stop, CONCAT, NONE if n.step is not None else follow)]
        if n.step is not None:
            parts += [" by ", (n.step, CONCAT, follow)]
        return parts
    if isinstance(n, ast.SetOp):
        lv = _SETOP_LEVEL.get(n.op, UNION)
        return [(n.left, lv, lv), f" {n.op} ", (n.right, lv + 1, follow)]
    if isinstance(n, ast.SetBuilder):
        return indexing_pieces(n.indexing, describe)
    if isinstance(n, ast.SetOf):
        return ["setof ", *indexing_pieces(n.indexing, describe), " ", (n.item, RANGE, follow)]
    raise TypeError(f"cannot print a {type(n).__name__} as an expression")


def _args(items: tuple[ast.Expr, ...], need: int = OR) -> list[object]:
    out: list[object] = []
    for k, a in enumerate(items):
        if k:
            out.append(", ")
        out.append((a, need, NONE))
    return out


def indexing_pieces(ix: ast.Indexing, describe: bool = False) -> list[object]:
    """`{i in I, (j, k) in L, M: cond}` as pieces."""
    out: list[object] = ["{"]
    for k, e in enumerate(ix.entries):
        if k:
            out.append(", ")
        names = [_placeholder_name(d) if describe else d for d in e.dummies]
        if len(names) == 1:
            out.append(f"{names[0]} in ")
        elif names:
            out.append("(" + ", ".join(names) + ") in ")
        out.append((e.set, UNION, NONE))
    if ix.condition is not None:
        out += [": ", (ix.condition, OR, NONE)]
    out.append("}")
    return out


def indexing_text(ix: ast.Indexing) -> str:
    """An indexing expression as text (iteratively, through expr_text on its parts)."""
    parts = []
    for p in indexing_pieces(ix):
        parts.append(p if isinstance(p, str) else expr_text(p[0], p[1]))  # type: ignore[index]
    return "".join(parts)


def is_identifier(s: str) -> bool:
    return bool(_IDENT.match(s))
