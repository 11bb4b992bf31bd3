"""The browser workbench: ``build_ui(...) -> gr.Blocks``, a thin Gradio shell over the library (a tab per capability).

Run it with ``workbench serve`` (or ``python app.py``, the same command). Handlers live in one module per tab
(``generate.py``, ``compare.py``, ``library.py``, ``batch.py``, ``tokenize.py``, ``history.py``) and are reachable
without a browser as ``build_ui(...).handlers``.
"""

from __future__ import annotations

import functools
import html
import ipaddress
import shutil
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import gradio as gr

from workbench.analysis.separate import DEFAULT_MODEL as STEMS_MODEL
from workbench.engine.resident import EngineCache
from workbench.models.registry import DEFAULT_MODEL
from workbench.render.followups import mbd_refusal
from workbench.ui.actions import CardActions
from workbench.ui.batch import BatchTab
from workbench.ui.compare import CompareTab
from workbench.ui.context import App, go_to, inputs_shown, model_name, new_stops, stop_handler
from workbench.ui.errors import ui_errors
from workbench.ui.generate import GenerateTab
from workbench.ui.history import HistoryTab
from workbench.ui.library import LibraryTab, fill_from, library_choices
from workbench.ui.settings import build_settings, initial_summary, model_status, wire_settings
from workbench.ui.tokenize import TokenizeTab
from workbench.ui.uploads import MAX_UPLOAD_MB, MAX_UPLOAD_S

CSS = """
.wb-header {align-items: center; gap: 8px; margin-bottom: 0 !important}
.wb-header h1 {margin: 0; font-size: 1.35rem}
.wb-header p {margin: 0; opacity: .75; font-size: .85rem}
.facts {font-size: .9rem}
/* a note showing a job's progress: room for gradio's three lines (steps | time, what runs, the bar), stacked, where
   its step count sat over the bar's end and was cut (a note is one or two lines high) */
.facts:has(.progress-bar) {min-height: 80px}
.facts .progress-text.meta-text-center {position: static !important; transform: none !important}
footer {display: none !important}
#gen-summary {margin: 0}
#gen-summary p {margin: 0}
#wb-nav {display: none}
@media (max-width: 720px) {
  .wb-header h1 {font-size: 1.1rem}
  .wb-header .wb-tagline {display: none}
  #wb-nav {display: block}
  #wb-tabs > div:first-child {display: none}
}
"""

#: The sections (tabs) of the app: id -> label; on a phone a labelled selector replaces the tab bar.
SECTIONS = {"create": "Create", "compare": "Compare", "library": "Library", "batch": "Batch", "history": "History",
            "tokens": "Tokens"}


def build_ui(model: str = DEFAULT_MODEL, out: str | Path = "outputs", *, prompts: str | Path = "prompts",
             concurrency: int = 1, max_upload_mb: float = MAX_UPLOAD_MB, max_upload_s: float = MAX_UPLOAD_S,
             device: str | None = None, preview_streaming: bool | None = None,
             cache: EngineCache | None = None, stems_model: str = STEMS_MODEL) -> gr.Blocks:
    """Build the workbench app.

    Args:
        model: Model selected at start (loaded on first use): short name, built-in, Hub id or folder.
        out: Output folder: every take, token file, kept draft and the history database go under it.
        prompts: Folder of prompt files for the Library and Batch tabs and Create's picker.
        concurrency: Model jobs (generate, compare, render, tokenize, reproduce) running at once.
        max_upload_mb / max_upload_s: Uploads over this size or audio length are refused.
        device: Device the model loads on (default: the best available).
        preview_streaming: Stream previews into a streaming player (needs ffmpeg); default: when ffmpeg is found.
        cache: The engine cache to use (default: a new one, holding one model at a time).
        stems_model: The Demucs model takes are split into stems with.

    Returns:
        The Blocks, with ``.handlers`` (the handler functions by endpoint name) and ``.workbench`` (the app context).
    """
    if preview_streaming is None:
        preview_streaming = shutil.which("ffmpeg") is not None
    app = App(out=Path(out), prompts=Path(prompts), max_upload_mb=max_upload_mb, max_upload_s=max_upload_s,
              preview_streaming=preview_streaming, cache=cache or EngineCache(device=device), stems_model=stems_model)
    gen, cmp, lib, bat, tok, hist = (GenerateTab(app), CompareTab(app), LibraryTab(app), BatchTab(app),
                                     TokenizeTab(app), HistoryTab(app))
    actions = CardActions(app)
    with gr.Blocks(title="MusicGen Workbench") as demo:
        settings = build_settings(app, model)
        shared = SimpleNamespace(concurrency=concurrency, stop=stop_handler, stops=gr.State(new_stops()),
                                 model=settings.model, folder=settings.folder, loudness=settings.loudness,
                                 params=settings.params, sampling=settings.sampling,
                                 summary=initial_summary(settings))
        with gr.Row(equal_height=True, elem_classes=["wb-header"]):
            gr.HTML("<h1>MusicGen Workbench</h1><p class='wb-tagline'>prompt, compare, batch-render and reproduce "
                    f"takes · outputs in <code>{html.escape(str(app.out))}</code></p>", padding=False)
            shared.status = gr.Markdown(model_status(app), elem_classes=["facts"], elem_id="model-status")
        nav = gr.Dropdown([(label, key) for key, label in SECTIONS.items()], value="create", label="Section",
                          elem_id="wb-nav", interactive=True)
        with gr.Tabs(selected="create", elem_id="wb-tabs") as shared.tabs:
            with gr.Tab(SECTIONS["create"], id="create"):
                g = gen.build(shared, library_choices(app))
            with gr.Tab(SECTIONS["compare"], id="compare"):
                c = cmp.build(shared)
            with gr.Tab(SECTIONS["library"], id="library"):
                li = lib.build(shared)
            with gr.Tab(SECTIONS["batch"], id="batch"):
                b = bat.build(shared)
            with gr.Tab(SECTIONS["history"], id="history") as history_tab:
                h = hist.build(shared)
            with gr.Tab(SECTIONS["tokens"], id="tokens"):
                t = tok.build(shared)
        actions.targets = SimpleNamespace(
            prompt=g.prompt, seed=g.seed, draft_mode=g.draft_mode, melody=g.melody, continue_from=g.continue_from,
            prompt_seconds=g.prompt_seconds, draft_box=g.draft_box, model=settings.model, tabs=shared.tabs,
            history_take=h.take, history_deck=h.selected, retake_box=h.retake_box, repaint_box=h.repaint_box,
            nav=nav)
        for deck, note in ((g.deck, g.note), (c.deck, c.note), (li.deck, li.note), (b.deck, b.note),
                           (h.gallery, h.gallery_note), (h.selected, h.selected_note), (h.retakes, h.retakes_note)):
            actions.wire(deck, note, settings, shared.stops, concurrency)
        _wire(app, demo, shared, settings, nav, g, c, li, b, t, h, history_tab)
    demo.workbench = app
    demo.handlers = SimpleNamespace(generate=gen.generate, keep=gen.keep, compare=cmp.compare,
                                    library_render=lib.render, library_browse=lib.browse, batch=bat.batch,
                                    tokenize=tok.tokenize, history=hist.search, browse_history=hist.browse,
                                    rate=h.panel.rate, reproduce=h.panel.reproduce, loop=h.panel.loop,
                                    retake=h.panel.retake, stems=h.panel.stems, analyze=h.panel.analyze,
                                    repaint=h.panel.repaint,
                                    act=actions.act, model_status=functools.partial(model_status, app),
                                    fill_from=functools.partial(fill_from, app), edit=h.curate.edit,
                                    delete=h.curate.delete, restore=h.curate.restore, empty_trash=h.curate.empty,
                                    export=h.curate.export, import_zip=h.curate.import_zip, prune=h.curate.prune,
                                    import_sheet=lib.import_sheet, transcribe=g.transcribe_handler)
    return demo


