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
    "Model": ("optdsl.api.model", "Model"),
    "Result": ("optdsl.results", "Result"),
    "TerminationStatus": ("optdsl.results", "TerminationStatus"),
    "SolutionStatus": ("optdsl.results", "SolutionStatus"),
    "OptdslError": ("optdsl.errors", "OptdslError"),
    "ModelError": ("optdsl.errors", "ModelError"),
    "DataError": ("optdsl.errors", "DataError"),
    "SolverError": ("optdsl.errors", "SolverError"),
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module 'optdsl' has no attribute '{name}'")


def __dir__() -> list[str]:
    return sorted(list(globals()) + list(_LAZY))
