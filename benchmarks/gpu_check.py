"""Issue 30's GPU check in one process: speed at batch 1 and 8, and whether takes are exact, per dtype.

For each dtype (the device's default first, :mod:`workbench.models.dtypes`), on ``--model`` (``random-small``):

- **alone**: each of ``--seeds`` seeds rendered on its own (batch 1);
- **in batches** of 4 and of 8: the same seeds in consecutive groups, each take compared with its alone render;
- **run to run**: the first seed alone and the first full batch of 8 rendered again, compared with the first time;
- **speed** per batch size: decoding steps per second, the whole pass's wall time (EnCodec decode included, see
  ``workbench/engine/cost.py``) and the real-time factor, medians over the passes of that size; peak CUDA memory.

For the default dtype only: ``reproduce`` of a saved take on the same device (the sidecar alone, compared by codes),
and plain transformers ``generate`` at batch 1 on the same weights (steps per second of the whole call: text
encoder, decoding and EnCodec decode). A dtype whose turn starts when the time left (``--budget-s``) is less than the
first dtype's load and rows took is skipped and named in the results. Writes one JSON results file after each dtype.

    python benchmarks/gpu_check.py --json benchmarks/results/gpu-check.json             # on a CUDA device
    python benchmarks/gpu_check.py --device cpu --quick --json /tmp/gpu-check-cpu.json  # proves it runs, on a CPU
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

import torch  # noqa: E402
import transformers  # noqa: E402

from workbench.core.params import GenerationParams  # noqa: E402
from workbench.engine.load import load_engine  # noqa: E402
from workbench.models.dtypes import default_dtype  # noqa: E402

TEXT = "80s synthwave, night drive, pulsing bass arpeggio, gated drums, 110 BPM"
BATCHES = (4, 8)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="random-small")
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--dtypes", default=None, help="comma-separated; default: the device's default dtype first, "
                        "then bfloat16 and float16 on CUDA")
    parser.add_argument("--budget-s", type=float, default=420.0, help="skip a dtype that would end past this")
    parser.add_argument("--quick", action="store_true", help="tiny, 1 s takes, one dtype: proves the script runs")
    parser.add_argument("--json", type=Path, required=True)
    args = parser.parse_args()
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        print("gpu_check: no CUDA device here; run it on a machine with one (or --device cpu --quick)", file=sys.stderr)
        return 2
    if args.quick:
        args.model, args.seconds = "tiny", 1.0
    default = str(default_dtype(device)).removeprefix("torch.")
    others = ["bfloat16", "float16"] if device.type == "cuda" and not args.quick else []
    dtypes = args.dtypes.split(",") if args.dtypes else [default, *(d for d in others if d != default)]
    started = time.perf_counter()
    result = {"model": args.model, "device": str(device), "seconds": args.seconds, "seeds": args.seeds,
              "batches": [1, *BATCHES], "date": datetime.now(UTC).isoformat(timespec="seconds"),
              "command": " ".join(["python", *sys.argv]), "machine": machine(), "rows": [], "skipped": []}
    first_took = None
    for dtype in dtypes:
        elapsed = time.perf_counter() - started
        if first_took is not None and elapsed + first_took > args.budget_s:
            result["skipped"].append({"dtype": dtype, "why": f"{elapsed:.0f} s gone, the first dtype took "
                                                             f"{first_took:.0f} s, the budget is {args.budget_s:g} s"})
            print(json.dumps(result["skipped"][-1]), flush=True)
            continue
        began = time.perf_counter()
        engine = load_engine(args.model, device=str(device), dtype=dtype)
        rows, extra, rows_done = check_dtype(engine, args.seeds, GenerationParams(duration_s=args.seconds),
                                             default=dtype == default)
        result["rows"] += rows
        result.update(extra)
        first_took = first_took or rows_done - began  # what every dtype costs: the load and its rows
        del engine
        if device.type == "cuda":
            torch.cuda.empty_cache()
        result["total_s"] = round(time.perf_counter() - started, 1)
        write_result(args.json, result)  # after each dtype: a run stopped early keeps what it measured
    if result["skipped"]:
        write_result(args.json, result)
    return 0


def check_dtype(engine, seeds: int, params: GenerationParams, *, default: bool) -> tuple[list[dict], dict, float]:
    """The rows of one dtype (batch 1, 4, 8), for the default dtype the reproduce and plain-generate checks, and
    when the rows were done (``time.perf_counter``)."""
    engine.generate(TEXT, GenerationParams(duration_s=1.0), [0])  # warm-up: kernels, allocator
    wanted = list(range(1, seeds + 1))
    alone = {s: engine.generate(TEXT, params, [s])[0] for s in wanted}
    again = engine.generate(TEXT, params, [wanted[0]])[0]
    dtype = str(engine.dtype).removeprefix("torch.")
    rows = [row(dtype, 1, [[t] for t in alone.values()], alone, again.codes_sha256 == alone[wanted[0]].codes_sha256)]
    for batch in BATCHES:
        passes = [engine.generate(TEXT, params, wanted[i:i + batch]) for i in range(0, len(wanted), batch)]
        repeat = None
        if batch == max(BATCHES) and len(passes[0]) == batch:
            rerun = engine.generate(TEXT, params, wanted[:batch])
            repeat = [t.codes_sha256 for t in rerun] == [t.codes_sha256 for t in passes[0]]
        rows.append(row(dtype, batch, passes, alone, repeat))
    rows_done = time.perf_counter()
    for r in rows:
        print(json.dumps(r), flush=True)
    extra = {"reproduce": reproduce_check(engine, alone[wanted[0]]), "plain_generate": plain_generate(
        engine, params)} if default else {}
    if extra:
        print(json.dumps(extra), flush=True)
    return rows, extra, rows_done


def row(dtype: str, batch: int, passes: list[list], alone: dict, repeat: bool | None) -> dict:
    """One batch size: speed over its full passes (a last, shorter group only when no pass is full) and agreement."""
    full = [p for p in passes if len(p) == batch] or passes
    costs = [p[0].cost for p in full]
    differing = sorted(t.seed for p in passes for t in p if t.codes_sha256 != alone[t.seed].codes_sha256)
    return {
        "dtype": dtype, "batch": batch, "passes": len(full),
        "realtime_factor": statistics.median(c["realtime_factor"] for c in costs),
        "steps_per_s": statistics.median(c["steps_per_s"] for c in costs),
        "wall_s": statistics.median(c["wall_s"] for c in costs),
        "peak_cuda_gb": max((c["peak_cuda_gb"] for c in costs if "peak_cuda_gb" in c), default=None),
        "same_codes_alone_and_in_batch": not differing, "seeds_differing_from_alone": differing,
        "same_codes_every_repeat": repeat,
    }


def reproduce_check(engine, take) -> dict:
    """Save ``take`` and re-render it from its sidecar on the same engine: are the codes identical?"""
    from workbench.render.reproduce import reproduce
    from workbench.store.takes import save_take

    with tempfile.TemporaryDirectory() as folder:
        save_take(take, Path(folder) / "take.wav", weights_sha256=engine.weights_sha256())
        report = reproduce(Path(folder) / "take.json", engine=engine)
    return {"identical": bool(report.identical), "warnings": list(report.warnings)}


def plain_generate(engine, params: GenerationParams) -> dict:
    """Plain transformers ``generate`` at batch 1 on the engine's weights, freshly built (no workbench kernels)."""
    from workbench.models.load import load_model

    loaded = load_model(engine.info.name, device=str(engine.device), dtype=engine.dtype)
    model, processor = loaded.model, loaded.processor
    steps = round(params.duration_s * model.config.audio_encoder.frame_rate) + model.decoder.config.num_codebooks - 1
    inputs = processor(text=[TEXT], padding=True, return_tensors="pt").to(engine.device)
    walls = []
    for _ in range(2):  # the first call warms up
        synchronize(engine.device)
        began = time.perf_counter()
        with torch.no_grad():
            model.generate(**inputs, do_sample=True, guidance_scale=3.0, top_k=250, max_new_tokens=steps)
        synchronize(engine.device)
        walls.append(time.perf_counter() - began)
    return {"steps": steps, "wall_s": round(walls[-1], 3), "steps_per_s": round(steps / walls[-1], 2)}


def synchronize(device) -> None:
    """Wait for the device's queued work (CUDA only) so that a wall time covers it."""
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize(device)


def machine() -> dict:
    """The GPU (or "cpu" and its model) and the versions that ran."""
    from workbench.engine.compat import cpu_info

    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu"
    return {"gpu": gpu, "cpu": cpu_info().name, "python": platform.python_version(),
            "torch": torch.__version__, "cuda": torch.version.cuda, "transformers": transformers.__version__}


def write_result(path: Path, result: dict) -> None:
    """Write one results file (JSON, atomically) and say so."""
    from workbench.core.atomic import write_bytes

    path.parent.mkdir(parents=True, exist_ok=True)
    write_bytes(path, (json.dumps(result, indent=2) + "\n").encode(), force=True)
    print(f"wrote {path}" + (f" in {result['total_s']} s" if "total_s" in result else ""))


if __name__ == "__main__":
    sys.exit(main())
