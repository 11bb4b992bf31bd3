#!/usr/bin/env bash
# Issue 30's GPU check in one command, on one CUDA device, meant to end within 8 minutes (see benchmarks/gpu.md):
# the GPU tests, then gpu_check.py (random-small, 10 s takes: speed at batch 1 and 8, 10 seeds alone vs in batches
# of 4 and 8, run to run, reproduce, plain transformers generate; the default dtype first, a dtype that would end
# past --budget-s is skipped and named). Run from the repository root after the README's locked install:
#   benchmarks/gpu_check.sh                    # extra arguments go to gpu_check.py
# Writes benchmarks/results/gpu-check.json.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-.venv/bin/python}"
export HF_HUB_OFFLINE=1 PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
nvidia-smi -L || true
lscpu | grep 'Model name' || true
"$PYTHON" -m pytest -q -p no:cacheprovider -m gpu tests/test_gpu.py
"$PYTHON" benchmarks/gpu_check.py --budget-s 390 --json benchmarks/results/gpu-check.json "$@"
