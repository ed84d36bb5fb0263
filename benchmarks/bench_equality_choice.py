"""Which backend for equality-only NLPs: sketch_newton (the chooser's pick) against ipopt on the
CUTEst equality-constrained problems of tests/cutest/ (reference optima from
corpora/nlp/cutest_equality_curated.csv, column slsqp_obj).

    python benchmarks/bench_equality_choice.py

"Solved": objective within 1e-5 (relative, absolute below 1) of the reference with status optimal.
Writes markdown to stdout and to benchmarks/results/equality_choice.md.
"""

from __future__ import annotations

import csv
import os
import platform
import time
import warnings
from pathlib import Path

import optdsl as od

ROOT = Path(__file__).resolve().parents[1]
CORPORA = Path(os.environ.get("OPTDSL_CORPORA", ROOT.parent / "shared" / "corpora"))


def main() -> None:
    warnings.simplefilter("ignore")
    with (CORPORA / "nlp" / "cutest_equality_curated.csv").open() as fh:
        ref = {r["name"]: float(r["slsqp_obj"]) for r in csv.DictReader(fh)}
    names = sorted(p.stem for p in (ROOT / "tests" / "cutest").glob("*.opt"))
    solvers = ["sketch_newton", "ipopt"]
    rows, tot = [], {s: [0, 0.0] for s in solvers}
    for name in names:
        cells = []
        for s in solvers:
            m = od.load(ROOT / "tests" / "cutest" / f"{name}.opt")
            t0 = time.perf_counter()
            try:
                r = m.solve(solver=s, time_limit=60)
                obj, st = r.objective, r.status.value
            except Exception as exc:  # counted as a failure
                obj, st = None, f"error: {exc}"[:40]
            dt = time.perf_counter() - t0
            ok = st == "optimal" and obj is not None and abs(obj - ref[name]) <= 1e-5 * max(1.0, abs(ref[name]))
            tot[s][0] += ok
            tot[s][1] += dt
            val = "-" if obj is None else f"{obj:.8g}"
            cells.append(f"{'**' if ok else ''}{val}{'**' if ok else ''} {st} ({dt:.2f} s)")
        rows.append(f"| {name} | {ref[name]:.8g} | " + " | ".join(cells) + " |")
    lines = [f"# Equality-only NLPs: {len(names)} CUTEst problems (tests/cutest)", "",
             f"Measured on a shared 2-core machine ({platform.machine()}); solved = 1e-5 of the reference.", "",
             "| backend | solved | total time s |", "|---|---|---|"]
    lines += [f"| {s} | {tot[s][0]} / {len(names)} | {tot[s][1]:.2f} |" for s in solvers]
    lines += ["", "| problem | reference | " + " | ".join(solvers) + " |", "|---|---|---|---|", *rows]
    text = "\n".join(lines) + "\n"
    print(text)
    (ROOT / "benchmarks" / "results" / "equality_choice.md").write_text(text)


if __name__ == "__main__":
    main()
