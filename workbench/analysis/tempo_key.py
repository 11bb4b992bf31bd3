"""A take's tempo and key, measured from its audio with librosa: the beat tracker for the tempo, a chromagram
against Temperley's key profiles for the key; None where the audio is too short, has no beat or no key.

librosa is imported on the first measurement of audio long enough to measure (its import costs seconds, once per
process); the choice of librosa over essentia, the thresholds and the costs are measured in
``benchmarks/tempo_key.py`` (see docs/analysis.md).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from importlib import metadata
from typing import Any

import numpy as np

from workbench.core.music import MAX_BPM, MIN_BPM, key_name

#: Shorter audio is not measured (too few beats and chords to tell): its tempo and key are unknown.
MIN_SECONDS = 4.0
#: Least beat strength (mean onset strength on the tracked beats over the mean onset strength) of audio with a
#: beat; noise stays under 1.7, music with a beat measured 2.9 and above (docs/analysis.md).
MIN_BEAT_STRENGTH = 2.0
#: Least correlation of the chroma with the best key profile, and least contrast of the chroma (its standard
#: deviation over its mean: noise has an even chroma, about 0.07 at most) for a key to be named.
MIN_KEY_STRENGTH, MIN_CHROMA_CONTRAST = 0.5, 0.15
#: Beats needed to fit a tempo.
MIN_BEATS = 4
#: Temperley's (1999) key profiles, tonic first: how much each pitch class weighs in a major and a minor key.
TEMPERLEY = (np.array([5.0, 2.0, 3.5, 2.0, 4.5, 4.0, 2.0, 4.5, 2.0, 3.5, 1.5, 4.0]),
             np.array([5.0, 2.0, 3.5, 4.5, 2.0, 4.0, 2.0, 4.5, 3.5, 2.0, 1.5, 4.0]))
#: Krumhansl and Kessler's (1982) probe-tone profiles, compared with Temperley's in the benchmark.
KRUMHANSL = (np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88]),
             np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17]))
_HOP, _CHROMA_FFT = 512, 4096


@dataclass(frozen=True)
class TempoKey:
    """What :func:`measure` found.

    Attributes:
        bpm: Beats per minute (0.1 resolution), or None (too short, no beat).
        key: ``"A minor"``, ``"Eb major"``..., or None (too short, no clear key).
        beat_strength: Mean onset strength on the beats over the mean onset strength (None when not measured).
        key_strength: Correlation of the chroma with the key's profile, -1..1 (None when not measured).
        method: What measured it, e.g. ``"librosa 0.11.0, Temperley profiles"``.
    """

    bpm: float | None
    key: str | None
    beat_strength: float | None
    key_strength: float | None
    method: str

    def record(self) -> dict[str, Any]:
        """The sidecar's ``analysis`` field."""
        return asdict(self)

    @classmethod
    def from_record(cls, record: dict[str, Any] | None) -> TempoKey | None:
        """The value of a sidecar's ``analysis`` field (None for a sidecar written before it existed)."""
        if not isinstance(record, dict):
            return None
        return cls(**{name: record.get(name) for name in ("bpm", "key", "beat_strength", "key_strength")},
                   method=str(record.get("method") or ""))


def method() -> str:
    """The measuring library and version, as recorded."""
    try:
        version = metadata.version("librosa")
    except metadata.PackageNotFoundError:
        version = "missing"
    return f"librosa {version}, Temperley profiles"


def measure(audio: np.ndarray, sample_rate: int) -> TempoKey:
    """The tempo and key of ``[channels, samples]`` (or ``[samples]``) audio at ``sample_rate`` Hz.

    Audio shorter than :data:`MIN_SECONDS`, silent or not finite is not measured (both None, librosa not
    imported); a tempo needs a beat (:data:`MIN_BEAT_STRENGTH`), a key a clear chroma (:data:`MIN_KEY_STRENGTH`,
    :data:`MIN_CHROMA_CONTRAST`). Deterministic: the same audio gives the same result.
    """
    mono = np.asarray(audio, dtype=np.float32).reshape(-1, np.shape(audio)[-1]).mean(axis=0)
    if mono.size < MIN_SECONDS * sample_rate or not np.all(np.isfinite(mono)) or not np.any(np.abs(mono) > 1e-4):
        return TempoKey(None, None, None, None, method())
    bpm, beat_strength = _tempo(mono, sample_rate)
    key, key_strength = _key(mono, sample_rate)
    return TempoKey(bpm, key, beat_strength, key_strength, method())


def _tempo(mono: np.ndarray, sample_rate: int) -> tuple[float | None, float]:
    import librosa

    envelope = librosa.onset.onset_strength(y=mono, sr=sample_rate, hop_length=_HOP)
    _, beats = librosa.beat.beat_track(onset_envelope=envelope, sr=sample_rate, hop_length=_HOP, units="frames")
    mean = float(envelope.mean())
    strength = float(envelope[beats].mean() / mean) if len(beats) and mean > 0 else 0.0
    if strength < MIN_BEAT_STRENGTH or len(beats) < MIN_BEATS:
        return None, round(strength, 3)
    # the slope of the beat times, fitted over every beat: finer than the tracker's own tempo, which is quantised
    # to whole onset frames (16 ms at 32 kHz, 1 % at 110 BPM)
    times = librosa.frames_to_time(beats, sr=sample_rate, hop_length=_HOP)
    period = float(np.polyfit(np.arange(len(times)), times, 1)[0])
    bpm = 60.0 / period if period > 0 else 0.0
    return (round(bpm, 1) if MIN_BPM <= bpm <= MAX_BPM else None), round(strength, 3)


def chroma_profile(mono: np.ndarray, sample_rate: int) -> np.ndarray:
    """The mean chroma ``[12]`` (C first) of mono audio: librosa's STFT chromagram, tuned to A = 440 Hz."""
    import librosa

    chroma = librosa.feature.chroma_stft(y=mono, sr=sample_rate, n_fft=_CHROMA_FFT, hop_length=_CHROMA_FFT // 2,
                                         tuning=0.0)
    return chroma.mean(axis=1)


def best_key(profile: np.ndarray, profiles: tuple[np.ndarray, np.ndarray] = TEMPERLEY) -> tuple[str, float]:
    """The key whose profile (rotated to each of the 12 tonics, major and minor) correlates best with a
    ``[12]`` chroma profile, and that correlation."""
    scores = [(float(np.corrcoef(profile, np.roll(shape, tonic))[0, 1]), tonic, minor)
              for minor, shape in enumerate(profiles) for tonic in range(12)]
    score, tonic, minor = max(scores, key=lambda item: item[0])
    return key_name(tonic, bool(minor)), score


def _key(mono: np.ndarray, sample_rate: int) -> tuple[str | None, float | None]:
    profile = chroma_profile(mono, sample_rate)
    if not profile.std() > 0:  # silence or a flat chroma: no profile correlates
        return None, None
    key, score = best_key(profile)
    clear = score >= MIN_KEY_STRENGTH and float(profile.std() / profile.mean()) >= MIN_CHROMA_CONTRAST
    return (key if clear else None), round(score, 3)


__all__ = ["MIN_SECONDS", "TempoKey", "best_key", "chroma_profile", "measure"]
