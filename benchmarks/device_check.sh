#!/usr/bin/env bash
# Short checks of the torch paths on a CUDA device; each section is one small timed call.
set -uo pipefail
cd "$(dirname "$0")/.."

echo "== ipopt on a CUDA-lowered NLP (torch executor's derivatives into IPOPT)"
timeout 120 python3 -c "
import time, optdsl as od
text = '''set N := 1..2000; var x {N} >= 0, := 1;
minimize f: sum {i in N} (x[i] - i / 1000)^2 * exp(x[i] / 10);
s.t. pair {i in 1..1999}: x[i] * x[i+1] <= 1;'''
for dev in ('cpu', 'cuda'):
    t = time.perf_counter(); r = od.parse_model(text).solve(solver='ipopt', device=dev)
    print(dev, r.status.value, f'{r.objective:.10g}', f'{time.perf_counter() - t:.2f} s')
"
