"""The browser workbench: ``build_ui(...) -> gr.Blocks``, a thin Gradio shell over the library (a tab per capability).

Run it with ``workbench serve`` (or ``python app.py``, the same command). Handlers live in one module per tab
(``generate.py``, ``compare.py``, ``library.py``, ``batch.py``, ``tokenize.py``, ``history.py``) and are reachable
without a browser as ``build_ui(...).handlers``.
"""

from __future__ import annotations

import functools
import ipaddress
import shutil
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import gradio as gr

from workbench.core.params import MAX_DURATION_S
from workbench.engine.resident import EngineCache
from workbench.models.registry import DEFAULT_MODEL
from workbench.ui.batch import BatchTab
from workbench.ui.compare import CompareTab
from workbench.ui.context import (
    LOUDNESS_CHOICES,
    MODEL_CHOICES,
    MODEL_NAMES,
    App,
    P,
    inputs_shown,
    model_name,
    new_stops,
    stop_handler,
    ui_errors,
)
from workbench.ui.generate import GenerateTab
from workbench.ui.history import HistoryTab
from workbench.ui.library import LibraryTab, fill_from, library_choices
from workbench.ui.tokenize import TokenizeTab
from workbench.ui.uploads import MAX_UPLOAD_MB, MAX_UPLOAD_S

CSS = """
.wb-header h1 {margin-bottom: 0; font-size: 1.6rem}
.wb-header p {margin-top: .2rem; opacity: .75}
.facts {font-size: .9rem}
.take-card {border-radius: 10px}
.take-card h3 {margin: 0 0 .2rem 0}
footer {display: none !important}
.align-end {align-self: flex-end; margin-bottom: 4px}
"""


def build_ui(model: str = DEFAULT_MODEL, out: str | Path = "outputs", *, prompts: str | Path = "prompts",
             concurrency: int = 1, max_upload_mb: float = MAX_UPLOAD_MB, max_upload_s: float = MAX_UPLOAD_S,
             device: str | None = None, preview_streaming: bool | None = None,
             cache: EngineCache | None = None) -> gr.Blocks:
    """Build the workbench app.

    Args:
        model: Model selected at start (loaded on first use): short name, built-in, Hub id or folder.
        out: Output folder: every take, token file, kept draft and the history database go under it.
        prompts: Folder of prompt files for the Library and Batch tabs and Generate's picker.
        concurrency: Model jobs (generate, compare, render, tokenize, reproduce) running at once.
        max_upload_mb / max_upload_s: Uploads over this size or audio length are refused.
        device: Device the model loads on (default: the best available).
        preview_streaming: Stream previews into a streaming player (needs ffmpeg); default: when ffmpeg is found.
        cache: The engine cache to use (default: a new one, holding one model at a time).

    Returns:
        The Blocks, with ``.handlers`` (the handler functions by endpoint name) and ``.workbench`` (the app context).
    """
    if preview_streaming is None:
        preview_streaming = shutil.which("ffmpeg") is not None
    app = App(out=Path(out), prompts=Path(prompts), max_upload_mb=max_upload_mb,
              max_upload_s=max_upload_s, preview_streaming=preview_streaming,
              cache=cache or EngineCache(device=device))
    gen, cmp, lib, bat, tok, hist = (GenerateTab(app), CompareTab(app), LibraryTab(app), BatchTab(app),
                                     TokenizeTab(app), HistoryTab(app))
    with gr.Blocks(title="MusicGen Workbench") as demo:
        shared = SimpleNamespace(concurrency=concurrency, stop=stop_handler, stops=gr.State(new_stops()))
        gr.Markdown(f"# MusicGen Workbench\nPrompt, compare, batch-render and reproduce MusicGen takes · "
                    f"outputs in `{app.out}`", elem_classes=["wb-header"])
        _settings(shared, model)
        with gr.Tabs(selected="generate") as shared.tabs:
            with gr.Tab("Generate", id="generate"):
                g = gen.build(shared, library_choices(app))
            with gr.Tab("Compare seeds", id="compare"):
                c = cmp.build(shared, g)
            with gr.Tab("Library", id="library"):
                li = lib.build(shared)
            with gr.Tab("Batch", id="batch"):
                b = bat.build(shared)
            with gr.Tab("Tokenize", id="tokenize"):
                t = tok.build(shared)
            with gr.Tab("History", id="history") as history_tab:
                h = hist.build(shared, g)
        _wire(app, demo, shared, g, c, li, b, t, h, history_tab)
    demo.workbench = app
    demo.handlers = SimpleNamespace(generate=gen.generate, compare=cmp.compare, library_render=lib.render,
                                    library_browse=lib.browse, batch=bat.batch, tokenize=tok.tokenize,
                                    history=hist.search, rate=hist.rate, reproduce=hist.reproduce,
                                    rate_slot=cmp.rate_slot, slots=cmp.slots, model_status=functools.partial(
                                        model_status, app), fill_from=functools.partial(fill_from, app),
                                    edit=h.curate.edit, delete=h.curate.delete, restore=h.curate.restore,
                                    empty_trash=h.curate.empty, export=h.curate.export, import_zip=h.curate.import_zip,
                                    open_retake=hist.open_retake, prune=h.curate.prune,
                                    import_sheet=lib.import_sheet, transcribe=g.transcribe_handler)
    return demo


