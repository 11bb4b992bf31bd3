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
from workbench.core.conditions import Conditions
from workbench.core.errors import ParamsError, WorkbenchError
from workbench.core.music import COMMON_TIME
from workbench.core.params import GenerationParams, params_from_settings
from workbench.core.take import Take
from workbench.drafts.prepare import prepare_draft
from workbench.engine.protocol import Engine
from workbench.library.prompts import Prompt
from workbench.models.registry import DEFAULT_MODEL, default_params
from workbench.render.decoders import Decoders
from workbench.render.loops import check_loop_request, write_loop
from workbench.render.prompt import Rendered, finish_takes, save_takes
from workbench.store.naming import LOOP_SIDECAR, companion, portable_path, sidecar_path_for, take_path
from workbench.store.sidecar import conditions_key, take_is_complete


@dataclass(frozen=True)
class Job:
    """One take to render: a prompt, a seed, the model, sampling and conditions it gets, where it goes, its key."""

    prompt: Prompt
    seed: int
    model: str
    params: GenerationParams
    conditions: Conditions
    path: Path
    key: str
    encoding: str | Encoding | None = None

    @property
    def label(self) -> str:
        return f"{self.prompt.library}/{self.prompt.id} s{self.seed}"

    @property
    def group_key(self) -> tuple[Any, ...]:
        """Jobs with equal keys can share one batched pass: the same model, sampling, conditions (drafts, segments,
        decoder: the whole value) and output encoding."""
        return self.model, self.params, self.conditions, self.encoding


def plan_jobs(prompts: Iterable[Prompt], out_dir: str | Path, *, seeds: Sequence[int] | None = None,
              model: str | None = None, settings: dict[str, Any] | None = None, ext: str | None = None,
              encoding: Callable[[str], Any] | None = None, decoder: str | None = None) -> list[Job]:
    """Expand prompts into jobs. ``seeds``, ``model``, ``decoder`` and the sampling ``settings`` given here (named as
    :func:`~workbench.core.params.params_from_settings` takes them, None: not given) override the prompt files'.

    A prompt's sampling is its model's defaults (:func:`~workbench.models.registry.default_params`), then the file's
    settings, then ``settings``. ``ext`` (``".mp3"``) overrides the prompt file's ``format`` (default ``.wav``);
    ``encoding(ext)`` gives the caller's bit depth / bitrate / quality for a job's extension and overrides the file's,
    which otherwise holds when its take keeps the file's format.

    Raises:
        ParamsError: an override that does not fit an entry (a segment or loop past a shorter duration, the MBD
            decoder on a continuation), naming the entry.
    """
    jobs = []
    for prompt in prompts:
        name = model or prompt.model or DEFAULT_MODEL
        try:  # an override may not fit the entry: say so before anything renders
            params = params_from_settings(default_params(name).replace(**prompt.overrides), **(settings or {}))
            conditions = prompt.conditions if decoder is None else prompt.conditions.replace(decoder=decoder)
            conditions.check_length(params.duration_s)
            if prompt.loop_bars is not None:
                signature = prompt.time_signature or COMMON_TIME
                check_loop_request(prompt.loop_bars, params.duration_s, prompt.bpm, signature)
        except ParamsError as error:
            raise ParamsError(f"{prompt.library}/{prompt.id}: {error}") from None
        suffix = ext or prompt.format or ".wav"
        how = encoding(suffix) if encoding else prompt.encoding if suffix == prompt.format else None
        for seed in (seeds or prompt.seeds or (1,)):
            key = conditions_key(name, prompt.text, params, seed, conditions)
            path = take_path(out_dir, prompt.library, prompt.id, seed, suffix)
            jobs.append(Job(prompt, seed, name, params, conditions, path, key, how))
    return jobs


def group_jobs(jobs: Sequence[Job], batch_size: int) -> list[list[Job]]:
    """Batched passes: jobs sharing a :attr:`Job.group_key`, at most ``batch_size`` takes each, in order."""
    if batch_size < 1:
        raise WorkbenchError(f"--batch-size must be at least 1, got {batch_size}")
    buckets: dict[tuple[Any, ...], list[Job]] = {}
    for job in jobs:
        buckets.setdefault(job.group_key, []).append(job)
    return [bucket[i:i + batch_size] for bucket in buckets.values() for i in range(0, len(bucket), batch_size)]


def generate_group(engine: Engine, group: Sequence[Job], *, progress: Callable[[int, int], None] | None = None,
                   should_stop: Callable[[], bool] | None = None, decoders: Decoders | None = None) -> list[Take]:
    """Generate the finished takes of one batched pass (drafts applied, decoded with the jobs' decoder), without
    writing anything. ``decoders`` keeps loaded decoders between passes (default: loaded for this pass)."""
    first = group[0]
    conditions = first.conditions  # the same for the whole group (group_key)
    draft = prepare_draft(engine, conditions, duration_s=first.params.duration_s, record_base=first.path.parent)
    decoder = (decoders or Decoders()).get(conditions.decoder, engine)
    texts = [job.prompt.text for job in group]
    takes = engine.generate(texts if len(set(texts)) > 1 else texts[0], first.params, [job.seed for job in group],
                            progress=progress, should_stop=should_stop, segments=conditions.segments,
                            **draft.generate_kwargs())
    return finish_takes(engine, takes, draft, conditions, [job.path.parent for job in group], decoder)


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

