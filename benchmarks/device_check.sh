#!/usr/bin/env bash
# GPU checks, one short section per backend that runs torch on CUDA. Each section is bounded by
# `timeout`; the script goes on after a failing section and exits 1 if any failed.
#   bash benchmarks/device_check.sh
set -u
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
status=0
section() { echo "== $1"; shift; timeout "$@" || { echo "-- failed or timed out (rc $?)"; status=1; }; }

nvidia-smi --query-gpu=name,memory.total --format=csv,noheader 2>/dev/null || echo "no nvidia-smi"

# --- topo: the MLP variant (one network per node), CPU against CUDA on the same data
section "topo MLP variant, d=10 n=1000" 240 "$PY" benchmarks/bench_topo_mlp.py --device cpu cuda --d 10 \
    --time-limit 100

exit $status