def _settings(shared: SimpleNamespace, model: str) -> None:
    """The model selector and sampling settings shared by every tab."""
    known = model in MODEL_NAMES
    with gr.Row(equal_height=False):
        shared.model = gr.Dropdown(MODEL_CHOICES, value=model if known else MODEL_NAMES[0], label="Model",
                                   info="Built-in tiny models work offline (noise, not music); after the ·, what "
                                        "a model takes",
                                   scale=2, elem_id="model")
        shared.folder = gr.Textbox("" if known else model, label="…or a local folder / Hub id", scale=2,
                                   placeholder="/path/to/saved-model", info="Overrides the selector when set")
        with gr.Column(scale=2, min_width=200):
            shared.status = gr.Markdown("Model in memory: none yet (loads on first use)", elem_classes=["facts"])
            shared.load = gr.Button("Load now", size="sm", variant="secondary")
    with gr.Accordion("Sampling", open=True):
        with gr.Row():
            duration = gr.Slider(1, MAX_DURATION_S, value=P.duration_s, step=0.5, label="Duration (s)",
                                 elem_id="duration")
            guidance = gr.Slider(0, 10, value=P.guidance_scale, step=0.1, label="Guidance", info="≤ 1: off")
            temperature = gr.Slider(0.05, 2, value=P.temperature, step=0.05, label="Temperature")
            top_k = gr.Slider(0, 1000, value=P.top_k, step=1, label="Top-k", info="0: off")
            top_p = gr.Slider(0, 1, value=P.top_p, step=0.01, label="Top-p", info="1: off")
            shared.loudness = gr.Dropdown(LOUDNESS_CHOICES, value="off", label="Loudness", info="Off: peak-safe only",
                                          allow_custom_value=True)
    shared.params = [duration, guidance, temperature, top_k, top_p]
    shared.sampling = [shared.model, shared.folder, *shared.params, shared.loudness]


def model_status(app: App) -> str:
    engine = app.cache.peek()
    if engine is None:
        return "Model in memory: none yet (loads on first use)"
    return f"Model in memory: **{app.cache.loaded}** ({engine.device}, {str(engine.dtype).removeprefix('torch.')})"


