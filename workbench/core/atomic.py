"""Atomic file writes: a temp file in the same folder, flushed, then renamed over the target."""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path

from workbench.core.errors import OutputExistsError, WorkbenchError

TEMP_MARK = ".tmp-"


def temp_path_for(path: Path) -> Path:
    """A hidden sibling of ``path`` that keeps its suffix (writers pick the format from it)."""
    return path.with_name(f".{path.stem}{TEMP_MARK}{secrets.token_hex(4)}{path.suffix}")


def is_temp(path: Path) -> bool:
    """Whether ``path`` is a leftover of an interrupted atomic write."""
    return path.name.startswith(".") and TEMP_MARK in path.name


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
    """Remove leftovers of interrupted writes below ``folder``; returns how many were removed."""
    folder = Path(folder)
    if not folder.is_dir():
        return 0
    removed = 0
    for path in folder.rglob(f".*{TEMP_MARK}*"):
        if path.is_file() and is_temp(path):
            with contextlib.suppress(OSError):
                path.unlink()
                removed += 1
    return removed
