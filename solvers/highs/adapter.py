"""The HiGHS adapter shared by every backend that drives highspy: handing an LPForm's arrays to a
`highspy.Highs` (numpy only: no scipy for an LP), options with type checks and did-you-mean,
log capture, the HighsModelStatus -> TerminationStatus/SolutionStatus map and reading the
solution back.

`HighsModel` wraps one Highs for solvers that solve a model repeatedly while changing it (a MIP
search adds rows, fixes bounds and swaps objectives between solves); the `highs` backend solves
once through the same functions. Importing this module does not import highspy; the first use
does.
"""

from __future__ import annotations

import contextlib
import copy
import ctypes
import math
import os
import re
import sys
import threading
import time
from collections import deque
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

from optdsl import interrupts
from optdsl.backends import SolveOptions
from optdsl.errors import SolverError, did_you_mean
from optdsl.lower.csr import CSRMatrix, as_csr
from optdsl.lower.forms import LPForm
from optdsl.results import Result, SolutionStatus, TerminationStatus

if TYPE_CHECKING:  # pragma: no cover
    import highspy

_T = TerminationStatus

# HiGHS's HighsModelStatus names -> why the solver stopped.
STATUS_MAP: dict[str, TerminationStatus] = {
    "kNotset": _T.ERROR,
    "kLoadError": _T.ERROR,
    "kModelError": _T.ERROR,
    "kPresolveError": _T.ERROR,
    "kSolveError": _T.ERROR,
    "kPostsolveError": _T.ERROR,
    "kModelEmpty": _T.OPTIMAL,  # no columns: the offset is the optimum
    "kOptimal": _T.OPTIMAL,
    "kInfeasible": _T.INFEASIBLE,
    "kUnboundedOrInfeasible": _T.INFEASIBLE_OR_UNBOUNDED,
    "kUnbounded": _T.UNBOUNDED,
    "kObjectiveBound": _T.INTERRUPTED,  # the user's objective_bound option stopped it
    "kObjectiveTarget": _T.INTERRUPTED,  # the user's objective_target option stopped it
    "kTimeLimit": _T.TIME_LIMIT,
    "kIterationLimit": _T.ITERATION_LIMIT,
    "kSolutionLimit": _T.ITERATION_LIMIT,  # mip_max_nodes / leaves / improving solutions
    "kUnknown": _T.ERROR,
    "kInterrupt": _T.INTERRUPTED,
    "kHighsInterrupt": _T.INTERRUPTED,
    "kMemoryLimit": _T.ERROR,
}

_BOOL_WORDS = {
    "true": True, "t": True, "on": True, "yes": True, "1": True,
    "false": False, "f": False, "off": False, "no": False, "0": False,
}  # fmt: skip

_LIMIT_WORDS = re.compile(r"limit|tol|gap")
_banner_swallowed = False
_scheduler_threads: int | None = None  # what we last sized HiGHS's global thread pool to


def _highspy():
    import highspy  # deferred: listing backends must not need the package

    return highspy


# --- creating a quiet Highs and hearing what it says --------------------------------------------


@contextlib.contextmanager
def _fd_stdout_to_devnull() -> Iterator[None]:
    """Silence file descriptor 1 (HiGHS prints from C, below Python's sys.stdout)."""
    sys.stdout.flush()
    saved = os.dup(1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        yield
    finally:
        with contextlib.suppress(Exception):
            ctypes.CDLL(None).fflush(None)  # push C's buffered banner into /dev/null, not later
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)


def new_highs(verbose: bool = False) -> highspy.Highs:
    """A `highspy.Highs` with its output off unless `verbose`.

    HiGHS prints its copyright banner when the first Highs of a process is constructed, before
    any option can be set; when not verbose that one construction runs with stdout silenced.
    """
    global _banner_swallowed
    hp = _highspy()
    if verbose or _banner_swallowed:
        h = hp.Highs()
    else:
        try:
            with _fd_stdout_to_devnull():
                h = hp.Highs()
        except OSError:  # no usable fd 1 (embedded interpreters): accept the banner
            h = hp.Highs()
        _banner_swallowed = True
    h.setOptionValue("output_flag", bool(verbose))
    return h


