"""Batch rendering of prompt files: layout, batch identity, resume, failures, the kill test."""

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from workbench.core.atomic import is_temp
from workbench.core.hashing import file_sha256
from workbench.library.prompts import load_library
from workbench.library.selection import select
from workbench.render.batch import group_jobs, plan_jobs, render_jobs
from workbench.store.history import History
from workbench.store.sidecar import read_sidecar

ROOT = Path(__file__).resolve().parents[1]
SYNTHWAVE = ROOT / "prompts" / "synthwave.toml"


def test_two_entries_two_seeds_batch_equals_alone(tmp_path, tiny):
    library = load_library(SYNTHWAVE)
    prompts = select([library], only=["night-drive", "outrun-sunset"])
    jobs = plan_jobs(prompts, tmp_path, seeds=[1, 2], model="tiny", settings={"duration": 1.0})
    assert [j.path.relative_to(tmp_path).as_posix() for j in jobs] == [
        "synthwave/night-drive/s1.wav", "synthwave/night-drive/s2.wav",
        "synthwave/outrun-sunset/s1.wav", "synthwave/outrun-sunset/s2.wav"]
    result = render_jobs(jobs, tmp_path, load=lambda name: tiny, batch_size=4, history=History(tmp_path))
    assert result.ok and len(result.done) == 4
    for job in jobs:
        record = read_sidecar(job.path.with_suffix(".json"))
        assert record["prompt"]["library"] == "synthwave" and record["prompt"]["entry_id"] == job.prompt.id
        assert record["audio_sha256"] == file_sha256(job.path)
        assert record["render_key"] == job.key
    alone = tiny.generate(prompts[1].text, jobs[3].params, seeds=[2])[0]
    assert read_sidecar(jobs[3].path.with_suffix(".json"))["codes_sha256"] == alone.codes_sha256
    assert History(tmp_path).count() == 4
    manifest = [json.loads(line) for line in result.manifest.read_text().splitlines()]
    assert [m["status"] for m in manifest] == ["done"] * 4
    # a second run skips everything
    again = render_jobs(jobs, tmp_path, load=lambda name: pytest.fail("no model needed"), history=History(tmp_path))
    assert len(again.skipped) == 4 and not again.done


def test_grouping_batches_entries_with_equal_params():
    library = load_library(SYNTHWAVE)
    jobs = plan_jobs(library.prompts, "out", seeds=[1, 2], model="tiny", settings={"duration": 1.0})
    groups = group_jobs(jobs, batch_size=8)
    assert sum(len(g) for g in groups) == len(jobs)
    assert all(len({(j.model, j.params) for j in g}) == 1 for g in groups)
    assert max(len(g) for g in groups) == 8  # entries share passes, not only seeds


def test_changed_params_rerender(tmp_path, tiny):
    prompts = select([load_library(SYNTHWAVE)], only=["night-drive"])
    first = plan_jobs(prompts, tmp_path, seeds=[1], model="tiny", settings={"duration": 1.0})
    render_jobs(first, tmp_path, load=lambda name: tiny)
    changed = plan_jobs(prompts, tmp_path, seeds=[1], model="tiny", settings={"duration": 0.5})
    result = render_jobs(changed, tmp_path, load=lambda name: tiny)
    assert len(result.done) == 1 and read_sidecar(changed[0].path.with_suffix(".json"))["num_samples"] == 16000


def test_a_failing_entry_is_recorded_and_the_batch_goes_on(tmp_path, tiny):
    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / "draft.wav").write_text("not audio at all")
    (lib / "mixed.toml").write_text(
        '[[prompt]]\nid = "good"\ntext = "lofi piano"\n\n'
        '[[prompt]]\nid = "bad-draft"\ntext = "lofi piano"\ncontinue_from = "draft.wav"\n')
    prompts = load_library(lib / "mixed.toml").prompts
    out = tmp_path / "out"
    jobs = plan_jobs(prompts, out, seeds=[1], model="tiny", settings={"duration": 1.0})
    result = render_jobs(jobs, out, load=lambda name: tiny)
    assert [j.prompt.id for j in [item for item, _ in result.failed]] == ["bad-draft"]
    assert "draft" in result.failed[0][1] and len(result.done) == 1 and not result.ok
    assert not (out / "mixed" / "bad-draft").exists() or not list((out / "mixed" / "bad-draft").iterdir())


def _render_args(out: Path) -> list[str]:
    return ["render", str(SYNTHWAVE), "--model", "tiny", "--duration", "1", "--only", "night-drive",
            "--only", "outrun-sunset", "--only", "darksynth-pursuit", "--only", "dream-pool", "--seeds", "1-2",
            "--batch-size", "1", "--out", str(out)]


def test_kill_minus_nine_then_resume(tmp_path, workbench_process, cli):
    """kill -9 once the first take has landed (progress, not a sleep), then a resume in this process."""
    out = tmp_path / "out"
    proc = workbench_process.start(*_render_args(out), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while not list(out.rglob("s*.json")) and proc.poll() is None:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    landed = list(out.rglob("s*.json"))
    assert 1 <= len(landed) < 8, "kill the render after the first take lands"
    done = cli(*_render_args(out))
    assert done.returncode == 0, done.stderr
    assert f"{len(landed)} skipped" in done.stdout
    audio = sorted(out.rglob("*.wav"))
    assert len(audio) == 8  # none missing, none duplicated
    assert not [p for p in out.rglob(".*") if is_temp(p)]  # no temp leftovers
    for wav in audio:
        record = read_sidecar(wav.with_suffix(".json"))
        assert record["audio_sha256"] == file_sha256(wav) and record["num_samples"] == 32000
    assert History(out).count() == 8


def test_cli_dry_run_loads_no_model(cli, tmp_path, monkeypatch):
    import workbench.engine.load as engine_load

    monkeypatch.setattr(engine_load, "load_engine", lambda *a, **k: pytest.fail(f"a model was loaded: {a}"))
    done = cli("render", str(SYNTHWAVE), "--dry-run", "--seeds", "1-2", "--out", str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert "takes" in done.stdout and "dry run" in done.stdout
    assert not list(tmp_path.rglob("*.wav"))
