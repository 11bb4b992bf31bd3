"""The History tab: search takes and see the newest as cards; pick one to retake it from a point, loop it, reproduce
it, note, tag, delete or export it."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import gradio as gr

from workbench.core.music import parse_bpm_range
from workbench.core.params import parse_seeds
from workbench.render.branch import render_branch
from workbench.render.loops import write_loop
from workbench.render.reproduce import reproduce
from workbench.render.stems import split_take
from workbench.store.history import SORTS
from workbench.store.measured import measure_take, versus, versus_row
from workbench.ui.actions import loop_note, stems_note
from workbench.ui.card import TakeCards, cards_html
from workbench.ui.context import App, Run, blank_number, number, relay, stars, ui_errors
from workbench.ui.curate import CuratePanel
from workbench.ui.playhead import playhead_js

HEADERS = ["id", "created", "prompt", "seed", "model", "rating", "♥", "s", "tempo · key", "file"]
RATINGS = [("–", 0), *((str(n), n) for n in range(1, 6))]
#: Most takes the gallery shows (the newest that match the search).
GALLERY = 12


class HistoryTab:
    """Handlers and layout of the History tab."""

    def __init__(self, app: App) -> None:
        self.app = app

    def _rows(self, text: str | None, favorites: bool, min_rating: float | None, model: str | None, sort: str,
              bpm: str | None, key: str | None) -> list[dict[str, Any]]:
        tempo = parse_bpm_range(bpm, "“Tempo”") if (bpm or "").strip() else None
        return self.app.history.search((text or "").strip() or None, favorites=bool(favorites),
                                       min_rating=int(min_rating) if min_rating else None,
                                       model=(model or "").strip() or None, sort=sort or "newest", bpm=tempo,
                                       key=(key or "").strip() or None)

    @ui_errors
    def search(self, text: str | None = None, favorites: bool = False, min_rating: float | None = 0,
               model: str | None = None, sort: str = "newest", bpm: str | None = None,
               key: str | None = None) -> list[list[Any]]:
        """Takes matching the filters (a measured tempo range ``100-120`` or one tempo; a key such as ``A minor``),
        in the order ``sort`` (newest, oldest, bpm, key), as table rows."""
        return [[r["id"], r["created"][:16].replace("T", " "), r["prompt"], str(r["seed"]), r["model"],
                 stars(r["rating"]), "♥" if r["favorite"] else "", round(r["duration_s"], 2),
                 versus_row(r).text(), r["audio"]]
                for r in self._rows(text, favorites, min_rating, model, sort, bpm, key)]

    @ui_errors
    def browse(self, text: str | None = None, favorites: bool = False, min_rating: float | None = 0,
               model: str | None = None, sort: str = "newest", bpm: str | None = None,
               key: str | None = None) -> tuple[Any, ...]:
        """``(table rows, cards of the first)`` for the filters."""
        rows = self.search(text, favorites, min_rating, model, sort, bpm, key)
        filtered = text or favorites or min_rating or model or bpm or key
        empty = "No take matches." if filtered else "No takes yet: render one."
        return rows, cards_html(self.app, [row[0] for row in rows[:GALLERY]], empty=empty)

    def _row(self, take: str | int) -> dict[str, Any]:
        if take in (None, ""):
            raise gr.Error("pick a take first: click a row of the table, or “Retake from…” on a card")
        return self.app.history.get(str(take).strip())

    @ui_errors
    def pick(self, evt: gr.SelectData) -> tuple[Any, ...]:
        """A clicked row: ``(take id, its card, rating, favourite, notes, tags)``."""
        row = self._row(evt.row_value[0])
        return (str(row["id"]), cards_html(self.app, [row["id"]]), row["rating"] or 0, row["favorite"],
                row["notes"], ", ".join(row["tags"]))

    @ui_errors
    def rate(self, take: str, rating: float | None = None, favorite: bool = False) -> str:
        """Set a take's rating (1-5; 0 or empty clears it) and favourite mark."""
        row = self.app.history.update_user(str(self._row(take)["id"]), rating=int(rating) if rating else None,
                                           favorite=bool(favorite))
        return f"take #{row['id']}: {stars(row['rating']) or 'no rating'}{' · ♥ favourite' * row['favorite']} — saved"

    @ui_errors
    def reproduce(self, take: str, stops: dict[str, int] | None = None,
                  progress: Any = gr.Progress()) -> Iterator[str]:
        """Re-render a take from its sidecar (its recorded model, device, dtype and kernels; the model in memory
        when it is that one) and say whether the codes came out identical. Stoppable."""
        row = self._row(take)
        run = Run.start(stops, "history")

        def work(emit: Any) -> Any:
            return reproduce(self.app.out / row["sidecar"], engine=self.app.cache.peek(), should_stop=run.should_stop,
                             progress=lambda done, total: emit("progress", (done, total)))

        def said(report: Any) -> str:
            head = "✅ **identical**" if report.identical else "❌ **mismatch**"
            notes = "".join(f"\n- {w}" for w in report.warnings)
            return f"take #{row['id']}: {head} — {report.message}{notes}"

        yield f"take #{row['id']}: re-rendering with {row['model']}…"
        yield from relay(work, progress, desc="re-rendering", job=run, outputs=1, result=said,
                         stopped=f"take #{row['id']}: stopped before the end.")

    @ui_errors
    def loop(self, take: str, bars: float | str | None = None, bpm: float | str | None = None) -> tuple[Any, str]:
        """Write the take's seamless loop (``NAME.loop.wav``): ``(loop audio, summary)``; blank bars: as many as fit
        (1, 2, 4, 8...), blank BPM: the tempo its prompt or chords state, else the detected one."""
        row = self._row(take)
        bars, bpm = number(bars, "Bars"), number(bpm, "BPM")
        if bars is not None and bars != int(bars):
            raise gr.Error(f"“Bars” must be a whole number, got {bars:g}")
        path, cut = write_loop(self.app.out / row["sidecar"], bars=int(bars) if bars else None, bpm=bpm)
        return str(path), loop_note(self.app, row["id"], path, cut)

    @ui_errors
    def stems(self, take: str) -> str:
        """Split a take into stems beside it (the app's Demucs model): a note with a player for each."""
        row = self._row(take)
        return stems_note(self.app, row["id"], split_take(self.app.out / row["sidecar"], model=self.app.stems_model,
                                                          force=True))

    @ui_errors
    def analyze(self, take: str) -> tuple[str, str]:
        """Measure a take's tempo and key again (recorded in its sidecar and the history): ``(note, its card)``."""
        row = self._row(take)
        _found, written = measure_take(self.app.out / row["sidecar"], self.app.history)
        return f"take #{row['id']}: {versus(written).text()}", cards_html(self.app, [row["id"]])

    @ui_errors
    def retake(self, take: str, at: float | str | None = None, seeds: str = "1-4", stops: dict[str, int] | None = None,
               progress: Any = gr.Progress()) -> Iterator[tuple[Any, ...]]:
        """Keep the take up to ``at`` seconds and render the rest once per seed (``workbench branch``); yields
        ``(files, summary, cards)``. Stoppable."""
        yield gr.skip(), "", cards_html(self.app, [], empty="Retaking…")
        row = self._row(take)
        at = number(at, "Retake from (s)")
        if at is None:
            raise gr.Error("type the time to retake from, in seconds, or play the take, pause it there and use "
                           "“Playhead → time”")
        seed_list = parse_seeds(str(seeds or "").strip() or "1")
        engine = self.app.cache.get(row["model"])
        run = Run.start(stops, "history")

        def work(emit: Any) -> Any:
            return render_branch(self.app.out / row["sidecar"], at_s=float(at), seeds=seed_list, engine=engine,
                                 history=self.app.history, should_stop=run.should_stop,
                                 progress=lambda done, total: emit("progress", (done, total)))

        def said(result: Any) -> tuple[Any, ...]:
            rendered, index = result
            return ([str(item.path) for item in rendered] + [str(index)],
                    f"take #{row['id']}: {len(rendered)} retake(s) from {float(at):g} s, each keeping its first "
                    f"{float(at):g} s", cards_html(self.app, [item.sidecar for item in rendered], sheet=index))

        yield gr.skip(), f"take #{row['id']}: retaking from {float(at):g} s with {len(seed_list)} seed(s)…", gr.skip()
        yield from relay(work, progress, desc="retakes", job=run, outputs=3, result=said,
                         stopped=(gr.skip(), f"take #{row['id']}: stopped before the end: nothing was written.",
                                  cards_html(self.app, [], empty="Stopped.")))

    def build(self, shared: SimpleNamespace) -> SimpleNamespace:
        w = SimpleNamespace()
        with gr.Row(equal_height=False):
            w.text = gr.Textbox(label="Search", placeholder="prompt, library, entry, notes or tags", scale=4,
                                elem_id="hist-search")
            w.min_rating = gr.Dropdown([("any", 0), *((f"≥ {n}★", n) for n in range(1, 6))], value=0,
                                       label="Rating", scale=1, min_width=100)
            w.model = gr.Textbox(label="Model", placeholder="any", scale=1, min_width=100)
            with gr.Column(scale=1, min_width=140):
                w.favorites = gr.Checkbox(label="♥ favourites only")
                w.run = gr.Button("Search", variant="primary", elem_id="hist-run")
        with gr.Row(equal_height=False):
            w.sort = gr.Dropdown([(name, name) for name in SORTS], value="newest", label="Sort by", scale=1,
                                 min_width=100, elem_id="hist-sort")
            w.bpm_range = gr.Textbox(label="Tempo (measured)", placeholder="100-120, or 110", scale=1, min_width=100,
                                     elem_id="hist-bpm")
            w.key = gr.Textbox(label="Key (measured)", placeholder="A minor", scale=1, min_width=100,
                               elem_id="hist-key")
        w.gallery = TakeCards(self.app).build(elem_id="hist-gallery", empty="No takes yet: render one.",
                                              label="Newest takes")
        w.gallery_note = gr.HTML("", elem_classes=["facts"])
        with gr.Accordion("All matching takes (table): click one to open it below", open=False):
            w.table = gr.Dataframe(headers=HEADERS, type="array", interactive=False, wrap=True, max_height=380,
                                   column_widths=["4%", "11%", "24%", "7%", "7%", "6%", "3%", "4%", "16%", "18%"],
                                   label="Takes", elem_id="hist-table")
        search_in = [w.text, w.favorites, w.min_rating, w.model, w.sort, w.bpm_range, w.key]
        browse_out = [w.table, w.gallery]
        w.search_event = (self.browse, search_in, browse_out)
        gr.Markdown("### The take you work on", elem_id="hist-panel-title")
        with gr.Row(equal_height=False):
            with gr.Column(scale=3):
                w.selected = TakeCards(self.app).build(elem_id="hist-selected",
                                                       empty="Click “Retake from…” on a card, or a row of the table.")
                w.selected_note = gr.HTML("", elem_classes=["facts"])
                w.message = gr.Markdown(elem_id="hist-message")
            with gr.Column(scale=2, variant="panel"):
                w.take = gr.Textbox(label="Take id", elem_id="hist-take")
                with gr.Row():
                    w.reproduce = gr.Button("Reproduce", size="sm", elem_id="hist-reproduce")
                    w.stop = gr.Button("Stop", size="sm", variant="stop")
                with gr.Row():
                    w.stems = gr.Button("Split into stems", size="sm", elem_id="hist-stems")
                    w.analyze = gr.Button("Measure tempo & key", size="sm", elem_id="hist-analyze")
                with gr.Accordion("Retake from a point", open=False, elem_id="hist-retake-box") as w.retake_box:
                    with gr.Row():
                        w.at = blank_number("Retake from (s)", elem_id="hist-at",
                                            info="Type it, or play the take, pause, and use the playhead")
                        w.seeds = gr.Textbox("1-4", label="Seeds")
                    with gr.Row():
                        w.playhead = gr.Button("Playhead → time", size="sm", elem_id="hist-playhead")
                        w.retake = gr.Button("Retake from here", size="sm", variant="primary", elem_id="hist-retake")
                with gr.Accordion("Loop", open=False):
                    with gr.Row():
                        w.bars = blank_number("Bars", info="Blank: as many as fit (1, 2, 4, 8…)")
                        w.bpm = blank_number("BPM", info="Blank: the prompt's, else detected")
                    w.make_loop = gr.Button("Make loop", size="sm", elem_id="hist-loop")
                    w.loop_audio = gr.Audio(type="filepath", interactive=False, label="Loop", visible=False)
                with gr.Row(visible=False):  # the API's rate endpoint (the cards' stars and ♥ do this in the page)
                    w.rating = gr.Radio(RATINGS, value=0, label="Rating")
                    w.favorite = gr.Checkbox(label="♥ Favourite")
                    w.save = gr.Button("Save rating")
                w.curate = CuratePanel(self.app, self._row)
                w.kept = w.curate.build(w.take, w.message, w.search_event)
        w.retakes = TakeCards(self.app).build(elem_id="hist-retakes", empty="Retakes appear here.", label="Retakes")
        w.retakes_note = gr.HTML("", elem_classes=["facts"])
        w.retake_files = gr.File(label="Retakes and their contact sheet", file_count="multiple", interactive=False,
                                 visible=False)
        w.run.click(self.search, search_in, w.table, api_name="history", concurrency_limit=None).then(
            self.browse, search_in, browse_out, api_visibility="private", concurrency_limit=None)
        w.text.submit(self.browse, search_in, browse_out, api_visibility="private", concurrency_limit=None)
        w.table.select(self.pick, None, [w.take, w.selected, w.rating, w.favorite, w.kept.notes, w.kept.tags],
                       api_visibility="private", concurrency_limit=None)
        w.save.click(self.rate, [w.take, w.rating, w.favorite], w.message, api_name="rate",
                     concurrency_limit=None).then(self.browse, search_in, browse_out, api_visibility="private")
        w.reproduce.click(self.reproduce, [w.take, shared.stops], w.message, api_name="reproduce",
                          concurrency_id="model", concurrency_limit=shared.concurrency)
        w.stop.click(shared.stop("history"), shared.stops, None, api_visibility="private", queue=False)
        w.make_loop.click(self.loop, [w.take, w.bars, w.bpm], [w.loop_audio, w.selected_note], api_name="loop")
        w.stems.click(self.stems, w.take, w.selected_note, api_name="stems", concurrency_id="model",
                      concurrency_limit=shared.concurrency, show_progress_on=[w.selected_note])
        w.analyze.click(self.analyze, w.take, [w.selected_note, w.selected], api_name="analyze",
                        concurrency_limit=None)
        w.playhead.click(None, w.at, w.at, js=playhead_js("hist-selected"), api_visibility="private", queue=False)
        w.retake.click(self.retake, [w.take, w.at, w.seeds, shared.stops], [w.retake_files, w.message, w.retakes],
                       api_name="retake", concurrency_id="model", concurrency_limit=shared.concurrency
                       ).then(self.browse, search_in, browse_out, api_visibility="private")
        return w