class LogCapture:
    """Collect HiGHS's log through its logging callback while the block runs. The console shows
    what it would have shown anyway (HiGHS's output_flag and log_to_console as they were); the
    ERROR/WARNING lines, and the tail of the rest, are kept for error messages."""

    def __init__(self, h: highspy.Highs) -> None:
        self.h = h
        self.flagged: list[str] = []
        self.tail: deque[str] = deque(maxlen=20)
        self._saved = (False, True)

    def _on_log(self, event: Any) -> None:
        line = str(event.message).rstrip()
        if line.startswith(("ERROR", "WARNING")):
            if len(self.flagged) < 200:  # a broken file can log one line per record
                self.flagged.append(line)
        else:
            self.tail.append(line)

    def __enter__(self) -> LogCapture:
        self._saved = (self.h.getOptionValue("output_flag")[1], self.h.getOptionValue("log_to_console")[1])
        self.h.setOptionValue("log_to_console", bool(self._saved[0] and self._saved[1]))
        self.h.setOptionValue("output_flag", True)
        self.h.cbLogging.subscribe(self._on_log)
        return self

    def __exit__(self, *exc: object) -> None:
        self.h.cbLogging.unsubscribe(self._on_log)
        self.h.setOptionValue("output_flag", bool(self._saved[0]))
        self.h.setOptionValue("log_to_console", bool(self._saved[1]))

    def errors(self) -> list[str]:
        """The ERROR/WARNING lines (else the last lines), without their prefix and line breaks."""
        keep = self.flagged or list(self.tail)
        return [" ".join(ln.replace("ERROR:", "").replace("WARNING:", "").split()) for ln in keep]

    def summary(self, limit: int = 6) -> str:
        errs = self.errors()
        more = f" (+{len(errs) - limit} more)" if len(errs) > limit else ""
        return "; ".join(errs[:limit]) + more


# --- options -----------------------------------------------------------------------------------


def option_names(h: highspy.Highs) -> list[str]:
    """HiGHS's option names (for did-you-mean hints)."""
    return [a for a in dir(h.getOptions()) if not a.startswith("_")]


def _convert(key: str, value: Any, kind_name: str) -> bool | int | float | str:
    """A CLI string (or a Python value) as the type HiGHS declares for option `key`."""
    text = value.strip() if isinstance(value, str) else value
    try:
        if kind_name == "kBool":
            if isinstance(text, str):
                return _BOOL_WORDS[text.lower()]
            if text in (0, 1):  # bool, 0 and 1
                return bool(text)
            raise ValueError
        if kind_name == "kInt":
            if isinstance(text, float) or (isinstance(text, str) and not text.lstrip("+-").isdigit()):
                f = float(text)
                if not f.is_integer():
                    raise ValueError
                return int(f)
            return int(text)
        if kind_name == "kDouble":
            number = float(text)
            if math.isnan(number) or (math.isinf(number) and _LIMIT_WORDS.search(key)):
                raise ValueError  # NaN would mean "no limit" to HiGHS; limits and tolerances are finite
            return number
        return str(value)
    except (KeyError, ValueError, TypeError, OverflowError):
        want = {"kBool": "true/false", "kInt": "an integer", "kDouble": "a finite number"}[kind_name]
        raise SolverError(f"HiGHS option '{key}' takes {want}; got '{value}'") from None


def set_option(h: highspy.Highs, key: str, value: Any) -> None:
    """Set one HiGHS option by name, converting `value` to the option's type; an unknown name or
    a value HiGHS rejects is a SolverError naming the key."""
    hp = _highspy()
    key = key.removeprefix("highs.")
    with LogCapture(h):  # keeps HiGHS's "unknown option" line off the console
        status, kind = h.getOptionType(key)
    if status != hp.HighsStatus.kOk:
        hint = did_you_mean(key, option_names(h)) or (
            "HiGHS's options are listed at https://ergo-code.github.io/HiGHS/stable/options/definitions/"
        )
        raise SolverError(f"unknown HiGHS option '{key}'", hint=hint)
    converted = _convert(key, value, kind.name)
    with LogCapture(h) as log:
        status = h.setOptionValue(key, converted)
    if status == hp.HighsStatus.kError:
        raise SolverError(f"HiGHS rejected option {key}={value}: {log.summary() or 'invalid value'}")


