#!/usr/bin/env bash
# The GPU check, one script, on one CUDA device (on an H200: 34 s of tests, then 5.4 min of gpu_check.py; see
# docs/benchmarks.md). Run from the repository root after the README's locked install:
#   benchmarks/gpu_check.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export HF_HUB_OFFLINE=1
.venv/bin/python -m pytest -q -m gpu tests/test_gpu.py
.venv/bin/python benchmarks/gpu_check.py --seconds 10 --repeats 3 --json benchmarks/results/gpu-random-small.json
# which setting, if any, makes a 10 s random-small take repeat on the GPU (it did not, plain, on an H200)
.venv/bin/python benchmarks/gpu_repeat.py --json benchmarks/results/gpu-repeat.json
