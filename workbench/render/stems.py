"""A take's stems: Demucs splits it into drums, bass, other and vocals, written beside it as WAV files that sum
back to the take, each with a sidecar naming the take and the model (:mod:`workbench.store.stems`)."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import numpy as np

from workbench.analysis.separate import DEFAULT_MODEL, load_demucs, separate, sum_to_mixture
from workbench.core.audio import read_audio, resample, to_channels, write_audio
from workbench.core.errors import OutputExistsError
from workbench.core.hashing import file_sha256
from workbench.store.naming import companion, sidecar_path_for, stem_path_for
from workbench.store.sidecar import read_sidecar
from workbench.store.stems import write_stem_sidecar

#: How stems are written: float WAV, so that neither clipping nor 16-bit rounding comes between them and the take.
SUBTYPE = "FLOAT"
#: The most the written stems' sum may differ from the take's audio file, per sample (float32 rounding of the
#: sum; :func:`split_take` measures it on every split and refuses nothing, the tests hold it to this).
SUM_TOLERANCE = 1e-6


@dataclass(frozen=True)
class Stems:
    """A take split into stems.

    Attributes:
        parent: The take's sidecar.
        model: The separation model's name.
        paths: ``{source: stem audio path}`` in the model's source order (``drums``, ``bass``, ``other``, ``vocals``).
        sidecars: ``{source: stem sidecar path}``.
        residual_db: What the separator's own sources left out of the take, dB relative to its RMS.
        max_abs_error: The written stems' sum against the take's audio file, largest sample difference.
    """

    parent: Path
    model: str
    paths: dict[str, Path]
    sidecars: dict[str, Path]
    residual_db: float
    max_abs_error: float


def split_take(take: str | Path, *, model: str = DEFAULT_MODEL, force: bool = False) -> Stems:
    """Split the take whose sidecar (or audio file) is ``take`` into the separation model's sources.

    Each stem has the take's sample rate, channels and exact length (the model's output is resampled and mixed
    back), and each takes an equal share of what the model left out, so the four sum back to the take: the
    separator's residual and the sum's error are measured and recorded in every stem's sidecar. Deterministic
    (no random shifts): the same take and model give the same stems.

    Args:
        take: The take's ``.json`` sidecar or its audio file.
        model: A Demucs model name (``htdemucs``...; ``demucs_unittest``: Demucs' random-weight test model).
        force: Overwrite existing stems.

    Raises:
        ProvenanceError: not a take sidecar. ModelNotFoundError: Demucs missing, the model not loadable (one line,
        no download attempted with ``HF_HUB_OFFLINE=1``). OutputExistsError: a stem exists and not ``force``.
    """
    sidecar = companion(take, ".json")
    record = read_sidecar(sidecar)
    audio_file = sidecar.parent / record["audio"]["file"]
    audio, rate = read_audio(audio_file)
    separator = load_demucs(model)
    paths = {source: stem_path_for(audio_file, source) for source in separator.sources}
    if not force:
        for path in [*paths.values(), *map(sidecar_path_for, paths.values())]:
            if path.exists():
                raise OutputExistsError(f"{path} exists already; pass --force to overwrite it")
    sources, model_rate = separate(audio, rate, separator)
    back = {name: _fit(to_channels(resample(source, model_rate, rate), audio.shape[0]), audio.shape[-1])
            for name, source in sources.items()}
    stems, residual_db = sum_to_mixture(audio, back)
    for name, path in paths.items():
        write_audio(path, stems[name], rate, subtype=SUBTYPE, force=True)
    total = np.sum([read_audio(path)[0] for path in paths.values()], axis=0, dtype=np.float64)
    error = total - read_audio(audio_file)[0]
    max_abs = float(np.max(np.abs(error)))
    rms = float(np.sqrt(np.mean(np.square(error))))
    energy = float(np.sqrt(np.mean(np.square(audio, dtype=np.float64))))
    summary = {"residual_db": _db(residual_db), "max_abs_error": max_abs,
               "rms_error_db": _db(20 * np.log10(rms / energy) if rms > 0 and energy > 0 else float("-inf"))}
    model_record = {"name": model, "library": f"demucs {metadata.version('demucs')}", "sample_rate": model_rate,
                    "audio_channels": int(separator.audio_channels), "shifts": 0}
    parent = {"sidecar": sidecar.name, "audio": audio_file.name, "audio_sha256": file_sha256(audio_file)}
    sidecars = {}
    for name, path in paths.items():
        sidecars[name] = write_stem_sidecar(sidecar_path_for(path), {
            "source": name, "sources": list(paths), "parent": parent, "model": model_record,
            "audio": {"file": path.name, "format": "WAV", "subtype": SUBTYPE, "sample_rate": rate,
                      "channels": int(audio.shape[0]), "num_samples": int(audio.shape[-1]),
                      "sha256": file_sha256(path)},
            "sum": summary}, force=True)
    return Stems(sidecar, model, paths, sidecars, residual_db, max_abs)


def _fit(audio: np.ndarray, samples: int) -> np.ndarray:
    """``audio`` cut or zero-padded to exactly ``samples`` (resampling there and back can add one)."""
    return np.pad(audio[:, :samples], ((0, 0), (0, max(0, samples - audio.shape[-1]))))


def _db(value: float) -> float | None:
    return round(float(value), 2) if np.isfinite(value) else None


__all__ = ["SUBTYPE", "SUM_TOLERANCE", "Stems", "split_take"]
