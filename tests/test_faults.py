"""Faults from outside while the workbench works: a disk that fills, a prompt file edited mid-batch, a take deleted
while it is being reproduced, sidecars edited by hand. Each: one clear line, a non-zero exit where the CLI is
involved, nothing partial or lost (the CLI in this process: the faults are the files', not the process')."""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
import time
from pathlib import Path

import pytest

from workbench.core.atomic import is_temp
from workbench.core.hashing import file_sha256
from workbench.store.sidecar import read_sidecar

LIBRARY = """[library]
name = "faults"
[[prompt]]
id = "pads"
text = "soft pads, 70 BPM"
[[prompt]]
id = "drums"
text = "dry drums, 100 BPM"
[[prompt]]
id = "bass"
text = "deep bass, 90 BPM"
[[prompt]]
id = "keys"
text = "electric piano, 80 BPM"
"""


def render_args(library: Path, out: Path) -> list[str]:
    return ["render", str(library), "--model", "tiny", "--duration", "1", "--seeds", "1-2", "--batch-size", "1",
            "--out", str(out)]


def complete_takes(out: Path) -> list[Path]:
    """Every take with a sidecar, checked whole (audio hash, codes file); no temp file anywhere."""
    assert not [p for p in out.rglob(".*") if is_temp(p)], "temp files left behind"
    takes = []
    for sidecar in sorted(out.rglob("s*.json")):
        record = read_sidecar(sidecar)
        assert record["audio_sha256"] == file_sha256(sidecar.with_suffix(".wav"))
        assert (sidecar.parent / record["codes"]["file"]).is_file()
        takes.append(sidecar)
    return takes


@pytest.fixture()
def small_disk(tmp_path):
    """A 320 KB tmpfs: room for a few 1 s takes, not for eight (needs root; skipped where mounting is refused)."""
    mount = tmp_path / "small"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=320k", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True)


def test_a_disk_that_fills_during_a_batch(small_disk, tmp_path, cli):
    library = tmp_path / "faults.toml"
    library.write_text(LIBRARY)
    out = small_disk / "out"
    first = cli(*render_args(library, out))
    assert first.returncode == 1, first.stdout + first.stderr
    assert "No space left on device" in first.stdout + first.stderr and "Traceback" not in first.stderr
    landed = complete_takes(out)
    assert 0 < len(landed) < 8  # some takes fit; every one that has a sidecar is whole
    subprocess.run(["mount", "-o", "remount,size=8m", str(small_disk)], check=True)  # space freed
    again = cli(*render_args(library, out))
    assert again.returncode == 0, again.stdout + again.stderr
    assert len(complete_takes(out)) == 8
    assert f"{len(landed)} skipped" in again.stdout


def test_a_prompt_file_edited_while_its_batch_runs(tmp_path, cli):
    library, out = tmp_path / "faults.toml", tmp_path / "out"
    library.write_text(LIBRARY)
    results = []
    batch = threading.Thread(target=lambda: results.append(cli(*render_args(library, out))))
    batch.start()
    while not list(out.rglob("s*.json")) and batch.is_alive():  # the first take has landed
        time.sleep(0.02)
    library.write_text(LIBRARY.replace("electric piano, 80 BPM", "grand piano, 60 BPM")
                       + '[[prompt]]\nid = "vox"\ntext = "airy vocal pad"\n')
    batch.join()
    [done] = results
    assert done.returncode == 0, done.stderr
    takes = complete_takes(out)
    assert len(takes) == 8  # the batch rendered the file it read: all of it, as it was
    assert read_sidecar(out / "faults" / "keys" / "s1.json")["prompt"]["text"] == "electric piano, 80 BPM"
    again = cli(*render_args(library, out))
    assert again.returncode == 0, again.stderr
    assert "4 rendered, 6 skipped" in again.stdout  # the changed entry again, the new one; the rest resumed
    assert read_sidecar(out / "faults" / "keys" / "s1.json")["prompt"]["text"] == "grand piano, 60 BPM"
    assert len(complete_takes(out)) == 10


def test_a_take_deleted_while_it_is_being_reproduced(tmp_path, cli, engines, monkeypatch):
    """The take's files go once reproduce has read its record and asks for the model (before it renders)."""
    import workbench.engine.load as engine_load

    take = tmp_path / "take.wav"
    made = cli("generate", "lofi piano", "--model", "tiny", "--seed", "3", "--duration", "2", "-o", str(take))
    assert made.returncode == 0, made.stderr
    kept = tmp_path / "kept"
    kept.mkdir()
    for path in tmp_path.glob("take.*"):
        shutil.copy(path, kept / path.name)
    deleted = []

    def load_then_delete(*args, **kwargs):
        engine = engines.load(*args, **kwargs)
        for path in tmp_path.glob("take.*"):
            path.unlink()
            deleted.append(path.name)
        return engine

    monkeypatch.setattr(engine_load, "load_engine", load_then_delete)
    done = cli("reproduce", str(take.with_suffix(".json")), "-o", str(tmp_path / "again.wav"))
    assert sorted(deleted) == ["take.codes.npz", "take.json", "take.wav"]
    assert done.returncode == 0 and "identical codes" in done.stdout, done.stdout + done.stderr  # the record was read
    assert read_sidecar(tmp_path / "again.json")["codes_sha256"] == read_sidecar(kept / "take.json")["codes_sha256"]
    gone = cli("reproduce", str(take.with_suffix(".json")))
    assert gone.returncode == 1 and gone.stderr.strip().splitlines() == [f"error: {take.with_suffix('.json')}: no "
                                                                          "such sidecar"]


def test_sidecars_edited_by_hand(tmp_path, cli):
    out = tmp_path / "out"
    made = cli("seeds", "lofi piano", "--model", "tiny", "--seeds", "1-3", "--duration", "1", "--dir",
               str(out / "sweep"), "--out", str(out))
    assert made.returncode == 0, made.stderr
    edited, broken, wrong = (out / "sweep" / f"s{seed}.json" for seed in (1, 2, 3))
    record = json.loads(edited.read_text())
    record["prompt"]["text"] = "dark techno"  # another request than the one the codes came from
    edited.write_text(json.dumps(record))
    broken.write_text(broken.read_text()[:-40])  # cut short
    record = json.loads(wrong.read_text())
    record["seed"] = "three"
    wrong.write_text(json.dumps(record))
    mismatch = cli("reproduce", str(edited))
    assert mismatch.returncode == 1 and "MISMATCH: first at frame" in mismatch.stdout
    for path, message in ((broken, "not a readable JSON sidecar"), (wrong, "field 'seed' must be int")):
        refused = cli("reproduce", str(path))
        lines = refused.stderr.strip().splitlines()
        assert refused.returncode == 1 and len(lines) == 1 and message in lines[0], refused.stderr
    rebuilt = cli("history", "--rebuild", "--out", str(out))
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "rebuilt" in rebuilt.stdout and ": 1 takes" in rebuilt.stdout  # the edited one still parses
    assert rebuilt.stderr.count("skipped:") == 2
