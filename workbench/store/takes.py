"""Saving a take: audio + token file + provenance sidecar (+ a history row), each written atomically; the
take's tempo and key are measured on the way (:mod:`workbench.analysis.tempo_key`).

The sidecar is written last: a take is complete exactly when its sidecar exists and the audio file's
hash matches it. File names come from :func:`take_path` (batch renders) or :func:`adhoc_path`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from workbench.analysis.tempo_key import measure
from workbench.codec.tokens import token_meta, write_tokens
from workbench.core.atomic import temp_path_for
from workbench.core.audio import (
    LOSSY,
    Encoding,
    as_encoding,
    check_format,
    file_rate,
    loudness_lufs,
    normalize_loudness,
    peak_dbfs,
    peak_safe,
    write_audio,
)
from workbench.core.errors import OutputExistsError, ParamsError, WorkbenchError
from workbench.core.hashing import file_sha256
from workbench.core.segments import keyed_text, segment_records
from workbench.core.take import Take
from workbench.store.naming import codes_path_for, portable_path, sidecar_path_for
from workbench.store.sidecar import now_iso, render_key, versions, write_sidecar


def refuse_existing(paths: Iterable[str | Path], force: bool, *, companions: bool = True) -> None:
    """Raise ``OutputExistsError`` if a file the workbench is about to write exists and not ``force``.

    Called before any model work, so a long render never fails at its end.

    Args:
        paths: Output files.
        force: Overwrite instead of refusing.
        companions: Check each take's sidecar and codes file too (False for a lone file, e.g. a token file).
    """
    if force:
        return
    for path in paths:
        path = Path(path)
        for existing in ((path, sidecar_path_for(path), codes_path_for(path)) if companions else (path,)):
            if existing.exists():
                raise OutputExistsError(f"{existing} exists already; pass --force to overwrite it")


def check_outputs(paths: list[Path], *, force: bool, subtype: str | Encoding | None = None) -> None:
    """Cheap checks before any model work: writable formats and no unintended overwrite."""
    for path in paths:
        check_format(Path(path), subtype)
    refuse_existing(paths, force)


def model_record(take: Take, weights_sha256: str | None) -> dict[str, Any]:
    """The sidecar's ``model`` field: no absolute paths (a local folder is recorded by name + hash)."""
    record = dataclasses.asdict(take.model)
    if take.model.kind == "local":  # relative to the working folder when inside it (reproduce finds it there)
        record["source"] = Path(take.model.source).name
        record["name"] = take.model.name if not os.path.isabs(take.model.name) else portable_path(take.model.name)
    record["weights_sha256"] = weights_sha256
    return record


def take_key(take: Take) -> str:
    """The render key of a take (see :func:`workbench.store.sidecar.render_key`)."""
    identity = (take.draft or {}).get("identity")
    return render_key(take.model.name, keyed_text(take.text, take.segments), take.params.to_dict(), take.seed,
                      identity, (take.extra.get("decoder") or {}).get("name"))


