"""From text to result: parse, check, gather data, instantiate, lower, solve, map back.

The CLI and the Python API both call these functions; nothing here imports torch or pyomo
unless the chosen backend needs them.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from optdsl import backends
from optdsl.backends import SolveOptions
from optdsl.data.store import DataStore
from optdsl.errors import SolverError
from optdsl.ir.model import ModelIR
from optdsl.parse import ast
from optdsl.results import Result


def gather_data(model: ast.Model, schema: dict, base_dir: Path, extra: list[str | Path] = ()) -> DataStore:
    """Data of inline sections, `data "file";` statements (relative to the model) and extra files,
    in that order."""
    from optdsl.data import load_data_file
    from optdsl.data.dat import parse_dat

    store = DataStore()
    for s in model.statements:
        if isinstance(s, ast.DataSection):
            line = s.span.line if s.span else 1
            col = s.span.col if s.span else 1
            store.merge(parse_dat(s.text, model.file, schema, line_offset=line - 1, col_offset=col - 1))
        elif isinstance(s, ast.DataFile):
            path = Path(s.path)
            if not path.is_absolute():
                path = base_dir / path
            store.merge(load_data_file(path, schema, as_name=s.as_name))
        elif isinstance(s, ast.TableStmt) and s.direction.upper() == "IN":
            from optdsl.data.tables import read_table

            store.merge(read_table(s, base_dir, schema))
    for f in extra:
        store.merge(load_data_file(Path(f), schema))
    return store


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


def choose_backend(ir: ModelIR, solver: str | None = None) -> type[backends.Backend]:
    requested = solver or (str(ir.options["solver"]) if "solver" in ir.options else None)
    return backends.choose(ir.features(), requested)


def lower(ir: ModelIR, backend_cls: type[backends.Backend], opts: SolveOptions) -> Any:
    if backend_cls.form == "lp":
        from optdsl.lower.lp import to_lpform

        return to_lpform(ir)
    if backend_cls.form == "nlp":
        from optdsl.lower.nlp import to_nlpform

        return to_nlpform(ir, device=opts.device)
    raise SolverError(f"backend '{backend_cls.name}' takes a '{backend_cls.form}' form, which has no lowering")


def solve_ir(ir: ModelIR, solver: str | None = None, **kwargs: Any) -> Result:
    """Choose the backend, lower, solve and map the result back to names."""
    t0 = time.perf_counter()
    cls = choose_backend(ir, solver)
    opts = solve_options(ir, backend=cls.name, **kwargs)
    form = lower(ir, cls, opts)
    t1 = time.perf_counter()
    result = cls().solve(form, opts)
    if result.layout is None:
        result.layout = form.layout
    result.times.setdefault("lower_s", t1 - t0)
    return result


def solve_form(form: Any, solver: str = "highs", **kwargs: Any) -> Result:
    """Solve an already-lowered form (e.g. read from an MPS or LP file)."""
    cls = backends.get(solver)
    needed = {"linear"}
    if getattr(form, "is_mip", False):
        needed.add("integer")
    if getattr(form, "is_qp", False):
        needed.add("quadratic")
    backends.choose(needed, cls.name)
    opts = solve_options(ModelIR(), backend=cls.name, **kwargs)
    result = cls().solve(form, opts)
    if result.layout is None:
        result.layout = form.layout
    return result
