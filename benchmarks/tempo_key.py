"""Tempo and key measurement on synthetic music of known tempo and key: accuracy, "unknown" on noise, and cost.

Runs :func:`workbench.analysis.tempo_key.measure` (librosa's beat tracker, Temperley's key profiles) on the 48
cases of :mod:`workbench.analysis.synthetic` (12 tempi from 60 to 180 BPM x 2 cadences x 2 modes, 10 s each, the
tonics spread over all 12); the same chroma against Krumhansl-Kessler's profiles; and, when it imports (it is not
a dependency: AGPL-3.0), essentia's RhythmExtractor2013 and KeyExtractor on the same audio. Then noise (white,
pink, brown; 4 to 20 s), which should come out unknown, and the cost per take.

    pip install --no-deps --target /tmp/esslib essentia==2.1b6.dev1389   # optional, for the comparison
    PYTHONPATH=/tmp/esslib python benchmarks/tempo_key.py --json benchmarks/results/tempo-key.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from workbench.analysis import synthetic
from workbench.analysis.tempo_key import KRUMHANSL, best_key, chroma_profile, measure, method
from workbench.core.audio import resample, write_audio
from workbench.core.music import key_parts, relative_key

RATE = 32000


def cpu_model() -> str:
    try:
        lines = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout.splitlines()
        return next(line.split(":", 1)[1].strip() for line in lines if line.startswith("Model name"))
    except (OSError, subprocess.CalledProcessError, StopIteration):
        return platform.processor() or "unknown"


def score(cases: list[synthetic.Case], found: list[tuple[float | None, str | None]]) -> dict[str, Any]:
    """Counts of tempo within 2 % (and at half or double tempo), key exact, relative key, other key, no answer."""
    out = {"cases": len(cases), "bpm_within_2pct": 0, "bpm_octave_error": 0, "bpm_unknown": 0, "key_exact": 0,
           "key_relative": 0, "key_other": 0, "key_unknown": 0, "misses": []}
    for case, (bpm, key) in zip(cases, found):
        if bpm is None:
            out["bpm_unknown"] += 1
        elif abs(bpm - case.bpm) <= 0.02 * case.bpm:
            out["bpm_within_2pct"] += 1
        elif min(abs(bpm - case.bpm * f) for f in (0.5, 2.0)) <= 0.02 * case.bpm:
            out["bpm_octave_error"] += 1
        if key is None:
            out["key_unknown"] += 1
        elif key_parts(key) == key_parts(case.key):
            out["key_exact"] += 1
        elif key_parts(key) == key_parts(relative_key(case.key)):
            out["key_relative"] += 1
        else:
            out["key_other"] += 1
        good_bpm = bpm is not None and abs(bpm - case.bpm) <= 0.02 * case.bpm
        if not good_bpm or key is None or key_parts(key) != key_parts(case.key):
            out["misses"].append({"bpm": case.bpm, "key": case.key, "found_bpm": bpm, "found_key": key})
    out["bpm_accuracy"] = round(out["bpm_within_2pct"] / len(cases), 4)
    out["key_accuracy"] = round(out["key_exact"] / len(cases), 4)
    return out


def essentia_run(audio: list[np.ndarray]) -> dict[str, Any] | None:
    """essentia's RhythmExtractor2013 (multifeature) and KeyExtractor (three profiles) at 44.1 kHz, or None."""
    try:
        import essentia

        essentia.log.infoActive = False
        import essentia.standard as es
    except ImportError:
        return None
    found: dict[str, list[Any]] = {"rhythm": [], "bgate": [], "temperley": [], "krumhansl": []}
    seconds: dict[str, list[float]] = {"rhythm": [], "key": []}
    for wav in audio:
        signal = np.ascontiguousarray(resample(wav, RATE, 44100)[0], dtype=np.float32)
        start = time.perf_counter()
        found["rhythm"].append(float(es.RhythmExtractor2013(method="multifeature")(signal)[0]))
        seconds["rhythm"].append(time.perf_counter() - start)
        for profile in ("bgate", "temperley", "krumhansl"):
            start = time.perf_counter()
            tonic, scale, _ = es.KeyExtractor(profileType=profile, sampleRate=44100)(signal)
            seconds["key"].append(time.perf_counter() - start)
            found[profile].append(f"{tonic} {scale}")
    return {"version": essentia.__version__, "found": found,
            "median_s": {name: round(statistics.median(values), 4) for name, values in seconds.items()}}


