"""``workbench repaint``: a window of a take sampled anew by MAGNeT, a repaint per seed, side by side with the take."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from workbench.core.audio import Encoding
from workbench.core.params import validate_seed, validate_text
from workbench.drafts.repaint import check_painter, check_repaint_model, plan_repaint, repaint_takes
from workbench.engine.audiocraft.infill import RepaintSettings
from workbench.models.registry import repaint_model_for
from workbench.render.prompt import Rendered, contact_row, parent_row, save_takes
from workbench.store.naming import repaint_folder, seed_name
from workbench.store.sidecar import read_sidecar, sidecar_params
from workbench.store.takes import refuse_existing


def render_repaint(parent: str | Path, *, from_s: float, to_s: float, seeds: Sequence[int], text: str | None = None,
                   model: str | None = None, settings: RepaintSettings | None = None, engine: Any = None,
                   painter: Any = None, folder: str | Path | None = None, device: str | None = None,
                   force: bool = False, subtype: str | Encoding | None = None, loudness: float | None = None,
                   history: Any = None, progress: Callable[[int, int], None] | None = None,
                   should_stop: Callable[[], bool] | None = None) -> tuple[list[Rendered], Path]:
    """Repaint ``from_s``-``to_s`` seconds of the take whose sidecar is ``parent``, once per seed.

    Every code outside the window is the parent's, bit for bit; the window is sampled by a MAGNeT model with the
    codes on both sides as context (see :mod:`workbench.engine.audiocraft.infill`), each seed in its own seeded
    pass, and each take is decoded whole by the parent's model (no crossfade: see docs/audiocraft.md).

    Args:
        parent: The take's ``.json`` sidecar (mono; its codes file beside it).
        from_s, to_s: The window, seconds of the take (at most one MAGNeT segment long).
        seeds: One repaint per seed.
        text: What the window should sound like (default: the take's prompt).
        model: The MAGNeT that repaints (default: :func:`workbench.models.registry.repaint_model_for` the take's;
            ignored when ``painter`` is given).
        settings: MAGNeT's sampling (default: audiocraft's MAGNeT defaults).
        engine: An engine of the take's model, which decodes the repaints (default: the recorded model is loaded,
            like ``reproduce``).
        painter: The loaded repaint model (default: ``model`` is loaded).
        folder: Where the takes and ``index.html`` go (default: :func:`workbench.store.naming.repaint_folder`).
        device: Device for the models loaded here (default: the take's recorded one).
        force, subtype, loudness, history: As for :func:`workbench.render.prompt.save_takes`.
        progress, should_stop: As for :meth:`workbench.engine.Engine.generate` (``GenerationCancelled``).

    Returns:
        The repaints and the contact sheet, whose first card is the parent.

    Raises:
        DraftError: a stereo take, a window outside the take or empty, the take's codes file missing or altered,
            a model that is not a MAGNeT or whose tokens are not the take's codes (all before any model loads but the
            last, refused before the take's own model loads).
        ParamsError: a window longer than the MAGNeT's segment (before anything is sampled).
        ModelNotFoundError: the audiocraft backend not installed (the message gives the command).
    """
    from workbench.engine.load import load_engine
    from workbench.render.reproduce import Environment
    from workbench.store.contact import write_contact_sheet

    parent = Path(parent)
    record = read_sidecar(parent)
    seeds = [validate_seed(seed) for seed in seeds]
    text = validate_text(text) if text is not None else record["prompt"]["text"]
    model = check_repaint_model(painter.info.name if painter is not None
                                else model or repaint_model_for(record["model"].get("kind", "hub")))
    folder = Path(folder) if folder is not None else repaint_folder(parent, from_s, to_s)
    job = plan_repaint(parent, record, from_s, to_s, model=model, record_base=folder)
    paths = [folder / seed_name(seed) for seed in seeds]
    refuse_existing(paths, force)
    env = Environment.of(record, parent, device=device)
    if painter is None:
        painter = load_engine(model, device=env.device)
    check_painter(job, painter)  # before the take's own model loads
    if engine is None:
        engine = load_engine(env.model, device=env.device, dtype=env.dtype, kernels=env.kernels)
    params = sidecar_params(record).replace(duration_s=round(record["num_samples"] / record["sample_rate"], 6))
    takes = repaint_takes(job, painter, engine, seeds, text=text, params=params, settings=settings,
                          progress=progress, should_stop=should_stop)
    rendered = save_takes(takes, paths, force=force, subtype=subtype, loudness=loudness,
                          weights_sha256=engine.weights_sha256(), history=history)
    window = f"{from_s:g}-{to_s:g} s"
    rows = [parent_row(parent, record, folder)]
    rows += [{**contact_row(item), "label": f"seed {item.take.seed} · {window} repainted"} for item in rendered]
    return rendered, write_contact_sheet(folder, f"{text} — {window} repainted", rows)
