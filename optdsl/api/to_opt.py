"""A model as `.opt` text: the declarations (an AST pretty-printer) and a `data;` section written
from its DataStore. Round trip: `parse(model_to_opt(ast, data))` instantiates to the same IR.

Inline data sections, `data "file";` statements and `table ... IN` statements are not printed:
what they loaded is in the DataStore, and the data section carries it, so the text stands alone.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from optdsl.api.opt_text import (
    CMP,
    OR,
    UNION,
    expr_text,
    indexing_text,
    num_text,
    str_text,
)
from optdsl.data.store import DataStore, ParamData, SetData
from optdsl.parse import ast

_SKIPPED = (ast.DataSection, ast.DataFile, ast.EndStmt)


def model_to_opt(model: ast.Model, data: DataStore | None = None) -> str:
    """The `.opt` text of `model` with `data` as an inline data section."""
    out: list[str] = []
    for s in model.statements:
        out.extend(statement_lines(s))
    if data is not None and (data.sets or data.params):
        out.append("")
        out.append("data;")
        out.extend(data_lines(model, data))
        out.append("end;")
    return "\n".join(out) + "\n"


# ------------------------------------------------------------------------------- statements
def statement_lines(s: ast.Stmt, indent: str = "") -> list[str]:
    if isinstance(s, _SKIPPED):
        return []
    if isinstance(s, ast.LowerBlock):
        lines = [f"{indent}lower {s.name} {{"]
        for b in s.body:
            lines.extend(statement_lines(b, indent + "  "))
        lines.append(f"{indent}}}")
        return lines
    if isinstance(s, ast.ForStmt):
        lines = [f"{indent}for {indexing_text(s.indexing)} {{"]
        for b in s.body:
            lines.extend(statement_lines(b, indent + "  "))
        lines.append(f"{indent}}}")
        return lines
    if isinstance(s, ast.TableStmt) and s.direction.upper() == "IN":
        return [f"{indent}# table {s.name} IN {str_text(s.path)}: its data are in the data section"]
    text = statement_text(s)
    return [indent + text]


def _ix(ix: ast.Indexing | None) -> str:
    return "" if ix is None else " " + indexing_text(ix)


def _attrs(parts: list[str]) -> str:
    return (" " + ", ".join(parts)) if parts else ""


def _attr(e: ast.Expr) -> str:
    # Declaration attributes are read at the set-union level (they stop before comparisons).
    return expr_text(e, UNION)


def statement_text(s: ast.Stmt) -> str:
    """One statement (not a block) as text, ending with ';'."""
    if isinstance(s, ast.SetDecl):
        parts = []
        if s.dimen is not None:
            parts.append(f"dimen {s.dimen}")
        if s.within is not None:
            parts.append(f"within {_attr(s.within)}")
        if s.ordered:
            parts.append("ordered")
        if s.value is not None:
            parts.append(f":= {_attr(s.value)}")
        if s.default is not None:
            parts.append(f"default {_attr(s.default)}")
        return f"set {s.name}{_ix(s.indexing)}{_attrs(parts)};"
    if isinstance(s, ast.ParamDecl):
        parts = [s.kind] if s.kind else []
        parts += [f"{b.op} {_attr(b.value)}" for b in s.bounds]
        if s.within is not None:
            parts.append(f"in {_attr(s.within)}")
        if s.default is not None:
            parts.append(f"default {_attr(s.default)}")
        if s.value is not None:
            parts.append(f":= {_attr(s.value)}")
        return f"param {s.name}{_ix(s.indexing)}{_attrs(parts)};"
    if isinstance(s, ast.VarDecl):
        parts = [s.kind] if s.kind else []
        for op, e in ((">=", s.lower), ("<=", s.upper), ("=", s.fixed), (":=", s.init)):
            if e is not None:
                parts.append(f"{op} {_attr(e)}")
        parts += [column_text(c) for c in s.columns]
        return f"{s.network or 'var'} {s.name}{_ix(s.indexing)}{_attrs(parts)};"
    if isinstance(s, ast.Objective):
        return f"{s.sense} {s.name}{_ix(s.indexing)}: {expr_text(s.expr)};"
    if isinstance(s, ast.ConstraintDecl):
        head = "node" if s.network == "node" else "subject to"
        return f"{head} {s.name}{_ix(s.indexing)}: {relation_text(s.relation)};"
    if isinstance(s, ast.CheckStmt):
        head = f"check{_ix(s.indexing)}: " if s.indexing is not None else "check "
        return head + expr_text(s.condition) + ";"
    if isinstance(s, ast.OptionStmt):
        return f"option {s.name} {_option_value(s.value)};"
    if isinstance(s, ast.SurrogateDecl):
        return f"surrogate {s.name} := {s.kind} {str_text(s.path)};"
    if isinstance(s, ast.SolveStmt):
        return "solve;"
    if isinstance(s, ast.DisplayStmt):
        head = f"display {indexing_text(s.indexing)}: " if s.indexing is not None else "display "
        return head + ", ".join(expr_text(e) for e in s.items) + _redirect_text(s) + ";"
    if isinstance(s, ast.PrintfStmt):
        head = f"printf {indexing_text(s.indexing)}: " if s.indexing is not None else "printf "
        fmt = expr_text(s.format_expr) if s.format_expr is not None else str_text(s.format)
        return head + ", ".join([fmt] + [expr_text(e) for e in s.args]) + _redirect_text(s) + ";"
    if isinstance(s, ast.TableStmt):
        cols = ", ".join(expr_text(c.expr) + (f" ~ {c.column}" if c.column else "") for c in s.columns)
        return f"table {s.name}{_ix(s.indexing)} {s.direction} {str_text(s.driver)} {str_text(s.path)}: {cols};"
    raise TypeError(f"cannot print a {type(s).__name__} statement")


def column_text(c: ast.Column) -> str:
    """An entry `coeff {i in S} C[i] a[i,j]` of a var or arc declaration."""
    subs = f"[{', '.join(expr_text(x) for x in c.subs)}]" if c.subs else ""
    value = f" {_attr(c.value)}" if c.value is not None else ""
    return f"{c.kind}{_ix(c.indexing)} {c.target}{subs}{value}"


def _redirect_text(s: ast.DisplayStmt | ast.PrintfStmt) -> str:
    if s.redirect is None:
        return ""
    return (" >> " if s.append else " > ") + expr_text(s.redirect)


def relation_text(r: ast.Relation) -> str:
    if r.op == "range":
        return (f"{expr_text(r.lower, UNION, follow=CMP)} <= {expr_text(r.body, UNION, follow=CMP)} <= "
                f"{expr_text(r.upper, UNION)}")  # type: ignore[arg-type]
    if r.op == "call":
        return expr_text(r.body, OR)  # type: ignore[arg-type]
    return f"{expr_text(r.lhs, UNION, follow=CMP)} {r.op} {expr_text(r.rhs, UNION)}"  # type: ignore[arg-type]


def _option_value(v: ast.Expr) -> str:
    if isinstance(v, ast.Num):
        return num_text(v.value) if v.value >= 0 else "-" + num_text(-v.value)
    if isinstance(v, ast.Str):
        return str_text(v.value)
    if isinstance(v, ast.Ref) and not v.subs:
        return v.name
    return expr_text(v)


# ------------------------------------------------------------------------------------ data
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\Z")
_PLAIN = re.compile(r"[A-Za-z0-9_.+\-]+\Z")
_RESERVED = {"set", "param", "end", "data", "Infinity", "+Infinity", "-Infinity", "inf", "+inf", "-inf", "tr"}


def label_text(v: Any) -> str:
    """A label in data syntax: numbers plain, words bare when the data lexer reads them back as
    the same string, else quoted."""
    if isinstance(v, (bool, np.bool_)):
        return str(int(v))
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        f = float(v)
        return str(int(f)) if f.is_integer() else repr(f)
    s = str(v)
    if _PLAIN.match(s) and not _NUMBER.match(s) and s not in (".", "+", "-") and s not in _RESERVED:
        return s
    return str_text(s)


def value_text(v: Any) -> str:
    if isinstance(v, str):
        return label_text(v)
    f = float(v)
    if np.isinf(f):
        return "Infinity" if f > 0 else "-Infinity"
    return str(int(f)) if f.is_integer() and abs(f) < 1e16 else repr(f)


def _values_text(vals: np.ndarray) -> list[str]:
    if vals.dtype.kind == "f":
        ints = np.isfinite(vals) & (vals == np.round(vals)) & (np.abs(vals) < 1e16)
        out = [repr(x) for x in vals.tolist()]
        if ints.any():
            for k in np.flatnonzero(ints).tolist():
                out[k] = str(int(vals[k]))
        inf = np.isinf(vals)
        if inf.any():
            for k in np.flatnonzero(inf).tolist():
                out[k] = "Infinity" if vals[k] > 0 else "-Infinity"
        return out
    return [value_text(x) for x in vals.tolist()]


def _labels_text(col: np.ndarray) -> list[str]:
    col = np.asarray(col)
    if col.dtype.kind in "iu":
        return [str(x) for x in col.tolist()]
    return [label_text(x) for x in col.tolist()]


def _member_text(m: Any) -> str:
    if isinstance(m, tuple):
        return "(" + ", ".join(label_text(x) for x in m) + ")"
    return label_text(m)


def data_lines(model: ast.Model, data: DataStore) -> list[str]:
    lines: list[str] = []
    for s in data.sets.values():
        lines.extend(_set_lines(s))
    dense = [p.name for p in data.params.values() if p.dense is not None]
    domains = _param_domains(model, data, dense) if dense else {}
    for p in data.params.values():
        lines.extend(_param_lines(p, domains.get(p.name)))
    return lines


def _set_lines(s: SetData) -> list[str]:
    if s.indexed is not None:
        out = []
        for key, members in s.indexed.items():
            idx = ",".join(label_text(k) for k in key)
            out.append(f"set {s.name}[{idx}] := {' '.join(_member_text(m) for m in members)};")
        return out
    return [f"set {s.name} := {' '.join(_member_text(m) for m in s.members)};"]


def _param_lines(p: ParamData, domain: Any) -> list[str]:
    head = f"param {p.name}" + (f" default {value_text(p.default)}" if p.default is not None else "")
    if p.is_scalar:
        if p.value is None:
            return [f"{head};"] if p.default is not None else []
        return [f"{head} := {value_text(p.value)};"]
    if p.dense is not None:
        if domain is None:
            raise ValueError(f"param '{p.name}': dense data need the labels of its index sets")
        keys = domain.label_columns()
        vals = np.asarray(p.dense).reshape(-1)
    else:
        keys, vals = list(p.keys or []), np.asarray(p.values)
    if len(vals) and vals.dtype.kind == "f":
        keep = ~np.isnan(vals)
        if not keep.all():
            keys, vals = [np.asarray(k)[keep] for k in keys], vals[keep]
    elif len(vals) and vals.dtype == object:
        keep = np.array([v is not None for v in vals.tolist()], dtype=bool)
        keys, vals = [np.asarray(k)[keep] for k in keys], vals[keep]
    if not len(vals):
        return [f"{head};"] if p.default is not None else []
    cols = [_labels_text(k) for k in keys] + [_values_text(vals)]
    rows = ["  " + " ".join(r) for r in zip(*cols)]
    return [f"{head} :="] + rows[:-1] + [rows[-1] + ";"]


def _param_domains(model: ast.Model, data: DataStore, names: list[str]) -> dict[str, Any]:
    """The index domains of params given dense data: instantiate the set and param declarations."""
    from optdsl.ir.instantiate import instantiate

    keep: list[ast.Stmt] = []
    stack = list(reversed(model.statements))
    while stack:
        s = stack.pop()
        if isinstance(s, ast.LowerBlock):
            stack.extend(reversed(s.body))
        elif isinstance(s, (ast.SetDecl, ast.ParamDecl)):
            keep.append(s)
    ir = instantiate(ast.Model(tuple(keep), file=model.file), data)
    return {n: ir.params[n].domain for n in names if n in ir.params}
