"""The backend protocol and registry.

A backend is a class with its facts as class data (name, features it handles, the standard form
it takes, packages it needs) and one method, `solve(form, options) -> Result`. Built-in backends
are registered by import path so that listing or choosing one imports neither torch nor pyomo;
required packages are checked with `importlib.util.find_spec`, without importing them.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from optdsl.errors import SolverError
from optdsl.results import Result

# Features a problem can need and a backend can handle.
FEATURES = {
    "linear": "linear objective and constraints",
    "integer": "integer or binary variables",
    "quadratic": "a convex quadratic objective",
    "nonlinear": "smooth nonlinear functions",
    "inequalities": "inequality constraints or variable bounds in a nonlinear model",
    "bilevel": "a lower-level (follower) problem",
    "acyclic": "an acyclicity constraint acyclic(W)",
    "surrogate": "a neural-network surrogate call",
    "nonsmooth": "nonsmooth functions (abs, max, min) of variables",
}


@dataclass
class SolveOptions:
    time_limit: float | None = None
    seed: int | None = None
    threads: int | None = None
    mip_gap: float | None = None
    verbose: bool = False
    device: str = "cpu"
    backend_options: dict[str, Any] = field(default_factory=dict)  # KEY -> VALUE for this backend


class Backend:
    """Subclass and fill in the class data; `solve` receives the lowered form."""

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    features: ClassVar[frozenset[str]] = frozenset()
    form: ClassVar[str] = "lp"  # "lp" or "nlp"
    requires: ClassVar[tuple[str, ...]] = ()  # import names
    gives_duals: ClassVar[bool] = False

    def solve(self, form: Any, options: SolveOptions) -> Result:  # pragma: no cover - interface
        raise SolverError(f"backend '{self.name}' does not implement solve")

    @classmethod
    def missing_packages(cls) -> list[str]:
        return [p for p in cls.requires if importlib.util.find_spec(p) is None]


# name -> "module:Class"; preference order matters for automatic choice.
_BUILTIN: dict[str, str] = {
    "highs": "optdsl.solvers.highs.backend:HighsBackend",
    "sketch_newton": "optdsl.solvers.sketch_newton.backend:SketchNewtonBackend",
}
_LOADED: dict[str, type[Backend]] = {}


def register(cls: type[Backend]) -> type[Backend]:
    """Register a backend class (also usable as a decorator by third-party backends)."""
    if not cls.name:
        raise SolverError(f"backend class {cls.__name__} has no name")
    _LOADED[cls.name] = cls
    _BUILTIN.setdefault(cls.name, f"{cls.__module__}:{cls.__qualname__}")
    return cls


def names() -> list[str]:
    return list(_BUILTIN)


def get(name: str) -> type[Backend]:
    if name in _LOADED:
        return _LOADED[name]
    if name not in _BUILTIN:
        from optdsl.errors import did_you_mean

        raise SolverError(
            f"unknown solver '{name}'; available: {', '.join(names())}",
            hint=did_you_mean(name, names()),
        )
    module, _, cls_name = _BUILTIN[name].partition(":")
    cls = getattr(importlib.import_module(module), cls_name)
    _LOADED[name] = cls
    return cls


def choose(needed: Iterable[str], requested: str | None = None) -> type[Backend]:
    """The backend for a problem needing `needed` features: the user's choice checked, or the
    first registered backend that handles them all."""
    needed = set(needed)
    if requested:
        cls = get(requested)
        lacking = sorted(needed - cls.features)
        if lacking:
            others = [n for n in names() if needed <= get(n).features]
            what = ", ".join(f"{f} ({FEATURES.get(f, f)})" for f in lacking)
            raise SolverError(
                f"solver '{requested}' cannot take this model: it lacks {what}",
                hint=(f"backends that can: {', '.join(others)}" if others else "no installed backend can"),
            )
        _check_installed(cls)
        return cls
    for n in names():
        cls = get(n)
        if needed <= cls.features:
            _check_installed(cls)
            return cls
    raise SolverError(
        "no backend handles a model needing " + ", ".join(sorted(needed)),
        hint="see `optdsl show MODEL` for the problem class",
    )


def _check_installed(cls: type[Backend]) -> None:
    missing = cls.missing_packages()
    if missing:
        raise SolverError(
            f"solver '{cls.name}' needs the package(s) {', '.join(missing)}, which are not installed",
            hint=f"pip install {' '.join(missing)}",
        )
