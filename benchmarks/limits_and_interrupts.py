"""How fast Ctrl-C stops a solve, and how closely --time-limit is kept, through the real CLI.

    python benchmarks/limits_and_interrupts.py            # corpora from ../shared/corpora or $OPTDSL_CORPORA

1. SIGINT: `optdsl solve MIP --time-limit 120 -v` on hard MIPs; once branch and bound has logged a
   few lines (or after --wait seconds) the process gets SIGINT. Measured: seconds from the signal
   to the process's exit, the exit status (130 expected), the status and solution printed.
2. --time-limit L: the whole command's wall time against L for HiGHS on a MIP that does not finish,
   and for sketch_newton on an NLP given too little time.

Results go to stdout and benchmarks/results/limits_and_interrupts.json.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CORPORA = Path(os.environ.get("OPTDSL_CORPORA", ROOT.parent / "shared" / "corpora"))
CLI = [sys.executable, "-m", "optdsl.cli"]
_BB_LINE = re.compile(r"^\s*[A-Z]?\s+\d+\s+\d+\s+\d+\s+[\d.]+%")


def _field(out: str, name: str) -> str | None:
    m = re.search(rf"^{name}:\s+(\S+)", out, re.M)
    return m.group(1) if m else None


def interrupt(path: Path, wait: float = 8.0) -> dict:
    p = subprocess.Popen([*CLI, "solve", str(path), "--time-limit", "120", "-v"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, cwd=ROOT)
    t_start = time.perf_counter()
    lines, bb = [], 0
    for line in p.stdout:
        lines.append(line)
        bb += bool(_BB_LINE.match(line))
        if bb >= 3 or time.perf_counter() - t_start > wait:
            break
    t0 = time.perf_counter()
    p.send_signal(signal.SIGINT)
    rest, err = p.communicate(timeout=60)
    stop = time.perf_counter() - t0
    out = "".join(lines) + rest
    return {"instance": path.name, "signal_after_s": round(t0 - t_start, 2), "stop_s": round(stop, 3),
            "exit": p.returncode, "status": _field(out, "status"), "solution": _field(out, "solution"),
            "objective": _field(out, "objective"), "traceback": "Traceback" in err}


def time_limit(args: list[str], limit: float) -> dict:
    t0 = time.perf_counter()
    p = subprocess.run([*CLI, "solve", *args, "--time-limit", str(limit)], capture_output=True, text=True,
                       cwd=ROOT, timeout=600)
    wall = time.perf_counter() - t0
    reported = _field(p.stdout, "time")  # the command's own clock: from its start, imports excluded
    command_s = float(reported) if reported not in (None, "-") else None
    over = None if command_s is None else round(100 * (command_s - limit) / limit, 1)
    return {"command": " ".join(Path(a).name if "/" in a else a for a in args), "limit_s": limit,
            "command_s": command_s, "over_pct": over,
            "process_wall_s": round(wall, 2), "exit": p.returncode,
            "status": _field(p.stdout, "status") or p.stderr.strip()[-120:]}


def main() -> int:
    hard = CORPORA / "hard-mip"
    if not hard.is_dir():
        print(f"corpora not found at {CORPORA}", file=sys.stderr)
        return 1
    report: dict = {"interrupt": [], "time_limit": []}
    for name in ("50v-10.mps", "gen-ip054.mps", "pk1.mps"):
        r = interrupt(hard / name)
        print(r)
        report["interrupt"].append(r)
    for args, limit in (([str(hard / "50v-10.mps")], 5.0), ([str(hard / "noswot.mps")], 5.0),
                        ([str(ROOT / "examples" / "pde_control.opt"), "--solver", "sketch_newton"], 3.0),
                        ([str(ROOT / "examples" / "pde_control.opt"), "--solver", "sketch_newton"], 0.2)):
        r = time_limit(args, limit)
        print(r)
        report["time_limit"].append(r)
    out = HERE / "results" / "limits_and_interrupts.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
