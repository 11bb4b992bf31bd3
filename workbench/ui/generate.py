"""The Create tab: a prompt, Generate, and the take being made — previewed while it renders, then its card; a Stop
can keep what was already rendered. Drafts (a melody, chords, audio to continue, a style) fold away beneath.

The handler only translates: widgets become :class:`~workbench.core.conditions.Conditions` (see
:mod:`workbench.ui.conditions`) and sampling parameters, and :func:`workbench.render.prompt.render_prompt` does the
rest.
"""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import gradio as gr
import numpy as np

from workbench.core.audio import make_encoding
from workbench.core.errors import GenerationCancelled
from workbench.core.params import params_from_settings, random_seed, validate_seed, validate_text
from workbench.core.segments import parse_segment_lines, timeline
from workbench.core.take import cost_summary
from workbench.models.registry import DEFAULT_MODEL
from workbench.render.prompt import Rendered, render_prompt
from workbench.store.naming import adhoc_path
from workbench.ui.card import TakeCards, cards_html
from workbench.ui.conditions import prepare_uploads, ui_conditions
from workbench.ui.context import (
    App,
    P,
    Run,
    blank_number,
    fmt,
    int16,
    loudness_target,
    model_name,
    number,
    relay,
    wav_bytes,
)
from workbench.ui.errors import ui_errors
from workbench.ui.transcribe import TranscribePanel

DRAFT_MODES = ["none", "melody", "chords", "continuation", "style"]
#: The inputs each draft mode shows (the others are not given), and its main input: required in that mode.
MODE_INPUTS = {"melody": ("melody", "melody_start", "melody_end", "melody_stem"),
               "chords": ("chords", "bpm", "beats_per_chord", "time_signature", "voicing"),
               "continuation": ("continue_from", "prompt_seconds", "include_prompt"), "style": ("style",)}
MODE_MISSING = {"melody": "choose a melody file (audio or MIDI), or set the draft to 'none'",
                "chords": "type a chord progression such as 'Am F C G', or set the draft to 'none'",
                "continuation": "choose audio or a .codes.npz token file to continue, or set the draft to 'none'",
                "style": "choose a reference clip whose style to take, or set the draft to 'none'"}

#: The Create tab's file formats: (label, value), and each value's (extension, bit depth, bitrate, quality).
FILE_FORMATS = [("WAV 16-bit", "wav"), ("WAV 24-bit", "wav-24"), ("WAV 32-bit float", "wav-float"),
                ("FLAC 16-bit", "flac"), ("FLAC 24-bit", "flac-24"), ("MP3 320 kbps", "mp3-320"),
                ("MP3 192 kbps", "mp3-192"), ("MP3 VBR V2", "mp3-v2"), ("Ogg Vorbis", "ogg"), ("Opus", "opus")]
FILE_SETTINGS: dict[str, tuple[Any, ...]] = {
    "wav": (".wav", None, None, None), "wav-24": (".wav", "24", None, None), "wav-float": (".wav", "float", None, None),
    "flac": (".flac", None, None, None), "flac-24": (".flac", "24", None, None), "mp3-320": (".mp3", None, 320, None),
    "mp3-192": (".mp3", None, 192, None), "mp3-v2": (".mp3", None, None, 2), "ogg": (".ogg", None, None, None),
    "opus": (".opus", None, None, None)}


def draft_inputs(mode: str, inputs: dict[str, Any]) -> dict[str, Any]:
    """The draft inputs the mode ``mode`` shows (the rest are hidden: not given); its main input is required."""
    if mode not in DRAFT_MODES:
        raise gr.Error(f"Draft must be one of {', '.join(DRAFT_MODES)}, got {mode!r}")
    shown = MODE_INPUTS.get(mode, ())
    if shown and not str(inputs.get(shown[0]) or "").strip():
        raise gr.Error(MODE_MISSING[mode])
    return {name: inputs.get(name) for name in shown}