def cost(seconds: float, repeats: int) -> dict[str, Any]:
    """Median wall and CPU time of :func:`measure` on ``seconds`` of synthetic music, and the wall time of writing
    it as a WAV file."""
    case = synthetic.Case(120, 9, True, 0, seconds, 0)
    audio = synthetic.render(case, RATE)
    times, cpu, writes = [], [], []
    for _ in range(repeats):
        start, process = time.perf_counter(), time.process_time()
        measure(audio, RATE)
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - process)
        start = time.perf_counter()
        write_audio(Path("/tmp") / "tempo-key-bench.wav", audio, RATE, force=True)
        writes.append(time.perf_counter() - start)
    Path("/tmp/tempo-key-bench.wav").unlink()
    return {"seconds": seconds, "measure_s": round(statistics.median(times), 4),
            "measure_cpu_s": round(statistics.median(cpu), 4), "write_wav_s": round(statistics.median(writes), 4)}


def first_measure() -> dict[str, float]:
    """The first measurement of a 10 s take in a fresh process (librosa's import included): wall and CPU seconds
    (the CPU time is what the import costs on an idle machine; the wall time grows with the machine's load)."""
    code = ("import time; from workbench.analysis import synthetic; from workbench.analysis.tempo_key import measure;"
            "a = synthetic.render(synthetic.cases()[0]); t, c = time.perf_counter(), time.process_time();"
            "measure(a, 32000); print(time.perf_counter() - t, time.process_time() - c)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    wall, cpu = map(float, out.stdout.strip().splitlines()[-1].split())
    return {"wall_s": round(wall, 3), "cpu_s": round(cpu, 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, default=Path("benchmarks/results/tempo-key.json"))
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    cases = synthetic.cases()
    audio = [synthetic.render(case, RATE) for case in cases]
    measured = [measure(wav, RATE) for wav in audio]
    krumhansl = [best_key(chroma_profile(wav[0], RATE), KRUMHANSL)[0] for wav in audio]
    result: dict[str, Any] = {
        "what": "tempo and key of synthetic cadences over click tracks (workbench.analysis.synthetic.cases)",
        "date": datetime.now(UTC).isoformat(timespec="seconds"), "cpu": cpu_model(),
        "python": platform.python_version(), "method": method(),
        "workbench": score(cases, [(m.bpm, m.key) for m in measured]),
        "krumhansl_key": score(cases, [(m.bpm, key) for m, key in zip(measured, krumhansl)]),
        "beat_strength_min": min(m.beat_strength for m in measured),
        "key_strength_min": min(m.key_strength for m in measured),
    }
    essentia = essentia_run(audio)
    if essentia is not None:
        found = essentia.pop("found")
        result["essentia"] = {**essentia, "method": "RhythmExtractor2013(multifeature), KeyExtractor",
                              **{f"key_{profile}": score(cases, list(zip(found["rhythm"], found[profile])))
                                 for profile in ("bgate", "temperley", "krumhansl")}}
    noise = []
    for seconds in (4.0, 6.0, 10.0, 20.0):
        for color in ("white", "pink", "brown"):
            for seed in range(4):
                found = measure(synthetic.noise(seconds, color, seed, RATE), RATE)
                noise.append({"seconds": seconds, "color": color, "bpm": found.bpm, "key": found.key,
                              "beat_strength": found.beat_strength, "key_strength": found.key_strength})
    result["noise"] = {"clips": len(noise), "bpm_unknown": sum(n["bpm"] is None for n in noise),
                       "key_unknown": sum(n["key"] is None for n in noise),
                       "beat_strength_max": max(n["beat_strength"] for n in noise),
                       "key_strength_max": max(n["key_strength"] for n in noise)}
    load = os.getloadavg()[0]
    result["cost"] = {"load_average_1min": round(load, 2), "first_measure_in_a_fresh_process": first_measure(),
                      "per_take": [cost(seconds, args.repeats) for seconds in (2.0, 10.0, 30.0)]}
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k not in ("workbench", "krumhansl_key", "essentia")}))
    print("workbench", {k: v for k, v in result["workbench"].items() if k != "misses"})
    print("essentia", {k: v for k, v in (result.get("essentia") or {}).items()} if essentia else "not installed")


if __name__ == "__main__":
    main()
