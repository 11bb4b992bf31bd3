"""What a decoding pass costs, measured while it runs: wall time, decoding steps per second, real-time factor
and peak memory. Nothing here is an estimate; the one bound stated (:func:`peak_bound_gb`) is checked by tests and
benchmarks against measured peaks."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import torch

#: A ``workbench`` process's peak resident memory stays within its model's weights, the KV cache of its pass and
#: this margin (GB): the interpreter with torch, transformers and the audio libraries imported (0.56 GB on the
#: AMD EPYC measured), the text encoder's and EnCodec's working memory, and the allocator's slack. Checked by
#: ``tests/test_memory.py`` (tiny) and ``benchmarks/cpu_check.sh`` (random-small, musicgen-small's size).
PEAK_MARGIN_GB = 1.5


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
    """This process's peak resident set size in bytes: Linux's ``VmHWM`` (the peak of this program's own memory
    since it started), else ``getrusage`` (kilobytes on Linux, bytes on macOS; on Linux it also counts the parent's
    memory at the fork that started this process, so it is the fallback only); None where neither exists (Windows).
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        import resource
    except ImportError:
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak if sys.platform == "darwin" else peak * 1024)


def kv_cache_bytes(decoder_config: Any, *, rows: int, positions: int, encoder_positions: int = 0,
                   itemsize: int = 4) -> int:
    """Bytes of a pass's keys and values: ``rows`` (takes x 2 with guidance) x ``positions`` in every
    self-attention layer, and ``encoder_positions`` (the text's or melody's states) in every cross-attention."""
    per_position = 2 * decoder_config.num_hidden_layers * rows * decoder_config.hidden_size * itemsize
    return per_position * (positions + encoder_positions)


def peak_bound_gb(weights_bytes: int, cache_bytes: int) -> float:
    """The peak resident memory (GB) a process holding ``weights_bytes`` of model (see
    ``kernels.weight_bytes``) and a KV cache of ``cache_bytes`` stays within: those plus :data:`PEAK_MARGIN_GB`."""
    return (weights_bytes + cache_bytes) / 1e9 + PEAK_MARGIN_GB
