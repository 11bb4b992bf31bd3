"""The CPU check: every figure of issue 28's benchmarks, side by side in one run on the machine at hand.

In one process (``random-small``, musicgen-small's real size), in rounds of alternating order: plain
``model.generate`` (the model as transformers loads it), the workbench in float32 at batch 1 and with 4 seeds in
one pass, and the workbench in bfloat16 where the CPU has a fast path; per decoding step (median gap between
steps) and per call; the float32 and bfloat16 bandwidth floors (a 1 GB read, and the step's own weights read alone,
both measured between rounds); how often the kernel candidates, and bfloat16 and
float32, give the same codes. Then whole processes, alternating: ``workbench generate`` of a 4 s take against a
plain transformers script (``benchmarks/plain_script.py``), wall time and peak RSS, and where a workbench
process spends its time (its phases timed). Kernel choices go to a fresh cache folder, so the first load's measurement
is part of the run. Writes ``benchmarks/results/cpu-check-<cpu>.json``; ``benchmarks/report.py`` turns it into
a section of ``docs/benchmarks.md``.

    python benchmarks/cpu_check.py --model random-small --rounds 4
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
CACHE = tempfile.mkdtemp(prefix="cpu-check-cache-")
os.environ["WORKBENCH_CACHE_DIR"] = CACHE  # kernel choices measured in this run, shared with its subprocesses

import numpy as np  # noqa: E402
import torch  # noqa: E402
from bench import (  # noqa: E402
    TEXT,
    cpu_slug,
    decoder_bytes_per_step,
    machine,
    memory_bandwidth_gbs,
    reference,
    step_linear_split,
    step_read_seconds,
)

from workbench.core.params import GenerationParams  # noqa: E402
from workbench.engine import autotune, compat, kernels  # noqa: E402
from workbench.engine.cost import PEAK_MARGIN_GB, kv_cache_bytes, peak_bound_gb  # noqa: E402
from workbench.engine.load import load_engine  # noqa: E402

RESULTS = Path(__file__).parent / "results"
STARTED = time.perf_counter()


def say(what: str) -> None:
    """A progress line on stderr (the run takes minutes)."""
    print(f"[{(time.perf_counter() - STARTED) / 60:5.1f} min] {what}", file=sys.stderr, flush=True)


def gaps(stamps: list[float]) -> list[float]:
    return [later - earlier for earlier, later in zip(stamps, stamps[1:])]


def plain_run(engine: Any, steps: int, params: GenerationParams) -> dict[str, Any]:
    """Plain ``model.generate`` on the model as transformers loads it; per-step stamps from a logits processor."""
    from transformers import LogitsProcessor, LogitsProcessorList

    stamps: list[float] = []

    class Stamp(LogitsProcessor):
        def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
            stamps.append(time.perf_counter())
            return scores

    inputs = engine.processor(text=[TEXT], padding=True, return_tensors="pt")
    with reference(engine):
        started = time.perf_counter()
        engine.model.generate(**inputs, do_sample=True, guidance_scale=params.guidance_scale, top_k=params.top_k,
                              max_new_tokens=steps, logits_processor=LogitsProcessorList([Stamp()]))
        wall = time.perf_counter() - started
    return {"call_s": wall, "step_s": statistics.median(gaps(stamps))}


def workbench_run(engine: Any, seeds: list[int], params: GenerationParams) -> dict[str, Any]:
    """The workbench's ``generate`` as loaded; per-step stamps from its progress callback."""
    stamps: list[float] = []
    started = time.perf_counter()
    takes = engine.generate(TEXT, params, seeds, progress=lambda done, total: stamps.append(time.perf_counter()))
    wall = time.perf_counter() - started
    steps = gaps(stamps)
    return {"call_s": wall, "step_s": statistics.median(steps), "steps_s": sum(steps),
            "codes": [take.codes for take in takes]}


def medians(series: dict[str, list[float]]) -> dict[str, dict[str, Any]]:
    """Each series of per-round values as its median and the values themselves."""
    return {name: {"median": statistics.median(values), "runs": values} for name, values in series.items()}


