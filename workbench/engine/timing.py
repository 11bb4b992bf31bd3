"""Time facts every engine shares: rates, and how many codec frames and audio samples a duration takes."""

from __future__ import annotations

import math

from workbench.core.take import ModelInfo


class Timing:
    """Mixed into the engines: rates from ``self.info``, frames and samples for a duration."""

    info: ModelInfo

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
