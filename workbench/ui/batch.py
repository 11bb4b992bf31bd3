"""The Batch tab: render a whole prompt file (entry x seed) into a sub-folder, resumably, with a live job table and
a card for each take as it is finished."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import gradio as gr

from workbench.core.params import parse_seeds
from workbench.models.registry import DEFAULT_MODEL
from workbench.render.batch import plan_jobs, render_jobs
from workbench.store.naming import output_subfolder, sidecar_path_for
from workbench.ui.card import TakeCards, cards_html
from workbench.ui.context import App, Run, blank_number, loudness_target, model_name, number, relay
from workbench.ui.errors import ui_errors
from workbench.ui.library import key, libraries, prompt_files, summary

JOB_HEADERS = ["#", "entry", "seed", "status", "file"]
#: What the job table shows for each status of :class:`workbench.render.batch.JobUpdate`.
STATUS_TEXT = {"done": "done", "skipped": "skipped (done earlier)", "failed": "FAILED"}
#: Most finished takes the Batch tab shows as cards (the newest).
MAX_CARDS = 12


class BatchTab:
    """Handlers and layout of the Batch tab."""

    def __init__(self, app: App) -> None:
        self.app = app

    @ui_errors
    def batch(self, file: str | None = None, upload: str | None = None, seeds: str | None = None,
              subfolder: str = "batch",
              batch_size: float = 4, duration: float | str | None = None, model: str = DEFAULT_MODEL, folder: str = "",
              loudness: str = "off", stops: dict[str, int] | None = None,
              progress: Any = gr.Progress()) -> Iterator[tuple[Any, ...]]:
        """Render every entry of a prompt file — the uploaded one when there is one, else the chosen one — and yield
        ``(jobs table, summary, library names, cards)`` as takes finish (file paths relative to the batch's
        sub-folder)."""
        yield [], "Planning…", "", cards_html(self.app, [], empty="Rendering…")
        libs = libraries(self.app, [] if upload else [file] if file else [], [upload] if upload else [])
        if not libs:
            raise gr.Error("choose a prompt file, or upload one")
        out = output_subfolder(self.app.out, subfolder)
        prompts = [p for lib in libs for p in lib.prompts]
        jobs = plan_jobs(prompts, out, seeds=parse_seeds(seeds) if (seeds or "").strip() else None,
                         model=model_name(model, folder), settings={"duration": number(duration, "Duration (s)")})
        status = {job.label: "queued" for job in jobs}
        names = libs[0].name  # what History's search box is given by "Show these takes in History"
        finished: list[Path] = []
        where = f"`{self.app.rel(out)}/`" if out != self.app.out else "the output folder"

        def table() -> list[list[Any]]:
            return [[n + 1, key(job.prompt), job.seed, status[job.label], job.path.relative_to(out).as_posix()]
                    for n, job in enumerate(jobs)]

        def cards() -> str:
            return cards_html(self.app, finished[-MAX_CARDS:][::-1], empty="No take finished yet.")

        run = Run.start(stops, "batch")

        def work(emit: Any) -> Any:
            return render_jobs(jobs, out, load=self.app.cache.get, decoders=self.app.decoders,
                               batch_size=int(batch_size), history=self.app.history,
                               loudness=loudness_target(loudness),
                               on_take=lambda update: emit("take", update),
                               step_progress=lambda done, total: emit("progress", (done, total)),
                               should_stop=run.should_stop)

        yield table(), f"{len(jobs)} takes planned into {where}…", names, cards()

        def done(result: Any) -> tuple[Any, ...]:
            status.update({job.label: f"FAILED: {error}" for job, error in result.failed})
            return table(), summary(result) + f" · into {where}", names, cards()

        def take(_kind: str, update: Any) -> tuple[Any, ...]:
            status[update.job.label] = STATUS_TEXT[update.status]
            if update.status != "failed":
                finished.append(sidecar_path_for(update.job.path))
            return table(), f"{update.done}/{update.total} takes…", names, cards()

        yield from relay(work, progress, desc="decoding", job=run, outputs=4, result=done, event=take,
                         stopped=lambda _stop: (table(), "Stopped: finished takes are kept; run the same batch "
                                                         "again to resume.", names, cards()))

    def build(self, shared: SimpleNamespace) -> SimpleNamespace:
        w = SimpleNamespace()
        files = prompt_files(self.app)
        w.libraries = gr.State("")
        with gr.Row(equal_height=False):
            with gr.Column(scale=2, min_width=260):
                w.file = gr.Dropdown(files, value=files[0] if files else None, label="Prompt file",
                                     allow_custom_value=True, elem_id="batch-file")
                w.upload = gr.File(label="…or upload one (.toml): it replaces the choice above", type="filepath",
                                   file_types=[".toml"], height=120, elem_id="batch-upload")
                w.seeds = gr.Textbox(label="Seeds", placeholder="from the file, e.g. 1-4", elem_id="batch-seeds")
                w.subfolder = gr.Textbox("batch", label="Output sub-folder",
                                         info=f"Under {self.app.out}; re-running resumes")
                with gr.Row():
                    w.batch_size = gr.Slider(1, 8, value=4, step=1, label="Takes per pass")
                    w.duration = blank_number("Duration (s)", info="Blank: the file's own", elem_id="batch-duration")
                with gr.Row():
                    w.run = gr.Button("Render batch", variant="primary", scale=3, elem_id="batch-run")
                    w.stop = gr.Button("Stop", variant="stop", scale=1)
            with gr.Column(scale=7):
                w.summary = gr.Markdown("Every entry × seed of the file; finished takes are skipped on a re-run.",
                                        elem_id="batch-summary")
                w.jobs = gr.Dataframe(headers=JOB_HEADERS, interactive=False, wrap=True, max_height=360,
                                      column_widths=["6%", "30%", "8%", "24%", "32%"], label="Jobs",
                                      elem_id="batch-jobs")
                w.to_history = gr.Button("Show these takes in History", size="sm")
        w.deck = TakeCards(self.app).build(elem_id="batch-takes", empty="Finished takes appear here as cards.")
        w.note = gr.HTML("", elem_classes=["facts"])
        w.upload.upload(lambda _upload: None, w.upload, w.file, api_visibility="private", queue=False)
        w.file.input(lambda _file: None, w.file, w.upload, api_visibility="private", queue=False)
        inputs = [w.file, w.upload, w.seeds, w.subfolder, w.batch_size, w.duration, shared.model, shared.folder,
                  shared.loudness, shared.stops]
        w.event = w.run.click(self.batch, inputs, [w.jobs, w.summary, w.libraries, w.deck], api_name="batch",
                              concurrency_id="model", concurrency_limit=shared.concurrency,
                              show_progress_on=[w.summary])
        w.stop.click(shared.stop("batch"), shared.stops, None, api_visibility="private", queue=False)
        return w