def take_facts(app: App, item: Rendered) -> dict[str, Any]:
    """What the UI and API show about a written take (paths relative to the output folder)."""
    audio, take = item.record["audio"], item.take
    return {
        "take_id": app.history.get(item.sidecar)["id"], "seed": take.seed, "prompt": take.text,
        "model": take.model.name, "duration_s": round(take.duration_s, 3), "peak_dbfs": audio["peak_dbfs"],
        "loudness_lufs": audio["loudness_lufs"], "adherence": take.extra.get("melody_adherence"),
        "codes_sha256": take.codes_sha256, "audio": app.rel(item.path), "sidecar": app.rel(item.sidecar),
        "codes": app.rel(item.path.with_name(item.record["codes"]["file"])), "wall_s": round(take.wall_s, 2),
        "cost": take.cost, "timeline": timeline(take.text, take.segments, take.duration_s) if take.segments else None,
        "decoder": (take.extra.get("decoder") or {}).get("source", "encodec"),
        "stopped_at_s": take.extra.get("stopped_at_s"), "asked_s": take.extra.get("asked_s"),
    }


def facts_line(facts: dict[str, Any]) -> str:
    """A written take in one line: where it went, what it cost, its timeline."""
    stopped = facts.get("stopped_at_s")
    cost = (f"kept from a stop at {stopped:g} s of {facts['asked_s']:g} s" if stopped is not None
            else cost_summary(facts.get("cost") or {}) or f"{facts['wall_s']} s")
    said = (f"take #{facts['take_id']} · seed {facts['seed']} · {facts['duration_s']:.2f} s · "
            f"{fmt(facts['loudness_lufs'])} LUFS — <code>{facts['audio']}</code> · {cost}")
    return said + (f"<br>timeline: {facts['timeline']}" if facts.get("timeline") else "")


