"""Takes per minute on a local Ray instance with 1 vs 2 model actors (built-in tiny model by default).

    python benchmarks/ray_scaling.py --entries 12 --seeds 2 --duration 4 --workers 1,2
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

from workbench.library.prompts import parse_library  # noqa: E402
from workbench.render.batch import plan_jobs, render_jobs  # noqa: E402
from workbench.render.distributed import RayRunner  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="tiny")
    parser.add_argument("--entries", type=int, default=8)
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--duration", type=float, default=2.0)
    parser.add_argument("--batch-size", type=int, default=2)
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    text = "\n".join(f'[[prompt]]\nid = "e{i}"\ntext = "style {i}, bass and drums, {90 + i} BPM"\n'
                     for i in range(args.entries))
    results = []
    for workers in [int(w) for w in args.workers.split(",")]:
        with tempfile.TemporaryDirectory() as folder:
            source = Path(folder) / "bench.toml"
            source.write_text(text)
            prompts = parse_library(text, source=source).prompts
            jobs = plan_jobs(prompts, Path(folder) / "out", seeds=list(range(1, args.seeds + 1)), model=args.model,
                             duration_s=args.duration)
            stamps: list[float] = []
            started = time.perf_counter()
            result = render_jobs(jobs, Path(folder) / "out", runner=RayRunner(workers=workers),
                                 batch_size=args.batch_size,
                                 on_take=lambda update, stamps=stamps: stamps.append(time.perf_counter()))
            wall = time.perf_counter() - started
            assert result.ok and len(result.done) == len(jobs)
            first = stamps[0] - started  # Ray start-up, actor start and model loading, plus the first pass
            results.append({"workers": workers, "takes": len(jobs), "wall_s": wall, "first_take_s": first,
                            "takes_per_min_total": 60 * len(jobs) / wall})
            print(json.dumps(results[-1]))
    base = results[0]["takes_per_min_total"]
    for row in results:
        row["speedup_vs_first"] = row["takes_per_min_total"] / base
    if args.json:
        args.json.write_text(json.dumps({"args": vars(args) | {"json": str(args.json)}, "results": results}, indent=2))


if __name__ == "__main__":
    main()
