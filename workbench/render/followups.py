"""What a musician can do with a take that exists, and the defaults that fit it: which actions apply to it (and why
not), the model "use as melody" needs, how much of it an extension continues from, what a loop of it gets.

The shells (the UI's take card, the CLI) ask here rather than decide: the same take offers the same actions
everywhere.
"""

from __future__ import annotations

from typing import Any

from workbench.analysis.separate import DEFAULT_MODEL as STEMS_MODEL
from workbench.analysis.separate import unavailable as demucs_unavailable
from workbench.core.decoders import mbd_refusal as decoder_refusal
from workbench.drafts.repaint import repaint_refusal
from workbench.models.catalog import model_inputs
from workbench.models.registry import BUILTIN, resolve

#: Everything a take card can do, in the order it offers them.
ACTIONS = ("seed", "melody", "extend", "retake", "repaint", "loop", "stems", "analyze", "reproduce")
#: The longest stretch of a take an extension continues from, seconds (the rest of the model's window is new music).
EXTEND_PROMPT_S = 5.0


def _backend(model: str) -> str:
    try:
        return resolve(model).backend
    except Exception:  # noqa: BLE001 - a model that no longer resolves (a moved folder): not a MusicGen we can load
        return "unknown"


def unavailable(record: dict[str, Any], *, stems_model: str = STEMS_MODEL) -> dict[str, str]:
    """The actions of :data:`ACTIONS` that cannot work on the take a sidecar ``record`` describes (``stems_model``:
    the Demucs model stems would use), each with why (the others can)."""
    model = record["model"]["name"]
    why: dict[str, str] = {}
    demucs = demucs_unavailable(stems_model)
    if demucs:
        why["stems"] = demucs
    repaint = repaint_refusal(record)
    if repaint:
        why["repaint"] = repaint
    analysis = record.get("analysis")
    if isinstance(analysis, dict):
        why["analyze"] = "measured when it was written (the card shows it)"
    if _backend(model) != "transformers":
        reason = (f"{model} renders a whole segment at once; extend and retake need a MusicGen model"
                  if _backend(model) == "audiocraft" else f"model {model} cannot be found from here")
        why.update(extend=reason, retake=reason)
    return why


def mbd_refusal(model: str) -> str | None:
    """Why the MultiBand Diffusion decoder cannot decode ``model``'s takes (before loading it), or None."""
    backend = _backend(model)
    if backend == "unknown":
        return None  # loading it will say what is wrong
    return decoder_refusal(backend, 2 if "stereo" in model else 1, model,
                           "MAGNeT" if "magnet" in model else "an audiocraft model")


def melody_model_for(model: str) -> str:
    """A model that follows a melody for someone now using ``model``: itself when it can, else its melody sibling
    (built-in models stay built in, stereo stays stereo)."""
    if "melody" in model_inputs(model):
        return model
    stereo = "stereo" in model
    if model in BUILTIN:
        return "tiny-stereo-melody" if stereo else "tiny-melody"
    return "stereo-melody" if stereo else "melody"


def extend_seconds(record: dict[str, Any]) -> float:
    """How much of the take's end an extension continues from: :data:`EXTEND_PROMPT_S`, or the whole take when it is
    shorter (whole frames), never more than half the model's window."""
    frame_rate = float(record["model"].get("frame_rate") or 50)
    window = float(record["model"].get("max_window_s") or 30.0)
    length = record["num_samples"] / record["sample_rate"]
    seconds = min(EXTEND_PROMPT_S, length, window / 2)
    return int(seconds * frame_rate) / frame_rate


__all__ = ["ACTIONS", "EXTEND_PROMPT_S", "extend_seconds", "mbd_refusal", "melody_model_for", "unavailable"]
