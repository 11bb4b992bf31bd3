"""The Compare tab: one prompt, several seeds side by side (one batched pass on MusicGen), each a take card to rate,
♥, reuse, extend or retake; the contact sheet is a link that opens."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import gradio as gr

from workbench.core.params import params_from_settings, parse_seeds, validate_text
from workbench.models.registry import DEFAULT_MODEL
from workbench.render.prompt import Rendered, render_seeds
from workbench.store.naming import adhoc_folder
from workbench.ui.card import TakeCards, cards_html
from workbench.ui.conditions import prepare_uploads, ui_conditions
from workbench.ui.context import MAX_COMPARE, App, P, Run, loudness_target, model_name, relay
from workbench.ui.errors import ui_errors
from workbench.ui.generate import take_facts

IDLE = "One prompt, several seeds side by side (MusicGen renders them in one batched pass)."


class CompareTab:
    """Handlers and layout of the Compare tab."""

    def __init__(self, app: App) -> None:
        self.app = app

    @ui_errors
    def compare(self, text: str, seeds: str = "1-4", model: str = DEFAULT_MODEL, folder: str = "",
                duration: float = P.duration_s, guidance: float = P.guidance_scale, temperature: float = P.temperature,
                top_k: float = P.top_k, top_p: float = P.top_p, loudness: str = "off",
                stops: dict[str, int] | None = None, decoder: str = "encodec", style: str | None = None,
                progress: Any = gr.Progress()) -> Iterator[tuple[Any, ...]]:
        """Render ``text`` for every seed in one pass; yields ``(takes, status, files)``: first cleared, then
        heartbeats, then the takes (their cards follow from ``takes``: :meth:`cards`).

        ``decoder`` is ``encodec`` or ``mbd``; ``style`` a reference clip whose style every take takes (style
        models; kept under the output folder like Create's uploads)."""
        yield None, "Rendering…", None
        params = params_from_settings(duration=duration, guidance=guidance, temperature=temperature,
                                      top_k=top_k, top_p=top_p)
        text, seed_list = validate_text(text), parse_seeds((seeds or "").strip() or "1-4")
        if len(seed_list) > MAX_COMPARE:
            raise gr.Error(f"{len(seed_list)} seeds: Compare shows at most {MAX_COMPARE}; use Batch for more")
        conditions = ui_conditions(style=style, decoder=decoder)
        engine = self.app.cache.get(model_name(model, folder))
        out = adhoc_folder(self.app.out, text)
        conditions, draft = prepare_uploads(self.app, engine, conditions, params.duration_s, out)
        run = Run.start(stops, "compare")

        def work(emit: Any) -> tuple[list[Rendered], Path]:
            return render_seeds(engine, text, params, seed_list, out, conditions=conditions, draft=draft,
                                decoders=self.app.decoders, loudness=loudness_target(loudness),
                                history=self.app.history, should_stop=run.should_stop,
                                progress=lambda done, total: emit("progress", (done, total)))

        skip = gr.skip()
        yield skip, f"Rendering {len(seed_list)} seeds…", skip
        yield from relay(work, progress, desc=f"{len(seed_list)} seeds", job=run, outputs=3,
                         result=lambda done: self._finished(text, *done),
                         stopped=([], "Stopped before the end: nothing was written.", None))

    def _finished(self, text: str, rendered: list[Rendered], index: Path) -> tuple[Any, ...]:
        takes = [take_facts(self.app, item) for item in rendered]
        files = [str(p) for item in rendered for p in (item.path, item.sidecar)] + [str(index)]
        first = rendered[0].take
        passes = (f"in one batched pass ({first.wall_s:.1f} s)" if first.batch_size == len(takes) > 1 else
                  f"one pass each ({sum(item.take.wall_s for item in rendered):.1f} s)")
        status = f"{len(takes)} takes of **{text[:80]}** {passes}"
        return [{**take, "contact_sheet": self.app.rel(index)} for take in takes], status, files

    def cards(self, takes: list[dict[str, Any]] | None) -> str:
        """The cards of the takes :meth:`compare` made (with their contact sheet)."""
        if not takes:
            return cards_html(self.app, [], empty="No takes: render seeds first.")
        return cards_html(self.app, [take["take_id"] for take in takes], sheet=takes[0].get("contact_sheet"))

    def build(self, shared: SimpleNamespace) -> SimpleNamespace:
        w = SimpleNamespace()
        with gr.Row(equal_height=True):
            w.prompt = gr.Textbox(label="Prompt", lines=2, scale=6, elem_id="cmp-prompt",
                                  placeholder="lo-fi hip hop, dusty vinyl drums, mellow Rhodes chords, 80 BPM")
            w.seeds = gr.Textbox("1-4", label="Seeds", scale=1, elem_id="cmp-seeds", min_width=110,
                                 info=f"e.g. 1-6 or 3,7,11 (≤ {MAX_COMPARE})")
            with gr.Column(scale=1, min_width=140):
                w.run = gr.Button("Render seeds", variant="primary", elem_id="cmp-run")
                w.stop = gr.Button("Stop", variant="stop", size="sm", elem_id="cmp-stop")
        with gr.Row(equal_height=True):
            w.style = gr.File(label="Style reference (audio; style models)", type="filepath", height=130,
                              file_types=[".wav", ".flac", ".ogg", ".mp3"], elem_id="cmp-style", visible=False,
                              scale=2)
            w.decoder = gr.Radio([("EnCodec", "encodec"), ("MultiBand Diffusion", "mbd")], value="encodec",
                                 label="Decoder", elem_id="cmp-decoder", scale=1,
                                 info="Same codes; MBD: cleaner audio, slower (mono MusicGen only)")
        w.status = gr.Markdown(IDLE, elem_id="cmp-status")
        w.deck = TakeCards(self.app).build(elem_id="cmp-takes", empty="The takes appear here, side by side.")
        w.note = gr.HTML("", elem_classes=["facts"], elem_id="cmp-note")
        with gr.Accordion("Takes (JSON) and downloads", open=False):
            w.json = gr.JSON(label="Takes")
            w.files = gr.File(label="Audio, sidecars and contact sheet", file_count="multiple", interactive=False)
        inputs = [w.prompt, w.seeds, *shared.sampling, shared.stops, w.decoder, w.style]
        w.run.click(lambda: cards_html(self.app, [], empty="Rendering…"), None, w.deck, api_visibility="private",
                    queue=False)
        w.event = w.run.click(self.compare, inputs, [w.json, w.status, w.files], api_name="compare",
                              concurrency_id="model", concurrency_limit=shared.concurrency, show_progress_on=[w.status])
        w.event.then(self.cards, w.json, w.deck, api_visibility="private", concurrency_limit=None)
        w.stop.click(shared.stop("compare"), shared.stops, None, api_visibility="private", queue=False)
        return w