def _wire(app: App, demo: gr.Blocks, shared: SimpleNamespace, settings: SimpleNamespace, nav: Any, g: Any, c: Any,
          li: Any, b: Any, t: Any, h: Any, history_tab: Any) -> None:
    """Events that cross tabs: the section selector, settings, library picks, model status, history refreshes."""
    status = functools.partial(model_status, app)
    wire_settings(settings, g.summary)
    nav.change(lambda key: gr.Tabs(selected=key), nav, shared.tabs, api_visibility="private", queue=False)
    shared.tabs.change(lambda: None, None, None, api_visibility="private", queue=False)
    g.open_settings.click(lambda: gr.Sidebar(open=True), None, settings.sidebar, api_visibility="private",
                          queue=False)
    fill = ui_errors(functools.partial(fill_from, app))
    fill_outputs = [g.prompt, *shared.params, g.seed]
    g.library.input(fill, [g.library, *shared.params], fill_outputs, api_visibility="private", queue=False)
    li.use.click(fill, [li.clicked, *shared.params], fill_outputs, api_visibility="private", queue=False).then(
        lambda: tuple(go_to("create").values()), None, [shared.tabs, nav], api_visibility="private", queue=False)

    def load(choice: str, folder: str) -> str:
        app.cache.get(model_name(choice, folder))
        return status()

    def shown(choice: str, folder: str, mode: str) -> tuple[Any, ...]:
        modes, segments = inputs_shown(choice, folder)
        name = model_name(choice, folder)
        mbd = mbd_refusal(name)  # a control that cannot apply is hidden (MBD: mono MusicGen only)
        return (gr.Accordion(visible=len(modes) > 1), gr.Textbox(visible=segments), gr.Radio(visible=mbd is None),
                gr.Radio(choices=modes, value=mode if mode in modes else "none"), gr.Radio(visible=mbd is None),
                gr.File(visible="style" in modes))

    for event in (settings.model.change, settings.folder.change, demo.load):  # hide what the model cannot take
        event(shown, [settings.model, settings.folder, g.draft_mode],
              [g.draft_box, g.segments, g.decoder, g.draft_mode, c.decoder, c.style],
              api_visibility="private", queue=False)
    settings.load.click(ui_errors(load), [settings.model, settings.folder], shared.status, api_visibility="private",
                        concurrency_id="model", concurrency_limit=shared.concurrency)
    for event in (g.event, c.event, li.event, b.event, t.event):
        event.then(status, None, shared.status, api_visibility="private", queue=False)
    demo.load(status, None, shared.status, api_visibility="private", queue=False)
    search_fn, search_in, search_out = h.search_event
    history_tab.select(search_fn, search_in, search_out, api_visibility="private", concurrency_limit=None)
    history_tab.select(h.curate.trash_choices, None, h.kept.trash, api_visibility="private", concurrency_limit=None)
    b.to_history.click(lambda name: (name, *go_to("history").values()), b.libraries, [h.text, shared.tabs, nav],
                       api_visibility="private", queue=False).then(search_fn, search_in, search_out,
                                                                   api_visibility="private", concurrency_limit=None)
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