def rounds_in_process(engines: dict[str, Any], seconds: float, rounds: int, batch: int) -> dict[str, Any]:
    """Plain, workbench float32 batch 1 and batch ``batch``, workbench bfloat16 batch 1: alternating rounds."""
    f32 = engines["float32"]
    params = GenerationParams(duration_s=seconds)
    steps = f32.frames_for(seconds) + f32.delay
    cases = {"plain": lambda: plain_run(f32, steps, params),
             "f32": lambda: workbench_run(f32, [1], params),
             f"f32_b{batch}": lambda: workbench_run(f32, list(range(1, batch + 1)), params)}
    if "bfloat16" in engines:
        cases["bf16"] = lambda: workbench_run(engines["bfloat16"], [1], params)
    names = list(cases)
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in names}
    reads: dict[str, list[float]] = {"bandwidth_gbs": [], "f32_weights_read_s": []}
    split: dict[str, list[float]] = {"step_s": [], "linear_s": [], "rest_s": []}
    for index in range(rounds):
        say(f"round {index + 1} of {rounds}")
        reads["bandwidth_gbs"].append(memory_bandwidth_gbs())  # read between rounds, under the rounds' conditions
        reads["f32_weights_read_s"].append(step_read_seconds(f32.model.decoder))
        for name, value in step_linear_split(f32).items():
            split[name].append(value)
        for name in names if index % 2 == 0 else names[::-1]:
            runs[name].append(cases[name]())
    paired = {
        "f32_step_vs_plain": [w["step_s"] / p["step_s"] for w, p in zip(runs["f32"], runs["plain"])],
        "f32_call_vs_plain": [w["call_s"] / p["call_s"] for w, p in zip(runs["f32"], runs["plain"])],
        "batch_speedup": [batch * w["call_s"] / b["call_s"] for w, b in zip(runs["f32"], runs[f"f32_b{batch}"])],
    }
    if "bf16" in runs:
        paired["bf16_step_speedup"] = [w["step_s"] / b["step_s"] for w, b in zip(runs["f32"], runs["bf16"])]
        paired["bf16_call_speedup"] = [w["call_s"] / b["call_s"] for w, b in zip(runs["f32"], runs["bf16"])]
    out: dict[str, Any] = {"seconds": seconds, "steps": steps, "rounds": rounds, "batch": batch, "order": names,
                           "reads": medians(reads), "f32_step_split": medians(split)}
    for name, values in runs.items():
        out[name] = {key: [run[key] for run in values] for key in ("call_s", "step_s")}
        out[name].update({f"median_{key}": statistics.median(out[name][key]) for key in ("call_s", "step_s")})
    out["paired"] = medians(paired)
    # the same seed's codes in every round, and alone the same as in the batch of `batch`
    out["f32_same_every_round"] = all(np.array_equal(r["codes"][0], runs["f32"][0]["codes"][0]) for r in runs["f32"])
    out["f32_alone_equals_batch"] = np.array_equal(runs["f32"][0]["codes"][0], runs[f"f32_b{batch}"][0]["codes"][0])
    batch_steps = statistics.median(r["steps_s"] for r in runs[f"f32_b{batch}"])
    single_steps = statistics.median(r["steps_s"] for r in runs["f32"])
    codes = runs["f32"][0]["codes"][0]
    f32.decode(codes)  # warm
    started = time.perf_counter()
    for _ in range(3):
        f32.decode(codes)
    out["batching"] = {"steps_s_b1": single_steps, f"steps_s_b{batch}": batch_steps,
                       "encodec_decode_s_per_take": (time.perf_counter() - started) / 3,
                       "step_s_b1": out["f32"]["median_step_s"],
                       f"step_s_b{batch}": out[f"f32_b{batch}"]["median_step_s"]}
    return out


def floors(engines: dict[str, Any], bandwidth: float) -> dict[str, Any]:
    """Weight bytes a step reads and the bandwidth floor, per dtype loaded."""
    out = {}
    for dtype, engine in engines.items():
        read = decoder_bytes_per_step(engine.model.decoder)
        out[dtype] = {"decoder_gb": read / 1e9, "floor_step_s": read / 1e9 / bandwidth}
    return out


def agreement(engines: dict[str, Any], seeds: int, seconds: float) -> dict[str, Any]:
    """Codes of each seed alone: every kernel candidate against the reference (per dtype), bfloat16 against
    float32 (each on its chosen kernels); and bfloat16 alone against the same seeds in one batch."""
    params = GenerationParams(duration_s=seconds)
    seed_list = list(range(1, seeds + 1))
    out: dict[str, Any] = {"seeds": seeds, "seconds": seconds}
    chosen: dict[str, dict[int, np.ndarray]] = {}
    for dtype, engine in engines.items():
        say(f"agreement, {dtype}: {seeds} seeds on each kernel candidate")
        per_kind = {}
        for kind in kernels.candidates(engine.model):
            kernels.use(engine.model.decoder, kind)
            per_kind[kind] = {s: engine.generate(TEXT, params, [s])[0].codes for s in seed_list}
        kernels.use(engine.model.decoder, engine.kernel_choice.kernels)
        chosen[dtype] = per_kind[engine.kernel_choice.kernels]
        base = per_kind[kernels.REFERENCE]
        out[f"{dtype}_candidates"] = {kind: sum(np.array_equal(base[s], codes[s]) for s in seed_list)
                                      for kind, codes in per_kind.items() if kind != kernels.REFERENCE}
    if "bfloat16" in chosen:
        a, b = chosen["float32"], chosen["bfloat16"]
        out["bf16_vs_f32"] = {
            "identical_takes": sum(np.array_equal(a[s], b[s]) for s in seed_list),
            "equal_codes_fraction": float(np.mean([np.mean(a[s] == b[s]) for s in seed_list])),
            "first_difference_frames": [int(np.argmax((a[s] != b[s]).any(axis=0))) if not np.array_equal(a[s], b[s])
                                        else None for s in seed_list]}
        batch = engines["bfloat16"].generate(TEXT, params, seed_list[:4])
        out["bf16_alone_equals_batch"] = all(np.array_equal(t.codes, chosen["bfloat16"][t.seed]) for t in batch)
    return out


