"""The lowering chain: from the IR's features to a backend, through typed forms and passes.

A *form* is what a backend takes (LPForm, NLPForm, BilevelForm, DAGForm, SurrogateForm). Each
kind of form can express a set of features; its lowering refuses an IR with any other feature,
so nothing the model states is ever dropped. A *pass* rewrites one form into another and declares
the features it removes and adds (`optdsl.lower.passes`). A *plan* is a lowering, zero or more
passes and a backend: the chooser enumerates plans from these declarations alone (no solver is
imported), prefers the shortest chain and then the backend's priority, and explains itself
(`optdsl show MODEL` prints the chain). Solving runs the plan and maps the result back through
each pass's `invert`, in reverse order.
"""

from __future__ import annotations

import importlib
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from optdsl import backends
from optdsl.backends import FEATURES, Backend, SolveOptions
from optdsl.errors import SolverError, did_you_mean
from optdsl.lower.passes import ENTRY_POINT_GROUP as PASS_GROUP
from optdsl.lower.passes import Pass
from optdsl.results import Result

_SMOOTH = frozenset({"linear", "quadratic", "nonlinear", "inequalities", "nonsmooth"})


@dataclass(frozen=True)
class FormKind:
    name: str
    lowering: str  # "module:function" taking (ir, options) and returning the form
    expresses: frozenset[str]
    description: str
    needs: frozenset[str] = frozenset()  # features a model must have to be lowered to this kind


FORMS: dict[str, FormKind] = {
    k.name: k
    for k in (
        FormKind("lp", "optdsl.lower.lp:lower_lp",
                 frozenset({"linear", "integer", "quadratic", "inequalities", "piecewise"}),
                 "LP/MILP/QP arrays: c, A, bounds, Q, integrality (and piecewise-linear terms to expand)"),
        FormKind("nlp", "optdsl.lower.nlp:lower_nlp", _SMOOTH,
                 "oracles of a smooth NLP: f, grad, c, jac, hess_lag"),
        FormKind("bilevel", "optdsl.lower.bilevel:to_bilevel_form", _SMOOTH | {"bilevel"},
                 "leader and follower NLP oracles over all variables, with the levels' variables",
                 frozenset({"bilevel"})),
        FormKind("dag", "optdsl.lower.dag:to_dag_form", _SMOOTH | {"acyclic"},
                 "a score over a square variable W that must be acyclic, with its per-node decomposition",
                 frozenset({"acyclic"})),
        FormKind("ir", "optdsl.lower.chain:lower_ir", _SMOOTH | {"integer"},
                 "the instantiated model itself, for backends that lower it their own way (the Pyomo bridge)"),
        FormKind("surrogate", "optdsl.lower.surrogate:to_surrogate_form", _SMOOTH | {"surrogate"},
                 "networks, the expressions that feed them and how their outputs enter the model",
                 frozenset({"surrogate"})),
    )
}


def lacking(features: Iterable[str], cls: type[Backend]) -> list[str]:
    """What `cls` misses for `features`, leaving out what some pass can rewrite away."""
    missing = set(features) - cls.features
    removable = set().union(*(p.removes for p in passes().values())) if passes() else set()
    return sorted(missing - removable) or sorted(missing)


def describe(features: Iterable[str]) -> str:
    return ", ".join(f"{f} ({FEATURES.get(f, f)})" for f in sorted(features))


def check_expressible(features: Iterable[str], kind: str, what: str = "the model") -> None:
    """A lowering's refusal: the named error for any feature the form `kind` would drop."""
    lost = sorted(set(features) - FORMS[kind].expresses)
    if lost:
        raise SolverError(
            f"{what} has {describe(lost)}, which the {kind} form cannot express; lowering it would "
            "solve a different problem",
            hint=alternatives_hint(set(features)),
        )


# ---------------------------------------------------------------------------------- passes
_PASSES: dict[str, type[Pass]] | None = None


def passes() -> dict[str, type[Pass]]:
    """Registered passes by name (entry-point group `optdsl.passes`)."""
    global _PASSES
    if _PASSES is None:
        from optdsl.entry_points import group, load

        found: dict[str, type[Pass]] = {}
        for name, value in group(PASS_GROUP).items():
            cls = load(value)
            if isinstance(cls, type) and issubclass(cls, Pass):
                found[name] = cls
        _PASSES = found
    return _PASSES


def register_pass(cls: type[Pass]) -> type[Pass]:
    passes()[cls.name] = cls
    return cls


def refresh() -> None:
    global _PASSES
    _PASSES = None
    backends.refresh()


# ---------------------------------------------------------------------------------- plans
@dataclass(frozen=True)
class Plan:
    backend: type[Backend]
    passes: tuple[type[Pass], ...]
    lowering: str | None  # form kind the IR is lowered to; None when starting from a form

    @property
    def text(self) -> str:
        return " → ".join([p.name for p in self.passes] + [self.backend.name])


MAX_CHAIN = 3


