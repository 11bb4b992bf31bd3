#!/usr/bin/env bash
# The GPU check, one script, on one CUDA device (about 5 minutes on a datacenter GPU is the aim; it has not run
# yet: no GPU was lent to this project). Run from the repository root after the README's locked install:
#   benchmarks/gpu_check.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export HF_HUB_OFFLINE=1
.venv/bin/python -m pytest -q -m gpu tests/test_gpu.py
.venv/bin/python benchmarks/gpu_check.py --seconds 10 --repeats 3 --json benchmarks/results/gpu-random-small.json