def process_memory(engine: Any, seconds: float) -> tuple[float, float]:
    """GB of the model's weights (every one, packed ones at their dense size) and of the KV cache of a take of
    ``seconds`` at batch 1 (guided: 2 rows), for the whole processes' peak-memory bound."""
    text_positions = engine.processor(text=[TEXT], return_tensors="pt")["input_ids"].shape[1]
    cache = kv_cache_bytes(engine.model.decoder.config, rows=2, positions=engine.frames_for(seconds) +
                           engine.num_codebooks, encoder_positions=text_positions, itemsize=engine.dtype.itemsize)
    return kernels.weight_bytes(engine.model) / 1e9, cache / 1e9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="random-small")
    parser.add_argument("--seconds", type=float, default=2.0, help="take length of the in-process rounds")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--process-seconds", type=float, default=4.0, help="take length of the whole processes")
    parser.add_argument("--process-rounds", type=int, default=3)
    parser.add_argument("--agreement-seeds", type=int, default=8)
    parser.add_argument("--agreement-seconds", type=float, default=2.0)
    parser.add_argument("--json", type=Path, help="default: benchmarks/results/cpu-check-<cpu>.json")
    args = parser.parse_args()
    started = time.perf_counter()
    cpu = compat.cpu_info()
    result: dict[str, Any] = {
        "cpu_check": True, "model": args.model, "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": "python benchmarks/cpu_check.py " + " ".join(sys.argv[1:]),
        "machine": {**machine(torch.get_num_threads()), "cpu": cpu.name,
                    "capability": torch.backends.cpu.get_cpu_capability(), "bf16_fast_path": compat.bf16_fast_path(),
                    "amx": "amx_bf16" in cpu.flags, "avx512_bf16": "avx512_bf16" in cpu.flags}}
    engines: dict[str, Any] = {}
    loads = {}
    for dtype in ("float32", "bfloat16") if result["machine"]["bf16_fast_path"] else ("float32",):
        say(f"loading {args.model} in {dtype} (kernels measured at load)")
        began = time.perf_counter()
        engines[dtype] = load_engine(args.model, device="cpu", dtype=dtype)  # auto: measured into the fresh cache
        loads[dtype] = {"load_s": time.perf_counter() - began, **engines[dtype].kernel_choice.record()}
    result["loads"] = loads
    result["rounds"] = rounds_in_process(engines, args.seconds, args.rounds, args.batch)
    result["bandwidth_gbs"] = result["rounds"]["reads"]["bandwidth_gbs"]["median"]
    result["floors"] = floors(engines, result["bandwidth_gbs"])
    result["agreement"] = agreement(engines, args.agreement_seeds, args.agreement_seconds)
    say("timing a first load's kernel measurement again")
    began = time.perf_counter()
    autotune.choose_kernels(engines["float32"], refresh=True)
    result["first_load_measurement_s"] = time.perf_counter() - began
    weights_gb, cache_gb = process_memory(engines["float32"], args.process_seconds)
    del engines
    say(f"whole processes: {args.process_rounds} rounds of workbench generate and the plain script, then one profiled")
    # from a lean process: a child's peak RSS (wait4) starts at its parent's RSS when forked
    done = subprocess.run([sys.executable, str(Path(__file__).with_name("cpu_process.py")), "--model", args.model,
                           "--seconds", str(args.process_seconds), "--rounds", str(args.process_rounds),
                           "--weights-gb", str(weights_gb)], capture_output=True, text=True, check=True)
    result["process"] = json.loads(done.stdout)
    result["process"].update(cache_gb=cache_gb, peak_margin_gb=PEAK_MARGIN_GB,
                             peak_bound_gb=peak_bound_gb(int(weights_gb * 1e9), int(cache_gb * 1e9)))
    result["total_s"] = time.perf_counter() - started
    path = args.json or RESULTS / f"cpu-check-{cpu_slug(cpu.name)}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {path} ({result['total_s'] / 60:.1f} min)")


if __name__ == "__main__":
    main()
