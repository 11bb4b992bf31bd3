"""Every name the workbench gives a file, in one place: where takes go and what sits beside them.

A take ``x.wav`` (or ``.flac``) has companions beside it: ``x.json`` (sidecar), ``x.codes.npz`` (codes), ``x.png``
(spectrogram), once cut ``x.loop.wav`` + ``x.loop.json`` (a loop), and once split ``x.stem-drums.wav`` +
``x.stem-drums.json`` and so on for each source (its stems). A token file ``x.codes.npz`` has ``x.wav``
(decoded), ``x.recon.wav`` (codec round trip) and ``x.tokens.png`` (token grid). Folders under the output folder:
``<library>/<entry>/`` (library renders), ``takes/`` (one-off takes), ``seeds/`` (seed sweeps), ``tokens/``
(tokenized uploads), ``drafts/`` (copies of uploaded drafts), ``exports/`` (zips of takes), ``imported/`` (prompt
files made from sheets), ``transcriptions/`` (MIDI of uploaded melodies). Every path built from user text stays
inside the output folder.
"""

from __future__ import annotations

import glob
import itertools
import re
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from workbench.core.errors import ParamsError
from workbench.core.slugs import is_slug, slug, slugify

#: Suffixes of a take's (or a token file's) companions.
SIDECAR, CODES, SPECTROGRAM, RECONSTRUCTION, TOKEN_IMAGE = ".json", ".codes.npz", ".png", ".recon.wav", ".tokens.png"
#: A take's loop (``x.loop.wav``) and the loop's record (``x.loop.json``, see :mod:`workbench.render.loops`).
LOOP, LOOP_SIDECAR = ".loop.wav", ".loop.json"
#: What a stem's suffix starts with: ``x.stem-<source>.wav`` beside the take ``x.wav`` (see
#: :mod:`workbench.render.stems`); the names the workbench gives takes hold no dot, so a stem's is never one of them.
STEM = ".stem-"


def _stamp() -> str:
    return datetime.now().strftime("%Y%m%d-%H%M%S")


def stem(path: str | Path) -> Path:
    """``path`` without its suffix: ``x.wav`` -> ``x``, ``x.codes.npz`` -> ``x`` (both suffixes)."""
    path = Path(path)
    if path.name.endswith(CODES):
        return path.with_name(path.name[: -len(CODES)])
    return path.with_suffix("")


def companion(path: str | Path, suffix: str) -> Path:
    """The file beside ``path`` with ``suffix`` instead of its own (``x.wav``, ``.json`` -> ``x.json``)."""
    base = stem(path)
    return base.with_name(base.name + suffix)


def sidecar_path_for(audio_path: str | Path) -> Path:
    """``x.wav`` -> ``x.json``."""
    return companion(audio_path, SIDECAR)


def codes_path_for(audio_path: str | Path) -> Path:
    """``x.wav`` -> ``x.codes.npz``."""
    return companion(audio_path, CODES)


def spectrogram_path_for(audio_path: str | Path) -> Path:
    """``x.wav`` -> ``x.png``."""
    return companion(audio_path, SPECTROGRAM)


def audio_path_for(tokens: str | Path, ext: str = ".wav") -> Path:
    """``x.codes.npz`` -> ``x.wav``: where a token file decodes to by default."""
    return companion(tokens, ext)


def reconstruction_path_for(path: str | Path) -> Path:
    """``x.wav`` or ``x.codes.npz`` -> ``x.recon.wav``: the codec round trip of ``x``."""
    return companion(path, RECONSTRUCTION)


def token_image_path_for(tokens: str | Path) -> Path:
    """``x.codes.npz`` -> ``x.tokens.png``: the picture of a token file's codes."""
    return companion(tokens, TOKEN_IMAGE)


def stem_path_for(audio_path: str | Path, source: str) -> Path:
    """``x.wav``, ``"drums"`` -> ``x.stem-drums.wav``: a stem of the take ``x`` (always WAV); its sidecar is
    :func:`sidecar_path_for` of it (``x.stem-drums.json``).

    Raises:
        ParamsError: a source name that is not a slug (Demucs names its sources ``drums``, ``bass``...).
    """
    if not is_slug(source):
        raise ParamsError(f"stem source {source!r} is not a slug (lowercase letters, digits, '-')")
    return companion(audio_path, f"{STEM}{source}.wav")


