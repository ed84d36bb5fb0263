#!/usr/bin/env bash
# Measurements that need a GPU, one short section per backend; each bounded by `timeout`.
# Run from the project root on a CUDA machine: bash benchmarks/device_check.sh
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}

echo "== surrogates: attack_dfo and cdsm on cuda (digits K=100, reactor; 2 seeds, 2000 evaluations)"
timeout 300 "$PY" benchmarks/bench_surrogates.py --device cuda --seeds 2 --evals 2000 --K 100 \
  --problems digits,reactor --methods attack_dfo,cdsm || echo "surrogates: FAILED or timed out ($?)"
timeout 120 "$PY" benchmarks/surrogate_device.py || echo "surrogate_device: FAILED or timed out ($?)"
