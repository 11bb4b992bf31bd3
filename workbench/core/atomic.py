"""Atomic file writes: a temp file in the same folder, flushed, then renamed over the target.

A temp file's name says who writes it: ``.<stem>.tmp-<host>-<pid>-<random><suffix>``. Cleaning up after an
interrupted run removes only temp files whose writer is gone (its process no longer runs on this host, or the
file is older than a day), never one that another process (a UI take, another batch) is writing now.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import secrets
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from workbench.core.errors import OutputExistsError, WorkbenchError

TEMP_MARK = ".tmp-"
#: A temp file of another host (a shared output folder) is stale after this many seconds.
STALE_AFTER_S = 24 * 3600
_TEMP_NAME = re.compile(rf"^\..*{re.escape(TEMP_MARK)}(?P<host>[0-9a-f]{{8}})-(?P<pid>\d+)-[0-9a-f]+")


def _host() -> str:
    return hashlib.sha256(socket.gethostname().encode()).hexdigest()[:8]


def temp_path_for(path: Path) -> Path:
    """A hidden sibling of ``path`` naming this host and process, keeping the suffix (writers pick formats by it)."""
    return path.with_name(f".{path.stem}{TEMP_MARK}{_host()}-{os.getpid()}-{secrets.token_hex(4)}{path.suffix}")


def is_temp(path: Path) -> bool:
    """Whether ``path`` is a temp file of an atomic write (finished or not)."""
    return path.name.startswith(".") and TEMP_MARK in path.name


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, owned by someone else
        return True
    return True


def is_stale(path: Path, *, now: float | None = None) -> bool:
    """Whether a temp file's writer is gone: its process is not running on this host, or (another host, or a
    name without a writer) it is older than :data:`STALE_AFTER_S`."""
    match = _TEMP_NAME.match(path.name)
    try:
        age = (time.time() if now is None else now) - path.stat().st_mtime
    except OSError:
        return False
    if match and match["host"] == _host():
        pid = int(match["pid"])
        if pid == os.getpid():
            return False  # this process is writing it now
        return not _process_alive(pid) or age > STALE_AFTER_S
    return age > STALE_AFTER_S


@contextlib.contextmanager
def atomic_path(path: str | Path, *, force: bool = False) -> Iterator[Path]:
    """Yield a temp path to write; on success it replaces ``path`` in one rename.

    Readers see either the old file or the complete new one, never a partial file — also on Ctrl-C or
    ``kill -9`` (a killed writer leaves only a hidden ``.name.tmp-XXXX`` file, which resume cleans up).

    Raises:
        OutputExistsError: ``path`` exists and ``force`` is False.
        WorkbenchError: the folder cannot be written.
    """
    path = Path(path)
    if path.exists() and not force:
        raise OutputExistsError(f"{path} exists already; pass --force to overwrite it")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise WorkbenchError(f"cannot create folder {path.parent}: {error.strerror or error}") from None
    temp = temp_path_for(path)
    try:
        yield temp
        with open(temp, "rb+") as handle:
            os.fsync(handle.fileno())
        if path.exists() and not force:
            raise OutputExistsError(f"{path} appeared while writing; pass --force to overwrite it")
        os.replace(temp, path)
    except OSError as error:
        raise WorkbenchError(f"cannot write {path}: {error.strerror or error}") from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()


def write_bytes(path: str | Path, data: bytes, *, force: bool = False) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_path(path, force=force) as temp:
        temp.write_bytes(data)


def write_with(path: str | Path, writer: Callable[[Path], None], *, force: bool = False) -> None:
    """Call ``writer(temp_path)`` and move the result to ``path`` atomically."""
    with atomic_path(path, force=force) as temp:
        writer(temp)


def clean_temp_files(folder: str | Path) -> int:
    """Remove leftovers of interrupted writes below ``folder`` (stale ones only, see :func:`is_stale`); returns
    how many were removed."""
    folder = Path(folder)
    if not folder.is_dir():
        return 0
    removed = 0
    for path in folder.rglob(f".*{TEMP_MARK}*"):
        if path.is_file() and is_temp(path) and is_stale(path):
            with contextlib.suppress(OSError):
                path.unlink()
                removed += 1
    return removed
