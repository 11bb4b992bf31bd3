"""Batch rendering of prompt libraries: plan jobs (entry x seed), group them into batched passes, resume.

Whisper's policy: a failing group is recorded and the batch goes on. A take whose sidecar exists, matches
the job's render key and whose audio matches its hash is skipped, so a killed render resumes where it
stopped. Every event is appended to a JSONL manifest in the output folder.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from workbench.core.atomic import clean_temp_files
from workbench.core.audio import Encoding
from workbench.core.errors import GenerationCancelled, WorkbenchError
from workbench.render.decoders import Decoders
from workbench.render.jobs import (
    Job,
    Outcome,
    WriteOptions,
    generate_group,
    group_jobs,
    job_is_complete,
    plan_jobs,
    save_group,
)
from workbench.render.prompt import Rendered
from workbench.store.naming import manifest_path, sidecar_path_for
from workbench.store.sidecar import read_sidecar
from workbench.store.takes import check_writable


@dataclass(frozen=True)
class JobUpdate:
    """What happened to one job of a batch, as it happens (``on_take``'s argument).

    Attributes:
        job: The job.
        status: ``"done"`` (written now), ``"skipped"`` (finished by an earlier run) or ``"failed"``.
        error: Why it failed (one line), else None.
        done: Jobs accounted for so far, this one included.
        total: Jobs in the batch.
    """

    job: Job
    status: str
    error: str | None
    done: int
    total: int


@dataclass
class BatchResult:
    """What a batch render did."""

    done: list[Rendered] = field(default_factory=list)
    skipped: list[Job] = field(default_factory=list)
    failed: list[tuple[Job, str]] = field(default_factory=list)
    manifest: Path | None = None

    @property
    def ok(self) -> bool:
        return not self.failed


class LocalRunner:
    """Runs batched passes one after another in this process, one model in memory at a time.

    A runner's ``run(groups, options, *, step_progress, should_stop)`` yields an :data:`Outcome` per pass;
    ``step_progress(done, total)`` reports the decoding steps of the pass under way and ``should_stop()``,
    polled at least once per step, ends the run with ``GenerationCancelled``.

    Args:
        load: ``load(model_name) -> Engine``.
        decoders: Where loaded decoders (MBD) are kept, once per engine (default: this runner's own).
    """

    def __init__(self, load: Callable[[str], Any], decoders: Decoders | None = None) -> None:
        self.load = load
        self._engines: dict[str, Any] = {}
        self._decoders = decoders or Decoders()

    def _engine(self, name: str) -> Any:
        if name not in self._engines:
            self._engines.clear()  # release the previous model before loading the next
            self._engines[name] = self.load(name)
        return self._engines[name]

    def run(self, groups: Sequence[Sequence[Job]], options: WriteOptions, *,
            step_progress: Callable[[int, int], None] | None = None,
            should_stop: Callable[[], bool] | None = None) -> Iterator[Outcome]:
        for group in groups:
            try:
                engine = self._engine(group[0].model)
                takes = generate_group(engine, group, progress=step_progress, should_stop=should_stop,
                                       decoders=self._decoders)
                yield group, save_group(group, takes, engine.weights_sha256(), options)
            except GenerationCancelled:
                raise
            except WorkbenchError as error:
                yield group, error


class Manifest:
    """Append-only JSONL log of a batch render (one event per line, flushed as it happens)."""

    def __init__(self, out_dir: Path) -> None:
        self.path = manifest_path(out_dir)
        self._handle = self.path.open("a", encoding="utf-8")

    def write(self, job: Job, status: str, **facts: Any) -> None:
        event = {"time": datetime.now().isoformat(timespec="seconds"), "library": job.prompt.library,
                 "entry_id": job.prompt.id, "seed": job.seed, "model": job.model, "status": status,
                 "path": job.path.as_posix(), "render_key": job.key, **facts}
        self._handle.write(json.dumps(event) + "\n")
        self._handle.flush()

    def close(self) -> None:
        self._handle.close()


def render_jobs(
    jobs: Sequence[Job],
    out_dir: str | Path,
    *,
    load: Callable[[str], Any] | None = None,
    runner: Any = None,
    batch_size: int = 4,
    force: bool = False,
    history: Any = None,
    subtype: str | Encoding | None = None,
    loudness: float | None = None,
    on_take: Callable[[JobUpdate], None] | None = None,
    step_progress: Callable[[int, int], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    decoders: Decoders | None = None,
) -> BatchResult:
    """Render jobs, resuming finished takes; a failing pass is recorded and the rest goes on.

    The bookkeeping (resume, manifest, results) is the same for every runner: the local one by default,
    or :class:`workbench.render.distributed.RayRunner`.

    Args:
        jobs: From :func:`plan_jobs`.
        out_dir: The output folder (manifest, history and the takes' tree).
        load: ``load(model_name) -> Engine`` for the default :class:`LocalRunner`.
        runner: A runner (see :class:`LocalRunner`) instead of the local one, e.g. ``RayRunner``.
        batch_size: Most takes per batched pass.
        force: Re-render takes even when finished.
        on_take: Called with a :class:`JobUpdate` after each take is written, skipped or failed.
        step_progress, should_stop: Decoding-step progress and cancellation, for any runner.
        decoders: Loaded decoders to reuse, for the default runner (the UI keeps its MBD between batches).
    """
    if runner is None:
        if load is None:
            raise ValueError("render_jobs needs load= or runner=")
        runner = LocalRunner(load, decoders)
    out = check_writable(out_dir)
    clean_temp_files(out)
    result = BatchResult()
    manifest = Manifest(out)
    result.manifest = manifest.path
    tally = _Tally(len(jobs), on_take)
    todo = []
    for job in jobs:
        if not force and job_is_complete(job):
            if history is not None:  # a run killed between sidecar and index left the take unindexed
                history.add(sidecar_path_for(job.path), read_sidecar(sidecar_path_for(job.path)))
            result.skipped.append(job)
            manifest.write(job, "skipped")
            tally.step(job, "skipped")
        else:
            todo.append(job)
    started = time.perf_counter()
    try:
        passes = runner.run(group_jobs(todo, batch_size), WriteOptions(subtype, loudness, history),
                            step_progress=step_progress, should_stop=should_stop)
        for group, outcome in passes:
            wall = round(time.perf_counter() - started, 3)
            started = time.perf_counter()
            if isinstance(outcome, WorkbenchError):
                _record_failure(group, outcome, result, manifest, tally)
                continue
            for job, item in zip(group, outcome):
                result.done.append(item)
                manifest.write(job, "done", wall_s=wall, codes_sha256=item.record["codes_sha256"])
                tally.step(job, "done")
    finally:
        manifest.close()
    return result


class _Tally:
    def __init__(self, total: int, on_take: Callable[[JobUpdate], None] | None) -> None:
        self.total, self.count, self.on_take = total, 0, on_take

    def step(self, job: Job, status: str, error: str | None = None) -> None:
        self.count += 1
        if self.on_take:
            self.on_take(JobUpdate(job, status, error, self.count, self.total))


def _record_failure(group: Sequence[Job], error: WorkbenchError, result: BatchResult, manifest: Manifest,
                    tally: _Tally) -> None:
    for job in group:  # takes of the pass saved before the failure are kept and count as done
        finished = job_is_complete(job)
        if finished:
            result.skipped.append(job)
        else:
            result.failed.append((job, str(error)))
        manifest.write(job, "done" if finished else "failed", error=None if finished else str(error))
        tally.step(job, "skipped" if finished else "failed", None if finished else str(error))


def render_library(paths: str | Path | Sequence[str | Path], engine: Any, *, out_dir: str | Path = "outputs",
                   seeds: Sequence[int] | None = None, duration_s: float | None = None,
                   **options: Any) -> BatchResult:
    """Render every prompt of one or more prompt files with ``engine`` (the Python API's one-liner).

    ``seeds`` and ``duration_s`` override the files' own; ``options`` go to :func:`render_jobs`
    (``batch_size``, ``force``, ``history``...).
    """
    from workbench.library.prompts import load_libraries

    libraries = load_libraries([paths] if isinstance(paths, (str, Path)) else paths)
    prompts = [prompt for library in libraries for prompt in library.prompts]
    jobs = plan_jobs(prompts, out_dir, seeds=seeds, model=engine.info.name, settings={"duration": duration_s})
    return render_jobs(jobs, out_dir, load=lambda _name: engine, **options)
