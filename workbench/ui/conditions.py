"""What conditions a take, from the browser's inputs: :class:`~workbench.core.conditions.Conditions` built, named in the
UI's words when wrong, its uploads checked against the limits, prepared for the engine and kept under the output
folder (only once they proved good)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gradio as gr

from workbench.core.conditions import Conditions
from workbench.core.errors import FieldError
from workbench.core.fields import conditions_from_fields
from workbench.drafts.prepare import Draft, prepare_draft
from workbench.engine.protocol import Engine
from workbench.ui.uploads import keep_draft

#: How the browser names each field of a take's conditions and sampling (what its errors say).
FIELD_LABELS = {
    "melody": "Melody file", "melody_start": "Melody start (s)", "melody_end": "Melody end (s)",
    "melody_stem": "Melody audio", "midi_track": "MIDI track", "chords": "Chords", "bpm": "BPM",
    "beats_per_chord": "Beats per chord", "time_signature": "Time signature", "voicing": "A chord becomes",
    "continue_from": "Audio to continue", "prompt_seconds": "Prompt seconds",
    "include_prompt": "Start the take with the prompt audio", "style": "Style reference", "segments": "Segments",
    "decoder": "Decoder",
    # the sampling settings (GenerationParams' fields), as the settings sidebar names them
    "duration_s": "Duration (s)", "guidance_scale": "Guidance", "temperature": "Temperature", "top_k": "Top-k",
    "top_p": "Top-p", "extend_stride_s": "Stride",
}


def label(field: str) -> str:
    """A field as the browser names it, quoted: ``"Melody end (s)"``."""
    return f"“{FIELD_LABELS.get(field, field)}”"


def in_ui_words(error: FieldError) -> gr.Error:
    """A field error as the browser says it."""
    return gr.Error(error.say(label))


def ui_conditions(**fields: Any) -> Conditions:
    """:func:`~workbench.core.fields.conditions_from_fields` with blank inputs as "not given" and errors in the
    UI's words."""
    given = {name: None if value is None or (isinstance(value, str) and not value.strip()) else value
             for name, value in fields.items()}
    try:
        return conditions_from_fields(**given)
    except FieldError as error:
        raise in_ui_words(error) from None


def prepare_uploads(app: Any, engine: Engine, conditions: Conditions, duration_s: float, base: Path
                    ) -> tuple[Conditions, Draft]:
    """Check the uploads ``conditions`` names against the app's limits, prepare the draft for ``engine`` (a bad upload
    fails here, before it is kept), then keep them under the output folder.

    Returns:
        The conditions naming the kept copies, and the prepared draft (give both to ``render_prompt``).
    """
    uploads = {role: app.upload(path) for role, path in conditions.files().items()}
    conditions = conditions.with_files(**uploads)
    try:
        draft = prepare_draft(engine, conditions, duration_s=duration_s, record_base=base)
    except FieldError as error:
        raise in_ui_words(error) from None
    kept = {role: keep_draft(path, app.out) for role, path in uploads.items()}
    return conditions.with_files(**kept), draft
