"""Audio files and DSP: read/write (soundfile), resample and channels (torchaudio), loudness (pyloudnorm).

Audio arrays are float32 ``[channels, samples]`` everywhere; ``sample_rate`` is in Hz.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

from workbench.core.atomic import atomic_path
from workbench.core.errors import AudioFileError, ParamsError

#: Output formats by extension, and the subtypes (encodings) each accepts; the first is the default. libsndfile
#: (bundled with soundfile) writes all of them.
WRITE_FORMATS: dict[str, tuple[str, tuple[str, ...]]] = {
    ".wav": ("WAV", ("PCM_16", "PCM_24", "FLOAT")),
    ".flac": ("FLAC", ("PCM_16", "PCM_24")),
    ".mp3": ("MP3", ("MPEG_LAYER_III",)),
    ".ogg": ("OGG", ("VORBIS", "OPUS")),
    ".opus": ("OGG", ("OPUS",)),
}
#: Encodings that lose information: their files' hashes change with the encoder, never their codes.
LOSSY = ("MPEG_LAYER_III", "VORBIS", "OPUS")
#: Opus encodes only these rates; other audio is resampled to 48 kHz when written as Opus.
OPUS_RATES = (8000, 12000, 16000, 24000, 48000)
#: Constant MP3 bitrates (kbps) a 32-48 kHz take can be written at (MPEG-1 Layer III; LAME refuses 32 here).
MP3_BITRATES = (40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320)
#: Below this RMS (about -80 dBFS) a draft counts as silent.
SILENCE_RMS = 1e-4
#: Ceiling for the peak after loudness normalisation: -1 dBFS, so no sample clips.
PEAK_CEILING = 10 ** (-1 / 20)


@dataclass(frozen=True)
class Encoding:
    """How a take's audio is encoded: a subtype (see :data:`WRITE_FORMATS`) and, for lossy ones, the size.

    Attributes:
        subtype: ``PCM_16``, ``PCM_24``, ``FLOAT``, ``VORBIS``, ``OPUS``...; None: the format's default.
        bitrate_kbps: MP3 only: a constant bitrate from :data:`MP3_BITRATES`.
        quality: MP3, Vorbis and Opus: variable-bitrate quality 0 (best, largest) to 9 (smallest), LAME's
            ``-V`` scale for MP3. Neither given: libsndfile's default (about 60 kbps VBR for a mono MP3).
    """

    subtype: str | None = None
    bitrate_kbps: int | None = None
    quality: int | None = None

    def check(self, path: Path) -> tuple[str, str]:
        """The (format, subtype) for ``path``, after checking that its settings fit the format."""
        fmt, subtype = check_format(path, self.subtype)
        if self.bitrate_kbps is not None and self.quality is not None:
            raise AudioFileError("give a bitrate (constant) or a quality (variable), not both")
        if self.bitrate_kbps is not None and (fmt != "MP3" or self.bitrate_kbps not in MP3_BITRATES):
            raise AudioFileError(f"a bitrate is for MP3, one of {', '.join(map(str, MP3_BITRATES))} kbps; got "
                                 f"{self.bitrate_kbps} for {path.suffix or path.name}")
        if self.quality is not None and (subtype not in LOSSY or self.quality not in range(10)):
            raise AudioFileError(f"a quality is 0 (best) to 9 (smallest) for MP3, Ogg Vorbis or Opus; got "
                                 f"{self.quality} for {path.suffix or path.name}")
        return fmt, subtype

    def sf_options(self, subtype: str) -> dict[str, Any]:
        """``soundfile`` settings for a file of (resolved) ``subtype``: libsndfile maps a compression level c to
        ``320 - 288 c`` kbps for constant MP3 (LAME takes the nearest standard rate), to LAME's VBR quality
        ``10 c`` for variable MP3, and to Vorbis and Opus qualities (which take no bitrate mode)."""
        if self.bitrate_kbps is not None:
            return {"compression_level": max(0.0, (320 - self.bitrate_kbps) / 288 - 1e-9), "bitrate_mode": "CONSTANT"}
        if self.quality is not None:
            mode = {"bitrate_mode": "VARIABLE"} if subtype == "MPEG_LAYER_III" else {}
            return {"compression_level": self.quality / 10, **mode}
        return {}

    def record(self) -> dict[str, Any]:
        """What the sidecar says of the lossy settings (nothing when none were chosen)."""
        if self.bitrate_kbps is not None:
            return {"bitrate_mode": "constant", "bitrate_kbps": self.bitrate_kbps}
        return {"bitrate_mode": "variable", "quality": self.quality} if self.quality is not None else {}


#: Bit depths by name, and the subtype each is written as (WAV takes all three, FLAC 16 and 24).
BIT_DEPTHS = {"16": "PCM_16", "24": "PCM_24", "float": "FLOAT"}


def format_ext(name: str, what: str = "format") -> str:
    """``"mp3"`` (or ``".MP3"``) -> ``".mp3"``; an ``AudioFileError`` names the formats otherwise."""
    ext = "." + str(name).strip().lower().lstrip(".")
    if ext not in WRITE_FORMATS:
        raise AudioFileError(f"{what} must be one of {', '.join(e[1:] for e in WRITE_FORMATS)}, got {name!r}")
    return ext


def make_encoding(ext: str, bit_depth: str | None = None, bitrate: int | None = None, quality: int | None = None,
                  what: str = "bit depth") -> str | Encoding | None:
    """What a take of extension ``ext`` is written with: a bit depth (WAV/FLAC), Opus for ``.opus``, else the
    format's default (None); with a bitrate or quality an :class:`Encoding` carrying them. Checked here.

    Raises:
        AudioFileError: a bit depth, bitrate or quality the format cannot take.
    """
    base: str | None = "OPUS" if ext == ".opus" else None
    if bit_depth is not None:
        base = BIT_DEPTHS.get(str(bit_depth).strip().lower())
        if base is None or ext not in (".wav", ".flac") or (base == "FLOAT" and ext != ".wav"):
            raise AudioFileError(f"{what} {bit_depth!r}: WAV takes 16, 24 or float, FLAC 16 or 24; {ext[1:]} has none")
    if bitrate is None and quality is None:
        return base
    encoding = Encoding(base, bitrate, quality)
    encoding.check(Path("take" + ext))
    return encoding


def as_encoding(subtype: str | Encoding | None) -> Encoding:
    """An :class:`Encoding` from what callers pass as ``subtype`` (a name, an Encoding, or None)."""
    return subtype if isinstance(subtype, Encoding) else Encoding(subtype)


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


def check_format(path: Path, subtype: str | Encoding | None = None) -> tuple[str, str]:
    """The (format, subtype) ``path`` will be written in, or an ``AudioFileError`` saying what is possible."""
    if isinstance(subtype, Encoding):
        return subtype.check(path)
    suffix = path.suffix.lower()
    if suffix not in WRITE_FORMATS:
        raise AudioFileError(f"{path}: cannot write {suffix or 'files without an extension'}; use "
                             f"{', '.join(WRITE_FORMATS)}")
    fmt, subtypes = WRITE_FORMATS[suffix]
    subtype = (subtype or subtypes[0]).upper()
    if subtype not in subtypes:
        raise AudioFileError(f"{path}: {fmt} cannot store {subtype}; choose one of {', '.join(subtypes)}")
    return fmt, subtype


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
