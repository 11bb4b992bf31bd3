#!/usr/bin/env bash
# Issue 28's CPU check in one command: every figure side by side on the machine at hand, then the report.
#   benchmarks/cpu_check.sh                 # random-small, the defaults of cpu_check.py
#   benchmarks/cpu_check.sh --rounds 6      # extra arguments go to cpu_check.py
# Writes benchmarks/results/cpu-check-<cpu>.json and regenerates docs/benchmarks.md from every results file.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-.venv/bin/python}"
export HF_HUB_OFFLINE=1 PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
lscpu | grep 'Model name' || true
"$PYTHON" benchmarks/cpu_check.py "$@"
"$PYTHON" benchmarks/report.py benchmarks/results/cpu-check-*.json benchmarks/results/kernel-candidates-*.json benchmarks/results/random-small-loop.json \
  benchmarks/results/kernel-agreement.json benchmarks/results/loop-vs-generate.json benchmarks/results/tiny.json \
  benchmarks/results/random-small.json benchmarks/results/gpu-random-small.json --out docs/benchmarks.md
