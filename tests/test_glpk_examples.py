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
graceful jssp magic maxcut shikaku maxflow mfasp mfvsp min01ks misp money mvcp numbrix pentomino plan
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


@needs_glpk
@pytest.mark.parametrize("name, drawing", [("graph", "graph.eps"), ("tas", "tas.ps")])
def test_glpk_examples_that_draw_their_results(name, drawing, tmp_path, monkeypatch):
    """graph.mod and tas.mod write PostScript with `printf … > file` and `>> file`. graph.mod has a
    single answer, so the two drawings agree byte for byte; tas.mod has several optimal rosters,
    so only the objective and the drawing's frame are compared."""
    monkeypatch.setenv("OPTDSL_STATE_DIR", str(tmp_path / "state"))
    theirs, ours = tmp_path / "glpsol", tmp_path / "optdsl"
    for d in (theirs, ours):
        d.mkdir()
        shutil.copy(EXAMPLES / f"{name}.mod", d)
    want = glpsol_objective(theirs / f"{name}.mod", theirs)
    monkeypatch.chdir(ours)
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        rc = main(["solve", str(ours / f"{name}.mod"), "--time-limit", "60"])
    assert rc == 0, err.getvalue()
    got = float(re.search(r"^objective:\s+(\S+)", out.getvalue(), re.M).group(1))
    assert got == pytest.approx(want or 0.0, rel=1e-6, abs=1e-6)
    mine, reference = (ours / drawing).read_text(), (theirs / drawing).read_text()
    if name == "graph":
        assert mine == reference
    else:
        assert mine.splitlines()[:12] == reference.splitlines()[:12]
        assert mine.count("\n") == reference.count("\n") and mine.rstrip().endswith("%%EOF")