class GenerateTab:
    """Handlers and layout of the Create tab."""

    def __init__(self, app: App) -> None:
        self.app = app

    # --- handlers ------------------------------------------------------------------------------------
    @ui_errors
    def generate(self, text: str, seed: str | None = None, draft_mode: str = "none", melody: str | None = None,
                 melody_start: float | str | None = None, melody_end: float | str | None = None,
                 continue_from: str | None = None,
                 prompt_seconds: float | None = None, include_prompt: bool = True, model: str = DEFAULT_MODEL,
                 folder: str = "", duration: float = P.duration_s, guidance: float = P.guidance_scale,
                 temperature: float = P.temperature, top_k: float = P.top_k, top_p: float = P.top_p,
                 loudness: str = "off", stops: dict[str, int] | None = None, chords: str = "",
                 bpm: float | None = None, beats_per_chord: float | str | None = None, time_signature: str = "4/4",
                 voicing: str = "root", audio_format: str = "wav", segments: str = "", melody_stem: str = "none",
                 decoder: str = "encodec", style: str | None = None,
                 progress: Any = gr.Progress()) -> Iterator[tuple[Any, ...]]:
        """Render one take; yields ``(preview, card, note, seed used, files, facts, keep box, stopped)``:
        first everything cleared, then preview chunks, then the take (or, after a Stop, an offer to keep what was
        rendered). Each argument is a widget of the tab or of the settings (the API's parameters)."""
        skip = gr.skip()
        yield None, cards_html(self.app, [], empty="Rendering…"), "", skip, None, None, gr.Row(visible=False), None
        params = params_from_settings(duration=duration, guidance=guidance, temperature=temperature, top_k=top_k,
                                      top_p=top_p)
        text = validate_text(text)
        seed_value = validate_seed(seed) if str(seed or "").strip() else random_seed()
        if audio_format not in FILE_SETTINGS:
            raise gr.Error(f"file format must be one of {', '.join(FILE_SETTINGS)}, got {audio_format!r}")
        ext, *settings = FILE_SETTINGS[audio_format]
        path = adhoc_path(self.app.out, text, seed_value, ext)
        inputs = {"melody": melody, "melody_start": number(melody_start, "Melody start (s)"),
                  "melody_end": number(melody_end, "Melody end (s)"), "melody_stem": melody_stem, "chords": chords,
                  "bpm": bpm, "beats_per_chord": number(beats_per_chord, "Beats per chord"),
                  "time_signature": time_signature, "voicing": voicing, "continue_from": continue_from,
                  "prompt_seconds": prompt_seconds, "include_prompt": include_prompt, "style": style}
        conditions = ui_conditions(**draft_inputs(draft_mode, inputs), decoder=decoder,
                                   segments=parse_segment_lines(segments))
        conditions.check_length(params.duration_s)
        engine = self.app.cache.get(model_name(model, folder))
        conditions, draft = prepare_uploads(self.app, engine, conditions, params.duration_s, path.parent)
        run = Run.start(stops, "generate")

        def work(emit: Any) -> list[Rendered]:
            return render_prompt(engine, text, params, [seed_value], [path], conditions=conditions, draft=draft,
                                 decoders=self.app.decoders, subtype=make_encoding(ext, *settings),
                                 preview=lambda chunks: emit("preview", chunks[0]),
                                 loudness=loudness_target(loudness), history=self.app.history,
                                 progress=lambda done, total: emit("progress", (done, total)),
                                 should_stop=run.should_stop)

        yield skip, skip, f"Rendering seed {seed_value}…", str(seed_value), skip, skip, skip, skip
        heard: list[np.ndarray] = []

        def preview(_kind: str, chunk: np.ndarray) -> tuple[Any, ...]:
            heard.append(chunk)
            return self._preview(chunk, heard, engine.sample_rate), *(skip,) * 7

        yield from relay(work, progress, desc=f"seed {seed_value}", job=run, outputs=8, event=preview,
                         result=lambda rendered: (skip, *self.outputs(rendered)),
                         stopped=lambda stop: (skip, *self.stopped(stop, params.duration_s)))

    def outputs(self, rendered: list[Rendered]) -> tuple[Any, ...]:
        """``(card, note, seed used, files, facts, keep box, stopped)`` for written takes."""
        item = rendered[0]
        facts = take_facts(self.app, item)
        files = [str(item.path), str(item.sidecar), str(item.path.with_name(item.record["codes"]["file"]))]
        return (cards_html(self.app, [facts["take_id"]]), facts_line(facts), str(item.take.seed), files, facts,
                gr.Row(visible=False), None)

    def stopped(self, stop: GenerationCancelled, asked_s: float) -> tuple[Any, ...]:
        """After a Stop: nothing written; when something was rendered, the offer to keep it."""
        skip = gr.skip()
        if stop.keep is None:
            return (cards_html(self.app, [], empty="Stopped before the first whole frame: nothing to keep."),
                    "Stopped: nothing was written.", skip, skip, skip, gr.Row(visible=False), None)
        made = stop.partial[0].duration_s
        return (cards_html(self.app, [], empty="No take written yet."),  # the note says what was stopped, once
                f"Stopped at {made:.2f} s of {asked_s:g} s: keep what you heard as a take of {made:.2f} s "
                "(it reproduces exactly), or discard it.", skip, skip, skip, gr.Row(visible=True), stop)

    @ui_errors
    def keep(self, stopped: GenerationCancelled | None) -> tuple[Any, ...]:
        """Write what a stopped render made as a take of that length: ``(card, note, seed, files, facts, keep box,
        stopped)``."""
        if stopped is None or stopped.keep is None:
            raise gr.Error("nothing to keep: the last render was not stopped part way")
        return self.outputs(stopped.keep())

    def discard(self) -> tuple[Any, ...]:
        return (cards_html(self.app, [], empty="Discarded: nothing was written."), "Discarded.", gr.skip(),
                None, None, gr.Row(visible=False), None)

    def _preview(self, chunk: np.ndarray, heard: list[np.ndarray], sample_rate: int) -> Any:
        if self.app.preview_streaming:  # a streaming player appends each chunk
            return wav_bytes(chunk, sample_rate)
        return sample_rate, int16(np.concatenate(heard, axis=-1))  # a plain player shows the audio so far

    # --- layout --------------------------------------------------------------------------------------
    def build(self, shared: SimpleNamespace, library_choices: list[tuple[str, str]]) -> SimpleNamespace:
        w = SimpleNamespace()
        with gr.Row(equal_height=False, elem_id="create-row"):
            with gr.Column(scale=5, min_width=300):
                w.prompt = gr.Textbox(label="Prompt", lines=3, max_lines=8, elem_id="gen-prompt", autofocus=True,
                                      placeholder="80s synthwave, night drive, pulsing bass arpeggio, 100 BPM")
                with gr.Row(elem_id="gen-actions"):
                    w.run = gr.Button("Generate", variant="primary", size="lg", scale=3, elem_id="gen-run")
                    w.stop = gr.Button("Stop", variant="stop", size="lg", scale=1, elem_id="gen-stop")
                with gr.Row(equal_height=True, elem_id="gen-summary-row"):
                    w.summary = gr.Markdown(shared.summary, elem_id="gen-summary", elem_classes=["facts"])
                    w.open_settings = gr.Button("⚙ Settings", size="sm", scale=0, min_width=110,
                                                elem_id="gen-open-settings")
                with gr.Row():
                    w.seed = gr.Textbox(label="Seed", placeholder="blank: a fresh one", scale=1, elem_id="gen-seed")
                    w.library = gr.Dropdown(library_choices, value=None, label="Fill from the library",
                                            info="Sets the prompt, seed and sampling", scale=3, elem_id="gen-library")
                self._drafts(w)
                with gr.Accordion("More: segments, file format, decoder", open=False, elem_id="gen-more"):
                    w.segments = gr.Textbox("", label="Segments: another text from a time on", lines=2, max_lines=8,
                                            placeholder="16: full drums, the drop\n32: breakdown, pads only",
                                            info="SECONDS: TEXT per line, in time order; the prompt plays until the "
                                                 "first", elem_id="gen-segments")
                    w.audio_format = gr.Dropdown(FILE_FORMATS, value="wav", label="File format", elem_id="gen-format",
                                                 info="The codes, and so reproduce, are the same in every format")
                    w.decoder = gr.Radio([("EnCodec", "encodec"), ("MultiBand Diffusion", "mbd")], value="encodec",
                                         label="Decoder", elem_id="gen-decoder",
                                         info="Same codes; MBD: cleaner audio, slower (mono MusicGen only)")
            with gr.Column(scale=6, min_width=300):
                label = "Preview (streams while rendering)" if self.app.preview_streaming else "Preview (audio so far)"
                w.preview = gr.Audio(label=label, streaming=self.app.preview_streaming,
                                     autoplay=self.app.preview_streaming, interactive=False, elem_id="gen-preview")
                with gr.Row(visible=False, elem_id="gen-keep-row") as w.keep_box:
                    w.keep = gr.Button("Keep what was rendered", variant="primary", size="sm", elem_id="gen-keep")
                    w.discard = gr.Button("Discard", size="sm", elem_id="gen-discard")
                w.deck = TakeCards(self.app).build(elem_id="gen-take", empty="Your take appears here.")
                w.note = gr.HTML("", elem_id="gen-note", elem_classes=["facts"])
                with gr.Accordion("Take files and details", open=False, elem_id="gen-details"):
                    w.used_seed = gr.Textbox(label="Seed used", interactive=False, elem_id="gen-used-seed")
                    w.files = gr.File(label="Audio, sidecar, tokens", file_count="multiple", interactive=False,
                                      height=150)
                    w.facts = gr.JSON(label="Take", open=True)
        w.stopped = gr.State(None, time_to_live=900)  # what a Stop left to keep; released after 15 min
        w.draft_mode.change(lambda m: tuple(gr.Group(visible=m == mode) for mode in DRAFT_MODES[1:]),
                            w.draft_mode, [w.melody_box, w.chords_box, w.continue_box, w.style_box],
                            api_visibility="private", queue=False)
        inputs = [w.prompt, w.seed, w.draft_mode, w.melody, w.melody_start, w.melody_end, w.continue_from,
                  w.prompt_seconds, w.include_prompt, *shared.sampling, shared.stops, w.chords, w.bpm,
                  w.beats_per_chord, w.time_signature, w.voicing, w.audio_format, w.segments, w.melody_stem,
                  w.decoder, w.style]
        after = [w.deck, w.note, w.used_seed, w.files, w.facts, w.keep_box, w.stopped]
        w.event = w.run.click(self.generate, inputs, [w.preview, *after], api_name="generate",
                              concurrency_id="model", concurrency_limit=shared.concurrency, show_progress_on=[w.note])
        w.prompt.submit(self.generate, inputs, [w.preview, *after], api_visibility="private", concurrency_id="model",
                        concurrency_limit=shared.concurrency, show_progress_on=[w.note])
        w.stop.click(shared.stop("generate"), shared.stops, None, api_visibility="private", queue=False)
        w.keep.click(self.keep, w.stopped, after, api_name="keep", concurrency_limit=None)
        w.discard.click(self.discard, None, after, api_visibility="private", queue=False)
        return w

    def _drafts(self, w: SimpleNamespace) -> None:
        with gr.Accordion("Draft: melody or chords to follow, audio to continue, a style to take", open=False,
                          elem_id="gen-draft") as w.draft_box:
            w.draft_mode = gr.Radio(DRAFT_MODES, value="none", label="Draft", show_label=False,
                                    elem_id="gen-draft-mode")
            with gr.Group(visible=False) as w.melody_box:
                w.melody = gr.File(label="Melody (audio or MIDI)", type="filepath", height=120, elem_id="gen-melody",
                                   file_types=[".wav", ".flac", ".ogg", ".mp3", ".mid", ".midi"])
                with gr.Row():
                    w.melody_start = blank_number("Melody start (s)", info="Blank: 0", elem_id="gen-melody-start")
                    w.melody_end = blank_number("Melody end (s)", info="Blank: start + duration",
                                                elem_id="gen-melody-end")
                TranscribePanel(self.app).build(w)
            with gr.Group(visible=False) as w.chords_box:
                w.chords = gr.Textbox("", label="Chords", placeholder="Am F C G", elem_id="gen-chords",
                                      info="Symbols like Am7, F/C; N.C. is a rest (melody models only)")
                with gr.Row():
                    w.bpm = gr.Number(100, label="BPM", elem_id="gen-bpm")
                    w.beats_per_chord = blank_number("Beats per chord", info="Blank: one bar")
                    w.time_signature = gr.Textbox("4/4", label="Time signature")
                w.voicing = gr.Radio(["root", "arpeggio"], value="root", label="A chord becomes",
                                     info="its root, or its tones one per beat (the chroma holds one pitch per frame)")
            with gr.Group(visible=False) as w.style_box:
                w.style = gr.File(label="Style reference (audio; style models)", type="filepath", height=120,
                                  file_types=[".wav", ".flac", ".ogg", ".mp3"], elem_id="gen-style")
            with gr.Group(visible=False) as w.continue_box:
                w.continue_from = gr.File(label="Audio or .codes.npz to continue", type="filepath", height=120,
                                          file_types=[".wav", ".flac", ".ogg", ".mp3", ".npz"], elem_id="gen-continue")
                with gr.Row():
                    w.prompt_seconds = gr.Number(5.0, label="Prompt seconds", elem_id="gen-prompt-seconds",
                                                 info="How much of its end the take continues from")
                    w.include_prompt = gr.Checkbox(True, label="Start the take with the prompt audio")
