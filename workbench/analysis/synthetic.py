"""Synthetic music of known tempo and key: a cadence of chords struck on every beat over a click track, made with
numpy from a seed (no files, no downloads), to check :mod:`workbench.analysis.tempo_key` against."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from workbench.core.music import key_name

#: Chords as pitch classes above the tonic (major key: I IV V vi ii; minor key: i iv V (harmonic minor) VI ii°).
_CHORDS = {"I": (0, 4, 7), "IV": (5, 9, 0), "V": (7, 11, 2), "vi": (9, 0, 4), "ii": (2, 5, 9),
           "i": (0, 3, 7), "iv": (5, 8, 0), "VI": (8, 0, 3), "ii°": (2, 5, 8)}
#: The cadences, by mode: two for major keys, two for minor keys; each chord lasts two beats.
CADENCES = {False: (("I", "IV", "V", "I"), ("I", "vi", "ii", "V")),
            True: (("i", "iv", "V", "i"), ("i", "VI", "ii°", "V"))}
#: The tempi of :func:`cases`, beats per minute.
TEMPI = (60, 70, 80, 90, 100, 110, 120, 130, 140, 150, 165, 180)


@dataclass(frozen=True)
class Case:
    """One synthetic piece: its tempo, key (tonic pitch class, 0 = C, and mode), cadence (0 or 1 of
    :data:`CADENCES`), length and the seed of its timbre and noise."""

    bpm: float
    tonic: int
    minor: bool
    cadence: int
    seconds: float
    seed: int

    @property
    def key(self) -> str:
        return key_name(self.tonic, self.minor)


def cases(seconds: float = 10.0) -> list[Case]:
    """48 cases: each tempo of :data:`TEMPI` with both cadences of both modes, the tonics spread over all 12."""
    return [Case(bpm, (i * 5 + j * 7) % 12, minor, cadence, seconds, i * 4 + j)
            for i, bpm in enumerate(TEMPI)
            for j, (minor, cadence) in enumerate([(False, 0), (True, 0), (False, 1), (True, 1)])]


def render(case: Case, sample_rate: int = 32000, *, clicks: bool = True) -> np.ndarray:
    """The case's audio, ``[1, samples]`` float32 peaking at 0.8: on every beat the bar's chord (three tones with
    six harmonics each, a bass note two octaves down, decaying within the beat) and a noise click, louder on the
    first beat of each 4/4 bar; a faint noise floor. The seed picks the harmonics' weights, phases and decay."""
    rng = np.random.default_rng(case.seed)
    total = int(case.seconds * sample_rate)
    out = np.zeros(total)
    beat = 60.0 / case.bpm
    chords = [[(case.tonic + step) % 12 for step in _CHORDS[name]] for name in CADENCES[case.minor][case.cadence]]
    weights = np.concatenate([[1.0], rng.uniform(0.1, 0.6, 5)])
    decay = rng.uniform(2.0, 6.0)
    for index in range(int(np.ceil(case.seconds / beat))):
        start = int(round(index * beat * sample_rate))
        if start >= total:
            break
        chord = chords[(index // 2) % len(chords)]
        t = np.arange(min(int(round(beat * sample_rate)), total - start)) / sample_rate
        note = np.zeros_like(t)
        for pitch_class in chord:
            frequency = 220.0 * 2 ** (((pitch_class - 9) % 12) / 12)  # A3 .. G#4
            for harmonic, weight in enumerate(weights, start=1):
                note += weight * np.sin(2 * np.pi * frequency * harmonic * t + rng.uniform(0, 2 * np.pi)) / harmonic
        note += 1.2 * np.sin(2 * np.pi * 55.0 * 2 ** (((chord[0] - 9) % 12) / 12) * t)
        note *= np.exp(-t * decay)
        if clicks:
            length = min(int(0.015 * sample_rate), len(t))
            note[:length] += (rng.standard_normal(length) * np.exp(-np.arange(length) / sample_rate * 400)
                              * (4.0 if index % 4 == 0 else 2.0))
        out[start:start + len(t)] += note
    out += rng.standard_normal(total) * 0.01 * np.abs(out).max()
    return (out / np.abs(out).max() * 0.8).astype(np.float32)[None]


def noise(seconds: float, color: str, seed: int, sample_rate: int = 32000) -> np.ndarray:
    """``[1, samples]`` float32 noise peaking at 0.5: ``"white"``, ``"pink"`` (1/f power) or ``"brown"`` (1/f²)."""
    rng = np.random.default_rng(seed)
    samples = rng.standard_normal(int(seconds * sample_rate))
    if color != "white":
        spectrum = np.fft.rfft(samples)
        frequency = np.arange(len(spectrum)) + 1.0
        spectrum /= np.sqrt(frequency) if color == "pink" else frequency
        samples = np.fft.irfft(spectrum, len(samples))
    return (samples / np.abs(samples).max() * 0.5).astype(np.float32)[None]


__all__ = ["CADENCES", "Case", "TEMPI", "cases", "noise", "render"]
