"""Data safety with several writers: live temp files survive cleanup, concurrent ratings all land, and a
forced re-render that fails leaves the old take whole."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

from workbench.core.atomic import clean_temp_files, is_temp, temp_path_for
from workbench.core.errors import WorkbenchError
from workbench.core.hashing import file_sha256
from workbench.core.params import GenerationParams
from workbench.store.history import History
from workbench.store.sidecar import read_sidecar
from workbench.store.takes import save_take

SLOW_WRITER = """
import sys, time
from pathlib import Path
from workbench.core.atomic import atomic_path
target, go = Path(sys.argv[1]), Path(sys.argv[2])
with atomic_path(target) as temp:
    temp.write_bytes(b"x" * 1000)
    print("writing", flush=True)
    while not go.exists():
        time.sleep(0.02)
print("done", flush=True)
"""


def test_a_batch_start_keeps_a_live_writers_temp_file(tmp_path, tiny):
    """Another process writes a file into the output folder while a batch starts there: both land."""
    from workbench.library.prompts import parse_library
    from workbench.render.batch import plan_jobs, render_jobs

    out, go = tmp_path / "out", tmp_path / "go"
    out.mkdir()
    writer = subprocess.Popen([sys.executable, "-c", SLOW_WRITER, str(out / "ui-take.wav"), str(go)],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout.readline().strip() == "writing"
        [live] = [p for p in out.iterdir() if is_temp(p)]
        library = parse_library('[library]\nname = "demo"\n[[prompt]]\nid = "pads"\ntext = "soft pads"\n',
                                source=tmp_path / "demo.toml")
        jobs = plan_jobs(library.prompts, out, seeds=[1], settings={"duration": 0.5})
        result = render_jobs(jobs, out, load=lambda _: tiny)
        assert result.ok and len(result.done) == 1
        assert live.exists(), "the batch removed a temp file that another process was writing"
    finally:
        go.touch()
        assert writer.stdout.readline().strip() == "done"
        writer.wait(timeout=30)
    assert (out / "ui-take.wav").read_bytes() == b"x" * 1000
    assert result.done[0].path.is_file()


def test_only_temp_files_of_gone_writers_are_cleaned(tmp_path):
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        mine = temp_path_for(tmp_path / "a.wav")
        live = tmp_path / mine.name.replace(f"-{os.getpid()}-", f"-{sleeper.pid}-")
        dead_pid = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                                  text=True).stdout.strip()
        dead = tmp_path / mine.name.replace(f"-{os.getpid()}-", f"-{dead_pid}-")
        old_style = tmp_path / ".b.tmp-0123abcd.wav"  # a name from before writers were named
        for path in (mine, live, dead, old_style):
            path.write_bytes(b"x")
        assert clean_temp_files(tmp_path) == 1 and not dead.exists()
        assert mine.exists() and live.exists() and old_style.exists()
        long_ago = time.time() - 2 * 24 * 3600
        os.utime(old_style, (long_ago, long_ago))
        assert clean_temp_files(tmp_path) == 1 and not old_style.exists()
    finally:
        sleeper.kill()
        sleeper.wait()


@pytest.fixture()
def one_take(tmp_path, tiny):
    [take] = tiny.generate("lofi piano", GenerationParams(duration_s=0.5), [3])
    store = History(tmp_path)
    save_take(take, tmp_path / "a.wav", history=store)
    return store, tmp_path / "a.wav", take


def test_concurrent_ratings_from_threads_and_processes_all_land(one_take):
    store, path, _ = one_take
    fields = [{"rating": 4}, {"favorite": True}, {"notes": "keep the bass"}, {"tags": ["night"]}]
    threads = [threading.Thread(target=store.update_user, args=(str(path),), kwargs=changes) for changes in fields]
    code = ("import sys; from workbench.store.history import History; "
            "[History(sys.argv[1]).update_user(sys.argv[2], notes=f'from another process {i}') for i in range(5)]")
    other = subprocess.Popen([sys.executable, "-c", code, str(path.parent), str(path)])
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert other.wait(timeout=120) == 0
    user = read_sidecar(path.with_suffix(".json"))["user"]
    assert user["rating"] == 4 and user["favorite"] is True and user["tags"] == ["night"]  # none lost
    assert user["notes"] in ("keep the bass", "from another process 4")  # the same field: the last writer wins
    row = store.get(str(path))
    assert (row["rating"], row["favorite"], row["tags"], row["notes"]) == (4, True, ["night"], user["notes"])


@pytest.mark.parametrize("failing", ["write_sidecar", "write_audio", "write_tokens"])
def test_a_forced_rerender_that_fails_leaves_the_old_take_whole(one_take, tiny, monkeypatch, failing):
    import workbench.store.takes as takes

    store, path, old = one_take
    before = {p.name: p.read_bytes() for p in path.parent.iterdir() if p.suffix in (".wav", ".json", ".npz")}
    [new] = tiny.generate("lofi piano", GenerationParams(duration_s=0.5), [4])

    def broken(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(takes, failing, broken)
    with pytest.raises(WorkbenchError, match="No space left"):
        save_take(new, path, force=True, history=store)
    after = {p.name: p.read_bytes() for p in path.parent.iterdir() if p.suffix in (".wav", ".json", ".npz")}
    assert after == before  # the old take, untouched
    record = json.loads(path.with_suffix(".json").read_text())
    assert record["audio_sha256"] == file_sha256(path) and record["codes_sha256"] == old.codes_sha256
    assert not [p for p in path.parent.iterdir() if is_temp(p)]


def test_a_forced_rerender_replaces_all_three_files(one_take, tiny):
    store, path, old = one_take
    [new] = tiny.generate("lofi piano", GenerationParams(duration_s=0.5), [4])
    record = save_take(new, path, force=True, history=store)
    assert record["codes_sha256"] == new.codes_sha256 != old.codes_sha256
    assert read_sidecar(path.with_suffix(".json"))["audio_sha256"] == file_sha256(path)
    from workbench.codec.tokens import read_tokens

    assert np.array_equal(read_tokens(path.with_name("a.codes.npz")).codes, new.codes)
    assert store.get(str(path))["codes_sha256"] == new.codes_sha256
