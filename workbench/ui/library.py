"""The Library tab: browse prompt files, filter entries, preview template matrices, render a selection."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import gradio as gr

from workbench.core.errors import PromptFileError
from workbench.core.params import parse_seeds
from workbench.library.importer import import_prompts
from workbench.library.prompts import Library, Prompt, load_libraries
from workbench.library.selection import select
from workbench.models.registry import DEFAULT_MODEL
from workbench.render.batch import plan_jobs, render_jobs
from workbench.store.naming import imported_prompts_path
from workbench.ui.card import TakeCards, cards_html
from workbench.ui.context import App, Run, blank_number, loudness_target, model_name, number, relay
from workbench.ui.errors import ui_errors

TABLE_HEADERS = ["entry", "tags", "settings", "seeds", "text"]
RESULT_HEADERS = ["entry", "seed", "status", "file"]
#: The sampling settings a library entry fills in, with how the settings sidebar names them.
FILLED = (("duration_s", "duration"), ("guidance_scale", "guidance"), ("temperature", "temperature"),
          ("top_k", "top-k"), ("top_p", "top-p"))


def key(prompt: Prompt) -> str:
    """The UI's name for a library entry: ``library/id``."""
    return f"{prompt.library}/{prompt.id}"


def prompt_files(app: App) -> list[str]:
    """Names of the prompt files in the prompt folder."""
    return sorted(p.name for p in app.prompts.glob("*.toml")) if app.prompts.is_dir() else []


def libraries(app: App, names: Sequence[str] | None = None, uploads: Sequence[str] | None = None) -> list[Library]:
    """The chosen prompt files of the prompt folder (all when ``names`` is None) plus uploaded ones."""
    chosen = prompt_files(app) if names is None else list(names)
    paths = [app.prompts / Path(name).name for name in chosen]  # bare names only: nothing outside the folder
    paths += [app.upload(path) for path in (uploads or [])]
    return load_libraries(paths) if paths else []


def library_choices(app: App) -> list[tuple[str, str]]:
    """``(label, key)`` for every entry of the prompt folder (the Generate tab's picker); empty if unreadable."""
    try:
        return [(f"{key(p)} — {p.text[:70]}", key(p)) for lib in libraries(app) for p in lib.prompts]
    except PromptFileError:
        return []


def find(app: App, entry: str, names: Sequence[str] | None = None, uploads: Sequence[str] | None = None) -> Prompt:
    for lib in libraries(app, names, uploads):
        for prompt in lib.prompts:
            if key(prompt) == entry:
                return prompt
    raise gr.Error(f"no library entry {entry!r}; reload the list")


def fill_from(app: App, entry: str | None, *current: Any) -> tuple[Any, ...]:
    """Prompt text, sampling settings and first seed of a library entry (Create's picker, Library's button), and a
    note of what that changed: ``current`` are the settings now (duration, guidance, temperature, top-k, top-p)."""
    if not entry:
        return (gr.skip(),) * 7
    prompt = find(app, entry)
    p = prompt.params
    seed = str(prompt.seeds[0]) if prompt.seeds else ""
    values = [getattr(p, field) for field, _ in FILLED]
    changed = [f"{name} {now:g} → {new:g}" for (_, name), now, new in zip(FILLED, current, values)
               if now is not None and float(now) != float(new)]
    gr.Info(f"{key(prompt)}: prompt{f', seed {seed}' if seed else ''}"
            + (f"; settings changed: {', '.join(changed)}" if changed else "; settings unchanged"))
    return prompt.text, *values, seed


def entry_settings(prompt: Prompt) -> str:
    """An entry's sampling in a few words: what its file sets, else "defaults"."""
    names = dict(FILLED)
    set_ = [f"{names.get(field, field)} {value:g}" if isinstance(value, (int, float)) else f"{field} {value}"
            for field, value in prompt.overrides.items()]
    drafted = [name for name, on in (("melody", prompt.conditions.melody), ("chords", prompt.conditions.chords),
                                     ("continues", prompt.conditions.continuation),
                                     ("style", prompt.conditions.style)) if on]
    return " · ".join([*set_, *drafted]) or "defaults"