def apply_options(h: highspy.Highs, options: SolveOptions) -> None:
    """Common SolveOptions first, then backend_options, which may override them."""
    global _scheduler_threads
    set_option(h, "output_flag", bool(options.verbose))
    if options.time_limit is not None:
        set_option(h, "time_limit", float(options.time_limit))
    if options.mip_gap is not None:
        set_option(h, "mip_rel_gap", float(options.mip_gap))
    if options.seed is not None:
        set_option(h, "random_seed", int(options.seed))
    if options.threads is not None:
        set_option(h, "threads", int(options.threads))
    for key, value in (options.backend_options or {}).items():
        try:
            set_option(h, str(key), value)
        except SolverError as err:  # an option from a model file: point at its statement
            if err.span is None:
                err.span = getattr(options, "origins", {}).get(key)
            raise
    # HiGHS refuses to run when `threads` differs from its already-started global pool.
    threads = int(h.getOptionValue("threads")[1])
    if threads and threads != _scheduler_threads:
        _highspy().Highs.resetThreadScheduler(True)
        _scheduler_threads = threads


# --- handing the form over ---------------------------------------------------------------------


def _check_shapes(form: LPForm) -> None:
    n, m = form.num_cols, form.num_rows
    sizes = {
        "col_lower": (form.col_lower, n), "col_upper": (form.col_upper, n),
        "row_lower": (form.row_lower, m), "row_upper": (form.row_upper, m),
    }  # fmt: skip
    for name, (arr, want) in sizes.items():
        if np.shape(arr) != (want,):
            raise SolverError(f"LPForm.{name} has shape {np.shape(arr)}, expected ({want},)")
    if form.csr.shape[1] != n:
        raise SolverError(f"LPForm.A has {form.csr.shape[1]} columns but c has {n} entries")
    if form.integrality is not None and np.shape(form.integrality) != (n,):
        raise SolverError(f"LPForm.integrality has shape {np.shape(form.integrality)}, expected ({n},)")
    if form.is_qp and form.Q.shape != (n, n):
        raise SolverError(f"LPForm.Q has shape {form.Q.shape}, expected ({n}, {n})")
    if form.sense not in ("min", "max"):
        raise SolverError(f"LPForm.sense is '{form.sense}', expected 'min' or 'max'")


