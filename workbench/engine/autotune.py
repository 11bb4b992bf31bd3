"""Kernels chosen by measurement: each candidate path of the decoder step timed on the model's real shapes.

Which kernels run a decoding step fastest depends on the CPU: oneDNN's packed weights were 2-3× faster than
PyTorch's own on an AMD EPYC and slower on an Intel Xeon with AMX (``docs/benchmarks.md``). So at load, for a
model wide enough to matter (:data:`workbench.engine.kernels.PACK_MIN_HIDDEN`), every candidate of
:func:`workbench.engine.kernels.candidates` runs a few real decoding steps — the workbench's own loop, batch 1
with classifier-free guidance, the model's dtype — in alternating rounds (A B B A...), so that drift of a busy
machine hits all candidates alike, and is probed for batch independence
(:func:`workbench.engine.kernels.rows_independent`). The candidate with the lowest median step among those that
keep a take independent of its batch wins (the engine's promise comes before speed; where no candidate keeps
it, the fastest wins and a warning says so).

The choice is remembered on disk (:mod:`workbench.core.cache`, store ``kernels``) per machine (CPU model and
flags, torch version, threads) and model (architecture, decoder shape, dtype), so a load pays the measurement
once. Candidates give the same codes on float32 (``tests/test_kernels.py``; ``benchmarks/kernel_agreement.py``
counts it at full size), and whatever is chosen is recorded on every take; ``reproduce`` loads the recorded
kernels and measures nothing.
"""

from __future__ import annotations

import hashlib
import json
import logging
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import torch

from workbench.core import cache
from workbench.engine import compat, kernels
from workbench.engine.conditioning import MelodyConditioner, text_states
from workbench.engine.decoding import DelayPattern, decode_pass
from workbench.engine.sampling import SeededSampler

log = logging.getLogger("workbench")

#: The cache store of kernel choices.
STORE = "kernels"
#: Timed decoding steps per candidate and round, and rounds (each candidate once per round, order alternating).
STEPS, ROUNDS = 6, 2


@dataclass(frozen=True)
class KernelChoice:
    """Which kernels a model's decoder runs on, and how that was decided.

    Attributes:
        kernels: :data:`~workbench.engine.kernels.PACKED` or :data:`~workbench.engine.kernels.REFERENCE`.
        how: ``measured`` (now), ``cached`` (measured earlier on this machine), ``asked`` (the caller named
            them), ``narrow`` (a model below ``PACK_MIN_HIDDEN``: the reference, unmeasured) or ``only`` (a
            single candidate here).
        step_ms: Median milliseconds per decoding step of each measured candidate (empty when none was).
        rows_independent: Per measured candidate, whether it passed the batch-independence probe.
        key: The cache key (machine and model), when one was used.
    """

    kernels: str
    how: str
    step_ms: dict[str, float] = field(default_factory=dict)
    rows_independent: dict[str, bool] = field(default_factory=dict)
    key: str | None = None

    def record(self) -> dict[str, Any]:
        """A JSON-ready description (the benchmarks record it)."""
        return {"kernels": self.kernels, "how": self.how, "step_ms": dict(self.step_ms),
                "rows_independent": dict(self.rows_independent), "key": self.key}


def machine_facts() -> dict[str, Any]:
    """What a kernel choice depends on in the machine: CPU model and flags, torch version, torch threads."""
    info = compat.cpu_info()
    return {"cpu": info.name, "flags": hashlib.sha256(" ".join(sorted(info.flags)).encode()).hexdigest()[:16],
            "torch": torch.__version__, "threads": torch.get_num_threads()}


def model_facts(model: Any) -> dict[str, Any]:
    """What a kernel choice depends on in the model: architecture, decoder shape, dtype, device."""
    config = model.decoder.config
    shape = {name: getattr(config, name, None) for name in (
        "hidden_size", "num_hidden_layers", "num_attention_heads", "ffn_dim", "num_codebooks", "audio_channels",
        "vocab_size", "cross_attention_hidden_size")}
    parameter = next(model.decoder.parameters())
    return {"architecture": type(model).__name__, **shape, "dtype": str(parameter.dtype).removeprefix("torch."),
            "device": parameter.device.type}


def cache_key(model: Any) -> str:
    """The key of ``model``'s kernel choice on this machine."""
    facts = {"machine": machine_facts(), "model": model_facts(model)}
    return hashlib.sha256(json.dumps(facts, sort_keys=True).encode()).hexdigest()[:32]


