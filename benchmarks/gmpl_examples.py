"""Run model files written by others through glpsol and `optdsl solve`, and compare objectives.

    python benchmarks/gmpl_examples.py [--examples DIR] [--time-limit S] [--out FILE.md]

DIR defaults to Debian's glpk-utils examples (`apt-get install glpk-utils`): GLPK's own models.
The AMPL book's example files (model X.mod with data X.dat) run the same way. A model counts as
"same" when both report an objective and they agree to 1e-6 relative, or both report none (a
feasibility model) and both exit cleanly. A model glpsol cannot read has no reference here.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
from pathlib import Path

DEFAULT = Path("/usr/share/doc/glpk-utils/examples")
_GLP_OBJ = re.compile(r"^Objective:\s+\S+\s*=\s*([-+0-9.eE]+)", re.M)
_OPT_OBJ = re.compile(r"^objective:\s+([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*$", re.M)


def glpsol(model: Path, time_limit: float) -> tuple[str, float | None]:
    out = model.with_suffix(".glpsol.txt")
    tmp = Path("/tmp") / out.name
    data = ["-d", str(model.with_suffix(".dat"))] if model.with_suffix(".dat").exists() else []
    try:
        p = subprocess.run(["glpsol", "--math", str(model), *data, "--tmlim", str(int(time_limit)), "-o", str(tmp)],
                           capture_output=True, text=True, timeout=time_limit + 30, cwd=model.parent)
    except subprocess.TimeoutExpired:
        return "timeout", None
    text = tmp.read_text() if tmp.exists() else ""
    m = _GLP_OBJ.search(text)
    if "TIME LIMIT EXCEEDED" in p.stdout or "TIME LIMIT" in text:
        return "time_limit", float(m.group(1)) if m else None
    if p.returncode != 0:
        return "unreadable" if "Model processing error" in p.stdout or "error" in p.stdout.lower() else "error", None
    if "PROBLEM HAS NO" in p.stdout or "INTEGER EMPTY" in text or "UNDEFINED" in text.upper():
        return "no_solution", None
    return "ok", float(m.group(1)) if m else None


def optdsl(model: Path, time_limit: float) -> tuple[str, float | None, str]:
    t0 = time.perf_counter()
    try:
        data = [str(model.with_suffix(".dat"))] if model.with_suffix(".dat").exists() else []
        p = subprocess.run([sys.executable, "-m", "optdsl.cli", "solve", str(model), *data,
                            "--time-limit", str(time_limit)],
                           capture_output=True, text=True, timeout=time_limit + 60, cwd=model.parent)
    except subprocess.TimeoutExpired:
        return "timeout", None, ""
    m = _OPT_OBJ.search(p.stdout)
    first_err = next((ln for ln in p.stderr.splitlines() if "error" in ln), p.stderr.strip()[:200])
    status = {0: "ok", 1: "no_solution", 2: "input_error"}.get(p.returncode, f"exit {p.returncode}")
    _ = time.perf_counter() - t0
    return status, (float(m.group(1)) if m else None), first_err


def same(g: tuple[str, float | None], o: tuple[str, float | None, str]) -> bool:
    if g[0] != "ok" or o[0] != "ok":
        return g[0] == "no_solution" and o[0] == "no_solution"
    if g[1] is None or o[1] is None:
        return g[1] is None and o[1] in (None, 0.0)
    return abs(g[1] - o[1]) <= 1e-6 * max(1.0, abs(g[1]))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--examples", type=Path, default=DEFAULT)
    ap.add_argument("--time-limit", type=float, default=20.0)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    rows, n_same, n_timed = [], 0, 0
    for model in sorted(args.examples.glob("*.mod")):
        g = glpsol(model, args.time_limit)
        o = optdsl(model, args.time_limit)
        ok = same(g, o)
        n_same += ok
        n_timed += g[0] in ("time_limit", "timeout")
        rows.append(f"| {model.name} | {g[0]} {g[1] if g[1] is not None else ''} | {o[0]} "
                    f"{o[1] if o[1] is not None else ''} | {'same' if ok else ''} | "
                    f"{'' if ok else o[2].replace('|', '/')[:140]} |")
        print(rows[-1], flush=True)
    total = len(rows)
    summary = (f"\n{n_same} of {total} models give glpsol's answer ({n_timed} where glpsol itself hits "
               f"the {args.time_limit:g} s limit)\n")
    table = "| model | glpsol | optdsl | | first error |\n|---|---|---|---|---|\n" + "\n".join(rows) + summary
    print(summary)
    if args.out:
        args.out.write_text(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
