"""The melody draft's "Transcribe" panel: Basic Pitch's notes of an uploaded melody as a piano roll and a MIDI file
to download and edit (the ``melody`` track is what the "transcribe" stem conditions on)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import gradio as gr

from workbench.analysis.separate import DEFAULT_MODEL, unavailable
from workbench.core.hashing import file_sha256
from workbench.store.naming import piano_roll_path_for, transcription_path
from workbench.ui.context import App, number
from workbench.ui.errors import ui_errors
from workbench.ui.uploads import check_upload

#: The "Melody audio" choices: how the draft's audio is reduced before its chroma (see workbench.core.stems).
STEM_CHOICES = [("as it is", "none"), ("harmonic part (drums out, bass stays)", "harmonic"),
                ("Demucs: vocals + other (drums and bass out)", "demucs"),
                ("transcribed notes: the highest voice (Basic Pitch)", "transcribe"),
                ("Demucs, then transcribed notes", "demucs+transcribe")]


class TranscribePanel:
    """Handler and layout of the transcription panel inside the Generate tab's melody box."""

    def __init__(self, app: App) -> None:
        self.app = app

    @ui_errors
    def transcribe(self, melody: str | None, start: float | str | None = None, end: float | str | None = None,
                   stem: str = "none") -> tuple[Any, Any, str]:
        """Transcribe the melody upload's window; returns ``(piano roll PNG, MIDI file, summary)`` under
        ``<out>/transcriptions/`` (one pair per file content, window and separation), shown once there are notes."""
        from workbench.core.stems import parse_stem
        from workbench.drafts.transcribe import MELODY_TRACK, transcribe_file

        if not melody:
            raise gr.Error("choose a melody audio file to transcribe")
        path = check_upload(melody)
        separation, _ = parse_stem(path, None if stem in (None, "none") else stem)
        start_s, end_s = number(start, "Melody start (s)") or 0.0, number(end, "Melody end (s)")
        notes = transcribe_file(path, start_s=start_s, end_s=end_s, stem=separation)
        target = transcription_path(self.app.out, path, file_sha256(path), start_s, end_s, separation)
        midi = notes.write_midi(target, force=True)  # the same content, window and separation: the same notes
        image = notes.write_piano_roll(piano_roll_path_for(midi), force=True)
        summary = (f"**{len(notes.notes)}** notes heard, **{len(notes.melody)}** in the melody line (orange) over "
                   f"{notes.duration_s:.2f} s · {notes.transcriber}. The MIDI file's `{MELODY_TRACK}` track is what "
                   "the 'transcribed notes' choice conditions on; edit it and upload it as the melody.")
        return gr.Image(str(image), visible=True), gr.File(str(midi), visible=True), summary

    def build(self, w: SimpleNamespace) -> SimpleNamespace:
        """The panel (inside the melody box; ``w`` holds the melody inputs), wired to :meth:`transcribe`."""
        demucs = unavailable(DEFAULT_MODEL)  # Demucs is offered only where it can load
        choices = [choice for choice in STEM_CHOICES if not (demucs and "demucs" in choice[1])]
        w.melody_stem = gr.Dropdown(choices, value="none", label="Melody audio", elem_id="gen-melody-stem",
                                    info="What of an audio melody the chroma is taken from (MIDI: its notes)"
                                         + ("; Demucs: not on this machine" if demucs else ""))
        with gr.Row():
            w.transcribe = gr.Button("Transcribe to notes", size="sm", elem_id="gen-transcribe")
        w.roll = gr.Image(label="Notes (piano roll; orange: the melody line)", type="filepath", interactive=False,
                          visible=False, height=160, elem_id="gen-roll")
        w.notes_summary = gr.Markdown("", elem_id="gen-notes-summary")
        w.midi = gr.File(label="Download the notes (MIDI)", interactive=False, height=70, elem_id="gen-midi",
                         visible=False)
        w.transcribe.click(self.transcribe, [w.melody, w.melody_start, w.melody_end, w.melody_stem],
                           [w.roll, w.midi, w.notes_summary], api_name="transcribe", concurrency_id="model",
                           concurrency_limit=1)
        w.transcribe_handler = self.transcribe
        return w


__all__ = ["STEM_CHOICES", "TranscribePanel"]
