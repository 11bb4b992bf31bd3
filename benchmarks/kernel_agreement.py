"""How often the packed CPU kernels give exactly the codes of PyTorch's default kernels, take by take.

The packed oneDNN kernels sum in another order than MKL's ``sgemm``, so logits differ in their last bits; a token
whose winning margin is smaller than that flips, and the take diverges from there. This renders every seed alone
(batch of one) on both kernels and counts identical takes; for the others it records the first differing frame.

    python benchmarks/kernel_agreement.py --model random-small --seeds 20 --seconds 2 \\
        --json benchmarks/results/kernel-agreement.json
"""

from __future__ import annotations

import argparse
import json
import os
import time
from datetime import UTC, datetime
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

import numpy as np  # noqa: E402
import torch  # noqa: E402

from workbench.core.params import GenerationParams  # noqa: E402
from workbench.engine import kernels  # noqa: E402
from workbench.engine.load import load_engine  # noqa: E402
from workbench.render.reproduce import first_difference  # noqa: E402

TEXT = "80s synthwave, night drive, pulsing bass arpeggio, gated drums, 110 BPM"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="random-small")
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--json", type=Path, required=True)
    args = parser.parse_args()
    from bench import machine  # noqa: PLC0415 - the shared machine description

    started = time.perf_counter()
    engine = load_engine(args.model, kernels=kernels.PACKED)
    params = GenerationParams(duration_s=args.seconds)
    seeds = list(range(1, args.seeds + 1))
    packed = {seed: engine.generate(TEXT, params, [seed])[0].codes for seed in seeds}
    with kernels.reference_kernels(engine.model.decoder):
        reference = {seed: engine.generate(TEXT, params, [seed])[0].codes for seed in seeds}
    rows = []
    for seed in seeds:
        first = first_difference(reference[seed], packed[seed])
        rows.append({"seed": seed, "identical": bool(np.array_equal(reference[seed], packed[seed])),
                     "first_difference": None if first is None else {"frame": first[0], "codebook": first[1]}})
    identical = sum(row["identical"] for row in rows)
    result = {"date": datetime.now(UTC).isoformat(timespec="seconds"), "model": args.model,
              "command": "python benchmarks/kernel_agreement.py " + " ".join(os.sys.argv[1:]),
              "machine": machine(torch.get_num_threads()), "seconds": args.seconds,
              "frames": engine.frames_for(args.seconds),
              "takes": len(rows), "identical": identical, "rows": rows, "total_s": time.perf_counter() - started}
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2) + "\n")
    print(f"{identical}/{len(rows)} takes identical on {args.model} ({args.seconds:g} s each)")


if __name__ == "__main__":
    main()
