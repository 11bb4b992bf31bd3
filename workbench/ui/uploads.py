"""Files from outside (browser uploads): size and duration limits, and a home for them under the output folder.

Drafts a take depends on are copied into ``<out>/drafts/`` so that its sidecar can name them relative to
itself and ``workbench reproduce`` finds them after the upload cache is gone.
"""

from __future__ import annotations

from pathlib import Path

from workbench.core.atomic import write_bytes
from workbench.core.errors import WorkbenchError
from workbench.core.hashing import file_sha256
from workbench.store.naming import draft_copy_path

#: Default limits for uploads: 50 MB and 10 minutes of audio.
MAX_UPLOAD_MB = 50.0
MAX_UPLOAD_S = 600.0

_AUDIO = (".wav", ".flac", ".ogg", ".mp3", ".aiff", ".aif", ".opus")
_MIDI = (".mid", ".midi")


def check_upload(path: str | Path, *, max_mb: float = MAX_UPLOAD_MB, max_s: float = MAX_UPLOAD_S) -> Path:
    """Refuse an upload over ``max_mb`` megabytes, or audio/MIDI longer than ``max_s`` seconds.

    Returns:
        The path, for chaining.

    Raises:
        WorkbenchError: missing or empty file, too large, too long, naming the file and the limit.
    """
    path = Path(path)
    name = path.name
    if not path.is_file():
        raise WorkbenchError(f"upload {name}: no such file")
    size = path.stat().st_size
    if size == 0:
        raise WorkbenchError(f"upload {name}: the file is empty")
    if size > max_mb * 1e6:
        raise WorkbenchError(f"upload {name}: {size / 1e6:.1f} MB is over the {max_mb:g} MB limit")
    seconds = _duration(path)
    if seconds is not None and seconds > max_s:
        raise WorkbenchError(f"upload {name}: {seconds / 60:.1f} min is over the {max_s / 60:g} min limit; "
                             "trim it first")
    return path


def _duration(path: Path) -> float | None:
    """Seconds of audio or MIDI in ``path``; None when unknown (unreadable files fail later, with detail)."""
    suffix = path.suffix.lower()
    try:
        if suffix in _MIDI:
            import pretty_midi

            return float(pretty_midi.PrettyMIDI(str(path)).get_end_time())
        if suffix in _AUDIO:
            import soundfile

            info = soundfile.info(str(path))
            return info.frames / info.samplerate if info.samplerate else None
    except Exception:  # noqa: BLE001 - any parser failure: the loader that reads it reports the problem
        return None
    return None


def keep_draft(path: str | Path, out_dir: str | Path) -> Path:
    """Copy an uploaded draft into ``<out>/drafts/<sha12>-<name>`` (once per content) and return the copy.

    A file already inside the output folder is returned as it is.
    """
    path, out = Path(path), Path(out_dir)
    if path.resolve().is_relative_to(out.resolve()):
        return path
    target = draft_copy_path(out, path, file_sha256(path))
    if not target.exists():
        write_bytes(target, path.read_bytes(), force=True)
    return target


