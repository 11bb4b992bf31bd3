"""Seams in audio: how much the sound jumps at a time, as spectral flux there against the audio's own median flux."""

from __future__ import annotations

import numpy as np

#: STFT frame and hop, samples at 32 kHz (scaled to other rates): 32 ms frames, 8 ms apart.
FRAME, HOP = 1024, 256
#: How far from a seam its jump is looked for, seconds (either side): the codec's frames are 20 ms.
REACH_S = 0.02


def spectral_flux(audio: np.ndarray, sample_rate: int) -> tuple[np.ndarray, np.ndarray]:
    """Half-wave rectified spectral flux of ``[channels, samples]`` audio (its channels' mean).

    Returns:
        ``(flux, times)``: ``[F]`` flux between consecutive Hann-windowed STFT frames (the summed magnitude increase
        over the bins) and ``[F]`` the seconds at the boundary between the two frames each compares.
    """
    mono = np.asarray(audio, dtype=np.float64).reshape(-1, np.shape(audio)[-1]).mean(axis=0)
    frame = max(16, round(FRAME * sample_rate / 32000))
    hop = max(1, round(HOP * sample_rate / 32000))
    if mono.size < frame + hop:
        return np.zeros(0), np.zeros(0)
    windows = np.lib.stride_tricks.sliding_window_view(mono, frame)[::hop]
    magnitude = np.abs(np.fft.rfft(windows * np.hanning(frame), axis=-1))
    flux = np.maximum(np.diff(magnitude, axis=0), 0.0).sum(axis=-1)
    times = (np.arange(len(magnitude) - 1) * hop + (frame + hop) / 2) / sample_rate
    return flux, times


def flux_jump(audio: np.ndarray, sample_rate: int, at_s: float, *, reach_s: float = REACH_S) -> float | None:
    """The largest spectral flux within ``reach_s`` of ``at_s``, over the median flux of the whole ``audio``.

    About 1 where the sound changes at a seam no more than it does anywhere; well above 1 for a click or a sudden
    change of timbre. None where ``at_s`` has no frames around it (the audio's ends) or the audio is silent.
    """
    flux, times = spectral_flux(audio, sample_rate)
    near = np.abs(times - at_s) <= reach_s
    median = float(np.median(flux)) if flux.size else 0.0
    if not near.any() or median <= 0 or at_s - reach_s < times[0] or at_s + reach_s > times[-1]:
        return None
    return round(float(flux[near].max()) / median, 4)
