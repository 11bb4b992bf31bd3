"""Jobs of a batch render: one take each (entry x seed), grouped into batched passes, generated and saved.

What every runner shares: the local one (:mod:`workbench.render.batch`) and Ray's
(:mod:`workbench.render.distributed`) generate and save a group of jobs with the same two functions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workbench.core.audio import Encoding
from workbench.core.decoders import check_decoder
from workbench.core.errors import DraftError, ParamsError, WorkbenchError
from workbench.core.params import GenerationParams
from workbench.core.segments import check_segments, keyed_text
from workbench.core.take import Take
from workbench.drafts.prepare import draft_identity, prepare_draft
from workbench.library.prompts import Prompt
from workbench.models.registry import DEFAULT_MODEL
from workbench.render.decoders import Decoders, check_draft, redecode
from workbench.render.loops import check_loop_request, write_loop
from workbench.render.prompt import Rendered, save_takes
from workbench.store.naming import LOOP_SIDECAR, companion, portable_path, sidecar_path_for, take_path
from workbench.store.sidecar import render_key, take_is_complete


@dataclass(frozen=True)
class Job:
    """One take to render: a prompt, a seed, where it goes and its resume key."""

    prompt: Prompt
    seed: int
    model: str
    params: GenerationParams
    path: Path
    key: str
    encoding: str | Encoding | None = None
    decoder: str | None = None

    @property
    def label(self) -> str:
        return f"{self.prompt.library}/{self.prompt.id} s{self.seed}"

    @property
    def group_key(self) -> tuple[Any, ...]:
        """Jobs with equal keys can share one batched pass (same model, params and drafts)."""
        p = self.prompt
        return (self.model, self.params, p.melody, p.melody_start, p.melody_end, p.melody_stem, p.continue_from,
                p.prompt_seconds, p.include_prompt, self.encoding, p.segments, p.style, self.decoder)


def _draft_options(prompt: Prompt, params: GenerationParams) -> dict[str, Any]:
    options: dict[str, Any] = {"melody": prompt.melody, "melody_start": prompt.melody_start or 0.0,
                               "melody_end": prompt.melody_end, "melody_stem": prompt.melody_stem,
                               "continue_from": prompt.continue_from, "style": prompt.style}
    if prompt.prompt_seconds is not None:
        options["prompt_seconds"] = prompt.prompt_seconds
    if prompt.include_prompt is not None:
        options["include_prompt"] = prompt.include_prompt
    if prompt.chords is not None:
        options.update(chords=prompt.chords, bpm=prompt.bpm, beats_per_chord=prompt.beats_per_chord,
                       time_signature=prompt.time_signature or "4/4", voicing=prompt.voicing or "root")
    return {**options, "duration_s": params.duration_s}


def plan_jobs(prompts: Iterable[Prompt], out_dir: str | Path, *, seeds: Sequence[int] | None = None,
              model: str | None = None, duration_s: float | None = None, ext: str | None = None,
              encoding: Callable[[str], Any] | None = None, decoder: str | None = None) -> list[Job]:
    """Expand prompts into jobs. ``seeds``/``model``/``duration_s``/``decoder`` given here override the prompt files.

    ``ext`` (``".mp3"``) overrides the prompt file's ``format`` (default ``.wav``); ``encoding(ext)`` gives the
    caller's bit depth / bitrate / quality for a job's extension and overrides the file's, which otherwise holds
    when its take keeps the file's format.
    """
    jobs = []
    for prompt in prompts:
        params = prompt.params if duration_s is None else prompt.params.replace(duration_s=duration_s)
        name = model or prompt.model or DEFAULT_MODEL
        identity = draft_identity(**_draft_options(prompt, params))
        try:  # a --duration shorter than the file's may leave a segment or a loop past the end: say so first
            check_segments(prompt.segments, params.duration_s)
            if prompt.loop_bars is not None:
                check_loop_request(prompt.loop_bars, params.duration_s, prompt.bpm, prompt.time_signature or "4/4")
        except ParamsError as error:
            raise ParamsError(f"{prompt.library}/{prompt.id}: {error}") from None
        suffix = ext or prompt.format or ".wav"
        how = encoding(suffix) if encoding else prompt.encoding if suffix == prompt.format else None
        decoding = check_decoder(decoder or prompt.decoder)
        if decoding != "encodec" and prompt.continue_from is not None:
            raise DraftError(f"{prompt.library}/{prompt.id}: --decoder {decoding} decodes takes rendered from text, "
                             "a melody or chords, not continuations")
        decoding = None if decoding == "encodec" else decoding
        for seed in (seeds or prompt.seeds or (1,)):
            key = render_key(name, keyed_text(prompt.text, prompt.segments), params.to_dict(), seed, identity,
                             decoding)
            path = take_path(out_dir, prompt.library, prompt.id, seed, suffix)
            jobs.append(Job(prompt, seed, name, params, path, key, how, decoding))
    return jobs


def group_jobs(jobs: Sequence[Job], batch_size: int) -> list[list[Job]]:
    """Batched passes: jobs sharing a model, params and drafts, at most ``batch_size`` takes each, in order."""
    if batch_size < 1:
        raise WorkbenchError(f"--batch-size must be at least 1, got {batch_size}")
    buckets: dict[tuple[Any, ...], list[Job]] = {}
    for job in jobs:
        buckets.setdefault(job.group_key, []).append(job)
    return [bucket[i:i + batch_size] for bucket in buckets.values() for i in range(0, len(bucket), batch_size)]


def generate_group(engine: Any, group: Sequence[Job], *, progress: Callable[[int, int], None] | None = None,
                   should_stop: Callable[[], bool] | None = None, decoders: Decoders | None = None) -> list[Take]:
    """Generate the finished takes of one batched pass (drafts applied, decoded with the jobs' decoder), without
    writing anything. ``decoders`` keeps loaded decoders between passes (default: loaded for this pass)."""
    first = group[0]
    draft = prepare_draft(engine, **_draft_options(first.prompt, first.params), record_base=first.path.parent)
    decoder = (decoders or Decoders()).get(first.decoder, engine)
    check_draft(decoder, draft.generate_kwargs())
    texts = [job.prompt.text for job in group]
    takes = engine.generate(texts if len(set(texts)) > 1 else texts[0], first.params, [job.seed for job in group],
                            progress=progress, should_stop=should_stop, segments=first.prompt.segments,
                            **draft.generate_kwargs())
    return [redecode(draft.finish(take, engine), decoder) for take in takes]


@dataclass(frozen=True)
class WriteOptions:
    """How takes are written: PCM subtype, loudness target, and the history to index them in."""

    subtype: str | Encoding | None = None
    loudness: float | None = None
    history: Any = None


def save_group(group: Sequence[Job], takes: Sequence[Take], weights_sha256: str | None,
               options: WriteOptions) -> list[Rendered]:
    """Write the takes of one pass (overwriting leftovers of an interrupted run: the jobs are unfinished)."""
    subtype = options.subtype if options.subtype is not None else group[0].encoding  # one per pass (group_key)
    rendered = save_takes(takes, [job.path for job in group], force=True, subtype=subtype,
                          loudness=options.loudness, weights_sha256=weights_sha256, history=options.history,
                          prompt_refs=[prompt_ref(job) for job in group])
    for job, item in zip(group, rendered):
        if job.prompt.loop_bars is not None:  # at the prompt file's bpm (recorded), else estimated
            try:
                write_loop(item.sidecar, bars=job.prompt.loop_bars)
            except WorkbenchError as error:
                raise WorkbenchError(f"{job.label}: its loop: {error}") from None
    return rendered


def job_is_complete(job: Job) -> bool:
    """The job's take is finished (and its loop, when the prompt file asks for one)."""
    sidecar = sidecar_path_for(job.path)
    return take_is_complete(sidecar, job.key) and (job.prompt.loop_bars is None
                                                    or companion(job.path, LOOP_SIDECAR).is_file())


#: What a runner yields per batched pass: the pass's jobs and their written takes, or the error that stopped it.
Outcome = tuple[Sequence[Job], "list[Rendered] | WorkbenchError"]


def prompt_ref(job: Job) -> dict[str, Any]:
    p = job.prompt
    ref = {"library": p.library, "library_file": portable_path(p.source), "entry_id": p.id,
           "template_id": p.template_id}
    music = {"bpm": p.bpm, "key": p.key, "time_signature": p.time_signature}  # what loops and readers use
    return {**ref, **{k: v for k, v in music.items() if v is not None}}

