"""How much a codec round trip loses (SNR, multi-resolution STFT and mel distances) and a picture of codes."""

from __future__ import annotations

import colorsys
import io
import math
import warnings
from typing import Any

import numpy as np

from workbench.core.errors import CodecError

#: FFT sizes of the multi-resolution STFT distance (hop = n_fft / 4, Hann window).
STFT_SIZES = (512, 1024, 2048)
#: Mel bands of the mel distance (n_fft 1024, hop 256).
MEL_BANDS = 64
#: Floor added before logarithms, so silence compares as equal rather than as -inf.
LOG_FLOOR = 1e-5


def _pair(reference: np.ndarray, reconstruction: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    ref, rec = (np.asarray(x, dtype=np.float32) for x in (reference, reconstruction))
    ref, rec = (x[None] if x.ndim == 1 else x for x in (ref, rec))
    if ref.ndim != 2 or ref.shape != rec.shape:
        raise CodecError(f"reference {list(np.shape(reference))} and reconstruction {list(np.shape(reconstruction))} "
                         "must both be [channels, samples] of the same shape")
    if ref.shape[-1] == 0:
        raise CodecError("cannot compare audio of 0 samples")
    return ref, rec


def snr_db(reference: np.ndarray, reconstruction: np.ndarray) -> float:
    """Signal-to-noise ratio ``10·log10(Σ ref² / Σ (ref − rec)²)`` in dB over all channels and samples.

    ``inf`` for identical signals; ``-inf`` when the reference is silent and the reconstruction is not.
    """
    ref, rec = _pair(reference, reconstruction)
    signal = float(np.sum(ref.astype(np.float64) ** 2))
    noise = float(np.sum((ref.astype(np.float64) - rec) ** 2))
    if noise == 0.0:
        return math.inf
    if signal == 0.0:
        return -math.inf
    return 10.0 * math.log10(signal / noise)


def stft_distance(reference: np.ndarray, reconstruction: np.ndarray) -> float:
    """Multi-resolution STFT distance (Yamamoto et al., Parallel WaveGAN): 0 for identical signals.

    For each FFT size n in :data:`STFT_SIZES` (hop n/4, Hann window, centred frames zero-padded at the edges),
    with magnitudes R (reference) and X (reconstruction) per channel from ``torch.stft``:

    * spectral convergence ``‖R − X‖_F / ‖R‖_F`` (Frobenius norms over channels, bins and frames), plus
    * log-magnitude L1 ``mean |ln max(R, 1e-5) − ln max(X, 1e-5)|``;

    the result is the mean of the sums over the FFT sizes.
    """
    import torch

    ref, rec = (torch.from_numpy(x) for x in _pair(reference, reconstruction))
    total = 0.0
    with torch.inference_mode():
        for n_fft in STFT_SIZES:
            window = torch.hann_window(n_fft)
            mags = [torch.stft(x, n_fft, hop_length=n_fft // 4, window=window, center=True, pad_mode="constant",
                               return_complex=True).abs() for x in (ref, rec)]
            convergence = torch.linalg.vector_norm(mags[0] - mags[1]) / torch.linalg.vector_norm(mags[0]).clamp_min(
                LOG_FLOOR)
            log_l1 = (mags[0].clamp_min(LOG_FLOOR).log() - mags[1].clamp_min(LOG_FLOOR).log()).abs().mean()
            total += float(convergence + log_l1)
    return total / len(STFT_SIZES)


def mel_distance(reference: np.ndarray, reconstruction: np.ndarray, sample_rate: int) -> float:
    """Mean absolute difference of log-mel spectrograms: 0 for identical signals.

    ``torchaudio.transforms.MelSpectrogram`` (64 mel bands up to ``sample_rate / 2``, n_fft 1024, hop 256,
    power 2, centred frames zero-padded at the edges) per channel; the distance is
    ``mean |ln(M_ref + 1e-5) − ln(M_rec + 1e-5)|`` over channels, bands and frames.
    """
    import torch
    import torchaudio

    ref, rec = (torch.from_numpy(x) for x in _pair(reference, reconstruction))
    with warnings.catch_warnings():  # low rates leave some of the 64 bands empty; the distance stays defined
        warnings.simplefilter("ignore")
        mel = torchaudio.transforms.MelSpectrogram(sample_rate=sample_rate, n_fft=1024, hop_length=256,
                                                   n_mels=MEL_BANDS, pad_mode="constant")
    with torch.inference_mode():
        logs = [(mel(x) + LOG_FLOOR).log() for x in (ref, rec)]
        return float((logs[0] - logs[1]).abs().mean())


def quality(reference: np.ndarray, reconstruction: np.ndarray, sample_rate: int) -> dict[str, float]:
    """Compare a reconstruction with its reference (same shape ``[C, S]``, same rate).

    Args:
        reference: float ``[C, S]`` (or ``[S]``): what went into the codec.
        reconstruction: float ``[C, S]``: what came out.
        sample_rate: Hz (for the mel scale).

    Returns:
        ``snr_db`` (:func:`snr_db`, higher is better, ``inf`` when identical), ``stft_distance``
        (:func:`stft_distance`) and ``mel_distance`` (:func:`mel_distance`), both lower-is-better, 0 when identical.

    Raises:
        CodecError: shapes differ, or 0 samples.
    """
    if not (isinstance(sample_rate, int) and sample_rate > 0):
        raise CodecError(f"sample rate must be a positive integer (Hz), got {sample_rate!r}")
    return {"snr_db": snr_db(reference, reconstruction), "stft_distance": stft_distance(reference, reconstruction),
            "mel_distance": mel_distance(reference, reconstruction, sample_rate)}


def _palette(values: np.ndarray) -> np.ndarray:
    """Map values in [0, 1] to RGB uint8 along a hue ramp (blue -> green -> yellow -> red)."""
    ramp = [colorsys.hsv_to_rgb((1.0 - i / 255) * 2 / 3, 0.82, 0.92) for i in range(256)]
    table = np.round(np.array(ramp) * 255).astype(np.uint8)
    return table[np.round(values * 255).astype(np.int64)]


def token_grid_image(codes: Any, *, width: int = 800, height: int = 200, codebook_size: int | None = None) -> bytes:
    """A PNG picture of codes: one horizontal band per codebook (top row = codebook 0), one column per frame.

    Args:
        codes: int ``[K, T]`` (or anything with a ``.codes`` array, e.g. :class:`workbench.codec.Codes`).
        width, height: Image size in pixels (frames and bands are stretched or sampled to fit).
        codebook_size: Value range for the colours; default: the codes' maximum + 1.

    Returns:
        PNG bytes (RGB), blue for low code values through red for high ones, dark lines between codebooks.
    """
    from PIL import Image, ImageDraw

    grid = np.asarray(getattr(codes, "codes", codes))
    if grid.ndim != 2:
        raise CodecError(f"codes must be [K, T], got shape {list(grid.shape)}")
    if not (isinstance(width, int) and isinstance(height, int) and 0 < width <= 16384 and 0 < height <= 16384):
        raise CodecError(f"image size must be positive integers up to 16384, got {width!r} x {height!r}")
    image = Image.new("RGB", (width, height), (24, 24, 28))
    if grid.size:
        top = max(int(codebook_size or grid.max() + 1), 1)
        colours = _palette(np.clip(grid.astype(np.float64) / max(top - 1, 1), 0.0, 1.0))
        image = Image.fromarray(colours).resize((width, height), Image.Resampling.NEAREST)
        if height >= 3 * grid.shape[0]:
            draw = ImageDraw.Draw(image)
            for row in range(1, grid.shape[0]):
                y = round(row * height / grid.shape[0])
                draw.line([(0, y), (width - 1, y)], fill=(24, 24, 28))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()
