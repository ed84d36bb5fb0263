"""The HiGHS backend: an LPForm's arrays go straight into highspy, with no per-element Python
loop and no file round trip.

HiGHS solves  min/max  c'x + 1/2 x'Qx + c0  s.t.  row_lower <= A x <= row_upper,
col_lower <= x <= col_upper, x_j integer where integrality[j]  (LP, MILP, convex QP).

Dual sign convention (HiGHS's own, for the user's sense, unchanged by this backend): a row dual
is the derivative of the optimal objective with respect to the row's active bound, and a reduced
cost the derivative with respect to the variable's active bound. So for `minimize`, a binding
`>=` row has a dual >= 0 and a binding `<=` row a dual <= 0, and a variable at its lower bound has
a reduced cost >= 0; for `maximize` every sign flips (a binding `<=` row has a dual >= 0). The
reduced costs satisfy c - A'y - Qx = reduced_costs for both senses. MIPs have no duals (None).

`to_highs(form, options)` gives the `highspy.Highs` object with the model handed over but not
solved (the Python API's `model.to_highs()`); `HighsBackend().solve(form, options)` solves it.
Importing this module does not import highspy (the registry lists backends without importing
their packages); the first use does.
"""

from __future__ import annotations

import contextlib
import ctypes
import math
import os
import re
import sys
import threading
import time
from collections import deque
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import scipy.sparse as sp

from optdsl import interrupts
from optdsl.backends import Backend, SolveOptions
from optdsl.errors import SolverError, did_you_mean
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
    if form.A.shape[1] != n:
        raise SolverError(f"LPForm.A has {form.A.shape[1]} columns but c has {n} entries")
    if form.integrality is not None and np.shape(form.integrality) != (n,):
        raise SolverError(f"LPForm.integrality has shape {np.shape(form.integrality)}, expected ({n},)")
    if form.is_qp and form.Q.shape != (n, n):
        raise SolverError(f"LPForm.Q has shape {form.Q.shape}, expected ({n}, {n})")
    if form.sense not in ("min", "max"):
        raise SolverError(f"LPForm.sense is '{form.sense}', expected 'min' or 'max'")


def _reject_nan(form: LPForm, A: sp.csr_matrix, large: float = 1e15) -> None:
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
    so the matrix is not converted here."""
    _check_shapes(form)
    A = form.A if sp.isspmatrix_csr(form.A) or isinstance(form.A, sp.csr_array) else sp.csr_matrix(form.A)
    if not A.has_canonical_format:  # HiGHS rejects duplicate entries; scipy may carry them
        A = A.copy()
        A.sum_duplicates()
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


# --- the backend -------------------------------------------------------------------------------


class HighsBackend(Backend):
    """HiGHS (simplex / interior point LP, branch-and-cut MILP, active-set convex QP)."""

    name: ClassVar[str] = "highs"
    description: ClassVar[str] = "HiGHS: LP (simplex, IPM), MILP (branch and cut), convex QP"
    features: ClassVar[frozenset[str]] = frozenset({"linear", "integer", "quadratic", "inequalities"})
    form: ClassVar[str] = "lp"
    requires: ClassVar[tuple[str, ...]] = ("highspy",)
    priority: ClassVar[int] = 10
    passthrough: ClassVar[str | None] = "any HiGHS option by its HiGHS name, type-checked against HiGHS's own list"
    abilities: ClassVar[frozenset[str]] = frozenset({"duals", "bound", "certificates"})
    status_map: ClassVar[dict[str, TerminationStatus]] = STATUS_MAP

    def solve(self, form: LPForm, options: SolveOptions) -> Result:
        """Solve `form`; times are build_s (arrays), handover_s (passModel + options), solve_s."""
        if form.is_mip and form.is_qp:
            raise SolverError(
                "HiGHS cannot solve a quadratic objective with integer variables (MIQP)",
                hint="relax the integrality, or linearize the quadratic terms",
            )
        t0 = time.perf_counter()
        arrays = _arrays(form)
        t1 = time.perf_counter()
        h = new_highs(options.verbose)
        _hand_over(h, form, arrays)
        apply_options(h, options)
        warn_tiny_coefficients(form, arrays, float(h.getOptionValue("small_matrix_value")[1]))
        t2 = time.perf_counter()
        with LogCapture(h) as log, _interruptible(h):
            run_status = run_interruptible(h)
        t3 = time.perf_counter()
        result = self._collect(h, form, run_status, log)
        result.times = {"build_s": t1 - t0, "handover_s": t2 - t1, "solve_s": t3 - t2}
        return result

    def _collect(self, h: highspy.Highs, form: LPForm, run_status: Any, log: LogCapture) -> Result:
        hp = _highspy()
        model_status = h.getModelStatus()
        status = self.status_map.get(model_status.name, _T.ERROR)
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
            backend=self.name,
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
