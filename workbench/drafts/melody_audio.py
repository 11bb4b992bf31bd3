"""A melody draft's audio before its chroma: the window read, optionally reduced to what carries the melody
(librosa's harmonic part, or Demucs' vocals + other), mixed to mono at 32 kHz (the choices are named and parsed in
:mod:`workbench.core.stems`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from workbench.core.audio import read_audio, resample, to_channels
from workbench.core.errors import AudioFileError, DraftError
from workbench.drafts.checks import check_samples, window_bounds
from workbench.drafts.grid import CHROMA_SAMPLE_RATE


def melody_audio(path: Path, start_s: float, end_s: float | None, separation: str | None, max_s: float
                 ) -> tuple[np.ndarray, float, float]:
    """The window ``start_s``..``end_s`` of an audio draft as mono float32 at 32 kHz after ``separation``, and the
    window actually used (seconds in the file).

    Raises:
        DraftError: unreadable, silent, bad window, or a separation that is missing or fails.
    """
    try:
        audio, rate = read_audio(path)
    except AudioFileError as error:
        raise DraftError(f"melody draft {error}; melodies can also be MIDI files (.mid/.midi)") from None
    start, end = window_bounds(path, audio.shape[-1] / rate, start_s, end_s, max_s)
    cut = audio[:, round(start * rate):round(end * rate)]
    if separation is not None and separation.startswith("demucs"):
        from workbench.drafts.separate import DEFAULT_MODEL, keep_melody_stems

        check_samples("melody draft", path, cut, where=f" between {start:g} and {end:g} s")
        cut, rate = keep_melody_stems(cut, rate, separation.partition(":")[2] or DEFAULT_MODEL)
    wav = resample(to_channels(cut, 1), rate, CHROMA_SAMPLE_RATE)[0]  # before the extractor: its resampling is broken
    after = " after Demucs removed drums and bass" if separation and separation.startswith("demucs") else ""
    check_samples("melody draft", path, wav, where=f" between {start:g} and {end:g} s{after}")
    if separation == "harmonic":  # librosa's median-filtering HPSS keeps the harmonic part, drops drums and clicks
        try:
            import librosa
        except ImportError:
            raise DraftError(f"melody draft {path}: stem 'harmonic' needs librosa: pip install 'librosa>=0.10'"
                             ) from None
        wav = librosa.effects.harmonic(np.ascontiguousarray(wav, dtype=np.float32)).astype(np.float32)
    return wav, start, end


__all__ = ["melody_audio"]
