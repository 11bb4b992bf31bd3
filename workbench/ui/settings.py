"""The settings every rendering tab shares, in the sidebar: the model (marked ready offline or not), its sampling and
the loudness; the one-line summary of them that stays in sight above Create's prompt; what the model in memory is.

Choosing a model of another family (MAGNeT) sets the sampling to that model's own defaults
(:func:`workbench.models.registry.default_params`), as the CLI does when nothing is typed.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import gradio as gr

from workbench.core.params import MAX_DURATION_S
from workbench.models.catalog import READY, model_inputs, readiness
from workbench.models.dtypes import agreement_note
from workbench.models.registry import AUDIOCRAFT_MODELS, BUILTIN, MODELS, default_params, model_family
from workbench.ui.context import LOUDNESS_CHOICES, App, model_name

#: Model names of the selector: built-in offline models first, then the Hub's short names (MusicGen, then MAGNeT).
MODEL_NAMES = [*BUILTIN, *MODELS, *AUDIOCRAFT_MODELS]
#: How the selector marks whether a model runs here now.
READY_MARK = {READY: "✓ offline", "cached": "✓ cached", "download on first use": "↓ downloads",
              "needs the audiocraft backend": "✗ not installed"}


def model_choices() -> list[tuple[str, str]]:
    """The selector's ``(label, name)`` pairs: each name with whether it runs offline here."""
    return [(f"{name}  ·  {READY_MARK.get(readiness(name), readiness(name))}", name) for name in MODEL_NAMES]


def model_facts(choice: str | None, folder: str | None) -> str:
    """What the chosen model takes and whether it is ready, in a line under the selector."""
    name = model_name(choice, folder)
    if not name:
        return ""
    ready = readiness(name) if name in MODEL_NAMES else "a folder or Hub id"
    return f"**{name}** takes {', '.join(model_inputs(name))} · {ready}"


def summary(choice: str | None, folder: str | None, duration: Any, guidance: Any, temperature: Any, top_k: Any,
            top_p: Any, loudness: str | None) -> str:
    """The settings in one line (``tiny · 8 s · guidance 3 · …``), shown above Create's prompt."""
    name = model_name(choice, folder) or "no model"
    loud = "peak-safe" if loudness in (None, "", "off") else f"{loudness} LUFS"
    duration, guidance, temperature, top_k, top_p = map(_shown, (duration, guidance, temperature, top_k, top_p))
    return (f"⚙ **{name}** · {duration} s · guidance {guidance} · temperature {temperature} · top-k {top_k} · "
            f"top-p {top_p} · {loud}")


def _shown(value: Any) -> str:
    """A setting as the summary shows it: numbers as typed (8, not 8.0), a blank as –."""
    if value is None or value == "":
        return "–"
    return f"{value:g}" if isinstance(value, (int, float)) else str(value)


def initial_summary(w: SimpleNamespace) -> str:
    """The summary of the settings as the page opens (the sidebar's starting values), so that no load event can
    arrive after a change and show stale settings."""
    return summary(*(widget.value for widget in w.sampling))


def model_status(app: App) -> str:
    """Which model is in memory now (true on every page load: the cache is the server's)."""
    engine = app.cache.peek()
    if engine is None:
        return "Model in memory: none yet (loads on first use)"
    note = agreement_note(engine.device, engine.dtype)
    return (f"Model in memory: **{app.cache.loaded}** ({engine.device}, {str(engine.dtype).removeprefix('torch.')})"
            + (f"<br>⚠ {note}" if note else ""))


def family_defaults(choice: str | None, folder: str | None, family: str | None) -> tuple[Any, ...]:
    """On a model change: the sampling sliders set to the new model's defaults when its family differs (MusicGen ->
    MAGNeT), else left as they are; and the family now chosen."""
    name = model_name(choice, folder)
    now = model_family(name)
    if family is None or now == family:
        return (*(gr.skip(),) * 4, now)
    p = default_params(name)
    gr.Info(f"{name}: sampling set to its own defaults (guidance {p.guidance_scale:g}, temperature "
            f"{p.temperature:g}, top-k {p.top_k}, top-p {p.top_p:g})")
    return p.guidance_scale, p.temperature, p.top_k, p.top_p, now


def build_settings(app: App, model: str) -> SimpleNamespace:
    """The sidebar: model, sampling, loudness (call inside ``gr.Blocks``)."""
    w = SimpleNamespace()
    known = model in MODEL_NAMES
    p = default_params(model)
    with gr.Sidebar(label="Settings", open=False, position="left", elem_id="wb-settings") as w.sidebar:
        gr.Markdown("### Settings\nModel and sampling for Create and Compare (Library and Batch use each prompt "
                    "file's own sampling).")
        w.model = gr.Dropdown(model_choices(), value=model if known else MODEL_NAMES[0], label="Model",
                              elem_id="model", info="✓ runs here now; ↓ downloads once from the Hugging Face Hub")
        w.folder = gr.Textbox("" if known else model, label="…or a local folder / Hub id",
                              placeholder="/path/to/saved-model", elem_id="model-folder")
        w.model_facts = gr.Markdown(model_facts(model if known else None, "" if known else model),
                                    elem_classes=["facts"])
        w.load = gr.Button("Load now", size="sm", variant="secondary", elem_id="model-load")
        w.duration = gr.Number(p.duration_s, label="Duration (s)", elem_id="duration",
                               info=f"Up to {MAX_DURATION_S:g} s (past 30 s the model continues in windows)")
        w.guidance = gr.Slider(0, 15, value=p.guidance_scale, step=0.1, label="Guidance", info="≤ 1: off",
                               elem_id="guidance")
        w.temperature = gr.Slider(0.05, 4, value=p.temperature, step=0.05, label="Temperature", elem_id="temperature")
        w.top_k = gr.Slider(0, 1000, value=p.top_k, step=1, label="Top-k", info="0: off", elem_id="top-k")
        w.top_p = gr.Slider(0, 1, value=p.top_p, step=0.01, label="Top-p", info="1: off", elem_id="top-p")
        w.loudness = gr.Dropdown(LOUDNESS_CHOICES, value="off", label="Loudness", info="Off: peak-safe only",
                                 allow_custom_value=True, elem_id="loudness")
    w.family = gr.State(model_family(model))
    w.params = [w.duration, w.guidance, w.temperature, w.top_k, w.top_p]
    w.sampling = [w.model, w.folder, *w.params, w.loudness]
    return w


def wire_settings(w: SimpleNamespace, summary_md: Any) -> None:
    """Keep the summary line and the model facts true as settings change; family defaults on a model change."""
    for event in (w.model.change, w.folder.change):
        event(family_defaults, [w.model, w.folder, w.family], [w.guidance, w.temperature, w.top_k, w.top_p, w.family],
              api_visibility="private", queue=False)
        event(model_facts, [w.model, w.folder], w.model_facts, api_visibility="private", queue=False)
    for widget in w.sampling:
        widget.change(summary, w.sampling, summary_md, api_visibility="private", queue=False)


__all__ = ["MODEL_NAMES", "build_settings", "family_defaults", "initial_summary", "model_choices", "model_facts",
           "model_status", "summary", "wire_settings"]
