"""Benchmark harness: the workbench vs plain transformers, batching, preview latency, scaling.

Runs on models built from config with random weights (no download): ``tiny`` and ``random-small``
(musicgen-small's real architecture). Every ratio is measured side by side in the same run, each figure
as the median of ``--repeats`` runs with min/max. Writes a JSON file; ``benchmarks/report.py`` turns
result files into ``docs/benchmarks.md`` and its plot.

    python benchmarks/bench.py --model random-small --seconds 2 --repeats 3 --sweep \
        --json benchmarks/results/random-small.json
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

import psutil  # noqa: E402
import torch  # noqa: E402
from texts import TEXT  # noqa: E402, F401 - cpu_check imports it from here too

from workbench.core.params import GenerationParams  # noqa: E402
from workbench.engine import autotune  # noqa: E402
from workbench.engine.engine import MusicgenEngine as Engine
from workbench.engine.kernels import PackedLinear, reference_kernels  # noqa: E402
from workbench.engine.load import load_engine  # noqa: E402


class PeakRSS:
    """Polls the process RSS in a thread; ``peak`` is the highest value seen (bytes)."""

    def __init__(self, every_s: float = 0.05) -> None:
        self.every, self.peak, self._stop = every_s, 0, threading.Event()
        self._process = psutil.Process()

    def __enter__(self) -> PeakRSS:
        self.peak = self._process.memory_info().rss
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()
        return self

    def _poll(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._process.memory_info().rss)
            time.sleep(self.every)

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def summary(walls: list[float]) -> dict[str, Any]:
    """Median/min/max of wall times (seconds), with the runs themselves."""
    return {"median_s": statistics.median(walls), "min_s": min(walls), "max_s": max(walls), "runs": walls}


def measure(fn: Callable[[], Any], repeats: int) -> dict[str, Any]:
    """Median/min/max wall seconds and the peak RSS over ``repeats`` calls of ``fn``."""
    walls = []
    with PeakRSS() as rss:
        for _ in range(repeats):
            started = time.perf_counter()
            fn()
            walls.append(time.perf_counter() - started)
    return {**summary(walls), "peak_rss_gb": rss.peak / 1e9}


def merge(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """One measurement from several single-run measurements."""
    return {**summary([w for part in parts for w in part["runs"]]),
            "peak_rss_gb": max(part["peak_rss_gb"] for part in parts)}


def plain_generate(engine: Engine, batch: int, steps: int, params: GenerationParams) -> Callable[[], Any]:
    """What a user writes by hand: processor + ``model.generate(do_sample=True)`` (global RNG).

    Run it inside :func:`reference` so that the model is what ``from_pretrained`` gives a user.
    """
    inputs = engine.processor(text=[TEXT] * batch, padding=True, return_tensors="pt").to(engine.device)

    def run() -> Any:
        return engine.model.generate(**inputs, do_sample=True, guidance_scale=params.guidance_scale,
                                     top_k=params.top_k, max_new_tokens=steps)

    return run


def workbench_generate(engine: Engine, seeds: list[int], params: GenerationParams) -> Callable[[], Any]:
    return lambda: engine.generate(TEXT, params, seeds)


@contextlib.contextmanager
def configured(engine: Engine, *, packed: bool, preallocated: bool) -> Iterator[None]:
    """Run a block with the workbench's optimisations switched on or off (restored afterwards)."""
    was = engine.preallocate_cache
    engine.preallocate_cache = preallocated
    try:
        if packed:
            yield
        else:
            with reference_kernels(engine.model.decoder):
                yield
    finally:
        engine.preallocate_cache = was


def reference(engine: Engine) -> contextlib.AbstractContextManager[None]:
    """The model as transformers loads it: PyTorch's kernels, transformers' own KV cache."""
    return configured(engine, packed=False, preallocated=False)