def _reject_nan(form: LPForm, A: CSRMatrix, large: float = 1e15) -> None:
    """HiGHS takes NaN silently and reports an 'optimal' NaN objective, and refuses entries at or
    above `large_matrix_value` (1e15) with a message naming no component; refuse both here, naming
    the component and index (the error's `component` lets the pipeline point at its declaration)."""
    cols, rows = form.layout.variables, form.layout.constraints
    for name, arr, blocks in (
        ("objective coefficient", form.c, cols), ("lower bound", form.col_lower, cols),
        ("upper bound", form.col_upper, cols), ("row lower bound", form.row_lower, rows),
        ("row upper bound", form.row_upper, rows),
    ):  # fmt: skip
        bad = np.flatnonzero(np.isnan(np.asarray(arr, dtype=float)))
        if bad.size:
            raise _located(f"the model's {name} of {_where(blocks, int(bad[0]))} is NaN", blocks, int(bad[0]))
    for name, arr, sign, blocks in (
        ("lower bound", form.col_lower, 1, cols), ("upper bound", form.col_upper, -1, cols),
        ("row lower bound", form.row_lower, 1, rows), ("row upper bound", form.row_upper, -1, rows),
    ):  # fmt: skip
        # a lower bound of +inf (or >= HiGHS's infinite_bound, 1e20), an upper bound of -inf
        bad = np.flatnonzero(sign * np.asarray(arr, dtype=float) >= 1e20)
        if bad.size:
            v = float(np.asarray(arr, dtype=float)[bad[0]])
            what = f"{'-' if sign < 0 else ''}infinite" if np.isinf(v) else f"{v:g}, which HiGHS takes as infinite"
            raise _located(f"the model's {name} of {_where(blocks, int(bad[0]))} is {what}", blocks, int(bad[0]))
    c = np.asarray(form.c, dtype=float)
    bad = np.flatnonzero(~np.isfinite(c) | (np.abs(c) >= large))
    if bad.size:
        what = "infinite" if np.isinf(c[bad[0]]) else f"{c[bad[0]]:g}, too large for HiGHS (>= {large:g})"
        raise _located(f"the objective coefficient of {_where(cols, int(bad[0]))} is {what}", cols, int(bad[0]))
    wrong = ~np.isfinite(A.data) | (np.abs(A.data) >= large)
    if wrong.any():
        k = int(np.flatnonzero(wrong)[0])
        row = int(np.searchsorted(A.indptr, k, side="right") - 1)
        v = A.data[k]
        what = "NaN" if np.isnan(v) else "infinite" if np.isinf(v) else f"{v:g}, too large for HiGHS (>= {large:g})"
        raise _located(f"the coefficient of {_where(cols, int(A.indices[k]))} in constraint "
                       f"{_where(rows, row)} is {what}", rows, row)
    if form.is_qp:
        import scipy.sparse as sp  # only a QP has Q

        Q = sp.coo_matrix(form.Q)
        wrong = ~np.isfinite(Q.data) | (np.abs(Q.data) >= large)
        if wrong.any():
            k = int(np.flatnonzero(wrong)[0])
            v = Q.data[k]
            what = "NaN" if np.isnan(v) else "infinite" if np.isinf(v) else f"{v:g}, too large for HiGHS (>= {large:g})"
            err = SolverError(f"the quadratic objective coefficient of {_where(cols, int(Q.row[k]))} * "
                              f"{_where(cols, int(Q.col[k]))} is {what}")
            err.component = getattr(form.layout, "objective_name", None)  # type: ignore[attr-defined]
            raise err
    if not np.isfinite(form.c0):
        raise SolverError("the objective constant is NaN or infinite")


def _located(message: str, blocks: list, pos: int) -> SolverError:
    err = SolverError(message)
    err.component = next((b.name for b in blocks if b.start <= pos < b.start + b.size), None)  # type: ignore[attr-defined]
    return err


def _where(blocks: list, pos: int) -> str:
    """`x[Seattle,New-York]` for flat position `pos`, or `position pos` without a layout."""
    for b in blocks:
        if b.start <= pos < b.start + b.size:
            if b.scalar:
                return b.name
            key = b.index_tuples()[pos - b.start]
            return f"{b.name}[{','.join(str(v) for v in key)}]"
    return f"position {pos}"


def _f64(a: Any) -> np.ndarray:
    return np.ascontiguousarray(a, dtype=np.float64)


def _i32(a: Any) -> np.ndarray:
    return np.ascontiguousarray(a, dtype=np.int32)


def _arrays(form: LPForm) -> dict[str, Any]:
    """The contiguous float64/int32 arrays HiGHS reads; CSR goes over as HiGHS's row-wise format,
    so a canonical CSR matrix (what the LP lowering gives) is not converted here, and scipy is
    not imported for an LP."""
    _check_shapes(form)
    A = form.csr  # canonical: HiGHS rejects duplicate entries, which a scipy matrix may carry
    n = form.num_cols
    integrality = np.zeros(n, dtype=np.int32)
    if form.is_mip:
        integrality[np.asarray(form.integrality, dtype=bool)] = 1  # HighsVarType.kInteger
    _reject_nan(form, A)
    out: dict[str, Any] = {
        "c": _f64(form.c), "col_lower": _f64(form.col_lower), "col_upper": _f64(form.col_upper),
        "row_lower": _f64(form.row_lower), "row_upper": _f64(form.row_upper),
        "a_start": _i32(A.indptr), "a_index": _i32(A.indices), "a_value": _f64(A.data),
        "integrality": integrality, "q": None,
    }  # fmt: skip
    if form.is_qp:
        import scipy.sparse as sp  # a QP's Q is a scipy matrix already

        lower = sp.tril(sp.csc_matrix(form.Q), format="csc")  # HiGHS: lower triangle, column-wise
        lower.sum_duplicates()
        out["q"] = (_i32(lower.indptr), _i32(lower.indices), _f64(lower.data))
    return out


