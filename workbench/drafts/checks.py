"""The checks every draft goes through (length, finite samples, silence, a melody's window), with one message style."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from workbench.core.audio import SILENCE_RMS
from workbench.core.errors import DraftError

#: What melody drafts can be, for messages.
DRAFT_FORMATS = "readable formats: WAV, FLAC, OGG, MP3 (audio) and MIDI (.mid/.midi)"
#: Shortest draft (and melody window) and default longest draft file, seconds.
MIN_DRAFT_S, MAX_DRAFT_S = 1.0, 600.0


def check_length(label: str, path: Path, seconds: float, *, max_s: float, min_s: float | None = MIN_DRAFT_S) -> None:
    """Refuse a draft longer than ``max_s`` (or shorter than ``min_s``; None: no minimum) seconds."""
    if min_s is not None and seconds < min_s:
        raise DraftError(f"{label} {path}: {seconds:.2f} s is too short; give at least {min_s:g} s")
    if seconds > max_s:
        raise DraftError(f"{label} {path}: {seconds:.0f} s is longer than the {max_s:g} s limit; trim it first")


def check_samples(label: str, path: Path, audio: np.ndarray, *, where: str = "") -> None:
    """Refuse audio with NaN or infinite samples, or silent audio (``where`` names the part that was read)."""
    if not np.all(np.isfinite(audio)):
        raise DraftError(f"{label} {path}: the audio holds NaN or infinite samples")
    if float(np.sqrt(np.mean(np.square(audio, dtype=np.float64)))) < SILENCE_RMS:
        raise DraftError(f"{label} {path}: the audio is silent{where}")


def window_bounds(path: Path, duration: float, start_s: float, end_s: float | None, max_s: float
                  ) -> tuple[float, float]:
    """Check the file length and the window; ``end_s`` past the end of the file is clamped to it."""
    duration = float(duration)
    check_length("melody draft", path, duration, max_s=max_s, min_s=None)
    if not (isinstance(start_s, (int, float)) and math.isfinite(start_s) and 0 <= start_s < duration):
        raise DraftError(f"melody draft {path}: start {start_s!r} s is outside the file (0 to {duration:.2f} s)")
    if end_s is not None and not (isinstance(end_s, (int, float)) and math.isfinite(end_s) and end_s > start_s):
        raise DraftError(f"melody draft {path}: end {end_s!r} s must be a number after the start ({start_s:g} s)")
    end = duration if end_s is None else min(float(end_s), duration)
    if end - start_s < MIN_DRAFT_S:
        raise DraftError(f"melody draft {path}: the melody window is {end - start_s:.2f} s; "
                         f"give at least {MIN_DRAFT_S:g} s")
    return float(start_s), end
