"""From text to result: parse, check, gather data, instantiate, lower, solve, map back.

The CLI and the Python API both call these functions; nothing here imports torch or pyomo
unless the chosen backend needs them.
"""

from __future__ import annotations

import contextlib
import math
import re
import time
from collections.abc import Iterator
from typing import Any

from optdsl import backends, interrupts
from optdsl.backends import SolveOptions
from optdsl.errors import ModelError, OptdslError, SolverError
from optdsl.ir.model import ModelIR
from optdsl.lower import chain
from optdsl.results import Result

# `option NAME VALUE;` names optdsl reads; others (AMPL's cplex_options, solver_msg, ...) are ignored.
MODEL_OPTIONS = frozenset({"solver", "time_limit", "seed", "threads", "mip_gap", "device", "nlp_executor"})


def solve_options(ir: ModelIR, time_limit: float | None = None, seed: int | None = None,
                  verbose: bool = False, device: str | None = None, mip_gap: float | None = None,
                  threads: int | None = None, backend: str = "", options: dict[str, Any] | None = None,
                  ) -> SolveOptions:
    """Model `option` statements, overridden by explicit arguments (the command line wins).
    A bad value in a model's option, or a backend option that names a file, is a located error."""
    mopts = ir.options
    spans = ir.option_spans
    merged: dict[str, Any] = {}
    origins: dict[str, Any] = {}
    for k, v in mopts.items():
        if "." in k:
            b, _, key = k.partition(".")
            if b == backend:
                refuse_file_option(k, spans.get(k))
                merged[key] = v
                origins[key] = spans.get(k)
        elif k not in MODEL_OPTIONS and verbose:
            _warn_once(ir, f"option {k} ignored: it sets AMPL's environment, not an optdsl setting")
    for k, v in (options or {}).items():
        b, dot, key = k.partition(".")
        if dot and b == backend:
            merged[key] = v
            origins.pop(key, None)
        elif not dot:
            merged[k] = v
            origins.pop(k, None)
    return SolveOptions(
        time_limit=time_limit if time_limit is not None else _model_number(ir, "time_limit", positive=True),
        seed=seed if seed is not None else _model_int(ir, "seed"),
        threads=threads if threads is not None else _model_int(ir, "threads"),
        mip_gap=mip_gap if mip_gap is not None else _model_number(ir, "mip_gap"),
        verbose=verbose,
        device=device or str(mopts.get("device", "cpu")),
        backend_options=merged,
        origins=origins,
    )


_FILE_OPTION = re.compile(r"(^|_)(file|filename|dir|directory|path)$|^(write|read)_")


def refuse_file_option(name: str, span: Any) -> None:
    """A model file may not set backend options that read or write files (HiGHS's `log_file`,
    `solution_file`, `write_*`, `read_*`): they would bypass optdsl.files. The command line may."""
    key = name.partition(".")[2] or name
    if _FILE_OPTION.search(key):
        raise ModelError(f"option {name}: a model file may not set an option that reads or writes files", span,
                         hint=f"give it on the command line: --option {name}=VALUE")


def _model_number(ir: ModelIR, key: str, positive: bool = False) -> float | None:
    v = ir.options.get(key)
    if v is None:
        return None
    try:
        x = float(v)
    except (TypeError, ValueError):
        x = math.nan
    if not math.isfinite(x) or x < 0 or (positive and x == 0):
        want = "a finite number > 0" if positive else "a finite number >= 0"
        raise ModelError(f"option {key} takes {want}, not {v!r}", ir.option_spans.get(key))
    return x


def _model_int(ir: ModelIR, key: str) -> int | None:
    v = ir.options.get(key)
    if v is None:
        return None
    try:
        x = float(v)
        ok = math.isfinite(x) and x.is_integer() and 0 <= x < 2**31
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ModelError(f"option {key} takes a whole number from 0 to 2^31 - 1, not {v!r}", ir.option_spans.get(key))
    return int(x)


@contextlib.contextmanager
def _located_in(ir: ModelIR, solver: str | None = None) -> Iterator[None]:
    """Errors raised while choosing, lowering and solving point into the model where they can: a
    backend's error about a component (`err.component`) at its declaration, the model's
    `option solver` when the model asked for the backend."""
    try:
        yield
    except OptdslError as err:
        if err.span is None:
            name = getattr(err, "component", None)
            if name in ir.decl_spans:
                err.span = ir.decl_spans[name]
            elif solver is None and "solver" in ir.option_spans and "solver" in err.message:
                err.span = ir.option_spans["solver"]
        raise


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
        kw = dict(kwargs)
        deadline = kw.pop("deadline", None)  # the command's own end (time.perf_counter() clock)
        if deadline is not None:  # the time left once the backend is chosen, as late as possible
            kw["time_limit"] = max(deadline - time.perf_counter(), 1e-3)
        opts = solve_options(ir, backend=cls.name, **kw)
        try:
            opts.backend_options = cls.validate_options(opts.backend_options)
        except OptdslError as err:  # an option from a model file: point at its statement
            key = next((k for k in opts.origins if f"'{k}'" in err.message or f".{k}" in err.message), None)
            if err.span is None and key is not None:
                err.span = opts.origins[key]
            raise
        return opts

    return make


def prepare_ir(ir: ModelIR, solver: str | None = None, **kwargs: Any) -> chain.Prepared:
    """Choose a plan, lower and run its passes: what the backend will be handed."""
    with _located_in(ir, solver):
        return chain.prepare(plan_for(ir, solver), _options_maker(ir, kwargs), ir=ir)


def solve_ir(ir: ModelIR, solver: str | None = None, **kwargs: Any) -> Result:
    """Choose the plan, lower, run the passes, solve and map the result back to names."""
    t0 = time.perf_counter()
    prepared = prepare_ir(ir, solver, **kwargs)
    t1 = time.perf_counter()
    with interrupts.catching(), _located_in(ir, solver):  # Ctrl-C: the backend stops with its best point
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
    prepared = chain.prepare(plans, _options_maker(ModelIR(), kwargs), form=form)
    with interrupts.catching():  # Ctrl-C: the backend stops with its best point (optdsl.interrupts)
        return prepared.solve()


def lp_form_for_export(ir: ModelIR, what: str) -> Any:
    """The LP form of `ir` for `convert` and `Model.to_highs()`: only when the model is exactly an
    LP/MILP/QP. Anything else is refused with the backend that solves it, never written as a
    different problem."""
    feats = ir.features()
    # piecewise-linear terms are in the lp form only until the piecewise_linear pass expands them
    lost = sorted(feats - (chain.FORMS["lp"].expresses - {"piecewise"}))
    if lost:
        try:
            best = chain.choose(feats)[0].text
            where = f"solve it with `optdsl solve` (it goes to {best})"
        except SolverError:
            where = chain.alternatives_hint(feats)
        raise SolverError(f"{what} needs an LP/MILP/QP, but the model has {chain.describe(lost)}", hint=where)
    from optdsl.lower.lp import to_lpform

    return to_lpform(ir)