def stem_paths_of(audio_path: str | Path) -> list[Path]:
    """The stems of the take ``x`` that exist (``x.stem-*.wav``) and their sidecars, sorted."""
    base = stem(audio_path)
    pattern = glob.escape(base.name) + STEM
    return sorted(base.parent.glob(f"{pattern}*.wav")) + sorted(base.parent.glob(f"{pattern}*.json"))


def take_path(out_dir: str | Path, library: str, entry_id: str, seed: int, ext: str = ".wav") -> Path:
    """``<out>/<library>/<entry-id>/s<seed>.<ext>`` — the rule for library renders.

    Raises:
        ParamsError: a library name or entry id that is not a slug (e.g. ``../x``), which could escape
            the output folder.
    """
    for label, value in (("library name", library), ("entry id", entry_id)):
        if not is_slug(value):
            raise ParamsError(f"{label} {value!r} is not a slug (lowercase letters, digits, '-')")
    out = Path(out_dir)
    path = out / library / entry_id / seed_name(seed, ext)
    if not path.resolve().is_relative_to(out.resolve()):
        raise ParamsError(f"{path} would be outside the output folder {out}")
    return path


def seed_name(seed: int, ext: str = ".wav") -> str:
    """``s<seed>.<ext>``: a take's name inside a folder of one prompt's seeds."""
    return f"s{int(seed)}{ext}"


def _unused(name: Callable[[str], Path], taken: Callable[[Path], bool] = Path.exists) -> Path:
    """``name(STAMP)``, else ``name(STAMP-2)``, ``name(STAMP-3)``, ...: the first path that is not ``taken``."""
    stamp = _stamp()
    for number in itertools.count(1):
        path = name(stamp if number == 1 else f"{stamp}-{number}")
        if not taken(path):
            return path
    raise AssertionError("unreachable")


def adhoc_path(out_dir: str | Path, text: str, seed: int, ext: str = ".wav") -> Path:
    """``<out>/takes/<YYYYmmdd-HHMMSS>-<prompt-slug>-s<seed>.<ext>`` for one-off generations.

    A second take of the same prompt and seed within the same second gets ``<YYYYmmdd-HHMMSS>-2-...``, and so on:
    the name is one that neither a take nor a sidecar has yet."""
    return _unused(lambda stamp: Path(out_dir) / "takes" / f"{stamp}-{slug(text)}-s{int(seed)}{ext}",
                   lambda path: path.exists() or sidecar_path_for(path).exists())


def adhoc_folder(out_dir: str | Path, text: str) -> Path:
    """``<out>/seeds/<YYYYmmdd-HHMMSS>-<prompt-slug>/`` for a seed sweep (``...-HHMMSS-2-...`` if that exists)."""
    return _unused(lambda stamp: Path(out_dir) / "seeds" / f"{stamp}-{slug(text)}")


def branch_folder(parent: str | Path, at_s: float) -> Path:
    """``<take>-from-<at>s/`` beside the parent take's sidecar: where its retakes from ``at_s`` go."""
    at = f"{at_s:g}".replace(".", "p")
    return Path(parent).parent / f"{stem(parent).name}-from-{at}s"


def repaint_folder(parent: str | Path, from_s: float, to_s: float) -> Path:
    """``<take>-repaint-<from>-<to>s/`` beside the parent take's sidecar: where its repaints of that window go."""
    start, end = (f"{value:g}".replace(".", "p") for value in (from_s, to_s))
    return Path(parent).parent / f"{stem(parent).name}-repaint-{start}-{end}s"


def token_path(out_dir: str | Path, source: str | Path) -> Path:
    """``<out>/tokens/<YYYYmmdd-HHMMSS>-<source-slug>.codes.npz`` for a tokenized upload (``-2``... if taken)."""
    name = slug(Path(source).name.split(".")[0], fallback="file")
    return _unused(lambda stamp: Path(out_dir) / "tokens" / f"{stamp}-{name}{CODES}")


