"""Output formats and encodings: which files a take can be written as, and how (no numpy: prompt files use it).

:mod:`workbench.core.audio` writes them (and re-exports these names).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workbench.core.errors import AudioFileError

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
#: Constant MP3 bitrates (kbps) a 32-48 kHz take can be written at (MPEG-1 Layer III; LAME refuses 32 here).
MP3_BITRATES = (40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320)


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
