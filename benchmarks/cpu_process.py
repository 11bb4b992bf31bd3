"""Whole processes for ``cpu_check.py``: ``workbench generate`` against a plain transformers script, alternating,
with each process's wall time and peak RSS (``wait4``), and where a workbench process's time goes (its phases timed).

    python benchmarks/cpu_process.py --model random-small --seconds 4 --rounds 3
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from texts import TEXT

HERE = Path(__file__).parent
ROOT = HERE.parent

#: Phases of a ``workbench generate`` process: ``(module, attribute)`` of the function timed for each (wall
#: seconds, summed over calls), one after another.
PHASES = {
    "build the model (transformers from config)": ("workbench.models.load", "build_builtin"),
    "weights fingerprint": ("workbench.engine.engine", "weights_fingerprint"),
    "kernels (measure or remember, pack)": ("workbench.engine.load", "_kernels"),
    "take (Engine.generate)": ("workbench.engine.engine", "MusicgenEngine.generate"),
    "writing (audio, codes, sidecar, history)": ("workbench.render.prompt", "save_takes"),
}
#: Phases inside one of :data:`PHASES`: ``(module, attribute, the phase they run in)``.
NESTED = {
    "text encoding": ("workbench.engine.engine", "text_states", "take (Engine.generate)"),
    "decoding steps": ("workbench.engine.engine", "decode_pass", "take (Engine.generate)"),
    "EnCodec decode": ("workbench.engine.engine", "decode_grid", "take (Engine.generate)"),
    "loudness measurement": ("workbench.store.takes", "loudness_lufs", "writing (audio, codes, sidecar, history)"),
    "tempo and key measurement (librosa)": ("workbench.store.takes", "measure",
                                            "writing (audio, codes, sidecar, history)"),
}
#: What the CLI imports before its first model call, timed as one phase.
IMPORTS = ("workbench.cli.app", "torch", "transformers", "workbench.render.prompt", "workbench.engine.load",
           "workbench.store.takes", "workbench.models.builtin", "pyloudnorm")


def drive(result_path: str, argv: list[str]) -> None:
    """Run ``workbench ARGV`` in this process with every phase timed; write the seconds to ``result_path``."""
    import importlib
    import runpy

    began = time.perf_counter()
    for name in IMPORTS:
        importlib.import_module(name)
    seconds = {"imports": time.perf_counter() - began}

    def timed(label: str, function: Any) -> Any:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                seconds[label] = seconds.get(label, 0.0) + time.perf_counter() - started
        return wrapper

    for label, (module_name, attribute, *_) in {**PHASES, **NESTED}.items():
        owner: Any = importlib.import_module(module_name)
        *path, name = attribute.split(".")
        for part in path:
            owner = getattr(owner, part)
        setattr(owner, name, timed(label, getattr(owner, name)))
    sys.argv = ["workbench", *argv]
    try:
        runpy.run_module("workbench", run_name="__main__")
    finally:
        seconds["in process"] = time.perf_counter() - began
        Path(result_path).write_text(json.dumps(seconds))


def commands(model: str, seconds: float, out: Path, index: int) -> dict[str, list[str]]:
    """The two processes of a round: ``workbench generate`` and the plain script, writing into ``out``."""
    return {"workbench": [sys.executable, "-m", "workbench", "generate", TEXT, "--model", model, "--duration",
                          f"{seconds:g}", "--seed", "1", "-o", str(out / f"wb{index}.wav"), "--out", str(out), "-f"],
            "plain": [sys.executable, str(HERE / "plain_script.py"), "--model", model, "--seconds", f"{seconds:g}",
                      "--out", str(out / f"plain{index}.wav")]}


def run_process(command: list[str]) -> dict[str, Any]:
    """Wall seconds and peak RSS (GB) of one process, and what it printed."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    stdout, stderr = process.stdout.read(), process.stderr.read()  # type: ignore[union-attr]
    if process.returncode:
        raise RuntimeError(f"{' '.join(command[:4])}... failed: {stderr.strip()[-500:]}")
    peak = usage.ru_maxrss * (1 if sys.platform == "darwin" else 1024)
    return {"wall_s": wall, "peak_rss_gb": peak / 1e9, "stdout": stdout.strip()[-400:]}


def breakdown(model: str, seconds: float, out: Path) -> dict[str, Any]:
    """One ``workbench generate`` with its phases timed (:func:`drive`): seconds per phase (nested ones inside the
    take or the writing), interpreter start-up, and the rest of the CLI's own work."""
    found = out / "phases.json"
    command = commands(model, seconds, out, 99)["workbench"]
    command[1:3] = [str(Path(__file__).resolve()), "--drive", str(found), "--"]
    whole = run_process(command)["wall_s"]
    phases = json.loads(found.read_text())
    inside = phases.pop("in process")
    phases["interpreter start-up"] = whole - inside
    phases["the rest (CLI, checks)"] = inside - sum(phases.get(label, 0.0) for label in ("imports", *PHASES))
    order = ["interpreter start-up", "imports"]
    for label in PHASES:
        order += [label, *(name for name, (*_, parent) in NESTED.items() if parent == label)]
    return {"wall_s": whole, "phases_s": {label: phases[label] for label in [*order, "the rest (CLI, checks)"]
                                          if label in phases}}


def whole_processes(model: str, seconds: float, rounds: int, weights_gb: float) -> dict[str, Any]:
    """``rounds`` rounds of (workbench, plain) in alternating order; medians, the median of per-round ratios,
    peak RSS against the weights, and the profile of one more workbench process."""
    runs: dict[str, list[dict[str, Any]]] = {"workbench": [], "plain": []}
    with tempfile.TemporaryDirectory(prefix="cpu-check-") as folder:
        out = Path(folder)
        for index in range(rounds):
            pair = commands(model, seconds, out, index)
            for name in ("workbench", "plain") if index % 2 == 0 else ("plain", "workbench"):
                runs[name].append(run_process(pair[name]))
        profiled = breakdown(model, seconds, out)
    ratios = [w["wall_s"] / p["wall_s"] for w, p in zip(runs["workbench"], runs["plain"])]
    cost = re.search(r"cost: ([0-9.]+) s", runs["workbench"][-1]["stdout"])
    result: dict[str, Any] = {"seconds": seconds, "rounds": rounds, "weights_gb": weights_gb,
                              "workbench_vs_plain": {"median": statistics.median(ratios), "runs": ratios},
                              "workbench_take_s": float(cost.group(1)) if cost else None, "breakdown": profiled}
    for name, values in runs.items():
        result[name] = {"wall_s": [v["wall_s"] for v in values], "peak_rss_gb": [v["peak_rss_gb"] for v in values],
                        "median_wall_s": statistics.median(v["wall_s"] for v in values),
                        "max_peak_rss_gb": max(v["peak_rss_gb"] for v in values)}
    result["margin_over_weights_gb"] = {name: result[name]["max_peak_rss_gb"] - weights_gb for name in runs}
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="random-small")
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--weights-gb", type=float, default=2.348, help="the model's weights (random-small: 2.348)")
    parser.add_argument("--drive", help=argparse.SUPPRESS)
    parser.add_argument("argv", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.drive:
        drive(args.drive, args.argv)
        return
    print(json.dumps(whole_processes(args.model, args.seconds, args.rounds, args.weights_gb), indent=2))


if __name__ == "__main__":
    main()