def save_take(
    take: Take,
    path: str | Path,
    *,
    force: bool = False,
    subtype: str | Encoding | None = None,
    loudness: float | None = None,
    weights_sha256: str | None = None,
    prompt_ref: dict[str, Any] | None = None,
    history: Any = None,
) -> dict[str, Any]:
    """Write a take's audio, codes and sidecar; index it in ``history`` when given.

    Args:
        take: The take.
        path: Audio path (``.wav`` or ``.flac``); the codes go to ``<stem>.codes.npz`` and the sidecar to
            ``<stem>.json`` beside it.
        force: Overwrite existing files.
        subtype: The encoding (see :func:`workbench.core.audio.write_audio`); default: the format's own.
        loudness: Target LUFS (ITU-R BS.1770) or None; the peak always stays under -1 dBFS.
        weights_sha256: Fingerprint of the model weights (``engine.weights_sha256()``).
        prompt_ref: ``{"library", "library_file", "entry_id"}`` when the prompt came from a library.
        history: A :class:`workbench.store.history.History` to index the take in.

    Returns:
        The sidecar record as written.

    Raises:
        OutputExistsError: the audio file exists and ``force`` is False (nothing is written).
    """
    path = Path(path)
    sidecar, codes_file = sidecar_path_for(path), codes_path_for(path)
    if path.suffix.lower() == ".json" or path.name.endswith(".codes.npz"):
        raise ParamsError(f"{path}: the audio file needs an audio name (.wav, .flac, .mp3, .ogg, .opus)")
    refuse_existing([path], force)
    if loudness is None:
        audio = peak_safe(take.audio)
    else:
        audio = normalize_loudness(take.audio, take.sample_rate, loudness)
    # Every file goes to a temp sibling first; only when all three are written do they replace the take's files,
    # the sidecar (which vouches for the other two) removed first and written last. Until then an existing take
    # stays whole; a failure or a kill at any point never leaves a sidecar beside files it does not describe.
    staged = {final: temp_path_for(final) for final in (codes_file, path, sidecar)}
    try:
        write_tokens(staged[codes_file], take.codes, token_meta(take.model, num_samples=take.num_samples), force=True)
        tags = {"title": take.text, "artist": f"MusicGen ({take.model.name})",
                "software": f"musicgen-workbench {versions()['workbench']}",
                "comment": f"seed={take.seed} model={take.model.name} params={take.params.to_dict()}; "
                           "reproduce: workbench reproduce <the .json beside this file>"}
        write_audio(staged[path], audio, take.sample_rate, subtype=subtype, force=True, tags=tags)
        record = _record(take, path, staged[path], audio, subtype, loudness, weights_sha256, prompt_ref)
        write_sidecar(staged[sidecar], record)
        if sidecar.exists() and not force:
            raise OutputExistsError(f"{sidecar} appeared while writing; pass --force to overwrite it")
        with contextlib.suppress(FileNotFoundError):
            sidecar.unlink()
        for final, temp in staged.items():
            os.replace(temp, final)
    except OSError as error:
        raise WorkbenchError(f"cannot write the take {path}: {error.strerror or error}") from None
    finally:
        for temp in staged.values():
            with contextlib.suppress(OSError):
                temp.unlink()
    if history is not None:
        history.add(sidecar, record)
    return record


def _record(take: Take, path: Path, written: Path, audio: np.ndarray, subtype: str | Encoding | None,
            loudness: float | None, weights_sha256: str | None, prompt_ref: dict[str, Any] | None) -> dict[str, Any]:
    audio_sha = file_sha256(written)
    fmt, encoding = check_format(path, subtype)
    prompt = {"text": take.text, "library": None, "library_file": None, "entry_id": None, **(prompt_ref or {}),
              **({"segments": segment_records(take.segments)} if take.segments else {})}
    return {
        "created": now_iso(),
        "workbench_version": versions()["workbench"],
        "versions": versions(),
        "seed": take.seed,
        "prompt": prompt,
        "params": take.params.to_dict(),
        "model": model_record(take, weights_sha256),
        "device": take.device,
        "dtype": take.dtype,
        "kernels": take.kernels,
        "sample_rate": take.sample_rate,
        "num_samples": take.num_samples,
        "duration_s": take.duration_s,
        "audio": {"file": path.name, "format": fmt, "subtype": encoding, "lossy": encoding in LOSSY,
                  **as_encoding(subtype).record(),
                  "sample_rate": file_rate(encoding, take.sample_rate), "channels": int(audio.shape[0]),
                  "sha256": audio_sha, "peak_dbfs": _finite(peak_dbfs(audio)),
                  "loudness_lufs": _finite(loudness_lufs(audio, take.sample_rate)), "loudness_target": loudness},
        "audio_sha256": audio_sha,
        "analysis": measure(audio, take.sample_rate).record(),
        "codes": {"file": codes_path_for(path).name, "shape": list(take.codes.shape)},
        "codes_sha256": take.codes_sha256,
        "draft": take.draft,
        "windows": take.windows,
        "extra": take.extra,
        "wall_s": round(take.wall_s, 3),
        "batch_size": take.batch_size,
        "cost": take.cost,
        "render_key": take_key(take),
        "user": {"rating": None, "favorite": False, "notes": "", "tags": []},
    }


def _finite(value: float) -> float | None:
    return round(value, 2) if np.isfinite(value) else None


def check_writable(folder: str | Path) -> Path:
    """Create ``folder`` if needed and make sure files can be written there."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".write-test-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as error:
        raise WorkbenchError(f"output folder {folder} is not writable: {error.strerror or error}") from None
    return folder
