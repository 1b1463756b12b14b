#!/usr/bin/env bash
# The sindy_noise grid of the systems that Lorenz/Rossler sessions did not rerun, on a GPU machine (one call of
# the device tool): RKTV-INR on CUDA, one worker process per draw, draws handed out in seed order until the time
# limit (even draws on CUDA, odd ones on the CPU cores), so an unfinished grid leaves every cell with about the same number of draws. Usage:
#   benchmarks/dev/sindy_gpu_grid.sh OUT_DIR MINUTES WORKERS
# PySINDy, derivative and torchdiffeq come as wheels in .whl/ where the machine lacks them (not committed).
set -u
OUT=$1; MIN=${2:-6.5}; W=${3:-15}
[ -d .whl ] && pip install -q --no-index --no-deps .whl/*.whl 2>&1 | tail -1
export PYTHONPATH=src OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
python -c "import torch, pysindy; print(torch.__version__, torch.cuda.get_device_name(0), pysindy.__version__)"
python benchmarks/sindy_noise.py --systems vanderpol,duffing,lotka_volterra,chen,lu,halvorsen --draws 10 \
  --methods "RKTV-INR,FiniteDifference,Savitzky-Golay,TV (trend_filtered),Kalman,Weak SINDy" \
  --no-study --no-lynx --workers "$W" --time-limit "$MIN" --device split --no-progress 2>&1 | tail -60
cp outputs/bench_sindy/runs.jsonl "$OUT/runs_gpu.jsonl"
cp docs/sindy_noise.json "$OUT/sindy_noise_gpu.json" 2>/dev/null
