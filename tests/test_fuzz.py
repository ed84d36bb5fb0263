"""Property-based fuzzing of every example model and data file (issue: no traceback, exit 0/1/2,
every exit-2 message located). A few derandomized cases per file here; the long run (thousands of
cases) is benchmarks/fuzz_models.py."""

from __future__ import annotations

import pytest
from fuzz_cases import argv_for, case_env, environment, mutation, problems, run_cli, seeds, stage
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

SEEDS = seeds()
CASES = [(s, f) for s in SEEDS for f in s.files]


def test_every_example_is_a_seed():
    names = {s.name for s in SEEDS}
    assert {"transport", "diet", "production", "logistic", "blend_table"} <= names
    assert any(f.suffix == ".json" for s in SEEDS for f in s.files)
    assert any(f.suffix == ".csv" for s in SEEDS for f in s.files)
    assert any(f.suffix == ".dat" for s in SEEDS for f in s.files)


@pytest.mark.parametrize("seed", SEEDS, ids=[s.name for s in SEEDS])
def test_unchanged_seed_runs(seed, tmp_path):
    where = stage(seed, tmp_path)
    with environment(case_env(tmp_path)):
        rc, out, err = run_cli(argv_for(seed, where))
    assert problems(rc, out, err, []) == []
    assert rc in (0, 1), err  # the seeds themselves are good input


@pytest.mark.parametrize(("seed", "target"), CASES, ids=[f"{s.name}:{f.name}" for s, f in CASES])
@settings(max_examples=15, derandomize=True, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                 HealthCheck.data_too_large])
@given(data=st.data())
def test_mutated_input_fails_cleanly(seed, target, tmp_path, data):
    where = stage(seed, tmp_path)
    raw = target.read_bytes()
    kind, mutated = data.draw(mutation(raw, target.suffix), label="mutation")
    where[target].write_bytes(mutated)
    with environment(case_env(tmp_path)):
        rc, out, err = run_cli(argv_for(seed, where))
    names = [p.name for p in where.values()] + [str(p) for p in where.values()]
    assert problems(rc, out, err, names) == [], f"{kind} of {target.name}: rc={rc}\n{err[-2000:]}"
