"""Rendering a Result as text, JSON or CSV for the command line."""

from __future__ import annotations

import csv
import io
import json
import math
from typing import Any

import numpy as np

from optdsl.results import Result


def _num(v: float | None) -> str:
    if v is None:
        return "-"
    return f"{v:.10g}"


def _lab(k: tuple) -> str:
    return ",".join(str(int(x)) if isinstance(x, float) and x.is_integer() else str(x) for x in k)


def render(result: Result, fmt: str = "text", tol: float = 1e-9) -> str:
    if fmt == "json":
        return json.dumps(strict_json(result.to_dict()), indent=2, allow_nan=False) + "\n"
    if fmt == "csv":
        return _csv(result)
    return _text(result, tol)


def strict_json(obj: Any, path: str = "", notes: list[dict[str, str]] | None = None) -> Any:
    """`obj` with every NaN or infinite float replaced by null, so that the text is valid JSON
    (RFC 8259 has no NaN/Infinity); the replaced places are listed under "non_finite" with the
    value they had, e.g. {"path": "stats.kkt", "value": "Infinity"}."""
    top = notes is None
    notes = [] if notes is None else notes
    if isinstance(obj, dict):
        out: Any = {k: strict_json(v, f"{path}.{k}" if path else str(k), notes) for k, v in obj.items()}
    elif isinstance(obj, (list, tuple)):
        out = [strict_json(v, f"{path}[{i}]", notes) for i, v in enumerate(obj)]
    elif isinstance(obj, (float, np.floating)) and not math.isfinite(float(obj)):
        v = float(obj)
        notes.append({"path": path, "value": "NaN" if math.isnan(v) else ("Infinity" if v > 0 else "-Infinity")})
        out = None
    elif isinstance(obj, np.integer):
        out = int(obj)
    elif isinstance(obj, np.floating):
        out = float(obj)
    else:
        out = obj
    if top and notes and isinstance(out, dict):
        out["non_finite"] = notes
    return out


def _text(r: Result, tol: float) -> str:
    solved = r.has_solution  # a failed solve shows no objective that could pass for a result
    out = [
        f"status:          {r.status.value}",
        f"solution:        {r.solution_status.value}",
        f"objective:       {_num(r.objective) if solved else '-'}",
    ]
    if r.best_bound is not None and math.isfinite(r.best_bound) and (solved or r.status.value != "error"):
        out.append(f"best bound:      {_num(r.best_bound)}")
    if r.gap is not None and solved:
        out.append(f"gap:             {_num(r.gap)}")
    total = r.times.get("total_s", r.times.get("solve_s"))
    out.append(f"time:            {total:.3f} s" if total is not None else "time:            -")
    out.append(f"backend:         {r.backend}")
    if r.message:
        out.append(f"message:         {r.message}")
    if r.has_solution and "edges" in r.stats:  # a learned graph (DAG backends)
        out.append(f"order:           {' '.join(map(str, r.stats.get('order', [])))}")
        out.append(f"edges:           {len(r.stats['edges'])}")
        out.extend(f"  {a} -> {b}  {w:.6g}" for a, b, w in r.stats["edges"])
    if r.has_solution:
        for name, v in r.variables.items():
            out.append("")
            if isinstance(v, dict):
                rows = [(k, x) for k, x in v.items() if abs(x) > tol]
                out.append(f"{name}  ({len(rows)} nonzero of {len(v)})")
                if rows:
                    width = max(len(_lab(k)) for k, _ in rows)
                    out.extend(f"  {_lab(k):<{width}}  {x:.10g}" for k, x in rows)
            else:
                out.append(f"{name} = {_num(v)}")
    return "\n".join(out) + "\n"


def _csv(r: Result) -> str:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["kind", "component", "index", "value"])
    w.writerow(["status", "", "", r.status.value])
    w.writerow(["objective", "", "", "" if r.objective is None else repr(r.objective)])
    if r.has_solution:
        for kind, values in (("variable", r.variables), ("dual", r.duals)):
            for name, v in values.items():
                if isinstance(v, dict):
                    for k, x in v.items():
                        w.writerow([kind, name, _lab(k), repr(x)])
                else:
                    w.writerow([kind, name, "", repr(v)])
    return buf.getvalue()
