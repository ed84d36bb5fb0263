"""From text to result: parse, check, gather data, instantiate, lower, solve, map back.

The CLI and the Python API both call these functions; nothing here imports torch or pyomo
unless the chosen backend needs them.
"""

from __future__ import annotations

import time
from typing import Any

from optdsl import backends
from optdsl.backends import SolveOptions
from optdsl.errors import SolverError
from optdsl.ir.model import ModelIR
from optdsl.lower import chain
from optdsl.results import Result

# `option NAME VALUE;` names optdsl reads; others (AMPL's cplex_options, solver_msg, ...) are ignored.
MODEL_OPTIONS = frozenset({"solver", "time_limit", "seed", "threads", "mip_gap", "device", "nlp_executor"})


def solve_options(ir: ModelIR, time_limit: float | None = None, seed: int | None = None,
                  verbose: bool = False, device: str | None = None, mip_gap: float | None = None,
                  threads: int | None = None, backend: str = "", options: dict[str, Any] | None = None,
                  ) -> SolveOptions:
    """Model `option` statements, overridden by explicit arguments (the command line wins)."""
    mopts = ir.options
    merged: dict[str, Any] = {}
    for k, v in mopts.items():
        if "." in k:
            b, _, key = k.partition(".")
            if b == backend:
                merged[key] = v
        elif k not in MODEL_OPTIONS and verbose:
            _warn_once(ir, f"option {k} ignored: it sets AMPL's environment, not an optdsl setting")
    for k, v in (options or {}).items():
        b, dot, key = k.partition(".")
        if dot and b == backend:
            merged[key] = v
        elif not dot:
            merged[k] = v
    return SolveOptions(
        time_limit=time_limit if time_limit is not None else _num(mopts.get("time_limit")),
        seed=seed if seed is not None else (int(mopts["seed"]) if "seed" in mopts else None),
        threads=threads if threads is not None else (int(mopts["threads"]) if "threads" in mopts else None),
        mip_gap=mip_gap if mip_gap is not None else _num(mopts.get("mip_gap")),
        verbose=verbose,
        device=device or str(mopts.get("device", "cpu")),
        backend_options=merged,
    )


def _num(v: Any) -> float | None:
    return None if v is None else float(v)


def plan_for(ir: ModelIR, solver: str | None = None) -> list[chain.Plan]:
    """The plans for `ir`, best first: the user's `--solver` (or `option solver`) checked, or the
    chooser's pick."""
    requested = solver
    if requested is None and "solver" in ir.options:
        requested = str(ir.options["solver"])
        if requested.partition(":")[0] not in backends.names():  # "pyomo:glpk" is the pyomo backend
            # AMPL/GMPL files name their authors' solvers (cplex, minos, gurobi, ...): the file still
            # runs, on the backend the chooser picks, as it would without the option.
            plans = chain.choose(ir.features())
            _warn_once(ir, f"option solver {requested}: no such backend here; using {plans[0].text}")
            return plans
    return chain.choose(ir.features(), requested)


def _warn_once(ir: ModelIR, message: str) -> None:
    """A warning on stderr, once per model."""
    import sys

    if message not in ir.warned:
        ir.warned.add(message)
        print(f"warning: {message}", file=sys.stderr)


def choose_backend(ir: ModelIR, solver: str | None = None) -> type[backends.Backend]:
    return plan_for(ir, solver)[0].backend


def _options_maker(ir: ModelIR, kwargs: dict[str, Any]):
    def make(cls: type[backends.Backend]) -> SolveOptions:
        opts = solve_options(ir, backend=cls.name, **kwargs)
        opts.backend_options = cls.validate_options(opts.backend_options)
        return opts

    return make


def prepare_ir(ir: ModelIR, solver: str | None = None, **kwargs: Any) -> chain.Prepared:
    """Choose a plan, lower and run its passes: what the backend will be handed."""
    return chain.prepare(plan_for(ir, solver), _options_maker(ir, kwargs), ir=ir)


def solve_ir(ir: ModelIR, solver: str | None = None, **kwargs: Any) -> Result:
    """Choose the plan, lower, run the passes, solve and map the result back to names."""
    t0 = time.perf_counter()
    prepared = prepare_ir(ir, solver, **kwargs)
    t1 = time.perf_counter()
    result = prepared.solve()
    result.times.setdefault("lower_s", t1 - t0)
    return result


def form_features(form: Any) -> set[str]:
    """The features of an already-lowered LP form (read from an MPS or LP file)."""
    needed = {"linear"}
    if getattr(form, "is_mip", False):
        needed.add("integer")
    if getattr(form, "is_qp", False):
        needed.add("quadratic")
    import numpy as np

    if np.any(form.row_lower != form.row_upper) or np.any(np.isfinite(form.col_lower)) \
            or np.any(np.isfinite(form.col_upper)):
        needed.add("inequalities")
    return needed


def solve_form(form: Any, solver: str | None = None, **kwargs: Any) -> Result:
    """Solve an already-lowered LP form (e.g. read from an MPS or LP file) through the same choice."""
    plans = chain.choose(form_features(form), solver, start_form="lp")
    return chain.prepare(plans, _options_maker(ModelIR(), kwargs), form=form).solve()


def lp_form_for_export(ir: ModelIR, what: str) -> Any:
    """The LP form of `ir` for `convert` and `Model.to_highs()`: only when the model is exactly an
    LP/MILP/QP. Anything else is refused with the backend that solves it, never written as a
    different problem."""
    feats = ir.features()
    lost = sorted(feats - chain.FORMS["lp"].expresses)
    if lost:
        try:
            best = chain.choose(feats)[0].text
            where = f"solve it with `optdsl solve` (it goes to {best})"
        except SolverError:
            where = chain.alternatives_hint(feats)
        raise SolverError(f"{what} needs an LP/MILP/QP, but the model has {chain.describe(lost)}", hint=where)
    from optdsl.lower.lp import to_lpform

    return to_lpform(ir)
