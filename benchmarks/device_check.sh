#!/usr/bin/env bash
# Short checks on a machine with a GPU (torch with CUDA). Each section is bounded by `timeout`;
# a section that fails or times out is reported and the script goes on.
set -u
cd "$(dirname "$0")/.."
PY=${PYTHON:-python}
section() { echo "== $1"; shift; timeout "$@" || echo "   (exit $?)"; }

section "torch sees the GPU" 60 "$PY" -c "import torch; print(torch.__version__, torch.cuda.is_available(), torch.cuda.get_device_name(0) if torch.cuda.is_available() else '')"

# sketch_newton: PDE control at N = 256 and 512, minres inner solver on the GPU against the CPU
section "sketch_newton PDE N=256 cpu vs cuda" 300 "$PY" benchmarks/bench_nlp_device.py --sizes 256 --devices cpu,cuda
section "sketch_newton PDE N=512 cuda vs cpu" 420 "$PY" benchmarks/bench_nlp_device.py --sizes 512 --devices cuda,cpu
