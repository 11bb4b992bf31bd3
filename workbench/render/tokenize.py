"""Token files from audio files and back, and codec round-trip reports (re-exported by :mod:`workbench.codec`)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from workbench.codec.codec import Codec, Codes, as_codec, decode, encode, prepare_audio
from workbench.codec.load import load_codec
from workbench.codec.metrics import quality
from workbench.codec.tokens import read_tokens, write_tokens
from workbench.core.audio import read_audio, write_audio
from workbench.core.errors import CodecError, ProvenanceError
from workbench.core.hashing import file_sha256
from workbench.store.naming import audio_path_for, codes_path_for, reconstruction_path_for
from workbench.store.takes import refuse_existing


def _codec_from(codec: Any) -> Codec:
    """A :class:`Codec` from a Codec, an Engine or a codec name (loaded)."""
    return load_codec(codec) if isinstance(codec, str) else as_codec(codec)


def tokenize_file(path: str | Path, codec: Any, *, out: str | Path | None = None, bandwidth: float | None = None,
                  force: bool = False) -> tuple[Path, Codes]:
    """Encode an audio file to a token file (default ``<stem>.codes.npz`` beside it).

    Args:
        path: Audio file (WAV, FLAC, OGG...; any rate and channel count).
        codec: A :class:`Codec`, an Engine or a codec name.
        out: The token file to write.
        bandwidth: kbit/s, one of ``codec.bandwidths``; default the codec's (highest).
        force: Overwrite ``out``.

    Returns:
        The token file's path and its codes, with the metadata exactly as written (``source_sha256`` included).

    Raises:
        AudioFileError, CodecError, OutputExistsError (exists and not ``force``).
    """
    path = Path(path)
    target = Path(out) if out is not None else codes_path_for(path)
    if target.resolve() == path.resolve():
        raise CodecError(f"{target}: the token file would overwrite its own source audio")
    refuse_existing([target], force, companions=False)
    codec = _codec_from(codec)
    audio, rate = read_audio(path)
    codes = encode(codec, audio, rate, bandwidth=bandwidth)
    write_tokens(target, codes.codes, {**codes.meta, "source_sha256": file_sha256(path)}, force=force)
    written = read_tokens(target)
    return target, Codes(codes=written.codes, meta=written.meta)


def detokenize_file(path: str | Path, *, codec: Any = None, out: str | Path | None = None,
                    force: bool = False) -> Path:
    """Decode a token file to a WAV (default ``<stem>.wav`` beside it, ``x.codes.npz`` -> ``x.wav``).

    Args:
        path: A ``.codes.npz`` token file (:mod:`workbench.codec.tokens`).
        codec: A :class:`Codec`, an Engine or a codec name; default: load the codec the file's metadata names.
        out: The WAV to write (16-bit PCM at the codec's rate; samples beyond ±1 clip).
        force: Overwrite ``out``.

    Returns:
        The WAV's path; it holds exactly ``num_samples`` samples per channel.

    Raises:
        ProvenanceError: missing, truncated, non-npz or unknown-schema file. CodecError: codec mismatch.
        OutputExistsError: the WAV exists and not ``force``.
    """
    path = Path(path)
    tokens = read_tokens(path)
    target = Path(out) if out is not None else audio_path_for(path)
    refuse_existing([target], force, companions=False)
    if codec is None:
        recorded = tokens.meta.get("codec")
        codec = recorded.get("model") if isinstance(recorded, dict) else None
        if not isinstance(codec, str) or not codec:
            raise ProvenanceError(f"{path}: the token file does not name its codec; pass --model")
    codec = _codec_from(codec)
    try:
        audio = decode(codec, tokens)
    except CodecError as error:
        raise CodecError(f"{path}: {error}") from None
    return write_audio(target, audio, codec.sample_rate, force=force)


def codec_report(path: str | Path, codec: Any, *, out: str | Path | None = None, force: bool = False) -> dict[str, Any]:
    """Round-trip an audio file through the codec, write the reconstruction WAV and measure what was lost.

    The reference is the input brought to the codec's rate and channels (what the codec was given), so the
    scores measure the codec alone.

    Args:
        path: Audio file (any rate and channel count).
        codec: A :class:`Codec`, an Engine or a codec name.
        out: The reconstruction WAV (16-bit PCM at the codec's rate).
        force: Overwrite ``out``.

    Returns:
        :func:`quality`'s ``snr_db``, ``stft_distance``, ``mel_distance``, plus ``num_codebooks`` (K),
        ``num_frames`` (T), ``frame_rate`` (Hz), ``bitrate_kbps`` (K × log2(codebook size) × frame rate / 1000),
        ``sample_rate``, ``codebook_size``, ``duration_s``, ``codec`` (name), ``input`` and ``output`` (Paths;
        default output ``<stem>.recon.wav`` beside the input).
    """
    path = Path(path)
    codec = _codec_from(codec)
    target = Path(out) if out is not None else reconstruction_path_for(path)
    if target.resolve() == path.resolve():
        raise CodecError(f"{target}: the reconstruction would overwrite its own source audio")
    refuse_existing([target], force, companions=False)
    audio, rate = read_audio(path)
    codes = encode(codec, audio, rate)
    reconstruction = decode(codec, codes)
    scores = quality(prepare_audio(codec, audio, rate), reconstruction, codec.sample_rate)
    write_audio(target, reconstruction, codec.sample_rate, force=force)
    k, t = codes.codes.shape
    return {**scores, "num_codebooks": k, "num_frames": t, "frame_rate": codec.frame_rate,
            "bitrate_kbps": k * math.log2(codec.codebook_size) * codec.frame_rate / 1000,
            "sample_rate": codec.sample_rate, "codebook_size": codec.codebook_size,
            "duration_s": codes.num_samples / codec.sample_rate, "codec": codec.name, "input": path, "output": target}
