"""Scale-out: render batched passes on a Ray cluster with long-lived model actors.

The plan, resume keys, naming, sidecars and history are those of the local renderer: :class:`RayRunner`
is a drop-in ``runner`` for :func:`workbench.render.batch.render_jobs`, and its actors call the same
``generate_group`` / ``save_group`` functions. One actor per GPU (or per ``cpus_per_worker`` CPUs) loads
the model once (with the device, dtype and memory mode asked for); free actors pull the next pass; a pass
whose actor dies is retried on a fresh actor. Actors report decoding steps through a Ray queue; the driver polls
it, and ``should_stop`` (Ctrl-C in the CLI, Stop in the UI) cancels the passes under way and ends the actors.
"""

from __future__ import annotations

import os
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from workbench.core.audio import Encoding
from workbench.core.errors import GenerationCancelled, WorkbenchError
from workbench.render.decoders import Decoders
from workbench.render.jobs import Job, Outcome, WriteOptions, generate_group, save_group
from workbench.render.prompt import Rendered
from workbench.store.naming import sidecar_path_for

#: Environment variables forwarded to workers (offline mode, caches, log levels).
FORWARD_ENV = ("HF_HUB_OFFLINE", "HF_HOME", "HF_ENDPOINT", "TRANSFORMERS_VERBOSITY", "HF_HUB_CACHE")


def _require_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise WorkbenchError('--ray needs Ray: pip install "musicgen-workbench[ray]"') from None
    return ray


#: Seconds between the driver's looks at progress and cancellation while passes run.
POLL_S = 0.25
#: Seconds between an actor's progress reports (one remote call each).
REPORT_S = 0.5


class RenderWorker:
    """A Ray actor: keeps one model loaded and renders passes with it (see ``RayRunner``)."""

    def __init__(self, device: str | None, threads: int | None, dtype: str | None = None,
                 low_memory: bool = False) -> None:
        if threads:
            import torch

            torch.set_num_threads(threads)  # the actor's own process: its share of the node's CPUs
        self.device, self.dtype, self.low_memory = device, dtype, low_memory
        self.engines: dict[str, Any] = {}
        self.decoders = Decoders()

    def pid(self) -> int:
        return os.getpid()

    def _engine(self, name: str) -> Any:
        if name not in self.engines:
            from workbench.engine.load import load_engine

            self.engines.clear()
            self.engines[name] = load_engine(name, device=self.device, dtype=self.dtype, low_memory=self.low_memory)
        return self.engines[name]

    def describe(self) -> dict[str, Any]:
        """The loaded engines' device, dtype and memory mode (what the driver asked for)."""
        return {name: {"device": str(e.device), "dtype": str(e.dtype).removeprefix("torch."),
                       "low_memory": e.low_memory} for name, e in self.engines.items()}

    def generate(self, group: Sequence[Job], progress: Any = None) -> tuple[list[Any], str]:
        """Finished takes of a pass and the weights fingerprint (the driver writes them); decoding steps go to
        ``progress`` (a Ray queue), at most every :data:`REPORT_S` seconds."""
        engine = self._engine(group[0].model)
        report = None
        if progress is not None:
            last = [0.0]

            def report(done: int, total: int) -> None:
                now = time.monotonic()
                if done == total or now - last[0] >= REPORT_S:
                    last[0] = now
                    progress.put_nowait((done, total))

        return generate_group(engine, group, progress=report, decoders=self.decoders), engine.weights_sha256()

    def render(self, group: Sequence[Job], subtype: str | Encoding | None, loudness: float | None,
               progress: Any = None) -> list[tuple[Any, dict]]:
        """Generate and write a pass to the shared folder; returns ``(path, record)`` per take."""
        takes, weights = self.generate(group, progress)
        written = save_group(group, takes, weights, WriteOptions(subtype, loudness, None))
        return [(item.path, item.record) for item in written]


