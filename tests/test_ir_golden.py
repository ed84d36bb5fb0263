"""Golden IR text of every example model, and the to_opt() round trip of each.

Regenerate after an intended change with OPTDSL_UPDATE_GOLDEN=1 (then review the diff).
"""

import os
from pathlib import Path

import pytest

import optdsl as od

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "golden" / "ir"
EXAMPLES = sorted(p for p in (ROOT / "examples").glob("*.opt"))
MAX_VARS = 400  # large examples are compared by their summary, not row by row
MAX_CHARS = 20_000


def _text(model: od.Model) -> str:
    if model.ir.num_vars <= MAX_VARS:
        text = model.print_ir()
        if len(text) <= MAX_CHARS:
            return text
    return model.summary() + "\n"


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_example_ir_matches_golden(path):
    text = _text(od.load(path))
    golden = GOLDEN / f"{path.stem}.ir"
    if os.environ.get("OPTDSL_UPDATE_GOLDEN") == "1" or not golden.exists():
        golden.write_text(text)
    assert text == golden.read_text()


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_example_to_opt_round_trip(path, tmp_path):
    model = od.load(path)
    again = tmp_path / f"{path.stem}.opt"
    again.write_text(model.to_opt())
    assert _text(od.load(again)).replace(again.stem, path.stem) == _text(model)
