"""GLPK's own example models (written by GLPK's authors), solved by optdsl and by glpsol: the
objectives must agree. The files and glpsol come with Debian's glpk-utils package, which
`.ci/run` installs; without them the test skips and says why."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest

from optdsl.cli import main

EXAMPLES = Path("/usr/share/doc/glpk-utils/examples")
# Every example whose answer optdsl reproduces and that both tools solve in seconds here;
# benchmarks/gmpl_examples.py runs all of them (docs/language.md, compatibility).
MODELS = """assign bpp cal cf12a cf12b cflsq color cpp crypto dea diet dist egypt fctp food food2 gap
graceful jssp magic maxcut maxflow mfasp mfvsp min01ks misp money mvcp numbrix pentomino plan
planarity powpl25h powplant prod qfit queens sat shiftcov sorting spp stigler""".split()

needs_glpk = pytest.mark.skipif(
    not EXAMPLES.is_dir() or shutil.which("glpsol") is None,
    reason="GLPK's examples and glpsol are not installed (apt-get install glpk-utils)",
)


def glpsol_objective(model: Path, tmp: Path) -> float | None:
    out = tmp / "glpsol.txt"
    subprocess.run(["glpsol", "--math", str(model), "-o", str(out)], capture_output=True, text=True,
                   timeout=120, cwd=model.parent, check=True)
    m = re.search(r"^Objective:\s+\S+\s*=\s*([-+0-9.eE]+)", out.read_text(), re.M)
    return float(m.group(1)) if m else None


@needs_glpk
@pytest.mark.parametrize("name", MODELS)
def test_glpk_example_gives_glpsols_answer(name, tmp_path, monkeypatch):
    model = EXAMPLES / f"{name}.mod"
    want = glpsol_objective(model, tmp_path)
    monkeypatch.chdir(tmp_path)  # the models' own output files land here
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        rc = main(["solve", str(model), "--time-limit", "60"])
    assert rc == 0, err.getvalue()
    m = re.search(r"^objective:\s+(\S+)", out.getvalue(), re.M)
    got = float(m.group(1))
    if want is None:  # a feasibility model: glpsol prints no objective, optdsl its value 0
        assert got == 0.0
    else:
        assert got == pytest.approx(want, rel=1e-6, abs=1e-6)
