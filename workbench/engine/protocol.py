"""The contract every engine keeps (:class:`Engine`, a ``typing.Protocol``) and what the engines share, written once
(:class:`EngineBase`): rates, frames and samples for a duration, the cached weights fingerprint.

Two engines implement it: :class:`workbench.engine.engine.MusicgenEngine` (transformers' MusicGen and MusicGen-Melody,
the workbench's own decoding loop) and :class:`workbench.engine.audiocraft.engine.AudiocraftEngine` (MAGNeT,
MusicGen-Style). The renderers, drafts and the UI type against :class:`Engine`.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np

from workbench.core.params import GenerationParams
from workbench.core.take import ModelInfo, Take

#: ``progress(done, total)`` in decoding steps, over all windows of a call.
Progress = Callable[[int, int], None]


@runtime_checkable
class Engine(Protocol):
    """A loaded model that renders takes: what every renderer may rely on.

    Attributes:
        info: What the model is (recorded in sidecars).
        melody: Whether it follows a melody or chords (chroma).
        style: Whether it takes a style reference clip.
        audio_channels / num_codebooks: Its audio and its codes' layout.
        low_memory: Whether its text encoder leaves memory between uses.
        kernels: Which kernels run its decoder (recorded on takes).
        codec: Its workbench :class:`~workbench.codec.codec.Codec`, or None when its codec is not one.
    """

    info: ModelInfo
    melody: bool
    style: bool
    audio_channels: int
    num_codebooks: int
    low_memory: bool
    codec: Any

    @property
    def kernels(self) -> str: ...

    @property
    def device(self) -> Any: ...

    @property
    def dtype(self) -> Any: ...

    @property
    def sample_rate(self) -> int: ...

    @property
    def frame_rate(self) -> int: ...

    def frames_for(self, duration_s: float) -> int: ...

    def samples_for(self, duration_s: float) -> int: ...

    def weights_sha256(self) -> str: ...

    def generate(self, texts: str | Sequence[str], params: GenerationParams | None = None,
                 seeds: int | Sequence[int] | None = None, *, melody: Any = None, prompt_codes: Any = None,
                 progress: Progress | None = None, should_stop: Callable[[], bool] | None = None, preview: Any = None,
                 segments: Any = None, **drafts: Any) -> list[Take]:
        """One take per seed (``texts``: one text, or one per seed), each depending only on its text, parameters,
        conditions and seed."""

    def decode(self, codes: np.ndarray) -> np.ndarray:
        """``[K, T]`` codes to ``[channels, samples]`` float32 audio."""

    def encode(self, audio: np.ndarray) -> np.ndarray:
        """``[channels, samples]`` audio at :attr:`sample_rate` to ``[K, T]`` codes."""


class EngineBase:
    """What the engines share, written once: rates from ``info``, frames and samples for a duration, and the weights
    fingerprint computed once under the engine's lock (subclasses say how: :meth:`_fingerprint`)."""

    info: ModelInfo
    #: Whether the model takes a style reference clip (MusicGen-Style).
    style: bool = False
    #: Whether the text encoder leaves memory between uses.
    low_memory: bool = False

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._weights_sha256: str | None = None

    @property
    def sample_rate(self) -> int:
        return self.info.sample_rate

    @property
    def frame_rate(self) -> int:
        return self.info.frame_rate

    def frames_for(self, duration_s: float) -> int:
        """Codec frames needed to cover ``duration_s`` seconds."""
        return math.ceil(round(duration_s * self.frame_rate, 6))

    def samples_for(self, duration_s: float) -> int:
        """Audio samples of ``duration_s`` seconds."""
        return round(duration_s * self.sample_rate)

    def weights_sha256(self) -> str:
        """A fingerprint of the weights, computed once: file hashes for Hub/local models, tensor bytes for built-ins."""
        with self._lock:
            if self._weights_sha256 is None:
                self._weights_sha256 = self._fingerprint()
            return self._weights_sha256

    def _fingerprint(self) -> str:
        raise NotImplementedError


__all__ = ["Engine", "EngineBase", "Progress"]
