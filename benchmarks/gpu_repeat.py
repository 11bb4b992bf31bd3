"""Where a take stops repeating on a GPU: the same seed rendered twice in one process, under several settings.

``gpu_check.py`` found (docs/benchmarks.md) that ``random-small`` 10 s takes in float16/bfloat16 on an H200 did not
repeat, while ``tiny`` takes and 2 s takes did. This renders one seed twice per setting and records the first
differing frame (None: identical), to tell which setting restores exactness:

- ``plain``: the workbench as it is;
- ``deterministic``: ``torch.use_deterministic_algorithms(True)``, with ``CUBLAS_WORKSPACE_CONFIG=:4096:8``;
- ``sdpa-math``, ``sdpa-flash``, ``sdpa-efficient``, ``sdpa-cudnn``: attention through one kernel of PyTorch's
  ``scaled_dot_product_attention`` only (``torch.nn.attention.sdpa_kernel``; a kernel that cannot run the shapes
  makes its row an error), to see whether the kernel PyTorch picks is the one that does not repeat.

Each setting runs in a fresh child process, so none leaks into the next. Writes one JSON results file. The settings
other than ``plain`` are CUDA's: on another device only ``plain`` runs (``--device cpu --quick``: ``tiny``, 1 s takes,
float32, which proves the script runs end to end without a GPU).

    python benchmarks/gpu_repeat.py --json benchmarks/results/gpu-repeat.json
    python benchmarks/gpu_repeat.py --device cpu --quick --json /tmp/gpu-repeat-cpu.json
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

TEXT = "80s synthwave, night drive, pulsing bass arpeggio, gated drums, 110 BPM"
SETTINGS = ("plain", "deterministic", "sdpa-math", "sdpa-flash", "sdpa-efficient", "sdpa-cudnn")
KERNELS = {"sdpa-math": "MATH", "sdpa-flash": "FLASH_ATTENTION", "sdpa-efficient": "EFFICIENT_ATTENTION",
           "sdpa-cudnn": "CUDNN_ATTENTION"}


def once(setting: str, model: str, device: str, dtype: str, seconds: float) -> dict:
    """Render seed 1 twice under ``setting``; the first differing frame of the two takes."""
    import contextlib

    import torch

    from workbench.core.params import GenerationParams
    from workbench.engine.load import load_engine

    context = contextlib.nullcontext()
    if setting not in settings_for(device):
        raise ValueError(f"setting {setting!r} applies on CUDA only, not on {device!r}")
    if setting == "deterministic":
        torch.use_deterministic_algorithms(True)
    elif setting in KERNELS:
        from torch.nn.attention import SDPBackend, sdpa_kernel

        context = sdpa_kernel(getattr(SDPBackend, KERNELS[setting]))
    engine = load_engine(model, device=device, dtype=dtype)
    params = GenerationParams(duration_s=seconds)
    with context:
        a, b = (engine.generate(TEXT, params, [1])[0] for _ in range(2))
    differ = (a.codes != b.codes).any(axis=0).nonzero()[0]
    return {"setting": setting, "dtype": dtype, "frames": int(a.codes.shape[-1]),
            "first_differing_frame": int(differ[0]) if len(differ) else None}


def settings_for(device: str) -> tuple[str, ...]:
    """The settings that apply on ``device``: all of them on CUDA, ``plain`` elsewhere."""
    return SETTINGS if device.startswith("cuda") else ("plain",)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="random-small")
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--dtypes", default="bfloat16")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--quick", action="store_true", help="tiny, 1 s takes, float32: proves the script runs")
    parser.add_argument("--json", type=Path, required=True)
    parser.add_argument("--one", nargs=2, metavar=("SETTING", "DTYPE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.quick:
        args.model, args.seconds, args.dtypes = "tiny", 1.0, "float32"
    if args.one:
        print(json.dumps(once(args.one[0], args.model, args.device, args.one[1], args.seconds)))
        return 0
    import torch

    if args.device == "cuda" and not torch.cuda.is_available():
        print("gpu_repeat: no CUDA device here; run it on a machine with one", file=sys.stderr)
        return 2
    rows = []
    for dtype in args.dtypes.split(","):
        for setting in settings_for(args.device):
            child = [sys.executable, __file__, "--model", args.model, "--device", args.device, "--seconds",
                     str(args.seconds), "--json", str(args.json), "--one", setting, dtype]
            env = {**os.environ, **({"CUBLAS_WORKSPACE_CONFIG": ":4096:8"} if setting == "deterministic" else {})}
            done = subprocess.run(child, capture_output=True, text=True, check=False, env=env)
            row = json.loads(done.stdout.strip().splitlines()[-1]) if done.returncode == 0 else {
                "setting": setting, "dtype": dtype, "error": (done.stderr.strip().splitlines() or ["?"])[-1]}
            rows.append(row)
            print(json.dumps(row), flush=True)
    from gpu_check import machine, write_result  # beside this file

    write_result(args.json, {"model": args.model, "device": args.device, "seconds": args.seconds,
                             "date": datetime.now(UTC).isoformat(timespec="seconds"),
                             "command": " ".join(["python", *sys.argv]), "machine": machine(), "rows": rows})
    return 0


if __name__ == "__main__":
    sys.exit(main())
