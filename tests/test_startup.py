"""Start-up: `optdsl solve` of a small LP imports none of the heavy optional packages."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("scipy", "torch", "pyomo", "sympy", "pandas")


def test_solving_a_small_lp_imports_no_heavy_package():
    env = dict(os.environ)
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "optdsl.cli", "solve", "examples/transport.opt"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "153.675" in proc.stdout
    imported = {line.rsplit("|", 1)[-1].strip() for line in proc.stderr.splitlines()
                if line.startswith("import time:")}
    assert "optdsl.solvers.highs.adapter" in imported and "highspy" in imported  # the scan works
    heavy = sorted({name.split(".")[0] for name in imported} & set(HEAVY))
    assert not heavy, f"solving transport.opt imported {heavy} (python -X importtime shows by whom)"
