"""The Generate tab: one take from a prompt (optionally a melody or continuation draft), previewed while it renders."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import gradio as gr
import numpy as np

from workbench.core.audio import make_encoding
from workbench.core.params import params_from_settings, random_seed, validate_seed, validate_text
from workbench.core.segments import parse_segment_lines, timeline
from workbench.core.take import cost_summary
from workbench.models.registry import DEFAULT_MODEL
from workbench.render.prompt import Rendered, render_prompt
from workbench.store.contact import write_spectrogram
from workbench.store.naming import adhoc_path, spectrogram_path_for
from workbench.ui.conditions import prepare_uploads, ui_conditions
from workbench.ui.context import App, Job, P, fmt, int16, loudness_target, model_name, relay, ui_errors, wav_bytes
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
    }


def facts_markdown(facts: dict[str, Any]) -> str:
    line = (f"**seed {facts['seed']}** · {facts['duration_s']:.2f} s · peak {fmt(facts['peak_dbfs'])} dBFS · "
            f"{fmt(facts['loudness_lufs'])} LUFS")
    if facts.get("adherence") is not None:
        line += f" · melody adherence **{facts['adherence']:.3f}**"
    cost = cost_summary(facts.get("cost") or {}) or f"{facts['wall_s']} s"
    source = facts.get("decoder", "encodec")
    decoded = f" · decoded by MultiBand Diffusion ({source})" if source != "encodec" else ""
    said = f"{line}  \n`{facts['audio']}` · take #{facts['take_id']} · {facts['model']}{decoded}  \n{cost}"
    return said + (f"  \ntimeline: {facts['timeline']}" if facts.get("timeline") else "")


#: The Generate tab's file formats: (label, value), and each value's (extension, bit depth, bitrate, quality).
FILE_FORMATS = [("WAV 16-bit", "wav"), ("WAV 24-bit", "wav-24"), ("WAV 32-bit float", "wav-float"),
                ("FLAC 16-bit", "flac"), ("FLAC 24-bit", "flac-24"), ("MP3 320 kbps", "mp3-320"),
                ("MP3 192 kbps", "mp3-192"), ("MP3 VBR V2", "mp3-v2"), ("Ogg Vorbis", "ogg"), ("Opus", "opus")]
FILE_SETTINGS: dict[str, tuple[Any, ...]] = {
    "wav": (".wav", None, None, None), "wav-24": (".wav", "24", None, None), "wav-float": (".wav", "float", None, None),
    "flac": (".flac", None, None, None), "flac-24": (".flac", "24", None, None), "mp3-320": (".mp3", None, 320, None),
    "mp3-192": (".mp3", None, 192, None), "mp3-v2": (".mp3", None, None, 2), "ogg": (".ogg", None, None, None),
    "opus": (".opus", None, None, None)}


class GenerateTab:
    """Handlers and layout of the Generate tab."""

    def __init__(self, app: App) -> None:
        self.app = app

    # --- handlers ------------------------------------------------------------------------------------
    @ui_errors
    def generate(self, text: str, seed: str | None = None, draft_mode: str = "none", melody: str | None = None,
                 melody_start: float | None = 0.0, melody_end: float | None = None, continue_from: str | None = None,
                 prompt_seconds: float = 5.0, include_prompt: bool = True, model: str = DEFAULT_MODEL,
                 folder: str = "", duration: float = P.duration_s, guidance: float = P.guidance_scale,
                 temperature: float = P.temperature, top_k: float = P.top_k, top_p: float = P.top_p,
                 loudness: str = "off", stops: dict[str, int] | None = None, chords: str = "",
                 bpm: float | None = None, beats_per_chord: float | None = None, time_signature: str = "4/4",
                 voicing: str = "root", audio_format: str = "wav", segments: str = "", melody_stem: str = "none",
                 decoder: str = "encodec", style: str | None = None,
                 progress: Any = gr.Progress()) -> Iterator[tuple[Any, ...]]:
        """Render one take; yields preview updates, then ``(preview, audio, image, summary, seed, files, facts)``.

        The draft mode ``chords`` follows ``chords`` at ``bpm`` (see :mod:`workbench.drafts.chords`);
        ``audio_format`` is one of :data:`FILE_FORMATS`' values; ``segments`` are lines ``SECONDS: TEXT``;
        ``melody_stem`` is a ``--melody-stem`` value or "none"; ``decoder`` is ``encodec`` or ``mbd``; the draft
        mode ``style`` takes the style of the ``style`` clip (style models)."""
        params = params_from_settings(duration=duration, guidance=guidance, temperature=temperature,
                                      top_k=top_k, top_p=top_p)
        text = validate_text(text)
        seed_value = validate_seed(seed) if str(seed or "").strip() else random_seed()
        if audio_format not in dict((v, k) for k, v in FILE_FORMATS):
            raise gr.Error(f"file format must be one of {', '.join(v for _, v in FILE_FORMATS)}, got {audio_format!r}")
        ext, *settings = FILE_SETTINGS[audio_format]
        path = adhoc_path(self.app.out, text, seed_value, ext)
        inputs = {"melody": melody, "melody_start": melody_start, "melody_end": melody_end, "melody_stem": melody_stem,
                  "chords": chords, "bpm": bpm, "beats_per_chord": beats_per_chord or None,
                  "time_signature": time_signature, "voicing": voicing, "continue_from": continue_from,
                  "prompt_seconds": prompt_seconds, "include_prompt": include_prompt, "style": style}
        conditions = ui_conditions(**draft_inputs(draft_mode, inputs), decoder=decoder,
                                   segments=parse_segment_lines(segments))
        conditions.check_length(params.duration_s)
        engine = self.app.cache.get(model_name(model, folder))
        conditions, draft = prepare_uploads(self.app, engine, conditions, params.duration_s, path.parent)
        job = Job.start(stops, "generate")

        def work(emit: Any) -> list[Rendered]:
            return render_prompt(engine, text, params, [seed_value], [path], conditions=conditions, draft=draft,
                                 decoders=self.app.decoders, subtype=make_encoding(ext, *settings),
                                 preview=lambda chunks: emit("preview", chunks[0]),
                                 loudness=loudness_target(loudness), history=self.app.history,
                                 progress=lambda done, total: emit("progress", (done, total)),
                                 should_stop=job.should_stop)

        skip = gr.skip()
        yield skip, None, None, f"Rendering seed {seed_value}…", str(seed_value), None, None
        heard: list[np.ndarray] = []

        def preview(_kind: str, chunk: np.ndarray) -> tuple[Any, ...]:
            heard.append(chunk)
            return self._preview(chunk, heard, engine.sample_rate), skip, skip, skip, skip, skip, skip

        yield from relay(work, progress, desc=f"seed {seed_value}", job=job, outputs=7, event=preview,
                         result=lambda rendered: (skip, *self.outputs(rendered[0])),
                         stopped=(skip, None, None, "⏹ Stopped before the end: nothing was written.",
                                  str(seed_value), None, None))

    def outputs(self, item: Rendered) -> tuple[Any, ...]:
        """``(audio, image, summary, seed, files, facts)`` for a written take."""
        image = write_spectrogram(spectrogram_path_for(item.path), item.take.audio, item.take.sample_rate)
        facts = take_facts(self.app, item)
        files = [str(item.path), str(item.sidecar), str(item.path.with_name(item.record["codes"]["file"]))]
        return str(item.path), str(image), facts_markdown(facts), str(item.take.seed), files, facts

    def _preview(self, chunk: np.ndarray, heard: list[np.ndarray], sample_rate: int) -> Any:
        if self.app.preview_streaming:  # a streaming player appends each chunk
            return wav_bytes(chunk, sample_rate)
        return sample_rate, int16(np.concatenate(heard, axis=-1))  # a plain player shows the audio so far

    # --- layout --------------------------------------------------------------------------------------
    def build(self, shared: SimpleNamespace, library_choices: list[tuple[str, str]]) -> SimpleNamespace:
        w = SimpleNamespace()
        with gr.Row(equal_height=False):
            with gr.Column(scale=5):
                w.prompt = gr.Textbox(label="Prompt", lines=3, max_lines=8, elem_id="gen-prompt",
                                      placeholder="80s synthwave, night drive, pulsing bass arpeggio, 100 BPM")
                with gr.Row():
                    w.library = gr.Dropdown(library_choices, value=None, label="Fill from the library",
                                            info="Sets the prompt and its sampling settings", scale=3)
                    w.seed = gr.Textbox(label="Seed", placeholder="random", scale=1, elem_id="gen-seed",
                                        info="Blank: a fresh one")
                with gr.Accordion("Draft: melody or chords to follow, audio to continue, a style to take",
                                  open=False) as w.draft_box:
                    w.draft_mode = gr.Radio(DRAFT_MODES, value="none", label="Draft", show_label=False)
                    with gr.Group(visible=False) as w.melody_box:
                        w.melody = gr.File(label="Melody (audio or MIDI)", type="filepath", height=120,
                                           file_types=[".wav", ".flac", ".ogg", ".mp3", ".mid", ".midi"])
                        with gr.Row():
                            w.melody_start = gr.Number(0.0, label="Start (s)", minimum=0)
                            w.melody_end = gr.Number(None, label="End (s)", minimum=0, info="Blank: start + duration")
                        TranscribePanel(self.app).build(w)
                    with gr.Group(visible=False) as w.chords_box:
                        w.chords = gr.Textbox("", label="Chords", placeholder="Am F C G", elem_id="gen-chords",
                                              info="Symbols like Am7, F/C; N.C. is a rest (melody models only)")
                        with gr.Row():
                            w.bpm = gr.Number(100, label="BPM", minimum=20, maximum=400)
                            w.beats_per_chord = gr.Number(None, label="Beats per chord", minimum=0,
                                                          info="0 or blank: one bar")
                            w.time_signature = gr.Textbox("4/4", label="Time signature")
                        w.voicing = gr.Radio(["root", "arpeggio"], value="root", label="A chord becomes",
                                             info="its root, or its tones one per beat (the chroma holds one "
                                                  "pitch per frame)")
                    with gr.Group(visible=False) as w.style_box:
                        w.style = gr.File(label="Style reference (audio; style models)", type="filepath", height=120,
                                          file_types=[".wav", ".flac", ".ogg", ".mp3"], elem_id="gen-style")
                    with gr.Group(visible=False) as w.continue_box:
                        w.continue_from = gr.File(label="Audio or .codes.npz to continue", type="filepath",
                                                  height=120, file_types=[".wav", ".flac", ".ogg", ".mp3", ".npz"])
                        with gr.Row():
                            w.prompt_seconds = gr.Slider(0.5, 15, value=5, step=0.5, label="Prompt seconds")
                            w.include_prompt = gr.Checkbox(True, label="Start the take with the prompt audio")
                w.segments = gr.Textbox("", label="Segments: another text from a time on", lines=2, max_lines=8,
                                        placeholder="16: full drums, the drop\n32: breakdown, pads only",
                                        info="SECONDS: TEXT per line, in time order; the prompt plays until the first",
                                        elem_id="gen-segments")
                with gr.Row():
                    w.audio_format = gr.Dropdown(FILE_FORMATS, value="wav", label="File format", elem_id="gen-format",
                                                 info="The codes, and so reproduce, are the same in every format")
                    w.decoder = gr.Radio([("EnCodec", "encodec"), ("MultiBand Diffusion", "mbd")], value="encodec",
                                         label="Decoder", elem_id="gen-decoder",
                                         info="Same codes; MBD: cleaner audio, slower (mono MusicGen)")
                with gr.Row():
                    w.run = gr.Button("Generate", variant="primary", size="lg", scale=3, elem_id="gen-run")
                    w.stop = gr.Button("Stop", variant="stop", size="lg", scale=1)
                label = "Preview (streams while rendering)" if self.app.preview_streaming else "Preview (audio so far)"
                w.preview = gr.Audio(label=label, streaming=self.app.preview_streaming,
                                     autoplay=self.app.preview_streaming,
                                     interactive=False, elem_id="gen-preview")
            with gr.Column(scale=6):
                w.audio = gr.Audio(label="Take", type="filepath", interactive=False, elem_id="gen-audio")
                w.image = gr.Image(label="Spectrogram (0–8 kHz)", type="filepath", interactive=False, height=170)
                w.summary = gr.Markdown("Nothing rendered yet.", elem_classes=["facts"])
                with gr.Row(equal_height=False):
                    w.used_seed = gr.Textbox(label="Seed used", interactive=False, scale=3, elem_id="gen-used-seed")
                    w.reuse = gr.Button("Reuse this seed", scale=1, min_width=130, elem_classes=["align-end"])
                w.files = gr.File(label="Download: audio, sidecar, tokens", file_count="multiple", interactive=False,
                                  height=190)
                with gr.Accordion("Take details (JSON)", open=False):
                    w.facts = gr.JSON(label="Take", open=True)
        w.draft_mode.change(lambda m: tuple(gr.Group(visible=m == mode) for mode in DRAFT_MODES[1:]),
                            w.draft_mode, [w.melody_box, w.chords_box, w.continue_box, w.style_box],
                            api_visibility="private",
                            queue=False)
        w.reuse.click(lambda s: s, w.used_seed, w.seed, api_visibility="private", queue=False)
        inputs = [w.prompt, w.seed, w.draft_mode, w.melody, w.melody_start, w.melody_end, w.continue_from,
                  w.prompt_seconds, w.include_prompt, *shared.sampling, shared.stops, w.chords, w.bpm,
                  w.beats_per_chord, w.time_signature, w.voicing, w.audio_format, w.segments, w.melody_stem,
                  w.decoder, w.style]
        outputs = [w.preview, w.audio, w.image, w.summary, w.used_seed, w.files, w.facts]
        w.event = w.run.click(self.generate, inputs, outputs, api_name="generate", concurrency_id="model",
                              concurrency_limit=shared.concurrency, show_progress_on=[w.audio])
        w.stop.click(shared.stop("generate"), shared.stops, None, api_visibility="private", queue=False)
        return w
