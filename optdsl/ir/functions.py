"""Function calls in expressions: AMPL's built-in functions on data and variables, set
functions (card, ord, first, next, ...), string functions and random data. A mixin of the
Evaluator (optdsl/ir/evaluate.py), which supplies `value`, `data_value`, `set_value` and friends.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from optdsl.errors import ModelError
from optdsl.ir.expr import Expr, apply_numpy
from optdsl.ir.grid import Dummy, Grid
from optdsl.ir.labels import Domain, label_array
from optdsl.ir.printf import format_printf
from optdsl.parse import ast

SET_FUNCS = {"card", "ord", "ord0", "first", "last", "next", "prev", "member"}
DATA_FUNCS = {"precision", "num", "num0", "char", "ichar", "sprintf"}
RANDOM_FUNCS = {"Uniform01", "Normal01", "Uniform", "Normal", "Exponential", "Irand224", "Beta", "Gamma",
                "Cauchy", "Poisson"}
UNARY_FUNCS = {
    "exp", "log", "log10", "sqrt", "abs", "sin", "cos", "tan", "tanh", "atan",
    "sinh", "cosh", "asin", "acos", "asinh", "acosh", "atanh",
    "floor", "ceil", "round", "trunc",
}

class FunctionCalls:
    """Evaluation of calls; the Evaluator provides value(), data_value(), set_value() and friends."""
    def _v_Call(self, e: ast.Call, grid: Grid) -> Any:
        f = e.func
        if f in SET_FUNCS:
            if any(self._uses_dummies(a, grid) for a in e.args if _is_set_arg(a, self)):
                return self._grouped(e, grid)
            return self._set_function(e, grid)
        if f == "atan2" or (f == "atan" and len(e.args) == 2):
            return self._atan2(e, grid)
        if f in DATA_FUNCS or (f in ("round", "trunc") and len(e.args) == 2):
            return self._data_function(e, grid)
        if f in self.surrogates:
            raise ModelError(f"surrogate '{f}' returns a vector: write {f}(...)[k]", e.span)
        if f in ("length", "substr"):
            args = [self.data_value(a, grid) for a in e.args]
            if f == "length":
                return np.array([len(_text(x)) for x in args[0]], dtype=float)
            start = args[1].astype(int)
            ln = args[2].astype(int) if len(args) > 2 else None
            return np.array([_text(s)[b - 1:(b - 1 + int(ln[k])) if ln is not None else None]
                             for k, (s, b) in enumerate(zip(args[0], start))], dtype=object)
        if f in RANDOM_FUNCS:
            return self._random(e, grid)
        if f in ("str2time", "time2str", "gmtime"):
            from optdsl.ir import timefuncs

            if f == "gmtime":
                return timefuncs.gmtime(grid.n)
            a, b = (np.broadcast_to(self.data_value(x, grid, f"{f}()"), (grid.n,)) for x in e.args)
            try:
                return getattr(timefuncs, f)(a, b)
            except ValueError as err:
                raise ModelError(str(err), e.span) from None
        if f in UNARY_FUNCS:
            if len(e.args) != 1:
                raise ModelError(f"{f}() takes 1 argument, got {len(e.args)}", e.span)
            v = self.numeric(self.value(e.args[0], grid))
            if isinstance(v, Expr):
                return v.apply(f)
            return apply_numpy(f, np.asarray(v, dtype=np.float64))
        if f in ("max", "min"):
            vals = [self.numeric(self.value(a, grid)) for a in e.args]
            if not vals:
                raise ModelError(f"{f}() needs at least one argument", e.span)
            acc = vals[0]
            for v in vals[1:]:
                if isinstance(acc, Expr) or isinstance(v, Expr):
                    ea = acc if isinstance(acc, Expr) else Expr.constant(acc, grid.n)
                    eb = v if isinstance(v, Expr) else Expr.constant(v, grid.n)
                    acc = ea.apply(f + "2", eb)
                else:
                    acc = (np.maximum if f == "max" else np.minimum)(acc, v)
            return acc
        raise ModelError(f"unknown function '{f}'", e.span)

    def _grouped(self, e: ast.Call, grid: Grid) -> np.ndarray:
        """A set function whose set depends on the row's dummies (`card(NEAR[c])`): evaluated
        once per distinct value of those dummies."""
        used = [n for n in grid.dummies if n in self._names_in(e)]
        keys = np.stack([grid.dummies[n].pos for n in used], axis=1)
        uniq, first, inverse = np.unique(keys, axis=0, return_index=True, return_inverse=True)
        parts = [self._set_function(e, grid.take(np.array([r]))) for r in first]
        vals = np.concatenate([np.asarray(p).reshape(-1)[:1] for p in parts])
        return vals[inverse.reshape(-1)]

    def _set_function(self, e: ast.Call, grid: Grid) -> np.ndarray:
        f, args = e.func, e.args
        if f == "card":
            return np.full(grid.n, float(self.set_value(args[0], grid).n))
        if f in ("first", "last", "member"):
            dom = self.set_value(args[-1], grid)
            if dom.n == 0:
                raise ModelError(f"{f}() of an empty set", e.span)
            if f == "member":
                k = self.data_value(args[0], grid).astype(int) - 1
                if np.any((k < 0) | (k >= dom.n)):
                    raise ModelError(f"member(): position outside 1..{dom.n}", e.span)
            else:
                k = np.full(grid.n, 0 if f == "first" else dom.n - 1)
            return _labels_at(dom, k)
        # ord, ord0, next, prev: positions of an element in a set
        if len(args) == 1:
            v = self.label_value(args[0], grid)
            if not isinstance(v, Dummy):
                raise ModelError(f"{f}(i) needs a dummy index; write {f}(i, S)", e.span)
            lab, pos = v.labels, v.pos
            dom = Domain([lab])
        else:
            dom = self.set_value(args[1], grid)
            v = self.label_value(args[0], grid)
            lab = dom.dims[0]
            pos = lab.map_from(v.labels)[v.pos] if isinstance(v, Dummy) else lab.lookup(_labels(v))
        if f == "ord0":
            return np.where(pos < 0, 0.0, pos + 1.0)
        if np.any(pos < 0):
            raise ModelError(f"{f}(): the element is not in the set", e.span)
        if f == "ord":
            return pos.astype(float) + 1
        step = self.data_value(args[2], grid).astype(int) if len(args) > 2 else 1
        k = pos + step if f == "next" else pos - step
        if np.any((k < 0) | (k >= dom.n)):
            raise ModelError(f"{f}(): no member that far {'after' if f == 'next' else 'before'} it", e.span)
        return _labels_at(dom, k)

    def _data_function(self, e: ast.Call, grid: Grid) -> np.ndarray:
        f = e.func
        args = [self.data_value(a, grid, f"{f}()") for a in e.args]
        with np.errstate(all="ignore"):
            if f in ("round", "trunc", "precision"):
                x = _floats(args[0])
                digits = _floats(args[1]).astype(int) if len(args) > 1 else np.zeros(grid.n, int)
                if f == "precision":
                    return np.array([float(f"{v:.{int(d)}g}") for v, d in np.broadcast(x, digits)])
                scale = 10.0 ** digits
                if f == "trunc":
                    return np.trunc(x * scale) / scale
                return np.sign(x) * np.floor(np.abs(x) * scale + 0.5) / scale  # halves away from 0
            if f in ("num", "num0"):
                return np.array([_number_prefix(str(v), f == "num0", e) for v in args[0]])
            if f == "char":
                return np.array([chr(int(v)) for v in args[0]], dtype=object)
            if f == "ichar":
                return np.array([float(ord(str(v)[0])) if str(v) else 0.0 for v in args[0]])
            if f == "sprintf":
                return np.array([format_printf(str(fmt), list(rest), e.span)
                                 for fmt, *rest in zip(*[np.broadcast_to(a, (grid.n,)) for a in args])],
                                dtype=object)
        raise ModelError(f"unknown function '{f}'", e.span)

    def _atan2(self, e: ast.Call, grid: Grid) -> np.ndarray | Expr:
        """atan2(y, x), also written atan(y, x): of data, or a smooth binary node of variables."""
        y, x = (self.numeric(self.value(a, grid)) for a in e.args)
        if isinstance(y, Expr) or isinstance(x, Expr):
            ey = y if isinstance(y, Expr) else Expr.constant(y, grid.n)
            ex = x if isinstance(x, Expr) else Expr.constant(x, grid.n)
            return ey.apply("atan2", ex)
        return apply_numpy("atan2", _floats(y), _floats(x))

    def _random(self, e: ast.Call, grid: Grid) -> np.ndarray:
        args = [_scalar(self.data_value(a, grid)) for a in e.args]
        r, n = self.rng, grid.n
        return {
            "Beta": lambda: r.beta(args[0], args[1], n),
            "Gamma": lambda: r.gamma(args[0], 1.0, n),
            "Cauchy": lambda: r.standard_cauchy(n),
            "Poisson": lambda: r.poisson(args[0], n).astype(float),
            "Uniform01": lambda: r.random(n),
            "Normal01": lambda: r.standard_normal(n),
            "Uniform": lambda: r.uniform(args[0], args[1], n),
            "Normal": lambda: r.normal(args[0], args[1], n),
            "Exponential": lambda: r.exponential(1.0, n),
            "Irand224": lambda: r.integers(0, 2**24, n).astype(float),
        }[e.func]()


def _is_set_arg(a: ast.Expr, ev: Any) -> bool:
    return not (isinstance(a, ast.Ref) and not a.subs and a.name not in ev.sets and a.name not in ev.indexed_sets)


def _labels_at(dom: Domain, k: np.ndarray) -> np.ndarray:
    vals = dom.dims[0].values[dom.code_columns()[0][k]]
    return vals.astype(np.float64) if vals.dtype.kind == "f" else vals


def _floats(v: Any) -> np.ndarray:
    return np.asarray(v, dtype=np.float64)


def _number_prefix(text: str, lenient: bool, e: ast.Node) -> float:
    import re

    m = re.match(r"\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?", text)
    if m and (lenient or m.end() == len(text.rstrip())):
        return float(m.group(0))
    if lenient:
        return 0.0
    raise ModelError(f"num(): '{text}' is not a number", e.span)


def _scalar(v: Any) -> Any:
    if isinstance(v, Dummy):
        v = v.values()
    arr = np.asarray(v)
    x = arr.reshape(-1)[0] if arr.size else None
    if isinstance(x, (np.floating, float)):
        x = float(x)
        return int(x) if x.is_integer() else x
    if isinstance(x, np.integer):
        return int(x)
    return x


def _labels(v: Any) -> np.ndarray:
    if isinstance(v, Dummy):
        return v.values()
    arr = np.asarray(v)
    return arr if arr.dtype.kind in "fiu" else label_array(list(arr.reshape(-1)))


def _text(x: Any) -> str:
    if isinstance(x, float) and x.is_integer():
        return str(int(x))
    return str(x)