def _conditioning(engine: Any, guided: bool) -> Any:
    """The conditioning of a one-word prompt, laid out as a real pass gets it (text or melody prefix)."""
    if engine.melody:
        return MelodyConditioner(engine.model, engine.processor.tokenizer, ["music"], guided).window(None)
    return text_states(engine.model, engine.processor.tokenizer, ["music"], guided, engine.dtype, engine.device)


def step_times(engine: Any, steps: int = STEPS, *, timer: Callable[[], float] = time.perf_counter) -> list[float]:
    """Seconds per decoding step of ``steps`` steps of one pass at batch 1 with guidance (the first step, which
    also fills the cache, is not counted), on whatever kernels the decoder has now."""
    sampler = SeededSampler([0], engine.num_codebooks, guidance_scale=3.0, top_k=250)
    new = max(1, steps + 1 - engine.delay)
    pattern = DelayPattern(np.zeros((1, engine.num_codebooks, 0), dtype=np.int64), new,
                           audio_channels=engine.audio_channels, pad=engine.pad_token, device=engine.device)
    stamps: list[float] = []
    decode_pass(engine.model, _conditioning(engine, sampler.guided), sampler, pattern,
                on_step=lambda step, total, pattern: stamps.append(timer()), preallocate=engine.preallocate_cache)
    return [later - earlier for earlier, later in zip(stamps, stamps[1:])][:steps]


def measure(engine: Any, names: list[str], *, steps: int = STEPS, rounds: int = ROUNDS,
            timer: Callable[[], float] = time.perf_counter,
            probe: Callable[[torch.nn.Module], bool] = kernels.rows_independent,
            ) -> tuple[dict[str, float], dict[str, bool]]:
    """Median seconds per step of each candidate in ``names``, in rounds of alternating order (A B, B A, ...),
    and whether each passes ``probe`` (batch independence, checked once per candidate).

    The decoder is left on the last candidate timed.
    """
    times: dict[str, list[float]] = {name: [] for name in names}
    independent: dict[str, bool] = {}
    for index in range(rounds):
        for name in names if index % 2 == 0 else names[::-1]:
            kernels.use(engine.model.decoder, name)
            if name not in independent:
                independent[name] = probe(engine.model.decoder)
            times[name] += step_times(engine, steps, timer=timer)
    return {name: statistics.median(values) for name, values in times.items()}, independent


def choose_kernels(engine: Any, *, folder: Path | None = None, refresh: bool = False, steps: int = STEPS,
                   rounds: int = ROUNDS, timer: Callable[[], float] = time.perf_counter,
                   probe: Callable[[torch.nn.Module], bool] = kernels.rows_independent) -> KernelChoice:
    """Put ``engine``'s decoder on the fastest batch-independent kernels here: remembered for this machine and
    model, else measured.

    Args:
        engine: A loaded :class:`~workbench.engine.engine.MusicgenEngine`.
        folder: The cache folder (default :func:`workbench.core.cache.cache_dir`).
        refresh: Measure even when a choice is remembered (and remember the new one).
        steps, rounds: Timed steps per candidate and round; rounds.
        timer: The clock (seconds); tests pass a fake one.
        probe: The batch-independence check of a decoder on its current kernels; tests pass their own.

    Returns:
        The choice; the decoder runs on ``choice.kernels`` afterwards.
    """
    names = kernels.candidates(engine.model)
    if len(names) == 1:
        kernels.use(engine.model.decoder, names[0])
        return KernelChoice(names[0], "only")
    key = cache_key(engine.model)
    remembered = None if refresh else cache.recall(STORE, key, folder=folder)
    if isinstance(remembered, dict) and remembered.get("kernels") in names:
        kernels.use(engine.model.decoder, remembered["kernels"])
        return KernelChoice(remembered["kernels"], "cached", dict(remembered.get("step_ms") or {}),
                            dict(remembered.get("rows_independent") or {}), key)
    medians, independent = measure(engine, names, steps=steps, rounds=rounds, timer=timer, probe=probe)
    eligible = [name for name in names if independent[name]]
    if not eligible:
        log.warning("no kernels keep a take independent of its batch on this CPU (%s): using the fastest",
                    compat.cpu_info().name)
    best = min(eligible or names, key=lambda name: medians[name])  # ties: the earlier name, the reference
    kernels.use(engine.model.decoder, best)
    step_ms = {name: round(value * 1000, 3) for name, value in medians.items()}
    cache.remember(STORE, key, {"kernels": best, "step_ms": step_ms, "rows_independent": independent, "facts": {
        "machine": machine_facts(), "model": model_facts(engine.model)},
        "measured": datetime.now(UTC).isoformat(timespec="seconds")}, folder=folder)
    return KernelChoice(best, "measured", step_ms, independent, key)