class LibraryTab:
    """Handlers and layout of the Library tab."""

    def __init__(self, app: App) -> None:
        self.app = app

    # --- handlers ------------------------------------------------------------------------------------
    @ui_errors
    def browse(self, names: list[str], uploads: list[str] | None, tags: list[str] | None, text: str
               ) -> tuple[Any, ...]:
        """Entries of the chosen files matching the tag and text filters: ``(table, tag choices, selection)``."""
        libs = libraries(self.app, names, uploads)
        prompts = select(libs, tags=tags or [])
        needle = (text or "").strip().lower()
        if needle:
            prompts = [p for p in prompts if needle in f"{key(p)} {p.text} {p.notes}".lower()]
        rows = [[key(p), ", ".join(p.tags), entry_settings(p), " ".join(map(str, p.seeds or ())), p.text]
                for p in prompts]
        all_tags = sorted({t for lib in libs for p in lib.prompts for t in p.tags})
        return rows, gr.Dropdown(choices=all_tags), gr.Dropdown(choices=[key(p) for p in prompts])

    @ui_errors
    def details(self, names: list[str], uploads: list[str] | None, selected: list[str] | None,
                evt: gr.SelectData) -> tuple[Any, ...]:
        """A clicked entry: its details, its template's whole matrix, and the entry added to the selection."""
        prompt = find(self.app, evt.row_value[0], names, uploads)
        expansion: list[list[Any]] = []
        if prompt.template_id:
            siblings = [p for lib in libraries(self.app, names, uploads) for p in lib.prompts
                        if p.library == prompt.library and p.template_id == prompt.template_id]
            expansion = [[p.id, *p.slot_values.values(), p.text] for p in siblings]
            headers = ["id", *prompt.slot_values, "text"]
        else:
            headers = ["id", "text"]
        lines = [f"### {key(prompt)}", prompt.text, "",
                 f"tags: {', '.join(prompt.tags) or '–'} · seeds: {' '.join(map(str, prompt.seeds or ())) or '–'}"
                 f" · settings: {', '.join(f'{k}={v}' for k, v in prompt.overrides.items()) or 'defaults'}"]
        if prompt.template_id:
            lines.append(f"template **{prompt.template_id}** → {len(expansion)} prompts (below)")
        if prompt.notes:
            lines.append(f"notes: {prompt.notes}")
        chosen = list(dict.fromkeys([*(selected or []), key(prompt)]))
        return ("\n".join(lines), gr.Dataframe(expansion, headers=headers), chosen, key(prompt),
                gr.Accordion(open=bool(expansion)))

    @ui_errors
    def import_sheet(self, upload: str | None, uploads: list[str] | None = None) -> tuple[str, list[str]]:
        """A CSV / JSON Lines upload turned into a prompt file under ``<out>/imported/`` (validated), added to the
        uploaded files so its entries show: ``(message, uploads)``."""
        path = self.app.upload(upload)
        if path is None:
            raise gr.Error("upload a .csv (header row of prompt-file keys) or .jsonl file first")
        target = imported_prompts_path(self.app.out, path)  # never over an earlier import
        target.parent.mkdir(parents=True, exist_ok=True)
        count = import_prompts(path, target)
        return (f"{count} prompts imported into `{self.app.rel(target)}` (listed with the uploaded files)",
                [*(uploads or []), str(target)])

    @ui_errors
    def render(self, names: list[str] | None = None, uploads: list[str] | None = None,
               selected: list[str] | None = None, seeds: str | None = None, duration: float | str | None = None,
               model: str = DEFAULT_MODEL, folder: str = "",
               loudness: str = "off", stops: dict[str, int] | None = None,
               progress: Any = gr.Progress()) -> Iterator[tuple[Any, ...]]:
        """Render the selected entries (entry x seed) resumably into ``<out>/<library>/<entry>/s<seed>.wav``;
        yields ``(results table, summary)``: first cleared, then heartbeats, then every take as a
        card (those done earlier too)."""
        yield [], "Rendering…"
        if not selected:
            raise gr.Error("select entries first: click rows of the table, or 'Select all shown'")
        wanted = set(selected)
        prompts = [p for lib in libraries(self.app, names, uploads) for p in lib.prompts if key(p) in wanted]
        unknown = wanted - {key(p) for p in prompts}
        if unknown:
            raise gr.Error(f"no entry {', '.join(sorted(unknown))} in the chosen prompt files")
        jobs = plan_jobs(prompts, self.app.out, seeds=parse_seeds(seeds) if (seeds or "").strip() else None,
                         model=model_name(model, folder), settings={"duration": number(duration, "Duration (s)")})
        job = Run.start(stops, "library")

        def work(emit: Any) -> Any:
            return render_jobs(jobs, self.app.out, load=self.app.cache.get, decoders=self.app.decoders,
                               history=self.app.history,
                               loudness=loudness_target(loudness), should_stop=job.should_stop,
                               on_take=lambda update: emit("progress", (update.done, update.total)))

        yield from relay(work, progress, desc="takes", job=job, outputs=2,
                         result=lambda result: (results_table(self.app, result), summary(result)),
                         stopped=([], "Stopped: finished takes are kept; render again to resume."))

    def cards(self, rows: list[list[Any]] | None) -> str:
        """The cards of the takes a render wrote or found done (the results table's files)."""
        files = [row[3] for row in rows or [] if len(row) > 3 and not str(row[2]).startswith("FAILED")]
        return cards_html(self.app, files, empty="Nothing rendered.")

    # --- layout --------------------------------------------------------------------------------------
    def build(self, shared: SimpleNamespace) -> SimpleNamespace:
        w = SimpleNamespace()
        files = prompt_files(self.app)
        with gr.Row(equal_height=True):  # side by side on a desktop; on a phone each takes a line of its own
            w.names = gr.Dropdown(files, value=files, multiselect=True, label=f"Prompt files in {self.app.prompts}",
                                  scale=3, min_width=300, elem_id="lib-files")
            w.tags = gr.Dropdown([], multiselect=True, label="Tags (any of)", scale=2, min_width=300,
                                 elem_id="lib-tags")
            w.text = gr.Textbox(label="Text filter", placeholder="e.g. night, 120 BPM (Enter)", scale=2, min_width=300,
                                elem_id="lib-text")
        w.table = gr.Dataframe(headers=TABLE_HEADERS, type="array", interactive=False, wrap=True, max_height=520,
                               column_widths=["22%", "14%", "16%", "8%", "40%"],
                               label="Entries (click a row for details and to select it)", elem_id="lib-table")
        with gr.Row(equal_height=False):
            w.details = gr.Markdown("Click an entry to see its details.", elem_classes=["facts"])
            w.use = gr.Button("Use in Create", size="sm", scale=0, min_width=150, elem_id="lib-use")
        with gr.Accordion("Template matrix expansion", open=False) as w.expansion_box:
            w.expansion = gr.Dataframe(headers=["id", "text"], interactive=False, wrap=True, max_height=240,
                                       label="Template matrix expansion")
        with gr.Accordion("Upload prompt files, or import them from CSV / JSON Lines", open=False):
            with gr.Row(equal_height=True):
                w.uploads = gr.File(label="Prompt files (.toml)", file_count="multiple", type="filepath",
                                    file_types=[".toml"], height=120)
                w.sheet = gr.File(label="A .csv with a header row (text, tags, seeds, bpm…) or a .jsonl",
                                  type="filepath", file_types=[".csv", ".jsonl"], height=120)
            w.imported = gr.Markdown()
        w.clicked = gr.State(None)
        with gr.Row(equal_height=True):
            w.selected = gr.Dropdown([], multiselect=True, label="Selected entries", scale=5, allow_custom_value=True)
            w.select_all = gr.Button("Select all shown", size="sm", scale=1)
            w.seeds = gr.Textbox(label="Seeds", placeholder="from the files", scale=1)
            w.duration = blank_number("Duration (s)", info="Blank: each file's own", scale=1, elem_id="lib-duration")
        with gr.Row():
            w.run = gr.Button("Render selected", variant="primary", scale=3, elem_id="lib-run")
            w.stop = gr.Button("Stop", variant="stop", scale=1)
        w.status = gr.Markdown("Entries keep their own sampling settings; the model and loudness in Settings apply.")
        w.deck = TakeCards(self.app).build(elem_id="lib-takes", empty="The rendered takes appear here as cards.")
        w.note = gr.HTML("", elem_classes=["facts"])
        with gr.Accordion("Rendered (table)", open=False):
            w.results = gr.Dataframe(headers=RESULT_HEADERS, type="array", interactive=False, wrap=True,
                                     label="Rendered")
        browse_in, browse_out = [w.names, w.uploads, w.tags, w.text], [w.table, w.tags, w.selected]
        for trigger in (w.names.change, w.uploads.change, w.tags.change, w.text.submit):
            trigger(self.browse, browse_in, browse_out, api_visibility="private", concurrency_limit=None)
        w.load_event = (self.browse, browse_in, browse_out)
        w.sheet.upload(self.import_sheet, [w.sheet, w.uploads], [w.imported, w.uploads], api_visibility="private",
                       concurrency_limit=None)
        w.table.select(self.details, [w.names, w.uploads, w.selected],
                       [w.details, w.expansion, w.selected, w.clicked, w.expansion_box],
                       api_visibility="private", concurrency_limit=None)
        w.select_all.click(lambda rows: [r[0] for r in rows or [] if r and r[0]], w.table, w.selected,
                           api_visibility="private", queue=False)
        inputs = [w.names, w.uploads, w.selected, w.seeds, w.duration, shared.model, shared.folder, shared.loudness,
                  shared.stops]
        w.run.click(lambda: cards_html(self.app, [], empty="Rendering…"), None, w.deck, api_visibility="private",
                    queue=False)
        w.event = w.run.click(self.render, inputs, [w.results, w.status], api_name="library_render",
                              concurrency_id="model", concurrency_limit=shared.concurrency,
                              show_progress_on=[w.status])
        w.event.then(self.cards, w.results, w.deck, api_visibility="private", concurrency_limit=None)
        w.stop.click(shared.stop("library"), shared.stops, None, api_visibility="private", queue=False)
        return w


def results_table(app: App, result: Any) -> list[list[Any]]:
    """One row per job of a :class:`~workbench.render.batch.BatchResult`: entry, seed, status, file."""
    rows = [[f"{item.record['prompt']['library']}/{item.record['prompt']['entry_id']}",
             item.take.seed, "done", app.rel(item.path)] for item in result.done]
    rows += [[key(job.prompt), job.seed, "skipped (done earlier)", app.rel(job.path)] for job in result.skipped]
    rows += [[key(job.prompt), job.seed, f"FAILED: {error}", app.rel(job.path)] for job, error in result.failed]
    return rows


def summary(result: Any) -> str:
    text = f"**{len(result.done)} rendered**, {len(result.skipped)} done earlier, {len(result.failed)} failed"
    if result.manifest is not None:
        text += f" · log `{Path(result.manifest).name}`"
    return text
