"""Run model files written by others through glpsol and `optdsl solve`, and compare objectives.

    python benchmarks/gmpl_examples.py [--examples DIR] [--time-limit S] [--out FILE.md]
    python benchmarks/gmpl_examples.py --ampl-book DIR1 [DIR2 ...] [--out FILE.md]

DIR defaults to Debian's glpk-utils examples (`apt-get install glpk-utils`): GLPK's own models,
each X.mod with its data X.dat when there is one. `--ampl-book` takes the folders of the AMPL book's
example files (both editions are published by AMPL as EXAMPLES1 and EXAMPLES2; a model is taken
once, from the first folder that has it): the book's index pairs each model with its data file;
a model the index gives no data for takes the data file of the model it varies (`net1node.mod`
the data of `net1.mod`, found by dropping the end of its name), and one that still has none and no
data of its own is listed apart, since it cannot be solved as published.

Each tool runs in a fresh copy of the files, so output files the models write do not meet. The
reference is glpsol's objective where glpsol reads the model; for AMPL-only models (network,
column-wise, piecewise-linear declarations) it is the objective of the book's row-wise twin of the
same problem (`TWINS`) where there is one. A model counts as "same" when both report an objective
and they agree to 1e-6 relative, or both report none (a feasibility model) and both exit cleanly.
"""

from __future__ import annotations

import argparse
import html
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

DEFAULT = Path("/usr/share/doc/glpk-utils/examples")
_GLP_OBJ = re.compile(r"^Objective:\s+\S+\s*=\s*([-+0-9.eE]+)", re.M)
_OPT_OBJ = re.compile(r"^objective:\s+([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*$", re.M)
# AMPL book models written column-wise or as networks, and the row-wise model of the same problem
TWINS = {"net1node": "net1", "net3node": "net3", "netmax3": "netmax", "distnode": "dist", "trainode": "train",
         "net2": "net1", "transp2": "transp", "steelT2": "steelT"}
GUESSED: set[str] = set()  # AMPL book models whose data file was found by name alone


def _copy(files: list[Path]) -> Path:
    work = Path(tempfile.mkdtemp(prefix="survey-"))
    for f in files:
        shutil.copy(f, work)
    return work


def glpsol(model: Path, data: Path | None, time_limit: float) -> tuple[str, float | None]:
    work = _copy([model] + ([data] if data else []))
    try:
        args = ["-d", data.name] if data else []
        try:
            p = subprocess.run(["glpsol", "--math", model.name, *args, "--tmlim", str(int(time_limit)),
                                "-o", "glpsol.out"], capture_output=True, text=True, timeout=time_limit + 30,
                               cwd=work)
        except subprocess.TimeoutExpired:
            return "timeout", None
        out = work / "glpsol.out"
        text = out.read_text() if out.exists() else ""
    finally:
        shutil.rmtree(work, ignore_errors=True)
    m = _GLP_OBJ.search(text)
    if "TIME LIMIT EXCEEDED" in p.stdout or "TIME LIMIT" in text:
        return "time_limit", float(m.group(1)) if m else None
    if p.returncode != 0:
        return "unreadable" if "Model processing error" in p.stdout or "error" in p.stdout.lower() else "error", None
    if "PROBLEM HAS NO" in p.stdout or "INTEGER EMPTY" in text or "UNDEFINED" in text.upper():
        return "no_solution", None
    return "ok", float(m.group(1)) if m else None


def optdsl(model: Path, data: Path | None, time_limit: float) -> tuple[str, float | None, str]:
    work = _copy([model] + ([data] if data else []))
    try:
        p = subprocess.run([sys.executable, "-m", "optdsl.cli", "solve", model.name, *([data.name] if data else []),
                            "--time-limit", str(time_limit)],
                           capture_output=True, text=True, timeout=time_limit + 60, cwd=work)
    except subprocess.TimeoutExpired:
        return "timeout", None, ""
    finally:
        shutil.rmtree(work, ignore_errors=True)
    m = _OPT_OBJ.search(p.stdout)
    first_err = next((ln for ln in p.stderr.splitlines() if "error" in ln), p.stderr.strip()[:200])
    status = {0: "ok", 1: "no_solution", 2: "input_error"}.get(p.returncode, f"exit {p.returncode}")
    return status, (float(m.group(1)) if m else None), first_err


def same(g: tuple[str, float | None], o: tuple[str, float | None, str]) -> bool:
    if g[0] != "ok" or o[0] != "ok":
        return g[0] == "no_solution" and o[0] == "no_solution"
    if g[1] is None or o[1] is None:
        return g[1] is None and o[1] in (None, 0.0)
    return abs(g[1] - o[1]) <= 1e-6 * max(1.0, abs(g[1]))


