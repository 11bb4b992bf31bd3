"""Interruption, disk full, unwritable and escaping outputs: nothing lost, nothing partial, no way out."""

import random
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from workbench.core.atomic import is_temp
from workbench.core.errors import ParamsError, WorkbenchError
from workbench.core.hashing import file_sha256
from workbench.library.prompts import load_library
from workbench.library.selection import select
from workbench.render.batch import plan_jobs, render_jobs
from workbench.store import naming
from workbench.store.history import History
from workbench.store.naming import take_path
from workbench.store.sidecar import read_sidecar

ROOT = Path(__file__).resolve().parents[1]
SYNTHWAVE = ROOT / "prompts" / "synthwave.toml"
ENTRIES = ["night-drive", "outrun-sunset", "darksynth-pursuit", "dream-pool"]


def render_args(out: Path) -> list[str]:
    only = [arg for entry in ENTRIES for arg in ("--only", entry)]
    return ["render", str(SYNTHWAVE), "--model", "tiny", "--duration", "0.5", *only, "--seeds", "1-2",
            "--batch-size", "1", "--out", str(out)]


def assert_intact(out: Path, expected: int) -> None:
    audio = sorted(out.rglob("s*.wav"))
    assert len(audio) == expected
    assert not [p for p in out.rglob(".*") if is_temp(p)], "temp files left behind"
    for wav in audio:
        record = read_sidecar(wav.with_suffix(".json"))
        assert record["audio_sha256"] == file_sha256(wav)
        assert wav.with_name(wav.stem + ".codes.npz").is_file()
    with sqlite3.connect(out / "history.sqlite") as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert History(out).count() == expected


def wait_for_files(out: Path, proc: subprocess.Popen, count: int, pattern: str = "*") -> None:
    """Until ``count`` files matching ``pattern`` are under ``out`` (temp files too) or the process has ended."""
    while len([p for p in out.rglob(pattern) if p.is_file()]) < count and proc.poll() is None:
        time.sleep(0.02)


def test_ctrl_c_stops_cleanly_and_says_how_to_resume(tmp_path, workbench_process, cli):
    out = tmp_path / "out"
    # a shell's background jobs inherit an ignored SIGINT; a terminal user's Ctrl-C does not
    proc = workbench_process.start(*render_args(out), preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    wait_for_files(out, proc, 1, "s*.json")  # the first take has landed
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    assert "re-run resumes" in stderr and "Traceback" not in stderr
    assert not [p for p in out.rglob(".*") if is_temp(p)]
    done = cli(*render_args(out))
    assert done.returncode == 0, done.stderr
    assert_intact(out, 8)


@pytest.mark.slow
@pytest.mark.parametrize("kills", [8, 20])
def test_kill_minus_nine_at_random_moments(tmp_path, workbench_process, kills):
    """kill -9 at random points of the run's progress: after a random number of files more (temp files, audio,
    codes, sidecars, the history) than the killed run before it had found."""
    out = tmp_path / "out"
    rng = random.Random(1)
    for _ in range(kills):
        before = len([p for p in out.rglob("*") if p.is_file()])
        proc = workbench_process.start(*render_args(out), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_files(out, proc, before + rng.randint(1, 6))
        proc.kill()
        proc.wait()
    done = workbench_process.run(*render_args(out))
    assert done.returncode == 0, done.stderr
    assert_intact(out, 8)


def test_disk_full_fails_one_take_and_keeps_the_others(tmp_path, tiny, monkeypatch):
    import workbench.store.takes as writer

    real = writer.write_audio
    calls = {"n": 0}

    def flaky(path, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise WorkbenchError(f"cannot write {path}: No space left on device")
        return real(path, *args, **kwargs)

    monkeypatch.setattr(writer, "write_audio", flaky)
    prompts = select([load_library(SYNTHWAVE)], only=ENTRIES[:2])
    jobs = plan_jobs(prompts, tmp_path, seeds=[1, 2], model="tiny", settings={"duration": 0.5})
    result = render_jobs(jobs, tmp_path, load=lambda name: tiny, batch_size=1, history=History(tmp_path))
    assert len(result.failed) == 1 and "No space left" in result.failed[0][1]
    assert len(result.done) == 3 and not result.ok
    failed = result.failed[0][0].path
    assert not failed.exists() and not failed.with_suffix(".json").exists()
    assert not failed.with_name(failed.stem + ".codes.npz").exists()
    for item in result.done:
        assert read_sidecar(item.sidecar)["audio_sha256"] == file_sha256(item.path)
    monkeypatch.setattr(writer, "write_audio", real)
    again = render_jobs(jobs, tmp_path, load=lambda name: tiny, batch_size=1)
    assert len(again.done) == 1 and len(again.skipped) == 3


def test_unwritable_output_folder(tmp_path, tiny):
    blocker = tmp_path / "out"
    blocker.write_text("a file where the output folder should be")
    jobs = plan_jobs(select([load_library(SYNTHWAVE)], only=ENTRIES[:1]), blocker, seeds=[1], model="tiny",
                     settings={"duration": 0.5})
    with pytest.raises(WorkbenchError, match="not writable"):
        render_jobs(jobs, blocker, load=lambda name: tiny)


@pytest.mark.parametrize(("library", "entry"), [("..", "x"), ("synthwave", "../../etc"), ("a/b", "x"),
                                                ("synthwave", "Night"), ("synthwave", "/abs")])
def test_outputs_cannot_escape_the_output_folder(tmp_path, library, entry):
    with pytest.raises(ParamsError, match="not a slug"):
        take_path(tmp_path, library, entry, 1)


def test_one_off_names_made_within_one_second_never_collide(tmp_path, monkeypatch):
    monkeypatch.setattr(naming, "_stamp", lambda: "20261205-120000")  # every name made in the same second
    folder = naming.adhoc_folder(tmp_path, "lofi")
    assert folder == tmp_path / "seeds" / "20261205-120000-lofi"
    folder.mkdir(parents=True)
    assert naming.adhoc_folder(tmp_path, "lofi") == tmp_path / "seeds" / "20261205-120000-2-lofi"
    (tmp_path / "seeds" / "20261205-120000-2-lofi").mkdir()
    assert naming.adhoc_folder(tmp_path, "lofi").name == "20261205-120000-3-lofi"
    take = naming.adhoc_path(tmp_path, "lofi", 7)
    assert take == tmp_path / "takes" / "20261205-120000-lofi-s7.wav"
    take.parent.mkdir()
    naming.sidecar_path_for(take).write_text("{}")  # a sidecar alone (its audio deleted) still holds the name
    assert naming.adhoc_path(tmp_path, "lofi", 7).name == "20261205-120000-2-lofi-s7.wav"
    assert naming.adhoc_path(tmp_path, "lofi", 8).name == "20261205-120000-lofi-s8.wav"  # other seed, free
    tokens = naming.token_path(tmp_path, "/uploads/My Song.wav")
    assert tokens == tmp_path / "tokens" / "20261205-120000-my-song.codes.npz"
    tokens.parent.mkdir()
    tokens.write_bytes(b"")
    assert naming.token_path(tmp_path, "My Song.flac").name == "20261205-120000-2-my-song.codes.npz"
