"""The GPU path, checked and timed on one CUDA device: ``random-small`` at batch 1, 4 and 8 in float16 and bfloat16.

For each dtype and batch: the real-time factor, decoding steps per second and peak CUDA memory of the pass (what
every take records, see ``workbench/engine/cost.py``), the median of ``--repeats`` passes; and whether each seed's
codes are the same alone and inside the batch. Writes one JSON results file. Exits 2 without CUDA.

    python benchmarks/gpu_check.py --seconds 10 --repeats 3 --json benchmarks/results/gpu-random-small.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

import torch  # noqa: E402
import transformers  # noqa: E402

from workbench.core.params import GenerationParams  # noqa: E402
from workbench.engine.load import load_engine  # noqa: E402

TEXT = "80s synthwave, night drive, pulsing bass arpeggio, gated drums, 110 BPM"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="random-small")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batches", default="1,4,8")
    parser.add_argument("--dtypes", default="float16,bfloat16")
    parser.add_argument("--json", type=Path, required=True)
    args = parser.parse_args()
    if not torch.cuda.is_available():
        print("gpu_check: no CUDA device here; run it on a machine with one", file=sys.stderr)
        return 2
    started = time.perf_counter()
    params = GenerationParams(duration_s=args.seconds)
    batches = [int(b) for b in args.batches.split(",")]
    rows = []
    for dtype in args.dtypes.split(","):
        engine = load_engine(args.model, device="cuda", dtype=dtype)
        engine.generate(TEXT, GenerationParams(duration_s=1.0), [0])  # warm-up: kernels, allocator
        for batch in batches:
            seeds = list(range(1, batch + 1))
            passes = [engine.generate(TEXT, params, seeds) for _ in range(args.repeats)]
            costs = [takes[0].cost for takes in passes]
            alone = engine.generate(TEXT, params, [seeds[-1]])[0]
            rows.append({
                "dtype": dtype, "batch": batch,
                "realtime_factor": statistics.median(c["realtime_factor"] for c in costs),
                "steps_per_s": statistics.median(c["steps_per_s"] for c in costs),
                "wall_s": statistics.median(c["wall_s"] for c in costs),
                "peak_cuda_gb": max(c["peak_cuda_gb"] for c in costs),
                "same_codes_alone_and_in_batch": alone.codes_sha256 == passes[0][-1].codes_sha256,
                "same_codes_every_repeat": len({takes[-1].codes_sha256 for takes in passes}) == 1,
            })
            print(json.dumps(rows[-1]), flush=True)
        del engine
        torch.cuda.empty_cache()
    result = {
        "model": args.model, "seconds": args.seconds, "repeats": args.repeats,
        "date": datetime.now(UTC).isoformat(timespec="seconds"), "command": " ".join(["python", *sys.argv]),
        "machine": machine(), "rows": rows, "total_s": round(time.perf_counter() - started, 1),
    }
    write_result(args.json, result)
    return 0


def machine() -> dict:
    """The GPU (or "cpu") and the versions that ran."""
    return {"gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu",
            "python": platform.python_version(), "torch": torch.__version__, "cuda": torch.version.cuda,
            "transformers": transformers.__version__}


def write_result(path: Path, result: dict) -> None:
    """Write one results file (JSON) and say so."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {path}" + (f" in {result['total_s']} s" if "total_s" in result else ""))


if __name__ == "__main__":
    sys.exit(main())