# ------------------------------------------------------------------------------ the AMPL book
def book_index(folder: Path) -> dict[str, str]:
    """model file -> data file ('' for none) from the folder's index_files.html."""
    index = folder / "index_files.html"
    if not index.exists():
        return {m.name: "" for m in folder.glob("*.mod")}
    pairs = {}
    for row in re.findall(r"<tr.*?</tr>", index.read_text(errors="replace"), re.S | re.I):
        cells = [html.unescape(re.sub("<[^>]+>", "", c)).strip() for c in re.findall(r"<td.*?</td>", row, re.S | re.I)]
        if len(cells) >= 3 and cells[0].endswith(".mod"):
            pairs[cells[0]] = cells[2]
    return pairs


def data_for(model: Path, given: str) -> Path | None:
    """The model's data file; one found by name alone is marked `guessed` in GUESSED."""
    if given:
        return model.parent / given
    if re.search(r"^\s*data\s*;", model.read_text(errors="replace"), re.M):
        return None  # the data is in the model file
    stem = model.stem
    for cut in range(len(stem), 2, -1):  # net1node -> net1, econmin -> econ, transp2 -> transp
        for base in (stem[:cut], stem[:cut].removesuffix("node"), stem[:cut].removesuffix("min")):
            if (model.parent / f"{base}.dat").exists():
                GUESSED.add(model.name)
                return model.parent / f"{base}.dat"
    return model.parent / "(none)"


def book_models(folders: list[Path]) -> list[tuple[Path, Path | None]]:
    seen, out = set(), []
    for folder in folders:
        index = book_index(folder)
        for model in sorted(folder.glob("*.mod")):
            if model.name in seen:
                continue
            seen.add(model.name)
            out.append((model, data_for(model, index.get(model.name, ""))))
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--examples", type=Path, default=DEFAULT)
    ap.add_argument("--ampl-book", type=Path, nargs="+")
    ap.add_argument("--time-limit", type=float, default=20.0)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    if args.ampl_book:
        cases = book_models(args.ampl_book)
    else:
        cases = [(m, m.with_suffix(".dat") if m.with_suffix(".dat").exists() else None)
                 for m in sorted(args.examples.glob("*.mod"))]
    rows, n_same, n_timed, n_ran, n_ref, no_data = [], 0, 0, 0, 0, []
    answers: dict[str, tuple[str, float | None]] = {}
    for model, data in cases:
        if data is not None and not data.exists():
            no_data.append(model.name)
            continue
        g = glpsol(model, data, args.time_limit)
        o = optdsl(model, data, args.time_limit)
        if model.name in GUESSED and g[0] != "ok" and ("is not declared in the model" in o[2] or "no data for" in o[2]):
            no_data.append(f"{model.name} ({data.name} is another model's)")  # the guess was wrong
            continue
        answers[model.stem] = g if g[0] == "ok" else o[:2]
        ref, source = g, "glpsol"
        twin = TWINS.get(model.stem)
        if g[0] not in ("ok", "no_solution", "time_limit", "timeout") and twin in answers:
            ref, source = answers[twin], f"{twin}.mod"
        has_ref = ref[0] in ("ok", "no_solution")
        ok = has_ref and same(ref, o)
        n_same += ok
        n_ref += has_ref
        n_ran += o[0] == "ok"
        n_timed += g[0] in ("time_limit", "timeout")
        shown = f"{ref[0]} {ref[1] if ref[1] is not None else ''}" + (f" ({source})" if source != "glpsol" else "")
        rows.append(f"| {model.name} | {data.name if data else ''} | {shown} | {o[0]} "
                    f"{o[1] if o[1] is not None else ''} | {'same' if ok else ''} | "
                    f"{'' if ok else o[2].replace('|', '/')[:140]} |")
        print(rows[-1], flush=True)
    total = len(rows)
    summary = (f"\n{total} models: {n_ran} solved by optdsl; {n_same} of the {n_ref} with a reference give the "
               f"reference's answer; glpsol hits the {args.time_limit:g} s limit on {n_timed}.\n")
    if no_data:
        summary += f"Not run, no data published for them: {', '.join(no_data)}.\n"
    table = ("| model | data | reference | optdsl | | first error |\n|---|---|---|---|---|---|\n"
             + "\n".join(rows) + "\n" + summary)
    print(summary)
    if args.out:
        args.out.write_text(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
