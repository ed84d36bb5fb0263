"""The `optdsl` command: check, show, solve and convert models.

Exit status: 0 when a solution was found (or a check passed), 1 when the solver found none
(infeasible, unbounded, limits without a solution), 2 for bad input. Errors print without a
traceback unless --debug is given.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from optdsl.errors import OptdslError

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
    v.add_argument("--time-limit", type=float, help="seconds")
    v.add_argument("--seed", type=int)
    v.add_argument("--threads", type=int)
    v.add_argument("--mip-gap", type=float, help="relative MIP gap")
    v.add_argument("--device", choices=["cpu", "cuda"], help="where torch runs nonlinear models")
    v.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                   help="backend option, e.g. highs.presolve=off; repeatable")
    v.add_argument("--output", choices=["text", "json", "csv"], default="text")
    v.add_argument("-o", dest="outfile", help="write the output to this file")
    v.add_argument("--verbose", "-v", action="store_true", help="show the solver's log")
    v.add_argument("--plot", metavar="FILE.png", help="draw a learned graph (DAG models; needs optdsl[plot])")
    v.add_argument("--plot-reference", metavar="EDGES", help="edge list of a reference graph for --plot")

    k = sub.add_parser("convert", help="write the lowered model as .mps or .lp")
    model_args(k)
    k.add_argument("-o", dest="outfile", required=True, help="output file (.mps or .lp)")
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    debug = args.debug
    try:
        return {"check": cmd_check, "show": cmd_show, "solve": cmd_solve, "convert": cmd_convert}[args.command](args)
    except OptdslError as err:
        if debug:
            raise
        print(err.render(), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except (OSError, MemoryError) as err:
        if debug:
            raise
        print(f"error: {err}", file=sys.stderr)
        return 2


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
    kwargs = dict(time_limit=args.time_limit, seed=args.seed, verbose=args.verbose, device=args.device,
                  mip_gap=args.mip_gap, threads=args.threads, options=options)
    model = None
    if _is_interchange(args.model):
        from optdsl.interchange import read_model_file
        from optdsl.pipeline import solve_form

        form = read_model_file(args.model)
        result = solve_form(form, args.solver, **kwargs)
    else:
        from optdsl.pipeline import solve_ir

        model = _load(args)
        result = solve_ir(model.ir, args.solver, **kwargs)
    result.times["total_s"] = time.perf_counter() - t0
    from optdsl.report import render

    text = render(result, args.output)
    if args.outfile:
        Path(args.outfile).write_text(text)
    else:
        sys.stdout.write(text)
    if model is not None and args.output == "text":
        from optdsl.script import run_script

        run_script(model, result, sys.stdout)
    if args.plot and result.has_solution:
        from optdsl.dag.plot import plot_result

        print(f"wrote {plot_result(result, args.plot, args.plot_reference)}", file=sys.stderr)
    return 0 if result.has_solution else 1


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
    write_model_file(form, out)
    print(f"wrote {out}")
    return 0


def _dump_json(obj: Any) -> str:
    return json.dumps(obj, indent=2) + "\n"


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