def cpu_slug(name: str) -> str:
    """A CPU's name as a results file's name part (``AMD EPYC`` -> ``amd-epyc``)."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "cpu"


def step_weight_sizes(decoder: torch.nn.Module) -> list[tuple[int, torch.dtype]]:
    """``(elements, dtype)`` of each weight tensor a decoding step reads, in the decoder's order: every linear layer
    and norm, except the cross-attention key/value projections (computed once per pass) and the embedding tables
    (a few rows per step)."""
    sizes = []
    for name, module in decoder.named_modules():
        if name.endswith(("encoder_attn.k_proj", "encoder_attn.v_proj")) or isinstance(module, torch.nn.Embedding):
            continue
        if isinstance(module, PackedLinear):
            sizes.append((module.in_features * module.out_features, module.weight_dtype))
            if module.bias is not None:
                sizes.append((module.bias.numel(), module.bias.dtype))
        else:
            sizes += [(p.numel(), p.dtype) for p in module.parameters(recurse=False)]
    return sizes


def decoder_bytes_per_step(decoder: torch.nn.Module) -> int:
    """Weight bytes a decoding step reads (:func:`step_weight_sizes`)."""
    return sum(count * dtype.itemsize for count, dtype in step_weight_sizes(decoder))


def step_read_seconds(decoder: torch.nn.Module, repeats: int = 5) -> float:
    """Seconds to read, by summing each (the fastest read PyTorch has), tensors of the sizes and dtypes a decoding
    step reads, one after another as a step does: what reading a step's weights alone costs here (best of
    ``repeats``)."""
    tensors = [torch.ones(count, dtype=dtype) for count, dtype in step_weight_sizes(decoder)]
    return best_seconds(lambda: [tensor.sum() for tensor in tensors], repeats)


def step_linear_split(engine: Engine, steps: int = 20) -> dict[str, float]:
    """Where a decoding step's time goes: ``steps`` steps of one pass at batch 1 with guidance on the decoder's
    current kernels, every linear layer's forward timed by hooks; medians per step of the whole step, its linear
    layers and the rest (attention, norms, sampling, Python). The hooks add a little to both; time steps without
    them elsewhere."""
    inside = [0.0]
    started: dict[int, float] = {}
    linear_at: list[float] = []

    def before(module: torch.nn.Module, args: Any) -> None:
        started[id(module)] = time.perf_counter()

    def after(module: torch.nn.Module, args: Any, output: Any) -> None:
        inside[0] += time.perf_counter() - started.pop(id(module))

    def timer() -> float:
        linear_at.append(inside[0])
        return time.perf_counter()

    linears = [layer for layer in engine.model.decoder.modules() if isinstance(layer, (torch.nn.Linear, PackedLinear))]
    handles = [layer.register_forward_pre_hook(before) for layer in linears]
    handles += [layer.register_forward_hook(after) for layer in linears]
    try:
        with torch.inference_mode():
            whole = autotune.step_times(engine, steps, timer=timer)
    finally:
        for handle in handles:
            handle.remove()
    linear = [later - earlier for earlier, later in zip(linear_at, linear_at[1:])][:steps]
    return {"step_s": statistics.median(whole), "linear_s": statistics.median(linear),
            "rest_s": statistics.median(w - li for w, li in zip(whole, linear))}


def best_seconds(fn: Callable[[], Any], repeats: int) -> float:
    """The fastest of ``repeats`` timed calls of ``fn``, after one untimed call (warm caches, allocator)."""
    fn()
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - started)
    return best


def memory_bandwidth_gbs(gigabytes: float = 1.0) -> float:
    """Read bandwidth (GB/s) from summing a large float32 tensor: the floor a memory-bound step can reach."""
    data = torch.ones(int(gigabytes * 1e9 / 4))
    return data.numel() * 4 / best_seconds(data.sum, 10) / 1e9


def text_rows_encoded(engine: Engine, fn: Callable[[], Any]) -> int:
    """Rows the text encoder processed during ``fn`` (forward hook)."""
    rows: list[int] = []
    handle = engine.model.text_encoder.register_forward_pre_hook(
        lambda module, args, kwargs: rows.append(int(kwargs["input_ids"].shape[0])), with_kwargs=True)
    try:
        fn()
    finally:
        handle.remove()
    return sum(rows)


def step_times(engine: Engine, seconds: float, batch: int) -> list[float]:
    """Seconds per decoding step, step by step, for one take of ``seconds`` (from the progress callback)."""
    stamps: list[float] = []
    engine.generate(TEXT, GenerationParams(duration_s=seconds), list(range(batch)),
                    progress=lambda done, total: stamps.append(time.perf_counter()))
    return [b - a for a, b in zip(stamps, stamps[1:])]


def preview_latency(engine: Engine, seconds: float) -> dict[str, float]:
    """Time to the first preview chunk vs the full render, for one take."""
    first: list[float] = []
    started = time.perf_counter()
    engine.generate(TEXT, GenerationParams(duration_s=seconds), [1],
                    preview=lambda chunks: first.append(time.perf_counter() - started) if not first else None)
    total = time.perf_counter() - started
    return {"seconds": seconds, "first_audio_s": first[0], "full_render_s": total, "ratio": first[0] / total}


def core(engine: Engine, seconds: float, repeats: int, batch: int) -> dict[str, Any]:
    params = GenerationParams(duration_s=seconds)
    steps = engine.frames_for(seconds) + engine.delay
    out: dict[str, Any] = {"seconds": seconds, "steps": steps, "batch": batch}
    # interleaved (plain, workbench on the reference kernels, workbench, batched) rounds: drift of the machine
    # hits all four alike. The overhead compares the first two (the same kernels and cache, so it is the cost of
    # the workbench's own loop and per-take sampling); the speed-up compares plain with the workbench as loaded.
    plain_fn, work_fn = plain_generate(engine, 1, steps, params), workbench_generate(engine, [1], params)
    batch_fn = workbench_generate(engine, list(range(1, batch + 1)), params)
    bandwidths = [memory_bandwidth_gbs()]  # measured before and after the timed runs; the best counts
    rounds = []
    for _ in range(repeats):
        with reference(engine):
            plain, same_kernels = measure(plain_fn, 1), measure(work_fn, 1)
        rounds.append((plain, measure(work_fn, 1), measure(batch_fn, 1), same_kernels))
    plain1, work1, workn, work_ref = (merge([r[i] for r in rounds]) for i in range(4))
    out["plain_b1"], out["workbench_b1"], out[f"workbench_b{batch}"] = plain1, work1, workn
    out["workbench_reference_b1"] = work_ref
    out["overhead_vs_plain"] = statistics.median(r["median_s"] / p["median_s"] for p, _, _, r in rounds) - 1
    out["speedup_vs_plain"] = statistics.median(p["median_s"] / w["median_s"] for p, w, _, _ in rounds)
    out["batch_speedup"] = statistics.median(batch * w["median_s"] / b["median_s"] for _, w, b, _ in rounds)
    out["call_s_per_step_b1"] = work1["median_s"] / steps
    # a decoder step alone (no text encoding, no EnCodec decode): median gap between progress callbacks
    out["step_s_b1"] = statistics.median(t for _ in range(repeats) for t in step_times(engine, seconds, 1))
    out["x_realtime_b1"] = work1["median_s"] / seconds
    out["takes_per_min_b1"] = 60 / work1["median_s"]
    out[f"takes_per_min_b{batch}"] = 60 * batch / workn["median_s"]
    with reference(engine):
        plain_rows = text_rows_encoded(engine, plain_generate(engine, batch, steps, params))
    out["text_rows"] = {
        "workbench": text_rows_encoded(engine, workbench_generate(engine, list(range(batch)), params)),
        "plain": plain_rows,
    }
    decoder_bytes = decoder_bytes_per_step(engine.model.decoder)
    bandwidth = max(bandwidths + [memory_bandwidth_gbs()])
    out["decoder_gb"] = decoder_bytes / 1e9
    out["bandwidth_gbs"] = bandwidth
    out["floor_step_s"] = decoder_bytes / 1e9 / bandwidth
    out["step_vs_floor"] = out["step_s_b1"] / out["floor_step_s"]
    return out


#: The workbench with its optimisations added one at a time: (label, packed kernels, preallocated cache).
CONFIGS = [("reference: torch kernels, transformers cache", False, False),
           ("+ packed oneDNN kernels", True, False),
           ("+ preallocated KV cache", True, True)]


def ablation(engine: Engine, seconds: float, repeats: int, batches: tuple[int, ...],
             configs: list[tuple[str, bool, bool]] = CONFIGS) -> dict[str, Any]:
    """Workbench ``generate`` per configuration and batch size, in interleaved rounds; speed-ups vs the first
    configuration are medians of the per-round ratios. Also checks that every configuration made the same codes."""
    params = GenerationParams(duration_s=seconds)
    walls: dict[tuple[str, int], list[float]] = {}
    codes: dict[tuple[str, int], list[str]] = {}
    for _ in range(repeats):
        for batch in batches:
            for label, packed, preallocated in configs:
                with configured(engine, packed=packed, preallocated=preallocated):
                    started = time.perf_counter()
                    takes = engine.generate(TEXT, params, list(range(1, batch + 1)))
                    walls.setdefault((label, batch), []).append(time.perf_counter() - started)
                codes.setdefault((label, batch), []).append("".join(t.codes_sha256 for t in takes))
    rows = []
    for batch in batches:
        base = walls[(configs[0][0], batch)]
        for label, _, _ in configs:
            runs = walls[(label, batch)]
            rows.append({"config": label, "batch": batch, **summary(runs),
                         "speedup": statistics.median(b / r for b, r in zip(base, runs))})
    same = all(len({*codes[(label, batch)], *codes[(configs[0][0], batch)]}) == 1
               for label, _, _ in configs for batch in batches)
    return {"seconds": seconds, "rows": rows, "identical_codes": same}


def memory_probe(model: str, seconds: float, low_memory: bool, batch: int) -> dict[str, float]:
    """In a fresh process: RSS between takes, while decoding (last step) and at peak during one take (GB)."""
    process = psutil.Process()
    engine = load_engine(model, low_memory=low_memory)
    engine.generate(TEXT, GenerationParams(duration_s=0.2), [0])  # warm: allocator pools, spill file written
    idle = process.memory_info().rss
    decoding: list[int] = []

    def on_step(done: int, total: int) -> None:
        if done == total:
            decoding.append(process.memory_info().rss)

    started = time.perf_counter()
    with PeakRSS(every_s=0.01) as rss:
        engine.generate(TEXT, GenerationParams(duration_s=seconds), list(range(1, batch + 1)), progress=on_step)
    return {"idle_gb": idle / 1e9, "decoding_gb": decoding[-1] / 1e9, "peak_gb": rss.peak / 1e9,
            "take_s": time.perf_counter() - started}


def low_memory(model: str, seconds: float, batch: int) -> dict[str, Any]:
    """``--low-memory`` vs the default, each in its own process (RSS is per process), timed the same way."""
    out: dict[str, Any] = {"seconds": seconds, "batch": batch}
    for mode in ("default", "low"):
        done = subprocess.run([sys.executable, __file__, "--model", model, "--memory-probe", mode,
                               "--seconds", str(seconds), "--batch", str(batch), "--json", os.devnull],
                              capture_output=True, text=True, check=True)
        out[mode] = json.loads(done.stdout.strip().splitlines()[-1])
    return out


def sweep(engine: Engine, durations: list[float], batches: list[int], base_seconds: float) -> dict[str, Any]:
    out: dict[str, Any] = {"duration": [], "batch": []}
    for seconds in durations:
        with PeakRSS() as rss:
            times = step_times(engine, seconds, 1)
        out["duration"].append({"seconds": seconds, "wall_s": sum(times), "step_times": times,
                                "peak_rss_gb": rss.peak / 1e9})
    for batch in batches:
        with PeakRSS() as rss:
            started = time.perf_counter()
            engine.generate(TEXT, GenerationParams(duration_s=base_seconds), list(range(batch)))
            wall = time.perf_counter() - started
        out["batch"].append({"batch": batch, "wall_s": wall, "takes_per_min": 60 * batch / wall,
                             "peak_rss_gb": rss.peak / 1e9})
    longest = max(out["duration"], key=lambda d: d["seconds"])["step_times"]
    x = list(range(len(longest)))
    slope, intercept = statistics.linear_regression(x, longest)
    steps_30 = 1500 + engine.delay
    out["fit"] = {"intercept_s": intercept, "slope_s_per_step": slope,
                  "predicted_30s_wall_s": sum(intercept + slope * i for i in range(steps_30))}
    return out


def machine(threads: int) -> dict[str, Any]:
    import transformers

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "threads": threads, "ram_gb": psutil.virtual_memory().total / 1e9,
            "python": platform.python_version(), "torch": torch.__version__, "transformers": transformers.__version__}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="random-small", help="tiny or random-small (built from config)")
    parser.add_argument("--seconds", type=float, default=2.0, help="audio seconds per take for the core ratios")
    parser.add_argument("--batch", type=int, default=4, help="seeds in one pass for the batching ratio")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--dtype", default=None)
    parser.add_argument("--preview-seconds", type=float, default=8.0, help="take length for time-to-first-audio")
    parser.add_argument("--sweep", action="store_true", help="also the duration / batch-size scaling table")
    parser.add_argument("--durations", default="2,5,10")
    parser.add_argument("--batches", default="1,2,4,8")
    parser.add_argument("--ablation", action="store_true",
                        help="also time each optimisation on its own (batch 1 and --batch)")
    parser.add_argument("--cache-seconds", type=float, default=10.0,
                        help="take length for the KV-cache comparison of --ablation")
    parser.add_argument("--low-memory", action="store_true",
                        help="also compare RSS with and without --low-memory (two fresh processes)")
    parser.add_argument("--memory-seconds", type=float, default=10.0, help="take length for --low-memory")
    parser.add_argument("--memory-probe", choices=["default", "low"], help=argparse.SUPPRESS)
    parser.add_argument("--json", type=Path, required=True, help="results file (benchmarks/report.py reads it)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)  # the harness owns its process: threads are a benchmark setting
    if args.memory_probe:
        print(json.dumps(memory_probe(args.model, args.seconds, args.memory_probe == "low", args.batch)))
        return
    started = time.perf_counter()
    engine = load_engine(args.model, device=args.device, dtype=args.dtype)
    result: dict[str, Any] = {
        "model": args.model, "kernels": engine.kernels, "device": str(engine.device),
        "dtype": str(engine.dtype).removeprefix("torch."),
        "date": datetime.now(UTC).isoformat(timespec="seconds"), "machine": machine(args.threads),
        "command": "python benchmarks/bench.py " + " ".join(os.sys.argv[1:]),
        "build_s": time.perf_counter() - started,
    }
    result["core"] = core(engine, args.seconds, args.repeats, args.batch)
    result["preview"] = preview_latency(engine, args.preview_seconds)
    if args.ablation:
        result["ablation"] = ablation(engine, args.seconds, args.repeats, (1, args.batch))
        # the cache's gain grows with the take: compare it alone on a longer one
        result["ablation_long"] = ablation(engine, args.cache_seconds, 2, (args.batch,), CONFIGS[1:])
    if args.sweep:
        result["sweep"] = sweep(engine, [float(d) for d in args.durations.split(",")],
                                [int(b) for b in args.batches.split(",")], args.seconds)
    if args.low_memory:
        result["low_memory"] = low_memory(args.model, args.memory_seconds, args.batch)
    result["total_s"] = time.perf_counter() - started
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2))
    print(json.dumps({k: v for k, v in result["core"].items() if not isinstance(v, dict)}, indent=2))


if __name__ == "__main__":
    main()
