"""The backend protocol and registry.

A backend is a class with its facts as class data — name, the features it handles, the form it
takes, the packages it needs, its options schema, status map and result abilities — and one
method, `solve(form, options) -> Result`. Backends are plug-ins: every one, the built-in ones
included, is registered through the entry-point group `optdsl.backends` (see pyproject.toml), so a
package outside the project adds one by declaring an entry point. The module an entry point names
must be light (no torch, highspy or pyomo at import), so that listing backends and choosing one
imports no solver; required packages are checked with `importlib.util.find_spec`.
"""

from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass, field
from typing import Any, ClassVar

from optdsl.errors import SolverError, did_you_mean
from optdsl.results import Result, TerminationStatus

ENTRY_POINT_GROUP = "optdsl.backends"

# Features a problem can need and a backend can handle.
FEATURES = {
    "linear": "linear objective and constraints",
    "integer": "integer or binary variables",
    "quadratic": "a convex quadratic objective",
    "nonlinear": "smooth nonlinear functions",
    "inequalities": "inequality constraints or variable bounds",
    "bilevel": "a lower-level (follower) problem",
    "acyclic": "an acyclicity constraint acyclic(W)",
    "surrogate": "a neural-network surrogate call",
    "nonsmooth": "nonsmooth functions (abs, max, min) of variables",
    "piecewise": "piecewise-linear terms <<breakpoints; slopes>> of variables",
}

