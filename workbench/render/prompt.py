"""Rendering: takes to files. One prompt with several seeds (generate, seeds, UI) and whole prompt libraries."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workbench.core.audio import Encoding
from workbench.core.conditions import TEXT_ONLY, Conditions
from workbench.core.errors import GenerationCancelled
from workbench.core.params import GenerationParams
from workbench.core.take import Take
from workbench.drafts.prepare import Draft, prepare_draft
from workbench.engine.preview import PreviewCallback
from workbench.engine.protocol import Engine, Progress
from workbench.render.decoders import Decoders, redecode
from workbench.store.naming import seed_name, sidecar_path_for, spectrogram_path_for
from workbench.store.takes import refuse_existing, save_take


@dataclass(frozen=True)
class Rendered:
    """A take written to disk: the take (None when it was written by a remote worker), its audio path and
    its sidecar record."""

    take: Take | None
    path: Path
    record: dict[str, Any]

    @property
    def sidecar(self) -> Path:
        return sidecar_path_for(self.path)


def render_prompt(
    engine: Engine,
    text: str,
    params: GenerationParams,
    seeds: Sequence[int],
    paths: Sequence[str | Path],
    *,
    conditions: Conditions = TEXT_ONLY,
    draft: Draft | None = None,
    decoders: Decoders | None = None,
    force: bool = False,
    subtype: str | Encoding | None = None,
    loudness: float | None = None,
    history: Any = None,
    prompt_refs: Sequence[dict[str, Any] | None] | None = None,
    progress: Progress | None = None,
    should_stop: Callable[[], bool] | None = None,
    preview: PreviewCallback | None = None,
) -> list[Rendered]:
    """Render ``text`` under ``conditions`` for every seed in ONE batched pass and save each take to its path.

    Args:
        conditions: What conditions the takes besides text and sampling (drafts, segments, decoder).
        draft: ``conditions``' drafts already prepared (e.g. checked before an upload was kept), or another draft (a
            retake's); default: prepared here.
        decoders: Loaded decoders to reuse (default: a decoder other than EnCodec is loaded for this call).

    Existing outputs are refused before any work starts (unless ``force``), so a long render never
    fails at the end. ``prompt_refs`` (one per seed) record the library entry each take came from.

    Raises:
        GenerationCancelled: ``should_stop`` said so; its ``keep()`` (when the engine could say what was rendered)
            writes the takes cut to the frames made so far, each what rendering that length gives.
    """
    paths = [Path(p) for p in paths]
    if len(paths) != len(seeds):
        raise ValueError(f"{len(seeds)} seeds but {len(paths)} output paths")
    refuse_existing(paths, force)
    conditions.check_length(params.duration_s)
    if draft is None:
        draft = prepare_draft(engine, conditions, duration_s=params.duration_s, record_base=paths[0].parent)
    decoder = (decoders or Decoders()).get(conditions.decoder, engine)

    def save(takes: Sequence[Take]) -> list[Rendered]:
        takes = finish_takes(engine, takes, draft, conditions, [path.parent for path in paths], decoder)
        return save_takes(takes, paths, force=force, subtype=subtype, loudness=loudness,
                          weights_sha256=engine.weights_sha256(), history=history, prompt_refs=prompt_refs)

    try:
        takes = engine.generate(text, params, list(seeds), progress=progress, should_stop=should_stop,
                                preview=preview, segments=conditions.segments, **draft.generate_kwargs())
    except GenerationCancelled as stop:
        if stop.partial:  # what was rendered before the stop, for a caller who keeps it (the UI's "keep")
            stop.keep = functools.partial(save, stop.partial)
        raise
    return save(takes)


def finish_takes(engine: Any, takes: Sequence[Take], draft: Draft, conditions: Conditions, folders: Sequence[Path],
                 decoder: Any) -> list[Take]:
    """A pass's takes finished (see :meth:`Draft.finish`), each recording its draft files relative to its own folder,
    and decoded by ``decoder`` (None: EnCodec's audio kept)."""
    files = conditions.files()
    return [redecode(draft.with_files(folder, **files).finish(take, engine), decoder)
            for take, folder in zip(takes, folders)]


def save_takes(
    takes: Sequence[Take],
    paths: Sequence[str | Path],
    *,
    force: bool = False,
    subtype: str | Encoding | None = None,
    loudness: float | None = None,
    weights_sha256: str | None = None,
    history: Any = None,
    prompt_refs: Sequence[dict[str, Any] | None] | None = None,
) -> list[Rendered]:
    """Save finished takes to their paths (audio + codes + sidecar, + history); see ``writer.save_take``."""
    refs = list(prompt_refs) if prompt_refs is not None else [None] * len(takes)
    out = []
    for take, path, ref in zip(takes, paths, refs):
        record = save_take(take, path, force=force, subtype=subtype, loudness=loudness,
                           weights_sha256=weights_sha256, prompt_ref=ref, history=history)
        out.append(Rendered(take, Path(path), record))
    return out


def render_seeds(
    engine: Engine,
    text: str,
    params: GenerationParams,
    seeds: Sequence[int],
    folder: str | Path,
    *,
    ext: str = ".wav",
    **options: Any,
) -> tuple[list[Rendered], Path]:
    """Render one prompt for several seeds side by side into ``folder`` (``s<seed>.wav`` + sidecars +
    spectrogram PNGs) and write the ``index.html`` contact sheet. ``options`` go to :func:`render_prompt`."""
    from workbench.store.contact import write_contact_sheet

    folder = Path(folder)
    rendered = render_prompt(engine, text, params, seeds, [folder / seed_name(seed, ext) for seed in seeds], **options)
    return rendered, write_contact_sheet(folder, text, [contact_row(item) for item in rendered])


def contact_row(item: Rendered) -> dict[str, Any]:
    """A written take's card on a contact sheet (its spectrogram PNG is written beside it)."""
    from workbench.store.contact import write_spectrogram
    from workbench.store.measured import versus

    image = write_spectrogram(spectrogram_path_for(item.path), item.take.audio, item.take.sample_rate)
    audio = item.record["audio"]
    return {"audio": item.path, "image": image, "seed": item.take.seed, "duration_s": item.take.duration_s,
            "peak_dbfs": audio["peak_dbfs"], "loudness_lufs": audio["loudness_lufs"],
            "adherence": item.take.extra.get("melody_adherence"), "sidecar": item.sidecar, "cost": item.take.cost,
            "versus": versus(item.record)}


def parent_row(parent: Path, record: dict[str, Any], folder: Path) -> dict[str, Any]:
    """The card of the take whose sidecar is ``parent`` (its ``record``) on the sheet of its retakes or repaints in
    ``folder``, where its spectrogram is written (``parent.png``)."""
    from workbench.core.audio import read_audio
    from workbench.store.contact import write_spectrogram
    from workbench.store.measured import versus

    audio = parent.parent / record["audio"]["file"]
    samples, rate = read_audio(audio)
    image = write_spectrogram(folder / spectrogram_path_for("parent.wav").name, samples, rate)
    return {"audio": audio, "image": image, "seed": record["seed"],
            "duration_s": record["num_samples"] / record["sample_rate"], "peak_dbfs": record["audio"].get("peak_dbfs"),
            "loudness_lufs": record["audio"].get("loudness_lufs"), "adherence": None, "sidecar": parent,
            "label": f"parent · seed {record['seed']}", "versus": versus(record)}
