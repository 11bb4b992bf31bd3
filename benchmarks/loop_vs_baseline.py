"""The workbench's decoding loop against a baseline engine (another checkout), side by side in one run.

Two worker processes load the same built-in model, one from this checkout and one from ``--baseline`` (a git
worktree of an earlier commit, with its own ``--baseline-path`` entries first on ``sys.path``, e.g. the
transformers release it needs). They never run at the same time: each round runs every case on the baseline,
then on this checkout, so drift of the machine hits both alike. Ratios are medians of per-round ratios.

For each case: the whole call (text encoding, decoding, EnCodec decode), the median decoding step (gap
between progress callbacks), the decoder's forwards (counted and timed with forward hooks in the worker:
the forwards beyond one per step are repeated prefills) and the prefill time, and the codes' hash (both
engines must agree).

    git worktree add /tmp/baseline 0afa804
    pip install --no-deps --target /tmp/tf523 transformers==5.23.0
    python benchmarks/loop_vs_baseline.py --baseline /tmp/baseline --baseline-path /tmp/tf523 \\
        --json benchmarks/results/loop-vs-generate.json
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

TEXT = "80s synthwave, night drive, pulsing bass arpeggio, gated drums, 110 BPM"
HERE = Path(__file__).resolve()


def worker(model: str) -> None:
    """Serve cases read as JSON lines on stdin; answer one JSON line each on stdout."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    import numpy as np
    import torch
    import transformers

    import workbench
    from workbench.core.params import GenerationParams
    from workbench.engine.load import load_engine

    engine = load_engine(model)
    forwards: list[float] = []  # seconds of every decoder forward of a call
    started_at: list[float] = []

    def before(module: Any, args: Any, kwargs: dict[str, Any]) -> None:
        started_at.append(time.perf_counter())

    def after(module: Any, args: Any, kwargs: dict[str, Any], output: Any) -> None:
        forwards.append(time.perf_counter() - started_at.pop())

    engine.model.decoder.register_forward_pre_hook(before, with_kwargs=True)
    engine.model.decoder.register_forward_hook(after, with_kwargs=True)
    engine.generate(TEXT, GenerationParams(duration_s=0.2), [1])  # warm up
    checkout = Path(workbench.__file__).resolve().parent.parent
    commit = subprocess.run(["git", "-C", str(checkout), "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip()
    print(json.dumps({"ready": True, "workbench": str(checkout), "commit": commit,
                      "transformers": transformers.__version__, "torch": torch.__version__,
                      "kernels": engine.kernels}), flush=True)
    for line in sys.stdin:
        case = json.loads(line)
        params = GenerationParams(duration_s=case["seconds"])
        prompt = None
        if case["prompt_s"]:
            frames = engine.frames_for(case["prompt_s"])
            prompt = np.random.default_rng(0).integers(0, engine.info.codebook_size, (engine.num_codebooks, frames))
        stamps: list[float] = []
        forwards.clear()
        started = time.perf_counter()
        takes = engine.generate(TEXT, params, list(range(1, case["batch"] + 1)), prompt_codes=prompt,
                                progress=lambda done, total, stamps=stamps: stamps.append(time.perf_counter()))
        whole = time.perf_counter() - started
        gaps = [b - a for a, b in zip(stamps, stamps[1:])]
        prefills = len(forwards) - len(stamps) + 1  # a one-window call needs one prefill; more are repeats
        print(json.dumps({"whole_s": whole, "step_s": statistics.median(gaps), "steps": len(stamps),
                          "forwards": len(forwards), "prefills": prefills, "prefill_s": sum(forwards[:prefills]),
                          "codes": "".join(t.codes_sha256[:16] for t in takes)}), flush=True)


class Worker:
    def __init__(self, label: str, model: str, path: list[str]) -> None:
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(path), HF_HUB_OFFLINE="1")
        self.label = label
        self.process = subprocess.Popen([sys.executable, str(HERE), "--worker", model], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, text=True, env=env)
        self.info = self._read()

    def _read(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"the {self.label} worker died (see its stderr above)")
        return json.loads(line)

    def run(self, case: dict[str, Any]) -> dict[str, Any]:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(case) + "\n")
        self.process.stdin.flush()
        return self._read()

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        self.process.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--baseline", type=Path, help="checkout of the baseline engine (a git worktree)")
    parser.add_argument("--baseline-path", action="append", default=[],
                        help="extra sys.path entries for the baseline, first (e.g. its transformers)")
    parser.add_argument("--model", default="random-small")
    parser.add_argument("--seconds", type=float, default=2.0, help="audio seconds per take")
    parser.add_argument("--batches", default="1,4")
    parser.add_argument("--prompt-seconds", type=float, default=5.0,
                        help="also a continuation of this many seconds (batch 1; 0: skip)")
    parser.add_argument("--long-seconds", type=float, default=10.0, help="also one longer take at the largest batch")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", type=Path, help="results file")
    args = parser.parse_args()
    if args.worker:
        worker(args.worker)
        return
    if args.baseline is None or args.json is None:
        parser.error("--baseline and --json are required")
    batches = [int(b) for b in args.batches.split(",")]
    cases = [{"name": f"text, batch {b}", "batch": b, "seconds": args.seconds, "prompt_s": 0} for b in batches]
    if args.prompt_seconds:
        cases.append({"name": f"continuation of {args.prompt_seconds:g} s, batch 1", "batch": 1,
                      "seconds": args.seconds, "prompt_s": args.prompt_seconds})
    if args.long_seconds:
        cases.append({"name": f"text {args.long_seconds:g} s, batch {max(batches)}", "batch": max(batches),
                      "seconds": args.long_seconds, "prompt_s": 0, "repeats": max(1, args.repeats - 1)})
    started = time.perf_counter()
    workers = {"baseline": Worker("baseline", args.model, [*args.baseline_path, str(args.baseline.resolve())]),
               "loop": Worker("loop", args.model, [str(HERE.parent.parent)])}
    runs: dict[str, dict[str, list[dict[str, Any]]]] = {c["name"]: {"baseline": [], "loop": []} for c in cases}
    try:
        for round_ in range(args.repeats):
            for case in cases:
                if round_ >= case.get("repeats", args.repeats):
                    continue
                for label, w in workers.items():
                    runs[case["name"]][label].append(w.run(case))
                    print(f"round {round_ + 1} {case['name']:32s} {label:8s} "
                          f"{runs[case['name']][label][-1]['whole_s']:7.2f} s", flush=True)
    finally:
        for w in workers.values():
            w.close()
    rows = []
    for case in cases:
        base, loop = runs[case["name"]]["baseline"], runs[case["name"]]["loop"]
        rows.append({
            "case": case["name"], "batch": case["batch"], "seconds": case["seconds"], "prompt_s": case["prompt_s"],
            "rounds": len(loop),
            "baseline_whole_s": statistics.median(r["whole_s"] for r in base),
            "loop_whole_s": statistics.median(r["whole_s"] for r in loop),
            "whole_ratio": statistics.median(lo["whole_s"] / b["whole_s"] for b, lo in zip(base, loop)),
            "baseline_step_s": statistics.median(r["step_s"] for r in base),
            "loop_step_s": statistics.median(r["step_s"] for r in loop),
            "step_ratio": statistics.median(lo["step_s"] / b["step_s"] for b, lo in zip(base, loop)),
            "baseline_prefills": base[-1]["prefills"], "loop_prefills": loop[-1]["prefills"],
            "baseline_prefill_s": statistics.median(r["prefill_s"] for r in base),
            "loop_prefill_s": statistics.median(r["prefill_s"] for r in loop),
            "identical_codes": len({r["codes"] for r in base + loop}) == 1,
        })
    from bench import machine  # noqa: PLC0415 - the shared machine description

    result = {"date": datetime.now(UTC).isoformat(timespec="seconds"), "model": args.model,
              "command": "python benchmarks/loop_vs_baseline.py " + " ".join(sys.argv[1:]),
              "machine": machine(int(os.environ.get("OMP_NUM_THREADS", "0")) or os.cpu_count() or 1),
              "baseline": workers["baseline"].info, "loop": workers["loop"].info, "rows": rows,
              "total_s": time.perf_counter() - started}
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2) + "\n")
    for row in rows:
        print(f"{row['case']:34s} whole {row['whole_ratio']:.3f}x  step {row['step_ratio']:.3f}x  prefills "
              f"{row['baseline_prefills']}->{row['loop_prefills']}  identical={row['identical_codes']}")


if __name__ == "__main__":
    main()
