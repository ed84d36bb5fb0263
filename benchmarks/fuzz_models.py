"""The long fuzz run: thousands of damaged copies of every example model and data file.

    python benchmarks/fuzz_models.py --cases 5000 --seed 9

Each case is one mutation (see tests/fuzz_cases.py: token deletions, duplications, swaps,
truncations, random bytes, invalid encodings, huge numbers, NaN/inf, deep nesting) of one file of
one seed, run in-process through `optdsl.cli.main`. The cases are spread evenly over the files.
Counts by mutation kind and exit status, and every case that broke a rule (exit status other than
0/1/2, a traceback, an internal error, an unlocated exit-2 message), go to stdout and to
benchmarks/results/fuzz_models.json. Exit status 1 when any case broke a rule.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from fuzz_cases import argv_for, case_env, environment, mutation, problems, run_cli, seeds, stage  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import seed as hseed  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


def _make_case(seed_, target, where, raw, folder, per_file, seed_value, record):
    @hseed(seed_value)
    @settings(max_examples=per_file, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(data=st.data())
    def case(data) -> None:
        kind, mutated = data.draw(mutation(raw, target.suffix))
        where[target].write_bytes(mutated)
        with environment(case_env(folder)):
            rc, out, err = run_cli(argv_for(seed_, where))
        names = [p.name for p in where.values()] + [str(p) for p in where.values()]
        record(seed_, target, kind, rc, problems(rc, out, err, names), err)

    return case


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=5000, help="total number of cases")
    ap.add_argument("--seed", type=int, default=9)
    ap.add_argument("--out", default=str(HERE / "results" / "fuzz_models.json"))
    args = ap.parse_args()

    pairs = [(s, f) for s in seeds() for f in s.files]
    per_file = max(1, -(-args.cases // len(pairs)))
    kinds: Counter[str] = Counter()
    statuses: Counter[int] = Counter()
    failures: list[dict] = []
    t0 = time.perf_counter()
    counts = {"total": 0}

    def record(seed_, target, kind: str, rc: int, bad: list[str], err: str) -> None:
        counts["total"] += 1
        kinds[kind] += 1
        statuses[rc] += 1
        if bad:
            failures.append({"seed": seed_.name, "file": target.name, "kind": kind, "rc": rc,
                             "problems": bad, "stderr": err[-600:]})

    with tempfile.TemporaryDirectory() as tmp:
        for n, (seed_, target) in enumerate(pairs):
            folder = Path(tmp) / f"{n}"
            where = stage(seed_, folder)
            raw = target.read_bytes()

            case = _make_case(seed_, target, where, raw, folder, per_file, args.seed + n, record)
            case()
            where[target].write_bytes(raw)
            print(f"{seed_.name}:{target.name}: {counts['total']} cases so far, {len(failures)} failing, "
                  f"{time.perf_counter() - t0:.0f} s", file=sys.stderr)
    report = {
        "cases": counts["total"], "files": len(pairs), "seconds": round(time.perf_counter() - t0, 1),
        "by_kind": dict(sorted(kinds.items())), "by_exit_status": {str(k): v for k, v in sorted(statuses.items())},
        "failures": len(failures), "failing_cases": failures[:200], "seed": args.seed,
    }  # fmt: skip
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps({k: v for k, v in report.items() if k != "failing_cases"}, indent=2))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