def _wire(app: App, demo: gr.Blocks, shared: SimpleNamespace, g: Any, c: Any, li: Any, b: Any, t: Any, h: Any,
          history_tab: Any) -> None:
    """Events that cross tabs: library picks, model status, history refreshes."""
    status = functools.partial(model_status, app)
    fill = ui_errors(functools.partial(fill_from, app))
    fill_outputs = [g.prompt, *shared.params, g.seed]
    g.library.input(fill, g.library, fill_outputs, api_visibility="private", queue=False)
    li.use.click(fill, li.clicked, fill_outputs, api_visibility="private", queue=False).then(
        lambda: gr.Tabs(selected="generate"), None, shared.tabs, api_visibility="private", queue=False)

    def load(choice: str, folder: str) -> str:
        app.cache.get(model_name(choice, folder))
        return status()

    def shown(choice: str, folder: str, mode: str) -> tuple[Any, ...]:
        modes, segments = inputs_shown(choice, folder)
        musicgen = "melody" in modes or "continuation" in modes  # a MusicGen's codes are what MBD decodes
        return (gr.Accordion(visible=len(modes) > 1), gr.Textbox(visible=segments), gr.Radio(visible=musicgen),
                gr.Radio(choices=modes, value=mode if mode in modes else "none"), gr.Radio(visible=musicgen),
                gr.File(visible="style" in modes))

    for event in (shared.model.change, shared.folder.change, demo.load):  # hide what the model cannot take
        event(shown, [shared.model, shared.folder, g.draft_mode],
              [g.draft_box, g.segments, g.decoder, g.draft_mode, c.decoder, c.style],
              api_visibility="private", queue=False)
    shared.load.click(ui_errors(load), [shared.model, shared.folder], shared.status, api_visibility="private",
                      concurrency_id="model", concurrency_limit=shared.concurrency)
    for event in (g.event, c.event, li.event, b.event, t.event):
        event.then(status, None, shared.status, api_visibility="private", queue=False)
    search_fn, search_in, search_out = h.search_event
    history_tab.select(search_fn, search_in, search_out, api_visibility="private", concurrency_limit=None)
    history_tab.select(h.curate.trash_choices, None, h.kept.trash, api_visibility="private", concurrency_limit=None)
    b.to_history.click(lambda name: (name, gr.Tabs(selected="history")), b.libraries, [h.text, shared.tabs],
                       api_visibility="private", queue=False).then(search_fn, search_in, search_out,
                                                                   api_visibility="private", concurrency_limit=None)
    for index, button in enumerate(c.retakes):  # Compare -> History's retake controls, the take picked
        button.click(ui_errors(functools.partial(h.open_retake, index)), c.takes,
                     [h.take, h.audio, h.details, h.kept.notes, h.kept.tags, h.retake_box, shared.tabs],
                     api_visibility="private", queue=False)
    browse_fn, browse_in, browse_out = li.load_event
    demo.load(browse_fn, browse_in, browse_out, api_visibility="private", concurrency_limit=None)
    demo.load(search_fn, search_in, search_out, api_visibility="private", concurrency_limit=None)


def _is_local(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def launch_options(*, out: str | Path = "outputs", host: str = "127.0.0.1", port: int | None = 7860,
                   share: bool = False, auth: str | None = None, max_upload_mb: float = MAX_UPLOAD_MB,
                   quiet: bool = False) -> dict[str, Any]:
    """Keyword arguments for ``Blocks.launch``: files served only from ``out`` (and uploads), size limit, theme.

    Prints a warning when the app is reachable beyond this machine (``share`` or a non-loopback host)
    without ``auth``.

    Raises:
        ValueError: ``auth`` is not ``user:password``.
    """
    credentials = None
    if auth is not None:
        user, sep, password = auth.partition(":")
        if not (sep and user and password):
            raise ValueError(f"--auth must be user:password, got {auth!r}")
        credentials = (user, password)
    exposed = share or not _is_local(host)
    if exposed and credentials is None:
        where = "through a public share link" if share else f"on {host}, beyond this machine"
        print(f"WARNING: the workbench will be reachable {where} with no password: anyone who can reach it can "
              f"render on this machine and read {out}. Add --auth user:password.", file=sys.stderr, flush=True)
    return {
        "server_name": host, "server_port": port, "share": share, "auth": credentials,
        "allowed_paths": [str(Path(out).resolve())], "max_file_size": f"{max_upload_mb:g}mb",
        "theme": gr.themes.Soft(primary_hue="violet", neutral_hue="slate"), "css": CSS, "quiet": quiet,
        "footer_links": [], "show_error": True,
    }