# Result abilities a backend can declare.
ABILITIES = {
    "duals": "row duals and reduced costs",
    "bound": "a proven bound on the optimum",
    "incumbent_trace": "the incumbent's objective over time",
    "history": "per-iteration traces (objective, residuals) in Result.history",
    "certificates": "proves infeasibility and unboundedness",
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
    origins: dict[str, Any] = field(default_factory=dict)  # KEY -> Span of the model's `option` statement


_TRUE = {"true", "t", "on", "yes", "1"}
_FALSE = {"false", "f", "off", "no", "0"}


@dataclass(frozen=True)
class Option:
    """One entry of a backend's options schema."""

    type: type  # bool, int, float or str
    default: Any
    help: str
    choices: tuple[Any, ...] | None = None

    def convert(self, key: str, value: Any) -> Any:
        """`value` (a string from the command line or a model file, or a Python value) as this
        option's type; a SolverError saying what is expected otherwise."""
        try:
            if self.type is bool:
                if isinstance(value, bool):
                    out: Any = value
                elif str(value).strip().lower() in _TRUE:
                    out = True
                elif str(value).strip().lower() in _FALSE:
                    out = False
                else:
                    raise ValueError
            elif self.type is int:
                f = float(value)
                if not f.is_integer():
                    raise ValueError
                out = int(f)
            elif self.type is float:
                out = float(value)
                if out != out:
                    raise ValueError
            else:
                out = str(value)
        except (TypeError, ValueError, OverflowError):
            raise SolverError(f"option '{key}' takes {_type_word(self.type)}, got '{value}'") from None
        if self.choices is not None and out not in self.choices:
            raise SolverError(
                f"option '{key}' must be one of {', '.join(map(str, self.choices))}, got '{value}'",
                hint=did_you_mean(str(out), [str(c) for c in self.choices]),
            )
        return out


def _type_word(t: type) -> str:
    return {bool: "true or false", int: "an integer", float: "a number"}.get(t, "a string")


class Backend:
    """Subclass and fill in the class data; `solve` receives the lowered form.

    `options` is the schema of the backend's own options; `--option NAME.KEY=VALUE` values arrive
    in `SolveOptions.backend_options` converted to the declared types, defaults filled in. A backend
    that also accepts its solver's native options (HiGHS's several hundred) sets `passthrough` to a
    sentence saying so and validates those keys itself.
    """

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    features: ClassVar[frozenset[str]] = frozenset()
    form: ClassVar[str] = "lp"  # a kind of optdsl.lower.chain.FORMS
    requires: ClassVar[tuple[str, ...]] = ()  # import names
    priority: ClassVar[int] = 50  # lower is preferred when several backends fit equally well
    options: ClassVar[dict[str, Option]] = {}
    passthrough: ClassVar[str | None] = None
    status_map: ClassVar[dict[str, TerminationStatus]] = {}
    abilities: ClassVar[frozenset[str]] = frozenset()

    def solve(self, form: Any, options: SolveOptions) -> Result:  # pragma: no cover - interface
        raise SolverError(f"backend '{self.name}' does not implement solve")

    @classmethod
    def missing_packages(cls) -> list[str]:
        return [p for p in cls.requires if importlib.util.find_spec(p) is None]

    @classmethod
    def gives_duals(cls) -> bool:
        return "duals" in cls.abilities

    @classmethod
    def validate_options(cls, raw: dict[str, Any]) -> dict[str, Any]:
        """The backend's options with declared types and defaults; unknown keys refused with the
        list of known ones unless the backend passes its solver's native options through."""
        return validate_options(cls.name, cls.options, raw, cls.passthrough is not None)

    @classmethod
    def help_text(cls) -> str:
        """The text of `optdsl solve --help-backend NAME`."""
        lines = [f"{cls.name}: {cls.description}", f"  form: {cls.form}",
                 f"  features: {', '.join(sorted(cls.features))}"]
        if cls.requires:
            lines.append(f"  requires: {', '.join(cls.requires)}")
        if cls.abilities:
            lines.append(f"  results: {', '.join(sorted(cls.abilities))}")
        lines.append("  options (--option " + cls.name + ".KEY=VALUE):")
        for key in sorted(cls.options):
            o = cls.options[key]
            kind = "|".join(map(str, o.choices)) if o.choices else o.type.__name__
            lines.append(f"    {key:<18} {kind:<10} default {o.default!s:<10} {o.help}")
        if not cls.options:
            lines.append("    (none)")
        if cls.passthrough:
            lines.append(f"    and {cls.passthrough}")
        return "\n".join(lines)


def validate_options(name: str, schema: dict[str, Option], raw: dict[str, Any],
                     passthrough: bool = False) -> dict[str, Any]:
    """`raw` options of backend `name` checked against `schema`: declared types, defaults filled in."""
    out = {k: o.default for k, o in schema.items() if o.default is not None}
    for key, value in raw.items():
        opt = schema.get(key)
        if opt is not None:
            out[key] = opt.convert(f"{name}.{key}", value)
        elif passthrough:
            out[key] = value
        else:
            known = ", ".join(sorted(schema)) or "none"
            raise SolverError(
                f"backend '{name}' has no option '{key}'; its options are: {known}",
                hint=did_you_mean(key, list(schema)) or f"optdsl solve --help-backend {name}",
            )
    return out


_REGISTRY: dict[str, str] | None = None  # name -> "module:Class", in discovery order
_LOADED: dict[str, type[Backend]] = {}


def _registry() -> dict[str, str]:
    global _REGISTRY
    if _REGISTRY is None:
        from optdsl.entry_points import group

        _REGISTRY = group(ENTRY_POINT_GROUP)
        if not _REGISTRY:
            raise SolverError(
                "no backends are registered: optdsl's package metadata is missing",
                hint="install optdsl (pip install -e .) rather than running it from a bare checkout",
            )
    return _REGISTRY


def refresh() -> None:
    """Forget the discovered entry points (after installing a plug-in in a running process)."""
    global _REGISTRY
    _REGISTRY = None
    _LOADED.clear()


def register(cls: type[Backend]) -> type[Backend]:
    """Register a backend class in this process (for scripts and tests; packages use entry points)."""
    if not cls.name:
        raise SolverError(f"backend class {cls.__name__} has no name")
    _registry()[cls.name] = f"{cls.__module__}:{cls.__qualname__}"
    _LOADED[cls.name] = cls
    return cls


def names() -> list[str]:
    """Registered backends, most preferred first."""
    return sorted(_registry(), key=lambda n: (get(n).priority, n))


def get(name: str) -> type[Backend]:
    if name in _LOADED:
        return _LOADED[name]
    base, colon, sub = name.partition(":")
    if colon:  # "pyomo:appsi_highs": backend `base` specialized to its sub-solver by `for_solver`
        parent = get(base)
        for_solver = getattr(parent, "for_solver", None)
        if for_solver is None:
            raise SolverError(f"backend '{base}' takes no sub-solver (got '{name}')")
        _LOADED[name] = for_solver(sub)
        return _LOADED[name]
    reg = _registry()
    if name not in reg:
        raise SolverError(
            f"unknown solver '{name}'; available: {', '.join(sorted(reg))}",
            hint=did_you_mean(name, list(reg)),
        )
    from optdsl.entry_points import load

    try:
        obj: Any = load(reg[name])
    except (ImportError, AttributeError) as err:
        raise SolverError(f"backend '{name}' is registered as '{reg[name]}', which does not load: {err}") from None
    if not (isinstance(obj, type) and issubclass(obj, Backend)):
        raise SolverError(f"backend '{name}' ('{reg[name]}') is not a subclass of optdsl.backends.Backend")
    _LOADED[name] = obj
    return obj


def check_installed(cls: type[Backend]) -> None:
    missing = cls.missing_packages()
    if missing:
        raise SolverError(
            f"solver '{cls.name}' needs the package(s) {', '.join(missing)}, which are not installed",
            hint=f"pip install {' '.join(missing)}",
        )
