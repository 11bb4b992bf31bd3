"""The History tab's take panel: the take you work on, as its card, and what can be done to it there — retake it from
a point, repaint a window, loop it, split it into stems, measure its tempo and key, reproduce it, rate it (the API's
``rate``), note, tag, delete or export it (:mod:`workbench.ui.curate`)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from types import SimpleNamespace
from typing import Any

import gradio as gr

from workbench.core.params import parse_seeds
from workbench.drafts.repaint import seam_summary
from workbench.render.branch import render_branch
from workbench.render.loops import write_loop
from workbench.render.repaint import render_repaint
from workbench.render.reproduce import reproduce
from workbench.render.stems import split_take
from workbench.store.measured import measure_take, versus
from workbench.ui.actions import loop_note, stems_note
from workbench.ui.card import TakeCards, cards_html
from workbench.ui.context import App, Run, blank_number, number, relay, stars
from workbench.ui.curate import CuratePanel
from workbench.ui.errors import ui_errors
from workbench.ui.playhead import playhead_js

RATINGS = [("–", 0), *((str(n), n) for n in range(1, 6))]


class TakePanel:
    """Handlers and layout of the take panel; ``row(take)`` is the History tab's look-up (with its "pick a take"
    error)."""

    def __init__(self, app: App, row: Callable[[Any], dict[str, Any]]) -> None:
        self.app, self._row = app, row

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

    @ui_errors
    def repaint(self, take: str, start: float | str | None = None, end: float | str | None = None,
                seeds: str = "1-4", text: str = "", stops: dict[str, int] | None = None,
                progress: Any = gr.Progress()) -> Iterator[tuple[Any, ...]]:
        """Render the window ``start``-``end`` seconds of a take anew once per seed, every code around it kept (MAGNeT;
        ``workbench repaint``); yields ``(files, summary, cards)``. Stoppable."""
        yield gr.skip(), "", cards_html(self.app, [], empty="Repainting…")
        row = self._row(take)
        start, end = number(start, "From (s)"), number(end, "To (s)")
        if start is None or end is None:
            raise gr.Error("type the window to repaint, “From (s)” and “To (s)”, or set them from the playhead")
        seed_list = parse_seeds(str(seeds or "").strip() or "1")
        engine = self.app.cache.get(row["model"])  # decodes the repaints; the MAGNeT that repaints is loaded for it
        run = Run.start(stops, "history")

        def work(emit: Any) -> Any:
            return render_repaint(self.app.out / row["sidecar"], from_s=start, to_s=end, seeds=seed_list,
                                  text=(text or "").strip() or None, engine=engine, history=self.app.history,
                                  should_stop=run.should_stop, progress=lambda done, total: emit("progress",
                                                                                                 (done, total)))

        def said(result: Any) -> tuple[Any, ...]:
            rendered, index = result
            seams = seam_summary(rendered[0].take.extra.get("seams") or []) if rendered else ""
            return ([str(item.path) for item in rendered] + [str(index)],
                    f"take #{row['id']}: {len(rendered)} repaint(s) of {start:g}–{end:g} s, every code around it "
                    f"kept · {seams}", cards_html(self.app, [item.sidecar for item in rendered], sheet=index))

        yield gr.skip(), f"take #{row['id']}: repainting {start:g}–{end:g} s with {len(seed_list)} seed(s)…", \
            gr.skip()
        yield from relay(work, progress, desc="repaints", job=run, outputs=3, result=said,
                         stopped=(gr.skip(), f"take #{row['id']}: stopped before the end: nothing was written.",
                                  cards_html(self.app, [], empty="Stopped.")))

    def build(self, w: SimpleNamespace, shared: SimpleNamespace, search_event: tuple[Any, Any, Any]) -> None:
        """The panel's widgets go into ``w`` (the History tab's namespace); ``search_event`` lists takes again."""
        search_fn, search_in, browse_out = search_event
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
                with gr.Accordion("Repaint a window", open=False, elem_id="hist-repaint-box") as w.repaint_box:
                    with gr.Row():
                        w.paint_from = blank_number("From (s)", elem_id="hist-paint-from")
                        w.paint_to = blank_number("To (s)", elem_id="hist-paint-to")
                    with gr.Row():
                        w.paint_from_head = gr.Button("Playhead → from", size="sm")
                        w.paint_to_head = gr.Button("Playhead → to", size="sm")
                    w.paint_text = gr.Textbox("", label="What the window should be (blank: the take's prompt)",
                                              elem_id="hist-paint-text")
                    w.paint_seeds = gr.Textbox("1-4", label="Seeds")
                    w.repaint = gr.Button("Repaint the window", size="sm", variant="primary", elem_id="hist-repaint")
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
                w.kept = w.curate.build(w.take, w.message, search_event)
        w.retakes = TakeCards(self.app).build(elem_id="hist-retakes", empty="Retakes and repaints appear here.",
                                              label="Retakes and repaints")
        w.retakes_note = gr.HTML("", elem_classes=["facts"])
        w.retake_files = gr.File(label="Retakes and their contact sheet", file_count="multiple", interactive=False,
                                 visible=False)
        w.save.click(self.rate, [w.take, w.rating, w.favorite], w.message, api_name="rate",
                     concurrency_limit=None).then(search_fn, search_in, browse_out, api_visibility="private")
        w.reproduce.click(self.reproduce, [w.take, shared.stops], w.message, api_name="reproduce",
                          concurrency_id="model", concurrency_limit=shared.concurrency)
        w.stop.click(shared.stop("history"), shared.stops, None, api_visibility="private", queue=False)
        w.make_loop.click(self.loop, [w.take, w.bars, w.bpm], [w.loop_audio, w.selected_note], api_name="loop")
        w.stems.click(self.stems, w.take, w.selected_note, api_name="stems", concurrency_id="model",
                      concurrency_limit=shared.concurrency, show_progress_on=[w.selected_note])
        w.analyze.click(self.analyze, w.take, [w.selected_note, w.selected], api_name="analyze",
                        concurrency_limit=None)
        w.playhead.click(None, w.at, w.at, js=playhead_js("hist-selected"), api_visibility="private", queue=False)
        w.paint_from_head.click(None, w.paint_from, w.paint_from, js=playhead_js("hist-selected"),
                                api_visibility="private", queue=False)
        w.paint_to_head.click(None, w.paint_to, w.paint_to, js=playhead_js("hist-selected"), api_visibility="private",
                              queue=False)
        w.repaint.click(self.repaint, [w.take, w.paint_from, w.paint_to, w.paint_seeds, w.paint_text, shared.stops],
                        [w.retake_files, w.message, w.retakes], api_name="repaint", concurrency_id="model",
                        concurrency_limit=shared.concurrency).then(search_fn, search_in, browse_out,
                                                                   api_visibility="private")
        w.retake.click(self.retake, [w.take, w.at, w.seeds, shared.stops], [w.retake_files, w.message, w.retakes],
                       api_name="retake", concurrency_id="model", concurrency_limit=shared.concurrency
                       ).then(search_fn, search_in, browse_out, api_visibility="private")
