"""Versioned records the workbench writes (sidecars, token files): the one check of their kind and schema."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from workbench.core.errors import ProvenanceError


def check_kind_and_schema(path: str | Path, record: Any, *, kind: str, schema: int, what: str) -> dict[str, Any]:
    """``record`` if it is a mapping of ``kind`` at ``schema``; else one line saying which and what to do.

    Args:
        path: The file, named in the message.
        record: What the file held.
        kind: The expected ``kind`` field (``musicgen-workbench.take``...).
        schema: The schema version this workbench reads; others are refused, never guessed at.
        what: How to call the file in the message (``take sidecar``, ``token file``).

    Raises:
        ProvenanceError: another kind of file, or another schema version.
    """
    if not isinstance(record, dict) or record.get("kind") != kind:
        found = record.get("kind") if isinstance(record, dict) else None
        raise ProvenanceError(f"{path}: not a workbench {what} (kind {found!r})")
    if record.get("schema") != schema:
        raise ProvenanceError(f"{path}: {what} schema {record.get('schema')!r} is not supported (this workbench "
                              f"reads schema {schema}); upgrade musicgen-workbench")
    return record
