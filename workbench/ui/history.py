"""The History tab: search takes, play them, rate them, reproduce them, loop them, retake them from a point,
reuse them as drafts."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import gradio as gr

from workbench.core.params import parse_seeds
from workbench.core.take import cost_summary
from workbench.render.branch import render_branch
from workbench.render.loops import write_loop
from workbench.render.reproduce import reproduce
from workbench.store.naming import codes_path_for
from workbench.ui.context import App, Job, relay, stars, ui_errors
from workbench.ui.curate import CuratePanel
from workbench.ui.playhead import playhead_js

HEADERS = ["id", "created", "prompt", "seed", "model", "rating", "♥", "s", "file"]
RATINGS = [("–", 0), *((str(n), n) for n in range(1, 6))]


class HistoryTab:
    """Handlers and layout of the History tab."""

    def __init__(self, app: App) -> None:
        self.app = app

    @ui_errors
    def search(self, text: str | None = None, favorites: bool = False, min_rating: float | None = 0,
               model: str | None = None) -> list[list[Any]]:
        """Takes matching the filters, newest first, as table rows."""
        rows = self.app.history.search((text or "").strip() or None, favorites=bool(favorites),
                                       min_rating=int(min_rating) if min_rating else None,
                                       model=(model or "").strip() or None)
        return [[r["id"], r["created"][:16].replace("T", " "), r["prompt"], str(r["seed"]), r["model"],
                 stars(r["rating"]), "♥" if r["favorite"] else "", round(r["duration_s"], 2), r["audio"]]
                for r in rows]

    def _row(self, take: str | int) -> dict[str, Any]:
        if take in (None, ""):
            raise gr.Error("pick a take in the table first (or type its id)")
        return self.app.history.get(str(take).strip())

    def _file(self, relative: str) -> str | None:
        path = Path(relative) if Path(relative).is_absolute() else self.app.out / relative
        return str(path) if path.is_file() and path.resolve().is_relative_to(self.app.out.resolve()) else None

    @ui_errors
    def pick(self, evt: gr.SelectData) -> tuple[Any, ...]:
        """A clicked row: ``(take id, audio, details, rating, favourite, notes, tags)``."""
        row = self._row(evt.row_value[0])
        return (str(row["id"]), self._file(row["audio"]), self._details(row), row["rating"] or 0, row["favorite"],
                row["notes"], ", ".join(row["tags"]))

    def _details(self, row: dict[str, Any]) -> str:
        p = row["params"]
        where = f"{row['library']}/{row['entry_id']} · " if row["library"] else ""
        return (f"### take #{row['id']} · seed {row['seed']} · {row['model']}\n{row['prompt']}\n\n"
                f"{where}{row['duration_s']:.2f} s · guidance {p['guidance_scale']} · temperature {p['temperature']}"
                f" · top-k {p['top_k']} · top-p {p['top_p']} · {row['created'][:19].replace('T', ' ')}  \n"
                f"`{row['audio']}` · codes `{row['codes_sha256'][:16]}`"
                + (f"  \ncost: {cost_summary(row['cost'])}" * bool(row["cost"]))
                + (f"  \nnotes: {row['notes']}" * bool(row["notes"])))

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
        job = Job.start(stops, "history")

        def work(emit: Any) -> Any:
            return reproduce(self.app.out / row["sidecar"], engine=self.app.cache.peek(), should_stop=job.should_stop,
                             progress=lambda done, total: emit("progress", (done, total)))

        def said(report: Any) -> str:
            head = "✅ **identical**" if report.identical else "❌ **mismatch**"
            notes = "".join(f"\n- {w}" for w in report.warnings)
            return f"take #{row['id']}: {head} — {report.message}{notes}"

        yield f"take #{row['id']}: re-rendering with {row['model']}…"
        yield from relay(work, progress, desc="re-rendering", job=job, outputs=1, result=said,
                         stopped=f"take #{row['id']}: ⏹ stopped before the end.")

    @ui_errors
    def loop(self, take: str, bars: float | None = 4, bpm: float | None = None) -> tuple[Any, str]:
        """Write the take's seamless loop (``NAME.loop.wav``): ``(loop audio, summary)``."""
        row = self._row(take)
        if bars is None or float(bars) != int(bars):
            raise gr.Error(f"bars must be a whole number, got {bars!r}")
        path, cut = write_loop(self.app.out / row["sidecar"], bars=int(bars), bpm=float(bpm) if bpm else None)
        return str(path), (f"take #{row['id']}: {cut.bars}-bar loop, {cut.audio.shape[-1] / cut.sample_rate:.3f} s "
                           f"at {cut.bpm:.2f} BPM ({cut.bpm_source}) from {cut.start_s:.3f} s — `{self.app.rel(path)}`")

    @ui_errors
    def retake(self, take: str, at: float | None = None, seeds: str = "1-4", stops: dict[str, int] | None = None,
               progress: Any = gr.Progress()) -> Iterator[tuple[Any, str]]:
        """Keep the take up to ``at`` seconds and render the rest once per seed (``workbench branch``); yields
        ``(files, summary)``. Stoppable."""
        row = self._row(take)
        if at is None:
            raise gr.Error("type the time to retake from, in seconds, or pause the take there and use the playhead")
        seed_list = parse_seeds(str(seeds or "").strip() or "1")
        engine = self.app.cache.get(row["model"])
        job = Job.start(stops, "history")

        def work(emit: Any) -> Any:
            return render_branch(self.app.out / row["sidecar"], at_s=float(at), seeds=seed_list, engine=engine,
                                 history=self.app.history, should_stop=job.should_stop,
                                 progress=lambda done, total: emit("progress", (done, total)))

        def said(result: Any) -> tuple[list[str], str]:
            rendered, index = result
            return [str(item.path) for item in rendered] + [str(index)], (
                f"take #{row['id']}: {len(rendered)} retake(s) from {float(at):g} s, each keeping its first "
                f"{float(at):g} s — contact sheet `{self.app.rel(index)}`")

        yield gr.skip(), f"take #{row['id']}: retaking from {float(at):g} s with {len(seed_list)} seed(s)…"
        yield from relay(work, progress, desc="retakes", job=job, outputs=2, result=said,
                         stopped=(gr.skip(), f"take #{row['id']}: ⏹ stopped before the end: nothing was written."))

    def open_retake(self, index: int, takes: list[dict[str, Any]]) -> tuple[Any, ...]:
        """A Compare slot's take, opened in History's retake controls: ``(id, audio, details, notes, tags,
        accordion, tabs)``; the user types the time and the seeds there."""
        if not takes or index >= len(takes):
            raise gr.Error("render seeds first")
        row = self._row(takes[index]["take_id"])
        return (str(row["id"]), self._file(row["audio"]), self._details(row), row["notes"], ", ".join(row["tags"]),
                gr.Accordion(open=True), gr.Tabs(selected="history"))

    def use_as_melody(self, take: str) -> tuple[Any, ...]:
        row = self._row(take)
        return (row["prompt"], "melody", self._file(row["audio"]), gr.Accordion(open=True),
                gr.Tabs(selected="generate"))

    def continue_take(self, take: str) -> tuple[Any, ...]:
        row = self._row(take)
        codes = self._file(codes_path_for(row["audio"]).as_posix())
        return row["prompt"], "continuation", codes, gr.Accordion(open=True), gr.Tabs(selected="generate")

    def build(self, shared: SimpleNamespace, gen: SimpleNamespace) -> SimpleNamespace:
        w = SimpleNamespace()
        with gr.Row(equal_height=False):
            w.text = gr.Textbox(label="Search", placeholder="prompt, library, entry, notes or tags", scale=4,
                                elem_id="hist-search")
            w.min_rating = gr.Dropdown([("any", 0), *((f"≥ {n}★", n) for n in range(1, 6))], value=0,
                                       label="Rating", scale=1)
            w.model = gr.Textbox(label="Model", placeholder="any", scale=1)
            with gr.Column(scale=1, min_width=140):
                w.favorites = gr.Checkbox(label="♥ favourites only")
                w.run = gr.Button("Search", variant="primary", elem_id="hist-run")
        w.table = gr.Dataframe(headers=HEADERS, type="array", interactive=False, wrap=True, max_height=380,
                               column_widths=["5%", "11%", "32%", "8%", "6%", "7%", "3%", "4%", "24%"],
                               label="Takes (click one)", elem_id="hist-table")
        with gr.Row(equal_height=False):
            with gr.Column(scale=3):
                w.audio = gr.Audio(type="filepath", interactive=False, label="Take", elem_id="hist-audio")
                w.details = gr.Markdown("Click a take to play it, rate it or reproduce it.", elem_classes=["facts"])
            with gr.Column(scale=2, variant="panel"):
                w.take = gr.Textbox(label="Take id", elem_id="hist-take")
                w.rating = gr.Radio(RATINGS, value=0, label="Rating")
                w.favorite = gr.Checkbox(label="♥ Favourite")
                w.save = gr.Button("Save rating", size="sm")
                w.message = gr.Markdown()
                with gr.Row():
                    w.reproduce = gr.Button("Reproduce", size="sm")
                    w.stop = gr.Button("Stop", size="sm", variant="stop")
                    w.melody = gr.Button("Use as melody", size="sm")
                    w.cont = gr.Button("Continue", size="sm")
                with gr.Accordion("Loop or retake from a point", open=False) as w.retake_box:
                    with gr.Row():
                        w.bars = gr.Number(4, label="Bars", minimum=1, maximum=64, precision=0)
                        w.bpm = gr.Number(None, label="BPM", info="Blank: recorded, else estimated")
                        w.make_loop = gr.Button("Make loop", size="sm", elem_id="hist-loop")
                    w.loop_audio = gr.Audio(type="filepath", interactive=False, label="Loop")
                    with gr.Row():
                        w.at = gr.Number(None, label="Retake from (s)", minimum=0, elem_id="hist-at",
                                         info="Type it, or pause the take and use the playhead")
                        w.seeds = gr.Textbox("1-4", label="Seeds")
                    with gr.Row():
                        w.playhead = gr.Button("Playhead → time", size="sm", elem_id="hist-playhead")
                        w.retake = gr.Button("Retake from here", size="sm", elem_id="hist-retake")
                    w.retakes = gr.File(label="Retakes and their contact sheet", file_count="multiple",
                                        interactive=False)
                w.curate = CuratePanel(self.app, self._row)
                w.kept = w.curate.build(w.take, w.message, (self.search, [w.text, w.favorites, w.min_rating, w.model],
                                                            w.table))
        search_in = [w.text, w.favorites, w.min_rating, w.model]
        w.search_event, w.open_retake = (self.search, search_in, w.table), self.open_retake
        w.run.click(self.search, search_in, w.table, api_name="history", concurrency_limit=None)
        w.text.submit(self.search, search_in, w.table, api_visibility="private", concurrency_limit=None)
        w.table.select(self.pick, None, [w.take, w.audio, w.details, w.rating, w.favorite, w.kept.notes, w.kept.tags],
                       api_visibility="private", concurrency_limit=None)
        w.save.click(self.rate, [w.take, w.rating, w.favorite], w.message, api_name="rate",
                     concurrency_limit=None).then(self.search, search_in, w.table, api_visibility="private")
        w.reproduce.click(self.reproduce, [w.take, shared.stops], w.message, api_name="reproduce",
                          concurrency_id="model", concurrency_limit=shared.concurrency)
        w.stop.click(shared.stop("history"), shared.stops, None, api_visibility="private", queue=False)
        w.make_loop.click(self.loop, [w.take, w.bars, w.bpm], [w.loop_audio, w.message], api_name="loop")
        w.playhead.click(None, w.at, w.at, js=playhead_js("hist-audio"), api_visibility="private", queue=False)
        w.retake.click(self.retake, [w.take, w.at, w.seeds, shared.stops], [w.retakes, w.message], api_name="retake",
                       concurrency_id="model", concurrency_limit=shared.concurrency
                       ).then(self.search, search_in, w.table, api_visibility="private")
        targets = [gen.prompt, gen.draft_mode, gen.melody, gen.draft_box, shared.tabs]
        w.melody.click(ui_errors(self.use_as_melody), w.take, targets, api_visibility="private", queue=False)
        w.cont.click(ui_errors(self.continue_take), w.take,
                     [gen.prompt, gen.draft_mode, gen.continue_from, gen.draft_box, shared.tabs],
                     api_visibility="private", queue=False)
        return w
