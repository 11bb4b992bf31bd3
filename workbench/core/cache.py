"""The workbench's on-disk cache of measured facts (kernel choices, weight fingerprints): small JSON stores.

Everything here can be recomputed: a missing, unreadable or corrupt store is treated as empty (and rewritten by
the next :func:`remember`), never an error. Stores are written atomically (:mod:`workbench.core.atomic`), so a
reader sees the old store or the new one; two processes writing at once may lose one entry, never the file.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from workbench.core.atomic import write_bytes
from workbench.core.errors import WorkbenchError

#: Overrides the cache folder (tests point it at a temporary folder).
CACHE_ENV = "WORKBENCH_CACHE_DIR"
#: The store format; a store of another version is ignored.
STORE_VERSION = 1


def cache_dir() -> Path:
    """``$WORKBENCH_CACHE_DIR``, else the user's cache folder for ``musicgen-workbench`` (``platformdirs``)."""
    override = os.environ.get(CACHE_ENV)
    if override:
        return Path(override)
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("musicgen-workbench", appauthor=False))


def _store_path(store: str, folder: Path | None) -> Path:
    return (folder if folder is not None else cache_dir()) / f"{store}.json"


def _entries(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("version") != STORE_VERSION or not isinstance(data.get("entries"), dict):
        return {}
    return data["entries"]


def recall(store: str, key: str, *, folder: Path | None = None) -> Any:
    """The value remembered under ``key`` in ``store`` (``kernels``, ``fingerprints``...), or None."""
    return _entries(_store_path(store, folder)).get(key)


def remember(store: str, key: str, value: Any, *, folder: Path | None = None) -> bool:
    """Remember ``value`` (JSON-serialisable) under ``key``; False (nothing written) where the folder is not
    writable: a cache that cannot be written costs a re-measurement, not a failure."""
    path = _store_path(store, folder)
    entries = {**_entries(path), key: value}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_bytes(path, json.dumps({"version": STORE_VERSION, "entries": entries}, indent=1).encode(), force=True)
    except (OSError, WorkbenchError):
        return False
    return True
