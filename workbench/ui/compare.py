"""The Compare seeds tab: one prompt, several seeds side by side (batched on MusicGen); rate, pick, extend, retake."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import gradio as gr

from workbench.core.params import params_from_settings, parse_seeds, validate_text
from workbench.models.registry import DEFAULT_MODEL
from workbench.render.prompt import Rendered, render_seeds
from workbench.store.naming import adhoc_folder, spectrogram_path_for
from workbench.ui.conditions import prepare_uploads, ui_conditions
from workbench.ui.context import MAX_COMPARE, App, Job, P, fmt, loudness_target, model_name, relay, stars, ui_errors
from workbench.ui.generate import take_facts


class CompareTab:
    """Handlers and layout of the Compare seeds tab."""

    def __init__(self, app: App) -> None:
        self.app = app

    # --- handlers ------------------------------------------------------------------------------------
    @ui_errors
    def compare(self, text: str, seeds: str = "1-4", model: str = DEFAULT_MODEL, folder: str = "",
                duration: float = P.duration_s, guidance: float = P.guidance_scale, temperature: float = P.temperature,
                top_k: float = P.top_k, top_p: float = P.top_p, loudness: str = "off",
                stops: dict[str, int] | None = None, decoder: str = "encodec", style: str | None = None,
                progress: Any = gr.Progress()) -> Iterator[tuple[Any, ...]]:
        """Render ``text`` for every seed in one pass; yields heartbeats, then ``(takes, status, files)``.

        ``decoder`` is ``encodec`` or ``mbd``; ``style`` a reference clip whose style every take takes (style
        models; kept under the output folder like Generate's uploads)."""
        params = params_from_settings(duration=duration, guidance=guidance, temperature=temperature,
                                      top_k=top_k, top_p=top_p)
        text, seed_list = validate_text(text), parse_seeds((seeds or "").strip() or "1-4")
        if len(seed_list) > MAX_COMPARE:
            raise gr.Error(f"{len(seed_list)} seeds: the grid shows at most {MAX_COMPARE}; use Batch for more")
        conditions = ui_conditions(style=style, decoder=decoder)
        engine = self.app.cache.get(model_name(model, folder))
        out = adhoc_folder(self.app.out, text)
        conditions, draft = prepare_uploads(self.app, engine, conditions, params.duration_s, out)
        job = Job.start(stops, "compare")

        def work(emit: Any) -> tuple[list[Rendered], Path]:
            return render_seeds(engine, text, params, seed_list, out, conditions=conditions, draft=draft,
                                decoders=self.app.decoders,
                                loudness=loudness_target(loudness), history=self.app.history,
                                should_stop=job.should_stop,
                                progress=lambda done, total: emit("progress", (done, total)))

        yield from relay(work, progress, desc=f"{len(seed_list)} seeds", job=job, outputs=3,
                         result=lambda done: self._finished(text, *done),
                         stopped=([], "⏹ Stopped before the end: nothing was written.", None))

    def _finished(self, text: str, rendered: list[Rendered], index: Path) -> tuple[Any, ...]:
        takes = [{**take_facts(self.app, item), "image": self.app.rel(spectrogram_path_for(item.path))}
                 for item in rendered]
        files = [str(p) for item in rendered for p in (item.path, item.sidecar)] + [str(index)]
        first = rendered[0].take
        passes = (f"in one batched pass ({first.wall_s:.1f} s)" if first.batch_size == len(takes) > 1 else
                  f"one pass each ({sum(item.take.wall_s for item in rendered):.1f} s)")
        status = f"{len(takes)} takes of **{text[:80]}** {passes} · `{self.app.rel(index)}`"
        return takes, status, files

    def slots(self, takes: list[dict[str, Any]] | None) -> list[Any]:
        """Updates for every grid slot: ``(card, facts, audio, image, rating, favourite)`` each."""
        out: list[Any] = []
        takes = takes or []
        for index in range(MAX_COMPARE):
            if index >= len(takes):
                out += [gr.Column(visible=False), "", None, None, None, False]
                continue
            take = takes[index]
            out += [gr.Column(visible=True), self._facts(take), str(self.app.out / take["audio"]),
                    str(self.app.out / take["image"]), None, False]
        return out

    def _facts(self, take: dict[str, Any], row: dict[str, Any] | None = None) -> str:
        mark = ""
        if row is not None:
            mark = f" · {stars(row['rating'])}" * bool(row["rating"]) + " · ♥" * bool(row["favorite"])
        adherence = f" · melody adherence **{take['adherence']:.3f}**" if take.get("adherence") is not None else ""
        return (f"### seed {take['seed']}{mark}\n{take['duration_s']:.2f} s · peak {fmt(take['peak_dbfs'])} dBFS · "
                f"**{fmt(take['loudness_lufs'])} LUFS**{adherence} · take #{take['take_id']}")

    @ui_errors
    def rate_slot(self, index: int, takes: list[dict[str, Any]], rating: int | None, favorite: bool) -> str:
        """Save a slot's rating and favourite mark in the history (and its sidecar)."""
        take = takes[index]
        row = self.app.history.update_user(take["take_id"], rating=int(rating) if rating else None,
                                           favorite=bool(favorite))
        return self._facts(take, row)

    def use_seed(self, index: int, takes: list[dict[str, Any]]) -> tuple[Any, ...]:
        take = takes[index]
        return str(take["seed"]), take["prompt"], gr.Tabs(selected="generate")

    def extend(self, index: int, takes: list[dict[str, Any]]) -> tuple[Any, ...]:
        """Send the take's token file to Generate as a continuation draft."""
        take = takes[index]
        return (take["prompt"], "continuation", str(self.app.out / take["codes"]), gr.Accordion(open=True),
                gr.Tabs(selected="generate"))

    # --- layout --------------------------------------------------------------------------------------
    def build(self, shared: SimpleNamespace, gen: SimpleNamespace) -> SimpleNamespace:
        w = SimpleNamespace(cards=[], facts=[], audios=[], images=[], ratings=[], favorites=[], retakes=[])
        w.takes = gr.State([])
        with gr.Row(equal_height=True):
            w.prompt = gr.Textbox(label="Prompt", lines=2, scale=6, elem_id="cmp-prompt",
                                  placeholder="lo-fi hip hop, dusty vinyl drums, mellow Rhodes chords, 80 BPM")
            w.seeds = gr.Textbox("1-4", label="Seeds", scale=1, elem_id="cmp-seeds",
                                 info=f"e.g. 1-6 or 3,7,11 (≤ {MAX_COMPARE})")
            with gr.Column(scale=1, min_width=140):
                w.run = gr.Button("Render seeds", variant="primary", elem_id="cmp-run")
                w.stop = gr.Button("Stop", variant="stop", size="sm")
        with gr.Row(equal_height=True):
            w.style = gr.File(label="Style reference (audio; style models)", type="filepath", height=130,
                              file_types=[".wav", ".flac", ".ogg", ".mp3"], elem_id="cmp-style", visible=False,
                              scale=2)
            w.decoder = gr.Radio([("EnCodec", "encodec"), ("MultiBand Diffusion", "mbd")], value="encodec",
                                 label="Decoder", elem_id="cmp-decoder", scale=1,
                                 info="Same codes; MBD: cleaner audio, slower (mono MusicGen)")
        w.status = gr.Markdown("One prompt, several seeds side by side (MusicGen renders them in one batched pass).")
        for row_start in range(0, MAX_COMPARE, 2):
            with gr.Row(equal_height=False):
                for index in range(row_start, row_start + 2):
                    with gr.Column(visible=False, variant="panel", elem_classes=["take-card"]) as card:
                        w.facts.append(gr.Markdown())
                        w.audios.append(gr.Audio(type="filepath", interactive=False, show_label=False,
                                                 elem_classes=["cmp-audio"]))
                        w.images.append(gr.Image(type="filepath", interactive=False, show_label=False, height=120))
                        with gr.Row(equal_height=True):
                            w.ratings.append(gr.Radio([(str(n), n) for n in range(1, 6)], label="Rating",
                                                      elem_classes=["cmp-rating"], scale=3))
                            w.favorites.append(gr.Checkbox(label="♥ Favourite", scale=1))
                        with gr.Row():
                            use = gr.Button("Use this seed", size="sm")
                            extend = gr.Button("Extend this take", size="sm")
                            w.retakes.append(gr.Button("Retake from…", size="sm"))  # wired to History (ui/app.py)
                    w.cards.append(card)
                    self._wire_slot(index, w, use, extend, shared, gen)
        with gr.Accordion("Takes (JSON) and downloads", open=False):
            w.json = gr.JSON(label="Takes")
            w.files = gr.File(label="Audio, sidecars and contact sheet", file_count="multiple", interactive=False)
        inputs = [w.prompt, w.seeds, *shared.sampling, shared.stops, w.decoder, w.style]
        slot_outputs = [c for group in zip(w.cards, w.facts, w.audios, w.images, w.ratings, w.favorites) for c in group]
        w.event = w.run.click(self.compare, inputs, [w.json, w.status, w.files], api_name="compare",
                              concurrency_id="model", concurrency_limit=shared.concurrency, show_progress_on=[w.status])
        w.event.then(lambda takes: (takes, *self.slots(takes)), w.json, [w.takes, *slot_outputs],
                     api_visibility="private", queue=False)
        w.stop.click(shared.stop("compare"), shared.stops, None, api_visibility="private", queue=False)
        return w

    def _wire_slot(self, index: int, w: SimpleNamespace, use: Any, extend: Any, shared: SimpleNamespace,
                   gen: SimpleNamespace) -> None:
        rate = functools.partial(self.rate_slot, index)
        for widget in (w.ratings[index], w.favorites[index]):
            widget.input(rate, [w.takes, w.ratings[index], w.favorites[index]], w.facts[index],
                         api_visibility="private", concurrency_limit=None)
        use.click(functools.partial(self.use_seed, index), w.takes, [gen.seed, gen.prompt, shared.tabs],
                  api_visibility="private", queue=False)
        extend.click(functools.partial(self.extend, index), w.takes,
                     [gen.prompt, gen.draft_mode, gen.continue_from, gen.draft_box, shared.tabs],
                     api_visibility="private", queue=False)
