"""Files from outside (browser uploads): size and duration limits, and a home for them under the output folder.

Drafts a take depends on are copied into ``<out>/drafts/`` so that its sidecar can name them relative to
itself and ``workbench reproduce`` finds them after the upload cache is gone.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

from .atomic import write_bytes
from .errors import WorkbenchError
from .provenance import file_sha256

#: Default limits for uploads: 50 MB and 10 minutes of audio.
MAX_UPLOAD_MB = 50.0
MAX_UPLOAD_S = 600.0

_AUDIO = (".wav", ".flac", ".ogg", ".mp3", ".aiff", ".aif", ".opus")
_MIDI = (".mid", ".midi")


def _slug(text: str, limit: int = 40) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[:limit].rstrip("-") or "file"


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
    stem = _slug(path.name[: -len("".join(path.suffixes))] if path.suffixes else path.name)
    suffix = "".join(s.lower() for s in path.suffixes[-2:]) if path.name.endswith(".codes.npz") else path.suffix.lower()
    target = out / "drafts" / f"{file_sha256(path)[:12]}-{stem}{suffix}"
    if not target.exists():
        write_bytes(target, path.read_bytes(), force=True)
    return target


def output_subfolder(out_dir: str | Path, name: str) -> Path:
    """``<out>/<name>`` for a user-given sub-folder name, which must stay inside the output folder.

    Raises:
        WorkbenchError: an absolute path, ``..``, or characters other than letters, digits, ``-``, ``_``, ``/``.
    """
    out = Path(out_dir)
    name = (name or "").strip().rstrip("/")
    if not name:
        return out
    if name.startswith(("/", "\\")):
        raise WorkbenchError(f"sub-folder {name!r}: give a folder inside {out}, not an absolute path")
    if not re.fullmatch(r"[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)*", name):
        raise WorkbenchError(f"sub-folder {name!r}: use letters, digits, '-', '_' and '/' only, e.g. 'batch/run-1'")
    folder = out / name
    if not folder.resolve().is_relative_to(out.resolve()):
        raise WorkbenchError(f"sub-folder {name!r} would be outside the output folder {out}")
    return folder


def token_path(out_dir: str | Path, source: str | Path) -> Path:
    """``<out>/tokens/<YYYYmmdd-HHMMSS>-<source-slug>.codes.npz`` for a tokenized upload."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    name = Path(source).name.split(".")[0]
    return Path(out_dir) / "tokens" / f"{stamp}-{_slug(name)}.codes.npz"
