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
# GPU checks, short and each bounded by `timeout`. Run from anywhere on a machine with a CUDA
# build of torch:  bash benchmarks/device_check.sh   (PYTHON=... to pick the interpreter).
# Each section prints its own table; a failed or timed-out section says so and the next one runs.
set -u
PY=${PYTHON:-python}
section() { echo; echo "== $1"; }
$PY -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available(), torch.cuda.get_device_name(0) if torch.cuda.is_available() else '')"
# ---------------------------------------------------------------------------- lvhba (bilevel)
section "lvhba: toy n=100 on cuda (error at 1000/2000 iterations, s per 1000 iterations)"
timeout 180 $PY benchmarks/bench_lvhba.py toy --device cuda --iters 2000 --only-defaults \
  || echo "lvhba toy n=100 cuda: failed or timed out"
section "lvhba: toy n=100 with 1000 starts in one batch (300,000 variables): cuda, then cpu"
timeout 150 $PY benchmarks/bench_lvhba.py toy --device cuda --starts 1000 --iters 1000 --only-defaults \
  || echo "lvhba toy 1000 starts cuda: failed or timed out"
timeout 150 $PY benchmarks/bench_lvhba.py toy --device cpu --starts 1000 --iters 200 --only-defaults \
  || echo "lvhba toy 1000 starts cpu: failed or timed out"
section "lvhba: SVM hyperparameters on cuda, 1 seed per data set"
timeout 150 $PY benchmarks/bench_lvhba.py svm --device cuda --seeds 1 \
  || echo "lvhba svm cuda: failed or timed out"
# GPU checks, one short section per backend that runs torch on CUDA. Each section is bounded by
# `timeout`; the script goes on after a failing section and exits 1 if any failed.
#   bash benchmarks/device_check.sh
PY=${PYTHON:-python3}
status=0
section() { echo "== $1"; shift; timeout "$@" || { echo "-- failed or timed out (rc $?)"; status=1; }; }
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader 2>/dev/null || echo "no nvidia-smi"
# --- topo: the MLP variant (one network per node), CPU against CUDA on the same data
section "topo MLP variant, d=10 n=1000" 240 "$PY" benchmarks/bench_topo_mlp.py --device cpu cuda --d 10 \
    --time-limit 100
exit $status
# Measurements that need a GPU, one short section per backend; each bounded by `timeout`.
# Run from the project root on a CUDA machine: bash benchmarks/device_check.sh
echo "== surrogates: attack_dfo and cdsm on cuda (digits K=100, reactor; 2 seeds, 2000 evaluations)"
timeout 300 "$PY" benchmarks/bench_surrogates.py --device cuda --seeds 2 --evals 2000 --K 100 \
  --problems digits,reactor --methods attack_dfo,cdsm || echo "surrogates: FAILED or timed out ($?)"
timeout 120 "$PY" benchmarks/surrogate_device.py || echo "surrogate_device: FAILED or timed out ($?)"
# Short checks on a machine with a GPU (torch with CUDA). Each section is bounded by `timeout`;
# a section that fails or times out is reported and the script goes on.
section() { echo "== $1"; shift; timeout "$@" || echo "   (exit $?)"; }
section "torch sees the GPU" 60 "$PY" -c "import torch; print(torch.__version__, torch.cuda.is_available(), torch.cuda.get_device_name(0) if torch.cuda.is_available() else '')"
# sketch_newton: PDE control at N = 256 and 512, minres inner solver on the GPU against the CPU
section "sketch_newton PDE N=256 cpu vs cuda" 300 "$PY" benchmarks/bench_nlp_device.py --sizes 256 --devices cpu,cuda
section "sketch_newton PDE N=512 cuda vs cpu" 420 "$PY" benchmarks/bench_nlp_device.py --sizes 512 --devices cuda,cpu
