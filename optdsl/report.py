"""Rendering a Result as text, JSON or CSV for the command line."""

from __future__ import annotations

import csv
import io
import json

from optdsl.results import Result


def _num(v: float | None) -> str:
    if v is None:
        return "-"
    return f"{v:.10g}"


def _lab(k: tuple) -> str:
    return ",".join(str(int(x)) if isinstance(x, float) and x.is_integer() else str(x) for x in k)


def render(result: Result, fmt: str = "text", tol: float = 1e-9) -> str:
    if fmt == "json":
        return json.dumps(result.to_dict(), indent=2) + "\n"
    if fmt == "csv":
        return _csv(result)
    return _text(result, tol)


def _text(r: Result, tol: float) -> str:
    out = [
        f"status:          {r.status.value}",
        f"solution:        {r.solution_status.value}",
        f"objective:       {_num(r.objective)}",
    ]
    if r.best_bound is not None:
        out.append(f"best bound:      {_num(r.best_bound)}")
    if r.gap is not None:
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