#: The contact sheet of a folder of takes (seed sweeps, retakes).
CONTACT_SHEET = "index.html"


def contact_sheet_path(folder: str | Path) -> Path:
    """``<folder>/index.html``: the contact sheet of the takes in ``folder``."""
    return Path(folder) / CONTACT_SHEET


def manifest_path(out_dir: str | Path) -> Path:
    """``<out>/render-<YYYYmmdd-HHMMSS>.jsonl``: a batch render's log (``...-2.jsonl``... if one began that second)."""
    return _unused(lambda stamp: Path(out_dir) / f"render-{stamp}.jsonl")


def export_path(out_dir: str | Path) -> Path:
    """``<out>/exports/takes-<YYYYmmdd-HHMMSS>.zip`` for an export of listed takes (``...-2.zip``... if taken)."""
    return _unused(lambda stamp: Path(out_dir) / "exports" / f"takes-{stamp}.zip")


def imported_prompts_path(out_dir: str | Path, source: str | Path) -> Path:
    """``<out>/imported/<source-slug>.toml`` for a prompt sheet turned into a prompt file; an existing one is never
    replaced: ``<slug>-2.toml``, ``-3``... instead."""
    name = slug(Path(source).stem, fallback="imported")
    folder = Path(out_dir) / "imported"
    for number in itertools.count(1):
        path = folder / (f"{name}.toml" if number == 1 else f"{name}-{number}.toml")
        if not path.exists():
            return path
    raise AssertionError("unreachable")


def transcription_path(out_dir: str | Path, source: str | Path, sha256: str, start_s: float = 0.0,
                       end_s: float | None = None, separation: str | None = None) -> Path:
    """``<out>/transcriptions/<name>-<sha8>[-<start>s-<end>][-<separation>].mid``: one MIDI file per content,
    window and separation of an uploaded melody (the same transcription again gets the same name)."""
    window = f"-{start_s:g}s-{f'{end_s:g}s' if end_s else 'end'}" if start_s or end_s else ""
    name = slugify(f"{Path(source).stem}-{sha256[:8]}{window}-{separation or ''}").strip("-") or "melody"
    return Path(out_dir) / "transcriptions" / f"{name}.mid"


def piano_roll_path_for(midi: str | Path) -> Path:
    """``x.mid`` -> ``x.png``: the piano roll drawn beside a transcription."""
    return Path(midi).with_suffix(".png")


def draft_copy_path(out_dir: str | Path, source: str | Path, sha256: str) -> Path:
    """``<out>/drafts/<sha12>-<name-slug>.<ext>``: the kept copy of an uploaded draft (one per content)."""
    source = Path(source)
    if source.name.endswith(CODES):
        name, suffix = source.name[: -len(CODES)], CODES
    else:
        name, suffix = (source.name[: -len("".join(source.suffixes))] if source.suffixes else source.name,
                        source.suffix.lower())
    return Path(out_dir) / "drafts" / f"{sha256[:12]}-{slug(name, fallback='file')}{suffix}"


def output_subfolder(out_dir: str | Path, name: str) -> Path:
    """``<out>/<name>`` for a user-given sub-folder name, which must stay inside the output folder.

    Raises:
        ParamsError: an absolute path, ``..``, or characters other than letters, digits, ``-``, ``_``, ``/``.
    """
    out = Path(out_dir)
    name = (name or "").strip().rstrip("/")
    if not name:
        return out
    if name.startswith(("/", "\\")):
        raise ParamsError(f"sub-folder {name!r}: give a folder inside {out}, not an absolute path")
    if not re.fullmatch(r"[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)*", name):
        raise ParamsError(f"sub-folder {name!r}: use letters, digits, '-', '_' and '/' only, e.g. 'batch/run-1'")
    folder = out / name
    if not folder.resolve().is_relative_to(out.resolve()):
        raise ParamsError(f"sub-folder {name!r} would be outside the output folder {out}")
    return folder


def portable_path(path: str | Path) -> str:
    """A path fit for a shared sidecar: relative to the working folder when inside it, else the bare name."""
    resolved = Path(path).resolve()
    try:
        return resolved.relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return resolved.name
