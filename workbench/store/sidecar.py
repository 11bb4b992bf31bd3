"""Provenance sidecars: a versioned JSON record beside every audio file, and reading it back safely.

Schema 1 (``<name>.json`` beside ``<name>.wav``)::

    schema, kind, created, workbench_version, versions{python, torch, transformers, audiocraft (when installed)}
    seed, prompt{text, library, library_file, entry_id, template_id, bpm, key, time_signature, segments}, params{...}
    model{name, kind, source, revision, architecture, weights_sha256, sample_rate, frame_rate, ...}
    device, dtype, kernels (absent = torch), sample_rate, num_samples, duration_s
    audio{file, format, subtype, lossy, sample_rate, channels, sha256, peak_dbfs, loudness_lufs, loudness_target},
    audio_sha256
    analysis{bpm, key, beat_strength, key_strength, method}: the tempo and key measured from the audio as written
    (:mod:`workbench.analysis.tempo_key`; bpm and key None when unknown; absent from sidecars written before it)
    codes{file, shape}, codes_sha256
    draft (melody / chords / continuation / branch record, file names relative to the sidecar, sha256), windows,
    extra, wall_s, batch_size, cost{wall_s, steps, steps_per_s, realtime_factor, peak_rss_gb | peak_cuda_gb,
    batch_size, device, dtype}, render_key, user{rating, favorite, notes, tags}

Paths are stored relative to the sidecar (or as bare names): no absolute home paths leak into a
shared take. Readers refuse unknown schema versions and wrong types with one clear line.
"""

from __future__ import annotations

import hashlib
import json
import platform
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from workbench.core.atomic import write_bytes
from workbench.core.conditions import Conditions
from workbench.core.errors import ParamsError, ProvenanceError
from workbench.core.hashing import file_sha256
from workbench.core.params import GenerationParams
from workbench.core.records import check_kind_and_schema
from workbench.core.segments import keyed_text

SCHEMA = 1
KIND = "musicgen-workbench.take"


def versions() -> dict[str, str]:
    """Library versions that can change a take's numbers."""
    import torch
    import transformers

    from workbench import __version__

    found = {"workbench": __version__, "python": platform.python_version(), "torch": torch.__version__,
             "transformers": transformers.__version__}
    try:  # the optional audiocraft backend (docs/audiocraft.md), when installed
        found["audiocraft"] = metadata.version("tts-webui-audiocraft")
    except metadata.PackageNotFoundError:
        pass
    return found


def render_key(model: str, text: str, params: dict[str, Any], seed: int, draft: dict[str, Any] | None,
               decoder: str | None = None) -> str:
    """Identity of a job: the same key means the same take (used to skip finished work on resume).

    Args:
        model: The model name as given (``small``, ``tiny``, a Hub id).
        text, params, seed: The request.
        draft: :meth:`workbench.core.conditions.Conditions.identity` of the job's drafts (file hashes and options), or
            None.
        decoder: The decoder other than the model's EnCodec (``"mbd"``), or None (keys of EnCodec takes unchanged).
    """
    identity = {"model": model, "text": text, "params": params, "seed": seed, "draft": draft}
    if decoder not in (None, "encodec"):
        identity["decoder"] = decoder
    return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:32]


def conditions_key(model: str, text: str, params: GenerationParams, seed: int, conditions: Conditions) -> str:
    """:func:`render_key` of a request: the same key as :func:`workbench.store.takes.take_key` gives the take that
    request renders (its sidecar records the same identity)."""
    return render_key(model, keyed_text(text, conditions.segments), params.to_dict(), seed,
                      conditions.identity(params.duration_s), conditions.decoder)


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def write_sidecar(path: str | Path, record: dict[str, Any], *, force: bool = True) -> Path:
    """Write a sidecar atomically (``schema`` and ``kind`` are filled in)."""
    full = {"schema": SCHEMA, "kind": KIND, **record}
    write_bytes(path, (json.dumps(full, indent=2, sort_keys=False) + "\n").encode(), force=force)
    return Path(path)


# field -> accepted types, for the checks readers make before trusting a sidecar
_FIELDS: dict[str, tuple[type, ...]] = {
    "seed": (int,), "prompt": (dict,), "params": (dict,), "model": (dict,), "device": (str,), "dtype": (str,),
    "sample_rate": (int,), "num_samples": (int,), "codes_sha256": (str,), "audio_sha256": (str,),
    "audio": (dict,), "codes": (dict,), "created": (str,),
}


def read_sidecar(path: str | Path) -> dict[str, Any]:
    """Read a sidecar and check its schema and field types.

    Raises:
        ProvenanceError: unreadable JSON, unknown schema version, a missing field or one of the wrong type.
    """
    path = Path(path)
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ProvenanceError(f"{path}: no such sidecar") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ProvenanceError(f"{path}: not a readable JSON sidecar ({error})") from None
    record = check_kind_and_schema(path, record, kind=KIND, schema=SCHEMA, what="take sidecar")
    for key, types in _FIELDS.items():
        value = record.get(key)
        if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
            raise ProvenanceError(f"{path}: field {key!r} must be {' or '.join(t.__name__ for t in types)}, "
                                  f"got {type(value).__name__}")
    if not isinstance(record["prompt"].get("text"), str):
        raise ProvenanceError(f"{path}: field 'prompt.text' must be a string")
    if not isinstance(record["model"].get("name"), str):
        raise ProvenanceError(f"{path}: field 'model.name' must be a string")
    if not isinstance(record["audio"].get("file"), str) or not isinstance(record["codes"].get("file"), str):
        raise ProvenanceError(f"{path}: fields 'audio.file' and 'codes.file' must be strings")
    analysis = record.get("analysis")
    if analysis is not None and not (isinstance(analysis, dict) and _number_or_none(analysis.get("bpm"))
                                     and isinstance(analysis.get("key"), (str, type(None)))):
        raise ProvenanceError(f"{path}: field 'analysis' must hold a number or null 'bpm' and a text or null 'key'")
    try:
        GenerationParams.from_dict(record["params"])
    except ParamsError as error:
        raise ProvenanceError(f"{path}: params: {error}") from None
    return record


def _number_or_none(value: Any) -> bool:
    return value is None or (isinstance(value, (int, float)) and not isinstance(value, bool))


def sidecar_params(record: dict[str, Any]) -> GenerationParams:
    """The generation parameters of a checked sidecar."""
    return GenerationParams.from_dict(record["params"])


def take_is_complete(sidecar: Path, key: str | None = None) -> bool:
    """A finished take: its sidecar reads, matches ``key`` (when given) and its audio file matches its hash."""
    try:
        record = read_sidecar(sidecar)
    except ProvenanceError:
        return False
    if key is not None and record.get("render_key") != key:
        return False
    audio = sidecar.parent / record["audio"]["file"]
    return audio.is_file() and file_sha256(audio) == record["audio_sha256"]