def _hand_over(h: highspy.Highs, form: LPForm, arr: dict[str, Any]) -> None:
    hp = _highspy()
    sense = hp.ObjSense.kMaximize if form.sense == "max" else hp.ObjSense.kMinimize
    with LogCapture(h) as log:
        status = h.passModel(
            form.num_cols, form.num_rows, len(arr["a_value"]), int(hp.MatrixFormat.kRowwise),
            int(sense), float(form.c0), arr["c"], arr["col_lower"], arr["col_upper"],
            arr["row_lower"], arr["row_upper"], arr["a_start"], arr["a_index"], arr["a_value"],
            arr["integrality"],
        )  # fmt: skip
        if status != hp.HighsStatus.kError and arr["q"] is not None:
            start, index, value = arr["q"]
            fmt = int(hp.HessianFormat.kTriangular)
            status = h.passHessian(form.num_cols, len(value), fmt, start, index, value)
    if status == hp.HighsStatus.kError:
        raise SolverError(f"HiGHS refused the model: {log.summary() or 'passModel failed'}")
    if form.x0 is not None and form.is_mip:  # a MIP start; HiGHS completes a partial one
        x0 = np.asarray(form.x0, dtype=np.float64)
        given = np.flatnonzero(np.isfinite(x0)).astype(np.int32)
        if given.size:
            h.setSolution(int(given.size), given, np.ascontiguousarray(x0[given]))


def to_highs(form: LPForm, options: SolveOptions | None = None) -> highspy.Highs:
    """A `highspy.Highs` holding `form` with `options` applied, not yet solved."""
    options = options or SolveOptions()
    h = new_highs(options.verbose)
    _hand_over(h, form, _arrays(form))
    apply_options(h, options)
    return h


# --- reading the result back ------------------------------------------------------------------


def warn_tiny_coefficients(form: LPForm, arr: dict[str, Any], tol: float) -> None:
    """HiGHS drops matrix entries below `small_matrix_value` (default 1e-9) and says so only in
    its log; the answer can then differ from the model's. Say it on stderr, verbose or not."""
    vals = arr["a_value"]
    tiny = np.flatnonzero((np.abs(vals) < tol) & (vals != 0))
    if not tiny.size:
        return
    k = int(tiny[0])
    row = int(np.searchsorted(arr["a_start"], k, side="right") - 1)
    cols, rows = form.layout.variables, form.layout.constraints
    print(f"warning: {tiny.size} coefficient(s) below {tol:g} in absolute value, which HiGHS drops (first: "
          f"{vals[k]:g} for {_where(cols, int(arr['a_index'][k]))} in {_where(rows, row)}); "
          "rescale the model or set highs.small_matrix_value", file=sys.stderr)


# --- interrupts --------------------------------------------------------------------------------


@contextlib.contextmanager
def _interruptible(h: highspy.Highs) -> Iterator[None]:
    """HiGHS asks its interrupt callbacks (simplex, IPM, MIP, QP) whether to stop; they answer with
    `optdsl.interrupts.requested()`. HiGHS then stops with kInterrupt and keeps its incumbent."""
    hp = _highspy()
    kinds = [hp.cb.HighsCallbackType.kCallbackSimplexInterrupt, hp.cb.HighsCallbackType.kCallbackIpmInterrupt,
             hp.cb.HighsCallbackType.kCallbackMipInterrupt]
    qp = getattr(hp.cb.HighsCallbackType, "kHighsCallbackQpInterrupt", None)
    if qp is not None:
        kinds.append(qp)
    subscribed = [h.callbacks[int(k)] for k in kinds]

    def on_check(event: Any) -> None:
        if interrupts.requested():
            event.interrupt()

    for cb in subscribed:
        cb.subscribe(on_check)
    try:
        yield
    finally:
        for cb in subscribed:
            cb.unsubscribe(on_check)


