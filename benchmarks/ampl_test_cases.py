"""AMPL's own test models, solved by `optdsl solve` and compared with the objective AMPL records.

    python benchmarks/ampl_test_cases.py CASES_DIR [--time-limit S] [--out FILE.md]

CASES_DIR is `test/end2end/cases` of a checkout of github.com/ampl/mp, AMPL's solver-interface
library. Each folder there has a `modellist.json` listing test cases: the files (a model and its
data, or a `.run` script), the objective AMPL's solvers reach, and tags. A case counts as "same"
when optdsl exits 0 and its objective agrees to 1e-5 relative (1e-5 absolute near 0), the tolerance
of AMPL's own test runner; where a case records its optimum as a check on `_obj[1]` with a
tolerance (`abs(_obj[1]+0.7977)<=0.01`), that value and tolerance are used. Cases that
differ only in solver options (`options`) run once. A case given as a `.run` script is AMPL's
command language, not a model file, and is listed apart; so are the folders whose subject lies
outside the model files optdsl reads (logical and constraint-programming operators, complementarity,
conic and solver-suffix tests).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

# folders about the model files AMPL and GMPL users write, and the rest
IN_SCOPE = ("moderate/linear", "fast/pl", "fast/qp", "fast/nonlinear", "nlmodels", "fast/multi_obj")
_OBJ = re.compile(r"^objective:\s+(\S+)\s*$", re.M)
_CHECK = re.compile(r"abs\(\s*_obj\[1\]\s*([+-])\s*([0-9.eE+-]+)\s*\)\s*<=\s*([0-9.eE+-]+)")


def cases(root: Path) -> list[tuple[str, Path, list[str], float | None, float | None]]:
    """(name, folder, files, AMPL's objective, its absolute tolerance where AMPL states one)."""
    out, seen = [], set()
    for listing in sorted(root.glob("**/modellist.json")):
        folder = listing.parent
        for case in json.loads(listing.read_text()):
            name = case["name"].split()[0]
            data = [f"{name}.dat"] if (folder / f"{name}.dat").exists() else []
            files = case.get("files") or [f"{name}.mod", *data]
            key = (folder, tuple(files))
            if key in seen:
                continue
            seen.add(key)
            want, tol = case.get("objective"), None
            if want is None:  # AMPL records some optima as checks: 'if abs(_obj[1]+0.79)<=0.01 then 1 else 0'
                for check in case.get("values") or {}:
                    m = _CHECK.search(check)
                    if m:
                        want, tol = -float(m.group(1) + m.group(2)), float(m.group(3))
            out.append((case["name"], folder, files, want, tol))
    return out


def run(folder: Path, files: list[str], time_limit: float) -> tuple[str, float | None, str]:
    work = Path(tempfile.mkdtemp(prefix="ampl-case-"))
    try:
        for f in folder.iterdir():  # a model may read other files of its folder
            if f.is_file():
                shutil.copy(f, work)
        p = subprocess.run([sys.executable, "-m", "optdsl.cli", "solve", *files, "--time-limit", str(time_limit)],
                           capture_output=True, text=True, timeout=time_limit + 60, cwd=work)
    except subprocess.TimeoutExpired:
        return "timeout", None, ""
    finally:
        shutil.rmtree(work, ignore_errors=True)
    m = _OBJ.search(p.stdout)
    err = next((ln for ln in p.stderr.splitlines() if "error:" in ln), p.stderr.strip()[:200])
    try:
        value = float(m.group(1)) if m else None
    except ValueError:
        value = None
    return {0: "ok", 1: "no_solution", 2: "input_error"}.get(p.returncode, f"exit {p.returncode}"), value, err


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("cases_dir", type=Path)
    ap.add_argument("--time-limit", type=float, default=30.0)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    rows: dict[bool, list[str]] = {True: [], False: []}
    tally: dict[bool, list[int]] = {True: [0, 0, 0], False: [0, 0, 0]}  # cases, with an objective, same
    scripts = []
    for name, folder, files, want, tol in cases(args.cases_dir):
        where = str(folder.relative_to(args.cases_dir))
        if any(f.endswith(".run") for f in files):
            scripts.append(name)
            continue
        scope = where.endswith(IN_SCOPE)
        status, got, err = run(folder, files, args.time_limit)
        limit = tol if tol is not None else 1e-5 * max(1.0, abs(want or 0.0))  # AMPLRunner.py: 1e-5
        same = want is not None and status == "ok" and got is not None and abs(got - want) <= limit
        t = tally[scope]
        t[0] += 1
        t[1] += want is not None
        t[2] += same
        rows[scope].append(f"| {where} | {name} | {' '.join(files)} | {want if want is not None else ''} | "
                           f"{status} {got if got is not None else ''} | {'same' if same else ''} | "
                           f"{'' if same else err.replace('|', '/')[:140]} |")
        print(rows[scope][-1], flush=True)
    head = "| folder | case | files | AMPL's objective | optdsl | | first error |\n|---|---|---|---|---|---|---|\n"
    text = ""
    for scope, title in ((True, "Model files of the kinds optdsl reads"), (False, "Other subjects")):
        n, with_obj, same = tally[scope]
        text += (f"## {title}\n\n{n} cases, {with_obj} with an objective recorded by AMPL; optdsl gives that "
                 f"objective on {same} of them.\n\n" + head + "\n".join(rows[scope]) + "\n\n")
    text += f"Not run, AMPL scripts (`.run`): {', '.join(scripts) or 'none'}.\n"
    print(text.split("|")[0])
    if args.out:
        args.out.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