class RayRunner:
    """Runs batched passes on Ray actors; a drop-in ``runner`` for ``render_jobs``.

    Args:
        address: Ray address (``auto``, ``ray://head:10001``...); None connects to ``RAY_ADDRESS`` if set,
            else starts a local Ray instance.
        workers: Number of model actors (default: the cluster's GPUs, else 1).
        cpus_per_worker: CPUs reserved per actor on CPU-only clusters (also its torch threads).
        device: Device for the actors' models (default: theirs, cuda when they have a GPU).
        dtype: Dtype for the actors' models (default: the engine's, float32).
        low_memory: Load the actors' models in low-memory mode.
        write_on: ``"driver"`` (takes travel back and the driver writes them) or ``"workers"`` (actors
            write to the output folder, which must then be shared storage).
        max_retries: Times a pass is retried after its actor died.
    """

    def __init__(self, *, address: str | None = None, workers: int | None = None, cpus_per_worker: int = 1,
                 device: str | None = None, dtype: str | None = None, low_memory: bool = False,
                 write_on: str = "driver", max_retries: int = 2) -> None:
        if write_on not in ("driver", "workers"):
            raise WorkbenchError(f"write_on must be 'driver' or 'workers', got {write_on!r}")
        self.address, self.workers, self.cpus = address, workers, cpus_per_worker
        self.device, self.dtype, self.low_memory = device, dtype, low_memory
        self.write_on, self.max_retries = write_on, max_retries
        self.actors: list[Any] = []
        self.retries = 0
        self._started_ray = False

    def _start(self) -> Any:
        ray = _require_ray()
        if not ray.is_initialized():
            env = {k: os.environ[k] for k in FORWARD_ENV if k in os.environ}
            ray.init(address=self.address, include_dashboard=False, log_to_driver=False,
                     runtime_env={"env_vars": env}, ignore_reinit_error=True)
            self._started_ray = True
        gpus = int(ray.cluster_resources().get("GPU", 0))
        count = self.workers or max(1, gpus)
        options = {"num_gpus": 1} if gpus else {"num_cpus": self.cpus}
        self._actor_class = ray.remote(**options)(RenderWorker)
        self.actors = [self._new_actor() for _ in range(count)]
        return ray

    def _new_actor(self) -> Any:
        return self._actor_class.remote(self.device, None if self.device == "cuda" else self.cpus, self.dtype,
                                        self.low_memory)

    def worker_pids(self) -> list[int]:
        ray = _require_ray()
        return ray.get([actor.pid.remote() for actor in self.actors])

    def describe(self) -> list[dict[str, Any]]:
        ray = _require_ray()
        return ray.get([actor.describe.remote() for actor in self.actors])

    def _submit(self, actor: Any, group: Sequence[Job], options: WriteOptions, progress: Any) -> Any:
        if self.write_on == "driver":
            return actor.generate.remote(list(group), progress)
        return actor.render.remote(list(group), options.subtype, options.loudness, progress)

    def _finish(self, group: Sequence[Job], value: Any, options: WriteOptions) -> list[Rendered]:
        if self.write_on == "driver":
            takes, weights = value
            return save_group(group, takes, weights, options)
        rendered = []
        for path, record in value:
            if options.history is not None:
                options.history.add(sidecar_path_for(path), record)
            rendered.append(Rendered(None, path, record))
        return rendered

    def run(self, groups: Sequence[Sequence[Job]], options: WriteOptions, *,
            step_progress: Callable[[int, int], None] | None = None,
            should_stop: Callable[[], bool] | None = None) -> Iterator[Outcome]:
        """Yield ``(group, rendered | error)`` as passes complete (in completion order).

        Raises:
            GenerationCancelled: ``should_stop`` said so (the passes under way are cancelled, the actors ended).
        """
        if not groups:
            return
        ray = self._start()
        from ray.exceptions import RayActorError, RayTaskError
        from ray.util.queue import Empty, Queue

        steps = Queue() if step_progress is not None else None
        queue = deque((group, 0) for group in groups)
        idle = deque(self.actors)
        pending: dict[Any, tuple[Sequence[Job], int, Any]] = {}
        try:
            while queue or pending:
                while queue and idle:
                    group, attempt = queue.popleft()
                    actor = idle.popleft()
                    pending[self._submit(actor, group, options, steps)] = (group, attempt, actor)
                ready: list[Any] = []
                while not ready:
                    if should_stop is not None and should_stop():
                        raise GenerationCancelled("render stopped; finished takes are kept: a re-run resumes")
                    ready, _ = ray.wait(list(pending), num_returns=1, timeout=POLL_S)
                    while steps is not None:
                        try:
                            step_progress(*steps.get_nowait())
                        except Empty:
                            break
                    if ready and should_stop is not None and should_stop():  # pressed while its last steps came in
                        raise GenerationCancelled("render stopped; finished takes are kept: a re-run resumes")
                [ref] = ready
                group, attempt, actor = pending.pop(ref)
                try:
                    value = ray.get(ref)
                except RayActorError:
                    self.retries += 1
                    self.actors.remove(actor)
                    replacement = self._new_actor()  # replace the lost actor, retry its pass elsewhere
                    self.actors.append(replacement)
                    idle.append(replacement)
                    if attempt < self.max_retries:
                        queue.append((group, attempt + 1))
                    else:
                        yield group, WorkbenchError(f"worker lost {attempt + 1} times; pass abandoned")
                    continue
                except RayTaskError as error:
                    idle.append(actor)
                    cause = error.cause if isinstance(error.cause, WorkbenchError) else None
                    yield group, cause or WorkbenchError(f"worker failed: {str(error).splitlines()[0]}")
                    continue
                idle.append(actor)
                try:
                    yield group, self._finish(group, value, options)
                except WorkbenchError as error:
                    yield group, error
        finally:
            for ref in pending:  # then ending the actors stops the passes they run
                ray.cancel(ref)
            for actor in self.actors:
                ray.kill(actor)
            self.actors = []
            if steps is not None:
                steps.shutdown(force=True)
            if self._started_ray:
                ray.shutdown()
                self._started_ray = False