def run_interruptible(h: highspy.Highs) -> Any:
    """`h.run()` in a worker thread while the main thread waits in short steps, so that a SIGINT
    is seen at once (Python runs signal handlers only in the main thread, between bytecodes) and
    reaches HiGHS through the interrupt callbacks. A KeyboardInterrupt while waiting (no
    `interrupts.catching()` around the solve) is turned into the same request; a second one
    propagates."""
    if threading.current_thread() is not threading.main_thread():
        return h.run()
    box: dict[str, Any] = {}

    def work() -> None:
        try:
            box["status"] = h.run()
        except BaseException as e:  # noqa: BLE001 - handed to the caller's thread
            box["error"] = e

    worker = threading.Thread(target=work, name="highs-run", daemon=True)
    worker.start()
    asked = False
    while worker.is_alive():
        try:
            worker.join(0.05)
        except KeyboardInterrupt:
            if asked:
                raise
            asked = True
            interrupts.request()
    if "error" in box:
        raise box["error"]
    return box["status"]


def collect(h: highspy.Highs, form: LPForm, run_status: Any, log: LogCapture, backend: str = "highs",
            status_map: dict[str, TerminationStatus] | None = None) -> Result:
    """The Result of the last run of `h` on `form`: HighsModelStatus mapped through `status_map`
    to why it stopped, what the solution is, x, duals and reduced costs (LPs), the MIP bound and
    gap, iteration counts; `log` supplies the message when the run failed."""
    status_map = STATUS_MAP if status_map is None else status_map
    hp = _highspy()
    model_status = h.getModelStatus()
    status = status_map.get(model_status.name, _T.ERROR)
    info = h.getInfo()
    message = h.modelStatusToString(model_status)
    if run_status == hp.HighsStatus.kError and log.errors():
        message += ": " + log.summary()
    n = form.num_cols
    is_mip = form.is_mip
    feasible = info.primal_solution_status == int(hp.kSolutionStatusFeasible)
    if model_status == hp.HighsModelStatus.kModelEmpty:
        feasible = True
    if status == _T.OPTIMAL:
        sol_status = SolutionStatus.OPTIMAL
    elif feasible and status not in (_T.INFEASIBLE, _T.INFEASIBLE_OR_UNBOUNDED, _T.UNBOUNDED):
        sol_status = SolutionStatus.FEASIBLE
    else:
        sol_status = SolutionStatus.NONE

    x = duals = reduced = None
    objective = None
    if sol_status != SolutionStatus.NONE:
        sol = h.getSolution()
        x = np.asarray(sol.col_value, dtype=float) if n else np.zeros(0)
        objective = float(info.objective_function_value) if n else float(form.c0)
        if sol.dual_valid and not is_mip:
            duals = np.asarray(sol.row_dual, dtype=float)
            reduced = np.asarray(sol.col_dual, dtype=float)
    best_bound = gap = None
    if is_mip:
        best_bound = _finite(info.mip_dual_bound)
        gap = _finite(info.mip_gap) if objective is not None else None
    elif status == _T.OPTIMAL:
        best_bound, gap = objective, 0.0
    counts = {
        "simplex_iterations": info.simplex_iteration_count,
        "ipm_iterations": info.ipm_iteration_count,
        "crossover_iterations": info.crossover_iteration_count,
        "qp_iterations": info.qp_iteration_count,
        "pdlp_iterations": info.pdlp_iteration_count,
    }
    counts = {k: int(v) for k, v in counts.items() if v and v > 0}
    stats: dict[str, Any] = {"highs_model_status": model_status.name, **counts}
    if is_mip:
        stats["mip_nodes"] = int(max(info.mip_node_count, 0))
    return Result(
        status=status,
        solution_status=sol_status,
        backend=backend,
        objective=objective,
        best_bound=best_bound,
        gap=gap,
        x=x,
        row_duals=duals,
        reduced_costs=reduced,
        iterations=sum(counts.values()),
        stats=stats,
        message=message,
        layout=form.layout,
    )


def _finite(v: float) -> float | None:
    v = float(v)
    return v if math.isfinite(v) and abs(v) < 1e20 else None


# --- one model, solved repeatedly ---------------------------------------------------------------


