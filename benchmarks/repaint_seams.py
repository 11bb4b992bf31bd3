"""Seams of repainted windows: the codes-level join (what ``workbench repaint`` writes) against audio splices.

Each repaint's codes are decoded whole by the take's codec: the window's new codes and the parent's codes around it
go through the EnCodec decoder together, so the decoder makes the join. The alternatives keep the parent's audio
outside the window and cut to the repaint's audio inside it, hard or with a linear crossfade. For every interior
window edge this measures the spectral-flux jump (:func:`workbench.core.seams.flux_jump`: the largest flux within
20 ms of the edge over the take's median flux) of the parent at the same time, of the codes-level join and of the
two splices, and how far the codes-level join changes the parent's audio outside the window (the decoder's context).
A control shows what the measure gives for a real cut on these models: the parent's audio cut to another take's.
Built-in random-weight models (``tiny`` takes, ``tiny-magnet-50hz``): noise, not music.

    python benchmarks/repaint_seams.py --takes 4 --seeds 2 --json benchmarks/results/repaint-seams.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

import numpy as np  # noqa: E402
import torch  # noqa: E402

from workbench.core.params import GenerationParams  # noqa: E402
from workbench.core.seams import flux_jump  # noqa: E402
from workbench.drafts.repaint import window_frames  # noqa: E402
from workbench.engine.load import load_engine  # noqa: E402

TEXTS = ["lofi piano, 80 BPM", "gated drums, synth bass", "ambient pads", "folk guitar, 100 BPM", "techno kick",
         "string quartet"]
#: Windows, seconds of a 4 s take: inside, early, late.
WINDOWS = [(1.0, 2.0), (0.6, 1.4), (2.2, 3.6)]
#: Distances from a window edge, seconds, over which the codes-level join's change of the parent audio is measured.
BANDS = [(0.0, 0.02), (0.02, 0.1), (0.1, 0.5), (0.5, 4.0)]


def splice(parent: np.ndarray, repaint: np.ndarray, first: int, last: int, fade: int) -> np.ndarray:
    """The parent's audio outside samples ``[first, last)``, the repaint's inside, crossfaded over ``fade`` samples
    centred on each edge (0: a hard cut)."""
    inside = np.zeros(parent.shape[-1])
    inside[first:last] = 1.0
    if fade:
        ramp = np.convolve(inside, np.ones(fade) / fade, mode="same")
        inside = np.clip(ramp, 0.0, 1.0)
    return (parent * (1 - inside) + repaint * inside).astype(np.float32)


def relative_change(parent: np.ndarray, joined: np.ndarray, rate: int, edges: list[float], first: int,
                    last: int) -> dict[str, float | None]:
    """RMS of (joined - parent) over the parent's RMS, outside the window, by distance from the nearest edge."""
    time_s = np.arange(parent.shape[-1]) / rate
    distance = np.min([np.abs(time_s - at) for at in edges], axis=0)
    outside = np.ones(parent.shape[-1], dtype=bool)
    outside[first:last] = False
    scale = float(np.sqrt(np.mean(parent ** 2)))
    out = {}
    for low, high in BANDS:
        chosen = outside & (distance >= low) & (distance < high)
        diff = (joined - parent)[..., chosen]
        out[f"{low * 1000:g}-{high * 1000:g} ms"] = (float(np.sqrt(np.mean(diff ** 2))) / scale) if diff.size else None
    return out


def median(values: list[float | None]) -> float:
    return round(float(np.median([v for v in values if v is not None])), 4)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--takes", type=int, default=4)
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--fade-ms", type=float, default=20.0)
    parser.add_argument("--json", type=Path, required=True)
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).parent))
    from bench import machine  # noqa: PLC0415 - the shared machine description

    started = time.perf_counter()
    tiny, painter = load_engine("tiny", device="cpu"), load_engine("tiny-magnet-50hz", device="cpu")
    rate, fade = tiny.sample_rate, round(args.fade_ms / 1000 * tiny.sample_rate)
    rows = []
    for index in range(args.takes):
        text = TEXTS[index % len(TEXTS)]
        take, other = tiny.generate(text, GenerationParams(duration_s=4.0), [index + 1, index + 101])
        parent_audio = tiny.decode(take.codes)[:, :take.num_samples]
        other_audio = tiny.decode(other.codes)[:, :take.num_samples]  # a control: a cut to unrelated audio
        from_s, to_s = WINDOWS[index % len(WINDOWS)]
        start, end = window_frames(from_s, to_s, take.duration_s, tiny.frame_rate)
        first, last = round(from_s * rate), round(to_s * rate)
        for result, seed in zip(painter.repaint(take.codes, start, end, text, range(1, args.seeds + 1)),
                                range(1, args.seeds + 1)):
            joined = tiny.decode(result.codes)[:, :take.num_samples]
            versions = {"parent": parent_audio, "codes_join": joined,
                        "hard_splice": splice(parent_audio, joined, first, last, 0),
                        "crossfade_splice": splice(parent_audio, joined, first, last, fade),
                        "unrelated_splice": splice(parent_audio, other_audio, first, last, 0)}
            for at in (from_s, to_s):
                rows.append({"take": index, "text": text, "seed": seed, "window_s": [from_s, to_s], "edge_s": at,
                             **{name: flux_jump(audio, rate, at) for name, audio in versions.items()}})
            rows[-1]["outside_change"] = relative_change(parent_audio, joined, rate, [from_s, to_s], first, last)
    names = ["parent", "codes_join", "hard_splice", "crossfade_splice", "unrelated_splice"]
    summary = {name: {"median": median([row[name] for row in rows]),
                      "max": round(max(row[name] for row in rows if row[name] is not None), 4)} for name in names}
    changes = [row["outside_change"] for row in rows if "outside_change" in row]
    summary["outside_change_median"] = {band: median([change[band] for change in changes]) for band in changes[0]}
    codes, crossfade = summary["codes_join"]["median"], summary["crossfade_splice"]["median"]
    decision = ("codes-level join (no crossfade): its median edge jump is not above the crossfaded splice's by more "
                "than 10 %" if codes <= 1.1 * crossfade else "crossfade: the codes-level join jumps more at the edges")
    result = {"date": datetime.now(UTC).isoformat(timespec="seconds"),
              "command": "python benchmarks/repaint_seams.py " + " ".join(sys.argv[1:]),
              "machine": machine(torch.get_num_threads()), "models": ["tiny", "tiny-magnet-50hz"],
              "settings": "audiocraft's MAGNeT defaults (RepaintSettings())", "fade_ms": args.fade_ms,
              "edges": len(rows), "summary": summary, "decision": decision, "rows": rows,
              "total_s": round(time.perf_counter() - started, 1)}
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({"summary": summary, "decision": decision}, indent=2))


if __name__ == "__main__":
    main()
