"""The checks every draft's audio goes through (length, finite samples, silence), with one message style."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from workbench.core.audio import SILENCE_RMS
from workbench.core.errors import DraftError

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
