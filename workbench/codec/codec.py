"""EnCodec tokenization: load a codec, encode audio to codes ``[K, T]`` and back, token files, quality reports."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from workbench.codec.tokens import Codes, token_meta
from workbench.core.audio import resample, to_channels
from workbench.core.errors import CodecError


@dataclass(frozen=True)
class Codec:
    """A loaded EnCodec model and the token layout it reads and writes.

    Attributes:
        model: A transformers ``EncodecModel`` (a MusicGen model's ``audio_encoder`` or a standalone checkpoint).
        name: The name it was loaded by (``tiny``, ``small``, ``encodec_24khz``, a Hub id or a folder).
        source: Hub repository id, absolute folder path or built-in name.
        revision: Hub commit hash when known.
        kind: ``builtin``, ``hub`` or ``local`` (as in :class:`~workbench.models.registry.ModelRef`).
        channels: Audio channels of the codes: 1, or 2 for stereo MusicGen (each channel encoded on its own, rows
            interleaved as in :mod:`workbench.codec.tokens`) or a natively stereo codec (``encodec_48khz``).
        bandwidth: Chosen bandwidth in kbit/s (one of :attr:`bandwidths`); None means the highest.
        processor: The checkpoint's ``AutoProcessor`` for standalone EnCodec models; None for MusicGen's codec.
    """

    model: Any = field(repr=False)
    name: str
    source: str
    revision: str | None = None
    kind: str = "hub"
    channels: int = 1
    bandwidth: float | None = None
    processor: Any = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.channels not in (1, 2) or (self.config.audio_channels == 2 and self.channels != 2):
            raise CodecError(f"codec {self.name!r}: cannot lay out {self.channels} channel(s) for an EnCodec model "
                             f"of {self.config.audio_channels} channel(s)")
        if self.bandwidth is not None:
            object.__setattr__(self, "bandwidth", self._match(self.bandwidth))

    @property
    def config(self) -> Any:
        return self.model.config

    @property
    def sample_rate(self) -> int:
        """Audio sample rate, Hz."""
        return int(self.config.sampling_rate)

    @property
    def hop_length(self) -> int:
        """Audio samples per codec frame."""
        return int(self.config.hop_length)

    @property
    def frame_rate(self) -> int:
        """Codec frames per second."""
        return int(self.config.frame_rate)

    @property
    def codebook_size(self) -> int:
        return int(self.config.codebook_size)

    @property
    def bandwidths(self) -> list[float]:
        """Available bandwidths, kbit/s per encoder pass (e.g. ``[1.5, 3.0, 6.0, 12.0, 24.0]`` at 24 kHz)."""
        return [float(b) for b in self.config.target_bandwidths]

    @property
    def passes(self) -> int:
        """Encoder passes per clip: 2 for stereo MusicGen (left, right), else 1."""
        return self.channels if int(self.config.audio_channels) == 1 else 1

    @property
    def num_codebooks(self) -> int:
        """Rows K of the codes at the chosen bandwidth (all passes)."""
        return self.codebooks_at(self.bandwidth) * self.passes

    @property
    def audio_channels(self) -> int:
        """Alias of :attr:`channels` (the name :func:`workbench.codec.tokens.token_meta` reads)."""
        return self.channels

    @property
    def bitrate_kbps(self) -> float:
        """``K × log2(codebook_size) × frame_rate / 1000`` kbit/s."""
        return self.num_codebooks * math.log2(self.codebook_size) * self.frame_rate / 1000

    @property
    def chunk_frames(self) -> int | None:
        """Frames per chunk for codecs that work on overlapping chunks (``encodec_48khz``: 150), else None."""
        length = self.config.chunk_length
        return None if length is None else math.ceil(length / self.hop_length)

    def codebooks_at(self, bandwidth: float | None) -> int:
        """Codebooks per encoder pass at ``bandwidth`` kbit/s (None: the highest)."""
        chosen = max(self.bandwidths) if bandwidth is None else self._match(bandwidth)
        return int(self.model.quantizer.get_num_quantizers_for_bandwidth(chosen))

    def at(self, bandwidth: float | None) -> Codec:
        """This codec set to another bandwidth (validated)."""
        return dataclasses.replace(self, bandwidth=bandwidth)

    def _match(self, bandwidth: float) -> float:
        for offered in self.config.target_bandwidths:
            if math.isclose(float(bandwidth), float(offered), rel_tol=1e-6):
                return offered  # the config's own value: transformers checks membership exactly
        raise CodecError(f"codec {self.name!r} has no {bandwidth:g} kbit/s bandwidth; choose one of "
                         f"{', '.join(f'{b:g}' for b in self.bandwidths)}")


# --- loading ---------------------------------------------------------------------------------------------

def musicgen_codec(model: Any, *, name: str, source: str, revision: str | None, kind: str) -> Codec:
    """The codec of a MusicGen model (its ``audio_encoder``; shares the weights): stereo models encode each channel."""
    return Codec(model=model.audio_encoder, name=name, source=source, revision=revision, kind=kind,
                 channels=int(model.decoder.config.audio_channels))


def codec_of(engine: Any) -> Codec:
    """The codec of an already loaded :class:`~workbench.engine.Engine` (shares its weights; no reload)."""
    return engine.codec


def as_codec(codec_or_engine: Any) -> Codec:
    """A :class:`Codec` as is, or the codec of an Engine."""
    if isinstance(codec_or_engine, Codec):
        return codec_or_engine
    if isinstance(getattr(codec_or_engine, "codec", None), Codec):
        return codec_or_engine.codec
    raise TypeError(f"expected a Codec or an Engine, got {type(codec_or_engine).__name__}")


# --- encode / decode -------------------------------------------------------------------------------------

def prepare_audio(codec: Codec, audio: np.ndarray, sample_rate: int) -> np.ndarray:
    """Check audio and bring it to the codec's rate and channels: what :func:`encode` feeds the codec.

    Args:
        codec: The codec.
        audio: float ``[C, S]`` (or ``[S]``) at ``sample_rate`` Hz.
        sample_rate: Hz.

    Returns:
        float32 ``[codec.channels, S']`` at ``codec.sample_rate`` (``S' = ceil(S × codec rate / sample_rate)``).

    Raises:
        CodecError: 0 samples, a bad shape or rate, or non-finite samples.
    """
    wav = np.asarray(audio, dtype=np.float32)
    wav = wav[None] if wav.ndim == 1 else wav
    if wav.ndim != 2:
        raise CodecError(f"audio must be [channels, samples], got shape {list(np.shape(audio))}")
    if wav.shape[-1] == 0 or wav.shape[0] == 0:
        raise CodecError("the audio holds 0 samples: nothing to encode")
    if isinstance(sample_rate, bool) or not isinstance(sample_rate, (int, np.integer)) or sample_rate <= 0:
        raise CodecError(f"sample rate must be a positive integer (Hz), got {sample_rate!r}")
    if not np.all(np.isfinite(wav)):
        raise CodecError("the audio holds NaN or infinite samples")
    return to_channels(resample(wav, int(sample_rate), codec.sample_rate), codec.channels)


def encode(codec_or_engine: Any, audio: np.ndarray, sample_rate: int, *, bandwidth: float | None = None) -> Codes:
    """Encode audio to codes.

    Args:
        codec_or_engine: A :class:`Codec` or an Engine (its codec is used).
        audio: float ``[C, S]`` (or ``[S]``) at ``sample_rate``; resampled to the codec's rate, mixed down to mono
            or repeated to stereo to match :attr:`Codec.channels`.
        sample_rate: Hz.
        bandwidth: kbit/s, one of :attr:`Codec.bandwidths`; default the codec's chosen (else highest).

    Returns:
        :class:`Codes` int64 ``[K, T]`` with ``T = ceil(samples_at_codec_rate / hop)`` (chunked codecs:
        ``chunks × chunk_frames``), and metadata with ``num_samples`` = samples at the codec rate.

    Raises:
        CodecError: 0 samples, bad shape, non-finite samples, or an unknown bandwidth.
    """
    codec = as_codec(codec_or_engine)
    codec = codec if bandwidth is None else codec.at(bandwidth)
    wav = prepare_audio(codec, audio, sample_rate)
    model, chosen = codec.model, max(codec.bandwidths) if codec.bandwidth is None else codec.bandwidth
    num_samples = int(wav.shape[-1])
    chunk, stride = codec.config.chunk_length, codec.config.chunk_stride
    if chunk is not None:  # whole chunks: transformers' loop mishandles two short chunks at the end
        count = math.ceil(max(num_samples - chunk, 0) / stride) + 1
        wav = np.pad(wav, ((0, 0), (0, stride * (count - 1) + chunk - num_samples)))
    tensor = torch.as_tensor(wav, device=model.device, dtype=model.dtype)
    groups = [tensor] if codec.passes == 1 else [tensor[i:i + 1] for i in range(codec.passes)]
    rows, scales = [], []
    with torch.inference_mode():
        for group in groups:
            out = model.encode(group[None], bandwidth=chosen, return_dict=True)
            flat = torch.cat(list(out.audio_codes[:, 0]), dim=-1)  # chunks [n, K, F] -> [K, n * F]
            rows.append(flat[..., :flat.shape[-1] - int(out.last_frame_pad_length or 0)])
            scales.append([None if s is None else float(s.flatten()[0]) for s in out.audio_scales])
    codes = torch.stack(rows, dim=1).reshape(-1, rows[0].shape[-1]) if len(rows) > 1 else rows[0]
    meta = token_meta(codec.at(chosen), num_samples=num_samples)
    if any(s is not None for group in scales for s in group):
        meta["audio_scales"] = scales  # one list per encoder pass, one scale per chunk
    if chunk is not None:
        meta["chunk_frames"] = codec.chunk_frames
    return Codes(codes=codes.cpu().numpy().astype(np.int64), meta=meta)


def decode_grid(codec: Codec, grid: np.ndarray, audio_scales: list[list[float | None]] | None = None) -> np.ndarray:
    """Decode ``[K, T]`` codes (checked by the caller) to float32 ``[channels, frames × hop]`` audio.

    Each clip is decoded alone (batch of one), so a take's audio never depends on what else was rendered.
    """
    model, passes = codec.model, codec.passes
    tensor = torch.as_tensor(np.asarray(grid), dtype=torch.long, device=model.device)
    groups = [tensor] if passes == 1 else [tensor[i::passes] for i in range(passes)]
    frames = codec.chunk_frames or max(tensor.shape[-1], 1)
    count = max(1, math.ceil(tensor.shape[-1] / frames))
    pad = count * frames - tensor.shape[-1]
    scale_sets = audio_scales or [[None] * count] * len(groups)
    out: list[torch.Tensor] = []
    with torch.inference_mode():
        for group, scales in zip(groups, scale_sets):
            # [K, T] -> [chunks, batch 1, K, F]; the last chunk is zero-padded and decode drops the padding
            chunks = torch.nn.functional.pad(group, (0, pad)).reshape(group.shape[0], count, -1).transpose(0, 1)
            factors = [None if s is None else torch.tensor([[s]], device=model.device) for s in scales]
            if len(factors) != count:
                raise CodecError(f"the codes hold {count} chunk(s) but {len(factors)} audio scale(s)")
            audio = model.decode(chunks[:, None], factors, return_dict=True, last_frame_pad_length=pad).audio_values
            out.extend(audio[0])  # [channels, samples]: one row per channel
    return torch.stack(out).float().cpu().numpy()


def _describe(sample_rate: Any, num_codebooks: Any, codebook_size: Any, channels: Any) -> str:
    return f"{sample_rate} Hz, {num_codebooks} codebooks of {codebook_size}, {channels} channel(s)"


def _check(codec: Codec, codes: np.ndarray, meta: dict[str, Any]) -> None:
    """Refuse codes the codec cannot decode, naming both sides."""
    missing = [k for k in ("sample_rate", "codebook_size", "channels", "num_samples") if k not in meta]
    if missing:
        raise CodecError(f"the codes' metadata lacks {', '.join(missing)}")
    if codes.ndim != 2 or not np.issubdtype(codes.dtype, np.integer) or codes.shape[-1] == 0:
        raise CodecError(f"codes must be an integer [K, T] array with T > 0, got {codes.dtype} {list(codes.shape)}")
    valid_k = sorted({codec.codebooks_at(b) * codec.passes for b in codec.bandwidths})
    theirs = (meta["sample_rate"], meta.get("frame_rate", codec.frame_rate), meta["codebook_size"], meta["channels"])
    if theirs != (codec.sample_rate, codec.frame_rate, codec.codebook_size, codec.channels) or (
            codes.shape[0] not in valid_k) or meta.get("chunk_frames") != codec.chunk_frames:
        made_by = meta["codec"].get("model") if isinstance(meta.get("codec"), dict) else None
        theirs_text = _describe(meta["sample_rate"], codes.shape[0], meta["codebook_size"], meta["channels"])
        ours_text = _describe(codec.sample_rate, "/".join(map(str, valid_k)), codec.codebook_size, codec.channels)
        raise CodecError(f"codes from {made_by or 'an unnamed codec'!r} ({theirs_text}) cannot be decoded with codec "
                         f"{codec.name!r} ({ours_text})" + (f"; decode with --model {made_by}" if made_by else ""))
    if codes.size and (codes.min() < 0 or codes.max() >= codec.codebook_size):
        raise CodecError(f"codes fall outside the codebook [0, {codec.codebook_size})")
    if codec.config.normalize and "audio_scales" not in meta:
        raise CodecError(f"codec {codec.name!r} normalises its input, but the codes' metadata has no audio_scales")


def decode(codec_or_engine: Any, codes: Codes) -> np.ndarray:
    """Decode codes to audio of exactly the original length.

    Args:
        codec_or_engine: A :class:`Codec` or an Engine.
        codes: :class:`Codes` (codes ``[K, T]`` + metadata; what :func:`encode` returns and a token file holds).

    Returns:
        float32 ``[C, num_samples]`` at the codec's sample rate. For a take's codes decoded with the take's
        engine this equals ``take.audio`` bit for bit (same decode call as :meth:`Engine.decode`).

    Raises:
        CodecError: sample rate, codebook size, codebook count or channels differ between codes and codec.
    """
    codec = as_codec(codec_or_engine)
    grid, meta = np.asarray(codes.codes), codes.meta
    _check(codec, grid, meta)
    wav = decode_grid(codec, grid, meta.get("audio_scales"))
    if wav.shape[-1] < codes.num_samples:
        raise CodecError(f"the codes cover {wav.shape[-1]} samples, fewer than the recorded num_samples "
                         f"{codes.num_samples}")
    return wav[:, :codes.num_samples]


