"""Hashes the workbench records: of files (drafts, audio, weights) and of codes (every take's identity)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np


def file_sha256(path: str | Path) -> str:
    """SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def codes_sha256(codes: np.ndarray) -> str:
    """SHA-256 of codes as little-endian int32 in C order, shape ``[K, T]`` (the hash every sidecar records)."""
    import numpy as np  # here: file hashes are needed where numpy is not (prompt files)

    return hashlib.sha256(np.ascontiguousarray(codes, dtype="<i4").tobytes()).hexdigest()


def samples_sha256(audio: np.ndarray) -> str:
    """SHA-256 of decoded audio samples as float32 in C order (before any file encoding; a file's bytes are hashed by
    :func:`file_sha256`)."""
    import numpy as np

    return hashlib.sha256(np.ascontiguousarray(audio, dtype=np.float32).tobytes()).hexdigest()
