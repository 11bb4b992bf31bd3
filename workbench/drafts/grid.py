"""MusicGen-Melody's chroma grid: frame rate, one-hot rows, and held pitch classes (shared by audio, MIDI and chord
drafts)."""

from __future__ import annotations

import numpy as np

#: Sample rate (Hz) and hop (samples) of MusicGen-Melody's chroma analysis.
CHROMA_SAMPLE_RATE, CHROMA_HOP = 32000, 4096
#: Chroma frames per second (7.8125).
CHROMA_RATE: float = 32000 / 4096


def one_hot(pitch: np.ndarray) -> np.ndarray:
    """``[frames]`` pitch classes (-1: none) to ``[frames, 12]`` float32 one-hot rows (zeros for -1)."""
    chroma = np.zeros((len(pitch), 12), dtype=np.float32)
    known = pitch >= 0
    chroma[np.flatnonzero(known), pitch[known]] = 1.0
    return chroma


def hold(pitch: np.ndarray) -> np.ndarray:
    """Frames without a pitch class (-1) hold the previous one; leading ones take the first known one."""
    known = np.flatnonzero(pitch >= 0)
    if known.size == 0:
        return pitch
    index = np.maximum.accumulate(np.where(pitch >= 0, np.arange(len(pitch)), known[0]))
    return pitch[index]
