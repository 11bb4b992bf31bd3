"""Preview while rendering: decode the codes generated so far, every ~2 s of audio, as new audio chunks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

#: ``preview(chunks)``: one ``[channels, samples]`` float32 array per take, the audio since the last call.
PreviewCallback = Callable[[list[np.ndarray]], None]


class Previewer:
    """Turns growing codes into audio chunks for streaming players.

    Each chunk is decoded with up to ``context_frames`` earlier frames in front (and then cut off), so the
    codec's convolutions see a real left context; the finished take is decoded from all its codes at once
    and may differ from the preview by a little at chunk joins.

    Args:
        engine: The :class:`~workbench.engine.Engine` (its ``decode``).
        callback: Receives the new chunks.
        every_s: Seconds of new audio between previews.
        first_s: Seconds of audio in the first preview (smaller, so the first sound comes early).
        context_frames: Frames decoded in front of each chunk and discarded.
    """

    def __init__(self, engine: Any, callback: PreviewCallback, *, every_s: float = 2.0, first_s: float = 1.0,
                 context_frames: int = 50):
        self.engine = engine
        self.callback = callback
        self.every = max(1, round(every_s * engine.frame_rate))
        self.first = max(1, round(first_s * engine.frame_rate))
        self.context = context_frames
        self.emitted = 0

    def due(self, frames: int) -> bool:
        """Whether ``frames`` complete frames warrant a preview."""
        return frames - self.emitted >= (self.first if self.emitted == 0 else self.every)

    def update(self, codes: np.ndarray) -> None:
        """Emit audio for frames ``[emitted, T)`` of ``codes`` ``[B, K, T]``."""
        frames = codes.shape[-1]
        if frames <= self.emitted:
            return
        start = max(0, self.emitted - self.context)
        hop = self.engine.sample_rate // self.engine.frame_rate
        skip = (self.emitted - start) * hop
        chunks = [self.engine.decode(take[:, start:frames])[:, skip:] for take in codes]
        self.emitted = frames
        self.callback(chunks)
