"""The ``Take``: one rendered piece of audio with everything needed to reproduce it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from workbench.core.hashing import codes_sha256
from workbench.core.params import GenerationParams


@dataclass(frozen=True)
class ModelInfo:
    """What model made a take, as recorded in sidecars.

    Attributes:
        name: The name the user gave (``small``, ``tiny``, a Hub id or a folder).
        kind: ``builtin``, ``hub`` or ``local``.
        source: Hub repository id, absolute folder path or built-in name.
        revision: Hub commit hash when known.
        architecture: transformers class name.
        sample_rate: Audio sample rate, Hz.
        frame_rate: Codec frames per second.
        num_codebooks: Codebooks per frame in the decoder's layout (8 for stereo: left/right interleaved).
        codebook_size: Entries per codebook.
        audio_channels: 1 (mono) or 2 (stereo).
        melody: Whether the model takes a melody (chroma) condition.
        max_window_s: Longest stretch one decoder pass can generate, seconds.
    """

    name: str
    kind: str
    source: str
    revision: str | None
    architecture: str
    sample_rate: int
    frame_rate: int
    num_codebooks: int
    codebook_size: int
    audio_channels: int
    melody: bool
    max_window_s: float


@dataclass(frozen=True, eq=False)
class Take:
    """One rendered take.

    Attributes:
        audio: ``[channels, samples]`` float32 in [-1, 1], exactly ``round(duration_s * sample_rate)`` samples.
        sample_rate: Hz.
        codes: ``[K, T]`` int64 codec tokens the audio was decoded from (``T = ceil(duration_s * frame_rate)``).
        seed: The take's sampling seed.
        text: The prompt text.
        params: The generation parameters.
        model: The model that made it.
        device: Torch device string it ran on.
        dtype: Torch dtype name of the model weights.
        kernels: Which kernels ran the decoder's linear layers (``torch`` or ``onednn-packed``).
        draft: Draft (melody / continuation) record, or None.
        windows: For pieces longer than one window: ``[{"start_s", "end_s", "context_s"}, ...]`` (seconds of the
            take each pass made, and of earlier codes it continued from).
        wall_s: Seconds the batch that made it took (shared by the takes of one batch).
        batch_size: How many takes were rendered together.
        cost: What the pass that made it cost, measured (see :func:`workbench.engine.cost.measure`): ``wall_s``,
            ``steps``, ``steps_per_s``, ``realtime_factor``, ``peak_rss_gb`` or ``peak_cuda_gb``, ``batch_size``,
            ``device``, ``dtype``; empty when unknown.
        extra: Free-form facts to record (melody adherence, library entry...).
        segments: ``((start_s, text), ...)``: texts that conditioned the take from those times on (see
            :mod:`workbench.core.segments`); empty when its own text did throughout.
    """

    audio: np.ndarray
    sample_rate: int
    codes: np.ndarray
    seed: int
    text: str
    params: GenerationParams
    model: ModelInfo
    device: str
    dtype: str
    kernels: str = "torch"
    draft: dict[str, Any] | None = None
    windows: list[dict[str, float]] | None = None
    wall_s: float = 0.0
    batch_size: int = 1
    cost: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    segments: tuple[tuple[float, str], ...] = ()

    @property
    def num_samples(self) -> int:
        return int(self.audio.shape[-1])

    @property
    def duration_s(self) -> float:
        return self.num_samples / self.sample_rate

    @property
    def codes_sha256(self) -> str:
        return codes_sha256(self.codes)


def cost_summary(cost: dict[str, Any]) -> str:
    """One line for the CLI, UI and contact sheet, e.g. ``0.8 s · 132 steps/s · RTF 0.39 · process peak 0.85 GB RSS
    · cpu float32`` (RTF: wall seconds per second of audio, all takes of the pass together)."""
    if not cost:
        return ""
    parts = [f"{cost['wall_s']:.1f} s"]
    if cost.get("steps_per_s"):
        parts.append(f"{cost['steps_per_s']:.0f} steps/s")
    if cost.get("realtime_factor"):
        parts.append(f"RTF {cost['realtime_factor']:.2f}")
    if cost.get("batch_size", 1) > 1:
        parts.append(f"batch {cost['batch_size']}")
    if "peak_cuda_gb" in cost:
        parts.append(f"peak {cost['peak_cuda_gb']:.2f} GB CUDA")
    elif "peak_rss_gb" in cost:
        parts.append(f"process peak {cost['peak_rss_gb']:.2f} GB RSS")
    return " · ".join(parts) + f" · {cost.get('device', '?')} {cost.get('dtype', '')}".rstrip()
