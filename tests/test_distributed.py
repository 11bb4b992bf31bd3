"""Scale-out on a local Ray instance: same takes as the local renderer, lost workers retried, resume."""

import os
import signal

import pytest

ray = pytest.importorskip("ray")

from workbench.core.hashing import file_sha256  # noqa: E402
from workbench.library.prompts import parse_library  # noqa: E402
from workbench.render.batch import plan_jobs, render_jobs  # noqa: E402
from workbench.render.distributed import RayRunner  # noqa: E402
from workbench.store.history import History  # noqa: E402
from workbench.store.sidecar import read_sidecar  # noqa: E402

LIBRARY = "\n".join(f'[[prompt]]\nid = "entry-{i}"\ntext = "genre {i}, drums and bass, {90 + i} BPM"\n'
                    for i in range(6))


class KillOneWorker:
    """Wraps a runner: SIGKILLs one actor's process right after the first pass lands."""

    def __init__(self, inner: RayRunner) -> None:
        self.inner = inner

    def run(self, groups, options, **kwargs):
        for index, outcome in enumerate(self.inner.run(groups, options, **kwargs)):
            if index == 0:
                os.kill(self.inner.worker_pids()[0], signal.SIGKILL)
            yield outcome


@pytest.fixture(scope="module")
def jobs_and_local(tmp_path_factory, tiny):
    source = tmp_path_factory.mktemp("lib") / "scale.toml"
    source.write_text(LIBRARY)
    prompts = parse_library(LIBRARY, source=source).prompts
    local_out = tmp_path_factory.mktemp("local")
    jobs = plan_jobs(prompts, local_out, seeds=[1, 2], model="tiny", settings={"duration": 0.5})
    render_jobs(jobs, local_out, load=lambda name: tiny, batch_size=2)
    codes = {j.path.relative_to(local_out): read_sidecar(j.path.with_suffix(".json"))["codes_sha256"] for j in jobs}
    return prompts, codes


@pytest.mark.parametrize("write_on", ["driver", "workers"])
def test_ray_matches_local_survives_a_lost_worker_and_resumes(tmp_path, jobs_and_local, write_on):
    prompts, local_codes = jobs_and_local
    jobs = plan_jobs(prompts, tmp_path, seeds=[1, 2], model="tiny", settings={"duration": 0.5})
    runner = RayRunner(workers=2, cpus_per_worker=1, write_on=write_on)
    result = render_jobs(jobs, tmp_path, runner=KillOneWorker(runner), batch_size=2, history=History(tmp_path))
    assert result.ok and len(result.done) == 12, result.failed
    assert runner.retries >= 1
    ray_codes = {j.path.relative_to(tmp_path): read_sidecar(j.path.with_suffix(".json"))["codes_sha256"]
                 for j in jobs}
    assert ray_codes == local_codes
    for job in jobs:
        assert read_sidecar(job.path.with_suffix(".json"))["audio_sha256"] == file_sha256(job.path)
    assert History(tmp_path).count() == 12
    again = render_jobs(jobs, tmp_path, runner=RayRunner(workers=1), batch_size=2)
    assert len(again.skipped) == 12 and not again.done
    assert not ray.is_initialized()


def test_ray_passes_device_dtype_and_memory_mode_reports_steps_and_stops(tmp_path, jobs_and_local, monkeypatch):
    from workbench.core.errors import GenerationCancelled
    from workbench.render.jobs import WriteOptions, group_jobs

    prompts, _ = jobs_and_local
    jobs = plan_jobs(prompts[:2], tmp_path, seeds=[1], model="tiny", settings={"duration": 2.0})
    runner = RayRunner(workers=1, cpus_per_worker=1, device="cpu", dtype="float32", low_memory=True)
    steps: list[tuple[int, int]] = []
    outcomes = runner.run(group_jobs(jobs, 1), WriteOptions(), step_progress=lambda d, t: steps.append((d, t)))
    group, rendered = next(outcomes)
    assert runner.describe() == [{"tiny": {"device": "cpu", "dtype": "float32", "low_memory": True}}]
    assert steps and steps[-1] == (103, 103)  # a 2 s take: 100 frames + the delay of 3 codebooks
    outcomes.close()  # the driver ends the run: actors go, Ray stops
    assert not ray.is_initialized()
    pressed = []
    stopper = RayRunner(workers=1)
    # none done yet
    jobs = plan_jobs(prompts[:2], tmp_path / "stopped", seeds=[1], model="tiny", settings={"duration": 2.0})
    monkeypatch.setattr("workbench.render.distributed.POLL_S", 60.0)  # each pass ends within one poll of the press
    with pytest.raises(GenerationCancelled):  # (a stop pressed then used to slip through)
        render_jobs(jobs, tmp_path / "stopped", runner=stopper, batch_size=1,
                    step_progress=lambda d, t: pressed.append(d), should_stop=lambda: bool(pressed))
    assert pressed and not list((tmp_path / "stopped").rglob("*.wav")) and not ray.is_initialized()
