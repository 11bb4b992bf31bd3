"""Stem sidecars: the record beside each stem of a take (``x.stem-drums.json`` beside ``x.stem-drums.wav``).

Schema 1, kind ``musicgen-workbench.stem``::

    schema, kind, created, workbench_version
    source (this stem: "drums", "bass", "other", "vocals"...), sources (every stem of the split, in order)
    parent{sidecar, audio, audio_sha256}: the take, file names relative to this sidecar
    model{name, library, sample_rate, audio_channels, shifts}: the separation model (Demucs) and how it ran
    audio{file, format, subtype, sample_rate, channels, num_samples, sha256}
    sum{residual_db, max_abs_error, rms_error_db}: the separator's own residual (its sources against the take, dB
    relative to the take's RMS, before each stem took an equal share of it) and how far the written stems' sum
    is from the take's audio file (both read back)

A stem sidecar is not a take sidecar: ``workbench history --rebuild`` skips it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from workbench import __version__
from workbench.core.atomic import write_bytes
from workbench.core.errors import ProvenanceError
from workbench.core.records import check_kind_and_schema
from workbench.store.sidecar import now_iso

SCHEMA = 1
KIND = "musicgen-workbench.stem"
_FIELDS = {"source": str, "sources": list, "parent": dict, "model": dict, "audio": dict, "sum": dict}


def write_stem_sidecar(path: str | Path, record: dict[str, Any], *, force: bool = False) -> Path:
    """Write a stem's sidecar atomically (``schema``, ``kind``, ``created`` and ``workbench_version`` filled in).

    Raises:
        OutputExistsError: ``path`` exists and not ``force``.
    """
    full = {"schema": SCHEMA, "kind": KIND, "created": now_iso(), "workbench_version": __version__, **record}
    write_bytes(path, (json.dumps(full, indent=2) + "\n").encode(), force=force)
    return Path(path)


def read_stem_sidecar(path: str | Path) -> dict[str, Any]:
    """Read a stem sidecar and check its kind, schema and fields.

    Raises:
        ProvenanceError: unreadable, another kind or schema, or a field missing or of the wrong type.
    """
    path = Path(path)
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ProvenanceError(f"{path}: not a readable stem sidecar ({error})") from None
    record = check_kind_and_schema(path, record, kind=KIND, schema=SCHEMA, what="stem sidecar")
    for key, kind in _FIELDS.items():
        if not isinstance(record.get(key), kind):
            raise ProvenanceError(f"{path}: field {key!r} must be {kind.__name__}, got "
                                  f"{type(record.get(key)).__name__}")
    return record


__all__ = ["KIND", "SCHEMA", "read_stem_sidecar", "write_stem_sidecar"]