class HighsModel:
    """One `highspy.Highs` holding an LPForm, for solvers that solve it many times while changing
    it (a large-neighbourhood MIP search fixes bounds, adds rows and swaps objectives between
    solves). Every call to HiGHS runs with its log captured, so a refusal is a SolverError that
    quotes HiGHS, and `solve` gives a Result mapped to the form's layout.

        hm = HighsModel(form, SolveOptions(seed=1))
        hm.fix(cols, values); r = hm.solve(time_limit=5.0)
        hm.restore_bounds(cols); hm.add_rows(A_cut, lo, hi)
    """

    def __init__(self, form: LPForm, options: SolveOptions | None = None, backend: str = "highs") -> None:
        self.options = options or SolveOptions()
        self.backend = backend
        self.form = form
        self.h = new_highs(self.options.verbose)
        _hand_over(self.h, form, _arrays(form))
        apply_options(self.h, self.options)
        n = form.num_cols
        self._col_lower = np.array(form.col_lower, dtype=np.float64)
        self._col_upper = np.array(form.col_upper, dtype=np.float64)
        self._integer = (np.zeros(n, dtype=bool) if form.integrality is None
                         else np.asarray(form.integrality, dtype=bool).copy())
        self._c0 = float(form.c0)
        self._sense = form.sense
        self.log: LogCapture | None = None  # the log of the last solve

    @property
    def num_cols(self) -> int:
        return self.form.num_cols

    @property
    def num_rows(self) -> int:
        return int(self.h.getNumRow())

    # -- options and solving --------------------------------------------------------------
    def set_option(self, key: str, value: Any) -> None:
        """One HiGHS option, type-checked (see `set_option`)."""
        set_option(self.h, key, value)

    def set_options(self, **options: Any) -> None:
        for key, value in options.items():
            set_option(self.h, key, value)

    def solve(self, time_limit: float | None = None) -> Result:
        """Run HiGHS (warm-started from the last basis where HiGHS can) and read the result back;
        `time_limit` (seconds) applies to this run only."""
        saved = None
        if time_limit is not None:
            saved = self.h.getOptionValue("time_limit")[1]
            set_option(self.h, "time_limit", max(float(time_limit), 0.0))
        t0 = time.perf_counter()
        try:
            with LogCapture(self.h) as log:
                run_status = self.h.run()
        finally:
            if saved is not None:
                self.h.setOptionValue("time_limit", float(saved))
        self.log = log
        view = copy.copy(self.form)  # the form as it now stands, for reading the result (no arrays copied)
        view.integrality = self._integer if self._integer.any() else None
        view.c0, view.sense = self._c0, self._sense
        result = collect(self.h, view, run_status, log, self.backend)
        result.times["solve_s"] = time.perf_counter() - t0
        return result

    # -- reading the last solve without building a Result -----------------------------------
    @property
    def status(self) -> TerminationStatus:
        return STATUS_MAP.get(self.h.getModelStatus().name, TerminationStatus.ERROR)

    @property
    def objective(self) -> float | None:
        info = self.h.getInfo()
        if info.primal_solution_status != int(_highspy().kSolutionStatusFeasible):
            return None
        return float(info.objective_function_value)

    @property
    def bound(self) -> float | None:
        """The MIP dual bound (for an LP solved to optimality, the objective)."""
        info = self.h.getInfo()
        if self._integer.any():
            return _finite(info.mip_dual_bound)
        return self.objective if self.status == TerminationStatus.OPTIMAL else None

    def solution(self) -> np.ndarray | None:
        """The primal values of the last solve (None when HiGHS has no feasible point)."""
        if self.objective is None:
            return None
        return np.asarray(self.h.getSolution().col_value, dtype=np.float64)

    # -- changing the model -----------------------------------------------------------------
    def _call(self, what: str, fn: Any, *args: Any) -> None:
        hp = _highspy()
        with LogCapture(self.h) as log:
            status = fn(*args)
        if status == hp.HighsStatus.kError:
            raise SolverError(f"HiGHS refused to {what}: {log.summary() or 'error'}")

    def _cols(self, cols: Any) -> np.ndarray:
        idx = np.asarray(cols, dtype=np.int64).reshape(-1)
        if idx.size and (idx.min() < 0 or idx.max() >= self.num_cols):
            raise SolverError(f"column index out of range (the model has {self.num_cols} columns)")
        return idx.astype(np.int32)

    def set_col_bounds(self, cols: Any, lower: Any, upper: Any) -> None:
        """New bounds for columns `cols` (scalars broadcast)."""
        idx = self._cols(cols)
        lo = np.broadcast_to(np.asarray(lower, dtype=np.float64), idx.shape).copy()
        hi = np.broadcast_to(np.asarray(upper, dtype=np.float64), idx.shape).copy()
        self._call("change column bounds", self.h.changeColsBounds, int(idx.size), idx, lo, hi)
        self._col_lower[idx], self._col_upper[idx] = lo, hi

    def fix(self, cols: Any, values: Any) -> None:
        """Fix columns to values (both bounds)."""
        self.set_col_bounds(cols, values, values)

    def restore_bounds(self, cols: Any = None) -> None:
        """The form's own bounds again, for `cols` (all columns when None)."""
        idx = self._cols(np.arange(self.num_cols) if cols is None else cols)
        self.set_col_bounds(idx, np.asarray(self.form.col_lower)[idx], np.asarray(self.form.col_upper)[idx])

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """The current column bounds (copies)."""
        return self._col_lower.copy(), self._col_upper.copy()

    def set_integrality(self, cols: Any, integer: bool | Any) -> None:
        """Make columns integer (True) or continuous (False), e.g. to solve a relaxation."""
        idx = self._cols(cols)
        flag = np.broadcast_to(np.asarray(integer, dtype=bool), idx.shape)
        kinds = flag.astype(np.int32)  # HighsVarType: 0 continuous, 1 integer
        self._call("change integrality", self.h.changeColsIntegrality, int(idx.size), idx, kinds)
        self._integer[idx] = flag

    def add_rows(self, A: Any, lower: Any, upper: Any) -> np.ndarray:
        """Append rows lower <= A x <= upper (A: a CSRMatrix, scipy matrix or dense array with
        `num_cols` columns); returns the new rows' indices."""
        a = as_csr(A)
        if a.shape[1] != self.num_cols:
            raise SolverError(f"the new rows have {a.shape[1]} columns, the model {self.num_cols}")
        k = a.shape[0]
        lo = np.broadcast_to(np.asarray(lower, dtype=np.float64), (k,)).copy()
        hi = np.broadcast_to(np.asarray(upper, dtype=np.float64), (k,)).copy()
        first = self.num_rows
        self._call("add rows", self.h.addRows, k, lo, hi, int(a.nnz), _i32(a.indptr[:-1]), _i32(a.indices),
                   _f64(a.data))
        return np.arange(first, first + k)

    def delete_rows(self, rows: Any) -> None:
        idx = np.asarray(rows, dtype=np.int32).reshape(-1)
        self._call("delete rows", self.h.deleteRows, int(idx.size), idx)

    def set_objective(self, c: Any, c0: float | None = None, sense: str | None = None) -> None:
        """Replace the linear objective (and, when given, its constant and sense)."""
        hp = _highspy()
        cost = _f64(np.broadcast_to(np.asarray(c, dtype=np.float64), (self.num_cols,)))
        idx = np.arange(self.num_cols, dtype=np.int32)
        self._call("change the objective", self.h.changeColsCost, self.num_cols, idx, cost)
        if c0 is not None:
            self._call("change the objective offset", self.h.changeObjectiveOffset, float(c0))
            self._c0 = float(c0)
        if sense is not None:
            if sense not in ("min", "max"):
                raise SolverError(f"objective sense '{sense}', expected 'min' or 'max'")
            obj = hp.ObjSense.kMaximize if sense == "max" else hp.ObjSense.kMinimize
            self._call("change the objective sense", self.h.changeObjectiveSense, obj)
            self._sense = sense

    def set_start(self, x: Any) -> None:
        """A starting point (MIP start) for the next solve; NaN entries are left for HiGHS to fill."""
        x0 = np.asarray(x, dtype=np.float64).reshape(-1)
        given = np.flatnonzero(np.isfinite(x0)).astype(np.int32)
        if given.size:
            self._call("take the starting point", self.h.setSolution, int(given.size), given,
                       np.ascontiguousarray(x0[given]))
