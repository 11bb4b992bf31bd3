"""How far a take's stems are from summing back to it: built-in ``tiny`` takes split with Demucs' offline test model.

Records, per take length, what :func:`workbench.render.stems.split_take` measures and writes into every stem's
sidecar: the separator's own residual (dB relative to the take) and the written stems' sum against the take's
audio file (largest sample difference, RMS in dB), with the wall time of the split. The test model has random
weights: its residual says nothing of a real model's; the sum's error is what the written files hold to.

    python benchmarks/stems.py --json benchmarks/results/stems.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from tempo_key import cpu_model  # benchmarks/ is the script's folder: its first path entry

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def main() -> None:
    from workbench.analysis.separate import TEST_MODEL
    from workbench.core.params import GenerationParams
    from workbench.engine.load import load_engine
    from workbench.render.stems import SUM_TOLERANCE, split_take
    from workbench.store.stems import read_stem_sidecar
    from workbench.store.takes import save_take

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, default=Path("benchmarks/results/stems.json"))
    args = parser.parse_args()
    engine = load_engine("tiny", device="cpu")
    runs = []
    with tempfile.TemporaryDirectory() as folder:
        for seconds, seed in ((2.0, 1), (5.0, 2), (10.0, 3)):
            take = engine.generate("lofi piano", GenerationParams(duration_s=seconds), [seed])[0]
            save_take(take, Path(folder) / f"s{seed}.wav")
            start = time.perf_counter()
            split = split_take(Path(folder) / f"s{seed}.json", model=TEST_MODEL)
            wall = time.perf_counter() - start
            recorded = read_stem_sidecar(split.sidecars["drums"])["sum"]
            runs.append({"seconds": seconds, "samples": take.num_samples, "split_wall_s": round(wall, 3),
                         **recorded, "within_tolerance": recorded["max_abs_error"] <= SUM_TOLERANCE})
    result = {"what": "tiny takes split by Demucs' test model; the stems' sum against the take (read back)",
              "date": datetime.now(UTC).isoformat(timespec="seconds"), "cpu": cpu_model(),
              "python": platform.python_version(), "model": TEST_MODEL, "sum_tolerance": SUM_TOLERANCE,
              "load_average_1min": round(os.getloadavg()[0], 2), "runs": runs}
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
