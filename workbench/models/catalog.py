"""What ``workbench models`` and the UI's selector show: every model name, where it points, whether it is ready
offline, and what it can take (text, melody, chords, continuation...)."""

from __future__ import annotations

import importlib.util

from workbench.models.hub import cached_snapshot
from workbench.models.registry import AUDIOCRAFT_BUILTIN, AUDIOCRAFT_MODELS, BUILTIN, MODELS

#: Inputs a MusicGen model takes (the workbench's own loop): chords are drafted as a melody.
MUSICGEN_INPUTS = ("text", "continuation", "segments")
MELODY_INPUTS = ("text", "melody", "chords", "continuation", "segments")
#: MAGNeT (audiocraft backend): text only, one fixed-length segment.
MAGNET_INPUTS = ("text",)
#: MusicGen-Style (audiocraft backend): text and a style reference clip.
STYLE_INPUTS = ("text", "style")


def model_inputs(name: str) -> tuple[str, ...]:
    """What a model name can take, without loading it; a folder or Hub id not listed here: everything MusicGen-Melody
    takes (the engine refuses what the loaded model cannot take, in one line)."""
    if name in ("style", "tiny-style"):
        return STYLE_INPUTS
    if name in AUDIOCRAFT_MODELS or name in AUDIOCRAFT_BUILTIN:
        return MAGNET_INPUTS
    if name in MODELS or name in BUILTIN:
        return MELODY_INPUTS if "melody" in name else MUSICGEN_INPUTS
    return MELODY_INPUTS


def _notes(name: str) -> str:
    """What the model is for, in a few words."""
    if name == "style":
        return ("MusicGen-Style (audiocraft backend): text and the style of a reference clip (--style clip.wav), "
                "up to 30 s")
    if name in AUDIOCRAFT_MODELS:
        seconds = "30" if name.endswith("-30s") else "10"
        return (f"MAGNeT (audiocraft backend, non-autoregressive): renders a {seconds} s segment at once; samples "
                "with audiocraft's defaults (temperature 3, top-k 0, top-p 0.9, guidance 10) unless set")
    return ("stereo, " if "stereo" in name else "") + ("melody conditioning" if "melody" in name else "text to music")


#: What :func:`readiness` says of a model.
READY, CACHED, DOWNLOAD, NO_BACKEND = "ready offline", "cached", "download on first use", "needs the audiocraft backend"


def readiness(name: str) -> str:
    """Whether a listed model can run here now: built in (:data:`READY`), in the Hugging Face cache (:data:`CACHED`),
    to be downloaded (:data:`DOWNLOAD`), or an audiocraft model without the backend installed (:data:`NO_BACKEND`)."""
    if (name in AUDIOCRAFT_MODELS or name in AUDIOCRAFT_BUILTIN) and importlib.util.find_spec("audiocraft") is None:
        return NO_BACKEND
    if name in BUILTIN:
        return READY
    repo = {**MODELS, **AUDIOCRAFT_MODELS}.get(name, name)
    return CACHED if cached_snapshot(repo) is not None else DOWNLOAD


def model_table() -> list[dict[str, str]]:
    """Rows for ``workbench models``: every short and built-in name, where it points, if it can run here now, what it
    takes."""
    rows = []
    for name, (description, _) in BUILTIN.items():
        rows.append({"name": name, "source": "built in (random weights)", "status": readiness(name),
                     "inputs": ", ".join(model_inputs(name)), "notes": description})
    for name, repo in {**MODELS, **AUDIOCRAFT_MODELS}.items():
        rows.append({"name": name, "source": repo, "status": readiness(name),
                     "inputs": ", ".join(model_inputs(name)), "notes": _notes(name)})
    return rows
