"""Repainting a window of a take (``workbench repaint``): its codes outside the window kept exactly, the window sampled
anew per seed by a MAGNeT model whose tokens are the take's codes, decoded with the take's own codec.

A repaint reads the parent's codes from its token file (never decoded and re-encoded). The sidecar's
``draft.repaint`` names the parent's sidecar and token file (relative paths), the parent's codes hash and seed, the
window (seconds and frames), the frames the model saw, the repaint model and its weights, and the sampling settings;
``reproduce`` reads the parent's codes again, refusing in one line when they are gone or changed, and samples the
window again with the recorded model. The take's own ``model`` is the parent's (whose codec decodes the codes).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from workbench.codec.tokens import read_tokens
from workbench.core.errors import DraftError, ProvenanceError
from workbench.core.hashing import codes_sha256
from workbench.core.params import GenerationParams
from workbench.core.seams import flux_jump
from workbench.core.take import Take
from workbench.drafts.draft import relative
from workbench.engine.audiocraft.infill import RepaintSettings
from workbench.engine.audiocraft.install import INSTALL
from workbench.models.catalog import NO_BACKEND, readiness
from workbench.models.registry import repaint_model_for, resolve

#: Why a stereo take cannot be repainted.
STEREO = "a stereo take: MAGNeT's models are mono (EnCodec 32 kHz, 4 codebooks)"
#: The tokens the published MAGNeT models and ``tiny-magnet-50hz`` read: codebooks, entries, frames/s, samples/s.
MAGNET_TOKENS = (4, 2048, 50, 32000)


@dataclass(frozen=True)
class Repaint:
    """A window of a take to repaint.

    Attributes:
        codes: ``[K, T]`` int64: the parent's codes, read from its token file.
        meta: The token file's metadata (rates, codebooks, ``num_samples``).
        start, end: The window, frames of the take.
        record: The part of ``draft.repaint`` known before sampling (paths relative to the repaint's folder).
    """

    codes: np.ndarray
    meta: dict[str, Any]
    start: int
    end: int
    record: dict[str, Any]

    @property
    def window_s(self) -> tuple[float, float]:
        return self.record["from_s"], self.record["to_s"]


def repaint_refusal(record: dict[str, Any]) -> str | None:
    """Why the take a sidecar ``record`` describes cannot be repainted, before anything loads (for a take card's
    action), or None: a stereo take, codes no MAGNeT reads, or the audiocraft backend not installed."""
    model = record["model"]
    if model.get("audio_channels") == 2:
        return STEREO
    space = tuple(model.get(key) for key in ("num_codebooks", "codebook_size", "frame_rate", "sample_rate"))
    if space != MAGNET_TOKENS:
        return (f"its codes are {space[0]} codebooks of {space[1]} at {space[2]} Hz; MAGNeT reads {MAGNET_TOKENS[0]} "
                f"of {MAGNET_TOKENS[1]} at {MAGNET_TOKENS[2]} Hz")
    if readiness(repaint_model_for(model.get("kind", "hub"))) == NO_BACKEND:
        return INSTALL
    return None


def check_repaint_model(name: str) -> str:
    """``name`` when it is a MAGNeT model (what repaints), before anything loads.

    Raises:
        DraftError: another model (a MusicGen, MusicGen-Style); an unknown name raises ``ModelNotFoundError``.
    """
    ref = resolve(name)
    if ref.backend != "audiocraft" or "magnet" not in ref.source:
        raise DraftError(f"--model {name!r} cannot repaint: give a MAGNeT model (magnet-small, magnet-medium, "
                         "tiny-magnet-50hz for built-in takes)")
    return name


def window_frames(from_s: float, to_s: float, total_s: float, frame_rate: int) -> tuple[int, int]:
    """The frames ``[start, end)`` that cover ``from_s`` to ``to_s`` seconds of a take of ``total_s`` seconds.

    Raises:
        DraftError: not ``0 <= from_s < to_s <= total_s``.
    """
    numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in (from_s, to_s))
    if not numbers or not 0 <= from_s < to_s <= total_s + 1e-9:
        raise DraftError(f"--from {from_s!r} --to {to_s!r} s is not a window of the take: give "
                         f"0 <= --from < --to <= {total_s:.2f} s")
    frames = math.ceil(round(total_s * frame_rate, 6))
    return math.floor(round(from_s * frame_rate, 6)), min(math.ceil(round(to_s * frame_rate, 6)), frames)


def _parent_codes(codes_file: Path, recorded_sha: str, what: str) -> tuple[np.ndarray, dict[str, Any]]:
    try:
        tokens = read_tokens(codes_file)
    except ProvenanceError as error:
        raise DraftError(f"cannot {what}: {error}") from None
    if codes_sha256(tokens.codes) != recorded_sha:
        raise DraftError(f"cannot {what}: {codes_file} no longer holds the parent's codes (sha256 differs)")
    if tokens.meta.get("channels") == 2:
        raise DraftError(f"cannot {what} {STEREO}")
    return tokens.codes, tokens.meta


def plan_repaint(parent: str | Path, record: dict[str, Any], from_s: float, to_s: float, *, model: str,
                 record_base: str | Path) -> Repaint:
    """The window ``from_s``-``to_s`` of the take whose sidecar is ``parent`` (its checked ``record``), to be
    repainted by ``model`` into ``record_base``. Loads no model.

    Raises:
        DraftError: a stereo take, a window outside the take or empty, or the parent's token file missing or altered.
    """
    parent = Path(parent)
    total_s = record["num_samples"] / record["sample_rate"]
    start, end = window_frames(from_s, to_s, total_s, int(record["model"]["frame_rate"]))
    codes_file = parent.parent / record["codes"]["file"]
    codes, meta = _parent_codes(codes_file, record["codes_sha256"], "repaint")
    base = Path(record_base)
    info = {"parent": relative(parent, base), "parent_codes_sha256": record["codes_sha256"],
            "codes_file": relative(codes_file, base), "parent_seed": record["seed"], "from_s": float(from_s),
            "to_s": float(to_s), "frames": [start, end], "model": model}
    return Repaint(codes=codes, meta=meta, start=start, end=end, record=info)


def repaint_from_record(info: dict[str, Any], *, base: Path) -> tuple[Repaint, RepaintSettings]:
    """Rebuild a repaint from a sidecar's ``draft.repaint`` (paths relative to ``base``, the sidecar's folder).

    Raises:
        ProvenanceError: not a repaint record.
        DraftError: the parent's token file is gone or no longer holds the recorded codes.
    """
    try:
        codes_file, sha = base / info["codes_file"], info["parent_codes_sha256"]
        start, end = (int(frame) for frame in info["frames"])
        settings = RepaintSettings.from_dict(info["settings"])
        model = str(info["model"])
    except (KeyError, TypeError, ValueError):
        raise ProvenanceError("sidecar field 'draft.repaint' is not a repaint record") from None
    codes, meta = _parent_codes(codes_file, sha, "reproduce the repaint")
    return Repaint(codes=codes, meta=meta, start=start, end=end, record={**info, "model": model}), settings


def check_painter(job: Repaint, painter: Any, engine: Any | None = None) -> None:
    """Refuse, before sampling, a repaint model whose tokens are not the take's codes, or a window longer than its
    segment (``painter``: the loaded MAGNeT engine; ``engine``: the one that decodes the take, when loaded).

    Raises:
        DraftError: another token space (codebooks, their size, frame or sample rate); ``ParamsError`` from the
            engine for a window longer than a segment.
    """
    meta = job.meta
    space = (meta["num_codebooks"], meta["codebook_size"], meta["frame_rate"], meta["sample_rate"])
    for what, info in (("repaint model", painter.info), ("decoding model", engine.info if engine else None)):
        if info is not None and (info.num_codebooks, info.codebook_size, info.frame_rate, info.sample_rate) != space:
            raise DraftError(
                f"cannot repaint: the take's codes are {space[0]} codebooks of {space[1]} at {space[2]} Hz; the "
                f"{what} {info.name!r} has {info.num_codebooks} of {info.codebook_size} at {info.frame_rate} Hz "
                f"(use a MAGNeT over the take's codec: tiny-magnet-50hz for built-in takes, magnet-small otherwise)")
    painter.check_window(job.codes.shape[-1], job.start, job.end)


def repaint_takes(job: Repaint, painter: Any, engine: Any, seeds: list[int], *, text: str,
                  params: GenerationParams, settings: RepaintSettings | None = None, progress: Any = None,
                  should_stop: Any = None) -> list[Take]:
    """Repaint ``job``'s window once per seed with ``painter`` and decode each take with ``engine`` (the parent's
    model); each take's ``extra.seams`` measures the sound's jump at both edges of the window (see
    :func:`workbench.core.seams.flux_jump`), beside the parent's at the same times.
    """
    settings = settings or RepaintSettings()
    check_painter(job, painter, engine)
    results = painter.repaint(job.codes, job.start, job.end, text, seeds, settings=settings, progress=progress,
                              should_stop=should_stop)
    samples, rate = int(job.meta["num_samples"]), engine.sample_rate
    parent_audio = engine.decode(job.codes)[:, :samples]
    edges = [at for at in job.window_s if 0 < at < samples / rate]
    identity = {"repaint": {"parent_codes_sha256": job.record["parent_codes_sha256"], "frames": [job.start, job.end],
                            "model": job.record["model"], "settings": settings.to_dict()}}
    takes = []
    for seed, result in zip(seeds, results):
        audio = engine.decode(result.codes)[:, :samples]
        seams = [{"at_s": at, "flux_jump": flux_jump(audio, rate, at), "parent_flux_jump": flux_jump(parent_audio,
                                                                                                      rate, at)}
                 for at in edges]
        record = {**job.record, "segment": list(result.segment), "model_weights_sha256": painter.weights_sha256(),
                  "settings": settings.to_dict()}
        takes.append(Take(audio=audio, sample_rate=rate, codes=result.codes, seed=seed, text=text, params=params,
                          model=engine.info, device=str(painter.device),
                          dtype=str(painter.dtype).removeprefix("torch."), kernels=painter.kernels,
                          draft={"identity": identity, "repaint": record}, wall_s=result.cost["wall_s"],
                          batch_size=1, cost=result.cost, extra={"seams": seams}))
    return takes


def seam_summary(seams: list[dict[str, Any]]) -> str:
    """One line on a repaint's seams (its ``extra.seams``), e.g. ``seams: at 1 s 1.02x the take's median spectral
    flux (the parent there 1.10x), at 2 s 0.98x (0.95x)``; ``no seam`` for a window over the whole take."""
    def times(value: float | None) -> str:
        return "n/a" if value is None else f"{value:.2f}x"

    parts = [f"at {seam['at_s']:g} s {times(seam['flux_jump'])}" + (
        " the take's median spectral flux (the parent there " if not index else " (")
        + f"{times(seam['parent_flux_jump'])})" for index, seam in enumerate(seams)]
    return "seams: " + ", ".join(parts) if parts else "no seam"
