"""optdsl: optimization models in an AMPL-style language, solved through one array-valued IR.

    import optdsl as od
    m = od.load("examples/transport.opt")
    r = m.solve()
    r.objective, r.variables["x"]

Submodules load lazily so that `optdsl solve` on a small LP starts fast.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

_LAZY = {
    "load": ("optdsl.api.model", "load"),
    "parse_model": ("optdsl.api.model", "parse_model"),
    "from_pyomo": ("optdsl.api.from_pyomo", "from_pyomo"),
    "Model": ("optdsl.api.model", "Model"),
    "Result": ("optdsl.results", "Result"),
    "TerminationStatus": ("optdsl.results", "TerminationStatus"),
    "SolutionStatus": ("optdsl.results", "SolutionStatus"),
    "OptdslError": ("optdsl.errors", "OptdslError"),
    "ModelError": ("optdsl.errors", "ModelError"),
    "DataError": ("optdsl.errors", "DataError"),
    "SolverError": ("optdsl.errors", "SolverError"),
    "sum": ("optdsl.api.funcs", "sum"),
    "prod": ("optdsl.api.funcs", "prod"),
    "max": ("optdsl.api.funcs", "max"),
    "min": ("optdsl.api.funcs", "min"),
    "each": ("optdsl.api.funcs", "each"),
    "piecewise": ("optdsl.api.funcs", "piecewise"),
    "exp": ("optdsl.api.funcs", "exp"),
    "log": ("optdsl.api.funcs", "log"),
    "log10": ("optdsl.api.funcs", "log10"),
    "sqrt": ("optdsl.api.funcs", "sqrt"),
    "sin": ("optdsl.api.funcs", "sin"),
    "cos": ("optdsl.api.funcs", "cos"),
    "tan": ("optdsl.api.funcs", "tan"),
    "tanh": ("optdsl.api.funcs", "tanh"),
    "atan": ("optdsl.api.funcs", "atan"),
    "sinh": ("optdsl.api.funcs", "sinh"),
    "cosh": ("optdsl.api.funcs", "cosh"),
    "asin": ("optdsl.api.funcs", "asin"),
    "acos": ("optdsl.api.funcs", "acos"),
    "asinh": ("optdsl.api.funcs", "asinh"),
    "acosh": ("optdsl.api.funcs", "acosh"),
    "atanh": ("optdsl.api.funcs", "atanh"),
    "atan2": ("optdsl.api.funcs", "atan2"),
    "abs": ("optdsl.api.funcs", "abs"),
    "floor": ("optdsl.api.funcs", "floor"),
    "ceil": ("optdsl.api.funcs", "ceil"),
    "between": ("optdsl.api.funcs", "between"),
    "where": ("optdsl.api.funcs", "where"),
    "card": ("optdsl.api.funcs", "card"),
    "ord": ("optdsl.api.funcs", "ord"),
    "acyclic": ("optdsl.api.funcs", "acyclic"),
    "Expression": ("optdsl.api.expr", "Expression"),
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module 'optdsl' has no attribute '{name}'")


def __dir__() -> list[str]:
    return sorted(list(globals()) + list(_LAZY))
