"""The `optdsl` command: check, show, solve and convert models.

Exit statuses, one meaning each (README, "Errors, exit statuses and files"):

    0    a solution was found (or a check passed)
    1    no solution: infeasible, unbounded, a limit reached without one
    2    bad input: the message says where (file:line:col, or the file and the option)
    3    an internal error of optdsl: a one-line "please report" message
    130  interrupted (Ctrl-C): the best solution so far is printed, status `interrupted`

Tracebacks print only with --debug, which keeps the exit status. Files named inside model files
follow the rules of optdsl.files (docs/files.md); --allow-read/--allow-write widen them.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import json
import math
import os
import signal
import sys
import threading
import time
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from optdsl.errors import OptdslError, SolverError

INTERCHANGE_SUFFIXES = (".mps", ".lp", ".mps.gz", ".lp.gz")


def _is_interchange(path: str) -> bool:
    return path.lower().endswith(INTERCHANGE_SUFFIXES)


def _parse_options(items: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in items or []:
        key, eq, value = item.partition("=")
        if not eq or not key:
            raise OptdslError(f"--option takes KEY=VALUE, got '{item}'", hint="e.g. --option highs.presolve=off")
        out[key.strip()] = value.strip()
    return out


def _limit(flag: str, positive: bool = False):
    """An argparse type: a finite number, >= 0 (or > 0); NaN and infinity are refused."""

    def convert(text: str) -> float:
        try:
            v = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{flag} takes a number, not '{text}'") from None
        if not math.isfinite(v) or v < 0 or (positive and v == 0):
            want = "> 0" if positive else ">= 0"
            raise argparse.ArgumentTypeError(f"{flag} takes a finite number {want}, not '{text}'")
        return v

    return convert


def _count(text: str) -> int:
    try:
        v = float(text)
    except ValueError:
        v = math.nan
    if not math.isfinite(v) or v < 1:
        raise argparse.ArgumentTypeError(f"takes a count >= 1, not '{text}'")
    return int(v)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="optdsl", description="Optimization models in an AMPL-style language.")
    p.add_argument("--debug", action="store_true", help="show tracebacks for errors")
    sub = p.add_subparsers(dest="command", required=True)

    def model_args(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("model", nargs="?", help="model file (.opt, .mod; solve/convert also take .mps, .lp)")
        sp.add_argument("data_files", nargs="*", metavar="DATA",
                        help="data files after the model, as AMPL's `model m.mod; data m.dat;` (same as --data)")
        sp.add_argument("--data", "-d", action="append", default=[], help="data file (.dat, .json, .csv); repeatable")
        sp.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help="show tracebacks for errors")
        sp.add_argument("--allow-read", action="append", default=[], metavar="DIR",
                        help="let files named in the model be read from DIR too (see docs/files.md)")
        sp.add_argument("--allow-write", action="append", default=[], metavar="DIR",
                        help="let the model write files (table OUT, printf >) under DIR too")
        sp.add_argument("--max-size", type=_count, metavar="N",
                        help="most members a set, index grid or variable may have (default: from memory)")

    c = sub.add_parser("check", help="parse, load data and check a model; print component sizes")
    model_args(c)

    s = sub.add_parser("show", help="components, sizes, nonzeros and the problem class")
    model_args(s)
    s.add_argument("--latex", action="store_true", help="print the model in mathematical notation")
    s.add_argument("--ir", action="store_true", help="print the instantiated model row by row")
    s.add_argument("--solver", help="show the chain for this backend")

    v = sub.add_parser("solve", help="solve a model and print the result")
    model_args(v)
    v.add_argument("--help-backend", metavar="NAME", help="print a backend's form, features and options, and exit")
    v.add_argument("--solver", help="backend name (default: chosen from the problem class)")
    v.add_argument("--time-limit", type=_limit("--time-limit", positive=True),
                   help="seconds for the whole command (reading, instantiating, solving, output)")
    v.add_argument("--seed", type=int)
    v.add_argument("--threads", type=int)
    v.add_argument("--mip-gap", type=_limit("--mip-gap"), help="relative MIP gap")
    v.add_argument("--device", choices=["cpu", "cuda"], help="where torch runs nonlinear models")
    v.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                   help="backend option, e.g. highs.presolve=off; repeatable")
    v.add_argument("--output", choices=["text", "json", "csv"],
                   help="format (default: from the -o file's suffix .json/.csv, else text)")
    v.add_argument("-o", dest="outfile", help="write the output to this file (atomically)")
    v.add_argument("--verbose", "-v", action="store_true", help="show the solver's log")
    v.add_argument("--plot", metavar="FILE.png", help="draw a learned graph (DAG models; needs optdsl[plot])")
    v.add_argument("--plot-reference", metavar="EDGES", help="edge list of a reference graph for --plot")

    k = sub.add_parser("convert", help="write the lowered model as .mps or .lp")
    model_args(k)
    k.add_argument("-o", dest="outfile", required=True, help="output file (.mps or .lp)")
    return p


EXIT_SOLUTION, EXIT_NO_SOLUTION, EXIT_BAD_INPUT, EXIT_INTERNAL, EXIT_INTERRUPTED = 0, 1, 2, 3, 130


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as stop:  # usage errors: argparse printed the message
        return EXIT_BAD_INPUT if stop.code else EXIT_SOLUTION
    debug = bool(args.debug)
    from optdsl import files, limits

    try:
        with files.policy(allow_read=getattr(args, "allow_read", None) or (),
                          allow_write=getattr(args, "allow_write", None) or ()), \
                limits.size_limit(getattr(args, "max_size", None)):
            command = {"check": cmd_check, "show": cmd_show, "solve": cmd_solve, "convert": cmd_convert}[args.command]
            return command(args)
    except OptdslError as err:
        if err.span is None and isinstance(err, SolverError) and getattr(args, "model", None):
            return _report(debug, EXIT_BAD_INPUT, f"{args.model}: {err.render()}")  # about the model as a whole
        return _report(debug, EXIT_BAD_INPUT, err.render())
    except KeyboardInterrupt:
        return _report(debug, EXIT_INTERRUPTED, "interrupted")
    except _CommandTimeLimit as stop:
        return _report(debug, EXIT_NO_SOLUTION, f"status: time_limit (reached {stop.where}); no solution")
    except RecursionError:
        return _report(debug, EXIT_BAD_INPUT, f"error: {_input_name(args)}: the input nests too deeply to process")
    except MemoryError:
        return _report(debug, EXIT_BAD_INPUT, f"error: {_input_name(args)}: out of memory building the model",
                       hint="a set or variable is too large for this machine; see --max-size")
    except BrokenPipeError:  # `optdsl show m.mod | head`: the reader has what it wanted
        with contextlib.suppress(OSError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_SOLUTION
    except OSError as err:
        name = f" '{err.filename}'" if err.filename else ""
        return _report(debug, EXIT_BAD_INPUT, f"error: cannot use file{name}: {err.strerror or err}")
    except Exception as err:  # noqa: BLE001 - the last line of defence: a bug, not the input
        return _report(debug, EXIT_INTERNAL, f"internal error: {type(err).__name__}: {_one_line(err)} "
                       "-- please report this, with the output of the same command with --debug")


def _report(debug: bool, status: int, message: str, hint: str | None = None) -> int:
    if debug and sys.exc_info()[0] is not None:
        traceback.print_exc()
    print(message + (f"\nhint: {hint}" if hint else ""), file=sys.stderr)
    return status


def _one_line(err: BaseException) -> str:
    text = " ".join(str(err).split())
    return text[:200] + ("..." if len(text) > 200 else "")


def _input_name(args: argparse.Namespace) -> str:
    return str(getattr(args, "model", "") or "input")


class _CommandTimeLimit(BaseException):  # like KeyboardInterrupt: no `except Exception` may swallow it
    def __init__(self, where: str) -> None:
        super().__init__(where)
        self.where = where


@contextlib.contextmanager
def _command_deadline(seconds: float | None, where: str) -> Iterator[None]:
    """--time-limit covers reading and instantiating too: past it, stop there (no solution)."""
    if seconds is None or not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_alarm(signum: int, frame: Any) -> None:
        raise _CommandTimeLimit(where)

    hook = sys.unraisablehook

    def quiet(unraisable: Any) -> None:  # raised where Python cannot propagate (a __del__, a gc callback)
        if not isinstance(unraisable.exc_value, _CommandTimeLimit):
            hook(unraisable)

    previous = signal.signal(signal.SIGALRM, on_alarm)
    sys.unraisablehook = quiet
    # repeating every 50 ms: an alarm that lands where it cannot propagate is simply raised again
    signal.setitimer(signal.ITIMER_REAL, max(seconds, 1e-3), 0.05)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        sys.unraisablehook = hook


def _load(args: argparse.Namespace):
    """The model through the front door the Python API shares (optdsl.frontdoor)."""
    from optdsl import frontdoor
    from optdsl.api.model import Model

    path = Path(_model_path(args))
    if not path.exists():
        raise OptdslError(f"no such file: {args.model}")
    data = list(args.data_files or []) + list(args.data or [])
    return Model.from_loaded(frontdoor.load(path, data=data or None, seed=getattr(args, "seed", None)))


def cmd_check(args: argparse.Namespace) -> int:
    model = _load(args)
    model.check()
    print(model.summary())
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    model = _load(args)
    if args.latex:
        print(model.to_latex())
        return 0
    if args.ir:
        print(model.print_ir(), end="")
        return 0
    print(model.summary())
    from optdsl.pipeline import plan_for

    try:
        plan = plan_for(model.ir, args.solver)[0]
        print(f"backend: {plan.backend.name} ({plan.backend.form} form)")
        print(f"chain:   {plan.text}")
    except OptdslError as err:
        print(f"backend: none ({err.message})")
        if err.hint:
            print(f"         {err.hint}")
    return 0


def _model_path(args: argparse.Namespace) -> str:
    if not args.model:
        raise OptdslError(f"optdsl {args.command}: a model file is needed", hint=f"optdsl {args.command} MODEL")
    return args.model


def cmd_solve(args: argparse.Namespace) -> int:
    if args.help_backend:
        from optdsl import backends

        print(backends.get(args.help_backend).help_text())
        return 0
    _model_path(args)
    options = _parse_options(args.option)
    t0 = time.perf_counter()
    fmt = args.output or _format_of(args.outfile)
    model = None
    with _command_deadline(args.time_limit, "before the solve: reading and instantiating the model"):
        if _is_interchange(args.model):
            from optdsl.interchange import read_model_file

            form = read_model_file(args.model)
        else:
            model = _load(args)
            _ = model.ir
    kwargs: dict[str, Any] = dict(seed=args.seed, verbose=args.verbose, device=args.device,
                                  mip_gap=args.mip_gap, threads=args.threads, options=options)
    if args.time_limit is not None:  # the backend gets what is left when it starts (pipeline)
        kwargs["deadline"] = t0 + args.time_limit
    if model is None:
        from optdsl.pipeline import solve_form

        result = solve_form(form, args.solver, **kwargs)
    else:
        from optdsl.pipeline import solve_ir

        result = solve_ir(model.ir, args.solver, **kwargs)
    result.times["total_s"] = time.perf_counter() - t0
    from optdsl.report import render

    text = render(result, fmt)
    if args.outfile:
        from optdsl.files import atomic_write

        atomic_write(args.outfile, text)
    else:
        sys.stdout.write(text)
    if model is not None:  # display/printf go to stdout unless stdout holds JSON or CSV
        from optdsl.script import run_script

        run_script(model, result, sys.stdout if fmt == "text" or args.outfile else sys.stderr)
    if args.plot and result.has_solution:
        from optdsl.dag.plot import plot_result

        print(f"wrote {plot_result(result, args.plot, args.plot_reference)}", file=sys.stderr)
    return _exit_status(result)


def _format_of(outfile: str | None) -> str:
    suffix = Path(outfile).suffix.lower() if outfile else ""
    return {".json": "json", ".csv": "csv"}.get(suffix, "text")


def _exit_status(result: Any) -> int:
    from optdsl import interrupts
    from optdsl.results import TerminationStatus

    if result.status == TerminationStatus.INTERRUPTED and interrupts.requested():
        return EXIT_INTERRUPTED
    return EXIT_SOLUTION if result.has_solution else EXIT_NO_SOLUTION


def cmd_convert(args: argparse.Namespace) -> int:
    from optdsl.interchange import read_model_file, write_model_file

    if _is_interchange(_model_path(args)):
        form = read_model_file(args.model)
    else:
        from optdsl.pipeline import lp_form_for_export

        form = lp_form_for_export(_load(args).ir, f"writing {Path(args.outfile).name}")
    out = args.outfile
    if not out.lower().endswith((".mps", ".lp")):
        raise OptdslError(f"cannot write '{out}': the output must end in .mps or .lp")
    from optdsl.files import atomic_path

    with atomic_path(out) as tmp:  # a failed or interrupted write leaves any old file as it was
        write_model_file(form, tmp)
    print(f"wrote {out}")
    return 0


def _dump_json(obj: Any) -> str:
    return json.dumps(obj, indent=2) + "\n"


def run() -> None:
    """The `optdsl` command: main(), then a quick exit. Once the output is flushed and the atexit
    handlers have run, freeing every module's objects one by one is work nobody sees (about 40 ms
    of a small solve's 0.3 s), so the process ends at once."""
    code = main()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):  # a pipe closed by its reader, as in `optdsl show m.mod | head`
        pass
    atexit._run_exitfuncs()
    os._exit(code)


if __name__ == "__main__":  # pragma: no cover
    run()
