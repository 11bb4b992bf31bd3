"""What a decoding pass costs, measured while it runs: wall time, decoding steps per second, real-time factor
and peak memory. Nothing here is an estimate."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import torch


@contextmanager
def measure(device: torch.device | str, dtype: Any, *, batch_size: int) -> Iterator[dict[str, Any]]:
    """Measure the block's pass; the yielded dict is filled in when the block ends (the caller sets ``steps``
    and ``audio_s``, the seconds of audio the pass made per take, inside the block).

    Recorded: ``wall_s`` (the whole pass, EnCodec decode included), ``steps`` and ``steps_per_s`` (decoding
    steps, all windows), ``realtime_factor`` (wall seconds per second of audio made, all takes together: below
    1 is faster than real time), ``batch_size``, ``device``, ``dtype``, and peak memory: on CUDA
    ``peak_cuda_gb`` (the most memory torch held on the device during the pass), else ``peak_rss_gb`` (the
    process's peak resident memory so far, which includes earlier passes: the operating system keeps no
    per-pass peak).
    """
    device = torch.device(device)
    cuda = device.type == "cuda"
    if cuda:
        torch.cuda.reset_peak_memory_stats(device)
    cost: dict[str, Any] = {"steps": 0, "audio_s": 0.0}
    started = time.perf_counter()
    yield cost
    wall = time.perf_counter() - started
    steps, audio_s = int(cost.pop("steps")), float(cost.pop("audio_s"))
    cost.update(wall_s=round(wall, 3), steps=steps, steps_per_s=round(steps / wall, 2) if wall > 0 else None,
                realtime_factor=round(wall / (audio_s * batch_size), 4) if audio_s > 0 else None,
                batch_size=batch_size, device=str(device), dtype=str(dtype).removeprefix("torch."))
    if cuda:
        cost["peak_cuda_gb"] = round(torch.cuda.max_memory_allocated(device) / 1e9, 3)
    elif (peak := peak_rss_bytes()) is not None:
        cost["peak_rss_gb"] = round(peak / 1e9, 3)


def peak_rss_bytes() -> int | None:
    """The process's peak resident set size (``getrusage``: kilobytes on Linux, bytes on macOS); None where the
    platform has no ``getrusage`` (Windows)."""
    try:
        import resource
    except ImportError:
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak if sys.platform == "darwin" else peak * 1024)
