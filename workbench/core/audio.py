"""Audio files and DSP: read/write (soundfile), resample and channels (torchaudio), loudness (pyloudnorm).

Audio arrays are float32 ``[channels, samples]`` everywhere; ``sample_rate`` is in Hz.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

from workbench.core.atomic import atomic_path
from workbench.core.errors import AudioFileError, ParamsError
from workbench.core.formats import (  # noqa: F401 - re-exported: writers and readers import them from here
    BIT_DEPTHS,
    LOSSY,
    MP3_BITRATES,
    WRITE_FORMATS,
    Encoding,
    as_encoding,
    check_format,
    format_ext,
    make_encoding,
)

#: Opus encodes only these rates; other audio is resampled to 48 kHz when written as Opus.
OPUS_RATES = (8000, 12000, 16000, 24000, 48000)
#: Below this RMS (about -80 dBFS) a draft counts as silent.
SILENCE_RMS = 1e-4
#: Ceiling for the peak after loudness normalisation: -1 dBFS, so no sample clips.
PEAK_CEILING = 10 ** (-1 / 20)


def readable_formats() -> list[str]:
    """Extensions libsndfile reads on this machine (WAV, FLAC, OGG, MP3 where supported...)."""
    return sorted({f".{name.lower()}" for name in sf.available_formats()} | {".mp3", ".ogg", ".wav", ".flac"})


def read_audio(path: str | Path) -> tuple[np.ndarray, int]:
    """Read an audio file as float32 ``[channels, samples]`` and its sample rate.

    Raises:
        AudioFileError: missing, empty or unreadable file, with the reason and the readable formats.
    """
    path = Path(path)
    if not path.is_file():
        raise AudioFileError(f"{path}: no such file")
    if path.stat().st_size == 0:
        raise AudioFileError(f"{path}: the file is empty (0 bytes)")
    try:
        data, rate = sf.read(str(path), dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError) as error:
        reason = str(error).split(":")[-1].strip() or "unreadable"
        raise AudioFileError(
            f"{path}: not a readable audio file ({reason}); readable formats: WAV, FLAC, OGG/Vorbis, MP3, AIFF"
        ) from None
    if data.shape[0] == 0:
        raise AudioFileError(f"{path}: the file holds 0 samples")
    return np.ascontiguousarray(data.T), int(rate)


def write_audio(path: str | Path, audio: np.ndarray, sample_rate: int, *, subtype: str | Encoding | None = None,
                force: bool = False, tags: dict[str, str] | None = None) -> Path:
    """Write ``[channels, samples]`` audio atomically; the format follows the extension (see
    :data:`WRITE_FORMATS`: .wav, .flac, .mp3, .ogg, .opus).

    Args:
        subtype: ``PCM_16`` (default), ``PCM_24`` or ``FLOAT`` (WAV only) for WAV and FLAC; ``VORBIS`` (default)
            or ``OPUS`` for .ogg; or an :class:`Encoding` (a subtype plus an MP3 bitrate or a lossy quality).
            Opus audio is written at :func:`file_rate` (48 kHz for a 32 kHz take).
        force: Overwrite an existing file.
        tags: Embedded metadata (``title``, ``comment``, ``software``, ``artist``, ``date``...): WAV LIST/INFO
            chunk, FLAC/Ogg Vorbis comments or MP3 ID3 (which keeps title, artist and comment), so a shared file
            still tells where it came from.

    Raises:
        AudioFileError: unsupported extension or subtype. OutputExistsError: exists without ``force``.
    """
    path, encoding = Path(path), as_encoding(subtype)
    fmt, subtype = encoding.check(path)
    rate = file_rate(subtype, sample_rate)
    if rate != sample_rate:
        audio = resample(np.asarray(audio, dtype=np.float32), sample_rate, rate)
    frames = np.ascontiguousarray(np.asarray(audio, dtype=np.float32).T)
    if subtype != "FLOAT":
        frames = np.clip(frames, -1.0, 1.0)
    with atomic_path(path, force=force) as temp:
        with sf.SoundFile(str(temp), "w", samplerate=rate, channels=frames.shape[1], format=fmt,
                          subtype=subtype, **encoding.sf_options(subtype)) as handle:
            for key, value in (tags or {}).items():
                setattr(handle, key, _tag_text(value))
            handle.write(frames)
    return path


def file_rate(subtype: str, sample_rate: int) -> int:
    """The rate a file of ``subtype`` is written at: ``sample_rate``, or 48 kHz for Opus at a rate it lacks."""
    return 48000 if subtype == "OPUS" and sample_rate not in OPUS_RATES else int(sample_rate)


def _tag_text(value: Any) -> str:
    # RIFF INFO strings are short ASCII-ish fields: keep them printable and bounded
    text = " ".join(str(value).split())
    return text[:1000]


def read_tags(path: str | Path) -> dict[str, str]:
    """Embedded metadata of an audio file (empty fields left out)."""
    with sf.SoundFile(str(path)) as handle:
        return {k: v for k, v in handle.copy_metadata().items() if v}


def to_channels(audio: np.ndarray, channels: int) -> np.ndarray:
    """Mix down to mono (mean) or up to ``channels`` by repetition."""
    if audio.shape[0] == channels:
        return audio
    mono = audio.mean(axis=0, keepdims=True, dtype=np.float32)
    return np.repeat(mono, channels, axis=0) if channels > 1 else mono


def resample(audio: np.ndarray, from_rate: int, to_rate: int) -> np.ndarray:
    """Band-limited resampling with torchaudio (sinc interpolation)."""
    if from_rate == to_rate:
        return audio
    import torch
    import torchaudio.functional as AF

    out = AF.resample(torch.from_numpy(np.ascontiguousarray(audio, dtype=np.float32)), from_rate, to_rate)
    return out.numpy()


def peak_dbfs(audio: np.ndarray) -> float:
    """Peak level in dBFS (-inf for silence)."""
    peak = float(np.max(np.abs(audio))) if audio.size else 0.0
    return 20 * np.log10(peak) if peak > 0 else float("-inf")


def loudness_lufs(audio: np.ndarray, sample_rate: int) -> float:
    """Integrated loudness (ITU-R BS.1770-4, pyloudnorm) in LUFS; -inf for silence or clips under 0.4 s."""
    import pyloudnorm

    if audio.shape[-1] < int(0.4 * sample_rate) or not np.any(audio):
        return float("-inf")
    meter = pyloudnorm.Meter(sample_rate)
    return float(meter.integrated_loudness(np.asarray(audio, dtype=np.float64).T))


def normalize_loudness(audio: np.ndarray, sample_rate: int, target_lufs: float) -> np.ndarray:
    """Scale to ``target_lufs``, then lower the gain if needed so the peak stays under -1 dBFS.

    Silence (no measurable loudness) is returned unchanged.
    """
    if not -70 <= target_lufs <= 0:
        raise ParamsError(f"loudness target must be in [-70, 0] LUFS, got {target_lufs!r}")
    current = loudness_lufs(audio, sample_rate)
    if not np.isfinite(current):
        return audio
    gain = 10 ** ((target_lufs - current) / 20)
    peak = float(np.max(np.abs(audio))) * gain
    if peak > PEAK_CEILING:
        gain *= PEAK_CEILING / peak
    return (audio * gain).astype(np.float32)


def peak_safe(audio: np.ndarray) -> np.ndarray:
    """Scale down audio whose peak would clip (over -1 dBFS); quieter audio is left untouched."""
    peak = float(np.max(np.abs(audio))) if audio.size else 0.0
    return (audio * (PEAK_CEILING / peak)).astype(np.float32) if peak > PEAK_CEILING else audio