def plans(features: Iterable[str], start_form: str | None = None, backend: str | None = None,
          installed_only: bool = True) -> list[Plan]:
    """Every plan that solves a problem with `features`, best first: shortest chain, then the
    backend's priority. `start_form` is the kind of an already-lowered form (an MPS file's LP);
    `backend` restricts the search to that backend."""
    feats = frozenset(features)
    cands = [backends.get(backend)] if backend else [backends.get(n) for n in backends.names()]
    if installed_only:
        cands = [b for b in cands if not b.missing_packages()]
    found: list[Plan] = []
    seen: set[tuple[str, tuple[str, ...]]] = set()
    queue: deque[tuple[frozenset[str], str | None, tuple[type[Pass], ...]]] = deque([(feats, start_form, ())])
    while queue:
        fs, kind, chain = queue.popleft()
        for b in cands:
            if fs <= b.features and _can_enter(fs, kind, b.form) and (b.name, tuple(p.name for p in chain)) not in seen:
                seen.add((b.name, tuple(p.name for p in chain)))
                lowering = (chain[0].form_in if chain else b.form) if start_form is None else None
                found.append(Plan(b, chain, lowering))
        if len(chain) >= MAX_CHAIN:
            continue
        for p in passes().values():
            if p in chain or not p.requires <= fs or not _can_enter(fs, kind, p.form_in):
                continue
            queue.append((p.produces(fs), p.form_out, chain + (p,)))
    found.sort(key=lambda pl: (len(pl.passes), pl.backend.priority, pl.backend.name))
    return found


def _can_enter(features: frozenset[str], kind: str | None, form: str) -> bool:
    """Can a problem at form `kind` (None: still the IR) enter something that takes `form`?"""
    if kind is None:
        return form in FORMS and features <= FORMS[form].expresses and FORMS[form].needs <= features
    return kind == form


def choose(features: Iterable[str], requested: str | None = None, start_form: str | None = None) -> list[Plan]:
    """The plans to try, best first, or a SolverError that names the missing features and the
    backends that could take the problem."""
    feats = set(features)
    if requested:
        cls = backends.get(requested)
        found = plans(feats, start_form, backend=requested, installed_only=False)
        if not found:
            raise SolverError(
                f"solver '{requested}' cannot take this model: it lacks {describe(lacking(feats, cls) or feats)}",
                hint=alternatives_hint(feats, start_form),
            )
        backends.check_installed(cls)
        return found
    found = plans(feats, start_form)
    if not found:
        raise SolverError("no installed backend handles a model needing " + describe(feats),
                          hint=alternatives_hint(feats, start_form))
    return found


def alternatives_hint(features: set[str], start_form: str | None = None) -> str:
    ok = plans(features, start_form)
    if ok:
        return "backends that can: " + ", ".join(dict.fromkeys(p.text for p in ok))
    missing = [p for p in plans(features, start_form, installed_only=False)]
    if missing:
        b = missing[0].backend
        return f"'{b.name}' would take it but needs {', '.join(b.missing_packages())}: " \
               f"pip install {' '.join(b.missing_packages())}"
    return "no registered backend can; see `optdsl show MODEL` for the problem class"


# ---------------------------------------------------------------------------------- running a plan
def lower_ir(ir: Any, options: SolveOptions) -> Any:
    """The "ir" form: the model as instantiated."""
    return ir


def _function(path: str) -> Any:
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)


def lower(ir: Any, kind: str, options: SolveOptions) -> Any:
    """The form of kind `kind` for `ir` (each lowering refuses what it would drop)."""
    if kind not in FORMS:
        raise SolverError(f"unknown form '{kind}'", hint=did_you_mean(kind, list(FORMS)))
    check_expressible(ir.features(), kind)
    return _function(FORMS[kind].lowering)(ir, options)


@dataclass
class Prepared:
    """A plan whose lowering and passes have run: `form` is what the backend takes."""

    plan: Plan
    form: Any
    applied: list[tuple[Pass, Any]]
    options: SolveOptions

    def solve(self) -> Result:
        result = self.plan.backend().solve(self.form, self.options)
        return self.invert(result)

    def invert(self, result: Result) -> Result:
        if result.layout is None:
            result.layout = getattr(self.form, "layout", None)
        for p, inverse in reversed(self.applied):
            result = p.invert(result, inverse)
        if self.applied:
            result.stats.setdefault("chain", self.plan.text)
        return result


def prepare(plan_list: list[Plan], make_options: Any, ir: Any = None, form: Any = None) -> Prepared:
    """Run the first plan whose passes all accept the form. `make_options(backend_cls)` builds the
    SolveOptions for a backend (its validated options). A refusal by `accepts` moves on to the
    next plan; when every plan is refused, the error lists the reasons."""
    reasons: list[str] = []
    for plan in plan_list:
        opts = make_options(plan.backend)
        current = form if plan.lowering is None else lower(ir, plan.lowering, opts)
        applied: list[tuple[Pass, Any]] = []
        refused = None
        for p_cls in plan.passes:
            p = p_cls()
            refused = p.accepts(current)
            if refused:
                break
            current, inverse = p.apply(current, opts)
            applied.append((p, inverse))
        if refused:
            reasons.append(f"{plan.text}: {refused}")
            continue
        return Prepared(plan, current, applied, opts)
    raise SolverError("no plan can take this model: " + "; ".join(reasons))
